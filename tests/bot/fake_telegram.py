"""A small Bot API server on 127.0.0.1, so the tests run python-telegram-bot for real, offline.

It speaks the methods Lotse uses, records every call with its decoded parameters and answers
like Telegram does (``{"ok": true, "result": ...}``, a Message for sendMessage/editMessageText).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

BOT_USER = {"id": 777000111, "is_bot": True, "first_name": "Lotse", "username": "lotse_test_bot"}
JSON_FIELDS = {"chat_id", "message_id", "reply_markup", "link_preview_options", "allowed_updates", "offset"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]


class FakeBotApi:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.updates: list[dict[str, Any]] = []  # handed out by getUpdates (polling mode)
        self._changed = threading.Condition()
        self._message_ids = iter(range(1000, 10**6))
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                method = self.path.rsplit("/", 1)[-1]
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                params: dict[str, Any] = dict(parse_qsl(body))
                for name in JSON_FIELDS & params.keys():
                    params[name] = json.loads(params[name])
                answer = json.dumps({"ok": True, "result": api.record(method, params)}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # a poller that just stopped
                    self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def record(self, method: str, params: dict[str, Any]) -> Any:
        with self._changed:
            self.calls.append(Call(method, params))
            self._changed.notify_all()
        if method == "getMe":
            return BOT_USER
        if method == "getUpdates":
            with self._changed:
                updates, self.updates = self.updates, []
            if not updates:
                time.sleep(0.1)  # a very short "long poll"
            return updates
        if method in ("sendMessage", "editMessageText"):
            chat = {"id": params.get("chat_id"), "type": "private", "first_name": "Amal"}
            message = {"message_id": params.get("message_id") or next(self._message_ids), "date": int(time.time()),
                       "chat": chat, "from": BOT_USER, "text": params.get("text", "")}
            if "reply_markup" in params:
                message["reply_markup"] = params["reply_markup"]
            return message
        return True

    def of(self, method: str) -> list[Call]:
        with self._changed:
            return [c for c in self.calls if c.method == method]

    def wait(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        """The calls of ``method`` once there are at least ``count`` of them."""
        with self._changed:
            self._changed.wait_for(lambda: len(self.of(method)) >= count, timeout)
        calls = self.of(method)
        assert len(calls) >= count, f"expected {count} {method} call(s), got {[c.method for c in self.calls]}"
        return calls

    def clear(self) -> None:
        with self._changed:
            self.calls.clear()

    @contextmanager
    def running(self) -> Iterator[FakeBotApi]:
        thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
