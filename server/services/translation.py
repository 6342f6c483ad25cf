"""Machine translation between a newcomer and a case manager, when argostranslate packages are installed.

The extra is optional (``make install-translate``): without it, or without a package for a
pair, :meth:`Translator.translate` returns ``None`` and the message passes untranslated.

Lotse uses argostranslate's *packages* (``.argosmodel`` files, their metadata and tokenizers,
installed under ``var/argos-packages``) but drives CTranslate2 itself instead of calling
``argostranslate.translate``, because that module

- imports stanza (and with it torch, gigabytes) at import time,
- splits sentences with MiniSBD or stanza models that it downloads on first use, and
- logs the text it translates at INFO level, while Lotse keeps message texts out of logs.

So sentences are split here by punctuation, which is enough for chat messages, and nothing
reaches the network at import or translation time. Like argostranslate, a pair without a
package of its own is translated through an intermediate language (English first).
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from collections import OrderedDict
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

from lotse import paths
from lotse.languages import normalise

logger = logging.getLogger(__name__)

# argostranslate codes that Lotse's alias table does not know (Brazilian Portuguese).
_ARGOS_ALIASES = {"pb": "pt"}
_PIVOTS = ("en",)
_CACHE_SIZE = 512
# After ., !, ?, …, Arabic ؟, Urdu ۔, Ethiopic ። ፧ and Armenian ։, followed by white space.
_SENTENCE_END = re.compile(r"(?<=[.!?…؟۔።፧։])\s+")
_XDG = ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")


class Translator(Protocol):
    def can_translate(self, source: str, target: str) -> bool: ...

    def translate(self, text: str, source: str, target: str) -> str | None:
        """The text in ``target``; None when there is no package for the pair (or same language)."""
        ...

    def pairs(self) -> list[tuple[str, str]]:
        """Installed (from, to) language pairs in Lotse's codes."""
        ...


class NullTranslator:
    """Stands in when argostranslate is not installed: nothing is ever translated."""

    def can_translate(self, source: str, target: str) -> bool:
        return False

    def translate(self, text: str, source: str, target: str) -> str | None:
        return None

    def pairs(self) -> list[tuple[str, str]]:
        return []


def packages_dir() -> Path:
    """Where translation packages live: under Lotse's var dir, never the user's home."""
    return paths.VAR / "argos-packages"


def lotse_code(argos_code: str | None) -> str | None:
    """Lotse's code for an argostranslate language code (None for languages Lotse does not speak)."""
    if not argos_code:
        return None
    return normalise(_ARGOS_ALIASES.get(argos_code.lower(), argos_code))


_import_lock = threading.Lock()


def load_argos() -> ModuleType:
    """Import ``argostranslate.package`` configured for Lotse; ImportError when the extra is missing.

    argostranslate reads its settings from the environment when ``argostranslate.settings`` is
    first imported, and creates data, config and cache directories under the XDG directories
    (the home directory by default). Those are pointed into the var dir for that one import and
    restored right after, so other libraries and child processes keep their own environment.
    """
    with _import_lock:
        if "argostranslate.settings" not in sys.modules:
            base = paths.VAR / "argos"
            saved = {name: os.environ.get(name) for name in (*_XDG, "ARGOS_PACKAGES_DIR", "ARGOS_DEVICE_TYPE")}
            os.environ["ARGOS_PACKAGES_DIR"] = str(packages_dir())
            os.environ.setdefault("ARGOS_DEVICE_TYPE", "cpu")
            for name, sub in zip(_XDG, ("data", "config", "cache"), strict=True):
                os.environ[name] = str(base / sub)
            try:
                import argostranslate.settings  # noqa: F401
            finally:
                for name, value in saved.items():
                    if value is None:
                        os.environ.pop(name, None)
                    else:
                        os.environ[name] = value
        import argostranslate.package as package
        import argostranslate.settings as settings
        import ctranslate2  # noqa: F401  (the engine; missing means the extra is incomplete)

        # The var dir can differ from the one at import time (tests, a second instance).
        directory = packages_dir()
        directory.mkdir(parents=True, exist_ok=True)
        settings.package_data_dir = directory
        settings.package_dirs = [directory]
        return package


def split_sentences(text: str) -> list[str]:
    """Paragraphs, then sentences at end punctuation: NMT models are trained on single sentences.

    A full stop before a lower-case letter or a digit ("z.B. der", "Nr. 5") does not end one.
    """
    sentences: list[str] = []
    for paragraph in text.split("\n"):
        start = 0
        for match in _SENTENCE_END.finditer(paragraph):
            following = paragraph[match.end() : match.end() + 1]
            if following.islower() or following.isdigit():
                continue
            sentences.append(paragraph[start : match.start()].strip())
            start = match.end()
        sentences.append(paragraph[start:].strip())
    return [sentence for sentence in sentences if sentence]


class ArgosTranslator:
    """Translates with the installed argostranslate packages; safe to share between request threads.

    Models are loaded once, on first use of a pair; CTranslate2 translators are thread-safe.
    Recent results are kept, because a case manager's console shows the same messages again.
    """

    def __init__(self, directory: Path | None = None) -> None:
        package = load_argos()
        directory = directory or packages_dir()
        self._settings: Any = sys.modules["argostranslate.settings"]
        self._packages: dict[tuple[str, str], Any] = {}
        for path in sorted(directory.iterdir()) if directory.is_dir() else []:
            if not (path / "metadata.json").is_file():
                continue
            try:
                pkg = package.Package(path)
            except Exception as exc:  # a broken package must not take the others down
                logger.warning("translation package %s unusable: %s", path.name, type(exc).__name__)
                continue
            pair = (lotse_code(pkg.from_code), lotse_code(pkg.to_code))
            if pkg.type != "translate" or None in pair or not hasattr(pkg, "tokenizer"):
                continue
            self._packages.setdefault((str(pair[0]), str(pair[1])), pkg)
        self._models: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()  # the result cache
        self._load_lock = threading.Lock()  # loading models, which takes a second for a real one
        self._cache: OrderedDict[tuple[str, str, str], str] = OrderedDict()

    def pairs(self) -> list[tuple[str, str]]:
        return sorted(self._packages)

    def _route(self, source: str, target: str) -> list[tuple[str, str]] | None:
        if source == target:
            return None
        if (source, target) in self._packages:
            return [(source, target)]
        middles = [*_PIVOTS, *sorted({t for s, t in self._packages if s == source} - set(_PIVOTS))]
        for middle in middles:
            if (source, middle) in self._packages and (middle, target) in self._packages:
                return [(source, middle), (middle, target)]
        return None

    def can_translate(self, source: str, target: str) -> bool:
        src, tgt = normalise(source), normalise(target)
        return bool(src and tgt and self._route(src, tgt))

    def translate(self, text: str, source: str, target: str) -> str | None:
        src, tgt = normalise(source), normalise(target)
        route = self._route(src, tgt) if src and tgt else None
        if route is None:
            return None
        if not text.strip():
            return text
        key = (str(src), str(tgt), text)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        try:
            result = text
            for pair in route:
                result = self._translate_pair(result, pair)
        except Exception as exc:  # never into the caller, and never the text into the log
            logger.warning("translation %s→%s failed: %s", src, tgt, type(exc).__name__)
            return None
        with self._lock:
            self._cache[key] = result
            while len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        return result

    def _model(self, pair: tuple[str, str]) -> Any:
        with self._load_lock:
            model = self._models.get(pair)
            if model is None:
                import ctranslate2

                pkg = self._packages[pair]
                settings = self._settings
                model = ctranslate2.Translator(
                    str(pkg.package_path / "model"),
                    device=settings.device,
                    inter_threads=settings.inter_threads,
                    intra_threads=settings.intra_threads,
                    compute_type=settings.compute_type,
                )
                pkg.tokenizer.encode("warm up")  # tokenizers load lazily and not thread-safely
                self._models[pair] = model
            return model

    def _translate_pair(self, text: str, pair: tuple[str, str]) -> str:
        model = self._model(pair)
        pkg = self._packages[pair]
        sentences = split_sentences(text)
        if not sentences:
            return text
        tokens = [pkg.tokenizer.encode(sentence) for sentence in sentences]
        prefix = [[pkg.target_prefix]] * len(tokens) if pkg.target_prefix else None
        longest = max(len(t) for t in tokens)
        results = model.translate_batch(
            tokens,
            target_prefix=prefix,
            replace_unknowns=True,
            max_batch_size=self._settings.batch_size,
            batch_type="tokens",
            beam_size=self._settings.beam_size,
            num_hypotheses=1,
            length_penalty=0.2,
            # Real models stop by themselves; this bounds a runaway (repeating) decoder.
            max_decoding_length=min(256, 3 * longest + 10),
        )
        out: list[str] = []
        for result in results:
            value = pkg.tokenizer.decode(result.hypotheses[0])
            if pkg.target_prefix and value.startswith(pkg.target_prefix):
                value = value[len(pkg.target_prefix) :]
            out.append(value.strip())
        return " ".join(out)


_translator: Translator | None = None
_stamp: tuple[object, ...] | None = None
_argos_missing = False
_lock = threading.Lock()


def _packages_stamp() -> tuple[object, ...]:
    """Changes when a package is installed, replaced or removed: a few stat calls, cheap per request."""
    directory = packages_dir()
    try:
        return (str(directory), directory.stat().st_mtime_ns,
                *(p.stat().st_mtime_ns for p in sorted(directory.glob("*/metadata.json"))))
    except OSError:
        return (str(directory),)


def get_translator() -> Translator:
    """The process-wide translator, rebuilt when the installed packages change (no restart needed)."""
    global _translator, _stamp, _argos_missing
    stamp = _packages_stamp()
    with _lock:
        if _translator is None or (stamp != _stamp and not _argos_missing):
            try:
                _translator = ArgosTranslator()
            except ImportError:
                _argos_missing = True
                _translator = NullTranslator()
            except Exception as exc:  # an unreadable packages dir: run untranslated, say why
                logger.warning("translation unavailable: %s", type(exc).__name__)
                _translator = NullTranslator()
            _stamp = stamp
        return _translator


def reset_translator() -> None:
    """Drop the cached translator (after installing or removing a package)."""
    global _translator, _stamp, _argos_missing
    with _lock:
        _translator = None
        _stamp = None
        _argos_missing = False
