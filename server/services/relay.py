"""Messages between hub instances over Redis pub/sub, so a push reaches whoever is connected anywhere.

Behind a load balancer the newcomer's event stream may be open on hub A while the case manager's
reply is stored by hub B. B publishes every stored message on one Redis channel; each instance
delivers what the *others* published to its own open streams (chat SSE, the console's team
channels). Nothing here is the record: messages are committed to the database before they are
published, and a stream that may have missed something re-reads the database (``RESYNC``).

Request threads never wait for Redis: :meth:`RedisRelay.send` only queues the message on the
event loop; one task publishes the queue, one task listens. Both reconnect on their own when
Redis restarts; while it is away, outgoing messages wait in a bounded queue, and after the
listener is back every local stream re-syncs from the database (it may have missed messages).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections import deque
from dataclasses import asdict
from typing import Any

import redis
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import RedisError

from server.services.events import EventBus, SessionRef

log = logging.getLogger(__name__)

CHANNEL = "lotse:events"
OUTBOX_LIMIT = 10_000  # messages kept while Redis is away; the oldest go first (streams re-sync anyway)
RETRY_SECONDS = (0.2, 0.5, 1.0, 2.0, 5.0)


class RedisRelay:
    def __init__(self, url: str, bus: EventBus, instance_id: str | None = None) -> None:
        self.url = url
        self.bus = bus
        self.instance_id = instance_id or uuid.uuid4().hex
        self._outbox: deque[str] = deque(maxlen=OUTBOX_LIMIT)
        self._wakeup = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.listening = asyncio.Event()  # set while subscribed (health, tests)

    # -- any thread -----------------------------------------------------------------------------
    def send(self, ref: SessionRef, message: dict[str, Any]) -> None:
        """Queue ``message`` for the other instances; returns at once."""
        loop = self.bus.loop
        if loop is None or loop.is_closed():
            return
        payload = json.dumps({"origin": self.instance_id, "ref": asdict(ref), "message": message},
                             ensure_ascii=False, default=str)
        loop.call_soon_threadsafe(self._enqueue, payload)

    # -- event loop -----------------------------------------------------------------------------
    def _enqueue(self, payload: str) -> None:
        self._outbox.append(payload)
        self._wakeup.set()

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._publish_forever(), name="lotse-relay-publish"),
                       asyncio.create_task(self._listen_forever(), name="lotse-relay-listen")]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    def _client(self, retries: int = 3) -> aioredis.Redis:
        return aioredis.Redis.from_url(self.url, socket_connect_timeout=3, socket_keepalive=True,
                                       health_check_interval=15, retry=Retry(ExponentialBackoff(), retries))

    async def _publish_forever(self) -> None:
        failures = 0
        while True:
            client = self._client()
            try:
                while True:
                    while self._outbox:
                        await asyncio.wait_for(client.publish(CHANNEL, self._outbox[0]), timeout=5)
                        self._outbox.popleft()
                        failures = 0
                    self._wakeup.clear()
                    await self._wakeup.wait()
            except (RedisError, OSError, TimeoutError) as exc:
                failures += 1
                if failures == 1:
                    log.warning("relay: cannot publish to Redis (%s); retrying", type(exc).__name__)
                await asyncio.sleep(RETRY_SECONDS[min(failures, len(RETRY_SECONDS)) - 1])
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await client.aclose()

    async def _listen_forever(self) -> None:
        failures = 0
        was_listening = False
        while True:
            # No silent reconnects inside redis-py for the listener: after any gap it must re-sync the
            # streams, so every lost connection has to surface here.
            client = self._client(retries=0)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(CHANNEL)
                self.listening.set()
                if was_listening or failures:
                    log.info("relay: listening to Redis again")
                    self.bus.resync_all()  # whatever the others published meanwhile is in the database
                was_listening, failures = True, 0
                while True:
                    item = await pubsub.get_message(timeout=10.0)
                    if item is None:
                        continue
                    self._receive(item.get("data"))
            except (RedisError, OSError, TimeoutError) as exc:
                self.listening.clear()
                failures += 1
                if failures == 1:
                    log.warning("relay: lost Redis (%s); reconnecting", type(exc).__name__)
                await asyncio.sleep(RETRY_SECONDS[min(failures, len(RETRY_SECONDS)) - 1])
            finally:
                self.listening.clear()
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()
                with contextlib.suppress(RedisError, OSError):
                    await client.aclose()

    def _receive(self, data: object) -> None:
        try:
            envelope = json.loads(data) if isinstance(data, bytes | str) else None
            if not isinstance(envelope, dict) or envelope.get("origin") == self.instance_id:
                return  # our own message: already delivered locally (and pushed by our listeners)
            session_id = str(envelope["ref"]["session_id"])
            message = envelope["message"]
        except (ValueError, KeyError, TypeError):
            log.warning("relay: ignored a malformed message")
            return
        if isinstance(message, dict):
            self.bus.deliver(session_id, message)


def shared_state(url: str) -> redis.Redis:
    """The blocking client for state all instances share (continue tokens, rate limits).

    Only request threads use it, never the event loop; short timeouts keep a Redis outage from
    holding a request for long (the callers fall back or refuse, see their docstrings).
    """
    return redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0, health_check_interval=30)
