"""``lotse settings``: the settings reference (docs/settings.md), generated from the code.

An operator configures Lotse through environment variables; a hand-written list of them goes
stale the day someone adds a field. So the reference is rendered from ``Settings`` itself (name,
variable, default, limits, description) plus the few variables read outside it (paths and
process switches, listed in ``PROCESS_ENV`` below), and a test fails when the committed file
differs from what this module renders.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pydantic import AliasChoices
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from lotse.paths import ROOT, VAR

REFERENCE_FILE = ROOT / "docs" / "settings.md"

# Variables read with os.environ outside Settings (tests/test_deploy_files.py checks the code reads
# no other LOTSE_ variable): name → (default, what it does).
PROCESS_ENV: dict[str, tuple[str, str]] = {
    "LOTSE_VAR_DIR": ("./var", "where Lotse keeps its state: SQLite database, caches, Rasa models, logs, "
                      "the content overlay (mount a volume here)"),
    "LOTSE_SECRET_KEY": ("a random key kept in <var>/secret_key", "signing key for CSRF and continue tokens; "
                         "at least 32 characters; every hub instance of a deployment must share it"),
    "LOTSE_KNOWLEDGE_DIR": ("./knowledge", "root of the shipped content (entries/, regions/)"),
    "LOTSE_CONTENT_DIR": ("<var>/content", "the content overlay: entries published from the console"),
    "LOTSE_CACHE_DIR": ("<var>/cache", "retrieval index and encoder caches"),
    "LOTSE_ROUTING_DIR": ("./config/routing",
                          "routing tables, one <region>.yml per district (default.yml for the rest)"),
    "LOTSE_CHALLENGES_DIR": ("./config/challenges", "the lists behind the coordinators' reports"),
    "LOTSE_INTEGREAT_DIR": ("<var>/integreat", "imported Integreat CMS pages"),
    "LOTSE_MODEL_DIR": ("<var>/models", "trained Rasa models (named after a hash of their training data)"),
    "LOTSE_RASA_VENV": ("./.venv-rasa", "the Python 3.10 environment with Rasa"),
    "LOTSE_STARTUP_TIMEOUT": ("300", "seconds `lotse serve` waits for every part to become healthy"),
    "LOTSE_RESTART_CRASHED": ("1", "`lotse serve` starts a crashed part again; 0: stop everything instead"),
    "LOTSE_WARM_UP": ("unset", "1: the action server loads the knowledge index before it listens "
                      "(`lotse serve` sets it)"),
    "LOTSE_TEST_POSTGRES_URL": ("unset", "PostgreSQL server for the tests and `lotse bench load` "
                                "(scripts/with-postgres.sh sets it; not used to run Lotse)"),
    "LOTSE_SHARED_DIR": ("../shared", "public benchmark data for `lotse bench` (not needed to run Lotse)"),
}


# What a field does, for fields declared without a description in server/core/config.py (the
# test fails for a field that has neither, so a new setting cannot go undocumented).
DESCRIPTIONS: dict[str, str] = {
    "rasa_timeout_seconds": "how long the hub waits for Rasa's reply before the newcomer gets the fallback text",
    "hub_host": "interface the hub listens on (`lotse serve --host` overrides it)",
    "hub_port": "port the hub listens on (`lotse serve --port` overrides it)",
    "max_message_chars": "longest message a newcomer may send; longer ones get 413 with the limit",
    "telegram_bot_token": "the bot token from @BotFather; unset: no Telegram",
    "telegram_webhook_path": "path of the webhook on the hub",
    "smtp_port": "port of the SMTP server",
    "smtp_from": "sender address of case notifications",
    "smtp_user": "SMTP login (unset: none)",
    "smtp_password": "SMTP password",
    "smtp_starttls": "use STARTTLS with the SMTP server",
}


def description(name: str, info: FieldInfo) -> str:
    return info.description or DESCRIPTIONS.get(name, "")


def env_names(name: str, info: FieldInfo) -> list[str]:
    """The environment variables a field is read from, in the order pydantic-settings tries them."""
    alias = info.validation_alias
    if isinstance(alias, AliasChoices):
        return [str(choice) for choice in alias.choices]
    if isinstance(alias, str):
        return [alias]
    return [f"LOTSE_{name.upper()}"]


def settings_env_names() -> set[str]:
    from server.core.config import Settings

    return {env for name, info in Settings.model_fields.items() for env in env_names(name, info)}


def _default(info: FieldInfo) -> str:
    value: Any = info.default
    if value is PydanticUndefined and info.default_factory is not None:
        value = info.default_factory()  # type: ignore[call-arg]
    if value is None:
        return "unset"
    if isinstance(value, tuple | list | dict | set) and not value:
        return "empty"
    if isinstance(value, bool):
        return "true" if value else "false"
    # The default paths depend on where the checkout is; write them the way an operator reads them.
    return str(value).replace(str(VAR), "<var>").replace(str(ROOT), ".")


def _limits(info: FieldInfo) -> str:
    parts = []
    for item in info.metadata:
        for attr, sign in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
            bound = getattr(item, attr, None)
            if bound is not None:
                parts.append(f"{sign} {bound}")
        pattern = getattr(item, "pattern", None)
        if pattern:
            parts.append(f"matches `{pattern}`")
    return "; ".join(parts)


def _type(info: FieldInfo) -> str:
    text = str(info.annotation).replace("typing.", "").replace("<class '", "").replace("'>", "")
    return text.replace("Annotated[", "").split(", NoDecode")[0]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace("\n", " ")


def render() -> str:
    """The Markdown reference, deterministic for a given Settings class."""
    from server.core.config import Settings

    lines = [
        "# Settings reference",
        "",
        "<!-- Generated by `lotse settings --write` from server/core/config.py; do not edit by hand.",
        "     tests/test_settings_reference.py fails when this file is out of date. -->",
        "",
        "Lotse reads its settings from environment variables (or a `.env` file in the working directory).",
        "A wrong value stops the start with a message naming the variable. `<var>` is `LOTSE_VAR_DIR`.",
        "",
        "| Variable | Default | Limits | What it does |",
        "|---|---|---|---|",
    ]
    for name, info in Settings.model_fields.items():
        variables = " or ".join(f"`{env}`" for env in env_names(name, info))
        what = f"{description(name, info)} ({_type(info)})"
        default = _default(info).replace("|", "\\|")
        lines.append(f"| {variables} | `{default}` | {_cell(_limits(info))} | {_cell(what)} |")
    lines += [
        "",
        "## Read outside the settings",
        "",
        "Paths and process switches, read once at start-up by the part that needs them.",
        "",
        "| Variable | Default | What it does |",
        "|---|---|---|",
    ]
    for env, (default, what) in sorted(PROCESS_ENV.items()):
        lines.append(f"| `{env}` | `{default}` | {_cell(what)} |")
    return "\n".join(lines) + "\n"


def settings_command(args: argparse.Namespace) -> int:
    text = render()
    target = Path(args.file) if args.file else REFERENCE_FILE
    if args.check:
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            print(f"{target} is out of date; run `lotse settings --write`", file=sys.stderr)
            return 1
        return 0
    if args.write:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        print(f"wrote {target}")
        return 0
    sys.stdout.write(text)
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("settings", help="the settings reference (every environment variable), as Markdown")
    parser.add_argument("--write", action="store_true", help="write it to docs/settings.md (or --file)")
    parser.add_argument("--check", action="store_true", help="exit 1 if the file differs from the code")
    parser.add_argument("--file", default=None, help="another file than docs/settings.md")
    parser.set_defaults(func=settings_command)
