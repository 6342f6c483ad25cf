"""Integreat CMS page exports as a knowledge source: plain-text sentences per page and region.

Integreat (Tür an Tür – Digitalfabrik gGmbH) is where many German districts already publish
newcomer information in several languages. Importing its page export gives Lotse local facts
without anyone retyping them. The result is stored as sorted JSON under
``var/integreat/<region>/<language>.json`` (``$LOTSE_INTEGREAT_DIR``, else ``$LOTSE_VAR_DIR/integreat``),
outside the content in git: the pages are the district's own text under its own licence (the
OMoS-QA exports are CC BY 4.0), imported on each installation rather than committed. Pages are
split into sentences because answers are extracted sentence by sentence (``knowledge.extract``)
and answered from by ``knowledge.pages``.
"""

from __future__ import annotations

import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

# Set to override where imports go (tests); None means ``sources_dir()``'s default.
SOURCES_DIR: Path | None = None


def sources_dir() -> Path:
    """Where imported pages live; read at call time, so a changed environment takes effect."""
    if SOURCES_DIR is not None:
        return SOURCES_DIR
    explicit = os.environ.get("LOTSE_INTEGREAT_DIR")
    if explicit:
        return Path(explicit)
    from lotse.paths import ROOT

    return Path(os.environ.get("LOTSE_VAR_DIR") or ROOT / "var") / "integreat"


ATTRIBUTION = "Integreat CMS pages (Tür an Tür – Digitalfabrik gGmbH), imported with `lotse kb import-integreat`"


class Page(BaseModel):
    """One Integreat page; ``translations`` maps language codes to the page ids of its translations."""

    id: int
    url: str
    title: str
    language: str
    region: str
    sentences: list[str]
    translations: dict[str, int] = Field(default_factory=dict)
    parent: int | None = None

    @property
    def text(self) -> str:
        return "\n".join(self.sentences)


# ---------------------------------------------------------------- HTML to text blocks

_BLOCK_TAGS = frozenset({
    "p", "div", "li", "ul", "ol", "br", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td", "th",
    "table", "section", "article", "blockquote", "dd", "dt", "dl", "hr", "pre", "figcaption",
})
_SKIP_TAGS = frozenset({"script", "style", "template", "noscript"})


class _TextCollector(HTMLParser):
    """Collects text; block tags end a block, so list items and paragraphs never merge."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)  # entities such as &#252; and &nbsp; are decoded
        self.blocks: list[str] = []
        self._current: list[str] = []
        self._skip = 0

    def _flush(self) -> None:
        text = re.sub(r"\s+", " ", "".join(self._current).replace("\xad", "").replace("\u200b", "")).strip()
        if text:
            self.blocks.append(text)
        self._current = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self._flush()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self._current.append(data)

    def close(self) -> None:
        super().close()
        self._flush()


def html_blocks(html: str) -> list[str]:
    """Text blocks (paragraphs, list items, headings) of an HTML fragment, whitespace normalised."""
    parser = _TextCollector()
    parser.feed(html)
    parser.close()
    return parser.blocks


# ---------------------------------------------------------------- sentence splitting

# Lower-case forms without the final dot. Single letters are covered separately ("z. B.", "A. Meier").
ABBREVIATIONS = frozenset({
    "nr", "ca", "bzw", "usw", "vgl", "ggf", "evtl", "inkl", "zzgl", "bspw", "sog", "str", "tel", "dr",
    "prof", "hr", "fr", "abs", "art", "gem", "geb", "mo", "di", "mi", "do", "sa", "so", "jan", "feb",
    "apr", "jun", "jul", "aug", "sep", "sept", "okt", "nov", "dez", "etc", "e.g", "i.e", "vs", "no",
    "mr", "mrs", "ms", "st", "u.a", "d.h", "z.b", "u.u", "o.ä", "s", "ff", "max", "min", "std", "tägl",
    "allg", "bzgl", "einschl", "jh", "lt", "mind", "rd", "u.v.m", "z.t", "approx", "dept", "incl",
    # other languages of the Integreat pages: Turkish "örn." / "vb.", Ukrainian and Russian "напр." / "див." / "см."
    "örn", "vb", "bkz", "напр", "див", "см", "т.е", "т.д", "p.ex", "cf",
})
_BOUNDARY = re.compile(r"[.!?؟।。]+[\"'”“»«)\]]*\s+")
_LAST_WORD = re.compile(r"(\S+)$")


def _is_abbreviation(before: str) -> bool:
    match = _LAST_WORD.search(before)
    if not match:
        return False
    word = match.group(1).lstrip("(\"'„“«»[").rstrip(".").casefold()
    if word in ABBREVIATIONS:
        return True
    if len(word) == 1 and word.isalpha():  # "z. B.", initials
        return True
    # "bis zur 9. oder 10. Klasse": German ordinals are numbers with a dot.
    return word.isdigit() and len(word) <= 2


def split_sentences(text: str) -> list[str]:
    """Sentences of one text block: splits after . ! ? unless the dot ends an abbreviation."""
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        punct_end = match.start() + len(match.group(0).rstrip())
        if match.group(0).startswith(".") and _is_abbreviation(text[start:match.start()]):
            continue
        rest = text[match.end():]
        if rest and rest[0].islower() and match.group(0).startswith("."):  # "ca. 5 km" style leftovers
            continue
        sentence = text[start:punct_end].strip()
        if sentence:
            sentences.append(sentence)
        start = match.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


def html_to_sentences(html: str) -> list[str]:
    return [s for block in html_blocks(html) for s in split_sentences(block)]


# ---------------------------------------------------------------- import and load


def _language_of(record: dict[str, Any]) -> str:
    path = str(record.get("path") or "")
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 2:
        return parts[1]
    raise ValueError(f"page {record.get('id')}: cannot tell its language from path {path!r}")


def parse_export(records: list[dict[str, Any]], region: str) -> list[Page]:
    """Pages of an Integreat export (the JSON list the CMS API returns), sorted by id."""
    pages = []
    for record in records:
        translations = {
            lang: int(info["id"])
            for lang, info in sorted((record.get("available_languages") or {}).items())
            if isinstance(info, dict) and info.get("id") is not None
        }
        parent = (record.get("parent") or {}).get("id") or None
        pages.append(Page(
            id=int(record["id"]),
            url=str(record.get("url") or ""),
            title=re.sub(r"\s+", " ", str(record.get("title") or "")).strip(),
            language=_language_of(record),
            region=region,
            sentences=html_to_sentences(str(record.get("content") or "")),
            translations=translations,
            parent=int(parent) if parent else None,
        ))
    return sorted(pages, key=lambda p: p.id)


def read_export(path: Path, region: str) -> list[Page]:
    records = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(records, list):
        raise ValueError(f"{path}: expected a JSON list of pages")
    return parse_export(records, region)


def _dump(region: str, language: str, pages: list[Page]) -> str:
    payload = {
        "source": ATTRIBUTION,
        "region": region,
        "language": language,
        "pages": [p.model_dump() for p in sorted(pages, key=lambda p: p.id)],
    }
    return json.dumps(payload, ensure_ascii=False, indent=1) + "\n"


def _default_dir() -> Path:
    """``sources_dir()`` under another name: the functions below take a ``sources_dir`` argument."""
    return sources_dir()


def import_export(path: Path, region: str, sources_dir: Path | None = None) -> dict[str, int]:
    """Import one export file; per language, the stored file is replaced by the export's pages.

    The export is the whole page tree of one language, so a page missing from it was deleted in
    the CMS and is dropped here; same ids are replaced. The output is a pure function of the
    export, so importing twice gives byte-identical files. Returns pages written per language.
    """
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", region):
        raise ValueError(f"region {region!r}: use lower-case letters, digits, '-' or '_'")
    base = (sources_dir or _default_dir()) / region
    by_language: dict[str, list[Page]] = {}
    for page in read_export(path, region):
        by_language.setdefault(page.language, []).append(page)
    base.mkdir(parents=True, exist_ok=True)
    for language, pages in by_language.items():
        target = base / f"{language}.json"
        text = _dump(region, language, pages)
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
    return {language: len(pages) for language, pages in sorted(by_language.items())}


def load_integreat_pages(region: str | None = None, sources_dir: Path | None = None) -> list[Page]:
    """All imported pages, or those of one region; ordered by region, language and id."""
    base = sources_dir or _default_dir()
    regions = [base / region] if region else sorted(p for p in base.glob("*") if p.is_dir())
    pages: list[Page] = []
    for region_dir in regions:
        for file in sorted(region_dir.glob("*.json")):
            data = json.loads(file.read_text(encoding="utf-8"))
            pages.extend(Page.model_validate(p) for p in data.get("pages", []))
    return pages


def import_command(args: Any) -> int:
    """Entry point of ``lotse kb import-integreat FILE --region NAME``."""
    counts = import_export(Path(args.file), args.region)
    for language, n in counts.items():
        print(f"{args.region}/{language}: {n} pages -> {_default_dir() / args.region / (language + '.json')}")
    if not getattr(args, "no_index", False):
        # Embed now, so the first question after an import does not wait minutes (knowledge.pages).
        from knowledge.encoders import default_encoder
        from knowledge.pages import PageAnswerer

        loaded = PageAnswerer(default_encoder()).region_pages(args.region)
        print(f"{args.region}: page index ready ({len(loaded.pages) if loaded else 0} pages, all languages)")
    return 0
