"""The coordination report: a seeded month shows the expected figures in HTML, CSV and PDF, never a
name or a message, suppresses small counts, is for coordinators only, and survives the retention job.
"""

from __future__ import annotations

import csv
import io
import re
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from server.core.config import Settings
from server.core.db import get_sessionmaker, upgrade_database
from server.main import create_app
from server.models import ChatSession, UsageCount, utcnow
from server.services import stats
from server.services.privacy import purge
from server.services.reports import HIDDEN, SMALL, build_report, protect, to_csv
from server.services.users import add_user
from tests.conftest import ScriptedDialogue
from tests.server.conftest import PASSWORD
from tests.server.test_cases_api import login

pytestmark = pytest.mark.db
MONTH = "2026-03"
# Personal data in the seed: none of it may appear in any report.
SECRETS = ("Zeynep Yilmaz", "0176 2345 6789", "Rückruf bei Herrn Okonkwo", "Anna Fallmanagerin")


class ReportDialogue(ScriptedDialogue):
    """Answers ``Q:<topic>`` from the knowledge base, ``UNKLAR`` with a clarify, ``OFF`` as off topic."""

    def __init__(self) -> None:
        super().__init__()
        self.languages: dict[str, str] = {}  # sender -> the language the conversation is held in

    def send(self, sender: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        forced = {"set_language": self.languages[sender]} if sender in self.languages else {}
        topic = re.search(r"Q:(\w+)", text)
        if topic:
            self.received.append((sender, text, metadata))
            return [{"custom": {"text": "Antwort", "entry_id": f"{topic.group(1)}-entry", "topic": topic.group(1),
                                "confidence": 0.9, **forced}}]
        if "UNKLAR" in text:
            return [{"custom": {"say": "clarify", **forced}}]
        if "OFF" in text:
            return [{"custom": {"say": "out_of_scope", **forced}}]
        replies = super().send(sender, text, metadata)
        return [{"custom": {**r["custom"], **forced}} for r in replies]


@pytest.fixture
def report_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"purge_interval_minutes": 0})


@pytest.fixture
def hub(report_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    # Every tally of this test lands on one day of the seeded month, whenever the test runs.
    monkeypatch.setattr(stats, "local_day", lambda at=None: f"{MONTH}-15")
    upgrade_database(report_settings.database_url)
    with get_sessionmaker(report_settings.database_url)() as db:
        add_user(db, "anna", PASSWORD, "case_manager", ["abh-infopoint"], display_name="Anna Fallmanagerin")
        add_user(db, "cora", PASSWORD, "coordinator", display_name="Cora")
        add_user(db, "eddi", PASSWORD, "editor")
        add_user(db, "root", PASSWORD, "admin")
    app = create_app(report_settings)
    app.state.conversations.dialogue = ReportDialogue()
    with TestClient(app) as client:
        yield client


def console(hub: TestClient, username: str) -> TestClient:
    """A browser of its own (its own cookies) on the same hub."""
    client = TestClient(hub.app)
    response = client.post("/console/login", data={"username": username, "password": PASSWORD},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    return client


def session(hub: TestClient, language: str, channel: str = "web") -> str:
    sid = str(hub.post("/api/v1/sessions", json={"channel": channel, "language": language,
                                                 "region": "kreis-kleve"}).json()["session_id"])
    hub.app.state.conversations.dialogue.languages[sid] = language  # type: ignore[attr-defined]
    return sid


def say(hub: TestClient, sid: str, text: str) -> None:
    response = hub.post(f"/api/v1/sessions/{sid}/messages", json={"text": text})
    assert response.status_code == 200, response.text


def seed(hub: TestClient) -> list[str]:
    """7 conversations (6 German on the web, 1 Tigrinya at the kiosk), 13 questions (8 answered),
    5 hand-offs from Goch, each answered by a person and closed (3 answered, 2 referred), tagged with
    challenges (5 × ABH appointment wait, 1 × school waiting list; one of them through the console form).
    """
    sessions = []
    for _ in range(5):
        sid = session(hub, "de")
        say(hub, sid, f"Ich heiße {SECRETS[0]}, Telefon {SECRETS[1]}. Q:residence")
        say(hub, sid, "/request_human")
        sessions.append(sid)
    school = session(hub, "de")
    for text in ("Q:school Schulplatz für meine Tochter?", "Q:school", "UNKLAR", "UNKLAR", "UNKLAR"):
        say(hub, school, text)
    kiosk = session(hub, "ti", channel="kiosk")
    for text in ("OFF", "OFF", "Q:residence"):
        say(hub, kiosk, text)
    sessions += [school, kiosk]

    anna = login(hub, "anna")
    cases = sorted(c["id"] for c in hub.get("/api/v1/cases", headers=anna).json())
    assert len(cases) == 5
    for case_id in cases:
        reply = hub.post(f"/api/v1/cases/{case_id}/messages", headers=anna, json={"text": "Guten Tag!"})
        assert reply.status_code == 201
        hub.post(f"/api/v1/cases/{case_id}/notes", headers=anna, json={"text": SECRETS[2]})
    for case_id, outcome in zip(cases[:4], ("answered", "answered", "answered", "referred"), strict=True):
        tags = ["abh-appointment-wait"] + (["school-waiting-list"] if case_id == cases[0] else [])
        closed = hub.post(f"/api/v1/cases/{case_id}/close", headers=anna, json={"outcome": outcome, "challenges": tags})
        assert closed.status_code == 200, closed.text
    # The fifth through the console's close form, as a case manager does it.
    browser = console(hub, "anna")
    case_page = browser.get(f"/console/cases/{cases[4]}").text
    assert 'name="challenges" value="abh-appointment-wait"' in case_page
    assert "Termin bei der Ausländerbehörde dauert länger als 8 Wochen" in case_page
    token = re.search(r'name="csrf" value="([^"]+)"', case_page)
    assert token
    response = browser.post(f"/console/cases/{cases[4]}/close", follow_redirects=False, data={
        "csrf": token.group(1), "outcome": "referred", "hand_back": "0", "challenges": ["abh-appointment-wait"]})
    assert response.status_code == 303, response.text
    return sessions


def csv_rows(text: str) -> dict[tuple[str, str], str]:
    return {(r[0], r[1]): r[2] for r in csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";")}


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    """The PDF as pdftotext reads it, after checking that pdftoppm renders its first page."""
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "1", str(path), str(tmp_path / "page")],
                   check=True, capture_output=True, timeout=60)
    assert list(tmp_path.glob("page*.png")), "pdftoppm rendered no page"
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, timeout=60)
    return out.stdout.decode()


def test_a_seeded_month_shows_the_expected_figures_everywhere_and_no_personal_data(
    hub: TestClient, tmp_path: Path
) -> None:
    sessions = seed(hub)
    cora = console(hub, "cora")

    page = cora.get(f"/console/reports?month={MONTH}&region=kreis-kleve")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    html = page.text
    assert "Bericht: März 2026" in html and "<svg" in html and "style=" not in html
    figures = dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", html))
    assert figures["Gespräche"] == "7" and figures["Fragen"] == "13" and figures["Antwortquote"] == "62 %"
    assert figures["Übergaben an Menschen"] == "5" and figures["Erste Antworten (Anzahl)"] == "5"
    assert figures["Erste menschliche Antwort: Median"] == "0 Min."

    rows = csv_rows(cora.get(f"/console/reports.csv?month={MONTH}&region=kreis-kleve").text)
    assert rows[("Bericht", "Monat")] == MONTH
    assert rows[("Überblick", "Antwortquote")] == "62 %"
    assert rows[("Fragen nach Ergebnis", "aus der Wissensbasis beantwortet")] == "8"
    assert rows[("Fragen nach Ergebnis", "Rückfrage (Bot unsicher)")] == SMALL  # 3
    assert rows[("Fragen nach Ergebnis", "außerhalb des Angebots")] == SMALL  # 2: hidden together 5, enough
    assert rows[("Fragen nach Thema", "Aufenthalt")] == "6"
    assert rows[("Fragen nach Thema", "Schule")] == SMALL
    # 2 alone could be recomputed from the total (13 - 6 - 5): the next smallest cell is hidden too.
    assert rows[("Fragen nach Thema", "ohne Thema (Rückfrage/außerhalb)")] == HIDDEN
    assert rows[("Fragen nach Thema", "Summe")] == "13"
    assert rows[("Gespräche nach Sprache", "Tigrinya")] == SMALL
    assert rows[("Gespräche nach Sprache", "Deutsch")] == HIDDEN
    assert rows[("Gespräche nach Kanal", "Kiosk")] == SMALL
    assert rows[("Übergaben nach Anlass", "auf Wunsch")] == "5"
    assert rows[("Übergaben nach Team", "Ausländerbehörde – Infopoint")] == "5"
    assert rows[("Übergaben nach Ort", "Goch")] == "5"
    assert rows[("Abgeschlossene Fälle nach Ergebnis", "beantwortet")] == SMALL
    assert rows[("Abgeschlossene Fälle nach Ergebnis", "weitervermittelt")] == SMALL
    assert rows[("Abgeschlossene Fälle nach Ergebnis", "Summe")] == "5"
    assert rows[("Systemische Hürden", "Termin bei der Ausländerbehörde dauert länger als 8 Wochen")] == HIDDEN
    assert rows[("Systemische Hürden", "Warteliste für einen Schulplatz")] == SMALL
    assert rows[("Verlauf: Gespräche", MONTH)] == "7"

    pdf = cora.get(f"/console/reports.pdf?month={MONTH}&region=kreis-kleve")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    text = pdf_text(pdf.content, tmp_path)
    assert "Monatsbericht März 2026" in text and "Kreis Kleve" in text
    assert re.search(r"Gespräche\s+7\b", text) and re.search(r"Antwortquote\s+62 %", text)
    assert re.search(r"Übergaben an Menschen\s+5\b", text) and re.search(r"Goch\s+5\b", text)
    assert "Ausländerbehörde – Infopoint" in text and "< 5" in text

    csv_text = cora.get(f"/console/reports.csv?month={MONTH}").text
    challenges = cora.get(f"/console/challenges?month={MONTH}&months=3").text
    assert "Termin bei der Ausländerbehörde dauert länger als 8 Wochen" in challenges
    for output in (html, csv_text, text, challenges):
        for secret in (*SECRETS, "Q:residence", "Schulplatz für meine Tochter", "Guten Tag", *sessions):
            assert secret not in output
    # And a month without anything is empty, not an error.
    empty = csv_rows(cora.get("/console/reports.csv?month=2025-01").text)
    assert empty[("Überblick", "Gespräche")] == "0"


def test_the_figures_of_a_month_stay_the_same_after_its_conversations_are_purged(
    hub: TestClient, report_settings: Settings
) -> None:
    seed(hub)
    maker = get_sessionmaker(report_settings.database_url)
    with maker() as db:
        before = to_csv(build_report(db, MONTH, "kreis-kleve"))
        for chat in db.scalars(select(ChatSession)).all():
            chat.last_activity_at = utcnow() - timedelta(days=report_settings.retention_days + 1)
        db.commit()
        assert purge(db, report_settings).deleted_sessions == 7
        assert db.scalars(select(ChatSession)).first() is None
    with maker() as db:
        after = to_csv(build_report(db, MONTH, "kreis-kleve"))
    assert after == before and "62 %" in after


def test_only_coordinators_and_admins_see_reports(hub: TestClient) -> None:
    seed(hub)
    anonymous = TestClient(hub.app)
    for path in ("/console/reports", f"/console/reports.csv?month={MONTH}", f"/console/reports.pdf?month={MONTH}",
                 "/console/challenges"):
        assert anonymous.get(path, follow_redirects=False).headers["location"] == "/console/login"
        anna = console(hub, "anna").get(path, follow_redirects=False)
        assert anna.status_code == 303 and anna.headers["location"] == "/console"
        eddi = console(hub, "eddi").get(path, follow_redirects=False)
        assert eddi.status_code == 303 and eddi.headers["location"] == "/console/content"
        assert console(hub, "cora").get(path).status_code == 200
        assert console(hub, "root").get(path).status_code == 200
    # The coordinator's start page after login is the dashboard.
    start = TestClient(hub.app).post("/console/login", data={"username": "cora", "password": PASSWORD},
                                     follow_redirects=False)
    assert start.headers["location"] == "/console/reports"
    assert console(hub, "cora").get("/console/reports?month=März").status_code == 422


def test_an_unknown_challenge_tag_is_refused_and_the_case_stays_open(hub: TestClient) -> None:
    sid = session(hub, "de")
    say(hub, sid, "/request_human")
    anna = login(hub, "anna")
    case_id = hub.get("/api/v1/cases", headers=anna).json()[0]["id"]
    refused = hub.post(f"/api/v1/cases/{case_id}/close", headers=anna,
                       json={"outcome": "answered", "challenges": ["Herr Müller wartet"]})
    assert refused.status_code == 422
    assert hub.get(f"/api/v1/cases/{case_id}", headers=anna).json()["status"] == "open"


def test_suppression_never_lets_a_small_cell_be_recomputed_from_the_total() -> None:
    rows, total = protect({"a": 40, "b": 1, "c": 1, "d": 7, "e": 0})
    shown = {r.key: r.shown for r in rows}
    assert total == 49 and "e" not in shown
    # b and c (1 each) hidden as "< 5"; together only 2, so d (the next smallest) is hidden as well.
    assert shown == {"a": "40", "b": SMALL, "c": SMALL, "d": HIDDEN}
    rows, _ = protect({"a": 40, "b": 3, "c": 2})
    assert {r.key: r.shown for r in rows} == {"a": "40", "b": SMALL, "c": SMALL}
    rows, total = protect({"a": 2, "b": 1})
    assert {r.key: r.shown for r in rows} == {"a": SMALL, "b": SMALL} and total == 3
    # Hidden rows come last, in label order: their order reveals nothing about their size.
    rows, _ = protect({"z": 1, "y": 4, "x": 30}, {"z": "A", "y": "B", "x": "C"})
    assert [r.label for r in rows] == ["C", "A", "B"]


def test_a_coordinator_bound_to_a_district_sees_only_that_district(hub: TestClient,
                                                                    report_settings: Settings) -> None:
    with get_sessionmaker(report_settings.database_url)() as db:
        add_user(db, "cleo", PASSWORD, "coordinator", district="kreis-coesfeld")
        db.add_all([UsageCount(day=f"{MONTH}-02", metric="conversation", region=region, channel="web", language="de")
                    for region, n in (("kreis-kleve", 9), ("kreis-coesfeld", 6)) for _ in range(n)])
        db.commit()
    cleo = console(hub, "cleo")
    for asked in ("kreis-kleve", ""):
        rows = csv_rows(cleo.get(f"/console/reports.csv?month={MONTH}&region={asked}").text)
        assert rows[("Bericht", "Region")] == "Kreis Coesfeld" and rows[("Überblick", "Gespräche")] == "6"
    assert csv_rows(console(hub, "cora").get(f"/console/reports.csv?month={MONTH}").text)[
        ("Überblick", "Gespräche")] == "15"


def test_lotse_users_add_makes_a_coordinator_who_starts_on_the_dashboard(tmp_path: Path) -> None:
    from tests.server.test_users_cli import lotse

    db = tmp_path / "cli.db"
    added = lotse(db, "users", "add", "koordination", "--role", "coordinator", "--password-stdin",
                  stdin="a good long password\n")
    assert added.returncode == 0 and "koordination (coordinator" in added.stdout
    settings = report_settings_for(db)
    with TestClient(create_app(settings)) as client:
        response = client.post("/console/login", data={"username": "koordination",
                                                       "password": "a good long password"}, follow_redirects=False)
        assert response.headers["location"] == "/console/reports"
        assert client.get("/console/reports").status_code == 200


def report_settings_for(db: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{db}", rasa_url="http://127.0.0.1:9",
                    action_server_url="http://127.0.0.1:9", rasa_timeout_seconds=2, purge_interval_minutes=0)
