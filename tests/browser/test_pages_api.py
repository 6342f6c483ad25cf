"""The endpoints behind the kiosk and the widget, without a browser: continue tokens, read aloud,
kiosk settings and the widget origin setting."""

from __future__ import annotations

import shutil

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from server.core.config import Settings
from server.services import handover

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")


def new_session(client: TestClient, language: str = "ar") -> str:
    return str(client.post("/api/v1/sessions", json={"channel": "kiosk", "language": language}).json()["session_id"])


def test_a_continue_token_opens_the_session_once_and_hides_its_id(client: TestClient) -> None:
    sid = new_session(client)
    issued = client.post(f"/api/v1/sessions/{sid}/handover-token").json()
    token = issued["token"]
    assert sid not in token and sid not in issued["url"] and issued["url"].endswith(f"/?continue={token}")
    assert issued["qr"].startswith("data:image/svg+xml") and issued["expires_in"] == 600
    assert client.post("/api/v1/handover/status", json={"token": token}).json() == {"used": False}

    redeemed = client.post("/api/v1/handover/redeem", json={"token": token})
    assert redeemed.status_code == 200 and redeemed.json() == {"session_id": sid, "language": "ar"}
    assert client.post("/api/v1/handover/status", json={"token": token}).json() == {"used": True}
    again = client.post("/api/v1/handover/redeem", json={"token": token})
    assert again.status_code == 410 and "already used" in again.json()["detail"]


def test_forged_expired_and_revoked_tokens_are_refused(client: TestClient) -> None:
    sid = new_session(client)
    token = client.post(f"/api/v1/sessions/{sid}/handover-token").json()["token"]
    forged = token[:20] + ("A" if token[20] != "A" else "B") + token[21:]
    assert client.post("/api/v1/handover/redeem", json={"token": forged}).status_code == 410
    with pytest.raises(handover.InvalidToken, match="expired"):
        handover.open_token(handover.issue(sid, now=0))
    client.post("/api/v1/handover/revoke", json={"token": token})
    assert client.post("/api/v1/handover/redeem", json={"token": token}).status_code == 410
    assert client.post("/api/v1/sessions/" + "0" * 32 + "/handover-token").status_code == 404


def test_kiosk_config_has_tiles_in_the_language_and_the_idle_times(client: TestClient) -> None:
    config = client.get("/api/v1/kiosk/config", params={"language": "uk"}).json()
    assert config["idle_seconds"] == 120 and config["warn_seconds"] == 30
    assert [tile["topic"] for tile in config["tiles"]][-1] == "person"
    assert config["tiles"][-1]["payload"] == "/request_human"
    assert config["tiles"][0]["title"] == "Право на перебування"
    assert "ps" not in config["speech_languages"]


@needs_espeak
def test_read_aloud_speaks_arabic_as_wav(client: TestClient) -> None:
    response = client.post("/api/v1/speech", json={"text": "مرحبا بكم في مركز الترحيب", "language": "ar"})
    assert response.status_code == 200 and response.headers["content-type"] == "audio/wav"
    assert response.content[:4] == b"RIFF" and len(response.content) > 10_000
    assert "ar" in client.get("/api/v1/speech/languages").json()


@needs_espeak
def test_read_aloud_text_is_never_an_option(client: TestClient) -> None:
    response = client.post("/api/v1/speech", json={"text": "--help -w /tmp/x.wav", "language": "en"})
    assert response.status_code == 200 and response.content[:4] == b"RIFF"


def test_read_aloud_refuses_languages_without_a_voice_and_long_texts(client: TestClient) -> None:
    no_voice = client.post("/api/v1/speech", json={"text": "سلام", "language": "ps"})
    assert no_voice.status_code == 422 and "no voice" in no_voice.json()["detail"]
    if shutil.which("espeak-ng"):
        long = client.post("/api/v1/speech", json={"text": "a" * 4001, "language": "de"})
        assert long.status_code == 413


def test_widget_origins_are_checked_at_start() -> None:
    settings = Settings(widget_origins="https://www.kreis-kleve.de, http://localhost:8080/")
    assert settings.widget_origins == ("https://www.kreis-kleve.de", "http://localhost:8080")
    assert Settings().widget_origins == ()
    for bad in ("www.kreis-kleve.de", "https://kreis-kleve.de/chat", "https://a.de 'unsafe-inline'", "*"):
        with pytest.raises(ValidationError, match="LOTSE_WIDGET_ORIGINS"):
            Settings(widget_origins=bad)
