"""The public chat API as a web page or a channel adapter uses it."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from lotse.i18n import t
from server.services.cases import office_name
from tests.conftest import ScriptedDialogue


def new_session(client: TestClient, **body: str) -> str:
    response = client.post("/api/v1/sessions", json={"channel": "web", **body})
    assert response.status_code == 201, response.text
    return str(response.json()["session_id"])


def test_greeting_is_rendered_in_the_session_language_with_topic_buttons(client: TestClient) -> None:
    sid = new_session(client, language="uk")
    reply = client.post(f"/api/v1/sessions/{sid}/messages", json={"text": "/greet"}).json()
    assert reply["language"] == "uk" and reply["mode"] == "bot"
    [notice, greeting] = reply["messages"]  # the privacy notice comes before the first answer
    assert notice["text"] == t("privacy_notice", "uk", retention_days=90, office=office_name("kreis-kleve"))
    assert "Lotse" in greeting["text"] and greeting["sender"] == "bot"
    assert re.search("[а-яіїє]", greeting["text"]), "the greeting must be in Ukrainian"
    payloads = [b["payload"] for b in greeting["buttons"]]
    assert '/ask_question{"topic": "residence"}' in payloads and "/request_human" in payloads


def test_transcript_is_stored_in_order_with_sender_language_and_time(client: TestClient) -> None:
    sid = new_session(client, language="de")
    client.post(f"/api/v1/sessions/{sid}/messages", json={"text": "Wie lange dauert der Integrationskurs?"})
    messages = client.get(f"/api/v1/sessions/{sid}/messages", params={"after": 0}).json()["messages"]
    assert [(m["seq"], m["sender"]) for m in messages] == [(1, "user"), (2, "bot"), (3, "bot")]
    assert messages[0]["text"] == "Wie lange dauert der Integrationskurs?"
    assert messages[0]["language"] == "de" and messages[0]["time"]
    assert messages[1]["text"].startswith("Datenschutz")  # the privacy notice, once, before the first answer
    assert messages[2]["sources"] == [{"id": "x", "title": "Quelle", "url": "https://example.org"}]
    later = client.get(f"/api/v1/sessions/{sid}/messages", params={"after": 2}).json()["messages"]
    assert [m["seq"] for m in later] == [3]


def test_a_message_clearly_in_another_language_switches_the_conversation(
    client: TestClient, dialogue: ScriptedDialogue
) -> None:
    sid = new_session(client, language="de")
    reply = client.post(f"/api/v1/sessions/{sid}/messages", json={"text": "كم تكلفة التجنيس في ألمانيا؟"}).json()
    assert reply["language"] == "ar" and reply["dir"] == "rtl"
    assert dialogue.received[-1][2]["language"] == "ar"
    # a short ambiguous word does not switch back
    reply = client.post(f"/api/v1/sessions/{sid}/messages", json={"text": "ok"}).json()
    assert reply["language"] == "ar"


def test_language_switch_by_button_and_command(client: TestClient, dialogue: ScriptedDialogue) -> None:
    sid = new_session(client, language="de")
    reply = client.post(f"/api/v1/sessions/{sid}/messages", json={"text": "/language"}).json()
    assert dialogue.received[-1][1] == "/choose_language"
    assert any(b["title"] == "Українська" for b in reply["messages"][-1]["buttons"])
    reply = client.post(
        f"/api/v1/sessions/{sid}/messages", json={"text": '/choose_language{"language":"tr"}'}
    ).json()
    assert reply["language"] == "tr"
    assert reply["messages"][0]["language"] == "tr" and "Türkçe" in reply["messages"][0]["text"]
    assert client.get(f"/api/v1/sessions/{sid}/messages").json()["language"] == "tr"


def test_unknown_slash_words_are_treated_as_text(client: TestClient, dialogue: ScriptedDialogue) -> None:
    sid = new_session(client, language="en")
    client.post(f"/api/v1/sessions/{sid}/messages", json={"text": "/etc/passwd"})
    assert dialogue.received[-1][1] == "etc/passwd"


def test_bad_input_gets_a_clear_4xx_and_nothing_is_stored(client: TestClient) -> None:
    sid = new_session(client, language="de")
    url = f"/api/v1/sessions/{sid}/messages"
    cases = [
        (client.post(url, json={"text": ""}), 422, "empty"),
        (client.post(url, json={"text": "   \n\t "}), 422, "empty"),
        (client.post(url, json={"text": "a" * 20_000}), 413, "too long"),
        (client.post(url, json={"text": "abc\x00\x01def"}), 422, "binary"),
        (client.post(url, content=b"\xff\xfe\x00garbage{", headers={"Content-Type": "application/json"}),
         400, "parsing the body"),
        (client.post(url, content=b'{"text": "unterminated', headers={"Content-Type": "application/json"}),
         422, "JSON"),
        (client.post(url, json={"txt": "hallo"}), 422, "text"),
        (client.post(url, json={"text": 42}), 422, "text"),
        (client.post(url, json=["hallo"]), 422, "Invalid request"),
    ]
    for response, code, words in cases:
        assert response.status_code == code, response.text
        assert words.lower() in response.json()["detail"].lower()
    assert client.get(url).json()["messages"] == []


def test_unknown_sessions_and_bad_parameters(client: TestClient) -> None:
    assert client.post("/api/v1/sessions/../../etc/messages", json={"text": "hallo"}).status_code == 404
    for sid in ("0" * 32, "not-a-session", "a" * 33):
        response = client.post(f"/api/v1/sessions/{sid}/messages", json={"text": "hallo"})
        assert response.status_code == 404 and "Unknown session" in response.json()["detail"]
        assert client.get(f"/api/v1/sessions/{sid}/messages").status_code == 404
    sid = new_session(client)
    assert client.get(f"/api/v1/sessions/{sid}/messages", params={"after": -1}).status_code == 422
    assert client.post("/api/v1/sessions", json={"channel": "fax"}).status_code == 422
    response = client.post("/api/v1/sessions", json={"channel": "web", "language": "xx"})
    assert response.status_code == 422 and "unsupported language" in response.json()["detail"]
    response = client.post("/api/v1/sessions", json={"channel": "web", "region": "atlantis"})
    assert response.status_code == 422 and "kreis-kleve" in response.json()["detail"]


def test_rasa_down_gives_a_polite_message_with_the_welcome_center_and_keeps_the_message(
    offline_client: TestClient,
) -> None:
    sid = new_session(offline_client, language="en", region="kreis-kleve")
    response = offline_client.post(f"/api/v1/sessions/{sid}/messages", json={"text": "How do I extend my visa?"})
    assert response.status_code == 200
    [reply] = response.json()["messages"]
    assert "technical problem" in reply["text"] and "02821 85-493" in reply["text"]
    stored = offline_client.get(f"/api/v1/sessions/{sid}/messages").json()["messages"]
    assert [m["text"] for m in stored] == ["How do I extend my visa?", reply["text"]]


def test_rasa_down_message_in_arabic(offline_client: TestClient) -> None:
    sid = new_session(offline_client, language="ar")
    [reply] = offline_client.post(f"/api/v1/sessions/{sid}/messages", json={"text": "مرحبا"}).json()["messages"]
    assert reply["language"] == "ar" and reply["dir"] == "rtl"
    assert "ki@kreis-kleve.de" in reply["text"] and "technical problem" not in reply["text"]


def test_health_reports_each_part(offline_client: TestClient) -> None:
    response = offline_client.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["parts"]["database"]["ok"] is True
    assert body["parts"]["rasa"]["ok"] is False and body["parts"]["action_server"]["ok"] is False


def test_web_chat_page_and_openapi(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and 'role="log"' in page.text
    assert client.get("/static/chat.js").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/v1/sessions/{session_id}/messages" in paths


def test_locale_endpoint_for_rtl_language(client: TestClient) -> None:
    body = client.get("/api/v1/locales/fa").json()
    assert body["rtl"] is True and body["texts"]["send"]
    assert client.get("/api/v1/locales/klingon").status_code == 404
