"""ids in their region's namespace; refusals kept as answers; bounded impersonation records

* A caller-chosen binding id is unique within the grantor's region, a
  settlement id within the region that settled it (they were global: one
  region could take, or probe, another's ids).
* ``request_log.refused``: a refusal is stored as the request's answer, so
  every copy of a request gets the same answer; ``created_at`` is indexed for
  the retention prune.
* ``impersonation_attempts`` keeps one row per caller, day, patient,
  credential type and presented ID hash, with a count, and at most a fixed
  number of such rows per caller and day (the rest are counted on one row), so
  no caller can grow it without limit. Existing rows are folded in.

Offline (``alembic upgrade --sql``, ``copay-gateway migrate --sql``) there is no connection: existing
impersonation records are not folded in but dropped with the old table (the SQL says so in a comment; run
the migration online to keep them), and on SQLite the batch changes copy the tables from their
definitions below instead of reflecting them. The same holds for the downgrade.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""
from collections import defaultdict
from datetime import timedelta, timezone

import sqlalchemy as sa
from alembic import context, op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
CHINA = timezone(timedelta(hours=8))
LIVE = "status IN ('pending_confirmation', 'pending_review', 'active')"


def _offline_copies(upgraded: bool) -> dict[str, sa.Table]:
    """Offline only, for SQLite's batch mode, which cannot reflect there: bindings, settlements and
    request_log as they are before this revision's changes (``upgraded``: as they are after it)."""
    if not context.is_offline_mode():
        return {}
    meta = sa.MetaData()
    live = sa.text(LIVE)
    bindings = sa.Table(
        "bindings", meta,
        sa.Column("seq", Id, primary_key=True, autoincrement=True),
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
        sa.UniqueConstraint("grantor_region", "id", name="uq_bindings_grantor_region_id") if upgraded
        else sa.UniqueConstraint("id", name="uq_bindings_id"),
        sa.Index("ix_bindings_grantor", "grantor_region", "grantor_psn_no"),
        sa.Index("ix_bindings_beneficiary", "beneficiary_region", "beneficiary_psn_no"),
        sa.Index("uq_bindings_live_pair", "grantor_region", "grantor_psn_no", "beneficiary_region",
                 "beneficiary_psn_no", unique=True, sqlite_where=live, postgresql_where=live),
    )
    settlements = sa.Table(
        "settlements", meta,
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
        sa.UniqueConstraint("treatment_region", "id", name="uq_settlements_treatment_region_id") if upgraded
        else sa.UniqueConstraint("id", name="uq_settlements_id"),
        sa.Index("ix_settlements_beneficiary", "beneficiary_region", "beneficiary_psn_no", "created_at"),
    )
    request_log = sa.Table(
        "request_log", meta,
        sa.Column("caller", sa.String(64), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("response", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        *([sa.Column("refused", sa.Boolean, nullable=False, server_default=sa.false())] if upgraded else []),
        sa.PrimaryKeyConstraint("caller", "request_id", name="pk_request_log"),
    )
    return {table.name: table for table in (bindings, settlements, request_log)}


def _read(query: sa.Select, step: str, skipped: str) -> list:
    """The rows of ``query``; offline, none, with a comment in the SQL saying what is skipped."""
    if context.is_offline_mode():
        context.static_output(f"-- {step}, offline: {skipped}")
        return []
    return op.get_bind().execute(query).all()


def upgrade() -> None:
    copies = _offline_copies(upgraded=False)
    with op.batch_alter_table("bindings", copy_from=copies.get("bindings")) as batch:
        batch.drop_constraint("uq_bindings_id", type_="unique")
        batch.create_unique_constraint("uq_bindings_grantor_region_id", ["grantor_region", "id"])
        batch.alter_column("id", existing_type=sa.String(63), existing_nullable=False,
                           comment="unique within the grantor's region, which filed it")
    with op.batch_alter_table("settlements", copy_from=copies.get("settlements")) as batch:
        batch.drop_constraint("uq_settlements_id", type_="unique")
        batch.create_unique_constraint("uq_settlements_treatment_region_id", ["treatment_region", "id"])
        batch.alter_column("id", existing_type=sa.String(63), existing_nullable=False,
                           comment="unique within the region that settled it")
    with op.batch_alter_table("request_log", copy_from=copies.get("request_log")) as batch:
        batch.add_column(sa.Column("refused", sa.Boolean, nullable=False, server_default=sa.false(),
                                   comment="the answer is a refusal, stored as JSON"))
    op.create_index("ix_request_log_created_at", "request_log", ["created_at"])

    old = sa.table("impersonation_attempts", *(sa.column(c) for c in (
        "at", "caller", "beneficiary_region", "beneficiary_psn_no", "credential", "holder_hash",
        "institution_code", "request_id")))
    rows = _read(sa.select(old).order_by(sa.text("seq")), "migration 0004",
                 "existing impersonation records are NOT folded into the new table; they are dropped with "
                 "the old one (run this migration online to keep them)")
    op.drop_table("impersonation_attempts")
    attempts = op.create_table(
        "impersonation_attempts",
        sa.Column("seq", Id, primary_key=True, autoincrement=True),
        sa.Column("day", sa.Date, nullable=False, comment="in Asia/Shanghai"),
        sa.Column("caller", sa.String(64), nullable=False),
        sa.Column("beneficiary_region", sa.String(6), nullable=False, comment="'' on a caller's overflow row"),
        sa.Column("beneficiary_psn_no", sa.String(40), nullable=False),
        sa.Column("credential", sa.String(24), nullable=False),
        sa.Column("holder_hash", sa.String(64), nullable=False,
                  comment="HMAC of the presented credential's ID number"),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_institution_code", sa.String(40)),
        sa.Column("last_request_id", sa.String(64)),
        sa.PrimaryKeyConstraint("seq", name="pk_impersonation_attempts"),
        sa.UniqueConstraint("day", "caller", "beneficiary_region", "beneficiary_psn_no", "credential", "holder_hash",
                            name="uq_impersonation_attempts_day"),
    )
    folded: dict[tuple, dict] = defaultdict(dict)
    for r in rows:
        at = r.at if r.at.tzinfo else r.at.replace(tzinfo=timezone.utc)
        key = (at.astimezone(CHINA).date(), r.caller, r.beneficiary_region or "", r.beneficiary_psn_no or "",
               r.credential, r.holder_hash)
        entry = folded[key]
        entry.setdefault("first_at", at)
        entry.update(attempts=entry.get("attempts", 0) + 1, last_at=at, last_institution_code=r.institution_code,
                     last_request_id=r.request_id)
    if folded:
        op.bulk_insert(attempts, [dict(zip(("day", "caller", "beneficiary_region", "beneficiary_psn_no", "credential",
                                            "holder_hash"), key), **entry) for key, entry in folded.items()])


def downgrade() -> None:
    """Each folded row goes back as one row at its last time (the count is lost)."""
    folded = sa.table("impersonation_attempts", *(sa.column(c) for c in (
        "last_at", "caller", "beneficiary_region", "beneficiary_psn_no", "credential", "holder_hash",
        "last_institution_code", "last_request_id")))
    rows = _read(sa.select(folded), "migration 0004 downgrade",
                 "impersonation records are NOT carried back into the old table; they are dropped with the new "
                 "one (run this downgrade online to keep them)")
    op.drop_table("impersonation_attempts")
    attempts = op.create_table(
        "impersonation_attempts",
        sa.Column("seq", Id, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("caller", sa.String(64), nullable=False),
        sa.Column("beneficiary_region", sa.String(6)),
        sa.Column("beneficiary_psn_no", sa.String(40)),
        sa.Column("credential", sa.String(24), nullable=False),
        sa.Column("holder_hash", sa.String(64), nullable=False),
        sa.Column("institution_code", sa.String(40)),
        sa.Column("request_id", sa.String(64)),
        sa.PrimaryKeyConstraint("seq", name="pk_impersonation_attempts"),
    )
    if rows:
        op.bulk_insert(attempts, [
            {"at": r.last_at, "caller": r.caller, "beneficiary_region": r.beneficiary_region or None,
             "beneficiary_psn_no": r.beneficiary_psn_no or None, "credential": r.credential,
             "holder_hash": r.holder_hash, "institution_code": r.last_institution_code,
             "request_id": r.last_request_id} for r in rows])
    op.drop_index("ix_request_log_created_at", "request_log")
    copies = _offline_copies(upgraded=True)
    with op.batch_alter_table("request_log", copy_from=copies.get("request_log")) as batch:
        batch.drop_column("refused")
    with op.batch_alter_table("settlements", copy_from=copies.get("settlements")) as batch:
        batch.drop_constraint("uq_settlements_treatment_region_id", type_="unique")
        batch.create_unique_constraint("uq_settlements_id", ["id"])
    with op.batch_alter_table("bindings", copy_from=copies.get("bindings")) as batch:
        batch.drop_constraint("uq_bindings_grantor_region_id", type_="unique")
        batch.create_unique_constraint("uq_bindings_id", ["id"])
