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


class UserError(ValueError):
    pass


def add_user(db: Session, username: str, password: str, role: str, teams: list[str] | None = None,
             display_name: str | None = None) -> User:
    if not USERNAME.match(username):
        raise UserError("the user name may contain letters, digits and _ . @ - (2 to 64 characters)")
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise UserError(f"the password must have at least {MIN_PASSWORD} characters")
    if db.scalar(select(User).where(User.username == username)) is not None:
        raise UserError(f"a user {username!r} exists already")
    user = User(username=username, display_name=display_name or username, password_hash=hash_password(password),
                role=role, teams=sorted(set(teams or [])))
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
    db.add(AuthToken(token_hash=token_hash(token), user_id=user.id, expires_at=utcnow() + timedelta(hours=hours)))
    db.commit()
    return token


def user_for_token(db: Session, token: str) -> User | None:
    row = db.get(AuthToken, token_hash(token))
    if row is None:
        return None
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
    if expires <= utcnow():
        db.delete(row)
        db.commit()
        return None
    return row.user if row.user.active else None


def revoke_token(db: Session, token: str) -> None:
    db.execute(delete(AuthToken).where(AuthToken.token_hash == token_hash(token)))
    db.commit()


def can_see_team(user: User, team: str) -> bool:
    """Admins see every team; case managers their own (no team listed: every team)."""
    if user.role == "admin":
        return True
    return user.role == "case_manager" and (not user.teams or team in user.teams)
