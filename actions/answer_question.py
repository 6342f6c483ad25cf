"""Answer a question from the curated knowledge base, or say honestly that we don't know."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.context import context_of, entity
from knowledge.answer import Answer, get_answerer
from knowledge.model import CHAT_TOPICS, overview_id

# When NLU itself calls a message off-topic, only a clearly matching entry overrides it.
OFF_TOPIC_OVERRIDE = 0.75


def answer_message(answer: Answer) -> dict[str, Any]:
    return {
        "text": answer.answer,
        "language": answer.language,
        "sources": answer.sources,
        "entry_id": answer.entry_id,
        "confidence": round(answer.confidence, 3),
        "topic": answer.topic,
        "urgency": answer.urgency,
    }


class ActionAnswerQuestion(Action):
    def name(self) -> str:
        return "action_answer_question"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        ctx = context_of(tracker)
        answerer = get_answerer()
        topic = entity(tracker, "topic")
        if topic in CHAT_TOPICS:
            answer = answerer.answer_entry(overview_id(topic), ctx.language, ctx.region)
        else:
            text = tracker.latest_message.get("text") or ""
            answer = answerer.answer(text, language=ctx.language, region=ctx.region)
            intent = (tracker.latest_message.get("intent") or {}).get("name")
            if intent == "out_of_scope" and answer.confidence < OFF_TOPIC_OVERRIDE:
                answer.out_of_scope = True
                answer.answer = None

        if answer.out_of_scope:
            dispatcher.utter_message(json_message={"say": "out_of_scope", "buttons": "topics"})
            return [SlotSet("handoff_offered", False)]
        if answer.answer is None:
            dispatcher.utter_message(json_message={"say": "clarify", "buttons": "topics"})
            dispatcher.utter_message(json_message={"say": "handoff_offer", "buttons": "yes_no"})
            return [SlotSet("handoff_offered", True)]
        dispatcher.utter_message(json_message=answer_message(answer))
        if answer.handoff_offered:
            dispatcher.utter_message(json_message={"say": "handoff_offer", "buttons": "yes_no"})
            return [SlotSet("handoff_offered", True)]
        return [SlotSet("handoff_offered", False)]
