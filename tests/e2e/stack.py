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


