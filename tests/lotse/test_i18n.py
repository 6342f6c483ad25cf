"""Every fixed text exists in every supported language, with the same placeholders."""

from __future__ import annotations

import re

import pytest

from lotse.i18n import load_locale, t
from lotse.languages import LANGUAGES, RTL_LANGUAGES

PLACEHOLDER = re.compile(r"\{(\w+)\}")
REFERENCE = load_locale("en")


@pytest.mark.parametrize("code", sorted(LANGUAGES))
def test_locale_is_complete(code: str) -> None:
    locale = load_locale(code)
    assert set(locale) == set(REFERENCE), f"{code}: missing {set(REFERENCE) - set(locale)}"
    for key, text in locale.items():
        assert text.strip(), f"{code}.{key} is empty"
        assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(REFERENCE[key])), f"{code}.{key}"
        assert "<" not in text, f"{code}.{key} contains markup"


@pytest.mark.parametrize("code", sorted(set(LANGUAGES) - {"en"}))
def test_locale_is_translated(code: str) -> None:
    locale = load_locale(code)
    same = [k for k in ("greet", "out_of_scope", "crisis", "service_unavailable") if locale[k] == REFERENCE[k]]
    assert not same, f"{code}: untranslated {same}"


def test_emergency_numbers_survive_translation() -> None:
    for code in LANGUAGES:
        crisis = t("crisis", code)
        for number in ("110", "112", "116 016", "0800 111 0 111"):
            assert number in crisis, f"{code} crisis text lacks {number}"


def test_placeholders_are_filled_and_rtl_set() -> None:
    assert "02821" in t("no_answer", "ar", contact="02821 85-493")
    assert {"ar", "fa", "ps", "ur", "ckb"} == set(RTL_LANGUAGES)
