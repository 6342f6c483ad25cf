"""The off-topic list and the calibration built from it generalise to questions never seen."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge.answer import Answerer
from knowledge.calibration import fit, fit_logistic, load_offtopic, training_set
from knowledge.evaluate import cross_validated_calibration

pytestmark = pytest.mark.usefixtures("isolated_cache")

# The end-to-end tests ask these: they must stay unseen by the calibration.
E2E_OFF_TOPIC = ["Wer hat gestern das Fußballspiel gewonnen?", "write me a poem about the sea",
                 "ما هي وصفة الكبسة بالدجاج؟", "який курс біткоїна сьогодні?",
                 "Wer hat gestern beim Fußball gewonnen?"]


def test_the_off_topic_list_covers_every_core_language_and_leaves_e2e_questions_unseen() -> None:
    concepts = load_offtopic()
    assert len(concepts) >= 15
    for concept in concepts:
        assert set(concept) == {"de", "en", "ar", "tr", "uk", "ru", "fa"}
    texts = {text for concept in concepts for text in concept.values()}
    assert not texts & set(E2E_OFF_TOPIC)


def test_held_out_off_topic_concepts_are_refused(answerer: Answerer) -> None:
    result = cross_validated_calibration(training_set(answerer.index, load_offtopic()))
    held_out = result["off_topic_held_out"]
    assert held_out["refused_as_off_topic"] >= 0.9, held_out
    assert held_out["not_answered"] >= 0.95, held_out
    assert result["in_domain"]["refused_as_off_topic"] <= 0.1, result["in_domain"]


def test_fitting_without_off_topic_data_falls_back_instead_of_failing(answerer: Answerer) -> None:
    data = training_set(answerer.index, [])
    calibrator = fit(data)
    assert calibrator.stats == {"default": True}
    probability, _ = calibrator.predict(data.base_in[0], data.vectors_in[0])
    assert 0.0 <= probability <= 1.0


def test_logistic_regression_separates_separable_data() -> None:
    x = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    theta = fit_logistic(x, np.array([0.0, 0.0, 1.0, 1.0]), np.ones(4))
    assert theta[0] > 0 and abs(theta[1]) < 1e-6
