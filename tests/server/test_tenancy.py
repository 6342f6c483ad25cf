"""Several districts on one deployment: each district's staff see only their own newcomers.

Two districts (Kreis Kleve, Kreis Coesfeld) share the teams of config/routing/default.yml, so a
team name alone does not separate them; the district of the account does. Also: where a new
chat gets its district from (widget/region, host name, the town named in the hand-off form), and
staff logins that expire when left unused.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from lotse.paths import ROOT
from server.core.config import Settings
from server.core.db import get_sessionmaker, upgrade_database
from server.main import create_app
from server.models import AuthToken, ChatSession, User, utcnow
from server.services.users import UserError, add_user, in_district, issue_token, user_for_token
from tests.conftest import ScriptedDialogue
from tests.server.conftest import PASSWORD

pytestmark = pytest.mark.db

KLEVE, COESFELD = "kreis-kleve", "kreis-coesfeld"


def login(client: TestClient, username: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def console_login(client: TestClient, username: str) -> None:
    response = client.post("/console/login", data={"username": username, "password": PASSWORD},
                           follow_redirects=False)
    assert response.status_code == 303, response.text


def hand_off(client: TestClient, region: str | None = None, host: str | None = None) -> str:
    """A newcomer's chat that asks for a person; the scripted form names the town Goch (Kreis Kleve)."""
    body = {"channel": "web", "language": "de", **({"region": region} if region else {})}
    headers = {"host": host} if host else {}
    created = client.post("/api/v1/sessions", json=body, headers=headers)
    assert created.status_code == 201, created.text
    session: str = created.json()["session_id"]
    assert client.post(f"/api/v1/sessions/{session}/messages", json={"text": "/request_human"}).status_code == 200
    return session


@pytest.fixture
def districts(settings: Settings) -> None:
    """A case manager and an admin per district, plus a state-level admin without a district."""
    upgrade_database(settings.database_url)
    with get_sessionmaker(settings.database_url)() as db:
        add_user(db, "kim-kleve", PASSWORD, "case_manager", district=KLEVE)
        add_user(db, "kim-coesfeld", PASSWORD, "case_manager", district=COESFELD)
        add_user(db, "admin-kleve", PASSWORD, "admin", district=KLEVE)
        add_user(db, "land", PASSWORD, "admin")


@pytest.fixture
def two_cases(client: TestClient, districts: None) -> dict[str, int]:
    """One open case in each district: region → case id."""
    for region in (KLEVE, COESFELD):
        hand_off(client, region)
    cases = client.get("/api/v1/cases?status=all", headers=login(client, "land")).json()
    return {case["region"]: case["id"] for case in cases}


def test_staff_of_each_district_see_only_their_districts_cases_in_the_api(
    client: TestClient, two_cases: dict[str, int]
) -> None:
    assert set(two_cases) == {KLEVE, COESFELD}
    kleve, coesfeld = login(client, "kim-kleve"), login(client, "kim-coesfeld")
    assert [c["id"] for c in client.get("/api/v1/cases?status=all", headers=kleve).json()] == [two_cases[KLEVE]]
    assert [c["id"] for c in client.get("/api/v1/cases?status=all", headers=coesfeld).json()] == [two_cases[COESFELD]]
    # Another district's case does not exist for them: 404, as for another team's.
    assert client.get(f"/api/v1/cases/{two_cases[COESFELD]}", headers=kleve).status_code == 404
    assert client.post(f"/api/v1/cases/{two_cases[COESFELD]}/claim", headers=kleve).status_code == 404
    assert client.post(f"/api/v1/cases/{two_cases[KLEVE]}/reply", headers=coesfeld,
                       json={"text": "Guten Tag"}).status_code == 404
    assert client.get(f"/api/v1/cases/{two_cases[KLEVE]}", headers=kleve).status_code == 200
    # A district's admin is bound to the district too; the state-level admin sees all.
    admin_kleve = login(client, "admin-kleve")
    assert [c["id"] for c in client.get("/api/v1/cases?status=all", headers=admin_kleve).json()] == [two_cases[KLEVE]]
    assert client.get(f"/api/v1/cases/{two_cases[COESFELD]}", headers=admin_kleve).status_code == 404
    everyone = client.get("/api/v1/cases?status=all", headers=login(client, "land")).json()
    assert sorted(c["id"] for c in everyone) == sorted(two_cases.values())
    assert client.get("/api/v1/auth/me", headers=kleve).json()["district"] == KLEVE
    assert client.get("/api/v1/auth/me", headers=login(client, "land")).json()["district"] is None


def test_the_console_queue_and_case_pages_are_scoped_to_the_district(
    client: TestClient, two_cases: dict[str, int]
) -> None:
    console_login(client, "kim-coesfeld")
    queue = client.get("/console?status=all")
    assert queue.status_code == 200
    assert f"/console/cases/{two_cases[COESFELD]}\"" in queue.text
    assert f"/console/cases/{two_cases[KLEVE]}\"" not in queue.text
    assert client.get(f"/console/cases/{two_cases[KLEVE]}").status_code == 404
    assert client.get(f"/console/cases/{two_cases[COESFELD]}").status_code == 200
    console_login(client, "land")
    queue = client.get("/console?status=all")
    assert all(f"/console/cases/{case_id}\"" in queue.text for case_id in two_cases.values())


def test_the_audit_log_of_a_district_admin_holds_only_their_district(
    client: TestClient, two_cases: dict[str, int]
) -> None:
    client.get(f"/api/v1/cases/{two_cases[KLEVE]}", headers=login(client, "kim-kleve"))
    client.get(f"/api/v1/cases/{two_cases[COESFELD]}", headers=login(client, "kim-coesfeld"))
    kleve_log = client.get("/api/v1/audit", headers=login(client, "admin-kleve")).json()
    assert {e["case_id"] for e in kleve_log} == {two_cases[KLEVE]}
    state_log = client.get("/api/v1/audit", headers=login(client, "land")).json()
    assert {e["case_id"] for e in state_log} >= set(two_cases.values())
    console_login(client, "admin-kleve")
    page = client.get("/console/audit")
    assert page.status_code == 200
    assert f"/console/cases/{two_cases[KLEVE]}\"" in page.text
    assert f"/console/cases/{two_cases[COESFELD]}\"" not in page.text


def test_a_host_name_of_a_district_gives_new_chats_that_district(settings: Settings, dialogue: ScriptedDialogue,
                                                                 districts: None) -> None:
    tenant = settings.model_copy(update={"tenant_hosts": {"coesfeld.lotse.example": COESFELD}})
    app = create_app(tenant)
    app.state.conversations.dialogue = dialogue
    with TestClient(app) as client:
        def region_of(host: str, region: str | None = None) -> str | None:
            body = {"channel": "web", **({"region": region} if region else {})}
            response = client.post("/api/v1/sessions", json=body, headers={"host": host})
            assert response.status_code == 201, response.text
            return response.json()["region"]

        assert region_of("coesfeld.lotse.example") == COESFELD
        assert region_of("COESFELD.lotse.example:443") == COESFELD
        assert region_of("other.lotse.example") is None
        assert region_of("coesfeld.lotse.example", KLEVE) == KLEVE  # the widget's data-region names its own
        hand_off(client, host="coesfeld.lotse.example")
        cases = client.get("/api/v1/cases", headers=login(client, "kim-coesfeld")).json()
        assert len(cases) == 1
        assert client.get("/api/v1/cases", headers=login(client, "kim-kleve")).json() == []


def test_a_chat_without_a_district_joins_the_district_of_the_town_named(client: TestClient, districts: None) -> None:
    session = hand_off(client)  # no region: the form's town is Goch, in Kreis Kleve
    settings: Settings = client.app.state.settings  # type: ignore[attr-defined]
    with get_sessionmaker(settings.database_url)() as db:
        assert db.get(ChatSession, session).region == KLEVE  # type: ignore[union-attr]
    assert len(client.get("/api/v1/cases", headers=login(client, "kim-kleve")).json()) == 1
    assert client.get("/api/v1/cases", headers=login(client, "kim-coesfeld")).json() == []


def test_an_unknown_region_is_refused_with_the_known_ones(client: TestClient) -> None:
    response = client.post("/api/v1/sessions", json={"channel": "web", "region": "atlantis"})
    assert response.status_code == 422
    assert "Unknown region" in response.text and KLEVE in response.text


def test_a_host_mapping_to_an_unknown_region_stops_the_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOTSE_TENANT_HOSTS", "kleve.lotse.example=atlantis")
    with pytest.raises(ValueError, match="LOTSE_TENANT_HOSTS: unknown region 'atlantis'"):
        Settings(_env_file=None)  # type: ignore[call-arg]
    monkeypatch.setenv("LOTSE_TENANT_HOSTS", "https://kleve.lotse.example=kreis-kleve")
    with pytest.raises(ValueError, match="not a host name"):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_staff_accounts_only_get_known_districts(settings: Settings) -> None:
    upgrade_database(settings.database_url)
    with get_sessionmaker(settings.database_url)() as db:
        with pytest.raises(UserError, match="unknown district 'atlantis'"):
            add_user(db, "x1", PASSWORD, "case_manager", district="atlantis")
        user = add_user(db, "x2", PASSWORD, "case_manager", district=KLEVE)
        assert in_district(user, KLEVE) and not in_district(user, COESFELD) and not in_district(user, None)
        everywhere = add_user(db, "x3", PASSWORD, "admin")
        assert in_district(everywhere, COESFELD) and in_district(everywhere, None)


def test_lotse_users_add_takes_a_known_district(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'lotse.db'}"}

    def lotse(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "lotse.cli", "users", *args], input="a good long password\n",
                              text=True, capture_output=True, cwd=ROOT, env=env, check=False, timeout=120)

    bad = lotse("add", "kim", "--role", "case_manager", "--district", "atlantis", "--password-stdin")
    assert bad.returncode == 2 and "unknown district 'atlantis'" in bad.stderr and KLEVE in bad.stderr
    assert "Traceback" not in bad.stderr
    good = lotse("add", "kim", "--role", "case_manager", "--district", KLEVE, "--password-stdin")
    assert good.returncode == 0 and f"district {KLEVE}" in good.stdout
    assert lotse("list").stdout.splitlines() == [f"kim\tcase_manager\t*\tactive\t{KLEVE}"]


# -- staff logins expire when left unused ------------------------------------------------------


def test_a_login_unused_longer_than_the_idle_limit_is_refused(client: TestClient, districts: None) -> None:
    headers = login(client, "kim-kleve")
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    settings: Settings = client.app.state.settings  # type: ignore[attr-defined]
    with get_sessionmaker(settings.database_url)() as db:
        db.execute(update(AuthToken).values(last_used_at=utcnow() - timedelta(minutes=29)))
        db.commit()
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200  # 29 of 30 minutes: still fine
    with get_sessionmaker(settings.database_url)() as db:
        touched = db.scalars(select(AuthToken)).one().last_used_at
        assert touched is not None and utcnow() - touched.replace(tzinfo=utcnow().tzinfo) < timedelta(minutes=1)
        db.execute(update(AuthToken).values(last_used_at=utcnow() - timedelta(minutes=31)))
        db.commit()
    refused = client.get("/api/v1/auth/me", headers=headers)
    assert refused.status_code == 401 and "Log in first" in refused.text
    with get_sessionmaker(settings.database_url)() as db:
        assert db.scalars(select(AuthToken)).all() == []  # the stale login is gone, not just refused
    assert client.get("/api/v1/auth/me", headers=login(client, "kim-kleve")).status_code == 200


def test_an_idle_console_login_goes_back_to_the_login_page(client: TestClient, districts: None) -> None:
    console_login(client, "kim-kleve")
    assert client.get("/console", follow_redirects=False).status_code == 200
    settings: Settings = client.app.state.settings  # type: ignore[attr-defined]
    with get_sessionmaker(settings.database_url)() as db:
        db.execute(update(AuthToken).values(last_used_at=utcnow() - timedelta(hours=2)))
        db.commit()
    again = client.get("/console", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == "/console/login"


def test_use_is_written_at_most_once_a_minute_and_zero_means_no_idle_limit(settings: Settings) -> None:
    upgrade_database(settings.database_url)
    with get_sessionmaker(settings.database_url)() as db:
        user = add_user(db, "y1", PASSWORD, "case_manager")
        token = issue_token(db, user, hours=12)
        first = db.scalars(select(AuthToken)).one().last_used_at
        assert user_for_token(db, token, idle_minutes=30) is not None
        assert db.scalars(select(AuthToken)).one().last_used_at == first  # seconds later: no write
        long_ago = utcnow() - timedelta(hours=5)
        db.execute(update(AuthToken).values(last_used_at=long_ago))
        db.commit()
        assert user_for_token(db, token, idle_minutes=0) is not None  # no idle limit: only token_hours count
        assert db.scalars(select(AuthToken)).one().last_used_at != long_ago  # and the use was recorded
        assert db.scalar(select(User).where(User.username == "y1")) is not None
