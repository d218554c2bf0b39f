"""Start-up safety of the real ``python -m gateway.cli serve``: a busy port, a SQLite file
another gateway serves, a bad setting or a busy metrics port each stop the new process with
one sentence naming the cause and no traceback, while the gateway already serving goes on;
the SQLite file lock dies with its holder however it stops; and the SQLite durability setting
(PRAGMA synchronous) reaches the writer process's connection."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest

from gateway._proto.copay.v1 import diagnostics_pb2, diagnostics_pb2_grpc
from gateway._proto.copay.v1 import members_pb2 as pb
from gateway.config import Settings
from gateway.store.db import make_engine
from gateway.store.migrate import upgrade
from gateway.store.sqlite.writer_process import WriterProcess
from tests.conftest import BACKENDS
from tests.e2e.conftest import Gateway, start_gateway
from tests.e2e.world import World

pytestmark = pytest.mark.e2e
T = 5
EXIT_SECONDS = 60  # a refused start must end by itself; generous for a loaded machine


@pytest.fixture
def own_gateway(pki, tmp_path):
    """Starts gateways of the test's own (each must print "listening"); stops them at the end."""
    started: list[Gateway] = []

    def start(database_url: str, **env: str) -> Gateway:
        gw = start_gateway(pki, database_url, tmp_path, **env)
        started.append(gw)
        return gw

    yield start
    for gw in started:
        gw.stop()


def refused_start(pki: Path, database_url: str, **env: str) -> tuple[int, str]:
    """Runs ``serve`` expecting it to give up: its exit status and everything it wrote."""
    environment = {**os.environ, "COPAY_LISTEN": "127.0.0.1:0", "COPAY_METRICS_LISTEN": "127.0.0.1:0",
                   "COPAY_DATABASE_URL": database_url, "COPAY_CERTS_DIR": str(pki), **env}
    done = subprocess.run([sys.executable, "-m", "gateway.cli", "serve"], env=environment, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=EXIT_SECONDS)
    return done.returncode, done.stdout


def the_sentence(output: str, naming: str) -> str:
    """The one line of ``output`` that names ``naming``; there is no traceback."""
    assert "Traceback" not in output, output
    lines = [line for line in output.splitlines() if naming in line]
    assert len(lines) == 1, output
    return lines[0]


def echo(gw: Gateway, cert: str = "region-320300") -> str:
    stub = diagnostics_pb2_grpc.DiagnosticsServiceStub(gw.channel(cert))
    return stub.Echo(diagnostics_pb2.EchoRequest(message="still here"), timeout=T).principal


def writer_pids(output: str) -> list[int]:
    return [json.loads(line)["pid"] for line in output.splitlines()
            if line.startswith("{") and '"msg": "database writer started"' in line]


def wait_gone(pid: int, seconds: float = 30) -> None:
    """Waits until process ``pid`` has exited (a zombie counts as exited)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return
        if state in ("Z", "X"):
            return
        time.sleep(0.02)
    raise AssertionError(f"process {pid} still runs {seconds}s on")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_second_gateway_on_a_busy_port_exits_with_one_sentence_and_the_first_keeps_serving(
        own_gateway, pki, tmp_path):
    first = own_gateway(f"sqlite:///{tmp_path / 'first.db'}")
    # gRPC sets SO_REUSEPORT unless told not to: then this second process would bind too and take a share
    # of the first one's connections. channel_options turns it off, so the bind must fail.
    status, output = refused_start(pki, f"sqlite:///{tmp_path / 'second.db'}", COPAY_LISTEN=first.address)
    assert status != 0, output
    assert first.address in the_sentence(output, "COPAY_LISTEN")
    for pid in writer_pids(output):  # the refused gateway took its writer process down with it
        wait_gone(pid)
    assert echo(first) == "region/320300"
    assert first.process.poll() is None


def test_second_gateway_on_the_same_sqlite_file_exits_with_one_sentence_and_the_first_keeps_serving(
        own_gateway, pki, tmp_path):
    url = f"sqlite:///{tmp_path / 'copay.db'}"
    first = own_gateway(url)
    status, output = refused_start(pki, url)
    assert status != 0, output
    sentence = the_sentence(output, "another gateway already serves")
    assert str(tmp_path / "copay.db") in sentence
    assert writer_pids(output) == []  # refused before it started a writer on that file
    assert echo(first) == "region/320300"
    listed = first.members().ListMembers(pb.ListMembersRequest(parent="regions/320300"), timeout=T)
    assert list(listed.members) == []
    assert first.process.poll() is None


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_sqlite_file_lock_is_released_when_its_gateway_stops(own_gateway, tmp_path, how):
    url = f"sqlite:///{tmp_path / 'copay.db'}"
    first = own_gateway(url)
    writer = first.writer_pid()
    first.process.send_signal(how)
    status = first.process.wait(timeout=30)
    assert status == (0 if how == signal.SIGTERM else -signal.SIGKILL)
    if how == signal.SIGKILL:
        # flock locks die with the process that held them, however it ended: nothing to clean up by hand.
        # (The orphaned writer sees its socket close and exits; it never held the lock file.)
        wait_gone(writer)
    second = own_gateway(url)  # raises unless it prints "listening"
    assert echo(second) == "region/320300"


@pytest.mark.parametrize("variable, value", [
    ("COPAY_MAX_CONCURRENT_RPCS", "abc"),
    ("COPAY_LISTEN", "nonsense"),
    ("COPAY_SQLITE_SYNCHRONOUS", "off"),
    ("COPAY_REQUEST_RETENTION_DAYS", "0"),
    ("COPAY_METRICS_LISTEN", "127.0.0.1"),
    ("COPAY_MAX_STREAMS_PER_PRINCIPAL", "0"),
    ("COPAY_STREAM_MAX_SECONDS", "-1"),
    ("COPAY_MAX_CONNECTIONS", "0"),
    ("COPAY_EVENT_LOOP", "tokio"),
])
def test_bad_setting_stops_the_gateway_with_one_line_naming_the_variable(pki, tmp_path, variable, value):
    status, output = refused_start(pki, f"sqlite:///{tmp_path / 'copay.db'}", **{variable: value})
    assert status != 0, output
    assert output.strip().splitlines() == [the_sentence(output, variable)]
    assert repr(value) in output


def test_an_unusable_database_url_option_stops_the_gateway_with_one_sentence(pki):
    """``?prepare_threshold=`` is read by the gateway (psycopg would take the text as it is): a value that is
    not a number or ``none`` stops ``serve`` before it connects."""
    status, output = refused_start(pki, "postgresql+psycopg://postgres@127.0.0.1/copay?prepare_threshold=some")
    assert status != 0, output
    assert output.strip().splitlines() == [the_sentence(output, "COPAY_DATABASE_URL")]
    assert "prepare_threshold='some' in the database URL: a whole number, or none" in output


def test_busy_metrics_port_stops_the_gateway_with_one_sentence_and_releases_the_grpc_port(pki, tmp_path):
    grpc_port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        metrics = f"127.0.0.1:{taken.getsockname()[1]}"
        status, output = refused_start(pki, f"sqlite:///{tmp_path / 'copay.db'}", COPAY_LISTEN=f"127.0.0.1:{grpc_port}",
                                       COPAY_METRICS_LISTEN=metrics)
    assert status != 0, output
    assert metrics in the_sentence(output, "COPAY_METRICS_LISTEN")
    for pid in writer_pids(output):
        wait_gone(pid)
    with socket.socket() as again:  # no SO_REUSEADDR: fails if anything still holds the gRPC port
        again.bind(("127.0.0.1", grpc_port))


# --- SQLite durability: PRAGMA synchronous (0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA) ---------------------------


def synchronous_in_writer(uow_factory) -> int:  # type: ignore[no-untyped-def]
    """Run by the writer process (it imports this module by name): its connection's PRAGMA synchronous."""
    with uow_factory() as uow:
        return uow._conn.exec_driver_sql("PRAGMA synchronous").scalar()


def test_settings_default_to_full_sync():
    assert Settings().sqlite_synchronous == "FULL"
    assert Settings.from_env({}).sqlite_synchronous == "FULL"
    assert Settings.from_env({"COPAY_SQLITE_SYNCHRONOUS": "normal"}).sqlite_synchronous == "NORMAL"


@pytest.mark.parametrize("given, pragma", [(None, 2), ("FULL", 2), ("NORMAL", 1), ("EXTRA", 3)])
def test_every_new_sqlite_connection_runs_the_chosen_synchronous(tmp_path, given, pragma):
    url = f"sqlite:///{tmp_path / 'copay.db'}"
    engine = make_engine(url) if given is None else make_engine(url, synchronous=given)
    try:
        # Two pooled connections at once (raw: no BEGIN IMMEDIATE), each set up by the connect hook.
        one, other = engine.raw_connection(), engine.raw_connection()
        try:
            assert [c.execute("PRAGMA synchronous").fetchone()[0] for c in (one, other)] == [pragma, pragma]
        finally:
            one.close()
            other.close()
    finally:
        engine.dispose()


@pytest.mark.parametrize("env, pragma", [({}, 2), ({"COPAY_SQLITE_SYNCHRONOUS": "NORMAL"}, 1)],
                         ids=["default", "NORMAL"])
def test_writer_process_connection_runs_the_configured_synchronous(tmp_path, env, pragma):
    """The real writer process (as serve() starts it, from Settings) on a real file."""
    url = f"sqlite:///{tmp_path / 'copay.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    settings = Settings.from_env({"COPAY_DATABASE_URL": url, **env})

    async def ask() -> int:
        writer = WriterProcess(settings.database_url, synchronous=settings.sqlite_synchronous)
        await writer.start()
        try:
            return await writer(synchronous_in_writer)
        finally:
            await writer.shutdown()

    assert asyncio.run(ask()) == pragma


@pytest.mark.parametrize("loop", ["uvloop", "asyncio"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_serve_runs_on_the_event_loop_chosen_and_settles_there(pki, tmp_path, request, backend, loop):
    """COPAY_EVENT_LOOP: the "listening" line names the loop the gateway runs on, and a settlement is paid on
    it, on either engine (on PostgreSQL its round trips wait on the loop: gateway.store.postgres.round_trip).
    The rest of the end-to-end tests run on the default, uvloop; the in-process ones on the standard loop."""
    url = f"sqlite:///{tmp_path / 'copay.db'}" if backend == "sqlite" else request.getfixturevalue("fresh_postgres")()
    gw = start_gateway(pki, url, tmp_path, COPAY_EVENT_LOOP=loop)
    try:
        listening = next(json.loads(line) for line in gw.log_path.read_text().splitlines()
                         if '"msg": "listening"' in line)
        assert listening["event_loop"] == loop
        world = World(gw)
        _, beneficiary, _ = world.family("420100", fen=5_000)
        settled = world.settle(world.claim(beneficiary, 3_000))
        assert (settled.mutual_aid_fen, settled.cash_fen) == (3_000, 0)
        with pytest.raises(grpc.RpcError) as short:
            world.settle(world.claim(beneficiary, 3_000))
        assert short.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    finally:
        status = gw.stop()
    assert status == 0 and '"msg": "stopped"' in gw.log_path.read_text()  # its connections closed on that loop
