"""The case API: what the console does, for other tools and for tests (Bearer token required)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, Field, StringConstraints

from server.api.deps import CasesDep, CaseWorker, CurrentUser, SessionDep, SettingsDep
from server.api.routes.sessions import clean_text
from server.core.db import MAX_INTEGER
from server.models import Case
from server.services import audit
from server.services.cases import OUTCOMES, CaseError, aware

router = APIRouter(prefix="/cases", tags=["cases"])
_NOT_FOUND = "No such case (or it belongs to a team you are not in)."


class CaseOut(BaseModel):
    id: int
    session_id: str
    language: str
    topic: str | None
    town: str | None
    urgency: str
    reason: str
    summary: str
    status: str
    team: str
    region: str | None
    mode: str
    claimed_by: str | None
    created_at: str
    outcome: str | None


class CaseMessageOut(BaseModel):
    seq: int
    sender: str
    text: str = Field(description="in the staff's language when a translation exists, else the original")
    original_text: str
    language: str | None
    time: str
    translated: bool
    needs_translation: bool = Field(description="in another language and no translation package for it")
    author: str | None = None
    pressed: str | None = Field(default=None, description="title of the button the newcomer pressed")


class CaseDetailOut(CaseOut):
    details: dict[str, Any]
    messages: list[CaseMessageOut]
    notes: list[dict[str, Any]]


class TextIn(BaseModel):
    text: str = Field(max_length=20000)


class CloseIn(BaseModel):
    outcome: Literal[OUTCOMES] = "answered"  # type: ignore[valid-type]
    hand_back: bool = False
    # Systematic challenges seen in this case (ids of config/challenges/<region>.yml), counted for the
    # coordination report without any link to the case.
    challenges: list[Annotated[str, StringConstraints(max_length=64)]] = Field(default_factory=list, max_length=20)


def case_out(case: Case) -> dict[str, Any]:
    return {
        "id": case.id, "session_id": case.session_id, "language": case.language, "topic": case.topic,
        "town": case.town, "urgency": case.urgency, "reason": case.reason, "summary": case.summary,
        "status": case.status, "team": case.team, "region": case.region, "mode": case.session.mode,
        "claimed_by": case.claimed_by.display_name if case.claimed_by else None,
        "created_at": aware(case.created_at).isoformat(), "outcome": case.outcome,
    }


def _case(db: SessionDep, cases: CasesDep, user: CaseWorker, case_id: int) -> Case:
    if not 0 < case_id <= MAX_INTEGER:  # no such case; a bigger number would overflow SQLite's driver
        raise HTTPException(status.HTTP_404_NOT_FOUND, _NOT_FOUND)
    try:
        return cases.get(db, user, case_id)
    except CaseError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, _NOT_FOUND) from None


@router.get("", response_model=list[CaseOut])
def list_cases(
    db: SessionDep, cases: CasesDep, user: CaseWorker,
    status_: Annotated[Literal["open", "closed", "all"], Query(alias="status")] = "open",
    team: str | None = None, language: str | None = None,
    urgency: Literal["normal", "urgent"] | None = None,
    q: Annotated[str | None, Query(max_length=200, description="search in number, town and summary")] = None,
    older_than_minutes: Annotated[int | None, Query(ge=0, le=MAX_INTEGER)] = None,
) -> list[dict[str, Any]]:
    found = cases.visible_cases(db, user, None if status_ == "all" else status_, team, language, urgency, q,
                                older_than_minutes)
    return [case_out(c) for c in found]


@router.get("/{case_id}", response_model=CaseDetailOut)
def get_case(case_id: int, db: SessionDep, cases: CasesDep, user: CaseWorker) -> dict[str, Any]:
    case = _case(db, cases, user, case_id)
    audit.record(db, user, "read", case)
    return {
        **case_out(case), "details": case.details, "messages": cases.staff_messages(db, case),
        "notes": [{"author": n.author.display_name if n.author else None, "text": n.text,
                   "time": n.created_at.isoformat()} for n in case.notes],
    }


@router.post("/{case_id}/claim", response_model=CaseOut)
def claim_case(case_id: int, db: SessionDep, cases: CasesDep, user: CaseWorker) -> dict[str, Any]:
    case = _case(db, cases, user, case_id)
    try:
        cases.claim(db, case, user)
    except CaseError:
        raise HTTPException(status.HTTP_409_CONFLICT, "The case is closed.") from None
    audit.record(db, user, "claim", case)
    return case_out(case)


@router.post("/{case_id}/messages", response_model=CaseMessageOut, status_code=status.HTTP_201_CREATED)
def reply_to_case(
    case_id: int, body: TextIn, db: SessionDep, cases: CasesDep, user: CaseWorker, settings: SettingsDep
) -> dict[str, Any]:
    case = _case(db, cases, user, case_id)
    text = clean_text(body.text, settings.max_message_chars)
    try:
        message = cases.reply(db, case, user, text)
    except CaseError:
        raise HTTPException(status.HTTP_409_CONFLICT, "The case is closed; the bot has the conversation.") from None
    audit.record(db, user, "reply", case)
    return next(m for m in cases.staff_messages(db, case) if m["seq"] == message.seq)


@router.post("/{case_id}/notes", status_code=status.HTTP_201_CREATED)
def add_note(
    case_id: int, body: TextIn, db: SessionDep, cases: CasesDep, user: CaseWorker, settings: SettingsDep
) -> dict[str, Any]:
    case = _case(db, cases, user, case_id)
    note = cases.note(db, case, user, clean_text(body.text, settings.max_message_chars))
    audit.record(db, user, "note", case)
    return {"id": note.id, "author": user.display_name, "text": note.text}


@router.post("/{case_id}/close", response_model=CaseOut)
def close_case(
    case_id: int, db: SessionDep, cases: CasesDep, user: CaseWorker, body: CloseIn | None = None
) -> dict[str, Any]:
    case = _case(db, cases, user, case_id)
    body = body or CloseIn()
    try:
        cases.close(db, case, user, body.outcome, hand_back=body.hand_back, challenges=body.challenges)
    except ValueError as exc:  # a challenge tag not on the region's list
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    audit.record(db, user, "close", case)
    return case_out(case)


audit_router = APIRouter(prefix="/audit", tags=["audit"])


@audit_router.get("")
def audit_log(
    db: SessionDep, user: CurrentUser,
    case_id: Annotated[int | None, Query(ge=1, le=MAX_INTEGER)] = None,
    username: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    """Who read or changed which case (admins only; no message or note text is ever recorded)."""
    if user.role != "admin":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Only admins read the audit log.")
    return [audit.entry_dict(e) for e in audit.entries(db, limit, case_id, username, user.district)]
