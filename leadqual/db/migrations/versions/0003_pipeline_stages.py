"""Pipeline outcomes: every stage a lead reached (history) and its latest stage

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

import leadqual.db.models

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pipeline_stages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("lead_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("at", leadqual.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.Column("recorded_at", leadqual.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name=op.f("fk_pipeline_stages_lead_id_leads"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_stages")),
        sa.UniqueConstraint("lead_id", "stage", "at", name=op.f("uq_pipeline_stages_lead_id")),
    )
    op.create_table(
        "lead_pipeline",
        sa.Column("lead_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("at", leadqual.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("opportunity_at", leadqual.db.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", leadqual.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name=op.f("fk_lead_pipeline_lead_id_leads"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("lead_id", name=op.f("pk_lead_pipeline")),
    )
    op.create_index(op.f("ix_lead_pipeline_stage"), "lead_pipeline", ["stage"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_lead_pipeline_stage"), table_name="lead_pipeline")
    op.drop_table("lead_pipeline")
    op.drop_table("pipeline_stages")
