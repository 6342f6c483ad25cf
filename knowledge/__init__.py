"""The curated knowledge base: YAML content, its checker, and hybrid retrieval over it.

Content (``entries/``, ``regions/``) is edited by people who do not read Python, so the code
here is tolerant when answering (a broken file is skipped and logged) and strict when checking
(``lotse kb check`` names every problem). Importing this package is cheap on purpose: the
encoder and the index load only when a question is first answered.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def knowledge_dir() -> Path:
    """Root of the content (``entries/`` and ``regions/``); tests point it elsewhere."""
    return Path(os.environ.get("LOTSE_KNOWLEDGE_DIR", PACKAGE_DIR))
