"""Fan-out of new messages to open push connections (server-sent events).

Writers are request threads; readers are asyncio tasks, so publishing hops onto the event
loop thread-safely. Messages are stored before they are published, so a reader that missed an
event (network drop) catches up from the database with ``Last-Event-ID``.

With several hub instances (``LOTSE_REDIS_URL``) a :class:`~server.services.relay.RedisRelay`
is attached: every message published here also goes to Redis, and messages the *other*
instances published arrive through :meth:`EventBus.deliver` to this instance's streams. Channel
listeners (Telegram push) only run for messages published here, so each message is pushed to
a messenger exactly once in the whole deployment: by the instance that stored it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SessionRef:
    """Enough to route a message to its channel without another database read."""

    session_id: str
    channel: str
    external_id: str | None = None


Listener = Callable[[SessionRef, dict[str, Any]], None]
# What a stream receives when its instance may have missed messages (the link to the other
# instances was down): it re-reads the conversation from the database instead of waiting.
RESYNC: dict[str, Any] = {"type": "resync", "resync": True}


class Relay(Protocol):
    """Carries published messages to the other hub instances (see server/services/relay.py)."""

    def send(self, ref: SessionRef, message: dict[str, Any]) -> None: ...


class EventBus:
    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []
        self.relay: Relay | None = None

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener`` for every published message (channel adapters push with it)."""
        self._listeners.append(listener)

    def bind_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def subscribe(self, session_id: str) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=1000)
        with self._lock:
            self._subscribers[session_id].add(queue)
        return queue

    def unsubscribe(self, session_id: str, queue: asyncio.Queue[dict[str, Any]]) -> None:
        with self._lock:
            self._subscribers[session_id].discard(queue)
            if not self._subscribers[session_id]:
                del self._subscribers[session_id]

    def publish(self, ref: SessionRef, message: dict[str, Any]) -> None:
        """A message stored by this instance: channel listeners, local streams, other instances."""
        for listener in self._listeners:
            try:
                listener(ref, message)
            except Exception:  # one broken channel must not stop the others
                log.exception("message listener failed")
        self.deliver(ref.session_id, message)
        if self.relay is not None:
            self.relay.send(ref, message)

    def deliver(self, session_id: str, message: dict[str, Any]) -> None:
        """Hand ``message`` to this instance's open streams of ``session_id`` (any thread)."""
        with self._lock:
            queues = list(self._subscribers.get(session_id, ()))
        if not queues or self._loop is None:
            return
        for queue in queues:
            self._loop.call_soon_threadsafe(_put_nowait, queue, message)

    def resync_all(self) -> None:
        """Tell every open stream to catch up from the database (messages may have been missed)."""
        with self._lock:
            channels = list(self._subscribers)
        for channel in channels:
            self.deliver(channel, RESYNC)

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        return self._loop


def _put_nowait(queue: asyncio.Queue[dict[str, Any]], message: dict[str, Any]) -> None:
    if not queue.full():  # a stuck reader must not grow memory; it re-syncs from the database
        queue.put_nowait(message)
