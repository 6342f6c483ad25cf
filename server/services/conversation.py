"""The conversation path: store what comes in, ask the dialogue engine, store what goes out.

Ordering matters for trust: a newcomer's message is committed *before* Rasa is asked, so a
crash or an outage never loses it, and each reply is committed before it is published.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import lru_cache

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from lotse.i18n import t
from lotse.langid import conversation_language
from lotse.languages import LANGUAGES
from lotse.paths import DOMAIN_FILE
from server.core.config import Settings
from server.models import ChatSession, Message
from server.services.cases import CaseService, office_name
from server.services.contact import contact_line
from server.services.dialogue import DialogueUnavailable, RasaClient
from server.services.events import EventBus
from server.services.locks import SessionLocks
from server.services.notify import Notifier
from server.services.privacy import notice as privacy_notice
from server.services.render import OutMessage, render
from server.services.transcript import Transcript

CHANNELS = ("web", "telegram", "kiosk", "api")
# Commands people know from messengers, mapped onto Rasa intents.
COMMAND_ALIASES = {"start": "greet", "language": "choose_language", "human": "request_human", "help": "help"}
_PAYLOAD = re.compile(r"^/(\w+)(\{.*\})?$", re.DOTALL)


@lru_cache(maxsize=1)
def domain_intents() -> frozenset[str]:
    domain = yaml.safe_load(DOMAIN_FILE.read_text(encoding="utf-8"))
    return frozenset(str(i) for i in domain.get("intents", []))


def normalise_payload(text: str) -> tuple[str, bool]:
    """Return (text for Rasa, is_payload). Unknown ``/commands`` are sent as plain text."""
    match = _PAYLOAD.match(text.strip())
    if not match:
        # Rasa would read any leading "/" as intent syntax; typed text must stay text.
        return text.lstrip().lstrip("/") or text, False
    intent = COMMAND_ALIASES.get(match.group(1), match.group(1))
    entities = match.group(2) or ""
    if intent not in domain_intents():
        return text.lstrip("/"), False
    if entities:
        try:
            parsed = json.loads(entities)
        except ValueError:
            return text.lstrip("/"), False
        if not isinstance(parsed, dict):
            return text.lstrip("/"), False
        entities = json.dumps({str(k): str(v) for k, v in parsed.items()}, ensure_ascii=False)
    return f"/{intent}{entities}", True


@dataclass
class Reply:
    session: ChatSession
    user_message: Message
    messages: list[Message]


class SessionNotFound(LookupError):
    pass


# Called with (db, chat, the newcomer's message, the bot's stored replies) inside the transaction
# that stores the replies, so what an observer records (unanswered questions, usage figures) is
# committed together with the reply, or not at all. An observer must not commit.
ExchangeObserver = Callable[[Session, ChatSession, Message, list[Message]], None]


class ConversationService:
    def __init__(self, settings: Settings, dialogue: RasaClient, bus: EventBus) -> None:
        self.settings = settings
        self.dialogue = dialogue
        self.bus = bus
        self.transcript = Transcript(bus)
        self.cases = CaseService(settings, self.transcript, Notifier(settings, bus), self, self._lock)
        # Messages of one session are handled in order; other sessions never wait for it (server/services/locks.py).
        self._locks = SessionLocks()
        self.observers: list[ExchangeObserver] = []

    def _lock(self, session_id: str) -> AbstractContextManager[None]:
        return self._locks(session_id)

    def create_session(
        self, db: Session, channel: str, language: str | None = None, region: str | None = None,
        external_id: str | None = None,
    ) -> ChatSession:
        chat = ChatSession(
            channel=channel, language=language, region=region or self.settings.default_region,
            external_id=external_id,
        )
        db.add(chat)
        db.commit()
        return chat

    def session_for_external(self, db: Session, channel: str, external_id: str) -> ChatSession:
        """The conversation of a messenger chat (e.g. a Telegram chat id), created on first contact."""
        chat = db.scalars(
            select(ChatSession)
            .where(ChatSession.channel == channel, ChatSession.external_id == external_id)
            .order_by(ChatSession.created_at.desc())
        ).first()
        return chat or self.create_session(db, channel, external_id=external_id)

    def get_session(self, db: Session, session_id: str) -> ChatSession:
        chat = db.get(ChatSession, session_id)
        if chat is None:
            raise SessionNotFound(session_id)
        return chat

    def messages_after(self, db: Session, session_id: str, after: int) -> Sequence[Message]:
        self.get_session(db, session_id)
        return db.scalars(
            select(Message).where(Message.session_id == session_id, Message.seq > after).order_by(Message.seq)
        ).all()

    def contact(self, chat: ChatSession) -> str:
        return contact_line(chat.region or self.settings.welcome_center_region)

    def resume(self, session_id: str) -> None:
        """Rasa's resume, through whatever dialogue client is plugged in (tests use a scripted one)."""
        resume = getattr(self.dialogue, "resume", None)
        if resume is not None:
            resume(session_id)

    def render_args(self, chat: ChatSession) -> dict[str, str]:
        region = chat.region or self.settings.welcome_center_region
        return {"contact": self.contact(chat), "office": office_name(region),
                "retention_days": str(self.settings.retention_days)}

    def handle_user_message(self, db: Session, session_id: str, text: str) -> Reply:
        with self._lock(session_id):
            chat = self.get_session(db, session_id)
            lock_row(db, chat)
            rasa_text, is_payload = normalise_payload(text)
            if not is_payload:
                chat.language = conversation_language(text, chat.language, self.settings.default_language)
            language = chat.language or self.settings.default_language
            user_message = self.transcript.append(db, chat, "user", text, None if is_payload else language)
            if chat.mode != "bot":
                # A case manager has the conversation: the bot stays silent, the console hears it.
                self.cases.on_user_message(db, chat, user_message)
                db.commit()
                self.transcript.publish(chat, user_message)
                self.cases.notify_message(db, chat, user_message)
                return Reply(chat, user_message, [])
            db.commit()
            self.transcript.publish(chat, user_message)
            if chat.rasa_paused:
                self.cases.resume_dialogue(db, chat)

            case = None
            try:
                bot_messages = self.dialogue.send(
                    chat.id, rasa_text,
                    {"language": language, "region": chat.region, "channel": chat.channel},
                )
                lock_row(db, chat)  # another instance may have added messages meanwhile
                rendered = render(bot_messages, language, self.render_args(chat))
                chat.language = rendered.language
                outgoing = rendered.messages
                if rendered.handoff is not None:
                    case, told = self.cases.create(db, chat, dict(rendered.handoff), rendered.language)
                    outgoing = [*outgoing, *told]
                if not chat.privacy_notice_shown:
                    # Before the first answer, once per conversation: what is kept, how long, how to delete.
                    # (Not before an outage apology: that one stays short; the notice comes with the answer.)
                    outgoing = [privacy_notice(chat.language or language, self.render_args(chat)), *outgoing]
                    chat.privacy_notice_shown = True
            except DialogueUnavailable:
                lock_row(db, chat)
                outgoing = [OutMessage(
                    text=_service_unavailable(language, self.contact(chat)), language=language,
                    meta={"fallback": "dialogue_unavailable"},
                )]
            stored = [
                self.transcript.append(db, chat, "bot", m.text, m.language,
                                       {"buttons": m.buttons, "sources": m.sources, "meta": m.meta})
                for m in outgoing
            ]
            for observe in self.observers:
                observe(db, chat, user_message, stored)
            db.commit()
            self.transcript.publish(chat, *stored)
            if case is not None:
                self.cases.announce(case)
            return Reply(chat, user_message, stored)

    def set_language(self, db: Session, session_id: str, language: str) -> ChatSession:
        if language not in LANGUAGES:
            raise ValueError(language)
        chat = self.get_session(db, session_id)
        chat.language = language
        db.commit()
        return chat


def lock_row(db: Session, chat: ChatSession) -> None:
    """On PostgreSQL: read the conversation fresh and hold its row until the next commit.

    The in-process session locks order the threads of one hub. Several hub instances share only
    the database, so whoever numbers messages (``last_seq``) also takes the row lock: a second
    instance storing into the same conversation waits for the commit and then counts on from
    there, instead of colliding on ``seq``. SQLite serves a single instance: nothing to do.
    Call it only before changing ``chat`` (a refresh drops unsaved changes).
    """
    if db.get_bind().dialect.name == "postgresql":
        db.refresh(chat, with_for_update=True)


def _service_unavailable(language: str, contact: str) -> str:
    return t("service_unavailable", language, contact=contact)
