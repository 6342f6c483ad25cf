"""Take the README's screenshots from a running Lotse (``lotse serve``) in headless Chromium.

Usage: .venv/bin/python docs/screenshots.py [http://127.0.0.1:8000]

With ``LOTSE_SCREENSHOT_USER`` and ``LOTSE_SCREENSHOT_PASSWORD`` (a case manager made with
``lotse users add``) it also hands an Arabic conversation over and photographs the console.
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


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000")
