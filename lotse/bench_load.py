"""``lotse bench load`` and ``lotse bench faults``: many newcomers at once, and parts dying under them.

**load** — ``--sessions N`` simulated newcomers chat over HTTP on loopback with the real stack
(``lotse serve``: hub, Rasa, action server; one or two hub processes) for ``--duration`` seconds.
Each opens its conversation's SSE stream, as the web chat does, then sends a realistic mix: a
greeting in its language, questions from the knowledge tests in seven languages, now and then a
button it was offered (topics, language choice, "no" to a person), with a think time between
messages (``--think-ms``; ``0-0`` is the closed-loop saturation test). At the end every accepted
message (2xx) is looked up in the transcript with every reply the API returned, and every one
of them must have reached the session's SSE stream: "lost" counts what is missing.

**faults** — a few sessions chat while the bench kills Rasa (SIGKILL), then the action server,
then (on PostgreSQL) stops the database for some seconds, then kills the hub: per fault the
polite fallbacks (with the Welcome Center's contact) and 503s the newcomers got, errors, lost
messages (must be 0), and the seconds until answers came back once the part was up again.
``lotse serve`` restarts a dead part itself; the bench restarts the database.

Not part of the test suite (minutes, and figures that depend on the machine); the README's "Load
and faults" section gives the figures with the command. tests/e2e/test_faults.py checks the
fault behaviour in CI.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import random
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from lotse.bench_latency import QUESTIONS, free_port, start_serve, stop_serve
from lotse.paths import ROOT, VAR

GREETINGS = {"de": "Hallo!", "en": "Hello", "ar": "السلام عليكم", "tr": "Merhaba", "uk": "Привіт!",
             "ru": "Здравствуйте", "fa": "سلام"}
LANGS = sorted(GREETINGS)
# Buttons a newcomer may press in the mix. Not "yes" to a person: a hand-off makes the bot silent
# (a case manager answers), which is another benchmark.
AVOID_PAYLOADS = ("/affirm", "/human", "/request_human")




@functools.cache
def fallback_texts() -> frozenset[str]:
    """The polite "cannot answer now" in every language, with the Welcome Center's contact.

    Recognised by its text: the chat API's reply schema does not carry the message's meta.
    """
    from lotse.i18n import t
    from lotse.languages import LANGUAGES
    from server.core.config import get_settings
    from server.services.contact import contact_line

    contact = contact_line(get_settings().welcome_center_region)
    return frozenset(t("service_unavailable", code, contact=contact) for code in LANGUAGES)


# ---------------------------------------------------------------- the stack


@dataclass
class BenchStack:
    hubs: list[str]
    ports: dict[str, int]
    database_url: str
    process: subprocess.Popen[str]
    extra_hubs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def pid(self, part: str) -> int:
        """The pid the supervisor wrote for a part (it changes when the supervisor restarts the part)."""
        return int((VAR / "run" / str(self.ports["hub"]) / f"{part}.pid").read_text(encoding="ascii"))


def _postgres_database() -> tuple[str, str] | None:
    """A fresh database on the cluster of scripts/with-postgres.sh (or DATABASE_URL's), and the admin URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    server = os.environ.get("LOTSE_TEST_POSTGRES_URL") or os.environ.get("DATABASE_URL", "")
    if not server.startswith("postgres"):
        return None
    name = f"lotse_bench_{uuid.uuid4().hex[:8]}"
    from server.core.db import normalize_url

    admin = create_engine(normalize_url(server), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(normalize_url(server)).set(database=name).render_as_string(hide_password=False), server


def _wait_health(base: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/health", timeout=3).status_code == 200:
                return
        time.sleep(0.5)
    raise RuntimeError(f"{base} did not become healthy")


@contextmanager
def bench_stack(hubs: int, database: str, startup_timeout: float = 900) -> Iterator[BenchStack]:
    """``lotse serve`` on free ports (and a second hub on the same database and Rasa when ``hubs`` is 2)."""
    ports = {"hub": free_port(), "rasa": free_port(), "actions": free_port()}
    with tempfile.TemporaryDirectory(prefix="lotse-load-") as tmp:
        if database == "postgres":
            created = _postgres_database()
            if created is None:
                raise SystemExit("--database postgres needs PostgreSQL: run through scripts/with-postgres.sh "
                                 "or set DATABASE_URL=postgresql://...")
            db_url = created[0]
        else:
            db_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        run_dir = VAR / "run" / str(ports["hub"])
        env = {**os.environ, "DATABASE_URL": db_url, "LOTSE_HUB_PORT": str(ports["hub"]),
               "LOTSE_RASA_URL": f"http://127.0.0.1:{ports['rasa']}",
               "LOTSE_ACTION_SERVER_URL": f"http://127.0.0.1:{ports['actions']}",
               "LOTSE_RASA_TRACKER_URL": f"sqlite:///{run_dir / 'rasa-tracker.db'}",
               # Simulated newcomers all come from 127.0.0.1 and may type faster than people.
               "LOTSE_RATE_LIMIT_SESSION_PER_MINUTE": "0", "LOTSE_RATE_LIMIT_ADDRESS_PER_MINUTE": "0"}
        process = start_serve(env, startup_timeout)
        stack = BenchStack([f"http://127.0.0.1:{ports['hub']}"], ports, db_url, process)
        try:
            for _ in range(hubs - 1):
                port = free_port()
                log = (run_dir / f"hub-{port}.log").open("ab")
                stack.extra_hubs.append(subprocess.Popen(
                    [sys.executable, "-m", "uvicorn", "server.main:app", "--host", "127.0.0.1", "--port", str(port),
                     "--no-access-log"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True))
                log.close()
                stack.hubs.append(f"http://127.0.0.1:{port}")
                _wait_health(stack.hubs[-1], 120)
            yield stack
        finally:
            for extra in stack.extra_hubs:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(extra.pid, signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    extra.wait(timeout=30)
            stop_serve(process)


# ---------------------------------------------------------------- one simulated newcomer


@dataclass
class Sent:
    """One message as the client saw it."""

    started: float  # time.monotonic()
    ms: float
    status: int  # HTTP status; 0: no response (connection refused, timeout)
    text: str
    user_seq: int | None = None
    reply_seqs: list[int] = field(default_factory=list)
    fallback: bool = False  # the polite "cannot answer now" with the Welcome Center's contact


@dataclass
class Newcomer:
    index: int
    base: str
    language: str
    sid: str | None = None
    sent: list[Sent] = field(default_factory=list)
    streamed: set[int] = field(default_factory=set)
    stream_errors: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def listen(self) -> None:
        """The session's SSE stream, reconnecting with Last-Event-ID as the web chat does."""
        last = 0
        while not self.stop.is_set():
            try:
                with httpx.Client(base_url=self.base, timeout=httpx.Timeout(5, read=20)) as http, \
                        http.stream("GET", f"/api/v1/sessions/{self.sid}/events",
                                    headers={"Last-Event-ID": str(last)}) as events:
                    for line in events.iter_lines():
                        if line.startswith("id: "):
                            last = int(line[4:])
                            self.streamed.add(last)
                        if self.stop.is_set():
                            return
            except (httpx.HTTPError, ValueError):
                self.stream_errors += 1
                self.stop.wait(0.5)

    def next_text(self, rng: random.Random, turn: int, last_reply: list[dict[str, Any]]) -> str:
        if turn == 0:
            return GREETINGS[self.language]
        buttons = [b["payload"] for m in last_reply for b in m.get("buttons") or []
                   if isinstance(b, dict) and str(b.get("payload", "")).startswith("/")
                   and not str(b["payload"]).startswith(AVOID_PAYLOADS)]
        if buttons and rng.random() < 0.25:
            return str(rng.choice(buttons))
        own = [q for lang, q in QUESTIONS if lang == self.language]
        pool = own if own and rng.random() < 0.8 else [q for _, q in QUESTIONS]
        return rng.choice(pool)

    def run(self, deadline: float, think_ms: tuple[int, int], timeout: float) -> None:
        rng = random.Random(self.index)
        with httpx.Client(base_url=self.base, timeout=timeout) as http:
            while self.sid is None and time.monotonic() < deadline:
                with contextlib.suppress(httpx.HTTPError, KeyError, ValueError):
                    created = http.post("/api/v1/sessions", json={"channel": "api"})
                    if created.status_code == 201:
                        self.sid = created.json()["session_id"]
                        break
                time.sleep(1)
            if self.sid is None:
                return
            listener = threading.Thread(target=self.listen, daemon=True)
            listener.start()
            # People arrive at different moments, not all in the same millisecond.
            time.sleep(rng.uniform(0, max(think_ms[1], 1000)) / 1000)
            turn, last_reply = 0, list[dict[str, Any]]()
            while time.monotonic() < deadline and not self.stop.is_set():
                text = self.next_text(rng, turn, last_reply)
                turn += 1
                began = time.monotonic()
                sent = Sent(began, 0.0, 0, text)
                try:
                    response = http.post(f"/api/v1/sessions/{self.sid}/messages", json={"text": text})
                    sent.status = response.status_code
                    if response.status_code == 200:
                        body = response.json()
                        last_reply = body["messages"]
                        sent.user_seq = int(body["user_seq"])
                        sent.reply_seqs = [int(m["seq"]) for m in last_reply]
                        sent.fallback = any(m.get("text") in fallback_texts() for m in last_reply)
                except (httpx.HTTPError, ValueError, KeyError):
                    sent.status = 0
                sent.ms = (time.monotonic() - began) * 1000
                self.sent.append(sent)
                pause = rng.uniform(*think_ms) / 1000 if think_ms[1] else 0.0
                if sent.status != 200:
                    pause = max(pause, 0.5)  # a person would wait a moment before trying again
                if pause:
                    time.sleep(min(pause, max(0.0, deadline - time.monotonic())))


def check_integrity(people: list[Newcomer], base: str) -> dict[str, int]:
    """Every accepted message and every returned reply is stored; every one of them reached SSE."""
    missing_stored = missing_streamed = 0
    with httpx.Client(base_url=base, timeout=60) as http:
        for person in people:
            if person.sid is None:
                continue
            stored = {int(m["seq"]): m for m in
                      http.get(f"/api/v1/sessions/{person.sid}/messages").json()["messages"]}
            for sent in person.sent:
                if sent.status != 200 or sent.user_seq is None:
                    continue
                user = stored.get(sent.user_seq)
                if user is None or user["sender"] != "user" or user["text"] != sent.text.strip():
                    missing_stored += 1
                missing_stored += sum(1 for seq in sent.reply_seqs if seq not in stored)
                missing_streamed += sum(1 for seq in [sent.user_seq, *sent.reply_seqs]
                                        if seq not in person.streamed)
    return {"lost_stored": missing_stored, "lost_streamed": missing_streamed}


# ---------------------------------------------------------------- load


@dataclass
class LoadResult:
    label: str
    sessions: int
    hubs: int
    database: str
    think_ms: str
    seconds: float
    messages: int
    per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    fallbacks: int
    lost_stored: int
    lost_streamed: int


def _pct(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 1) if values else float("nan")


def run_people(stack: BenchStack, sessions: int, seconds: float, think_ms: tuple[int, int],
               timeout: float = 60.0, during: Any = None) -> tuple[list[Newcomer], float]:
    """``sessions`` newcomers (round-robin over the hubs, each keeps its hub) for ``seconds``."""
    # The client recognises the fallback by its text in 23 locale files: parse them now, once. Parsed
    # lazily, every thread's first reply parsed them at the same time (pure-Python YAML under the GIL),
    # which showed up as 6-10 s "first messages" that the hubs never saw.
    fallback_texts()
    people = [Newcomer(i, stack.hubs[i % len(stack.hubs)], LANGS[i % len(LANGS)]) for i in range(sessions)]
    began = time.monotonic()
    deadline = began + seconds
    threads = [threading.Thread(target=p.run, args=(deadline, think_ms, timeout), daemon=True) for p in people]
    for thread in threads:
        thread.start()
    if during is not None:
        during()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    time.sleep(2)  # the last replies' events are on their way
    for person in people:
        person.stop.set()
    return people, elapsed


def load_result(label: str, stack: BenchStack, people: list[Newcomer], elapsed: float,
                think: str, database: str) -> LoadResult:
    sent = [s for p in people for s in p.sent]
    ok = [s.ms for s in sent if s.status == 200]
    integrity = check_integrity(people, stack.hubs[0])
    return LoadResult(
        label, len(people), len(stack.hubs), database, think, round(elapsed, 1), len(sent),
        round(len(ok) / elapsed, 2) if elapsed else 0.0, _pct(ok, 50), _pct(ok, 95), _pct(ok, 99),
        round(max(ok), 1) if ok else float("nan"), sum(1 for s in sent if s.status != 200),
        sum(1 for s in sent if s.fallback), integrity["lost_stored"], integrity["lost_streamed"])


def warm_up(stack: BenchStack) -> None:
    """A few messages on every hub first, so no measured request loads a model."""
    for base in stack.hubs:
        with httpx.Client(base_url=base, timeout=120) as http:
            sid = http.post("/api/v1/sessions", json={"channel": "api"}).json()["session_id"]
            for lang in LANGS:
                http.post(f"/api/v1/sessions/{sid}/messages", json={"text": GREETINGS[lang]})
            for _, text in QUESTIONS[::3]:
                http.post(f"/api/v1/sessions/{sid}/messages", json={"text": text})


def load_markdown(rows: list[LoadResult]) -> str:
    lines = ["| run | sessions | hubs | database | think ms | messages | msg/s | p50 ms | p95 ms | p99 ms | max ms "
             "| errors | fallbacks | lost (stored) | lost (SSE) |",
             "|---|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {r.label} | {r.sessions} | {r.hubs} | {r.database} | {r.think_ms} | {r.messages} | {r.per_second} "
              f"| {r.p50_ms} | {r.p95_ms} | {r.p99_ms} | {r.max_ms} | {r.errors} | {r.fallbacks} | {r.lost_stored} "
              f"| {r.lost_streamed} |" for r in rows]
    return "\n".join(lines)


def parse_think(value: str) -> tuple[int, int]:
    low, _, high = value.partition("-")
    think = (int(low), int(high or low))
    if think[0] < 0 or think[1] < think[0]:
        raise argparse.ArgumentTypeError("--think-ms A-B with 0 <= A <= B")
    return think


def load_command(args: argparse.Namespace) -> int:
    think = parse_think(args.think_ms)
    database = args.database or ("postgres" if args.hubs > 1 else "sqlite")
    if args.hubs > 1 and database == "sqlite":
        raise SystemExit("--hubs 2 needs --database postgres (SQLite allows one writer process)")
    rows: list[LoadResult] = []
    with bench_stack(args.hubs, database) as stack:
        warm_up(stack)
        print(f"{args.sessions} session(s), {len(stack.hubs)} hub(s), think {args.think_ms} ms, "
              f"{args.duration:.0f} s ...", file=sys.stderr, flush=True)
        people, elapsed = run_people(stack, args.sessions, args.duration, think)
        rows.append(load_result("load", stack, people, elapsed, args.think_ms, database))
        if args.saturation:
            print(f"closed loop (no think time), {args.sessions} session(s) ...", file=sys.stderr, flush=True)
            people, elapsed = run_people(stack, args.sessions, args.duration, (0, 0))
            rows.append(load_result("saturation", stack, people, elapsed, "0", database))
    if args.json:
        print(json.dumps([asdict(r) for r in rows], ensure_ascii=False, indent=2))
    else:
        print(load_markdown(rows))
        print(f"\n{os.cpu_count()} CPU cores; load average at the end {os.getloadavg()[0]:.1f}.")
    return 0


# ---------------------------------------------------------------- faults


@dataclass
class FaultResult:
    fault: str
    messages: int
    answered: int
    fallbacks: int
    polite_503: int
    errors: int
    down_seconds: float  # the part was away (kill → its port answers again)
    recovery_seconds: float  # the part was back → the first real answer


def _port_open(port: int) -> bool:
    import socket

    with socket.socket() as s:
        s.settimeout(0.3)
        return s.connect_ex(("127.0.0.1", port)) == 0


class PostgresControl:
    """Stops and starts the PostgreSQL server of DATABASE_URL's socket directory (scripts/with-postgres.sh)."""

    def __init__(self, url: str) -> None:
        from sqlalchemy.engine import make_url

        host = str(make_url(url).query.get("host", ""))
        self.data = Path(host) / "data"
        if not (self.data / "postmaster.opts").exists():
            raise RuntimeError("no local cluster to stop (run through scripts/with-postgres.sh)")
        pg_bin = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
        self.pg_ctl = str(pg_bin / "pg_ctl")
        self.as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        opts = shlex.split((self.data / "postmaster.opts").read_text())
        args, skip = [], False
        for item in opts[1:]:  # drop the binary and its -D: pg_ctl gives it
            if skip:
                skip = False
                continue
            if item == "-D":
                skip = True
                continue
            args.append(item)
        self.options = " ".join(shlex.quote(a) for a in args)

    def stop(self) -> None:
        subprocess.run([*self.as_owner, self.pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "stop"],
                       check=True, capture_output=True)

    def start(self) -> None:
        subprocess.run([*self.as_owner, self.pg_ctl, "-D", str(self.data), "-l", str(self.data.parent / "server.log"),
                        "-w", "-t", "60", "-o", self.options, "start"], check=True, capture_output=True)


def faults_command(args: argparse.Namespace) -> int:
    think = parse_think(args.think_ms)
    database = args.database or ("postgres" if os.environ.get("LOTSE_TEST_POSTGRES_URL") else "sqlite")
    results: list[FaultResult] = []
    with bench_stack(1, database) as stack:
        warm_up(stack)
        faults = ["rasa", "actions", *(["database"] if database == "postgres" else []), "hub"]
        timeline: dict[str, tuple[float, float, float]] = {}  # fault → (injected, part back, phase end)

        def inject() -> None:
            time.sleep(args.settle)
            for fault in faults:
                injected = time.monotonic()
                if fault == "database":
                    control = PostgresControl(os.environ.get("LOTSE_TEST_POSTGRES_URL", stack.database_url))
                    control.stop()
                    time.sleep(args.outage)
                    control.start()
                    back = time.monotonic()
                else:
                    pid = stack.pid(fault)
                    os.killpg(pid, signal.SIGKILL)
                    port = stack.ports[fault]
                    while (stack.pid(fault) == pid or not _port_open(port)) and time.monotonic() - injected < 600:
                        time.sleep(0.1)
                    _wait_health(stack.hubs[0], 600)
                    back = time.monotonic()
                print(f"{fault}: back after {back - injected:.1f} s", file=sys.stderr, flush=True)
                time.sleep(args.settle)
                timeline[fault] = (injected, back, time.monotonic())

        phase_total = args.settle + len(faults) * (args.settle + 120) + 60
        print(f"{args.sessions} session(s); faults {', '.join(faults)} ...", file=sys.stderr, flush=True)
        stopper = threading.Event()

        def during() -> None:
            try:
                inject()
            finally:
                stopper.set()  # also when a fault could not be injected: stop the newcomers, report

        injector = threading.Thread(target=during, daemon=True)
        people = [Newcomer(i, stack.hubs[0], LANGS[i % len(LANGS)]) for i in range(args.sessions)]
        deadline = time.monotonic() + phase_total
        threads = [threading.Thread(target=p.run, args=(deadline, think, 60.0), daemon=True) for p in people]
        for thread in threads:
            thread.start()
        injector.start()
        stopper.wait(phase_total)
        for person in people:
            person.stop.set()
        # The newcomers stop at their next message: cut the deadline short by waiting for the threads.
        deadline_cut = time.monotonic()
        for thread in threads:
            thread.join(timeout=max(1.0, deadline - deadline_cut))
        time.sleep(2)
        integrity = check_integrity(people, stack.hubs[0])
        sent = sorted((s for p in people for s in p.sent), key=lambda s: s.started)
        for fault in faults:
            if fault not in timeline:
                continue
            injected, back, end = timeline[fault]
            phase = [s for s in sent if injected <= s.started < end]
            good_after = [s.started + s.ms / 1000 for s in phase
                          if s.started >= back and s.status == 200 and not s.fallback]
            results.append(FaultResult(
                fault, len(phase), sum(1 for s in phase if s.status == 200 and not s.fallback),
                sum(1 for s in phase if s.fallback), sum(1 for s in phase if s.status == 503),
                sum(1 for s in phase if s.status not in (200, 503)),
                round(back - injected, 1), round(min(good_after) - back, 1) if good_after else float("nan")))
        lost = integrity["lost_stored"] + integrity["lost_streamed"]
    if args.json:
        print(json.dumps({"faults": [asdict(r) for r in results], "integrity": integrity}, indent=2))
    else:
        print("| fault | messages | answered | polite fallback | polite 503 | errors | part away s "
              "| answers again s after it was back |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for r in results:
            print(f"| {r.fault} | {r.messages} | {r.answered} | {r.fallbacks} | {r.polite_503} | {r.errors} "
                  f"| {r.down_seconds} | {r.recovery_seconds} |")
        print(f"\nlost over the whole run: {integrity['lost_stored']} accepted messages or replies not stored, "
              f"{integrity['lost_streamed']} not on the SSE stream; {database}; {os.cpu_count()} CPU cores.")
    return 0 if lost == 0 else 1


def add_bench_parsers(bench_sub: Any) -> None:
    """``lotse bench load`` and ``lotse bench faults`` (registered from lotse/cli.py)."""
    load = bench_sub.add_parser("load", help="N simulated newcomers on the real stack: msg/s, p50/p95/p99, lost")
    load.add_argument("--sessions", type=int, default=20, help="newcomers chatting at once")
    load.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    load.add_argument("--hubs", type=int, choices=(1, 2), default=1, help="hub processes (2: on PostgreSQL)")
    load.add_argument("--think-ms", default="3000-8000",
                      help="pause between a reply and the next message, A-B ms (0-0: closed loop)")
    load.add_argument("--database", choices=("sqlite", "postgres"), default=None,
                      help="default: sqlite with 1 hub, postgres (scripts/with-postgres.sh) with 2")
    load.add_argument("--saturation", action="store_true",
                      help="then the same sessions again without think time (the saturation figure)")
    load.add_argument("--json", action="store_true", help="print JSON instead of a Markdown table")
    load.set_defaults(func=load_command)

    faults = bench_sub.add_parser("faults", help="kill Rasa, the action server, the database, the hub under load")
    faults.add_argument("--sessions", type=int, default=4, help="newcomers chatting during the faults")
    faults.add_argument("--think-ms", default="1000-2000", help="pause between messages, A-B ms")
    faults.add_argument("--outage", type=float, default=10.0, help="seconds the database stays stopped")
    faults.add_argument("--settle", type=float, default=10.0, help="seconds of normal chat before and after each")
    faults.add_argument("--database", choices=("sqlite", "postgres"), default=None,
                        help="default: postgres under scripts/with-postgres.sh (needed for the database fault)")
    faults.add_argument("--json", action="store_true", help="print JSON instead of a Markdown table")
    faults.set_defaults(func=faults_command)
