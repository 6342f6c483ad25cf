"""Staff accounts and logins."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from server.core.security import hash_password, new_token, token_hash, verify_password
from server.models import AuthToken, User, utcnow

ROLES = ("case_manager", "editor", "coordinator", "admin")
USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")
MIN_PASSWORD = 8
MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 15
TOUCH_INTERVAL = timedelta(minutes=1)  # how stale last_used_at may get before a use writes it


class UserError(ValueError):
    pass


def add_user(db: Session, username: str, password: str, role: str, teams: list[str] | None = None,
             display_name: str | None = None, district: str | None = None) -> User:
    if not USERNAME.match(username):
        raise UserError("the user name may contain letters, digits and _ . @ - (2 to 64 characters)")
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise UserError(f"the password must have at least {MIN_PASSWORD} characters")
    if district is not None and district not in known_districts():
        raise UserError(f"unknown district {district!r}; known: {', '.join(known_districts())}")
    if db.scalar(select(User).where(User.username == username)) is not None:
        raise UserError(f"a user {username!r} exists already")
    user = User(username=username, display_name=display_name or username, password_hash=hash_password(password),
                role=role, teams=sorted(set(teams or [])), district=district)
    db.add(user)
    db.commit()
    return user


def authenticate(db: Session, username: str, password: str, now: datetime | None = None) -> User | None:
    """The user if the password is right; repeated failures lock the account for a while."""
    now = now or utcnow()
    # A name no account can have is not looked up (PostgreSQL would refuse one with a NUL byte: a 500).
    user = db.scalar(select(User).where(User.username == username)) if USERNAME.match(username) else None
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not user.active:
        return None
    locked_until = user.locked_until
    if locked_until is not None and locked_until.replace(tzinfo=locked_until.tzinfo or UTC) > now:
        return None
    if not ok:
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + timedelta(minutes=LOCK_MINUTES)
            user.failed_logins = 0
        db.commit()
        return None
    user.failed_logins = 0
    user.locked_until = None
    db.commit()
    return user


def issue_token(db: Session, user: User, hours: float) -> str:
    token = new_token()
    now = utcnow()
    db.add(AuthToken(token_hash=token_hash(token), user_id=user.id, expires_at=now + timedelta(hours=hours),
                     last_used_at=now))
    db.commit()
    return token


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def user_for_token(db: Session, token: str, idle_minutes: float = 0) -> User | None:
    """The user of a login that has neither expired nor lain unused for ``idle_minutes`` (0: no idle limit).

    A forgotten console on a shared office PC should not stay logged in all day, so every use
    marks the login; to spare the database a write per request, at most once a minute.
    """
    row = db.get(AuthToken, token_hash(token))
    if row is None:
        return None
    now = utcnow()
    last_used = _aware(row.last_used_at or row.created_at)
    idle_expired = idle_minutes > 0 and now - last_used > timedelta(minutes=idle_minutes)
    if _aware(row.expires_at) <= now or idle_expired:
        db.delete(row)
        db.commit()
        return None
    if now - last_used >= TOUCH_INTERVAL:
        row.last_used_at = now
        db.commit()
    return row.user if row.user.active else None


def revoke_token(db: Session, token: str) -> None:
    db.execute(delete(AuthToken).where(AuthToken.token_hash == token_hash(token)))
    db.commit()


def known_districts() -> list[str]:
    """The region ids a staff account can belong to (those of knowledge/regions)."""
    from knowledge.model import load_knowledge

    return sorted(load_knowledge().regions)


def in_district(user: User, region: str | None) -> bool:
    """Whether ``user`` may see data (a case, a session, a report row) of ``region``.

    One deployment serves several districts; staff of one never see another's newcomers. An
    account without a district (state-level admins, single-district deployments) sees all;
    one with a district sees only data of exactly that region, not unassigned (None) data.
    """
    return user.district is None or user.district == region


def can_see_team(user: User, team: str) -> bool:
    """Admins see every team; case managers their own (no team listed: every team)."""
    if user.role == "admin":
        return True
    return user.role == "case_manager" and (not user.teams or team in user.teams)
