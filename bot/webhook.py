"""The bot inside the hub: started with it, fed by the webhook route, pushing case managers' replies.

Telegram being unreachable must never stop the hub (the web chat and the kiosk do not need
Telegram), so the bot starts in the background and retries with growing pauses; until it runs,
the webhook answers 503 and Telegram delivers the update again later.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError

from bot.application import build_application
from bot.push import TelegramPush
from server.core.config import Settings
from server.services.conversation import ConversationService

log = logging.getLogger(__name__)

ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
MAX_RETRY_SECONDS = 300.0


class TelegramChannel:
    def __init__(self, settings: Settings, conversations: ConversationService) -> None:
        self.settings = settings
        self.application = build_application(settings, conversations)
        self.push = TelegramPush(self.application.bot)
        conversations.bus.add_listener(self.push)
        self._starting: asyncio.Task[None] | None = None
        if not settings.telegram_webhook_secret:
            log.warning("LOTSE_TELEGRAM_WEBHOOK_SECRET is not set: the webhook refuses every call")

    @property
    def ready(self) -> bool:
        return self.application.running

    def accepts(self, secret: str) -> bool:
        """Constant-time check of the secret Telegram sends with every webhook call."""
        expected = self.settings.telegram_webhook_secret
        return bool(expected) and hmac.compare_digest(secret.encode(), str(expected).encode())

    async def feed(self, data: dict[str, Any]) -> None:
        """Queue an update; the application answers it in the background."""
        await self.application.update_queue.put(Update.de_json(data, self.application.bot))

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Run the bot for the lifetime of the hub (its lifespan enters this)."""
        self.push.bind(asyncio.get_running_loop())
        self._starting = asyncio.create_task(self._start())
        try:
            yield
        finally:
            self._starting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._starting
            if self.application.running:
                await self.application.stop()  # finishes the updates being answered
            await self.application.shutdown()
            await self.application.bot.shutdown()  # also after a start that never reached Telegram

    async def _start(self) -> None:
        bot = self.application.bot
        if not await _retry(self.application.initialize, "reach Telegram"):
            return
        await self.application.start()
        log.info("Telegram bot @%s is running", bot.username)
        webhook = self.settings.telegram_webhook()
        if webhook:
            secret = self.settings.telegram_webhook_secret
            await _retry(
                lambda: bot.set_webhook(webhook, secret_token=secret, allowed_updates=ALLOWED_UPDATES),
                "set the webhook",
            )


async def _retry(call: Callable[[], Awaitable[Any]], what: str) -> bool:
    """Call until it works while Telegram is unreachable; give up on errors a retry cannot fix."""
    delay = 1.0
    while True:
        try:
            await call()
            return True
        except BadRequest as exc:  # a NetworkError to python-telegram-bot, but final
            log.error("could not %s: %s", what, exc)
            return False
        except (NetworkError, RetryAfter) as exc:
            log.warning("could not %s (%s); trying again in %.0f s", what, exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_RETRY_SECONDS)
        except TelegramError as exc:  # a wrong token, a conflict: a retry cannot fix it
            log.error("could not %s: %s", what, exc)
            return False
