"""`lotse serve` starts a part that died again, so an outage ends without a person restarting Lotse."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from lotse import supervisor


def test_a_dead_part_is_started_again_and_its_pid_file_follows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(supervisor, "RESTART_BACKOFF", (0.0, 0.0))
    child = supervisor._start("rasa", [sys.executable, "-c", "print('up')"], {}, tmp_path)
    alive = supervisor._start("hub", [sys.executable, "-c", "import time; time.sleep(30)"], {}, tmp_path)
    children = [child, alive]
    try:
        assert int((tmp_path / "rasa.pid").read_text()) == child.process.pid
        child.process.wait(timeout=30)
        failures: dict[str, int] = {}
        supervisor.restart_crashed(children, failures, tmp_path)
        restarted = children[0]
        assert restarted.process.pid != child.process.pid
        assert restarted.command == child.command
        assert int((tmp_path / "rasa.pid").read_text()) == restarted.process.pid
        assert children[1] is alive, "a part that runs is left alone"
        assert failures == {"rasa": 1}
        restarted.process.wait(timeout=30)
        assert (tmp_path / "rasa.log").read_text().count("up") == 2  # both runs log to the same file
    finally:
        supervisor.stop_all(children)
