"""The hand-off form: nothing without a clear yes, every detail skippable, buttons or free words."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff_form import (
    CANCEL,
    SKIP,
    ActionSubmitHandoff,
    AskInterpreter,
    AskTown,
    ValidateHandoffForm,
    inform,
)

FORM_SLOTS = ["handoff_consent", "handoff_town", "handoff_topic", "handoff_contact", "handoff_contact_detail",
              "handoff_interpreter", "handoff_situation"]


def tracker(text: str, intent: str = "ask_question", language: str = "ar", region: str | None = "kreis-kleve",
            slots: dict[str, Any] | None = None) -> Tracker:
    entities = []
    if text.startswith("/inform"):
        import json

        entities = [{"entity": "value", "value": json.loads(text[len("/inform"):])["value"]}]
        intent = "inform"
    return Tracker(
        sender_id="s", slots=slots or {}, latest_message={
            "text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": entities,
            "metadata": {"language": language, "region": region, "channel": "web"},
        },
        events=[], paused=False, followup_action=None, active_loop={"name": "handoff_form"}, latest_action_name=None,
    )


FORM = ValidateHandoffForm()
D = CollectingDispatcher()


def test_only_a_clear_yes_is_consent() -> None:
    assert FORM.validate_handoff_consent("نعم", D, tracker("نعم", "affirm"), {}) == {"handoff_consent": "yes"}
    assert FORM.validate_handoff_consent("لا", D, tracker("لا", "deny"), {}) == {"handoff_consent": "no"}
    # A question instead of an answer is not consent either.
    assert FORM.validate_handoff_consent("wie lange dauert das?", D, tracker("x"), {}) == {"handoff_consent": "no"}


def test_declining_or_cancelling_ends_the_form_and_nothing_is_passed_on() -> None:
    for slots in ({"handoff_consent": "no"}, {"handoff_consent": "yes", "handoff_town": CANCEL}):
        assert asyncio.run(FORM.required_slots(FORM_SLOTS, D, tracker("x", slots=slots), {})) == []
        dispatcher = CollectingDispatcher()
        events = ActionSubmitHandoff().run(dispatcher, tracker("x", slots=slots), {})
        assert dispatcher.messages[0]["custom"]["say"] == "handoff_declined"
        assert not any(e.get("event") == "pause" for e in events)


def test_town_from_a_button_or_free_words() -> None:
    assert FORM.validate_handoff_town(None, D, tracker(inform("Goch")), {}) == {"handoff_town": "Goch"}
    assert FORM.validate_handoff_town("ich wohne in kevelaer", D, tracker("ich wohne in kevelaer"), {}) == {
        "handoff_town": "Kevelaer"}
    assert FORM.validate_handoff_town(None, D, tracker(inform(SKIP)), {}) == {"handoff_town": SKIP}
    assert FORM.validate_handoff_town(None, D, tracker(inform(CANCEL)), {}) == {"handoff_consent": CANCEL}


def test_the_town_buttons_are_the_regions_municipalities() -> None:
    dispatcher = CollectingDispatcher()
    AskTown().run(dispatcher, tracker("x"), {})
    buttons = dispatcher.messages[0]["custom"]["buttons"]
    titles = [b.get("title") for b in buttons]
    assert "Goch" in titles and "Kleve" in titles and len(titles) == 16 + 2
    assert buttons[0]["payload"].startswith("/inform{")


def test_contact_detail_is_asked_only_for_phone_or_email_and_checked() -> None:
    slots = {"handoff_consent": "yes", "handoff_contact": "phone"}
    required = asyncio.run(FORM.required_slots(FORM_SLOTS, D, tracker("x", slots=slots), {}))
    assert "handoff_contact_detail" in required
    chat_only = asyncio.run(FORM.required_slots(
        FORM_SLOTS, D, tracker("x", slots={"handoff_consent": "yes", "handoff_contact": "chat"}), {}))
    assert "handoff_contact_detail" not in chat_only
    dispatcher = CollectingDispatcher()
    assert FORM.validate_handoff_contact_detail("keine ahnung", dispatcher, tracker("keine ahnung", slots=slots),
                                                {}) == {"handoff_contact_detail": None}
    assert dispatcher.messages[0]["custom"]["say"] == "handoff_invalid_phone"
    assert FORM.validate_handoff_contact_detail("0176 1234567", D, tracker("0176 1234567", slots=slots), {}) == {
        "handoff_contact_detail": "0176 1234567"}
    # An e-mail address typed at the "how to reach you" step is understood at once.
    assert FORM.validate_handoff_contact("a.b@example.org", D, tracker("a.b@example.org"), {}) == {
        "handoff_contact": "email", "handoff_contact_detail": "a.b@example.org"}


def test_no_interpreter_question_in_german_and_the_offer_names_the_language() -> None:
    german = asyncio.run(FORM.required_slots(FORM_SLOTS, D, tracker("x", language="de",
                                                                    slots={"handoff_consent": "yes"}), {}))
    assert "handoff_interpreter" not in german
    dispatcher = CollectingDispatcher()
    AskInterpreter().run(dispatcher, tracker("x", language="uk"), {})
    first = dispatcher.messages[0]["custom"]["buttons"][0]
    assert first["key"] == "interpreter_yes" and first["args"] == {"language": "Українська"}


def test_submit_hands_over_the_answers_and_pauses_the_bot() -> None:
    slots = {"handoff_consent": "yes", "handoff_town": "Goch", "handoff_topic": "school",
             "handoff_contact": "chat", "handoff_interpreter": "ar", "handoff_situation": SKIP}
    dispatcher = CollectingDispatcher()
    events = ActionSubmitHandoff().run(dispatcher, tracker("x", slots=slots), {})
    handoff = dispatcher.messages[0]["custom"]["handoff"]
    assert handoff == {"town": "Goch", "topic": "school", "contact": "chat", "contact_detail": None,
                       "interpreter": "ar", "situation": None}
    assert any(e.get("event") == "pause" for e in events)
    assert {"event": "slot", "name": "handoff_consent", "value": None, "timestamp": None} in events
