"""The answer reader: features, the one-run decoding, numpy training, and the shipped weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from knowledge.reader import (
    FEATURES,
    WEIGHTS_FILE,
    Example,
    PageLayout,
    Reader,
    TrainConfig,
    best_run,
    fit,
    load_reader,
    sentence_features,
    windowed,
)


def unit_rows(rng: np.random.Generator, n: int) -> np.ndarray:
    rows = rng.normal(size=(n, 384))
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def test_best_run_is_the_contiguous_block_with_the_largest_sum() -> None:
    assert best_run(np.array([-0.1, 0.3, -0.05, 0.2, -0.5, 0.4])) == [1, 2, 3]
    assert best_run(np.array([-0.3, -0.1, -0.2])) == [1]  # never empty: the least bad sentence


def test_features_have_one_row_per_sentence_and_mark_the_best_one() -> None:
    rng = np.random.default_rng(1)
    sentences = ["Anmeldung", "Die Anmeldung ist im Rathaus.", "Bringen Sie den Pass mit:", "Pass", "Foto"]
    vectors = unit_rows(rng, len(sentences))
    query = vectors[1] * 0.9 + unit_rows(rng, 1)[0] * 0.1
    query /= np.linalg.norm(query)
    features = sentence_features(query, vectors, sentences, np.array([1.0, 2.0, 0.0, 0.0, 0.0]))
    assert features.shape == (5, len(FEATURES)) and np.isfinite(features).all()
    column = {name: i for i, name in enumerate(FEATURES)}
    assert features[:, column["is_best"]].tolist() == [0, 1, 0, 0, 0]
    assert features[2, column["ends_with_colon"]] == 1 and features[0, column["heading_like"]] == 1
    assert windowed(features).shape == (5, 5 * (len(FEATURES) + 1))


def test_section_features_follow_the_headings_and_a_shared_layout_changes_nothing() -> None:
    rng = np.random.default_rng(3)
    sentences = ["Anmeldung", "Im Rathaus.", "Mit Termin.", "Kosten", "Es kostet 10 Euro.", "Bar oder mit Karte."]
    vectors = unit_rows(rng, len(sentences))
    query = vectors[4] * 0.8 + unit_rows(rng, 1)[0] * 0.2
    query /= np.linalg.norm(query)
    features = sentence_features(query, vectors, sentences, np.zeros(6))
    column = {name: i for i, name in enumerate(FEATURES)}
    cosines = vectors.astype(np.float64) @ query.astype(np.float64)
    sections = [[0, 1, 2], [3, 4, 5]]  # "Anmeldung" and "Kosten" open a section each
    expected = [max(cosines[s]) - cosines.max() for s in sections for _ in s]
    np.testing.assert_allclose(features[:, column["section_best_minus_best"]], expected, atol=1e-6)
    assert features[:, column["in_best_section"]].tolist() == [0, 0, 0, 1, 1, 1]
    assert features[:, column["section_cosine_rank_share"]].tolist() == [0.5, 0.5, 0.5, 0, 0, 0]
    assert features[:, column["has_digit"]].tolist() == [0, 0, 0, 0, 1, 0]
    other = unit_rows(rng, 1)[0]
    layout = PageLayout.of(vectors, sentences)
    for vector in (query, other):  # the page reader reads one page under two question vectors
        np.testing.assert_array_equal(sentence_features(vector, vectors, sentences, np.zeros(6), layout),
                                      sentence_features(vector, vectors, sentences, np.zeros(6)))


def test_training_learns_that_answers_sit_around_the_best_sentence() -> None:
    rng = np.random.default_rng(0)
    examples = []
    for _ in range(120):
        n = int(rng.integers(8, 20))
        vectors = unit_rows(rng, n)
        best = int(rng.integers(1, n - 1))
        query = vectors[best] + 0.3 * unit_rows(rng, 1)[0]
        query /= np.linalg.norm(query)
        sentences = [f"Satz {i} mit etwas Inhalt." for i in range(n)]
        gold = [i for i in (best - 1, best, best + 1) if 0 <= i < n]
        examples.append(Example(sentence_features(query, vectors, sentences, np.zeros(n)), gold))
    reader = fit(examples[:100], TrainConfig(epochs=20, models=2))
    hits = [set(reader.select(reader.probabilities(e.features))) >= {e.gold[len(e.gold) // 2]} for e in examples[100:]]
    assert sum(hits) >= 18  # the held-out best sentence is in the picked run


def test_saved_reader_loads_with_the_same_outputs(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    vectors = unit_rows(rng, 6)
    example = Example(sentence_features(vectors[2], vectors, ["Ein Satz."] * 6, np.zeros(6)), [2])
    reader = fit([example] * 4, TrainConfig(epochs=2, models=2))
    reader.threshold, reader.no_answer = 0.3, 0.1
    reader.save(tmp_path / "r.npz")
    again = Reader.load(tmp_path / "r.npz")
    assert again.threshold == 0.3 and again.no_answer == 0.1 and len(again.models) == 2
    np.testing.assert_allclose(again.probabilities(example.features), reader.probabilities(example.features))


def test_shipped_weights_say_what_they_were_trained_on() -> None:
    reader = load_reader()
    assert reader is not None, f"{WEIGHTS_FILE} missing: lotse bench omos-train-reader"
    trained = reader.meta["trained_on"]
    assert trained["split"] == "train" and set(trained["languages"]) == {"de", "en", "ar", "fr", "uk"}
    assert 0 < reader.threshold < 1 and 0 <= reader.no_answer < 1


def test_weights_of_other_features_are_refused(tmp_path: Path) -> None:
    reader = load_reader()
    assert reader is not None
    reader.meta = {**reader.meta}
    reader.save(tmp_path / "r.npz")
    with np.load(tmp_path / "r.npz") as data:
        arrays = {k: data[k] for k in data.files}
    arrays["meta"] = np.array(str(arrays["meta"]).replace('"cosine"', '"something_else"'))
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match="retrain"):
        Reader.load(tmp_path / "bad.npz")
