"""The page-answer calibration: fitted on rows, saved and loaded, and the untrained fallback."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from knowledge.page_train import Rows, decisions, fit, report
from knowledge.pages import FEATURES, PageCalibration, join_sentences


def rows(n: int = 200, seed: int = 1) -> Rows:
    """Right pages have a clearly best sentence and a lead over the next page; off-topic rows do not."""
    rng = np.random.default_rng(seed)
    labels = rng.random(n) < 0.4
    offtopic = ~labels & (rng.random(n) < 0.3)
    features = np.stack([
        np.where(labels, 0.90, 0.84) + rng.normal(0, 0.015, n),
        0.85 + rng.normal(0, 0.01, n),
        np.where(labels, 0.03, 0.005) + rng.normal(0, 0.005, n),
        (rng.random(n) < 0.5).astype(float),
        np.where(labels, 0.8, 0.4) + rng.normal(0, 0.2, n),  # the page reader's "this page answers"
        np.where(labels, 1.5, 0.3) + rng.normal(0, 0.3, n),  # the first page's lead in the ranking
        np.where(labels, 2.5, 1.5) + rng.normal(0, 0.3, n),
    ], axis=1)
    return Rows(features, labels.astype(float), offtopic, np.where(offtopic, np.arange(n) % 4, -1))


def test_fitted_calibration_answers_right_pages_and_refuses_the_rest(tmp_path: Path) -> None:
    data = rows()
    calibration = fit(data)
    answered = decisions(calibration, data)
    assert answered[data.labels == 1].mean() > 0.8
    assert answered[data.labels == 0].mean() < 0.1
    assert not answered[data.offtopic].any()
    stats = report(calibration, data, total_questions=len(data.labels))
    assert stats["precision"] > 0.9 and stats["precision"] > stats["rule_precision"]

    path = tmp_path / "page_calibration.json"
    calibration.save(path)
    loaded = PageCalibration.load(path)
    assert loaded.threshold == calibration.threshold and len(loaded.weights) == len(FEATURES) + 1
    assert loaded.predict(data.features[0]) == calibration.predict(data.features[0])


def test_without_a_trained_file_the_extraction_rule_decides(tmp_path: Path) -> None:
    untrained = PageCalibration.load(tmp_path / "missing.json")
    assert untrained.weights == [] and untrained.threshold == 0.0
    assert untrained.predict(np.array([0.87, 0.8, 0.01, 0.0, 0.5, 1.0, 2.0])) == 0.87  # the best cosine (the rule)


def test_a_calibration_fitted_on_other_features_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "page_calibration.json"
    fit(rows()).save(path)
    stale = path.read_text(encoding="utf-8").replace('"ranking_lead"', '"something_else"')
    path.write_text(stale, encoding="utf-8")
    with pytest.raises(ValueError, match="lotse bench omos-train"):
        PageCalibration.load(path)


def test_list_items_keep_their_own_line() -> None:
    assert join_sentences(["Sie brauchen:", "Pass", "Meldebescheinigung", "Dann gehen Sie hin.", "Fertig."]) == (
        "Sie brauchen:\nPass\nMeldebescheinigung\nDann gehen Sie hin. Fertig.")


def test_the_rankings_lead_reads_the_same_on_any_cosine_scale_and_district_size() -> None:
    """A tower's cosines run higher or lower than the base model's, and districts have 10 or 500 pages."""
    from knowledge.pages import ranking_lead

    scores = {11: 0.70, 12: 0.90, 13: 0.80, 14: 0.60}
    ranked = sorted(scores, key=lambda g: -scores[g])
    margin, lead = ranking_lead(scores, ranked)
    spread = float(np.std(list(scores.values())))
    assert margin == pytest.approx(0.10 / spread) and lead == pytest.approx(0.15 / spread / np.sqrt(2 * np.log(4)))
    rescaled = {g: 0.3 + 2.5 * s for g, s in scores.items()}
    assert ranking_lead(rescaled, ranked) == pytest.approx((margin, lead))
    # The best of many unrelated pages leads by chance: about as much, read this way, for 10 pages as for 500.
    rng = np.random.default_rng(0)
    chance = [np.mean([_lead_of_best(rng.normal(0.8, 0.02, n)) for _ in range(200)]) for n in (10, 500)]
    assert abs(chance[0] - chance[1]) < 0.25 * chance[1]
    assert ranking_lead({5: 0.8}, [5]) == (0.0, 0.0)  # a single page leads nothing


def _lead_of_best(values: np.ndarray) -> float:
    from knowledge.pages import ranking_lead

    scores = dict(enumerate(values.tolist()))
    return ranking_lead(scores, sorted(scores, key=lambda g: -scores[g]))[1]
