"""Push: what a case manager writes reaches the newcomer's Telegram chat at once.

The hub publishes every stored message on its ``EventBus``, from whichever thread stored it.
The newcomer's own messages and the bot's replies are already answered in the update handler,
so only ``agent`` messages and messages flagged ``"push": True`` go out here (a flagged message
must therefore never also be answered by a handler). The send is scheduled on the bot's event
loop; the publishing thread never waits for Telegram.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Future
from typing import Any

from telegram import Bot

from bot.hub import CHANNEL
from bot.outgoing import send_hub_message
from server.services.events import SessionRef

log = logging.getLogger(__name__)


def should_push(ref: SessionRef, message: dict[str, Any]) -> bool:
    return (
        ref.channel == CHANNEL
        and bool(ref.external_id)
        and (message.get("sender") == "agent" or message.get("push") is True)
    )


class TelegramPush:
    """An ``EventBus`` listener; ``bind`` it to the loop the bot runs on before messages come."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.loop: asyncio.AbstractEventLoop | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def __call__(self, ref: SessionRef, message: dict[str, Any]) -> None:
        if not should_push(ref, message):
            return
        if self.loop is None or self.loop.is_closed():
            log.warning("Telegram is not running; message %s stays in the transcript only", message.get("seq"))
            return
        chat_id = int(str(ref.external_id))
        future = asyncio.run_coroutine_threadsafe(send_hub_message(self.bot, chat_id, message), self.loop)
        future.add_done_callback(_report_failure)


def _report_failure(future: Future[None]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("pushing a message to Telegram failed", exc_info=future.exception())
