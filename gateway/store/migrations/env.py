"""Alembic environment: always called through gateway.store.migrate, which
passes an open connection in ``config.attributes['connection']``."""

from alembic import context
from sqlalchemy import text

from gateway.store.tables import metadata

MIGRATION_LOCK = 0x636F706179  # PostgreSQL advisory lock: one migrating process at a time

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
postgres = connection.dialect.name == "postgresql"
if postgres:
    connection.execute(text(f"SELECT pg_advisory_lock({MIGRATION_LOCK})"))
try:
    with context.begin_transaction():
        context.run_migrations()
finally:
    if postgres:
        connection.execute(text(f"SELECT pg_advisory_unlock({MIGRATION_LOCK})"))
        connection.commit()
