"""members and the request log

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
ACTIVE = "status IN ('normal', 'lapsed')"


def upgrade() -> None:
    op.create_table(
        "members",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("psn_no", sa.String(40), nullable=False),
        sa.Column("id_hash", sa.String(64), nullable=False,
                  comment="HMAC-SHA256 of the ID number; never the number"),
        sa.Column("insurance_type", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("moved_to", sa.String(6)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_members"),
        sa.UniqueConstraint("region", "psn_no", name="uq_members_region_psn_no"),
    )
    op.create_index("ix_members_region_id_hash", "members", ["region", "id_hash"])
    op.create_index("uq_members_active_id_hash", "members", ["id_hash"], unique=True,
                    sqlite_where=sa.text(ACTIVE), postgresql_where=sa.text(ACTIVE))
    op.create_table(
        "request_log",
        sa.Column("caller", sa.String(64), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("response", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("caller", "request_id", name="pk_request_log"),
    )


def downgrade() -> None:
    op.drop_table("request_log")
    op.drop_table("members")
