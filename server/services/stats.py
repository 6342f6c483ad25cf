"""Privacy-free tallies for the coordination report, and the curated list of systematic challenges.

Why tallies and not queries over messages: conversations (and their cases) are deleted after
``retention_days`` by the retention job (:mod:`server.services.privacy`), yet the monthly report
for, say, March must show the same figures in July. So the figures are counted *when things
happen* and kept apart from the conversations: one :class:`~server.models.UsageCount` row per
event, carrying only a day and categories (region, town, channel, language, team, topic, kind),
never a session id, case id, name or text. Deleting a conversation, by the retention job or at
the newcomer's request, leaves the tallies as they are: they cannot be traced back to anyone.

Where the counting hooks sit:

* :func:`record_exchange` is a :data:`~server.services.conversation.ExchangeObserver`, registered
  in ``create_app``: the first message of a conversation, and every question the bot answered
  from the knowledge base, asked back on ("clarify") or declined as off topic ("out_of_scope").
* :class:`~server.services.cases.CaseService` calls :func:`record_handoff`,
  :func:`record_first_reply` and :func:`record_closed`; the retention job calls
  :func:`record_closed` for the cases it closes as ``no_response``.

Each hook runs inside the transaction of the event it counts, so a tally is committed together
with the event, or not at all. A row keeps only the categories the report shows for its kind
(e.g. a hand-off: reason, town, team, topic, but not the language), so that even the table
itself does not describe one newcomer ("Tigrinya, Kevelaer, residence, 3 March").
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy.orm import Session

from lotse.paths import ROOT
from server.models import Case, CaseChallenge, ChatSession, Message, UsageCount, utcnow

REPORT_TZ = ZoneInfo("Europe/Berlin")  # a day (and so a month) is a day in NRW, not in UTC
CHALLENGES_DIR = ROOT / "config" / "challenges"
QUESTION_KEYS = ("answered", "clarify", "out_of_scope")
_TAG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class ChallengeError(ValueError):
    """A tag that is not on the region's list, or a list file that is wrong."""


def local_day(at: datetime | None = None) -> str:
    """The day (YYYY-MM-DD) in NRW of a moment: what the report groups by."""
    at = at or utcnow()
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(REPORT_TZ).date().isoformat()


def _add(db: Session, metric: str, at: datetime | None = None, *, key: str = "", region: str | None = None,
         town: str | None = None, channel: str | None = None, language: str | None = None,
         team: str | None = None, topic: str | None = None, value: int | None = None) -> None:
    db.add(UsageCount(day=local_day(at), metric=metric, key=key[:32], region=(region or "")[:64],
                      town=(town or "")[:128], channel=(channel or "")[:16], language=(language or "")[:8],
                      team=(team or "")[:64], topic=(topic or "")[:32], value=value, count=1))


def _meta(message: Message) -> dict[str, Any]:
    meta = (message.payload or {}).get("meta")
    return meta if isinstance(meta, dict) else {}


def question_result(replies: list[Message]) -> tuple[str, str | None] | None:
    """How the bot dealt with a message: (answered|clarify|out_of_scope, topic), or None if no question.

    A question is any message the bot answered with a knowledge entry, or met with "please say
    more" (clarify) or "that is not what I can help with" (out_of_scope); greetings, language
    choices, form answers and outage apologies are not questions.
    """
    for reply in replies:
        meta = _meta(reply)
        if meta.get("entry_id"):
            topic = meta.get("topic")
            return "answered", str(topic) if topic else None
    for reply in replies:
        key = _meta(reply).get("key")
        if key in ("clarify", "out_of_scope"):
            return str(key), None
    return None


def record_exchange(db: Session, chat: ChatSession, user_message: Message, replies: list[Message]) -> None:
    """Observer of every exchange with the bot: count new conversations and questions."""
    at = user_message.created_at
    if user_message.seq == 1:  # the first message of a conversation (seq numbers every message)
        _add(db, "conversation", at, region=chat.region, channel=chat.channel, language=chat.language)
    result = question_result(replies)
    if result is not None:
        _add(db, "question", at, key=result[0], topic=result[1], region=chat.region)


def record_handoff(db: Session, case: Case) -> None:
    """A new case: why (reason), where (town), to whom (team), on what (topic); not its language."""
    _add(db, "handoff", case.created_at, key=case.reason, region=case.region, town=case.town, team=case.team,
         topic=case.topic)


def record_first_reply(db: Session, case: Case) -> None:
    """The first reply of a person on a case: how long the newcomer waited, in seconds."""
    if case.first_reply_at is None:
        return
    waited = _aware(case.first_reply_at) - _aware(case.created_at or case.first_reply_at)
    _add(db, "first_reply", case.first_reply_at, region=case.region, value=max(0, int(waited.total_seconds())))


def record_closed(db: Session, case: Case, challenges: list[str] | tuple[str, ...] = ()) -> None:
    """A closed case: its outcome, and the systematic challenges the case manager tagged."""
    at = case.closed_at or utcnow()
    _add(db, "outcome", at, key=case.outcome or "other", region=case.region)
    for tag in dict.fromkeys(challenges):
        db.add(CaseChallenge(tag=tag, day=local_day(at), region=(case.region or "")[:64],
                             town=(case.town or "")[:128], team=case.team[:64]))


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# -- the curated list of systematic challenges ------------------------------------------------------

def challenges_dir() -> Path:
    """``LOTSE_CHALLENGES_DIR``, so an installation keeps its lists outside the checkout."""
    return Path(os.environ.get("LOTSE_CHALLENGES_DIR") or CHALLENGES_DIR)


@lru_cache(maxsize=64)
def _load(path: Path) -> dict[str, str]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ChallengeError(f"{path}: {exc}") from exc
    tags = data.get("challenges") if isinstance(data, dict) else None
    if not isinstance(tags, dict) or not tags:
        raise ChallengeError(f"{path}: expected a non-empty mapping 'challenges: {{id: label}}'")
    out: dict[str, str] = {}
    for tag, label in tags.items():
        if not isinstance(tag, str) or not _TAG.match(tag) or not isinstance(label, str) or not label.strip():
            raise ChallengeError(f"{path}: bad entry {tag!r}: ids are lower-case letters, digits, - and _")
        out[tag] = label.strip()
    return out


def challenge_tags(region: str | None) -> dict[str, str]:
    """The tags case managers of a region choose from: its own file, else ``default.yml``."""
    directory = challenges_dir()
    own = directory / f"{region}.yml" if region else None
    return dict(_load(own if own is not None and own.exists() else directory / "default.yml"))


def all_challenge_labels() -> dict[str, str]:
    """Labels of every tag of every list (the coordination view shows tags of all regions)."""
    labels: dict[str, str] = {}
    for path in sorted(challenges_dir().glob("*.yml")):
        for tag, label in _load(path).items():
            labels.setdefault(tag, label)
    return labels


def valid_challenges(region: str | None, tags: list[str] | tuple[str, ...] | None) -> list[str]:
    """The tags, checked against the region's list (unknown ones are refused, not silently dropped)."""
    allowed = challenge_tags(region)
    chosen = [t for t in dict.fromkeys(tags or []) if t]
    unknown = [t for t in chosen if t not in allowed]
    if unknown:
        raise ChallengeError(f"unknown challenge tag(s): {', '.join(unknown)[:200]}; see config/challenges")
    return chosen
