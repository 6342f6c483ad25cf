"""Browser tests: the real hub (uvicorn, SSE, static files) with a scripted dialogue, driven by
Debian's headless Chromium through Playwright. No Rasa needed.

Skipped, with the reason, where /usr/bin/chromium is missing (``make system-deps`` installs it).
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, expect, sync_playwright

from lotse.i18n import t
from server.core.config import Settings
from server.core.db import get_sessionmaker
from server.main import create_app
from tests.conftest import ScriptedDialogue

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--autoplay-policy=no-user-gesture-required"]


expect.set_options(timeout=10_000)  # CI shares two cores with everything else

ANSWERS = {
    "ar": "يمكنك الحصول على تصريح الإقامة من مكتب الأجانب في مدينتك.",
    "de": "Den Aufenthaltstitel bekommen Sie bei der Ausländerbehörde Ihrer Stadt.",
    "ps": "د استوګنې اجازه د خپل ښار د بهرنیانو له دفتر څخه ترلاسه کولای شئ.",
}


class BrowserDialogue(ScriptedDialogue):
    """The scripted dialogue of the API tests, plus topic answers, the hand-off and hostile text."""

    def send(self, sender: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        language = metadata["language"]
        if text.startswith("/ask_question"):
            self.received.append((sender, text, metadata))
            return [{"custom": {
                "text": ANSWERS.get(language, "You get a residence permit from the foreigners' office."),
                "language": language if language in ANSWERS else "en",
                "sources": [{"id": "aufenthalt", "title": "Ausländerbehörde Kreis Kleve",
                             "url": "https://www.kreis-kleve.de/"}],
                "buttons": "topics",
            }}]
        if text == "/request_human":
            self.received.append((sender, text, metadata))
            return [{"custom": {"say": "human_contact"}}]
        if "<script>" in text:  # a bot reply with markup and a javascript: source
            self.received.append((sender, text, metadata))
            return [{"custom": {"text": f"echo: {text}", "language": language,
                                "sources": [{"id": "x", "title": "<b>evil</b>", "url": "javascript:alert(2)"}]}}]
        return super().send(sender, text, metadata)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Hub:
    url: str
    app: FastAPI
    dialogue: BrowserDialogue
    settings: Settings

    def add_agent_message(self, session_id: str, text: str, translation: dict[str, str] | None,
                          mode: str = "human", author: str = "A. Weber") -> None:
        """A case manager writes (as the console would): stored, numbered and pushed."""
        conversations = self.app.state.conversations
        with get_sessionmaker(self.settings.database_url)() as db:
            chat = conversations.get_session(db, session_id)
            chat.mode = mode
            payload: dict[str, Any] = {"author": author}
            if translation:
                payload["translation"] = translation
            message = conversations.transcript.append(db, chat, "agent", text, "de", payload)
            db.commit()
            conversations.transcript.publish(chat, message)


@dataclass
class MunicipalSite:
    """A municipal website on another origin, for the widget."""

    root: Path
    port: int

    def page(self, name: str, body: str) -> str:
        (self.root / name).write_text(f"<!doctype html><html lang=\"de\"><head><meta charset=\"utf-8\">"
                                      f"<title>Kreis Kleve</title></head><body>{body}</body></html>", "utf-8")
        return name


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MunicipalSite]:
    root = tmp_path_factory.mktemp("site")
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield MunicipalSite(root, int(server.server_address[1]))
    server.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # no access log in the test output
        pass


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory, site: MunicipalSite) -> Iterator[Hub]:
    """The hub on a free port in a background thread: real HTTP, SSE and static files."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path_factory.mktemp('hub') / 'lotse.db'}",
        rasa_url="http://127.0.0.1:9", action_server_url="http://127.0.0.1:9", rasa_timeout_seconds=2,
        widget_origins=f"http://127.0.0.1:{site.port}",  # the site is listed; as http://localhost it is not
    )
    dialogue = BrowserDialogue()
    app = create_app(settings)
    app.state.conversations.dialogue = dialogue
    with serving(app) as url:
        yield Hub(url, app, dialogue, settings)


@contextlib.contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """``app`` under uvicorn on a free port in a background thread: real HTTP, SSE, static files."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the hub did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium per test module; every test gets its own context (storage).

    Not per session: Playwright's sync API keeps an event loop running while it is open, and
    tests after the browser tests that run their own loop would fail.
    """
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (/usr/bin/chromium); run `make system-deps`")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Any]:
    """Pages in fresh browser contexts, as on different devices; dialogs (alert) are recorded."""
    contexts = []

    def make(**options: Any) -> Page:
        context = browser.new_context(locale="de-DE", **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.dialogs = []
        page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
        return page

    yield make
    for context in contexts:
        with contextlib.suppress(Exception):
            context.close()


def text(key: str, language: str) -> str:
    return t(key, language)
