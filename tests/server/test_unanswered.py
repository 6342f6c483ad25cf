"""Unanswered questions: recorded from the real conversation path, grouped across languages, resolved.

The grouping is checked on a set of real paraphrases (the same question in several languages,
and different questions with the same sentence pattern), which is also the set the threshold
was tuned on (see server/services/unanswered.py); then end to end: questions sent through the
chat API with a scripted dialogue that asks back ("clarify") like Rasa does, the editor's page,
and its three actions. Content drafts use the small checked knowledge base of tests/content_kb.py.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.core.config import Settings
from server.core.db import get_sessionmaker
from server.models import ContentRevision, UnansweredQuestion, User
from server.services import content, unanswered
from server.services.erasure import erase_session
from server.services.privacy import export
from server.services.users import add_user
from tests.conftest import ScriptedDialogue
from tests.content_kb import content_dirs  # noqa: F401 (fixture)
from tests.server.conftest import PASSWORD

# (meaning, language, wording): 8 questions Lotse does not cover, 4 languages each. Pairs that
# share a sentence pattern but not a meaning ("Wie finde ich eine Wohnung / einen Hausarzt?",
# Kindergeld / Kitaplatz) are the hard part: raw E5 cosines put them closer than translations.
PARAPHRASES = [
    ("wife", "ar", "هل يمكنني إحضار زوجتي إلى ألمانيا؟"),
    ("wife", "uk", "Чи можу я привезти свою дружину до Німеччини?"),
    ("wife", "de", "Kann ich meine Frau nach Deutschland holen?"),
    ("wife", "tr", "Eşimi Almanya'ya getirebilir miyim?"),
    ("license", "de", "Wo kann ich meinen Führerschein umschreiben lassen?"),
    ("license", "ar", "أين يمكنني تحويل رخصة القيادة الخاصة بي؟"),
    ("license", "uk", "Де можна обміняти моє водійське посвідчення?"),
    ("license", "en", "Where can I exchange my driving licence?"),
    ("kindergeld", "de", "Bekomme ich Kindergeld für meine Kinder?"),
    ("kindergeld", "uk", "Чи отримаю я дитячі гроші на своїх дітей?"),
    ("kindergeld", "ar", "هل أحصل على إعانة الأطفال لأولادي؟"),
    ("kindergeld", "ru", "Получу ли я детские деньги на своих детей?"),
    ("flat", "de", "Wie finde ich eine Wohnung?"),
    ("flat", "ar", "كيف أجد شقة؟"),
    ("flat", "uk", "Як знайти квартиру?"),
    ("flat", "fa", "چطور می‌توانم آپارتمان پیدا کنم؟"),
    ("doctor", "de", "Wie finde ich einen Hausarzt?"),
    ("doctor", "ar", "كيف أجد طبيب عائلة؟"),
    ("doctor", "uk", "Як знайти сімейного лікаря?"),
    ("doctor", "en", "How do I find a family doctor?"),
    ("bank", "de", "Wie eröffne ich ein Bankkonto?"),
    ("bank", "uk", "Як відкрити банківський рахунок?"),
    ("bank", "ar", "كيف أفتح حسابا بنكيا؟"),
    ("bank", "tr", "Nasıl banka hesabı açarım?"),
    ("daycare", "de", "Wie bekomme ich einen Kitaplatz für mein Kind?"),
    ("daycare", "uk", "Як отримати місце в дитячому садку для моєї дитини?"),
    ("daycare", "ar", "كيف أحصل على مكان في الحضانة لطفلي؟"),
    ("daycare", "ru", "Как получить место в детском саду для ребёнка?"),
    ("diploma", "de", "Wird mein Universitätsabschluss in Deutschland anerkannt?"),
    ("diploma", "uk", "Чи визнають мій університетський диплом у Німеччині?"),
    ("diploma", "ar", "هل يتم الاعتراف بشهادتي الجامعية في ألمانيا؟"),
    ("diploma", "en", "Is my university degree recognised in Germany?"),
]

# The same question in Arabic and Ukrainian (do my children pay the naturalisation fee too?),
# and an unrelated German one.
FEE_AR = "هل يجب أن أدفع رسوم التجنس لأطفالي أيضا؟"
FEE_UK = "Чи потрібно платити збір за натуралізацію також за моїх дітей?"
LICENCE_DE = "Wo kann ich meinen Führerschein umschreiben lassen?"
OFF_TOPIC = "Wer gewinnt heute das Fußballspiel?"


@pytest.fixture(scope="module")
def paraphrase_vectors() -> np.ndarray:
    return np.asarray(unanswered._encoder().encode_queries([text for _, _, text in PARAPHRASES]))


def meanings(groups: list[list[int]]) -> list[set[str]]:
    return [{PARAPHRASES[i][0] for i in group} for group in groups]


def test_paraphrases_group_by_meaning_across_languages(paraphrase_vectors: np.ndarray) -> None:
    found = unanswered.cluster(unanswered.project(paraphrase_vectors))
    assert all(len(m) == 1 for m in meanings(found)), "no group mixes two questions"
    assert len(found) == 8, "each question's wordings in all its languages are one group"
    # Not balanced on a knife's edge: a little higher or lower groups the same way.
    for threshold in (unanswered.GROUP_THRESHOLD - 0.05, unanswered.GROUP_THRESHOLD + 0.05):
        assert len(unanswered.cluster(unanswered.project(paraphrase_vectors), threshold)) == 8


def test_any_few_of_those_questions_group_alike_in_any_order(paraphrase_vectors: np.ndarray) -> None:
    """As on a real page, where only some questions are open: no order or company changes a group."""
    projected = unanswered.project(paraphrase_vectors)
    rng = np.random.default_rng(3)
    names = sorted({meaning for meaning, _, _ in PARAPHRASES})
    for size in (2, 3):
        for chosen in itertools.combinations(names, size):
            rows = rng.permutation([i for i, (m, _, _) in enumerate(PARAPHRASES) if m in chosen])
            found = [{PARAPHRASES[rows[i]][0] for i in group} for group in unanswered.cluster(projected[rows])]
            assert sorted(next(iter(m)) for m in found) == sorted(chosen), chosen


def test_without_the_projection_sentence_patterns_would_win(paraphrase_vectors: np.ndarray) -> None:
    """Why the projection exists: raw cosines put same-pattern questions above translations."""
    raw = paraphrase_vectors @ paraphrase_vectors.T
    flat = {t: i for i, (_, _, t) in enumerate(PARAPHRASES)}
    assert raw[flat["Як знайти квартиру?"], flat["Як знайти сімейного лікаря?"]] > \
        raw[flat["كيف أجد شقة؟"], flat["Як знайти квартиру?"]]
    projected = unanswered.project(paraphrase_vectors)
    similar = projected @ projected.T
    assert similar[flat["Як знайти квартиру?"], flat["Як знайти сімейного лікаря?"]] < \
        similar[flat["كيف أجد شقة؟"], flat["Як знайти квартиру?"]]


def test_grouping_stays_fast_for_thousands_of_questions(paraphrase_vectors: np.ndarray) -> None:
    """3000 stored vectors (variations of the set, as if asked many times): grouped in seconds."""
    rng = np.random.default_rng(7)
    rows = paraphrase_vectors[rng.integers(0, len(paraphrase_vectors), 3000)]
    rows = rows + rng.normal(scale=0.01, size=rows.shape)
    rows = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    started = time.perf_counter()
    found = unanswered.cluster(unanswered.project(rows))
    took = time.perf_counter() - started
    assert took < 10, f"grouping 3000 questions took {took:.1f} s"
    assert 8 <= len(found) <= 16


class ClarifyingDialogue(ScriptedDialogue):
    """Rasa as the answer action behaves: no confident answer -> clarify and the offer of a person."""

    UNCLEAR = (FEE_AR, FEE_UK, LICENCE_DE)

    def send(self, sender: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        if text in self.UNCLEAR or text.startswith("/ask_question"):
            self.received.append((sender, text, metadata))
            return [{"custom": {"say": "clarify", "buttons": "topics"}},
                    {"custom": {"say": "handoff_offer", "buttons": "yes_no"}}]
        if text == OFF_TOPIC:
            self.received.append((sender, text, metadata))
            return [{"custom": {"say": "out_of_scope", "buttons": "topics"}}]
        return super().send(sender, text, metadata)


@pytest.fixture
def editor_client(settings: Settings, staff: None, content_dirs: dict[str, Any]) -> Iterator[TestClient]:  # noqa: F811
    from knowledge.answer import get_answerer
    from server.main import create_app

    get_answerer()  # loaded, as in a hub that has shown the page before (see default_suggester)
    with get_sessionmaker(settings.database_url)() as db:
        add_user(db, "coco", PASSWORD, "coordinator")
    app = create_app(settings)
    app.state.conversations.dialogue = ClarifyingDialogue()
    with TestClient(app) as client:
        yield client


def ask(client: TestClient, language: str, *texts: str) -> str:
    session = client.post("/api/v1/sessions", json={"channel": "web", "language": language}).json()["session_id"]
    for text in texts:
        assert client.post(f"/api/v1/sessions/{session}/messages", json={"text": text}).status_code == 200
    return str(session)


def db_of(settings: Settings) -> Session:
    return get_sessionmaker(settings.database_url)()


def login(client: TestClient, username: str) -> None:
    response = client.post("/console/login", data={"username": username, "password": PASSWORD},
                           follow_redirects=False)
    assert response.status_code == 303


def form(html: str, action: str, group: int = 0) -> dict[str, Any]:
    """The fields of one group's form (``action``), as the browser sends them."""
    forms = re.findall(rf'<form method="post" action="/console/unanswered/{action}".*?</form>', html, re.S)
    body = forms[group]
    fields: dict[str, Any] = {"question": re.findall(r'name="question" value="(\d+)"', body),
                              "csrf": re.search(r'name="csrf" value="([^"]+)"', body).group(1)}  # type: ignore[union-attr]
    selected = re.search(r'<option value="([^"]*)" selected', body)
    if selected:
        fields["entry_id"] = selected.group(1)
    return fields


@pytest.mark.db
def test_an_arabic_and_a_ukrainian_question_land_in_one_group(editor_client: TestClient, settings: Settings) -> None:
    ask(editor_client, "ar", FEE_AR, "/ask_question{\"topic\": \"residence\"}")  # a button press is no question
    ask(editor_client, "uk", "Привіт", FEE_UK)  # a greeting is answered: not recorded
    ask(editor_client, "de", LICENCE_DE, OFF_TOPIC)  # off topic: no content gap, not recorded
    with db_of(settings) as db:
        stored = db.scalars(select(UnansweredQuestion).order_by(UnansweredQuestion.id)).all()
        assert [(q.language, q.text) for q in stored] == [("ar", FEE_AR), ("uk", FEE_UK), ("de", LICENCE_DE)]
        assert all(q.channel == "web" and q.embedding is None for q in stored)
        found = unanswered.groups(db)
        assert [g.count for g in found] == [2, 1]
        assert {code for code, _ in found[0].languages} == {"ar", "uk"}
        assert {w.text for w in found[0].examples} == {FEE_AR, FEE_UK}
        assert [w.text for w in found[1].examples] == [LICENCE_DE]
        assert all(q.embedding is not None for q in db.scalars(select(UnansweredQuestion)))  # stored, once


@pytest.mark.db
def test_the_editor_adds_a_groups_wordings_to_an_entry_and_the_group_is_gone(
        editor_client: TestClient, settings: Settings) -> None:
    ask(editor_client, "ar", FEE_AR)
    ask(editor_client, "uk", FEE_UK)
    ask(editor_client, "de", LICENCE_DE)
    login(editor_client, "eddi")
    page = editor_client.get("/console/unanswered")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    html = page.text
    assert html.index(FEE_AR) < html.index(LICENCE_DE), "the bigger group first"
    assert "2×" in html and "1×" in html
    fields = form(html, "add")
    assert fields["entry_id"] == "naturalisation-fee", "the nearest entry is suggested"
    assert editor_client.post("/console/unanswered/add", data={**fields, "csrf": "forged"}).status_code == 403
    done = editor_client.post("/console/unanswered/add", data=fields, follow_redirects=False)
    assert done.status_code == 303
    draft_id = int(done.headers["location"].rsplit("/", 1)[1])
    assert done.headers["location"] == f"/console/content/drafts/{draft_id}"
    with db_of(settings) as db:
        draft = db.get(ContentRevision, draft_id)
        assert draft is not None and draft.entry_id == "naturalisation-fee" and draft.status == "draft"
        assert draft.data["questions"]["ar"][-1] == FEE_AR
        assert draft.data["questions"]["uk"][-1] == FEE_UK
        assert "Was kostet die Einbürgerung?" in draft.data["questions"]["de"], "existing questions stay"
        resolved = db.scalars(select(UnansweredQuestion).where(UnansweredQuestion.resolved_at.is_not(None))).all()
        assert {(q.resolution, q.entry_id, q.draft_id) for q in resolved} == {
            ("added_wordings", "naturalisation-fee", draft_id)}
        assert len(resolved) == 2
    after = editor_client.get("/console/unanswered").text
    assert FEE_AR not in after and FEE_UK not in after
    assert LICENCE_DE in after
    # The same group posted twice (a second tab): nothing left to do, nothing done twice.
    assert editor_client.post("/console/unanswered/dismiss", data=fields).status_code == 409


@pytest.mark.db
def test_a_group_becomes_a_new_entry_draft_or_is_dismissed(editor_client: TestClient, settings: Settings) -> None:
    ask(editor_client, "ar", FEE_AR)
    ask(editor_client, "uk", FEE_UK)
    ask(editor_client, "de", LICENCE_DE)
    login(editor_client, "eddi")
    html = editor_client.get("/console/unanswered").text
    created = editor_client.post("/console/unanswered/new-entry", data=form(html, "new-entry", 1),
                                 follow_redirects=False)
    assert created.status_code == 303, created.text
    draft_id = int(created.headers["location"].rsplit("/", 1)[1])
    with db_of(settings) as db:
        draft = db.get(ContentRevision, draft_id)
        assert draft is not None and draft.kind == "new"
        assert draft.data["questions"] == {"de": [LICENCE_DE], "en": [unanswered.PLACEHOLDER_QUESTION]}
        assert draft.data["answers"]["de"]["text"].startswith("Noch zu schreiben")
        # a second editor cannot publish it while answers are still placeholders
        with pytest.raises(content.ContentError, match="Platzhalter"):
            content.approve(db, db.scalars(select(User).where(User.username == "root")).one(), draft_id)
    html = editor_client.get("/console/unanswered").text
    assert LICENCE_DE not in html
    dismissed = editor_client.post("/console/unanswered/dismiss", data=form(html, "dismiss"))
    assert dismissed.status_code == 200 and "Gruppe verworfen." in dismissed.text
    assert "Keine offenen Fragen" in dismissed.text
    with db_of(settings) as db:
        assert db.scalar(select(func.count()).select_from(UnansweredQuestion)
                         .where(UnansweredQuestion.resolution == "dismissed")) == 2


@pytest.mark.db
def test_only_editors_and_admins_see_the_unanswered_questions(editor_client: TestClient) -> None:
    ask(editor_client, "ar", FEE_AR)
    for username, home in (("anna", "/console"), ("coco", "/console/reports")):
        login(editor_client, username)
        refused = editor_client.get("/console/unanswered", follow_redirects=False)
        assert refused.status_code == 303 and refused.headers["location"] == home
        assert editor_client.post("/console/unanswered/dismiss", data={"question": ["1"]}).status_code == 403
    editor_client.cookies.clear()
    assert editor_client.get("/console/unanswered", follow_redirects=False).headers["location"] == "/console/login"
    login(editor_client, "root")
    assert FEE_AR in editor_client.get("/console/unanswered").text


@pytest.mark.db
def test_erasure_removes_a_conversations_questions_and_the_export_contains_them(
        editor_client: TestClient, settings: Settings) -> None:
    erased = ask(editor_client, "ar", FEE_AR)
    kept = ask(editor_client, "uk", FEE_UK)
    with db_of(settings) as db:
        copy = export(db, erased)
        assert copy is not None
        assert [(q["text"], q["language"]) for q in copy["unanswered_questions"]] == [(FEE_AR, "ar")]
        erase_session(db, erased, tracker_url="sqlite:////nonexistent/rasa-tracker.db")  # no Rasa here
        db.expire_all()
        left = db.scalars(select(UnansweredQuestion)).all()
        assert [(q.session_id, q.text) for q in left] == [(kept, FEE_UK)]


@pytest.mark.db
def test_adding_without_choosing_an_entry_says_so_and_keeps_the_group(editor_client: TestClient) -> None:
    ask(editor_client, "ar", FEE_AR)
    login(editor_client, "eddi")
    fields = form(editor_client.get("/console/unanswered").text, "add")
    refused = editor_client.post("/console/unanswered/add", data={**fields, "entry_id": ""})
    assert refused.status_code == 422 and "Bitte einen Eintrag wählen." in refused.text
    assert FEE_AR in editor_client.get("/console/unanswered").text


@pytest.mark.db
def test_two_groups_added_to_one_entry_end_up_in_one_draft(editor_client: TestClient, settings: Settings) -> None:
    """The content service keeps one draft per editor and entry: the second group builds on the first."""
    ask(editor_client, "ar", FEE_AR)
    ask(editor_client, "de", LICENCE_DE)
    login(editor_client, "eddi")
    first = {**form(editor_client.get("/console/unanswered").text, "add"), "entry_id": "naturalisation-fee"}
    assert editor_client.post("/console/unanswered/add", data=first, follow_redirects=False).status_code == 303
    second = {**form(editor_client.get("/console/unanswered").text, "add"), "entry_id": "naturalisation-fee"}
    done = editor_client.post("/console/unanswered/add", data=second, follow_redirects=False)
    assert done.status_code == 303
    with db_of(settings) as db:
        drafts = db.scalars(select(ContentRevision).where(ContentRevision.status == "draft")).all()
        assert len(drafts) == 1
        assert drafts[0].data["questions"]["ar"][-1] == FEE_AR
        assert drafts[0].data["questions"]["de"][-1] == LICENCE_DE


def test_wordings_are_added_once_per_language() -> None:
    data = {"id": "x", "questions": {"de": ["Was kostet die Einbürgerung?"], "en": ["How much?"]}}
    added = unanswered.with_wordings(data, {"de": ["was kostet die einbürgerung", "Einbürgerung für Kinder?"],
                                            "ar": ["كم تكلفة التجنس؟"]})
    assert added["questions"] == {"de": ["Was kostet die Einbürgerung?", "Einbürgerung für Kinder?"],
                                  "en": ["How much?"], "ar": ["كم تكلفة التجنس؟"]}
    assert data["questions"]["de"] == ["Was kostet die Einbürgerung?"], "the loaded entry is not changed"


def test_a_districts_editor_sees_only_that_districts_questions(editor_client: TestClient, settings: Settings) -> None:
    for region, language, text in (("kreis-test", "ar", FEE_AR), ("kreis-other", "uk", FEE_UK)):
        created = editor_client.post("/api/v1/sessions", json={"channel": "web", "language": language,
                                                                "region": region})
        assert created.status_code == 201, created.text
        session = created.json()["session_id"]
        assert editor_client.post(f"/api/v1/sessions/{session}/messages", json={"text": text}).status_code == 200
    with db_of(settings) as db:
        add_user(db, "tina", PASSWORD, "editor")
        db.scalars(select(User).where(User.username == "tina")).one().district = "kreis-test"
        db.commit()
    login(editor_client, "tina")
    html = editor_client.get("/console/unanswered").text
    assert FEE_AR in html and FEE_UK not in html
    login(editor_client, "eddi")  # no district: the whole state
    html = editor_client.get("/console/unanswered").text
    assert FEE_AR in html and FEE_UK in html
