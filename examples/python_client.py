"""A minimal copay-gateway client in Python, for integrators.

    python examples/python_client.py --address localhost:50051 --certs certs

It connects over mutual TLS as a region (region-320300: Xuzhou), calls
DiagnosticsService/Echo, reports a member with BatchUpsertMembers and sends the
same request again (same request_id: the same answer comes back), then makes
two requests that are refused and prints what the refusals say
(google.rpc.ErrorInfo and BadRequest from the status details).

Run it with the project's virtualenv active (source .venv/bin/activate), against
`python3 scripts/dev.py serve`. The stubs are the generated ones in gateway/_proto
(scripts/genproto.py); another project generates its own from protos/ or from the
descriptor set protos/copay.binpb (from protos/: python -m grpc_tools.protoc
--descriptor_set_in=copay.binpb --python_out=OUT --grpc_python_out=OUT copay/v1/*.proto).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import uuid
from pathlib import Path

import grpc
from google.protobuf.message import Message
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from gateway._proto.copay.v1 import (bindings_pb2, bindings_pb2_grpc, diagnostics_pb2, diagnostics_pb2_grpc,
                                     members_pb2, members_pb2_grpc)

REGION = "320300"  # Xuzhou, Jiangsu: we call with certs/region-320300.pem
TIMEOUT_SECONDS = 5.0  # deadline of every call
ATTEMPTS = 5  # tries per call while the gateway is UNAVAILABLE
# Safe to retry: nothing ran (UNAVAILABLE) or the answer may be lost (DEADLINE_EXCEEDED). A mutating
# call is sent again with the same request_id, so the gateway applies it at most once (AIP-155).
RETRYABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


def connect(address: str, certs: Path, server_name: str | None) -> grpc.Channel:
    """An mTLS channel: our region's certificate and key, and the federation CA to check the server."""
    credentials = grpc.ssl_channel_credentials(
        root_certificates=(certs / "ca.pem").read_bytes(),
        private_key=(certs / f"region-{REGION}-key.pem").read_bytes(),
        certificate_chain=(certs / f"region-{REGION}.pem").read_bytes())
    # The server certificate must name the host we dial; override only if it names another one.
    options = [("grpc.ssl_target_name_override", server_name)] if server_name else []
    return grpc.secure_channel(address, credentials, options=options)


def call(method: grpc.UnaryUnaryMultiCallable, request: Message) -> Message:
    """Calls with a deadline; on UNAVAILABLE backs off (about 0.2 s, 0.4 s, ...) and sends the very same
    request again: for a mutating call, with the same request_id."""
    delay = 0.2
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return method(request, timeout=TIMEOUT_SECONDS)
        except grpc.RpcError as err:
            if err.code() not in RETRYABLE or attempt == ATTEMPTS:
                raise
            pause = delay * random.uniform(0.5, 1.5)  # jitter: clients that failed together retry apart
            print(f"retry: {err.code().name} ({err.details()}); attempt {attempt + 1} in {pause:.2f}s")
            time.sleep(pause)
            delay = min(delay * 2, 5.0)
    raise AssertionError("unreachable")


def explain(err: grpc.RpcError) -> None:
    """Prints a refusal: the code, then the ErrorInfo and BadRequest packed in grpc-status-details-bin."""
    print(f"refused: {err.code().name}: {err.details()}")
    status = rpc_status.from_call(err)  # google.rpc.Status, or None if the server sent no details
    for detail in status.details if status else []:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            rule = info.metadata.get("rule", "-")  # the rule enforced (docs/rules.md), if any
            others = ", ".join(f"{k}={v}" for k, v in sorted(info.metadata.items()) if k != "rule")
            print(f"  reason={info.reason} domain={info.domain} rule={rule} metadata: {others or '-'}")
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            for violation in bad.field_violations:
                print(f"  field {violation.field}: {violation.description}")


def describe(response: members_pb2.BatchUpsertMembersResponse) -> str:
    return "; ".join(f"{m.name} {members_pb2.EnrolmentStatus.Name(m.enrolment_status)} "
                     f"updated {m.update_time.ToJsonString()}" for m in response.members)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", default="localhost:50051")
    parser.add_argument("--certs", type=Path, default=Path("certs"), help="folder with ca.pem and region-*.pem")
    parser.add_argument("--server-name", help="name to expect in the server certificate (default: the host)")
    args = parser.parse_args()

    with connect(args.address, args.certs, args.server_name) as channel:
        # 1. Who does the gateway think we are?
        echo = call(diagnostics_pb2_grpc.DiagnosticsServiceStub(channel).Echo,
                    diagnostics_pb2.EchoRequest(message="hello"))
        print(f"echo: principal={echo.principal} message={echo.message}")

        # 2. Report a member. One request_id per logical request, made once and kept for its retries.
        members = members_pb2_grpc.MembersServiceStub(channel)
        request = members_pb2.BatchUpsertMembersRequest(
            parent=f"regions/{REGION}", request_id=f"example-{uuid.uuid4()}",
            members=[members_pb2.MemberRecord(
                psn_no=f"{REGION}009101", id_number="320300198503149016",  # synthetic, valid check digit
                insuring_region=REGION, insurance_type=members_pb2.INSURANCE_TYPE_EMPLOYEE,
                enrolment_status=members_pb2.ENROLMENT_STATUS_NORMAL)])
        first = call(members.BatchUpsertMembers, request)
        print(f"upsert: request_id={request.request_id} -> {describe(first)}")

        # 3. Send it again, as after a lost answer: the same request_id gets the stored answer.
        again = call(members.BatchUpsertMembers, request)
        print(f"retry:  request_id={request.request_id} -> {describe(again)}")
        print(f"same answer: {again == first}")

        # 4. A refusal naming a rule: our member authorises his father, insured in Guangzhou (Guangdong),
        #    while mutual aid from Jiangsu to Guangdong is closed (R5, the default).
        try:
            call(bindings_pb2_grpc.BindingsServiceStub(channel).CreateBinding, bindings_pb2.CreateBindingRequest(
                request_id=f"example-{uuid.uuid4()}", grantor=first.members[0].name,
                beneficiary="regions/440100/members/440100000001", relationship=bindings_pb2.RELATIONSHIP_FATHER))
        except grpc.RpcError as err:
            explain(err)

        # 5. Malformed input: every bad field is named (BadRequest).
        try:
            call(members.BatchUpsertMembers, members_pb2.BatchUpsertMembersRequest(
                parent=f"regions/{REGION}", request_id=f"example-{uuid.uuid4()}",
                members=[members_pb2.MemberRecord(psn_no=f"{REGION}009102", id_number="123", insuring_region="32")]))
        except grpc.RpcError as err:
            explain(err)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except grpc.RpcError as err:  # not refused by the gateway: unreachable, deadline, TLS handshake refused
        print(f"failed: {err.code().name}: {err.details()}", file=sys.stderr)
        sys.exit(1)
