"""Answers from imported Integreat pages: the district's own content, when no curated entry fits.

Curated entries are checked by people and come first (``knowledge.answer``). A district that
publishes on Integreat has hundreds of pages of local facts no entry covers ("Who advises
benefit recipients on their energy bills?"), so when the curated entries do not answer
confidently and the question is not off-topic, the imported pages of the asker's region
(``lotse kb import-integreat``) get a chance:

1. the page is found with the page retrieval measured by ``lotse bench omos``
   (``knowledge.bench_omos.RegionIndex``: opening, title and best sentence of every page, the
   question centred on its language first, ``centre_query``);
2. the answering sentences are picked by the trained reader (``knowledge.reader``: one run of
   neighbouring sentences), the calibration below deciding whether the page answers at all;
3. the ``MAX_SENTENCES`` neighbouring sentences of that run with the highest probability are the
   answer, in page order, with the page (id, title, Integreat URL) as the source, so the asker
   can read the whole page. The sentences are read with the question encoder fine-tuned for it
   (``knowledge.encoder_train``); the page is found, and whether it answers decided, with the
   base model's question vector.

The page is shown in the asker's language if the district has it (the exports are in de and
en), else in the first available language of the fallback chain, and ``knowledge.answer`` then
prefixes the "not yet available in your language" notice.

The sentence vectors of a region are cached on disk (``knowledge.cache.cached_vectors``, one
file per import version): the first question after an import embeds every sentence (minutes
for a district's ~10,000 sentences on two cores), later processes load the file in
milliseconds. A re-import is noticed by the files' size and modification time, so a running
server rebuilds the index on the next question instead of answering from deleted pages.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import sys
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.bench_omos import LEAD_CHARS, RegionIndex, centre_query, mix_scores, page_group
from knowledge.cache import cache_key, cached_vectors, text_key
from knowledge.encoders import Encoder, passage_name, reader_encoder, retrieval_encoder
from knowledge.extract import Extractor, ExtractParams
from knowledge.integreat import Page, load_integreat_pages, sources_dir
from lotse.languages import fallback_chain

log = logging.getLogger(__name__)

CALIBRATION_FILE = Path(__file__).resolve().parent / "page_calibration.json"
PAGE_INDEX_VERSION = 1  # bump when the texts embedded per page change
MAX_SENTENCES = 4  # an answer is a few sentences; the source link leads to the whole page
# The reader's own decoding is tuned for OMoS-QA's F1, whose answers are long blocks (recall
# pays); a chat answer shows four sentences and links the page, so the run's ends below this
# probability are trimmed. Dev, answerable questions, de / en / ar: 0.7 shows 63.6 / 63.1 / 60.1 %
# right sentences and at least one right sentence for 83.9 / 82.6 / 81.3 % (0.4: 62.7 / 59.5 /
# 57.8 %, 84.5 / 83.9 / 82.6 %); the page reader trained with the soft-F1 loss is surer overall.
CHAT_THRESHOLD = 0.7
BATCH = 32

Signature = tuple[tuple[str, int, int], ...]
REGION_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")  # as `lotse kb import-integreat` accepts it


@dataclass(frozen=True)
class PageAnswer:
    """The sentences of one page that answer a question, and how sure the extraction is."""

    page: Page
    sentences: list[str]
    confidence: float  # best sentence cosine of the page: the quantity the no-answer rule thresholds

    @property
    def text(self) -> str:
        return join_sentences(self.sentences)

    @property
    def source(self) -> dict[str, str | None]:
        return {"id": str(self.page.id), "title": self.page.title or None, "url": self.page.url or None}


def join_sentences(sentences: Sequence[str]) -> str:
    """Sentences as prose; a list item, heading or colon (no final full stop) ends its line."""
    out = ""
    for sentence in sentences:
        if out:
            out += " " if out[-1] in ".!?;؟。" else "\n"
        out += sentence
    return out


@dataclass
class RegionPages:
    """One region's imported pages with their retrieval index, as loaded for ``signature``."""

    pages: list[Page]
    index: RegionIndex
    starts: np.ndarray  # first row of each page in ``index.sentences``
    by_group: dict[int, dict[str, int]]  # group (page and its translations) -> language -> page position
    signature: Signature = ()

    @classmethod
    def from_index(cls, index: RegionIndex, signature: Signature = ()) -> RegionPages:
        lengths = np.array([len(p.sentences or [p.title or "-"]) for p in index.pages], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64) if len(lengths) else lengths
        by_group: dict[int, dict[str, int]] = {}
        for position, page in enumerate(index.pages):
            by_group.setdefault(page_group(page), {})[page.language] = position
        return cls(index.pages, index, starts, by_group, signature)

    def sentence_vectors(self, position: int) -> np.ndarray:
        assert self.index.sentences is not None
        start = int(self.starts[position])
        return self.index.sentences[start:start + len(self.pages[position].sentences)]


def _texts(pages: list[Page]) -> tuple[list[str], list[str], list[list[str]]]:
    leads = [f"{p.title}. {' '.join(p.sentences)}"[:LEAD_CHARS] for p in pages]
    titles = [p.title or "-" for p in pages]
    sentences = [p.sentences or [p.title or "-"] for p in pages]
    return leads, titles, sentences


def build_region(region: str, pages: list[Page], encoder: Encoder, signature: Signature = ()) -> RegionPages:
    """Index ``pages``: cached vectors for every opening, title and sentence (passage mode, as benched)."""
    from tqdm import tqdm

    leads, titles, per_page = _texts(pages)
    flat = [s for sentences in per_page for s in sentences]
    texts = [*leads, *titles, *flat]
    keys = [text_key("passage", t) for t in texts]
    content_hash = hashlib.sha1("\n".join(keys).encode()).hexdigest()
    family = cache_key(passage_name(encoder), "integreat", region, f"v{PAGE_INDEX_VERSION}")

    def embed(missing: list[int]) -> np.ndarray:
        order = sorted(missing, key=lambda i: len(texts[i]))  # similar lengths batch with little padding
        vectors = np.zeros((len(missing), encoder.dim), dtype=np.float32)
        row = {i: n for n, i in enumerate(missing)}
        with tqdm(total=len(order), desc=f"Embedding Integreat pages of {region}", unit="text",
                  file=sys.stderr, disable=not sys.stderr.isatty(), leave=False) as bar:
            for start in range(0, len(order), BATCH):
                chunk = order[start:start + BATCH]
                out = encoder.encode_passages([texts[i] for i in chunk])
                for i, vector in zip(chunk, out, strict=True):
                    vectors[row[i]] = vector
                bar.update(len(chunk))
        return vectors

    vectors = cached_vectors(content_hash, family, keys, encoder.dim, embed)
    n = len(pages)
    owner = np.array([i for i, sentences in enumerate(per_page) for _ in sentences], dtype=np.int64)
    index = RegionIndex(pages, vectors[:n], vectors[n:2 * n], vectors[2 * n:], owner,
                        [page_group(p) for p in pages])
    return RegionPages.from_index(index, signature)


class PageAnswerer:
    """Answers from the imported pages of a region; regions load lazily, once per import version."""

    def __init__(self, encoder: Encoder, params: ExtractParams | None = None, base: Path | None = None,
                 calibration: PageCalibration | None = None, query_means: dict[str, np.ndarray] | None = None,
                 always_extract: bool | None = None) -> None:
        self.encoder = encoder  # finds the page (and is the knowledge base's: one question vector for both)
        # reads it: the question encoder fine-tuned for answer sentences, when shipped
        self.extractor = Extractor(reader_encoder(encoder), params)
        # finds it with the base model: mixed with the tower fine-tuned for page retrieval, when shipped
        self.retrieval = retrieval_encoder(encoder)
        self.calibration = calibration or PageCalibration.load()
        # Trained, the calibration decides whether the page answers (it knows the page's language
        # may not be the question's); the extraction's own no-answer cut-off is for the untrained case.
        self.always_extract = bool(self.calibration.weights) if always_extract is None else always_extract
        self._query_means = query_means
        self._base = base
        self._regions: dict[str, RegionPages] = {}
        self._lock = threading.Lock()

    @property
    def base(self) -> Path:
        return self._base or sources_dir()

    def signature(self, region: str) -> Signature:
        """Size and modification time of the region's files: changes with every re-import that changes them."""
        files = []
        for file in sorted((self.base / region).glob("*.json")):
            try:
                stat = file.stat()
            except OSError:  # deleted while we looked
                continue
            files.append((file.name, stat.st_mtime_ns, stat.st_size))
        return tuple(files)

    def has_region(self, region: str | None) -> bool:
        """Whether pages were imported for ``region`` (a name as the import accepts it, never a path)."""
        return bool(region and REGION_NAME.fullmatch(region) and self.signature(region))

    def regions(self) -> list[str]:
        base = self.base
        return sorted(p.name for p in base.glob("*") if p.is_dir() and any(p.glob("*.json"))) if base.is_dir() else []

    def region_pages(self, region: str) -> RegionPages | None:
        """The loaded region, rebuilt if its import changed since; ``None`` without pages."""
        signature = self.signature(region) if REGION_NAME.fullmatch(region) else ()
        if not signature:
            return None
        with self._lock:  # one build per region, even when several threads ask at once
            loaded = self._regions.get(region)
            if loaded is None or loaded.signature != signature:
                pages = [p for p in load_integreat_pages(region, self.base) if p.sentences or p.title]
                if not pages:
                    return None
                log.info("Integreat pages of %s: %d pages, building the index", region, len(pages))
                loaded = build_region(region, pages, self.encoder, signature)
                self._regions[region] = loaded
            return loaded

    @property
    def query_means(self) -> dict[str, np.ndarray]:
        """Mean example-question vector per language (``knowledge.bench_omos.centre_query``)."""
        if self._query_means is None:
            self._query_means = kb_query_means(self.encoder)
        return self._query_means

    @query_means.setter
    def query_means(self, means: dict[str, np.ndarray]) -> None:
        self._query_means = means

    def candidate(self, loaded: RegionPages, text: str, query_vector: np.ndarray, language: str,
                  reading: np.ndarray | None = None, retrieval: np.ndarray | None = None) -> Candidate | None:
        """The best page's version to show, its picked sentences and the calibration features.

        ``reading`` and ``retrieval``: the question as the extractor reads it and as the retrieval
        tower finds pages, when the caller has them (training the calibration passes train
        questions' held-out vectors; the tuned encoders fitted those).
        """
        if not loaded.pages:
            return None
        centred = centre_query(query_vector, self.query_means, language)
        if retrieval is None and self.retrieval is not None:
            retrieval = self.retrieval.encode_queries([text])[0]
        base, other = loaded.index.both_scores(centred, text, retrieval)
        best = base if other is None else mix_scores(base, other)
        ranked = sorted(best, key=lambda g: -best[g])
        versions = loaded.by_group[ranked[0]]
        chosen = next(code for code in [*fallback_chain(language), *sorted(versions)] if code in versions)
        position = versions[chosen]
        page = loaded.pages[position]
        vectors = loaded.sentence_vectors(position)
        cosines = (vectors @ query_vector).astype(np.float32)
        no_answer = -1.0 if self.always_extract else None
        # The reader learned on OMoS-QA contexts, which open with the page title: read it the same way.
        assert loaded.index.titles is not None
        titled = np.vstack([loaded.index.titles[position][None, :], vectors])
        if reading is None:
            reading = self.extractor.reading_vector(text, query_vector)
        # a few sentences, the most probable of the run: the source link leads to the rest
        read = self.extractor.read(text, reading, [page.title or "-", *page.sentences], titled, no_answer,
                                   CHAT_THRESHOLD, search_vector=query_vector, limit=MAX_SENTENCES)
        picked = [i - 1 for i in read.picked if i > 0]
        # The base model's scores, also when the retrieval tower helped rank: a tower's cosines have
        # a scale of their own (the held-out towers' train questions scored 0.66, the final tower's dev
        # questions 0.49), so the calibration would learn a page score the shipped tower never gives.
        top = base[ranked[0]]
        second = max((base[g] for g in ranked[1:]), default=top - 1.0)
        features = np.array([
            float(cosines.max()) if cosines.size else 0.0,
            top,
            top - second,
            float(page.language != language),
            read.answers,
            *ranking_lead(best, ranked),
        ])
        return Candidate(ranked[0], position, picked, features)

    def answer(self, text: str, query_vector: np.ndarray, language: str, region: str | None) -> PageAnswer | None:
        """The answering sentences of the best page of ``region``, or ``None`` if no page answers."""
        if not region or not text.strip():
            return None
        loaded = self.region_pages(region)
        if loaded is None:
            return None
        found = self.candidate(loaded, text, query_vector, language)
        if found is None or not found.picked:
            return None
        confidence = self.calibration.predict(found.features)
        if confidence < self.calibration.threshold:
            return None
        page = loaded.pages[found.position]
        return PageAnswer(page, [page.sentences[i] for i in found.picked], confidence)


def ranking_lead(scores: dict[int, float], ranked: list[int]) -> tuple[float, float]:
    """How far the first page stands out in the ranking used: over the second page and over all pages.

    In standard deviations of all the pages' scores, so scale-free: it means the same whichever
    encoders ranked (the base model alone, or mixed with a retrieval tower whose cosines run
    higher or lower). The lead over the mean is divided by ``sqrt(2 ln n)``, about the lead the
    best of ``n`` pages has by chance, so a district of 500 pages and an import of 10 read alike.
    """
    values = np.fromiter(scores.values(), dtype=np.float64, count=len(scores))
    if len(values) < 2:
        return 0.0, 0.0
    spread = float(values.std()) + 1e-9
    first, second = scores[ranked[0]], scores[ranked[1]]
    chance = float(np.sqrt(2 * np.log(len(values))))
    return (first - second) / spread, (first - float(values.mean())) / spread / chance


def kb_query_means(encoder: Encoder) -> dict[str, np.ndarray]:
    """Per-language mean of the knowledge base's example questions (its cached index vectors)."""
    from knowledge.index import HybridIndex
    from knowledge.model import load_knowledge

    return HybridIndex(load_knowledge(), encoder, progress=False).query_means()


@dataclass(frozen=True)
class Candidate:
    group: int  # the best page group (a page and its translations)
    position: int  # the version shown, in RegionPages.pages
    picked: list[int]  # sentence indices extracted from it (empty: the page does not answer)
    features: np.ndarray  # FEATURES, for the calibration


FEATURES = ("best_cosine", "page_score", "page_margin", "other_language", "answer_probability",
            "ranking_margin", "ranking_lead")


@dataclass
class PageCalibration:
    """Probability that the top page answers the question, fitted by ``lotse bench omos-train``.

    Positives: OMoS-QA train questions whose page came first and has answer sentences. Negatives:
    the other train questions (wrong page, or a page that does not answer) and the off-topic
    examples of ``knowledge/offtopic_examples.yml`` asked against the same districts, so that
    "tell me a joke" is refused even where a district's pages are many.
    Without the file (before training) the extraction rule alone decides, as in the bench.
    """

    mean: list[float]
    scale: list[float]
    weights: list[float]  # per standardised feature, then the intercept
    threshold: float = 0.5
    meta: dict[str, Any] = field(default_factory=dict)

    def predict(self, features: np.ndarray) -> float:
        if not self.weights:
            return float(features[0])  # untrained: the best cosine, which the extraction rule thresholds
        from knowledge.calibration import sigmoid

        x = (features - np.asarray(self.mean)) / np.asarray(self.scale)
        w = np.asarray(self.weights)
        return sigmoid(float(x @ w[:-1] + w[-1]))

    @classmethod
    def load(cls, path: Path | None = None) -> PageCalibration:
        path = path or CALIBRATION_FILE
        if not path.exists():
            return cls([], [], [], threshold=0.0)
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("features") != list(FEATURES):
            raise ValueError(f"{path} was fitted on other features; refit: lotse bench omos-train")
        return cls(data["mean"], data["scale"], data["weights"], data.get("threshold", 0.5), data.get("meta", {}))

    def save(self, path: Path | None = None) -> None:
        payload = {"features": list(FEATURES), **asdict(self)}
        (path or CALIBRATION_FILE).write_text(json.dumps(payload, indent=1, sort_keys=True) + "\n", encoding="utf-8")
