"""The content overlay: entries published from the console, in the same YAML format as ``entries/``.

Shipped content under ``knowledge/entries`` stays the source of truth of a release; what editors
publish in the browser is written to ``<content dir>/entries/<topic>/<id>.yml`` (default
``var/content``, or ``LOTSE_CONTENT_DIR``) and merged over it by ``knowledge.model.load_knowledge``:
the same id replaces a shipped entry, a new id adds one. Because the files have the shipped format,
``lotse kb export`` can copy them back into a checkout for a district to commit.

Every publish bumps ``<content dir>/generation``: answering processes compare that one small file
(at most once per second) instead of scanning every entry, and rebuild their index when it changed.
"""

from __future__ import annotations

import os
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from knowledge import knowledge_dir

GENERATION_FILE = "generation"


def content_dir() -> Path:
    """Where published edits live: ``LOTSE_CONTENT_DIR``, else ``<LOTSE_VAR_DIR>/content``."""
    configured = os.environ.get("LOTSE_CONTENT_DIR")
    if configured:
        return Path(configured)
    from lotse import paths  # read at call time: tests point paths.VAR elsewhere

    return paths.VAR / "content"


def generation(root: Path | None = None) -> tuple[int, str]:
    """A cheap token that changes with every publish (``(0, "")`` before the first one)."""
    path = (root or content_dir()) / GENERATION_FILE
    try:
        return path.stat().st_mtime_ns, path.read_text(encoding="utf-8").strip()
    except OSError:
        return 0, ""


def bump_generation(root: Path | None = None) -> None:
    """Tell every answering process that the content changed (a counter, so equal mtimes still differ)."""
    root = root or content_dir()
    root.mkdir(parents=True, exist_ok=True)
    current = generation(root)[1]
    number = int(current.split(" ", 1)[0]) + 1 if current.split(" ", 1)[0].isdigit() else 1
    _write_atomic(root / GENERATION_FILE, f"{number} {time.time_ns()}\n")


class _Dumper(yaml.SafeDumper):
    """Block style like the hand-written files: long answers as ``|`` blocks, lists indented."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> Any:
        return super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


def _represent_date(dumper: yaml.SafeDumper, value: date) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:timestamp", value.isoformat())


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(date, _represent_date)


def dump_entry(data: dict[str, Any]) -> str:
    """An entry dict (schema order, as ``Entry.model_dump``) as YAML text in the shipped format."""
    clean = dict(data)
    if isinstance(clean.get("last_checked"), str):
        clean["last_checked"] = date.fromisoformat(clean["last_checked"])
    for key in ("answers",):
        answers = clean.get(key) or {}
        # Block scalars keep a trailing newline, as in the hand-written files.
        clean[key] = {lang: {**value, "text": value["text"].rstrip("\n") + "\n"} if "\n" in value["text"].strip()
                      else value for lang, value in answers.items()}
    return yaml.dump(clean, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def entry_path(root: Path, entry_id: str, topic: str) -> Path:
    return root / "entries" / topic / f"{entry_id}.yml"


def _remove_other_copies(root: Path, entry_id: str, keep: Path) -> None:
    """An entry whose topic changed must not stay behind in its old folder (a duplicate id)."""
    for path in (root / "entries").glob(f"*/{entry_id}.yml"):
        if path != keep:
            path.unlink(missing_ok=True)


def write_entry(data: dict[str, Any], root: Path | None = None) -> Path:
    """Publish one entry into the overlay and bump the generation; returns the file written."""
    root = root or content_dir()
    path = entry_path(root, str(data["id"]), str(data["topic"]))
    _write_atomic(path, dump_entry(data))
    _remove_other_copies(root, str(data["id"]), path)
    bump_generation(root)
    return path


def export(to: Path | None = None, root: Path | None = None) -> list[Path]:
    """Copy every published entry into ``to`` (default: the shipped knowledge dir) as entries/<topic>/<id>.yml."""
    root = root or content_dir()
    target = to or knowledge_dir()
    written = []
    for source in sorted((root / "entries").glob("*/*.yml")):
        path = target / "entries" / source.parent.name / source.name
        _write_atomic(path, source.read_text(encoding="utf-8"))
        _remove_other_copies(target, source.stem, path)
        written.append(path)
    return written
