"""`leadbot db upgrade`: apply Alembic migrations."""

from __future__ import annotations

import argparse

from leadqual.db.engine import make_engine, upgrade_schema
from leadqual.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = sub.add_parser("db", help="database schema").add_subparsers(metavar="ACTION", required=True)
    up = db.add_parser("upgrade", help="apply migrations (run once per deploy on PostgreSQL)")
    up.set_defaults(run=upgrade)


def upgrade(args: argparse.Namespace, settings: Settings) -> int:
    engine = make_engine(settings.database_url)
    upgrade_schema(engine)
    print(f"database at {engine.url.render_as_string(hide_password=True)} is up to date")
    return 0
