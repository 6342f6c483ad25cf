"""Custom actions turn the tracker into message keys or knowledge answers for the hub."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answer_question import ActionAnswerQuestion
from actions.choose_language import ActionChooseLanguage
from actions.yes_no import ActionReplyYesNo


def tracker(text: str, intent: str, language: str = "de", entities: list[dict[str, Any]] | None = None,
            slots: dict[str, Any] | None = None) -> Tracker:
    return Tracker(
        sender_id="s", slots=slots or {}, latest_message={
            "text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": entities or [],
            "metadata": {"language": language, "region": None, "channel": "web"},
        },
        events=[], paused=False, followup_action=None, active_loop={}, latest_action_name=None,
    )


def run(action: Any, t: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = action.run(dispatcher, t, {})
    return [m.get("custom") or m for m in dispatcher.messages], events


def test_language_named_in_free_text_is_chosen() -> None:
    messages, _ = run(ActionChooseLanguage(), tracker("auf Arabisch bitte", "choose_language"))
    assert messages == [{"set_language": "ar", "say": "language_set", "buttons": "topics"}]


def test_language_entity_from_a_button_wins() -> None:
    t = tracker('/choose_language{"language":"uk"}', "choose_language",
                entities=[{"entity": "language", "value": "uk"}])
    messages, _ = run(ActionChooseLanguage(), t)
    assert messages[0]["set_language"] == "uk"


def test_without_a_language_the_picker_is_shown() -> None:
    messages, _ = run(ActionChooseLanguage(), tracker("andere Sprache", "choose_language"))
    assert messages == [{"say": "choose_language", "buttons": "languages"}]


def test_yes_after_an_offer_reaches_a_person_and_yes_otherwise_does_not() -> None:
    messages, events = run(ActionReplyYesNo(), tracker("ja", "affirm", slots={"handoff_offered": True}))
    # Yes starts the hand-off form, which asks for consent before anything is passed on.
    assert messages == [] and any(e.get("event") == "followup" and e.get("name") == "handoff_form" for e in events)
    messages, _ = run(ActionReplyYesNo(), tracker("ja", "affirm", slots={"handoff_offered": False}))
    assert messages[0]["say"] == "ask_anything"


def test_question_is_answered_with_sources_in_the_askers_language() -> None:
    messages, _events = run(ActionAnswerQuestion(), tracker("Was kostet die Einbürgerung?", "ask_question"))
    assert "255" in messages[0]["text"] and messages[0]["language"] == "de"
    assert messages[0]["sources"]


def test_topic_button_gives_the_topic_overview() -> None:
    t = tracker('/ask_question{"topic":"school"}', "ask_question", language="ar",
                entities=[{"entity": "topic", "value": "school"}])
    messages, _ = run(ActionAnswerQuestion(), t)
    assert messages[0]["entry_id"] == "school-overview" and messages[0]["language"] == "ar"


def test_off_topic_is_refused_with_topic_buttons() -> None:
    messages, _events = run(ActionAnswerQuestion(), tracker("Wer hat gestern beim Fußball gewonnen?", "out_of_scope"))
    assert messages == [{"say": "out_of_scope", "buttons": "topics"}]
