"""Content editing with four eyes: drafts, approval by a second editor, publish, history, revert.

Runs on a small knowledge base that passes `lotse kb check` (tests/content_kb.py) with its own
content overlay, so publishing never touches the checkout's knowledge/ or var/.
"""

from __future__ import annotations

import argparse
import copy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from knowledge.check import check_knowledge
from knowledge.cli import kb_export_command
from knowledge.model import Entry, load_knowledge
from server.core.config import Settings
from server.core.db import get_sessionmaker
from server.models import User
from server.services import content
from server.services.content import ContentError
from server.services.users import add_user
from tests.content_kb import FEE_DE, content_dirs  # noqa: F401 (fixture)
from tests.server.conftest import PASSWORD

pytestmark = [pytest.mark.db, pytest.mark.usefixtures("content_dirs")]
NEW_DE = "Die Einbürgerung kostet jetzt 300 Euro für jede erwachsene Person. Nächster Schritt: Fragen Sie Ihre " \
         "Einbürgerungsbehörde."
NEW_AR = "يكلف التجنس الآن 300 يورو لكل شخص بالغ. الخطوة التالية: اسأل مكتب التجنيس."


@pytest.fixture
def db(settings: Settings, staff: None) -> Iterator[Session]:
    with get_sessionmaker(settings.database_url)() as session:
        add_user(session, "erika", PASSWORD, "editor", display_name="Erika")
        yield session


def user(db: Session, username: str) -> User:
    found = db.query(User).filter_by(username=username).one()
    return found


def edited(entry_id: str = "naturalisation-fee", de: str = NEW_DE, ar: str = NEW_AR) -> dict[str, Any]:
    data = copy.deepcopy(content.load_entry_data(entry_id))
    assert data is not None
    data["answers"]["de"]["text"] = de
    data["answers"]["ar"] = {"status": "reviewed", "text": ar}
    return data


def test_a_draft_is_published_only_after_a_second_editor_approves_it(
        db: Session, content_dirs: dict[str, Path]) -> None:  # noqa: F811
    eddi, erika = user(db, "eddi"), user(db, "erika")
    draft = content.create_draft(db, eddi, edited(), entry_id="naturalisation-fee", comment="Gebühr 2027")
    assert draft.status == "draft" and draft.kind == "edit"
    assert content.load_entry_data("naturalisation-fee")["answers"]["de"]["text"].startswith(FEE_DE)  # type: ignore[index]

    with pytest.raises(ContentError, match="Vier-Augen-Prinzip"):
        content.approve(db, eddi, draft.id)
    assert not (content_dirs["content"] / "entries").exists()

    published = content.approve(db, erika, draft.id, "geprüft")
    assert (published.status, published.reviewer_name, published.review_comment) == ("approved", "Erika", "geprüft")
    data = content.load_entry_data("naturalisation-fee")
    assert data is not None and data["answers"]["de"]["text"] == NEW_DE and data["answers"]["ar"]["text"] == NEW_AR
    written = content_dirs["content"] / "entries" / "naturalisation" / "naturalisation-fee.yml"
    assert Entry.model_validate(yaml.safe_load(written.read_text(encoding="utf-8"))).answers["ar"].status == "reviewed"
    # `lotse kb check` sees the published file and it passes; the shipped file is untouched.
    report = check_knowledge()
    assert not report.errors, report.errors
    assert any(f.path == written for f in report.findings) or report.entries == len(load_knowledge().entries)
    shipped = content_dirs["knowledge"] / "entries" / "naturalisation" / "naturalisation-fee.yml"
    assert FEE_DE in shipped.read_text(encoding="utf-8")


def test_the_answerer_picks_up_a_published_edit_without_a_restart(db: Session) -> None:
    from knowledge.answer import get_answerer, refresh_answerer

    question = "Was kostet die Einbürgerung für Erwachsene?"
    before = get_answerer().answer(question)
    assert before.entry_id == "naturalisation-fee" and before.answer is not None and FEE_DE in before.answer
    draft = content.create_draft(db, user(db, "eddi"), edited(), entry_id="naturalisation-fee")
    content.approve(db, user(db, "erika"), draft.id)
    after = refresh_answerer().answer(question)
    assert after.entry_id == "naturalisation-fee" and after.answer == NEW_DE
    assert refresh_answerer().answer(question, language="ar").answer == NEW_AR
    assert get_answerer() is refresh_answerer()  # no change since: no rebuild


def test_an_invalid_draft_is_refused_with_reasons_in_german(db: Session) -> None:
    data = edited(de="  ")
    data["sources"] = [{"id": "x", "title": "Gesetz", "url": "gesetze-im-internet"}]
    with pytest.raises(ContentError) as refused:
        content.create_draft(db, user(db, "eddi"), data, entry_id="naturalisation-fee")
    assert "answers.de.text ist leer" in refused.value.messages
    assert any("mindestens eine Quelle mit einer http(s)-Adresse" in m for m in refused.value.messages)
    data = edited()
    data["last_checked"] = "gestern"
    with pytest.raises(ContentError, match=r"last_checked: ist kein Datum \(JJJJ-MM-TT\)"):
        content.create_draft(db, user(db, "eddi"), data, entry_id="naturalisation-fee")
    with pytest.raises(ContentError, match="Keine Änderung"):
        content.create_draft(db, user(db, "eddi"), content.load_entry_data("naturalisation-fee") or {},
                             entry_id="naturalisation-fee")
    assert content.open_drafts(db) == []


def test_a_draft_overtaken_by_another_publish_cannot_be_approved(db: Session) -> None:
    eddi, erika = user(db, "eddi"), user(db, "erika")
    first = content.create_draft(db, eddi, edited(), entry_id="naturalisation-fee")
    second = content.create_draft(db, erika, edited(de=NEW_DE + " Bitte Termin machen."), entry_id="naturalisation-fee")
    content.approve(db, erika, first.id)
    assert content.is_outdated(second)
    with pytest.raises(ContentError, match="andere Fassung veröffentlicht"):
        content.approve(db, eddi, second.id)


def test_history_and_a_revert_that_also_needs_four_eyes(db: Session) -> None:
    eddi, erika = user(db, "eddi"), user(db, "erika")
    first = content.approve(db, erika, content.create_draft(db, eddi, edited(), entry_id="naturalisation-fee").id)
    second_data = edited(de=NEW_DE + " Stand 2027.")
    second = content.approve(db, eddi, content.create_draft(db, erika, second_data, entry_id="naturalisation-fee").id)
    history = content.history(db, "naturalisation-fee")
    assert [(r.id, r.status) for r in history] == [(second.id, "approved"), (first.id, "superseded")]
    assert content.diff_summary(content.previous_data(db, first), first.data) == [
        "Antwort (ar) geändert", "Antwort (de) geändert"]
    assert content.diff_summary(content.previous_data(db, second), second.data) == ["Antwort (de) geändert"]

    revert = content.revert(db, eddi, "naturalisation-fee", first.id)
    assert (revert.kind, revert.status, revert.restores_id) == ("revert", "draft", first.id)
    live = content.load_entry_data("naturalisation-fee")
    assert live is not None and live["answers"]["de"]["text"] == second_data["answers"]["de"]["text"]
    with pytest.raises(ContentError, match="Vier-Augen-Prinzip"):
        content.approve(db, eddi, revert.id)
    content.approve(db, erika, revert.id)
    assert content.load_entry_data("naturalisation-fee")["answers"]["de"]["text"] == NEW_DE  # type: ignore[index]

    back_to_shipped = content.revert(db, erika, "naturalisation-fee", None)
    content.approve(db, eddi, back_to_shipped.id)
    assert FEE_DE in content.load_entry_data("naturalisation-fee")["answers"]["de"]["text"]  # type: ignore[index]
    pending = content.create_draft(db, eddi, edited(), entry_id="naturalisation-fee")
    with pytest.raises(ContentError, match="früher veröffentlichte"):
        content.revert(db, erika, "naturalisation-fee", pending.id)


def test_a_new_entry_and_kb_export_in_the_shipped_format(db: Session, tmp_path: Path) -> None:
    data = edited()
    data["id"] = "naturalisation-fee-2027"
    draft = content.create_draft(db, user(db, "eddi"), data, entry_id=None)
    assert draft.kind == "new" and content.load_entry_data("naturalisation-fee-2027") is None
    with pytest.raises(ContentError, match="gibt es schon"):
        content.create_draft(db, user(db, "eddi"), edited(), entry_id=None)
    content.approve(db, user(db, "erika"), draft.id)
    assert content.load_entry_data("naturalisation-fee-2027") is not None

    target = tmp_path / "export"
    assert kb_export_command(argparse.Namespace(to=str(target))) == 0
    exported = target / "entries" / "naturalisation" / "naturalisation-fee-2027.yml"
    text = exported.read_text(encoding="utf-8")
    assert text.startswith("id: naturalisation-fee-2027\ntopic: naturalisation\n")
    assert "last_checked: 2026-11-01\n" in text
    assert Entry.model_validate(yaml.safe_load(text)).answers["de"].text.strip() == NEW_DE


# -- the console ----------------------------------------------------------------------------

def login(client: TestClient, username: str) -> None:
    response = client.post("/console/login", data={"username": username, "password": PASSWORD},
                           follow_redirects=False)
    assert response.status_code == 303, response.text


def csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match
    return match.group(1)


def form_of(html: str) -> dict[str, Any]:
    """The fields of the entry page's edit form, as a browser would send them unchanged."""
    fields: dict[str, Any] = {}
    editor = html[html.index('class="editor"'):html.index("</form>", html.index('class="editor"'))]
    for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', editor):
        fields.setdefault(name, []).append(value)
    for name, value in re.findall(r'<textarea name="([^"]+)"[^>]*>([^<]*)</textarea>', editor):
        fields[name] = [value]
    for name, body in re.findall(r'<select name="([^"]+)">(.*?)</select>', editor, re.S):
        fields[name] = re.findall(r'<option value="([^"]+)" selected', body)
    return {k: v if len(v) != 1 else v[0] for k, v in fields.items()}


def test_editors_list_entries_due_for_review_first(client: TestClient, db: Session) -> None:
    login(client, "eddi")
    page = client.get("/console/content")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    order = re.findall(r'href="/console/content/entries/([^"]+)"', page.text)
    assert order[0] == "deportation-letter" and "naturalisation-fee" in order  # review due since 2026-11-28
    assert 'class="urgent"' in page.text and "fällig" in page.text
    only_school = client.get("/console/content", params={"topic": "school"}).text
    assert re.findall(r'href="/console/content/entries/([^"]+)"', only_school) == [
        "school-enrolment", "teststadt-schule"]
    assert "naturalisation-fee" not in client.get("/console/content", params={"missing": "uk"}).text
    assert "naturalisation-fee" in client.get("/console/content", params={"unreviewed": "ar"}).text


def test_edit_in_the_console_then_a_second_editor_approves(client: TestClient, db: Session) -> None:
    login(client, "eddi")
    page = client.get("/console/content/entries/naturalisation-fee", params={"lang": "ar"})
    assert page.status_code == 200
    assert 'dir="rtl"' in page.text and "Deutsch (de) – Original" in page.text
    fields = form_of(page.text)
    assert fields["lang"] == "ar" and FEE_DE in fields["answer_de"]
    fields.update(answer_de=NEW_DE, answer_ar=NEW_AR, status_ar="reviewed", comment="Gebühr")
    saved = client.post("/console/content/entries/naturalisation-fee", data=fields, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"].startswith("/console/content/drafts/")
    draft_url = saved.headers["location"]
    draft = client.get(draft_url)
    assert "Antwort (ar) geändert" in draft.text and "Antwort (de) geändert" in draft.text
    # Back on the entry, in another language: the form carries the open draft forward, and saving
    # again replaces that draft with one holding both changes.
    again = client.get("/console/content/entries/naturalisation-fee", params={"lang": "uk"}).text
    assert "Das Formular zeigt diesen Entwurf" in again and NEW_DE in form_of(again)["answer_de"]
    fields = form_of(again)
    fields["answer_uk"] = "Натуралізація тепер коштує 300 євро. Наступний крок: запитайте в органі з натуралізації."
    saved = client.post("/console/content/entries/naturalisation-fee", data=fields, follow_redirects=False)
    draft_url = saved.headers["location"]
    [open_draft] = content.open_drafts(db)
    db.refresh(open_draft)
    assert {lang for lang in ("de", "ar", "uk") if open_draft.data["answers"][lang]["text"].startswith(
        ("Die Einbürgerung kostet jetzt", "يكلف التجنس الآن", "Натуралізація тепер"))} == {"de", "ar", "uk"}
    draft = client.get(draft_url)
    assert 'id="approve"' not in draft.text  # the author gets no approve button ...
    token = csrf(draft.text)
    refused = client.post(draft_url + "/approve", data={"csrf": token})  # ... and is refused anyway
    assert refused.status_code == 409 and "Vier-Augen-Prinzip" in refused.text

    login(client, "erika")
    listing = client.get("/console/content").text
    assert "wartet auf Ihre Freigabe" in listing
    draft = client.get(draft_url)
    assert 'id="approve"' in draft.text
    assert "<del>255</del><ins>jetzt 300</ins>" in draft.text  # changed words stand out
    assert client.post(draft_url + "/approve", data={"csrf": "wrong"}).status_code == 403
    approved = client.post(draft_url + "/approve", data={"csrf": csrf(draft.text), "comment": "ok"})
    assert approved.status_code == 200 and "Veröffentlicht" in approved.text
    assert content.load_entry_data("naturalisation-fee")["answers"]["ar"]["text"] == NEW_AR  # type: ignore[index]
    assert "veröffentlicht" in approved.text and "Erika" in approved.text  # the history row


def test_an_invalid_edit_shows_the_errors_and_keeps_the_input(client: TestClient, db: Session) -> None:
    login(client, "eddi")
    fields = form_of(client.get("/console/content/entries/naturalisation-fee?lang=ar").text)
    fields.update(answer_ar="", source_url="keine-adresse")
    refused = client.post("/console/content/entries/naturalisation-fee", data=fields)
    assert refused.status_code == 422
    assert "Der Entwurf wurde nicht gespeichert" in refused.text and "answers.ar.text ist leer" in refused.text
    assert "keine-adresse" in refused.text
    assert content.open_drafts(db) == []


def test_revert_in_the_console_creates_a_draft(client: TestClient, db: Session) -> None:
    eddi, erika = user(db, "eddi"), user(db, "erika")
    content.approve(db, erika, content.create_draft(db, eddi, edited(), entry_id="naturalisation-fee").id)
    login(client, "eddi")
    page = client.get("/console/content/entries/naturalisation-fee")
    assert "Ausgelieferte Fassung wiederherstellen" in page.text
    response = client.post("/console/content/entries/naturalisation-fee/revert",
                           data={"csrf": csrf(page.text), "revision": "shipped"}, follow_redirects=False)
    assert response.status_code == 303
    drafts = content.open_drafts(db)
    assert [(d.kind, d.author_name) for d in drafts] == [("revert", "eddi")]


def test_only_editors_and_admins_get_in(client: TestClient, db: Session) -> None:
    assert client.get("/console/content", follow_redirects=False).headers["location"] == "/console/login"
    login(client, "anna")
    assert client.get("/console/content", follow_redirects=False).headers["location"] == "/console"
    assert client.get("/console/content/entries/naturalisation-fee", follow_redirects=False).status_code == 303
    assert client.post("/console/content/entries/naturalisation-fee", data={}).status_code == 403
    login(client, "root")
    assert client.get("/console/content").status_code == 200
    assert client.get("/console/content/entries/no-such-entry").status_code == 404


def test_a_new_entry_from_another_part_of_the_console_is_reviewed_on_its_draft_page(
        client: TestClient, db: Session) -> None:
    data = edited()
    data["id"] = "naturalisation-fee-children"
    draft = content.create_draft(db, user(db, "eddi"), data, entry_id=None, comment="aus offenen Fragen")
    assert content.draft_url(draft.id) == f"/console/content/drafts/{draft.id}"
    login(client, "erika")
    page = client.get(content.draft_url(draft.id))
    assert page.status_code == 200 and "neuer Eintrag" in page.text and 'id="approve"' in page.text
    done = client.post(content.draft_url(draft.id) + "/approve", data={"csrf": csrf(page.text)})
    assert done.status_code == 200 and "Veröffentlicht" in done.text
    changed = client.get("/console/content", params={"state": "console"}).text
    assert re.findall(r'href="/console/content/entries/([^"]+)"', changed) == ["naturalisation-fee-children"]


def test_a_districts_editors_edit_only_that_districts_entries(db: Session) -> None:
    """Multi-tenancy: Kreis Test's editors change Kreis Test's overlay, not the state-wide layer or a neighbour's."""
    for name in ("tina", "theo"):
        add_user(db, name, PASSWORD, "editor")
        user(db, name).district = "kreis-test"
    add_user(db, "olga", PASSWORD, "editor")
    user(db, "olga").district = "kreis-other"
    db.commit()
    tina, theo, olga, erika = user(db, "tina"), user(db, "theo"), user(db, "olga"), user(db, "erika")

    with pytest.raises(ContentError, match="kreis-test"):
        content.create_draft(db, tina, edited(), entry_id="naturalisation-fee")  # state-wide: not hers

    local = copy.deepcopy(content.load_entry_data("teststadt-schule"))
    assert local is not None
    local["answers"]["de"]["text"] += " Neu: Anmeldung auch online."
    draft = content.create_draft(db, tina, local, entry_id="teststadt-schule")
    with pytest.raises(ContentError, match="kreis-other"):
        content.approve(db, olga, draft.id)  # the neighbouring district cannot publish it
    assert content.approve(db, theo, draft.id).status == "approved"
    assert "online" in content.load_entry_data("teststadt-schule")["answers"]["de"]["text"]  # type: ignore[index]

    # an editor without a district (state level) still edits everything
    assert content.create_draft(db, erika, edited(), entry_id="naturalisation-fee").status == "draft"
