"""The schema on both databases: what the migrations build is what the models describe, both ways.

SQLite forgives what PostgreSQL does not (string lengths, boolean defaults, naive datetimes,
``ALTER TABLE``), so each test here runs on both (``@pytest.mark.db``; PostgreSQL through
scripts/with-postgres.sh, as ``make test`` does).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select

from server.core.config import Settings
from server.core.db import MIGRATIONS_DIR, get_sessionmaker, normalize_url, upgrade_database
from server.models import Base, ChatSession, User
from server.services.users import add_user, authenticate, issue_token, user_for_token

pytestmark = pytest.mark.db


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["database_url"] = normalize_url(url)
    return cfg


def test_the_migrations_build_exactly_the_models(settings: Settings) -> None:
    upgrade_database(settings.database_url)
    engine = get_sessionmaker(settings.database_url).kw["bind"]
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_every_migration_goes_down_and_up_again(settings: Settings) -> None:
    upgrade_database(settings.database_url)
    cfg = alembic_config(settings.database_url)
    command.downgrade(cfg, "base")
    engine = get_sessionmaker(settings.database_url).kw["bind"]
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    command.upgrade(cfg, "head")
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())


def test_defaults_and_times_read_back_the_same(settings: Settings) -> None:
    upgrade_database(settings.database_url)
    with get_sessionmaker(settings.database_url)() as db:
        chat = ChatSession(channel="web")
        db.add(chat)
        db.commit()
        db.expire_all()
        stored = db.scalars(select(ChatSession)).one()
        assert (stored.mode, stored.rasa_paused, stored.last_seq) == ("bot", False, 0)
        created = stored.created_at if stored.created_at.tzinfo else stored.created_at.replace(tzinfo=UTC)
        assert abs(datetime.now(UTC) - created) < timedelta(minutes=1)


def test_logins_lock_and_expire_alike(settings: Settings) -> None:
    """Times written aware come back naive from SQLite and aware from PostgreSQL: both must compare."""
    upgrade_database(settings.database_url)
    with get_sessionmaker(settings.database_url)() as db:
        user = add_user(db, "anna", "correct horse battery", "case_manager", ["abh-infopoint"])
        token, expired = issue_token(db, user, hours=1), issue_token(db, user, hours=-1)
        db.expire_all()
        assert user_for_token(db, token) is not None
        assert user_for_token(db, expired) is None
        stored = db.get(User, user.id)
        assert stored is not None
        stored.locked_until = datetime.now(UTC) + timedelta(minutes=5)
        db.commit()
        db.expire_all()
        assert authenticate(db, "anna", "correct horse battery") is None  # still locked
