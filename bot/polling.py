"""``lotse telegram poll``: the bot with long polling, for local development.

No public URL needed: the bot asks Telegram for updates and talks to the same database and
Rasa as the hub. Starting it removes a webhook the hub may have set (Telegram allows only one
way of receiving). Pushes (case managers' replies) reach Telegram only from the process that
stores them, so in this mode only messages stored by this process are pushed.
"""

from __future__ import annotations

import asyncio
import logging
import sys

from telegram import Update

from bot.application import TelegramApp, build_application
from bot.push import TelegramPush
from server.core.config import get_settings
from server.core.db import upgrade_database
from server.services.conversation import ConversationService
from server.services.dialogue import RasaClient
from server.services.events import EventBus


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "alembic"):  # one line per getUpdates call, per migration step
        logging.getLogger(noisy).setLevel(logging.WARNING)
    settings = get_settings()
    if not settings.telegram_bot_token:
        print("Set TELEGRAM_BOT_TOKEN (from @BotFather) to run the Telegram bot.", file=sys.stderr)
        return 2
    upgrade_database(settings.database_url)
    bus = EventBus()
    dialogue = RasaClient(settings.rasa_url, settings.rasa_timeout_seconds)
    application = build_application(settings, ConversationService(settings, dialogue, bus), polling=True)
    push = TelegramPush(application.bot)
    bus.add_listener(push)

    async def bind_loop(app: TelegramApp) -> None:
        push.bind(asyncio.get_running_loop())
        bus.bind_loop(asyncio.get_running_loop())

    application.post_init = bind_loop
    try:
        application.run_polling(allowed_updates=[Update.MESSAGE, Update.CALLBACK_QUERY])
    finally:
        dialogue.close()
    return 0
