"""Faults in a running installation: a part dies mid-conversation, the newcomer is never left in silence.

One real stack (`lotse serve`: Rasa, the action server, the hub; PostgreSQL when
scripts/with-postgres.sh provides it, as in CI), the faults one after the other:

* the action server is killed: Rasa cannot run the answer action, the newcomer gets the polite
  fallback with the Welcome Center's contact; the supervisor starts it again, answers come back;
* Rasa is killed: the same, through the hub's own fallback;
* the database refuses connections (its connections cut, new ones refused): the chat API answers
  503 with a polite text in the newcomer's language, nothing is half-stored, and the hub uses the
  database again as soon as it is back, without a restart;
* the hub is killed mid-conversation (with an open case): after the supervisor restarted it, the
  case, the transcript and the conversation language are all still there.

Every message the API accepted (2xx) must be in the transcript at the end. Load figures for the
same faults are measured by ``lotse bench faults`` (README "Load and faults").
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from lotse.i18n import t
from server.services.contact import contact_line
from tests.e2e.stack import Stack, kill_part, running_stack, wait_part_back

pytestmark = pytest.mark.e2e
POSTGRES_URL_VAR = "LOTSE_TEST_POSTGRES_URL"
REGION = "kreis-kleve"


class Faults:
    """The stack, the PostgreSQL admin URL and database name (if any), and every text the API accepted."""

    def __init__(self, stack: Stack, admin_url: str | None, database: str | None) -> None:
        self.stack, self.admin_url, self.database = stack, admin_url, database
        self.accepted: dict[str, list[str]] = {}

    def say(self, sid: str, text_: str) -> dict[str, object]:
        reply = self.stack.say(sid, text_)
        self.accepted.setdefault(sid, []).append(text_)
        return reply


@pytest.fixture(scope="module")
def faults(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Faults]:
    server_url = os.environ.get(POSTGRES_URL_VAR)
    extra: dict[str, str] = {}
    database = None
    if server_url:
        database = f"lotse_faults_{uuid.uuid4().hex[:8]}"
        admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{database}"'))
        extra["DATABASE_URL"] = make_url(server_url).set(database=database).render_as_string(hide_password=False)
    try:
        with running_stack(tmp_path_factory.mktemp("faults") / "lotse.db", extra) as stack:
            yield Faults(stack, server_url, database)
    finally:
        if server_url:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            admin.dispose()


def texts(reply: dict[str, object]) -> str:
    return "\n".join(str(m["text"]) for m in reply["messages"])  # type: ignore[attr-defined]


def fallback(language: str) -> str:
    return t("service_unavailable", language, contact=contact_line(REGION))


def test_action_server_killed_then_back(faults: Faults) -> None:
    sid = faults.stack.session("de", REGION)
    assert "255" in texts(faults.say(sid, "Was kostet die Einbürgerung?"))
    old = kill_part(faults.stack, "actions")
    down = faults.say(sid, "Wie viele Stunden hat der Integrationskurs?")
    assert texts(down) == fallback("de")
    assert "02821" in texts(down) or contact_line(REGION) in texts(down)
    wait_part_back(faults.stack, "actions", old)
    assert "700" in texts(faults.say(sid, "Wie viele Stunden hat der Integrationskurs?"))


def test_rasa_killed_then_back(faults: Faults) -> None:
    sid = faults.stack.session("en", REGION)
    assert "255" in texts(faults.say(sid, "How much does it cost to become a German citizen?"))
    old = kill_part(faults.stack, "rasa")
    down = faults.say(sid, "How many hours is the integration course?")
    assert texts(down) == fallback("en")
    wait_part_back(faults.stack, "rasa", old)
    back = faults.say(sid, "How many hours is the integration course?")
    assert "700" in texts(back) and back["language"] == "en"


def test_database_down_gets_a_polite_503_and_recovers(faults: Faults) -> None:
    if not faults.admin_url:
        if os.environ.get("CI"):
            pytest.fail(f"the database fault must run in CI: run through scripts/with-postgres.sh ({POSTGRES_URL_VAR})")
        pytest.skip("needs PostgreSQL (scripts/with-postgres.sh)")
    stack = faults.stack
    sid = stack.session("uk", REGION)
    faults.say(sid, "Скільки коштує натуралізація в Німеччині?")
    admin = create_engine(faults.admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{faults.database}" ALLOW_CONNECTIONS false'))
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :db"),
                         {"db": faults.database})
        down = stack.http.post(f"/api/v1/sessions/{sid}/messages", json={"text": "Скільки годин триває курс?"},
                               headers={"Accept-Language": "uk-UA,uk;q=0.9"})
        assert down.status_code == 503, down.text
        assert down.json()["detail"] == t("database_unavailable", "uk", contact=contact_line(REGION))
        assert down.headers["retry-after"]
        assert stack.http.get("/health").json()["parts"]["database"]["ok"] is False
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{faults.database}" ALLOW_CONNECTIONS true'))
        admin.dispose()
    # Back without restarting anything: the pool drops its dead connections and opens new ones.
    back = faults.say(sid, "Скільки годин триває інтеграційний курс?")
    assert "700" in texts(back) and back["language"] == "uk"
    stored = [m["text"] for m in stack.http.get(f"/api/v1/sessions/{sid}/messages").json()["messages"]
              if m["sender"] == "user"]
    assert stored == faults.accepted[sid]  # the refused message is not there, half or whole


def inform(value: str) -> str:
    return "/inform" + json.dumps({"value": value}, ensure_ascii=False)


def test_hub_killed_mid_conversation_keeps_case_transcript_and_language(faults: Faults) -> None:
    stack = faults.stack
    sid = stack.session(None, REGION)
    assert faults.say(sid, "Скільки коштує натуралізація в Німеччині?")["language"] == "uk"
    for step in ("/human", "/affirm", inform("Goch"), inform("residence"), inform("chat"), inform("uk")):
        faults.say(sid, step)
    waiting = faults.say(sid, "Моя посвідка на проживання закінчується наступного місяця")
    assert waiting["mode"] == "waiting"
    before = stack.http.get(f"/api/v1/sessions/{sid}/messages").json()

    old = kill_part(stack, "hub")
    wait_part_back(stack, "hub", old)

    after = stack.http.get(f"/api/v1/sessions/{sid}/messages").json()
    assert after == before  # transcript, language and the open case's mode, as they were
    assert after["language"] == "uk" and after["mode"] == "waiting"
    silent = faults.say(sid, "Дякую, я чекаю")
    assert silent["mode"] == "waiting" and silent["messages"] == []


def test_nothing_accepted_was_lost(faults: Faults) -> None:
    """Runs last: every message the API answered 2xx for is in its conversation's transcript, in order."""
    for sid, sent in faults.accepted.items():
        messages = faults.stack.http.get(f"/api/v1/sessions/{sid}/messages").json()["messages"]
        assert [m["text"] for m in messages if m["sender"] == "user"] == sent
