"""Public chat API: sessions, messages, and a push stream for the web chat and the kiosk."""

from __future__ import annotations

import asyncio
import json
import re
import unicodedata
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response, StreamingResponse

from knowledge.model import load_knowledge
from lotse.languages import RTL_LANGUAGES
from server.api.deps import ConversationsDep, SessionDep, SettingsDep, limit_address, limit_session
from server.core.db import MAX_INTEGER, get_sessionmaker
from server.models import ChatSession
from server.schemas import MessageIn, MessagesOut, ReplyOut, SessionCreate, SessionCreated
from server.services import privacy
from server.services.conversation import SessionNotFound
from server.services.erasure import erase_session
from server.services.transcript import message_dict

router = APIRouter(prefix="/sessions", tags=["sessions"])

_SESSION_ID = re.compile(r"^[0-9a-f]{32}$")
_NOT_FOUND = "Unknown session id. Create a session with POST /api/v1/sessions first."


def _check_id(session_id: str) -> None:
    if not _SESSION_ID.match(session_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, _NOT_FOUND)


def clean_text(text: str, limit: int) -> str:
    """The message as it will be stored, or a 4xx that tells the sender what is wrong."""
    if "\x00" in text:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "The text contains binary data.")
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc").strip()
    if not text:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "The text is empty.")
    if len(text) > limit:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"The text is too long ({len(text)} characters; at most {limit}).",
        )
    return text


@router.post("", response_model=SessionCreated, status_code=status.HTTP_201_CREATED,
             dependencies=[Depends(limit_address)])
def create_session(body: SessionCreate, request: Request, db: SessionDep, conversations: ConversationsDep,
                   settings: SettingsDep) -> SessionCreated:
    if body.region is not None and body.region not in load_knowledge().regions:
        known = ", ".join(sorted(load_knowledge().regions))
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"Unknown region. Known regions: {known}")
    # Several districts on one deployment: the host name the chat was opened on names the district
    # (LOTSE_TENANT_HOSTS) unless the widget's data-region or ?region= named one itself.
    region = body.region or settings.region_for_host(request.headers.get("host"))
    chat = conversations.create_session(db, body.channel, body.language, region)
    return SessionCreated(session_id=chat.id, language=chat.language, region=chat.region)


@router.post("/{session_id}/messages", response_model=ReplyOut,
             dependencies=[Depends(limit_address), Depends(limit_session)])
def post_message(
    session_id: str, body: MessageIn, db: SessionDep, conversations: ConversationsDep, settings: SettingsDep
) -> ReplyOut:
    _check_id(session_id)
    text = clean_text(body.text, settings.max_message_chars)
    try:
        reply = conversations.handle_user_message(db, session_id, text)
    except SessionNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, _NOT_FOUND) from None
    language = reply.session.language or settings.default_language
    return ReplyOut.model_validate({
        "language": language,
        "dir": "rtl" if language in RTL_LANGUAGES else "ltr",
        "mode": reply.session.mode,
        "user_seq": reply.user_message.seq,
        "messages": [message_dict(m) for m in reply.messages],
    })


@router.get("/{session_id}/messages", response_model=MessagesOut)
def get_messages(
    session_id: str, db: SessionDep, conversations: ConversationsDep,
    after: Annotated[int, Query(ge=0, le=MAX_INTEGER, description="return messages with seq greater than this")] = 0,
) -> MessagesOut:
    _check_id(session_id)
    try:
        messages = conversations.messages_after(db, session_id, after)
        chat = conversations.get_session(db, session_id)
    except SessionNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, _NOT_FOUND) from None
    return MessagesOut.model_validate({
        "language": chat.language, "mode": chat.mode, "messages": [message_dict(m) for m in messages],
    })


@router.delete("/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_session(session_id: str, db: SessionDep, settings: SettingsDep) -> Response:
    """Erase the conversation: messages, cases, notes and Rasa's copy ("delete my data")."""
    _check_id(session_id)
    if db.get(ChatSession, session_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, _NOT_FOUND)
    erase_session(db, session_id, settings.tracker_store_url())
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{session_id}/export")
def export_session(session_id: str, db: SessionDep) -> JSONResponse:
    """Everything stored about this conversation, as a JSON download (GDPR Art. 15; see README "Privacy")."""
    _check_id(session_id)
    data = privacy.export(db, session_id)
    if data is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, _NOT_FOUND)
    return JSONResponse(data, headers={
        "Content-Disposition": 'attachment; filename="lotse-my-data.json"', "Cache-Control": "no-store",
    })


@router.get("/{session_id}/events", response_class=StreamingResponse)
async def stream_events(
    session_id: str, request: Request, conversations: ConversationsDep,
    after: Annotated[int, Query(ge=0, le=MAX_INTEGER)] = 0,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """Server-sent events: every new message of the session, resumable with Last-Event-ID."""
    _check_id(session_id)
    if last_event_id and last_event_id.isascii() and last_event_id.isdigit() and len(last_event_id) <= 10:
        after = max(after, min(int(last_event_id), MAX_INTEGER))  # anything else: a header we did not send

    def catch_up(since: int) -> list[dict[str, object]]:
        with get_sessionmaker(conversations.settings.database_url)() as db:
            return [message_dict(m) for m in conversations.messages_after(db, session_id, since)]

    def backlog() -> list[dict[str, object]]:
        return catch_up(after)

    try:
        queue = conversations.bus.subscribe(session_id)
        missed = await run_in_threadpool(backlog)
    except SessionNotFound:
        conversations.bus.unsubscribe(session_id, queue)
        raise HTTPException(status.HTTP_404_NOT_FOUND, _NOT_FOUND) from None

    async def events() -> AsyncIterator[str]:
        sent = after
        try:
            for message in missed:
                sent = int(str(message["seq"]))
                yield f"id: {sent}\nevent: message\ndata: {json.dumps(message, ensure_ascii=False)}\n\n"
            while not await request.is_disconnected():
                try:
                    message = await asyncio.wait_for(queue.get(), timeout=15)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                seq = int(str(message.get("seq") or 0))
                if message.get("resync") or (seq > sent + 1 and conversations.bus.relay is not None):
                    # Several hub instances: the link between them was down, or messages stored by two
                    # instances crossed on the way here. The database has them all, in order.
                    try:
                        caught_up = await run_in_threadpool(catch_up, sent)
                    except SessionNotFound:
                        return  # erased meanwhile
                    for item in caught_up:
                        sent = int(str(item["seq"]))
                        yield f"id: {sent}\nevent: message\ndata: {json.dumps(item, ensure_ascii=False)}\n\n"
                    continue
                if seq <= sent:
                    continue
                sent = seq
                yield f"id: {seq}\nevent: message\ndata: {json.dumps(message, ensure_ascii=False)}\n\n"
        finally:
            conversations.bus.unsubscribe(session_id, queue)

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
