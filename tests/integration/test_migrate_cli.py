"""Migrations for a DBA: ``copay-gateway migrate --status`` and ``--sql``, and the plain ``alembic``
command with the repository's alembic.ini, on SQLite and PostgreSQL.

The SQL ``migrate --sql`` prints, run by hand, must make the very schema ``migrate`` makes, and carry the
data across as the online migrations do where it can (0005's open pairs); where it cannot (0004's
impersonation records) it says so in a comment.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import make_url

from gateway.store.db import make_engine
from gateway.store.migrate import alembic_config, upgrade
from gateway.store.tables import bindings, metadata, province_pairs
from tests.conftest import BACKENDS

ROOT = Path(__file__).resolve().parents[2]
HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()
NOW = datetime(2026, 11, 1, 8, 0, tzinfo=timezone.utc)


@pytest.fixture(params=BACKENDS)
def make_empty(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Makes empty databases (never migrated) of the test's backend."""
    names = iter(range(100))
    if request.param == "sqlite":
        return lambda: f"sqlite:///{tmp_path / f'empty-{next(names)}.db'}"
    return request.getfixturevalue("fresh_postgres")


def environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("COPAY_")}


def gateway(*args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "gateway.cli", *args], env=environment(), capture_output=True,
                          text=True, timeout=120)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def alembic(url: str | None, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``alembic -c alembic.ini [-x url=URL] ARGS`` from the repository root, as a DBA runs it."""
    x = ["-x", f"url={url}"] if url else []
    done = subprocess.run([sys.executable, "-m", "alembic", "-c", "alembic.ini", *x, *args], cwd=ROOT,
                          env={**environment(), **(env or {})}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done


def run_sql(url: str, sql: str) -> None:
    """Runs a printed script as a DBA would (sqlite3, psql): all of it, with its own BEGIN and COMMIT."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        conn = sqlite3.connect(parsed.database, isolation_level=None)
        try:
            conn.executescript(sql)
        finally:
            conn.close()
    else:
        with psycopg.connect(parsed.set(drivername="postgresql").render_as_string(hide_password=False),
                             autocommit=True) as conn:
            conn.execute(sql)  # no parameters: one simple query holding every statement


def tables(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        return inspect(engine).get_table_names()
    finally:
        engine.dispose()


def schema(url: str) -> dict[str, list]:
    """Everything that makes up the schema, as the database itself states it."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                rows = conn.execute(text("SELECT type, name, tbl_name, sql FROM sqlite_master"))
                return {"sqlite_master": sorted((t, n, tb, " ".join((s or "").split())) for t, n, tb, s in rows)}
            queries = {
                "columns": "SELECT table_name, column_name, data_type, character_maximum_length, is_nullable, "
                           "column_default FROM information_schema.columns WHERE table_schema = 'public'",
                "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'",
                "constraints": "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
                               "WHERE connamespace = 'public'::regnamespace",
                "comments": "SELECT c.relname, a.attname, col_description(c.oid, a.attnum) FROM pg_class c "
                            "JOIN pg_attribute a ON a.attrelid = c.oid JOIN pg_namespace n ON n.oid = c.relnamespace "
                            "WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0",
            }
            return {name: sorted(tuple(r) for r in conn.execute(text(q))) for name, q in queries.items()}
    finally:
        engine.dispose()


def assert_declared_schema(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    finally:
        engine.dispose()


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_status_of_a_migrated_database(database_url):
    done = gateway("migrate", "--status", "--database-url", database_url)
    assert done.returncode == 0
    assert f"current revision: {HEAD}\nhead revision: {HEAD}\nup to date\n" in done.stdout


def test_status_of_an_empty_database_changes_nothing(make_empty):
    url = make_empty()
    done = gateway("migrate", "--status", "--database-url", url)
    assert done.returncode == 0  # not up to date is a state, not a failure
    assert "current revision: none" in done.stdout
    assert f"head revision: {HEAD}" in done.stdout
    assert "not up to date: 7 to apply (0001, 0002, 0003, 0004, 0005, 0006, 0007)" in done.stdout
    assert not url.startswith("sqlite") or not Path(make_url(url).database).exists()  # no file made
    assert not url.startswith("postgresql") or tables(url) == []


def test_sql_of_an_empty_database_prints_every_table_and_runs_nothing(make_empty):
    url = make_empty()
    done = gateway("migrate", "--sql", "--database-url", url)
    assert done.returncode == 0, done.stderr
    for table in metadata.tables:
        assert f"CREATE TABLE {table} (" in done.stdout
    assert f"version_num='{HEAD}'" in done.stdout
    assert tables(url) == []  # it stays empty


def test_printed_sql_makes_the_schema_migrate_makes(make_empty):
    by_hand, by_migrate = make_empty(), make_empty()
    run_sql(by_hand, gateway("migrate", "--sql", "--database-url", by_hand).stdout)
    assert gateway("migrate", "--database-url", by_migrate).returncode == 0
    assert_declared_schema(by_hand)
    assert schema(by_hand) == schema(by_migrate)
    assert "up to date" in gateway("migrate", "--status", "--database-url", by_hand).stdout.splitlines()
    done = gateway("migrate", "--sql", "--database-url", by_hand)
    assert done.stdout == f"-- {by_hand} is at revision {HEAD}, the newest: nothing to run.\n"


def test_printed_sql_from_an_older_revision_moves_what_it_can_and_says_what_it_cannot(make_empty):
    """From 0003: 0004 rebuilds bindings (on SQLite, by copying the table) and replaces the impersonation
    records; 0005 turns each open pair into two directions."""
    url, by_migrate = make_empty(), make_empty()
    engine = make_engine(url)
    upgrade(engine, "0003")
    with engine.begin() as conn:
        conn.execute(bindings.insert().values(
            seq=1, id="b-1", grantor_region="320300", grantor_psn_no="P1", beneficiary_region="320300",
            beneficiary_psn_no="P3", relationship="daughter", status="active", policy="js-2024",
            created_at=NOW, updated_at=NOW))
        conn.execute(text("INSERT INTO cross_province_pairs (province_a, province_b, open, updated_at, updated_by) "
                          "VALUES ('32', '44', :open, :at, 'region/320300')"), {"open": True, "at": NOW})
        conn.execute(text("INSERT INTO impersonation_attempts (at, caller, credential, holder_hash) "
                          "VALUES (:at, 'region/320300', 'id_card', 'h')"), {"at": NOW})
    engine.dispose()
    assert "current revision: 0003" in gateway("migrate", "--status", "--database-url", url).stdout

    sql = gateway("migrate", "--sql", "--database-url", url).stdout
    assert "CREATE TABLE members" not in sql and "Running upgrade 0003 -> 0004" in sql
    assert "-- migration 0004, offline: existing impersonation records are NOT folded" in sql
    run_sql(url, sql)

    assert_declared_schema(url)
    upgrade(make_engine(by_migrate))
    assert schema(url) == schema(by_migrate)
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.execute(select(bindings.c.id, bindings.c.grantor_region)).all() == [("b-1", "320300")]
        pairs = conn.execute(select(province_pairs.c.grantor_province, province_pairs.c.other_province,
                                    province_pairs.c.open, province_pairs.c.updated_by)).all()
        assert sorted(pairs) == [("32", "44", True, "region/320300"), ("44", "32", True, "region/320300")]
        assert conn.execute(text("SELECT count(*) FROM impersonation_attempts")).scalar() == 0  # as it said
    engine.dispose()


def test_alembic_command_from_the_repository_root(make_empty):
    url = make_empty()
    assert "0001 -> 0002" in alembic(None, "history").stdout
    sql = alembic(url, "upgrade", "head", "--sql").stdout
    assert "CREATE TABLE members (" in sql and f"version_num='{HEAD}'" in sql
    assert tables(url) == []  # --sql does not connect
    assert alembic(url, "current").stdout == ""  # no revision yet
    alembic(url, "upgrade", "head")  # online, as a DBA runs it
    assert alembic(url, "current").stdout == f"{HEAD} (head)\n"
    assert alembic(None, "current", env={"COPAY_DATABASE_URL": url}).stdout == f"{HEAD} (head)\n"
    assert_declared_schema(url)
    assert "up to date" in gateway("migrate", "--status", "--database-url", url).stdout.splitlines()


@pytest.mark.parametrize("through", ["postgresql", "pgbouncer"])
def test_gateways_starting_together_migrate_once_and_leave_no_lock(through, fresh_postgres, request):
    """Four ``copay-gateway migrate`` at once on an empty PostgreSQL database, straight or through a PgBouncer
    in transaction pooling (two server connections: a commit hands one to another client): one migrates, the
    others wait for its commit and find nothing to do, and no advisory lock is left behind, where it would stop
    every later start (a session lock taken before the commit and released after it did so through PgBouncer)."""
    url = fresh_postgres()
    served = request.getfixturevalue("pgbouncer").url(url) if through == "pgbouncer" else url
    target, stop = make_url(served), threading.Event()

    def busy() -> None:  # another client's short transactions, as a gateway already running makes
        with psycopg.connect(host=target.host, port=target.port, user=target.username, dbname=target.database,
                             prepare_threshold=None) as conn:
            while not stop.is_set():
                with conn.transaction():
                    conn.execute("SELECT 1")

    other = threading.Thread(target=busy, daemon=True)
    other.start()
    try:
        for _ in range(3):  # and again, on the migrated database
            runs = [subprocess.Popen([sys.executable, "-m", "gateway.cli", "migrate", "--database-url", served],
                                     env=environment(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                    for _ in range(4)]
            try:
                outputs = [run.communicate(timeout=60)[0] for run in runs]
            finally:
                for run in runs:
                    run.kill()
            assert [run.returncode for run in runs] == [0] * 4, outputs
    finally:
        stop.set()
        other.join(20)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            head = ScriptDirectory.from_config(alembic_config()).get_current_head()
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head]
            assert conn.execute(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")).scalar() == 0
    finally:
        engine.dispose()
