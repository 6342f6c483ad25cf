"""Tokens for lexical (BM25) matching across 23 languages and the way people really type.

Newcomers type without diacritics ("einburgerung"), without Arabic vowel marks, with Arabic
letters on a Persian keyboard and vice versa, and bend words (Turkish, Slavic and German
inflection, Arabic clitics). A per-language stemmer zoo would be heavy; cheap folding plus an
optional prefix stem recovers most of it. Which variant is on by default was measured with
``knowledge.evaluate`` (leave-one-out retrieval over the example questions).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# A word may contain apostrophes: Ukrainian "м'ясо" is one word, Turkish "Köln'de" is a name
# plus a suffix, so such words yield their parts and the joined form.
_WORD = re.compile(r"\w+(?:['’ʼ]\w+)*", re.UNICODE)
_APOSTROPHE = re.compile(r"['’ʼ]")
VERSION = 2  # part of the name: changing how tokens are made must invalidate cached calibrations
_ARABIC_MARKS = re.compile(r"[\u0610-\u061A\u064B-\u065F\u0670\u06D6-\u06ED\u0640]")  # harakat, tatweel
_ARABIC_FOLD = str.maketrans({
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ی": "ي", "ې": "ي", "ك": "ک",
    "ة": "ه", "ۀ": "ه", "ؤ": "و", "ئ": "ي",
    # Arabic-Indic and Persian digits read the same as 0-9: "۲۵۵" must find "255".
    **{chr(0x0660 + i): str(i) for i in range(10)}, **{chr(0x06F0 + i): str(i) for i in range(10)},
})
_ARABIC_PREFIXES = ("وال", "بال", "كال", "فال", "لل", "ال")
_OTHER_FOLD = str.maketrans({"ı": "i", "ё": "е"})


def _is_latin(token: str) -> bool:
    return all(ch.isascii() or "LATIN" in unicodedata.name(ch, "") for ch in token)


def fold(token: str) -> str:
    """Spelling-insensitive form: no Latin diacritics, unified Arabic-script letters."""
    token = token.translate(_OTHER_FOLD)
    if _is_latin(token):
        decomposed = unicodedata.normalize("NFD", token)
        return "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return token.translate(_ARABIC_FOLD)


@dataclass(frozen=True)
class Tokenizer:
    """``stem``: also emit the first ``stem`` letters of longer words; ``ngrams``: char n-grams."""

    stem: int | None = 5
    ngrams: int | None = None
    arabic_clitics: bool = True
    spacy: bool = False  # words from spaCy's multilingual tokenizer instead of the regex (measured: no gain)

    @property
    def name(self) -> str:
        engine = "-spacy" if self.spacy else ""
        return f"w{VERSION}-s{self.stem or 0}-n{self.ngrams or 0}-a{int(self.arabic_clitics)}{engine}"

    def _raw(self, text: str) -> list[str]:
        if not self.spacy:
            return _WORD.findall(text)
        from knowledge.nlp import blank

        raw = []
        for token in blank("xx").make_doc(text):
            parts = _WORD.findall(token.text)
            # "2,29" or "e-mail" stay one token, and their parts count too
            raw += parts if len(parts) == 1 and parts[0] == token.text else [*parts, token.text] if parts else []
        return raw

    def words(self, text: str) -> list[str]:
        # Vowel marks go before splitting: \w does not match them, "التجنّس" would fall apart.
        text = unicodedata.normalize("NFKC", text).replace("\u200c", " ")
        text = _ARABIC_MARKS.sub("", text).casefold()
        raw_words = []
        for raw in self._raw(text):
            parts = _APOSTROPHE.split(raw)
            raw_words += [*parts, "".join(parts)] if len(parts) > 1 else parts
        words = []
        for raw in raw_words:
            word = fold(raw)
            if self.arabic_clitics and not _is_latin(word):
                for prefix in _ARABIC_PREFIXES:
                    if word.startswith(prefix) and len(word) - len(prefix) >= 3:
                        word = word[len(prefix):]
                        break
            if word:
                words.append(word)
        return words

    def __call__(self, text: str) -> list[str]:
        tokens = []
        for word in self.words(text):
            tokens.append(word)
            if self.stem and len(word) > self.stem + 1 and not word.isdigit():
                tokens.append(word[: self.stem] + "~")
            if self.ngrams and len(word) > self.ngrams:
                padded = f"^{word}$"
                tokens.extend("#" + padded[i : i + self.ngrams] for i in range(len(padded) - self.ngrams + 1))
        return tokens


DEFAULT_TOKENIZER = Tokenizer()
