"""The call metrics kept as plain numbers on the event loop (gateway.observability.metrics) read as Prometheus'
own types would: counters, a cumulative histogram whose ``le`` bound includes the value, the gauge in flight."""

from gateway.domain.errors import Category, Refusal
from gateway.observability.metrics import LATENCY_BUCKETS, Metrics

ECHO = {"grpc_method": "Echo", "grpc_service": "copay.v1.DiagnosticsService", "grpc_type": "unary"}


def test_counts_and_latency_buckets_read_as_prometheus_types():
    metrics = Metrics()
    rpc = metrics.rpc("/copay.v1.DiagnosticsService/Echo", "unary")
    for _ in range(3):  # ending on a bound, just above it, beyond the last
        rpc.started()
    rpc.handled("OK", 0.005)
    rpc.handled("OK", 0.0051)
    value = metrics.registry.get_sample_value
    assert value("copay_rpc_in_flight", {"grpc_method": "Echo", "grpc_service": ECHO["grpc_service"]}) == 1
    rpc.handled("INVALID_ARGUMENT", 20.0, Refusal(Category.INVALID_ARGUMENT, "MALFORMED_REQUEST", "bad"))
    assert value("grpc_server_started_total", ECHO) == 3
    assert value("grpc_server_msg_received_total", ECHO) == 3
    assert value("grpc_server_msg_sent_total", ECHO) == 2  # a unary call sends one message if it ends OK
    assert value("grpc_server_handled_total", {"grpc_code": "OK", **ECHO}) == 2
    assert value("grpc_server_handled_total", {"grpc_code": "INVALID_ARGUMENT", **ECHO}) == 1
    assert value("copay_rpc_in_flight", {"grpc_method": "Echo", "grpc_service": ECHO["grpc_service"]}) == 0
    assert value("grpc_server_handling_seconds_bucket", {"le": "0.0025", **ECHO}) == 0
    assert value("grpc_server_handling_seconds_bucket", {"le": "0.005", **ECHO}) == 1
    assert value("grpc_server_handling_seconds_bucket", {"le": "0.01", **ECHO}) == 2
    assert value("grpc_server_handling_seconds_bucket", {"le": "10.0", **ECHO}) == 2
    assert value("grpc_server_handling_seconds_bucket", {"le": "+Inf", **ECHO}) == 3
    assert value("grpc_server_handling_seconds_count", ECHO) == 3
    assert abs(value("grpc_server_handling_seconds_sum", ECHO) - 20.0101) < 1e-9
    assert len(LATENCY_BUCKETS) == 14
    assert value("copay_rpc_refusals_total", {"method": "/copay.v1.DiagnosticsService/Echo",
                                              "reason": "MALFORMED_REQUEST", "rule": ""}) == 1
