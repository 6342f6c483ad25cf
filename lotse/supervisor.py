"""``lotse serve``: start the action server, Rasa and the hub, wait until healthy, stop cleanly.

Each child runs in its own process group, so stopping Lotse (Ctrl-C, SIGTERM, or a crash of
the supervisor itself) takes Rasa's worker processes down with it: no orphans holding ports.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from urllib.parse import unquote, urlparse

import httpx

from lotse.paths import ROOT, VAR
from lotse.rasa_model import ensure_model, rasa_env, rasa_executable

STARTUP_TIMEOUT_SECONDS = float(os.environ.get("LOTSE_STARTUP_TIMEOUT", "300"))
# LOTSE_RESTART_CRASHED=0: stop everything when a part dies (the old behaviour, for a process manager
# such as systemd that restarts the whole of Lotse itself).
RESTART_CRASHED = os.environ.get("LOTSE_RESTART_CRASHED", "1") != "0"


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    command: list[str] = field(default_factory=list)  # to start it again after a crash
    env: dict[str, str] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)


def _port(url: str) -> int:
    parsed = urlparse(url)
    return parsed.port or (443 if parsed.scheme == "https" else 80)


def _write_rasa_config(run_dir: Path, action_url: str) -> tuple[Path, Path]:
    run_dir.mkdir(parents=True, exist_ok=True)
    endpoints = run_dir / "endpoints.yml"
    from server.core.config import get_settings

    settings = get_settings()
    # The tracker store keeps Rasa's dialogue state across restarts of Rasa itself; with several
    # Rasa instances it is shared (PostgreSQL), and so is the lock store (Redis) that keeps one
    # conversation's messages in order whichever instance gets them.
    endpoints.write_text(
        f"action_endpoint:\n  url: {action_url}/webhook\n"
        + rasa_tracker_store(settings.rasa_tracker_url, run_dir / "rasa-tracker.db")
        + (rasa_lock_store(settings.redis_url) if settings.redis_url else ""),
        encoding="utf-8",
    )
    credentials = run_dir / "credentials.yml"
    credentials.write_text("rest:\n", encoding="utf-8")
    return endpoints, credentials


def rasa_tracker_store(url: str | None, default_path: Path) -> str:
    """Rasa's ``tracker_store`` endpoint for LOTSE_RASA_TRACKER_URL (the URL the hub erases from).

    PostgreSQL URLs are handed to Rasa whole (``url`` becomes the SQL store's ``host``, which may be
    a whole URL), with the driver Rasa's venv has (psycopg2) instead of the hub's psycopg 3.
    """
    if url and url.startswith(("postgresql", "postgres://")):
        rasa_url = "postgresql://" + url.split("://", 1)[1]
        return f"tracker_store:\n  type: SQL\n  dialect: postgresql\n  url: {json.dumps(rasa_url)}\n"
    path = Path(url.removeprefix("sqlite:///")) if url and url.startswith("sqlite:///") else default_path
    return f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {json.dumps(str(path))}\n"


def rasa_lock_store(redis_url: str) -> str:
    """Rasa's ``lock_store`` endpoint (RedisLockStore: host, port, db, credentials) for LOTSE_REDIS_URL."""
    parsed = urlparse(redis_url)
    if parsed.scheme not in ("redis", "rediss"):
        raise ValueError("Rasa's lock store needs a redis:// or rediss:// LOTSE_REDIS_URL")
    db = parsed.path.strip("/") or "0"
    lines = ["lock_store:", "  type: redis", f"  url: {json.dumps(parsed.hostname or 'localhost')}",
             f"  port: {parsed.port or 6379}", f"  db: {int(db)}", "  key_prefix: lotserasa"]
    if parsed.username:
        lines.append(f"  username: {json.dumps(unquote(parsed.username))}")
    if parsed.password:
        lines.append(f"  password: {json.dumps(unquote(parsed.password))}")
    if parsed.scheme == "rediss":
        lines.append("  use_ssl: true")
    return "\n".join(lines) + "\n"


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
    # Where tooling finds each part (``lotse bench faults``, tests/e2e/test_faults.py kill one on purpose).
    (log_dir / f"{name}.pid").write_text(str(process.pid), encoding="ascii")
    return Child(name, process, log_path, command, env)


# A crashed part is started again after these pauses (then every RESTART_BACKOFF[-1] seconds):
# an outage of Rasa, the action server or the hub ends by itself, without a person restarting Lotse.
RESTART_BACKOFF = (1.0, 2.0, 5.0, 10.0)


def restart_crashed(children: list[Child], failures: dict[str, int], log_dir: Path) -> None:
    """Start every part that exited again (one restart per call, after its back-off pause)."""
    for index, child in enumerate(children):
        if child.process.poll() is None:
            continue
        # A part that ran for a while before it crashed starts again quickly; one that keeps crashing waits longer.
        count = 0 if time.monotonic() - child.started > 60 else failures.get(child.name, 0)
        print(f"{child.name} stopped (exit {child.process.returncode}); restarting it:\n{_tail(child.log_path, 5)}",
              file=sys.stderr, flush=True)
        with contextlib.suppress(ProcessLookupError):  # leftover workers of its group would hold the port
            os.killpg(child.process.pid, signal.SIGKILL)
        time.sleep(RESTART_BACKOFF[min(count, len(RESTART_BACKOFF) - 1)])
        children[index] = _start(child.name, child.command, child.env, log_dir)
        failures[child.name] = count + 1


def rasa_command() -> list[str]:
    """Rasa's CLI through lotse/rasa_launch.py (Rasa as installed, minus a repeated schema check)."""
    return [str(rasa_executable().parent / "python"), str(Path(__file__).with_name("rasa_launch.py"))]


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
            [*rasa_command(), "run", "--enable-api", "--model", str(model),
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
        failures: dict[str, int] = {}
        while True:
            if all(child.process.poll() is None for child in children):
                time.sleep(1)
                continue
            if not RESTART_CRASHED:
                failed = [c for c in children if c.process.poll() is not None]
                for child in failed:
                    print(f"{child.name} stopped unexpectedly:\n{_tail(child.log_path)}", file=sys.stderr)
                return 1
            restart_crashed(children, failures, run_dir)
    except KeyboardInterrupt:
        print("Stopping Lotse ...", file=sys.stderr, flush=True)
        return 0
    finally:
        stop_all(children)


PARTS = ("hub", "rasa", "actions")


def part_command(
    part: str, host: str, port: int | None = None, retrain: bool = False
) -> tuple[list[str], dict[str, str]]:
    """The command and environment that run one part of Lotse on its own, after preparing it.

    ``lotse serve`` runs all three parts as children on one machine; a container (or a machine
    per part) runs one of them, and this is that one part with the same preparation: the hub
    migrates the database, Rasa trains its model if the cached one is stale, the action server
    builds the knowledge index before it listens.
    """
    from server.core.config import get_settings

    settings = get_settings()
    env = dict(os.environ)
    if part == "hub":
        from server.core.db import upgrade_database

        upgrade_database(settings.database_url)
        return [sys.executable, "-m", "uvicorn", "server.main:app", "--host", host,
                "--port", str(port or settings.hub_port), "--no-access-log"], env
    if part == "actions":
        subprocess.run([sys.executable, "-m", "lotse.cli", "kb", "index"], cwd=ROOT, check=True)
        return ([sys.executable, "-m", "rasa_sdk", "--actions", "actions",
                 "--port", str(port or _port(settings.action_server_url))],
                {**env, "SANIC_HOST": host, "LOTSE_WARM_UP": "1"})
    if part == "rasa":
        model = ensure_model(force=retrain)
        rasa_port = port or _port(settings.rasa_url)
        run_dir = VAR / "run" / f"rasa-{rasa_port}"
        endpoints, credentials = _write_rasa_config(run_dir, settings.action_server_url)
        return [*rasa_command(), "run", "--enable-api", "--model", str(model),
                "--endpoints", str(endpoints), "--credentials", str(credentials),
                "--logging-config-file", str(_write_rasa_logging(run_dir)),
                "--interface", host, "--port", str(rasa_port)], rasa_env()
    raise ValueError(f"unknown part {part!r}; one of {', '.join(PARTS)}")


def serve_part(part: str, host: str = "127.0.0.1", port: int | None = None, retrain: bool = False) -> int:
    """Prepare one part, then become it (exec): signals reach the server itself, as a container expects."""
    command, env = part_command(part, host, port, retrain)
    print(f"Starting the {part}: {' '.join(command[:4])} ...", file=sys.stderr, flush=True)
    os.chdir(ROOT)
    os.execvpe(command[0], command, env)
    return 1  # pragma: no cover - execvpe does not return
