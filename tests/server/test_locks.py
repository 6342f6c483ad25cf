"""Per-conversation locks: one conversation in order, different conversations never wait for each other."""

from __future__ import annotations

import threading
import time

from server.services.locks import SessionLocks


def test_one_conversation_waits_for_itself_but_not_for_others() -> None:
    locks = SessionLocks()
    order: list[str] = []
    inside = threading.Event()

    def slow() -> None:
        with locks("a"):
            inside.set()
            time.sleep(0.3)
            order.append("a1")

    thread = threading.Thread(target=slow)
    thread.start()
    inside.wait(5)
    began = time.monotonic()
    with locks("b"):  # another conversation: no waiting
        order.append("b")
    assert time.monotonic() - began < 0.1
    with locks("a"):  # the same conversation: after the first message
        order.append("a2")
    thread.join()
    assert order == ["b", "a1", "a2"]
    assert len(locks) == 0  # nothing kept once no message is in flight


def test_locks_are_released_after_an_error() -> None:
    locks = SessionLocks()
    try:
        with locks("a"):
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    with locks("a"):
        assert len(locks) == 1
    assert len(locks) == 0
