"""Start the real stack (`lotse serve`: Rasa, action server, hub) on free ports for e2e tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from lotse.paths import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


class Stack:
    def __init__(self, base: str, db_path: Path, ports: list[int], process: subprocess.Popen[str]) -> None:
        self.base, self.db_path, self.ports, self.process = base, db_path, ports, process
        self.http = httpx.Client(base_url=base, timeout=60)

    def session(self, language: str | None = None, region: str | None = None) -> str:
        body = {"channel": "web", "language": language, "region": region}
        response = self.http.post("/api/v1/sessions", json={k: v for k, v in body.items() if v})
        assert response.status_code == 201, response.text
        return str(response.json()["session_id"])

    def say(self, sid: str, text: str) -> dict[str, object]:
        response = self.http.post(f"/api/v1/sessions/{sid}/messages", json={"text": text})
        assert response.status_code == 200, response.text
        body: dict[str, object] = response.json()
        return body


@contextmanager
def running_stack(db_path: Path, extra_env: dict[str, str] | None = None,
                  ports: tuple[int, int, int] | None = None) -> Iterator[Stack]:
    """The stack on ``db_path``; the same ``ports`` again simulate a restart of the same installation."""
    hub, rasa, actions = ports or (free_port(), free_port(), free_port())
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db_path}",
        "LOTSE_HUB_PORT": str(hub),
        "LOTSE_RASA_URL": f"http://127.0.0.1:{rasa}",
        "LOTSE_ACTION_SERVER_URL": f"http://127.0.0.1:{actions}",
        **(extra_env or {}),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "lotse.cli", "serve"], cwd=ROOT, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )
    output: list[str] = []
    deadline = time.monotonic() + 900
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            pytest.fail("lotse serve exited:\n" + "".join(output))
        output.append(line)
        if "Lotse is running" in line:
            break
    else:
        process.kill()
        pytest.fail("lotse serve did not become healthy:\n" + "".join(output))
    stack = Stack(f"http://127.0.0.1:{hub}", db_path, [hub, rasa, actions], process)
    try:
        yield stack
    finally:
        stack.http.close()
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=60)




# ---- one part at a time (tests/e2e/test_faults.py): `lotse serve` restarts a part that died.

PARTS = ("hub", "rasa", "actions")


def part_pid(stack: Stack, part: str) -> int:
    """The process id of one part, from the pid file the supervisor writes into its run directory."""
    from lotse.paths import VAR

    return int((VAR / "run" / str(stack.ports[0]) / f"{part}.pid").read_text(encoding="ascii"))


def kill_part(stack: Stack, part: str) -> int:
    """SIGKILL one part with its worker processes (a crash, not a shutdown); returns the dead pid."""
    pid = part_pid(stack, part)
    os.killpg(pid, signal.SIGKILL)
    port = stack.ports[PARTS.index(part)]
    deadline = time.monotonic() + 10
    while port_open(port) and time.monotonic() < deadline:
        time.sleep(0.05)
    return pid


def wait_part_back(stack: Stack, part: str, old_pid: int, timeout: float = 300) -> float:
    """Seconds until the supervisor has started ``part`` again and ``/health`` reports everything up."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        try:
            if part_pid(stack, part) != old_pid and stack.http.get("/health", timeout=5).status_code == 200:
                return time.monotonic() - began
        except (httpx.HTTPError, OSError, ValueError):
            pass
        time.sleep(0.5)
    pytest.fail(f"{part} did not come back within {timeout:.0f} s")
