"""Read aloud: an answer as WAV audio, synthesised offline by espeak-ng."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from lotse.languages import normalise
from server.services import speech

router = APIRouter(prefix="/speech", tags=["speech"])


def _voices(request: Request) -> asyncio.Semaphore:
    """Two CPU cores serve everything on a small hub: at most two voices at once. The others wait
    on the event loop, not in the thread pool the chat's own requests need. One per app (and so
    per event loop)."""
    state = request.app.state
    if not hasattr(state, "speech_slots"):
        state.speech_slots = asyncio.Semaphore(2)
    slots: asyncio.Semaphore = state.speech_slots
    return slots


class SpeechIn(BaseModel):
    text: str = Field(min_length=1, description=f"what to read, at most {speech.MAX_CHARS} characters")
    language: str = Field(max_length=16)


@router.get("/languages")
def speech_languages() -> list[str]:
    """Languages this hub can read aloud (empty when espeak-ng is not installed)."""
    return speech.languages_with_voice()


@router.post("", response_class=Response,
             responses={200: {"content": {"audio/wav": {}}, "description": "the text spoken"}})
async def read_aloud(body: SpeechIn, request: Request) -> Response:
    language = normalise(body.language)
    if len(body.text) > speech.MAX_CHARS:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE,
                            f"The text is too long to read aloud (at most {speech.MAX_CHARS} characters).")
    if language is None or speech.voice_for(language) is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            "There is no voice for this language on this server.")
    try:
        async with _voices(request):
            audio = await run_in_threadpool(speech.synthesise, body.text, language)
    except speech.SpeechUnavailable:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "Reading aloud failed. Please try again.") from None
    return Response(content=audio, media_type="audio/wav", headers={"Cache-Control": "no-store"})
