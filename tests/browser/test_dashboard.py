"""The coordination dashboard in headless Chromium: log in, read a month, switch region, download
the CSV and the PDF, open the systematic challenges; charts render under the console's CSP.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from server.core.config import Settings
from server.core.db import get_sessionmaker, upgrade_database
from server.main import create_app
from server.models import CaseChallenge, UsageCount
from server.services.users import add_user
from tests.browser.conftest import serving
from tests.conftest import ScriptedDialogue

PASSWORD = "dashboard test password"
MONTH = "2026-10"


@dataclass
class DashboardHub:
    url: str


def tallies() -> list[UsageCount | CaseChallenge]:
    """October 2026: 30 conversations in Kleve (20 web, 10 Telegram), 12 in Coesfeld; 20 questions
    in Kleve (15 answered), 6 hand-offs from Goch, 2 from Kevelaer; challenges 6 × ABH wait in Goch."""
    rows: list[UsageCount | CaseChallenge] = []
    day = f"{MONTH}-07"
    rows += [UsageCount(day=day, metric="conversation", region="kreis-kleve", channel="web", language="ar")
             for _ in range(20)]
    rows += [UsageCount(day=day, metric="conversation", region="kreis-kleve", channel="telegram", language="uk")
             for _ in range(10)]
    rows += [UsageCount(day=day, metric="conversation", region="kreis-coesfeld", channel="web", language="de")
             for _ in range(12)]
    rows += [UsageCount(day=day, metric="question", key="answered", topic="residence", region="kreis-kleve")
             for _ in range(15)]
    rows += [UsageCount(day=day, metric="question", key="clarify", region="kreis-kleve") for _ in range(5)]
    for town, count in (("Goch", 6), ("Kevelaer", 2)):
        rows += [UsageCount(day=day, metric="handoff", key="request", region="kreis-kleve", town=town,
                            team="abh-infopoint", topic="residence") for _ in range(count)]
    rows += [UsageCount(day=day, metric="first_reply", region="kreis-kleve", value=600 * (i + 1)) for i in range(8)]
    rows += [CaseChallenge(tag="abh-appointment-wait", day=day, region="kreis-kleve", town="Goch", team="abh-infopoint")
             for _ in range(6)]
    return rows


@pytest.fixture(scope="module")
def dashboard_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DashboardHub]:
    db: Path = tmp_path_factory.mktemp("dashboard") / "lotse.db"
    settings = Settings(database_url=f"sqlite:///{db}", rasa_url="http://127.0.0.1:9",
                        action_server_url="http://127.0.0.1:9", rasa_timeout_seconds=2, purge_interval_minutes=0)
    upgrade_database(settings.database_url)
    with get_sessionmaker(settings.database_url)() as session:
        add_user(session, "cora", PASSWORD, "coordinator", display_name="Cora")
        session.add_all(tallies())
        session.commit()
    app = create_app(settings)
    app.state.conversations.dialogue = ScriptedDialogue()
    with serving(app) as url:
        yield DashboardHub(url)


def test_a_coordinator_reads_the_month_downloads_the_reports_and_sees_the_challenges(
    dashboard_hub: DashboardHub, new_page: Any
) -> None:
    page = new_page(accept_downloads=True)
    problems: list[str] = []
    # CSP violations and failed loads show up as console errors (the browser's own favicon request aside).
    page.on("console", lambda m: problems.append(f"{m.text} {m.location.get('url')}")
            if m.type == "error" and not str(m.location.get("url", "")).endswith("/favicon.ico") else None)
    page.goto(f"{dashboard_hub.url}/console/login")
    page.get_by_label("Benutzername").fill("cora")
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    expect(page).to_have_url(f"{dashboard_hub.url}/console/reports")  # the coordinator's start page

    page.get_by_label("Monat", exact=True).select_option(MONTH)
    page.get_by_role("button", name="Anzeigen").click()
    expect(page.locator("h1")).to_contain_text("Oktober 2026 · alle Regionen")
    figures = page.locator(".figures")
    expect(figures.locator(".figure").filter(has_text="Gespräche")).to_contain_text("42")
    expect(figures.locator(".figure").filter(has_text="Antwortquote")).to_contain_text("75 %")
    regions = page.locator("#t-regions")
    expect(regions).to_contain_text("Kreis Kleve")
    expect(regions.locator("svg.chart rect")).to_have_count(2)  # one bar per region, drawn on the server
    # Kevelaer's two hand-offs are shown as "< 5", and Goch's 6 hidden too, so 8 - 6 gives nothing away.
    towns = page.locator("#t-handoff_towns")
    expect(towns.get_by_role("row").filter(has_text="Kevelaer")).to_contain_text("< 5")
    expect(towns.get_by_role("row").filter(has_text="Goch")).to_contain_text("x")
    expect(towns.locator("tfoot")).to_contain_text("8")

    page.get_by_label("Region", exact=True).select_option("kreis-kleve")
    page.get_by_role("button", name="Anzeigen").click()
    expect(page.locator("h1")).to_contain_text("Kreis Kleve")
    expect(figures.locator(".figure").filter(has_text="Gespräche")).to_contain_text("30")
    expect(figures.locator(".figure").filter(has_text="Median")).to_contain_text("40 Min.")

    with page.expect_download() as pdf_download:
        page.get_by_role("link", name="PDF-Monatsbericht").click()
    pdf = Path(pdf_download.value.path())
    assert pdf_download.value.suggested_filename == f"lotse-bericht-{MONTH}-kreis-kleve.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    with page.expect_download() as csv_download:
        page.get_by_role("link", name="CSV herunterladen").click()
    assert "Antwortquote;75 %" in Path(csv_download.value.path()).read_text(encoding="utf-8-sig")

    page.get_by_role("link", name="Systemische Hürden").click()
    page.get_by_label("bis Monat", exact=True).select_option(MONTH)
    page.get_by_role("button", name="Anzeigen").click()
    row = page.get_by_role("row").filter(has_text="Termin bei der Ausländerbehörde").first
    expect(row).to_contain_text("6")
    assert problems == []
