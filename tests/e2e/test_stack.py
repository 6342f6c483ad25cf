"""End to end: `lotse serve` trains the model, starts Rasa, the action server and the hub, and a
newcomer chats through the HTTP API in German, English, Arabic and Ukrainian.

Nothing is faked here: a real Rasa server classifies, real actions ask the real knowledge base,
and the transcript is read back from the database file.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import pytest

from lotse.i18n import t
from tests.e2e.stack import Stack, port_open, running_stack

pytestmark = pytest.mark.e2e

ARABIC = re.compile(r"[\u0600-\u06FF]")
CYRILLIC = re.compile(r"[\u0400-\u04FF]")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("stack") / "lotse.db") as running:
        yield running


def first_answer(reply: dict[str, object]) -> list[dict[str, Any]]:
    """The first reply of a conversation without the privacy notice before it (checked here)."""
    messages: list[dict[str, Any]] = reply["messages"]  # type: ignore[assignment]
    assert "/delete" in messages[0]["text"] and "90" in messages[0]["text"]
    return messages[1:]


def bot_texts(reply: dict[str, object]) -> str:
    return "\n".join(str(m["text"]) for m in reply["messages"])  # type: ignore[attr-defined, index]


def test_health_reports_every_part_up(stack: Stack) -> None:
    body = stack.http.get("/health").json()
    assert body["status"] == "ok"
    assert set(body["parts"]) == {"database", "rasa", "action_server"}


@pytest.mark.parametrize("language", ["de", "en", "ar", "uk"])
def test_greeting_in_the_session_language(stack: Stack, language: str) -> None:
    sid = stack.session(language)
    greetings = {"de": "Hallo!", "en": "hello", "ar": "السلام عليكم", "uk": "Привіт!"}
    reply = stack.say(sid, greetings[language])
    assert reply["language"] == language
    assert t("greet", language) in bot_texts(reply)
    assert first_answer(reply)[0]["buttons"]


QUESTIONS = [
    ("de", "Was kostet die Einbürgerung?", "255", None),
    ("en", "How much does it cost to become a German citizen?", "255", None),
    ("ar", "كم تكلفة التجنيس في ألمانيا؟", "255", ARABIC),
    ("uk", "Скільки коштує отримати німецьке громадянство?", "255", CYRILLIC),
    ("de", "Wie viele Stunden hat der Integrationskurs?", "700", None),
    ("uk", "Скільки годин триває інтеграційний курс?", "700", CYRILLIC),
]


@pytest.mark.parametrize(("language", "question", "fact", "script"), QUESTIONS)
def test_a_question_is_answered_from_the_knowledge_base_in_the_askers_language(
    stack: Stack, language: str, question: str, fact: str, script: re.Pattern[str] | None
) -> None:
    sid = stack.session()  # no language given: detected from the question
    reply = stack.say(sid, question)
    assert reply["language"] == language
    answer = first_answer(reply)[0]
    assert fact in answer["text"]
    assert answer["language"] == language
    if script:
        assert script.search(answer["text"])
    assert answer["sources"] and answer["sources"][0]["url"].startswith("http")


def test_language_switch_by_button_and_by_request(stack: Stack) -> None:
    sid = stack.session("de")
    reply = stack.say(sid, '/choose_language{"language":"uk"}')
    assert reply["language"] == "uk"
    assert t("language_set", "uk") in bot_texts(reply)
    reply = stack.say(sid, "/language")
    titles = {b["title"] for b in reply["messages"][0]["buttons"]}  # type: ignore[index]
    assert {"العربية", "Türkçe", "Deutsch", "ትግርኛ"} <= titles
    reply = stack.say(sid, "English please")
    assert reply["language"] == "en"
    assert t("language_set", "en") in bot_texts(reply)


@pytest.mark.parametrize(
    ("language", "text"),
    [("de", "Wer hat gestern das Fußballspiel gewonnen?"), ("en", "write me a poem about the sea"),
     ("ar", "ما هي وصفة الكبسة بالدجاج؟"), ("uk", "який курс біткоїна сьогодні?")],
)
def test_out_of_scope_gets_a_friendly_redirect(stack: Stack, language: str, text: str) -> None:
    sid = stack.session(language)
    reply = stack.say(sid, text)
    assert t("out_of_scope", language) in bot_texts(reply)


def test_crisis_gets_emergency_numbers_first_then_a_person(stack: Stack) -> None:
    sid = stack.session("de")
    reply = stack.say(sid, "Mein Mann schlägt mich und ich habe Angst")
    texts = [m["text"] for m in first_answer(reply)]
    assert "110" in texts[0] and "116 016" in texts[0]
    assert t("handoff_offer", "de") in texts[-1]
    reply = stack.say(sid, "/affirm")
    # Yes to a person starts the hand-off, which asks for consent first (naming who will answer).
    assert "Kommunales Integrationszentrum" in bot_texts(reply)
    assert [b["payload"] for b in reply["messages"][-1]["buttons"]] == ["/affirm", "/deny"]  # type: ignore[index]


def test_the_transcript_is_stored_in_the_database(stack: Stack) -> None:
    sid = stack.session("en")
    stack.say(sid, "hello")
    stack.say(sid, "How long is the integration course?")
    api = stack.http.get(f"/api/v1/sessions/{sid}/messages").json()["messages"]
    assert [m["seq"] for m in api] == list(range(1, len(api) + 1))
    with sqlite3.connect(stack.db_path) as db:
        rows = db.execute(
            "SELECT seq, sender, channel, language, text FROM messages WHERE session_id = ? ORDER BY seq", (sid,)
        ).fetchall()
    assert [r[0] for r in rows] == [m["seq"] for m in api]
    assert rows[0][1:] == ("user", "web", "en", "hello")
    assert rows[1][4] == api[1]["text"] and "/delete" in rows[1][4]  # the privacy notice before the first answer
    assert rows[3][4] == "How long is the integration course?"
    assert {r[1] for r in rows} == {"user", "bot"}


def test_pushed_messages_arrive_on_the_event_stream(stack: Stack) -> None:
    sid = stack.session("de")
    stack.say(sid, "Hallo")
    with stack.http.stream("GET", f"/api/v1/sessions/{sid}/events", params={"after": 0}, timeout=30) as events:
        seen = []
        for line in events.iter_lines():
            if line.startswith("data: "):
                seen.append(json.loads(line[6:])["seq"])
            if len(seen) == 2:
                break
    assert seen == [1, 2]


def test_stopping_leaves_no_process_behind(stack: Stack) -> None:
    """Runs last in this module: SIGTERM stops every child and frees every port."""
    os.killpg(stack.process.pid, signal.SIGTERM)
    assert stack.process.wait(timeout=60) == 0
    deadline = time.monotonic() + 20
    while any(port_open(p) for p in stack.ports) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not any(port_open(p) for p in stack.ports)
