"""PostgreSQL restarted or failed over under the gateway: a unit of work on a connection the database has dropped
fails StoreUnavailable (UNAVAILABLE to the caller, who retries with the same request_id), never a defect, and
the next one runs on a fresh connection (connections are not pinged before use); so does one that cannot
connect at all."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import OperationalError

from gateway.service.once import in_transaction
from gateway.service.ports import PriorAnswer, StoreUnavailable
from gateway.store import unit_of_work
from gateway.store.db import make_engine
from gateway.store.migrate import upgrade
from tests.conftest import PG_ENGINES


@pytest.mark.parametrize("database_url, kind", PG_ENGINES, indirect=["database_url"])
@pytest.mark.parametrize("first", ["direct", "core"])  # the first statement on the driver, or through SQLAlchemy
def test_a_dropped_connection_fails_one_unit_of_work_unavailable_and_the_next_runs(database_url, postgres_server,
                                                                                   engines, first):
    engine = engines(database_url, pool_size=2)
    uow = unit_of_work.factory(engine)
    read = (lambda u: u.requests.find("region/420100", "r-1")) if first == "direct" else \
        (lambda u: u.control.kill_switch())
    with uow(readonly=True), uow(readonly=True):  # the pool now holds two live connections
        pass
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:  # what a restart does to the gateway's connections
        dropped = conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                    "WHERE datname = :db AND pid <> pg_backend_pid()"),
                               {"db": engine.url.database}).scalar()
    admin.dispose()
    assert dropped >= 1
    with pytest.raises(StoreUnavailable, match="retry with the same request_id"):
        in_transaction(uow, read, readonly=True)
    in_transaction(uow, read, readonly=True)  # a fresh connection: the other dead one went with the pool


def test_a_database_that_cannot_be_reached_is_unavailable_not_a_defect(tmp_path):
    """Down, restarting or failing over: no connection can be made at all."""
    engine = make_engine("postgresql+psycopg://postgres@127.0.0.1:9/copay?connect_timeout=2", pool_size=1)
    with pytest.raises(StoreUnavailable, match="cannot be reached"):
        in_transaction(unit_of_work.factory(engine), lambda u: u.control.kill_switch(), readonly=True)
    engine.dispose()


def test_the_servers_readers_beside_the_sqlite_writer_cannot_write(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'copay.db'}")
    upgrade(engine)
    engine.dispose()
    readers = make_engine(f"sqlite:///{tmp_path / 'copay.db'}", query_only=True)
    with pytest.raises((OperationalError, sqlite3.OperationalError), match="readonly"):
        with readers.begin() as conn:
            conn.execute(text("DELETE FROM request_log"))
    readers.dispose()


@pytest.mark.parametrize("database_url, kind", PG_ENGINES, indirect=["database_url"])
def test_a_connection_lost_at_the_commit_round_trip_keeps_nothing_and_is_unavailable(database_url, postgres_server,
                                                                                     engines):
    """The unit's BEGIN, its writes and its COMMIT go in one round trip; the database drops the connection
    just before it: StoreUnavailable (the caller retries with the same request_id), nothing kept, and the next
    unit of work runs on a fresh connection."""
    engine = engines(database_url, pool_size=2)
    uow = unit_of_work.factory(engine)
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")

    def write_then_lose_the_connection(u):  # type: ignore[no-untyped-def]
        u.requests.add("region/420100", "lost-at-commit", PriorAnswer(b"f" * 32, b"answer", False))
        backend = u._conn.connection.driver_connection.info.backend_pid  # nothing has been sent yet
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})

    with pytest.raises(StoreUnavailable, match="retry with the same request_id"):
        in_transaction(uow, write_then_lose_the_connection)
    assert in_transaction(uow, lambda u: u.requests.find("region/420100", "lost-at-commit"), readonly=True) is None
    assert engine.pool.checkedout() == 0
    admin.dispose()


@pytest.mark.parametrize("database_url, kind", PG_ENGINES, indirect=["database_url"])
def test_a_connection_that_cannot_be_switched_to_autocommit_is_unavailable_and_not_used_again(database_url, engines):
    """A unit of work turns the driver's autocommit on (its BEGIN goes with the first statement); a pooled
    connection found closed then fails the unit StoreUnavailable, is invalidated, and the next unit runs on a
    new one."""
    engine = engines(database_url, pool_size=1)
    uow = unit_of_work.factory(engine)
    handed_out: list[object] = []
    event.listen(engine, "checkout", lambda dbapi_connection, *_: handed_out.append(dbapi_connection))
    in_transaction(uow, lambda u: u.control.kill_switch(), readonly=True)  # the pool holds one connection
    first = handed_out[-1]
    first.close()  # type: ignore[attr-defined]  # closed under the pool, which does not ping before use
    with pytest.raises(StoreUnavailable, match="retry with the same request_id"):
        in_transaction(uow, lambda u: u.control.kill_switch(), readonly=True)
    assert engine.pool.checkedout() == 0
    in_transaction(uow, lambda u: u.control.kill_switch(), readonly=True)
    assert handed_out[-1] is not first
