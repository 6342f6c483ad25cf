"""The FastAPI hub: the public chat API, the web chat page and the health endpoint."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from server.api.main import api_router
from server.api.routes import health
from server.console.routes import install as install_console
from server.core.config import Settings, get_settings
from server.core.db import upgrade_database
from server.services.conversation import ConversationService
from server.services.dialogue import RasaClient
from server.services.events import EventBus
from server.web import pages

WEB_DIR = Path(__file__).resolve().parent / "web"
log = logging.getLogger(__name__)


def _describe(errors: list[dict[str, object]]) -> str:
    parts = []
    for error in errors:
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body")  # type: ignore[attr-defined]
        parts.append(f"{where}: {error.get('msg')}" if where else str(error.get("msg")))
    return "Invalid request: " + "; ".join(parts)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    bus = EventBus()
    dialogue = RasaClient(settings.rasa_url, settings.rasa_timeout_seconds)
    telegram: Callable[[], AbstractAsyncContextManager[None]] = nullcontext

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        upgrade_database(settings.database_url)
        bus.bind_loop(asyncio.get_running_loop())
        async with telegram():
            yield
        dialogue.close()

    app = FastAPI(
        title="Lotse hub",
        description="Multilingual assistant for newcomers: chat API, channels and health.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.conversations = ConversationService(settings, dialogue, bus)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [dict(e) for e in exc.errors()]
        for e in errors:
            e.pop("input", None)  # never echo what the newcomer sent (may be personal, may be huge)
            e.pop("ctx", None)
        return JSONResponse(status_code=422, content={"detail": _describe(errors), "errors": errors})

    app.include_router(api_router, prefix="/api/v1")
    app.include_router(health.router)
    install_console(app)
    if settings.telegram_bot_token:  # Telegram channel: not even imported without a token
        from server.api.routes.telegram import mount_telegram

        telegram = mount_telegram(app)
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")

    app.include_router(pages.router)  # /, /kiosk, /widget.js with their security headers

    return app


app = create_app()
