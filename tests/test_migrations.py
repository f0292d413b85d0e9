"""The Alembic migrations build exactly the schema the models describe, on both engines."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from leadqual.db.engine import make_engine, schema_is_current
from leadqual.db.models import Base


def test_migrating_to_head_gives_the_models_schema_with_nothing_missing_or_extra(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        assert schema_is_current(engine)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
    finally:
        engine.dispose()
