"""Yes and no only mean something in context: here, whether a person was just offered."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher


class ActionReplyYesNo(Action):
    def name(self) -> str:
        return "action_reply_yes_no"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if tracker.get_slot("handoff_offered") and intent == "affirm":
            # The hand-off form asks for consent before anything is passed on.
            return [SlotSet("handoff_offered", False), FollowupAction("handoff_form")]
        dispatcher.utter_message(json_message={"say": "ask_anything", "buttons": "topics"})
        return [SlotSet("handoff_offered", False)]
