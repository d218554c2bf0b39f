"""Alembic environment, for two callers.

* ``gateway.store.migrate`` (``copay-gateway migrate``, ``serve``) passes an open connection in
  ``config.attributes['connection']`` and commits it afterwards.
* The ``alembic`` command, with the repository's ``alembic.ini``: the database URL comes from
  ``-x url=...``, else ``COPAY_DATABASE_URL``, else ``sqlite:///var/copay.db``. Online it connects and
  commits; offline (``--sql``) it prints the SQL instead of running it, with literal values.
  ``gateway.store.migrate.upgrade_sql`` (``copay-gateway migrate --sql``) runs it offline too, with the
  URL in ``config.attributes['url']``.

Offline there is no connection to read rows: migrations that move data say in their docstring what they do
instead (see 0004 and 0005).

On PostgreSQL an online run holds a transaction-scoped advisory lock, so one process migrates at a time; the
lock goes with the migrations' transaction (a session lock would stay with a server connection that a
transaction-pooling PgBouncer gives to another client after the commit, and stop every later migration).
"""

from __future__ import annotations

import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url

from gateway.store.tables import metadata

MIGRATION_LOCK = 0x636F706179  # PostgreSQL advisory lock: one migrating process at a time
DEFAULT_URL = "sqlite:///var/copay.db"


def database_url() -> str:
    """gateway.store.migrate's ``attributes['url']`` (offline), else ``-x url=...``, else COPAY_DATABASE_URL,
    else the gateway's default."""
    return context.config.attributes.get("url") or context.get_x_argument(as_dictionary=True).get("url") \
        or os.environ.get("COPAY_DATABASE_URL") or DEFAULT_URL


def run_offline(url: str) -> None:
    sqlite = make_url(url).get_backend_name() == "sqlite"
    # transactional_ddl: on SQLite too, so that the script runs whole or not at all.
    context.configure(url=url, target_metadata=metadata, literal_binds=True, render_as_batch=sqlite,
                      transactional_ddl=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_online(connection: Connection) -> None:
    """Runs the migrations on ``connection``; the caller commits."""
    sqlite = connection.dialect.name == "sqlite"
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=sqlite)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":  # held until the transaction ends; the versions read after it
            connection.execute(text(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
        context.run_migrations()


def main() -> None:
    passed = context.config.attributes.get("connection")
    if passed is None and context.config.config_file_name:
        fileConfig(context.config.config_file_name, disable_existing_loggers=False)  # alembic.ini's: quiet
    if passed is not None:
        run_online(passed)
    elif context.is_offline_mode():
        run_offline(database_url())
    else:
        from gateway.store.db import make_engine

        engine = make_engine(database_url(), pool_size=1)
        try:
            with engine.connect() as connection:
                run_online(connection)
                connection.commit()
        finally:
            engine.dispose()


main()
