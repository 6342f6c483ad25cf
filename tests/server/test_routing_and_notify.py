"""Routing tables, office hours and the notices a new case sends to its team."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from server.core.config import Settings
from server.main import create_app
from server.services.routing import RoutingError, routing_for
from tests.conftest import ScriptedDialogue
from tests.server.test_cases_api import start_handoff


def test_routes_by_urgency_topic_and_town(tmp_path: Path) -> None:
    (tmp_path / "default.yml").write_text(
        "teams: {kim: {name: KIM}, abh: {name: ABH}, emmerich: {name: ABH Emmerich}}\n"
        "routes:\n  - {urgency: urgent, team: kim}\n"
        "  - {topic: residence, towns: [Emmerich am Rhein], team: emmerich}\n"
        "  - {topic: residence, team: abh}\ndefault_team: kim\n"
    )
    table = routing_for("x", tmp_path)
    assert table.route("residence", "Goch", "normal") == "abh"
    assert table.route("residence", "emmerich am rhein", "normal") == "emmerich"
    assert table.route("residence", "Goch", "urgent") == "kim"
    assert table.route(None, None, "normal") == "kim"


def test_a_wrong_routing_file_names_the_file_and_the_problem(tmp_path: Path) -> None:
    (tmp_path / "default.yml").write_text("teams: {kim: {name: KIM}}\nroutes: [{topic: school, team: nope}]\n"
                                          "default_team: kim\n")
    with pytest.raises(RoutingError, match=r"(?s)default\.yml.*unknown team 'nope'"):
        routing_for("y", tmp_path)
    (tmp_path / "default.yml").write_text("teams: {kim: {name: KIM}}\ndefault_team: kim\n"
                                          "office_hours: {mon: ['12:00-08:00']}\n")
    with pytest.raises(RoutingError, match="start before the end"):
        routing_for("z", tmp_path)


def test_office_hours_tell_when_someone_answers() -> None:
    table = routing_for("kreis-kleve")
    sunday_noon = datetime(2026, 11, 22, 11, 0, tzinfo=UTC)
    monday_morning = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # 10:00 in Kleve
    opening = table.next_opening(sunday_noon)
    assert opening is not None and (opening.weekday(), opening.hour, opening.minute) == (0, 8, 30)
    assert table.next_opening(monday_morning) is None


class Inbox:
    """A tiny SMTP server: enough of the protocol for smtplib to deliver one message."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.received = threading.Event()
        self.loop = asyncio.new_event_loop()
        self.server = self.loop.run_until_complete(asyncio.start_server(self._session, "127.0.0.1", 0))
        self.port = self.server.sockets[0].getsockname()[1]
        threading.Thread(target=self.loop.run_forever, daemon=True).start()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 inbox\r\n")
        while line := await reader.readline():
            command = line.decode().strip().upper()
            if command == "DATA":
                writer.write(b"354 go on\r\n")
                data = b""
                while (chunk := await reader.readline()) != b".\r\n":
                    data += chunk
                self.messages.append(data)
                self.received.set()
                writer.write(b"250 ok\r\n")
            elif command == "QUIT":
                writer.write(b"221 bye\r\n")
                await writer.drain()
                break
            else:
                writer.write(b"250 ok\r\n")
            await writer.drain()
        writer.close()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    box = Inbox()
    yield box
    box.close()


def test_a_new_case_emails_its_team_without_personal_data(
    settings: Settings, inbox: Inbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "default.yml").write_text(
        "teams: {abh-infopoint: {name: 'ABH Infopoint', email: infopoint@kreis.example}}\ndefault_team: abh-infopoint\n"
    )
    monkeypatch.setenv("LOTSE_ROUTING_DIR", str(tmp_path))
    mail_settings = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": inbox.port,
                                                "public_url": "https://lotse.kreis.example"})
    app = create_app(mail_settings)
    app.state.conversations.dialogue = ScriptedDialogue()
    with TestClient(app) as client:
        start_handoff(client, "ar")
    assert inbox.received.wait(10), "no e-mail arrived"
    mail = message_from_bytes(inbox.messages[0])
    body = mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert mail["To"] == "infopoint@kreis.example" and "neuer Fall #1" in mail["Subject"]
    assert "https://lotse.kreis.example/console/cases/1" in body
    assert "Goch" not in body and "Aufenthaltstitel" not in body  # no town, no words of the newcomer
