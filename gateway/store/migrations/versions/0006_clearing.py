"""clearing: lines by window (a day in Asia/Shanghai), closed windows with their totals, confirmations

Settlements made before this revision have no clearing lines: their money is in the ledger's positions,
but in no window. Clearing starts with the first settlement after the upgrade.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
LineName = sa.String(160).with_variant(sa.String(160, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "clearing_lines",
        sa.Column("seq", Id, autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False, comment="the clearing window: a day in Asia/Shanghai"),
        sa.Column("name", LineName, nullable=False,
                  comment="regions/{T}/settlements/{id}/lines/{n} or .../refunds/{k}/lines/{n}"),
        sa.Column("kind", sa.String(8), nullable=False, comment="payment or refund"),
        sa.Column("payer_region", sa.String(6), nullable=False, comment="the grantor's region: owes a payment"),
        sa.Column("payee_region", sa.String(6), nullable=False, comment="the treatment region: is owed it"),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("settlement_seq", Id, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name="ck_clearing_lines_positive"),
        sa.ForeignKeyConstraint(["settlement_seq"], ["settlements.seq"],
                                name="fk_clearing_lines_settlement_seq_settlements"),
        sa.PrimaryKeyConstraint("seq", name="pk_clearing_lines"),
        sa.UniqueConstraint("name", name="uq_clearing_lines_name"),
    )
    op.create_index("ix_clearing_lines_day_payer_region_name", "clearing_lines", ["day", "payer_region", "name"])
    op.create_index("ix_clearing_lines_day_payee_region_name", "clearing_lines", ["day", "payee_region", "name"])
    op.create_table(
        "clearing_windows",
        sa.Column("day", sa.Date(), nullable=False, comment="a closed window; a day without a row is open"),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_by", sa.String(64), nullable=False),
        sa.Column("lines", sa.BigInteger(), nullable=False),
        sa.Column("fen", sa.BigInteger(), nullable=False, comment="payments minus refunds"),
        sa.PrimaryKeyConstraint("day", name="pk_clearing_windows"),
    )
    op.create_table(
        "clearing_totals",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("payer_region", sa.String(6), nullable=False),
        sa.Column("payee_region", sa.String(6), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("lines", sa.BigInteger(), nullable=False),
        sa.Column("fen", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "payer_region", "payee_region", "kind", name="pk_clearing_totals"),
        comment="a closed window's lines summed at its close; never changed after",
    )
    op.create_table(
        "clearing_confirmations",
        sa.Column("seq", Id, autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("verdict", sa.String(10), nullable=False, comment="confirmed or disputed"),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_clearing_confirmations"),
    )
    op.create_index("ix_clearing_confirmations_day_region", "clearing_confirmations", ["day", "region"])


def downgrade() -> None:
    for table in ("clearing_confirmations", "clearing_totals", "clearing_windows", "clearing_lines"):
        op.drop_table(table)
