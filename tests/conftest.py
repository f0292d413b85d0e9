"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL comes from LEADBOT_TEST_POSTGRES_URL (default: the local server). The suite
creates its own database and drops it at the end. Without a server the PostgreSQL half is
skipped with a notice, except in CI (CI=true), where that is a failure.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from leadqual.bootstrap import bootstrap
from leadqual.db.engine import make_engine, upgrade_schema
from leadqual.db.models import Base
from leadqual.services.context import Context
from leadqual.settings import Settings
from tests.fixtures_slack import slack  # noqa: F401  (re-exported fixture)

PG_SERVER = os.environ.get("LEADBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
DATA = Path(__file__).resolve().parent.parent / "leadqual" / "data"


def _pg_admin_engine() -> sa.Engine | None:
    engine = make_engine(PG_SERVER, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return engine
    except Exception as exc:  # no server: skip locally, fail in CI
        message = f"PostgreSQL is not reachable at {PG_SERVER}: {exc.__class__.__name__}"
        if IN_CI:
            pytest.fail(message + " (CI=true: the PostgreSQL tests must run)", pytrace=False)
        return None


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session."""
    admin = _pg_admin_engine()
    if admin is None:
        pytest.skip(f"PostgreSQL not reachable at {PG_SERVER}: PostgreSQL tests skipped")
    name = f"leadbot_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url, poolclass=sa.pool.NullPool)
    upgrade_schema(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n AND pid <> pg_backend_pid()"
                ),
                {"n": name},
            )
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies (migrating once is much faster)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade_schema(engine)
    engine.dispose()  # closing the last connection checkpoints the WAL into the file we copy
    assert not path.with_name("template.db-wal").exists()
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """A migrated, empty database: SQLite, then PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "leadbot.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    engine = make_engine(url, poolclass=sa.pool.NullPool)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """A migrated, empty SQLite database (for tests that need only one engine)."""
    path = tmp_path / "leadbot.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


class Clock:
    """A settable clock for services (freezegun drives the scheduler tests)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        from datetime import timedelta

        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 23, 15, 0, tzinfo=UTC))


def make_settings(db_url: str, **env: str) -> Settings:
    values = {
        "DATABASE_URL": db_url,
        "LEADBOT_CHANNEL": "C0LEADS",
        "LEADBOT_MANAGERS": "UMANAGER",
        "LEADBOT_INTAKE_TOKEN": "intake-secret",
        "SLACK_SIGNING_SECRET": "signing-secret",
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        **env,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def settings(db_url: str) -> Settings:
    return make_settings(db_url)


@pytest.fixture
def ctx(settings: Settings, clock: Clock) -> Iterator[Context]:
    """A bootstrapped Context on the parametrised database with the packaged config and rules."""
    context = bootstrap(settings, clock=clock, migrate=False)
    yield context
    context.session_factory.kw["bind"].dispose()
