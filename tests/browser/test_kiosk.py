"""The Welcome Center kiosk at /kiosk in headless Chromium: touch only, read aloud, idle reset, QR."""

from __future__ import annotations

import shutil
from collections.abc import Callable

import httpx
from playwright.sync_api import Page, expect

from tests.browser.conftest import ANSWERS, Hub, text
from tests.browser.test_webchat import unnamed_controls

NewPage = Callable[..., Page]


def choose(page: Page, native: str) -> None:
    page.locator("#languages").get_by_role("button", name=native, exact=True).click()
    expect(page.locator("#screen-topics")).to_be_visible()


def test_language_grid_then_topic_tile_gives_an_arabic_answer_read_aloud(new_page: NewPage, hub: Hub) -> None:
    page = new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{hub.url}/kiosk")
    grid = page.locator("#languages button")
    expect(grid).to_have_count(23)
    arabic = page.locator("#languages").get_by_role("button", name="العربية")
    expect(arabic).to_have_attribute("dir", "rtl")
    expect(arabic).to_have_attribute("lang", "ar")
    expect(page.locator("#languages").get_by_role("button", name="ትግርኛ")).to_have_attribute("lang", "ti")

    choose(page, "العربية")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("#topics-title")).to_have_text(text("kiosk_choose_topic", "ar"))
    tiles = page.locator("#tiles button")
    expect(tiles).to_have_count(5)
    expect(tiles.last).to_have_text(text("contact_person", "ar"))
    assert min(tiles.nth(i).bounding_box()["height"] for i in range(5)) >= 88  # big touch targets

    page.get_by_role("button", name=text("topic_residence", "ar")).click()
    answer = page.locator(".msg--bot", has_text=ANSWERS["ar"])
    expect(answer).to_have_attribute("dir", "rtl")
    expect(answer.get_by_role("link", name="Ausländerbehörde Kreis Kleve")).to_be_visible()
    assert hub.dialogue.received[-1][1] == '/ask_question{"topic": "residence"}'
    read = answer.locator(".msg__read")
    expect(read).to_have_accessible_name(text("read_aloud", "ar"))
    if shutil.which("espeak-ng"):
        with page.expect_response("**/api/v1/speech") as speech:
            read.click()
        assert speech.value.status == 200
        assert speech.value.headers["content-type"] == "audio/wav"
        assert int(speech.value.headers["content-length"]) > 10_000  # audio, not an error text
        expect(read).to_have_attribute("aria-pressed", "true")
        expect(read).to_have_accessible_name(text("stop_reading", "ar"))
    else:
        expect(read).to_have_count(0)
    assert unnamed_controls(page) == []

    page.get_by_role("button", name=text("back_to_topics", "ar")).click()
    expect(page.locator("#screen-topics")).to_be_visible()


def test_no_read_aloud_button_where_espeak_has_no_voice(new_page: NewPage, hub: Hub) -> None:
    page = new_page()
    page.goto(f"{hub.url}/kiosk")
    choose(page, "پښتو")
    page.locator("#tiles button").first.click()
    expect(page.locator(".msg--bot").last).to_be_visible()  # after the privacy notice
    expect(page.locator(".msg__read")).to_have_count(0)


def test_idle_warning_then_reset_wipes_the_screen(new_page: NewPage, hub: Hub) -> None:
    page = new_page()
    page.goto(f"{hub.url}/kiosk?idle=2&warn=3")
    choose(page, "Deutsch")
    page.get_by_role("button", name=text("topic_residence", "de")).click()
    expect(page.locator(".msg--bot", has_text=ANSWERS["de"])).to_be_visible()

    warning = page.get_by_role("dialog", name=text("idle_warning", "de"))
    expect(warning).to_be_visible(timeout=5000)
    expect(warning).to_contain_text("Sekunden")
    warning.get_by_role("button", name=text("idle_continue", "de")).click()
    expect(warning).to_be_hidden()
    expect(page.locator(".msg--bot", has_text=ANSWERS["de"])).to_be_visible()  # still there

    expect(warning).to_be_visible(timeout=5000)
    expect(page.locator("#screen-languages")).to_be_visible(timeout=6000)
    expect(warning).to_be_hidden()
    assert page.locator("#log").inner_text() == ""
    assert page.locator("#log > *").count() == 0
    assert page.get_by_text(ANSWERS["de"]).count() == 0
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.locator("#home")).to_be_hidden()


def messages_status(hub: Hub, session: str) -> int:
    return httpx.get(f"{hub.url}/api/v1/sessions/{session}/messages").status_code


def test_start_again_wipes_the_conversation(new_page: NewPage, hub: Hub) -> None:
    page = new_page()
    page.goto(f"{hub.url}/kiosk")
    with page.expect_response("**/api/v1/sessions") as created:
        choose(page, "Українська")
    session = created.value.json()["session_id"]
    page.locator("#tiles button").first.click()
    expect(page.locator(".msg--bot").last).to_be_visible()  # after the privacy notice
    assert messages_status(hub, session) == 200
    with page.expect_response(lambda r: r.request.method == "DELETE") as erased:
        page.get_by_role("button", name=text("start_again", "uk")).click()
    assert erased.value.status == 204
    expect(page.locator("#screen-languages")).to_be_visible()
    assert page.locator("#log > *").count() == 0
    assert messages_status(hub, session) == 404  # the next person at the kiosk cannot find it anywhere


def test_talk_to_a_person_tile_and_case_manager_status(new_page: NewPage, hub: Hub) -> None:
    page = new_page()
    page.goto(f"{hub.url}/kiosk")
    with page.expect_response("**/api/v1/sessions") as created:
        choose(page, "Türkçe")
    session = created.value.json()["session_id"]
    with page.expect_response("**/messages") as sent:
        page.get_by_role("button", name=text("contact_person", "tr")).click()
    assert sent.value.request.post_data_json == {"text": "/request_human"}
    expect(page.locator(".msg--bot").last).to_be_visible()  # after the privacy notice
    hub.add_agent_message(session, "Guten Tag!", {"language": "tr", "text": "İyi günler!"}, mode="waiting")
    expect(page.locator("#mode")).to_have_text(text("handoff_waiting", "tr"))
    expect(page.locator(".msg--agent .msg__text")).to_have_text("İyi günler!")
    page.locator("#home").click()  # a case manager has it: the screen is wiped, the conversation kept
    expect(page.locator("#screen-languages")).to_be_visible()
    assert messages_status(hub, session) == 200


def test_qr_code_continues_the_same_conversation_on_a_phone_once(new_page: NewPage, hub: Hub) -> None:
    kiosk = new_page()
    kiosk.goto(f"{hub.url}/kiosk")
    with kiosk.expect_response("**/api/v1/sessions") as created:
        choose(kiosk, "العربية")
    session = created.value.json()["session_id"]
    kiosk.get_by_role("button", name=text("topic_residence", "ar")).click()
    expect(kiosk.locator(".msg--bot", has_text=ANSWERS["ar"])).to_be_visible()

    with kiosk.expect_response("**/handover-token") as issued:
        kiosk.get_by_role("button", name=text("continue_on_phone", "ar")).click()
    handover = issued.value.json()
    dialog = kiosk.get_by_role("dialog", name=text("continue_on_phone", "ar"))
    expect(dialog).to_be_visible()
    qr = dialog.get_by_role("img", name=text("qr_explain", "ar"))
    expect(qr).to_have_attribute("src", handover["qr"])
    assert handover["qr"].startswith("data:image/svg+xml")
    assert kiosk.evaluate("document.getElementById('qr-image').naturalWidth") > 0
    assert "/?continue=" in handover["url"]
    assert kiosk.evaluate("localStorage.length + sessionStorage.length") == 0  # the kiosk keeps nothing

    phone = new_page(viewport={"width": 390, "height": 800})
    phone.goto(handover["url"])
    expect(phone.locator(".msg--bot", has_text=ANSWERS["ar"])).to_be_visible()
    expect(phone.locator("html")).to_have_attribute("dir", "rtl")
    assert "continue=" not in phone.url  # the token leaves the address bar at once
    phone.get_by_label(text("input_placeholder", "ar")).fill("شكرا")
    phone.keyboard.press("Enter")
    expect(phone.locator(".msg--bot", has_text="echo: شكرا")).to_be_visible()

    # the kiosk sees the phone took over and wipes itself
    expect(dialog).to_contain_text(text("qr_done", "ar"))
    expect(kiosk.locator("#screen-languages")).to_be_visible(timeout=10_000)
    assert kiosk.locator("#log > *").count() == 0
    assert messages_status(hub, session) == 200  # the phone goes on with it: not erased

    # the QR code works once
    other = new_page()
    other.goto(handover["url"])
    expect(other.locator("#status")).to_have_text(text("continue_failed", "de"))
    assert other.get_by_text(ANSWERS["ar"]).count() == 0


def test_closing_the_qr_code_revokes_it(new_page: NewPage, hub: Hub) -> None:
    kiosk = new_page()
    kiosk.goto(f"{hub.url}/kiosk")
    choose(kiosk, "Deutsch")
    with kiosk.expect_response("**/handover-token") as issued:
        kiosk.get_by_role("button", name=text("continue_on_phone", "de")).click()
    with kiosk.expect_response("**/handover/revoke"):
        kiosk.get_by_role("button", name=text("close", "de")).click()
    expect(kiosk.locator("#screen-topics")).to_be_visible()  # the kiosk conversation goes on
    phone = new_page()
    phone.goto(issued.value.json()["url"])
    expect(phone.locator("#status")).to_have_text(text("continue_failed", "de"))
