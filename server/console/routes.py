"""Console pages. Same services and rules as the case API; login by cookie, forms CSRF-protected."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Form, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from lotse.languages import LANGUAGES
from server.api.deps import CasesDep, SessionDep, SettingsDep
from server.api.routes.sessions import clean_text
from server.core.security import csrf_token, csrf_valid
from server.models import Case, User, utcnow
from server.services import audit
from server.services.cases import TOPIC_LABELS, CaseError, CaseService, current_translator
from server.services.notify import team_channel
from server.services.routing import all_teams, routing_for
from server.services.users import authenticate, in_district, issue_token, revoke_token, user_for_token

COOKIE = "lotse_console"
TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
OUTCOME_LABELS = {"answered": "beantwortet", "referred": "weitervermittelt", "appointment": "Termin vereinbart",
                  "no_response": "keine Rückmeldung", "handed_back": "an den Bot zurückgegeben", "other": "anderes"}
SENDER_LABELS = {"user": "Person", "bot": "Lotse (Bot)", "agent": "Fallmanagement", "system": "System"}

router = APIRouter(prefix="/console", include_in_schema=False)
STATIC_DIR = Path(__file__).resolve().parent / "static"


class LoginRequired(Exception):
    pass


class WrongRole(Exception):
    """A logged-in member of staff on a page of another role: sent to their own start page."""

    def __init__(self, home: str) -> None:
        self.home = home


# Where each role starts after login; each part of the console admits its roles (admins everywhere).
STAFF_HOME = {"case_manager": "/console", "admin": "/console", "editor": "/console/content",
              "coordinator": "/console/reports"}
CASE_ROLES = ("case_manager", "admin")


def install(app: FastAPI) -> None:
    """Mount the console: its pages, its static files, and the way to the login page."""
    from fastapi.staticfiles import StaticFiles

    @app.exception_handler(LoginRequired)
    async def _to_login(request: Request, _: LoginRequired) -> Response:
        if request.method == "GET" and request.url.path != "/console/events":
            return RedirectResponse("/console/login", status_code=status.HTTP_303_SEE_OTHER)
        return Response("Login required", status_code=status.HTTP_401_UNAUTHORIZED)

    @app.exception_handler(WrongRole)
    async def _to_home(request: Request, exc: WrongRole) -> Response:
        if request.method == "GET" and request.url.path != exc.home:
            return RedirectResponse(exc.home, status_code=status.HTTP_303_SEE_OTHER)
        return Response("Not allowed for your role", status_code=status.HTTP_403_FORBIDDEN)

    from server.console.reports import router as reports_router

    app.include_router(reports_router)  # /console/reports, /console/challenges (coordination)
    from server.console.content import router as content_router

    app.include_router(content_router)  # /console/content: editing with four-eyes review (editors)
    from server.console.unanswered import router as unanswered_router

    app.include_router(unanswered_router)  # /console/unanswered: open questions, grouped (editors)
    app.include_router(router)
    app.mount("/console/static", StaticFiles(directory=STATIC_DIR), name="console-static")


def logged_in_user(request: Request, db: SessionDep) -> User:
    token = request.cookies.get(COOKIE)
    user = user_for_token(db, token, request.app.state.settings.staff_idle_minutes) if token else None
    if user is None:
        raise LoginRequired
    return user


def staff_user(*roles: str) -> Any:
    """A dependency admitting the given roles and admins; anyone else goes to their own start page."""

    def dependency(user: Annotated[User, Depends(logged_in_user)]) -> User:
        if user.role != "admin" and user.role not in roles:
            raise WrongRole(STAFF_HOME.get(user.role, "/console/login"))
        return user

    return dependency


console_user = staff_user(*CASE_ROLES)
ConsoleUser = Annotated[User, Depends(console_user)]


def check_csrf(request: Request, csrf: str | None) -> None:
    if not csrf_valid(request.cookies.get(COOKIE, ""), csrf):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "The form has expired. Please reload the page.")


def age(created: datetime) -> str:
    minutes = int((utcnow() - (created if created.tzinfo else created.replace(tzinfo=UTC))).total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} Min."
    if minutes < 48 * 60:
        return f"{minutes // 60} Std."
    return f"{minutes // (24 * 60)} Tg."


def page(request: Request, name: str, user: User | None, db: Session | None, service: CaseService | None,
         **context: Any) -> HTMLResponse:
    waiting = 0
    if user is not None and user.role in CASE_ROLES and db is not None and service is not None:
        waiting = sum(1 for c in service.visible_cases(db, user, "open") if c.claimed_by_id is None)
    token = request.cookies.get(COOKIE, "")
    response = TEMPLATES.TemplateResponse(request, name, {
        "user": user, "csrf": csrf_token(token) if token else "", "waiting": waiting, "case": None, **context,
    })
    response.headers["Cache-Control"] = "no-store"  # case data must not stay in shared browser caches
    return response


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    return page(request, "login.html", None, None, None, error=None)


@router.post("/login", response_model=None)
def login(
    request: Request, db: SessionDep, settings: SettingsDep,
    username: Annotated[str, Form(max_length=64)], password: Annotated[str, Form(max_length=1024)],
) -> Response:
    user = authenticate(db, username, password)
    if user is None or user.role not in STAFF_HOME:
        response = page(request, "login.html", None, None, None,
                        error="Benutzername oder Passwort falsch, oder das Konto ist gesperrt.")
        response.status_code = status.HTTP_401_UNAUTHORIZED
        return response
    token = issue_token(db, user, settings.token_hours)
    redirect = RedirectResponse(STAFF_HOME[user.role], status_code=status.HTTP_303_SEE_OTHER)
    redirect.set_cookie(COOKIE, token, httponly=True, samesite="strict", max_age=int(settings.token_hours * 3600),
                        secure=request.url.scheme == "https", path="/console")
    return redirect


@router.post("/logout")
def logout(request: Request, db: SessionDep, csrf: Annotated[str | None, Form()] = None) -> RedirectResponse:
    check_csrf(request, csrf)
    revoke_token(db, request.cookies.get(COOKIE, ""))
    redirect = RedirectResponse("/console/login", status_code=status.HTTP_303_SEE_OTHER)
    redirect.delete_cookie(COOKIE, path="/console")
    return redirect


@router.get("", response_class=HTMLResponse)
def queue(
    request: Request, db: SessionDep, cases: CasesDep, user: ConsoleUser,
    status_: Annotated[str, Query(alias="status")] = "open",
    team: str | None = None, language: str | None = None, urgency: str | None = None, q: str | None = None,
    older_than_minutes: str | None = None,
) -> HTMLResponse:
    wanted = status_ if status_ in ("open", "closed", "all") else "open"
    older = int(older_than_minutes) if older_than_minutes and older_than_minutes.isdigit() else None
    found = cases.visible_cases(db, user, None if wanted == "all" else wanted, team or None, language or None,
                                urgency or None, q or None, older)
    teams = {k: v for k, v in all_teams().items() if user.role == "admin" or not user.teams or k in user.teams}
    filters = {"status": wanted, "team": team, "language": language, "urgency": urgency, "q": q,
               "older_than_minutes": older}
    return page(request, "queue.html", user, db, cases, cases=found, filters=filters, teams=teams,
                languages=LANGUAGES, topics=TOPIC_LABELS, age=age)


def _case(db: Session, cases: CaseService, user: User, case_id: int) -> Case:
    try:
        return cases.get(db, user, case_id)
    except CaseError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such case.") from None


def _transcript_context(db: Session, cases: CaseService, case: Case) -> dict[str, Any]:
    routing = routing_for(case.region or cases.settings.welcome_center_region)
    return {"messages": cases.staff_messages(db, case), "sender_labels": SENDER_LABELS,
            "staff_language": routing.staff_language}


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, case_id: int, db: SessionDep, cases: CasesDep, user: ConsoleUser) -> HTMLResponse:
    case = _case(db, cases, user, case_id)
    audit.record(db, user, "read", case, via="console")
    routing = routing_for(case.region or cases.settings.welcome_center_region)
    translator = current_translator()
    pairs = translator.pairs() if translator is not None else []
    return page(request, "case.html", user, db, cases, case=case, team_name=routing.teams[case.team].name
                if case.team in routing.teams else case.team, outcomes=list(OUTCOME_LABELS.items()),
                translation_pairs=pairs, **_transcript_context(db, cases, case))


@router.get("/cases/{case_id}/transcript", response_class=HTMLResponse)
def transcript(request: Request, case_id: int, db: SessionDep, cases: CasesDep, user: ConsoleUser) -> HTMLResponse:
    case = _case(db, cases, user, case_id)
    return TEMPLATES.TemplateResponse(request, "transcript.html", _transcript_context(db, cases, case))


def _back(case_id: int) -> RedirectResponse:
    return RedirectResponse(f"/console/cases/{case_id}", status_code=status.HTTP_303_SEE_OTHER)


@router.post("/cases/{case_id}/claim")
def claim(request: Request, case_id: int, db: SessionDep, cases: CasesDep, user: ConsoleUser,
          csrf: Annotated[str | None, Form()] = None) -> RedirectResponse:
    check_csrf(request, csrf)
    case = _case(db, cases, user, case_id)
    if case.status == "open":
        cases.claim(db, case, user)
        audit.record(db, user, "claim", case, via="console")
    return _back(case_id)


@router.post("/cases/{case_id}/reply")
def reply(request: Request, case_id: int, db: SessionDep, cases: CasesDep, user: ConsoleUser,
          settings: SettingsDep, text: Annotated[str, Form()], csrf: Annotated[str | None, Form()] = None,
          ) -> RedirectResponse:
    check_csrf(request, csrf)
    case = _case(db, cases, user, case_id)
    if case.status == "open":
        cases.reply(db, case, user, clean_text(text, settings.max_message_chars))
        audit.record(db, user, "reply", case, via="console")
    return _back(case_id)


@router.post("/cases/{case_id}/note")
def note(request: Request, case_id: int, db: SessionDep, cases: CasesDep, user: ConsoleUser,
         settings: SettingsDep, text: Annotated[str, Form()], csrf: Annotated[str | None, Form()] = None,
         ) -> RedirectResponse:
    check_csrf(request, csrf)
    case = _case(db, cases, user, case_id)
    cases.note(db, case, user, clean_text(text, settings.max_message_chars))
    audit.record(db, user, "note", case, via="console")
    return _back(case_id)


@router.post("/cases/{case_id}/close")
def close(request: Request, case_id: int, db: SessionDep, cases: CasesDep, user: ConsoleUser,
          outcome: Annotated[str, Form()] = "answered", hand_back: Annotated[str, Form()] = "0",
          csrf: Annotated[str | None, Form()] = None,
          challenges: Annotated[list[str] | None, Form(max_length=64)] = None) -> RedirectResponse:
    check_csrf(request, csrf)
    case = _case(db, cases, user, case_id)
    back = hand_back == "1"
    try:
        cases.close(db, case, user, "handed_back" if back and outcome == "answered" else outcome, hand_back=back,
                    challenges=(challenges or [])[:20])
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    audit.record(db, user, "close", case, via="console")
    return _back(case_id)


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, db: SessionDep, cases: CasesDep, user: ConsoleUser,
               case_id: str | None = None) -> HTMLResponse:
    """Admins only: who read or changed which case (never what was written)."""
    if user.role != "admin":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Nur Admins sehen das Protokoll.")
    wanted = int(case_id) if case_id and case_id.isdigit() else None
    found = audit.entries(db, 500, wanted, district=user.district)
    return page(request, "audit.html", user, db, cases, entries=[audit.entry_dict(e) for e in found],
                case_id=wanted)


@router.get("/events")
async def events(request: Request, cases: CasesDep, user: ConsoleUser) -> StreamingResponse:
    """New cases and new messages of the user's teams, pushed to open consoles."""
    teams = list(all_teams()) if user.role == "admin" or not user.teams else list(user.teams)
    bus = cases.notifier.bus
    queues = [(team_channel(team), bus.subscribe(team_channel(team))) for team in teams]

    async def stream() -> AsyncIterator[str]:
        try:
            while not await request.is_disconnected():
                getters = [asyncio.ensure_future(q.get()) for _, q in queues]
                done, pending = await asyncio.wait(getters, timeout=15, return_when=asyncio.FIRST_COMPLETED)
                for task in pending:
                    task.cancel()
                if not done:
                    yield ": keep-alive\n\n"
                for task in done:
                    event = task.result()
                    if not in_district(user, event.get("region")):
                        continue  # the same team name in another district
                    yield f"event: {event.get('type', 'message')}\ndata: {json.dumps(event)}\n\n"
        finally:
            for key, queue in queues:
                bus.unsubscribe(key, queue)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
