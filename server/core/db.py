"""Database engine and sessions; the schema is owned by Alembic migrations."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from server.core.config import get_settings

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "alembic"
# The largest id or sequence number a column holds (INTEGER on PostgreSQL). The API refuses bigger numbers
# up front: PostgreSQL would compare them fine, but SQLite's driver overflows on them with a 500.
MAX_INTEGER = 2**31 - 1
MIGRATION_LOCK = 0x4C6F74736531  # PostgreSQL advisory lock key held while migrating ("Lotse1")


def normalize_url(url: str) -> str:
    """Route plain ``postgresql://`` (and Heroku-style ``postgres://``) URLs to psycopg 3.

    SQLAlchemy would otherwise pick psycopg2, which Lotse does not install; this is the one place
    that maps them, so settings, Alembic and the tests all accept either spelling.
    """
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def make_engine(url: str) -> Engine:
    url = normalize_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            # WAL lets the SSE readers and the writer work at once; FKs make deletes cascade.
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


@lru_cache(maxsize=8)
def get_sessionmaker(url: str | None = None) -> sessionmaker[Session]:
    """One engine and session factory per database URL, shared by the whole process."""
    return sessionmaker(bind=make_engine(url or get_settings().database_url), expire_on_commit=False)


def session_scope(url: str | None = None) -> Iterator[Session]:
    with get_sessionmaker(url)() as session:
        yield session


def upgrade_database(url: str | None = None) -> None:
    """Bring the schema to the newest migration (idempotent; run at every start)."""
    from alembic import command
    from alembic.config import Config

    url = normalize_url(url or get_settings().database_url)
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["database_url"] = url
    if not url.startswith("postgresql"):
        command.upgrade(cfg, "head")
        return
    # Several hub instances may start at once against one PostgreSQL: the first migrates, the
    # others wait on this lock and then find the schema up to date.
    from sqlalchemy import text

    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as lock:
            lock.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
            lock.commit()
            try:
                command.upgrade(cfg, "head")
            finally:
                lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
                lock.commit()
    finally:
        engine.dispose()
