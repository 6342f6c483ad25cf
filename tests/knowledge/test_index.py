"""Index mechanics that need no model: tokens, the vector cache, visibility of overlays."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from knowledge.cache import cache_dir, prune
from knowledge.index import HybridIndex
from knowledge.model import load_knowledge
from knowledge.tokens import DEFAULT_TOKENIZER, Tokenizer
from tests.knowledge.conftest import FakeEncoder, write_kb

pytestmark = pytest.mark.usefixtures("isolated_cache")


@pytest.mark.parametrize(
    ("typed", "written"),
    [("einburgerung", "Einbürgerung"), ("VATANDASLIK", "vatandaşlık"), ("التجنس", "التجنّس"),
     ("مدرسه", "المدرسة"), ("كيف", "کیف"), ("255", "٢٥٥"), ("255", "۲۵۵"), ("еще", "ещё")],
)
def test_spelling_variants_share_a_token(typed: str, written: str) -> None:
    assert DEFAULT_TOKENIZER.words(typed) == DEFAULT_TOKENIZER.words(written)


def test_tokens_keep_non_latin_scripts_and_add_prefix_stems() -> None:
    tokens = DEFAULT_TOKENIZER("Скільки коштує інтеграційний курс? Integrationskurses")
    assert "скільки" in tokens and "інтеграційний" in tokens and "integrationskurses" in tokens
    assert "integ~" in tokens and "курс" in tokens
    assert Tokenizer(stem=None)("Integrationskurses") == ["integrationskurses"]
    words = DEFAULT_TOKENIZER.words("сім'я Köln'de")
    assert "сімя" in words and "koln" in words  # Ukrainian word kept whole, Turkish suffix split off
    assert DEFAULT_TOKENIZER("") == []


def test_vectors_are_cached_and_only_changed_texts_are_embedded_again(tmp_path: Path) -> None:
    root = write_kb(tmp_path / "kb")
    encoder = FakeEncoder()
    first = HybridIndex(load_knowledge(root), encoder, progress=False)
    assert len(encoder.encoded) == len(first.units) > 0
    assert list(cache_dir().glob("knowledge-*.npz"))

    encoder.encoded.clear()
    again = HybridIndex(load_knowledge(root), encoder, progress=False)
    assert encoder.encoded == []
    np.testing.assert_array_equal(first.vectors, again.vectors)

    path = root / "entries/naturalisation/naturalisation-fee.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("255 Euro", "256 Euro"), encoding="utf-8")
    changed = HybridIndex(load_knowledge(root), encoder, progress=False)
    assert encoder.encoded == [next(u.text for u in changed.units if "256 Euro" in u.text)]


def test_old_cache_versions_are_pruned(tmp_path: Path) -> None:
    for age in range(6):
        path = cache_dir() / f"calibration-test-{age}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
        os.utime(path, (1_000_000 - age, 1_000_000 - age))
    prune("calibration-test-*.json", keep=2)
    assert sorted(p.name for p in cache_dir().glob("calibration-test-*")) == [
        "calibration-test-0.json", "calibration-test-1.json"]


def test_visibility_by_region(tmp_path: Path) -> None:
    index = HybridIndex(load_knowledge(write_kb(tmp_path / "kb")), FakeEncoder(), progress=False)
    def visible(region: str | None) -> set[str]:
        return {index.entry_ids[i] for i in np.flatnonzero(index.visible(region))}

    state = visible(None)
    assert not any(e.startswith(("kreis-", "teststadt")) for e in state)
    assert visible("nrw") == state == visible("atlantis")
    local = visible("kreis-test")
    assert "kreis-test-naturalisation-where-to-apply" in local and "naturalisation-where-to-apply" not in local
    assert not any(e.startswith("kreis-other") for e in local)
    local_version = index.substitute("naturalisation-where-to-apply", "kreis-other")
    assert local_version == "kreis-other-naturalisation-where-to-apply"
    assert index.substitute("naturalisation-where-to-apply", None) == "naturalisation-where-to-apply"


def test_an_empty_knowledge_base_scores_nothing(tmp_path: Path) -> None:
    index = HybridIndex(load_knowledge(tmp_path), FakeEncoder(), progress=False)
    scores = index.score(np.ones(8, dtype=np.float32) / np.sqrt(8), ["x"], index.visible(None))
    assert index.units == [] and len(scores.fused) == 0
