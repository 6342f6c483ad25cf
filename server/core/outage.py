"""The database is down: answer 503 with a polite text in the newcomer's language, never a bare 500.

The chat path commits a newcomer's message before it asks Rasa, so while the database is
unreachable nothing can be accepted: the API says so (503, ``Retry-After``) in words a newcomer
understands, with the Welcome Center's contact, and the client may send the message again. The
session's language is in the unreachable database, so the language comes from ``Accept-Language``
(the web chat's browser language), else the installation's default language.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError

from lotse.i18n import t
from lotse.languages import LANGUAGES, RTL_LANGUAGES
from server.core.config import Settings
from server.services.contact import contact_line

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 30


def requested_language(accept_language: str | None, default: str) -> str:
    """The first language of an ``Accept-Language`` header that Lotse speaks (``ar-SY`` → ``ar``)."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        code = tag.strip().lower().split("-")[0]
        if code in LANGUAGES and quality > 0:
            ranked.append((-quality, index, code))
    return min(ranked)[2] if ranked else default


def database_unavailable_response(settings: Settings, accept_language: str | None) -> JSONResponse:
    language = requested_language(accept_language, settings.default_language)
    text = t("database_unavailable", language, contact=contact_line(settings.welcome_center_region))
    return JSONResponse(
        status_code=503,
        content={"detail": text, "language": language, "dir": "rtl" if language in RTL_LANGUAGES else "ltr",
                 "error": "database_unavailable"},
        headers={"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"},
    )


def install(app: FastAPI) -> None:
    """Register the 503 answer for a database that cannot be reached (stopped, restarting, connections cut)."""

    async def _database_down(request: Request, exc: Exception) -> JSONResponse:
        # The exception's text can hold SQL parameters (message texts): log its type only.
        log.warning("database unavailable: %s", type(exc).__name__)
        settings: Settings = request.app.state.settings
        return database_unavailable_response(settings, request.headers.get("accept-language"))

    app.add_exception_handler(OperationalError, _database_down)
    app.add_exception_handler(InterfaceError, _database_down)
