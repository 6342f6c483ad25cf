"""Per-conversation and per-address limits on the public chat API.

A person types a few messages a minute; a script that floods a session or the hub from one
address must not crowd out everyone else (nor fill the database). Counts are kept in a sliding
one-minute window: in memory per hub process, or, with several hubs behind a load balancer
(``LOTSE_REDIS_URL``), in Redis (:class:`RedisRateLimiter`), so the limit holds for the whole
deployment and not once per instance.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import redis

log = logging.getLogger(__name__)

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


# One sorted set per key (members: call times); trimming, counting and adding happen atomically.
_SLIDING_WINDOW = """
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return math.floor(window - (now - tonumber(oldest[2]))) + 1
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000))
return 0
"""


class RedisRateLimiter(RateLimiter):
    """The same sliding window, counted in Redis for all hub instances together.

    Keys are hashed (a client address is personal data). When Redis cannot be reached the hub
    falls back to counting in its own memory: coarser, but chatting goes on.
    """

    def __init__(self, per_minute: int, client: redis.Redis, name: str,
                 clock: Callable[[], float] | None = None) -> None:
        super().__init__(per_minute, clock)
        self._redis = client
        self._prefix = f"lotse:rate:{name}:"
        self._script = client.register_script(_SLIDING_WINDOW)
        self._wall = clock or time.time  # shared by all instances: wall-clock time, not monotonic
        self._warned_at = 0.0

    def retry_after(self, key: str) -> int:
        if self.per_minute <= 0:
            return 0
        from redis.exceptions import RedisError

        digest = hashlib.sha256(key.encode()).hexdigest()[:32]
        now = self._wall()
        try:
            wait = self._script(keys=[self._prefix + digest],
                                args=[now, WINDOW_SECONDS, self.per_minute, f"{now}:{uuid.uuid4().hex[:8]}"])
        except RedisError as exc:
            if time.monotonic() - self._warned_at > 60:
                self._warned_at = time.monotonic()
                log.warning("rate limits counted per instance: Redis unavailable (%s)", type(exc).__name__)
            return super().retry_after(key)
        return max(1, int(wait)) if int(wait) > 0 else 0
