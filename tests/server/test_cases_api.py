"""The hand-off seen from both sides: the newcomer's chat and the case managers' API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from server.core.config import Settings
from server.main import create_app
from tests.conftest import ScriptedDialogue
from tests.server.conftest import PASSWORD


def login(client: TestClient, username: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def start_handoff(client: TestClient, language: str = "ar") -> tuple[str, dict[str, Any]]:
    session = client.post("/api/v1/sessions", json={"channel": "web", "language": language,
                                                    "region": "kreis-kleve"}).json()["session_id"]
    reply = client.post(f"/api/v1/sessions/{session}/messages", json={"text": "/request_human"}).json()
    return session, reply


@pytest.fixture
def handed_off(client: TestClient, staff: None) -> Iterator[tuple[str, int]]:
    session, reply = start_handoff(client)
    assert reply["mode"] == "waiting"
    cases = client.get("/api/v1/cases?status=open", headers=login(client, "anna")).json()
    yield session, cases[0]["id"]


def test_the_newcomer_is_told_in_their_language_who_answers(client: TestClient, staff: None) -> None:
    session, reply = start_handoff(client, "ar")
    texts = [m["text"] for m in reply["messages"]]
    assert any("Ausländerbehörde – Infopoint" in t for t in texts), texts
    assert reply["messages"][0]["language"] == "ar" and reply["messages"][0]["dir"] == "rtl"
    assert client.get(f"/api/v1/sessions/{session}/messages").json()["mode"] == "waiting"


def test_nobody_without_a_login_sees_a_case(client: TestClient, handed_off: tuple[str, int]) -> None:
    _, case_id = handed_off
    assert client.get("/api/v1/cases").status_code == 401
    assert client.get(f"/api/v1/cases/{case_id}").status_code == 401
    assert client.get("/api/v1/cases", headers={"Authorization": "Bearer forged"}).status_code == 401
    assert client.post(f"/api/v1/cases/{case_id}/claim").status_code == 401
    assert client.get("/api/v1/cases", headers=login(client, "eddi")).status_code == 403


def test_a_case_manager_sees_only_their_teams_cases(client: TestClient, handed_off: tuple[str, int]) -> None:
    session, case_id = handed_off
    anna = client.get("/api/v1/cases?status=open", headers=login(client, "anna")).json()
    assert [c["id"] for c in anna] == [case_id]
    case = anna[0]
    assert case["session_id"] == session and case["language"] == "ar" and case["topic"] == "residence"
    assert case["town"] == "Goch" and case["status"] == "open" and case["urgency"] == "normal"
    assert "Goch" in case["summary"] and "Aufenthaltstitel" in case["summary"]
    ben = login(client, "ben")
    assert client.get("/api/v1/cases", headers=ben).json() == []
    assert client.get(f"/api/v1/cases/{case_id}", headers=ben).status_code == 404
    assert client.post(f"/api/v1/cases/{case_id}/claim", headers=ben).status_code == 404
    assert [c["id"] for c in client.get("/api/v1/cases", headers=login(client, "root")).json()] == [case_id]


def test_claim_reply_and_close_reach_the_same_chat(
    client: TestClient, handed_off: tuple[str, int], dialogue: ScriptedDialogue
) -> None:
    session, case_id = handed_off
    anna = login(client, "anna")
    assert client.post(f"/api/v1/cases/{case_id}/claim", headers=anna).json()["mode"] == "human"
    chat = client.get(f"/api/v1/sessions/{session}/messages").json()
    assert chat["mode"] == "human"
    assert chat["messages"][-1]["sender"] == "system" and "Anna" in chat["messages"][-1]["text"]

    sent_to_bot = len(dialogue.received)
    quiet = client.post(f"/api/v1/sessions/{session}/messages", json={"text": "مرحبا، هل أنت هناك؟"}).json()
    assert quiet["messages"] == [] and len(dialogue.received) == sent_to_bot  # the bot stays silent

    reply = client.post(f"/api/v1/cases/{case_id}/messages", headers=anna, json={"text": "Guten Tag, ich helfe Ihnen."})
    assert reply.status_code == 201
    chat = client.get(f"/api/v1/sessions/{session}/messages").json()["messages"]
    assert chat[-1]["sender"] == "agent" and chat[-1]["author"] == "Anna"
    assert "Guten Tag" in chat[-1]["text"] or "Guten Tag" in chat[-1].get("original_text", "")

    detail = client.get(f"/api/v1/cases/{case_id}", headers=anna).json()
    senders = [m["sender"] for m in detail["messages"]]
    assert senders[:2] == ["user", "bot"] and "agent" in senders
    newcomer = next(m for m in detail["messages"] if m["original_text"] == "مرحبا، هل أنت هناك؟")
    assert newcomer["language"] == "ar" and {"text", "original_text", "time", "sender"} <= set(newcomer)

    note = client.post(f"/api/v1/cases/{case_id}/notes", headers=anna, json={"text": "Termin ABH nötig"})
    assert note.status_code == 201
    closed = client.post(f"/api/v1/cases/{case_id}/close", headers=anna, json={"outcome": "referred"}).json()
    assert closed["status"] == "closed" and closed["mode"] == "bot" and dialogue.resumed == [session]
    assert client.get("/api/v1/cases?status=open", headers=anna).json() == []
    assert client.post(f"/api/v1/cases/{case_id}/messages", headers=anna, json={"text": "?"}).status_code == 409

    back = client.post(f"/api/v1/sessions/{session}/messages", json={"text": "سؤال آخر"}).json()
    assert back["mode"] == "bot" and back["messages"], "after close the bot answers again"


def test_cases_survive_a_restart_of_the_hub(
    settings: Settings, handed_off: tuple[str, int], dialogue: ScriptedDialogue
) -> None:
    session, case_id = handed_off
    with TestClient(create_app(settings)) as restarted:
        restarted.app.state.conversations.dialogue = dialogue  # type: ignore[attr-defined]
        anna = login(restarted, "anna")
        detail = restarted.get(f"/api/v1/cases/{case_id}", headers=anna).json()
        assert detail["session_id"] == session and detail["messages"]
        assert restarted.get(f"/api/v1/sessions/{session}/messages").json()["mode"] == "waiting"


def test_login_is_refused_and_locked_after_repeated_failures(client: TestClient, staff: None) -> None:
    for _ in range(5):
        bad = client.post("/api/v1/auth/login", json={"username": "anna", "password": "wrong password"})
        assert bad.status_code == 401
    locked = client.post("/api/v1/auth/login", json={"username": "anna", "password": PASSWORD})
    assert locked.status_code == 401
    assert client.post("/api/v1/auth/login", json={"username": "nobody", "password": PASSWORD}).status_code == 401
    assert client.post("/api/v1/auth/login", json={"username": "anna"}).status_code == 422


def test_bad_input_to_the_case_api(client: TestClient, handed_off: tuple[str, int]) -> None:
    _, case_id = handed_off
    anna = login(client, "anna")
    assert client.post(f"/api/v1/cases/{case_id}/messages", headers=anna, json={"text": "   "}).status_code == 422
    assert client.post(f"/api/v1/cases/{case_id}/close", headers=anna, json={"outcome": "x"}).status_code == 422
    assert client.get("/api/v1/cases/999999", headers=anna).status_code == 404
    assert client.get("/api/v1/cases?status=weird", headers=anna).status_code == 422
