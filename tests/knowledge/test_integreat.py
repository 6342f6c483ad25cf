"""Integreat import: HTML to sentences, and an import that is idempotent and updates in place."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from knowledge.bench_omos import omos_dir
from knowledge.integreat import html_to_sentences, import_export, load_integreat_pages, split_sentences
from lotse.cli import main


def test_abbreviations_do_not_end_sentences() -> None:
    text = "Bringen Sie z. B. den Pass mit. Es kostet ca. 5 Euro (Nr. 3). Dr. Meier hilft bis zur 10. Klasse. Fertig"
    assert split_sentences(text) == [
        "Bringen Sie z. B. den Pass mit.", "Es kostet ca. 5 Euro (Nr. 3).",
        "Dr. Meier hilft bis zur 10. Klasse.", "Fertig",
    ]
    assert split_sentences("Wo? Hier! Ja.") == ["Wo?", "Hier!", "Ja."]
    assert split_sentences("ما هو؟ هذا هو.") == ["ما هو؟", "هذا هو."]


def test_html_lists_and_paragraphs_are_boundaries_and_entities_are_decoded() -> None:
    html = ("<div><h3>Was macht die Fl&#252;chtlings&shy;beratung?</h3><p>Sie hilft bei:&#160;</p>"
            "<ul><li>Fragen zum Asyl</li><li>Wohnen &amp; Arbeit</li></ul><p>Termin n&ouml;tig. Ruf an.<br>"
            "Mail: a@b.de</p><script>var x = 1;</script><p>&#160;</p></div>")
    assert html_to_sentences(html) == [
        "Was macht die Flüchtlingsberatung?", "Sie hilft bei:", "Fragen zum Asyl", "Wohnen & Arbeit",
        "Termin nötig.", "Ruf an.", "Mail: a@b.de",
    ]


def record(page_id: int, title: str, content: str, language: str = "de") -> dict[str, Any]:
    return {
        "id": page_id, "url": f"https://admin.integreat-app.de/testkreis/{language}/p{page_id}/",
        "path": f"/testkreis/{language}/p{page_id}/", "title": title, "content": content,
        "parent": {"id": 0}, "available_languages": {"en": {"id": page_id + 1000, "url": "x", "path": "y"}},
    }


def write_export(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    return path


def test_import_is_idempotent_and_updates_in_place(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    export = write_export(tmp_path / "de.json", [
        record(2, "Kita", "<p>Kinder ab 1 Jahr. Anmeldung online.</p>"),
        record(1, "Schule", "<ul><li>Schulpflicht ab 6</li></ul>"),
    ])
    assert import_export(export, "testkreis", sources) == {"de": 2}
    stored = sources / "testkreis" / "de.json"
    first = stored.read_bytes()
    import_export(export, "testkreis", sources)
    assert stored.read_bytes() == first  # importing twice gives identical files

    pages = load_integreat_pages("testkreis", sources)
    assert [p.id for p in pages] == [1, 2]
    assert pages[1].sentences == ["Kinder ab 1 Jahr.", "Anmeldung online."]
    assert pages[0].url.endswith("/p1/") and pages[0].region == "testkreis" and pages[0].language == "de"
    assert pages[0].translations == {"en": 1001}

    write_export(export, [record(2, "Kita neu", "<p>Kinder ab 2 Jahren.</p>"), record(3, "Arzt", "<p>Hausarzt.</p>")])
    import_export(export, "testkreis", sources)
    pages = load_integreat_pages(None, sources)
    assert [(p.id, p.title) for p in pages] == [(2, "Kita neu"), (3, "Arzt")]  # 1 dropped, 2 replaced


def test_cli_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import knowledge.integreat as integreat

    monkeypatch.setattr(integreat, "SOURCES_DIR", tmp_path / "sources")
    export = write_export(tmp_path / "en.json", [record(5, "Doctor", "<p>See a GP.</p>", "en")])
    assert main(["kb", "import-integreat", str(export), "--region", "testkreis", "--no-index"]) == 0
    assert "testkreis/en: 1 pages" in capsys.readouterr().out
    assert load_integreat_pages("testkreis")[0].sentences == ["See a GP."]


@pytest.mark.skipif(not (omos_dir() / "integreat-pages").is_dir(), reason="shared OMoS-QA data not present")
def test_real_export_parses(tmp_path: Path) -> None:
    export = omos_dir() / "integreat-pages" / "lkaugsburg" / "en.json"
    counts = import_export(export, "lkaugsburg", tmp_path)
    assert counts["en"] > 100
    pages = load_integreat_pages("lkaugsburg", tmp_path)
    assert all(p.url.startswith("https://") for p in pages)
    assert sum(len(p.sentences) for p in pages) > 10 * len(pages)
