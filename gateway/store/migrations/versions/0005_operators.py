"""operators: the region registry, directed province pairs with schedules and limits, the kill switch,
revoked certificates, published policy versions, change requests, the hash-chained audit log, daily usage

``cross_province_pairs`` (an unordered pair, open or not) becomes ``province_pairs`` (one row per
direction); a pair that was open is open both ways.

Offline (``alembic upgrade --sql``, ``copay-gateway migrate --sql``) there is no connection to read the old
pairs: the SQL copies the open ones with one INSERT ... SELECT instead. The offline downgrade does not carry
the pairs back (the SQL says so in a comment: they are closed); run it online to keep them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import context, op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
GENESIS = "0" * 64


def upgrade() -> None:
    op.create_table(
        "regions",
        sa.Column("admdvs", sa.String(6), nullable=False),
        sa.Column("display_name", sa.String(64), nullable=False),
        sa.Column("state", sa.String(8), nullable=False, comment="disabled, pilot or live"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("admdvs", name="pk_regions"),
    )
    pairs = op.create_table(
        "province_pairs",
        sa.Column("grantor_province", sa.String(2), nullable=False),
        sa.Column("other_province", sa.String(2), nullable=False, comment="the beneficiary's or the treatment's"),
        sa.Column("open", sa.Boolean, nullable=False),
        sa.Column("opens_at", sa.DateTime(timezone=True)),
        sa.Column("closes_at", sa.DateTime(timezone=True)),
        sa.Column("per_beneficiary_daily", sa.Integer),
        sa.Column("per_settlement_fen", sa.BigInteger),
        sa.Column("daily_fen", sa.BigInteger),
        sa.Column("quiet_from", sa.String(5), comment="HH:MM, Asia/Shanghai"),
        sa.Column("quiet_until", sa.String(5)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("grantor_province", "other_province", name="pk_province_pairs"),
    )
    old = sa.table("cross_province_pairs", sa.column("province_a"), sa.column("province_b"), sa.column("open"),
                   sa.column("updated_at"), sa.column("updated_by"))
    if context.is_offline_mode():  # no rows to read: the same copy, in SQL
        context.static_output("-- migration 0005, offline: each open pair of cross_province_pairs becomes two "
                              "directions of province_pairs")
        ways = [sa.select(a, b, sa.true(), old.c.updated_at, old.c.updated_by).where(old.c.open == sa.true())
                for a, b in ((old.c.province_a, old.c.province_b), (old.c.province_b, old.c.province_a))]
        op.execute(pairs.insert().from_select(["grantor_province", "other_province", "open", "updated_at",
                                               "updated_by"], sa.union_all(*ways)))
        rows = []
    else:
        rows = op.get_bind().execute(sa.select(old).where(old.c.open == sa.true())).all()
    if rows:
        op.bulk_insert(pairs, [{"grantor_province": a, "other_province": b, "open": True,
                                "updated_at": r.updated_at, "updated_by": r.updated_by}
                               for r in rows for a, b in ((r.province_a, r.province_b), (r.province_b, r.province_a))])
    op.drop_table("cross_province_pairs")
    control = op.create_table(
        "control",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=False, comment="one row, id 1"),
        sa.Column("version", sa.BigInteger, nullable=False, comment="moves with every change; processes reload on it"),
        sa.Column("kill_switch", sa.Boolean, nullable=False),
        sa.Column("kill_switch_at", sa.DateTime(timezone=True)),
        sa.Column("kill_switch_by", sa.String(64)),
        sa.Column("audit_seq", sa.BigInteger, nullable=False, comment="the audit log's head: last entry"),
        sa.Column("audit_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_control"),
    )
    op.bulk_insert(control, [{"id": 1, "version": 1, "kill_switch": False, "audit_seq": 0, "audit_hash": GENESIS}])
    op.create_table(
        "revoked_certificates",
        sa.Column("seq", Id, primary_key=True, autoincrement=True),
        sa.Column("serial", sa.String(40), comment="lower-case hex"),
        sa.Column("fingerprint", sa.String(64), comment="SHA-256 of the DER certificate, lower-case hex"),
        sa.Column("principal", sa.String(64)),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("revoked_by", sa.String(64), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_revoked_certificates"),
    )
    op.create_index("ix_revoked_certificates_serial", "revoked_certificates", ["serial"])
    op.create_index("ix_revoked_certificates_fingerprint", "revoked_certificates", ["fingerprint"])
    op.create_table(
        "policy_versions",
        sa.Column("province", sa.String(2), nullable=False),
        sa.Column("version", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("effective_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("document", sa.Text, nullable=False, comment="the policy's content as JSON"),
        sa.Column("published_by", sa.String(64), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("province", "version", name="pk_policy_versions"),
    )
    op.create_table(
        "change_requests",
        sa.Column("seq", Id, primary_key=True, autoincrement=True, comment="filing order"),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("change", sa.Text, nullable=False, comment="the change as JSON"),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(64)),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("decision_reason", sa.String(500)),
        sa.PrimaryKeyConstraint("seq", name="pk_change_requests"),
        sa.UniqueConstraint("id", name="uq_change_requests_id"),
    )
    op.create_index("ix_change_requests_state", "change_requests", ["state", "seq"])
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(128), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("before", sa.Text, nullable=False, comment="JSON"),
        sa.Column("after", sa.Text, nullable=False, comment="JSON"),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_log"),
    )
    op.create_table(
        "pair_usage",
        sa.Column("day", sa.Date, nullable=False, comment="in Asia/Shanghai"),
        sa.Column("grantor_province", sa.String(2), nullable=False),
        sa.Column("other_province", sa.String(2), nullable=False),
        sa.Column("settlements", sa.Integer, nullable=False),
        sa.Column("fen", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("day", "grantor_province", "other_province", name="pk_pair_usage"),
    )
    op.create_table(
        "beneficiary_usage",
        sa.Column("day", sa.Date, nullable=False, comment="in Asia/Shanghai"),
        sa.Column("grantor_province", sa.String(2), nullable=False),
        sa.Column("other_province", sa.String(2), nullable=False),
        sa.Column("beneficiary_region", sa.String(6), nullable=False),
        sa.Column("beneficiary_psn_no", sa.String(40), nullable=False),
        sa.Column("settlements", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("day", "grantor_province", "other_province", "beneficiary_region",
                                "beneficiary_psn_no", name="pk_beneficiary_usage"),
    )


def downgrade() -> None:
    for table in ("beneficiary_usage", "pair_usage", "audit_log", "change_requests", "policy_versions",
                  "revoked_certificates", "control"):
        op.drop_table(table)
    pairs = sa.table("province_pairs", sa.column("grantor_province"), sa.column("other_province"),
                     sa.column("open"))
    if context.is_offline_mode():
        context.static_output("-- migration 0005 downgrade, offline: open province pairs are NOT carried back "
                              "into cross_province_pairs (every pair ends closed); run it online to keep them")
        open_ways = set()
    else:
        open_ways = {(r.grantor_province, r.other_province)
                     for r in op.get_bind().execute(sa.select(pairs).where(pairs.c.open == sa.true()))}
    old = op.create_table(
        "cross_province_pairs",
        sa.Column("province_a", sa.String(2), nullable=False, comment="the lower province code of the pair"),
        sa.Column("province_b", sa.String(2), nullable=False),
        sa.Column("open", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("province_a", "province_b", name="pk_cross_province_pairs"),
    )
    both = sorted({tuple(sorted(w)) for w in open_ways if w[::-1] in open_ways})  # open only if open both ways
    if both:
        now = datetime.now(timezone.utc)
        op.bulk_insert(old, [{"province_a": a, "province_b": b, "open": True, "updated_at": now,
                              "updated_by": "migration 0005 downgrade"} for a, b in both])
    op.drop_table("province_pairs")
    op.drop_table("regions")
