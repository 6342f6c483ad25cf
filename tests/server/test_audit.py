"""The audit log: every read and change of a case by staff is on record, and only admins read the record."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.server.conftest import PASSWORD
from tests.server.test_cases_api import login, start_handoff


def audit(client: TestClient, **params: object) -> list[dict[str, object]]:
    response = client.get("/api/v1/audit", headers=login(client, "root"), params=params)
    assert response.status_code == 200, response.text
    return list(response.json())


def test_reading_a_case_via_the_api_is_recorded_with_who_and_when(client: TestClient, staff: None) -> None:
    session, _ = start_handoff(client)
    anna = login(client, "anna")
    case_id = client.get("/api/v1/cases", headers=anna).json()[0]["id"]
    assert audit(client) == []  # the queue shows summaries; opening a case is what counts
    assert client.get(f"/api/v1/cases/{case_id}", headers=anna).status_code == 200
    [entry] = audit(client)
    assert (entry["user"], entry["action"], entry["case_id"], entry["session_id"], entry["via"]) == (
        "anna", "read", case_id, session, "api")
    assert entry["time"]


def test_every_change_is_recorded_without_its_text(client: TestClient, staff: None) -> None:
    start_handoff(client)
    anna = login(client, "anna")
    case_id = client.get("/api/v1/cases", headers=anna).json()[0]["id"]
    client.post(f"/api/v1/cases/{case_id}/claim", headers=anna)
    client.post(f"/api/v1/cases/{case_id}/messages", headers=anna, json={"text": "Guten Tag, hier Anna."})
    client.post(f"/api/v1/cases/{case_id}/notes", headers=anna, json={"text": "Pass liegt vor"})
    client.post(f"/api/v1/cases/{case_id}/close", headers=anna, json={"outcome": "answered"})
    entries = audit(client, case_id=case_id)
    assert [e["action"] for e in reversed(entries)] == ["claim", "reply", "note", "close"]
    assert "Guten Tag" not in str(entries) and "Pass liegt vor" not in str(entries)


def test_a_case_manager_cannot_read_the_audit_log(client: TestClient, staff: None) -> None:
    assert client.get("/api/v1/audit", headers=login(client, "anna")).status_code == 403
    assert client.get("/api/v1/audit", headers=login(client, "eddi")).status_code == 403
    assert client.get("/api/v1/audit").status_code == 401


def console_login(client: TestClient, username: str) -> None:
    response = client.post("/console/login", data={"username": username, "password": PASSWORD},
                           follow_redirects=False)
    assert response.status_code == 303, response.text


def test_the_console_records_reads_and_only_admins_see_the_audit_page(client: TestClient, staff: None) -> None:
    start_handoff(client)
    case_id = client.get("/api/v1/cases", headers=login(client, "anna")).json()[0]["id"]
    console_login(client, "anna")
    assert client.get(f"/console/cases/{case_id}").status_code == 200
    assert client.get("/console/audit").status_code == 403
    console_login(client, "root")
    page = client.get("/console/audit")
    assert page.status_code == 200
    assert re.search(rf"anna</td><td>read</td>\s*<td><a href=\"/console/cases/{case_id}\">", page.text)
    assert "console" in page.text


def test_console_pages_carry_security_headers_and_hsts_only_over_tls(client: TestClient) -> None:
    page = client.get("/console/login")
    csp = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert page.headers["x-frame-options"] == "DENY" and page.headers["x-content-type-options"] == "nosniff"
    assert "strict-transport-security" not in page.headers
    with TestClient(client.app, base_url="https://lotse.example.org") as tls:
        assert "max-age=" in tls.get("/console/login").headers["strict-transport-security"]
        assert "max-age=" in tls.get("/health").headers["strict-transport-security"]
