"""``lotse serve``: start the action server, Rasa and the hub, wait until healthy, stop cleanly.

Each child runs in its own process group, so stopping Lotse (Ctrl-C, SIGTERM, or a crash of
the supervisor itself) takes Rasa's worker processes down with it: no orphans holding ports.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from urllib.parse import urlparse

import httpx

from lotse.paths import ROOT, VAR
from lotse.rasa_model import ensure_model, rasa_env, rasa_executable

STARTUP_TIMEOUT_SECONDS = float(os.environ.get("LOTSE_STARTUP_TIMEOUT", "300"))


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path


def _port(url: str) -> int:
    parsed = urlparse(url)
    return parsed.port or (443 if parsed.scheme == "https" else 80)


def _write_rasa_config(run_dir: Path, action_url: str) -> tuple[Path, Path]:
    run_dir.mkdir(parents=True, exist_ok=True)
    endpoints = run_dir / "endpoints.yml"
    # The tracker store keeps Rasa's dialogue state across restarts of Rasa itself.
    endpoints.write_text(
        f"action_endpoint:\n  url: {action_url}/webhook\n"
        f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {run_dir / 'rasa-tracker.db'}\n",
        encoding="utf-8",
    )
    credentials = run_dir / "credentials.yml"
    credentials.write_text("rest:\n", encoding="utf-8")
    return endpoints, credentials


# Rasa's REST channel logs the newcomer's text when a reply times out or fails; message texts are
# personal data, so that logger only reports what is critical (it never logs texts at that level).
RASA_LOGGING = (
    "version: 1\ndisable_existing_loggers: false\n"
    "loggers:\n  rasa.core.channels.rest:\n    level: CRITICAL\n"
)


def _write_rasa_logging(run_dir: Path) -> Path:
    path = run_dir / "rasa-logging.yml"
    path.write_text(RASA_LOGGING, encoding="utf-8")
    return path


def _start(name: str, command: list[str], env: dict[str, str], log_dir: Path) -> Child:
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    log_file = log_path.open("ab")
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
    )
    log_file.close()
    return Child(name, process, log_path)


def stop_all(children: list[Child], timeout: float = 15.0) -> None:
    for child in children:
        if child.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.process.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for child in children:
        remaining = max(0.1, deadline - time.monotonic())
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.process.wait(timeout=remaining)
        with contextlib.suppress(ProcessLookupError):  # the group may hold workers after the leader exited
            os.killpg(child.process.pid, signal.SIGKILL)
        child.process.poll()


def _tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def wait_healthy(hub_url: str, children: list[Child], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child in children:
            if child.process.poll() is not None:
                print(f"{child.name} exited with {child.process.returncode}:\n{_tail(child.log_path)}",
                      file=sys.stderr)
                return False
        try:
            if httpx.get(f"{hub_url}/health", timeout=3).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(1)
    return False


def serve(host: str = "127.0.0.1", port: int | None = None, retrain: bool = False) -> int:
    from server.core.config import get_settings
    from server.core.db import upgrade_database

    settings = get_settings()
    hub_port = port or settings.hub_port
    upgrade_database(settings.database_url)
    model = ensure_model(force=retrain)
    # Build the knowledge index here, visibly, so the action server only loads it from the cache.
    subprocess.run([sys.executable, "-m", "lotse.cli", "kb", "index"], cwd=ROOT, check=True)
    run_dir = VAR / "run" / str(hub_port)
    endpoints, credentials = _write_rasa_config(run_dir, settings.action_server_url)
    hub_url = f"http://{host}:{hub_port}"

    env = dict(os.environ)
    # The hub erases Rasa's copy of a conversation too (privacy), so it must know where it is.
    env.setdefault("LOTSE_RASA_TRACKER_URL", f"sqlite:///{run_dir / 'rasa-tracker.db'}")
    app_python = sys.executable
    children: list[Child] = []

    def _terminate(signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt(signum)

    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)
    try:
        children.append(_start(
            "actions",
            [app_python, "-m", "rasa_sdk", "--actions", "actions",
             "--port", str(_port(settings.action_server_url))],
            {**env, "SANIC_HOST": "127.0.0.1", "LOTSE_WARM_UP": "1"}, run_dir,
        ))
        children.append(_start(
            "rasa",
            [str(rasa_executable()), "run", "--enable-api", "--model", str(model),
             "--endpoints", str(endpoints), "--credentials", str(credentials),
             "--logging-config-file", str(_write_rasa_logging(run_dir)),
             "--interface", "127.0.0.1", "--port", str(_port(settings.rasa_url))],
            rasa_env(), run_dir,
        ))
        children.append(_start(
            "hub",
            [app_python, "-m", "uvicorn", "server.main:app", "--host", host, "--port", str(hub_port),
             "--no-access-log"],
            env, run_dir,
        ))
        print(f"Starting Lotse (logs in {run_dir}) ...", file=sys.stderr, flush=True)
        if not wait_healthy(hub_url, children, STARTUP_TIMEOUT_SECONDS):
            print("Lotse did not become healthy; stopping.", file=sys.stderr)
            return 1
        print(f"Lotse is running: {hub_url}  (API docs: {hub_url}/docs; Ctrl-C stops)", flush=True)
        while all(child.process.poll() is None for child in children):
            time.sleep(1)
        failed = [c for c in children if c.process.poll() is not None]
        for child in failed:
            print(f"{child.name} stopped unexpectedly:\n{_tail(child.log_path)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Stopping Lotse ...", file=sys.stderr, flush=True)
        return 0
    finally:
        stop_all(children)
