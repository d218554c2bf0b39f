"""mTLS refusals, limits and graceful shutdown of the real server."""

from __future__ import annotations

import json
import signal
import threading
from collections import Counter

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway._proto.copay.v1 import diagnostics_pb2, diagnostics_pb2_grpc
from gateway._proto.copay.v1 import members_pb2 as pb
from gateway._proto.copay.v1 import members_pb2_grpc
from tests.e2e.conftest import start_gateway

pytestmark = pytest.mark.e2e
T = 5


@pytest.fixture
def own_gateway(pki, tmp_path):
    """A gateway of the test's own on a fresh SQLite database; started by the test with its settings."""
    started = []

    def start(**env):
        gw = start_gateway(pki, f"sqlite:///{tmp_path / 'copay.db'}", tmp_path, **env)
        started.append(gw)
        return gw

    yield start
    for gw in started:
        gw.stop()


@pytest.mark.parametrize("cert, ca", [(None, "ca.pem"), ("foreign-region-320300", "ca.pem"),
                                      ("expired-region-320300", "ca.pem")])
def test_untrusted_clients_are_refused_at_the_handshake(gateway, cert, ca):
    with pytest.raises(grpc.RpcError) as err:
        gateway.members(cert).ListMembers(pb.ListMembersRequest(parent="regions/320300"), timeout=T)
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE


def test_client_that_does_not_trust_the_server_is_refused(gateway):
    stub = members_pb2_grpc.MembersServiceStub(gateway.channel("region-320300", ca="foreign-ca.pem"))
    with pytest.raises(grpc.RpcError) as err:
        stub.ListMembers(pb.ListMembersRequest(parent="regions/320300"), timeout=T)
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE


def test_a_stream_takes_a_streams_slot_of_the_concurrency_limit_never_a_calls(own_gateway):
    """COPAY_MAX_CONCURRENT_RPCS 2, of which COPAY_MAX_STREAMS 1: the one stream open, a call is still served
    (the calls' budget in all is tested in test_budgets); a second stream is refused."""
    gw = own_gateway(COPAY_MAX_CONCURRENT_RPCS="2", COPAY_MAX_STREAMS="1")
    health = health_pb2_grpc.HealthStub(gw.channel())
    watch = health.Watch(health_pb2.HealthCheckRequest(), timeout=30)
    assert next(watch).status == health_pb2.HealthCheckResponse.SERVING  # holds the streams' one slot
    gw.members().ListMembers(pb.ListMembersRequest(parent="regions/320300"), timeout=T)  # served
    with pytest.raises(grpc.RpcError) as err:
        next(health.Watch(health_pb2.HealthCheckRequest(), timeout=T))
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    watch.cancel()


def test_oversized_message_is_refused(own_gateway):
    gw = own_gateway(COPAY_MAX_MESSAGE_BYTES="20000")
    huge = pb.BatchUpsertMembersRequest(parent="regions/320300", request_id="big",
                                        members=[pb.MemberRecord(psn_no="x" * 30000)])
    with pytest.raises(grpc.RpcError) as err:
        gw.members().BatchUpsertMembers(huge, timeout=T)
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


def test_successes_beyond_the_log_budget_are_counted_and_every_call_accounted_for(own_gateway):
    """COPAY_LOG_OK_LINES_PER_SECOND through the real server: of 20 quick successful calls, at most 2 a second
    are written; the others are summed up per second (by the next line, a timer, or the clean stop); a
    refusal among them is written whatever the budget."""
    gw = own_gateway(COPAY_LOG_OK_LINES_PER_SECOND="2")
    echo = diagnostics_pb2_grpc.DiagnosticsServiceStub(gw.channel())
    for _ in range(20):
        assert echo.Echo(diagnostics_pb2.EchoRequest(message="hi"), timeout=T).principal == "region/320300"
    with pytest.raises(grpc.RpcError) as refused:
        gw.members().GetMember(pb.GetMemberRequest(name="regions/320300/members/NOBODY"), timeout=T)
    assert refused.value.code() == grpc.StatusCode.NOT_FOUND
    assert gw.stop() == 0
    entries = [json.loads(line) for line in gw.log().splitlines() if line.startswith("{")]
    method = "/copay.v1.DiagnosticsService/Echo"
    written = [e for e in entries if e.get("msg") == "rpc" and e.get("method") == method]
    summed = [e for e in entries if e.get("msg") == "rpc lines not written"]
    assert summed and all(e["method"] == method and e["code"] == "OK" for e in summed)
    assert len(written) + sum(e["calls"] for e in summed) == 20
    per_second = Counter(e["ts"][:19] for e in written)
    assert max(per_second.values()) <= 2
    assert [e["code"] for e in entries if e.get("msg") == "rpc" and e.get("method").endswith("/GetMember")] == \
        ["NOT_FOUND"]


def test_sigterm_turns_health_not_serving_and_exits_cleanly(own_gateway):
    gw = own_gateway(COPAY_SHUTDOWN_GRACE_SECONDS="3")
    watch = health_pb2_grpc.HealthStub(gw.channel()).Watch(health_pb2.HealthCheckRequest(), timeout=30)
    assert next(watch).status == health_pb2.HealthCheckResponse.SERVING
    statuses = []
    reader = threading.Thread(target=lambda: statuses.extend(r.status for r in _until_closed(watch)))
    reader.start()
    gw.process.send_signal(signal.SIGTERM)
    assert gw.process.wait(timeout=20) == 0
    reader.join(timeout=10)
    assert health_pb2.HealthCheckResponse.NOT_SERVING in statuses
    assert '"msg": "shutting down"' in gw.log() and '"msg": "stopped"' in gw.log()


def _until_closed(stream):
    try:
        yield from stream
    except grpc.RpcError:
        return


def test_sigterm_lets_an_in_flight_call_finish(own_gateway, tmp_path):
    import sqlite3
    import time
    from datetime import date

    from gateway.sample import id_number

    gw = own_gateway(COPAY_SHUTDOWN_GRACE_SECONDS="10")
    lock = sqlite3.connect(tmp_path / "copay.db", isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")  # the gateway's write now waits for this lock
    request = pb.BatchUpsertMembersRequest(parent="regions/320300", request_id="in-flight", members=[
        pb.MemberRecord(psn_no="F1", id_number=id_number("320300", date(1990, 1, 1), 1), insuring_region="320300",
                        insurance_type=pb.INSURANCE_TYPE_EMPLOYEE, enrolment_status=pb.ENROLMENT_STATUS_NORMAL)])
    call = gw.members().BatchUpsertMembers.future(request, timeout=20)
    time.sleep(1.0)  # let the call reach the server and block on the lock
    gw.process.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    lock.execute("ROLLBACK")
    assert call.result().members[0].psn_no == "F1"
    assert gw.process.wait(timeout=20) == 0


def _refused_handshakes(gateway, reason: str, seconds: float = 10.0) -> list[dict]:
    """The gateway's JSON log lines of refused TLS handshakes with ``reason``, once one is there."""
    import json
    import time

    deadline = time.monotonic() + seconds
    while True:
        found = [entry for line in gateway.log().splitlines() if line.startswith("{")
                 and (entry := json.loads(line)).get("msg") == "TLS handshake refused" and entry["reason"] == reason]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


@pytest.mark.parametrize("cert, reason", [
    (None, "no client certificate"),
    ("foreign-region-320300", "the client certificate is not issued by the federation CA"),
    ("expired-region-320300", "the client certificate has expired"),
    ("plaintext", "not TLS: plaintext, or another protocol"),
])
def test_a_refused_handshake_is_one_json_line_with_the_peer_and_the_reason(gateway, cert, reason):
    import re

    if cert == "plaintext":
        channel = grpc.insecure_channel(gateway.address)
        gateway.channels.append(channel)
        stub = members_pb2_grpc.MembersServiceStub(channel)
    else:
        stub = gateway.members(cert)
    with pytest.raises(grpc.RpcError) as err:
        stub.ListMembers(pb.ListMembersRequest(parent="regions/320300"), timeout=T)
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    lines = _refused_handshakes(gateway, reason)
    assert lines and all(re.fullmatch(r"127\.0\.0\.1:\d+", line["peer"]) and line["level"] == "warning"
                         for line in lines)
    not_json = [line for line in gateway.log().splitlines() if line.strip() and not line.startswith("{")]
    assert not_json == [], "gRPC core's own lines must not reach the JSON log as they are"


@pytest.mark.parametrize("path, kind", [("/grpc.health.v1.Health/Check", "unary"),
                                        ("/grpc.health.v1.Health/Watch", "server_stream"),
                                        ("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", "bidi")])
def test_bytes_that_are_not_protobuf_get_invalid_argument_on_every_kind_of_method(gateway, path, kind):
    bad = b"\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"  # a varint longer than ten bytes
    channel = gateway.channel("region-320300")
    before = len(gateway.log())
    with pytest.raises(grpc.RpcError) as err:
        if kind == "unary":
            channel.unary_unary(path)(bad, timeout=T)
        elif kind == "server_stream":
            list(channel.unary_stream(path)(bad, timeout=T))
        else:
            list(channel.stream_stream(path)(iter([bad]), timeout=T))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, err.value.details()
    assert '"level": "error"' not in gateway.log()[before:]
