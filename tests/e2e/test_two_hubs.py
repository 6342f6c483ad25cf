"""Two hub instances behind one PostgreSQL and one Redis, as behind a load balancer.

Two real hub processes (uvicorn) on loopback share the database (scripts/with-postgres.sh) and a
throwaway redis-server. Rasa is a scripted REST endpoint here (tests/e2e/test_stack.py runs the
real one with the Redis lock store). What the newcomer and the case manager notice:

* the newcomer's chat is open on hub A, the case manager works on hub B: the reply arrives on A;
* the console on B hears about a case created on A;
* a kiosk code made on A opens the conversation on B, once;
* messages of one conversation sent to both hubs at once are all kept, in one order;
* Redis restarts: a reply stored meanwhile still arrives, and so do later ones;
* and, with the real Rasa under `lotse serve`: Rasa keeps its conversation locks in the same Redis
  and its trackers in PostgreSQL, so several Rasa instances can share the conversations.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from lotse.paths import ROOT, VAR
from server.core.db import get_sessionmaker
from server.core.ratelimit import RedisRateLimiter
from server.services.relay import CHANNEL
from server.services.users import add_user
from tests.conftest import POSTGRES_URL_VAR, ScriptedDialogue, postgres_database
from tests.e2e.redisd import RedisServer
from tests.e2e.stack import free_port, running_stack

pytestmark = pytest.mark.e2e
PASSWORD = "a long enough password"
SECRET = "two-hubs-test-secret-" + "x" * 32


class FakeRasa(BaseHTTPRequestHandler):
    """Rasa's REST channel as the hub uses it, answering like tests/conftest.py's ScriptedDialogue."""

    def do_GET(self) -> None:  # http.server names it so
        self._reply(200, {"status": "ok"})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"null")
        if self.path == "/webhooks/rest/webhook":
            time.sleep(0.05)  # a little thinking time: concurrent messages overlap like in production
            if body["message"] == "/request_human":
                self._reply(200, [{"custom": {"handoff": dict(ScriptedDialogue.HANDOFF)}}])
            else:
                self._reply(200, [{"custom": {"text": f"echo: {body['message']}", "language": "de"}}])
        else:  # resume and other tracker calls
            self._reply(200, [])

    def _reply(self, code: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_: object) -> None:
        pass


@dataclass
class Stream:
    """An event stream read in a background thread; events are (name, data) pairs."""

    client: httpx.Client
    path: str
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)
    stop: threading.Event = field(default_factory=threading.Event)
    opened: threading.Event = field(default_factory=threading.Event)

    def start(self) -> Stream:
        threading.Thread(target=self._read, daemon=True).start()
        assert self.opened.wait(15), f"stream {self.path} did not open"
        return self

    def _read(self) -> None:
        while not self.stop.is_set():
            try:
                with self.client.stream("GET", self.path, timeout=httpx.Timeout(5, read=30)) as response:
                    assert response.status_code == 200, response.status_code
                    self.opened.set()
                    name = "message"
                    for line in response.iter_lines():
                        if self.stop.is_set():
                            return
                        if line.startswith("event: "):
                            name = line.removeprefix("event: ")
                        elif line.startswith("data: "):
                            with self.changed:
                                self.events.append((name, json.loads(line.removeprefix("data: "))))
                                self.changed.notify_all()
                            name = "message"
            except httpx.HTTPError:
                time.sleep(0.2)
            except RuntimeError:  # the test closed the client (it ended, or failed)
                return

    def wait_for(self, what: Callable[[str, dict[str, Any]], bool], timeout: float = 10) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for name, data in self.events:
                    if what(name, data):
                        return data
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"not seen within {timeout}s on {self.path}: {self.events[-5:]}")
                self.changed.wait(left)


@dataclass
class Hub:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=20)


def start_hub(name: str, env: dict[str, str], log_dir: Path) -> Hub:
    port = free_port()
    log = log_dir / f"hub-{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "server.main:app", "--host", "127.0.0.1", "--port", str(port),
             "--no-access-log"], cwd=ROOT, env={**env, "LOTSE_HUB_PORT": str(port)}, stdout=out,
            stderr=subprocess.STDOUT,
        )
    return Hub(name, f"http://127.0.0.1:{port}", process, log)


def wait_healthy(hub: Hub) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if hub.process.poll() is not None:
            pytest.fail(f"hub {hub.name} exited:\n{hub.log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(f"{hub.url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    pytest.fail(f"hub {hub.name} did not become healthy:\n{hub.log.read_text(errors='replace')[-3000:]}")


def wait_relays(redis_server: RedisServer, count: int = 2, timeout: float = 30) -> None:
    """Until ``count`` hubs listen on the relay channel (after start-up or a Redis restart)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with redis_server.client() as client:
                if dict(client.pubsub_numsub(CHANNEL)).get(CHANNEL.encode(), 0) >= count:
                    return
        except redis.RedisError:  # still starting
            pass
        time.sleep(0.1)
    raise AssertionError("the hubs did not (re)subscribe to the relay channel")


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def fake_rasa() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeRasa)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def hubs(tmp_path_factory: pytest.TempPathFactory, redis_server: RedisServer,
         fake_rasa: str) -> Iterator[tuple[Hub, Hub]]:
    if not os.environ.get(POSTGRES_URL_VAR):
        how = f"run through scripts/with-postgres.sh (as make test does) to set {POSTGRES_URL_VAR}"
        if os.environ.get("CI"):
            pytest.fail(f"two hubs need the shared PostgreSQL: {how}")
        pytest.skip(f"two hubs need a shared PostgreSQL: {how}")
    log_dir = tmp_path_factory.mktemp("hubs")
    # An empty database: both hubs start at once and migrate it (one waits for the other).
    with postgres_database("template0") as database_url:
        env = {
            **os.environ, "DATABASE_URL": database_url, "LOTSE_REDIS_URL": redis_server.url,
            "LOTSE_RASA_URL": fake_rasa, "LOTSE_ACTION_SERVER_URL": fake_rasa, "LOTSE_SECRET_KEY": SECRET,
            "LOTSE_PURGE_INTERVAL_MINUTES": "0", "LOTSE_TELEGRAM_BOT_TOKEN": "",
        }
        env.pop("TELEGRAM_BOT_TOKEN", None)
        pair = (start_hub("A", env, log_dir), start_hub("B", env, log_dir))
        try:
            for hub in pair:
                wait_healthy(hub)
            with get_sessionmaker(database_url)() as db:
                add_user(db, "anna", PASSWORD, "case_manager", ["abh-infopoint"], display_name="Anna")
            wait_relays(redis_server)
            yield pair
        finally:
            for hub in pair:
                hub.process.terminate()
            for hub in pair:
                try:
                    hub.process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    hub.process.kill()
                    hub.process.wait()


def new_session(client: httpx.Client) -> str:
    response = client.post("/api/v1/sessions", json={"channel": "web", "language": "de", "region": "kreis-kleve"})
    assert response.status_code == 201, response.text
    return str(response.json()["session_id"])


def is_text(fragment: str) -> Callable[[str, dict[str, Any]], bool]:
    return lambda _name, data: fragment in str(data.get("text", "")) + str(data.get("original_text", ""))


def test_messages_sent_to_both_hubs_at_once_are_all_kept_in_one_order(hubs: tuple[Hub, Hub]) -> None:
    a, b = hubs
    with a.client() as on_a, b.client() as on_b:
        session = new_session(on_a)
        stream = Stream(on_a, f"/api/v1/sessions/{session}/events").start()
        texts = [f"Frage {i}" for i in range(12)]

        def say(i: int) -> int:
            client = on_a if i % 2 == 0 else on_b
            return client.post(f"/api/v1/sessions/{session}/messages", json={"text": texts[i]}).status_code

        with ThreadPoolExecutor(max_workers=6) as pool:
            assert list(pool.map(say, range(len(texts)))) == [200] * len(texts)
        messages = on_b.get(f"/api/v1/sessions/{session}/messages").json()["messages"]
        seqs = [m["seq"] for m in messages]
        assert seqs == list(range(1, len(seqs) + 1))  # no gap, no duplicate
        # The newcomer's open stream on A saw every message, half of them stored by B, in order.
        stream.wait_for(lambda _name, data: data.get("seq") == seqs[-1])
        stream.stop.set()
        assert [data["seq"] for _name, data in stream.events] == seqs
    asked = [m["text"] for m in messages if m["sender"] == "user"]
    assert sorted(asked) == sorted(texts)
    answered = [m["text"] for m in messages if m["sender"] == "bot" and m["text"].startswith("echo: ")]
    assert sorted(answered) == sorted(f"echo: {t}" for t in texts)


def test_a_reply_given_on_one_hub_reaches_the_newcomer_on_the_other(
    hubs: tuple[Hub, Hub], redis_server: RedisServer
) -> None:
    a, b = hubs
    with a.client() as on_a, b.client() as on_b, b.client() as console:
        login = console.post("/console/login", data={"username": "anna", "password": PASSWORD},
                             follow_redirects=False)
        assert login.status_code == 303, login.text
        team_stream = Stream(console, "/console/events").start()

        session = new_session(on_a)
        chat_stream = Stream(on_a, f"/api/v1/sessions/{session}/events").start()
        handoff = on_a.post(f"/api/v1/sessions/{session}/messages", json={"text": "/request_human"})
        assert handoff.status_code == 200 and handoff.json()["mode"] == "waiting"

        # The console on B hears about the case created on A.
        created = team_stream.wait_for(lambda name, data: name == "case_created")
        case_id = created["case_id"]

        token = on_b.post("/api/v1/auth/login", json={"username": "anna", "password": PASSWORD}).json()
        staff = {"Authorization": f"Bearer {token['access_token']}"}
        assert on_b.post(f"/api/v1/cases/{case_id}/claim", headers=staff).status_code == 200
        chat_stream.wait_for(is_text("Anna"))  # "Anna has joined", stored on B, pushed on A

        started = time.monotonic()
        reply = on_b.post(f"/api/v1/cases/{case_id}/messages", headers=staff, json={"text": "Guten Tag von B."})
        assert reply.status_code == 201
        seen = chat_stream.wait_for(is_text("Guten Tag von B."), timeout=5)
        assert seen["sender"] == "agent" and seen["author"] == "Anna"
        assert time.monotonic() - started < 5

        # The newcomer answers on A: the case manager's console on B hears it.
        on_a.post(f"/api/v1/sessions/{session}/messages", json={"text": "Danke!"})
        team_stream.wait_for(lambda name, data: name == "case_message" and data.get("case_id") == case_id)

        # Redis goes away: a reply stored meanwhile is not lost, the request does not hang ...
        redis_server.stop()
        started = time.monotonic()
        during = on_b.post(f"/api/v1/cases/{case_id}/messages", headers=staff, json={"text": "Während Redis weg war."})
        assert during.status_code == 201 and time.monotonic() - started < 3
        # ... and once it is back, that reply and later ones arrive.
        redis_server.start()
        wait_relays(redis_server)
        chat_stream.wait_for(is_text("Während Redis weg war."), timeout=20)
        after = on_b.post(f"/api/v1/cases/{case_id}/messages", headers=staff, json={"text": "Wieder da."})
        assert after.status_code == 201
        chat_stream.wait_for(is_text("Wieder da."), timeout=5)
        chat_stream.stop.set()
        team_stream.stop.set()

        # One push per message: the stream never saw a message twice.
        seqs = [data["seq"] for name, data in chat_stream.events if name == "message"]
        assert len(seqs) == len(set(seqs))


def test_a_kiosk_code_made_on_one_hub_opens_the_conversation_on_the_other_once(hubs: tuple[Hub, Hub]) -> None:
    a, b = hubs
    with a.client() as on_a, b.client() as on_b:
        session = new_session(on_a)
        issued = on_a.post(f"/api/v1/sessions/{session}/handover-token")
        assert issued.status_code == 201
        token = issued.json()["token"]
        assert on_b.post("/api/v1/handover/status", json={"token": token}).json() == {"used": False}
        redeemed = on_b.post("/api/v1/handover/redeem", json={"token": token})
        assert redeemed.status_code == 200 and redeemed.json()["session_id"] == session
        assert on_a.post("/api/v1/handover/status", json={"token": token}).json() == {"used": True}
        assert on_a.post("/api/v1/handover/redeem", json={"token": token}).status_code == 410
        assert on_b.post("/api/v1/handover/redeem", json={"token": token}).status_code == 410


def test_rate_limits_count_for_all_hubs_together(redis_server: RedisServer) -> None:
    with redis_server.client() as shared:
        name = f"test{time.time_ns()}"
        limit_a, limit_b = RedisRateLimiter(3, shared, name), RedisRateLimiter(3, shared, name)
        assert [limit_a.retry_after("1.2.3.4"), limit_b.retry_after("1.2.3.4"), limit_a.retry_after("1.2.3.4")] \
            == [0, 0, 0]
        assert 1 <= limit_b.retry_after("1.2.3.4") <= 61  # the fourth call in the minute, on the other hub
        assert limit_b.retry_after("5.6.7.8") == 0  # another address has its own count
        assert not any(b"1.2.3.4" in key for key in shared.keys("lotse:rate:*"))  # addresses are hashed


def test_real_rasa_keeps_locks_in_redis_and_trackers_in_postgresql(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    if not os.environ.get(POSTGRES_URL_VAR):
        pytest.skip(f"needs PostgreSQL: run through scripts/with-postgres.sh to set {POSTGRES_URL_VAR}")
    from sqlalchemy import create_engine, text

    with postgres_database("template0") as tracker_url, redis_server.client() as shared:
        shared.config_resetstat()
        env = {"LOTSE_REDIS_URL": redis_server.url, "LOTSE_RASA_TRACKER_URL": tracker_url}
        with running_stack(tmp_path / "lotse.db", extra_env=env) as stack:
            endpoints = (VAR / "run" / str(stack.ports[0]) / "endpoints.yml").read_text()
            assert "type: redis" in endpoints and f"port: {redis_server.port}" in endpoints
            assert "dialect: postgresql" in endpoints
            session = stack.session(language="de")
            reply = stack.say(session, "Wie melde ich meinen Wohnsitz an?")
            messages: list[dict[str, Any]] = reply["messages"]  # type: ignore[assignment]
            bot = [m for m in messages if m["sender"] == "bot"]
            assert bot and not any(m.get("fallback") for m in bot), bot  # Rasa answered, no outage apology
            # Rasa took the conversation's lock in Redis (the hub itself never GETs keys) ...
            stats = shared.info("commandstats")
            assert stats.get("cmdstat_get", {}).get("calls", 0) > 0, stats
        # ... and its tracker of the conversation is in PostgreSQL.
        engine = create_engine(tracker_url)
        try:
            with engine.connect() as conn:
                count = conn.execute(text("SELECT count(*) FROM events WHERE sender_id = :s"), {"s": session}).scalar()
        finally:
            engine.dispose()
        assert count and count > 0
