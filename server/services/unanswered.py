"""Unanswered questions: what newcomers asked that no entry answered, grouped for the editors.

Recording: an observer of the conversation path (``record``) keeps the newcomer's question when
the bot had to ask back ("clarify": on topic, but no confident answer; the offer of a person
comes with it). Button presses, crisis messages and off-topic questions are not kept: they are no
gaps in the content (the usage figures count off-topic questions).

Grouping: the same question in Arabic and in Ukrainian is one group. multilingual-e5 places
translations close together, but raw cosines of E5 sit in a narrow band (0.75-0.95) where a
shared sentence pattern ("Як знайти квартиру?" / "Як знайти сімейного лікаря?", 0.88) outweighs
a shared meaning across languages ("كيف أجد شقة؟" / "Як знайти квартиру?", 0.87). Vectors are
therefore projected first: minus the mean of example questions of the knowledge base and minus
their 12 main directions (sentence pattern and language live there, see ``BASIS_FILE``). On the
paraphrase set in tests/server/test_unanswered.py (8 questions in 7 languages, 32 wordings)
average-linkage grouping is then exact for every threshold from 0.22 to 0.36, and for all 140
shuffled subsets of 2, 3 or 5 of its questions from 0.24 to 0.33; raw cosines had no threshold
that kept patterns apart and translations together. ``GROUP_THRESHOLD`` is in the middle.

Grouping runs on demand (an editor opens the page): each question is embedded once, when first
grouped, and its vector stored; the grouping itself (``cluster``) takes about a second for 3000
questions on a busy two-core machine.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import ChatSession, Message, UnansweredQuestion, User, utcnow
from server.services.content import PLACEHOLDER_MARK

log = logging.getLogger(__name__)

UNCLEAR_KEY = "clarify"
GROUP_THRESHOLD = 0.30
BASIS_FILE = Path(__file__).with_name("unanswered_basis.npz")
BASIS_COMPONENTS = 12
MAX_QUESTIONS = 3000  # the newest unresolved questions are grouped; older ones wait their turn
EMBED_BATCH = 32
EXAMPLES_SHOWN = 6
WORDINGS_PER_LANGUAGE = 10  # example questions a group adds to an entry, per language
MAX_TEXT = 500  # an example question is a sentence, not a letter
RESOLUTIONS = ("new_entry", "added_wordings", "dismissed")
CORE_LANGUAGES = ("de", "en", "ar", "tr", "uk", "ru", "fa")
PLACEHOLDER_QUESTION = f"{PLACEHOLDER_MARK}: Beispielfrage in dieser Sprache"
PLACEHOLDER = f"{PLACEHOLDER_MARK}: Antwort auf die Beispielfragen (aus „Offene Fragen“ angelegt)."


# -- recording -------------------------------------------------------------------------------

def _meta_key(message: Message) -> str | None:
    meta = (message.payload or {}).get("meta")
    return str(meta.get("key")) if isinstance(meta, dict) and meta.get("key") else None


def record(db: Session, chat: ChatSession, user_message: Message, replies: list[Message]) -> None:
    """Observer of ConversationService: keep a typed question the bot could not answer confidently.

    A payload (a button, ``/command``) is stored without a language by the transcript; those are
    choices, not questions, and are skipped. Runs inside the reply's transaction; never commits.
    """
    if user_message.language is None or not user_message.text.strip():
        return
    if not any(_meta_key(reply) == UNCLEAR_KEY for reply in replies):
        return
    db.add(UnansweredQuestion(
        session_id=chat.id, text=user_message.text.strip()[:MAX_TEXT], language=user_message.language,
        region=chat.region, channel=chat.channel, created_at=user_message.created_at or utcnow(),
    ))


# -- vectors ---------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _encoder() -> Any:
    from knowledge.encoders import default_encoder

    return default_encoder()


def basis_texts() -> list[str]:
    """Example questions of the knowledge base, three languages per entry in turn (216 texts for 72 entries)."""
    from knowledge.model import load_knowledge

    kb = load_knowledge()
    texts = []
    for i, entry_id in enumerate(sorted(kb.entries)):
        questions = kb.entries[entry_id].questions
        for lang in (CORE_LANGUAGES[i % 7], CORE_LANGUAGES[(i + 3) % 7], CORE_LANGUAGES[(i + 5) % 7]):
            if questions.get(lang):
                texts.append(questions[lang][0])
    return texts


def build_basis(encoder: Any, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Mean and main directions of typical questions: what every question shares, removed before grouping."""
    vectors = np.asarray(encoder.encode_queries(texts), dtype=np.float64)
    mean = vectors.mean(axis=0)
    _, _, directions = np.linalg.svd(vectors - mean, full_matrices=False)
    return mean, directions[:BASIS_COMPONENTS]


@lru_cache(maxsize=1)
def basis() -> tuple[np.ndarray, np.ndarray]:
    """The stored basis of the default encoder; rebuilt from the knowledge base if made for another."""
    encoder = _encoder()
    if BASIS_FILE.exists():
        stored = np.load(BASIS_FILE)
        if str(stored["encoder"]) == encoder.name:
            return stored["mean"].astype(np.float64), stored["directions"].astype(np.float64)
    log.warning("grouping basis made for another encoder: rebuilding it from the knowledge base")
    return build_basis(encoder, basis_texts())


def write_basis(path: Path = BASIS_FILE) -> None:
    """Regenerate ``BASIS_FILE`` (after changing the encoder): ``python -m server.services.unanswered``."""
    encoder = _encoder()
    mean, directions = build_basis(encoder, basis_texts())
    np.savez(path, encoder=np.array(encoder.name), mean=mean.astype(np.float32),
             directions=directions.astype(np.float32))


def project(vectors: np.ndarray) -> np.ndarray:
    """Remove what all questions share (see the module docstring); rows stay unit length."""
    mean, directions = basis()
    centred = np.asarray(vectors, dtype=np.float64) - mean
    centred -= (centred @ directions.T) @ directions
    norms = np.linalg.norm(centred, axis=1, keepdims=True)
    return np.divide(centred, norms, out=np.zeros_like(centred), where=norms > 0)


def embed_missing(db: Session, questions: Sequence[UnansweredQuestion]) -> None:
    """Embed the questions that have no vector yet and store them (once per question)."""
    missing = [q for q in questions if q.embedding is None]
    if not missing:
        return
    encoder = _encoder()
    for start in range(0, len(missing), EMBED_BATCH):
        chunk = missing[start:start + EMBED_BATCH]
        vectors = np.asarray(encoder.encode_queries([q.text for q in chunk]), dtype=np.float32)
        for question, vector in zip(chunk, vectors, strict=True):
            question.embedding = vector.tobytes()
    db.commit()


def vectors_of(questions: Sequence[UnansweredQuestion]) -> np.ndarray:
    return np.stack([np.frombuffer(q.embedding or b"", dtype=np.float32) for q in questions])


# -- grouping --------------------------------------------------------------------------------

def cluster(vectors: np.ndarray, threshold: float = GROUP_THRESHOLD) -> list[list[int]]:
    """Average-linkage groups of unit rows: two groups merge while their mean pairwise similarity >= ``threshold``.

    Agglomerative from single questions, best pair first, so the result does not depend on the
    order questions came in (a one-pass "leader" grouping did: it mixed two questions in 9 of 140
    shuffled subsets of the test set). Each merge updates one row of the similarity matrix and
    each group's best partner is kept, so a merge costs O(groups), not O(groups²). Memory is the
    n × n matrix (36 MB in float32 for ``MAX_QUESTIONS``). Returns row indices per group.
    """
    n = len(vectors)
    if n == 0:
        return []
    rows = np.asarray(vectors, dtype=np.float32)
    counts = np.ones(n, dtype=np.float32)
    members: list[list[int]] = [[i] for i in range(n)]
    if n == 1:
        return members
    g = n
    linkage = rows @ rows.T  # mean similarities of single questions: their cosines
    np.fill_diagonal(linkage, -np.inf)
    partner = np.argmax(linkage, axis=1)
    best = linkage[np.arange(g), partner]
    while True:
        a = int(np.argmax(best))
        b = int(partner[a])
        if best[a] < threshold:
            break
        a, b = min(a, b), max(a, b)
        # Lance-Williams for average linkage: the merged group's mean similarity to any other
        # group is the size-weighted mean of the two rows (no vectors needed, O(groups)).
        row = (counts[a] * linkage[a] + counts[b] * linkage[b]) / (counts[a] + counts[b])
        row[a] = row[b] = -np.inf
        counts[a] += counts[b]
        members[a].extend(members[b])
        members[b], counts[b] = [], 0
        linkage[b, :] = linkage[:, b] = -np.inf
        linkage[a, :] = linkage[:, a] = row
        best[b] = -np.inf
        stale = np.flatnonzero((partner == a) | (partner == b))
        stale = stale[counts[stale] > 0]
        if len(stale):
            partner[stale] = np.argmax(linkage[stale], axis=1)
            best[stale] = linkage[stale, partner[stale]]
        better = row > best
        partner[better], best[better] = a, row[better]
        partner[a] = int(np.argmax(row))
        best[a] = row[partner[a]]
    return [m for m in members if m]


@dataclass
class Wording:
    text: str
    language: str | None


@dataclass
class Group:
    """Questions of one meaning, across languages."""

    question_ids: list[int]
    examples: list[Wording]
    languages: list[tuple[str, int]]  # (language, count), most frequent first
    first_seen: datetime
    last_seen: datetime
    wordings: dict[str, list[str]] = field(default_factory=dict)  # distinct texts per language
    topic: str | None = None
    suggestion: str | None = None  # id of the nearest existing entry
    suggestion_title: str | None = None
    centroid: np.ndarray | None = field(default=None, repr=False)  # mean of the raw vectors

    @property
    def count(self) -> int:
        return len(self.question_ids)

    @property
    def key(self) -> int:
        return min(self.question_ids)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().casefold().rstrip("?!.؟ "))


def describe(rows: list[UnansweredQuestion], raw: np.ndarray, projected: np.ndarray) -> Group:
    """A group's count, languages and example wordings: the most typical first, varied languages."""
    centre = projected.sum(axis=0)
    order = np.argsort(-(projected @ centre), kind="stable")
    wordings: dict[str, list[str]] = {}
    seen: set[str] = set()
    ranked: list[Wording] = []
    for i in order:
        row = rows[int(i)]
        norm = _normal(row.text)
        if norm in seen:
            continue
        seen.add(norm)
        ranked.append(Wording(row.text, row.language))
        wordings.setdefault(row.language or "de", []).append(row.text)
    # One example per language first, then the rest by typicality.
    first = {w.language: w for w in reversed(ranked)}
    examples = [w for w in ranked if first.get(w.language) is w]
    examples += [w for w in ranked if w not in examples]
    languages = Counter(row.language or "?" for row in rows).most_common()
    times = [_aware(row.created_at) for row in rows]
    centroid = raw.mean(axis=0)
    return Group(question_ids=[row.id for row in rows], examples=examples[:EXAMPLES_SHOWN],
                 languages=languages, first_seen=min(times), last_seen=max(times),
                 wordings=wordings, centroid=centroid / (np.linalg.norm(centroid) or 1.0))


def unresolved(db: Session, region: str | None = None) -> list[UnansweredQuestion]:
    query = select(UnansweredQuestion).where(UnansweredQuestion.resolved_at.is_(None))
    if region:
        query = query.where(UnansweredQuestion.region == region)
    newest = db.scalars(query.order_by(UnansweredQuestion.created_at.desc(), UnansweredQuestion.id.desc())
                        .limit(MAX_QUESTIONS)).all()
    return list(reversed(newest))


def groups(db: Session, region: str | None = None, threshold: float = GROUP_THRESHOLD) -> list[Group]:
    """The open questions, grouped by meaning, biggest group first (then the most recent)."""
    rows = unresolved(db, region)
    if not rows:
        return []
    embed_missing(db, rows)
    raw = vectors_of(rows)
    projected = project(raw)
    found = [describe([rows[i] for i in members], raw[members], projected[members])
             for members in cluster(projected, threshold)]
    found.sort(key=lambda g: (-g.count, -g.last_seen.timestamp()))
    return found


# -- suggestions -----------------------------------------------------------------------------

def suggest(found: list[Group], answerer: Any) -> None:
    """The nearest existing entry for each group, by the knowledge index (dense and lexical)."""
    index = answerer.index
    visible = index.visible(None)
    if not visible.any():
        return
    for group in found:
        tokens = index.query_tokens(" ".join(w.text for w in group.examples))
        scores = index.score(np.asarray(group.centroid, dtype=np.float32), tokens, visible)
        entry = answerer.kb.entries[index.entry_ids[int(np.argmax(scores.fused))]]
        group.suggestion, group.topic = entry.id, entry.topic
        group.suggestion_title = entry.title.get("de") or next(iter(entry.title.values()), entry.id)


# -- resolving -------------------------------------------------------------------------------

def open_questions(db: Session, ids: Sequence[int]) -> list[UnansweredQuestion]:
    if not ids:
        return []
    return list(db.scalars(select(UnansweredQuestion).where(
        UnansweredQuestion.id.in_(list(ids)), UnansweredQuestion.resolved_at.is_(None),
    ).order_by(UnansweredQuestion.created_at, UnansweredQuestion.id)).all())


def wordings_of(questions: Sequence[UnansweredQuestion]) -> dict[str, list[str]]:
    """Distinct wordings per language, in the order they were asked."""
    out: dict[str, list[str]] = {}
    seen: set[tuple[str, str]] = set()
    for q in questions:
        lang = q.language or "de"
        key = (lang, _normal(q.text))
        if key in seen or not q.text.strip():
            continue
        seen.add(key)
        out.setdefault(lang, []).append(q.text.strip())
    return out


def with_wordings(data: dict[str, Any], wordings: dict[str, list[str]]) -> dict[str, Any]:
    """An entry's data with new example questions appended per language (none twice, at most 10 new)."""
    questions = {lang: list(items) for lang, items in (data.get("questions") or {}).items()}
    for lang, texts in wordings.items():
        known = {_normal(t) for t in questions.get(lang, [])}
        fresh = [t for t in texts if _normal(t) not in known][:WORDINGS_PER_LANGUAGE]
        if fresh:
            questions[lang] = [*questions.get(lang, []), *fresh]
    return {**data, "questions": questions}


def new_entry_data(questions: Sequence[UnansweredQuestion], topic: str | None, today: datetime,
                   region: str | None = None) -> dict[str, Any]:
    """A skeleton entry around the group's wordings: valid, so it can be a draft, but marked unfinished.

    Answers in the required languages (and example questions in German and English, where the
    group has none) say "still to be written", and the source is the state's integration ministry;
    the editor completes them in the draft before a second person approves it.
    """
    from knowledge.check import QUESTION_LANGUAGES

    wordings = wordings_of(questions)
    first = min(q.id for q in questions)
    asked = {lang: texts[:WORDINGS_PER_LANGUAGE] for lang, texts in wordings.items()}
    for lang in QUESTION_LANGUAGES:  # every entry needs example questions in these
        asked.setdefault(lang, [PLACEHOLDER_QUESTION])
    title_text = (wordings.get("de") or wordings.get("en") or next(iter(wordings.values()), ["Neue Frage"]))[0]
    return {
        "id": f"offene-frage-{first}",
        "topic": topic or "general",
        "region": region or "nrw",  # a district's editor writes for the district's overlay
        "priority": 2,
        "last_checked": today.date().isoformat(),
        "review_interval_days": 180,
        "sources": [{"id": "quelle-fehlt", "title": "Quelle noch eintragen",
                     "url": "https://www.mkjfgfi.nrw"}],
        "title": {lang: title_text[:120] for lang in CORE_LANGUAGES},
        "questions": asked,
        "answers": {lang: {"status": "source" if lang == "de" else "unreviewed", "text": PLACEHOLDER}
                    for lang in CORE_LANGUAGES},
    }


def resolve(db: Session, questions: Sequence[UnansweredQuestion], user: User, resolution: str,
            entry_id: str | None = None, draft_id: int | None = None) -> int:
    """Mark the questions as dealt with, so their group disappears; returns how many."""
    if resolution not in RESOLUTIONS:
        raise ValueError(resolution)
    now = utcnow()
    for q in questions:
        q.resolved_at, q.resolved_by_id, q.resolution = now, user.id, resolution
        q.entry_id, q.draft_id = entry_id, draft_id
    db.commit()
    log.info("unanswered: %d question(s) %s by user %s", len(questions), resolution, user.id)
    return len(questions)


def export_rows(db: Session, session_id: str) -> list[dict[str, Any]]:
    """A newcomer's recorded questions, for their copy of their data (the vector is left out: derived)."""
    rows = db.scalars(select(UnansweredQuestion).where(UnansweredQuestion.session_id == session_id)
                      .order_by(UnansweredQuestion.id)).all()
    return [{"text": q.text, "language": q.language, "time": _aware(q.created_at).isoformat(),
             "resolution": q.resolution} for q in rows]


if __name__ == "__main__":
    write_basis()
    print(f"wrote {BASIS_FILE}")
