"""The schema as SQLAlchemy Core tables. Migrations (migrations/versions) create
it; a test checks that the two agree."""

from __future__ import annotations

from sqlalchemy import (BigInteger, Boolean, CheckConstraint, Column, Date, DateTime, ForeignKey, Index, Integer,
                        LargeBinary, MetaData, String, Table, Text, UniqueConstraint, false, text)
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


# --- what operators set (gateway.domain.rollout), the change requests and the audit log -------------------

regions = Table(
    "regions", metadata,
    Column("admdvs", String(6), primary_key=True),
    Column("display_name", String(64), nullable=False),
    Column("state", String(8), nullable=False, comment="disabled, pilot or live"),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(64), nullable=False),
)

province_pairs = Table(
    "province_pairs", metadata,
    Column("grantor_province", String(2), primary_key=True),
    Column("other_province", String(2), primary_key=True, comment="the beneficiary's or the treatment's"),
    Column("open", Boolean, nullable=False),
    Column("opens_at", DateTime(timezone=True)),
    Column("closes_at", DateTime(timezone=True)),
    Column("per_beneficiary_daily", Integer),
    Column("per_settlement_fen", BigInteger),
    Column("daily_fen", BigInteger),
    Column("quiet_from", String(5), comment="HH:MM, Asia/Shanghai"),
    Column("quiet_until", String(5)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(64), nullable=False),
)

control = Table(
    "control", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False, comment="one row, id 1"),
    Column("version", BigInteger, nullable=False, comment="moves with every change; processes reload on it"),
    Column("kill_switch", Boolean, nullable=False),
    Column("kill_switch_at", DateTime(timezone=True)),
    Column("kill_switch_by", String(64)),
    Column("audit_seq", BigInteger, nullable=False, comment="the audit log's head: last entry"),
    Column("audit_hash", String(64), nullable=False),
)

revoked_certificates = Table(
    "revoked_certificates", metadata,
    Column("seq", Id, primary_key=True, autoincrement=True),
    Column("serial", String(40), index=True, comment="lower-case hex"),
    Column("fingerprint", String(64), index=True, comment="SHA-256 of the DER certificate, lower-case hex"),
    Column("principal", String(64)),
    Column("reason", String(500), nullable=False),
    Column("revoked_by", String(64), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=False),
)

policy_versions = Table(
    "policy_versions", metadata,
    Column("province", String(2), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("effective_at", DateTime(timezone=True), nullable=False),
    Column("document", Text, nullable=False, comment="the policy's content as JSON"),
    Column("published_by", String(64), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False),
)

change_requests = Table(
    "change_requests", metadata,
    Column("seq", Id, primary_key=True, autoincrement=True, comment="filing order"),
    Column("id", String(36), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),
    Column("change", Text, nullable=False, comment="the change as JSON"),
    Column("state", String(16), nullable=False),
    Column("reason", String(500), nullable=False),
    Column("requested_by", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("decided_by", String(64)),
    Column("decided_at", DateTime(timezone=True)),
    Column("decision_reason", String(500)),
    Index("ix_change_requests_state", "state", "seq"),
)

audit_log = Table(
    "audit_log", metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(128), nullable=False),
    Column("reason", String(500), nullable=False),
    Column("before", Text, nullable=False, comment="JSON"),
    Column("after", Text, nullable=False, comment="JSON"),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

pair_usage = Table(
    "pair_usage", metadata,
    Column("day", Date, primary_key=True, comment="in Asia/Shanghai"),
    Column("grantor_province", String(2), primary_key=True),
    Column("other_province", String(2), primary_key=True),
    Column("settlements", Integer, nullable=False),
    Column("fen", BigInteger, nullable=False),
)

beneficiary_usage = Table(
    "beneficiary_usage", metadata,
    Column("day", Date, primary_key=True, comment="in Asia/Shanghai"),
    Column("grantor_province", String(2), primary_key=True),
    Column("other_province", String(2), primary_key=True),
    Column("beneficiary_region", String(6), primary_key=True),
    Column("beneficiary_psn_no", String(40), primary_key=True),
    Column("settlements", Integer, nullable=False),
)

# Clearing (gateway.domain.clearing). Line names compare in byte order on every engine ("C" collation), the
# order a region's detail reconciliation is sent in.
LineName = String(160).with_variant(String(160, collation="C"), "postgresql")

clearing_lines = Table(
    "clearing_lines", metadata,
    Column("seq", Id, primary_key=True, autoincrement=True),
    Column("day", Date, nullable=False, comment="the clearing window: a day in Asia/Shanghai"),
    Column("name", LineName, nullable=False, unique=True,
           comment="regions/{T}/settlements/{id}/lines/{n} or .../refunds/{k}/lines/{n}"),
    Column("kind", String(8), nullable=False, comment="payment or refund"),
    Column("payer_region", String(6), nullable=False, comment="the grantor's region: owes a payment"),
    Column("payee_region", String(6), nullable=False, comment="the treatment region: is owed it"),
    Column("amount", BigInteger, nullable=False),
    Column("settlement_seq", Id, ForeignKey("settlements.seq"), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    CheckConstraint("amount > 0", name="positive"),
    Index("ix_clearing_lines_day_payer_region_name", "day", "payer_region", "name"),
    Index("ix_clearing_lines_day_payee_region_name", "day", "payee_region", "name"),
)

clearing_windows = Table(
    "clearing_windows", metadata,
    Column("day", Date, primary_key=True, comment="a closed window; a day without a row is open"),
    Column("closed_at", DateTime(timezone=True), nullable=False),
    Column("closed_by", String(64), nullable=False),
    Column("lines", BigInteger, nullable=False),
    Column("fen", BigInteger, nullable=False, comment="payments minus refunds"),
)

clearing_totals = Table(
    "clearing_totals", metadata,
    Column("day", Date, primary_key=True),
    Column("payer_region", String(6), primary_key=True),
    Column("payee_region", String(6), primary_key=True),
    Column("kind", String(8), primary_key=True),
    Column("lines", BigInteger, nullable=False),
    Column("fen", BigInteger, nullable=False),
    comment="a closed window's lines summed at its close; never changed after",
)

clearing_confirmations = Table(
    "clearing_confirmations", metadata,
    Column("seq", Id, primary_key=True, autoincrement=True),
    Column("day", Date, nullable=False),
    Column("region", String(6), nullable=False),
    Column("verdict", String(10), nullable=False, comment="confirmed or disputed"),
    Column("reason", String(500), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_clearing_confirmations_day_region", "day", "region"),
)

# Cross-province traffic per minute (gateway.service.traffic): each gateway process adds what it counted every
# few seconds, so the operator console shows all processes; kept TRAFFIC_KEEP_HOURS (a few rows a pair a minute).
traffic_minutes = Table(
    "traffic_minutes", metadata,
    Column("minute", DateTime(timezone=True), primary_key=True, comment="the minute's start (UTC)"),
    Column("grantor_province", String(2), primary_key=True),
    Column("other_province", String(2), primary_key=True),
    Column("outcome", String(64), primary_key=True, comment="allowed, or the reason code of a refusal"),
    Column("count", BigInteger, nullable=False),
    comment="cross-province settlements per province pair, minute and outcome",
)
