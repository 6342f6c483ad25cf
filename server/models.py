"""Database tables of the hub.

The hub is the system of record for conversations: Rasa's tracker is only dialogue state,
so transcripts, languages and modes live here, where case managers and reports can read them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
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


class AuthToken(Base):
    """A login. Only a hash of the token is stored, so a database leak does not leak logins."""

    __tablename__ = "auth_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

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
