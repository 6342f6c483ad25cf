"""Button payloads in Telegram's 64-byte ``callback_data``.

The hub's buttons carry Rasa payloads such as ``/choose_language{"language": "ar"}``. Those that
fit travel as they are. Longer ones travel as ``#`` plus a hash of the payload; the press is
matched against the buttons of the chat's stored messages, so it works after a restart and on
any hub worker, with no cache to keep. Data of the bot's own buttons (``/delete``) starts with
``!``, so the three kinds never meet.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from telegram.constants import InlineKeyboardButtonLimit

MAX_DATA = int(InlineKeyboardButtonLimit.MAX_CALLBACK_DATA)
HASHED = "#"
LOCAL = "!"


def encode(payload: str) -> str:
    if payload.startswith("/") and len(payload.encode("utf-8")) <= MAX_DATA:
        return payload
    return HASHED + hashlib.sha256(payload.encode("utf-8")).hexdigest()[:40]


def is_hub_payload(data: str) -> bool:
    return not data.startswith(LOCAL)


def decode(data: str, messages: Iterable[dict[str, Any]]) -> str | None:
    """The payload behind ``data``; hashed data is looked up among ``messages`` (newest first)."""
    if not data.startswith(HASHED):
        return data
    for message in messages:
        for button in message.get("buttons", []):
            if encode(str(button.get("payload", ""))) == data:
                return str(button["payload"])
    return None
