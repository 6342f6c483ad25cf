"""Towns, districts and offices named in a question, found by a spaCy EntityRuler.

"Ich wohne in Goch, wo ist die Ausländerbehörde?" should get the Kreis Kleve answer even in a
session that never chose a region. The patterns are built from content, not code: every
municipality and the name of every file in ``knowledge/regions/``, and the office names in
``office_names.yml``; a new district becomes recognisable by adding its region file.

Some town names are ordinary words ("Much" in the Rhein-Sieg-Kreis is English "much", "Senden"
in Kreis Coesfeld is a German verb and Turkish "from you"). A name that is a word of the knowledge
base or a spaCy stop word in any supported language therefore only counts when written with its
capital letter right after a place preposition ("in Much", "aus Senden").
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml

from knowledge.model import STATE_REGION, KnowledgeBase
from knowledge.tokens import Tokenizer

if TYPE_CHECKING:
    from spacy.language import Language

OFFICE_NAMES = Path(__file__).resolve().parent / "office_names.yml"
Kind = Literal["town", "region", "office"]
# Words before a place name that make an ambiguous name a place: "in Much", "aus Senden", "near Rees".
PLACE_PREPOSITIONS = ("in", "im", "aus", "nach", "bei", "von", "from", "near", "à", "de", "w", "z", "în", "u", "в",
                      "із", "з")
# French is left out: importing spaCy's French rules alone takes 2 s; its words are in the content anyway.
STOP_WORD_LANGUAGES = ("de", "en", "tr", "pl", "ro", "it", "nl", "pt", "es", "uk", "ru")
_APOSTROPHE_SUFFIX = re.compile(r"(?<=\w)['’ʼ](?=\w)")  # Turkish "Goch'ta": the name, then the suffix
_FOLD = {"ä": ("a", "ae"), "ö": ("o", "oe"), "ü": ("u", "ue"), "ß": ("ss",)}
_WORDS = Tokenizer(stem=None, arabic_clitics=False)


@dataclass(frozen=True)
class Place:
    """One name found in a text: a town or district (with its region id) or an office (with its key)."""

    text: str
    kind: Kind
    key: str  # region id for towns and districts, office key for offices


def _fold_char(ch: str, choice: int) -> str:
    options = _FOLD.get(ch.lower())
    if options is None:
        return ch
    folded = options[min(choice, len(options) - 1)]
    return folded.capitalize() if ch.isupper() else folded


def spellings(name: str) -> list[str]:
    """The name as written, and without umlauts the two ways people type them ("Dülmen" -> Dulmen, Duelmen)."""
    return list(dict.fromkeys([name, *("".join(_fold_char(ch, choice) for ch in name) for choice in (0, 1))]))


def town_aliases(name: str) -> list[str]:
    """Short forms people use: "Emmerich am Rhein" -> Emmerich, "Hennef (Sieg)" -> Hennef, "Sankt" -> "St."."""
    aliases = [name]
    bare = re.sub(r"\s*\(.*?\)", "", name).strip()
    aliases.append(bare)
    short = re.split(r"\s+(?:am|an der|im|in der|ob der)\s+", bare)[0]
    aliases.append(short)
    aliases += [a.replace("Sankt ", "St. ") for a in list(aliases) if a.startswith("Sankt ")]
    return list(dict.fromkeys(a for a in aliases if a))


def region_aliases(name: str) -> list[str]:
    """ "Kreis Kleve" -> also "Kreises Kleve"; "Rhein-Sieg-Kreis" -> also "Rhein-Sieg-Kreises", "Rhein-Sieg"."""
    aliases = [name]
    if name.startswith("Kreis "):
        aliases.append("Kreises " + name[len("Kreis "):])
    if name.endswith("-Kreis"):
        aliases += [name + "es", name[: -len("-Kreis")]]
    return aliases


def load_office_names(path: Path = OFFICE_NAMES) -> dict[str, dict[str, list[str]]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(key): {"names": [str(n) for n in value.get("names", [])],
                       "exact": [str(n) for n in value.get("exact", [])]}
            for key, value in (data.get("offices") or {}).items()}


def common_words(kb: KnowledgeBase) -> set[str]:
    """Words a town name may collide with: the knowledge base's own words and spaCy's stop words."""
    from spacy.util import get_lang_class

    words: set[str] = set()
    for entry in kb.entries.values():
        if entry.is_overlay:  # local entries name their own towns
            continue
        for texts in (entry.title.values(), *entry.questions.values(), (a.text for a in entry.answers.values())):
            for text in texts:
                words.update(_WORDS.words(text))
    for lang in STOP_WORD_LANGUAGES:
        words.update(w.casefold() for w in get_lang_class(lang).Defaults.stop_words)
    return words


def _is_ambiguous(name: str, words: set[str]) -> bool:
    parts = _WORDS.words(name)
    return len(parts) == 1 and parts[0] in words


def _phrase(text: str) -> list[dict[str, Any]]:
    """A case-insensitive token pattern for ``text``, tokenised like the matcher's input."""
    from knowledge.nlp import blank

    return [{"LOWER": token.lower_} for token in blank("xx").make_doc(text)]


class PlaceFinder:
    """One EntityRuler over a blank multilingual pipeline; ``find`` is thread-safe."""

    def __init__(self, kb: KnowledgeBase, office_names: Path = OFFICE_NAMES) -> None:
        import spacy

        self.nlp: Language = spacy.blank("xx")
        ruler = self.nlp.add_pipe("entity_ruler", config={"validate": True})
        words = common_words(kb)
        patterns: list[dict[str, Any]] = []
        for region in kb.regions.values():
            if region.id == STATE_REGION:
                continue
            for alias in region_aliases(region.name):
                patterns += [{"label": "REGION", "id": region.id, "pattern": _phrase(s)} for s in spellings(alias)]
            for town in region.municipalities:
                for alias in town_aliases(town):
                    ambiguous = _is_ambiguous(alias, words)
                    for spelling in spellings(alias):
                        pattern = ([{"LOWER": {"IN": list(PLACE_PREPOSITIONS)}}, {"ORTH": spelling}] if ambiguous
                                   else _phrase(spelling))
                        patterns.append({"label": "TOWN", "id": region.id, "pattern": pattern})
        for key, names in load_office_names(office_names).items():
            for name in names["names"]:
                patterns += [{"label": "OFFICE", "id": key, "pattern": _phrase(s)} for s in spellings(name)]
            patterns += [{"label": "OFFICE", "id": key, "pattern": [{"ORTH": name}]} for name in names["exact"]]
        ruler.add_patterns(patterns)  # type: ignore[attr-defined]
        self.patterns = len(patterns)
        self._lock = threading.Lock()

    def find(self, text: str) -> list[Place]:
        """Every town, district and office named in ``text``, in order."""
        text = _APOSTROPHE_SUFFIX.sub(" ", unicodedata.normalize("NFC", text))
        with self._lock:  # a Language object is not documented as safe to call from several threads
            doc = self.nlp(text)
        places = []
        for ent in doc.ents:
            kind: Kind = "office" if ent.label_ == "OFFICE" else "region" if ent.label_ == "REGION" else "town"
            words = ent.text.split()
            name = " ".join(words[1:]) if kind == "town" and words[0].lower() in PLACE_PREPOSITIONS and \
                len(words) > 1 else ent.text
            places.append(Place(name, kind, ent.ent_id_))
        return places

    def region(self, text: str) -> str | None:
        """The one region the towns and districts in ``text`` belong to; ``None`` if none or several."""
        regions = {p.key for p in self.find(text) if p.kind != "office"}
        return regions.pop() if len(regions) == 1 else None
