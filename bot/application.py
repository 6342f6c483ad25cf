"""Lotse's python-telegram-bot ``Application``, the same for webhook mode and polling."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, ApplicationBuilder

from bot.handlers import Handlers
from bot.hub import Hub
from bot.ordering import PerChatUpdateProcessor
from server.core.config import Settings
from server.services.conversation import ConversationService

TelegramApp = Application[Any, Any, Any, Any, Any, Any]


def build_application(settings: Settings, conversations: ConversationService, *, polling: bool = False) -> TelegramApp:
    """The bot, wired to ``conversations``; without ``polling`` updates come in through ``update_queue``."""
    if not settings.telegram_bot_token:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    builder = ApplicationBuilder().token(settings.telegram_bot_token).concurrent_updates(PerChatUpdateProcessor())
    if settings.telegram_api_base_url:  # a local Bot API server, or the fake one in tests
        api = settings.telegram_api_base_url
        builder = builder.base_url(f"{api}/bot").base_file_url(f"{api}/file/bot")
    if not polling:
        builder = builder.updater(None)  # the hub's webhook route feeds the update queue
    application = builder.build()
    Handlers(Hub(conversations)).register(application)
    return application
