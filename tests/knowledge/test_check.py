"""`lotse kb check`: each rule of SCHEMA.md reports a broken file, and a clean base passes."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from knowledge.check import check_knowledge, is_http_url, markup_in
from knowledge.cli import kb_check_command
from lotse.languages import LANGUAGES
from tests.knowledge.conftest import complete_entry, complete_kb, write_yaml

TODAY = date(2026, 11, 22)
FEE = "entries/naturalisation/naturalisation-fee.yml"
REGION = "regions/kreis-test.yml"


def run_check(root: Path, strict: bool = False, today: date = TODAY) -> list[tuple[str, str, str]]:
    report = check_knowledge(root, today=today, strict=strict)
    return [(str(f.path.relative_to(root.resolve())), f.level, f.message) for f in report.findings]


def test_a_complete_knowledge_base_has_no_findings(tmp_path: Path) -> None:
    assert run_check(complete_kb(tmp_path)) == []


Mutation = Callable[[dict[str, Any]], None]


def _set(key: str, value: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        data[key] = value
    return mutate


def _drop_language(*parts: str, lang: str) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        for part in parts:
            del data[part][lang]
    return mutate


def _answer(lang: str, **values: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        data["answers"][lang].update(values)
    return mutate


def _all_languages(data: dict[str, Any]) -> None:
    data["priority"] = 1
    for lang in list(LANGUAGES)[:-1]:  # every language but the last one
        data["title"][lang] = f"Titel {lang}"
        data["answers"][lang] = {"status": "unreviewed", "text": f"Text {lang}"}


ENTRY_RULES: list[tuple[str, Mutation, str]] = [
    ("schema: required field", lambda d: d.pop("answers"), "answers: Field required"),
    ("schema: unknown key", _set("questons", {}), "questons: Extra inputs are not permitted"),
    ("schema: bad date", _set("last_checked", "gestern"), "last_checked:"),
    ("id equals file name", _set("id", "naturalisation-cost"), "does not match the file name"),
    ("id is kebab-case", _set("id", "Naturalisation_Fee"), "not kebab-case"),
    ("topic value", _set("topic", "sports"), "topic: Input should be"),
    ("topic matches folder", _set("topic", "school"), "but the file is in entries/naturalisation/"),
    ("region exists", _set("region", "kreis-nowhere"), "region 'kreis-nowhere' does not exist"),
    ("core languages", _drop_language("title", "answers", lang="fa"), "missing required language(s) fa"),
    ("priority 1: all languages", _all_languages, "priority 1 needs every language; answers missing es"),
    ("title and answers match", _drop_language("title", lang="tr"), "title and answers have different"),
    ("known language codes", lambda d: d["questions"].update({"xx": ["?"]}), "questions: unknown language code(s) xx"),
    ("answer status", _answer("en", status="draft"), "answers.en.status: Input should be"),
    ("source URL scheme", lambda d: d["sources"][0].update(url="ftp://example.org/x"),
     "at least one source with an http(s) URL"),
    ("source URL syntax", lambda d: d["sources"][0].update(url="https://exa mple.org"), "is not a valid http(s) URL"),
    ("at least one source", _set("sources", []), "at least one source with an http(s) URL"),
    ("no HTML", _answer("de", text="Es kostet <b>255 Euro</b>."), "contains markup '<b>'"),
    ("no Markdown links", _answer("en", text="See [BAMF](https://www.bamf.de)."), "contains markup '[BAMF]"),
    ("empty answer", _answer("ar", text="  "), "answers.ar.text is empty"),
    ("German questions", lambda d: d["questions"].update(de=[]), "questions.de: at least one example question"),
    ("English questions", lambda d: d["questions"].pop("en"), "questions.en: at least one example question"),
    ("last_checked not in the future", _set("last_checked", "2027-01-01"), "is in the future"),
    ("only overlays replace", _set("replaces", "school-overview"), "only a regional entry (an overlay) can replace"),
    ("replaces a state-wide entry", lambda d: d.update(region="kreis-test", replaces="no-such-entry"),
     "replaces 'no-such-entry': no state-wide entry has this id"),
]


def test_an_overlay_may_replace_a_state_wide_entry(tmp_path: Path) -> None:
    complete_kb(tmp_path)
    data = complete_entry("kreis-test-fee")
    data.update(region="kreis-test", replaces="naturalisation-fee")
    write_yaml(tmp_path / "entries/naturalisation/kreis-test-fee.yml", data)
    assert run_check(tmp_path) == []


@pytest.mark.parametrize(("rule", "mutate", "message"), ENTRY_RULES, ids=[r[0] for r in ENTRY_RULES])
def test_each_entry_rule_reports_its_error(tmp_path: Path, rule: str, mutate: Mutation, message: str) -> None:
    complete_kb(tmp_path)
    data = complete_entry()
    mutate(data)
    write_yaml(tmp_path / FEE, data)
    findings = run_check(tmp_path)
    assert any(path == FEE and level == "error" and message in text for path, level, text in findings), findings


def test_duplicate_ids_are_reported(tmp_path: Path) -> None:
    complete_kb(tmp_path)
    write_yaml(tmp_path / "entries/school/naturalisation-fee.yml", complete_entry())
    findings = run_check(tmp_path)
    assert any("duplicate id 'naturalisation-fee'" in text for _, _, text in findings), findings


def test_a_due_review_warns_and_fails_only_in_strict_mode(tmp_path: Path) -> None:
    complete_kb(tmp_path)
    data = complete_entry()
    data["last_checked"], data["review_interval_days"] = "2026-01-01", 30
    write_yaml(tmp_path / FEE, data)
    assert run_check(tmp_path) == [(FEE, "warning", "review due since 2026-01-31 (last_checked 2026-01-01)")]
    assert run_check(tmp_path, strict=True)[0][1] == "error"


REGION_RULES: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("welcome center present", lambda r: r.pop("welcome_center"), "welcome_center is missing"),
    ("web address", lambda r: r["welcome_center"].update(web="www.kreis.de"), "welcome_center.web"),
    ("e-mail", lambda r: r["welcome_center"].update(email="ki at kreis.de"), "welcome_center.email"),
    ("id equals file name", lambda r: r.update(id="kreis-probe"), "does not match the file name"),
    ("parent exists", lambda r: r.update(parent="bayern"), "parent 'bayern' is not a known region"),
    ("schema", lambda r: r.pop("name"), "name: Field required"),
]


@pytest.mark.parametrize(("rule", "mutate", "message"), REGION_RULES, ids=[r[0] for r in REGION_RULES])
def test_each_region_rule_reports_its_error(tmp_path: Path, rule: str, mutate: Callable[[dict[str, Any]], None],
                                            message: str) -> None:
    import yaml

    complete_kb(tmp_path)
    data = yaml.safe_load((tmp_path / REGION).read_text(encoding="utf-8"))
    mutate(data)
    write_yaml(tmp_path / REGION, data)
    findings = run_check(tmp_path)
    assert any(path == REGION and level == "error" and message in text for path, level, text in findings), findings


def test_invalid_yaml_is_reported_with_the_file(tmp_path: Path) -> None:
    complete_kb(tmp_path)
    (tmp_path / FEE).write_text("id: naturalisation-fee\ntitle: {de: 'offen\n", encoding="utf-8")
    findings = run_check(tmp_path)
    assert [(p, level) for p, level, text in findings if "invalid YAML" in text] == [(FEE, "error")]


@pytest.mark.parametrize(
    ("url", "ok"),
    [("https://www.gesetze-im-internet.de/stag/__38.html", True), ("http://bamf.de", True),
     ("https://example.org:8443/x?y=1", True), ("ftp://example.org", False), ("https://", False),
     ("https://localhost", False), ("www.bamf.de", False), ("https://bamf .de", False), ("", False)],
)
def test_url_syntax(url: str, ok: bool) -> None:
    assert is_http_url(url) is ok


@pytest.mark.parametrize(
    ("text", "found"),
    [("Kinder < 6 Jahre und > 3 Jahre", None), ("B1 <-> B2", None), ("Zeile<br>Zeile", "<br>"),
     ("<a href='x'>hier</a>", "<a href='x'>"), ("Tom &amp; Jerry", "&amp;"), ("[hier](https://x.de)", "[hier](https://x.de)")],
)
def test_markup_detection_leaves_plain_comparisons_alone(text: str, found: str | None) -> None:
    assert markup_in(text) == found


def test_kb_check_command_exit_codes_and_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LOTSE_KNOWLEDGE_DIR", str(complete_kb(tmp_path)))
    args = argparse.Namespace(today="2026-11-22", strict=False)
    assert kb_check_command(args) == 0
    assert capsys.readouterr().out.strip() == "kb check: 2 entries, 1 regions: 0 errors, 0 warnings"

    data = complete_entry()
    data["answers"]["de"]["text"] = "<p>255 Euro</p>"
    write_yaml(tmp_path / FEE, data)
    assert kb_check_command(args) == 1
    out = capsys.readouterr().out
    assert "naturalisation-fee.yml: error: answers.de.text contains markup '<p>'" in out
    assert out.strip().endswith("1 error, 0 warnings")

    assert kb_check_command(argparse.Namespace(today="22.11.2026", strict=False)) == 2
