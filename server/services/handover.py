"""One-time tokens that carry a conversation from the kiosk to the newcomer's phone.

The kiosk shows the token as a QR code; the phone opens ``/?continue=<token>`` and gets the
session. The raw session id never appears in the QR code or a URL (URLs end up in logs and
browser histories, and a session id is a lasting key to the conversation), so the token holds
it encrypted: an HMAC-SHA256 key stream over a random nonce, then an HMAC tag over everything
(encrypt-then-MAC). The token is valid for ten minutes and only once; spent nonces are kept in
memory until they expire, which is enough for one hub process (the kiosk forgets the session
anyway as soon as the phone has it). With several hub instances (``LOTSE_REDIS_URL``) the spent
nonces live in Redis instead (:class:`RedisSpentTokens`), so a token shown by the kiosk on hub A
is redeemed on hub B, and only once in the whole deployment.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from server.core.secrets import secret_key

if TYPE_CHECKING:
    import redis

log = logging.getLogger(__name__)
TTL_SECONDS = 600
_NONCE, _EXPIRY, _SESSION, _TAG = 12, 4, 16, 16


class InvalidToken(ValueError):
    """Forged, damaged, expired or already used."""


@dataclass(frozen=True)
class Opened:
    session_id: str
    nonce: bytes
    expires_at: int


def _key(purpose: bytes) -> bytes:
    return hmac.new(secret_key(), b"lotse-handover-" + purpose, hashlib.sha256).digest()


def _stream(nonce: bytes) -> bytes:
    return hmac.new(_key(b"enc"), nonce, hashlib.sha256).digest()[:_SESSION]


def _tag(body: bytes) -> bytes:
    return hmac.new(_key(b"mac"), body, hashlib.sha256).digest()[:_TAG]


def issue(session_id: str, now: float | None = None) -> str:
    raw = bytes.fromhex(session_id)
    if len(raw) != _SESSION:
        raise ValueError("not a session id")
    nonce = os.urandom(_NONCE)
    expiry = int(now if now is not None else time.time()) + TTL_SECONDS
    body = nonce + expiry.to_bytes(_EXPIRY, "big") + bytes(a ^ b for a, b in zip(raw, _stream(nonce), strict=True))
    return base64.urlsafe_b64encode(body + _tag(body)).decode().rstrip("=")


def open_token(token: str, now: float | None = None) -> Opened:
    """Check the token's tag and expiry (not whether it was used) and decrypt it."""
    try:
        data = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, TypeError):
        raise InvalidToken("malformed") from None
    if len(data) != _NONCE + _EXPIRY + _SESSION + _TAG:
        raise InvalidToken("malformed")
    body, tag = data[:-_TAG], data[-_TAG:]
    if not hmac.compare_digest(tag, _tag(body)):
        raise InvalidToken("forged or damaged")
    nonce = body[:_NONCE]
    expiry = int.from_bytes(body[_NONCE:_NONCE + _EXPIRY], "big")
    if expiry < (now if now is not None else time.time()):
        raise InvalidToken("expired")
    secret = body[_NONCE + _EXPIRY:]
    session = bytes(a ^ b for a, b in zip(secret, _stream(nonce), strict=True))
    return Opened(session.hex(), nonce, expiry)


class SpentTokens:
    """Nonces of tokens already redeemed or revoked, forgotten once they would have expired."""

    def __init__(self) -> None:
        self._spent: dict[bytes, int] = {}
        self._lock = threading.Lock()

    def _prune(self, now: float) -> None:
        for nonce in [n for n, expiry in self._spent.items() if expiry < now]:
            del self._spent[nonce]

    def redeem(self, token: str, now: float | None = None) -> str:
        """The session id, exactly once per token."""
        now = now if now is not None else time.time()
        opened = open_token(token, now)
        with self._lock:
            self._prune(now)
            if opened.nonce in self._spent:
                raise InvalidToken("already used")
            self._spent[opened.nonce] = opened.expires_at
        return opened.session_id

    def revoke(self, token: str) -> None:
        try:
            opened = open_token(token)
        except InvalidToken:
            return  # expired or forged: nothing left to revoke
        with self._lock:
            self._spent[opened.nonce] = opened.expires_at

    def is_spent(self, token: str) -> bool:
        opened = open_token(token)
        with self._lock:
            return opened.nonce in self._spent


class RedisSpentTokens(SpentTokens):
    """Spent nonces shared by all hub instances, each kept in Redis until its token would expire.

    If Redis cannot be reached a token is refused rather than risk a second use: the newcomer
    still has the kiosk in front of them and can ask for a new code.
    """

    PREFIX = "lotse:handover:"

    def __init__(self, client: redis.Redis) -> None:
        super().__init__()
        self._redis = client

    def _key(self, nonce: bytes) -> str:
        return self.PREFIX + nonce.hex()

    def redeem(self, token: str, now: float | None = None) -> str:
        from redis.exceptions import RedisError

        opened = open_token(token, now if now is not None else time.time())
        try:
            first = self._redis.set(self._key(opened.nonce), b"1", nx=True, exat=max(opened.expires_at, 1))
        except RedisError as exc:
            raise InvalidToken(f"register unavailable ({type(exc).__name__})") from None
        if not first:
            raise InvalidToken("already used")
        return opened.session_id

    def revoke(self, token: str) -> None:
        from redis.exceptions import RedisError

        try:
            opened = open_token(token)
        except InvalidToken:
            return
        try:
            self._redis.set(self._key(opened.nonce), b"1", exat=opened.expires_at)
        except RedisError as exc:  # the kiosk has wiped its screen; the token still expires on its own
            log.warning("could not revoke a continue token: %s", type(exc).__name__)

    def is_spent(self, token: str) -> bool:
        from redis.exceptions import RedisError

        opened = open_token(token)
        try:
            return bool(self._redis.exists(self._key(opened.nonce)))
        except RedisError:
            return False  # the kiosk keeps showing the code and asks again
