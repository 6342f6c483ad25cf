"""``lotse translate``: install and list the argostranslate packages that translate case-manager chats.

Packages are unpacked here rather than with ``argostranslate.package.install_from_path``,
because that function imports ``argostranslate.translate`` (and so stanza and torch, which
Lotse does not install) after unpacking. The archive format is the same: a zip holding one
directory with ``metadata.json``, ``model/`` and a tokenizer model.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import tempfile
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath
from types import ModuleType
from typing import Any

from lotse.languages import LANGUAGES, normalise
from server.services.translation import get_translator, load_argos, lotse_code, packages_dir, reset_translator

INSTALL_HINT = (
    "Translation needs the optional extra, which is not installed.\n"
    "Install it with:  make install-translate\n"
    "(or: .venv/bin/pip install --no-deps -r requirements/translate.lock)"
)
NETWORK_TIMEOUT_SECONDS = 30


class InstallError(Exception):
    """A package that cannot be installed, with a sentence saying why."""


def _describe(source: str, target: str) -> str:
    names = (LANGUAGES[c].english if c in LANGUAGES else c for c in (source, target))
    return f"{source} → {target}  ({' → '.join(names)})"


def _archive_root(archive: zipfile.ZipFile) -> str:
    """The one top-level directory of a package archive, holding ``metadata.json``."""
    tops = {PurePosixPath(name).parts[0] for name in archive.namelist() if name.strip("/")}
    if len(tops) != 1:
        raise InstallError("not an Argos package: the archive must hold exactly one directory")
    root = tops.pop()
    if root in {"..", "."} or f"{root}/metadata.json" not in archive.namelist():
        raise InstallError("not an Argos package: no metadata.json in its directory")
    return root


def _check_loads(package: ModuleType, directory: Path) -> None:
    """Load the package's metadata, tokenizer and model once, so a broken file fails now, not in a chat."""
    import ctranslate2

    pkg = package.Package(directory)
    if not hasattr(pkg, "tokenizer"):
        raise ValueError("no sentencepiece.model or bpe.model")
    pkg.tokenizer.encode("test")
    ctranslate2.Translator(str(directory / "model"), device="cpu")


def _read_metadata(path: Path, archive: zipfile.ZipFile, root: str) -> tuple[str, str]:
    """The pair a package translates, in Lotse's codes, or an InstallError saying what is wrong."""
    try:
        metadata: dict[str, Any] = json.loads(archive.read(f"{root}/metadata.json"))
    except ValueError as exc:
        raise InstallError(f"{path}: metadata.json is not valid JSON") from exc
    if metadata.get("type", "translate") != "translate":
        raise InstallError(f"{path}: a {metadata.get('type')!r} package, not a translation package")
    if f"{root}/model/model.bin" not in archive.namelist():
        raise InstallError(f"{path}: no CTranslate2 model (model/model.bin) in the package")
    source, target = lotse_code(metadata.get("from_code")), lotse_code(metadata.get("to_code"))
    if source is None or target is None:
        codes = f"{metadata.get('from_code')} → {metadata.get('to_code')}"
        raise InstallError(f"{path}: translates {codes}, which Lotse does not speak")
    return source, target


def install_archive(package: ModuleType, path: Path) -> tuple[str, str]:
    """Unpack a ``.argosmodel`` into the packages dir, replacing any package for the same pair.

    It is unpacked and loaded in a hidden staging directory first and then moved into place, so
    a running hub (which rescans the directory) never sees a half-unpacked or broken package.
    """
    if not path.is_file():
        raise InstallError(f"{path}: no such file")
    if not zipfile.is_zipfile(path):
        raise InstallError(f"{path}: not an Argos package (must be a zip archive)")
    target_dir = packages_dir()
    staging = Path(tempfile.mkdtemp(prefix=".installing-", dir=target_dir))
    try:
        with zipfile.ZipFile(path) as archive:
            root = _archive_root(archive)
            pair = _read_metadata(path, archive, root)
            archive.extractall(staging)
        try:
            _check_loads(package, staging / root)
        except Exception as exc:
            raise InstallError(f"{path}: the package does not load ({type(exc).__name__}: {exc})") from exc
        with package.package_lock:
            for other in target_dir.iterdir():
                if other == staging or not (other / "metadata.json").is_file():
                    continue
                meta = json.loads((other / "metadata.json").read_text(encoding="utf-8"))
                if other.name == root or (lotse_code(meta.get("from_code")), lotse_code(meta.get("to_code"))) == pair:
                    shutil.rmtree(other)
            shutil.rmtree(target_dir / root, ignore_errors=True)  # a leftover without metadata
            (staging / root).rename(target_dir / root)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    reset_translator()
    return pair


def _fetch_index(package: ModuleType) -> list[Any]:
    settings = package.settings
    try:
        with urllib.request.urlopen(settings.remote_package_index, timeout=NETWORK_TIMEOUT_SECONDS) as response:
            data = response.read()
        index = json.loads(data)
    except (OSError, ValueError) as exc:
        raise InstallError(
            f"cannot reach the Argos package index ({type(exc).__name__}); this machine seems to be offline. "
            "Copy a .argosmodel file here and run: lotse translate install FILE"
        ) from exc
    Path(settings.local_package_index).parent.mkdir(parents=True, exist_ok=True)
    Path(settings.local_package_index).write_bytes(data)
    return [package.AvailablePackage(metadata) for metadata in index]


def install_from_index(package: ModuleType, source: str, target: str) -> list[tuple[str, str]]:
    """Download and install the package for a pair, or the two through English when there is none."""
    available = {
        (lotse_code(p.from_code), lotse_code(p.to_code)): p
        for p in _fetch_index(package)
        if getattr(p, "type", "translate") == "translate"
    }
    if (source, target) in available:
        legs = [(source, target)]
    elif (source, "en") in available and ("en", target) in available:
        legs = [(source, "en"), ("en", target)]
    else:
        raise InstallError(f"the package index has no package for {source} → {target} (nor through English)")
    installed = []
    socket.setdefaulttimeout(NETWORK_TIMEOUT_SECONDS)  # argos downloads without a timeout of its own
    for leg in legs:
        try:
            download = Path(available[leg].download())
        except Exception as exc:
            raise InstallError(f"download of {leg[0]} → {leg[1]} failed ({type(exc).__name__})") from exc
        try:
            installed.append(install_archive(package, download))
        finally:
            download.unlink(missing_ok=True)
    return installed


def _install(args: argparse.Namespace, package: ModuleType) -> int:
    if args.from_index and args.file:
        print("name either a .argosmodel file or --from-index FROM TO, not both")
        return 2
    if args.from_index:
        source, target = (normalise(code) for code in args.from_index)
        if source is None or target is None:
            print(f"unknown language in {' '.join(args.from_index)}; Lotse speaks {', '.join(LANGUAGES)}")
            return 2
        pairs = install_from_index(package, source, target)
    elif args.file:
        pairs = [install_archive(package, Path(args.file))]
    else:
        print("name a .argosmodel file, or --from-index FROM TO on a machine that is online")
        return 2
    for pair in pairs:
        print(f"installed {_describe(*pair)}")
    print(f"packages: {packages_dir()}")
    return 0


def _list() -> int:
    translator = get_translator()
    pairs = translator.pairs()
    if not pairs:
        print(f"no translation packages in {packages_dir()}: messages pass untranslated")
        return 0
    print(f"translation packages in {packages_dir()}:")
    for pair in pairs:
        print(f"  {_describe(*pair)}")
    pivots = [
        (s, t) for s in LANGUAGES for t in LANGUAGES
        if (s, t) not in pairs and translator.can_translate(s, t)
    ]
    if pivots:
        print("also, through an intermediate language:")
        for pair in pivots:
            print(f"  {_describe(*pair)}")
    return 0


def translate_command(args: argparse.Namespace) -> int:
    try:
        package = load_argos()
    except ImportError:
        print(INSTALL_HINT)
        return 2
    try:
        if args.translate_command == "install":
            return _install(args, package)
        return _list()
    except InstallError as exc:
        print(f"error: {exc}")
        return 1
