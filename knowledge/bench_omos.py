"""``lotse bench omos``: page retrieval and answer-sentence extraction measured on OMoS-QA.

OMoS-QA (Tür an Tür – Digitalfabrik gGmbH, CC BY 4.0; "OMoS-QA: A Dataset for Cross-Lingual
Extractive Question Answering in a German Migration Context", KONVENS 2024) asks questions in
five languages about Integreat pages of three districts; two district exports ship beside it.
It is the closest public benchmark to what Lotse does, so the numbers here are the ones to
watch when retrieval or extraction changes. Metrics follow the paper: sentence precision,
recall and F1 per answerable question, averaged; no-answer F1 with "no answer" as positive.
Page recall counts answerable questions too (``Retrieval.recall``), and reports the old count
over all questions beside it.

The data live outside the repository (``$LOTSE_SHARED_DIR``, default ``../shared``).
"""

from __future__ import annotations

import json
import os
import shlex
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.encoders import Encoder, encoder_named, search_encoder
from knowledge.extract import (
    PARAMS_FILE,
    Extractor,
    ExtractParams,
    VectorStore,
    combined_scores,
    load_params,
    save_params,
)
from knowledge.integreat import Page, read_export
from knowledge.tokens import DEFAULT_TOKENIZER

LANGUAGES = ("de", "en", "ar", "fr", "uk")
RETRIEVAL_WEIGHT = 0.7  # first version: e5 share of the opening vs BM25 over title + text
# Page score = weights of (opening, title, best sentence); grid-searched on the train split for
# mean recall@3 over de, en, ar, fr, uk: 0.654 against 0.506 for the first version.
PAGE_WEIGHTS = (0.25, 0.25, 0.5)
# Share of the mean over a page's language versions in its group score (rest: the best version).
# Chosen on the train split from 0 / 0.25 / 0.5 / 0.75 / 1 (mean R@3 0.654 / 0.662 / 0.666 / 0.665 /
# 0.660); on dev it raised R@3 from 0.704 / 0.624 / 0.528 / 0.544 / 0.544 to 0.712 / 0.640 / 0.544 /
# 0.536 / 0.576 (de / en / ar / fr / uk).
GROUP_MEAN_SHARE = 0.5
# Share of the question language's mean direction taken off a question before page retrieval
# (``centre_query``). E5 keeps a question close to its own language, so an Arabic question met
# Arabic-sounding pages before German ones that answer it. The means come from the knowledge
# base's example questions (every Lotse language has some), not from OMoS-QA. Chosen on the
# train split from 0 / 0.5 / 1: mean R@3 0.666 / 0.683 / 0.681.
QUERY_CENTRING = 0.5
# Share of the base model's group scores when the retrieval tower (``knowledge.retrieval_train``)
# is shipped; the rest is the tower's. Dev R@3 over answerable questions, mean of the five
# languages, while training (first run): tower alone 0.773-0.791, mixed half and half 0.780-0.795,
# base alone 0.742.
RETRIEVAL_MIX = 0.5
LEAD_CHARS = 400  # page passage for e5: title plus the opening of the text (the model reads ~512 tokens)


def shared_dir() -> Path:
    from lotse.paths import ROOT

    return Path(os.environ.get("LOTSE_SHARED_DIR", ROOT.parent / "shared"))


def omos_dir() -> Path:
    return shared_dir() / "data" / "omos-qa"


@dataclass(frozen=True)
class Question:
    id: int
    question: str
    sentences: list[str]
    answers: list[int]
    city: str
    page_id: int
    language: str


def load_split(split: str, language: str, limit: int | None = None, base: Path | None = None) -> list[Question]:
    path = (base or omos_dir()) / "splits" / f"{split}_{language}.jsonl"
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                r = json.loads(line)
                rows.append(Question(int(r["id"]), r["question"], r["context"].split("\n"), list(r["answers"]),
                                     r["city"], int(r["pageId"]), r["language"]))
            if limit is not None and len(rows) >= limit:
                break
    return rows


# ---------------------------------------------------------------- metrics (as in the paper)


def sentence_prf(predicted: Sequence[int], gold: Sequence[int]) -> tuple[float, float, float]:
    """Precision, recall, F1 of predicted vs gold sentence indices; an empty side scores 0."""
    pred, ref = set(predicted), set(gold)
    hits = len(pred & ref)
    precision = hits / len(pred) if pred else 0.0
    recall = hits / len(ref) if ref else 0.0
    f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
    return precision, recall, f1


def answer_scores(predictions: Sequence[Sequence[int]], golds: Sequence[Sequence[int]]) -> dict[str, float]:
    """Mean sentence P/R/F1 over answerable questions, and no-answer F1 (no answer = positive)."""
    answerable = [sentence_prf(p, g) for p, g in zip(predictions, golds, strict=True) if g]
    tp = sum(1 for p, g in zip(predictions, golds, strict=True) if not p and not g)
    predicted_empty = sum(1 for p in predictions if not p)
    gold_empty = sum(1 for g in golds if not g)
    na_p = tp / predicted_empty if predicted_empty else 0.0
    na_r = tp / gold_empty if gold_empty else 0.0
    return {
        "precision": statistics.fmean(s[0] for s in answerable) if answerable else 0.0,
        "recall": statistics.fmean(s[1] for s in answerable) if answerable else 0.0,
        "f1": statistics.fmean(s[2] for s in answerable) if answerable else 0.0,
        "no_answer_f1": 2 * na_p * na_r / (na_p + na_r) if tp else 0.0,
    }


def recall_at(ranked: Sequence[Sequence[int]], gold: Sequence[int], k: int) -> float:
    return statistics.fmean(1.0 if g in r[:k] else 0.0 for r, g in zip(ranked, gold, strict=True)) if gold else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else 0.0


# ---------------------------------------------------------------- page retrieval


def page_group(page: Page) -> int:
    """One id per page and its translations (the German original's), so a translation is a hit."""
    return page.translations.get("de", page.id) if page.language != "de" else page.id


@dataclass
class RegionIndex:
    """Dense retrieval over the pages (all languages) of one district, BM25 kept for comparison.

    A page scores by its best-matching sentence, its opening (title plus ``LEAD_CHARS``) and its
    title (``PAGE_WEIGHTS``): answers sit anywhere on a page, and a title alone is too short to
    embed well. Fitted on the train split's retrieval questions (all five languages), which also
    gave BM25 no weight: the questions in ar, fr and uk share no words with the de/en pages.
    """

    pages: list[Page]
    vectors: np.ndarray  # opening of each page
    titles: np.ndarray | None = None
    sentences: np.ndarray | None = None  # every sentence of every page
    owner: np.ndarray | None = None  # page of each sentence
    groups: list[int] = field(default_factory=list)
    bm25: Any = None

    @classmethod
    def build(cls, pages: list[Page], store: VectorStore, sentence_store: VectorStore | None = None) -> RegionIndex:
        import bm25s

        passages = [f"{p.title}. {' '.join(p.sentences)}"[:LEAD_CHARS] for p in pages]
        vectors = store.passages(passages)
        titles = sentences = owner = None
        if sentence_store is not None:
            texts = [p.sentences or [p.title or "-"] for p in pages]
            titles = sentence_store.passages([p.title or "-" for p in pages])
            sentences = sentence_store.passages([s for page in texts for s in page])
            owner = np.array([i for i, page in enumerate(texts) for _ in page], dtype=np.int64)
        retriever = bm25s.BM25()
        corpus = [DEFAULT_TOKENIZER(f"{p.title} {p.title} {p.text}") or ["<empty>"] for p in pages]
        retriever.index(corpus, show_progress=False)
        return cls(pages, vectors, titles, sentences, owner, [page_group(p) for p in pages], retriever)

    def page_scores(self, query_vector: np.ndarray, question: str) -> np.ndarray:
        if self.sentences is None or self.titles is None or self.owner is None:  # the first version
            cosines = self.vectors @ query_vector
            lexical = np.asarray(self.bm25.get_scores(DEFAULT_TOKENIZER(question)), dtype=np.float32)
            top = float(lexical.max()) if lexical.size else 0.0
            return RETRIEVAL_WEIGHT * cosines + (1 - RETRIEVAL_WEIGHT) * (lexical / top if top > 0 else 0.0)
        return self._dense_scores(query_vector[None, :])[0]

    def _dense_scores(self, queries: np.ndarray) -> np.ndarray:
        """Page scores of several question vectors at once (one row each): the sentence matrix, ~12,000
        rows a district, is read once for the base model's and the retrieval tower's vector."""
        assert self.sentences is not None and self.titles is not None and self.owner is not None
        cosines = self.sentences @ queries.T
        if self._sentence_starts is not None:  # each page's sentences in one block: no scatter needed
            best = np.maximum.reduceat(cosines, self._sentence_starts, axis=0).astype(np.float64)
        else:
            best = np.full((len(self.pages), len(queries)), -1.0)
            np.maximum.at(best, self.owner, cosines)
        lead, title, sentence = PAGE_WEIGHTS
        return (lead * (self.vectors @ queries.T) + title * (self.titles @ queries.T) + sentence * best).T

    @cached_property
    def _sentence_starts(self) -> np.ndarray | None:
        """First sentence row of each page, when pages own consecutive blocks of rows (as built)."""
        owner = self.owner
        if owner is None or not len(owner) or not np.array_equal(np.unique(owner), np.arange(len(self.pages))) \
                or np.any(np.diff(owner) < 0):
            return None
        return np.flatnonzero(np.diff(owner, prepend=-1)).astype(np.int64)

    @cached_property
    def _grouping(self) -> tuple[list[int], np.ndarray, np.ndarray]:
        """The page groups in order of first appearance, each page's group position, pages per group."""
        order: dict[int, int] = {}
        for group in self.groups:
            order.setdefault(group, len(order))
        inverse = np.array([order[g] for g in self.groups], dtype=np.int64)
        return list(order), inverse, np.bincount(inverse, minlength=len(order)).astype(np.float64)

    def group_scores(self, scores: np.ndarray) -> dict[int, float]:
        """Score of each page group (a page and its translations) from the scores of its versions.

        A mix of the best and the mean version (``GROUP_MEAN_SHARE``): a page whose German and
        English versions both match is a safer bet than one lucky version.
        """
        ids, inverse, count = self._grouping
        if len(inverse) != len(scores):
            raise ValueError(f"{len(scores)} page scores for {len(inverse)} pages")
        values = np.asarray(scores, dtype=np.float64)
        best = np.full(len(ids), -np.inf)
        np.maximum.at(best, inverse, values)
        total = np.bincount(inverse, weights=values, minlength=len(ids))
        share = GROUP_MEAN_SHARE
        return dict(zip(ids, ((1 - share) * best + share * total / count).tolist(), strict=True))

    def both_scores(self, query_vector: np.ndarray, question: str, tuned: np.ndarray | None = None
                    ) -> tuple[dict[int, float], dict[int, float] | None]:
        """Group scores for the (centred) base vector, and for the retrieval tower's when given."""
        if tuned is None:
            return self.group_scores(self.page_scores(query_vector, question)), None
        if self.sentences is None:
            return (self.group_scores(self.page_scores(query_vector, question)),
                    self.group_scores(self.page_scores(tuned, question)))
        base, other = self._dense_scores(np.stack([query_vector, tuned]).astype(np.float32))
        return self.group_scores(base), self.group_scores(other)

    def scores(self, query_vector: np.ndarray, question: str, tuned: np.ndarray | None = None) -> dict[int, float]:
        """Group scores for the (centred) base vector, mixed with the retrieval tower's when given."""
        base, other = self.both_scores(query_vector, question, tuned)
        return base if other is None else mix_scores(base, other)

    def rank(self, query_vector: np.ndarray, question: str, k: int = 10, tuned: np.ndarray | None = None) -> list[int]:
        best = self.scores(query_vector, question, tuned)
        return sorted(best, key=lambda g: -best[g])[:k]


def mix_scores(base: dict[int, float], tuned: dict[int, float]) -> dict[int, float]:
    """Group scores of the base model and the retrieval tower, ``RETRIEVAL_MIX`` of the first."""
    return {g: RETRIEVAL_MIX * base[g] + (1 - RETRIEVAL_MIX) * tuned[g] for g in base}


def centre_query(vector: np.ndarray, means: dict[str, np.ndarray], language: str) -> np.ndarray:
    """``vector`` less ``QUERY_CENTRING`` times its language's mean question vector, re-normalised."""
    mean = means.get(language)
    if mean is None or not QUERY_CENTRING:
        return vector
    shifted = vector - QUERY_CENTRING * mean
    return (shifted / max(float(np.linalg.norm(shifted)), 1e-9)).astype(np.float32)


def load_region_pages(base: Path | None = None) -> dict[str, list[Page]]:
    root = (base or omos_dir()) / "integreat-pages"
    regions: dict[str, list[Page]] = {}
    for region_dir in sorted(p for p in root.glob("*") if p.is_dir()):
        for export in sorted(region_dir.glob("*.json")):
            regions.setdefault(region_dir.name, []).extend(read_export(export, region_dir.name))
    return regions


# ---------------------------------------------------------------- the bench


@dataclass
class LanguageResult:
    language: str
    questions: int
    retrieval_questions: int  # answerable questions on a district with an export: R@1, R@3
    recall1: float
    recall3: float
    scores: dict[str, float]
    p50_ms: float
    p95_ms: float
    recall3_all: float = 0.0  # R@3 counting the unanswerable questions too (``retrieval_all`` of them)
    retrieval_all: int = 0


@dataclass
class Retrieval:
    """Ranked page groups per question, and which questions their page answers."""

    ranked: list[list[int]] = field(default_factory=list)
    gold: list[int] = field(default_factory=list)
    answerable: list[bool] = field(default_factory=list)

    def add(self, ranked: list[int], gold: int, answerable: bool) -> None:
        self.ranked.append(ranked)
        self.gold.append(gold)
        self.answerable.append(answerable)

    def recall(self, k: int, answerable_only: bool = True) -> float:
        """R@k; by default over answerable questions only.

        An unanswerable OMoS-QA question was written on a page that, by its annotation, does not
        answer it: ranking that page first is not what retrieval should do (dev: 35 of the 125
        retrieval questions per language; their page reached the top 3 for 29-37 %).
        """
        keep = [i for i, a in enumerate(self.answerable) if a or not answerable_only]
        return recall_at([self.ranked[i] for i in keep], [self.gold[i] for i in keep], k)

    def count(self, answerable_only: bool = True) -> int:
        return sum(1 for a in self.answerable if a or not answerable_only)


def run_language(split: str, language: str, limit: int | None, extractor: Extractor,
                 indexes: dict[str, RegionIndex], page_groups: dict[int, int],
                 means: dict[str, np.ndarray], retrieval: Encoder | None = None) -> LanguageResult:
    """Per question, timed: the question vectors (base, retrieval tower, reader), the page ranking,
    and reading the question's own page (its OMoS-QA context, as the paper's F1 is defined)."""
    rows = load_split(split, language, limit)
    store = VectorStore(extractor.encoder, f"omos-{split}-{language}")
    found, predictions, golds, latencies = Retrieval(), [], [], []
    search = search_encoder(extractor.encoder)
    for row in rows:
        vectors = store.passages(row.sentences)  # cached on disk, as a page index would be
        index = indexes.get(row.city)
        start = time.perf_counter()
        query = search.encode_queries([row.question])[0]  # finds the page (and decides whether it answers)
        if index is not None:
            tuned = retrieval.encode_queries([row.question])[0] if retrieval is not None else None
            ranked = index.rank(centre_query(query, means, language), row.question, k=3, tuned=tuned)
        reading = extractor.reading_vector(row.question, query)
        predicted = extractor.pick(row.question, reading, row.sentences, vectors, search_vector=query)
        latencies.append((time.perf_counter() - start) * 1000)
        predictions.append(predicted)
        golds.append(row.answers)
        if index is not None and row.page_id in page_groups:
            found.add(ranked, page_groups[row.page_id], bool(row.answers))
    store.save()
    return LanguageResult(language, len(rows), found.count(), found.recall(1), found.recall(3),
                          answer_scores(predictions, golds), percentile(latencies, 50), percentile(latencies, 95),
                          found.recall(3, answerable_only=False), found.count(answerable_only=False))


def markdown_table(results: list[LanguageResult]) -> str:
    lines = ["| lang | questions | retrieval qs | R@1 | R@3 | R@3 all qs | P | R | F1 | no-answer F1 | p50 ms "
             "| p95 ms |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        s = r.scores
        lines.append(f"| {r.language} | {r.questions} | {r.retrieval_questions} | {r.recall1:.3f} | {r.recall3:.3f} | "
                     f"{r.recall3_all:.3f} | {100 * s['precision']:.1f} | {100 * s['recall']:.1f} | "
                     f"{100 * s['f1']:.1f} | {100 * s['no_answer_f1']:.1f} | {r.p50_ms:.1f} | {r.p95_ms:.1f} |")
    return "\n".join(lines)


def indexed_districts(encoder: Encoder) -> tuple[dict[str, RegionIndex], dict[int, int], dict[str, np.ndarray]]:
    """The districts' page indexes, every page's group and the question-language means.

    Indexed as `lotse kb import-integreat` does, sharing its vector cache (~23,000 sentences:
    minutes, once); the groups cover every exported page, indexed or not.
    """
    from knowledge.pages import build_region, kb_query_means

    regions = load_region_pages()
    indexes = {name: build_region(name, [p for p in pages if p.sentences or p.title], encoder).index
               for name, pages in regions.items()}
    page_groups = {p.id: page_group(p) for pages in regions.values() for p in pages}
    return indexes, page_groups, kb_query_means(encoder)


def bench(split: str, languages: Sequence[str], limit: int | None, encoder: Encoder | None = None,
          params: ExtractParams | None = None, use_reader: bool = True) -> list[LanguageResult]:
    from knowledge.encoders import retrieval_encoder

    extractor = Extractor(encoder, params, use_reader=use_reader)
    search = search_encoder(extractor.encoder)
    indexes, page_groups, means = indexed_districts(search)
    retrieval = retrieval_encoder(search)
    return [run_language(split, lang, limit, extractor, indexes, page_groups, means, retrieval) for lang in languages]


def bench_retrieval(split: str, languages: Sequence[str], limit: int | None,
                    encoder: Encoder) -> list[tuple[str, int, float, float, float, float, float]]:
    """Page retrieval only: (language, questions, R@1, R@3, R@3 all questions, p50 ms, p95 ms) per language.

    The district pages are indexed as an import would (``knowledge.pages.build_region``, sharing
    its vector cache), and no question context is embedded: minutes instead of an hour when the
    extraction side did not change. R@1 and R@3 count answerable questions (``Retrieval.recall``).
    """
    from knowledge.encoders import retrieval_encoder

    encoder = search_encoder(encoder)
    retrieval = retrieval_encoder(encoder)
    indexes, page_groups, means = indexed_districts(encoder)
    out = []
    for lang in languages:
        rows = [r for r in load_split(split, lang, limit) if r.city in indexes and r.page_id in page_groups]
        found, latencies = Retrieval(), []
        for row in rows:
            start = time.perf_counter()
            query = encoder.encode_queries([row.question])[0]
            tuned = retrieval.encode_queries([row.question])[0] if retrieval is not None else None
            ranked = indexes[row.city].rank(centre_query(query, means, lang), row.question, k=3, tuned=tuned)
            latencies.append((time.perf_counter() - start) * 1000)
            found.add(ranked, page_groups[row.page_id], bool(row.answers))
        out.append((lang, found.count(), found.recall(1), found.recall(3), found.recall(3, answerable_only=False),
                    percentile(latencies, 50), percentile(latencies, 95)))
    return out


def bench_command(args: Any) -> int:
    if not (omos_dir() / "splits").is_dir():
        print(f"OMoS-QA data not found under {omos_dir()} (set LOTSE_SHARED_DIR)", file=sys.stderr)
        return 2
    languages = [x.strip() for x in args.languages.split(",") if x.strip()]
    encoder_name = getattr(args, "encoder", None) or "reader"
    if getattr(args, "retrieval_only", False):
        print(f"OMoS-QA {args.split} split, page retrieval only, encoder {encoder_name}")
        print("| lang | retrieval qs | R@1 | R@3 | R@3 all qs | p50 ms | p95 ms |\n|---|---:|---:|---:|---:|---:|---:|")
        for lang, n, r1, r3, r3_all, p50, p95 in bench_retrieval(args.split, languages, args.limit,
                                                                  encoder_named(encoder_name)):
            print(f"| {lang} | {n} | {r1:.3f} | {r3:.3f} | {r3_all:.3f} | {p50:.1f} | {p95:.1f} |")
        print("\nR@k over answerable questions; R@3 all qs counts the unanswerable ones too. Latency: query "
              "embedding (base model and, when shipped, the retrieval tower) + page ranking over the district.")
        return 0
    params_file = getattr(args, "params", None)
    use_reader = not getattr(args, "rule", False)
    encoder = encoder_named(encoder_name)
    results = bench(args.split, languages, args.limit, encoder,
                    load_params(Path(params_file)) if params_file else None, use_reader=use_reader)
    results_encoder = f"{encoder.name} (pages found with {search_encoder(encoder).name})"
    print(f"OMoS-QA {args.split} split (Tür an Tür – Digitalfabrik gGmbH, CC BY 4.0), encoder {results_encoder}, "
          f"extraction: {'reader' if use_reader else 'rule'}")
    print(markdown_table(results))
    print("\nR@k: the question's page (or a translation) among the top k pages of its district, over the "
          "answerable questions (R@3 all qs: the unanswerable ones too); questions on districts without an "
          "export are not counted. Latency per question: the question vectors (base model, retrieval tower, "
          "reader), ranking the district's pages and reading the question's page (sentences embedded beforehand).")
    print("command: " + shlex.join(["lotse", *sys.argv[1:]] if sys.argv and sys.argv[0].endswith("lotse")
                                   else ["lotse", "bench", "omos", "--split", args.split,
                                         "--languages", ",".join(languages),
                                         *(["--limit", str(args.limit)] if args.limit else [])]))
    return 0


# ---------------------------------------------------------------- tuning (train split only)


GRID: dict[str, Sequence[Any]] = {
    "weight": (0.6, 0.7, 0.8, 0.9, 1.0),
    "smooth": (0.0, 0.15, 0.3, 0.45),
    "min_chars": (0, 15),
    "margin": (0.02, 0.04, 0.06, 0.08, 0.10, 0.13, 0.16, 0.20, 0.25, 0.30),
}


def tune(split: str, languages: Sequence[str], limit: int | None, encoder: Encoder | None = None
         ) -> tuple[ExtractParams, dict[str, float]]:
    """Grid search maximising mean per-question F1, where a no-answer question scores 1 if left empty.

    Features are computed once; the no-answer threshold is swept over the observed best cosines.
    """
    extractor = Extractor(encoder, ExtractParams())
    feats = []
    for lang in languages:
        rows = load_split(split, lang, limit)
        store = VectorStore(extractor.encoder, f"omos-{split}-{lang}")
        for row in rows:
            cosines, bm25 = extractor.features(row.question, row.sentences, store.passages(row.sentences))
            feats.append((cosines, bm25, [len(s.strip()) for s in row.sentences], set(row.answers)))
        store.save()
    best_cos = np.array([float(c.max()) if c.size else 0.0 for c, _, _, _ in feats])
    empty_gold = np.array([not gold for *_, gold in feats])
    taus = sorted({round(float(t), 3) for t in np.quantile(best_cos, np.linspace(0, 0.5, 26))})
    best: tuple[float, ExtractParams] = (-1.0, ExtractParams())
    for weight, smooth, min_chars in product(GRID["weight"], GRID["smooth"], GRID["min_chars"]):
        base = ExtractParams(weight=weight, smooth=smooth, min_chars=min_chars)
        smoothed = [combined_scores(c, b, base) for c, b, _, _ in feats]
        for margin in GRID["margin"]:
            f1_if_answered = np.zeros(len(feats))
            for i, (scores, (_, _, lengths, gold)) in enumerate(zip(smoothed, feats, strict=True)):
                ok = np.array([n >= min_chars for n in lengths])
                if not gold or not ok.any():
                    continue
                top = float(scores[ok].max())
                picked = [j for j in range(len(scores)) if ok[j] and scores[j] >= top - margin]
                f1_if_answered[i] = sentence_prf(picked, sorted(gold))[2]
            for tau in taus:
                answered = best_cos >= tau
                objective = float(np.where(answered, f1_if_answered, empty_gold.astype(float)).mean())
                if objective > best[0]:
                    best = (objective, replace(base, margin=margin, no_answer=tau))
    return best[1], {"objective": round(best[0], 4), "questions": len(feats)}


def tune_command(args: Any) -> int:
    languages = [x.strip() for x in args.languages.split(",") if x.strip()]
    encoder_name = getattr(args, "encoder", None) or "reader"
    params, info = tune(args.split, languages, args.limit, encoder_named(encoder_name))
    target = Path(args.params) if getattr(args, "params", None) else PARAMS_FILE
    save_params(params, {
        "encoder": encoder_name,
        "tuned_on": {"dataset": "OMoS-QA", "split": args.split, "languages": languages,
                     "limit_per_language": args.limit, **info},
        "objective": "mean per-question sentence F1; unanswerable questions score 1 when left empty",
    }, target)
    print(json.dumps({"params": params.__dict__, **info}, indent=2))
    return 0
