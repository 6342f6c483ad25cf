"""Answers from imported Integreat pages (``knowledge.pages``) for a region without curated local entries.

The pages come from the OMoS-QA export of Landkreis Augsburg (CC BY 4.0, beside the repository
in ``../shared``, never copied into it). Embedding the whole district takes minutes, so the
fixture imports 10 of its German pages (the ones the questions are about, plus the shortest
others) and their English translations: the test runs in seconds and still has to pick the
right page among them.
Questions are taken from the OMoS-QA dev split, with their answer sentences asserted.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from knowledge.answer import Answer, Answerer
from knowledge.bench_omos import omos_dir
from knowledge.calibration import Calibrator
from knowledge.encoders import Encoder
from knowledge.model import load_knowledge
from knowledge.pages import MAX_SENTENCES, PageAnswerer
from lotse.cli import main
from lotse.i18n import native_name, t

EXPORTS = omos_dir() / "integreat-pages" / "lkaugsburg"
pytestmark = pytest.mark.skipif(not (EXPORTS / "de.json").is_file(),
                                reason=f"OMoS-QA Integreat exports not found under {EXPORTS} (set LOTSE_SHARED_DIR)")

ENERGY_DE = 5347169  # "Leistungen des Jobcenters"
EQUALITY_DE, EQUALITY_EN = 5409625, 5409626  # "Gleichstellung von Frau und Mann"
RESIDENCE_DE = 5408344  # "Registrieren und Anmelden" (Ukraine)
WANTED = (ENERGY_DE, EQUALITY_DE, RESIDENCE_DE)
PAGES = 10  # German pages imported (plus their English translations)


def subset(records: list[dict[str, Any]], ids: set[int]) -> list[dict[str, Any]]:
    return [r for r in records if int(r["id"]) in ids]


def write_exports(target: Path, change: dict[int, str] | None = None) -> tuple[Path, Path]:
    """German and English exports of ``PAGES`` pages; ``change`` replaces the HTML of some pages."""
    de = json.loads((EXPORTS / "de.json").read_text(encoding="utf-8"))
    en = json.loads((EXPORTS / "en.json").read_text(encoding="utf-8"))
    by_length = sorted(de, key=lambda r: (len(r["content"] or ""), int(r["id"])))
    others = [int(r["id"]) for r in by_length if int(r["id"]) not in WANTED and len(r["content"] or "") > 200]
    de_ids = set(WANTED) | set(others[:PAGES - len(WANTED)])
    de_pages = subset(de, de_ids)
    en_ids = {int(r["available_languages"]["en"]["id"]) for r in de_pages if "en" in (r["available_languages"] or {})}
    en_pages = subset(en, en_ids)
    for record in de_pages + en_pages:
        if change and int(record["id"]) in change:
            record["content"] = change[int(record["id"])]
    target.mkdir(parents=True, exist_ok=True)
    files = target / "de.json", target / "en.json"
    for file, pages in zip(files, (de_pages, en_pages), strict=True):
        file.write_text(json.dumps(pages, ensure_ascii=False), encoding="utf-8")
    return files


def import_pages(exports: tuple[Path, Path], index: bool = True) -> None:
    for file in exports:
        assert main(["kb", "import-integreat", str(file), "--region", "lkaugsburg",
                     *([] if index else ["--no-index"])]) == 0


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> Iterator[Path]:
    """The imported pages dir (``LOTSE_INTEGREAT_DIR``), set for the whole module; the import embeds them."""
    base = tmp_path_factory.mktemp("integreat")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LOTSE_INTEGREAT_DIR", str(base))
        patch.setenv("LOTSE_CACHE_DIR", str(cache_dir))
        import_pages(write_exports(tmp_path_factory.mktemp("export")))
        yield base


@pytest.fixture(scope="module")
def augsburg(imported: Path, kb_root: Path, encoder: Encoder, cache_dir: Path) -> Iterator[Answerer]:
    """The small curated fixture knowledge base (NRW entries only) plus the imported Augsburg pages."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LOTSE_CACHE_DIR", str(cache_dir))
        answerer = Answerer(load_knowledge(kb_root), encoder, pages=PageAnswerer(encoder, base=imported))
        answerer.pages.region_pages("lkaugsburg")  # build the page index into the test cache
        yield answerer


class Unsure(Calibrator):
    """Curated entries that are on topic but never sure: only the pages can answer, or a person."""

    def predict(self, base: np.ndarray, query_vector: np.ndarray) -> tuple[float, float]:
        return 0.2, 0.1


@pytest.fixture(scope="module")
def unsure(augsburg: Answerer) -> Answerer:
    return Answerer(index=augsburg.index, calibrator=Unsure([], [], [], [], [], []), places=augsburg.places,
                    pages=augsburg.pages)


def ask(answerer: Answerer, text: str, language: str | None = None) -> Answer:
    return answerer.answer(text, language=language, region="lkaugsburg")


def assert_page_answer(answer: Answer, page_id: int, language: str) -> None:
    assert not answer.out_of_scope and not answer.handoff_offered and answer.answer
    assert answer.entry_id is None  # not a curated entry
    assert answer.language == language
    [source] = answer.sources
    assert source["id"] == str(page_id)
    assert source["url"] and source["url"].startswith(f"https://admin.integreat-app.de/lkaugsburg/{language}/")


def test_german_question_gets_the_answering_sentences_of_the_right_page(augsburg: Answerer) -> None:
    answer = ask(augsburg, "Wer berät Leistungsempfänger kostenlos zu ihrem Energieverbrauch?")
    assert_page_answer(answer, ENERGY_DE, "de")
    assert answer.answer is not None and "Stromsparcheck" in answer.answer
    page = next(p for p in augsburg.pages.region_pages("lkaugsburg").pages if p.id == ENERGY_DE)  # type: ignore[union-attr]
    shown = [s for s in page.sentences if len(s) >= 15 and s in answer.answer]  # "Strom" is in many
    assert 1 <= len(shown) <= MAX_SENTENCES < len(page.sentences)  # a few sentences, not the page
    assert "Internet" not in answer.answer  # the page's unrelated part stays out


def test_english_question_is_answered_from_the_english_page(augsburg: Answerer) -> None:
    answer = ask(augsburg, "What does gender equality mean in Germany?")
    assert_page_answer(answer, EQUALITY_EN, "en")
    assert answer.answer is not None and "same rights" in answer.answer
    assert "Remuneration Transparency Act" not in answer.answer


def test_other_languages_get_a_page_language_with_the_notice(augsburg: Answerer) -> None:
    answer = ask(augsburg, "ما معنى المساواة بين الرجل والمرأة في ألمانيا؟", language="ar")
    assert answer.language in ("en", "de") and answer.answer is not None
    assert answer.answer.startswith(t("answer_in_other_language", "ar", language=native_name(answer.language)))
    assert answer.sources[0]["id"] in (str(EQUALITY_EN), str(EQUALITY_DE))


@pytest.mark.parametrize("text", ["Wer hat die Fußball-Weltmeisterschaft 2014 gewonnen?",
                                  "Write me a short poem about autumn leaves"])
def test_off_topic_stays_out_of_scope(augsburg: Answerer, unsure: Answerer, text: str) -> None:
    answer = ask(augsburg, text)
    assert answer.out_of_scope and answer.answer is None and not answer.sources
    # The pages refuse it on their own, too: taken as on topic, it goes to a person, not to a page.
    answer = ask(unsure, text)
    assert answer.answer is None and answer.handoff_offered and not answer.sources


def test_no_page_answers_means_a_person_is_offered(unsure: Answerer) -> None:
    # On topic (naturalisation), no curated entry is sure, and none of the imported pages is about it.
    for text in ("Darf ich nach der Einbürgerung meinen alten Pass behalten?",
                 "How long does it take until a court decides on my asylum appeal?"):
        answer = ask(unsure, text)
        assert answer.answer is None and answer.handoff_offered and not answer.out_of_scope, text
    # The same answerer does answer what a page covers.
    assert_page_answer(ask(unsure, "What does gender equality mean in Germany?"), EQUALITY_EN, "en")


def test_cli_asks_the_imported_region(augsburg: Answerer, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    import knowledge.answer

    monkeypatch.setattr(knowledge.answer, "get_answerer", lambda: augsburg)
    question = "Was bedeutet Geschlechtergleichstellung in Deutschland?"
    assert main(["ask", "--region", "lkaugsburg", "--json", question]) == 0
    reply = json.loads(capsys.readouterr().out)
    assert reply["sources"][0]["id"] == str(EQUALITY_DE) and "die gleichen Rechte" in reply["answer"]
    assert reply["language"] == "de" and not reply["handoff_offered"] and not reply["out_of_scope"]
    assert main(["ask", "--region", "lkaugsburgg", "Wer hilft?"]) == 2
    assert "lkaugsburg" in capsys.readouterr().err  # the known regions include imported ones
    assert augsburg.is_known_region("lkaugsburg") and not augsburg.is_known_region("../lkaugsburg")


def test_reimport_updates_the_answers_in_place(augsburg: Answerer, imported: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch, cache_dir: Path) -> None:
    monkeypatch.setenv("LOTSE_INTEGREAT_DIR", str(imported))
    monkeypatch.setenv("LOTSE_CACHE_DIR", str(cache_dir))
    question = "Wer berät Leistungsempfänger kostenlos zu ihrem Energieverbrauch?"
    new = ("<p>Strom</p><p>Tipp: Die Energieberatung der Verbraucherzentrale Bayern berät Leistungsempfänger "
           "kostenlos zu ihrem Energieverbrauch.</p><p>Termine gibt es im Landratsamt Augsburg.</p>")
    try:
        import_pages(write_exports(tmp_path, change={ENERGY_DE: new}), index=False)  # the answerer notices
        answer = ask(augsburg, question)
        assert_page_answer(answer, ENERGY_DE, "de")
        assert answer.answer is not None and "Verbraucherzentrale" in answer.answer
        assert "Stromsparcheck" not in answer.answer
        stored = json.loads((imported / "lkaugsburg" / "de.json").read_text(encoding="utf-8"))
        assert len(stored["pages"]) == PAGES  # replaced, not added
    finally:
        import_pages(write_exports(tmp_path), index=False)  # the other tests see the original pages
    assert "Stromsparcheck" in (ask(augsburg, question).answer or "")


def test_chat_action_answers_from_the_pages_of_the_sessions_region(augsburg: Answerer,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    import actions.answer_question as action_module

    monkeypatch.setattr(action_module, "get_answerer", lambda: augsburg)
    tracker = Tracker(
        sender_id="s", slots={}, latest_message={
            "text": "What does gender equality mean in Germany?", "intent": {"name": "ask_question", "confidence": 0.9},
            "entities": [], "metadata": {"language": "en", "region": "lkaugsburg", "channel": "web"},
        },
        events=[], paused=False, followup_action=None, active_loop={}, latest_action_name=None,
    )
    dispatcher = CollectingDispatcher()
    action_module.ActionAnswerQuestion().run(dispatcher, tracker, {})
    [message] = [m.get("custom") or m for m in dispatcher.messages]
    assert "same rights" in message["text"] and message["language"] == "en"
    assert message["sources"][0]["url"].startswith("https://admin.integreat-app.de/lkaugsburg/en/")


def test_a_page_the_retrieval_tower_ranked_first_is_judged_by_the_base_models_scores(
        augsburg: Answerer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The calibration learned page score and margin from the base model: a tower's cosines have their own scale."""
    import knowledge.bench_omos
    from knowledge.bench_omos import centre_query

    pages = augsburg.pages
    assert pages is not None
    loaded = pages.region_pages("lkaugsburg")
    assert loaded is not None and loaded.index.titles is not None
    text = "Wer berät Leistungsempfänger kostenlos zu ihrem Energieverbrauch?"
    vector = pages.encoder.encode_queries([text])[0]
    base = loaded.index.group_scores(loaded.index.page_scores(centre_query(vector, pages.query_means, "de"), text))
    liked_least = min(base, key=lambda g: base[g])
    towards = loaded.index.titles[loaded.by_group[liked_least]["de"]]  # a "tower" vector at that page's title
    monkeypatch.setattr(knowledge.bench_omos, "RETRIEVAL_MIX", 0.0)  # rank by the tower alone
    found = pages.candidate(loaded, text, vector, "de", retrieval=towards)
    assert found is not None and found.group == liked_least
    others = max(score for group, score in base.items() if group != liked_least)
    assert found.features[1] == pytest.approx(base[liked_least])
    assert found.features[2] == pytest.approx(base[liked_least] - others) and found.features[2] < 0
    monkeypatch.setattr(knowledge.bench_omos, "RETRIEVAL_MIX", 1.0)  # the base model alone: its favourite
    found = pages.candidate(loaded, text, vector, "de", retrieval=towards)
    assert found is not None and found.group == max(base, key=lambda g: base[g]) and found.features[2] > 0
