"""The web chat (``/``), the kiosk (``/kiosk``) and the widget script (``/widget.js``).

Every page gets a strict Content-Security-Policy: scripts, styles and connections only from
the hub itself. ``frame-ancestors`` is the widget's origin allow-list: the chat page may be
framed by the hub's own pages and by the origins in ``LOTSE_WIDGET_ORIGINS``, nothing else; the
kiosk by nobody.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from lotse.i18n import t
from lotse.languages import LANGUAGES
from server.core.config import Settings

WEB_DIR = Path(__file__).resolve().parent
router = APIRouter(include_in_schema=False)


def content_security_policy(frame_ancestors: str) -> str:
    return "; ".join([
        "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
        "media-src 'self' blob:", "connect-src 'self'", "object-src 'none'", "base-uri 'none'",
        "form-action 'self'", f"frame-ancestors {frame_ancestors}",
    ])


def page_headers(frame_ancestors: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(frame_ancestors),
        "X-Content-Type-Options": "nosniff",
        # A continue token in the address must not travel on to the sources a newcomer opens.
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",
    }


def chat_frame_ancestors(settings: Settings) -> str:
    return " ".join(["'self'", *settings.widget_origins])


@router.get("/")
def web_chat(request: Request) -> FileResponse:
    """The full chat page; ``?embed=1`` is the same page inside the widget's frame."""
    return FileResponse(WEB_DIR / "index.html", media_type="text/html",
                        headers=page_headers(chat_frame_ancestors(request.app.state.settings)))


@router.get("/kiosk")
def kiosk() -> FileResponse:
    return FileResponse(WEB_DIR / "kiosk.html", media_type="text/html", headers=page_headers("'none'"))


@cache
def widget_script() -> str:
    """widget.js with its few button texts in every language filled in (it runs on the host page,
    where it cannot fetch them from the hub without CORS)."""
    texts = {
        code: {"open": t("open_chat", code), "close": t("close_chat", code), "rtl": lang.rtl}
        for code, lang in LANGUAGES.items()
    }
    source = (WEB_DIR / "widget.js").read_text(encoding="utf-8")
    return source.replace('"__LOTSE_TEXTS__"', json.dumps(texts, ensure_ascii=True, sort_keys=True))


@router.get("/widget.js")
def widget() -> Response:
    return Response(
        widget_script(), media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff",
                 "Cross-Origin-Resource-Policy": "cross-origin"},
    )
