"""Resource budgets of the real server: a certificate that names nobody can hold no slot; streams
have budgets of their own (per principal and in all), given back when a stream ends, and end
after stream_max_seconds; unary calls in flight are budgeted per principal and in all; TLS
connections are capped. Every wait is a poll with a deadline, never a sleep that decides the outcome."""

from __future__ import annotations

import re
import sqlite3
import threading
import urllib.request
import time
from datetime import date
from typing import Callable, TypeVar

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from gateway._proto.copay.v1 import diagnostics_pb2, diagnostics_pb2_grpc
from gateway._proto.copay.v1 import members_pb2 as pb
from gateway.sample import id_number
from tests.e2e.conftest import Gateway, details, start_gateway

pytestmark = pytest.mark.e2e
T = 10  # per-call deadline: generous, a refusal must come long before it
DEADLINE = 30  # for polls: what a loaded machine might need; an unloaded one needs well under a second
A, B, C = "region-320300", "region-320100", "region-110000"
SERVING = health_pb2.HealthCheckResponse.SERVING
R = TypeVar("R")


@pytest.fixture
def own_gateway(pki, tmp_path):
    """A gateway of the test's own on a fresh SQLite database, started with the test's settings."""
    started: list[Gateway] = []

    def start(**env: str) -> Gateway:
        gw = start_gateway(pki, f"sqlite:///{tmp_path / 'copay.db'}", tmp_path, **env)
        started.append(gw)
        return gw

    yield start
    for gw in started:
        gw.stop()


def echo(gw: Gateway, cert: str, channel: grpc.Channel | None = None) -> diagnostics_pb2.EchoResponse:
    stub = diagnostics_pb2_grpc.DiagnosticsServiceStub(channel or gw.channel(cert))
    return stub.Echo(diagnostics_pb2.EchoRequest(message="hello"), timeout=T)


def watch(channel: grpc.Channel, timeout: float = DEADLINE):  # type: ignore[no-untyped-def]
    return health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(), timeout=timeout)


def refused(attempt: Callable[[], object]) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as err:
        attempt()
    return err.value


def reason(err: grpc.RpcError) -> str | None:
    info, _ = details(err)
    return info.reason if info else None


def poll(attempt: Callable[[], R], deadline: float = DEADLINE, retry_on: tuple[grpc.StatusCode, ...] = ()) -> R:
    """``attempt()`` until it returns a value, retrying only on RpcErrors with a code in ``retry_on``."""
    until = time.monotonic() + deadline
    while True:
        try:
            return attempt()
        except grpc.RpcError as err:
            if err.code() not in retry_on or time.monotonic() > until:
                raise
        time.sleep(0.02)


def own_connection(gw: Gateway, cert: str) -> grpc.Channel:
    """A channel whose TLS connection no other channel shares (gw.channel's may share one)."""
    creds = grpc.ssl_channel_credentials(root_certificates=(gw.pki / "ca.pem").read_bytes(),
                                         private_key=(gw.pki / f"{cert}-key.pem").read_bytes(),
                                         certificate_chain=(gw.pki / f"{cert}.pem").read_bytes())
    channel = grpc.secure_channel(gw.address, creds, options=[
        ("grpc.ssl_target_name_override", "localhost"), ("grpc.use_local_subchannel_pool", 1)])
    gw.channels.append(channel)
    return channel


def open_watch(channel: grpc.Channel):  # type: ignore[no-untyped-def]
    """An admitted Watch stream, after its first message (SERVING)."""
    stream = watch(channel)
    assert next(stream).status == SERVING
    return stream


# --- a certificate naming nobody -------------------------------------------------------------------------


def test_watch_streams_of_a_certificate_naming_nobody_are_refused_at_once_and_hold_no_slot(own_gateway):
    """The review's attack: health Watch needs no principal in gRPC's own servicer, so 256 of them from a
    valid certificate that names nobody would hold every slot of maximum_concurrent_rpcs for ever."""
    gw = own_gateway(COPAY_MAX_CONCURRENT_RPCS="128")  # gRPC's own limit: twice that, as many as the streams
    nobody = own_connection(gw, "nobody")
    started = time.monotonic()
    streams = [watch(nobody) for _ in range(256)]  # each RPC starts at once, in the background
    # While they are tried, a region is served: nothing of theirs holds a slot.
    assert echo(gw, A).principal == "region/320300"
    members = gw.members(A).ListMembers(pb.ListMembersRequest(parent="regions/320300"), timeout=T)
    assert list(members.members) == []
    codes = [stream.code() for stream in streams]  # code() waits for each stream's end
    assert codes == [grpc.StatusCode.UNAUTHENTICATED] * 256
    assert time.monotonic() - started < DEADLINE  # ended by the server, not by their own 30 s deadline
    assert reason(refused(lambda: next(watch(nobody)))) == "UNKNOWN_PRINCIPAL"
    # None of the 256 was left holding a slot: a region still gets every one of its calls through.
    assert echo(gw, A).principal == "region/320300"
    assert gw.members(A).ListMembers(pb.ListMembersRequest(parent="regions/320300"), timeout=T) == members


def test_certificate_naming_nobody_may_only_call_health_check(own_gateway):
    gw = own_gateway()
    nobody = gw.channel("nobody")
    check = health_pb2_grpc.HealthStub(nobody).Check(health_pb2.HealthCheckRequest(), timeout=T)
    assert check.status == SERVING

    err = refused(lambda: echo(gw, "nobody", nobody))
    assert (err.code(), reason(err)) == (grpc.StatusCode.UNAUTHENTICATED, "UNKNOWN_PRINCIPAL")

    def list_services(channel: grpc.Channel) -> list[str]:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        answers = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]),
                                            timeout=T)
        return [s.name for answer in answers for s in answer.list_services_response.service]

    err = refused(lambda: list_services(nobody))
    assert (err.code(), reason(err)) == (grpc.StatusCode.UNAUTHENTICATED, "UNKNOWN_PRINCIPAL")
    assert "copay.v1.DiagnosticsService" in list_services(gw.channel(A))  # a region may reflect


# --- stream budgets ---------------------------------------------------------------------------------------


def test_streams_per_principal_are_budgeted_and_given_back_when_one_is_cancelled(own_gateway):
    gw = own_gateway(COPAY_MAX_STREAMS_PER_PRINCIPAL="2")
    a = gw.channel(A)
    first, second = open_watch(a), open_watch(a)
    started = time.monotonic()
    err = refused(lambda: next(watch(a)))
    assert (err.code(), reason(err)) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "TOO_MANY_STREAMS")
    assert time.monotonic() - started < DEADLINE  # at once, not at the stream's deadline
    other = open_watch(gw.channel(B))  # another region has a budget of its own
    assert echo(gw, A).principal == "region/320300"  # streams never take the calls' budget

    first.cancel()
    # The server gives the stream back when it sees the cancellation: poll for it, no sleep.
    again = poll(lambda: open_watch(a), retry_on=(grpc.StatusCode.RESOURCE_EXHAUSTED,))
    for stream in (second, other, again):
        stream.cancel()


def test_streams_in_all_are_budgeted(own_gateway):
    gw = own_gateway(COPAY_MAX_STREAMS="3", COPAY_MAX_STREAMS_PER_PRINCIPAL="2")
    a, b, c = gw.channel(A), gw.channel(B), gw.channel(C)
    held = [open_watch(a), open_watch(a), open_watch(b)]
    for channel in (b, c):  # b holds 1 of its 2 and c none: it is the total of 3 that refuses them
        err = refused(lambda: next(watch(channel)))
        assert (err.code(), reason(err)) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "TOO_MANY_STREAMS")
    held.pop(0).cancel()
    held.append(poll(lambda: open_watch(c), retry_on=(grpc.StatusCode.RESOURCE_EXHAUSTED,)))
    for stream in held:
        stream.cancel()


def test_a_stream_ends_by_itself_after_stream_max_seconds_and_gives_its_budget_back(own_gateway):
    gw = own_gateway(COPAY_STREAM_MAX_SECONDS="1", COPAY_MAX_STREAMS_PER_PRINCIPAL="1")
    a = gw.channel(A)
    started = time.monotonic()
    stream = watch(a, timeout=DEADLINE)  # the client's own deadline is far away
    statuses = [answer.status for answer in stream]  # ends without raising: the server closes it OK
    took = time.monotonic() - started
    assert statuses == [SERVING]
    assert stream.code() == grpc.StatusCode.OK
    assert 0.9 <= took < 30, took  # ~1 s; bounded generously for a loaded machine
    poll(lambda: open_watch(a), retry_on=(grpc.StatusCode.RESOURCE_EXHAUSTED,)).cancel()


def test_a_reflection_stream_kept_open_ends_after_stream_max_seconds(own_gateway):
    """Reflection is a bidi stream whose handler is an async generator (the other path of the call stack
    than Watch): with the client still sending, the server ends it by itself, OK, after ~1 s."""
    gw = own_gateway(COPAY_STREAM_MAX_SECONDS="1")
    release = threading.Event()

    def asking():  # one question, then the request side stays open until the test is done
        yield reflection_pb2.ServerReflectionRequest(list_services="")
        release.wait(DEADLINE)

    stub = reflection_pb2_grpc.ServerReflectionStub(gw.channel(A))
    try:
        started = time.monotonic()
        stream = stub.ServerReflectionInfo(asking(), timeout=10)  # the client's own deadline: 10 s
        answers = list(stream)  # ends without raising: the server closes it OK
        took = time.monotonic() - started
    finally:
        release.set()
    assert [len(a.list_services_response.service) > 0 for a in answers] == [True]
    assert stream.code() == grpc.StatusCode.OK
    assert 0.9 <= took < 9, took  # ~1 s; a stream the server forgot to end would last to the 10 s deadline


# --- calls in flight per principal ------------------------------------------------------------------------


def test_calls_in_flight_are_budgeted_per_principal(own_gateway, tmp_path):
    gw = own_gateway(COPAY_MAX_CALLS_PER_PRINCIPAL="1")
    echo(gw, A)  # the gateway serves A
    lock = sqlite3.connect(tmp_path / "copay.db", isolation_level=None)
    # While the test holds SQLite's write lock, the gateway's writer waits for it (up to its 10 s busy
    # timeout), so A's write below stays in flight, with no timing luck, until the ROLLBACK.
    lock.execute("BEGIN IMMEDIATE")
    try:
        request = pb.BatchUpsertMembersRequest(parent="regions/320300", request_id="held", members=[
            pb.MemberRecord(psn_no="H1", id_number=id_number("320300", date(1990, 1, 1), 1),
                            insuring_region="320300", insurance_type=pb.INSURANCE_TYPE_EMPLOYEE,
                            enrolment_status=pb.ENROLMENT_STATUS_NORMAL)])
        held = gw.members(A).BatchUpsertMembers.future(request, timeout=60)
        a = gw.channel(A)

        def refused_while_held() -> grpc.RpcError:
            try:
                echo(gw, A, a)
            except grpc.RpcError as err:
                return err
            raise _NotYet()  # A's write has not reached the server yet

        until = time.monotonic() + 8  # well inside the writer's 10 s busy timeout
        while True:
            try:
                err = refused_while_held()
                break
            except _NotYet:
                assert time.monotonic() < until, "A's held call never counted against A's budget"
                assert not held.done(), held
                time.sleep(0.01)
        assert (err.code(), reason(err)) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "TOO_MANY_CALLS")
        assert echo(gw, B).principal == "region/320100"  # B's budget is its own (Echo needs no database)
        assert not held.done()
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    assert held.result().members[0].psn_no == "H1"
    assert echo(gw, A, a).principal == "region/320300"  # the finished call gave its slot back


class _NotYet(Exception):
    pass


def test_calls_in_flight_are_budgeted_in_all_and_a_refusal_is_logged_and_counted(own_gateway, tmp_path):
    """COPAY_MAX_CONCURRENT_RPCS less COPAY_MAX_STREAMS is what calls may hold at once, whoever calls: one
    more is refused by the call stack, with its line and its count (gRPC's own limit, which would refuse it
    unseen, is set higher); streams keep their own budget; the slots come back when the calls end."""
    gw = own_gateway(COPAY_MAX_CONCURRENT_RPCS="3", COPAY_MAX_STREAMS="1")  # calls: 2 in all
    echo(gw, C)
    lock = sqlite3.connect(tmp_path / "copay.db", isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")  # A's and B's writes below wait in the writer until the ROLLBACK
    try:
        held = [gw.members(cert).BatchUpsertMembers.future(pb.BatchUpsertMembersRequest(
            parent=f"regions/{region}", request_id=f"held-{region}", members=[pb.MemberRecord(
                psn_no="H1", id_number=id_number(region, date(1990, 1, 1), 1), insuring_region=region,
                insurance_type=pb.INSURANCE_TYPE_EMPLOYEE, enrolment_status=pb.ENROLMENT_STATUS_NORMAL)]),
            timeout=60) for cert, region in ((A, "320300"), (B, "320100"))]
        c = gw.channel(C)
        until = time.monotonic() + 8  # well inside the writer's 10 s busy timeout
        while True:  # C's echoes are served until both held calls have reached the call stack
            try:
                echo(gw, C, c)
            except grpc.RpcError as err:
                refusal = err
                break
            assert time.monotonic() < until, "the held calls never counted against the gateway's budget"
            time.sleep(0.01)
        assert (refusal.code(), reason(refusal)) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "TOO_MANY_CALLS")
        assert refusal.details() == "the gateway has 2 calls in flight already; retry later"
        open_watch(c).cancel()  # a stream is not a call: its own budget admits it
        assert not any(call.done() for call in held)
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    assert [call.result().members[0].psn_no for call in held] == ["H1", "H1"]
    line = gw.logged("/copay.v1.DiagnosticsService/Echo", "RESOURCE_EXHAUSTED")[-1]
    assert (line["principal"], line["reason"]) == ("region/110000", "TOO_MANY_CALLS")
    body = urllib.request.urlopen(f"http://127.0.0.1:{gw.metrics_port}/metrics", timeout=T).read().decode()
    assert re.search(r'^copay_rpc_refusals_total\{method="/copay\.v1\.DiagnosticsService/Echo",'
                     r'reason="TOO_MANY_CALLS",rule=""\} [1-9]', body, re.M), body
    assert poll(lambda: echo(gw, C, c), retry_on=(grpc.StatusCode.RESOURCE_EXHAUSTED,)).principal == "region/110000"


# --- TLS connections --------------------------------------------------------------------------------------


def test_connections_beyond_the_cap_are_closed_and_a_closed_one_makes_room(own_gateway):
    """grpc.max_allowed_incoming_connections (gRPC 1.85): a connection beyond the cap is closed by the
    server during the TLS handshake, so its calls fail UNAVAILABLE; the ones within the cap keep working."""
    gw = own_gateway(COPAY_MAX_CONNECTIONS="2")
    first, second, third = own_connection(gw, A), own_connection(gw, A), own_connection(gw, A)
    assert echo(gw, A, first).principal == echo(gw, A, second).principal == "region/320300"
    err = refused(lambda: echo(gw, A, third))
    assert err.code() == grpc.StatusCode.UNAVAILABLE
    assert echo(gw, A, first) and echo(gw, A, second)  # both still connected and served
    assert refused(lambda: echo(gw, A, third)).code() == grpc.StatusCode.UNAVAILABLE

    first.close()
    # The third channel reconnects on its own backoff (~1 s); once the server has seen the close, it gets in.
    assert poll(lambda: echo(gw, A, third), retry_on=(grpc.StatusCode.UNAVAILABLE,)).principal == "region/320300"
    assert echo(gw, A, second).principal == "region/320300"


def test_a_connection_that_does_not_finish_its_tls_handshake_is_closed(own_gateway):
    """gRPC's default would keep it for 120 s; the gateway gives a handshake 5 s (HANDSHAKE_TIMEOUT_MS)."""
    import socket

    from gateway.server import HANDSHAKE_TIMEOUT_MS

    gw = own_gateway()
    host, port = gw.address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as idle:
        idle.settimeout(HANDSHAKE_TIMEOUT_MS / 1000 * 6)
        started = time.monotonic()
        try:
            closed = idle.recv(1) == b""  # sends nothing: the server must hang up
        except ConnectionResetError:
            closed = True
        assert closed and time.monotonic() - started < HANDSHAKE_TIMEOUT_MS / 1000 * 4


def test_a_connection_is_asked_to_reconnect_after_max_connection_age(own_gateway):
    """COPAY_MAX_CONNECTION_AGE_SECONDS (gRPC's max_connection_age): the server ends an old connection (a
    GOAWAY), the client's channel goes idle, and its next call opens a new connection and is served: behind a
    TCP balancer, that is what spreads callers over the gateways again."""
    gw = own_gateway(COPAY_MAX_CONNECTION_AGE_SECONDS="1")
    channel = own_connection(gw, A)
    states: list[grpc.ChannelConnectivity] = []
    idle_after_ready = threading.Event()

    def seen(state: grpc.ChannelConnectivity) -> None:
        states.append(state)
        if state == grpc.ChannelConnectivity.IDLE and grpc.ChannelConnectivity.READY in states:
            idle_after_ready.set()

    channel.subscribe(seen)
    try:
        started = time.monotonic()
        assert echo(gw, A, channel).principal == "region/320300"
        assert idle_after_ready.wait(DEADLINE), states  # the default (30 minutes) would keep it READY
        assert time.monotonic() - started >= 0.8  # not before its age (1 s, gRPC's jitter at most 10%)
        assert echo(gw, A, channel).principal == "region/320300"  # a new connection, served as the first
    finally:
        channel.unsubscribe(seen)
