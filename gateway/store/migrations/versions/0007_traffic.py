"""traffic: cross-province settlements per province pair, minute and outcome, for the operator console

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "traffic_minutes",
        sa.Column("minute", sa.DateTime(timezone=True), nullable=False, comment="the minute's start (UTC)"),
        sa.Column("grantor_province", sa.String(2), nullable=False),
        sa.Column("other_province", sa.String(2), nullable=False),
        sa.Column("outcome", sa.String(64), nullable=False, comment="allowed, or the reason code of a refusal"),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("minute", "grantor_province", "other_province", "outcome", name="pk_traffic_minutes"),
        comment="cross-province settlements per province pair, minute and outcome",
    )


def downgrade() -> None:
    op.drop_table("traffic_minutes")
