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
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.util import greenlet_spawn

from gateway.cli import event_loop
from gateway.domain.identity import IdHasher
from gateway.security.pki import init_dev_pki
from gateway.seed import register_regions
from gateway.store.db import make_engine, make_loop_engine
from gateway.store.migrate import upgrade
from tests.pgbouncer import PgBouncer

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
def valgrind() -> None:
    """valgrind's callgrind on this machine (the benchmark's instruction count): skipped without it, except under
    CI=true, where the test fails (``.ci/run`` installs it)."""
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("valgrind is not installed (CI=true: .ci/run installs it)")
        pytest.skip("valgrind is not installed")


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
    """The session's PgBouncer in transaction pooling in front of the PostgreSQL server (tests/pgbouncer.py)."""
    bouncer = PgBouncer(postgres_server, tmp_path_factory.mktemp("pgbouncer"))
    bouncer.start()
    yield bouncer
    bouncer.stop()


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


@pytest.fixture(params=["asyncio", "uvloop"])
def run_on_loop(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """Runs a coroutine to its end on a new event loop: the standard library's, and (the test again) uvloop's,
    which ``serve`` runs on by default. For the code that waits on the loop itself: a round trip's socket,
    a call cut short while it waits on the database."""
    factory = event_loop(request.param)

    def run(coroutine):  # type: ignore[no-untyped-def]
        with asyncio.Runner(loop_factory=factory) as runner:
            return runner.run(coroutine)

    return run
