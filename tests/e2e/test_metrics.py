"""The metrics listener of the real server: the standard grpc_server_* metrics, the gateway's copay_*
ones, the process and Python collectors, and the probes (/healthz, /readyz; anything else 404),
including /readyz failing when the database goes away or the SQLite writer dies."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
import urllib.error
import urllib.request
from typing import Callable

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from gateway._proto.copay.v1 import diagnostics_pb2, diagnostics_pb2_grpc
from gateway._proto.copay.v1 import settlements_pb2 as spb
from tests.e2e.conftest import start_gateway
from tests.e2e.world import RESIDENT, T, World, refused

pytestmark = pytest.mark.e2e
DEADLINE = 20.0  # seconds any change awaited here may take (readiness is checked every second)
ECHO = {"grpc_service": "copay.v1.DiagnosticsService", "grpc_method": "Echo", "grpc_type": "unary"}
WATCH = {"grpc_service": "grpc.health.v1.Health", "grpc_method": "Watch", "grpc_type": "server_stream"}
REFLECT = {"grpc_service": "grpc.reflection.v1alpha.ServerReflection", "grpc_method": "ServerReflectionInfo",
           "grpc_type": "bidi_stream"}


def get(gateway, path: str) -> tuple[int, str, str]:
    """(status, body, content type) of a GET on the metrics listener."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{gateway.metrics_port}{path}", timeout=T) as answer:
            return answer.status, answer.read().decode(), answer.headers["Content-Type"]
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), error.headers["Content-Type"]


class Samples(dict):
    """One scrape: {(sample name, frozenset of labels): value}."""

    def __call__(self, name: str, **labels: str) -> float:
        return self.get((name, frozenset(labels.items())), 0.0)

    def names(self) -> set[str]:
        return {name for name, _ in self}


def scrape(gateway) -> Samples:
    status, body, _ = get(gateway, "/metrics")
    assert status == 200
    return Samples({(s.name, frozenset(s.labels.items())): s.value
                    for family in text_string_to_metric_families(body) for s in family.samples})


def until(what: Callable[[], object], deadline: float = DEADLINE) -> object:
    """Polls ``what`` until it answers something true, or fails at the deadline with its last answer."""
    end = time.monotonic() + deadline
    while True:
        answer = what()
        if answer or time.monotonic() > end:
            assert answer, f"not within {deadline} s; last: {answer!r}"
            return answer
        time.sleep(0.05)


def scraped_when(gateway, holds: Callable[[Samples], bool]) -> Samples:
    """The first scrape for which ``holds`` is true (polling until the deadline)."""
    def attempt() -> Samples | None:
        now = scrape(gateway)
        return now if holds(now) else None
    return until(attempt)  # type: ignore[return-value]


def counted(gateway, name: str, before: float, delta: float, also: Callable[[Samples], bool] = lambda _: True,
            **labels: str) -> Samples:
    """The scrape in which ``name{labels}`` has moved by ``delta`` since ``before`` and ``also`` holds: a call's
    status reaches the client just before the gateway counts it, and a scrape, which reads the methods' counts
    one after another and the refusals after them, may fall between two updates of one call."""
    return scraped_when(gateway, lambda now: now(name, **labels) == before + delta and also(now))


@pytest.fixture(scope="module")
def world(gateway):
    return World(gateway)


def echo(gateway, message: str = "hi") -> diagnostics_pb2.EchoResponse:
    return diagnostics_pb2_grpc.DiagnosticsServiceStub(gateway.channel()).Echo(
        diagnostics_pb2.EchoRequest(message=message), timeout=T)


def settled(gateway, labels: dict[str, str]) -> Samples:
    """A scrape in which every call of the method that started has been counted as handled."""
    return scraped_when(gateway, lambda now: now("grpc_server_started_total", **labels) == sum(
        v for (name, keys), v in now.items() if name == "grpc_server_handled_total" and set(labels.items()) <= keys))


def test_one_echo_moves_each_grpc_server_metric_by_one(gateway):
    echo(gateway)  # the method's labels exist from here on
    before = settled(gateway, ECHO)
    handled = before("grpc_server_handled_total", grpc_code="OK", **ECHO)
    echo(gateway)
    moved = ("grpc_server_started_total", "grpc_server_msg_received_total", "grpc_server_msg_sent_total",
             "grpc_server_handling_seconds_count")
    in_flight = {"grpc_service": ECHO["grpc_service"], "grpc_method": "Echo"}
    after = counted(gateway, "grpc_server_handled_total", handled, 1, grpc_code="OK", **ECHO,
                    also=lambda now: all(now(name, **ECHO) == before(name, **ECHO) + 1 for name in moved)
                    and now("copay_rpc_in_flight", **in_flight) == 0)
    assert after("grpc_server_handling_seconds_bucket", le="+Inf", **ECHO) == after(
        "grpc_server_handling_seconds_count", **ECHO)
    assert "copay_rpc_calls_total" not in after.names() and "copay_rpc_latency_seconds_count" not in after.names()


def test_the_exposition_reads_as_go_grpc_prometheus_does(gateway):
    echo(gateway)
    _, body, content_type = get(gateway, "/metrics")
    assert content_type.startswith("text/plain")
    assert ('grpc_server_handled_total{grpc_code="OK",grpc_method="Echo",grpc_service="copay.v1.DiagnosticsService",'
            'grpc_type="unary"}') in body
    for name, kind in [("grpc_server_started_total", "counter"), ("grpc_server_handled_total", "counter"),
                       ("grpc_server_handling_seconds", "histogram"), ("grpc_server_msg_received_total", "counter"),
                       ("grpc_server_msg_sent_total", "counter"), ("copay_rpc_in_flight", "gauge")]:
        assert f"# TYPE {name} {kind}\n" in body, name


def test_a_refusal_is_counted_with_its_code_reason_and_rule(gateway, world):
    beneficiary, _ = world.member("420100", kind=RESIDENT)  # no binding: nobody may pay for them (R10)
    settle = {"grpc_service": "copay.v1.SettlementsService", "grpc_method": "Settle", "grpc_type": "unary"}
    refusal = {"method": "/copay.v1.SettlementsService/Settle", "reason": "NO_ACTIVE_BINDING", "rule": "R10"}
    before = scrape(gateway)
    code, reason, meta, _ = refused(world.settlements("420100").Settle, spb.SettleRequest(
        request_id=world.next_id("metrics"), claim=world.claim(beneficiary, 1_000)))
    assert (code, reason, meta.get("rule")) == (grpc.StatusCode.FAILED_PRECONDITION, "NO_ACTIVE_BINDING", "R10")
    handled = {"grpc_code": "FAILED_PRECONDITION", **settle}
    after = counted(gateway, "copay_rpc_refusals_total", before("copay_rpc_refusals_total", **refusal), 1, **refusal,
                    also=lambda now: now("grpc_server_handled_total", **handled) == before(
                        "grpc_server_handled_total", **handled) + 1)
    assert after("grpc_server_msg_sent_total", **settle) == before("grpc_server_msg_sent_total", **settle)


def test_money_settled_and_refunded_is_counted_by_use_once_per_request(gateway, world):
    grantor, beneficiary, _ = world.family("420100", fen=20_000)
    use = {"use": "USE_OUTPATIENT"}
    before = scrape(gateway)
    request_id = world.next_id("metrics-settle")
    paid = world.settle(world.claim(beneficiary, 5_000), request_id=request_id)
    assert paid.mutual_aid_fen == 5_000
    again = world.settle(world.claim(beneficiary, 5_000), request_id=request_id)  # a retry: the same answer
    assert again.name == paid.name
    stub = world.settlements("420100")
    reverse = spb.ReverseSettlementRequest(name=paid.name, request_id=world.next_id("metrics-rv"), amount_fen=2_000)
    assert stub.ReverseSettlement(reverse, timeout=T).refunded_fen == 2_000
    assert stub.ReverseSettlement(reverse, timeout=T).refunded_fen == 2_000  # a retry
    after = scrape(gateway)  # counted before the answer is sent: no waiting
    assert after("copay_settled_fen_total", **use) - before("copay_settled_fen_total", **use) == 5_000
    assert after("copay_refunded_fen_total", **use) - before("copay_refunded_fen_total", **use) == 2_000


def test_streams_count_their_messages_and_are_in_flight_while_open(gateway):
    watch = health_pb2_grpc.HealthStub(gateway.channel()).Watch(health_pb2.HealthCheckRequest(), timeout=30)
    assert next(watch).status == health_pb2.HealthCheckResponse.SERVING
    in_flight = {"grpc_service": WATCH["grpc_service"], "grpc_method": "Watch"}
    during = scraped_when(gateway, lambda now: now("grpc_server_msg_sent_total", **WATCH) == 1)
    assert during("copay_rpc_in_flight", **in_flight) == 1  # (the SERVING message: written with context.write)
    assert during("grpc_server_started_total", **WATCH) == 1
    assert during("grpc_server_msg_received_total", **WATCH) == 1
    watch.cancel()
    counted(gateway, "grpc_server_handled_total", 0, 1, grpc_code="CANCELLED", **WATCH,
            also=lambda now: now("copay_rpc_in_flight", **in_flight) == 0)

    stub = reflection_pb2_grpc.ServerReflectionStub(gateway.channel())
    before = scrape(gateway)
    asked = [reflection_pb2.ServerReflectionRequest(list_services=""),
             reflection_pb2.ServerReflectionRequest(file_containing_symbol="copay.v1.DiagnosticsService")]
    assert len(list(stub.ServerReflectionInfo(iter(asked), timeout=T))) == 2
    after = counted(gateway, "grpc_server_handled_total", before("grpc_server_handled_total", grpc_code="OK",
                    **REFLECT), 1, grpc_code="OK", **REFLECT)
    for name in ("grpc_server_msg_received_total", "grpc_server_msg_sent_total"):
        assert after(name, **REFLECT) - before(name, **REFLECT) == 2, name


def test_the_process_and_python_runtime_are_measured(gateway):
    names = scrape(gateway).names()
    assert {"process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds",
            "process_start_time_seconds", "python_info", "python_gc_objects_collected_total"} <= names


def test_probes_answer_and_other_paths_are_not_found(gateway):
    assert get(gateway, "/healthz")[:2] == (200, "ok\n")
    assert until(lambda: get(gateway, "/readyz")[:2] == (200, "ok\n"))
    assert get(gateway, "/metrics")[0] == 200
    assert get(gateway, "/other")[0] == 404
    assert get(gateway, "/")[0] == 404
    assert get(gateway, "/metricsz")[0] == 404


def test_readyz_fails_while_the_postgresql_database_refuses_connections(pki, postgres_server, fresh_postgres,
                                                                        tmp_path):
    url = fresh_postgres()
    name = make_url(url).database
    gw = start_gateway(pki, url, tmp_path)
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    try:
        assert until(lambda: get(gw, "/readyz")[:2] == (200, "ok\n"))
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
                         {"name": name})
        status, body, _ = until(lambda: (answer := get(gw, "/readyz"))[0] == 503 and answer)  # type: ignore
        assert body.startswith("database: unreachable"), body
        assert get(gw, "/healthz")[:2] == (200, "ok\n")  # alive: a restart would not bring the database back
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        assert until(lambda: get(gw, "/readyz")[:2] == (200, "ok\n"))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()
        gw.stop()


def test_readyz_fails_when_the_sqlite_writer_dies(pki, tmp_path):
    # A generous grace period and an open stream: the gateway, stopping because its writer died,
    # waits for the stream, so /readyz is there to be read until the test closes it.
    gw = start_gateway(pki, f"sqlite:///{tmp_path / 'copay.db'}", tmp_path, COPAY_SHUTDOWN_GRACE_SECONDS="60")
    try:
        watch = health_pb2_grpc.HealthStub(gw.channel()).Watch(health_pb2.HealthCheckRequest(), timeout=60)
        assert next(watch).status == health_pb2.HealthCheckResponse.SERVING
        assert until(lambda: get(gw, "/readyz")[:2] == (200, "ok\n"))
        os.kill(gw.writer_pid(), signal.SIGKILL)
        status, body, _ = until(lambda: (answer := get(gw, "/readyz"))[0] == 503 and answer)  # type: ignore
        assert "writer: the SQLite writer process is not running\n" in body, body
        assert until(lambda: "shutdown: the gateway is shutting down\n" in get(gw, "/readyz")[1])
        watch.cancel()
        assert gw.process.wait(timeout=DEADLINE) == 1  # for its supervisor to restart it
    finally:
        gw.stop()


def test_readyz_fails_while_the_database_is_not_at_this_gateways_migrations(pki, tmp_path):
    path = tmp_path / "copay.db"
    gw = start_gateway(pki, f"sqlite:///{path}", tmp_path)
    try:
        assert until(lambda: get(gw, "/readyz")[:2] == (200, "ok\n"))
        with sqlite3.connect(path, timeout=10) as conn:  # as if a newer gateway had migrated the database
            head = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
            conn.execute("UPDATE alembic_version SET version_num = 'from_a_newer_gateway'")
        status, body, _ = until(lambda: (answer := get(gw, "/readyz"))[0] == 503 and answer)  # type: ignore
        assert body == f"migrations: the database is at from_a_newer_gateway, this gateway's head is {head}\n"
        with sqlite3.connect(path, timeout=10) as conn:
            conn.execute("UPDATE alembic_version SET version_num = ?", (head,))
        assert until(lambda: get(gw, "/readyz")[:2] == (200, "ok\n"))
    finally:
        gw.stop()


@pytest.mark.parametrize("protobuf", ["upb", "python"])
def test_a_calls_log_line_names_its_request_id_whichever_protobuf_parses_it(pki, tmp_path, protobuf):
    """The call stack decides once per method whether its request has a request_id, from the parser's class;
    protobuf's pure-Python implementation does not say (its FromString is a static method), and the field is
    then read from each request. Either way the line names the request."""
    from gateway._proto.copay.v1 import settlements_pb2_grpc

    gw = start_gateway(pki, f"sqlite:///{tmp_path / 'copay.db'}", tmp_path,
                       PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=protobuf)
    try:
        stub = settlements_pb2_grpc.SettlementsServiceStub(gw.channel())
        with pytest.raises(grpc.RpcError) as err:  # no claim: refused after parsing, the request id known
            stub.Settle(spb.SettleRequest(request_id=f"logged-{protobuf}"), timeout=T)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        [line] = gw.calls(f"logged-{protobuf}")
        assert (line["method"], line["code"]) == ("/copay.v1.SettlementsService/Settle", "INVALID_ARGUMENT")
    finally:
        gw.stop()
