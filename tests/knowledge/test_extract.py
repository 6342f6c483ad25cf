"""Answer-sentence extraction on a tiny page, and the `lotse extract --jsonl` contract."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from knowledge.encoders import Encoder
from knowledge.extract import (
    Extractor,
    ExtractParams,
    best_window,
    bm25_scores,
    combined_scores,
    load_params,
    run_jsonl,
    select,
)
from lotse.cli import main

PAGE = [
    "Kita und Kindergarten",
    "Kinder ab einem Jahr haben ein Recht auf einen Platz in einer Kita.",
    "Die Anmeldung für einen Kita-Platz machen Sie online beim Jugendamt.",
    "Der Bus fährt jede Stunde zum Bahnhof.",
    "Das Schwimmbad ist im Sommer täglich geöffnet.",
]


def test_bm25_prefers_sentences_sharing_words() -> None:
    scores = bm25_scores("Wann fährt der Bus?", PAGE)
    assert int(np.argmax(scores)) == 3 and scores[4] == 0


def test_smoothing_lifts_neighbours_of_a_strong_sentence() -> None:
    cos = np.array([0.1, 0.9, 0.1, 0.1], dtype=np.float32)
    plain = combined_scores(cos, np.zeros(4, dtype=np.float32), ExtractParams(weight=1.0, smooth=0.0))
    smooth = combined_scores(cos, np.zeros(4, dtype=np.float32), ExtractParams(weight=1.0, smooth=0.3))
    assert smooth[0] > plain[0] and smooth[2] > plain[2] and smooth[3] == pytest.approx(plain[3])


def test_select_returns_nothing_below_the_no_answer_threshold() -> None:
    cos = np.array([0.70, 0.75], dtype=np.float32)
    assert select(cos, np.zeros(2, dtype=np.float32), [30, 30], ExtractParams(no_answer=0.8)) == []
    assert select(cos, np.zeros(2, dtype=np.float32), [30, 30], ExtractParams(no_answer=0.7, margin=0.01)) == [1]


def test_a_long_run_keeps_its_most_probable_neighbours() -> None:
    probabilities = np.array([0.0, 0.45, 0.42, 0.41, 0.5, 0.8, 0.9, 0.6])
    assert best_window([1, 2, 3, 4, 5, 6, 7], probabilities, 4) == [4, 5, 6, 7]
    assert best_window([1, 2], probabilities, 4) == [1, 2]
    assert best_window([1, 2, 3], probabilities, None) == [1, 2, 3]


def test_tuned_parameters_load() -> None:
    params = load_params()
    assert 0 <= params.weight <= 1 and params.margin > 0


def test_extraction_picks_the_answer_and_rejects_an_unrelated_question(reader: Encoder) -> None:
    extractor = Extractor(reader, load_params())
    assert extractor.sequence is not None  # the trained page reader ships with the code
    picked = extractor.extract("Wie melde ich mein Kind für die Kita an?", PAGE)
    assert 2 in picked and picked == list(range(picked[0], picked[-1] + 1))  # one run, around the answer
    assert extractor.extract("How do I exchange my foreign driving licence?", PAGE) == []
    # Chat answers use a stricter threshold (knowledge.pages.CHAT_THRESHOLD).
    from knowledge.pages import CHAT_THRESHOLD

    question = "Wie melde ich mein Kind für die Kita an?"
    strict = extractor.pick(question, reader.encode_queries([question])[0], PAGE,
                            reader.encode_passages(PAGE),
                            threshold=CHAT_THRESHOLD)
    # The pool, two sentences off, stays out. (On the dev pages the page reader's chat picks are
    # 63.6 / 63.1 / 60.1 % right in de / en / ar, the sentence reader's 53.1 / 52.6 / 50.6 %.)
    assert 2 in strict and 4 not in strict


def test_rule_baseline_keeps_to_the_answer(reader: Encoder) -> None:
    extractor = Extractor(reader, load_params(), use_reader=False)
    picked = extractor.extract("Wie melde ich mein Kind für die Kita an?", PAGE)
    assert 2 in picked and 4 not in picked
    assert extractor.extract("How do I exchange my foreign driving licence?", PAGE) == []


def test_jsonl_contract_keeps_ids_and_reports_bad_lines(reader: Encoder) -> None:
    lines = [
        json.dumps({"id": "a", "question": "Wann fährt der Bus zum Bahnhof?", "context": "\n".join(PAGE)}),
        "{not json",
        json.dumps({"id": 7, "question": "", "context": "x"}),
        json.dumps({"id": "empty", "question": "Bus?", "context": ""}),
    ]
    out = io.StringIO()
    errors = run_jsonl(lines, out, Extractor(reader, load_params()))
    results = [json.loads(line) for line in out.getvalue().splitlines()]
    assert errors == 2 and [r["id"] for r in results] == ["a", None, 7, "empty"]
    assert set(results[0]) == {"id", "answers"} and all(isinstance(i, int) for i in results[0]["answers"])
    assert set(results[1]) == {"id", "error"} and "error" in results[2]
    assert "answers" in results[3]


def test_cli_extract_reads_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                 encoder: Encoder) -> None:
    import knowledge.encoders

    monkeypatch.setattr(knowledge.encoders, "default_encoder", lambda: encoder)
    line = json.dumps({"id": 1, "question": "Wann fährt der Bus?", "context": "\n".join(PAGE)})
    monkeypatch.setattr("sys.stdin", io.StringIO(line + "\nbroken\n"))
    assert main(["extract", "--jsonl"]) == 0
    first, second = (json.loads(x) for x in capsys.readouterr().out.splitlines())
    assert first["id"] == 1 and isinstance(first["answers"], list)
    assert second == {"id": None, "error": second["error"]}
