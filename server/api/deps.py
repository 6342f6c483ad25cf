"""Typed dependencies for the routes (as in FastAPI's full-stack template).

Everything hangs off ``app.state`` so that tests can build an app with their own settings and
database without touching process-wide globals.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from server.core.config import Settings
from server.core.db import get_sessionmaker
from server.core.ratelimit import RateLimiter
from server.models import User
from server.services.cases import CaseService
from server.services.conversation import ConversationService
from server.services.users import user_for_token


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


def get_cases(request: Request) -> CaseService:
    service: CaseService = request.app.state.conversations.cases
    return service


_bearer = HTTPBearer(auto_error=False, description="token from POST /api/v1/auth/login")


def get_current_user(
    db: SessionDep, settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    user = user_for_token(db, credentials.credentials, settings.staff_idle_minutes) if credentials else None
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "Log in first (POST /api/v1/auth/login) and send the token "
            "as 'Authorization: Bearer <token>'.", headers={"WWW-Authenticate": "Bearer"},
        )
    return user


def get_case_worker(user: Annotated[User, Depends(get_current_user)]) -> User:
    if user.role not in ("case_manager", "admin"):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Only case managers and admins work on cases.")
    return user


CasesDep = Annotated[CaseService, Depends(get_cases)]
CurrentUser = Annotated[User, Depends(get_current_user)]
CaseWorker = Annotated[User, Depends(get_case_worker)]


def _limit(request: Request, name: str, key: str) -> None:
    limiter: RateLimiter = getattr(request.app.state, name)
    wait = limiter.retry_after(key)
    if wait:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS, f"Too many messages. Please wait {wait} seconds.",
            headers={"Retry-After": str(wait)},
        )


def limit_address(request: Request) -> None:
    """Per client address (behind a proxy: run uvicorn with --proxy-headers to see the real one)."""
    _limit(request, "address_limiter", request.client.host if request.client else "unknown")


def limit_session(request: Request, session_id: str) -> None:
    _limit(request, "session_limiter", session_id)
