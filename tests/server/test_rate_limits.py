"""A flood on one conversation or from one address is refused politely; nothing of it is stored."""

from __future__ import annotations

from fastapi.testclient import TestClient

from server.core.config import Settings
from server.core.ratelimit import RateLimiter
from server.main import create_app
from tests.conftest import ScriptedDialogue


def test_the_window_slides() -> None:
    now = [0.0]
    limiter = RateLimiter(2, clock=lambda: now[0])
    assert limiter.retry_after("a") == 0 and limiter.retry_after("a") == 0
    assert limiter.retry_after("a") > 0 and limiter.retry_after("b") == 0  # keys are independent
    now[0] = 61.0
    assert limiter.retry_after("a") == 0
    assert RateLimiter(0).retry_after("a") == 0  # 0 switches the limit off


def test_a_flooded_conversation_gets_429_with_retry_after_and_nothing_is_stored(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"rate_limit_session_per_minute": 3}))
    app.state.conversations.dialogue = ScriptedDialogue()
    with TestClient(app) as client:
        session = client.post("/api/v1/sessions", json={"language": "de"}).json()["session_id"]
        for n in range(3):
            assert client.post(f"/api/v1/sessions/{session}/messages", json={"text": f"Frage {n}"}).status_code == 200
        refused = client.post(f"/api/v1/sessions/{session}/messages", json={"text": "Frage 4"})
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
        assert "wait" in refused.json()["detail"]
        texts = [m["text"] for m in client.get(f"/api/v1/sessions/{session}/messages").json()["messages"]]
        assert "Frage 4" not in texts and "Frage 2" in texts
        other = client.post("/api/v1/sessions", json={"language": "de"}).json()["session_id"]
        assert client.post(f"/api/v1/sessions/{other}/messages", json={"text": "Hallo"}).status_code == 200


def test_one_address_cannot_open_endless_sessions(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"rate_limit_address_per_minute": 5}))
    with TestClient(app) as client:
        codes = [client.post("/api/v1/sessions", json={}).status_code for _ in range(6)]
        assert codes == [201] * 5 + [429]
