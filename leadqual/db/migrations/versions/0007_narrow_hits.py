"""The ids of each lead's hits and failed must-haves in narrow text columns, with a covering index

The conditional learner reads every decided lead of the window; unnesting the `hits` JSON of
each wide row was most of the digest's time. Existing rows are backfilled from that JSON in
batches of ids, so no one statement rewrites a million rows.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BATCH = 50_000  # leads per UPDATE

_COLUMNS = ("decided_at", "id", "outcome", "segment", "received_at", "fired_rules", "must_haves_failed")

# Each lead's ids in stored order, comma-joined ("" when none): what `models.joined_ids` writes.
_SQLITE = """
UPDATE leads SET
  fired_rules = coalesce((SELECT group_concat(json_extract(e.value, '$.rule'), ',')
                          FROM (SELECT value FROM json_each(leads.hits) ORDER BY key) AS e), ''),
  must_haves_failed = coalesce((SELECT group_concat(e.value, ',')
                                FROM (SELECT value FROM json_each(leads.failed_must_haves) ORDER BY key) AS e), '')
WHERE id >= :low AND id < :high
"""
_POSTGRESQL = """
UPDATE leads SET
  fired_rules = coalesce((SELECT string_agg(e.value ->> 'rule', ',' ORDER BY e.n)
                          FROM jsonb_array_elements(leads.hits) WITH ORDINALITY AS e(value, n)), ''),
  must_haves_failed = coalesce((SELECT string_agg(e.value, ',' ORDER BY e.n)
                                FROM jsonb_array_elements_text(leads.failed_must_haves) WITH ORDINALITY AS e(value, n)), '')
WHERE id >= :low AND id < :high
"""


def upgrade() -> None:
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fired_rules", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("must_haves_failed", sa.Text(), server_default="", nullable=False))
    backfill(op.get_bind())
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.create_index("ix_leads_decided_hits", list(_COLUMNS), unique=False)


def backfill(conn: sa.engine.Connection, *, batch: int = BATCH) -> None:
    """Fill both columns from `hits` and `failed_must_haves` for every lead, a batch of ids at a time."""
    sql = sa.text(_POSTGRESQL if conn.dialect.name == "postgresql" else _SQLITE)
    low, top = conn.execute(sa.text("SELECT min(id), max(id) FROM leads")).one()
    if low is None:
        return
    while low <= top:
        conn.execute(sql, {"low": low, "high": low + batch})
        low += batch


def downgrade() -> None:
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_index("ix_leads_decided_hits")
        batch_op.drop_column("must_haves_failed")
        batch_op.drop_column("fired_rules")
