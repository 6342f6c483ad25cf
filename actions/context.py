"""What an action needs to know about the conversation beyond the last message."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rasa_sdk import Tracker

from lotse.languages import DEFAULT_LANGUAGE, normalise


@dataclass(frozen=True)
class Context:
    language: str
    region: str | None
    channel: str | None


def context_of(tracker: Tracker) -> Context:
    """Language and region come from the hub with every message (metadata), not from slots:
    the hub owns the conversation and may switch language between two messages."""
    metadata: dict[str, Any] = (tracker.latest_message or {}).get("metadata") or {}
    return Context(
        language=normalise(metadata.get("language")) or DEFAULT_LANGUAGE,
        region=metadata.get("region") or None,
        channel=metadata.get("channel") or None,
    )


def entity(tracker: Tracker, name: str) -> str | None:
    value = next(tracker.get_latest_entity_values(name), None)
    return str(value) if value else None
