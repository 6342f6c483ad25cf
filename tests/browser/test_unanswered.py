"""The editors' "Offene Fragen" page in Chromium: a group across languages, its count and wordings;
adding them to an entry leads to the draft, and the group is gone from the list.

The hub runs with the small checked knowledge base of tests/content_kb.py (its index builds in
seconds, so the nearest-entry suggestion is real) and a dialogue that asks back like Rasa does
when no entry answers confidently.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from server.core.config import Settings
from server.core.db import get_sessionmaker, upgrade_database
from server.main import create_app
from server.services.users import add_user
from tests.browser.conftest import serving
from tests.content_kb import write_checked_kb
from tests.server.test_unanswered import FEE_AR, FEE_UK, LICENCE_DE, ClarifyingDialogue

PASSWORD = "unanswered test password"


@dataclass
class EditorHub:
    url: str
    http: httpx.Client

    def ask(self, language: str, text: str) -> None:
        session = self.http.post("/api/v1/sessions", json={"channel": "web", "language": language}).json()
        reply = self.http.post(f"/api/v1/sessions/{session['session_id']}/messages", json={"text": text})
        assert reply.status_code == 200


@pytest.fixture(scope="module")
def editor_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EditorHub]:
    from knowledge.answer import get_answerer, reset_answerer

    root = tmp_path_factory.mktemp("unanswered")
    settings = Settings(database_url=f"sqlite:///{root / 'lotse.db'}", rasa_url="http://127.0.0.1:9",
                        action_server_url="http://127.0.0.1:9", rasa_timeout_seconds=2)
    upgrade_database(settings.database_url)
    with get_sessionmaker(settings.database_url)() as db:
        add_user(db, "erika", PASSWORD, "editor", display_name="Erika Redaktion")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LOTSE_KNOWLEDGE_DIR", str(write_checked_kb(root / "knowledge")))
        patch.setenv("LOTSE_CONTENT_DIR", str(root / "content"))
        patch.setenv("LOTSE_CACHE_DIR", str(Path(str(tmp_path_factory.getbasetemp())) / "content-cache"))
        reset_answerer()
        get_answerer()  # the suggestion's index and calibration, built before the first page view
        app = create_app(settings)
        app.state.conversations.dialogue = ClarifyingDialogue()
        with serving(app) as url, httpx.Client(base_url=url, timeout=30) as http:
            yield EditorHub(url, http)
        reset_answerer()


def test_the_editor_adds_a_group_across_languages_to_an_entry(editor_hub: EditorHub, browser: Browser) -> None:
    editor_hub.ask("ar", FEE_AR)
    editor_hub.ask("uk", FEE_UK)
    editor_hub.ask("ar", FEE_AR)  # asked again, in another conversation
    editor_hub.ask("de", LICENCE_DE)
    context = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 900})
    page: Any = context.new_page()
    try:
        page.goto(f"{editor_hub.url}/console/login")
        page.get_by_label("Benutzername").fill("erika")
        page.get_by_label("Passwort").fill(PASSWORD)
        page.get_by_role("button", name="Anmelden").click()
        page.get_by_role("link", name="Offene Fragen").click()
        expect(page.get_by_role("heading", name="Offene Fragen", level=1)).to_be_visible()

        groups = page.locator("li.group")
        expect(groups).to_have_count(2)
        fee = groups.first  # the biggest group first: 3 questions, in Arabic and Ukrainian
        expect(fee.locator(".count")).to_have_text("3×")
        expect(fee.locator(".langs")).to_contain_text("ar 2")
        expect(fee.locator(".langs")).to_contain_text("uk")
        expect(fee.locator(".wordings bdi")).to_have_count(2)  # the repeated wording is shown once
        expect(fee.get_by_text(FEE_AR)).to_be_visible()
        expect(fee.get_by_text(FEE_UK)).to_be_visible()
        expect(fee.get_by_text(FEE_AR)).to_have_attribute("dir", "auto")  # Arabic runs right to left
        expect(groups.nth(1).locator(".count")).to_have_text("1×")
        expect(groups.nth(1).get_by_text(LICENCE_DE)).to_be_visible()
        expect(fee.get_by_label("Eintrag")).to_have_value("naturalisation-fee")  # the suggested entry

        fee.get_by_role("button", name="Als Beispielfragen hinzufügen").click()
        page.wait_for_url("**/console/content/drafts/*")
        # The draft of the entry adds one example question in Arabic and one in Ukrainian.
        expect(page.get_by_text("Beispielfragen (ar): +1 / −0; Beispielfragen (uk): +1 / −0")).to_be_visible()

        page.get_by_role("link", name="Offene Fragen").click()
        expect(page.locator("li.group")).to_have_count(1)
        expect(page.get_by_text(FEE_AR)).to_have_count(0)
        expect(page.locator("li.group").first.get_by_text(LICENCE_DE)).to_be_visible()
    finally:
        context.close()
