"""Answer-sentence extraction: which sentences of a page answer a question (maybe none).

A fine-tuned reader (DeBERTa, as in the OMoS-QA paper) does not fit a two-core server next to
Rasa. E5 cosine already ranks the answering sentences high, and answers in Integreat pages
come as runs of neighbouring sentences (a heading, then its list), so a cheap score works:

    score_i = w * cosine(question, sentence_i) + (1 - w) * bm25_i / max(bm25)
    smooth_i = (1 - a) * score_i + a * max(score_{i-1}, score_{i+1})

Sentences whose smoothed score is within ``margin`` of the best are picked; if the best raw
cosine is below ``no_answer`` the page is taken not to answer. The weights and thresholds are
tuned on the OMoS-QA train split (``knowledge.bench_omos tune``) and stored in
``extract_params.json`` beside this module, with the split they were tuned on.
"""

from __future__ import annotations

import json
import math
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import IO, Any

import numpy as np

from knowledge.encoders import Encoder, passage_name, search_encoder
from knowledge.tokens import DEFAULT_TOKENIZER, Tokenizer

PARAMS_FILE = Path(__file__).resolve().parent / "extract_params.json"
BATCH = 32  # sentences per encoder call, sorted by length so padding stays small


@dataclass(frozen=True)
class ExtractParams:
    """The tunable knobs; defaults are a sensible start before tuning."""

    weight: float = 0.8  # share of the e5 cosine in the mix (rest: normalised BM25)
    smooth: float = 0.2  # share of the better neighbour in the smoothed score
    margin: float = 0.05  # pick sentences within this distance of the best smoothed score
    no_answer: float = 0.80  # best raw cosine below this: the page does not answer
    min_chars: int = 0  # sentences shorter than this are never picked (bare headings, "hier.")


def load_params(path: Path = PARAMS_FILE) -> ExtractParams:
    """Tuned parameters if the file exists, else the defaults."""
    if not path.exists():
        return ExtractParams()
    data = json.loads(path.read_text(encoding="utf-8"))
    fields = ExtractParams.__dataclass_fields__
    return ExtractParams(**{k: v for k, v in data.get("params", {}).items() if k in fields})


def save_params(params: ExtractParams, meta: dict[str, Any], path: Path = PARAMS_FILE) -> None:
    payload = {"params": asdict(params), **meta}
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")


# ---------------------------------------------------------------- embedding with a disk cache


class VectorStore:
    """Sentence vectors on disk keyed by a hash of the text, so bench reruns skip the encoder.

    One file per ``name`` (e.g. a split and language); written once after new texts are embedded.
    """

    def __init__(self, encoder: Encoder, name: str) -> None:
        from knowledge.cache import cache_dir, cache_key

        self.encoder = encoder
        self.path = cache_dir() / f"vectors-{cache_key(passage_name(encoder), name)}.npz"
        self._known: dict[str, np.ndarray] = {}
        self._dirty = False
        if self.path.exists():
            try:
                with np.load(self.path, allow_pickle=False) as data:
                    self._known = {str(k): v for k, v in zip(data["keys"], data["vectors"], strict=True)}
            except (OSError, ValueError, KeyError):
                self._known = {}

    @staticmethod
    def key(text: str) -> str:
        from knowledge.cache import text_key

        return text_key("passage", text)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        keys = [self.key(t) for t in texts]
        missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in self._known}.items(),
                         key=lambda kv: len(kv[1]))
        for start in range(0, len(missing), BATCH):
            chunk = missing[start:start + BATCH]
            vectors = self.encoder.encode_passages([t for _, t in chunk])
            for (k, _), v in zip(chunk, vectors, strict=True):
                self._known[k] = v
            self._dirty = True
        if not texts:
            return np.zeros((0, self.encoder.dim), dtype=np.float32)
        return np.stack([self._known[k] for k in keys])

    def save(self) -> None:
        if not self._dirty:
            return
        from knowledge.cache import write_atomic

        keys = np.array(list(self._known))
        vectors = np.stack(list(self._known.values())).astype(np.float32)
        write_atomic(self.path, lambda handle: np.savez(handle, keys=keys, vectors=vectors))
        self._dirty = False


# ---------------------------------------------------------------- scoring


def bm25_scores(question: str, sentences: Sequence[str], tokenizer: Tokenizer = DEFAULT_TOKENIZER,
                k1: float = 1.2, b: float = 0.75) -> np.ndarray:
    """BM25 of each sentence against the question, with document statistics from this page only.

    A per-page index is tiny (tens of sentences), so plain Python beats building a bm25s index.
    """
    docs = [tokenizer(s) for s in sentences]
    n = len(docs)
    if n == 0:
        return np.zeros(0, dtype=np.float32)
    avg = sum(len(d) for d in docs) / n or 1.0
    df: Counter[str] = Counter()
    for d in docs:
        df.update(set(d))
    terms = set(tokenizer(question))
    out = np.zeros(n, dtype=np.float32)
    for i, d in enumerate(docs):
        tf = Counter(d)
        score = 0.0
        for term in terms:
            f = tf.get(term, 0)
            if f:
                idf = math.log(1 + (n - df[term] + 0.5) / (df[term] + 0.5))
                score += idf * f * (k1 + 1) / (f + k1 * (1 - b + b * len(d) / avg))
        out[i] = score
    return out


def combined_scores(cosines: np.ndarray, bm25: np.ndarray, params: ExtractParams) -> np.ndarray:
    """Mixed and neighbour-smoothed score per sentence (see the module docstring)."""
    top = float(bm25.max()) if bm25.size else 0.0
    lexical = bm25 / top if top > 0 else np.zeros_like(bm25)
    mixed = params.weight * cosines + (1 - params.weight) * lexical
    if params.smooth <= 0 or mixed.size < 2:
        return mixed
    padded = np.concatenate([[-np.inf], mixed, [-np.inf]])
    neighbour = np.maximum(padded[:-2], padded[2:])
    return (1 - params.smooth) * mixed + params.smooth * neighbour


def select(cosines: np.ndarray, bm25: np.ndarray, lengths: Sequence[int], params: ExtractParams) -> list[int]:
    """Indices picked under ``params``; empty when the best cosine says the page does not answer."""
    if cosines.size == 0 or float(cosines.max()) < params.no_answer:
        return []
    scores = combined_scores(cosines, bm25, params)
    eligible = np.array([n >= params.min_chars for n in lengths])
    if not eligible.any():
        return []
    best = float(scores[eligible].max())
    return [i for i in range(len(scores)) if eligible[i] and scores[i] >= best - params.margin]


@dataclass(frozen=True)
class Reading:
    """What a reader made of a page: the answer sentences, and how likely the page answers at all."""

    picked: list[int]
    answers: float  # the page reader's page probability (sentence reader: best sentence; rule: best cosine)


class Extractor:
    """Loads the encoders, the trained reader and the tuned rule once; ``extract`` per question.

    The page reader (``knowledge.sequence_reader``, with the tuned question encoder) or else the
    sentence reader (``knowledge.reader``, base model) decides when its weights file exists; the
    rule above is the fallback before training and the baseline (``use_reader=False``).
    """

    def __init__(self, encoder: Encoder | None = None, params: ExtractParams | None = None,
                 use_reader: bool = True) -> None:
        if encoder is None:
            from knowledge.encoders import reader_encoder

            encoder = reader_encoder()
        from knowledge.reader import load_reader
        from knowledge.sequence_reader import load_sequence_reader

        self.search = search_encoder(encoder)
        # With the tuned question encoder, the page reader (knowledge.sequence_reader) reads the page
        # under both question vectors and decides which sentences answer and whether any does. The
        # sentence reader and the rule were fitted on the base model's cosines: they read with it.
        self.sequence = load_sequence_reader() if use_reader and self.search is not encoder else None
        self.encoder = encoder if self.sequence is not None else self.search
        self.params = params or load_params()
        self.reader = load_reader() if use_reader and self.sequence is None else None

    def reading_vector(self, question: str, search_vector: np.ndarray) -> np.ndarray:
        """The question as this extractor reads it, given the base model's vector the caller has."""
        return search_vector if self.encoder is self.search else self.encoder.encode_queries([question])[0]

    def pick(self, question: str, query_vector: np.ndarray, sentences: Sequence[str],
             sentence_vectors: np.ndarray, no_answer: float | None = None,
             threshold: float | None = None, search_vector: np.ndarray | None = None,
             limit: int | None = None) -> list[int]:
        """Answer sentences from vectors at hand (``read`` without the page's probability)."""
        return self.read(question, query_vector, sentences, sentence_vectors, no_answer, threshold,
                         search_vector, limit).picked

    def read(self, question: str, query_vector: np.ndarray, sentences: Sequence[str],
             sentence_vectors: np.ndarray, no_answer: float | None = None,
             threshold: float | None = None, search_vector: np.ndarray | None = None,
             limit: int | None = None) -> Reading:
        """Answer sentences from vectors at hand; ``no_answer``/``threshold`` override the reader's.

        ``query_vector`` is this extractor's encoder's; ``search_vector`` the base model's, when the
        caller has it (the page reader reads both). ``no_answer`` is the reader's bar for "the page
        answers" (the page reader's page probability, the sentence reader's best sentence
        probability, the rule's best cosine); -1 always answers.
        ``limit`` keeps the most probable ``limit`` neighbouring sentences of a longer run (a chat
        answer shows a few; the start of a long run is often the section's lead-in, not the answer).
        """
        if not sentences:
            return Reading([], 0.0)
        bm25 = bm25_scores(question, sentences)
        if self.sequence is not None:
            from knowledge.sequence_reader import page_inputs

            if search_vector is None:
                search_vector = self.search.encode_queries([question])[0]
            probabilities, page = self.sequence.probabilities(
                page_inputs(query_vector, search_vector, sentence_vectors, sentences, bm25))
            picked = self.sequence.select(probabilities, page, no_answer, threshold)
            return Reading(best_window(picked, probabilities, limit), page)
        if self.reader is not None:
            from knowledge.reader import sentence_features

            probabilities = self.reader.probabilities(sentence_features(query_vector, sentence_vectors, sentences,
                                                                        bm25))
            picked = self.reader.select(probabilities, no_answer, threshold)
            return Reading(best_window(picked, probabilities, limit), float(probabilities.max()))
        params = self.params if no_answer is None else replace(self.params, no_answer=no_answer)
        cosines = (sentence_vectors @ query_vector).astype(np.float32)
        return Reading(select(cosines, bm25, [len(s.strip()) for s in sentences], params), float(cosines.max()))

    def features(self, question: str, sentences: Sequence[str],
                 sentence_vectors: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Cosines and BM25 scores; pass ``sentence_vectors`` when the page is already embedded."""
        if sentence_vectors is None:
            sentence_vectors = self.encoder.encode_passages(list(sentences))
        query = self.encoder.encode_queries([question])[0]
        cosines = sentence_vectors @ query if len(sentences) else np.zeros(0, dtype=np.float32)
        return cosines.astype(np.float32), bm25_scores(question, sentences)

    def extract(self, question: str, sentences: Sequence[str],
                sentence_vectors: np.ndarray | None = None) -> list[int]:
        if not sentences:
            return []
        if sentence_vectors is None:
            sentence_vectors = self.encoder.encode_passages(list(sentences))
        query = self.encoder.encode_queries([question])[0]
        return self.pick(question, query, sentences, sentence_vectors)


def best_window(run: list[int], probabilities: np.ndarray, limit: int | None) -> list[int]:
    """The ``limit`` neighbouring sentences of ``run`` with the largest summed probability."""
    if limit is None or len(run) <= limit:
        return run
    sums = [float(probabilities[run[i:i + limit]].sum()) for i in range(len(run) - limit + 1)]
    start = int(np.argmax(sums))
    return run[start:start + limit]


# ---------------------------------------------------------------- `lotse extract --jsonl`


def run_jsonl(lines: Iterable[str], out: IO[str], extractor: Extractor) -> int:
    """One answer line per input line; a bad line yields ``{"id", "error"}`` and the run goes on."""
    errors = 0
    for line in lines:
        if not line.strip():
            continue
        record_id: Any = None
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError("expected a JSON object")
            record_id = record.get("id")
            question, context = record.get("question"), record.get("context")
            if not isinstance(question, str) or not question.strip():
                raise ValueError("'question' must be a non-empty string")
            if not isinstance(context, str):
                raise ValueError("'context' must be a string (sentences separated by newlines)")
            result: dict[str, Any] = {"id": record_id, "answers": extractor.extract(question, context.split("\n"))}
        except (ValueError, TypeError) as exc:
            errors += 1
            result = {"id": record_id, "error": str(exc)}
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
        out.flush()
    return errors


def extract_command(args: Any) -> int:
    """Entry point of ``lotse extract``; exit code 0 even with bad lines (they are reported inline)."""
    if not args.jsonl:
        print("lotse extract: only --jsonl is supported (JSON lines on stdin)", file=sys.stderr)
        return 2
    run_jsonl(sys.stdin, sys.stdout, Extractor())
    return 0
