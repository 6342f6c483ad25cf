"""The hub's signing key: for continue tokens, CSRF tokens and anything else that must be unforgeable.

An operator sets ``LOTSE_SECRET_KEY`` (several hub instances must share it). On a single
machine without it, a random key is created once and kept under the var directory, so tokens
survive a restart of the hub but are never the same on two installations.
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache

from lotse.paths import VAR

MIN_LENGTH = 32


@lru_cache(maxsize=1)
def secret_key() -> bytes:
    configured = os.environ.get("LOTSE_SECRET_KEY")
    if configured:
        if len(configured) < MIN_LENGTH:
            raise ValueError(f"LOTSE_SECRET_KEY must be at least {MIN_LENGTH} characters long")
        return configured.encode()
    path = VAR / "secret_key"
    if not path.exists():
        VAR.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process of this installation created it just now
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip().encode()
