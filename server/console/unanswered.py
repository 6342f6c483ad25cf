"""Console: the questions Lotse could not answer, grouped across languages, for the editors.

An editor turns a group into a new entry (a draft around its wordings), adds its wordings as
example questions to an existing entry (a draft of that entry), or dismisses it. Each of the
three resolves exactly the questions shown in the group, so the group disappears while questions
that arrived in the meantime stay. Drafts go through the content review like any other change.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from lotse.languages import LANGUAGES
from server.api.deps import SessionDep
from server.console.routes import check_csrf, page, staff_user
from server.models import ContentRevision, User
from server.services import unanswered
from server.services.users import in_district

log = logging.getLogger(__name__)

router = APIRouter(prefix="/console/unanswered", include_in_schema=False)
EditorUser = Annotated[User, Depends(staff_user("editor"))]
QuestionIds = Annotated[list[int] | None, Form()]
LANGUAGE_LABELS = {"de": "Deutsch", "en": "Englisch", "ar": "Arabisch", "tr": "Türkisch", "uk": "Ukrainisch",
                   "ru": "Russisch", "fa": "Persisch", "ps": "Paschtu", "ku": "Kurmandschi", "ckb": "Sorani",
                   "pl": "Polnisch", "ro": "Rumänisch", "sq": "Albanisch", "hy": "Armenisch", "fr": "Französisch",
                   "it": "Italienisch", "nl": "Niederländisch", "pt": "Portugiesisch", "so": "Somali",
                   "ur": "Urdu", "mn": "Mongolisch", "ti": "Tigrinya", "es": "Spanisch"}
DONE = {"new_entry": "Neuer Eintrag als Entwurf angelegt.", "added_wordings": "Beispielfragen im Entwurf ergänzt.",
        "dismissed": "Gruppe verworfen."}


@dataclass
class EntryChoice:
    id: str
    title: str
    topic: str


_loading: list[threading.Thread] = []


def default_suggester() -> Callable[[list[unanswered.Group]], None] | None:
    """Suggestions from the process-wide answerer, once it is loaded.

    The hub does not answer questions itself, so the answerer (encoder, index, calibration) is
    loaded on the first view of this page, in the background: from the cache the action server
    writes that takes seconds, but building the index without one takes minutes, and the page
    must not wait for that. Until then groups are shown without a suggestion.
    """
    from knowledge import answer

    if getattr(answer, "_answerer", None) is None:
        if not any(t.is_alive() for t in _loading):
            thread = threading.Thread(target=answer.get_answerer, name="lotse-unanswered-index", daemon=True)
            _loading[:] = [thread]
            thread.start()
        return None
    loaded = answer.get_answerer()
    return lambda found: unanswered.suggest(found, loaded)


def _suggester(request: Request) -> Callable[[list[unanswered.Group]], None] | None:
    """``app.state.unanswered_suggester`` when set (tests, or None to switch suggestions off)."""
    factory = getattr(request.app.state, "unanswered_suggester", default_suggester)
    return factory() if factory is not None else None


def _entries() -> list[EntryChoice]:
    from server.services.content import current_kb

    kb = current_kb()
    choices = [EntryChoice(e.id, e.title.get("de") or next(iter(e.title.values()), e.id), e.topic)
               for e in kb.entries.values()]
    return sorted(choices, key=lambda c: (c.topic, c.title.casefold()))


def _language(code: str | None) -> str:
    return LANGUAGE_LABELS.get(code or "", code or "?")


def _native(code: str | None) -> str:
    language = LANGUAGES.get(code or "")
    return language.native if language is not None else (code or "?")


def _render(request: Request, db: SessionDep, user: User, *, error: list[str] | None = None,
            done: str | None = None) -> HTMLResponse:
    found = unanswered.groups(db, user.district)  # a district's editors see their district's questions only
    suggest = _suggester(request)
    if suggest is not None and found:
        try:
            suggest(found)
        except Exception as exc:  # a suggestion is a help, never a reason for the page to fail
            log.warning("unanswered: no suggestions (%s)", type(exc).__name__)
    response = page(request, "unanswered.html", user, None, None, groups=found, entries=_entries(),
                    language=_language, native=_native, error=error or [], done=DONE.get(done or ""),
                    total=sum(g.count for g in found))
    if error:
        response.status_code = status.HTTP_422_UNPROCESSABLE_CONTENT
    return response


@router.get("", response_class=HTMLResponse)
def unanswered_page(request: Request, db: SessionDep, user: EditorUser, done: str | None = None) -> HTMLResponse:
    return _render(request, db, user, done=done)


def _questions(db: SessionDep, ids: list[int] | None, user: User) -> list[Any]:
    questions = [q for q in unanswered.open_questions(db, ids or []) if in_district(user, q.region)]
    if not questions:
        raise HTTPException(status.HTTP_409_CONFLICT, "Diese Gruppe ist schon erledigt. Bitte die Seite neu laden.")
    return questions


def _back(resolution: str) -> RedirectResponse:
    return RedirectResponse(f"/console/unanswered?done={resolution}", status_code=status.HTTP_303_SEE_OTHER)


@router.post("/new-entry", response_model=None)
def new_entry(request: Request, db: SessionDep, user: EditorUser, question: QuestionIds = None,
              topic: Annotated[str, Form(max_length=32)] = "general",
              csrf: Annotated[str | None, Form()] = None) -> Response:
    """A draft of a new entry whose example questions are the group's wordings."""
    check_csrf(request, csrf)
    from server.services.content import ContentError, create_draft, draft_url

    questions = _questions(db, question, user)
    data = unanswered.new_entry_data(questions, topic, unanswered.utcnow(), user.district)
    try:
        draft = create_draft(db, user, data, entry_id=None,
                             comment=f"Aus {len(questions)} offenen Fragen angelegt; Antworten und Quelle fehlen noch.")
    except ContentError as exc:
        return _render(request, db, user, error=exc.messages)
    unanswered.resolve(db, questions, user, "new_entry", entry_id=draft.entry_id, draft_id=draft.id)
    return RedirectResponse(draft_url(draft.id), status_code=status.HTTP_303_SEE_OTHER)


@router.post("/add", response_model=None)
def add_to_entry(request: Request, db: SessionDep, user: EditorUser,
                 question: QuestionIds = None, entry_id: Annotated[str, Form(max_length=128)] = "",
                 csrf: Annotated[str | None, Form()] = None) -> Response:
    """A draft of ``entry_id`` with the group's wordings appended to its example questions, per language."""
    check_csrf(request, csrf)
    from server.services.content import ContentError, create_draft, draft_url, load_entry_data

    questions = _questions(db, question, user)
    if not entry_id.strip():
        return _render(request, db, user, error=["Bitte einen Eintrag wählen."])
    # Built on the editor's own open draft of the entry if there is one: create_draft replaces it
    # (one draft per person and entry), and the wordings of an earlier group must not get lost.
    own = db.scalars(select(ContentRevision).where(
        ContentRevision.entry_id == entry_id, ContentRevision.status == "draft",
        ContentRevision.author_id == user.id).order_by(ContentRevision.id.desc())).first()
    data = copy.deepcopy(own.data) if own is not None else load_entry_data(entry_id)
    if data is None:
        return _render(request, db, user, error=[f"Einen Eintrag „{entry_id}“ gibt es nicht."])
    try:
        draft = create_draft(db, user, unanswered.with_wordings(data, unanswered.wordings_of(questions)),
                             entry_id=entry_id,
                             comment=f"Beispielfragen aus {len(questions)} offenen Fragen ergänzt.")
    except ContentError as exc:
        return _render(request, db, user, error=exc.messages)
    unanswered.resolve(db, questions, user, "added_wordings", entry_id=entry_id, draft_id=draft.id)
    return RedirectResponse(draft_url(draft.id), status_code=status.HTTP_303_SEE_OTHER)


@router.post("/dismiss")
def dismiss(request: Request, db: SessionDep, user: EditorUser, question: QuestionIds = None,
            csrf: Annotated[str | None, Form()] = None) -> RedirectResponse:
    """Not a content gap (a test, a typo, something Lotse will never cover): the group goes away."""
    check_csrf(request, csrf)
    unanswered.resolve(db, _questions(db, question, user), user, "dismissed")
    return _back("dismissed")
