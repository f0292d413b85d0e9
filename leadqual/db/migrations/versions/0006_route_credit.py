"""Rotation credit per route: a rep in two routes' rotations takes turns in each apart

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Credit so far (per rep, shared by every route) is not carried over: every route starts level.
    op.create_table(
        "route_credit",
        sa.Column("route", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("credit", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("route", "user_id", name=op.f("pk_route_credit")),
    )


def downgrade() -> None:
    op.drop_table("route_credit")
