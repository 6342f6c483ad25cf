"""Typed dependencies for the routes (as in FastAPI's full-stack template).

Everything hangs off ``app.state`` so that tests can build an app with their own settings and
database without touching process-wide globals.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from server.core.config import Settings
from server.core.db import get_sessionmaker
from server.services.conversation import ConversationService


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_db(request: Request) -> Iterator[Session]:
    with get_sessionmaker(request.app.state.settings.database_url)() as session:
        yield session


def get_conversations(request: Request) -> ConversationService:
    service: ConversationService = request.app.state.conversations
    return service


SessionDep = Annotated[Session, Depends(get_db)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
ConversationsDep = Annotated[ConversationService, Depends(get_conversations)]
