"""The schema as SQLAlchemy Core tables. Migrations (migrations/versions) create
it; a test checks that the two agree."""

from __future__ import annotations

from sqlalchemy import (BigInteger, Column, DateTime, Index, Integer, LargeBinary, MetaData, String, Table,
                        UniqueConstraint, text)

metadata = MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "pk": "pk_%(table_name)s",
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
    Column("created_at", DateTime(timezone=True), nullable=False),
)
