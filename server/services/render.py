"""Turn Rasa's dialogue moves into messages in the conversation's language.

Rasa answers with *keys* (``{"say": "greet", "buttons": "topics"}``) and the action server
with knowledge answers already in the asker's language (``{"text": ..., "sources": [...]}``).
Rendering here keeps every fixed text in the locale files and lets a language switch take
effect in the very reply that confirms it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from knowledge.model import CHAT_TOPICS
from lotse.i18n import t
from lotse.languages import LANGUAGES


@dataclass
class OutMessage:
    text: str
    language: str
    buttons: list[dict[str, str]] = field(default_factory=list)
    sources: list[dict[str, str]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)


def payload(intent: str, **entities: str) -> str:
    """Rasa's ``/intent{"entity": "value"}`` form, which also works when typed as text."""
    return f"/{intent}{json.dumps(entities, ensure_ascii=False)}" if entities else f"/{intent}"


def button_list(items: list[Any], lang: str) -> list[dict[str, str]]:
    """Buttons an action built itself: a locale ``key`` (with ``args``) or a literal ``title``."""
    buttons = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("payload"), str):
            continue
        if item.get("key"):
            title = t(str(item["key"]), lang, **{str(k): str(v) for k, v in (item.get("args") or {}).items()})
        else:
            title = str(item.get("title") or "")
        if title:
            buttons.append({"title": title, "payload": item["payload"]})
    return buttons


def button_set(name: Any, lang: str) -> list[dict[str, str]]:
    if isinstance(name, list):
        return button_list(name, lang)
    if name == "topics":
        buttons = [
            {"title": t(f"topic_{topic}", lang), "payload": payload("ask_question", topic=topic)}
            for topic in CHAT_TOPICS
        ]
        return [*buttons, {"title": t("contact_person", lang), "payload": payload("request_human")}]
    if name == "languages":
        return [
            {"title": language.native, "payload": payload("choose_language", language=code)}
            for code, language in LANGUAGES.items()
        ]
    if name == "yes_no":
        return [
            {"title": t("yes", lang), "payload": payload("affirm")},
            {"title": t("no", lang), "payload": payload("deny")},
        ]
    return []


@dataclass
class Rendered:
    messages: list[OutMessage]
    language: str
    handoff: dict[str, Any] | None = None  # the hand-off form's answers: the hub creates a case


def render(bot_messages: list[dict[str, Any]], language: str, args: dict[str, str]) -> Rendered:
    """Render Rasa's output; ``set_language`` directives switch ``language`` for what follows.

    ``args`` fills the placeholders only the hub knows (``contact``, ``office``, ``retention_days``).
    """
    out: list[OutMessage] = []
    handoff: dict[str, Any] | None = None
    for raw in bot_messages:
        custom = raw.get("custom") if isinstance(raw.get("custom"), dict) else None
        if custom is None:
            # A plain Rasa text response (not used by our domain, but never drop a reply).
            if raw.get("text"):
                out.append(OutMessage(text=str(raw["text"]), language=language))
            continue
        if isinstance(custom.get("handoff"), dict):
            handoff = custom["handoff"]
        new_language = custom.get("set_language")
        if isinstance(new_language, str) and new_language in LANGUAGES:
            language = new_language
        buttons = button_set(custom.get("buttons", ""), language)
        if custom.get("say"):
            say_args = {**args, **(custom.get("args") or {})}
            out.append(OutMessage(text=t(str(custom["say"]), language, **say_args), language=language,
                                  buttons=buttons, meta={"key": custom["say"]}))
        elif custom.get("text"):
            meta = {k: custom[k] for k in ("entry_id", "confidence", "topic", "urgency") if k in custom}
            out.append(
                OutMessage(
                    text=str(custom["text"]),
                    language=str(custom.get("language") or language),
                    buttons=buttons,
                    sources=[
                        {"id": str(s.get("id", "")), "title": str(s.get("title", "")),
                         "url": str(s.get("url", ""))}
                        for s in custom.get("sources") or []
                        if isinstance(s, dict)
                    ],
                    meta=meta,
                )
            )
    return Rendered(messages=out, language=language, handoff=handoff)
