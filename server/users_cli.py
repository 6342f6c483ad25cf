"""``lotse users``: staff accounts from the command line (the first admin has no console yet)."""

from __future__ import annotations

import argparse
import getpass
import sys

# The database and routing modules are imported inside the commands: `lotse` builds this parser
# on every start, and `lotse ask` should not pay for SQLAlchemy.


def users_add(args: argparse.Namespace) -> int:
    from server.core.config import get_settings
    from server.core.db import get_sessionmaker, upgrade_database
    from server.services.routing import all_teams
    from server.services.users import UserError, add_user

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"Password for {args.name}: ")
    known = all_teams()
    unknown = [team for team in args.team if team not in known]
    if unknown:
        print(f"unknown team(s) {', '.join(unknown)}; teams in config/routing: {', '.join(known)}", file=sys.stderr)
        return 2
    url = get_settings().database_url
    upgrade_database(url)
    with get_sessionmaker(url)() as db:
        try:
            user = add_user(db, args.name, password, args.role, args.team, args.display_name,
                            district=args.district)
        except UserError as exc:
            print(f"lotse users add: {exc}", file=sys.stderr)
            return 2
    teams = ", ".join(user.teams) if user.teams else "all teams"
    district = f"; district {user.district}" if user.district else ""
    print(f"added {user.username} ({user.role}; {teams}{district})")
    return 0


def users_list(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from server.core.config import get_settings
    from server.core.db import get_sessionmaker, upgrade_database
    from server.models import User

    url = get_settings().database_url
    upgrade_database(url)
    with get_sessionmaker(url)() as db:
        for user in db.scalars(select(User).order_by(User.username)):
            teams = ",".join(user.teams) if user.teams else "*"
            print(f"{user.username}\t{user.role}\t{teams}\t{'active' if user.active else 'disabled'}"
                  f"\t{user.district or '*'}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    users = sub.add_parser("users", help="staff accounts for the console and the case API")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    add = users_sub.add_parser("add", help="add a case manager, editor, coordinator or admin")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=["case_manager", "editor", "coordinator", "admin"])
    add.add_argument("--team", action="append", default=[],
                     help="team id from config/routing (repeatable; none: every team)")
    add.add_argument("--district", default=None,
                     help="region id from knowledge/regions whose cases this account sees (none: every district)")
    add.add_argument("--display-name", default=None, help="name shown to newcomers (default: NAME)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(func=users_add)
    listing = users_sub.add_parser("list", help="list staff accounts")
    listing.set_defaults(func=users_list)
