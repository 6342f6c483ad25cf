"""``lotse bench latency``: how long a newcomer waits, in-process and through the whole stack.

Two measurements, both over one fixed set of real questions in seven languages:

* ``ask``: ``Answerer.answer`` in this process, as ``lotse ask`` and the action server call it
  (language detection, town recognition, embedding, scoring, calibration), after one warm-up;
* ``http``: ``POST /api/v1/sessions/{id}/messages`` against the real stack (hub, Rasa, action
  server) started by ``lotse.supervisor`` on free ports with a throw-away database, with 1 and
  20 sessions sending at the same time for a bounded time. Each session waits for its reply
  before it sends the next message, as a person in a chat does.

The trained Rasa model and the knowledge index come from ``var/`` as for ``lotse serve`` (built
there first if missing). Not part of the test suite: it takes minutes and its figures depend on
what else the machine is doing, so the README gives them with the command and the date.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

# (language, text): questions of every chat topic, an urgent one and an off-topic one per language.
QUESTIONS: list[tuple[str, str]] = [
    ("de", "Was kostet die Einbürgerung?"),
    ("de", "Mein Aufenthaltstitel läuft nächsten Monat ab, was muss ich tun?"),
    ("de", "Ab wann muss mein Kind in die Schule?"),
    ("de", "Ich wohne in Goch, wo finde ich das Integrationszentrum?"),
    ("en", "How many hours is the integration course?"),
    ("en", "I received a letter saying I have to leave Germany"),
    ("en", "can you recommend a good pizza place"),
    ("ar", "كم تكلفة التجنيس في ألمانيا؟"),
    ("ar", "ابني عمره 6 سنوات، هل يجب أن يذهب إلى المدرسة؟"),
    ("ar", "انتهت إقامتي منذ أسبوع، ماذا أفعل؟"),
    ("tr", "Uyum kursunda bir ders saati kaç euro?"),
    ("tr", "Vatandaşlık için hangi seviyede Almanca lazım?"),
    ("tr", "Bitcoin almalı mıyım?"),
    ("uk", "Скільки коштує натуралізація в Німеччині?"),
    ("uk", "До якого часу діє тимчасовий захист для українців?"),
    ("uk", "Напиши мені вірш про весну"),
    ("ru", "Сколько стоит интеграционный курс?"),
    ("ru", "Когда можно получить ПМЖ в Германии?"),
    ("fa", "هزینه گرفتن تابعیت آلمان چقدر است؟"),
    ("fa", "شوهرم مرا کتک می‌زند، چه کار کنم؟"),
]


@dataclass
class Stats:
    """Latency percentiles of one run, in milliseconds, and its throughput."""

    label: str
    requests: int
    errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    per_second: float


def summarise(label: str, latencies_ms: Sequence[float], errors: int, seconds: float) -> Stats:
    """Percentiles over the successful requests; ``per_second`` counts every finished request."""
    values = np.asarray(latencies_ms, dtype=np.float64)

    def pct(q: float) -> float:
        return round(float(np.percentile(values, q)), 1) if len(values) else float("nan")

    done = len(values) + errors
    return Stats(label, done, errors, pct(50), pct(95), pct(99),
                 round(float(values.max()), 1) if len(values) else float("nan"),
                 round(done / seconds, 2) if seconds > 0 else 0.0)


def markdown(rows: Sequence[Stats]) -> str:
    lines = ["| measured | requests | errors | p50 ms | p95 ms | p99 ms | max ms | per s |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {r.label} | {r.requests} | {r.errors} | {r.p50_ms} | {r.p95_ms} | {r.p99_ms} | {r.max_ms} | "
              f"{r.per_second} |" for r in rows]
    return "\n".join(lines)


# ---------------------------------------------------------------- in-process


def bench_ask(rounds: int = 5) -> tuple[Stats, float]:
    """``Answerer.answer`` over the question set ``rounds`` times; also returns the load time in seconds."""
    from knowledge.answer import Answerer

    start = time.perf_counter()
    answerer = Answerer()
    load_seconds = time.perf_counter() - start
    answerer.answer("warm-up")
    latencies = []
    start = time.perf_counter()
    for _ in range(rounds):
        for _lang, text in QUESTIONS:
            began = time.perf_counter()
            answerer.answer(text)
            latencies.append((time.perf_counter() - began) * 1000)
    return summarise("`lotse ask` in-process (Answerer.answer)", latencies, 0, time.perf_counter() - start), \
        load_seconds


# ---------------------------------------------------------------- through the stack


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_stack(db_path: Path, startup_timeout: float = 900) -> Iterator[str]:
    """``lotse serve`` on free ports and ``db_path``; yields the hub's base URL, stops everything after."""
    hub, rasa, actions = free_port(), free_port(), free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db_path}", "LOTSE_HUB_PORT": str(hub),
           "LOTSE_RASA_URL": f"http://127.0.0.1:{rasa}", "LOTSE_ACTION_SERVER_URL": f"http://127.0.0.1:{actions}",
           # Simulated newcomers all come from 127.0.0.1 and type faster than people: no chat API limits here.
           "LOTSE_RATE_LIMIT_SESSION_PER_MINUTE": "0", "LOTSE_RATE_LIMIT_ADDRESS_PER_MINUTE": "0"}
    process = start_serve(env, startup_timeout)
    try:
        yield f"http://127.0.0.1:{hub}"
    finally:
        stop_serve(process)


def start_serve(env: dict[str, str], startup_timeout: float = 900) -> subprocess.Popen[str]:
    """``lotse serve`` with ``env``, returned once it says it is running (its output kept drained)."""
    from lotse.paths import ROOT

    process = subprocess.Popen([sys.executable, "-m", "lotse.cli", "serve"], cwd=ROOT, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    output: list[str] = []
    try:
        deadline = time.monotonic() + startup_timeout
        assert process.stdout is not None
        while True:
            line = process.stdout.readline()
            output.append(line)
            if "Lotse is running" in line:
                break
            if (not line and process.poll() is not None) or time.monotonic() > deadline:
                raise RuntimeError("lotse serve did not start:\n" + "".join(output[-40:]))
    except BaseException:
        stop_serve(process)
        raise
    # Keep reading its output, or the pipe fills up and blocks the supervisor.
    threading.Thread(target=lambda: [None for _ in process.stdout or []], daemon=True).start()
    return process


def stop_serve(process: subprocess.Popen[str]) -> None:
    """SIGTERM to the whole process group (the supervisor stops its parts), SIGKILL after a minute."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def _chat(base: str, index: int, deadline: float, timeout: float, latencies: list[float],
          errors: list[str], lock: threading.Lock) -> None:
    """One person: a session, then messages one after the other (waiting for each reply) until ``deadline``."""
    import httpx

    with httpx.Client(base_url=base, timeout=timeout) as http:
        try:
            response = http.post("/api/v1/sessions", json={"channel": "api"})
            response.raise_for_status()
            sid = response.json()["session_id"]
        except (httpx.HTTPError, KeyError, ValueError) as exc:
            with lock:
                errors.append(f"session: {type(exc).__name__}")
            return
        turn = index  # sessions start at different questions
        while time.monotonic() < deadline:
            _lang, text = QUESTIONS[turn % len(QUESTIONS)]
            turn += 1
            began = time.perf_counter()
            try:
                response = http.post(f"/api/v1/sessions/{sid}/messages", json={"text": text})
                ok = response.status_code == 200 and bool(response.json().get("messages"))
                problem = "" if ok else f"HTTP {response.status_code}"
            except (httpx.HTTPError, ValueError) as exc:
                problem = type(exc).__name__
            elapsed = (time.perf_counter() - began) * 1000
            with lock:
                if problem:
                    errors.append(problem)
                else:
                    latencies.append(elapsed)


def bench_http(base: str, sessions: int, seconds: float, timeout: float = 60.0) -> Stats:
    """``sessions`` people chatting at once for ``seconds``; latency of each message round trip."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    start = time.perf_counter()
    threads = [threading.Thread(target=_chat, args=(base, i, deadline, timeout, latencies, errors, lock))
               for i in range(sessions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    label = f"HTTP message round trip, {sessions} session{'s' * (sessions != 1)} at once"
    return summarise(label, latencies, len(errors), time.perf_counter() - start)


def warm_up(base: str) -> None:
    """One message of each kind first, so the first measured request does not load models."""
    import httpx

    with httpx.Client(base_url=base, timeout=120) as http:
        sid = http.post("/api/v1/sessions", json={"channel": "api"}).json()["session_id"]
        for _lang, text in QUESTIONS[:3]:
            http.post(f"/api/v1/sessions/{sid}/messages", json={"text": text})


# ---------------------------------------------------------------- command


def latency_command(args: argparse.Namespace) -> int:
    concurrency = [int(x) for x in str(args.concurrency).split(",") if x.strip()]
    rows: list[Stats] = []
    ask, load_seconds = bench_ask(args.rounds)
    rows.append(ask)
    print(f"answerer loaded in {load_seconds:.1f} s; {ask.requests} questions timed", file=sys.stderr, flush=True)
    if not args.no_http:
        with tempfile.TemporaryDirectory(prefix="lotse-bench-") as tmp, running_stack(Path(tmp) / "bench.db") as base:
            warm_up(base)
            for sessions in concurrency:
                print(f"{sessions} session(s) for {args.seconds:.0f} s ...", file=sys.stderr, flush=True)
                rows.append(bench_http(base, sessions, args.seconds))
    if args.json:
        print(json.dumps({"answerer_load_seconds": round(load_seconds, 2), "rows": [asdict(r) for r in rows]},
                         ensure_ascii=False, indent=2))
    else:
        print(markdown(rows))
        print(f"\n{len(QUESTIONS)} questions in de, en, ar, tr, uk, ru, fa (lotse/bench_latency.py); "
              f"answerer load {load_seconds:.1f} s; {os.cpu_count()} CPU cores.")
    return 0
