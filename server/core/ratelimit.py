"""Per-conversation and per-address limits on the public chat API.

A person types a few messages a minute; a script that floods a session or the hub from one
address must not crowd out everyone else (nor fill the database). Counts are kept in memory per
hub process in a sliding one-minute window; with several hubs behind a load balancer each hub
counts its own share, which is coarser but still bounded.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

WINDOW_SECONDS = 60.0
MAX_KEYS = 100_000  # forget the oldest keys beyond this: memory stays bounded under address spraying


class RateLimiter:
    def __init__(self, per_minute: int, clock: Callable[[], float] | None = None) -> None:
        self.per_minute = per_minute
        self._clock = clock or time.monotonic
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, key: str) -> int:
        """0 if ``key`` may go on (and count this call), else the seconds until it may."""
        if self.per_minute <= 0:
            return 0
        now = self._clock()
        with self._lock:
            hits = self._hits.pop(key, None) or deque()
            while hits and now - hits[0] >= WINDOW_SECONDS:
                hits.popleft()
            self._hits[key] = hits  # re-inserted: most recently used keys stay last
            if len(hits) >= self.per_minute:
                return max(1, int(WINDOW_SECONDS - (now - hits[0])) + 1)
            hits.append(now)
            if len(self._hits) > MAX_KEYS:
                del self._hits[next(iter(self._hits))]
            return 0
