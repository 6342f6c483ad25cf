"""The small parts of the Telegram adapter: button data, message layout, push filter, erasure, settings."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.callback_data import MAX_DATA, decode, encode
from bot.outgoing import compose, keyboard
from bot.push import should_push
from lotse.i18n import t
from lotse.languages import LANGUAGES
from server.core.config import Settings
from server.core.db import get_sessionmaker, upgrade_database
from server.models import ChatSession
from server.services.erasure import erase_external, erase_session
from server.services.events import SessionRef


def test_short_payloads_travel_as_they_are_long_ones_as_a_hash() -> None:
    short = '/choose_language{"language": "ckb"}'
    assert encode(short) == short
    long = '/ask_question{"topic": "language_courses", "entry": "integrationskurs-kosten-und-befreiung"}'
    data = encode(long)
    assert data.startswith("#") and len(data.encode()) <= MAX_DATA
    messages = [{"buttons": [{"title": "x", "payload": "/greet"}]}, {"buttons": [{"title": "y", "payload": long}]}]
    assert decode(data, messages) == long
    assert decode(data, []) is None
    assert decode(short, []) == short
    assert encode("#not-a-command").startswith("#")  # never mistaken for hashed data


def test_every_language_button_fits_telegram() -> None:
    for code in LANGUAGES:
        payload = f'/choose_language{{"language": "{code}"}}'
        assert encode(payload) == payload


def test_sources_become_title_url_lines() -> None:
    message = {"text": "Antwort.", "language": "de", "sources": [
        {"id": "a", "title": "BAMF", "url": "https://www.bamf.de"}, {"id": "b", "title": "", "url": "https://x.de"},
    ]}
    assert compose(message) == "Antwort.\n\nQuellen:\nBAMF: https://www.bamf.de\nhttps://x.de"
    assert compose({"text": "Nur Text.", "sources": []}) == "Nur Text."


def test_short_buttons_go_two_to_a_row_long_ones_alone() -> None:
    short = keyboard([{"title": "Ja", "payload": "/affirm"}, {"title": "Nein", "payload": "/deny"}])
    assert short is not None and [len(row) for row in short.inline_keyboard] == [2]
    topics = [{"title": "Schule und Kinderbetreuung", "payload": "/x"}, {"title": "Aufenthalt", "payload": "/y"}]
    long = keyboard(topics)
    assert long is not None and [len(row) for row in long.inline_keyboard] == [1, 1]
    assert keyboard([]) is None


def test_only_agent_or_flagged_messages_of_telegram_chats_are_pushed() -> None:
    telegram, web = SessionRef("s", "telegram", "42"), SessionRef("s", "web", None)
    assert should_push(telegram, {"sender": "agent"})
    assert should_push(telegram, {"sender": "system", "push": True})
    assert not should_push(telegram, {"sender": "bot"})
    assert not should_push(telegram, {"sender": "user"})
    assert not should_push(web, {"sender": "agent"})
    assert not should_push(SessionRef("s", "telegram", None), {"sender": "agent"})


def test_erasure_texts_exist_in_every_language() -> None:
    """/delete speaks the newcomer's language like the rest of the chat (no English fallback)."""
    for key in ("privacy_delete", "privacy_delete_confirm", "privacy_deleted", "privacy_kept", "no"):
        english = t(key, "en")
        for code in LANGUAGES:
            assert t(key, code)
            assert code == "en" or key == "no" or t(key, code) != english, (key, code)  # "No" is Spanish too


def test_erase_session_deletes_messages_and_counts_them(settings: Settings) -> None:
    from server.services.conversation import ConversationService
    from server.services.events import EventBus
    from tests.conftest import ScriptedDialogue

    upgrade_database(settings.database_url)
    service = ConversationService(settings, ScriptedDialogue(), EventBus())  # type: ignore[arg-type]
    with get_sessionmaker(settings.database_url)() as db:
        chat = service.session_for_external(db, "telegram", "7")
        service.handle_user_message(db, chat.id, "Hallo")
        other = service.create_session(db, "web")
        service.handle_user_message(db, other.id, "Hallo")
        assert erase_session(db, chat.id) == 3  # message, privacy notice, answer
        assert erase_session(db, chat.id) == 0
        assert erase_external(db, "telegram", "7") == 0
        assert [c.id for c in db.query(ChatSession)] == [other.id]
        assert len(db.get(ChatSession, other.id).messages) == 3  # type: ignore[union-attr]


def test_a_public_webhook_needs_a_secret_and_https() -> None:
    with pytest.raises(ValidationError, match="SECRET"):
        Settings(telegram_webhook_url="https://lotse.example.org")
    with pytest.raises(ValidationError, match="https"):
        Settings(telegram_webhook_url="http://lotse.example.org", telegram_webhook_secret="abc")
    with pytest.raises(ValidationError):
        Settings(telegram_webhook_secret="no spaces allowed")
    ok = Settings(telegram_webhook_url="https://lotse.example.org/", telegram_webhook_secret="abc")
    assert ok.telegram_webhook() == "https://lotse.example.org/telegram/webhook"


def test_a_translated_case_manager_message_shows_author_and_original() -> None:
    text = compose({"sender": "agent", "author": "Anna", "text": "غدا الساعة العاشرة", "language": "ar",
                    "original_text": "Morgen um 10 Uhr.", "sources": []})
    assert text.startswith("Anna: غدا الساعة العاشرة")
    assert text.endswith("Morgen um 10 Uhr.") and t("translated_original", "ar") in text
