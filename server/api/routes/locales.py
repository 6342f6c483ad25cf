"""Languages and interface texts for the web chat and the kiosk (rendered by the browser)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from lotse.i18n import t
from lotse.languages import LANGUAGES, normalise

router = APIRouter(tags=["languages"])

UI_KEYS = (
    "bot_name", "input_placeholder", "send", "typing", "reconnecting", "contact_person",
    "change_language", "sources",
    # web chat, widget and kiosk
    "handoff_waiting", "handoff_with_human", "translated_original", "sender_user", "sender_agent", "sender_system",
    "close_chat", "continue_failed", "kiosk_choose_topic", "start_again", "back_to_topics", "read_aloud",
    "stop_reading", "continue_on_phone", "qr_explain", "qr_done", "idle_warning", "idle_countdown", "idle_continue",
    "close",
    # privacy: the web chat's buttons
    "privacy_export", "privacy_delete", "privacy_delete_confirm", "privacy_deleted",
)


@router.get("/languages")
def languages() -> list[dict[str, object]]:
    return [{"code": code, "native": lang.native, "english": lang.english, "rtl": lang.rtl}
            for code, lang in LANGUAGES.items()]


@router.get("/locales/{code}")
def locale(code: str) -> dict[str, object]:
    lang = normalise(code)
    if lang is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Unsupported language {code[:16]!r}.")
    return {"language": lang, "rtl": LANGUAGES[lang].rtl, "texts": {key: t(key, lang) for key in UI_KEYS}}
