"""A small knowledge base that passes `lotse kb check`, for the content-editing tests.

The retrieval fixture of tests/knowledge (five entries and regional overlays) with the
translations every entry must have (tr, ru, fa: copies of the English text, marked unreviewed),
so drafts of it pass the same checker the console applies. Small, so an index builds in seconds.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.knowledge.conftest import ENTRIES, REGIONS, write_kb

ADDED = ("tr", "ru", "fa")
FEE_DE = "Die Einbürgerung kostet 255 Euro"


def checked_entries() -> list[dict[str, Any]]:
    entries = copy.deepcopy(ENTRIES)
    for item in entries:
        for lang in ADDED:
            item["title"][lang] = item["title"]["en"]
            item["answers"][lang] = {"status": "unreviewed", "text": item["answers"]["en"]["text"]}
        item["last_checked"] = "2026-06-01" if item["id"] == "deportation-letter" else "2026-11-01"
    return entries


def write_checked_kb(root: Path) -> Path:
    return write_kb(root, checked_entries(), REGIONS)


@pytest.fixture
def content_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """Shipped knowledge, content overlay and index cache of this test, set for this process."""
    from knowledge.answer import reset_answerer

    dirs = {"knowledge": write_checked_kb(tmp_path / "knowledge"), "content": tmp_path / "content",
            "var": tmp_path / "var", "cache": Path(str(tmp_path_factory.getbasetemp())) / "content-cache"}
    monkeypatch.setenv("LOTSE_KNOWLEDGE_DIR", str(dirs["knowledge"]))
    monkeypatch.setenv("LOTSE_CONTENT_DIR", str(dirs["content"]))
    monkeypatch.setenv("LOTSE_CACHE_DIR", str(dirs["cache"]))
    reset_answerer()
    yield dirs
    reset_answerer()
