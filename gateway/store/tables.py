"""The schema as SQLAlchemy Core tables. Migrations (migrations/versions) create
it; a test checks that the two agree."""

from __future__ import annotations

from sqlalchemy import (BigInteger, Boolean, CheckConstraint, Column, Date, DateTime, ForeignKey, Index, Integer,
                        LargeBinary, MetaData, String, Table, UniqueConstraint, false, text)
from sqlalchemy.sql.naming import conv

metadata = MetaData(naming_convention={
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "pk": "pk_%(table_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
})

Id = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER PRIMARY KEY only
ACTIVE = "status IN ('normal', 'lapsed')"

members = Table(
    "members", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("region", String(6), nullable=False),
    Column("psn_no", String(40), nullable=False),
    Column("id_hash", String(64), nullable=False, comment="HMAC-SHA256 of the ID number; never the number"),
    Column("insurance_type", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("moved_to", String(6)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("region", "psn_no"),
    Index("ix_members_region_id_hash", "region", "id_hash"),
    # One active enrolment per person, across all regions.
    Index("uq_members_active_id_hash", "id_hash", unique=True,
          sqlite_where=text(ACTIVE), postgresql_where=text(ACTIVE)),
)

request_log = Table(
    "request_log", metadata,
    Column("caller", String(64), primary_key=True),
    Column("request_id", String(64), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("response", LargeBinary, nullable=False),
    Column("refused", Boolean, nullable=False, server_default=false(),
           comment="the answer is a refusal, stored as JSON"),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
)

LIVE = "status IN ('pending_confirmation', 'pending_review', 'active')"

bindings = Table(
    "bindings", metadata,
    Column("seq", Id, primary_key=True, autoincrement=True, comment="filing order (R9)"),
    Column("id", String(63), nullable=False, comment="unique within the grantor's region, which filed it"),
    Column("grantor_region", String(6), nullable=False),
    Column("grantor_psn_no", String(40), nullable=False),
    Column("beneficiary_region", String(6), nullable=False),
    Column("beneficiary_psn_no", String(40), nullable=False),
    Column("relationship", String(32), nullable=False),
    Column("status", String(24), nullable=False),
    Column("policy", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("grantor_region", "id"),
    Index("ix_bindings_grantor", "grantor_region", "grantor_psn_no"),
    Index("ix_bindings_beneficiary", "beneficiary_region", "beneficiary_psn_no"),
    # At most one live binding per grantor and beneficiary.
    Index("uq_bindings_live_pair", "grantor_region", "grantor_psn_no", "beneficiary_region", "beneficiary_psn_no",
          unique=True, sqlite_where=text(LIVE), postgresql_where=text(LIVE)),
)

binding_transitions = Table(
    "binding_transitions", metadata,
    Column("binding_seq", Id, ForeignKey("bindings.seq"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("status", String(24), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("cause", String(32), nullable=False),
)

cross_province_pairs = Table(
    "cross_province_pairs", metadata,
    Column("province_a", String(2), primary_key=True, comment="the lower province code of the pair"),
    Column("province_b", String(2), primary_key=True),
    Column("open", Boolean, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(64), nullable=False),
)

share_accounts = Table(
    "share_accounts", metadata,
    Column("account", String(64), primary_key=True, comment="share:{region}:{psn_no}"),
    Column("balance", BigInteger, nullable=False),
    Column("funded", BigInteger, nullable=False, comment="running totals by transfer kind, kept with the balance"),
    Column("released", BigInteger, nullable=False),
    Column("spent", BigInteger, nullable=False),
    Column("refunded", BigInteger, nullable=False),
    CheckConstraint("balance >= 0", name="non_negative"),
)

transfers = Table(
    "transfers", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("debit", String(64), nullable=False),
    Column("credit", String(64), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("settlement_seq", Id, ForeignKey("settlements.seq")),
    Column("at", DateTime(timezone=True), nullable=False),
    CheckConstraint("amount > 0", name="positive"),
    CheckConstraint("debit <> credit", name="two_accounts"),
)

settlements = Table(
    "settlements", metadata,
    Column("seq", Id, primary_key=True, autoincrement=True),
    Column("id", String(63), nullable=False, comment="unique within the region that settled it"),
    Column("treatment_region", String(6), nullable=False),
    Column("beneficiary_region", String(6), nullable=False),
    Column("beneficiary_psn_no", String(40), nullable=False),
    Column("credential", String(24), nullable=False),
    Column("institution_code", String(40)),
    Column("institution_kind", String(16)),
    Column("use", String(32), nullable=False),
    Column("total", BigInteger, nullable=False),
    Column("fund_part", BigInteger, nullable=False),
    Column("personal_part", BigInteger, nullable=False),
    Column("items", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("treatment_region", "id"),
    Index("ix_settlements_beneficiary", "beneficiary_region", "beneficiary_psn_no", "created_at"),
)

settlement_lines = Table(
    "settlement_lines", metadata,
    Column("settlement_seq", Id, ForeignKey("settlements.seq"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("binding_id", String(63), nullable=False),
    Column("grantor_region", String(6), nullable=False),
    Column("grantor_psn_no", String(40), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("refunded", BigInteger, nullable=False),
    CheckConstraint("refunded >= 0 AND refunded <= amount", name="refund_within_amount"),
    Index("ix_settlement_lines_grantor", "grantor_region", "grantor_psn_no"),
)

refunds = Table(
    "refunds", metadata,
    Column("seq", Id, primary_key=True, autoincrement=True),
    Column("id", String(36), nullable=False, unique=True),
    Column("settlement_seq", Id, ForeignKey("settlements.seq"), nullable=False, index=True),
    Column("amount", BigInteger, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

impersonation_attempts = Table(
    "impersonation_attempts", metadata,
    Column("seq", Id, primary_key=True, autoincrement=True),
    Column("day", Date, nullable=False, comment="in Asia/Shanghai"),
    Column("caller", String(64), nullable=False),
    Column("beneficiary_region", String(6), nullable=False, comment="'' on a caller's overflow row"),
    Column("beneficiary_psn_no", String(40), nullable=False),
    Column("credential", String(24), nullable=False),
    Column("holder_hash", String(64), nullable=False, comment="HMAC of the presented credential's ID number"),
    Column("attempts", Integer, nullable=False),
    Column("first_at", DateTime(timezone=True), nullable=False),
    Column("last_at", DateTime(timezone=True), nullable=False),
    Column("last_institution_code", String(40)),
    Column("last_request_id", String(64)),
    UniqueConstraint("day", "caller", "beneficiary_region", "beneficiary_psn_no", "credential", "holder_hash",
                     name=conv("uq_impersonation_attempts_day")),
)
