"""The pieces of running several instances that need no Redis or PostgreSQL to check.

The whole thing (two hub processes, one PostgreSQL, one Redis, real Rasa) is tests/e2e/test_two_hubs.py.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from lotse.supervisor import rasa_lock_store, rasa_tracker_store
from server.core.config import Settings
from server.services.events import EventBus, SessionRef
from server.services.relay import RedisRelay


def test_redis_url_must_be_a_redis_url() -> None:
    assert Settings(redis_url="redis://10.0.0.5:6379/2").redis_url == "redis://10.0.0.5:6379/2"
    assert Settings(redis_url="").redis_url is None
    with pytest.raises(ValidationError, match="LOTSE_REDIS_URL"):
        Settings(redis_url="http://10.0.0.5:6379")


def test_rasa_gets_the_redis_lock_store_with_credentials() -> None:
    store = rasa_lock_store("rediss://lotse:p%40ss@redis.internal:6380/3")
    assert "type: redis" in store and 'url: "redis.internal"' in store and "port: 6380" in store
    assert "db: 3" in store and 'password: "p@ss"' in store and "use_ssl: true" in store
    assert "port: 6379" in rasa_lock_store("redis://localhost") and "db: 0" in rasa_lock_store("redis://localhost")
    with pytest.raises(ValueError, match="redis://"):
        rasa_lock_store("unix:///run/redis.sock")


def test_rasa_tracker_store_follows_the_hub_setting(tmp_path: Path) -> None:
    shared = rasa_tracker_store("postgresql+psycopg://lotse:x@db:5432/rasa", tmp_path / "t.db")
    assert "dialect: postgresql" in shared and 'url: "postgresql://lotse:x@db:5432/rasa"' in shared
    assert f"db: {json.dumps(str(tmp_path / 't.db'))}" in rasa_tracker_store(None, tmp_path / "t.db")
    assert 'db: "/srv/rasa.db"' in rasa_tracker_store("sqlite:////srv/rasa.db", tmp_path / "t.db")


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[SessionRef, dict[str, Any]]] = []

    def send(self, ref: SessionRef, message: dict[str, Any]) -> None:
        self.sent.append((ref, message))


def test_channel_listeners_fire_only_where_the_message_was_stored() -> None:
    async def scenario() -> tuple[list[str], list[dict[str, Any]], Recorder]:
        bus = EventBus()
        bus.bind_loop(asyncio.get_running_loop())
        relay = Recorder()
        bus.relay = relay
        pushed: list[str] = []
        bus.add_listener(lambda ref, message: pushed.append(str(message["text"])))
        queue = bus.subscribe("s1")
        bus.publish(SessionRef("s1", "telegram", "42"), {"seq": 1, "text": "stored here"})
        bus.deliver("s1", {"seq": 2, "text": "stored on another hub"})  # what the relay does with others'
        await asyncio.sleep(0)
        return pushed, [queue.get_nowait(), queue.get_nowait()], relay

    pushed, streamed, relay = asyncio.run(scenario())
    assert pushed == ["stored here"]  # Telegram gets it once, from the hub that stored it
    assert [m["text"] for m in streamed] == ["stored here", "stored on another hub"]  # streams get both
    assert [m["text"] for _, m in relay.sent] == ["stored here"]  # only our own go out again


def test_the_relay_ignores_its_own_and_malformed_messages() -> None:
    async def scenario() -> list[dict[str, Any]]:
        bus = EventBus()
        bus.bind_loop(asyncio.get_running_loop())
        relay = RedisRelay("redis://127.0.0.1:9/0", bus, instance_id="me")
        queue = bus.subscribe("s1")
        ref = {"session_id": "s1", "channel": "web", "external_id": None}
        relay._receive(json.dumps({"origin": "me", "ref": ref, "message": {"seq": 1}}))
        relay._receive(b"not json")
        relay._receive(json.dumps({"origin": "other", "ref": ref, "message": {"seq": 2}}).encode())
        await asyncio.sleep(0)
        return [queue.get_nowait() for _ in range(queue.qsize())]

    assert asyncio.run(scenario()) == [{"seq": 2}]
