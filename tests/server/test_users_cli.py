"""`lotse users add` creates accounts that can log in; bad input gets a clear message, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from lotse.paths import ROOT
from server.core.config import Settings
from server.main import create_app


def lotse(db: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}"}
    return subprocess.run([sys.executable, "-m", "lotse.cli", *args], input=stdin, text=True, capture_output=True,
                          cwd=ROOT, env=env, check=False, timeout=120)


def test_users_add_then_log_in(tmp_path: Path, settings: Settings) -> None:
    db = tmp_path / "lotse.db"
    added = lotse(db, "users", "add", "maria", "--role", "case_manager", "--team", "kim", "--password-stdin",
                  stdin="a good long password\n")
    assert added.returncode == 0, added.stderr
    assert "maria (case_manager; kim)" in added.stdout
    with TestClient(create_app(settings.model_copy(update={"database_url": f"sqlite:///{db}"}))) as client:
        ok = client.post("/api/v1/auth/login", json={"username": "maria", "password": "a good long password"})
        assert ok.status_code == 200 and ok.json()["access_token"]
        me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {ok.json()['access_token']}"})
        assert me.json() == {"username": "maria", "display_name": "maria", "role": "case_manager", "teams": ["kim"],
                             "district": None}

    again = lotse(db, "users", "add", "maria", "--role", "admin", "--password-stdin", stdin="another password\n")
    assert again.returncode == 2 and "exists already" in again.stderr
    short = lotse(db, "users", "add", "tom", "--role", "editor", "--password-stdin", stdin="short\n")
    assert short.returncode == 2 and "at least 8 characters" in short.stderr
    team = lotse(db, "users", "add", "tom", "--role", "case_manager", "--team", "nowhere", "--password-stdin",
                 stdin="a good long password\n")
    assert team.returncode == 2 and "unknown team" in team.stderr and "Traceback" not in team.stderr
    listed = lotse(db, "users", "list")
    assert listed.stdout.splitlines() == ["maria\tcase_manager\tkim\tactive\t*"]
