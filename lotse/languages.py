"""The languages Lotse speaks.

One table is the single source of truth: the language picker, the locale loader, the
language detector and the knowledge base all read it, so adding a language is one line here
plus its locale file.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    code: str
    native: str
    english: str
    rtl: bool = False
    # Language for which this one is a readable fallback (e.g. Dari speakers read Farsi).
    fallback: str = "en"


LANGUAGES: dict[str, Language] = {
    lang.code: lang
    for lang in [
        Language("de", "Deutsch", "German", fallback="de"),
        Language("en", "English", "English", fallback="de"),
        Language("ar", "العربية", "Arabic", rtl=True),
        Language("tr", "Türkçe", "Turkish"),
        Language("uk", "Українська", "Ukrainian", fallback="ru"),
        Language("ru", "Русский", "Russian"),
        Language("fa", "فارسی / دری", "Farsi / Dari", rtl=True),
        Language("ps", "پښتو", "Pashto", rtl=True, fallback="fa"),
        Language("ku", "Kurdî (Kurmancî)", "Kurdish (Kurmanji)", fallback="tr"),
        Language("ckb", "کوردی (سۆرانی)", "Kurdish (Sorani)", rtl=True, fallback="ar"),
        Language("pl", "Polski", "Polish"),
        Language("ro", "Română", "Romanian"),
        Language("sq", "Shqip", "Albanian"),
        Language("hy", "Հայերեն", "Armenian", fallback="ru"),
        Language("fr", "Français", "French"),
        Language("it", "Italiano", "Italian"),
        Language("nl", "Nederlands", "Dutch"),
        Language("pt", "Português", "Portuguese"),
        Language("so", "Soomaali", "Somali"),
        Language("ur", "اردو", "Urdu", rtl=True),
        Language("mn", "Монгол", "Mongolian", fallback="ru"),
        Language("ti", "ትግርኛ", "Tigrinya"),
        Language("es", "Español", "Spanish"),
    ]
}

DEFAULT_LANGUAGE = "de"
RTL_LANGUAGES = frozenset(code for code, lang in LANGUAGES.items() if lang.rtl)


def is_supported(code: str | None) -> bool:
    return code in LANGUAGES


def normalise(code: str | None) -> str | None:
    """Map common aliases (``prs`` Dari, ``kmr`` Kurmanji, ``ua``) onto our codes."""
    if not code:
        return None
    code = code.strip().lower().replace("_", "-")
    aliases = {
        "prs": "fa", "fa-af": "fa", "per": "fa", "kmr": "ku", "ku-latn": "ku", "ku-arab": "ckb",
        "sdh": "ckb", "ua": "uk", "pbu": "ps", "pus": "ps", "tir": "ti", "sqi": "sq", "alb": "sq",
        "arm": "hy", "hye": "hy", "som": "so", "urd": "ur", "mon": "mn", "khk": "mn",
    }
    code = aliases.get(code, code)
    if code in LANGUAGES:
        return code
    base = code.split("-")[0]
    return base if base in LANGUAGES else None


def fallback_chain(code: str) -> list[str]:
    """Languages to try, in order, when content is missing in ``code``."""
    chain: list[str] = []
    current: str | None = code
    while current and current not in chain:
        chain.append(current)
        lang = LANGUAGES.get(current)
        current = lang.fallback if lang else None
    for extra in ("en", "de"):
        if extra not in chain:
            chain.append(extra)
    return chain
