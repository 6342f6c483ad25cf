"""Switch the conversation's language on request (button, /language, or "Arabic please")."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.context import entity
from lotse.language_names import find_language
from lotse.languages import normalise


class ActionChooseLanguage(Action):
    def name(self) -> str:
        return "action_choose_language"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        code = normalise(entity(tracker, "language"))
        if code is None:
            code = find_language(tracker.latest_message.get("text") or "")
        if code is None:
            dispatcher.utter_message(json_message={"say": "choose_language", "buttons": "languages"})
            return []
        # The hub applies set_language before rendering, so the confirmation is already in it.
        dispatcher.utter_message(json_message={"set_language": code, "say": "language_set", "buttons": "topics"})
        return []
