"""Cases: a newcomer handed to a person, from the consent to the closing outcome.

The case manager never starts over: a case carries the form's answers, a summary of what the
bot already answered (with sources), and the whole transcript. While a case is open the bot is
silent (Rasa is paused); on close Rasa is resumed and the bot answers again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.model import load_knowledge
from lotse.i18n import t
from server.core.config import Settings
from server.models import Case, CaseNote, ChatSession, Message, User, utcnow
from server.services import stats
from server.services.dialogue import DialogueUnavailable
from server.services.notify import Notifier
from server.services.render import OutMessage
from server.services.routing import RoutingTable, routing_for
from server.services.transcript import Transcript, translation_of
from server.services.users import can_see_team, in_district

log = logging.getLogger(__name__)

OUTCOMES = ("answered", "referred", "appointment", "no_response", "handed_back", "other")
TOPIC_LABELS = {"residence": "Aufenthalt", "school": "Schule", "language_courses": "Sprachkurse",
                "naturalisation": "Einbürgerung", "other": "Sonstiges"}
CONTACT_LABELS = {"chat": "hier im Chat", "phone": "Telefon", "email": "E-Mail"}
GERMAN_NAMES = {
    "de": "Deutsch", "en": "Englisch", "ar": "Arabisch", "tr": "Türkisch", "uk": "Ukrainisch", "ru": "Russisch",
    "fa": "Persisch (Farsi/Dari)", "ps": "Paschtu", "ku": "Kurdisch (Kurmandschi)", "ckb": "Kurdisch (Sorani)",
    "pl": "Polnisch", "ro": "Rumänisch", "sq": "Albanisch", "hy": "Armenisch", "fr": "Französisch",
    "it": "Italienisch", "nl": "Niederländisch", "pt": "Portugiesisch", "so": "Somali", "ur": "Urdu",
    "mn": "Mongolisch", "ti": "Tigrinya", "es": "Spanisch",
}
REASON_LABELS = {"request": "auf Wunsch", "urgent_topic": "dringendes Thema", "crisis": "Notlage",
                 "low_confidence": "Bot unsicher"}


class CaseError(LookupError):
    pass


class CaseForbidden(PermissionError):
    pass


def current_translator() -> Any:
    try:
        from server.services.translation import get_translator
    except ImportError:  # pragma: no cover - the module is part of the app; the extra may be missing
        return None
    return get_translator()


def translate(text: str, source: str | None, target: str) -> str | None:
    """A translation, or None when no package covers the pair (the console then says so)."""
    if not source or source == target:
        return None
    translator = current_translator()
    return translator.translate(text, source, target) if translator is not None else None


def office_name(region: str | None) -> str:
    regions = load_knowledge().regions
    found = regions.get(region or "") or regions.get("nrw")
    return found.welcome_center.name if found and found.welcome_center else "Welcome Center"


def region_of_town(town: str | None) -> str | None:
    """The region whose municipalities include ``town`` (official spelling, as the form stores it)."""
    if not town:
        return None
    folded = town.casefold()
    for region_id, region in sorted(load_knowledge().regions.items()):
        if any(m.casefold() == folded for m in region.municipalities):
            return region_id
    return None


def _bot_meta(message: Message) -> dict[str, Any]:
    meta = (message.payload or {}).get("meta")
    return meta if isinstance(meta, dict) else {}


def reason_and_urgency(messages: Sequence[Message]) -> tuple[str, str]:
    """Why the hand-off happened and how urgent it is, read from what the bot said."""
    keys = [_bot_meta(m).get("key") for m in messages if m.sender == "bot"]
    urgent = any(_bot_meta(m).get("urgency") == "urgent" for m in messages if m.sender == "bot")
    if "crisis" in keys:
        return "crisis", "urgent"
    last_offer = max((i for i, k in enumerate(keys) if k == "handoff_offer"), default=None)
    if last_offer is not None and last_offer > 0 and keys[last_offer - 1] == "clarify":
        return "low_confidence", "urgent" if urgent else "normal"
    if urgent:
        return "urgent_topic", "urgent"
    return "request", "normal"


def answered_questions(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """The newcomer's questions the bot answered from the knowledge base, with the sources."""
    answered = []
    last_question: str | None = None
    for message in messages:
        if message.sender == "user" and not message.text.startswith("/"):
            last_question = message.text
        elif message.sender == "bot" and _bot_meta(message).get("entry_id"):
            answered.append({
                "question": last_question,
                "entry_id": _bot_meta(message)["entry_id"],
                "sources": (message.payload or {}).get("sources", []),
            })
    return answered


def summary_text(case: Case, details: dict[str, Any], answered: list[dict[str, Any]]) -> str:
    """A few lines for the queue and the case page, in the staff's language (German)."""
    lines = [
        f"Sprache: {GERMAN_NAMES.get(case.language, case.language)} ({case.language})",
        f"Thema: {TOPIC_LABELS.get(case.topic or '', 'nicht angegeben')}",
        f"Ort: {case.town or 'nicht angegeben'}",
        f"Anlass: {REASON_LABELS.get(case.reason, case.reason)}; Dringlichkeit: {case.urgency}",
        f"Kontakt: {CONTACT_LABELS.get(details.get('contact') or 'chat', 'hier im Chat')}"
        + (f" ({details['contact_detail']})" if details.get("contact_detail") else ""),
    ]
    if details.get("interpreter") and details["interpreter"] != "none":
        code = str(details["interpreter"])
        lines.append(f"Dolmetschen gewünscht: {GERMAN_NAMES.get(code, code)}")
    if details.get("situation"):
        lines.append(f"Situation: {details['situation']}")
        if details.get("situation_translation"):
            lines.append(f"Situation (maschinell übersetzt): {details['situation_translation']}")
    if answered:
        lines.append("Bereits vom Bot beantwortet:")
        for item in answered:
            sources = ", ".join(s.get("title") or s.get("url", "") for s in item["sources"] if isinstance(s, dict))
            question = f"„{item['question']}“ → " if item.get("question") else ""
            lines.append(f"- {question}{item['entry_id']}" + (f" (Quellen: {sources})" if sources else ""))
    return "\n".join(lines)


class CaseService:
    def __init__(self, settings: Settings, transcript: Transcript, notifier: Notifier, dialogue: Any,
                 lock: Callable[[str], AbstractContextManager[Any]]) -> None:
        self.lock = lock
        self.settings = settings
        self.transcript = transcript
        self.notifier = notifier
        self.dialogue = dialogue

    # -- the newcomer's side ------------------------------------------------------------------

    def routing(self, chat: ChatSession) -> RoutingTable:
        return routing_for(chat.region or self.settings.welcome_center_region)

    def open_case(self, db: Session, chat: ChatSession) -> Case | None:
        return db.scalar(select(Case).where(Case.session_id == chat.id, Case.status == "open"))

    def create(self, db: Session, chat: ChatSession, details: dict[str, Any], language: str,
               now: datetime | None = None) -> tuple[Case, list[OutMessage]]:
        """Create and route the case; return it and what the newcomer is told (not yet stored)."""
        existing = self.open_case(db, chat)
        if existing is None and chat.region is None:
            # A chat opened without a district (NRW-wide widget, Telegram) joins the district of
            # the town the newcomer named, so that district's staff and routing table take it.
            chat.region = region_of_town(details.get("town"))
        routing = self.routing(chat)
        if existing is not None:
            return existing, [OutMessage(t("handoff_created", language, team=routing.teams[existing.team].name),
                                         language, meta={"key": "handoff_created", "case_id": existing.id})]
        messages = list(db.scalars(select(Message).where(Message.session_id == chat.id).order_by(Message.seq)))
        reason, urgency = reason_and_urgency(messages)
        answered = answered_questions(messages)
        topic = details.get("topic") or next(
            (_bot_meta(m).get("topic") for m in reversed(messages) if _bot_meta(m).get("topic")), None
        )
        if topic not in TOPIC_LABELS:
            topic = "other" if topic else None
        town = details.get("town")
        team = routing.route(topic, town, urgency)
        if details.get("situation"):
            details["situation_translation"] = translate(details["situation"], language, routing.staff_language)
        case = Case(session_id=chat.id, region=chat.region, team=team, language=language, topic=topic, town=town,
                    urgency=urgency, reason=reason, status="open",
                    details={**details, "answered": answered})
        case.summary = summary_text(case, details, answered)
        db.add(case)
        chat.mode = "waiting"
        chat.rasa_paused = True
        db.flush()
        stats.record_handoff(db, case)  # the report's tally, committed with the case
        team_name = routing.teams[team].name
        out = [OutMessage(t("handoff_created", language, team=team_name), language,
                          meta={"key": "handoff_created", "case_id": case.id})]
        opening = routing.next_opening(now or utcnow())
        if opening is not None:
            when = _format_opening(opening, routing.timezone)
            out.append(OutMessage(t("handoff_outside_hours", language, opening=when), language,
                                  meta={"key": "handoff_outside_hours"}))
        return case, out

    def announce(self, case: Case) -> None:
        """After the commit: tell the team's open consoles (and e-mail, when configured)."""
        routing = routing_for(case.region or self.settings.welcome_center_region)
        team = routing.teams.get(case.team)
        self.notifier.new_case(case.id, case.team, team.name if team else case.team,
                               team.email if team else None, case.language, case.urgency, case.region)

    def on_user_message(self, db: Session, chat: ChatSession, message: Message) -> None:
        """A newcomer wrote while a person has the conversation: translate it and tell the console."""
        case = self.open_case(db, chat)
        if case is None:
            return
        staff_language = self.routing(chat).staff_language
        translated = translate(message.text, message.language, staff_language)
        if translated:
            message.payload = {**(message.payload or {}),
                               "translation": {"language": staff_language, "text": translated}}

    def notify_message(self, db: Session, chat: ChatSession, message: Message) -> None:
        case = self.open_case(db, chat)
        if case is not None:
            self.notifier.console(case.team, {"type": "case_message", "case_id": case.id, "seq": message.seq,
                                              "region": case.region})

    # -- the console's side -------------------------------------------------------------------

    def visible_cases(self, db: Session, user: User, status: str | None = "open", team: str | None = None,
                      language: str | None = None, urgency: str | None = None, query: str | None = None,
                      older_than_minutes: int | None = None) -> list[Case]:
        stmt = select(Case).order_by(Case.urgency.desc(), Case.created_at)
        if status:
            stmt = stmt.where(Case.status == status)
        for column, value in ((Case.team, team), (Case.language, language), (Case.urgency, urgency)):
            if value:
                stmt = stmt.where(column == value)
        if user.district is not None:
            stmt = stmt.where(Case.region == user.district)
        cases = [c for c in db.scalars(stmt) if can_see_team(user, c.team)]
        if older_than_minutes is not None:
            now = utcnow()
            cases = [c for c in cases if (now - aware(c.created_at)).total_seconds() >= older_than_minutes * 60]
        if query:
            needle = query.casefold()
            cases = [c for c in cases if needle in f"{c.id} {c.town or ''} {c.summary}".casefold()]
        return cases

    def get(self, db: Session, user: User, case_id: int) -> Case:
        case = db.get(Case, case_id)
        if case is None or not can_see_team(user, case.team) or not in_district(user, case.region):
            # Not "forbidden": a case of another team or district does not exist for this user.
            raise CaseError(case_id)
        return case

    def staff_messages(self, db: Session, case: Case) -> list[dict[str, Any]]:
        """The transcript for staff: the newcomer's words translated where possible, originals beside."""
        staff_language = routing_for(case.region or self.settings.welcome_center_region).staff_language
        out = []
        changed = False
        buttons: dict[str, str] = {}  # payload -> title of the buttons last offered
        for message in db.scalars(select(Message).where(Message.session_id == case.session_id)
                                  .order_by(Message.seq)):
            if message.sender == "bot":
                offered = (message.payload or {}).get("buttons") or []
                if offered:
                    buttons = {str(b.get("payload")): str(b.get("title")) for b in offered if isinstance(b, dict)}
            pressed = buttons.get(message.text) if message.sender == "user" else None
            translation = translation_of(message)
            if (message.sender == "user" and translation is None and message.language
                    and message.language != staff_language and not message.text.startswith("/")):
                translated = translate(message.text, message.language, staff_language)
                if translated:  # remembered, so the next view does not translate again
                    translation = {"language": staff_language, "text": translated}
                    message.payload = {**(message.payload or {}), "translation": translation}
                    changed = True
            shown = translation["text"] if translation and message.sender == "user" else message.text
            out.append({
                "seq": message.seq, "sender": message.sender, "text": shown, "original_text": message.text,
                "language": message.language, "time": aware(message.created_at).isoformat(),
                "translated": bool(translation), "translation": translation,
                "needs_translation": message.sender == "user" and translation is None and bool(message.language)
                and message.language != staff_language and not message.text.startswith("/"),
                "author": (message.payload or {}).get("author"),
                "pressed": pressed,  # the title of the button the newcomer pressed, instead of its payload
            })
        if changed:
            db.commit()
        return out

    @contextmanager
    def _locked(self, db: Session, case: Case) -> Iterator[ChatSession]:
        """The newcomer's conversation, fresh and locked: messages are numbered one at a time."""
        with self.lock(case.session_id):
            # FOR UPDATE: on PostgreSQL other hub instances wait too (SQLite renders no lock clause).
            db.refresh(case.session, with_for_update=True)
            db.refresh(case)
            yield case.session

    def claim(self, db: Session, case: Case, user: User) -> list[Message]:
        with self._locked(db, case) as chat:
            return self._claim(db, case, chat, user)

    def _claim(self, db: Session, case: Case, chat: ChatSession, user: User) -> list[Message]:
        if case.status != "open":
            raise CaseError(case.id)
        if case.claimed_by_id == user.id and chat.mode == "human":
            return []
        case.claimed_by_id = user.id
        case.claimed_at = utcnow()
        chat.mode = "human"
        language = chat.language or case.language
        joined = self.transcript.append(
            db, chat, "system", t("handoff_joined", language, name=user.display_name, office=office_name(case.region)),
            language, {"push": True, "meta": {"key": "handoff_joined"}},
        )
        db.commit()
        self.transcript.publish(chat, joined)
        return [joined]

    def reply(self, db: Session, case: Case, user: User, text: str) -> Message:
        with self._locked(db, case) as chat:
            if case.status != "open":
                raise CaseError(case.id)
            if case.claimed_by_id is None:
                self._claim(db, case, chat, user)
            return self._reply(db, case, chat, user, text)

    def _reply(self, db: Session, case: Case, chat: ChatSession, user: User, text: str) -> Message:
        staff_language = routing_for(case.region or self.settings.welcome_center_region).staff_language
        newcomer_language = chat.language or case.language
        payload: dict[str, Any] = {"author": user.display_name}
        translated = translate(text, staff_language, newcomer_language)
        if translated:
            payload["translation"] = {"language": newcomer_language, "text": translated}
        elif newcomer_language != staff_language:
            payload["untranslated"] = True
        message = self.transcript.append(db, chat, "agent", text, staff_language, payload)
        if case.first_reply_at is None:
            case.first_reply_at = utcnow()
            stats.record_first_reply(db, case)
        db.commit()
        self.transcript.publish(chat, message)
        return message

    def note(self, db: Session, case: Case, user: User, text: str) -> CaseNote:
        note = CaseNote(case_id=case.id, author_id=user.id, text=text)
        db.add(note)
        db.commit()
        return note

    def close(self, db: Session, case: Case, user: User, outcome: str, hand_back: bool = False,
              challenges: Sequence[str] = ()) -> Case:
        """Close the case and give the conversation back to the bot.

        ``challenges``: systematic challenges (tags of config/challenges) the case manager saw;
        counted for the steering group without any link to the case.
        """
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}; use one of {', '.join(OUTCOMES)}")
        tags = stats.valid_challenges(case.region, list(challenges))
        with self._locked(db, case) as chat:
            if case.status == "closed":
                return case
            self._close(db, case, chat, outcome, hand_back, tags)
            self.resume_dialogue(db, chat)
        return case

    def _close(self, db: Session, case: Case, chat: ChatSession, outcome: str, hand_back: bool,
               challenges: Sequence[str] = ()) -> None:
        case.status = "closed"
        case.outcome = outcome
        case.closed_at = utcnow()
        stats.record_closed(db, case, list(challenges))
        chat.mode = "bot"
        language = chat.language or case.language
        key = "handoff_returned" if hand_back else "handoff_closed"
        message = self.transcript.append(db, chat, "system", t(key, language), language,
                                         {"push": True, "meta": {"key": key}})
        db.commit()
        self.transcript.publish(chat, message)

    def resume_dialogue(self, db: Session, chat: ChatSession) -> None:
        """Un-pause Rasa; if it is down now, the next message of the newcomer tries again."""
        if not chat.rasa_paused:
            return
        try:
            self.dialogue.resume(chat.id)
        except DialogueUnavailable:
            return
        chat.rasa_paused = False
        db.commit()


def aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _format_opening(opening: datetime, timezone: str) -> str:
    local = opening.astimezone(ZoneInfo(timezone))
    return local.strftime("%d.%m.%Y %H:%M")
