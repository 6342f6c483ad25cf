"""The embeddable widget on a municipal page from another origin, and the origin allow-list."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from playwright.sync_api import Page, expect

from tests.browser.conftest import Hub, MunicipalSite, text

NewPage = Callable[..., Page]


def municipal_page(site: MunicipalSite, hub: Hub) -> str:
    return site.page("kontakt.html", f"""<h1>Kreis Kleve – Kontakt</h1><p>Öffnungszeiten …</p>
        <script src="{hub.url}/widget.js" data-lang="ar" data-region="kreis-kleve" async></script>""")


def test_the_widget_opens_the_chat_on_a_listed_origin_by_keyboard(
    new_page: NewPage, hub: Hub, site: MunicipalSite
) -> None:
    name = municipal_page(site, hub)
    page = new_page()
    page.goto(f"http://127.0.0.1:{site.port}/{name}")
    button = page.get_by_role("button", name=text("open_chat", "ar"))
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(button).to_have_attribute("dir", "rtl")
    assert page.locator("iframe").count() == 0  # nothing loaded (no session) before the visitor asks

    button.focus()
    page.keyboard.press("Enter")
    chat = page.frame_locator("#lotse-widget-panel iframe")
    expect(chat.locator(".msg--bot").first).to_be_visible()
    expect(chat.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("dialog", name=text("open_chat", "ar"))).to_be_visible()
    greet = [r for r in hub.dialogue.received if r[1] == "/greet"][-1]
    assert greet[2]["region"] == "kreis-kleve" and greet[2]["channel"] == "web"

    chat.get_by_label(text("input_placeholder", "ar")).fill("مرحبا")
    chat.get_by_label(text("input_placeholder", "ar")).press("Enter")
    expect(chat.locator(".msg--bot", has_text="echo: مرحبا")).to_be_visible()

    # the chat's own close button (or Escape) closes the panel and gives focus back to the button
    chat.get_by_role("button", name=text("close_chat", "ar")).click()
    expect(page.locator("#lotse-widget-panel")).to_be_hidden()
    expect(button).to_be_focused()
    expect(button).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Enter")
    expect(page.locator("#lotse-widget-panel")).to_be_visible()
    expect(chat.locator(".msg--bot", has_text="echo: مرحبا")).to_be_visible()  # same conversation


def test_an_origin_not_on_the_list_cannot_frame_the_chat(new_page: NewPage, hub: Hub, site: MunicipalSite) -> None:
    name = municipal_page(site, hub)
    page = new_page()
    page.goto(f"http://localhost:{site.port}/{name}")  # same files, but an origin not listed
    page.get_by_role("button", name=text("open_chat", "ar")).click()
    expect(page.locator("#lotse-widget-panel iframe")).to_be_attached()
    page.wait_for_timeout(1500)
    chat_frames = [f for f in page.frames if f.url.startswith(hub.url)]
    assert all(f.locator("#chat").count() == 0 for f in chat_frames), "the chat loaded inside a foreign page"
    assert page.frame_locator("#lotse-widget-panel iframe").locator(".msg").count() == 0


def test_security_headers_name_exactly_the_listed_origins(hub: Hub, site: MunicipalSite) -> None:
    chat = httpx.get(f"{hub.url}/?embed=1")
    policy = chat.headers["content-security-policy"]
    assert f"frame-ancestors 'self' http://127.0.0.1:{site.port}" in policy
    assert "localhost" not in policy and "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in httpx.get(f"{hub.url}/kiosk").headers["content-security-policy"]
    script = httpx.get(f"{hub.url}/widget.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert "__LOTSE_TEXTS__" not in script.text and "\\u0627" in script.text  # Arabic texts, escaped
