"""``lotse kb check``: every rule of ``knowledge/SCHEMA.md``, as findings an editor can act on.

Each finding names the file and says what to change, because the people who fix content are
integration staff editing YAML, not developers reading tracebacks. Review dates produce
warnings (content ages, it is not wrong yet) that ``--strict`` turns into errors.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from knowledge import knowledge_dir
from knowledge.model import STATE_REGION, Entry, KnowledgeBase, Region, default_overlay, read_knowledge
from lotse.languages import LANGUAGES

CORE_LANGUAGES = ("de", "en", "ar", "tr", "uk", "ru", "fa")
QUESTION_LANGUAGES = ("de", "en")

_KEBAB = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_HTML = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>|&(?:[A-Za-z]+|#[0-9]+|#x[0-9A-Fa-f]+);")
_MARKDOWN_LINK = re.compile(r"\[[^\]\n]+\]\([^)\s]+\)")
_HOST = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}$")

Level = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    path: Path
    level: Level
    message: str


@dataclass
class CheckReport:
    findings: list[Finding] = field(default_factory=list)
    entries: int = 0
    regions: int = 0

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "warning"]


def is_http_url(url: str | None) -> bool:
    """Syntactically a web address someone can open (no network access, on purpose)."""
    if not url or any(ch.isspace() for ch in url):
        return False
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(_HOST.match(parts.hostname or "")) and port_ok


def markup_in(text: str) -> str | None:
    """The first HTML tag, entity or Markdown link in ``text``: chat clients show them raw."""
    match = _HTML.search(text) or _MARKDOWN_LINK.search(text)
    return match.group(0) if match else None


def _texts(entry: Entry) -> Iterator[tuple[str, str]]:
    for lang, title in entry.title.items():
        yield f"title.{lang}", title
    for lang, questions in entry.questions.items():
        for i, question in enumerate(questions):
            yield f"questions.{lang}[{i}]", question
    for lang, answer in entry.answers.items():
        yield f"answers.{lang}.text", answer.text


def _codes(codes: Iterable[str]) -> str:
    return ", ".join(sorted(codes))


def check_entry(entry: Entry, path: Path, kb: KnowledgeBase, today: date) -> Iterator[tuple[Level, str]]:
    if entry.id != path.stem:
        yield "error", f"id {entry.id!r} does not match the file name {path.name!r}"
    if not _KEBAB.match(entry.id):
        yield "error", f"id {entry.id!r} is not kebab-case (lowercase letters, digits, hyphens)"
    if path.parent.name != entry.topic:
        yield "error", f"topic {entry.topic!r} but the file is in entries/{path.parent.name}/"
    if entry.region != STATE_REGION and entry.region not in kb.regions:
        yield "error", f"region {entry.region!r} does not exist in regions/ (known: {_codes(kb.regions)})"
    if entry.replaces is not None:
        replaced = kb.entries.get(entry.replaces)
        if entry.region == STATE_REGION:
            yield "error", f"replaces {entry.replaces!r}: only a regional entry (an overlay) can replace another"
        elif replaced is None or replaced.region != STATE_REGION:
            yield "error", f"replaces {entry.replaces!r}: no state-wide entry has this id"

    for part, codes in (("title", entry.title), ("questions", entry.questions), ("answers", entry.answers)):
        unknown = set(codes) - set(LANGUAGES)
        if unknown:
            yield "error", f"{part}: unknown language code(s) {_codes(unknown)}"
    answer_langs = set(entry.answers)
    missing = set(CORE_LANGUAGES) - answer_langs
    if missing:
        yield "error", f"answers: missing required language(s) {_codes(missing)}"
    if entry.priority == 1:
        missing_all = set(LANGUAGES) - answer_langs - missing
        if missing_all:
            yield "error", f"priority 1 needs every language; answers missing {_codes(missing_all)}"
    if set(entry.title) != answer_langs:
        only_title, only_answers = set(entry.title) - answer_langs, answer_langs - set(entry.title)
        detail = []
        if only_title:
            detail.append(f"title only: {_codes(only_title)}")
        if only_answers:
            detail.append(f"answers only: {_codes(only_answers)}")
        yield "error", f"title and answers have different languages ({'; '.join(detail)})"

    for lang in QUESTION_LANGUAGES:
        if not [q for q in entry.questions.get(lang, []) if q.strip()]:
            yield "error", f"questions.{lang}: at least one example question is needed"
    for where, text in _texts(entry):
        if not text.strip():
            yield "error", f"{where} is empty"
        markup = markup_in(text)
        if markup:
            yield "error", f"{where} contains markup {markup!r}; write plain text"

    if not any(is_http_url(source.url) for source in entry.sources):
        yield "error", "sources: at least one source with an http(s) URL is needed"
    for i, source in enumerate(entry.sources):
        if source.url is not None and not is_http_url(source.url):
            yield "error", f"sources[{i}].url {source.url!r} is not a valid http(s) URL"

    if entry.last_checked > today:
        yield "error", f"last_checked {entry.last_checked} is in the future"
    due = entry.last_checked + timedelta(days=entry.review_interval_days)
    if due < today:
        yield "warning", f"review due since {due} (last_checked {entry.last_checked})"


def check_region(region: Region, path: Path, kb: KnowledgeBase) -> Iterator[tuple[Level, str]]:
    if region.id != path.stem:
        yield "error", f"id {region.id!r} does not match the file name {path.name!r}"
    if region.parent is not None and region.parent != STATE_REGION and region.parent not in kb.regions:
        yield "error", f"parent {region.parent!r} is not a known region"
    center = region.welcome_center
    if center is None:
        yield "error", "welcome_center is missing: Lotse needs someone to refer people to"
        return
    if center.web is not None and not is_http_url(center.web):
        yield "error", f"welcome_center.web {center.web!r} is not a valid http(s) URL"
    if center.email is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}", center.email):
        yield "error", f"welcome_center.email {center.email!r} is not an e-mail address"
    if not any((center.address, center.phone, center.email, center.web)):
        yield "error", "welcome_center has no address, phone, e-mail or web address"


def check_knowledge(root: Path | None = None, today: date | None = None, strict: bool = False,
                    overlay: Path | None = None) -> CheckReport:
    """All findings for the content under ``root``; with ``strict`` warnings count as errors.

    Without an explicit ``root``, the entries published in the console (``knowledge.overlay``)
    are checked too, merged as the answering processes see them, each under its own file.
    """
    today = today or date.today()
    if root is None and overlay is None:
        overlay = default_overlay()
    kb = read_knowledge(root or knowledge_dir(), overlay)
    report = CheckReport(entries=len(kb.entries), regions=len(kb.regions))
    found: list[tuple[Path, Level, str]] = [(p.path, "error", p.message) for p in kb.problems]
    for region_id, region in kb.regions.items():
        path = kb.region_paths[region_id]
        found.extend((path, level, message) for level, message in check_region(region, path, kb))
    for entry_id, entry in kb.entries.items():
        path = kb.paths[entry_id]
        found.extend((path, level, message) for level, message in check_entry(entry, path, kb, today))
    stray = sorted((kb.root / "entries").glob("**/*.yaml")) + sorted((kb.root / "regions").glob("**/*.yaml"))
    found.extend((path, "error", "use the .yml extension; this file is ignored") for path in stray)
    if not kb.entries:
        found.append((kb.root / "entries", "warning", "no entries found"))
    for path, level, message in found:
        report.findings.append(Finding(path, "error" if strict else level, message))
    return report


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def format_report(report: CheckReport) -> str:
    lines = [f"{_display(f.path)}: {f.level}: {f.message}" for f in report.findings]
    errors, warnings = len(report.errors), len(report.warnings)
    lines.append(
        f"kb check: {report.entries} entries, {report.regions} regions: "
        f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"
    )
    return "\n".join(lines)
