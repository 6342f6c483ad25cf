"""Take the README's screenshots from a running Lotse (``lotse serve``) in headless Chromium.

Usage: .venv/bin/python docs/screenshots.py [http://127.0.0.1:8000]

With ``LOTSE_SCREENSHOT_USER`` and ``LOTSE_SCREENSHOT_PASSWORD`` (a case manager made with
``lotse users add``) it also hands an Arabic conversation over and photographs the console; with
``LOTSE_SCREENSHOT_EDITOR`` and ``LOTSE_SCREENSHOT_EDITOR_PASSWORD`` (an editor) the content editor.
With ``LOTSE_SCREENSHOT_COORDINATOR`` and ``LOTSE_SCREENSHOT_COORDINATOR_PASSWORD`` the dashboard;
``--dashboard-demo`` photographs the dashboard on invented figures from a hub it starts itself.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from urllib.parse import quote

import httpx
from playwright.sync_api import Browser, sync_playwright

OUT = Path(__file__).parent / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def main(base: str) -> None:
    OUT.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 430, "height": 900}, device_scale_factor=1)
        question = quote("كم تكلفة التجنيس في ألمانيا؟")
        page.goto(f"{base}/?lang=ar&q={question}")
        page.locator(".msg--bot").nth(1).wait_for(timeout=30000)  # greeting and answer (CSP forbids eval)
        page.wait_for_timeout(300)
        page.screenshot(path=str(OUT / "webchat-ar.png"))
        page = browser.new_page(viewport={"width": 430, "height": 900})
        page.goto(f"{base}/?lang=de&q={quote('Wie viele Stunden hat der Integrationskurs?')}")
        page.locator(".msg--bot").nth(1).wait_for(timeout=30000)  # greeting and answer (CSP forbids eval)
        page.wait_for_timeout(300)
        page.screenshot(path=str(OUT / "webchat-de.png"))
        kiosk(browser, base)
        user, password = os.environ.get("LOTSE_SCREENSHOT_USER"), os.environ.get("LOTSE_SCREENSHOT_PASSWORD")
        if user and password:
            console(browser, base, user, password)
        editor = os.environ.get("LOTSE_SCREENSHOT_EDITOR"), os.environ.get("LOTSE_SCREENSHOT_EDITOR_PASSWORD")
        if editor[0] and editor[1]:
            unanswered(browser, base, editor[0], editor[1])
        editor_user = os.environ.get("LOTSE_SCREENSHOT_EDITOR")
        editor_password = os.environ.get("LOTSE_SCREENSHOT_EDITOR_PASSWORD")
        if editor_user and editor_password:
            editor(browser, base, editor_user, editor_password)
        coordinator = os.environ.get("LOTSE_SCREENSHOT_COORDINATOR")
        coordinator_password = os.environ.get("LOTSE_SCREENSHOT_COORDINATOR_PASSWORD")
        if coordinator and coordinator_password:
            dashboard(browser, base, coordinator, coordinator_password)
        browser.close()


def hand_over(base: str) -> None:
    """An Arabic newcomer asks a question, then goes through the hand-off form (as in the chat)."""
    with httpx.Client(base_url=f"{base}/api/v1", timeout=60) as http:
        session = http.post("/sessions", json={"channel": "web", "language": "ar", "region": "kreis-kleve"})
        sid = session.json()["session_id"]
        steps = ["كم تكلفة التجنيس؟", "أريد التحدث مع موظف", "/affirm"]
        steps += ["/inform" + json.dumps({"value": v}) for v in ("Goch", "naturalisation", "chat", "ar")]
        steps.append("أعيش في ألمانيا منذ خمس سنوات وأريد التقديم على الجنسية لعائلتي كلها.")
        for text in steps:
            http.post(f"/sessions/{sid}/messages", json={"text": text}).raise_for_status()


def console(browser: Browser, base: str, user: str, password: str) -> None:
    hand_over(base)
    page = browser.new_page(viewport={"width": 1280, "height": 900}, device_scale_factor=1)
    page.goto(f"{base}/console/login")
    page.get_by_label("Benutzername").fill(user)
    page.get_by_label("Passwort").fill(password)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_selector("table.cases")
    page.screenshot(path=str(OUT / "console-queue.png"))
    page.locator("table.cases a").last.click()
    page.get_by_role("button", name="Übernehmen").click()
    page.get_by_label("Antwort an die Person").fill("Guten Tag! Ich helfe Ihnen gern. Haben Sie schon einen Termin?")
    page.get_by_role("button", name="Senden").click()
    page.wait_for_selector(".msg--agent")
    page.screenshot(path=str(OUT / "console-case.png"), full_page=True)


def editor(browser: Browser, base: str, user: str, password: str) -> None:
    """The content editor: an entry's German original beside its Arabic translation, being edited."""
    page = browser.new_page(viewport={"width": 1280, "height": 1000}, device_scale_factor=1)
    page.goto(f"{base}/console/login")
    page.get_by_label("Benutzername").fill(user)
    page.get_by_label("Passwort").fill(password)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_selector("table.entries")
    page.goto(f"{base}/console/content/entries/naturalisation-fee?lang=ar")
    page.locator("#lang-ar").get_by_label("Status").select_option("reviewed")
    page.wait_for_timeout(300)
    page.screenshot(path=str(OUT / "console-editor.png"))


# Questions the knowledge base does not cover, each in several languages (Lotse asks back on them).
UNCOVERED = [
    ("ar", "أين يمكنني تحويل رخصة القيادة الخاصة بي؟"), ("uk", "Де можна обміняти моє водійське посвідчення?"),
    ("de", "Wo kann ich meinen Führerschein umschreiben lassen?"), ("ar", "أين أستطيع تبديل رخصة القيادة؟"),
    ("uk", "Чи отримаю я дитячі гроші на своїх дітей?"), ("ar", "هل أحصل على إعانة الأطفال لأولادي؟"),
    ("ru", "Получу ли я детские деньги на своих детей?"), ("tr", "Nasıl banka hesabı açarım?"),
    ("de", "Wie eröffne ich ein Bankkonto?"), ("fa", "چطور می‌توانم آپارتمان پیدا کنم؟"),
]


def unanswered(browser: Browser, base: str, user: str, password: str) -> None:
    """Editors' "Offene Fragen": questions without a confident answer, grouped across languages."""
    with httpx.Client(base_url=f"{base}/api/v1", timeout=60) as http:
        for language, text in UNCOVERED:
            sid = http.post("/sessions", json={"channel": "web", "language": language}).json()["session_id"]
            http.post(f"/sessions/{sid}/messages", json={"text": text}).raise_for_status()
    page = browser.new_page(viewport={"width": 1280, "height": 900}, device_scale_factor=1)
    page.goto(f"{base}/console/login")
    page.get_by_label("Benutzername").fill(user)
    page.get_by_label("Passwort").fill(password)
    page.get_by_role("button", name="Anmelden").click()
    page.goto(f"{base}/console/unanswered")
    page.wait_for_selector("li.group", timeout=120000)  # the first view embeds the questions
    page.screenshot(path=str(OUT / "console-unanswered.png"))


def kiosk(browser: Browser, base: str) -> None:
    """The kiosk's first screen, then an Arabic answer reached by touch alone (language, topic tile)."""
    page = browser.new_page(viewport={"width": 1280, "height": 800}, device_scale_factor=1)
    page.goto(f"{base}/kiosk")
    page.wait_for_selector("#languages button")
    page.screenshot(path=str(OUT / "kiosk-languages.png"))
    page.get_by_role("button", name="العربية", exact=True).click()
    page.wait_for_selector("#tiles button")
    page.locator(".tiles__item--naturalisation").click()
    page.wait_for_selector(".msg--bot .msg__read", timeout=30000)
    page.wait_for_timeout(800)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(OUT / "kiosk-ar.png"))


def dashboard(browser: Browser, base: str, user: str, password: str, month: str | None = None) -> None:
    """The coordination dashboard (a coordinator's login), one month, all regions."""
    page = browser.new_page(viewport={"width": 1280, "height": 1500}, device_scale_factor=1)
    page.goto(f"{base}/console/login")
    page.get_by_label("Benutzername").fill(user)
    page.get_by_label("Passwort").fill(password)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_selector(".figures")
    if month:
        page.goto(f"{base}/console/reports?month={month}")
        page.wait_for_selector(".figures")
    page.screenshot(path=str(OUT / "console-dashboard.png"))


def dashboard_demo() -> None:
    """``--dashboard-demo``: the dashboard on invented figures, from a hub started here (no Rasa needed).

    A fresh install has no figures yet, and real ones must not go into a README; so this fills a
    throwaway database with made-up tallies for six months (the only thing the dashboard reads).
    """
    import random
    import socket
    import tempfile
    import threading
    import time

    import uvicorn

    from server.core.config import Settings
    from server.core.db import get_sessionmaker, upgrade_database
    from server.main import create_app
    from server.models import CaseChallenge, UsageCount
    from server.services.reports import previous_months
    from server.services.users import add_user

    rnd = random.Random(7)
    months = previous_months("2026-11", 6)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{tmp}/demo.db", purge_interval_minutes=0)
        upgrade_database(settings.database_url)
        with get_sessionmaker(settings.database_url)() as db:
            add_user(db, "demo-coordination", "demo password 1", "coordinator", display_name="Koordination")
            for i, month in enumerate(months):
                day = f"{month}-10"
                for _ in range(120 + 25 * i + rnd.randint(0, 30)):
                    db.add(UsageCount(
                        day=day, metric="conversation", region=rnd.choice(["kreis-kleve"] * 3 + ["kreis-coesfeld"] * 2),
                        channel=rnd.choice(["web"] * 5 + ["telegram"] * 3 + ["kiosk"]),
                        language=rnd.choice(["ar"] * 5 + ["uk"] * 4 + ["tr"] * 2 + ["fa"] * 2 + ["de", "ru", "ti"])))
                for _ in range(300 + 40 * i + rnd.randint(0, 60)):
                    db.add(UsageCount(day=day, metric="question", key=rnd.choice(["answered"] * 7 + ["clarify"] * 2
                                                                              + ["out_of_scope"]),
                                      topic=rnd.choice(["residence"] * 4 + ["school"] * 2 + ["naturalisation"] * 2
                                                       + ["language_courses"] * 3), region="kreis-kleve"))
                for _ in range(20 + 3 * i + rnd.randint(0, 8)):
                    town = rnd.choice(["Kleve"] * 4 + ["Goch"] * 3 + ["Emmerich am Rhein"] * 2 + ["Kevelaer"])
                    db.add(UsageCount(day=day, metric="handoff", region="kreis-kleve", town=town,
                                      key=rnd.choice(["request"] * 5 + ["urgent_topic"] * 2 + ["low_confidence"] * 2
                                                     + ["crisis"]),
                                      team=rnd.choice(["kim", "abh-infopoint", "abh-infopoint", "naturalisation"])))
                    db.add(UsageCount(day=day, metric="first_reply", region="kreis-kleve",
                                      value=rnd.randint(5 * 60, 30 * 3600)))
                    db.add(UsageCount(day=day, metric="outcome", region="kreis-kleve",
                                      key=rnd.choice(["answered"] * 4 + ["referred"] * 2 + ["appointment"] * 3
                                                     + ["no_response"])))
                    db.add(CaseChallenge(tag=rnd.choice(["abh-appointment-wait"] * 3 + ["school-waiting-list"] * 2
                                                        + ["integration-course-waiting", "housing"]),
                                         day=day, region="kreis-kleve", town=town, team="kim"))
            db.commit()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                               log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                dashboard(browser, f"http://127.0.0.1:{port}", "demo-coordination", "demo password 1", months[-1])
                browser.close()
        finally:
            server.should_exit = True
            thread.join(timeout=10)


if __name__ == "__main__":
    if sys.argv[1:] == ["--dashboard-demo"]:
        dashboard_demo()
    else:
        main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000")
