"""``lotse ask`` and ``lotse kb check``: the knowledge base from a shell, without any server.

``ask --jsonl`` is the batch interface for benchmarks and other programs: the model loads once,
every input line gets exactly one output line (flushed at once, so a pipe partner can read
answers as they come), and a bad line yields an error object instead of ending the run.
Heavy imports happen inside the commands so that ``lotse --help`` stays instant.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from knowledge.answer import Answer, Answerer


def _dump(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False)


def _region_problem(answerer: Answerer, region: str | None) -> str | None:
    """``None`` if fine, else a message naming the known regions."""
    from knowledge.model import STATE_REGION

    if answerer.is_known_region(region):
        return None
    known = ", ".join(sorted(set(answerer.kb.regions) | {STATE_REGION} | set(answerer.pages.regions())))
    return f"unknown region {region!r} (known: {known})"


def format_answer(answer: Answer, asker_language: str) -> str:
    """Readable output for a person at a terminal, with the fixed texts in their language."""
    from lotse.i18n import t

    lines: list[str] = []
    if answer.out_of_scope:
        lines.append(t("out_of_scope", asker_language))
    elif answer.answer is None:
        lines += [t("clarify", asker_language), t("handoff_offer", asker_language)]
    else:
        lines.append(answer.answer)
        if answer.sources:
            lines += ["", t("sources", asker_language) + ":"]
            lines += [f"- {s['title']}" + (f" <{s['url']}>" if s.get("url") else "") for s in answer.sources]
        if answer.handoff_offered:
            lines += ["", t("handoff_offer", asker_language)]
    detail = f"[{answer.entry_id or '-'} | confidence {answer.confidence:.2f} | language {answer.language}]"
    return "\n".join([*lines, "", detail])


def _answer_line(answerer: Answerer, line: str) -> dict[str, Any]:
    """One output object for one input line; never raises."""
    try:
        request = json.loads(line)
    except json.JSONDecodeError as exc:
        return {"id": None, "error": f"invalid JSON: {exc.msg} (column {exc.colno})"}
    if not isinstance(request, dict):
        return {"id": None, "error": "each line must be a JSON object"}
    ident = request.get("id")
    text, region, language = request.get("text"), request.get("region"), request.get("language")
    if not isinstance(text, str) or not text.strip():
        return {"id": ident, "error": "'text' must be a non-empty string"}
    for name, value in (("region", region), ("language", language)):
        if value is not None and not isinstance(value, str):
            return {"id": ident, "error": f"{name!r} must be a string"}
    problem = _region_problem(answerer, region)
    if problem:
        return {"id": ident, "error": problem}
    try:
        return {"id": ident, **answerer.answer(text, language=language, region=region).to_contract()}
    except Exception as exc:  # one failing question must not end a batch of thousands
        return {"id": ident, "error": f"{type(exc).__name__}: {exc}"}


def run_jsonl(answerer: Answerer, source: TextIO, sink: TextIO) -> int:
    for line in source:
        if not line.strip():
            continue
        sink.write(_dump(_answer_line(answerer, line)) + "\n")
        sink.flush()
    return 0


def ask_command(args: argparse.Namespace) -> int:
    from knowledge.answer import get_answerer, reply_language
    from lotse.languages import normalise

    if args.jsonl:
        return run_jsonl(get_answerer(), sys.stdin, sys.stdout)
    if not args.text or not args.text.strip():
        print("lotse ask: give a question, or use --jsonl to read questions from stdin", file=sys.stderr)
        return 2
    if args.language is not None and normalise(args.language) is None:
        print(f"lotse ask: unsupported language {args.language!r}", file=sys.stderr)
        return 2
    answerer = get_answerer()
    problem = _region_problem(answerer, args.region)
    if problem:
        print(f"lotse ask: {problem}", file=sys.stderr)
        return 2
    answer = answerer.answer(args.text, language=args.language, region=args.region)
    if args.json:
        print(_dump(answer.to_contract()))
    else:
        print(format_answer(answer, reply_language(args.text, args.language)))
    return 0


def kb_check_command(args: argparse.Namespace) -> int:
    from knowledge.check import check_knowledge, format_report

    try:
        today = date.fromisoformat(args.today) if args.today else date.today()
    except ValueError:
        print(f"lotse kb check: --today must be an ISO date (YYYY-MM-DD), not {args.today!r}", file=sys.stderr)
        return 2
    report = check_knowledge(today=today, strict=args.strict)
    print(format_report(report))
    return 1 if report.errors else 0


def kb_export_command(args: argparse.Namespace) -> int:
    """Published console edits back into the shipped format, so a district can commit them."""
    from pathlib import Path

    from knowledge.overlay import content_dir, export

    written = export(Path(args.to) if args.to else None)
    for path in written:
        print(path)
    print(f"kb export: {len(written)} entr{'y' if len(written) == 1 else 'ies'} from {content_dir()}")
    return 0
