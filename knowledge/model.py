"""Entries and regions as typed objects, and the loader that reads them from YAML.

The models only enforce *structure* (field names, types, enum values); content rules such as
"every entry is translated into seven languages" live in ``knowledge.check`` so that a missing
translation never hides an otherwise good answer from a newcomer.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from knowledge import knowledge_dir

log = logging.getLogger(__name__)

TOPICS = ("residence", "school", "language_courses", "naturalisation", "offices", "emergency", "general")
STATE_REGION = "nrw"
# The topics a newcomer can pick from a button; each has an overview entry (see overview_id).
CHAT_TOPICS = ("residence", "school", "language_courses", "naturalisation")


def overview_id(topic: str) -> str:
    """Id of a topic's overview entry: ids are kebab-case, topic names snake_case."""
    return f"{topic.replace('_', '-')}-overview"


Topic = Literal["residence", "school", "language_courses", "naturalisation", "offices", "emergency", "general"]
Status = Literal["source", "unreviewed", "reviewed"]


class _Strict(BaseModel):
    # Forbid unknown keys: a typo like "questons" would otherwise silently drop content.
    # Frozen because loaded knowledge is shared (and cached) across the whole process.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    id: str
    title: str
    url: str | None = None


class AnswerText(_Strict):
    text: str
    status: Status


class Handoff(_Strict):
    offer: bool = False
    urgency: Literal["normal", "urgent"] = "normal"
    reason: str | None = None


class Entry(_Strict):
    id: str
    topic: Topic
    region: str = STATE_REGION
    priority: int = Field(ge=1, le=2)
    last_checked: date
    review_interval_days: int = Field(gt=0)
    depends_on_office: bool = False
    replaces: str | None = None  # overlay only: the state-wide entry it is the local version of
    handoff: Handoff | None = None
    sources: list[Source] = Field(default_factory=list)
    title: dict[str, str]
    questions: dict[str, list[str]] = Field(default_factory=dict)
    answers: dict[str, AnswerText]

    @property
    def is_overlay(self) -> bool:
        return self.region != STATE_REGION


class WelcomeCenter(_Strict):
    name: str
    address: str | None = None
    phone: str | None = None
    email: str | None = None
    web: str | None = None
    verified: bool = False


class Region(_Strict):
    id: str
    name: str
    parent: str | None = None
    municipalities: list[str] = Field(default_factory=list)
    welcome_center: WelcomeCenter | None = None


@dataclass(frozen=True)
class LoadProblem:
    """A file that could not be used at all (unreadable, invalid, duplicate id)."""

    path: Path
    message: str


@dataclass
class KnowledgeBase:
    root: Path
    entries: dict[str, Entry] = field(default_factory=dict)
    regions: dict[str, Region] = field(default_factory=dict)
    paths: dict[str, Path] = field(default_factory=dict)  # entry id -> file
    region_paths: dict[str, Path] = field(default_factory=dict)
    problems: list[LoadProblem] = field(default_factory=list)
    content_hash: str = ""


def format_validation_error(error: ValidationError) -> list[str]:
    """One line per problem, addressed like the YAML (``answers.ar.status: ...``)."""
    lines = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(file)"
        lines.append(f"{where}: {item['msg']}")
    return lines


def parse_yaml(raw: bytes) -> dict[str, Any]:
    """The mapping in a YAML file's bytes; raises ``ValueError`` with a readable reason otherwise."""
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ValueError(f"invalid YAML: {' '.join(str(exc).split())}") from exc
    if data is None:
        raise ValueError("file is empty")
    if not isinstance(data, dict):
        raise ValueError(f"expected a mapping at the top level, found {type(data).__name__}")
    return data


def entry_files(root: Path) -> list[Path]:
    return sorted((root / "entries").glob("*/*.yml"))


def region_files(root: Path) -> list[Path]:
    return sorted((root / "regions").glob("*.yml"))


def _parse(raw: bytes, model: type[Entry] | type[Region]) -> Entry | Region | list[str]:
    try:
        return model.model_validate(parse_yaml(raw))
    except ValidationError as exc:
        return format_validation_error(exc)
    except ValueError as exc:
        return [str(exc)]


def read_knowledge(root: Path, overlay: Path | None = None) -> KnowledgeBase:
    """Everything under ``root``, read now (no cache, no logging): what the checker needs.

    With ``overlay`` (the content dir of ``knowledge.overlay``), its ``entries/*/*.yml`` are read
    after the shipped ones: an entry with a shipped id replaces it, a new id is added. Its files
    are part of ``content_hash``, so the index and the calibration follow published edits.
    """
    kb = KnowledgeBase(root=root.resolve())
    digest = hashlib.sha256()
    overlay_files = entry_files(overlay) if overlay is not None else []
    overlay_ids: dict[str, Path] = {}
    files = [(path, False) for path in region_files(root) + entry_files(root)]
    for path, from_overlay in files + [(path, True) for path in overlay_files]:
        base = overlay if from_overlay and overlay is not None else root
        try:
            raw = path.read_bytes()
        except OSError as exc:
            kb.problems.append(LoadProblem(path, f"cannot read file: {exc}"))
            continue
        prefix = b"overlay/" if from_overlay else b""
        digest.update(prefix + path.relative_to(base).as_posix().encode() + b"\0" + raw + b"\0")
        is_region = not from_overlay and path.parent.name == "regions" and path.parent.parent == root
        parsed = _parse(raw, Region if is_region else Entry)
        if isinstance(parsed, list):
            kb.problems.extend(LoadProblem(path, message) for message in parsed)
            continue
        table: dict[str, Any] = kb.regions if is_region else kb.entries
        paths = kb.region_paths if is_region else kb.paths
        if from_overlay:
            if parsed.id in overlay_ids:
                kb.problems.append(LoadProblem(path, f"duplicate id {parsed.id!r} (also in {overlay_ids[parsed.id]})"))
                continue
            overlay_ids[parsed.id] = path
        elif parsed.id in table:
            kb.problems.append(LoadProblem(path, f"duplicate id {parsed.id!r} (also in {paths[parsed.id]})"))
            continue
        table[parsed.id] = parsed
        paths[parsed.id] = path
    kb.content_hash = digest.hexdigest()
    return kb


_cache: dict[tuple[Path, Path | None], tuple[tuple[tuple[str, int, int], ...], KnowledgeBase]] = {}
_cache_lock = threading.Lock()


def _signature(root: Path, overlay: Path | None = None) -> tuple[tuple[str, int, int], ...]:
    items = []
    files = region_files(root) + entry_files(root) + (entry_files(overlay) if overlay is not None else [])
    for path in files:
        try:
            stat = path.stat()
        except OSError:
            continue
        items.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(items)


def default_overlay() -> Path | None:
    """The published-content dir when it exists (see ``knowledge.overlay``), else ``None``."""
    from knowledge.overlay import content_dir

    path = content_dir()
    return path.resolve() if (path / "entries").is_dir() else None


def load_knowledge(root: Path | None = None, overlay: Path | None = None) -> KnowledgeBase:
    """All usable entries and regions under ``root`` (default: ``knowledge_dir()``).

    Without an explicit ``root``, entries published in the console (``default_overlay()``) are
    merged over the shipped ones; pass ``overlay`` to merge another dir over an explicit root.
    Files that cannot be parsed are skipped and listed in ``problems`` so one half-written
    file never takes the whole knowledge base down. The result is cached until a file's
    size or modification time changes, because the hub calls this on every session start.
    Treat the result as read-only: it is shared.
    """
    if root is None and overlay is None:
        overlay = default_overlay()
    root = (root or knowledge_dir()).resolve()
    overlay = overlay.resolve() if overlay is not None else None
    signature = _signature(root, overlay)
    with _cache_lock:
        cached = _cache.get((root, overlay))
        if cached and cached[0] == signature:
            return cached[1]
    kb = read_knowledge(root, overlay)
    for problem in kb.problems:
        log.warning("knowledge: skipped %s: %s", problem.path, problem.message)
    with _cache_lock:
        _cache[(root, overlay)] = (signature, kb)
    return kb
