"""Sentence splitting of Integreat pages and answers, against hand-split texts in eight languages."""

from __future__ import annotations

import pytest

from knowledge.integreat import split_sentences
from knowledge.nlp import compare_sentence_splitters, load_sentence_cases, spacy_sentences
from knowledge.tokens import Tokenizer

CASES = load_sentence_cases()


@pytest.mark.parametrize(("lang", "sentences"), CASES, ids=[f"{lang}-{i}" for i, (lang, _) in enumerate(CASES)])
def test_abbreviations_ordinals_and_amounts_do_not_end_a_sentence(lang: str, sentences: list[str]) -> None:
    assert split_sentences(" ".join(sentences)) == sentences


def test_the_comparison_counts_what_each_splitter_gets_right() -> None:
    cases = [("de", ["Der Kurs geht bis zur 10. Klasse.", "Danach kommt die Ausbildung."]),
             ("en", ["Call Mr. Smith.", "He helps."])]
    result = compare_sentence_splitters(cases)
    ours = result["lotse rules (knowledge.integreat)"]
    assert ours["correct"] == 2 and ours["wrong"] == []
    naive = result["spaCy blank('xx') + sentencizer"]
    assert naive["correct"] == 0 and len(naive["wrong"]) == 2  # type: ignore[arg-type]


def test_spacy_sentences_for_languages_without_own_rules() -> None:
    assert spacy_sentences("Dit is een zin. Nog een!", "nl") == ["Dit is een zin.", "Nog een!"]
    assert spacy_sentences("Jumlad koowaad. Jumlad labaad.", "so") == ["Jumlad koowaad.", "Jumlad labaad."]  # "xx"


def test_the_spacy_tokenizer_keeps_amounts_whole_and_still_yields_their_parts() -> None:
    tokens = Tokenizer(spacy=True)("Was kostet 2,29 Euro?")
    assert "2,29" in tokens and "2" in tokens and "29" in tokens
    assert Tokenizer(spacy=True).name != Tokenizer().name  # cached calibrations are keyed by it
