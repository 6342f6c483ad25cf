"""Hybrid retrieval: dense E5 vectors plus BM25, fused into one score per entry.

Dense side: every title, every example question and every answer text, in every language, is
one *unit* with its own vector. An entry's dense score mixes its best question or title, its
best answer, the mean of its three best units and the similarity to the centroid of all its
titles and questions (the entry's intent, across languages). One lucky match with a similarly
phrased question of a neighbouring entry ("Mein Aufenthaltstitel ist abgelaufen" for a title
that runs out next month) then no longer decides alone; the centroid alone raised
leave-one-out top-1 from 0.767 to 0.790 and widened the lead of correct answers. Similarities
are centred per language first (see ``LANGUAGE_CENTRING``), which raised it to 0.836.

Lexical side: one BM25 document per entry and language, made of the title and the answer.
Example questions are deliberately left out: measured with held-out questions, adding them
lowered top-1 accuracy (0.77 -> 0.73), because their template words ("wie", "kann ich", "mein
Kind") match every entry alike. Leaving them out also keeps leave-one-out evaluation exact:
hiding one example question is masking one dense unit, no re-indexing.

Embedding the content is the slow part (minutes for the full knowledge base on two cores,
mostly the long answers), so unit vectors are cached (``knowledge.cache``); BM25 is rebuilt on
load because that takes milliseconds.
"""

from __future__ import annotations

import logging
import math
import sys
from collections import Counter
from dataclasses import dataclass
from typing import Literal

import numpy as np

from knowledge.cache import cached_vectors, text_key
from knowledge.encoders import Encoder
from knowledge.model import STATE_REGION, KnowledgeBase
from knowledge.tokens import DEFAULT_TOKENIZER, Tokenizer

log = logging.getLogger(__name__)

# Bump when the way units are made or encoded changes, so stale caches are not reused.
INDEX_VERSION = 3  # the vectors themselves; scoring changes need no new cache
BATCH = 32
TOP_UNITS = 3
# Weights of the fused score, grid-searched on leave-one-out accuracy (knowledge.evaluate):
# fused = (1 - CENTROID_WEIGHT) * dense + CENTROID_WEIGHT * centroid + LEXICAL_WEIGHT * BM25.
# Re-checked on the 72-entry content of 2026-11-22: 0.4 gives the same leave-one-out top-1 (0.851 vs
# 0.849) but lower calibrated confidence on several real questions in tests/knowledge, so 0.5 stays.
CENTROID_WEIGHT = 0.5
LEXICAL_WEIGHT = 0.05
# A query is closer to every text in its own language than to any translation, so the
# same-language template "Mein Aufenthaltstitel ist abgelaufen, was soll ich machen?" beat the
# English "my permit expires next month what should i do" for a German question about a
# permit that runs out next month. Unit similarities are therefore centred per language (the
# query's mean similarity to that language's texts is subtracted, times this factor).
LANGUAGE_CENTRING = 1.0
# An overlay entry replaces the state-wide entry it is a local version of: either its id says
# so ("<region>-<entry id>" or "<entry id>-<region>") or the mean vectors of their titles and
# example questions are this close. Measured: local versions 0.955-0.963, different entries
# of one topic at most 0.934.
SHADOW_SIMILARITY = 0.95

Kind = Literal["title", "question", "answer"]


@dataclass(frozen=True)
class Unit:
    entry: int  # position in HybridIndex.entry_ids
    lang: str
    kind: Kind
    text: str


def make_units(kb: KnowledgeBase, entry_ids: list[str]) -> list[Unit]:
    units: list[Unit] = []
    for i, entry_id in enumerate(entry_ids):
        entry = kb.entries[entry_id]
        for lang, title in entry.title.items():
            units.append(Unit(i, lang, "title", title.strip()))
        for lang, questions in entry.questions.items():
            units.extend(Unit(i, lang, "question", q.strip()) for q in questions)
        for lang, answer in entry.answers.items():
            units.append(Unit(i, lang, "answer", answer.text.strip()))
    return [u for u in units if u.text]


def encode_units(units: list[Unit], encoder: Encoder, progress: bool = True) -> np.ndarray:
    """Titles and questions are encoded as queries (E5's symmetric mode), answers as passages."""
    from tqdm import tqdm

    vectors = np.zeros((len(units), encoder.dim), dtype=np.float32)
    groups = {
        True: [i for i, u in enumerate(units) if u.kind != "answer"],
        False: [i for i, u in enumerate(units) if u.kind == "answer"],
    }
    with tqdm(total=len(units), desc="Embedding knowledge base", unit="text", file=sys.stderr,
              disable=not progress, leave=False) as bar:
        for as_query, positions in groups.items():
            for start in range(0, len(positions), BATCH):
                chunk = positions[start : start + BATCH]
                texts = [units[i].text for i in chunk]
                vectors[chunk] = encoder.encode_queries(texts) if as_query else encoder.encode_passages(texts)
                bar.update(len(chunk))
    return vectors


@dataclass
class Scores:
    """Per-entry scores for one query; entries that are not visible hold ``-inf`` / 0."""

    fused: np.ndarray
    question: np.ndarray  # best title or example question (cosine)
    answer: np.ndarray  # best answer text (cosine)
    intent: np.ndarray  # centroid of the entry's titles and questions (cosine)
    lexical: np.ndarray  # BM25 divided by the query's total IDF: comparable across queries
    coverage: np.ndarray  # IDF-weighted share of the query's tokens found in the entry

    def ranking(self) -> np.ndarray:
        return np.argsort(-self.fused, kind="stable")


class HybridIndex:
    def __init__(self, kb: KnowledgeBase, encoder: Encoder, vectors: np.ndarray | None = None,
                 tokenizer: Tokenizer = DEFAULT_TOKENIZER, progress: bool = True) -> None:
        self.kb = kb
        self.encoder = encoder
        self.tokenizer = tokenizer
        self.entry_ids = sorted(kb.entries)
        self.position = {entry_id: i for i, entry_id in enumerate(self.entry_ids)}
        self.units = make_units(kb, self.entry_ids)
        self.unit_entry = np.array([u.entry for u in self.units], dtype=np.int64)
        languages = sorted({u.lang for u in self.units})
        self._languages = languages
        self._unit_lang = np.array([languages.index(u.lang) for u in self.units], dtype=np.int64)
        self._is_answer = np.array([u.kind == "answer" for u in self.units], dtype=bool)
        counts = np.bincount(self.unit_entry, minlength=len(self.entry_ids))
        # Units are made entry by entry, so each entry's units are one contiguous run.
        self._starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        self._counts = counts
        self._has_units = counts > 0
        self.vectors = vectors if vectors is not None else self._cached_vectors(progress)
        asked = ~self._is_answer
        self._intent_sums = np.zeros((len(self.entry_ids), self.vectors.shape[1]))
        np.add.at(self._intent_sums, self.unit_entry[asked], self.vectors[asked])
        self.centroids = self._normalised(self._intent_sums)
        self._build_lexical()
        self.regions = np.array([kb.entries[e].region for e in self.entry_ids])
        self.shadows = self._find_shadows()

    def query_means(self) -> dict[str, np.ndarray]:
        """Mean vector of the example questions per language: the language's own direction in E5.

        Subtracting part of it from a question before it is compared with pages in another
        language (``knowledge.pages``) raised cross-lingual page retrieval on OMoS-QA.
        """
        asked = np.array([u.kind == "question" for u in self.units], dtype=bool)
        means: dict[str, np.ndarray] = {}
        for code, lang in enumerate(self._languages):
            rows = asked & (self._unit_lang == code)
            if rows.any():
                means[lang] = self.vectors[rows].mean(axis=0).astype(np.float32)
        return means

    @property
    def scoring(self) -> str:
        """Everything that shapes scores besides the vectors: part of the calibration's cache key."""
        return (f"{self.tokenizer.name}-k{TOP_UNITS}-c{CENTROID_WEIGHT}-l{LEXICAL_WEIGHT}"
                f"-z{LANGUAGE_CENTRING}")

    # -- building -------------------------------------------------------------------------
    def _cached_vectors(self, progress: bool) -> np.ndarray:
        def embed(missing: list[int]) -> np.ndarray:
            return encode_units([self.units[i] for i in missing], self.encoder, progress)

        keys = [text_key(u.kind, u.text) for u in self.units]
        family = f"{self.encoder.name}-v{INDEX_VERSION}"
        return cached_vectors(self.kb.content_hash, family, keys, self.encoder.dim, embed)

    def _build_lexical(self) -> None:
        import bm25s

        docs: dict[tuple[int, str], list[str]] = {}
        for unit in self.units:
            if unit.kind != "question":
                docs.setdefault((unit.entry, unit.lang), []).append(unit.text)
        tokens = [self.tokenizer(" ".join(texts)) or [""] for texts in docs.values()]
        self._doc_entry = np.array([entry for entry, _ in docs], dtype=np.int64)
        self.bm25 = bm25s.BM25()
        if tokens:
            self.bm25.index(tokens, show_progress=False)
        df = Counter(t for doc in tokens for t in set(doc))
        n = max(len(tokens), 1)
        self._idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}
        self._unseen_idf = math.log(1 + (n + 0.5) / 0.5)
        self.entry_tokens: list[set[str]] = [set() for _ in self.entry_ids]
        for entry, doc in zip(self._doc_entry, tokens, strict=True):
            self.entry_tokens[entry].update(doc)

    @staticmethod
    def _normalised(rows: np.ndarray) -> np.ndarray:
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        return np.divide(rows, norms, out=np.zeros_like(rows), where=norms > 0)

    def _find_shadows(self) -> dict[int, int]:
        """Overlay entry -> the state-wide entry it localises: named in ``replaces``, by its id, or same intent."""
        shadows: dict[int, int] = {}
        entries = [self.kb.entries[e] for e in self.entry_ids]
        for i, overlay in enumerate(entries):
            if not overlay.is_overlay:
                continue
            if overlay.replaces in self.position and not entries[self.position[overlay.replaces]].is_overlay:
                shadows[i] = self.position[overlay.replaces]  # said so in the content
                continue
            candidates = [j for j, e in enumerate(entries)
                          if not e.is_overlay and e.topic == overlay.topic and self._has_units[j]]
            named = [j for j in candidates if overlay.id in (
                f"{overlay.region}-{self.entry_ids[j]}", f"{self.entry_ids[j]}-{overlay.region}")]
            if named:
                shadows[i] = named[0]
                continue
            if not candidates or not self._has_units[i]:
                continue
            similarity = {j: float(self.centroids[j] @ self.centroids[i]) for j in candidates}
            best = max(similarity, key=lambda j: similarity[j])
            if similarity[best] >= SHADOW_SIMILARITY:
                shadows[i] = best
        return shadows

    # -- querying -------------------------------------------------------------------------
    def visible(self, region: str | None) -> np.ndarray:
        """State-wide entries plus ``region``'s overlays, minus what those overlays replace."""
        mask = (self.regions == STATE_REGION) | (self.regions == (region or STATE_REGION))
        for overlay, base in self.shadows.items():
            if mask[overlay]:
                mask[base] = False
        return mask & self._has_units

    def substitute(self, entry_id: str, region: str | None) -> str:
        """The entry to show for ``entry_id`` in ``region``: its local version if there is one."""
        base = self.position.get(entry_id)
        for overlay, shadowed in self.shadows.items():
            if shadowed == base and self.regions[overlay] == region:
                return self.entry_ids[overlay]
        return entry_id

    def query_tokens(self, text: str) -> list[str]:
        return list(dict.fromkeys(self.tokenizer(text)))

    def _centred(self, similarity: np.ndarray, hidden_units: np.ndarray | None) -> np.ndarray:
        """Cosines minus the per-language offset (see LANGUAGE_CENTRING); hidden units -inf."""
        units = similarity.astype(np.float64)
        shown = np.ones(len(units), dtype=bool) if hidden_units is None else ~hidden_units
        if LANGUAGE_CENTRING and len(units):
            total = np.bincount(self._unit_lang[shown], weights=units[shown], minlength=self._unit_lang.max() + 1)
            count = np.bincount(self._unit_lang[shown], minlength=len(total))
            mean = np.divide(total, count, out=np.zeros_like(total), where=count > 0)
            offset = mean - mean[count > 0].mean() if (count > 0).any() else mean
            units = units - LANGUAGE_CENTRING * offset[self._unit_lang]
        units[~shown] = -np.inf
        return units

    def _per_entry_top(self, unit_scores: np.ndarray, k: int) -> np.ndarray:
        """Mean of each entry's ``k`` best unit scores (hidden units, at -inf, do not count)."""
        order = np.lexsort((-unit_scores, self.unit_entry))
        ranked = unit_scores[order]
        total = np.zeros(len(self.entry_ids))
        taken = np.zeros(len(self.entry_ids))
        for rank in range(k):
            entries = np.flatnonzero(self._counts > rank)
            value = ranked[self._starts[entries] + rank]
            finite = np.isfinite(value)
            total[entries[finite]] += value[finite]
            taken[entries[finite]] += 1
        return np.divide(total, taken, out=np.full(len(total), -np.inf), where=taken > 0)

    def _per_entry_max(self, unit_scores: np.ndarray, which: np.ndarray) -> np.ndarray:
        out = np.full(len(self.entry_ids), -np.inf)
        np.maximum.at(out, self.unit_entry[which], unit_scores[which])
        return out

    def score(self, query_vector: np.ndarray, tokens: list[str], visible: np.ndarray,
              hidden_units: np.ndarray | None = None) -> Scores:
        """Scores of every entry; ``hidden_units`` masks units (for leave-one-out evaluation)."""
        units = self._centred(self.vectors @ query_vector, hidden_units)
        centroids = self.centroids
        if hidden_units is not None and hidden_units.any():
            sums = self._intent_sums.copy()
            hidden_asked = hidden_units & ~self._is_answer
            np.subtract.at(sums, self.unit_entry[hidden_asked], self.vectors[hidden_asked])
            centroids = self._normalised(sums)
        top = self._per_entry_top(units, TOP_UNITS)
        asked = self._per_entry_max(units, ~self._is_answer)
        answered = self._per_entry_max(units, self._is_answer)
        # An entry without any question (or answer) unit falls back to its other side.
        question = np.where(np.isfinite(asked), asked, answered)
        answer = np.where(np.isfinite(answered), answered, asked)
        dense = 0.5 * top + 0.25 * (question + answer)
        intent = centroids @ query_vector

        lexical = np.zeros(len(self.entry_ids))
        coverage = np.zeros(len(self.entry_ids))
        if tokens and len(self._doc_entry):
            total_idf = sum(self._idf.get(t, self._unseen_idf) for t in tokens)
            np.maximum.at(lexical, self._doc_entry, self.bm25.get_scores(tokens) / total_idf)
            for i in np.flatnonzero(visible):
                coverage[i] = sum(self._idf[t] for t in tokens if t in self.entry_tokens[i]) / total_idf

        fused = (1 - CENTROID_WEIGHT) * dense + CENTROID_WEIGHT * intent + LEXICAL_WEIGHT * lexical
        fused = np.where(visible & np.isfinite(fused), fused, -np.inf)
        return Scores(fused=fused, question=question, answer=answer, intent=intent,
                      lexical=np.where(visible, lexical, 0.0), coverage=coverage)
