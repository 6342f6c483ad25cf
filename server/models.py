"""Database tables of the hub.

The hub is the system of record for conversations: Rasa's tracker is only dialogue state,
so transcripts, languages and modes live here, where case managers and reports can read them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON}  # noqa: RUF012 (SQLAlchemy reads it)


class ChatSession(Base):
    """One conversation of one newcomer on one channel."""

    __tablename__ = "chat_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str | None] = mapped_column(String(64), index=True, default=None)
    language: Mapped[str | None] = mapped_column(String(8), default=None)
    region: Mapped[str | None] = mapped_column(String(64), default=None)
    mode: Mapped[str] = mapped_column(String(16), default="bot")  # bot | waiting | human
    # True while Rasa holds the conversation paused for a case; resumed (and cleared) on close.
    rasa_paused: Mapped[bool] = mapped_column(Boolean, default=False)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    # Privacy: the notice is shown once per conversation; closed_at is set by the retention job.
    privacy_notice_shown: Mapped[bool] = mapped_column(Boolean, default=False)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)

    messages: Mapped[list[Message]] = relationship(
        back_populates="session", order_by="Message.seq", cascade="all, delete-orphan"
    )


class Message(Base):
    """A message in or out, in the order the newcomer saw it (``seq``)."""

    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("session_id", "seq", name="uq_messages_session_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("chat_sessions.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    sender: Mapped[str] = mapped_column(String(16))  # user | bot | agent | system
    channel: Mapped[str] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(8), default=None)
    text: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    session: Mapped[ChatSession] = relationship(back_populates="messages")


class User(Base):
    """A member of staff: case manager, editor or admin. Case managers see their teams' cases."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))  # case_manager | editor | admin
    teams: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: every team
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The district (a region id of knowledge/regions) whose cases and sessions this account sees;
    # None: every district (state-level admins, or a deployment serving one district).
    district: Mapped[str | None] = mapped_column(String(64), default=None)


class AuthToken(Base):
    """A login. Only a hash of the token is stored, so a database leak does not leak logins."""

    __tablename__ = "auth_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # When the login was last used (updated at most once a minute): a login idle longer than
    # LOTSE_STAFF_IDLE_MINUTES is refused. None (logins from before 0007): counts from created_at.
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)

    user: Mapped[User] = relationship()


class Case(Base):
    """A newcomer handed to a person: what they need, who answers, and how it ended."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("chat_sessions.id", ondelete="CASCADE"), index=True)
    region: Mapped[str | None] = mapped_column(String(64), default=None)
    team: Mapped[str] = mapped_column(String(64), index=True)
    language: Mapped[str] = mapped_column(String(8))
    topic: Mapped[str | None] = mapped_column(String(32), default=None)
    town: Mapped[str | None] = mapped_column(String(128), default=None)
    urgency: Mapped[str] = mapped_column(String(16), default="normal")  # normal | urgent
    reason: Mapped[str] = mapped_column(String(32), default="request")  # request|urgent_topic|low_confidence|crisis
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)  # open | closed
    summary: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the form's answers and answered questions
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    first_reply_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    outcome: Mapped[str | None] = mapped_column(String(32), default=None)

    session: Mapped[ChatSession] = relationship()
    claimed_by: Mapped[User | None] = relationship()
    notes: Mapped[list[CaseNote]] = relationship(
        back_populates="case", order_by="CaseNote.id", cascade="all, delete-orphan"
    )


class CaseNote(Base):
    """An internal note of staff on a case; the newcomer never sees it."""

    __tablename__ = "case_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    case: Mapped[Case] = relationship(back_populates="notes")
    author: Mapped[User | None] = relationship()


class AuditEntry(Base):
    """Who in the console (or the case API) read or changed which case: never what was written.

    No foreign keys on purpose: the trail must outlive erased conversations and removed staff.
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer, default=None)
    username: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))  # read | claim | reply | note | close | erase | export
    case_id: Mapped[int | None] = mapped_column(Integer, default=None, index=True)
    session_id: Mapped[str | None] = mapped_column(String(32), default=None)
    via: Mapped[str] = mapped_column(String(16), default="api")  # api | console | cli | job


class PendingTrackerErasure(Base):
    """A Rasa tracker still to be wiped: the hub's data is gone, Rasa was not reachable at the time."""

    __tablename__ = "pending_tracker_erasures"

    sender_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class UsageCount(Base):
    """A privacy-free tally for the coordination report, written when something happens.

    Rows are only ever added (``count`` 1), never updated, so concurrent writers never conflict;
    the report sums them. They name no session, case, person or text, only a day (ISO date, local
    time of NRW) and categories, so they outlive the retention job that deletes conversations.
    metric/key: conversation/-, question/answered|clarify|out_of_scope, handoff/<reason>,
    outcome/<outcome>, first_reply/- (``value``: seconds from hand-off to the first human reply).
    """

    __tablename__ = "usage_counts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    day: Mapped[str] = mapped_column(String(10), index=True)  # YYYY-MM-DD
    metric: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(32), default="")
    region: Mapped[str] = mapped_column(String(64), default="")
    town: Mapped[str] = mapped_column(String(128), default="")
    channel: Mapped[str] = mapped_column(String(16), default="")
    language: Mapped[str] = mapped_column(String(8), default="")
    team: Mapped[str] = mapped_column(String(64), default="")
    topic: Mapped[str] = mapped_column(String(32), default="")
    value: Mapped[int | None] = mapped_column(Integer, default=None)
    count: Mapped[int] = mapped_column(Integer, default=1)


class CaseChallenge(Base):
    """A systematic challenge a case manager tagged on closing a case (e.g. long waits at the ABH).

    Deliberately without a case id or any text: the steering group needs how often and where, and
    the tally must survive the case's deletion by the retention job or an erasure request.
    """

    __tablename__ = "case_challenges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tag: Mapped[str] = mapped_column(String(64))
    day: Mapped[str] = mapped_column(String(10), index=True)  # YYYY-MM-DD, local time
    region: Mapped[str] = mapped_column(String(64), default="")
    town: Mapped[str] = mapped_column(String(128), default="")
    team: Mapped[str] = mapped_column(String(64), default="")


class ContentRevision(Base):
    """One version of a knowledge entry written in the console: a draft until a second editor decides.

    ``data`` is the whole entry as in its YAML file, so any revision can be published or restored
    as it is. ``base_hash`` is the hash of the published entry the draft started from: when it no
    longer matches, someone published in between and the draft must not silently undo that.
    Status: draft → approved (published; the live version) → superseded (by a later publish), or
    draft → rejected / superseded (replaced by a newer draft of the same author).
    """

    __tablename__ = "content_revisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry_id: Mapped[str] = mapped_column(String(128), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="edit")  # edit | new | revert
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    base_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    restores_id: Mapped[int | None] = mapped_column(Integer, default=None)  # revert: the revision restored
    comment: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    author_name: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    reviewer_name: Mapped[str | None] = mapped_column(String(128), default=None)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    review_comment: Mapped[str] = mapped_column(Text, default="")


class UnansweredQuestion(Base):
    """A newcomer's question that got no confident answer: the content gaps editors close.

    Bound to its conversation (``ON DELETE CASCADE``), so erasure and the retention job remove it
    with the transcript. Off-topic questions are not kept: they are no content gaps (the usage
    figures count them). ``embedding`` holds the float32 vector of ``text``, filled on first
    grouping, so a few thousand questions are never re-embedded.
    """

    __tablename__ = "unanswered_questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("chat_sessions.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str | None] = mapped_column(String(8), default=None)
    region: Mapped[str | None] = mapped_column(String(64), default=None)
    channel: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None, index=True)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    resolution: Mapped[str | None] = mapped_column(String(16), default=None)  # new_entry|added_wordings|dismissed
    entry_id: Mapped[str | None] = mapped_column(String(128), default=None)  # the entry the wordings went to
    draft_id: Mapped[int | None] = mapped_column(Integer, default=None)  # content_revisions.id of the draft
