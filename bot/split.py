"""Cut long answers into Telegram messages without cutting sentences.

Telegram refuses texts over 4096 characters, counted in UTF-16 code units (an emoji counts
twice). A knowledge answer can be longer, and a message that stops mid-sentence is hard to
read, so we cut after sentence ends (also Arabic ``؟``, Urdu ``۔`` and Ge'ez ``።``) or line
breaks; only a single sentence longer than a message is cut between words.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from telegram.constants import MessageLimit

MAX_TEXT = int(MessageLimit.MAX_TEXT_LENGTH)

_SENTENCE_END = re.compile(r"(?<=[.!?…؟۔።])[\"'»”’)\]]*\s+|\n+")
_WORD_END = re.compile(r"\s+")


def units(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def split_message(text: str, limit: int = MAX_TEXT) -> list[str]:
    """``text`` as messages of at most ``limit`` units, cut at sentence ends where possible."""
    chunks: list[str] = []
    current, size = "", 0
    for piece in _pieces(text, limit):
        piece_size = units(piece)
        if current and size + piece_size > limit:
            chunks.append(current)
            current, size = "", 0
        current += piece
        size += piece_size
    chunks.append(current)
    return [chunk.strip() for chunk in chunks if chunk.strip()]


def _pieces(text: str, limit: int) -> Iterator[str]:
    """Sentences (with their trailing space); words of a sentence too long for one message."""
    for sentence in _after(_SENTENCE_END, text):
        if units(sentence) <= limit:
            yield sentence
            continue
        for word in _after(_WORD_END, sentence):
            yield from [word] if units(word) <= limit else _cut(word, limit)


def _after(boundary: re.Pattern[str], text: str) -> Iterator[str]:
    start = 0
    for match in boundary.finditer(text):
        yield text[start : match.end()]
        start = match.end()
    if start < len(text):
        yield text[start:]


def _cut(word: str, limit: int) -> Iterator[str]:
    """A "word" longer than a message (a pasted blob): cut anywhere, but never inside a character."""
    current, size = "", 0
    for char in word:
        char_size = units(char)
        if size + char_size > limit:
            yield current
            current, size = "", 0
        current += char
        size += char_size
    if current:
        yield current
