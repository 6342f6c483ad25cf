"""The web chat at / in headless Chromium: what a newcomer sees and can do."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from playwright.sync_api import Page, expect

from lotse.i18n import load_locale
from tests.browser.conftest import Hub, text

NewPage = Callable[..., Page]
ARABIC_QUESTION = "كيف أحصل على تصريح الإقامة؟"


def open_chat(new_page: NewPage, hub: Hub, query: str = "") -> Page:
    page = new_page()
    page.goto(f"{hub.url}/{query}")
    expect(page.locator(".msg--bot").first).to_be_visible()  # the greeting
    return page


def session_id(page: Page) -> str:
    return str(page.evaluate("localStorage.getItem('lotse.session')"))


def test_a_question_in_arabic_is_answered_right_to_left(new_page: NewPage, hub: Hub) -> None:
    page = open_chat(new_page, hub, "?lang=ar")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    page.get_by_label(text("input_placeholder", "ar")).fill(ARABIC_QUESTION)
    page.keyboard.press("Enter")
    answer = page.locator(".msg--bot", has_text=ARABIC_QUESTION)
    expect(answer).to_have_attribute("dir", "rtl")
    expect(answer).to_have_attribute("lang", "ar")
    expect(answer.get_by_role("link", name="Quelle")).to_have_attribute("href", "https://example.org/")
    assert page.locator(".msg--user", has_text=ARABIC_QUESTION).count() == 1  # shown once, not twice


def test_the_language_menu_switches_the_interface(new_page: NewPage, hub: Hub) -> None:
    page = open_chat(new_page, hub, "?lang=de")
    expect(page.locator("#send")).to_have_text("Senden")
    page.get_by_label(text("change_language", "de")).select_option("uk")
    expect(page.locator("#send")).to_have_text(text("send", "uk"))
    expect(page.locator("#human")).to_have_text(text("contact_person", "uk"))
    expect(page.locator("html")).to_have_attribute("lang", "uk")
    expect(page.locator(".msg--bot .msg__text").last).to_have_text(text("language_set", "uk"))


def test_markup_from_the_newcomer_or_the_bot_is_shown_as_text(new_page: NewPage, hub: Hub) -> None:
    page = open_chat(new_page, hub, "?lang=de")
    box = page.get_by_label(text("input_placeholder", "de"))
    for attack in ("<img src=x onerror=alert(1)>", "<script>window.pwned = true</script>"):
        box.fill(attack)
        page.keyboard.press("Enter")
        expect(page.locator(".msg--bot", has_text="echo: " + attack)).to_be_visible()
        expect(page.locator(".msg--user .msg__text", has_text=attack)).to_be_visible()
    page.wait_for_timeout(300)
    log = page.locator("#log")
    assert log.locator("img, script, b").count() == 0, "markup in a message became an element"
    assert page.evaluate("window.pwned") is None and page.dialogs == []
    # a javascript: source is shown as its title, never as a link
    expect(log.get_by_text("<b>evil</b>")).to_be_visible()
    assert log.locator("a[href^='javascript']").count() == 0


def test_contact_a_person_sends_the_request_and_shows_the_reply(new_page: NewPage, hub: Hub) -> None:
    page = open_chat(new_page, hub, "?lang=de")
    before = len(hub.dialogue.received)
    page.get_by_role("button", name=text("contact_person", "de")).first.click()
    reply = load_locale("de")["human_contact"].split("{contact}")[0].strip()
    expect(page.locator(".msg--bot .msg__text").last).to_contain_text(reply)
    assert [r[1] for r in hub.dialogue.received[before:]] == ["/request_human"]
    # the button press shows as the newcomer's words, not as the payload
    expect(page.locator(".msg--user").last).to_contain_text(text("contact_person", "de"))
    assert page.get_by_text("/request_human").count() == 0


def test_a_case_managers_translated_message_is_labelled_with_the_original(new_page: NewPage, hub: Hub) -> None:
    page = open_chat(new_page, hub, "?lang=ar")
    expect(page.locator("#mode")).to_be_hidden()
    hub.add_agent_message(session_id(page), "Guten Tag, ich bin Frau Weber. Wie kann ich helfen?",
                          {"language": "ar", "text": "مرحباً، أنا السيدة فيبر. كيف يمكنني المساعدة؟"})
    message = page.locator(".msg--agent")
    expect(message.locator(".msg__text")).to_have_text("مرحباً، أنا السيدة فيبر. كيف يمكنني المساعدة؟")
    expect(message).to_have_attribute("dir", "rtl")
    expect(message.locator(".msg__sender")).to_have_text(f"{text('sender_agent', 'ar')} (A. Weber)")
    expect(message.locator(".msg__original")).to_contain_text(text("translated_original", "ar"))
    expect(message.locator(".msg__original-text")).to_have_text("Guten Tag, ich bin Frau Weber. Wie kann ich helfen?")
    expect(message.locator(".msg__original-text")).to_have_attribute("lang", "de")
    expect(page.locator("#mode")).to_have_text(text("handoff_with_human", "ar"))
    # after a reload the history (GET /messages) brings the same status back
    page.reload()
    expect(page.locator(".msg--agent .msg__original-text")).to_be_visible()
    expect(page.locator("#mode")).to_have_text(text("handoff_with_human", "ar"))


def test_messages_sent_during_a_network_drop_arrive_after_it(new_page: NewPage, hub: Hub) -> None:
    page = open_chat(new_page, hub, "?lang=de")
    page.context.set_offline(True)
    hub.add_agent_message(session_id(page), "Sind Sie noch da?", None, mode="human")
    page.wait_for_timeout(500)
    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.locator(".msg--agent", has_text="Sind Sie noch da?")).to_have_count(1)


def test_a_deep_link_asks_its_question(new_page: NewPage, hub: Hub) -> None:
    page = new_page()
    page.goto(f"{hub.url}/?lang=de&q={quote('Wie lange dauert der Kurs?')}")
    expect(page.locator(".msg--bot", has_text="echo: Wie lange dauert der Kurs?")).to_be_visible()


def test_accessibility_basics(new_page: NewPage, hub: Hub) -> None:
    page = open_chat(new_page, hub, "?lang=fa")
    expect(page.locator("html")).to_have_attribute("lang", "fa")
    assert unnamed_controls(page) == []


def unnamed_controls(page: Page) -> list[str]:
    """Buttons without an accessible name and form fields without a label."""
    return list(page.evaluate("""() => {
        const bad = [];
        for (const b of document.querySelectorAll('button')) {
            if (b.closest('[hidden]') || b.hidden) continue;
            const name = (b.getAttribute('aria-label') || b.textContent || '').trim();
            if (!name) bad.push('button ' + b.outerHTML.slice(0, 80));
        }
        for (const f of document.querySelectorAll('input, textarea, select')) {
            const labelled = f.labels.length || f.getAttribute('aria-labelledby') || f.getAttribute('aria-label');
            if (!labelled) bad.push('field ' + f.outerHTML.slice(0, 80));
        }
        if (!document.documentElement.lang || !document.documentElement.dir) bad.push('html lang/dir');
        return bad;
    }"""))


def test_the_privacy_notice_comes_first_and_the_newcomer_can_download_and_delete(new_page: NewPage, hub: Hub) -> None:
    page = open_chat(new_page, hub, "?lang=de")
    expect(page.locator(".msg--bot .msg__text").first).to_contain_text("Datenschutz")
    old = session_id(page)
    with page.expect_download() as download:
        page.get_by_role("button", name=text("privacy_export", "de")).click()
    assert download.value.suggested_filename == "lotse-my-data.json"
    page.get_by_role("button", name=text("privacy_delete", "de")).click()
    confirm = page.get_by_role("alertdialog")
    expect(confirm).to_contain_text(text("privacy_delete_confirm", "de"))
    confirm.get_by_role("button", name=text("privacy_delete", "de")).click()
    expect(page.locator("#status")).to_have_text(text("privacy_deleted", "de"))
    assert session_id(page) not in (old, "None")
    assert page.request.get(f"{hub.url}/api/v1/sessions/{old}/messages").status == 404
