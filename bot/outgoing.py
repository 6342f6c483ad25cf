"""Hub messages as Telegram messages: plain text, sources as links, buttons as an inline keyboard.

Texts go out without a parse mode, so neither an answer nor anything a newcomer typed is ever
read as HTML or Markdown: nothing can inject markup, nothing needs escaping, and Telegram
turns the source URLs into links by itself.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions

from bot.callback_data import encode
from bot.split import split_message
from lotse.i18n import t

log = logging.getLogger(__name__)

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)  # answers stay short on small, slow phones
SHORT_TITLE = 20  # buttons with titles up to this length go two to a row


def compose(message: dict[str, Any]) -> str:
    """The message text with its sources as ``Title: URL`` lines under a "Sources" heading.

    A case manager's message that was machine-translated carries its original below, so the
    newcomer can check it (or show it to someone who reads German).
    """
    text = str(message.get("text") or "")
    if message.get("sender") == "agent" and message.get("author"):
        text = f"{message['author']}: {text}"
    if message.get("original_text") and message["original_text"] != message.get("text"):
        label = t("translated_original", str(message.get("language") or "en"))
        text = f"{text}\n\n{label}\n{message['original_text']}"
    sources = [s for s in message.get("sources", []) if s.get("url")]
    if not sources:
        return text
    lines = [f"{s['title']}: {s['url']}" if s.get("title") else str(s["url"]) for s in sources]
    heading = t("sources", str(message.get("language") or "en"))
    return f"{text}\n\n{heading}:\n" + "\n".join(lines)


def keyboard(buttons: Sequence[dict[str, str]]) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    keys = [InlineKeyboardButton(b["title"], callback_data=encode(b["payload"])) for b in buttons]
    per_row = 2 if all(len(b["title"]) <= SHORT_TITLE for b in buttons) else 1
    return InlineKeyboardMarkup([keys[i : i + per_row] for i in range(0, len(keys), per_row)])


async def send_hub_message(bot: Bot, chat_id: int, message: dict[str, Any]) -> None:
    """Send one hub message, split if long; the buttons go under the last part."""
    parts = split_message(compose(message))
    if not parts:
        log.warning("hub message %s has no text; not sent to Telegram", message.get("seq"))
        return
    markup = keyboard(message.get("buttons", []))
    for number, part in enumerate(parts, start=1):
        await bot.send_message(
            chat_id, part, reply_markup=markup if number == len(parts) else None, link_preview_options=NO_PREVIEW
        )
