"""`lotse ask`: one JSON object, JSON lines with ids, readable text, and bad input handled."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from knowledge.answer import CONTRACT_KEYS, reset_answerer
from lotse.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fixture_env(kb_root: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    env = {"LOTSE_KNOWLEDGE_DIR": str(kb_root), "LOTSE_CACHE_DIR": str(cache_dir)}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    reset_answerer()
    yield env
    reset_answerer()


def test_ask_json_prints_one_object_with_the_contract(fixture_env: dict[str, str],
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "--json", "Was kostet die Einbürgerung?"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "Einbürgerung" in out  # one line, not ASCII-escaped
    result = json.loads(out)
    assert tuple(result)[: len(CONTRACT_KEYS)] == CONTRACT_KEYS
    assert result["language"] == "de" and isinstance(result["answer"], str) and "255" in result["answer"]
    assert isinstance(result["confidence"], float) and 0.5 <= result["confidence"] <= 1.0
    assert result["handoff_offered"] is False and result["out_of_scope"] is False
    assert result["sources"] == [{"id": "src", "title": "Amtliche Quelle", "url": "https://www.example.org/quelle"}]


def test_ask_json_with_region_and_language(fixture_env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["ask", "--json", "--region", "kreis-test", "--language", "uk", "Wo beantrage ich die Einbürgerung?"]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["language"] == "uk" and "Kreishaus Teststadt" in result["answer"]
    assert result["entry_id"] == "kreis-test-naturalisation-where-to-apply"


def test_ask_json_off_topic(fixture_env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "--json", "write me a poem about the sea"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["out_of_scope"] is True and result["answer"] is None and result["sources"] == []


def test_ask_prints_a_readable_answer_with_sources(fixture_env: dict[str, str],
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "Was kostet die Einbürgerung?"]) == 0
    out = capsys.readouterr().out
    assert "255 Euro" in out and "Amtliche Quelle <https://www.example.org/quelle>" in out
    assert "naturalisation-fee" in out


def test_ask_rejects_bad_arguments(fixture_env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "--json", "--region", "atlantis", "Was kostet die Einbürgerung?"]) == 2
    assert "unknown region 'atlantis' (known: kreis-other, kreis-test, nrw)" in capsys.readouterr().err
    assert main(["ask", "--json"]) == 2
    assert main(["ask", "--language", "xx", "hallo"]) == 2


LINES = [
    json.dumps({"id": 1, "text": "Was kostet die Einbürgerung?"}),
    "",
    json.dumps({"id": "b", "text": "How long is the integration course?", "language": "en"}),
    "{not json",
    json.dumps({"id": 3}),
    json.dumps([1, 2]),
    json.dumps({"id": 4, "text": "Wo beantrage ich die Einbürgerung?", "region": "atlantis"}),
    json.dumps({"id": 5, "text": "Wo beantrage ich die Einbürgerung?", "region": "kreis-test"}),
    json.dumps({"id": 6, "text": "hallo", "language": 7}),
]


def check_jsonl_output(out: str) -> None:
    results = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in results] == [1, "b", None, 3, None, 4, 5, 6]
    assert all(next(iter(r)) == "id" for r in results)
    assert "255" in results[0]["answer"] and results[0]["language"] == "de"
    assert "700" in results[1]["answer"] and results[1]["language"] == "en"
    assert tuple(results[1])[1 : 1 + len(CONTRACT_KEYS)] == CONTRACT_KEYS
    assert "invalid JSON" in results[2]["error"]
    assert "'text' must be a non-empty string" in results[3]["error"]
    assert "JSON object" in results[4]["error"]
    assert "unknown region 'atlantis'" in results[5]["error"]
    assert "Kreishaus Teststadt" in results[6]["answer"]
    assert "'language' must be a string" in results[7]["error"]


def test_ask_jsonl_answers_every_line_in_order(fixture_env: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(LINES) + "\n"))
    assert main(["ask", "--jsonl"]) == 0
    check_jsonl_output(capsys.readouterr().out)


def test_ask_jsonl_in_a_real_process(fixture_env: dict[str, str]) -> None:
    """Through a pipe, as a benchmark script would use it."""
    env = {**os.environ, **fixture_env, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "lotse.cli", "ask", "--jsonl"], input="\n".join(LINES) + "\n",
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr
    check_jsonl_output(done.stdout)
