"""OMoS-QA bench metrics on hand-computed examples, and the loaders on a tiny self-made split."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowledge.bench_omos import (
    LanguageResult,
    answer_scores,
    load_region_pages,
    load_split,
    markdown_table,
    omos_dir,
    page_group,
    recall_at,
    sentence_prf,
)


def test_sentence_prf() -> None:
    assert sentence_prf([1, 2], [2, 3, 4]) == pytest.approx((0.5, 1 / 3, 0.4))
    assert sentence_prf([], [1]) == (0.0, 0.0, 0.0)
    assert sentence_prf([5], [1]) == (0.0, 0.0, 0.0)


def test_answer_scores_average_answerable_and_score_no_answer_separately() -> None:
    predictions = [[1, 2], [3], [], [], [0]]
    golds = [[2, 3, 4], [3], [7], [], []]
    scores = answer_scores(predictions, golds)
    # answerable: (0.5, 1/3, 0.4), (1, 1, 1), (0, 0, 0)
    assert scores["precision"] == pytest.approx(0.5)
    assert scores["recall"] == pytest.approx((1 / 3 + 1) / 3)
    assert scores["f1"] == pytest.approx(1.4 / 3)
    # no answer: predicted empty {2, 3}, gold empty {3, 4}, tp = 1 -> P = R = 0.5
    assert scores["no_answer_f1"] == pytest.approx(0.5)


def test_recall_at_k() -> None:
    ranked = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    assert recall_at(ranked, [1, 5, 0], 1) == pytest.approx(1 / 3)
    assert recall_at(ranked, [1, 5, 0], 3) == pytest.approx(2 / 3)


def test_loaders_on_a_tiny_split(tmp_path: Path) -> None:
    splits = tmp_path / "splits"
    splits.mkdir()
    row = {"id": 3, "question": "Wo?", "answers": [1], "context": "Titel\nHier.", "city": "testkreis",
           "language": "de", "jaccard": 1.0, "sourceLanguage": None, "pageId": 10}
    (splits / "dev_de.jsonl").write_text(json.dumps(row) + "\n" + json.dumps({**row, "id": 4}) + "\n")
    rows = load_split("dev", "de", limit=1, base=tmp_path)
    assert len(rows) == 1 and rows[0].sentences == ["Titel", "Hier."] and rows[0].page_id == 10

    pages_dir = tmp_path / "integreat-pages" / "testkreis"
    pages_dir.mkdir(parents=True)
    (pages_dir / "en.json").write_text(json.dumps([{
        "id": 11, "url": "u", "path": "/testkreis/en/x/", "title": "Here", "content": "<p>Here.</p>",
        "available_languages": {"de": {"id": 10}},
    }]))
    regions = load_region_pages(tmp_path)
    assert page_group(regions["testkreis"][0]) == 10  # the English page counts as its German original


def test_markdown_table_has_one_row_per_language() -> None:
    result = LanguageResult("de", 2, 1, 1.0, 1.0, {"precision": 0.5, "recall": 0.5, "f1": 0.5, "no_answer_f1": 1.0},
                            3.0, 4.0, recall3_all=0.5, retrieval_all=2)
    table = markdown_table([result])
    assert table.splitlines()[-1].startswith("| de | 2 | 1 | 1.000 | 1.000 | 0.500 | 50.0")


@pytest.mark.skipif(not (omos_dir() / "splits").is_dir(), reason="shared OMoS-QA data not present")
def test_real_split_loads() -> None:
    rows = load_split("dev", "de", limit=5)
    assert len(rows) == 5 and all(max(r.answers, default=0) < len(r.sentences) for r in rows)


def test_a_page_is_found_by_its_best_sentence_and_counts_with_its_translation() -> None:
    import numpy as np

    from knowledge.bench_omos import RegionIndex
    from knowledge.integreat import Page

    def page(pid: int, lang: str, translations: dict[str, int]) -> Page:
        return Page(id=pid, url="", title="t", language=lang, region="r", sentences=["a", "b"],
                    translations=translations)

    pages = [page(1, "de", {"en": 2}), page(2, "en", {"de": 1}), page(3, "de", {})]
    unit = np.eye(3, dtype=np.float32)
    # Openings and titles point away from the question; only page 2 has a sentence on it.
    index = RegionIndex(pages, vectors=unit[[1, 1, 2]], titles=unit[[1, 1, 2]],
                        sentences=unit[[1, 1, 0, 1, 2, 2]], owner=np.array([0, 0, 1, 1, 2, 2]),
                        groups=[page_group(p) for p in pages])
    assert index.rank(unit[0], "question", k=2) == [1, 3]  # page 2 is page 1's translation: group 1


def test_centring_takes_part_of_the_language_direction_off_a_question() -> None:
    import numpy as np

    from knowledge.bench_omos import QUERY_CENTRING, centre_query

    mean = np.zeros(384, dtype=np.float32)
    mean[0] = 0.8
    question = np.zeros(384, dtype=np.float32)
    question[0], question[1] = 0.8, 0.6
    centred = centre_query(question, {"ar": mean}, "ar")
    assert abs(float(np.linalg.norm(centred)) - 1) < 1e-5
    assert centred[0] < question[0] and centred[1] > question[1]
    assert QUERY_CENTRING > 0
    assert centre_query(question, {"ar": mean}, "ti") is question  # no example questions: unchanged
