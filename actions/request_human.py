"""Put the newcomer in touch with a person at the Welcome Center."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher


class ActionRequestHuman(Action):
    def name(self) -> str:
        return "action_request_human"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        # The hub fills {contact} with the Welcome Center of the conversation's region.
        dispatcher.utter_message(json_message={"say": "human_contact"})
        return [SlotSet("handoff_offered", False)]
