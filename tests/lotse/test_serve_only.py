"""`lotse serve --only hub|rasa|actions`: one part in the foreground, as a container runs it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from lotse import supervisor
from lotse.cli import build_parser
from lotse.paths import ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_only_accepts_the_three_parts(capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["serve", "--only", "rasa", "--host", "0.0.0.0", "--port", "5005"])
    assert (args.only, args.host, args.port) == ("rasa", "0.0.0.0", 5005)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--only", "database"])
    assert "invalid choice" in capsys.readouterr().err


def test_each_part_is_prepared_then_run_on_its_own_port(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from server.core import config

    prepared: list[str] = []
    monkeypatch.setenv("LOTSE_RASA_URL", "http://rasa:5105")
    monkeypatch.setenv("LOTSE_ACTION_SERVER_URL", "http://actions:5155")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'lotse.db'}")
    config.get_settings.cache_clear()
    monkeypatch.setattr(supervisor, "VAR", tmp_path)
    monkeypatch.setattr("server.core.db.upgrade_database", lambda url: prepared.append(f"migrate {url}"))
    monkeypatch.setattr(supervisor, "ensure_model",
                        lambda force: prepared.append(f"train {force}") or tmp_path / "m.tar.gz")
    monkeypatch.setattr(supervisor, "rasa_executable", lambda: Path("/opt/rasa/bin/rasa"))
    monkeypatch.setattr(supervisor.subprocess, "run", lambda command, **kw: prepared.append(" ".join(command[-2:])))
    try:
        hub, _ = supervisor.part_command("hub", "0.0.0.0", 8100)
        assert hub[1:4] == ["-m", "uvicorn", "server.main:app"]
        assert hub[-5:] == ["--host", "0.0.0.0", "--port", "8100", "--no-access-log"]
        assert prepared == [f"migrate sqlite:///{tmp_path / 'lotse.db'}"]
        actions, env = supervisor.part_command("actions", "0.0.0.0")
        assert actions[1:5] == ["-m", "rasa_sdk", "--actions", "actions"] and actions[-1] == "5155"
        assert env["SANIC_HOST"] == "0.0.0.0" and prepared[-1] == "kb index"  # the index before it listens
        rasa, _ = supervisor.part_command("rasa", "0.0.0.0", retrain=True)
        assert rasa[0] == "/opt/rasa/bin/python" and rasa[1].endswith("lotse/rasa_launch.py") and rasa[2] == "run"
        assert rasa[-4:] == ["--interface", "0.0.0.0", "--port", "5105"]
        assert prepared[-1] == "train True"
        endpoints = Path(rasa[rasa.index("--endpoints") + 1]).read_text(encoding="utf-8")
        assert "url: http://actions:5155/webhook" in endpoints
        with pytest.raises(ValueError, match="unknown part"):
            supervisor.part_command("database", "0.0.0.0")
    finally:
        config.get_settings.cache_clear()


def test_serve_only_hub_answers_health_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'lotse.db'}", "LOTSE_VAR_DIR": str(tmp_path),
           "LOTSE_RASA_URL": "http://127.0.0.1:9", "LOTSE_ACTION_SERVER_URL": "http://127.0.0.1:9",
           "LOTSE_PURGE_INTERVAL_MINUTES": "0"}
    process = subprocess.Popen([sys.executable, "-m", "lotse.cli", "serve", "--only", "hub", "--port", str(port)],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        response = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.3)
        assert response is not None, process.stdout.read().decode() if process.stdout else ""
        # The hub itself is up; Rasa and the action server are not (nothing listens on port 9).
        assert response.status_code == 503 and response.json()["parts"]["database"]["ok"]
        assert (tmp_path / "lotse.db").exists()  # migrated before it listened
        process.send_signal(signal.SIGTERM)  # exec'd: uvicorn itself receives it and stops cleanly
        assert process.wait(timeout=30) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal after shutting down
        output = process.stdout.read().decode() if process.stdout else ""
        assert "Application shutdown complete" in output
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
