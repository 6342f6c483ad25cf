"""The one question-answering contract of Lotse, used by ``lotse ask`` and the Rasa actions.

An answer is either a curated entry in the asker's language with its sources, or an honest
"no answer" that says why: the question is outside what Lotse covers (``out_of_scope``), or it
is on topic but no entry clearly answers it (``handoff_offered``: a person should help).
Guessing is the failure this module exists to prevent, so every decision goes through the
calibrated confidence of ``knowledge.calibration``.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from knowledge.calibration import Calibrator, base_features, calibrator_for
from knowledge.encoders import Encoder, default_encoder
from knowledge.index import HybridIndex
from knowledge.model import STATE_REGION, Entry, KnowledgeBase, load_knowledge
from knowledge.pages import PageAnswer, PageAnswerer
from knowledge.places import PlaceFinder
from lotse.i18n import native_name, t
from lotse.langid import detect
from lotse.languages import DEFAULT_LANGUAGE, fallback_chain, normalise

log = logging.getLogger(__name__)

# The calibrated probability at which the top entry is shown as the answer.
ANSWER_THRESHOLD = 0.5
OFF_TOPIC_THRESHOLD = 0.5
MAX_QUERY_CHARS = 1000  # E5 reads 512 tokens; the rest of a long message only adds noise
CONTRACT_KEYS = ("language", "answer", "sources", "confidence", "handoff_offered", "out_of_scope")


@dataclass
class Answer:
    """What Lotse replies to one question.

    ``language`` is the language of ``answer``. It equals the asker's language unless the
    entry is not translated into it: then ``answer`` starts with a notice in the asker's
    language ("not yet available in ..., here it is in ...") and continues in the first
    available language of ``lotse.languages.fallback_chain``, and ``language`` names *that*
    language, so a client sets text direction and speech output for what it really shows.
    Without an answer, ``language`` is the asker's language.
    """

    language: str
    answer: str | None
    sources: list[dict[str, str | None]]
    confidence: float
    handoff_offered: bool
    out_of_scope: bool
    entry_id: str | None = None
    topic: str | None = None
    urgency: str | None = None
    ask_town: bool = False
    region: str | None = None  # the overlay region answered for (given, or from a town named in the question)
    offices: list[str] = field(default_factory=list)  # offices named in the question (office_names.yml keys)

    def to_contract(self) -> dict[str, Any]:
        """The JSON contract: the six agreed keys first, then extras consumers may ignore."""
        return {
            "language": self.language,
            "answer": self.answer,
            "sources": self.sources,
            "confidence": round(float(self.confidence), 4),
            "handoff_offered": self.handoff_offered,
            "out_of_scope": self.out_of_scope,
            "entry_id": self.entry_id,
            "topic": self.topic,
            "urgency": self.urgency,
            "ask_town": self.ask_town,
            "region": self.region,
            "offices": self.offices,
        }


def reply_language(text: str, language: str | None = None) -> str:
    """The asker's language: as given (normalised), else detected from ``text``, else German."""
    return normalise(language) or detect(text).language or DEFAULT_LANGUAGE


class Answerer:
    """Loads the encoder, the index and the calibration once; answers from many threads."""

    def __init__(self, kb: KnowledgeBase | None = None, encoder: Encoder | None = None, *,
                 index: HybridIndex | None = None, calibrator: Calibrator | None = None,
                 places: PlaceFinder | None = None, pages: PageAnswerer | None = None) -> None:
        if index is not None:
            kb, encoder = index.kb, index.encoder
        self.kb = kb if kb is not None else load_knowledge()
        self.encoder = encoder if encoder is not None else default_encoder()
        self.index = index if index is not None else HybridIndex(self.kb, self.encoder)
        self.calibrator = calibrator if calibrator is not None else calibrator_for(self.index)
        self.places = places if places is not None else PlaceFinder(self.kb)
        # Imported Integreat pages (knowledge.pages): loaded per region on its first question.
        self.pages = pages if pages is not None else PageAnswerer(self.encoder)
        self.pages.query_means = self.index.query_means()  # the same example questions, already embedded

    def is_known_region(self, region: str | None) -> bool:
        return (region is None or region == STATE_REGION or region in self.kb.regions
                or self.pages.has_region(region))

    def _region(self, region: str | None) -> str | None:
        """The overlay region to use; an unknown one is ignored (and logged), never fatal."""
        if not self.is_known_region(region):
            log.warning("unknown region %r: answering with state-wide entries only", region)
            return None
        return None if region == STATE_REGION else region

    def answer(self, text: str, language: str | None = None, region: str | None = None) -> Answer:
        """Answer ``text``; ``language`` (else detected, else German) is the reply language.

        Without a ``region`` (or with the state-wide one), a town or district named in the
        question decides it: "Ich wohne in Goch ..." is answered for Kreis Kleve. A region given by
        the caller (the session's) is kept even when the question names another place.
        """
        lang = reply_language(text, language)
        region = self._region(region)
        text = text.strip()[:MAX_QUERY_CHARS]
        places = self.places.find(text)
        if region is None:
            named = {p.key for p in places if p.kind != "office"}
            region = named.pop() if len(named) == 1 else None  # two towns of two districts: ask
        answer = self._answer(text, lang, region)
        answer.region = region
        answer.offices = list(dict.fromkeys(p.key for p in places if p.kind == "office"))
        return answer

    def _answer(self, text: str, lang: str, region: str | None) -> Answer:
        visible = self.index.visible(region)
        if not text or not visible.any():
            return Answer(lang, None, [], 0.0, handoff_offered=bool(text), out_of_scope=False)

        vector = self.encoder.encode_queries([text])[0]
        scores = self.index.score(vector, self.index.query_tokens(text), visible)
        top, base = base_features(scores)
        confidence, off_topic = self.calibrator.predict(base, vector)
        entry = self.kb.entries[self.index.entry_ids[top]]
        if confidence >= ANSWER_THRESHOLD:
            return self._compose(entry, lang, region, confidence)
        # No curated entry fits, but the region's own imported pages may (cited with their URL).
        # Asked before the off-topic verdict: a district's pages cover more than the curated topics
        # (sports clubs, energy bills), and their calibration was fitted with the off-topic
        # examples as negatives (knowledge.page_train), so "tell me a joke" still gets no page.
        page = self.pages.answer(text, vector, lang, region)
        if page is not None:
            return self._compose_page(page, lang, region)
        if off_topic >= OFF_TOPIC_THRESHOLD:
            return Answer(lang, None, [], confidence, handoff_offered=False, out_of_scope=True)
        # On topic but unclear: no guess, a person instead. The topic of the best guess still
        # helps to route the hand-off.
        return Answer(lang, None, [], confidence, handoff_offered=True, out_of_scope=False, topic=entry.topic)

    def answer_entry(self, entry_id: str, language: str, region: str | None = None) -> Answer:
        """A known entry (a topic button's overview, see ``overview_id``), localised for ``region``."""
        lang = normalise(language) or DEFAULT_LANGUAGE
        region = self._region(region)
        entry = self.kb.entries.get(self.index.substitute(entry_id, region))
        if entry is None or entry.region not in (STATE_REGION, region):
            log.warning("entry %r not available (region %r)", entry_id, region)
            return Answer(lang, None, [], 0.0, handoff_offered=True, out_of_scope=False)
        return self._compose(entry, lang, region, 1.0)

    def _compose_page(self, page: PageAnswer, lang: str, region: str | None) -> Answer:
        """Sentences of an imported page, in the page's language (with a notice if not the asker's)."""
        used = page.page.language
        text = page.text
        if used != lang:
            text = t("answer_in_other_language", lang, language=native_name(used)) + "\n\n" + text
        return Answer(language=used, answer=text, sources=[page.source], confidence=page.confidence,
                      handoff_offered=False, out_of_scope=False, region=region)

    def _compose(self, entry: Entry, lang: str, region: str | None, confidence: float) -> Answer:
        # Beyond the fallback chain only for content that fails `lotse kb check`.
        used = next((code for code in [*fallback_chain(lang), *entry.answers] if code in entry.answers), None)
        if used is None:
            return Answer(lang, None, [], 0.0, handoff_offered=True, out_of_scope=False, topic=entry.topic)
        text = entry.answers[used].text.strip()
        if used != lang:
            text = t("answer_in_other_language", lang, language=native_name(used)) + "\n\n" + text
        ask_town = entry.depends_on_office and region is None
        if ask_town:
            text += "\n\n" + t("ask_town", lang)
        handoff = entry.handoff
        return Answer(
            language=used,
            answer=text,
            sources=[{"id": s.id, "title": s.title, "url": s.url} for s in entry.sources],
            confidence=confidence,
            handoff_offered=bool(handoff and handoff.offer),
            out_of_scope=False,
            entry_id=entry.id,
            topic=entry.topic,
            urgency=handoff.urgency if handoff else None,
            ask_town=ask_town,
            region=region,
        )


_answerer: Answerer | None = None
_lock = threading.Lock()
_generation: tuple[int, str] = (0, "")
_checked_at = 0.0
_rebuilding: threading.Thread | None = None
CHECK_INTERVAL_SECONDS = 1.0


def _rebuild(generation: tuple[int, str]) -> None:
    """A new answerer for the published content, swapped in when ready; the old one answers meanwhile."""
    global _answerer, _generation, _rebuilding
    with _lock:
        old = _answerer
    try:
        # Same encoder (loading the model again is the slow part); the index cache embeds only changed texts.
        fresh = Answerer(load_knowledge(), old.encoder if old is not None else None)
    except Exception:
        log.exception("knowledge: rebuilding the answerer after a content change failed; keeping the old one")
        fresh = None
    with _lock:
        if fresh is not None:
            _answerer = fresh
            log.info("knowledge: answerer rebuilt for content generation %s", generation[1] or "0")
        _generation = generation  # also after a failure: retried on the next publish, not every second
        _rebuilding = None


def _check_generation() -> threading.Thread | None:
    """Start (or, with ``block``, run) a rebuild when the content generation changed. Caller holds ``_lock``."""
    global _checked_at, _rebuilding
    from knowledge.overlay import generation

    _checked_at = time.monotonic()
    current = generation()
    if current == _generation or _rebuilding is not None:
        return _rebuilding
    _rebuilding = threading.Thread(target=_rebuild, args=(current,), name="lotse-answerer-refresh", daemon=True)
    _rebuilding.start()
    return _rebuilding


def get_answerer() -> Answerer:
    """The process-wide answerer: the model and the index are loaded once, on first use.

    Edits published in the console are picked up without a restart: at most once per second this
    compares the overlay's generation file (``knowledge.overlay``) and, when it changed, builds a
    new answerer in the background and swaps it in; until then the previous one keeps answering.
    Hand edits of the shipped ``knowledge/`` files still need a restart.
    """
    global _answerer, _generation, _checked_at
    from knowledge.overlay import generation

    with _lock:
        if _answerer is None:
            _generation = generation()
            _checked_at = time.monotonic()
            _answerer = Answerer()
        elif time.monotonic() - _checked_at >= CHECK_INTERVAL_SECONDS:
            _check_generation()
        return _answerer


def refresh_answerer(timeout: float | None = 60.0) -> Answerer:
    """Check for published content now and wait for the rebuild (tests, ``lotse kb index``)."""
    with _lock:
        worker = _check_generation() if _answerer is not None else None
    if worker is not None:
        worker.join(timeout)
    return get_answerer()


def reset_answerer() -> None:
    """Forget the process-wide answerer (tests, or after pointing LOTSE_KNOWLEDGE_DIR elsewhere)."""
    global _answerer, _generation
    with _lock:
        _answerer = None
        _generation = (0, "")
