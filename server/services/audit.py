"""The audit trail: who among staff read or changed which case, and when.

Data protection asks that access to newcomers' data can be traced. The trail records the act,
never its content (no message or note text), so the trail itself holds no personal data of
newcomers beyond a case number and a session id.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import AuditEntry, Case, ChatSession, User
from server.services.cases import aware

ACTIONS = ("read", "claim", "reply", "note", "close", "export", "erase")


def record(db: Session, user: User | None, action: str, case: Case | None = None,
           session_id: str | None = None, via: str = "api") -> AuditEntry:
    """Add an entry and commit it: a read must be on record even if nothing else is written."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    entry = AuditEntry(
        user_id=user.id if user else None, username=user.username if user else "-", action=action,
        case_id=case.id if case else None, session_id=case.session_id if case else session_id, via=via,
    )
    db.add(entry)
    db.commit()
    return entry


def entries(db: Session, limit: int = 200, case_id: int | None = None,
            username: str | None = None, district: str | None = None) -> Sequence[AuditEntry]:
    """The newest entries; with ``district``, only those on conversations of that district.

    (An entry on a conversation since erased has no district left and is shown to admins
    without a district only.)
    """
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if district is not None:
        query = query.join(ChatSession, ChatSession.id == AuditEntry.session_id).where(
            ChatSession.region == district)
    if case_id is not None:
        query = query.where(AuditEntry.case_id == case_id)
    if username:
        query = query.where(AuditEntry.username == username)
    return db.scalars(query).all()


def entry_dict(entry: AuditEntry) -> dict[str, Any]:
    at: datetime = aware(entry.at)
    return {"id": entry.id, "time": at.isoformat(), "user": entry.username, "user_id": entry.user_id,
            "action": entry.action, "case_id": entry.case_id, "session_id": entry.session_id, "via": entry.via}
