"""gRPC core's plain-text lines become JSON log records: a refused TLS handshake with its peer and reason."""

from __future__ import annotations

import logging

import pytest

from gateway.observability.native import record

FAILED = [
    "I1128 05:10:44.672611   32441 handshaker.cc:155] CallNextHandshakerLocked: error=UNKNOWN: Ssl handshake failed "
    "(TSI_PROTOCOL_FAILURE): SSL_ERROR_SSL: error:1000007d:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED: "
    "certificate has expired: OK",
    "=== Source Location Trace: ===",
    "src/core/util/status_helper.cc:68",
    " shutdown=false index=2, args={endpoint=0x7fbee0001c20, args={grpc.http2.max_ping_strikes=2, "
    "grpc.internal.endpoint_local_address=ipv4:127.0.0.1:50562, grpc.internal.endpoint_peer_address=ipv4:10.1.2.3:33836, "
    "grpc.internal.security_connector=0x562415b5f400}}",
]


@pytest.mark.parametrize("error, reason", [
    ("PEER_DID_NOT_RETURN_A_CERTIFICATE: Invalid certificate verification context", "no client certificate"),
    ("CERTIFICATE_VERIFY_FAILED: unable to get local issuer certificate",
     "the client certificate is not issued by the federation CA"),
    ("CERTIFICATE_VERIFY_FAILED: certificate has expired", "the client certificate has expired"),
    ("WRONG_VERSION_NUMBER: Invalid certificate verification context", "not TLS: plaintext, or another protocol"),
])
def test_a_refused_handshake_is_one_record_with_the_peer_and_the_reason(caplog, error, reason):
    caplog.set_level(logging.INFO)
    record([FAILED[0].replace("CERTIFICATE_VERIFY_FAILED: certificate has expired", error), *FAILED[1:]])
    assert [(r.name, r.getMessage(), r.fields["peer"], r.fields["reason"]) for r in caplog.records] == [
        ("copay.tls", "TLS handshake refused", "10.1.2.3:33836", reason)]


def test_the_trace_of_a_handshake_that_succeeds_is_dropped(caplog):
    caplog.set_level(logging.DEBUG)
    record(["I1128 05:10:46.729742   32442 handshaker.cc:155] CallNextHandshakerLocked: error=OK shutdown=false "
            "index=2, args={grpc.internal.endpoint_peer_address=ipv4:127.0.0.1:1}"])
    record(["I1128 05:10:44.672589   32441 ssl_transport_security.cc:2563] Handshake failed with error SSL_ERROR_SSL"])
    assert caplog.records == []


def test_other_lines_of_grpc_core_become_records_of_their_level(caplog):
    caplog.set_level(logging.INFO)
    record(["E1128 05:10:46.000001   32442 chttp2_transport.cc:10] something broke"])
    assert [(r.name, r.levelname, r.getMessage(), r.fields["source"]) for r in caplog.records] == [
        ("grpc", "ERROR", "something broke", "chttp2_transport.cc")]
