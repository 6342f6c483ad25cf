"""Erase a newcomer's conversation on request ("delete my data").

The hub is the system of record, so erasing here erases the transcript everywhere Lotse shows
it. Deleting the session is enough: its messages go with it (ORM cascade, and ``ON DELETE
CASCADE`` in the schema), and the next message of the same chat starts a fresh session.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.models import ChatSession, Message


def erase_session(db: Session, session_id: str) -> int:
    """Delete the session and its messages; return how many messages were deleted (0 if unknown)."""
    chat = db.get(ChatSession, session_id)
    if chat is None:
        return 0
    count = db.scalar(select(func.count()).select_from(Message).where(Message.session_id == session_id)) or 0
    db.delete(chat)
    db.commit()
    return count


def erase_external(db: Session, channel: str, external_id: str) -> int:
    """Erase every session of a messenger chat (e.g. a Telegram chat id); return the messages deleted."""
    session_ids = db.scalars(
        select(ChatSession.id).where(ChatSession.channel == channel, ChatSession.external_id == external_id)
    ).all()
    return sum(erase_session(db, session_id) for session_id in session_ids)
