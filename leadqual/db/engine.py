"""Engines and sessions for SQLite (embedded default) and PostgreSQL, and schema upgrades."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pydantic_core
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from leadqual.settings import normalise_database_url

if TYPE_CHECKING:  # Alembic is loaded only to migrate or check the schema: the CLI starts faster without it
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
READ_ONLY = "leadbot_read_only"  # execution option: this connection only reads (see Context.reading)


class RawJSON(str):
    """JSON text already serialised (by pydantic, in Rust): stored in a JSON column as is."""

    __slots__ = ()


def _to_json(value: Any) -> str:
    # JSON columns serialise in Rust (~5x json.dumps); RawJSON was serialised by its producer.
    if isinstance(value, RawJSON):
        return value
    return pydantic_core.to_json(value).decode()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and write-intent transactions."""
    url = normalise_database_url(url)
    kwargs.setdefault("json_serializer", _to_json)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)
        _tune_sqlite(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    if "poolclass" not in kwargs:  # a web process with a listener pool needs more than the default 5
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
    return create_engine(url, **kwargs)


def _tune_sqlite(engine: Engine) -> None:
    # pysqlite's own BEGIN handling defers locks, so two writers that both read first can
    # deadlock; taking the write lock up front (BEGIN IMMEDIATE) lets busy_timeout queue them.
    # https://docs.sqlalchemy.org/en/20/dialects/sqlite.html#serializable-isolation-savepoints-transactional-ddl
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A read-only transaction takes no lock up front: in WAL mode it never blocks a writer,
        # so a digest reading a million leads does not hold up a rep's click.
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(engine: Engine | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def upgrade_schema(engine: Engine) -> None:
    """Bring the database to the newest schema (idempotent)."""
    from alembic import command

    cfg = alembic_config(engine)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Several processes may start at once: only one migrates, the others wait.
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(424242)")
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def schema_is_current(engine: Engine) -> bool:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision() == head
