"""Console pages for editors: entries by review date, side-by-side editing, drafts, four-eyes review.

Only editors and admins get in (``staff_user("editor")``). Saving never publishes: it stores a
draft (``server.services.content``) that a second editor approves or rejects on the draft page.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from knowledge.model import TOPICS, Entry
from lotse.languages import LANGUAGES, RTL_LANGUAGES
from server.api.deps import SessionDep
from server.console.routes import check_csrf, page, staff_user
from server.models import ContentRevision, User
from server.services import content
from server.services.content import ANSWER_STATUS, KIND_LABELS, STATUS_LABELS, ContentError

router = APIRouter(prefix="/console/content", include_in_schema=False)
EditorUser = Annotated[User, Depends(staff_user("editor"))]
TOPIC_NAMES = {"residence": "Aufenthalt", "school": "Schule", "language_courses": "Sprachkurse",
               "naturalisation": "Einbürgerung", "offices": "Ämter", "emergency": "Notfall", "general": "Allgemein"}
STATES = {"": "alle", "due": "Prüfung fällig", "draft": "mit offenem Entwurf", "console": "in der Konsole geändert"}


def _context() -> dict[str, Any]:
    return {"languages": LANGUAGES, "rtl": RTL_LANGUAGES, "topic_names": TOPIC_NAMES,
            "answer_status": ANSWER_STATUS, "status_labels": STATUS_LABELS, "kind_labels": KIND_LABELS,
            "word_diff": content.word_diff}


@router.get("", response_class=HTMLResponse)
def content_list(request: Request, db: SessionDep, user: EditorUser, topic: str = "", region: str = "",
                 missing: str = "", unreviewed: str = "", state: str = "") -> HTMLResponse:
    region = region or (user.district or "")  # a district's editor starts with that district's entries
    rows = content.entry_rows(db, topic=topic or None, region=region or None, missing=missing or None,
                              unreviewed=unreviewed or None, state=state or None)
    kb = content.current_kb()
    filters = {"topic": topic, "region": region, "missing": missing, "unreviewed": unreviewed, "state": state}
    return page(request, "content_list.html", user, None, None, rows=rows, filters=filters, topics=TOPICS,
                regions=["nrw", *sorted(kb.regions)], states=STATES, drafts=content.open_drafts(db),
                today=date.today(), **_context())


def _entry_or_404(entry_id: str) -> Entry:
    entry = content.current_kb().entries.get(entry_id)
    if entry is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Diesen Eintrag gibt es nicht.")
    return entry


def _language(lang: str | None, data: dict[str, Any]) -> str:
    if lang in LANGUAGES and lang != "de":
        return str(lang)
    return next((code for code in data.get("answers", {}) if code != "de"), "en")


def _entry_page(request: Request, db: SessionDep, user: User, data: dict[str, Any], lang: str,
                errors: list[str] | None = None, form: dict[str, Any] | None = None) -> HTMLResponse:
    entry_id = str(data["id"])
    revisions = content.history(db, entry_id)
    history = [{"revision": r, "changes": content.diff_summary(content.previous_data(db, r), r.data)}
               for r in revisions]
    published = content.load_entry_data(entry_id) or data
    draft = content.own_draft(db, user, entry_id)
    if form is None:  # carry an open draft of this editor forward instead of starting over
        form = draft.data if draft is not None and not content.is_outdated(draft) else published
    response = page(request, "content_entry.html", user, None, None, entry=published, form=form, lang=lang,
                    errors=errors or [], history=history, own_draft=draft,
                    has_shipped=content.shipped_entry_data(entry_id) is not None, **_context())
    if errors:
        response.status_code = status.HTTP_422_UNPROCESSABLE_CONTENT
    return response


@router.get("/entries/{entry_id}", response_class=HTMLResponse)
def entry_page(request: Request, entry_id: str, db: SessionDep, user: EditorUser,
               lang: str | None = None) -> HTMLResponse:
    data = content.entry_data(_entry_or_404(entry_id))
    return _entry_page(request, db, user, data, _language(lang, data))


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace("\r\n", "\n").split("\n") if line.strip()]


def data_from_form(published: dict[str, Any], form: FormData) -> dict[str, Any]:
    """The edited entry: the published one with the form's fields (German and one other language) applied."""
    data = {key: value for key, value in published.items()}
    data["title"] = dict(published.get("title", {}))
    data["questions"] = {k: list(v) for k, v in published.get("questions", {}).items()}
    data["answers"] = {k: dict(v) for k, v in published.get("answers", {}).items()}
    for key in ("last_checked", "review_interval_days", "priority"):
        if key in form:
            data[key] = str(form[key]).strip()
    for lang in {"de", str(form.get("lang", ""))} & set(LANGUAGES):
        title, text = str(form.get(f"title_{lang}", "")).strip(), str(form.get(f"answer_{lang}", ""))
        text = text.replace("\r\n", "\n").strip()
        if lang not in data["answers"] and not (title or text or str(form.get(f"questions_{lang}", "")).strip()):
            continue  # a missing language left empty stays missing, rather than becoming empty texts
        data["title"][lang] = title
        data["answers"][lang] = {"status": str(form.get(f"status_{lang}", "unreviewed")),
                                 "text": text + ("\n" if "\n" in text else "")}
        questions = _lines(str(form.get(f"questions_{lang}", "")))
        if questions:
            data["questions"][lang] = questions
        else:
            data["questions"].pop(lang, None)
    if "source_title" in form:
        sources = []
        rows = zip(form.getlist("source_id"), form.getlist("source_title"), form.getlist("source_url"), strict=False)
        for i, (raw_id, raw_title, raw_url) in enumerate(rows):
            ident, source_title, url = str(raw_id).strip(), str(raw_title).strip(), str(raw_url).strip()
            if not (source_title or url):
                continue
            source: dict[str, Any] = {"id": ident or f"quelle-{i + 1}", "title": source_title}
            if url:
                source["url"] = url
            sources.append(source)
        data["sources"] = sources
    return data


@router.post("/entries/{entry_id}", response_model=None)
async def save_draft(request: Request, entry_id: str, db: SessionDep, user: EditorUser) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    published = content.entry_data(_entry_or_404(entry_id))
    lang = _language(str(form.get("lang", "")), published)
    draft = content.own_draft(db, user, entry_id)  # the form showed it: its other languages stay too
    data = data_from_form(draft.data if draft is not None and not content.is_outdated(draft) else published, form)
    try:
        revision = content.create_draft(db, user, data, entry_id=entry_id, comment=str(form.get("comment", "")))
    except ContentError as exc:
        return _entry_page(request, db, user, published, lang, errors=exc.messages, form=data)
    return RedirectResponse(content.draft_url(revision.id), status_code=status.HTTP_303_SEE_OTHER)


def _revision_or_404(db: SessionDep, revision_id: int) -> ContentRevision:
    try:
        return content.get_revision(db, revision_id)
    except ContentError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Diese Fassung gibt es nicht.") from None


def _draft_page(request: Request, db: SessionDep, user: User, revision: ContentRevision,
                errors: list[str] | None = None) -> HTMLResponse:
    before = content.previous_data(db, revision) if revision.status != "draft" else \
        content.load_entry_data(revision.entry_id)
    after = revision.data
    langs = sorted(set((before or {}).get("answers", {})) | set(after.get("answers", {})),
                   key=lambda code: (code != "de", list(LANGUAGES).index(code) if code in LANGUAGES else 99))
    changed = [lang for lang in langs if (before or {}).get("answers", {}).get(lang) != after["answers"].get(lang)
               or (before or {}).get("title", {}).get(lang) != after["title"].get(lang)]
    response = page(request, "content_draft.html", user, None, None, revision=revision, before=before or {},
                    after=after, changed=changed, changes=content.diff_summary(before, after), errors=errors or [],
                    outdated=content.is_outdated(revision), own=revision.author_id == user.id, **_context())
    if errors:
        response.status_code = status.HTTP_409_CONFLICT
    return response


@router.get("/drafts/{revision_id}", response_class=HTMLResponse)
def draft_page(request: Request, revision_id: int, db: SessionDep, user: EditorUser) -> HTMLResponse:
    return _draft_page(request, db, user, _revision_or_404(db, revision_id))


@router.post("/drafts/{revision_id}/approve", response_model=None)
async def approve_draft(request: Request, revision_id: int, db: SessionDep, user: EditorUser) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    revision = _revision_or_404(db, revision_id)
    try:
        content.approve(db, user, revision_id, str(form.get("comment", "")))
    except ContentError as exc:
        db.rollback()
        return _draft_page(request, db, user, revision, errors=exc.messages)
    return RedirectResponse(f"/console/content/entries/{revision.entry_id}?published={revision_id}",
                            status_code=status.HTTP_303_SEE_OTHER)


@router.post("/drafts/{revision_id}/reject", response_model=None)
async def reject_draft(request: Request, revision_id: int, db: SessionDep, user: EditorUser) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    revision = _revision_or_404(db, revision_id)
    try:
        content.reject(db, user, revision_id, str(form.get("comment", "")))
    except ContentError as exc:
        return _draft_page(request, db, user, revision, errors=exc.messages)
    return RedirectResponse(content.draft_url(revision_id), status_code=status.HTTP_303_SEE_OTHER)


@router.post("/entries/{entry_id}/revert", response_model=None)
async def revert_entry(request: Request, entry_id: str, db: SessionDep, user: EditorUser) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    published = content.entry_data(_entry_or_404(entry_id))
    target = str(form.get("revision", ""))
    try:
        revision = content.revert(db, user, entry_id, int(target) if target.isdigit() else None)
    except ContentError as exc:
        return _entry_page(request, db, user, published, _language(None, published), errors=exc.messages)
    return RedirectResponse(content.draft_url(revision.id), status_code=status.HTTP_303_SEE_OTHER)
