"""On-disk cache of unit vectors, so a restart does not re-embed the knowledge base.

The cache is keyed by the content hash and the encoder name, as one matrix per content
version. Content is edited all the time, though, and embedding every answer text again takes
minutes on a small server; so a new version borrows the vectors of unchanged texts from the
newest earlier version (matched by a hash of the text) and embeds only what changed.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np

log = logging.getLogger(__name__)

KEEP_VERSIONS = 3  # older content versions are deleted, so var/cache does not grow forever


def cache_dir() -> Path:
    from lotse.paths import VAR

    return Path(os.environ.get("LOTSE_CACHE_DIR", VAR / "cache"))


def cache_key(*parts: str) -> str:
    return "-".join(re.sub(r"[^A-Za-z0-9.]+", "-", part).strip("-") for part in parts)


def write_atomic(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write via a temporary file: the action server and ``lotse ask`` may build at once."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            write(handle)
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("could not write cache %s: %s (continuing without it)", path, exc)


def newest_first(pattern: str) -> list[Path]:
    """Cache files matching ``pattern``; another process may delete one while we look."""
    def mtime(path: Path) -> float:
        try:
            return path.stat().st_mtime
        except OSError:
            return 0.0

    return sorted(cache_dir().glob(pattern), key=mtime, reverse=True)


def prune(pattern: str, keep: int = KEEP_VERSIONS) -> None:
    """Delete all but the ``keep`` newest files matching ``pattern``."""
    for stale in newest_first(pattern)[keep:]:
        stale.unlink(missing_ok=True)


def text_key(kind: str, text: str) -> str:
    return hashlib.sha1(f"{kind}\0{text}".encode()).hexdigest()


def _load(path: Path) -> tuple[np.ndarray, np.ndarray] | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            return data["keys"], data["vectors"]
    except (OSError, ValueError, KeyError):
        return None


def cached_vectors(content_hash: str, family: str, keys: list[str], dim: int,
                   embed: Callable[[list[int]], np.ndarray]) -> np.ndarray:
    """Vectors for ``keys`` (one per unit): from the cache, else ``embed(missing positions)``.

    ``family`` names the encoder and index version; versions of one family share vectors.
    """
    path = cache_dir() / f"knowledge-{cache_key(content_hash[:24], family)}.npz"
    exact = _load(path)
    if exact is not None and list(exact[0]) == keys and exact[1].shape == (len(keys), dim):
        return exact[1]

    vectors = np.zeros((len(keys), dim), dtype=np.float32)
    known: dict[str, np.ndarray] = {}
    pattern = f"knowledge-*-{cache_key(family)}.npz"
    for candidate in newest_first(pattern)[:KEEP_VERSIONS]:
        loaded = _load(candidate)
        if loaded is not None and loaded[1].shape[1:] == (dim,):
            known.update({str(k): v for k, v in zip(*loaded, strict=True) if str(k) not in known})
    missing = []
    for i, key in enumerate(keys):
        if key in known:
            vectors[i] = known[key]
        else:
            missing.append(i)
    log.info("knowledge index: %d texts cached, %d to embed", len(keys) - len(missing), len(missing))
    if missing:
        vectors[missing] = embed(missing)
    write_atomic(path, lambda handle: np.savez(handle, keys=np.array(keys), vectors=vectors))
    prune(pattern, KEEP_VERSIONS + 1)  # the new version and the ones it borrowed from
    return vectors
