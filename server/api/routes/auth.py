"""Staff login for the case API (the console logs in with the same accounts)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, status
from pydantic import BaseModel, Field

from server.api.deps import CurrentUser, SessionDep, SettingsDep
from server.services.users import authenticate, issue_token, revoke_token

router = APIRouter(prefix="/auth", tags=["auth"])


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    role: str


class MeOut(BaseModel):
    username: str
    display_name: str
    role: str
    teams: list[str]
    district: str | None = None  # None: every district


@router.post("/login", response_model=TokenOut)
def login(body: LoginIn, db: SessionDep, settings: SettingsDep) -> TokenOut:
    user = authenticate(db, body.username, body.password)
    if user is None:
        # One message for unknown names, wrong passwords and locked accounts: no hint for guessers.
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Wrong user name or password, or the account is locked.")
    token = issue_token(db, user, settings.token_hours)
    return TokenOut(access_token=token, expires_in=int(settings.token_hours * 3600), role=user.role)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(db: SessionDep, user: CurrentUser, authorization: Annotated[str, Header()]) -> None:
    revoke_token(db, authorization.partition(" ")[2].strip())


@router.get("/me", response_model=MeOut)
def me(user: CurrentUser) -> MeOut:
    return MeOut(username=user.username, display_name=user.display_name, role=user.role, teams=user.teams,
                 district=user.district)
