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
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.api.main import api_router
from server.api.routes import health
from server.api.routes.cases import audit_router
from server.console.routes import install as install_console
from server.core.config import Settings, get_settings
from server.core.db import upgrade_database
from server.core.limits import RequestLimits
from server.core.outage import install as install_outage
from server.core.ratelimit import RateLimiter, RedisRateLimiter
from server.services.conversation import ConversationService
from server.services.dialogue import RasaClient
from server.services.events import EventBus
from server.services.handover import RedisSpentTokens
from server.services.privacy import purge_periodically
from server.services.relay import RedisRelay, shared_state
from server.services.stats import record_exchange
from server.services.unanswered import record as record_unanswered
from server.web import pages

WEB_DIR = Path(__file__).resolve().parent / "web"
log = logging.getLogger(__name__)


def _describe(errors: list[dict[str, object]]) -> str:
    parts = []
    for error in errors:
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body")  # type: ignore[attr-defined]
        parts.append(f"{where}: {error.get('msg')}" if where else str(error.get("msg")))
    return "Invalid request: " + "; ".join(parts)


CONSOLE_CSP = "; ".join([
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
    "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
])


class SecurityHeaders:
    """Headers the console needs (its pages show personal data): a strict CSP, no framing, no sniffing;
    and HSTS on every response that came over TLS (``--proxy-headers`` behind a TLS proxy).

    Plain ASGI rather than ``@app.middleware``: the chat's event streams must pass through untouched.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra: dict[bytes, bytes] = {}
        if scope.get("scheme") == "https":
            extra[b"strict-transport-security"] = b"max-age=31536000; includeSubDomains"
        if str(scope.get("path", "")).startswith("/console"):
            extra.update({b"content-security-policy": CONSOLE_CSP.encode(), b"x-frame-options": b"DENY",
                          b"x-content-type-options": b"nosniff", b"referrer-policy": b"same-origin"})

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start" and extra:
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *((k, v) for k, v in extra.items() if k not in present)]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    bus = EventBus()
    dialogue = RasaClient(settings.rasa_url, settings.rasa_timeout_seconds)
    telegram: Callable[[], AbstractAsyncContextManager[None]] = nullcontext

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        upgrade_database(settings.database_url)
        bus.bind_loop(asyncio.get_running_loop())
        relay = RedisRelay(settings.redis_url, bus) if settings.redis_url else None
        if relay is not None:  # several instances: pushes cross over Redis (never blocks start-up)
            bus.relay = relay
            relay.start()
        # Retention limits are enforced by the hub itself, so no deployment forgets a cron job.
        purge = (asyncio.create_task(purge_periodically(settings), name="lotse-retention")
                 if settings.purge_interval_minutes else None)
        async with telegram():
            yield
        if relay is not None:
            bus.relay = None
            await relay.stop()
        if purge is not None:
            purge.cancel()
        dialogue.close()

    app = FastAPI(
        title="Lotse hub",
        description="Multilingual assistant for newcomers: chat API, channels and health.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.add_middleware(RequestLimits)  # 413 for oversized bodies before anything reads them; NUL in URLs
    app.add_middleware(SecurityHeaders)
    app.state.settings = settings
    if settings.redis_url:  # several instances: tokens and limits shared through Redis
        shared = shared_state(settings.redis_url)
        app.state.session_limiter = RedisRateLimiter(settings.rate_limit_session_per_minute, shared, "session")
        app.state.address_limiter = RedisRateLimiter(settings.rate_limit_address_per_minute, shared, "address")
        app.state.spent_tokens = RedisSpentTokens(shared)
    else:
        app.state.session_limiter = RateLimiter(settings.rate_limit_session_per_minute)
        app.state.address_limiter = RateLimiter(settings.rate_limit_address_per_minute)
    app.state.conversations = ConversationService(settings, dialogue, bus)
    app.state.conversations.observers.append(record_exchange)  # the coordination report's tallies
    app.state.conversations.observers.append(record_unanswered)  # questions without a confident answer

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [dict(e) for e in exc.errors()]
        for e in errors:
            e.pop("input", None)  # never echo what the newcomer sent (may be personal, may be huge)
            e.pop("ctx", None)
        return JSONResponse(status_code=422, content={"detail": _describe(errors), "errors": errors})

    install_outage(app)  # database down: 503 with a polite, localized text
    app.include_router(api_router, prefix="/api/v1")
    app.include_router(audit_router, prefix="/api/v1")
    app.include_router(health.router)
    install_console(app)
    if settings.telegram_bot_token:  # Telegram channel: not even imported without a token
        from server.api.routes.telegram import mount_telegram

        telegram = mount_telegram(app)
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")

    app.include_router(pages.router)  # /, /kiosk, /widget.js with their security headers

    return app


app = create_app()
