"""The Telegram channel end to end: genuine Updates into the hub's webhook, python-telegram-bot
answering through a fake Bot API, the transcript in the hub's database."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from lotse.i18n import t
from server.core.config import Settings
from server.core.db import get_sessionmaker
from server.main import create_app
from server.models import ChatSession, Message
from server.services.cases import office_name
from server.services.events import SessionRef
from tests.bot.conftest import CHAT_ID, SECRET, callback_update, message_update, post_update
from tests.bot.fake_telegram import FakeBotApi
from tests.conftest import ScriptedDialogue

REPO = Path(__file__).resolve().parents[2]


def privacy_notice(language: str) -> str:
    return t("privacy_notice", language, retention_days=90, office=office_name("kreis-kleve"))


def stored(settings: Settings) -> tuple[list[ChatSession], list[Message]]:
    with get_sessionmaker(settings.database_url)() as db:
        return list(db.scalars(select(ChatSession))), list(db.scalars(select(Message).order_by(Message.id)))


def button_titles(call_params: dict[str, Any]) -> list[str]:
    return [b["text"] for row in call_params["reply_markup"]["inline_keyboard"] for b in row]


def button_data(call_params: dict[str, Any], title: str) -> str:
    rows = call_params["reply_markup"]["inline_keyboard"]
    return next(b["callback_data"] for row in rows for b in row if b["text"] == title)


def test_startup_registers_the_webhook_with_its_secret(telegram_client: TestClient, bot_api: FakeBotApi) -> None:
    assert bot_api.of("getMe")
    [call] = bot_api.wait("setWebhook")
    assert call.params["url"] == "https://lotse.example.org/telegram/webhook"
    assert call.params["secret_token"] == SECRET
    assert call.params["allowed_updates"] == ["message", "callback_query"]


def test_calls_without_the_right_secret_are_refused_and_nothing_is_stored(
    telegram_client: TestClient, telegram_settings: Settings, bot_api: FakeBotApi, dialogue: ScriptedDialogue
) -> None:
    assert post_update(telegram_client, message_update("Hallo"), secret=None) == 401
    assert post_update(telegram_client, message_update("Hallo"), secret="guessed") == 403
    assert post_update(telegram_client, message_update("Hallo"), secret=SECRET[:-1]) == 403
    assert stored(telegram_settings) == ([], [])
    assert dialogue.received == []
    assert not bot_api.of("sendMessage")


def test_start_greets_and_offers_every_language_by_its_native_name(
    telegram_client: TestClient, bot_api: FakeBotApi
) -> None:
    assert post_update(telegram_client, message_update("/start", language_code="uk")) == 200
    notice, greeting, picker = (c.params for c in bot_api.wait("sendMessage", 3))
    assert notice["text"] == privacy_notice("uk")  # once, before the first answer
    assert greeting["chat_id"] == CHAT_ID
    assert greeting["text"] == t("greet", "uk")  # the Telegram app's language is the first guess
    assert t("topic_school", "uk") in button_titles(greeting)
    assert picker["text"] == t("choose_language", "uk")
    assert {"العربية", "Українська", "Deutsch", "Türkçe", "ትግርኛ"} <= set(button_titles(picker))
    assert button_data(picker, "العربية") == '/choose_language{"language": "ar"}'


def test_text_is_answered_after_typing_and_stored_as_telegram(
    telegram_client: TestClient, telegram_settings: Settings, bot_api: FakeBotApi
) -> None:
    question = "متى يجب أن يذهب طفلي إلى المدرسة؟"
    assert post_update(telegram_client, message_update(question, language_code="en")) == 200
    notice, reply = bot_api.wait("sendMessage", 2)
    assert notice.params["text"] == privacy_notice("ar")
    methods = [c.method for c in bot_api.calls]
    assert methods.index("sendChatAction") < methods.index("sendMessage")
    assert bot_api.of("sendChatAction")[0].params == {"chat_id": CHAT_ID, "action": "typing"}
    assert reply.params["text"] == f"echo: {question}\n\n{t('sources', 'ar')}:\nQuelle: https://example.org"
    assert "parse_mode" not in reply.params

    [session], messages = stored(telegram_settings)
    assert (session.channel, session.external_id, session.language) == ("telegram", str(CHAT_ID), "ar")
    assert [(m.sender, m.channel, m.text) for m in messages] == [
        ("user", "telegram", question), ("bot", "telegram", privacy_notice("ar")),
        ("bot", "telegram", f"echo: {question}"),
    ]


def test_a_pressed_button_is_answered_and_acts_like_its_payload_typed(
    telegram_client: TestClient, bot_api: FakeBotApi, dialogue: ScriptedDialogue
) -> None:
    post_update(telegram_client, message_update("/start"))
    picker = bot_api.wait("sendMessage", 3)[2].params
    bot_api.clear()

    update = callback_update(button_data(picker, "العربية"))
    assert post_update(telegram_client, update) == 200
    [reply] = bot_api.wait("sendMessage")
    assert bot_api.of("answerCallbackQuery")[0].params["callback_query_id"] == update["callback_query"]["id"]
    assert dialogue.received[-1][1] == '/choose_language{"language": "ar"}'
    assert reply.params["text"] == t("language_set", "ar")


def test_a_long_answer_arrives_in_parts_cut_at_sentence_ends(
    telegram_client: TestClient, bot_api: FakeBotApi
) -> None:
    sentences = [f"Satz Nummer {i} erklärt, wie die Anmeldung in der Schule funktioniert." for i in range(130)]
    answer = " ".join(sentences)
    assert len(answer) > 9000

    class LongAnswer(ScriptedDialogue):
        def send(self, sender: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
            return [{"custom": {"text": answer, "language": "de", "buttons": "yes_no",
                                "sources": [{"id": "s", "title": "Schulamt", "url": "https://example.org/s"}]}}]

    telegram_client.app.state.conversations.dialogue = LongAnswer()  # type: ignore[attr-defined]
    post_update(telegram_client, message_update("Wie melde ich mein Kind in der Schule an?"))
    parts = [c.params for c in bot_api.wait("sendMessage", 4)][1:]  # after the privacy notice
    assert len(parts) == 3
    assert all(len(p["text"]) <= 4096 for p in parts)
    assert all(p["text"].endswith(".") for p in parts[:-1])
    assert " ".join(p["text"] for p in parts).startswith(answer)
    assert parts[-1]["text"].endswith("Schulamt: https://example.org/s")
    assert "reply_markup" not in parts[0] and button_titles(parts[-1]) == ["Ja", "Nein"]


def test_html_is_sent_as_plain_text(telegram_client: TestClient, bot_api: FakeBotApi) -> None:
    text = '<script>alert("x")</script> <b>fett</b> & <a href="https://evil.example">hier</a>'
    post_update(telegram_client, message_update(text))
    reply = bot_api.wait("sendMessage", 2)[1]
    assert reply.params["text"].startswith(f"echo: {text}\n")
    assert "parse_mode" not in reply.params


def test_delete_asks_first_then_erases_the_conversation(
    telegram_client: TestClient, telegram_settings: Settings, bot_api: FakeBotApi
) -> None:
    post_update(telegram_client, message_update("Wie lange dauert der Integrationskurs?"))
    bot_api.wait("sendMessage", 2)
    [old_session], messages = stored(telegram_settings)
    assert len(messages) == 3  # question, privacy notice, answer

    post_update(telegram_client, message_update("/delete"))
    confirm = bot_api.wait("sendMessage", 3)[2].params
    assert confirm["text"] == "Diesen ganzen Chat jetzt löschen? Das kann man nicht rückgängig machen."
    assert len(stored(telegram_settings)[1]) == 3  # nothing erased before the confirmation

    post_update(telegram_client, callback_update(button_data(confirm, "Meine Daten löschen"), message_id=1001))
    [done] = bot_api.wait("editMessageText")
    assert bot_api.wait("answerCallbackQuery")
    assert done.params["message_id"] == 1001
    assert done.params["text"] == "Ihr Chat wurde gelöscht."
    assert stored(telegram_settings) == ([], [])

    post_update(telegram_client, message_update("Noch eine Frage"))
    bot_api.wait("sendMessage", 5)
    [new_session], messages = stored(telegram_settings)
    assert new_session.id != old_session.id and [m.seq for m in messages] == [1, 2, 3]  # a new notice too


def test_delete_can_be_cancelled(telegram_client: TestClient, telegram_settings: Settings, bot_api: FakeBotApi) -> None:
    post_update(telegram_client, message_update("Hallo"))
    bot_api.wait("sendMessage", 2)
    post_update(telegram_client, message_update("/delete"))
    confirm = bot_api.wait("sendMessage", 3)[2].params
    post_update(telegram_client, callback_update(button_data(confirm, "Nein")))
    [kept] = bot_api.wait("editMessageText")
    assert kept.params["text"] == "Gut, es wurde nichts gelöscht."
    assert len(stored(telegram_settings)[1]) == 3


def test_a_case_managers_message_is_pushed_to_the_chat(
    telegram_client: TestClient, telegram_settings: Settings, bot_api: FakeBotApi
) -> None:
    post_update(telegram_client, message_update("Ich brauche Hilfe"))
    bot_api.wait("sendMessage", 2)  # privacy notice and answer
    [session], _ = stored(telegram_settings)
    bot_api.clear()

    bus = telegram_client.app.state.conversations.bus  # type: ignore[attr-defined]
    ref = SessionRef(session.id, "telegram", str(CHAT_ID))
    base = {"language": "de", "dir": "ltr", "buttons": [], "sources": [], "time": "2025-01-01T00:00:00+00:00"}
    for seq, sender, text in ((3, "bot", "Bot"), (4, "user", "Ich"), (5, "agent", "Frau Yilmaz hier.")):
        message = {**base, "seq": seq, "sender": sender, "text": text}
        publisher = threading.Thread(target=bus.publish, args=(ref, message))  # a request thread, as in the hub
        publisher.start()
        publisher.join()
    [pushed] = bot_api.wait("sendMessage")
    assert pushed.params["chat_id"] == CHAT_ID
    assert pushed.params["text"] == "Frau Yilmaz hier."
    assert len(bot_api.of("sendMessage")) == 1


def test_without_a_token_the_hub_runs_without_telegram(client: TestClient) -> None:
    assert client.post("/telegram/webhook", json={"update_id": 1}).status_code == 404
    assert client.post("/api/v1/sessions", json={"channel": "web"}).status_code == 201


def test_without_a_token_no_telegram_code_is_imported(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from server.main import create_app\n"
        "from server.core.config import Settings\n"
        f"create_app(Settings(database_url='sqlite:///{tmp_path}/x.db'))\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('telegram', 'bot'))\n"
        "assert not loaded, loaded\n"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "LOTSE_VAR_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]


def test_a_body_that_is_no_update_is_a_bad_request(telegram_client: TestClient) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    assert telegram_client.post("/telegram/webhook", content=b"{", headers=headers).status_code == 400
    assert telegram_client.post("/telegram/webhook", json=[1], headers=headers).status_code == 400
    assert telegram_client.post("/telegram/webhook", json={"update_id": 1, "message": {"text": "x"}},
                                headers=headers).status_code == 400


def test_the_hub_starts_while_telegram_is_unreachable(settings: Settings, dialogue: ScriptedDialogue) -> None:
    unreachable = settings.model_copy(update={
        "telegram_bot_token": "123456:TEST-token", "telegram_webhook_secret": SECRET,
        "telegram_api_base_url": "http://127.0.0.1:9",  # nothing listens on the discard port
    })
    app = create_app(unreachable)
    app.state.conversations.dialogue = dialogue
    with TestClient(app) as client:
        assert client.post("/api/v1/sessions", json={"channel": "web"}).status_code == 201
        assert post_update(client, message_update("Hallo")) == 503  # Telegram delivers it again later


def test_start_while_the_dialogue_engine_is_down_apologises_once(
    telegram_client: TestClient, bot_api: FakeBotApi
) -> None:
    from server.services.dialogue import DialogueUnavailable

    class Down(ScriptedDialogue):
        def send(self, sender: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
            raise DialogueUnavailable("down")

    telegram_client.app.state.conversations.dialogue = Down()  # type: ignore[attr-defined]
    assert post_update(telegram_client, message_update("/start")) == 200
    [apology] = bot_api.wait("sendMessage", 1)
    time.sleep(0.5)  # a second message would have been sent by now
    assert len(bot_api.of("sendMessage")) == 1
    assert apology.params["text"].startswith(t("service_unavailable", "de", contact="")[:40])
