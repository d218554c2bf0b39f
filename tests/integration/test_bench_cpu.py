"""The benchmark's reading of a local PostgreSQL server's CPU (gateway.bench.cpu): every process of that
server counts, including a backend that has exited, and the total never goes back while backends come and
go; SQLite and a server elsewhere are not measured."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, make_url, text

from gateway.bench import cpu
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


def test_sqlite_and_a_server_elsewhere_are_not_measured(postgres_server: str, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    assert DatabaseServer.of(create_engine(f"sqlite:///{tmp_path / 'x.db'}")) is None
    engine = create_engine(postgres_server)
    try:
        assert DatabaseServer.of(engine) is not None
        # the backend's parent here did not start when the server did: the server's process ids are another
        # machine's or another namespace's, and a postgres process here that has one of them is not it
        monkeypatch.setattr(cpu, "_started", lambda pid: 0.0)
        assert DatabaseServer.of(engine) is None
    finally:
        engine.dispose()


def test_the_total_never_goes_back_while_backends_come_and_go(postgres_server: str) -> None:
    """A backend that exits between the reads of the reaped total and of the live children would drop out
    of both: read 8,000 times while short-lived connections come and go, the total never falls."""
    engine = create_engine(postgres_server)
    server = DatabaseServer.of(engine)
    engine.dispose()
    assert server is not None
    url = make_url(postgres_server)
    stop = threading.Event()

    def churn() -> None:
        while not stop.is_set():
            with psycopg.connect(host=url.host, port=url.port, user=url.username, password=url.password,
                                 dbname=url.database) as conn:
                conn.execute("SELECT count(*) FROM generate_series(1, 300000)").fetchone()  # a few ticks of CPU

    workers = [threading.Thread(target=churn) for _ in range(2)]
    for worker in workers:
        worker.start()
    try:
        readings = [server.cpu_seconds() for _ in range(8000)]
    finally:
        stop.set()
        for worker in workers:
            worker.join(20)
    falls = [(a, b) for a, b in zip(readings, readings[1:]) if b < a - 0.005]
    assert not falls and readings[-1] > readings[0], falls[:5]
