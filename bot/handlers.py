"""Telegram updates in, hub replies out.

There is no dialogue here: commands and button presses become the texts the hub understands
(``/start``, ``/choose_language{"language": "ar"}``), and whatever the hub answers is sent back.
Only ``/delete`` is the channel's own: erasing a chat's data needs no dialogue engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatAction
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from bot.callback_data import LOCAL
from bot.hub import Hub
from bot.outgoing import send_hub_message
from lotse.i18n import t

log = logging.getLogger(__name__)

Callback = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]
ERASE, KEEP = f"{LOCAL}erase", f"{LOCAL}keep"
TYPING_RENEWAL_SECONDS = 4.0  # Telegram shows "typing…" for 5 seconds


@contextlib.asynccontextmanager
async def typing_indicator(bot: Bot, chat_id: int) -> AsyncIterator[None]:
    """Show "typing…" while the hub works, renewed until the answer is there."""

    async def renew() -> None:
        while True:
            await asyncio.sleep(TYPING_RENEWAL_SECONDS)
            with contextlib.suppress(TelegramError):
                await bot.send_chat_action(chat_id, ChatAction.TYPING)

    with contextlib.suppress(TelegramError):
        await bot.send_chat_action(chat_id, ChatAction.TYPING)
    renewal = asyncio.create_task(renew())
    try:
        yield
    finally:
        renewal.cancel()


class Handlers:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def register(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        # Private chats only: in a group, one session would mix several people's questions.
        private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
        application.add_handler(CommandHandler("start", self.start, filters=private))
        for command in ("language", "human", "help"):
            application.add_handler(CommandHandler(command, self.relay(f"/{command}"), filters=private))
        application.add_handler(CommandHandler("delete", self.ask_erase, filters=private))
        application.add_handler(MessageHandler(filters.TEXT & private, self.message))
        application.add_handler(CallbackQueryHandler(self.erase, pattern=f"^{ERASE}$"))
        application.add_handler(CallbackQueryHandler(self.keep, pattern=f"^{KEEP}$"))
        application.add_handler(CallbackQueryHandler(self.button))
        application.add_error_handler(self.error)

    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Greeting, then the language picker with every language's native name."""
        await self.converse(update, context, "/start", "/language")

    def relay(self, command: str) -> Callback:
        """A handler that passes a command the hub knows (``/help``) on, without "@botname"."""

        async def handler(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            await self.converse(update, context, command)

        return handler

    async def message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_message and update.effective_message.text:
            await self.converse(update, context, update.effective_message.text)

    async def button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A pressed hub button counts as if its payload had been typed."""
        query, chat = update.callback_query, update.effective_chat
        if query is None or chat is None:
            return
        await query.answer()
        payload = await asyncio.to_thread(self.hub.payload, chat.id, query.data or "")
        if payload is None:
            log.info("pressed button is no longer in the conversation; ignored")
            return
        await self.converse(update, context, payload)

    async def converse(self, update: Update, context: ContextTypes.DEFAULT_TYPE, *inputs: str) -> None:
        """Send ``inputs`` to the hub one after the other and pass every reply on to the chat."""
        chat = update.effective_chat
        if chat is None:
            return
        app_language = update.effective_user.language_code if update.effective_user else None
        async with typing_indicator(context.bot, chat.id):
            for user_input in inputs:
                replies = await asyncio.to_thread(self.hub.send, chat.id, user_input, app_language)
                for reply in replies:
                    await send_hub_message(context.bot, chat.id, reply)
                if any(reply.get("fallback") for reply in replies):
                    break  # the dialogue engine is down: one apology, not one per input (/start)

    async def ask_erase(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        if chat is None:
            return
        language = await self._language(update)
        confirm = InlineKeyboardMarkup([[
            InlineKeyboardButton(t("privacy_delete", language), callback_data=ERASE),
            InlineKeyboardButton(t("no", language), callback_data=KEEP),
        ]])
        await context.bot.send_message(chat.id, t("privacy_delete_confirm", language), reply_markup=confirm)

    async def erase(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query, chat = update.callback_query, update.effective_chat
        if query is None or chat is None:
            return
        await query.answer()
        language = await self._language(update)
        deleted = await asyncio.to_thread(self.hub.erase, chat.id)
        log.info("erased a Telegram conversation on request (%d messages)", deleted)
        await query.edit_message_text(t("privacy_deleted", language))

    async def keep(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        await query.answer()
        await query.edit_message_text(t("privacy_kept", await self._language(update)))

    async def _language(self, update: Update) -> str:
        chat, user = update.effective_chat, update.effective_user
        assert chat is not None
        return await asyncio.to_thread(self.hub.language, chat.id, user.language_code if user else None)

    async def error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("handling a Telegram update failed", exc_info=context.error)
