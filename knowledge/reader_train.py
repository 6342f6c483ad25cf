"""``lotse bench omos-train-reader``: train the answer reader (``knowledge/reader.npz``) on OMoS-QA train.

Only the train split is read. The two decoding thresholds are chosen by two-fold
cross-validation on it, with the folds split by page so that a page's questions never sit on
both sides: ``threshold`` for the best mean answer F1 (answerable questions), then ``no_answer``
for the best mean per-question score when an unanswerable question left empty scores 1, as
``lotse bench omos-tune`` does for the rule. The dev split stays for ``lotse bench omos``.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.bench_omos import load_split, sentence_prf
from knowledge.encoders import Encoder, TunedQueryEncoder, encoder_named
from knowledge.extract import VectorStore, bm25_scores
from knowledge.reader import WEIGHTS_FILE, Example, Reader, TrainConfig, fit, sentence_features

THRESHOLDS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35)


@dataclass
class Labelled:
    example: Example
    page: int
    language: str


def collect(split: str, languages: Sequence[str], encoder: Encoder, limit: int | None = None) -> list[Labelled]:
    """Features of every question's page, from cached vectors (embedding what is missing, once)."""
    from knowledge.page_train import encode_questions

    out = []
    for lang in languages:
        rows = load_split(split, lang, limit)
        store = VectorStore(encoder, f"omos-{split}-{lang}")
        queries = encode_questions(encoder, [r.question for r in rows], f"omos-{split}-{lang}")
        for row, query in zip(rows, queries, strict=True):
            if not row.sentences:
                continue
            features = sentence_features(query, store.passages(row.sentences), row.sentences,
                                         bm25_scores(row.question, row.sentences))
            out.append(Labelled(Example(features, row.answers), row.page_id, lang))
        store.save()
    return out


def answer_f1(reader: Reader, items: Sequence[Scored], threshold: float) -> float:
    scores = [sentence_prf(reader.select(item.probabilities, -1.0, threshold), item.gold)[2]
              for item in items if item.gold]
    return statistics.fmean(scores) if scores else 0.0


def question_score(picks: Iterable[tuple[Sequence[int], Sequence[int]]]) -> float:
    """Mean over (picked, gold) pairs: answer F1, or 1 for an unanswerable question left empty."""
    scores = [sentence_prf(picked, gold)[2] if gold else float(not picked) for picked, gold in picks]
    return statistics.fmean(scores) if scores else 0.0


def best_cut(values: np.ndarray, objective: Callable[[float], float]) -> tuple[float, float]:
    """The no-answer cut (0, or one of the 0-40 % quantiles of ``values``) with the best ``objective``."""
    candidates = sorted({0.0, *np.round(np.quantile(values, np.linspace(0, 0.4, 21)), 3).tolist()})
    scores = [objective(cut) for cut in candidates]
    best = int(np.argmax(scores))
    return float(candidates[best]), scores[best]


@dataclass
class Scored:
    """A held-out question's gold sentences and the fold reader's probabilities, computed once."""

    gold: list[int]
    probabilities: np.ndarray


def cross_validate(items: Sequence[Labelled], config: TrainConfig) -> tuple[float, float, dict[str, Any]]:
    """``threshold`` and ``no_answer`` by two-fold cross-validation, folds split by page."""
    f1 = np.zeros(len(THRESHOLDS))
    held_out: list[tuple[Reader, list[Scored]]] = []
    for fold in range(2):
        train = [i for i in items if i.page % 2 != fold]
        reader = fit([i.example for i in train], config)
        test = [Scored(i.example.gold, reader.probabilities(i.example.features)) for i in items if i.page % 2 == fold]
        f1 += [answer_f1(reader, test, t) for t in THRESHOLDS]
        held_out.append((reader, test))
    threshold = THRESHOLDS[int(np.argmax(f1))]
    maxima = np.array([float(i.probabilities.max()) for _, test in held_out for i in test])
    no_answer, score = best_cut(maxima, lambda cut: statistics.fmean(
        question_score((r.select(i.probabilities, cut, threshold), i.gold) for i in test) for r, test in held_out))
    return threshold, no_answer, {
        "cv_answer_f1": {str(t): round(100 * v / 2, 1) for t, v in zip(THRESHOLDS, f1, strict=True)},
        "cv_question_score": round(100 * score, 1),
    }


def train(languages: Sequence[str], encoder: Encoder, config: TrainConfig | None = None,
          limit: int | None = None) -> Reader:
    config = config or TrainConfig()
    items = collect("train", languages, encoder, limit)
    threshold, no_answer, info = cross_validate(items, config)
    reader = fit([i.example for i in items], config)
    reader.threshold, reader.no_answer = threshold, no_answer
    reader.meta = {"trained_on": {"dataset": "OMoS-QA (CC BY 4.0)", "split": "train", "languages": list(languages),
                                  "questions": len(items), "limit_per_language": limit},
                   "encoder": encoder.name, "train": asdict(config), **info}
    return reader


def train_command(args: Any) -> int:
    languages = [x.strip() for x in args.languages.split(",") if x.strip()]
    start = time.perf_counter()
    encoder = encoder_named(args.encoder)
    if isinstance(encoder, TunedQueryEncoder):  # fitted on the train questions; read by the page reader
        print("lotse bench omos-train-reader: the sentence reader reads with the base model; the tuned "
              "question encoder's reader is the page reader: lotse bench omos-train-sequence")
        return 2
    reader = train(languages, encoder, limit=args.limit)
    target = Path(args.out) if args.out else WEIGHTS_FILE
    reader.save(target)
    print(json.dumps({"written": str(target), "threshold": reader.threshold, "no_answer": reader.no_answer,
                      **{k: v for k, v in reader.meta.items() if k.startswith("cv_")},
                      "seconds": round(time.perf_counter() - start, 1)}, indent=2))
    return 0
