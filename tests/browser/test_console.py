"""The case managers' console in a real browser: log in, see the queue, claim, reply, close.

A newcomer's case is created through the public chat API (the scripted dialogue hands over the
hand-off form's answers, as Rasa does); the console is driven in headless Chromium.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from server.core.config import Settings
from server.core.db import get_sessionmaker, upgrade_database
from server.main import create_app
from server.services.users import add_user
from tests.browser.conftest import serving
from tests.conftest import ScriptedDialogue

PASSWORD = "console test password"


@dataclass
class ConsoleHub:
    url: str
    http: httpx.Client

    def handoff(self, language: str) -> str:
        session = self.http.post("/api/v1/sessions", json={"channel": "web", "language": language,
                                                           "region": "kreis-kleve"}).json()["session_id"]
        reply = self.http.post(f"/api/v1/sessions/{session}/messages", json={"text": "/request_human"}).json()
        assert reply["mode"] == "waiting"
        return str(session)

    def chat(self, session: str) -> dict[str, Any]:
        body: dict[str, Any] = self.http.get(f"/api/v1/sessions/{session}/messages").json()
        return body


@pytest.fixture(scope="module")
def console_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleHub]:
    db: Path = tmp_path_factory.mktemp("console") / "lotse.db"
    settings = Settings(database_url=f"sqlite:///{db}", rasa_url="http://127.0.0.1:9",
                        action_server_url="http://127.0.0.1:9", rasa_timeout_seconds=2)
    upgrade_database(settings.database_url)
    with get_sessionmaker(settings.database_url)() as session:
        add_user(session, "anna", PASSWORD, "case_manager", ["abh-infopoint"], display_name="Anna")
        add_user(session, "ben", PASSWORD, "case_manager", ["ki-school"], display_name="Ben")
    app = create_app(settings)
    app.state.conversations.dialogue = ScriptedDialogue()
    with serving(app) as url, httpx.Client(base_url=url, timeout=20) as http:
        yield ConsoleHub(url, http)


def log_in(page: Any, hub: ConsoleHub, username: str) -> None:
    page.goto(f"{hub.url}/console")
    expect(page).to_have_url(f"{hub.url}/console/login")  # no login, no cases
    page.get_by_label("Benutzername").fill(username)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    expect(page).to_have_url(f"{hub.url}/console")


def test_a_case_manager_logs_in_claims_a_case_and_replies(console_hub: ConsoleHub, new_page: Any) -> None:
    session = console_hub.handoff("ar")
    page = new_page()
    log_in(page, console_hub, "anna")
    row = page.get_by_role("row").filter(has_text="Goch")
    expect(row).to_contain_text("العربية")
    row.get_by_role("link").click()
    expect(page.locator(".summary-text")).to_contain_text("Aufenthaltstitel läuft bald ab")
    page.get_by_role("button", name="Übernehmen").click()
    expect(page.locator("h1")).to_contain_text("in Bearbeitung: Anna")
    assert console_hub.chat(session)["mode"] == "human"

    page.get_by_label("Antwort an die Person").fill("Guten Tag! Bringen Sie bitte Ihren Pass mit.")
    page.get_by_role("button", name="Senden").click()
    expect(page.locator(".msg--agent").last).to_contain_text("Bringen Sie bitte Ihren Pass mit.")
    newest = console_hub.chat(session)["messages"][-1]
    assert newest["sender"] == "agent" and "Pass" in (newest.get("original_text") or newest["text"])

    # The newcomer answers: the open case page shows it without a reload (pushed to the console).
    console_hub.http.post(f"/api/v1/sessions/{session}/messages", json={"text": "<b>شكرا</b> سآتي غدا"})
    expect(page.locator(".msg--user").last).to_contain_text("<b>شكرا</b> سآتي غدا")  # as text, not markup

    page.get_by_label("Interne Notiz").fill("Termin am Infopoint vereinbart")
    page.get_by_role("button", name="Notiz speichern").click()
    expect(page.locator(".notes")).to_contain_text("Termin am Infopoint vereinbart")
    page.get_by_label("Ergebnis").select_option("appointment")
    page.get_by_role("button", name="Abschließen").click()
    expect(page.locator("h1")).to_contain_text("abgeschlossen")
    assert console_hub.chat(session)["mode"] == "bot"


def test_the_queue_badge_counts_a_new_case_without_a_reload(console_hub: ConsoleHub, new_page: Any) -> None:
    page = new_page()
    log_in(page, console_hub, "anna")
    badge = page.locator("#badge")
    before = int(badge.text_content() or 0)
    console_hub.handoff("uk")
    expect(badge).to_have_text(str(before + 1))
    expect(page.locator("#notice")).to_contain_text("Neuer Fall")


def test_another_team_does_not_see_the_case(console_hub: ConsoleHub, new_page: Any) -> None:
    console_hub.handoff("fa")
    page = new_page()
    log_in(page, console_hub, "ben")
    expect(page.locator("table.cases caption")).to_have_text("0 Fälle")
    first_case = page.goto(f"{console_hub.url}/console/cases/1")
    assert first_case is not None and first_case.status == 404
