"""Follow-ups: one reminder DM per owner per local day (the guard's unique key)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

import leadqual.db.models

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "follow_up_sends",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("owner_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("leads", sa.Integer(), nullable=False),
        sa.Column("created_at", leadqual.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_up_sends")),
        sa.UniqueConstraint("owner_id", "day", name=op.f("uq_follow_up_sends_owner_id")),
    )


def downgrade() -> None:
    op.drop_table("follow_up_sends")
