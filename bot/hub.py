"""The bot's way into the hub: one Telegram chat is one conversation on channel ``telegram``.

Every call blocks (SQLAlchemy, the HTTP call to Rasa), so handlers run them with
``asyncio.to_thread``; each call uses its own database session, as a request would.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bot.callback_data import HASHED, decode
from lotse.languages import normalise
from server.core.db import get_sessionmaker
from server.models import ChatSession
from server.services.conversation import ConversationService
from server.services.erasure import erase_external
from server.services.transcript import message_dict

CHANNEL = "telegram"
RECENT_MESSAGES = 50  # how far back a pressed button is looked up


class Hub:
    def __init__(self, conversations: ConversationService) -> None:
        self.conversations = conversations
        self._sessions = get_sessionmaker(conversations.settings.database_url)

    def send(self, chat_id: int, text: str, app_language: str | None = None) -> list[dict[str, Any]]:
        """Hand ``text`` (typed, or a button's payload) to the hub; return its replies."""
        with self._sessions() as db:
            chat = self._chat(db, chat_id, app_language)
            reply = self.conversations.handle_user_message(db, chat.id, text)
            return [message_dict(m) for m in reply.messages]

    def language(self, chat_id: int, app_language: str | None = None) -> str:
        with self._sessions() as db:
            chat = self._chat(db, chat_id, app_language)
            return chat.language or self.conversations.settings.default_language

    def payload(self, chat_id: int, data: str) -> str | None:
        """The hub payload behind a pressed button's ``callback_data`` (None if no longer known)."""
        if not data.startswith(HASHED):
            return data
        with self._sessions() as db:
            chat = self._chat(db, chat_id)
            recent = self.conversations.messages_after(db, chat.id, max(0, chat.last_seq - RECENT_MESSAGES))
            return decode(data, (message_dict(m) for m in reversed(recent)))

    def erase(self, chat_id: int) -> int:
        """Delete the chat's conversations; return the number of messages deleted."""
        with self._sessions() as db:
            return erase_external(db, CHANNEL, str(chat_id))

    def _chat(self, db: Session, chat_id: int, app_language: str | None = None) -> ChatSession:
        chat = self.conversations.session_for_external(db, CHANNEL, str(chat_id))
        language = normalise(app_language)
        if chat.language is None and language:
            # The language of the newcomer's Telegram app is a better first guess than the default.
            chat = self.conversations.set_language(db, chat.id, language)
        return chat
