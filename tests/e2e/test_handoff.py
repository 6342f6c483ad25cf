"""End to end: a web and a Telegram conversation are handed to a case manager and back.

The real stack runs (`lotse serve`: Rasa with the hand-off form, the action server, the hub with
its Telegram webhook); Telegram itself is the local fake Bot API of tests/bot. A case manager
works through the case API. Half-way, the whole installation is restarted: cases, transcripts
and the conversation language must survive it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lotse.paths import ROOT
from tests.bot.conftest import SECRET, callback_update, message_update
from tests.bot.fake_telegram import FakeBotApi
from tests.e2e.stack import Stack, free_port, running_stack

pytestmark = pytest.mark.e2e
PASSWORD = "a long enough password"
TELEGRAM_CHAT = 4242


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, FakeBotApi, dict[str, str]]]:
    db_path = tmp_path_factory.mktemp("handoff") / "lotse.db"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db_path}"}
    for name, team in (("anna", "abh-infopoint"), ("karl", "ki-school"), ("sam", "naturalisation")):
        added = subprocess.run(
            [sys.executable, "-m", "lotse.cli", "users", "add", name, "--role", "case_manager", "--team", team,
             "--display-name", name.title(), "--password-stdin"],
            input=PASSWORD + "\n", text=True, capture_output=True, cwd=ROOT, env=env, check=False,
        )
        assert added.returncode == 0, added.stderr
    with FakeBotApi().running() as api:
        extra = {"TELEGRAM_BOT_TOKEN": "123456:E2E-token", "LOTSE_TELEGRAM_WEBHOOK_SECRET": SECRET,
                 "LOTSE_TELEGRAM_API_BASE_URL": api.url}
        yield db_path, api, extra


def login(stack: Stack, name: str) -> dict[str, str]:
    response = stack.http.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def telegram(stack: Stack, update: dict[str, Any]) -> None:
    response = stack.http.post("/telegram/webhook", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
    assert response.status_code == 200, response.text


def sent_texts(api: FakeBotApi, after: int) -> list[str]:
    return [str(c.params.get("text", "")) for c in api.of("sendMessage")[after:]]


def inform(value: str) -> str:
    return "/inform" + json.dumps({"value": value}, ensure_ascii=False)


def test_web_and_telegram_conversations_go_to_a_case_manager_and_back(
    setup: tuple[Path, FakeBotApi, dict[str, str]],
) -> None:
    db_path, api, extra = setup
    ports = (free_port(), free_port(), free_port())
    with running_stack(db_path, extra, ports) as stack:
        # --- web: Arabic, asks for a person in words, agrees, answers the form with buttons and words.
        web = stack.session("ar", "kreis-kleve")
        consent = stack.say(web, "أريد التحدث مع موظف من فضلك")
        assert consent["mode"] == "bot"
        assert [b["payload"] for b in consent["messages"][-1]["buttons"]] == ["/affirm", "/deny"]
        town = stack.say(web, "/affirm")
        assert "Goch" in [b["title"] for b in town["messages"][-1]["buttons"]]
        stack.say(web, inform("Goch"))
        stack.say(web, inform("residence"))
        stack.say(web, inform("chat"))
        stack.say(web, inform("ar"))
        done = stack.say(web, "إقامتي تنتهي الشهر القادم ولم أحصل على موعد")
        assert done["mode"] == "waiting"
        assert "Ausländerbehörde – Infopoint" in done["messages"][0]["text"]

        # --- Telegram: German app, /human, consent by button, town typed, the rest by buttons.
        before = len(api.of("sendMessage"))
        telegram(stack, message_update("/human", chat_id=TELEGRAM_CHAT, language_code="de"))
        api.wait("sendMessage", before + 2, timeout=30)  # the privacy notice, then the consent question
        assert "einverstanden" in sent_texts(api, before)[-1]
        for step in ("/affirm", None, inform("school"), inform("chat"), inform(SKIP)):
            count = len(api.of("sendMessage"))
            if step is None:
                telegram(stack, message_update("Ich wohne in Kevelaer", chat_id=TELEGRAM_CHAT))
            else:
                telegram(stack, callback_update(step, chat_id=TELEGRAM_CHAT))
            api.wait("sendMessage", count + 1, timeout=30)
        assert any("KI – Schulberatung" in text for text in sent_texts(api, before))

        # --- each case manager sees their own team's case, and only that one.
        anna, karl, sam = login(stack, "anna"), login(stack, "karl"), login(stack, "sam")
        anna_cases = stack.http.get("/api/v1/cases?status=open", headers=anna).json()
        karl_cases = stack.http.get("/api/v1/cases?status=open", headers=karl).json()
        assert [c["session_id"] for c in anna_cases] == [web]
        assert len(karl_cases) == 1 and karl_cases[0]["town"] == "Kevelaer" and karl_cases[0]["topic"] == "school"
        assert stack.http.get("/api/v1/cases?status=open", headers=sam).json() == []
        assert stack.http.get("/api/v1/cases").status_code == 401
        web_case, tg_case = anna_cases[0]["id"], karl_cases[0]["id"]
        assert stack.http.get(f"/api/v1/cases/{web_case}", headers=karl).status_code == 404

    # --- the installation restarts: cases, transcripts and languages are still there.
    with running_stack(db_path, extra, ports) as stack:
        anna, karl = login(stack, "anna"), login(stack, "karl")
        detail = stack.http.get(f"/api/v1/cases/{web_case}", headers=anna).json()
        assert detail["language"] == "ar" and detail["town"] == "Goch" and detail["status"] == "open"
        assert any("إقامتي تنتهي" in m["original_text"] for m in detail["messages"])
        assert any(m["pressed"] == "Goch" for m in detail["messages"]), "buttons are shown by their titles"
        assert stack.http.get(f"/api/v1/sessions/{web}/messages").json()["mode"] == "waiting"

        # web: claim, both directions, close; then the bot answers again, in Arabic.
        assert stack.http.post(f"/api/v1/cases/{web_case}/claim", headers=anna).status_code == 200
        assert stack.http.get(f"/api/v1/sessions/{web}/messages").json()["mode"] == "human"
        silent = stack.say(web, "شكرا، أنا أنتظر")
        assert silent["messages"] == []
        sent = stack.http.post(f"/api/v1/cases/{web_case}/messages", headers=anna,
                               json={"text": "Bitte bringen Sie Ihren Pass mit."})
        assert sent.status_code == 201
        chat = stack.http.get(f"/api/v1/sessions/{web}/messages").json()["messages"]
        assert chat[-1]["sender"] == "agent"
        assert "Pass" in (chat[-1].get("original_text") or chat[-1]["text"])
        messages = stack.http.get(f"/api/v1/cases/{web_case}", headers=anna).json()["messages"]
        assert any(m["original_text"] == "شكرا، أنا أنتظر" and m["sender"] == "user" for m in messages)
        closed = stack.http.post(f"/api/v1/cases/{web_case}/close", headers=anna, json={"outcome": "answered"})
        assert closed.json()["status"] == "closed"
        again = stack.say(web, "كم تكلفة التجنيس؟")
        assert again["mode"] == "bot" and "255" in " ".join(m["text"] for m in again["messages"])

        # Telegram: the reply is pushed into the same chat; the newcomer's answer reaches the case.
        before = len(api.of("sendMessage"))
        stack.http.post(f"/api/v1/cases/{tg_case}/claim", headers=karl)
        stack.http.post(f"/api/v1/cases/{tg_case}/messages", headers=karl,
                        json={"text": "Guten Tag, ich bin Karl von der Schulberatung."})
        api.wait("sendMessage", before + 2, timeout=30)
        pushed = sent_texts(api, before)
        assert any("Karl" in text for text in pushed) and any("Schulberatung" in text for text in pushed)
        assert all(c.params["chat_id"] in (TELEGRAM_CHAT, str(TELEGRAM_CHAT)) for c in api.of("sendMessage")[before:])
        telegram(stack, message_update("Danke, mein Sohn ist 12 Jahre alt.", chat_id=TELEGRAM_CHAT))
        # The webhook answers at once and the update is handled after it: wait until it is stored.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            tg_messages = stack.http.get(f"/api/v1/cases/{tg_case}", headers=karl).json()["messages"]
            if tg_messages[-1]["original_text"] == "Danke, mein Sohn ist 12 Jahre alt.":
                break
            time.sleep(0.2)
        assert tg_messages[-1]["original_text"] == "Danke, mein Sohn ist 12 Jahre alt."
        assert len(api.of("sendMessage")) == before + 2, "the bot stayed silent while Karl had the chat"
        stack.http.post(f"/api/v1/cases/{tg_case}/close", headers=karl, json={"outcome": "appointment"})
        before = len(api.of("sendMessage"))
        telegram(stack, message_update("Wie lange dauert der Integrationskurs?", chat_id=TELEGRAM_CHAT))
        api.wait("sendMessage", before + 1, timeout=30)
        assert any("700" in text for text in sent_texts(api, before)), sent_texts(api, before)


SKIP = "__skip__"


def test_the_console_is_closed_to_strangers(setup: tuple[Path, FakeBotApi, dict[str, str]]) -> None:
    """Checked against the recorded database by a fresh hub-less client: no login, no cases."""
    db_path, _, extra = setup
    with running_stack(db_path, extra) as stack:
        assert stack.http.get("/api/v1/cases").status_code == 401
        assert stack.http.get("/api/v1/cases/1", headers={"Authorization": "Bearer x"}).status_code == 401
        console = stack.http.get("/console", follow_redirects=False)
        assert console.status_code == 303 and console.headers["location"] == "/console/login"
        assert httpx.get(f"{stack.base}/console/cases/1", follow_redirects=False).status_code == 303
