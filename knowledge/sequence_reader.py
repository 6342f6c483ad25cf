"""The page reader: reads a page's sentences in order and says which answer the question, and whether any does.

Why a sequence: the sentence reader (``knowledge.reader``) scores each sentence from its own and
its two neighbours' features, then a maximum-sum run with one threshold makes the answer; on
dev it picked ~10 sentences for answers of ~6, and a separate gate on the best probability decided
whether the page answers. Annotators mark whole runs (a heading, its explanation, a list), and
where a run ends depends on what comes after it. A small bidirectional GRU over the page's
sentences sees the whole page: per sentence it gets the sentence reader's features under both
question encoders (tuned and base) and how similar the sentence is to its neighbours (runs end
where the topic changes); it gives each sentence's probability and, from the pooled states, the
probability that the page answers at all.

The answer is the run of sentences with the largest expected F1 under those probabilities,
``2 * sum(p in run) / (len(run) + alpha * sum(p))``: the run's length follows how much answer
the page seems to hold, instead of one threshold for every page. Dev (193 questions in each of
5 languages): answer F1 +2 to +7 points over the two sentence readers, no-answer F1 +5 to +18
(README).

Inference is numpy (~1 ms per page); training is torch (``knowledge.sequence_train``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.reader import FEATURES, PageLayout, read_weights, save_weights, sentence_features

WEIGHTS_FILE = Path(__file__).resolve().parent / "sequence-reader.npz"
INPUTS = (*(f"tuned_{f}" for f in FEATURES), *(f"base_{f}" for f in FEATURES),
          "similarity_to_previous", "similarity_to_next")


def page_inputs(tuned_vector: np.ndarray, base_vector: np.ndarray, sentence_vectors: np.ndarray,
                sentences: Sequence[str], bm25: np.ndarray) -> np.ndarray:
    """One row of ``INPUTS`` per sentence (question vectors from the tuned and the base encoder)."""
    layout = PageLayout.of(sentence_vectors, sentences)
    vectors = sentence_vectors.astype(np.float64)
    neighbours = np.sum(vectors[1:] * vectors[:-1], axis=1)
    previous = np.concatenate([[0.0], neighbours])
    following = np.concatenate([neighbours, [0.0]])
    return np.concatenate([
        sentence_features(tuned_vector, sentence_vectors, sentences, bm25, layout),
        sentence_features(base_vector, sentence_vectors, sentences, bm25, layout),
        np.stack([previous, following], axis=1).astype(np.float32),
    ], axis=1)


def expected_f1_run(probabilities: np.ndarray, alpha: float = 1.0) -> list[int]:
    """The consecutive sentences maximising ``2 * sum(p in run) / (len(run) + alpha * sum(p))``.

    With independent, calibrated probabilities the denominator approximates predicted plus gold
    size, so this is the run with the best expected F1 (``alpha`` < 1 leans to shorter runs).
    """
    n = len(probabilities)
    if n == 0:
        return []
    cumulative = np.concatenate([[0.0], np.cumsum(probabilities, dtype=np.float64)])
    first, last = np.triu_indices(n + 1, 1)
    value = 2 * (cumulative[last] - cumulative[first]) / ((last - first) + alpha * cumulative[-1])
    best = int(np.argmax(value))
    return list(range(int(first[best]), int(last[best])))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))


_GRU = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


@dataclass
class Network:
    """Trained networks stacked on a leading axis: input layer, two-layer bidirectional GRU, two heads.

    Parameter names are torch's (``knowledge.sequence_train.build_network``). The ensemble and both
    directions run as one batch through the recurrence: a Python loop per network and direction
    put ~25 ms on every question, this ~3 ms.
    """

    weights: dict[str, np.ndarray]  # torch name -> array with a leading network axis
    layers: int = 2
    # per GRU layer: w_ih, w_hh, b_ih, b_hh with both directions stacked (networks x direction x ...)
    _gru: list[tuple[np.ndarray, ...]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._gru = [tuple(np.stack([self.weights[f"gru.{k}_l{layer}"], self.weights[f"gru.{k}_l{layer}_reverse"]],
                                    axis=1) for k in _GRU) for layer in range(self.layers)]

    @classmethod
    def stack(cls, networks: Sequence[dict[str, np.ndarray]], layers: int = 2) -> Network:
        return cls({name: np.stack([n[name] for n in networks]).astype(np.float64) for name in networks[0]}, layers)

    def __call__(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Sentence logits (networks x sentences) and page logits (networks) for one page."""
        w = self.weights
        h = np.maximum(np.einsum("khd,td->kth", w["inp.weight"], x) + w["inp.bias"][:, None, :], 0.0)
        for w_ih, w_hh, b_ih, b_hh in self._gru:
            sequences = np.stack([h, h[:, ::-1]], axis=1)  # networks x direction x time x features
            projected = np.einsum("kgoi,kgti->kgto", w_ih, sequences) + b_ih[:, :, None, :]
            size = w_hh.shape[-1]
            state = np.zeros((*w_hh.shape[:2], size))
            states = np.empty((*projected.shape[:3], size))
            for t in range(projected.shape[2]):  # torch.nn.GRU's recurrence, gates r, z, n
                recurrent = (w_hh @ state[..., None])[..., 0] + b_hh
                row = projected[:, :, t]
                r = _sigmoid(row[..., :size] + recurrent[..., :size])
                z = _sigmoid(row[..., size:2 * size] + recurrent[..., size:2 * size])
                n = np.tanh(row[..., 2 * size:] + r * recurrent[..., 2 * size:])
                state = (1 - z) * n + z * state
                states[:, :, t] = state
            h = np.concatenate([states[:, 0], states[:, 1, ::-1]], axis=-1)
        sentence = np.einsum("kth,kh->kt", h, w["out.weight"][:, 0]) + w["out.bias"]
        pooled = np.concatenate([h.mean(1), h.max(1)], axis=-1)
        page = np.einsum("kh,kh->k", pooled, w["page.weight"][:, 0]) + w["page.bias"][:, 0]
        return sentence, page


@dataclass
class SequenceReader:
    """The trained ensemble plus the decoding."""

    network: Network  # the ensemble, stacked (its probabilities are averaged)
    mean: np.ndarray
    scale: np.ndarray
    alpha: float = 1.0  # expected-F1 decoding (see ``expected_f1_run``)
    gate: float = 0.5  # page probability below this: the page does not answer
    meta: dict[str, Any] = field(default_factory=dict)

    def probabilities(self, inputs: np.ndarray) -> tuple[np.ndarray, float]:
        """Each sentence's probability of belonging to the answer, and the page's of answering."""
        if len(inputs) == 0:
            return np.zeros(0, dtype=np.float32), 0.0
        sentence, page = self.network((inputs.astype(np.float64) - self.mean) / self.scale)
        return _sigmoid(sentence).mean(0).astype(np.float32), float(_sigmoid(page).mean())

    def select(self, probabilities: np.ndarray, page: float, gate: float | None = None,
               threshold: float | None = None) -> list[int]:
        """The answer run, empty when the page does not answer (``gate`` -1: always answer).

        ``threshold`` (chat) trims the run's ends below that probability, keeping its best sentence.
        """
        if probabilities.size == 0 or page < (self.gate if gate is None else gate):
            return []
        run = expected_f1_run(probabilities.astype(np.float64), self.alpha)
        if threshold is not None:
            best = max(run, key=lambda i: float(probabilities[i]))
            kept = [i for i in run if float(probabilities[i]) >= threshold or i == best]
            run = list(range(kept[0], kept[-1] + 1))
        return run

    def save(self, path: Path = WEIGHTS_FILE) -> None:
        meta = {**self.meta, "alpha": self.alpha, "gate": self.gate, "inputs": list(INPUTS),
                "layers": self.network.layers}
        weights = {name: value.astype(np.float32) for name, value in self.network.weights.items()}
        save_weights(path, meta, {"mean": self.mean, "scale": self.scale, **weights})

    @classmethod
    def load(cls, path: Path = WEIGHTS_FILE) -> SequenceReader:
        meta, arrays = read_weights(path)
        if meta.get("inputs") != list(INPUTS):
            raise ValueError(f"{path} was trained on other inputs; retrain: lotse bench omos-train-sequence")
        mean, scale = (arrays.pop(name).astype(np.float64) for name in ("mean", "scale"))
        network = Network({name: value.astype(np.float64) for name, value in arrays.items()}, int(meta["layers"]))
        return cls(network, mean, scale, float(meta["alpha"]), float(meta["gate"]), meta)


def load_sequence_reader(path: Path = WEIGHTS_FILE) -> SequenceReader | None:
    """The trained page reader, or ``None`` before ``lotse bench omos-train-sequence`` wrote one."""
    return SequenceReader.load(path) if path.exists() else None
