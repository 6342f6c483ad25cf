"""Appending to a conversation and telling everyone who listens.

One place numbers messages (``seq``), records the session's mode with each message, and turns a
stored message into what the newcomer sees: a case manager's words in the newcomer's language
when a translation exists, with the original beside it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from lotse.languages import RTL_LANGUAGES
from server.models import ChatSession, Message, utcnow
from server.services.events import EventBus, SessionRef


def ref(chat: ChatSession) -> SessionRef:
    return SessionRef(chat.id, chat.channel, chat.external_id)


def translation_of(message: Message) -> dict[str, str] | None:
    translation = (message.payload or {}).get("translation")
    if isinstance(translation, dict) and translation.get("text") and translation.get("language"):
        return {"language": str(translation["language"]), "text": str(translation["text"])}
    return None


def message_dict(message: Message) -> dict[str, Any]:
    """The newcomer's view of a message (chat API, SSE, Telegram)."""
    payload = message.payload or {}
    text, language = message.text, message.language
    original: str | None = None
    translation = translation_of(message)
    if message.sender == "agent" and translation:
        text, language, original = translation["text"], translation["language"], message.text
    out: dict[str, Any] = {
        "seq": message.seq,
        "sender": message.sender,
        "text": text,
        "language": language,
        "dir": "rtl" if language in RTL_LANGUAGES else "ltr",
        "buttons": payload.get("buttons", []),
        "sources": payload.get("sources", []),
        "time": message.created_at.isoformat(),
    }
    if original is not None:
        out["original_text"] = original
        out["original_language"] = message.language
    if payload.get("mode"):
        out["mode"] = payload["mode"]
    if payload.get("push"):
        out["push"] = True  # sent outside a reply (e.g. a case manager joined): channels push it
    meta = payload.get("meta")
    if isinstance(meta, dict) and meta.get("fallback"):
        out["fallback"] = meta["fallback"]  # e.g. "dialogue_unavailable": channels stop asking for more
    if message.sender == "agent" and payload.get("author"):
        out["author"] = payload["author"]
    return out


class Transcript:
    def __init__(self, bus: EventBus) -> None:
        self.bus = bus

    def append(self, db: Session, chat: ChatSession, sender: str, text: str, language: str | None,
               payload: dict[str, Any] | None = None) -> Message:
        chat.last_seq += 1
        chat.last_activity_at = utcnow()
        message = Message(
            session_id=chat.id, seq=chat.last_seq, sender=sender, channel=chat.channel,
            language=language, text=text, payload={**(payload or {}), "mode": chat.mode},
        )
        db.add(message)
        return message

    def publish(self, chat: ChatSession, *messages: Message) -> None:
        """Call after the commit: listeners and push streams must only see what is stored."""
        for message in messages:
            self.bus.publish(ref(chat), message_dict(message))
