"""The benchmark's reading of a local PostgreSQL server's CPU (gateway.bench.cpu): every process of that
server counts, including a backend that has exited; SQLite and a server elsewhere are not measured."""

from __future__ import annotations

import time

from sqlalchemy import create_engine, text

from gateway.bench.cpu import DatabaseServer, children


def test_the_cpu_of_a_local_postgresql_server_counts_its_backends_also_once_they_have_exited(
        postgres_server: str) -> None:
    engine = create_engine(postgres_server)
    try:
        server = DatabaseServer.of(engine)
        assert server is not None
        before = server.cpu_seconds()
        with engine.connect() as conn:
            backend = str(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
            assert backend in children(server.postmaster)
            conn.execute(text("SELECT count(*) FROM generate_series(1, 4000000)")).scalar_one()  # ~0.3 s of CPU
        busy = server.cpu_seconds()
        assert busy - before >= 0.1
    finally:
        engine.dispose()  # the backend exits; the postmaster reaps it
    deadline = time.monotonic() + 20
    while backend in children(server.postmaster) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert backend not in children(server.postmaster)
    assert server.cpu_seconds() >= busy - 0.02  # its CPU stays counted (a tick or two of rounding)


def test_sqlite_and_a_server_elsewhere_are_not_measured(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert DatabaseServer.of(create_engine(f"sqlite:///{tmp_path / 'x.db'}")) is None
    # not connected to: the address is not this machine's
    assert DatabaseServer.of(create_engine("postgresql+psycopg://postgres@db.invalid/x")) is None
