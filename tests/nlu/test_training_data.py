"""The NLU data covers every language and intent, without contradictions Rasa would learn."""

from __future__ import annotations

from collections import defaultdict

import pytest
import yaml

from lotse.languages import LANGUAGES
from lotse.paths import DOMAIN_FILE, NLU_DIR

# Reached only through button payloads (the hand-off form's answers), never classified from text.
PAYLOAD_ONLY = {"inform"}
INTENTS = set(yaml.safe_load(DOMAIN_FILE.read_text())["intents"]) - PAYLOAD_ONLY
MINIMUM = {"ask_question": 35, "out_of_scope": 15, "crisis": 10, "request_human": 10, "choose_language": 12}


def examples(path: str) -> dict[str, list[str]]:
    data = yaml.safe_load((NLU_DIR / path).read_text(encoding="utf-8"))
    return {
        item["intent"]: [line.strip()[2:].strip() for line in item["examples"].splitlines() if line.strip()]
        for item in data["nlu"]
    }


@pytest.mark.parametrize("code", sorted(LANGUAGES))
def test_every_language_has_every_intent(code: str) -> None:
    data = examples(f"{code}.yml")
    assert set(data) == INTENTS
    for intent, texts in data.items():
        assert len(texts) >= MINIMUM.get(intent, 6), f"{code}/{intent}: only {len(texts)} examples"
        assert len(set(texts)) == len(texts), f"{code}/{intent} has duplicates"
        assert not any(t.startswith("/") or "[" in t or "{" in t for t in texts), f"{code}/{intent}"


def test_no_example_belongs_to_two_intents() -> None:
    intents_of: dict[str, set[str]] = defaultdict(set)
    for code in LANGUAGES:
        for intent, texts in examples(f"{code}.yml").items():
            for text in texts:
                intents_of[text.lower()].add(intent)
    assert {t: i for t, i in intents_of.items() if len(i) > 1} == {}
