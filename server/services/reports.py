"""The coordination report: monthly figures from the privacy-free tallies, as HTML charts, CSV and PDF.

Everything here reads only :class:`~server.models.UsageCount` and
:class:`~server.models.CaseChallenge` (see :mod:`server.services.stats` for why), so a report
never contains a message, a name, a session or a case number, and a month's figures stay the
same after the retention job has deleted that month's conversations.

Small counts are suppressed so nobody can be recognised ("only one Tigrinya speaker from Goch
was handed over in March"). The rule, applied to every table of every output:

1. A count from 1 to 4 is shown as ``< 5``. Zero is shown (categories with no events are left
   out of tables altogether).
2. A table's total is shown. If a table has suppressed cells, the hidden cells together must add
   up to at least 5; otherwise the next smallest cells are hidden too (shown as ``x``) until they
   do. So "total minus the cells shown" never pins down a small cell: it gives only a sum of at
   least 5 spread over two or more cells.
3. A total below 5 is shown as ``< 5`` (every cell of that table is then below 5 as well).
4. Rates and times are shown only when they rest on at least 5 events on each side (answered and
   not answered; at least 5 first replies for median and 90th percentile).

What the rule does not cover: differences *between* reports (e.g. all regions minus one region,
or one month against a longer period). Reports are for the coordination role only, which is
trusted staff; publish only the monthly report of a whole region.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from html import escape
from pathlib import Path

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from knowledge.model import load_knowledge
from server.models import CaseChallenge, UsageCount
from server.services.cases import GERMAN_NAMES, REASON_LABELS, TOPIC_LABELS
from server.services.routing import all_teams
from server.services.stats import REPORT_TZ, all_challenge_labels

THRESHOLD = 5
SMALL = "< 5"
HIDDEN = "x"
FONT_DIR = Path("/usr/share/fonts/truetype/noto")
CHANNEL_LABELS = {"web": "Web-Chat", "telegram": "Telegram", "kiosk": "Kiosk", "api": "API"}
OUTCOME_LABELS = {"answered": "beantwortet", "referred": "weitervermittelt", "appointment": "Termin vereinbart",
                  "no_response": "keine Rückmeldung", "handed_back": "an den Bot zurückgegeben", "other": "anderes"}
QUESTION_LABELS = {"answered": "aus der Wissensbasis beantwortet", "clarify": "Rückfrage (Bot unsicher)",
                   "out_of_scope": "außerhalb des Angebots"}
UNKNOWN = "nicht angegeben"
RULE_TEXT = ("Kleine Zahlen (1 bis 4) erscheinen als „< 5“. Damit sie sich nicht aus der Summe zurückrechnen "
             "lassen, werden weitere kleine Felder als „x“ ausgeblendet, bis die ausgeblendeten Felder zusammen "
             "mindestens 5 ergeben. Der Bericht enthält keine Namen, Nachrichtentexte oder Fallnummern.")
ANSWER_RATE_TEXT = ("Antwortquote = Fragen, die der Bot aus der Wissensbasis beantwortet hat, geteilt durch alle "
                    "Fragen (beantwortet + Rückfrage, weil der Bot unsicher war + außerhalb des Angebots). "
                    "Begrüßungen, Sprachwahl und Antworten im Übergabeformular zählen nicht als Fragen.")


# -- suppression --------------------------------------------------------------------------------------

def shown(count: int) -> str:
    """One figure on its own: ``< 5`` for 1 to 4."""
    return SMALL if 0 < count < THRESHOLD else str(count)


@dataclass
class Row:
    key: str
    label: str
    count: int
    shown: str

    @property
    def hidden(self) -> bool:
        return self.shown in (SMALL, HIDDEN)

    @property
    def value(self) -> int:
        """What a chart may draw: the count, or 0 when it is hidden."""
        return 0 if self.hidden else self.count


@dataclass
class Table:
    id: str
    title: str
    rows: list[Row]
    total: int
    note: str = ""

    @property
    def total_shown(self) -> str:
        return shown(self.total)


def protect(counts: dict[str, int], labels: dict[str, str] | None = None) -> tuple[list[Row], int]:
    """Rows with the suppression rule applied (module docstring), and the total.

    Shown rows come first (largest first); hidden rows last and in label order, so even their
    order says nothing about their size.
    """
    labels = labels or {}
    items = {k: v for k, v in counts.items() if v > 0}
    total = sum(items.values())
    small = {k for k, v in items.items() if v < THRESHOLD}
    secondary: set[str] = set()
    if small:
        rest = sorted((k for k in items if k not in small), key=lambda k: (items[k], k))
        while sum(items[k] for k in small | secondary) < THRESHOLD and rest:
            secondary.add(rest.pop(0))
    rows = [Row(k, labels.get(k) or k or UNKNOWN, v, SMALL if k in small else HIDDEN if k in secondary else str(v))
            for k, v in items.items()]
    rows.sort(key=lambda r: (r.hidden, -r.count if not r.hidden else 0, r.label))
    return rows, total


def table(id_: str, title: str, counts: dict[str, int], labels: dict[str, str] | None = None,
          note: str = "") -> Table:
    rows, total = protect(counts, labels)
    return Table(id_, title, rows, total, note)


# -- months ---------------------------------------------------------------------------------------------

def parse_month(value: str | None) -> str:
    """``YYYY-MM`` (the current month in NRW when empty); ValueError for anything else."""
    if not value:
        return datetime.now(REPORT_TZ).strftime("%Y-%m")
    parsed = datetime.strptime(value, "%Y-%m")
    if not 2000 <= parsed.year <= 2999:
        raise ValueError(value)
    return parsed.strftime("%Y-%m")


def next_month(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year + mon // 12:04d}-{mon % 12 + 1:02d}"


def previous_months(month: str, count: int) -> list[str]:
    """``count`` months ending with ``month``, oldest first."""
    year, mon = int(month[:4]), int(month[5:7])
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{mon:02d}")
        year, mon = (year - 1, 12) if mon == 1 else (year, mon - 1)
    return out[::-1]


MONTH_NAMES = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
               "November", "Dezember")


def month_label(month: str) -> str:
    return f"{MONTH_NAMES[int(month[5:7]) - 1]} {month[:4]}"


def short_month(month: str) -> str:
    return f"{month[5:7]}/{month[2:4]}"


# -- labels ---------------------------------------------------------------------------------------------

def region_labels() -> dict[str, str]:
    return {rid: region.name for rid, region in load_knowledge().regions.items()}


def region_label(region: str | None) -> str:
    if not region:
        return "alle Regionen"
    return region_labels().get(region, region)


def team_labels() -> dict[str, str]:
    return {tid: team.name for tid, team in all_teams().items()}


# -- queries --------------------------------------------------------------------------------------------

def _in_period(column: InstrumentedAttribute[str], first: str, last: str) -> list[ColumnElement[bool]]:
    """Days from the first of ``first`` to the end of ``last`` (ISO dates compare as strings)."""
    return [column >= f"{first}-01", column < f"{next_month(last)}-01"]


def counts_by(db: Session, metric: str, dimension: str, first: str, last: str, region: str | None,
              key: str | None = None) -> dict[str, int]:
    column = getattr(UsageCount, dimension)
    stmt = (select(column, func.sum(UsageCount.count)).where(UsageCount.metric == metric,
                                                              *_in_period(UsageCount.day, first, last))
            .group_by(column))
    if region:
        stmt = stmt.where(UsageCount.region == region)
    if key is not None:
        stmt = stmt.where(UsageCount.key == key)
    return {str(k or ""): int(v or 0) for k, v in db.execute(stmt).all()}


def total(db: Session, metric: str, first: str, last: str, region: str | None, key: str | None = None) -> int:
    return sum(counts_by(db, metric, "metric", first, last, region, key).values())


def per_month(db: Session, metric: str, months: list[str], region: str | None) -> dict[str, int]:
    stmt = (select(UsageCount.day, func.sum(UsageCount.count))
            .where(UsageCount.metric == metric, *_in_period(UsageCount.day, months[0], months[-1]))
            .group_by(UsageCount.day))
    if region:
        stmt = stmt.where(UsageCount.region == region)
    found = dict.fromkeys(months, 0)
    for day, count in db.execute(stmt).all():  # days folded into months here: portable SQL
        found[str(day)[:7]] = found.get(str(day)[:7], 0) + int(count or 0)
    return found


def first_reply_seconds(db: Session, month: str, region: str | None) -> list[int]:
    stmt = select(UsageCount.value).where(UsageCount.metric == "first_reply", UsageCount.value.is_not(None),
                                          *_in_period(UsageCount.day, month, month))
    if region:
        stmt = stmt.where(UsageCount.region == region)
    return sorted(int(v) for v in db.scalars(stmt).all() if v is not None)


def percentile(values: list[int], share: float) -> int:
    """Nearest-rank percentile of sorted values (the median is ``share`` 0.5)."""
    rank = max(1, math.ceil(share * len(values)))
    return values[rank - 1]


def duration(seconds: int) -> str:
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} Min."
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} Std. {minutes} Min."
    return f"{hours // 24} Tg. {hours % 24} Std."


def challenge_counts(db: Session, dimension: str, first: str, last: str, region: str | None,
                     tag: str | None = None) -> dict[str, int]:
    column = getattr(CaseChallenge, dimension)
    stmt = (select(column, func.count(CaseChallenge.id)).where(*_in_period(CaseChallenge.day, first, last))
            .group_by(column))
    if region:
        stmt = stmt.where(CaseChallenge.region == region)
    if tag is not None:
        stmt = stmt.where(CaseChallenge.tag == tag)
    return {str(k or ""): int(v or 0) for k, v in db.execute(stmt).all()}


# -- the report -----------------------------------------------------------------------------------------

@dataclass
class Report:
    month: str
    region: str | None
    summary: list[tuple[str, str]]
    tables: list[Table]
    trend_months: list[str]
    trend: dict[str, list[Row]]  # series label -> one row per month (each suppressed on its own)
    notes: list[str] = field(default_factory=lambda: [ANSWER_RATE_TEXT, RULE_TEXT])

    @property
    def title(self) -> str:
        return f"Monatsbericht {month_label(self.month)} · {region_label(self.region)}"


def build_report(db: Session, month: str, region: str | None) -> Report:
    """Every figure of one month (and region), suppressed, ready for HTML, CSV and PDF alike."""
    conversations = total(db, "conversation", month, month, region)
    questions = counts_by(db, "question", "key", month, month, region)
    asked = sum(questions.values())
    answered = questions.get("answered", 0)
    handoffs = total(db, "handoff", month, month, region)
    waits = first_reply_seconds(db, month, region)

    rate = "–"
    if answered >= THRESHOLD and asked - answered >= THRESHOLD:
        rate = f"{100 * answered / asked:.0f} %".replace(".", ",")
    elif asked and (answered == 0 or answered == asked) and asked >= THRESHOLD:
        rate = f"{100 * answered // asked} %"
    summary = [
        ("Gespräche", shown(conversations)),
        ("Fragen", shown(asked)),
        ("Antwortquote", rate),
        ("Übergaben an Menschen", shown(handoffs)),
        ("Erste menschliche Antwort: Median", duration(percentile(waits, 0.5)) if len(waits) >= THRESHOLD else "–"),
        ("Erste menschliche Antwort: 90 %", duration(percentile(waits, 0.9)) if len(waits) >= THRESHOLD else "–"),
        ("Erste Antworten (Anzahl)", shown(len(waits))),
    ]
    topics = {**TOPIC_LABELS, "": "ohne Thema (Rückfrage/außerhalb)"}
    teams = team_labels()
    tables = [
        table("questions", "Fragen nach Ergebnis", questions, QUESTION_LABELS),
        table("topics", "Fragen nach Thema", counts_by(db, "question", "topic", month, month, region), topics),
        table("languages", "Gespräche nach Sprache",
              counts_by(db, "conversation", "language", month, month, region), GERMAN_NAMES),
        table("channels", "Gespräche nach Kanal",
              counts_by(db, "conversation", "channel", month, month, region), CHANNEL_LABELS),
    ]
    if not region:
        tables.append(table("regions", "Gespräche nach Region",
                            counts_by(db, "conversation", "region", month, month, None), region_labels()))
    tables += [
        table("handoff_reasons", "Übergaben nach Anlass",
              counts_by(db, "handoff", "key", month, month, region), REASON_LABELS),
        table("handoff_topics", "Übergaben nach Thema",
              counts_by(db, "handoff", "topic", month, month, region), TOPIC_LABELS),
        table("handoff_teams", "Übergaben nach Team",
              counts_by(db, "handoff", "team", month, month, region), teams),
        table("handoff_towns", "Übergaben nach Ort", counts_by(db, "handoff", "town", month, month, region),
              note="Der Ort ist nur bei Übergaben bekannt (Angabe im Übergabeformular)."),
        table("outcomes", "Abgeschlossene Fälle nach Ergebnis",
              counts_by(db, "outcome", "key", month, month, region), OUTCOME_LABELS),
        table("challenges", "Systemische Hürden",
              challenge_counts(db, "tag", month, month, region), all_challenge_labels()),
        table("challenge_towns", "Systemische Hürden nach Ort",
              challenge_counts(db, "town", month, month, region)),
    ]
    months = previous_months(month, 6)
    trend = {}
    for label, metric in (("Gespräche", "conversation"), ("Fragen", "question"), ("Übergaben", "handoff")):
        by_month = per_month(db, metric, months, region)
        trend[label] = [Row(m, short_month(m), by_month[m], shown(by_month[m])) for m in months]
    return Report(month, region, summary, tables, months, trend)


# -- challenges over time ----------------------------------------------------------------------------------

@dataclass
class Matrix:
    """Tags down, columns (months or towns) across; each row suppressed on its own, with its total."""

    title: str
    columns: list[tuple[str, str]]  # key, label
    rows: list[tuple[str, dict[str, str], str]]  # tag label, column key -> shown, row total shown


def challenge_matrix(db: Session, months: list[str], region: str | None, by: str) -> Matrix:
    labels = all_challenge_labels()
    tags = challenge_counts(db, "tag", months[0], months[-1], region)
    if by == "month":
        columns = [(m, short_month(m)) for m in months]
        title = "Nach Monat"
    else:
        towns = challenge_counts(db, "town", months[0], months[-1], region)
        columns = [(t, t or UNKNOWN) for t in sorted(towns, key=lambda t: (-towns[t], t))]
        title = "Nach Ort"
    rows = []
    for tag in sorted(tags, key=lambda t: (-tags[t], t)):
        if by == "month":
            counts = {m: challenge_counts(db, "tag", m, m, region, tag).get(tag, 0) for m in months}
        else:
            counts = challenge_counts(db, "town", months[0], months[-1], region, tag)
        protected, row_total = protect(counts)
        cells = {r.key: r.shown for r in protected}
        rows.append((labels.get(tag, tag), {k: cells.get(k, "0") for k, _ in columns}, shown(row_total)))
    return Matrix(title, columns, rows)


# -- outputs ----------------------------------------------------------------------------------------------

def to_csv(report: Report) -> str:
    """One line per figure (semicolon-separated, UTF-8 with BOM so spreadsheet programs read umlauts)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["Bereich", "Kategorie", "Anzahl"])
    writer.writerow(["Bericht", "Monat", report.month])
    writer.writerow(["Bericht", "Region", region_label(report.region)])
    for label, value in report.summary:
        writer.writerow(["Überblick", label, value])
    for t in report.tables:
        for row in t.rows:
            writer.writerow([t.title, row.label, row.shown])
        writer.writerow([t.title, "Summe", t.total_shown])
    for series, rows in report.trend.items():
        for row in rows:
            writer.writerow([f"Verlauf: {series}", row.key, row.shown])
    writer.writerow(["Hinweis", "Kleine Zahlen", RULE_TEXT])
    writer.writerow(["Hinweis", "Antwortquote", ANSWER_RATE_TEXT])
    return out.getvalue()


# SVG charts: drawn on the server, no script, only presentation attributes (the console's CSP
# forbids inline styles); classes are styled in console.css.
BAR_COLOURS = ("#1f5f8b", "#d9822b", "#4c8c4a")


def bar_chart_svg(t: Table, width: int = 460) -> str:
    """Horizontal bars of a table; hidden cells get no bar, only their label."""
    if not t.rows:
        return ""
    bar_h, gap, label_w, value_w = 16, 6, 230, 40
    height = len(t.rows) * (bar_h + gap) + gap
    top = max((r.value for r in t.rows), default=0) or 1
    span = width - label_w - value_w
    parts = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(t.title)}">']
    for i, row in enumerate(t.rows):
        y = gap + i * (bar_h + gap)
        length = round(span * row.value / top)
        label = row.label if len(row.label) <= 34 else row.label[:33] + "…"
        parts.append(f'<text x="{label_w - 6}" y="{y + bar_h - 4}" text-anchor="end" font-size="12">'
                     f'{escape(label)}</text>')
        if length:
            parts.append(f'<rect x="{label_w}" y="{y}" width="{length}" height="{bar_h}" fill="{BAR_COLOURS[0]}"/>')
        parts.append(f'<text x="{label_w + length + 4}" y="{y + bar_h - 4}" font-size="12">{escape(row.shown)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def trend_chart_svg(report: Report, width: int = 640, height: int = 200) -> str:
    """Grouped columns per month: conversations, questions, hand-offs (hidden months get no column)."""
    series = list(report.trend.items())
    months = report.trend_months
    top = max((r.value for _, rows in series for r in rows), default=0) or 1
    left, bottom, legend = 10, 24, 18
    group_w = (width - left) / len(months)
    col_w = max(4.0, (group_w - 12) / len(series))
    plot_h = height - bottom - legend
    parts = [f'<svg class="chart trend" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="Verlauf der letzten Monate">']
    for s, (label, _) in enumerate(series):
        parts.append(f'<rect x="{left + s * 140}" y="2" width="10" height="10" fill="{BAR_COLOURS[s]}"/>'
                     f'<text x="{left + s * 140 + 14}" y="11" font-size="12">{escape(label)}</text>')
    for i, month in enumerate(months):
        x0 = left + i * group_w
        for s, (_, rows) in enumerate(series):
            row = rows[i]
            h = round(plot_h * row.value / top)
            x = x0 + s * col_w
            if h:
                parts.append(f'<rect x="{x:.1f}" y="{legend + plot_h - h}" width="{col_w - 2:.1f}" height="{h}" '
                             f'fill="{BAR_COLOURS[s]}"><title>{escape(label_of(series, s))} {month}: '
                             f'{escape(row.shown)}</title></rect>')
        parts.append(f'<text x="{x0 + group_w / 2 - 6:.1f}" y="{height - 6}" text-anchor="middle" font-size="12">'
                     f'{short_month(month)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def label_of(series: list[tuple[str, list[Row]]], index: int) -> str:
    return series[index][0]


def _font_path(bold: bool) -> Path:
    return FONT_DIR / ("NotoSans-Bold.ttf" if bold else "NotoSans-Regular.ttf")


def to_pdf(report: Report, created: date | None = None) -> bytes:
    """The monthly report as a PDF (fpdf2; Noto Sans so umlauts and „quotes“ render), charts drawn in."""
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    pdf = FPDF(format="A4")
    pdf.set_title(report.title)
    pdf.set_author("Lotse")
    pdf.set_creator("Lotse")
    pdf.add_font("Noto", "", str(_font_path(False)))
    pdf.add_font("Noto", "B", str(_font_path(True)))
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    pdf.set_font("Noto", "B", 16)
    pdf.cell(0, 9, report.title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Noto", "", 9)
    pdf.cell(0, 5, f"Erstellt am {(created or datetime.now(REPORT_TZ).date()).strftime('%d.%m.%Y')} von Lotse "
             "(nur zusammengefasste Zahlen)", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)

    _heading(pdf, "Überblick")
    pdf.set_font("Noto", "", 10)
    for label, value in report.summary:
        pdf.cell(90, 6, label, border="B")
        pdf.cell(40, 6, value, border="B", align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)

    _heading(pdf, "Verlauf (6 Monate)")
    _pdf_trend(pdf, report)

    for t in report.tables:
        _pdf_table(pdf, t)

    _heading(pdf, "Hinweise")
    pdf.set_font("Noto", "", 8)
    for note in report.notes:
        pdf.multi_cell(0, 4, note, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1)
    return bytes(pdf.output())


def _heading(pdf: object, text: str) -> None:
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    assert isinstance(pdf, FPDF)
    if pdf.get_y() > pdf.h - 45:
        pdf.add_page()
    pdf.set_font("Noto", "B", 12)
    pdf.cell(0, 8, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _pdf_table(pdf: object, t: Table) -> None:
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    assert isinstance(pdf, FPDF)
    _heading(pdf, t.title)
    pdf.set_font("Noto", "", 9)
    if not t.rows:
        pdf.cell(0, 5, "keine", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(2)
        return
    top = max((r.value for r in t.rows), default=0) or 1
    for row in _with_total(t):
        if pdf.get_y() > pdf.h - 20:
            pdf.add_page()
        y = pdf.get_y()
        label = row.label if len(row.label) <= 48 else row.label[:47] + "…"
        pdf.set_font("Noto", "B" if row.key == "__total__" else "", 9)
        pdf.cell(85, 5, label)
        pdf.cell(18, 5, row.shown, align="R")
        if row.key != "__total__" and row.value:
            pdf.set_fill_color(31, 95, 139)
            pdf.rect(pdf.get_x() + 3, y + 1, 70 * row.value / top, 3, style="F")
        pdf.set_xy(pdf.l_margin, y + 5)
    if t.note:
        pdf.set_font("Noto", "", 8)
        pdf.multi_cell(0, 4, t.note, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)


def _with_total(t: Table) -> Iterable[Row]:
    yield from t.rows
    yield Row("__total__", "Summe", t.total, t.total_shown)


def _pdf_trend(pdf: object, report: Report) -> None:
    """Grouped columns per month, and below them the figures as a small table (month across)."""
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    assert isinstance(pdf, FPDF)
    series = list(report.trend.items())
    months = report.trend_months
    top = max((r.value for _, rows in series for r in rows), default=0) or 1
    label_w, group_w, plot_h = 30.0, 24.0, 32.0
    x0, y0 = pdf.l_margin + label_w, pdf.get_y() + 6
    colours = ((31, 95, 139), (217, 130, 43), (76, 140, 74))
    pdf.set_font("Noto", "", 8)
    for s, (label, _) in enumerate(series):
        pdf.set_fill_color(*colours[s])
        pdf.rect(pdf.l_margin + s * 40, y0 - 5, 3, 3, style="F")
        pdf.text(pdf.l_margin + s * 40 + 4, y0 - 2.4, label)
    col_w = (group_w - 6) / len(series)
    for i in range(len(months)):
        gx = x0 + i * group_w + 3
        for s, (_, rows) in enumerate(series):
            h = plot_h * rows[i].value / top
            if h:
                pdf.set_fill_color(*colours[s])
                pdf.rect(gx + s * col_w, y0 + plot_h - h, col_w - 0.6, h, style="F")
    pdf.set_draw_color(150, 150, 150)
    pdf.line(x0, y0 + plot_h, x0 + group_w * len(months), y0 + plot_h)
    pdf.set_xy(pdf.l_margin, y0 + plot_h + 1)
    pdf.cell(label_w, 5, "")
    for month in months:
        pdf.cell(group_w, 5, short_month(month), align="C")
    pdf.ln(5)
    for label, rows in series:
        pdf.cell(label_w, 5, label)
        for row in rows:
            pdf.cell(group_w, 5, row.shown, align="C")
        pdf.ln(5)
    pdf.set_xy(pdf.l_margin, pdf.get_y() + 3)
    pdf.set_x(pdf.l_margin)
    pdf.cell(0, 0, "", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
