"""Translation between newcomer and case manager: real argostranslate packages, built tiny at test time.

The packages translate into nonsense (random weights); the tests check what a case manager
or an operator notices: a pair is installed and listed, its messages come back translated,
a pair without a package passes untranslated, and nothing breaks or leaks into logs.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import threading
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from lotse import paths
from lotse.cli import main as lotse_main
from server.services import translation
from server.services.translation import NullTranslator, get_translator, reset_translator, split_sentences

ROOT = Path(__file__).resolve().parents[2]
ARGOS_MISSING = importlib.util.find_spec("argostranslate") is None or importlib.util.find_spec("ctranslate2") is None
needs_argos = pytest.mark.skipif(
    ARGOS_MISSING, reason="argostranslate extra not installed (make install-translate; CI installs it)"
)
ARABIC = "متى تبدأ دورة الاندماج؟ أحتاج إلى موعد."
GERMAN = "Wann beginnt der Integrationskurs? Ich brauche einen Termin."


def run_lotse(var_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    home = var_dir.parent / "home"
    home.mkdir(exist_ok=True)
    environment = {**os.environ, "LOTSE_VAR_DIR": str(var_dir), "HOME": str(home), "no_proxy": "*", **env}
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        environment.pop(name, None)
    return subprocess.run([sys.executable, "-m", "lotse.cli", *args], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(autouse=True)
def fresh_translator() -> Iterator[None]:
    reset_translator()
    yield
    reset_translator()


@pytest.fixture
def use_var(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Path], None]]:
    """Point Lotse (and so the translator) at another var dir for one test."""

    def use(var_dir: Path) -> None:
        monkeypatch.setattr(paths, "VAR", var_dir)
        reset_translator()

    yield use


@needs_argos
def test_install_prints_the_pair_and_list_shows_it(tmp_path: Path, argos_models: dict[tuple[str, str], Path]) -> None:
    var_dir = tmp_path / "var"
    empty = run_lotse(var_dir, "translate", "list")
    assert empty.returncode == 0
    assert "no translation packages" in empty.stdout and "untranslated" in empty.stdout

    installed = run_lotse(var_dir, "translate", "install", str(argos_models[("ar", "de")]))
    assert installed.returncode == 0, installed.stderr
    assert "installed ar → de  (Arabic → German)" in installed.stdout
    assert (var_dir / "argos-packages" / "translate-ar_de-1_0" / "model" / "model.bin").is_file()

    listed = run_lotse(var_dir, "translate", "list")
    assert listed.returncode == 0
    assert "ar → de  (Arabic → German)" in listed.stdout
    assert "de → ar" not in listed.stdout
    # argostranslate writes its settings, caches and packages under the var dir, not the home directory.
    assert list((tmp_path / "home").iterdir()) == []


@needs_argos
def test_installed_pair_is_translated(installed_var: Path, use_var: Callable[[Path], None]) -> None:
    use_var(installed_var)
    translator = get_translator()
    assert ("ar", "de") in translator.pairs() and ("de", "ar") in translator.pairs()
    assert translator.can_translate("ar", "de")
    to_german = translator.translate(ARABIC, "ar", "de")
    to_arabic = translator.translate(GERMAN, "de", "ar")
    assert isinstance(to_german, str) and to_german.strip()
    assert isinstance(to_arabic, str) and to_arabic.strip()
    assert to_german != ARABIC and to_arabic != GERMAN
    assert translator.translate(ARABIC, "ar", "de") == to_german  # the same model, loaded once


@needs_argos
def test_pair_without_package_passes_untranslated(installed_var: Path, use_var: Callable[[Path], None]) -> None:
    use_var(installed_var)
    translator = get_translator()
    assert not translator.can_translate("ar", "uk")
    assert translator.translate(ARABIC, "ar", "uk") is None
    assert translator.translate("Merhaba", "tr", "de") is None
    assert translator.translate(GERMAN, "de", "de") is None  # same language: nothing to do
    assert translator.translate(GERMAN, "de", "xx") is None
    assert ("ar", "uk") not in translator.pairs()


@needs_argos
def test_pair_is_translated_through_english(installed_var: Path, use_var: Callable[[Path], None]) -> None:
    use_var(installed_var)
    translator = get_translator()
    assert ("de", "tr") not in translator.pairs()
    assert translator.can_translate("de", "tr")
    result = translator.translate(GERMAN, "de", "tr")
    assert isinstance(result, str) and result.strip()
    listed = run_lotse(installed_var, "translate", "list")
    assert "through an intermediate language" in listed.stdout and "de → tr  (German → Turkish)" in listed.stdout


@needs_argos
def test_bpe_package_is_translated(installed_var: Path, use_var: Callable[[Path], None]) -> None:
    use_var(installed_var)
    result = get_translator().translate(GERMAN, "de", "fr")
    assert isinstance(result, str) and result.strip()


@needs_argos
def test_concurrent_requests_get_the_same_translations(installed_var: Path, use_var: Callable[[Path], None]) -> None:
    use_var(installed_var)
    texts = [f"Ich brauche einen Termin Nummer {i}." for i in range(12)]
    sequential = [translation.ArgosTranslator().translate(text, "de", "ar") for text in texts]
    shared = get_translator()
    with ThreadPoolExecutor(max_workers=6) as pool:
        parallel = list(pool.map(lambda text: shared.translate(text, "de", "ar"), texts))
    assert parallel == sequential
    assert all(isinstance(result, str) for result in parallel)


@needs_argos
def test_newly_installed_package_is_used_without_restart(
    tmp_path: Path, argos_models: dict[tuple[str, str], Path], use_var: Callable[[Path], None]
) -> None:
    var_dir = tmp_path / "var"
    use_var(var_dir)
    assert get_translator().translate(GERMAN, "de", "ar") is None
    assert run_lotse(var_dir, "translate", "install", str(argos_models[("de", "ar")])).returncode == 0
    assert get_translator().can_translate("de", "ar")
    assert isinstance(get_translator().translate(GERMAN, "de", "ar"), str)


@needs_argos
def test_broken_package_is_refused_at_install(tmp_path: Path, argos_models: dict[tuple[str, str], Path]) -> None:
    broken = tmp_path / "translate-ar_de-1_0.argosmodel"
    with zipfile.ZipFile(argos_models[("ar", "de")]) as good, zipfile.ZipFile(broken, "w") as bad:
        for item in good.infolist():
            data = b"not a model" if item.filename.endswith("model.bin") else good.read(item)
            bad.writestr(item, data)
    var_dir = tmp_path / "var"
    result = run_lotse(var_dir, "translate", "install", str(broken))
    assert result.returncode == 1
    assert "does not load" in result.stdout and "Traceback" not in result.stderr
    assert "no translation packages" in run_lotse(var_dir, "translate", "list").stdout

    not_a_package = run_lotse(var_dir, "translate", "install", str(ROOT / "README.md"))
    assert not_a_package.returncode == 1 and "not an Argos package" in not_a_package.stdout


@needs_argos
def test_newer_package_replaces_the_old_one_for_the_pair(
    tmp_path: Path, argos_models: dict[tuple[str, str], Path]
) -> None:
    newer = tmp_path / "translate-ar_de-1_1.argosmodel"
    with zipfile.ZipFile(argos_models[("ar", "de")]) as old, zipfile.ZipFile(newer, "w") as new:
        for item in old.infolist():
            new.writestr(item.filename.replace("-1_0/", "-1_1/"), old.read(item))
    var_dir = tmp_path / "var"
    assert run_lotse(var_dir, "translate", "install", str(argos_models[("ar", "de")])).returncode == 0
    assert run_lotse(var_dir, "translate", "install", str(newer)).returncode == 0
    assert sorted(p.name for p in (var_dir / "argos-packages").iterdir()) == ["translate-ar_de-1_1"]
    assert run_lotse(var_dir, "translate", "list").stdout.count("ar → de") == 1


@needs_argos
def test_translation_failure_returns_none_and_logs_no_text(
    tmp_path: Path,
    argos_models: dict[tuple[str, str], Path],
    use_var: Callable[[Path], None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    var_dir = tmp_path / "var"
    with zipfile.ZipFile(argos_models[("ar", "de")]) as archive:
        archive.extractall(var_dir / "argos-packages")
    (var_dir / "argos-packages" / "translate-ar_de-1_0" / "model" / "model.bin").write_bytes(b"damaged on disk")
    use_var(var_dir)
    translator = get_translator()
    assert translator.can_translate("ar", "de")
    with caplog.at_level("DEBUG"):
        assert translator.translate(ARABIC, "ar", "de") is None
    assert "RuntimeError" in caplog.text
    assert "دورة" not in caplog.text and "موعد" not in caplog.text


@needs_argos
def test_from_index_fails_clearly_offline(tmp_path: Path) -> None:
    result = run_lotse(tmp_path / "var", "translate", "install", "--from-index", "de", "ar",
                       ARGOS_PACKAGE_INDEX="http://127.0.0.1:9/")  # nothing listens on the discard port
    assert result.returncode == 1
    assert "offline" in result.stdout and "lotse translate install FILE" in result.stdout
    assert "Traceback" not in result.stderr


@needs_argos
def test_from_index_installs_direct_and_through_english(
    tmp_path: Path, argos_models: dict[tuple[str, str], Path]
) -> None:
    """A machine that is online downloads from the index: served here from a local directory."""
    served = tmp_path / "index"
    served.mkdir()
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(served))
    )
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    index = []
    for (src, tgt), archive in argos_models.items():
        if (src, tgt) == ("de", "fr"):
            continue
        shutil.copy(archive, served / archive.name)
        with zipfile.ZipFile(archive) as zf:
            metadata = json.loads(zf.read(f"{archive.stem}/metadata.json"))
        index.append({**metadata, "links": [base + archive.name]})
    (served / "index.json").write_text(json.dumps(index), encoding="utf-8")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        var_dir = tmp_path / "var"
        direct = run_lotse(var_dir, "translate", "install", "--from-index", "ar", "de", ARGOS_PACKAGE_INDEX=base)
        assert direct.returncode == 0, direct.stdout + direct.stderr
        assert "installed ar → de" in direct.stdout
        pivot = run_lotse(var_dir, "translate", "install", "--from-index", "de", "tr", ARGOS_PACKAGE_INDEX=base)
        assert pivot.returncode == 0, pivot.stdout + pivot.stderr
        assert "installed de → en" in pivot.stdout and "installed en → tr" in pivot.stdout
        missing = run_lotse(var_dir, "translate", "install", "--from-index", "ar", "fr", ARGOS_PACKAGE_INDEX=base)
        assert missing.returncode == 1 and "no package for ar → fr" in missing.stdout
    finally:
        server.shutdown()
        server.server_close()
    listed = run_lotse(var_dir, "translate", "list").stdout
    assert "ar → de" in listed and "en → tr" in listed
    assert not list((var_dir / "argos" / "cache").rglob("*.argosmodel"))  # downloads are not kept


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def test_without_the_extra_nothing_is_translated(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("argostranslate", "argostranslate.settings", "argostranslate.package"):
        monkeypatch.setitem(sys.modules, name, None)  # makes the import fail, as when not installed
    reset_translator()
    translator = get_translator()
    assert isinstance(translator, NullTranslator)
    assert translator.translate(GERMAN, "de", "ar") is None
    assert not translator.can_translate("de", "ar") and translator.pairs() == []

    assert lotse_main(["translate", "list"]) == 2
    assert "make install-translate" in capsys.readouterr().out
    assert lotse_main(["translate", "install", "x.argosmodel"]) == 2


def test_sentences_are_split_at_end_punctuation_in_any_script() -> None:
    assert split_sentences("Hallo. Wie geht's?\nGut!") == ["Hallo.", "Wie geht's?", "Gut!"]
    assert split_sentences("متى تبدأ الدورة؟ أحتاج إلى موعد.") == ["متى تبدأ الدورة؟", "أحتاج إلى موعد."]
    assert split_sentences("Bitte z.B. den Pass mitbringen. Nr. 5 ist frei.") == [
        "Bitte z.B. den Pass mitbringen.", "Nr. 5 ist frei."]
    assert split_sentences("  \n ") == []
