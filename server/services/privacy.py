"""Data protection by design: the notice, retention limits, and a newcomer's copy of their data.

Newcomers write about residence permits, health and family; Lotse keeps that only as long as it
helps them. Retention is enforced here (the CLI's ``lotse privacy purge`` and the hub's hourly
task both call :func:`purge`), so a forgotten conversation disappears without anyone acting.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from lotse.i18n import t
from server.core.config import Settings
from server.core.db import get_sessionmaker
from server.models import Case, ChatSession, utcnow
from server.services.cases import aware
from server.services.erasure import erase_pending_trackers, erase_session
from server.services.render import OutMessage
from server.services.stats import record_closed
from server.services.transcript import message_dict
from server.services.unanswered import export_rows as unanswered_export

log = logging.getLogger(__name__)
NOTICE_KEY = "privacy_notice"


def notice(language: str, args: dict[str, str]) -> OutMessage:
    """The privacy notice a newcomer sees before Lotse's first answer (its own message)."""
    return OutMessage(text=t(NOTICE_KEY, language, **args), language=language, meta={"key": NOTICE_KEY})


@dataclass
class PurgeReport:
    closed_sessions: int = 0
    closed_cases: int = 0
    deleted_sessions: int = 0
    deleted_messages: int = 0
    trackers_wiped: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def purge(db: Session, settings: Settings, now: datetime | None = None) -> PurgeReport:
    """Close conversations inactive for ``retention_close_days``, delete those inactive for ``retention_days``.

    Closing ends open cases with the outcome ``no_response`` without writing to the transcript (a
    message would count as activity). Deleting erases messages, cases, notes and Rasa's tracker.
    """
    now = now or utcnow()
    report = PurgeReport()
    delete_before = now - timedelta(days=settings.retention_days)
    for session_id in db.scalars(select(ChatSession.id).where(ChatSession.last_activity_at < delete_before)).all():
        report.deleted_messages += erase_session(db, session_id, settings.tracker_store_url())
        report.deleted_sessions += 1

    close_before = now - timedelta(days=settings.retention_close_days)
    stale = db.scalars(select(ChatSession).where(
        ChatSession.last_activity_at < close_before,
        or_(ChatSession.closed_at.is_(None), ChatSession.closed_at < ChatSession.last_activity_at),
    )).all()
    for chat in stale:
        chat.closed_at = now
        chat.mode = "bot"
        for case in db.scalars(select(Case).where(Case.session_id == chat.id, Case.status == "open")).all():
            case.status, case.outcome, case.closed_at = "closed", "no_response", now
            record_closed(db, case)  # the monthly report counts it (no link to the case is kept)
            report.closed_cases += 1
        report.closed_sessions += 1
    db.commit()
    report.trackers_wiped = erase_pending_trackers(db, settings.tracker_store_url())
    return report


async def purge_periodically(settings: Settings) -> None:
    """The hub's scheduled retention job: runs at start, then every ``purge_interval_minutes``."""
    while True:
        try:
            report = await asyncio.to_thread(_purge_once, settings)
            if any(report.as_dict().values()):
                log.info("retention job: %s", report.as_dict())  # counts only, never content
        except Exception as exc:  # the hub must keep serving; the next run tries again
            log.warning("retention job failed: %s", type(exc).__name__)
        await asyncio.sleep(settings.purge_interval_minutes * 60)


def _purge_once(settings: Settings) -> PurgeReport:
    with get_sessionmaker(settings.database_url)() as db:
        return purge(db, settings)


def _time(value: datetime | None) -> str | None:
    return aware(value).isoformat() if value else None


def export(db: Session, session_id: str) -> dict[str, Any] | None:
    """Everything Lotse stores about one conversation, as the newcomer is entitled to it (GDPR Art. 15).

    Included: the conversation's settings, every message as the newcomer saw it (with the original
    of translated replies), each case with the form's answers, and the text and time of staff notes
    (they are data about the newcomer). Left out: which member of staff wrote a note or claimed
    the case (their personal data, Art. 15(4)), and the audit log (it is about staff).
    """
    chat = db.get(ChatSession, session_id)
    if chat is None:
        return None
    cases = db.scalars(select(Case).where(Case.session_id == session_id).order_by(Case.id)).all()
    return {
        "exported_at": utcnow().isoformat(),
        "session": {
            "id": chat.id, "channel": chat.channel, "language": chat.language, "region": chat.region,
            "mode": chat.mode, "created_at": _time(chat.created_at), "last_activity_at": _time(chat.last_activity_at),
        },
        "messages": [message_dict(m) for m in chat.messages],
        "cases": [{
            "id": c.id, "status": c.status, "team": c.team, "language": c.language, "topic": c.topic,
            "town": c.town, "urgency": c.urgency, "reason": c.reason, "summary": c.summary, "details": c.details,
            "created_at": _time(c.created_at), "claimed_at": _time(c.claimed_at),
            "first_reply_at": _time(c.first_reply_at), "closed_at": _time(c.closed_at), "outcome": c.outcome,
            "notes": [{"text": n.text, "time": _time(n.created_at)} for n in c.notes],
        } for c in cases],
        # Questions kept for the editors because Lotse had no confident answer (server.services.unanswered).
        "unanswered_questions": unanswered_export(db, session_id),
    }
