"""The content overlay: published edits merged over the shipped entries, checked, and picked up live."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import knowledge.answer as answer_module
from knowledge.check import check_knowledge
from knowledge.model import Entry, load_knowledge, read_knowledge
from knowledge.overlay import dump_entry, export, generation, write_entry
from tests.knowledge.conftest import FakeEncoder, complete_entry, complete_kb


@pytest.fixture
def dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, Path]]:
    shipped, overlay = complete_kb(tmp_path / "knowledge"), tmp_path / "content"
    monkeypatch.setenv("LOTSE_KNOWLEDGE_DIR", str(shipped))
    monkeypatch.setenv("LOTSE_CONTENT_DIR", str(overlay))
    monkeypatch.setenv("LOTSE_CACHE_DIR", str(tmp_path / "cache"))
    answer_module.reset_answerer()
    yield shipped, overlay
    answer_module.reset_answerer()


def changed_fee(text: str = "Neu: 300 Euro. Nächster Schritt: Einbürgerungsbehörde.") -> dict[str, Any]:
    data = Entry.model_validate(complete_entry()).model_dump(mode="json", exclude_none=True)
    data["answers"]["de"]["text"] = text
    return data


def test_published_entries_replace_shipped_ones_and_new_ones_are_added(dirs: tuple[Path, Path]) -> None:
    shipped, overlay = dirs
    before = load_knowledge()
    write_entry(changed_fee())
    extra = complete_entry("naturalisation-extra")
    write_entry(Entry.model_validate(extra).model_dump(mode="json"))
    kb = load_knowledge()
    assert kb.entries["naturalisation-fee"].answers["de"].text.startswith("Neu: 300 Euro")
    assert "naturalisation-extra" in kb.entries and len(kb.entries) == len(before.entries) + 1
    assert kb.paths["naturalisation-fee"].is_relative_to(overlay.resolve())
    assert kb.content_hash != before.content_hash and not kb.problems
    # An explicit root means just that root: tests and tools can still read the shipped files alone.
    assert load_knowledge(shipped).entries["naturalisation-fee"].answers["de"].text.startswith("Text de")


def test_a_topic_change_leaves_no_copy_behind(dirs: tuple[Path, Path]) -> None:
    _, overlay = dirs
    write_entry(changed_fee())
    moved = changed_fee()
    moved["topic"] = "general"
    write_entry(moved)
    assert sorted(p.relative_to(overlay).as_posix() for p in overlay.glob("entries/*/*.yml")) == [
        "entries/general/naturalisation-fee.yml"]


def test_kb_check_covers_the_overlay(dirs: tuple[Path, Path]) -> None:
    _, overlay = dirs
    assert not check_knowledge().errors
    broken = overlay / "entries" / "naturalisation" / "naturalisation-fee.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(dump_entry(changed_fee(text="<b>255 Euro</b>")), encoding="utf-8")
    errors = check_knowledge().errors
    assert [(e.path, e.message) for e in errors] == [
        (broken, "answers.de.text contains markup '<b>'; write plain text")]


def test_the_yaml_has_the_shipped_format_and_reads_back_the_same(dirs: tuple[Path, Path], tmp_path: Path) -> None:
    data = changed_fee(text="Zeile eins.\nZeile zwei: Nächster Schritt.")
    text = dump_entry(data)
    assert text.startswith("id: naturalisation-fee\ntopic: naturalisation\nregion: nrw\n")
    assert "last_checked: 2026-11-01\n" in text and "    text: |\n      Zeile eins.\n      Zeile zwei" in text
    assert Entry.model_validate(yaml.safe_load(text)) == Entry.model_validate(
        {**data, "answers": {**data["answers"], "de": {"status": "source",
                                                       "text": "Zeile eins.\nZeile zwei: Nächster Schritt.\n"}}})
    write_entry(data)
    target = tmp_path / "checkout"
    assert export(target) == [target / "entries" / "naturalisation" / "naturalisation-fee.yml"]
    assert read_knowledge(target).entries["naturalisation-fee"].answers["de"].text.startswith("Zeile eins.")


def test_the_process_wide_answerer_is_rebuilt_after_a_publish(dirs: tuple[Path, Path],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    encoder = FakeEncoder()
    monkeypatch.setattr(answer_module, "default_encoder", lambda: encoder)
    first = answer_module.get_answerer()
    assert generation() == (0, "")
    write_entry(changed_fee())
    assert generation()[1].startswith("1 ")
    # Checked at most once a second: right after the publish the old answerer still answers ...
    assert answer_module.get_answerer() is first
    # ... then a rebuild runs in the background, reusing the loaded encoder, and is swapped in.
    monkeypatch.setattr(answer_module, "CHECK_INTERVAL_SECONDS", 0.0)
    answer_module.get_answerer()
    deadline = time.monotonic() + 60
    while answer_module.get_answerer() is first and time.monotonic() < deadline:
        time.sleep(0.05)
    fresh = answer_module.get_answerer()
    assert fresh is not first and fresh.encoder is encoder
    assert fresh.answer_entry("naturalisation-fee", "de").answer == "Neu: 300 Euro. Nächster Schritt: " \
                                                                    "Einbürgerungsbehörde."
    assert answer_module.refresh_answerer() is fresh  # nothing new: no rebuild
