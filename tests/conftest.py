"""Shared fixtures: a hub app on a fresh SQLite database with a scripted dialogue engine."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from fastapi.testclient import TestClient

from server.core.config import Settings
from server.main import create_app


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


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'lotse.db'}",
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
