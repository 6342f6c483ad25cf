"""spaCy blank pipelines, built once per process: tokenising and sentence splitting without models.

Blank pipelines are rules only (tokenizer exceptions, punctuation), so nothing is downloaded
and a pipeline is ready in milliseconds. Where spaCy is used and where it was measured and
not adopted (README, "spaCy"): the EntityRuler for towns and offices (``knowledge.places``)
uses it; BM25 tokens and sentence splitting keep Lotse's own rules, which did better on the
measurements there (``python -m knowledge.nlp`` reruns the sentence comparison).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

if TYPE_CHECKING:
    from spacy.language import Language

SENTENCE_CASES = Path(__file__).resolve().parent / "sentence_cases.yml"
# Languages with their own tokenizer exceptions in spaCy; everything else uses "xx".
_SPACY_LANGUAGES = frozenset({"de", "en", "ar", "tr", "uk", "ru", "fa", "pl", "ro", "sq", "hy", "fr", "it", "nl",
                              "pt", "es", "ur", "ti"})
_lock = threading.Lock()


@cache
def _blank(lang: str) -> Language:
    import spacy

    return spacy.blank(lang)


def blank(lang: str = "xx") -> Language:
    """The blank pipeline for ``lang`` (multilingual "xx" for languages spaCy has no rules for)."""
    code = lang if lang in _SPACY_LANGUAGES else "xx"
    with _lock:  # spacy.blank is not documented as thread-safe; building happens once per language
        return _blank(code)


@cache
def _sentencizer(lang: str) -> Language:
    import spacy

    nlp = spacy.blank(lang)
    nlp.add_pipe("sentencizer")
    return nlp


def spacy_sentences(text: str, lang: str = "xx") -> list[str]:
    """Sentences by spaCy's rule-based sentencizer (punctuation plus the language's exceptions)."""
    code = lang if lang in _SPACY_LANGUAGES else "xx"
    with _lock:
        nlp = _sentencizer(code)
    return [s.text.strip() for s in nlp(text).sents if s.text.strip()]


def load_sentence_cases(path: Path = SENTENCE_CASES) -> list[tuple[str, list[str]]]:
    """Hand-split texts: (language, sentences) pairs; the text is the sentences joined by spaces."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [(str(lang), [str(s) for s in sentences]) for lang, cases in data.items() for sentences in cases]


def compare_sentence_splitters(cases: list[tuple[str, list[str]]] | None = None) -> dict[str, dict[str, object]]:
    """Exact-match rate of each splitter on the hand-split cases, with the cases it gets wrong."""
    from knowledge.integreat import split_sentences

    cases = cases if cases is not None else load_sentence_cases()
    splitters = {
        "lotse rules (knowledge.integreat)": lambda text, lang: split_sentences(text),
        "spaCy blank(lang) + sentencizer": spacy_sentences,
        "spaCy blank('xx') + sentencizer": lambda text, lang: spacy_sentences(text, "xx"),
    }
    result: dict[str, dict[str, object]] = {}
    for name, split in splitters.items():
        for lang in {lang for lang, _ in cases}:  # build each pipeline before timing
            split("Warm-up. Done.", lang)
        start = time.perf_counter()
        wrong = [(lang, got) for lang, gold in cases if (got := split(" ".join(gold), lang)) != gold]
        result[name] = {"correct": len(cases) - len(wrong), "cases": len(cases),
                        "ms_per_text": round((time.perf_counter() - start) * 1000 / max(len(cases), 1), 3),
                        "wrong": wrong}
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Compare sentence splitters on knowledge/sentence_cases.yml")
    parser.add_argument("--show-wrong", action="store_true", help="print the texts each splitter gets wrong")
    args = parser.parse_args(argv)
    for name, row in compare_sentence_splitters().items():
        print(f"{name}: {row['correct']}/{row['cases']} texts split right, {row['ms_per_text']} ms per text")
        if args.show_wrong:
            for lang, got in row["wrong"]:  # type: ignore[attr-defined]
                print(f"    {lang}: {got}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
