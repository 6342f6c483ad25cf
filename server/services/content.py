"""Editing knowledge entries in the console, with four eyes: draft, second-person approval, publish.

Every change is a ``ContentRevision`` holding the whole entry as in its YAML file. A draft is
validated with the same model and rules as ``lotse kb check`` before it is stored, so a broken
draft can never be submitted (``lotse kb check`` therefore only needs to check what is published).
Approval by a second editor publishes it: the entry is written to the content overlay
(``knowledge.overlay``), whose generation file tells the answering processes to rebuild their
index without a restart. The history of an entry is its revisions; a revert is a new draft with
an old version's data, approved like any other change (restoring old content can bring back a
fee or a deadline that is no longer right, so it deserves the second look as well).

Other parts of the console call ``load_entry_data``, ``create_draft`` and ``approve``; the URL of
a draft for people is ``draft_url(revision_id)``. Nothing here logs entry texts or names.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge import knowledge_dir
from knowledge.check import check_entry
from knowledge.model import Entry, KnowledgeBase, load_knowledge
from knowledge.overlay import content_dir, entry_path, write_entry
from server.models import ContentRevision, User, utcnow

log = logging.getLogger(__name__)

EDITOR_ROLES = ("editor", "admin")
STATUS_LABELS = {"draft": "Entwurf", "approved": "veröffentlicht", "rejected": "abgelehnt",
                 "superseded": "ersetzt"}
KIND_LABELS = {"edit": "Änderung", "new": "neuer Eintrag", "revert": "Wiederherstellung"}
ANSWER_STATUS = {"source": "Original", "unreviewed": "nicht geprüft", "reviewed": "geprüft"}


# Drafts made from unanswered questions start with this text where an answer is still to be written;
# a draft that still contains it cannot be published.
PLACEHOLDER_MARK = "Noch zu schreiben"


def placeholders(data: Any) -> bool:
    """Whether any text of the entry still holds the placeholder mark."""
    if isinstance(data, str):
        return PLACEHOLDER_MARK in data
    if isinstance(data, dict):
        return any(placeholders(v) for v in data.values())
    if isinstance(data, list):
        return any(placeholders(v) for v in data)
    return False


class ContentError(ValueError):
    """A change that cannot be made, with the reasons in German for the editor."""

    def __init__(self, messages: str | list[str]) -> None:
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        super().__init__("; ".join(self.messages))


def draft_url(revision_id: int) -> str:
    """Where a person reviews a draft in the console."""
    return f"/console/content/drafts/{revision_id}"


# -- entry data ---------------------------------------------------------------------------

def entry_data(entry: Entry) -> dict[str, Any]:
    """An entry as the dict its YAML file holds (JSON types, optional empty parts left out)."""
    return entry.model_dump(mode="json", exclude_none=True)


def entry_hash(data: dict[str, Any] | None) -> str | None:
    """A fingerprint of an entry's content: equal for equal data, whatever the key order."""
    if data is None:
        return None
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def current_kb() -> KnowledgeBase:
    """Shipped entries with the published overlay merged over them (as the answerers see them)."""
    return load_knowledge()


def load_entry_data(entry_id: str) -> dict[str, Any] | None:
    """The currently published version of an entry (overlay, else shipped), or ``None``."""
    entry = current_kb().entries.get(entry_id)
    return entry_data(entry) if entry is not None else None


def shipped_entry_data(entry_id: str) -> dict[str, Any] | None:
    """The version in ``knowledge/entries`` (the release), ignoring anything published since."""
    entry = load_knowledge(knowledge_dir()).entries.get(entry_id)
    return entry_data(entry) if entry is not None else None


# -- validation, with messages in German ----------------------------------------------------

_PYDANTIC_DE = {
    "missing": "fehlt",
    "extra_forbidden": "ist kein bekanntes Feld",
    "string_type": "muss ein Text sein",
    "int_parsing": "muss eine ganze Zahl sein",
    "int_type": "muss eine ganze Zahl sein",
    "bool_parsing": "muss ja oder nein sein",
    "bool_type": "muss ja oder nein sein",
    "date_from_datetime_parsing": "ist kein Datum (JJJJ-MM-TT)",
    "date_parsing": "ist kein Datum (JJJJ-MM-TT)",
    "date_type": "ist kein Datum (JJJJ-MM-TT)",
    "dict_type": "hat die falsche Form",
    "list_type": "muss eine Liste sein",
    "greater_than": "muss größer als 0 sein",
}

_CHECK_DE: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"answers: missing required language\(s\) (.+)"), r"Antworten fehlen in Pflichtsprache(n): \1"),
    (re.compile(r"priority 1 needs every language; answers missing (.+)"),
     r"Priorität 1 braucht jede Sprache; es fehlen Antworten in: \1"),
    (re.compile(r"title and answers have different languages \((.+)\)"),
     r"Titel und Antworten haben verschiedene Sprachen (\1)"),
    (re.compile(r"questions\.(\w+): at least one example question is needed"),
     r"Beispielfragen (\1): mindestens eine Frage wird gebraucht"),
    (re.compile(r"(.+) is empty"), r"\1 ist leer"),
    (re.compile(r"(.+) contains markup (.+); write plain text"), r"\1 enthält Auszeichnung \2; bitte nur Text"),
    (re.compile(r"sources: at least one source with an http\(s\) URL is needed"),
     "Quellen: mindestens eine Quelle mit einer http(s)-Adresse wird gebraucht"),
    (re.compile(r"sources\[(\d+)\]\.url (.+) is not a valid http\(s\) URL"),
     r"Quelle \1: \2 ist keine gültige http(s)-Adresse"),
    (re.compile(r"last_checked (\S+) is in the future"), r"„Zuletzt geprüft“ (\1) liegt in der Zukunft"),
    (re.compile(r"id (.+) is not kebab-case.*"), r"Kennung \1: nur Kleinbuchstaben, Ziffern und Bindestriche"),
    (re.compile(r"region (.+) does not exist in regions/.*"), r"Region \1 gibt es nicht"),
    (re.compile(r"(\w+): unknown language code\(s\) (.+)"), r"\1: unbekannte Sprachkürzel \2"),
    (re.compile(r"replaces (.+): (.+)"), r"„ersetzt“ \1: kein passender landesweiter Eintrag"),
]


def _german(message: str) -> str:
    for pattern, replacement in _CHECK_DE:
        if pattern.fullmatch(message):
            return pattern.sub(replacement, message)
    return message  # a rule without a translation yet: better in English than not at all


def validate_entry(data: dict[str, Any], kb: KnowledgeBase | None = None,
                   today: date | None = None) -> tuple[Entry | None, list[str]]:
    """The entry and ``[]``, or ``None`` and what is wrong: the pydantic model and every error rule
    of ``lotse kb check`` (warnings such as a due review do not block a draft)."""
    try:
        entry = Entry.model_validate(data)
    except ValidationError as exc:
        messages = []
        for item in exc.errors():
            where = ".".join(str(part) for part in item["loc"]) or "(Eintrag)"
            messages.append(f"{where}: {_PYDANTIC_DE.get(item['type'], item['msg'])}")
        return None, messages
    kb = kb if kb is not None else current_kb()
    path = entry_path(content_dir(), entry.id, entry.topic)
    errors = [_german(message) for level, message in check_entry(entry, path, kb, today or date.today())
              if level == "error"]
    return (None, errors) if errors else (entry, [])


# -- drafts and reviews -------------------------------------------------------------------

def _require_editor(user: User) -> None:
    if user.role not in EDITOR_ROLES:
        raise ContentError("Nur Redakteurinnen und Redakteure können Inhalte bearbeiten.")


def may_edit_region(user: User, region: str | None) -> bool:
    """Multi-tenancy: an editor of a district edits that district's overlay entries only; the state-wide
    layer (and every district) is for editors without a district."""
    return user.district is None or (region is not None and region == user.district)


def _require_region(user: User, *regions: str | None) -> None:
    for region in regions:
        if not may_edit_region(user, region):
            raise ContentError(f"Sie bearbeiten Inhalte für {user.district}; dieser Eintrag gehört zu "
                               f"„{region or 'nrw'}“.")


def create_draft(db: Session, author: User, data: dict[str, Any], *, entry_id: str | None,
                 comment: str = "", kind: str | None = None, restores_id: int | None = None) -> ContentRevision:
    """Store a validated draft; ``entry_id`` ``None`` means a new entry (its id is ``data["id"]``).

    Raises ``ContentError`` when the data is invalid, the id does not fit, or nothing changed. An
    older open draft of the same author for the same entry is superseded: one draft per person.
    To add to that draft rather than replace it, start from ``own_draft(db, author, entry_id).data``.
    """
    _require_editor(author)
    kb = current_kb()
    new_id = str(data.get("id", ""))
    if entry_id is None:
        if new_id in kb.entries:
            raise ContentError(f"Einen Eintrag „{new_id}“ gibt es schon.")
        published = None
    else:
        if new_id != entry_id:
            raise ContentError("Die Kennung eines Eintrags kann nicht geändert werden.")
        if entry_id not in kb.entries:
            raise ContentError(f"Einen Eintrag „{entry_id}“ gibt es nicht.")
        published = entry_data(kb.entries[entry_id])
    entry, errors = validate_entry(data, kb)
    if entry is None:
        raise ContentError(errors)
    _require_region(author, entry.region, *([published.get("region")] if published else []))
    clean = entry_data(entry)
    if published is not None and entry_hash(clean) == entry_hash(published):
        raise ContentError("Keine Änderung gegenüber der veröffentlichten Fassung.")
    for older in db.scalars(select(ContentRevision).where(
            ContentRevision.entry_id == entry.id, ContentRevision.status == "draft",
            ContentRevision.author_id == author.id)):
        older.status = "superseded"
    revision = ContentRevision(
        entry_id=entry.id, kind=kind or ("new" if entry_id is None else "edit"), status="draft", data=clean,
        base_hash=entry_hash(published), restores_id=restores_id, comment=comment.strip()[:2000],
        author_id=author.id, author_name=author.display_name or author.username,
    )
    db.add(revision)
    db.commit()
    log.info("content: draft %s for entry %s by user %s", revision.id, entry.id, author.id)
    return revision


def own_draft(db: Session, author: User, entry_id: str) -> ContentRevision | None:
    """The author's open draft of an entry, if any (a new draft would supersede it)."""
    return db.scalars(select(ContentRevision).where(
        ContentRevision.entry_id == entry_id, ContentRevision.status == "draft",
        ContentRevision.author_id == author.id).order_by(ContentRevision.id.desc()).limit(1)).first()


def get_revision(db: Session, revision_id: int) -> ContentRevision:
    revision = db.get(ContentRevision, revision_id)
    if revision is None:
        raise ContentError("Diese Fassung gibt es nicht.")
    return revision


def _open_draft(db: Session, revision_id: int) -> ContentRevision:
    revision = get_revision(db, revision_id)
    if revision.status != "draft":
        raise ContentError(f"Diese Fassung ist kein offener Entwurf mehr ({STATUS_LABELS[revision.status]}).")
    return revision


def is_outdated(revision: ContentRevision) -> bool:
    """True when a draft's starting point is no longer what is published (someone published in between)."""
    return revision.status == "draft" and entry_hash(load_entry_data(revision.entry_id)) != revision.base_hash


def _draft_for(db: Session, reviewer: User, revision_id: int) -> ContentRevision:
    """An open draft that ``reviewer`` (an editor of its district) may decide on."""
    _require_editor(reviewer)
    revision = _open_draft(db, revision_id)
    _require_region(reviewer, revision.data.get("region"))
    return revision


def _decide(revision: ContentRevision, reviewer: User, status: str, comment: str) -> None:
    revision.status = status
    revision.reviewer_id = reviewer.id
    revision.reviewer_name = reviewer.display_name or reviewer.username
    revision.reviewed_at = utcnow()
    revision.review_comment = comment.strip()[:2000]


def approve(db: Session, reviewer: User, revision_id: int, comment: str = "") -> ContentRevision:
    """Publish a draft: only someone other than its author, and only if nothing was published in between."""
    revision = _draft_for(db, reviewer, revision_id)
    if revision.author_id == reviewer.id:
        raise ContentError("Vier-Augen-Prinzip: Eine zweite Person muss den Entwurf freigeben, nicht die Autorin "
                           "oder der Autor.")
    if is_outdated(revision):
        raise ContentError("Seit diesem Entwurf wurde eine andere Fassung veröffentlicht. Bitte den Eintrag neu "
                           "bearbeiten, damit diese Änderung nicht überschrieben wird.")
    entry, errors = validate_entry(revision.data)
    if entry is None:
        raise ContentError(errors)
    if placeholders(revision.data):
        raise ContentError(f"Der Entwurf enthält noch Platzhalter („{PLACEHOLDER_MARK} …“). Bitte erst alle Texte "
                           "schreiben, dann freigeben.")
    for live in db.scalars(select(ContentRevision).where(
            ContentRevision.entry_id == revision.entry_id, ContentRevision.status == "approved")):
        live.status = "superseded"
    _decide(revision, reviewer, "approved", comment)
    db.flush()
    write_entry(entry_data(entry))  # before the commit: a failed write leaves the draft open
    db.commit()
    published()
    log.info("content: revision %s of entry %s published by user %s", revision.id, revision.entry_id, reviewer.id)
    return revision


def reject(db: Session, reviewer: User, revision_id: int, comment: str = "") -> ContentRevision:
    """Decline a draft (or, by its author, withdraw it); the comment tells the author why."""
    revision = _draft_for(db, reviewer, revision_id)
    _decide(revision, reviewer, "rejected", comment)
    db.commit()
    return revision


def revert(db: Session, author: User, entry_id: str, revision_id: int | None, comment: str = "") -> ContentRevision:
    """A draft that restores an earlier published version (``None``: the shipped one); four eyes as usual."""
    if revision_id is None:
        data = shipped_entry_data(entry_id)
        if data is None:
            raise ContentError("Dieser Eintrag wurde nicht ausgeliefert; es gibt keine Auslieferungsfassung.")
    else:
        old = get_revision(db, revision_id)
        if old.entry_id != entry_id or old.status not in ("approved", "superseded") or old.reviewed_at is None:
            raise ContentError("Nur eine früher veröffentlichte Fassung kann wiederhergestellt werden.")
        data = old.data
    return create_draft(db, author, dict(data), entry_id=entry_id, kind="revert", restores_id=revision_id,
                        comment=comment or "Frühere Fassung wiederhergestellt")


def published() -> None:
    """Forget the hub's own caches of content (the answerers notice the generation file themselves)."""
    from server.services.contact import contact_line

    contact_line.cache_clear()


def history(db: Session, entry_id: str) -> Sequence[ContentRevision]:
    """Every revision of an entry, newest first."""
    return db.scalars(select(ContentRevision).where(ContentRevision.entry_id == entry_id)
                      .order_by(ContentRevision.id.desc())).all()


def open_drafts(db: Session) -> Sequence[ContentRevision]:
    return db.scalars(select(ContentRevision).where(ContentRevision.status == "draft")
                      .order_by(ContentRevision.id)).all()


def previous_data(db: Session, revision: ContentRevision) -> dict[str, Any] | None:
    """What the revision changed from: the version published before it, else the shipped one."""
    earlier = db.scalars(select(ContentRevision).where(
        ContentRevision.entry_id == revision.entry_id, ContentRevision.id < revision.id,
        ContentRevision.reviewed_at.is_not(None), ContentRevision.status.in_(("approved", "superseded")))
        .order_by(ContentRevision.id.desc()).limit(1)).first()
    if earlier is not None:
        return earlier.data
    return shipped_entry_data(revision.entry_id)


_FIELD_LABELS = {"topic": "Thema", "region": "Region", "priority": "Priorität", "last_checked": "Zuletzt geprüft",
                 "review_interval_days": "Prüfintervall (Tage)", "depends_on_office": "Hängt vom Amt ab",
                 "replaces": "Ersetzt", "handoff": "Übergabe an Fallmanagement", "sources": "Quellen"}


def diff_summary(old: dict[str, Any] | None, new: dict[str, Any]) -> list[str]:
    """What changed, in words an editor can check at a glance (never the texts themselves)."""
    if old is None:
        return ["neuer Eintrag"]
    changes = []
    for key, label in _FIELD_LABELS.items():
        if old.get(key) != new.get(key):
            if key in ("sources", "handoff"):
                changes.append(f"{label} geändert")
            else:
                changes.append(f"{label}: {old.get(key, '–')} → {new.get(key, '–')}")
    for key, label in (("title", "Titel"), ("answers", "Antwort")):
        before, after = old.get(key) or {}, new.get(key) or {}
        for lang in sorted(set(before) | set(after)):
            if lang not in before:
                changes.append(f"{label} ({lang}) neu")
            elif lang not in after:
                changes.append(f"{label} ({lang}) entfernt")
            elif before[lang] != after[lang]:
                if key == "answers" and before[lang].get("text") == after[lang].get("text"):
                    was, now = before[lang].get("status", ""), after[lang].get("status", "")
                    changes.append(f"Status ({lang}): {ANSWER_STATUS.get(was, was)} → {ANSWER_STATUS.get(now, now)}")
                else:
                    changes.append(f"{label} ({lang}) geändert")
    before_q, after_q = old.get("questions") or {}, new.get("questions") or {}
    for lang in sorted(set(before_q) | set(after_q)):
        added = len(set(after_q.get(lang, [])) - set(before_q.get(lang, [])))
        removed = len(set(before_q.get(lang, [])) - set(after_q.get(lang, [])))
        if added or removed:
            changes.append(f"Beispielfragen ({lang}): +{added} / −{removed}")
    return changes or ["keine inhaltliche Änderung"]


def word_diff(old: str, new: str) -> list[tuple[str, str]]:
    """``new`` as (kind, text) pieces, kind ``same`` or ``ins``, plus ``del`` pieces of ``old``:
    what a reviewer must read closely (a changed amount or date) stands out."""
    import difflib

    a, b = re.findall(r"\s+|[^\s]+", old), re.findall(r"\s+|[^\s]+", new)
    pieces: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            pieces.append(("same", "".join(b[j1:j2])))
            continue
        if i2 > i1:
            pieces.append(("del", "".join(a[i1:i2])))
        if j2 > j1:
            pieces.append(("ins", "".join(b[j1:j2])))
    return pieces


# -- the list of entries ------------------------------------------------------------------

@dataclass(frozen=True)
class EntryRow:
    entry_id: str
    title: str
    topic: str
    region: str
    due: date
    overdue: bool
    languages: tuple[str, ...]
    unreviewed: tuple[str, ...]
    drafts: int
    published_in_console: bool


def due_date(entry: Entry) -> date:
    return entry.last_checked + timedelta(days=entry.review_interval_days)


def entry_rows(db: Session, *, topic: str | None = None, region: str | None = None, missing: str | None = None,
               unreviewed: str | None = None, state: str | None = None,
               today: date | None = None) -> list[EntryRow]:
    """Entries for the console list, due for review first (then by due date and id).

    ``missing``: a language the answer lacks; ``unreviewed``: a language whose translation is not
    reviewed yet; ``state``: ``draft`` (open drafts), ``due`` (review due) or ``console`` (published
    in the console rather than shipped).
    """
    today = today or date.today()
    kb = current_kb()
    drafts: dict[str, int] = {}
    for revision in open_drafts(db):
        drafts[revision.entry_id] = drafts.get(revision.entry_id, 0) + 1
    overlay = content_dir().resolve()
    rows = []
    for entry_id, entry in kb.entries.items():
        path: Path = kb.paths[entry_id]
        row = EntryRow(
            entry_id=entry_id, title=entry.title.get("de") or next(iter(entry.title.values()), entry_id),
            topic=entry.topic, region=entry.region, due=due_date(entry), overdue=due_date(entry) < today,
            languages=tuple(sorted(entry.answers)),
            unreviewed=tuple(sorted(lang for lang, a in entry.answers.items() if a.status == "unreviewed")),
            drafts=drafts.get(entry_id, 0), published_in_console=path.resolve().is_relative_to(overlay),
        )
        if (topic and row.topic != topic) or (region and row.region != region):
            continue
        if (missing and missing in row.languages) or (unreviewed and unreviewed not in row.unreviewed):
            continue
        if ((state == "draft" and not row.drafts) or (state == "due" and not row.overdue)
                or (state == "console" and not row.published_in_console)):
            continue
        rows.append(row)
    rows.sort(key=lambda r: (not r.overdue, r.due, r.entry_id))
    return rows
