"""ledger (share accounts, transfers), settlements, refunds, impersonation attempts

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "share_accounts",
        sa.Column("account", sa.String(64), nullable=False, comment="share:{region}:{psn_no}"),
        sa.Column("balance", sa.BigInteger, nullable=False),
        sa.Column("funded", sa.BigInteger, nullable=False,
                  comment="running totals by transfer kind, kept with the balance"),
        sa.Column("released", sa.BigInteger, nullable=False),
        sa.Column("spent", sa.BigInteger, nullable=False),
        sa.Column("refunded", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("account", name="pk_share_accounts"),
        sa.CheckConstraint("balance >= 0", name="ck_share_accounts_non_negative"),
    )
    op.create_table(
        "settlements",
        sa.Column("seq", Id, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(63), nullable=False),
        sa.Column("treatment_region", sa.String(6), nullable=False),
        sa.Column("beneficiary_region", sa.String(6), nullable=False),
        sa.Column("beneficiary_psn_no", sa.String(40), nullable=False),
        sa.Column("credential", sa.String(24), nullable=False),
        sa.Column("institution_code", sa.String(40)),
        sa.Column("institution_kind", sa.String(16)),
        sa.Column("use", sa.String(32), nullable=False),
        sa.Column("total", sa.BigInteger, nullable=False),
        sa.Column("fund_part", sa.BigInteger, nullable=False),
        sa.Column("personal_part", sa.BigInteger, nullable=False),
        sa.Column("items", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_settlements"),
        sa.UniqueConstraint("id", name="uq_settlements_id"),
    )
    op.create_index("ix_settlements_beneficiary", "settlements",
                    ["beneficiary_region", "beneficiary_psn_no", "created_at"])
    op.create_table(
        "transfers",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("debit", sa.String(64), nullable=False),
        sa.Column("credit", sa.String(64), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("settlement_seq", Id),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_transfers"),
        sa.ForeignKeyConstraint(["settlement_seq"], ["settlements.seq"],
                                name="fk_transfers_settlement_seq_settlements"),
        sa.CheckConstraint("amount > 0", name="ck_transfers_positive"),
        sa.CheckConstraint("debit <> credit", name="ck_transfers_two_accounts"),
    )
    op.create_table(
        "settlement_lines",
        sa.Column("settlement_seq", Id, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("binding_id", sa.String(63), nullable=False),
        sa.Column("grantor_region", sa.String(6), nullable=False),
        sa.Column("grantor_psn_no", sa.String(40), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("refunded", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("settlement_seq", "position", name="pk_settlement_lines"),
        sa.ForeignKeyConstraint(["settlement_seq"], ["settlements.seq"],
                                name="fk_settlement_lines_settlement_seq_settlements"),
        sa.CheckConstraint("refunded >= 0 AND refunded <= amount", name="ck_settlement_lines_refund_within_amount"),
    )
    op.create_index("ix_settlement_lines_grantor", "settlement_lines", ["grantor_region", "grantor_psn_no"])
    op.create_table(
        "refunds",
        sa.Column("seq", Id, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("settlement_seq", Id, nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_refunds"),
        sa.UniqueConstraint("id", name="uq_refunds_id"),
        sa.ForeignKeyConstraint(["settlement_seq"], ["settlements.seq"], name="fk_refunds_settlement_seq_settlements"),
    )
    op.create_index("ix_refunds_settlement_seq", "refunds", ["settlement_seq"])
    op.create_table(
        "impersonation_attempts",
        sa.Column("seq", Id, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("caller", sa.String(64), nullable=False),
        sa.Column("beneficiary_region", sa.String(6)),
        sa.Column("beneficiary_psn_no", sa.String(40)),
        sa.Column("credential", sa.String(24), nullable=False),
        sa.Column("holder_hash", sa.String(64), nullable=False,
                  comment="HMAC of the presented credential's ID number"),
        sa.Column("institution_code", sa.String(40)),
        sa.Column("request_id", sa.String(64)),
        sa.PrimaryKeyConstraint("seq", name="pk_impersonation_attempts"),
    )


def downgrade() -> None:
    for table in ("impersonation_attempts", "refunds", "settlement_lines", "transfers", "settlements",
                  "share_accounts"):
        op.drop_table(table)
