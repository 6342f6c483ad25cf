"""The Welcome Center kiosk: its settings and topic tiles, and carrying a conversation to a phone.

A kiosk is a shared screen in a public hall. It keeps the session id only in memory and wipes
it on reset; "continue on my phone" hands the conversation over with a one-time token (see
``server.services.handover``) instead of showing the session id.
"""

from __future__ import annotations

import re
from typing import Annotated

import segno
from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from pydantic import BaseModel, Field

from knowledge.model import CHAT_TOPICS
from lotse.i18n import t
from lotse.languages import DEFAULT_LANGUAGE, normalise
from server.api.deps import ConversationsDep, SessionDep, SettingsDep
from server.services import handover
from server.services.conversation import SessionNotFound
from server.services.render import payload
from server.services.speech import languages_with_voice

router = APIRouter(tags=["kiosk"])

_SESSION_ID = re.compile(r"^[0-9a-f]{32}$")
_TOKEN_REFUSED = "This link has expired or was already used."


class Tile(BaseModel):
    title: str
    payload: str
    topic: str


class KioskConfig(BaseModel):
    idle_seconds: int
    warn_seconds: int
    speech_languages: list[str] = Field(description="languages espeak-ng can read aloud on this hub")
    tiles: list[Tile]


class HandoverToken(BaseModel):
    token: str
    url: str
    qr: str = Field(description="the URL as a QR code, an SVG data: URI for an <img>")
    expires_in: int


class TokenIn(BaseModel):
    token: str = Field(min_length=16, max_length=128)


class Continued(BaseModel):
    session_id: str
    language: str | None


class TokenState(BaseModel):
    used: bool


def spent_tokens(request: Request) -> handover.SpentTokens:
    """One register per app (tests build many apps)."""
    state = request.app.state
    if not hasattr(state, "spent_tokens"):
        state.spent_tokens = handover.SpentTokens()
    spent: handover.SpentTokens = state.spent_tokens
    return spent


@router.get("/kiosk/config", response_model=KioskConfig)
def kiosk_config(
    settings: SettingsDep,
    language: Annotated[str, Query(max_length=16, description="language of the tile titles")] = DEFAULT_LANGUAGE,
) -> KioskConfig:
    lang = normalise(language) or settings.default_language
    tiles = [Tile(title=t(f"topic_{topic}", lang), payload=payload("ask_question", topic=topic), topic=topic)
             for topic in CHAT_TOPICS]
    tiles.append(Tile(title=t("contact_person", lang), payload=payload("request_human"), topic="person"))
    return KioskConfig(
        idle_seconds=settings.kiosk_idle_seconds, warn_seconds=settings.kiosk_warn_seconds,
        speech_languages=languages_with_voice(), tiles=tiles,
    )


@router.post("/sessions/{session_id}/handover-token", response_model=HandoverToken,
             status_code=status.HTTP_201_CREATED)
def handover_token(
    session_id: str, request: Request, db: SessionDep, conversations: ConversationsDep, settings: SettingsDep,
) -> HandoverToken:
    """A QR code that opens this conversation once, within ten minutes, in the web chat on a phone."""
    try:
        if not _SESSION_ID.match(session_id):
            raise SessionNotFound(session_id)
        conversations.get_session(db, session_id)
    except SessionNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Unknown session id.") from None
    token = handover.issue(session_id)
    base = settings.public_url or str(request.base_url)
    url = f"{base.rstrip('/')}/?continue={token}"
    qr = segno.make(url, error="m").svg_data_uri(scale=4, border=2)
    return HandoverToken(token=token, url=url, qr=qr, expires_in=handover.TTL_SECONDS)


@router.post("/handover/redeem", response_model=Continued)
def redeem(body: TokenIn, request: Request, db: SessionDep, conversations: ConversationsDep) -> Continued:
    """The phone's side: the session behind a continue token, exactly once."""
    try:
        session_id = spent_tokens(request).redeem(body.token)
        chat = conversations.get_session(db, session_id)
    except (handover.InvalidToken, SessionNotFound):
        raise HTTPException(status.HTTP_410_GONE, _TOKEN_REFUSED) from None
    return Continued(session_id=session_id, language=chat.language)


@router.post("/handover/status", response_model=TokenState)
def token_state(body: TokenIn, request: Request) -> TokenState:
    """The kiosk asks this while it shows the QR code, and wipes its screen once the phone has it."""
    try:
        return TokenState(used=spent_tokens(request).is_spent(body.token))
    except handover.InvalidToken:
        return TokenState(used=True)  # expired: the kiosk has nothing more to wait for


@router.post("/handover/revoke", status_code=status.HTTP_204_NO_CONTENT)
def revoke(body: TokenIn, request: Request) -> Response:
    """The kiosk was reset: a photographed QR code must not open the conversation later."""
    spent_tokens(request).revoke(body.token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
