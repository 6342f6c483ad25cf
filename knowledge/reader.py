"""The answer reader: which sentences of a page answer a question, learned from OMoS-QA train.

Answers on Integreat pages are runs of neighbouring sentences (a heading, its explanation, a
list), 6 of 27 sentences on average, and a rule on the question-sentence cosine alone scored no
better than picking the whole page (dev F1 ~40 either way). The reader therefore looks at each
sentence in its neighbourhood: 24 numbers per sentence (cosine to the question, its rank and
distance from the best sentence, BM25, whether it looks like a heading, how similar it is to the
best sentence and to the page title, ...) for the sentence and the two on either side go through
a small two-layer network that gives the probability that the sentence belongs to the answer.
The answer is then the run of sentences whose probabilities, less a threshold, add up to the
most (a maximum-sum run), so it stays one block as the annotators' answers mostly are; if no
sentence reaches ``no_answer`` the page is taken not to answer.

Everything is numpy and a few thousand weights: ~1 ms per page on top of the query embedding,
no model download, no torch. Trained by ``lotse bench omos-train-reader`` on the train split
only (weights in ``reader.npz`` beside this module, with what they were trained on).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

WEIGHTS_FILE = Path(__file__).resolve().parent / "reader.npz"  # on the base model's question vectors
WINDOW = 2  # sentences on either side that a sentence's probability depends on
_HEADING_END = re.compile(r"[.!?:;)\"“”»]$")
FEATURES = (
    "cosine", "cosine_minus_best", "cosine_z", "rank_share", "is_best", "in_top3", "bm25_share",
    "position_share", "log_sentences", "log_chars", "heading_like", "ends_with_colon",
    "previous_minus_best", "next_minus_best", "window_max_minus_best", "window_mean_minus_best",
    "distance_to_best", "abs_distance_to_best", "similarity_to_best", "similarity_to_title",
    "section_best_minus_best", "in_best_section", "is_first", "is_last",
    "context1_cosine_minus_best", "context2_cosine_minus_best", "section_cosine_minus_best",
    "section_cosine_rank_share", "has_digit", "has_contact",
)
_CONTACT = re.compile(r"@|https?://|www\.|\+?\d[\d /-]{6,}\d")


@dataclass(frozen=True)
class PageLayout:
    """The question-independent part of a page's features, computed once per page.

    The page reader reads every page under two question vectors (tuned and base); section
    centroids, neighbourhood means and the text checks were computed twice, about half of the
    ~11 ms ``page_inputs`` took on a page of 150 sentences.
    """

    chars: np.ndarray
    heading: np.ndarray
    colon: np.ndarray
    digit: np.ndarray
    contact: np.ndarray
    section: np.ndarray  # each sentence's section, 0, 1, ... (a heading-like sentence opens one)
    centroids: list[np.ndarray]  # unit mean vector of each section
    context1: np.ndarray  # unit mean of each sentence with one neighbour each side
    context2: np.ndarray  # ... with two

    @classmethod
    def of(cls, sentence_vectors: np.ndarray, sentences: Sequence[str]) -> PageLayout:
        stripped = [s.strip() for s in sentences]
        heading = np.array([1.0 if len(s) < 60 and not _HEADING_END.search(s) else 0.0 for s in stripped])
        opened = np.cumsum(heading)
        sections, section = np.unique(opened, return_inverse=True)
        return cls(
            np.array([len(s) for s in stripped], dtype=np.float64),
            heading,
            np.array([1.0 if s.endswith(":") else 0.0 for s in stripped]),
            np.array([1.0 if any(ch.isdigit() for ch in s) else 0.0 for s in stripped]),
            np.array([1.0 if _CONTACT.search(s) else 0.0 for s in stripped]),
            section,
            [_unit(sentence_vectors[opened == s].mean(0)) for s in sections],
            _context_means(sentence_vectors, 1),
            _context_means(sentence_vectors, 2),
        )


def sentence_features(query_vector: np.ndarray, sentence_vectors: np.ndarray, sentences: Sequence[str],
                      bm25: np.ndarray, layout: PageLayout | None = None) -> np.ndarray:
    """One row of ``FEATURES`` per sentence (vectors L2-normalised, as the encoders return them).

    Pass the page's ``layout`` when reading the same page under several question vectors.
    """
    page = layout if layout is not None else PageLayout.of(sentence_vectors, sentences)
    n = len(sentences)
    query = query_vector.astype(np.float64)
    c = sentence_vectors.astype(np.float64) @ query
    best = float(c.max())
    top = int(np.argmax(c))
    z = (c - c.mean()) / (c.std() + 1e-6)
    rank = np.empty(n)
    rank[np.argsort(-c, kind="stable")] = np.arange(n)
    lexical = bm25 / bm25.max() if bm25.size and bm25.max() > 0 else np.zeros(n)
    position = np.arange(n)
    padded = np.concatenate([[best - 0.2], c, [best - 0.2]])
    wide = np.concatenate([[c.min()] * 2, c, [c.min()] * 2])
    windows = np.stack([wide[k:k + n] for k in range(5)])
    distance = (position - top) / 10.0
    section, count = page.section, len(page.centroids)
    section_max = np.full(count, -np.inf)
    np.maximum.at(section_max, section, c)
    section_best = section_max[section]
    centroid_cos = np.array([centroid @ query for centroid in page.centroids])
    section_cos = centroid_cos[section]
    section_rank = np.empty(count)
    section_rank[np.argsort(-centroid_cos, kind="stable")] = np.arange(count)
    columns = [
        c, c - best, z, rank / n, (rank == 0).astype(float), (rank < 3).astype(float), lexical,
        position / n, np.full(n, np.log(n)), np.log1p(page.chars) / 5, page.heading, page.colon,
        padded[:-2] - best, padded[2:] - best, windows.max(0) - best, windows.mean(0) - best,
        np.clip(distance, -3, 3), np.minimum(np.abs(distance), 3),
        sentence_vectors @ sentence_vectors[top], sentence_vectors @ sentence_vectors[0],
        section_best - best, (section == section[top]).astype(float),
        (position == 0).astype(float), (position == n - 1).astype(float),
        page.context1 @ query - best, page.context2 @ query - best, section_cos - best,
        section_rank[section] / count,
        page.digit, page.contact,
    ]
    return np.stack(columns, axis=1).astype(np.float32)


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / max(float(np.linalg.norm(vector)), 1e-9)


def _context_means(sentence_vectors: np.ndarray, reach: int) -> np.ndarray:
    """The unit mean of each sentence and its ``reach`` neighbours each side."""
    n = len(sentence_vectors)
    cumulative = np.concatenate([np.zeros((1, sentence_vectors.shape[1])), np.cumsum(sentence_vectors, 0)])
    first = np.maximum(np.arange(n) - reach, 0)
    last = np.minimum(np.arange(n) + reach + 1, n)
    means = (cumulative[last] - cumulative[first]) / (last - first)[:, None]
    means /= np.clip(np.linalg.norm(means, axis=1, keepdims=True), 1e-9, None)
    return means


def windowed(features: np.ndarray, window: int = WINDOW) -> np.ndarray:
    """Each sentence's features next to its neighbours' (zeros plus a flag beyond the page)."""
    n, width = features.shape
    padded = np.zeros((n + 2 * window, width + 1), dtype=np.float32)
    padded[window:window + n, :width] = features
    padded[window:window + n, width] = 1.0
    return np.concatenate([padded[k:k + n] for k in range(2 * window + 1)], axis=1)


def best_run(scores: np.ndarray) -> list[int]:
    """The run of consecutive indices with the largest sum (at least one index)."""
    best, first, last = -np.inf, 0, 0
    current, start = 0.0, 0
    for i, value in enumerate(scores):
        if current <= 0:
            current, start = float(value), i
        else:
            current += float(value)
        if current > best:
            best, first, last = current, start, i
    return list(range(first, last + 1))


@dataclass
class Reader:
    """An ensemble of small two-layer networks over windowed sentence features, plus the decoding.

    Several networks trained with different seeds are averaged: one network's answer F1 moved by
    up to two points between seeds, the average of five did not.
    """

    models: list[list[np.ndarray]]  # per network: w1, b1, w2, b2, w3, b3
    mean: np.ndarray
    scale: np.ndarray
    threshold: float = 0.2  # probability a sentence must beat to lengthen the run
    no_answer: float = 0.0  # best probability below this: the page does not answer
    meta: dict[str, Any] = field(default_factory=dict)

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        if len(features) == 0:
            return np.zeros(0, dtype=np.float32)
        x = (windowed(features) - self.mean) / self.scale
        total = np.zeros(len(x), dtype=np.float64)
        for w1, b1, w2, b2, w3, b3 in self.models:
            h = np.maximum(x @ w1 + b1, 0.0)
            h = np.maximum(h @ w2 + b2, 0.0)
            logits = (h @ w3 + b3)[:, 0]
            total += 1.0 / (1.0 + np.exp(-np.clip(logits, -30, 30)))
        return (total / len(self.models)).astype(np.float32)

    def select(self, probabilities: np.ndarray, no_answer: float | None = None,
               threshold: float | None = None) -> list[int]:
        """The best run; ``threshold``/``no_answer`` override the trained values (e.g. stricter for chat)."""
        cut = self.no_answer if no_answer is None else no_answer
        if probabilities.size == 0 or float(probabilities.max()) < cut:
            return []
        return best_run(probabilities - (self.threshold if threshold is None else threshold))

    def save(self, path: Path = WEIGHTS_FILE) -> None:
        arrays: dict[str, Any] = {f"m{m}_w{i}": w for m, weights in enumerate(self.models)
                                  for i, w in enumerate(weights)}
        meta = {**self.meta, "threshold": self.threshold, "no_answer": self.no_answer, "features": list(FEATURES),
                "window": WINDOW, "models": len(self.models)}
        save_weights(path, meta, {"mean": self.mean, "scale": self.scale, **arrays})

    @classmethod
    def load(cls, path: Path = WEIGHTS_FILE) -> Reader:
        meta, arrays = read_weights(path)
        if meta.get("features") != list(FEATURES) or meta.get("window") != WINDOW:
            raise ValueError(f"{path} was trained on other features; retrain: lotse bench omos-train-reader")
        models = [[arrays[f"m{m}_w{i}"] for i in range(6)] for m in range(int(meta["models"]))]
        return cls(models, arrays["mean"], arrays["scale"], float(meta["threshold"]), float(meta["no_answer"]), meta)


def save_weights(path: Path, meta: dict[str, Any], arrays: dict[str, Any]) -> None:
    """A reader's arrays and, as JSON under ``meta``, what it was trained on and how it decodes."""
    with path.open("wb") as handle:
        np.savez_compressed(handle, meta=np.array(json.dumps(meta, sort_keys=True, ensure_ascii=False)), **arrays)


def read_weights(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """``save_weights``' meta and arrays."""
    with np.load(path, allow_pickle=False) as data:
        return json.loads(str(data["meta"])), {name: np.asarray(data[name]) for name in data.files if name != "meta"}


def load_reader(path: Path = WEIGHTS_FILE) -> Reader | None:
    """The trained reader, or ``None`` before ``lotse bench omos-train-reader`` wrote one."""
    return Reader.load(path) if path.exists() else None


# ---------------------------------------------------------------- training (numpy, train split only)


@dataclass
class TrainConfig:
    hidden: tuple[int, int] = (32, 16)
    epochs: int = 5
    batch: int = 256
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    seed: int = 0
    models: int = 5


@dataclass
class Example:
    features: np.ndarray  # sentence_features of one page for one question
    gold: list[int]


def fit(examples: Sequence[Example], config: TrainConfig | None = None) -> Reader:
    """``config.models`` networks on the same standardised data, seeds ``seed``, ``seed + 1``, ..."""
    config = config or TrainConfig()
    x = np.concatenate([windowed(e.features) for e in examples]).astype(np.float64)
    y = np.concatenate([np.isin(np.arange(len(e.features)), e.gold).astype(np.float64) for e in examples])
    mean = x.mean(0)
    scale = x.std(0) + 1e-6
    x = (x - mean) / scale
    models = [_fit_one(x, y, config, config.seed + k) for k in range(config.models)]
    return Reader(models, mean.astype(np.float32), scale.astype(np.float32), meta={"train": asdict(config)})


def _fit_one(x: np.ndarray, y: np.ndarray, config: TrainConfig, seed: int) -> list[np.ndarray]:
    """Binary cross-entropy per sentence, Adam, mini-batches of sentences; deterministic per seed."""
    rng = np.random.default_rng(seed)
    sizes = [x.shape[1], *config.hidden, 1]
    params: list[np.ndarray] = []
    for fan_in, fan_out in pairwise(sizes):
        params += [rng.normal(0, np.sqrt(2 / fan_in), (fan_in, fan_out)), np.zeros(fan_out)]
    moments = [np.zeros_like(p) for p in params]
    squares = [np.zeros_like(p) for p in params]
    step = 0
    for _ in range(config.epochs):
        order = rng.permutation(len(x))
        for start in range(0, len(order), config.batch):
            rows = order[start:start + config.batch]
            grads = _gradients(params, x[rows], y[rows])
            step += 1
            for i, (p, g) in enumerate(zip(params, grads, strict=True)):
                if i % 2 == 0:
                    g = g + config.weight_decay * p
                moments[i] = 0.9 * moments[i] + 0.1 * g
                squares[i] = 0.999 * squares[i] + 0.001 * g * g
                m_hat = moments[i] / (1 - 0.9 ** step)
                v_hat = squares[i] / (1 - 0.999 ** step)
                p -= config.learning_rate * m_hat / (np.sqrt(v_hat) + 1e-8)
    return [p.astype(np.float32) for p in params]


def _gradients(params: list[np.ndarray], x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    w1, b1, w2, b2, w3, b3 = params
    a1 = x @ w1 + b1
    h1 = np.maximum(a1, 0)
    a2 = h1 @ w2 + b2
    h2 = np.maximum(a2, 0)
    logits = (h2 @ w3 + b3)[:, 0]
    p = 1 / (1 + np.exp(-np.clip(logits, -30, 30)))
    d = ((p - y) / len(y))[:, None]
    g_w3, g_b3 = h2.T @ d, d.sum(0)
    d2 = (d @ w3.T) * (a2 > 0)
    g_w2, g_b2 = h1.T @ d2, d2.sum(0)
    d1 = (d2 @ w2.T) * (a1 > 0)
    g_w1, g_b1 = x.T @ d1, d1.sum(0)
    return [g_w1, g_b1, g_w2, g_b2, g_w3, g_b3]
