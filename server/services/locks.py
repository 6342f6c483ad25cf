"""One lock per conversation, held only while a message of it is being handled.

Messages of one conversation must be numbered and answered one at a time; messages of different
conversations must not wait for each other. The hub used a fixed set of 64 striped locks: with 20
people chatting, two of them share a stripe most of the time, and one then waits for the other's
whole Rasa round trip (hundreds of milliseconds), which showed up in p95/p99 under load. Here each
conversation gets its own lock, and it is dropped when nobody holds or waits for it, so memory
stays bounded by the number of messages in flight, however many conversations a hub sees.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager


class SessionLocks:
    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._held: dict[str, tuple[threading.Lock, list[int]]] = {}  # id → (lock, [holders and waiters])

    def __call__(self, session_id: str) -> AbstractContextManager[None]:
        return self._locked(session_id)

    @contextmanager
    def _locked(self, session_id: str) -> Iterator[None]:
        with self._guard:
            lock, users = self._held.setdefault(session_id, (threading.Lock(), [0]))
            users[0] += 1
        try:
            with lock:
                yield
        finally:
            with self._guard:
                users[0] -= 1
                if users[0] == 0:
                    del self._held[session_id]

    def __len__(self) -> int:
        """Conversations with a message in flight (for tests: nothing is kept after)."""
        with self._guard:
            return len(self._held)
