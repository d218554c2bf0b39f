"""Refusals as AIP-193 errors: google.rpc.Status with one ErrorInfo and, for
malformed input, a BadRequest listing every field violation."""

from __future__ import annotations

import grpc
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from gateway.api.vocabulary import wire_metadata
from gateway.domain.errors import Refusal

DOMAIN = "copay.local"


def to_status(refusal: Refusal) -> grpc.Status:
    code = getattr(code_pb2, refusal.category.value)
    info = error_details_pb2.ErrorInfo(reason=refusal.reason, domain=DOMAIN, metadata=wire_metadata(refusal.metadata))
    if refusal.rule:
        info.metadata["rule"] = refusal.rule
    details = [info]
    if refusal.violations:
        details.append(error_details_pb2.BadRequest(field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
            for v in refusal.violations]))
    status = status_pb2.Status(code=code, message=str(refusal.message))
    for detail in details:
        status.details.add().Pack(detail)
    return rpc_status.to_status(status)
