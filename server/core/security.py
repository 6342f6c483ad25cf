"""Passwords and login tokens of staff.

Passwords are hashed with argon2id. A login token is random and only its SHA-256 is stored, so
whoever reads the database cannot log in; tokens expire, and logging out deletes them.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from server.core.secrets import secret_key

_hasher = PasswordHasher()
# Verifying against this keeps the time of a login with an unknown name like that of a known one.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(token: str) -> str:
    """The console's form token: bound to the login, so another site cannot forge a form post."""
    return hmac.new(secret_key(), b"csrf:" + token.encode(), hashlib.sha256).hexdigest()


def csrf_valid(token: str, candidate: str | None) -> bool:
    return candidate is not None and hmac.compare_digest(csrf_token(token), candidate)
