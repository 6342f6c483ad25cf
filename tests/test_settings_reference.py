"""docs/settings.md is what `lotse settings` renders from the code, and documents every variable."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from lotse.paths import ROOT
from lotse.settings_reference import PROCESS_ENV, REFERENCE_FILE, description, render, settings_env_names
from server.core.config import Settings

_READ = re.compile(r"""environ(?:\.get)?[\[(]\s*["'](LOTSE_[A-Z0-9_]+)["']""")
CODE_DIRS = ("lotse", "server", "actions", "knowledge", "bot")


def test_the_committed_reference_is_current() -> None:
    assert REFERENCE_FILE.read_text(encoding="utf-8") == render(), (
        "docs/settings.md is out of date: run `.venv/bin/lotse settings --write`"
    )


def test_every_setting_has_a_description_and_appears_with_its_variable() -> None:
    text = render()
    for name, info in Settings.model_fields.items():
        assert description(name, info), f"Settings.{name} has no description (add one in config.py)"
        assert f"`LOTSE_{name.upper()}`" in text or name in ("database_url", "telegram_bot_token")
    assert "`DATABASE_URL` or `LOTSE_DATABASE_URL`" in text
    # Paths are written relative to the var dir, never as this machine's absolute path.
    assert str(ROOT) not in text


def test_every_variable_the_code_reads_is_in_the_reference() -> None:
    documented = settings_env_names() | set(PROCESS_ENV)
    read = {
        name for directory in CODE_DIRS for path in (ROOT / directory).rglob("*.py")
        for name in _READ.findall(path.read_text(encoding="utf-8"))
    }
    assert "LOTSE_VAR_DIR" in read  # the scan finds what it should
    assert read <= documented, f"add to PROCESS_ENV in lotse/settings_reference.py: {sorted(read - documented)}"


def test_lotse_settings_check_and_write(tmp_path: Path) -> None:
    target = tmp_path / "settings.md"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "lotse.cli", "settings", *args, "--file", str(target)],
                              cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)

    stale = run("--check")
    assert stale.returncode == 1 and "out of date" in stale.stderr
    assert run("--write").returncode == 0
    assert target.read_text(encoding="utf-8") == render()
    assert run("--check").returncode == 0
