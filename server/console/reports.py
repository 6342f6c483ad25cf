"""The coordination role's pages: dashboard, monthly report (CSV and PDF) and systematic challenges.

Only aggregates, read from the privacy-free tallies (:mod:`server.services.reports`): nothing on
these pages leads to a person, a message or a case. Coordinators and admins only; an account
bound to a district (``user.district``) sees that district's figures and no other.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.api.deps import SessionDep
from server.console.routes import TEMPLATES, page, staff_user
from server.models import UsageCount, User
from server.services.reports import (
    ANSWER_RATE_TEXT,
    RULE_TEXT,
    bar_chart_svg,
    build_report,
    challenge_matrix,
    month_label,
    parse_month,
    previous_months,
    region_label,
    region_labels,
    to_csv,
    to_pdf,
    trend_chart_svg,
)
from server.services.stats import REPORT_TZ, challenge_tags

router = APIRouter(prefix="/console", include_in_schema=False)
Coordinator = Annotated[User, Depends(staff_user("coordinator"))]
MonthQuery = Annotated[str | None, Query(max_length=7, description="YYYY-MM")]
RegionQuery = Annotated[str | None, Query(max_length=64)]
# The case page's close form offers the region's list of systematic challenges.
TEMPLATES.env.globals["challenge_tags"] = challenge_tags


def _month(value: str | None) -> str:
    try:
        return parse_month(value)
    except ValueError:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "Monat als JJJJ-MM angeben.") from None


def _region(user: User, wanted: str | None) -> str | None:
    """A district-bound account reports on its district only, whatever the address says."""
    district = getattr(user, "district", None)
    return district if district else (wanted or None)


def _region_choices(db: Session, user: User) -> list[tuple[str, str]]:
    if getattr(user, "district", None):
        return [(user.district or "", region_label(user.district))]
    known = region_labels()
    seen = {r for r in db.scalars(select(UsageCount.region).distinct()).all() if r}
    return [("", "alle Regionen")] + [(r, known.get(r, r)) for r in sorted(set(known) | seen)]


def _filename(prefix: str, month: str, region: str | None) -> str:
    return f"{prefix}-{month}{'-' + region if region else ''}"


@router.get("/reports", response_class=HTMLResponse)
def dashboard(request: Request, db: SessionDep, user: Coordinator, month: MonthQuery = None,
              region: RegionQuery = None) -> HTMLResponse:
    chosen = _month(month)
    where = _region(user, region)
    report = build_report(db, chosen, where)
    charts = {t.id: Markup(bar_chart_svg(t)) for t in report.tables}  # the SVG escapes every label
    this_month = datetime.now(REPORT_TZ).strftime("%Y-%m")
    return page(request, "reports.html", user, db, None, report=report, charts=charts,
                trend=Markup(trend_chart_svg(report)),  # the SVG escapes every label
                month=chosen, month_name=month_label(chosen), region=where or "",
                region_name=region_label(where), regions=_region_choices(db, user),
                months=previous_months(this_month, 24)[::-1], month_label=month_label,
                rule_text=RULE_TEXT, answer_rate_text=ANSWER_RATE_TEXT)


@router.get("/reports.csv")
def report_csv(db: SessionDep, user: Coordinator, month: MonthQuery = None, region: RegionQuery = None) -> Response:
    chosen = _month(month)
    where = _region(user, region)
    return Response(to_csv(build_report(db, chosen, where)), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{_filename("lotse-bericht", chosen, where)}.csv"',
        "Cache-Control": "no-store"})


@router.get("/reports.pdf")
def report_pdf(db: SessionDep, user: Coordinator, month: MonthQuery = None, region: RegionQuery = None) -> Response:
    chosen = _month(month)
    where = _region(user, region)
    return Response(to_pdf(build_report(db, chosen, where)), media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{_filename("lotse-bericht", chosen, where)}.pdf"',
        "Cache-Control": "no-store"})


@router.get("/challenges", response_class=HTMLResponse)
def challenges(request: Request, db: SessionDep, user: Coordinator, month: MonthQuery = None,
               region: RegionQuery = None,
               months: Annotated[int, Query(ge=1, le=24)] = 6) -> HTMLResponse:
    """How often each systematic challenge was tagged: per month, and per town over the period."""
    last = _month(month)
    where = _region(user, region)
    period = previous_months(last, months)
    this_month = datetime.now(REPORT_TZ).strftime("%Y-%m")
    return page(request, "challenges.html", user, db, None,
                by_month=challenge_matrix(db, period, where, "month"),
                by_town=challenge_matrix(db, period, where, "town"),
                month=last, period=f"{month_label(period[0])} – {month_label(period[-1])}", span=months,
                region=where or "", region_name=region_label(where), regions=_region_choices(db, user),
                month_choices=previous_months(this_month, 24)[::-1], month_label=month_label, rule_text=RULE_TEXT)
