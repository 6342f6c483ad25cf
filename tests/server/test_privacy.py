"""Privacy by design, as a newcomer and the data protection officer would check it: the notice,
erasure (also of Rasa's copy), the export, the retention limits, and logs free of message texts."""

from __future__ import annotations

import logging
import logging.config
import sqlite3
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select

from lotse import cli
from lotse.i18n import t
from lotse.supervisor import RASA_LOGGING
from server.core.config import Settings
from server.core.db import get_sessionmaker, upgrade_database
from server.main import create_app
from server.models import AuditEntry, Case, CaseNote, ChatSession, Message, PendingTrackerErasure, utcnow
from server.services.cases import office_name
from server.services.privacy import purge
from tests.conftest import ScriptedDialogue
from tests.server.test_cases_api import login

PHONE = "0176 2345 6789"


def tracker_store(path: Path, *senders: str) -> str:
    """A stand-in for Rasa's SQL tracker store: its ``events`` table with a few rows per sender."""
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, sender_id TEXT, data TEXT)")
        for sender in senders:
            conn.executemany("INSERT INTO events (sender_id, data) VALUES (?, ?)",
                             [(sender, '{"event": "user", "text": "Mein Aufenthaltstitel"}')] * 3)
    return f"sqlite:///{path}"


def tracker_senders(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {row[0] for row in conn.execute("SELECT sender_id FROM events")}


@pytest.fixture
def tracker_path(tmp_path: Path) -> Path:
    return tmp_path / "rasa-tracker.db"


@pytest.fixture
def privacy_settings(settings: Settings, tracker_path: Path) -> Settings:
    tracker_store(tracker_path)
    return settings.model_copy(update={"rasa_tracker_url": f"sqlite:///{tracker_path}", "purge_interval_minutes": 0})


@pytest.fixture
def hub(privacy_settings: Settings, dialogue: ScriptedDialogue) -> Iterator[TestClient]:
    app = create_app(privacy_settings)
    app.state.conversations.dialogue = dialogue
    with TestClient(app) as test_client:
        yield test_client


def new_session(client: TestClient, language: str = "de") -> str:
    response = client.post("/api/v1/sessions", json={"channel": "web", "language": language,
                                                     "region": "kreis-kleve"})
    return str(response.json()["session_id"])


def say(client: TestClient, session: str, text: str) -> dict[str, Any]:
    response = client.post(f"/api/v1/sessions/{session}/messages", json={"text": text})
    assert response.status_code == 200, response.text
    return dict(response.json())


def handed_off_with_note(client: TestClient) -> tuple[str, int]:
    session = new_session(client, "ar")
    say(client, session, f"Bitte rufen Sie mich an: {PHONE}")
    say(client, session, "/request_human")
    anna = login(client, "anna")
    case_id = client.get("/api/v1/cases", headers=anna).json()[0]["id"]
    note = client.post(f"/api/v1/cases/{case_id}/notes", headers=anna, json={"text": "Rückruf morgen"})
    assert note.status_code == 201
    return session, case_id


def test_the_privacy_notice_comes_once_before_the_first_answer_in_the_newcomers_language(hub: TestClient) -> None:
    session = new_session(hub, "tr")
    first = say(hub, session, "/greet")["messages"]
    expected = t("privacy_notice", "tr", retention_days=90, office=office_name("kreis-kleve"))
    assert first[0]["text"] == expected and len(first) == 2
    assert "90" in expected and "/delete" in expected and office_name("kreis-kleve") in expected
    second = say(hub, session, "Wie lange dauert der Kurs?")["messages"]
    assert [m["text"] for m in second] == ["echo: Wie lange dauert der Kurs?"]
    with get_sessionmaker(hub.app.state.settings.database_url)() as db:  # type: ignore[attr-defined]
        keys = [m.payload.get("meta", {}).get("key") for m in db.scalars(select(Message).order_by(Message.seq))]
    assert keys.count("privacy_notice") == 1


def test_a_configured_retention_period_is_what_the_notice_says(settings: Settings, dialogue: ScriptedDialogue) -> None:
    app = create_app(settings.model_copy(update={"retention_days": 45, "purge_interval_minutes": 0}))
    app.state.conversations.dialogue = dialogue
    with TestClient(app) as client:
        notice = say(client, new_session(client, "en"), "hello")["messages"][0]["text"]
    assert "45 days" in notice


def test_delete_erases_messages_case_notes_and_rasas_copy(
    hub: TestClient, staff: None, privacy_settings: Settings, tracker_path: Path
) -> None:
    session, case_id = handed_off_with_note(hub)
    other = new_session(hub)
    say(hub, other, "Hallo")
    tracker_store(tracker_path, session, other)

    assert hub.delete(f"/api/v1/sessions/{session}").status_code == 204
    assert hub.get(f"/api/v1/sessions/{session}/messages").status_code == 404
    assert hub.get(f"/api/v1/cases/{case_id}", headers=login(hub, "anna")).status_code == 404
    with get_sessionmaker(privacy_settings.database_url)() as db:
        assert db.scalars(select(Message).where(Message.session_id == session)).all() == []
        assert db.scalars(select(Case)).all() == [] and db.scalars(select(CaseNote)).all() == []
        assert db.scalars(select(PendingTrackerErasure)).all() == []
    assert tracker_senders(tracker_path) == {other}, "Rasa's copy of the conversation is gone, others stay"
    assert len(hub.get(f"/api/v1/sessions/{other}/messages").json()["messages"]) == 3
    assert hub.delete(f"/api/v1/sessions/{session}").status_code == 404


def test_when_rasas_store_is_unreachable_the_hub_erases_now_and_the_job_wipes_rasa_later(
    hub: TestClient, privacy_settings: Settings, tracker_path: Path
) -> None:
    session = new_session(hub)
    say(hub, session, "Hallo")
    tracker_path.write_bytes(b"this is not a database" * 100)  # Rasa's store broken / unreachable
    assert hub.delete(f"/api/v1/sessions/{session}").status_code == 204
    assert hub.get(f"/api/v1/sessions/{session}/messages").status_code == 404
    with get_sessionmaker(privacy_settings.database_url)() as db:
        assert [p.sender_id for p in db.scalars(select(PendingTrackerErasure))] == [session]

        tracker_path.unlink()
        tracker_store(tracker_path, session, "someone-else")  # Rasa is back, still holding the texts
        assert purge(db, privacy_settings).trackers_wiped == 1
        assert db.scalars(select(PendingTrackerErasure)).all() == []
    assert tracker_senders(tracker_path) == {"someone-else"}


def test_export_holds_everything_about_the_newcomer_but_no_staff_names(hub: TestClient, staff: None) -> None:
    session, case_id = handed_off_with_note(hub)
    response = hub.get(f"/api/v1/sessions/{session}/export")
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    data = response.json()
    assert data["session"]["id"] == session and data["session"]["channel"] == "web"
    assert any(PHONE in m["text"] for m in data["messages"])
    [case] = data["cases"]
    assert case["id"] == case_id and case["details"]["town"] == "Goch" and case["town"] == "Goch"
    assert case["notes"][0]["text"] == "Rückruf morgen"
    assert "Anna" not in response.text and "anna" not in response.text
    assert hub.get(f"/api/v1/sessions/{'0' * 32}/export").status_code == 404


def _age(settings: Settings, session: str, days: int) -> None:
    with get_sessionmaker(settings.database_url)() as db:
        chat = db.get(ChatSession, session)
        assert chat is not None
        chat.last_activity_at = utcnow() - timedelta(days=days)
        db.commit()


def test_retention_closes_after_30_days_and_deletes_after_90(
    hub: TestClient, staff: None, privacy_settings: Settings, tracker_path: Path
) -> None:
    quiet, quiet_case = handed_off_with_note(hub)
    gone, _ = handed_off_with_note(hub)
    fresh = new_session(hub)
    say(hub, fresh, "Hallo")
    tracker_store(tracker_path, gone, fresh)
    _age(privacy_settings, quiet, 31)
    _age(privacy_settings, gone, 91)

    with get_sessionmaker(privacy_settings.database_url)() as db:
        report = purge(db, privacy_settings)
        assert (report.closed_sessions, report.closed_cases, report.deleted_sessions) == (1, 1, 1)
        assert report.deleted_messages > 0
        assert db.get(ChatSession, gone) is None
        closed = db.get(Case, quiet_case)
        assert closed is not None and (closed.status, closed.outcome) == ("closed", "no_response")
        assert db.get(ChatSession, fresh).closed_at is None  # type: ignore[union-attr]
        assert purge(db, privacy_settings).as_dict() == dict.fromkeys(report.as_dict(), 0), "idempotent"
    assert tracker_senders(tracker_path) == {fresh}
    assert hub.get(f"/api/v1/sessions/{quiet}/messages").json()["mode"] == "bot"
    assert hub.get(f"/api/v1/sessions/{gone}/messages").status_code == 404


def test_the_hub_runs_the_retention_job_by_itself(settings: Settings, dialogue: ScriptedDialogue) -> None:
    upgrade_database(settings.database_url)
    with get_sessionmaker(settings.database_url)() as db:
        old = ChatSession(channel="web", last_activity_at=utcnow() - timedelta(days=365))
        db.add(old)
        db.commit()
        old_id = old.id
    app = create_app(settings.model_copy(update={"purge_interval_minutes": 60}))
    app.state.conversations.dialogue = dialogue
    with TestClient(app) as client:
        deadline = time.monotonic() + 10
        while client.get(f"/api/v1/sessions/{old_id}/messages").status_code != 404:
            assert time.monotonic() < deadline, "the scheduled job did not delete the old conversation"
            time.sleep(0.05)


def test_lotse_privacy_purge_command(
    privacy_settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    upgrade_database(privacy_settings.database_url)
    with get_sessionmaker(privacy_settings.database_url)() as db:
        db.add(ChatSession(channel="web", last_activity_at=utcnow() - timedelta(days=100)))
        db.commit()
    monkeypatch.setattr("server.core.config.get_settings", lambda: privacy_settings)
    assert cli.main(["privacy", "purge"]) == 0
    assert '"deleted_sessions": 1' in capsys.readouterr().out


def test_no_message_text_or_phone_number_reaches_the_logs(
    hub: TestClient, staff: None, caplog: pytest.LogCaptureFixture, settings: Settings
) -> None:
    caplog.set_level(logging.DEBUG)
    session, case_id = handed_off_with_note(hub)
    anna = login(hub, "anna")
    hub.post(f"/api/v1/cases/{case_id}/claim", headers=anna)
    hub.post(f"/api/v1/cases/{case_id}/messages", headers=anna, json={"text": "Wir rufen Sie an."})
    say(hub, session, f"Meine Nummer ist {PHONE}, Aufenthaltstitel läuft ab")
    hub.get(f"/api/v1/sessions/{session}/export")
    hub.delete(f"/api/v1/sessions/{session}")
    with TestClient(create_app(settings.model_copy(update={"purge_interval_minutes": 0}))) as offline:
        say(offline, new_session(offline), f"Rasa ist weg, meine Nummer: {PHONE}")  # the real client, Rasa down
    assert caplog.records, "the test must see the hub's log records"
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.args!r}" for r in caplog.records)
    for secret in (PHONE, "Aufenthaltstitel", "Bitte rufen Sie mich an", "Rückruf morgen", "Wir rufen Sie an"):
        assert secret not in logged


def test_rasas_rest_channel_does_not_log_message_texts() -> None:
    """Rasa logs the newcomer's text when a reply times out; the logging config lotse serve gives it mutes that."""
    rest = logging.getLogger("rasa.core.channels.rest")
    before = rest.level
    try:
        logging.config.dictConfig(yaml.safe_load(RASA_LOGGING))
        assert not rest.isEnabledFor(logging.ERROR)
        assert logging.getLogger("rasa.core.processor").isEnabledFor(logging.ERROR), "other Rasa logs stay"
    finally:
        rest.setLevel(before)


def test_audit_entries_never_hold_text(hub: TestClient, staff: None, privacy_settings: Settings) -> None:
    handed_off_with_note(hub)
    with get_sessionmaker(privacy_settings.database_url)() as db:
        entries = db.scalars(select(AuditEntry)).all()
    assert entries and all("Rückruf" not in repr(vars(e)) for e in entries)
