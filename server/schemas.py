"""Request and response bodies of the public chat API (the contract other parts rely on)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator

from lotse.languages import LANGUAGES, normalise

Channel = Literal["web", "telegram", "kiosk", "api"]
Mode = Literal["bot", "waiting", "human"]


class SessionCreate(BaseModel):
    channel: Channel = "web"
    region: str | None = Field(default=None, max_length=64)
    language: str | None = Field(default=None, max_length=16)

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        if value is None:
            return None
        code = normalise(value)
        if code is None:
            raise ValueError(f"unsupported language {value!r}; supported: {', '.join(LANGUAGES)}")
        return code


class SessionCreated(BaseModel):
    session_id: str
    language: str | None
    region: str | None


class MessageIn(BaseModel):
    text: str = Field(description="what the newcomer typed, or a button payload such as /greet")


class Button(BaseModel):
    title: str
    payload: str


class SourceOut(BaseModel):
    id: str
    title: str
    url: str


class MessageOut(BaseModel):
    seq: int
    sender: Literal["user", "bot", "agent", "system"]
    text: str
    language: str | None = None
    dir: Literal["ltr", "rtl"] = "ltr"
    buttons: list[Button] = []
    sources: list[SourceOut] = []
    time: str
    mode: Mode | None = Field(default=None, description="the session's mode right after this message")
    author: str | None = Field(default=None, description="a case manager's name, on their messages")
    original_text: str | None = Field(default=None, description="what the case manager wrote, when translated")
    original_language: str | None = None


class ReplyOut(BaseModel):
    language: str
    dir: Literal["ltr", "rtl"]
    mode: Mode
    user_seq: int
    messages: list[MessageOut]


class MessagesOut(BaseModel):
    language: str | None
    mode: Mode
    messages: list[MessageOut]


class PartHealth(BaseModel):
    ok: bool
    detail: str = ""


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    parts: dict[str, PartHealth]
