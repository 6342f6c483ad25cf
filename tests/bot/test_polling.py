"""``lotse telegram poll`` runs the same bot with long polling, for local development."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from lotse.i18n import t
from server.core.db import get_sessionmaker
from server.models import ChatSession
from tests.bot.conftest import CHAT_ID, message_update
from tests.bot.fake_telegram import FakeBotApi

REPO = Path(__file__).resolve().parents[2]


def test_lotse_telegram_poll_answers_from_the_hub(tmp_path: Path, bot_api: FakeBotApi) -> None:
    database = f"sqlite:///{tmp_path / 'lotse.db'}"
    env = {
        "PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "LOTSE_VAR_DIR": str(tmp_path), "DATABASE_URL": database,
        "TELEGRAM_BOT_TOKEN": "123456:TEST-token", "LOTSE_TELEGRAM_API_BASE_URL": bot_api.url,
        "LOTSE_RASA_URL": "http://127.0.0.1:9", "LOTSE_RASA_TIMEOUT_SECONDS": "2",  # Rasa is down
    }
    bot_api.updates.append(message_update("Hallo"))
    process = subprocess.Popen(
        [sys.executable, "-m", "lotse.cli", "telegram", "poll"], cwd=tmp_path, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        [reply] = bot_api.wait("sendMessage", timeout=60)
        assert bot_api.of("deleteWebhook")  # polling and a webhook exclude each other
        assert reply.params["chat_id"] == CHAT_ID
        assert reply.params["text"].startswith(t("service_unavailable", "de", contact="")[:40])
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output[-2000:]
    with get_sessionmaker(database)() as db:
        [session] = db.scalars(select(ChatSession))
        assert (session.channel, session.external_id) == ("telegram", str(CHAT_ID))


def test_lotse_telegram_poll_needs_a_token(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "LOTSE_VAR_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "lotse.cli", "telegram", "poll"], cwd=tmp_path, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 2 and "TELEGRAM_BOT_TOKEN" in result.stderr
