"""The hand-off form: consent first, then a few short, skippable questions.

Every step is a Rasa form slot filled *from the text* of the next message, so a pressed button
(``/inform{"value": "Goch"}``), the same payload typed, and a free answer all work. Validation
turns that text into a value; nothing is shared before a clear yes (GDPR Art. 6/9). The hub
creates the case from the ``handoff`` directive of the submit action.
"""

from __future__ import annotations

import json
import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.context import context_of
from knowledge.model import CHAT_TOPICS, load_knowledge
from lotse.languages import LANGUAGES

FORM = "handoff_form"
SKIP = "__skip__"
CANCEL = "__cancel__"
SLOTS = ("handoff_consent", "handoff_town", "handoff_topic", "handoff_contact", "handoff_contact_detail",
         "handoff_interpreter", "handoff_situation")
CONTACT_WAYS = ("chat", "phone", "email")
MAX_FREE_TEXT = 500
_PHONE = re.compile(r"^\+?[0-9][0-9 ()/.-]{5,24}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,24}$")


def inform(value: str) -> str:
    return "/inform" + json.dumps({"value": value}, ensure_ascii=False)


def button(payload_value: str, *, key: str | None = None, title: str | None = None,
           args: dict[str, str] | None = None) -> dict[str, Any]:
    """A button for the hub to render: a locale ``key`` (translated there) or a literal ``title``."""
    item: dict[str, Any] = {"payload": inform(payload_value)}
    if key:
        item["key"] = key
        if args:
            item["args"] = args
    else:
        item["title"] = title
    return item


SKIP_BUTTON = button(SKIP, key="skip")
CANCEL_BUTTON = button(CANCEL, key="cancel")


def answer_of(tracker: Tracker, slot_value: Any) -> str:
    """What the newcomer chose or wrote: a button's value, else their own words."""
    value = next(tracker.get_latest_entity_values("value"), None)
    if value is not None:
        return str(value).strip()
    return str(slot_value or "").strip()[:MAX_FREE_TEXT]


def municipalities(region: str | None) -> list[str]:
    regions = load_knowledge().regions
    return list(regions[region].municipalities) if region in regions else []


def find_town(text: str) -> str | None:
    """A municipality of any region named in the text, in its official spelling."""
    folded = text.casefold()
    for region in load_knowledge().regions.values():
        for town in region.municipalities:
            if town.casefold() == folded or re.search(rf"\b{re.escape(town.casefold())}\b", folded):
                return town
    return None


class ValidateHandoffForm(FormValidationAction):
    def name(self) -> str:
        return "validate_handoff_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        if tracker.get_slot("handoff_consent") in ("no", CANCEL) or CANCEL in (
            tracker.get_slot(s) for s in SLOTS
        ):
            return []  # declined or cancelled: the form ends, nothing is passed on
        slots = [s for s in domain_slots if s != "handoff_contact_detail"]
        if context_of(tracker).language == "de":
            slots.remove("handoff_interpreter")  # staff speak German: no interpreter question
        if tracker.get_slot("handoff_contact") in ("phone", "email"):
            slots.insert(slots.index("handoff_contact") + 1, "handoff_contact_detail")
        return slots

    def _cancelled(self, answer: str) -> dict[str, Any] | None:
        return {"handoff_consent": CANCEL} if answer == CANCEL else None

    def validate_handoff_consent(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        # Only a clear yes is consent; anything else (no, a question, silence) shares nothing.
        return {"handoff_consent": "yes" if intent == "affirm" else "no"}

    def validate_handoff_town(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        answer = answer_of(tracker, slot_value)
        if cancelled := self._cancelled(answer):
            return cancelled
        if answer == SKIP or not answer:
            return {"handoff_town": SKIP}
        return {"handoff_town": find_town(answer) or answer[:128]}

    def validate_handoff_topic(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        answer = answer_of(tracker, slot_value)
        if cancelled := self._cancelled(answer):
            return cancelled
        return {"handoff_topic": answer if answer in (*CHAT_TOPICS, "other") else SKIP if answer == SKIP else "other"}

    def validate_handoff_contact(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        answer = answer_of(tracker, slot_value)
        if cancelled := self._cancelled(answer):
            return cancelled
        if answer in CONTACT_WAYS:
            return {"handoff_contact": answer}
        if _EMAIL.match(answer):  # typed the address straight away
            return {"handoff_contact": "email", "handoff_contact_detail": answer}
        if _PHONE.match(answer):
            return {"handoff_contact": "phone", "handoff_contact_detail": answer}
        return {"handoff_contact": "chat"}

    def validate_handoff_contact_detail(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        answer = answer_of(tracker, slot_value)
        if cancelled := self._cancelled(answer):
            return cancelled
        if answer == SKIP:
            return {"handoff_contact": "chat", "handoff_contact_detail": SKIP}
        way = tracker.get_slot("handoff_contact")
        pattern = _EMAIL if way == "email" else _PHONE
        if pattern.match(answer):
            return {"handoff_contact_detail": answer}
        dispatcher.utter_message(json_message={"say": f"handoff_invalid_{way}"})
        return {"handoff_contact_detail": None}  # asked again

    def validate_handoff_interpreter(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        answer = answer_of(tracker, slot_value)
        if cancelled := self._cancelled(answer):
            return cancelled
        if answer in ("none", SKIP):
            return {"handoff_interpreter": answer}
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent == "deny":
            return {"handoff_interpreter": "none"}
        return {"handoff_interpreter": context_of(tracker).language}

    def validate_handoff_situation(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        answer = answer_of(tracker, slot_value)
        if cancelled := self._cancelled(answer):
            return cancelled
        return {"handoff_situation": answer or SKIP}


class _Ask(Action):
    """Asks one step of the form; ``say`` and buttons only, the hub renders the words."""

    slot = ""

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    def buttons(self, tracker: Tracker) -> list[dict[str, Any]]:
        return [SKIP_BUTTON, CANCEL_BUTTON]

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(json_message={"say": f"ask_{self.slot}", "buttons": self.buttons(tracker)})
        return []


class AskConsent(_Ask):
    slot = "handoff_consent"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        # {office} and {retention_days} are filled by the hub, which knows the region and policy.
        dispatcher.utter_message(json_message={"say": "ask_handoff_consent", "buttons": "yes_no"})
        return []


class AskTown(_Ask):
    slot = "handoff_town"

    def buttons(self, tracker: Tracker) -> list[dict[str, Any]]:
        towns = [button(town, title=town) for town in municipalities(context_of(tracker).region)]
        return [*towns, SKIP_BUTTON, CANCEL_BUTTON]


class AskTopic(_Ask):
    slot = "handoff_topic"

    def buttons(self, tracker: Tracker) -> list[dict[str, Any]]:
        topics = [button(topic, key=f"topic_{topic}") for topic in (*CHAT_TOPICS, "other")]
        return [*topics, SKIP_BUTTON, CANCEL_BUTTON]


class AskContact(_Ask):
    slot = "handoff_contact"

    def buttons(self, tracker: Tracker) -> list[dict[str, Any]]:
        return [*(button(way, key=f"contact_{way}") for way in CONTACT_WAYS), CANCEL_BUTTON]


class AskContactDetail(_Ask):
    slot = "handoff_contact_detail"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        way = tracker.get_slot("handoff_contact")
        dispatcher.utter_message(json_message={"say": f"ask_handoff_{way}", "buttons": [SKIP_BUTTON, CANCEL_BUTTON]})
        return []


class AskInterpreter(_Ask):
    slot = "handoff_interpreter"

    def buttons(self, tracker: Tracker) -> list[dict[str, Any]]:
        language = context_of(tracker).language
        return [
            button(language, key="interpreter_yes", args={"language": LANGUAGES[language].native}),
            button("none", key="interpreter_no"),
            CANCEL_BUTTON,
        ]


class AskSituation(_Ask):
    slot = "handoff_situation"


class ActionSubmitHandoff(Action):
    def name(self) -> str:
        return "action_submit_handoff"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        values = {slot: tracker.get_slot(slot) for slot in SLOTS}
        reset: list[EventType] = [SlotSet(slot, None) for slot in SLOTS]
        reset.append(SlotSet("handoff_offered", False))
        if values["handoff_consent"] != "yes" or CANCEL in values.values():
            dispatcher.utter_message(json_message={"say": "handoff_declined", "buttons": "topics"})
            return reset

        def kept(slot: str) -> str | None:
            value = values[slot]
            return None if value in (None, SKIP) else str(value)

        details = {
            "town": kept("handoff_town"),
            "topic": kept("handoff_topic"),
            "contact": kept("handoff_contact") or "chat",
            "contact_detail": kept("handoff_contact_detail"),
            "interpreter": kept("handoff_interpreter"),
            "situation": kept("handoff_situation"),
        }
        # The hub creates the case, routes it and tells the newcomer who answers and when.
        dispatcher.utter_message(json_message={"handoff": details})
        return [*reset, ConversationPaused()]
