"""Case manager and newcomer each read the other in their own language, with the original beside it."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from lotse import paths
from server.services.translation import reset_translator
from tests.server.conftest import ARGOS_MISSING
from tests.server.test_cases_api import login, start_handoff

pytestmark = pytest.mark.skipif(ARGOS_MISSING, reason="argostranslate extra not installed (CI installs it)")


@pytest.fixture
def with_packages(installed_var: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(paths, "VAR", installed_var)
    reset_translator()


def test_messages_are_translated_both_ways_and_originals_kept(
    client: TestClient, staff: None, with_packages: None
) -> None:
    session, _ = start_handoff(client, "ar")
    anna = login(client, "anna")
    case_id = client.get("/api/v1/cases", headers=anna).json()[0]["id"]
    client.post(f"/api/v1/sessions/{session}/messages", json={"text": "متى يمكنني الحصول على موعد؟"})
    client.post(f"/api/v1/cases/{case_id}/messages", headers=anna, json={"text": "Morgen um 10 Uhr."})

    newcomer_view = client.get(f"/api/v1/sessions/{session}/messages").json()["messages"][-1]
    assert newcomer_view["sender"] == "agent" and newcomer_view["language"] == "ar"
    assert newcomer_view["original_text"] == "Morgen um 10 Uhr." and newcomer_view["text"] != "Morgen um 10 Uhr."

    staff_view = client.get(f"/api/v1/cases/{case_id}", headers=anna).json()["messages"]
    question = next(m for m in staff_view if m["original_text"] == "متى يمكنني الحصول على موعد؟")
    assert question["translated"] and question["text"] != question["original_text"]
    assert not question["needs_translation"]


def test_without_a_package_messages_pass_untranslated_and_the_console_says_so(
    client: TestClient, staff: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(paths, "VAR", tmp_path / "empty-var")
    reset_translator()
    session, _ = start_handoff(client, "uk")
    anna = login(client, "anna")
    case_id = client.get("/api/v1/cases", headers=anna).json()[0]["id"]
    client.post(f"/api/v1/sessions/{session}/messages", json={"text": "Коли я можу прийти?"})
    staff_view = client.get(f"/api/v1/cases/{case_id}", headers=anna).json()["messages"]
    question = staff_view[-1]
    assert question["text"] == question["original_text"] == "Коли я можу прийти?"
    assert question["needs_translation"] and not question["translated"]
