"""Applies the Alembic migrations shipped inside the package, and tells where a database stands.

``upgrade`` runs them on an engine (``copay-gateway migrate``, ``serve``); ``status`` reads the
database's revision without changing anything (``migrate --status``); ``upgrade_sql`` prints the SQL
that ``upgrade`` would run from that revision, offline (``migrate --sql``, the same as
``alembic -c alembic.ini upgrade CURRENT:head --sql``). The repository's ``alembic.ini`` points the plain
``alembic`` command at the same scripts (see migrations/env.py).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(output_buffer: io.StringIO | None = None) -> Config:
    config = Config(output_buffer=output_buffer)
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = alembic_config()
    with engine.connect() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
        conn.commit()


@dataclass(frozen=True)
class Status:
    current: str | None
    """The database's revision; None: no migration applied (an empty database)."""
    head: str
    pending: tuple[str, ...]
    """Revisions ``upgrade`` would apply, oldest first."""
    known: bool = True
    """False: the database is at a revision these scripts do not know (a newer gateway migrated it)."""

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


def current_revision(url: str) -> str | None:
    """The database's revision, read without changing anything (a SQLite file that does not exist is not made)."""
    from gateway.store.db import make_engine

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:") \
            and not Path(parsed.database).exists():
        return None
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def status(url: str) -> Status:
    scripts = ScriptDirectory.from_config(alembic_config())
    head = scripts.get_current_head()
    assert head is not None, "the migrations have a single head"
    current = current_revision(url)
    if current is not None and current not in {s.revision for s in scripts.walk_revisions()}:
        return Status(current, head, (), known=False)
    pending = tuple(reversed([s.revision for s in scripts.iterate_revisions(head, current or "base")]))
    return Status(current, head, pending)


def upgrade_sql(url: str, start: str | None) -> str:
    """The SQL that upgrades a database of ``url``'s engine from revision ``start`` (None: empty) to head,
    rendered offline with literal values: nothing connects to the database."""
    out = io.StringIO()
    config = alembic_config(output_buffer=out)
    config.attributes["url"] = url
    command.upgrade(config, f"{start}:head" if start else "head", sql=True)
    return out.getvalue()
