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

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""
from collections import defaultdict
from datetime import timedelta, timezone

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
CHINA = timezone(timedelta(hours=8))


def upgrade() -> None:
    with op.batch_alter_table("bindings") as batch:
        batch.drop_constraint("uq_bindings_id", type_="unique")
        batch.create_unique_constraint("uq_bindings_grantor_region_id", ["grantor_region", "id"])
        batch.alter_column("id", existing_type=sa.String(63), existing_nullable=False,
                           comment="unique within the grantor's region, which filed it")
    with op.batch_alter_table("settlements") as batch:
        batch.drop_constraint("uq_settlements_id", type_="unique")
        batch.create_unique_constraint("uq_settlements_treatment_region_id", ["treatment_region", "id"])
        batch.alter_column("id", existing_type=sa.String(63), existing_nullable=False,
                           comment="unique within the region that settled it")
    with op.batch_alter_table("request_log") as batch:
        batch.add_column(sa.Column("refused", sa.Boolean, nullable=False, server_default=sa.false(),
                                   comment="the answer is a refusal, stored as JSON"))
    op.create_index("ix_request_log_created_at", "request_log", ["created_at"])

    old = sa.table("impersonation_attempts", *(sa.column(c) for c in (
        "at", "caller", "beneficiary_region", "beneficiary_psn_no", "credential", "holder_hash",
        "institution_code", "request_id")))
    rows = op.get_bind().execute(sa.select(old).order_by(sa.text("seq"))).all()
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
    rows = op.get_bind().execute(sa.select(folded)).all()
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
    with op.batch_alter_table("request_log") as batch:
        batch.drop_column("refused")
    with op.batch_alter_table("settlements") as batch:
        batch.drop_constraint("uq_settlements_treatment_region_id", type_="unique")
        batch.create_unique_constraint("uq_settlements_id", ["id"])
    with op.batch_alter_table("bindings") as batch:
        batch.drop_constraint("uq_bindings_grantor_region_id", type_="unique")
        batch.create_unique_constraint("uq_bindings_id", ["id"])
