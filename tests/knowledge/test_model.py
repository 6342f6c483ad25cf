"""Loading: every good file is usable even when a neighbour is broken, and changes are noticed."""

from __future__ import annotations

import os
from pathlib import Path

from knowledge.model import load_knowledge
from tests.knowledge.conftest import ENTRIES, REGIONS, write_kb


def test_entries_and_regions_are_loaded_by_id(tmp_path: Path) -> None:
    kb = load_knowledge(write_kb(tmp_path))
    assert set(kb.entries) == {e["id"] for e in ENTRIES}
    assert set(kb.regions) == {r["id"] for r in REGIONS}
    fee = kb.entries["naturalisation-fee"]
    assert fee.topic == "naturalisation" and fee.region == "nrw" and not fee.is_overlay
    assert "255" in fee.answers["de"].text and fee.answers["en"].status == "unreviewed"
    assert fee.sources[0].url == "https://www.example.org/quelle"
    assert kb.entries["deportation-letter"].handoff is not None
    assert kb.entries["deportation-letter"].handoff.urgency == "urgent"
    assert kb.regions["kreis-test"].welcome_center is not None
    assert kb.paths["naturalisation-fee"] == tmp_path.resolve() / "entries/naturalisation/naturalisation-fee.yml"
    assert kb.problems == []


def test_a_broken_file_is_skipped_and_reported_not_fatal(tmp_path: Path) -> None:
    write_kb(tmp_path)
    (tmp_path / "entries/school/half-written.yml").write_text("id: half-written\ntopic: [school\n")
    (tmp_path / "entries/school/no-answers.yml").write_text("id: no-answers\ntopic: school\n")
    (tmp_path / "entries/school/empty.yml").write_text("")
    kb = load_knowledge(tmp_path)
    assert len(kb.entries) == len(ENTRIES)
    problems = {p.path.name: p.message for p in kb.problems}
    assert "invalid YAML" in problems["half-written.yml"]
    assert "file is empty" in problems["empty.yml"]
    assert any(p.path.name == "no-answers.yml" and p.message.startswith("answers:") for p in kb.problems)


def test_missing_directories_give_an_empty_knowledge_base(tmp_path: Path) -> None:
    kb = load_knowledge(tmp_path)
    assert kb.entries == {} and kb.regions == {} and kb.problems == []


def test_content_hash_and_cache_follow_the_files(tmp_path: Path) -> None:
    write_kb(tmp_path)
    first = load_knowledge(tmp_path)
    assert load_knowledge(tmp_path) is first  # unchanged files: the cached object
    path = tmp_path / "entries/naturalisation/naturalisation-fee.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("255", "256"), encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    second = load_knowledge(tmp_path)
    assert second is not first
    assert second.content_hash != first.content_hash
    assert "256" in second.entries["naturalisation-fee"].answers["de"].text
