"""After the emergency numbers, offer a person right away."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher


class ActionCrisisFollowup(Action):
    def name(self) -> str:
        return "action_crisis_followup"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        dispatcher.utter_message(json_message={"say": "handoff_offer", "buttons": "yes_no"})
        return [SlotSet("handoff_offered", True)]
