"""Routing: each lead's account (company domain) for owner-first, and an away-until date per rep

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("leads") as batch:
        batch.add_column(sa.Column("company_domain", sa.String(length=300), nullable=True))
        batch.create_index(batch.f("ix_leads_company_domain"), ["company_domain"], unique=False)
    with op.batch_alter_table("rep_status") as batch:
        batch.add_column(sa.Column("away_until", sa.Date(), nullable=True))
    # Leads from before this revision keep their domain in the stored payload.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE leads SET company_domain = payload->'company'->>'domain'")
    else:
        op.execute("UPDATE leads SET company_domain = json_extract(payload, '$.company.domain')")


def downgrade() -> None:
    with op.batch_alter_table("rep_status") as batch:
        batch.drop_column("away_until")
    with op.batch_alter_table("leads") as batch:
        batch.drop_index(batch.f("ix_leads_company_domain"))
        batch.drop_column("company_domain")
