"""Where things live, relative to the checkout, so every process agrees without configuration."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = Path(os.environ.get("LOTSE_VAR_DIR", ROOT / "var"))
NLU_DIR = ROOT / "nlu"
DIALOGUE_DIR = ROOT / "dialogue"
DOMAIN_FILE = ROOT / "domain.yml"
CONFIG_FILE = ROOT / "config.yml"
RASA_VENV = Path(os.environ.get("LOTSE_RASA_VENV", ROOT / ".venv-rasa"))
