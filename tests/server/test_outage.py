"""Database down: the chat API answers 503 with a polite text in the newcomer's language.

The outage is real for the driver: the hub's database URL points at a file that cannot be
opened, so SQLAlchemy raises the same OperationalError a stopped server causes. (A stopped
PostgreSQL server mid-conversation is in tests/e2e/test_faults.py.)
"""

from __future__ import annotations

from fastapi.testclient import TestClient

from lotse.i18n import t
from server.core.outage import requested_language
from server.services.contact import contact_line

UNREACHABLE = "sqlite:////nonexistent-lotse-dir/lotse.db"


def test_database_down_gets_a_polite_503_in_the_browser_language_and_nothing_half_stored(client: TestClient) -> None:
    sid = client.post("/api/v1/sessions", json={"channel": "web", "language": "ar"}).json()["session_id"]
    assert client.post(f"/api/v1/sessions/{sid}/messages", json={"text": "مرحبا"}).status_code == 200
    settings = client.app.state.settings  # type: ignore[attr-defined]
    client.app.state.settings = settings.model_copy(update={"database_url": UNREACHABLE})  # type: ignore[attr-defined]

    down = client.post(f"/api/v1/sessions/{sid}/messages", json={"text": "كم تكلفة التجنيس؟"},
                       headers={"Accept-Language": "ar-SY,ar;q=0.9,en;q=0.5"})
    assert down.status_code == 503
    assert down.headers["retry-after"] == "30"
    body = down.json()
    assert body["language"] == "ar" and body["dir"] == "rtl"
    assert body["detail"] == t("database_unavailable", "ar", contact=contact_line(settings.welcome_center_region))
    assert "Traceback" not in down.text and "sqlite" not in down.text.lower()
    # Without a usable header: the installation's default language.
    assert client.get(f"/api/v1/sessions/{sid}/messages").json()["language"] == settings.default_language

    client.app.state.settings = settings  # type: ignore[attr-defined]
    messages = client.get(f"/api/v1/sessions/{sid}/messages").json()["messages"]
    assert "كم تكلفة التجنيس؟" not in [m["text"] for m in messages]  # the refused message was not stored
    again = client.post(f"/api/v1/sessions/{sid}/messages", json={"text": "كم تكلفة التجنيس؟"})
    assert again.status_code == 200 and again.json()["messages"]


def test_requested_language_follows_quality_and_ignores_unknown_tags() -> None:
    assert requested_language("xx, tr;q=0.4, uk;q=0.8", "de") == "uk"
    assert requested_language("fa-IR", "de") == "fa"
    assert requested_language("zz, en;q=0", "de") == "de"
    assert requested_language(None, "en") == "en"
    assert requested_language("ar;q=abc", "de") == "de"
