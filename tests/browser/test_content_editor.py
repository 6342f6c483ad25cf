"""Content editing in headless Chromium: one editor changes an answer, a second approves, Lotse answers anew.

Editor A edits the German and the Arabic answer side by side and saves a draft; she cannot approve
it herself. Editor B approves it in another browser. Then ``lotse ask`` in a fresh process, pointed
at this test's knowledge, content and cache dirs, prints the new texts.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from server.core.config import Settings
from server.core.db import get_sessionmaker, upgrade_database
from server.main import create_app
from server.services.users import add_user
from tests.browser.conftest import serving
from tests.conftest import ScriptedDialogue
from tests.content_kb import FEE_DE, content_dirs  # noqa: F401 (fixture)

PASSWORD = "content editor password"
NEW_DE = "Die Einbürgerung kostet ab 2027 300 Euro für jede erwachsene Person. Nächster Schritt: Fragen Sie Ihre " \
         "Einbürgerungsbehörde nach dem Bezahlen."
NEW_AR = "يكلف التجنس من عام 2027 مبلغ 300 يورو لكل شخص بالغ. الخطوة التالية: اسأل مكتب التجنيس عن طريقة الدفع."


@pytest.fixture
def hub(tmp_path: Path, content_dirs: dict[str, Path]) -> Iterator[str]:  # noqa: F811
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'lotse.db'}", rasa_url="http://127.0.0.1:9",
                        action_server_url="http://127.0.0.1:9", rasa_timeout_seconds=2)
    upgrade_database(settings.database_url)
    with get_sessionmaker(settings.database_url)() as session:
        add_user(session, "anna", PASSWORD, "editor", display_name="Anna Redaktion")
        add_user(session, "bernd", PASSWORD, "editor", display_name="Bernd Prüfer")
    app = create_app(settings)
    app.state.conversations.dialogue = ScriptedDialogue()
    with serving(app) as url:
        yield url


def log_in(page: Any, url: str, username: str) -> None:
    page.goto(f"{url}/console/login")
    page.get_by_label("Benutzername").fill(username)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    expect(page).to_have_url(f"{url}/console/content")


def lotse_ask(dirs: dict[str, Path], *questions: dict[str, str]) -> list[dict[str, Any]]:
    env = {**os.environ, "LOTSE_VAR_DIR": str(dirs["var"]), "LOTSE_CONTENT_DIR": str(dirs["content"]),
           "LOTSE_KNOWLEDGE_DIR": str(dirs["knowledge"]), "LOTSE_CACHE_DIR": str(dirs["cache"])}
    lines = "".join(json.dumps({"id": i, **q}) + "\n" for i, q in enumerate(questions))
    done = subprocess.run([str(Path(sys.executable).parent / "lotse"), "ask", "--jsonl"], input=lines, env=env,
                          capture_output=True, text=True, timeout=300, check=True)
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_edit_approve_by_a_second_editor_then_lotse_ask_answers_anew(
        hub: str, new_page: Any, content_dirs: dict[str, Path]) -> None:  # noqa: F811
    author = new_page(viewport={"width": 1280, "height": 900})
    log_in(author, hub, "anna")
    author.get_by_role("link", name="Kosten der Einbürgerung").click()
    author.get_by_label("Sprache neben dem deutschen Original").select_option("ar")
    author.get_by_role("button", name="Anzeigen").click()
    german, arabic = author.locator("#lang-de"), author.locator("#lang-ar")
    expect(arabic).to_have_attribute("dir", "rtl")
    expect(german.get_by_label("Antwort")).to_have_value(re.compile(FEE_DE))
    german.get_by_label("Antwort").fill(NEW_DE)
    arabic.get_by_label("Antwort").fill(NEW_AR)
    arabic.get_by_label("Status").select_option("reviewed")
    author.get_by_label("Kommentar zur Änderung").fill("Neue Gebühr ab 2027")
    author.get_by_role("button", name="Als Entwurf speichern").click()
    expect(author.locator("#revision-state")).to_have_text("Entwurf")
    expect(author.locator("#changes")).to_contain_text("Antwort (ar) geändert")
    expect(author.get_by_role("button", name="Freigeben und veröffentlichen")).to_have_count(0)
    draft_url = author.url

    reviewer = new_page(viewport={"width": 1280, "height": 900})
    log_in(reviewer, hub, "bernd")
    reviewer.get_by_role("link", name="naturalisation-fee").first.click()
    expect(reviewer).to_have_url(draft_url)
    expect(reviewer.locator(".compare .new").first).to_contain_text("300 Euro")
    reviewer.get_by_label("Kommentar (optional)").fill("Geprüft mit dem Gebührenbescheid")
    reviewer.get_by_role("button", name="Freigeben und veröffentlichen").click()
    expect(reviewer.get_by_role("status")).to_contain_text("Veröffentlicht")
    expect(reviewer.locator("tr.revision--approved")).to_contain_text("Bernd Prüfer")

    answers = lotse_ask(content_dirs, {"text": "Was kostet die Einbürgerung für Erwachsene?"},
                        {"text": "كم تكلفة التجنس؟", "language": "ar"})
    assert [a["entry_id"] for a in answers] == ["naturalisation-fee", "naturalisation-fee"], answers
    assert answers[0]["answer"] == NEW_DE and answers[1]["answer"] == NEW_AR
