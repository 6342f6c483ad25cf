"""The statistics and the report of `lotse bench latency` (the benchmark itself runs outside the tests)."""

from __future__ import annotations

import math

from lotse.bench_latency import QUESTIONS, markdown, summarise
from lotse.cli import build_parser


def test_percentiles_throughput_and_errors() -> None:
    stats = summarise("x", [float(v) for v in range(1, 101)], errors=5, seconds=10.0)
    assert (stats.requests, stats.errors) == (105, 5)
    assert stats.p50_ms == 50.5 and stats.p95_ms == 95.0 and stats.p99_ms == 99.0 and stats.max_ms == 100.0
    assert stats.per_second == 10.5  # failed requests finished too: they count for throughput


def test_no_successful_request_is_reported_not_hidden() -> None:
    stats = summarise("down", [], errors=3, seconds=2.0)
    assert stats.requests == 3 and math.isnan(stats.p50_ms) and stats.per_second == 1.5


def test_the_report_is_a_markdown_table_with_one_row_per_run() -> None:
    table = markdown([summarise("a", [10.0, 20.0], 0, 1.0), summarise("b", [5.0], 1, 1.0)])
    lines = table.splitlines()
    assert lines[0].startswith("| measured |") and len(lines) == 4
    assert lines[2].startswith("| a | 2 | 0 | 15.0 |") and lines[3].startswith("| b | 2 | 1 | 5.0 |")


def test_the_question_set_covers_the_core_languages_and_the_command_parses() -> None:
    assert {lang for lang, _ in QUESTIONS} >= {"de", "en", "ar", "tr", "uk", "fa"}
    args = build_parser().parse_args(["bench", "latency", "--no-http", "--rounds", "1"])
    assert args.no_http and args.rounds == 1 and args.concurrency == "1,20"
