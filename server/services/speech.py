"""Read an answer aloud with espeak-ng, offline, for newcomers who read with difficulty.

espeak-ng is a Debian package (``make system-deps``), runs in a few milliseconds per sentence
and needs no network or model download. It has no voice for every language we write in: a
language without a voice gets no "read aloud" button at all, because Arabic read by an English
voice is noise, not help.
"""

from __future__ import annotations

import shutil
import subprocess
from functools import cache

# Our language code -> espeak-ng voice. Checked with ``espeak-ng --voices`` (espeak-ng 1.51);
# Pashto, Sorani Kurdish, Somali, Mongolian and Tigrinya have no voice there.
VOICES: dict[str, str] = {
    "de": "de", "en": "en-gb", "ar": "ar", "tr": "tr", "uk": "uk", "ru": "ru", "fa": "fa",
    "ku": "ku", "pl": "pl", "ro": "ro", "sq": "sq", "hy": "hy", "fr": "fr-fr", "it": "it",
    "nl": "nl", "pt": "pt", "ur": "ur", "es": "es",
}
MAX_CHARS = 4000
TIMEOUT_SECONDS = 20.0


class SpeechUnavailable(RuntimeError):
    """espeak-ng is missing, has no voice for the language, or failed."""


@cache
def engine() -> str | None:
    return shutil.which("espeak-ng")


def voice_for(language: str) -> str | None:
    return VOICES.get(language) if engine() else None


def languages_with_voice() -> list[str]:
    return sorted(VOICES) if engine() else []


def synthesise(text: str, language: str) -> bytes:
    """WAV audio of ``text`` spoken in ``language``.

    The text goes in on stdin, never on the command line, so nothing in it can be read as an
    option; the process is killed after ``TIMEOUT_SECONDS``. Callers limit how many run at once.
    """
    voice = voice_for(language)
    program = engine()
    if voice is None or program is None:
        raise SpeechUnavailable(f"no voice for {language!r}")
    if len(text) > MAX_CHARS:
        raise ValueError(f"at most {MAX_CHARS} characters can be read aloud")
    try:
        result = subprocess.run(
            [program, "-v", voice, "-s", "150", "--stdin", "--stdout"],
            input=text.encode("utf-8"), capture_output=True, timeout=TIMEOUT_SECONDS, check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise SpeechUnavailable(f"espeak-ng failed: {type(error).__name__}") from None
    if result.returncode != 0 or not result.stdout.startswith(b"RIFF"):
        raise SpeechUnavailable(f"espeak-ng failed with exit code {result.returncode}")
    return result.stdout
