"""The hub with the Telegram channel, its Bot API pointed at a fake server, Rasa scripted."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from server.core.config import Settings
from server.main import create_app
from tests.bot.fake_telegram import FakeBotApi
from tests.conftest import ScriptedDialogue

SECRET = "s3cret-Token_1"
CHAT_ID = 4242
_update_ids = itertools.count(1)


@pytest.fixture
def bot_api() -> Iterator[FakeBotApi]:
    with FakeBotApi().running() as api:
        yield api


@pytest.fixture
def telegram_settings(settings: Settings, bot_api: FakeBotApi) -> Settings:
    return settings.model_copy(update={
        "telegram_bot_token": "123456:TEST-token",
        "telegram_webhook_secret": SECRET,
        "telegram_webhook_url": "https://lotse.example.org",
        "telegram_api_base_url": bot_api.url,
    })


@pytest.fixture
def telegram_client(telegram_settings: Settings, dialogue: ScriptedDialogue) -> Iterator[TestClient]:
    app = create_app(telegram_settings)
    app.state.conversations.dialogue = dialogue
    with TestClient(app) as client:
        deadline = time.monotonic() + 10
        while not app.state.telegram.ready:
            assert time.monotonic() < deadline, "the Telegram channel did not start"
            time.sleep(0.01)
        yield client


def user(chat_id: int = CHAT_ID, language_code: str = "de") -> dict[str, Any]:
    return {"id": chat_id, "is_bot": False, "first_name": "Amal", "language_code": language_code}


def chat(chat_id: int = CHAT_ID) -> dict[str, Any]:
    return {"id": chat_id, "type": "private", "first_name": "Amal"}


def message_update(text: str, chat_id: int = CHAT_ID, language_code: str = "de") -> dict[str, Any]:
    """An Update as Telegram sends it for a typed message (commands carry a bot_command entity)."""
    update_id = next(_update_ids)
    message: dict[str, Any] = {
        "message_id": update_id, "date": int(time.time()), "chat": chat(chat_id),
        "from": user(chat_id, language_code), "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": update_id, "message": message}


def callback_update(data: str, chat_id: int = CHAT_ID, message_id: int = 1000) -> dict[str, Any]:
    """An Update for a pressed inline button under one of the bot's messages."""
    update_id = next(_update_ids)
    return {"update_id": update_id, "callback_query": {
        "id": f"cbq-{update_id}", "from": user(chat_id), "chat_instance": f"ci-{chat_id}", "data": data,
        "message": {"message_id": message_id, "date": int(time.time()), "chat": chat(chat_id),
                    "from": {"id": 777000111, "is_bot": True, "first_name": "Lotse"}, "text": "…"},
    }}


def post_update(client: TestClient, update: dict[str, Any], secret: str | None = SECRET) -> int:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    return client.post("/telegram/webhook", json=update, headers=headers).status_code
