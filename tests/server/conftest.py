"""Translation packages for the hub's tests: real argostranslate packages, built tiny at test time."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from lotse import paths
from server.core.config import Settings
from server.core.db import get_sessionmaker, upgrade_database
from server.services.users import add_user

ARGOS_MISSING = importlib.util.find_spec("argostranslate") is None or importlib.util.find_spec("ctranslate2") is None
# (from, to, tokenizer): ar↔de directly, de→tr only through English, de→fr with a BPE tokenizer.
PACKAGES = [("ar", "de", "sentencepiece"), ("de", "ar", "sentencepiece"), ("de", "en", "sentencepiece"),
            ("en", "tr", "sentencepiece"), ("de", "fr", "bpe")]


@pytest.fixture(scope="session")
def argos_models(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    if ARGOS_MISSING:
        pytest.skip("argostranslate extra not installed (make install-translate; CI installs it)")
    from tests.argos_fixture import build_package, train_sentencepiece

    dest = tmp_path_factory.mktemp("argosmodels")
    sentencepiece_model = train_sentencepiece()
    return {
        (src, tgt): build_package(dest, src, tgt, tokenizer=tok, sentencepiece_model=sentencepiece_model)
        for src, tgt, tok in PACKAGES
    }


@pytest.fixture(scope="session")
def installed_var(tmp_path_factory: pytest.TempPathFactory, argos_models: dict[tuple[str, str], Path]) -> Path:
    """A var dir with every test package installed, as ``lotse translate install`` does (in-process: faster)."""
    from lotse.translate_cli import install_archive
    from server.services.translation import load_argos

    var_dir = tmp_path_factory.mktemp("installed") / "var"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(paths, "VAR", var_dir)
        package = load_argos()
        for (src, tgt), archive in argos_models.items():
            assert install_archive(package, archive) == (src, tgt)
    return var_dir


PASSWORD = "correct horse battery"


@pytest.fixture
def staff(settings: Settings) -> None:
    upgrade_database(settings.database_url)
    with get_sessionmaker(settings.database_url)() as db:
        add_user(db, "anna", PASSWORD, "case_manager", ["abh-infopoint"], display_name="Anna")
        add_user(db, "ben", PASSWORD, "case_manager", ["ki-school"])
        add_user(db, "root", PASSWORD, "admin")
        add_user(db, "eddi", PASSWORD, "editor")
