"""Refuse requests no route could handle: oversized bodies (413) and NUL bytes in the URL (422).

Every body the hub accepts is small (a chat message of at most ``LOTSE_MAX_MESSAGE_CHARS``, a
Telegram update, a console form). Without a cap, FastAPI would read and parse a body of any size
before a route could say "too long", so one client could make the hub hold gigabytes. The cap is
checked on ``Content-Length`` and, for chunked bodies, on the bytes actually received.

A NUL byte (``%00``) in a path or query parameter can never name anything stored, and PostgreSQL
refuses it in a query outright (a 500 on any filter that reaches the database): it is turned away
here, once for every route, rather than in each of them. (JSON bodies are checked by their routes.)
"""

from __future__ import annotations

import json

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The longest message allowed (20,000 characters) as JSON with every character escaped (\\uXXXX\\uXXXX
# for characters beyond the BMP) stays under this.
MAX_BODY_BYTES = 256 * 1024


class _TooLarge(HTTPException):
    """Raised while a route reads the body: an HTTPException, so FastAPI answers 413 rather than 400/500."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"The request is too large (at most {max_bytes} bytes).")


class RequestLimits:
    """ASGI middleware: 413 for any HTTP request whose body exceeds ``max_bytes``; 422 for NUL in the URL."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"] or b"%00" in scope["query_string"] or b"\x00" in scope["query_string"]:
            await _answer(send, 422, "The address contains a NUL byte.")
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            await self._refuse(send)
            return

        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if started:
                raise
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        await _answer(send, 413, f"The request is too large (at most {self.max_bytes} bytes).")


async def _answer(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]})
    await send({"type": "http.response.body", "body": body})
