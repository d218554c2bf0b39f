"""bindings, their transitions, and the cross-province switch

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
LIVE = "status IN ('pending_confirmation', 'pending_review', 'active')"


def upgrade() -> None:
    op.create_table(
        "bindings",
        sa.Column("seq", Id, primary_key=True, autoincrement=True, comment="filing order (R9)"),
        sa.Column("id", sa.String(63), nullable=False),
        sa.Column("grantor_region", sa.String(6), nullable=False),
        sa.Column("grantor_psn_no", sa.String(40), nullable=False),
        sa.Column("beneficiary_region", sa.String(6), nullable=False),
        sa.Column("beneficiary_psn_no", sa.String(40), nullable=False),
        sa.Column("relationship", sa.String(32), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("policy", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_bindings"),
        sa.UniqueConstraint("id", name="uq_bindings_id"),
    )
    op.create_index("ix_bindings_grantor", "bindings", ["grantor_region", "grantor_psn_no"])
    op.create_index("ix_bindings_beneficiary", "bindings", ["beneficiary_region", "beneficiary_psn_no"])
    op.create_index("uq_bindings_live_pair", "bindings",
                    ["grantor_region", "grantor_psn_no", "beneficiary_region", "beneficiary_psn_no"], unique=True,
                    sqlite_where=sa.text(LIVE), postgresql_where=sa.text(LIVE))
    op.create_table(
        "binding_transitions",
        sa.Column("binding_seq", Id, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("cause", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("binding_seq", "position", name="pk_binding_transitions"),
        sa.ForeignKeyConstraint(["binding_seq"], ["bindings.seq"], name="fk_binding_transitions_binding_seq_bindings"),
    )
    op.create_table(
        "cross_province_pairs",
        sa.Column("province_a", sa.String(2), nullable=False, comment="the lower province code of the pair"),
        sa.Column("province_b", sa.String(2), nullable=False),
        sa.Column("open", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("province_a", "province_b", name="pk_cross_province_pairs"),
    )


def downgrade() -> None:
    op.drop_table("cross_province_pairs")
    op.drop_table("binding_transitions")
    op.drop_table("bindings")
