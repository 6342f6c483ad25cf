"""Erase a newcomer's conversation on request ("delete my data").

The hub is the system of record, so erasing here erases the transcript everywhere Lotse shows
it. Deleting the session takes its messages, cases and case notes with it (ORM cascade, and
``ON DELETE CASCADE`` in the schema), and the next message of the same chat starts a fresh session.

Rasa keeps its own copy of the texts in its tracker store, and Rasa 3.6's HTTP API cannot delete
a tracker (replacing its events only appends), so the hub deletes the tracker's rows in Rasa's
tracker database itself. The wish to erase is written in the same transaction as the deletion
(``pending_tracker_erasures``); if Rasa's database is unreachable, the retention job retries.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, delete, func, inspect, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from server.models import Case, ChatSession, Message, PendingTrackerErasure

log = logging.getLogger(__name__)


def erase_session(db: Session, session_id: str, tracker_url: str | None = None) -> int:
    """Delete the session, its messages, cases and notes; return how many messages were deleted (0 if unknown).

    ``tracker_url`` is Rasa's tracker store; by default the one of this process's settings.
    """
    chat = db.get(ChatSession, session_id)
    if chat is None:
        return 0
    count = db.scalar(select(func.count()).select_from(Message).where(Message.session_id == session_id)) or 0
    for case in db.scalars(select(Case).where(Case.session_id == session_id)).all():
        db.delete(case)  # its notes go with it (ORM cascade)
    db.delete(chat)
    if db.get(PendingTrackerErasure, session_id) is None:
        db.add(PendingTrackerErasure(sender_id=session_id))
    db.commit()
    erase_pending_trackers(db, tracker_url, [session_id])
    return count


def erase_external(db: Session, channel: str, external_id: str, tracker_url: str | None = None) -> int:
    """Erase every session of a messenger chat (e.g. a Telegram chat id); return the messages deleted."""
    session_ids = db.scalars(
        select(ChatSession.id).where(ChatSession.channel == channel, ChatSession.external_id == external_id)
    ).all()
    return sum(erase_session(db, session_id, tracker_url) for session_id in session_ids)


@lru_cache(maxsize=4)
def _tracker_engine(url: str) -> Engine:
    # No pool: erasures are rare, and a fresh connection sees Rasa's store as it is now (e.g. after a restore).
    return create_engine(url, poolclass=NullPool)


def _default_tracker_url() -> str:
    from server.core.config import get_settings

    return get_settings().tracker_store_url()


def wipe_trackers(url: str, sender_ids: list[str]) -> None:
    """Delete Rasa's events of these conversations; raises SQLAlchemyError if the store is unreachable."""
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return  # Rasa never ran here: there is no copy to erase (and creating the file would be wrong)
    engine = _tracker_engine(url)
    with engine.begin() as conn:
        if not inspect(conn).has_table("events"):
            return
        for sender_id in sender_ids:
            conn.execute(text("DELETE FROM events WHERE sender_id = :sender_id"), {"sender_id": sender_id})


def erase_pending_trackers(db: Session, tracker_url: str | None = None, only: list[str] | None = None) -> int:
    """Wipe the Rasa trackers still waiting for erasure; return how many were wiped (the rest stay pending)."""
    query = select(PendingTrackerErasure.sender_id)
    if only is not None:
        query = query.where(PendingTrackerErasure.sender_id.in_(only))
    sender_ids = list(db.scalars(query).all())
    if not sender_ids:
        return 0
    try:
        wipe_trackers(tracker_url or _default_tracker_url(), sender_ids)
    except SQLAlchemyError as exc:
        log.warning("Rasa's tracker store unreachable, erasure stays pending: %s", type(exc).__name__)
        return 0
    db.execute(delete(PendingTrackerErasure).where(PendingTrackerErasure.sender_id.in_(sender_ids)))
    db.commit()
    return len(sender_ids)
