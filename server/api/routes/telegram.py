"""Telegram's webhook: an update in, 200 out at once; the bot answers through the Bot API.

Imported and mounted only when ``TELEGRAM_BOT_TOKEN`` is set (see ``server/main.py``), at
``LOTSE_TELEGRAM_WEBHOOK_PATH``. Every call must carry the secret the hub gave Telegram in
``setWebhook``: without it anyone could write in a newcomer's name.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from fastapi import FastAPI, HTTPException, Request, Response, status

from bot.webhook import TelegramChannel

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def mount_telegram(app: FastAPI) -> Callable[[], AbstractAsyncContextManager[None]]:
    """Add the webhook route and the bot to ``app``; return the bot's lifespan for the hub's."""
    channel = TelegramChannel(app.state.settings, app.state.conversations)
    app.state.telegram = channel
    app.add_api_route(
        app.state.settings.telegram_webhook_path, telegram_webhook, methods=["POST"], include_in_schema=False
    )
    return channel.running


async def telegram_webhook(request: Request) -> Response:
    channel: TelegramChannel = request.app.state.telegram
    secret = request.headers.get(SECRET_HEADER)
    if not secret:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, f"The {SECRET_HEADER} header is missing.")
    if not channel.accepts(secret):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"The {SECRET_HEADER} header is wrong.")
    if not channel.ready:  # Telegram delivers the update again later
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "The Telegram channel is starting.")
    try:
        data = await request.json()
    except ValueError:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "The body is not JSON.") from None
    try:
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            raise TypeError("no update_id")
        await channel.feed(data)
    except (AttributeError, KeyError, TypeError, ValueError):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "The body is not a Telegram Update.") from None
    return Response(status_code=status.HTTP_200_OK)
