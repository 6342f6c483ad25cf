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
    assert untrained.predict(np.array([0.87, 0.8, 0.01, 0.0, 0.5])) == 0.87  # the best cosine, as the rule uses


def test_a_calibration_fitted_on_other_features_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "page_calibration.json"
    fit(rows()).save(path)
    stale = path.read_text(encoding="utf-8").replace('"answer_probability"', '"something_else"')
    path.write_text(stale, encoding="utf-8")
    with pytest.raises(ValueError, match="lotse bench omos-train"):
        PageCalibration.load(path)


def test_list_items_keep_their_own_line() -> None:
    assert join_sentences(["Sie brauchen:", "Pass", "Meldebescheinigung", "Dann gehen Sie hin.", "Fertig."]) == (
        "Sie brauchen:\nPass\nMeldebescheinigung\nDann gehen Sie hin. Fertig.")
