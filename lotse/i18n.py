"""Fixed texts (greeting, menus, errors) from the locale files in ``lotse/locales``.

Texts live in YAML so translators can work without touching code; a missing key or language
falls back along the language's fallback chain instead of failing in front of a newcomer.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

from lotse.languages import LANGUAGES, fallback_chain

LOCALES_DIR = Path(__file__).parent / "locales"


@cache
def load_locale(code: str) -> dict[str, str]:
    path = LOCALES_DIR / f"{code}.yml"
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(k): str(v) for k, v in data.items()}


def t(key: str, lang: str, **values: Any) -> str:
    """The text ``key`` in ``lang`` with ``{placeholders}`` filled in."""
    for code in fallback_chain(lang if lang in LANGUAGES else "en"):
        text = load_locale(code).get(key)
        if text is not None:
            return text.format(**values) if values else text
    raise KeyError(f"unknown text key {key!r}")


def native_name(code: str) -> str:
    lang = LANGUAGES.get(code)
    return lang.native if lang else code
