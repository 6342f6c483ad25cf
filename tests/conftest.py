"""Shared fixtures: a hub app on a fresh SQLite database with a scripted dialogue engine."""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from server.core.config import Settings
from server.core.db import get_sessionmaker, upgrade_database
from server.main import create_app

# Tests that touch the database run twice, on SQLite (the embedded default) and on PostgreSQL (production):
# those marked `@pytest.mark.db` and these (node id prefixes), so their files need not know about it.
POSTGRES_TOO = (
    "tests/server/test_sessions_api.py::",
    "tests/server/test_cases_api.py::",
    "tests/bot/test_webhook.py::test_delete_",
    "tests/bot/test_adapter_parts.py::test_erase_",
    "tests/server/test_privacy.py::",  # web erasure, export and retention
)
POSTGRES_URL_VAR = "LOTSE_TEST_POSTGRES_URL"  # exported by scripts/with-postgres.sh (make test)


class ScriptedDialogue:
    """Stands in for Rasa in API tests: answers like our domain does, records what it got."""

    # What the hand-off form hands over once a newcomer has agreed and answered (tested with Rasa
    # in tests/e2e and per step in tests/actions).
    HANDOFF: ClassVar[dict[str, Any]] = {
        "town": "Goch", "topic": "residence", "contact": "chat", "contact_detail": None,
        "interpreter": None, "situation": "Mein Aufenthaltstitel läuft bald ab.",
    }

    def __init__(self) -> None:
        self.received: list[tuple[str, str, dict[str, Any]]] = []
        self.resumed: list[str] = []

    def resume(self, sender: str) -> None:
        self.resumed.append(sender)

    def send(self, sender: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        self.received.append((sender, text, metadata))
        if text == "/request_human":
            return [{"custom": {"handoff": dict(self.HANDOFF)}}]
        if text == "/greet":
            return [{"custom": {"say": "greet", "buttons": "topics"}}]
        match = re.match(r"^/choose_language(\{.*\})?$", text)
        if match:
            entities = json.loads(match.group(1) or "{}")
            if "language" in entities:
                return [{"custom": {"set_language": entities["language"], "say": "language_set"}}]
            return [{"custom": {"say": "choose_language", "buttons": "languages"}}]
        return [{"custom": {"text": f"echo: {text}", "language": metadata["language"],
                            "sources": [{"id": "x", "title": "Quelle", "url": "https://example.org"}]}}]

    def healthy(self) -> bool:
        return True

    def close(self) -> None:
        pass


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database_url" not in metafunc.fixturenames:
        return
    if metafunc.definition.get_closest_marker("db") or metafunc.definition.nodeid.startswith(POSTGRES_TOO):
        metafunc.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """A database migrated once per run; each test gets a copy (CREATE DATABASE … TEMPLATE is fast)."""
    server_url = os.environ.get(POSTGRES_URL_VAR)
    if not server_url:
        how = f"run through scripts/with-postgres.sh (as make test does) to set {POSTGRES_URL_VAR}"
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL variants must run in CI: {how}")
        pytest.skip(f"PostgreSQL not available: {how}")
    template = f"lotse_template_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{template}"'))
    template_url = make_url(server_url).set(database=template).render_as_string(hide_password=False)
    upgrade_database(template_url)
    try:
        yield template
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def postgres_database(template: str) -> Iterator[str]:
    """A fresh PostgreSQL database copied from the migrated template; dropped afterwards."""
    server_url = os.environ[POSTGRES_URL_VAR]
    name = f"lotse_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        get_sessionmaker(url).kw["bind"].dispose()  # the app's pooled connections, before the drop
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """SQLite in the test's own directory, or (parametrized) a fresh PostgreSQL database dropped afterwards."""
    if getattr(request, "param", "sqlite") == "sqlite":
        yield f"sqlite:///{tmp_path / 'lotse.db'}"
        return
    with postgres_database(request.getfixturevalue("postgres_template")) as url:
        yield url


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        rasa_url="http://127.0.0.1:9",  # nothing listens on the discard port
        action_server_url="http://127.0.0.1:9",
        rasa_timeout_seconds=2,
    )


@pytest.fixture
def dialogue() -> ScriptedDialogue:
    return ScriptedDialogue()


@pytest.fixture
def client(settings: Settings, dialogue: ScriptedDialogue) -> Iterator[TestClient]:
    app = create_app(settings)
    app.state.conversations.dialogue = dialogue
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def offline_client(settings: Settings) -> Iterator[TestClient]:
    """The hub with its real Rasa client pointed at a port where nothing runs."""
    with TestClient(create_app(settings)) as test_client:
        yield test_client
