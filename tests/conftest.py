"""Shared fixtures: the dev PKI, and the two database engines.

PostgreSQL: a fresh database per test run on COPAY_TEST_POSTGRES_URL
(default postgresql+psycopg://postgres@127.0.0.1:5432/postgres), dropped at
the end. If the server cannot be reached the PostgreSQL cases are skipped,
except under CI=true, where they fail.

``ENGINES``: a test of the store's failure modes takes ``database_url`` and ``kind`` from it and makes its
engines with ``engines``: on PostgreSQL it runs twice, on the blocking engine (threads, the console, tools) and
on the event loop's engine, its body then in a greenlet on a loop of its own, as the gateway's calls run
(gateway.store.postgres.loop).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.util import greenlet_spawn

from gateway.domain.identity import IdHasher
from gateway.security.pki import init_dev_pki
from gateway.seed import register_regions
from gateway.store.db import make_engine, make_loop_engine
from gateway.store.migrate import upgrade

POSTGRES_ADMIN_URL = os.environ.get("COPAY_TEST_POSTGRES_URL",
                                    "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
BACKENDS = ["sqlite", "postgresql"]
ENGINES = [("sqlite", "blocking"), ("postgresql", "blocking"), ("postgresql", "loop")]
PG_ENGINES = ENGINES[1:]


@pytest.fixture
def engines(kind: str):  # type: ignore[no-untyped-def]
    """Makes engines of the test's ``kind`` (``make_engine``'s arguments); each is disposed after the test."""
    made: list[Engine] = []

    def make(url: str, pool_size: int = 8) -> Engine:
        engine = make_loop_engine(url, pool_size) if kind == "loop" else make_engine(url, pool_size)
        made.append(engine)
        return engine

    make.made = made  # type: ignore[attr-defined]
    yield make
    if kind != "loop":  # the loop's engines are disposed on their loop (pytest_pyfunc_call)
        for engine in made:
            engine.dispose()


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """A test of ``kind`` "loop" runs in a greenlet on an event loop, as a call's unit of work does."""
    if pyfuncitem.funcargs.get("kind") != "loop":
        return None
    arguments = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    made: list[Engine] = pyfuncitem.funcargs["engines"].made  # type: ignore[attr-defined]

    def body() -> None:
        try:
            pyfuncitem.obj(**arguments)
        finally:
            for engine in made:
                engine.dispose()

    asyncio.run(greenlet_spawn(body))
    return True


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pki") / "certs"  # the CA key goes beside it, in pki/ca
    init_dev_pki(folder)
    return folder


@pytest.fixture(scope="session")
def hasher(pki: Path) -> IdHasher:
    return IdHasher(bytes.fromhex((pki / "id-hash.key").read_text()))


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The admin URL of a reachable PostgreSQL server."""
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure to connect means "not reachable"
        message = f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {type(exc).__name__}"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true: PostgreSQL tests must run)")
        pytest.skip(message)
    finally:
        admin.dispose()
    return POSTGRES_ADMIN_URL


@pytest.fixture(scope="session")
def pgbouncer(postgres_server: str, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A PgBouncer in transaction pooling in front of the PostgreSQL server, with two server connections per
    database, so that every client's transactions share them. Gives a database URL's address through it,
    with psycopg's prepared statements off (Debian 12's PgBouncer, 1.18, does not keep them; README,
    Production on PostgreSQL). Debian's package ``pgbouncer``; skipped without it, except under CI=true."""
    binary = shutil.which("pgbouncer") or ("/usr/sbin/pgbouncer" if os.path.exists("/usr/sbin/pgbouncer") else None)
    if binary is None:
        message = "pgbouncer is not installed (Debian's package pgbouncer)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true: the PgBouncer tests must run)")
        pytest.skip(message)
    server = make_url(postgres_server)
    folder = tmp_path_factory.mktemp("pgbouncer")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    login = f"user={server.username or 'postgres'}" + (f" password={server.password}" if server.password else "")
    config = folder / "pgbouncer.ini"
    config.write_text(f"[databases]\n* = host={server.host or '127.0.0.1'} port={server.port or 5432} {login}\n"
                      f"[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
                      "auth_type = any\npool_mode = transaction\ndefault_pool_size = 2\nmax_client_conn = 500\n"
                      "admin_users = postgres\nstats_period = 1\n")
    as_user = ["-u", "postgres"] if os.geteuid() == 0 else []  # it will not run as root
    log = folder / "pgbouncer.log"
    with log.open("wb") as out:
        process = subprocess.Popen([binary, *as_user, str(config)], stdout=out, stderr=subprocess.STDOUT)

    def console() -> psycopg.Connection:
        """PgBouncer's admin console: only a PgBouncer has it (so not another program on that port)."""
        return psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="pgbouncer", autocommit=True,
                               connect_timeout=5)

    deadline = time.monotonic() + 20
    while True:
        try:
            with console() as conn:
                assert conn.pgconn.exec_(b"SHOW VERSION").ntuples == 1
            if process.poll() is None:
                break
        except psycopg.Error:  # not listening yet
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait()
            pytest.fail(f"pgbouncer did not start:\n{log.read_text()}")
        time.sleep(0.05)

    def through(url: str) -> str:
        return make_url(url).set(host="127.0.0.1", port=port).update_query_dict(
            {"prepare_threshold": "none"}).render_as_string(hide_password=False)

    def transactions(database: str) -> int:
        """The transactions PgBouncer has pooled for a database (its admin console's SHOW STATS, which
        speaks only the simple query protocol)."""
        with console() as conn:
            stats = conn.pgconn.exec_(b"SHOW STATS")
            columns = [stats.fname(i) for i in range(stats.nfields)]
            rows = [dict(zip(columns, (stats.get_value(t, i) for i in range(stats.nfields))))
                    for t in range(stats.ntuples)]
        return sum(int(row[b"total_xact_count"]) for row in rows if row[b"database"] == database.encode())

    through.transactions = transactions  # type: ignore[attr-defined]
    yield through
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def fresh_postgres(postgres_server: str):  # type: ignore[no-untyped-def]
    """Makes fresh, empty databases on the PostgreSQL server; drops them at the end."""
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    made: list[str] = []

    def make(options: str = "") -> str:
        """``options``: CREATE DATABASE's own (a template, a locale)."""
        name = f"copay_test_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" {options}'))
        made.append(name)
        return make_url(postgres_server).set(database=name).render_as_string(hide_password=False)

    yield make
    with admin.connect() as conn:
        for name in made:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated database of the backend named by the test's parameter: the sample regions registered
    LIVE, nothing else."""
    backend = getattr(request, "param", "sqlite")
    url = f"sqlite:///{tmp_path / 'copay.db'}" if backend == "sqlite" else request.getfixturevalue("fresh_postgres")()
    engine = make_engine(url)
    upgrade(engine)
    register_regions(engine)
    engine.dispose()
    return url


@pytest.fixture
def engine(database_url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(database_url)
    yield engine
    engine.dispose()
