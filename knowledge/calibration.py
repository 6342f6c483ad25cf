"""Turn raw retrieval scores into a confidence that means something, fitted from data.

Raw cosines of E5 sit between 0.75 and 0.95 for almost anything, so a fixed threshold either
answers "what is the bitcoin price" with the residence fees or refuses real questions. Two
small logistic models are fitted instead, on every build of the index:

* ``correct``: probability that the top entry answers the question. Trained on the entries'
  own example questions, each held out from the index in turn (leave-one-out: it is a positive
  when it still finds its own entry), plus the off-topic examples as negatives.
* ``off_topic``: probability that the question is outside what Lotse covers at all. Trained on
  the example questions versus ``offtopic_examples.yml``.

One feature compares the query with the centroid of the example questions and with the
centroid of the off-topic examples. Every off-topic example gets that feature from a centroid
*without its own concept*, so the model learns how an unseen off-topic question looks, not
the list itself; ``knowledge.evaluate`` measures refusal on concepts held out completely.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from knowledge import PACKAGE_DIR
from knowledge.cache import cache_dir, cache_key, prune, write_atomic
from knowledge.index import HybridIndex, Scores

log = logging.getLogger(__name__)

CALIBRATION_VERSION = 3
OFFTOPIC_FILE = PACKAGE_DIR / "offtopic_examples.yml"
FEATURES = ("fused", "question", "answer", "intent", "lexical", "coverage", "margin", "domain")
L2 = 1.0
# In the ``correct`` model all off-topic examples together weigh this much relative to all
# example questions. Measured (cross-validated, before language centring): 1.0 (balanced)
# under-states confidence for real questions, natural counts (about 0.05) answer 4 of 112
# held-out off-topic questions, 0.25 answers 1 of 112. With centring, 0.25 answers 88% of
# held-out questions at 88% precision and none of the held-out off-topic ones.
OFFTOPIC_WEIGHT_CORRECT = 0.25


def load_offtopic(path: Path = OFFTOPIC_FILE) -> list[dict[str, str]]:
    """The off-topic concepts, each a mapping language -> question."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [{str(k): str(v) for k, v in item.items()} for item in data.get("examples", [])]


def unit_norm(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector


def base_features(scores: Scores) -> tuple[int, np.ndarray]:
    """The top entry and every feature except ``domain`` (which needs the centroids)."""
    order = scores.ranking()
    top = int(order[0])
    second = scores.fused[order[1]] if len(order) > 1 and np.isfinite(scores.fused[order[1]]) else None
    margin = scores.fused[top] - second if second is not None else 0.1
    values = [scores.fused[top], scores.question[top], scores.answer[top], scores.intent[top],
              scores.lexical[top], scores.coverage[top], margin]
    return top, np.array(values, dtype=np.float64)


def fit_logistic(x: np.ndarray, y: np.ndarray, weight: np.ndarray, l2: float = L2) -> np.ndarray:
    """Weighted, L2-regularised logistic regression by Newton's method; returns [w..., b]."""
    design = np.hstack([x, np.ones((len(x), 1))])
    theta = np.zeros(design.shape[1])
    penalty = np.eye(design.shape[1]) * l2
    penalty[-1, -1] = 0.0  # no penalty on the intercept
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(design @ theta, -30, 30)))
        gradient = design.T @ (weight * (p - y)) + penalty @ theta
        hessian = (design * (weight * p * (1 - p))[:, None]).T @ design + penalty
        step = np.linalg.solve(hessian + 1e-9 * np.eye(len(theta)), gradient)
        theta -= step
        if np.max(np.abs(step)) < 1e-7:
            break
    return theta


def sigmoid(z: float) -> float:
    return float(1.0 / (1.0 + np.exp(-np.clip(z, -30, 30))))


@dataclass
class Calibrator:
    mean: list[float]
    scale: list[float]
    correct: list[float]  # weights then intercept, on standardised features
    off_topic: list[float]
    in_centroid: list[float]
    off_centroid: list[float]
    stats: dict[str, Any] = field(default_factory=dict)

    def domain(self, query_vector: np.ndarray) -> float:
        return float(query_vector @ np.asarray(self.in_centroid) - query_vector @ np.asarray(self.off_centroid))

    def predict(self, base: np.ndarray, query_vector: np.ndarray) -> tuple[float, float]:
        """(probability the top entry answers it, probability it is off-topic)."""
        x = (np.append(base, self.domain(query_vector)) - np.asarray(self.mean)) / np.asarray(self.scale)
        correct, off = np.asarray(self.correct), np.asarray(self.off_topic)
        return sigmoid(x @ correct[:-1] + correct[-1]), sigmoid(x @ off[:-1] + off[-1])

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Calibrator:
        return cls(**json.loads(text))


@dataclass
class TrainingSet:
    """Features of held-out example questions and off-topic examples, before fitting."""

    base_in: np.ndarray  # (n_in, len(FEATURES) - 1)
    vectors_in: np.ndarray  # query vectors of the example questions
    correct: np.ndarray  # bool: the held-out question still found its own entry
    rank: np.ndarray  # 0-based rank of the own entry
    languages: list[str]
    base_off: np.ndarray
    vectors_off: np.ndarray
    concepts: np.ndarray  # concept number of each off-topic example
    languages_off: list[str]
    texts_off: list[str]


def training_set(index: HybridIndex, offtopic: list[dict[str, str]]) -> TrainingSet:
    """Leave-one-out features of every example question and features of the off-topic list."""
    rows, vectors, correct, rank, langs = [], [], [], [], []
    hidden = np.zeros(len(index.units), dtype=bool)
    visible_by_region: dict[str, np.ndarray] = {}
    for i, unit in enumerate(index.units):
        if unit.kind != "question":
            continue
        region = str(index.regions[unit.entry])
        visible = visible_by_region.setdefault(region, index.visible(region))
        hidden[i] = True
        scores = index.score(index.vectors[i], index.query_tokens(unit.text), visible, hidden)
        hidden[i] = False
        top, base = base_features(scores)
        rows.append(base)
        vectors.append(index.vectors[i])
        correct.append(top == unit.entry)
        rank.append(int(np.flatnonzero(scores.ranking() == unit.entry)[0]))
        langs.append(unit.lang)

    texts, concepts, off_langs = [], [], []
    for number, concept in enumerate(offtopic):
        for lang, text in concept.items():
            texts.append(text)
            concepts.append(number)
            off_langs.append(lang)
    off_vectors = index.encoder.encode_queries(texts) if texts else np.zeros((0, index.encoder.dim))
    visible = index.visible(None)
    off_rows = [base_features(index.score(v, index.query_tokens(t), visible))[1]
                for v, t in zip(off_vectors, texts, strict=True)]
    width = len(FEATURES) - 1
    dim = index.encoder.dim
    return TrainingSet(
        base_in=np.array(rows).reshape(-1, width), vectors_in=np.array(vectors).reshape(-1, dim),
        correct=np.array(correct, dtype=bool), rank=np.array(rank, dtype=np.int64), languages=langs,
        base_off=np.array(off_rows).reshape(-1, width),
        vectors_off=np.asarray(off_vectors).reshape(-1, dim), concepts=np.array(concepts, dtype=np.int64),
        languages_off=off_langs, texts_off=texts,
    )


def _centroid(vectors: np.ndarray) -> np.ndarray:
    return unit_norm(vectors.sum(axis=0)) if len(vectors) else np.zeros(vectors.shape[1])


def domain_features(data: TrainingSet, concepts: np.ndarray, rows: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``domain`` for the chosen examples, each computed without itself (or its own concept)."""
    vectors_in = data.vectors_in[rows]
    total_in = vectors_in.sum(axis=0)
    use = np.isin(data.concepts, concepts)
    off_vectors = data.vectors_off[use]
    off_centroid = _centroid(off_vectors)
    in_centroid = _centroid(vectors_in)
    leave_out_in = np.array([unit_norm(total_in - v) for v in vectors_in]).reshape(vectors_in.shape)
    domain_in = np.einsum("ij,ij->i", vectors_in, leave_out_in) - vectors_in @ off_centroid
    domain_off = np.zeros(int(use.sum()))
    for k, (vector, concept) in enumerate(zip(off_vectors, data.concepts[use], strict=True)):
        others = _centroid(data.vectors_off[use & (data.concepts != concept)])
        domain_off[k] = vector @ in_centroid - vector @ others
    return domain_in, domain_off, in_centroid, off_centroid


def fit(data: TrainingSet, concepts: np.ndarray | None = None, rows: np.ndarray | None = None) -> Calibrator:
    """Fit both models; ``concepts`` and ``rows`` select training data (to hold some out)."""
    if concepts is None:
        concepts = np.unique(data.concepts)
    if rows is None:
        rows = np.ones(len(data.base_in), dtype=bool)
    use = np.isin(data.concepts, concepts)
    domain_in, domain_off, in_centroid, off_centroid = domain_features(data, concepts, rows)
    correct = data.correct[rows]
    x_in = np.column_stack([data.base_in[rows], domain_in]) if rows.any() else np.zeros((0, len(FEATURES)))
    x_off = np.column_stack([data.base_off[use], domain_off]) if use.any() else np.zeros((0, len(FEATURES)))
    x = np.vstack([x_in, x_off])
    if len(x) < 2 or not len(x_in) or not len(x_off):
        log.warning("too little data to calibrate (%d questions, %d off-topic)", len(x_in), len(x_off))
        return default_calibrator(in_centroid, off_centroid)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-6] = 1.0
    z = (x - mean) / scale
    n_in, n_off = len(x_in), len(x_off)
    is_off = np.concatenate([np.zeros(n_in), np.ones(n_off)])
    is_correct = np.concatenate([correct.astype(float), np.zeros(n_off)])
    # For "is it off-topic?" both classes weigh the same: the list of off-topic examples is
    # short, but real traffic has plenty of it (chit-chat, questions about other things).
    balanced = np.where(is_off == 1, 0.5 * (n_in + n_off) / n_off, 0.5 * (n_in + n_off) / n_in)
    for_correct = np.where(is_off == 1, OFFTOPIC_WEIGHT_CORRECT * n_in / n_off, 1.0)
    return Calibrator(
        mean=mean.tolist(), scale=scale.tolist(),
        correct=fit_logistic(z, is_correct, for_correct).tolist(),
        off_topic=fit_logistic(z, is_off, balanced).tolist(),
        in_centroid=in_centroid.tolist(), off_centroid=off_centroid.tolist(),
        stats={"questions": n_in, "offtopic": n_off, "loo_top1": float(correct.mean())},
    )


def default_calibrator(in_centroid: np.ndarray, off_centroid: np.ndarray) -> Calibrator:
    """Used only when there is nothing to learn from: trusts the fused cosine alone."""
    n = len(FEATURES)
    correct = [0.0] * n + [0.0]
    correct[0] = 1.0
    off = [0.0] * n + [0.0]
    off[0] = -1.0
    mean = [0.0] * n
    mean[0] = 0.9
    scale = [1.0] * n
    scale[0] = 0.02
    return Calibrator(mean=mean, scale=scale, correct=correct, off_topic=off,
                      in_centroid=in_centroid.tolist(), off_centroid=off_centroid.tolist(),
                      stats={"default": True})


def calibrator_for(index: HybridIndex, offtopic_file: Path = OFFTOPIC_FILE) -> Calibrator:
    """The fitted calibrator for this index, from the cache when content and encoder are unchanged."""
    offtopic_hash = hashlib.sha256(offtopic_file.read_bytes()).hexdigest()[:12]
    key = cache_key(index.kb.content_hash[:24], index.encoder.name, index.scoring, offtopic_hash,
                    f"v{CALIBRATION_VERSION}")
    path = cache_dir() / f"calibration-{key}.json"
    try:
        return Calibrator.from_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError):
        pass
    calibrator = fit(training_set(index, load_offtopic(offtopic_file)))
    write_atomic(path, lambda handle: handle.write(calibrator.to_json().encode("utf-8")))
    prune("calibration-*.json")
    return calibrator
