"""Train the Rasa model only when its inputs change.

Training takes about a minute on two cores; the model file is named after a hash of
``config.yml``, ``domain.yml``, ``nlu/`` and ``dialogue/``, so a restart with unchanged data
reuses it and a changed example retrains.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from lotse.paths import CONFIG_FILE, DIALOGUE_DIR, DOMAIN_FILE, NLU_DIR, RASA_VENV, ROOT, VAR


def training_files() -> list[Path]:
    files = [CONFIG_FILE, DOMAIN_FILE]
    files += sorted(NLU_DIR.glob("*.yml")) + sorted(DIALOGUE_DIR.glob("*.yml"))
    return files


def training_hash() -> str:
    digest = hashlib.sha256()
    for path in training_files():
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def models_dir() -> Path:
    return Path(os.environ.get("LOTSE_MODEL_DIR", VAR / "models"))


def model_path() -> Path:
    return models_dir() / f"lotse-{training_hash()}.tar.gz"


def rasa_executable() -> Path:
    rasa = RASA_VENV / "bin" / "rasa"
    if not rasa.exists():
        raise SystemExit(
            f"Rasa is not installed at {rasa}. Run `make install` (or set LOTSE_RASA_VENV)."
        )
    return rasa


def rasa_env() -> dict[str, str]:
    env = dict(os.environ)
    env["RASA_TELEMETRY_ENABLED"] = "false"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    return env


def ensure_model(force: bool = False) -> Path:
    target = model_path()
    if target.exists() and not force:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    print(f"Training the Rasa model ({len(training_files())} files changed or new) ...", file=sys.stderr)
    command = [
        str(rasa_executable()), "train",
        "--config", str(CONFIG_FILE), "--domain", str(DOMAIN_FILE),
        "--data", str(NLU_DIR), str(DIALOGUE_DIR),
        "--out", str(target.parent), "--fixed-model-name", target.name.removesuffix(".tar.gz"),
    ]
    result = subprocess.run(command, cwd=ROOT, env=rasa_env(), capture_output=True, text=True)
    if result.returncode != 0 or not target.exists():
        sys.stderr.write(result.stdout[-4000:] + result.stderr[-4000:])
        raise SystemExit(f"rasa train failed (exit {result.returncode})")
    for old in target.parent.glob("lotse-*.tar.gz"):
        if old != target:
            old.unlink(missing_ok=True)
    return target
