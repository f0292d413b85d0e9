"""Digest guard with a state: sent_at, so a claim whose sender died can be taken over

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

import leadqual.db.models

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("digest_sends") as batch:
        batch.add_column(sa.Column("sent_at", leadqual.db.models.UTCDateTime(timezone=True), nullable=True))
    # Rows from before this revision were written by senders that finished (or were lost for good).
    op.execute("UPDATE digest_sends SET sent_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table("digest_sends") as batch:
        batch.drop_column("sent_at")
