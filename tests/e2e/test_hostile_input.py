"""Every RPC, every field filled with hostile values: the answer is a clear
refusal (INVALID_ARGUMENT and friends), never INTERNAL or UNKNOWN, on SQLite
and on PostgreSQL (where column lengths are enforced)."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import descriptor_pool
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message_factory import GetMessageClass

from gateway import server

pytestmark = pytest.mark.e2e
STRINGS = ["x" * 300, "\x00\u202e名字; DROP TABLE members", "regions/320300/members/" + "9" * 200, ""]
NUMBERS = [-1, 2**62, 0]
NEVER = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN}


def fill(message, variant: int, depth: int = 0) -> None:
    """Sets every field of ``message`` (recursively) to the variant-th hostile value of its type."""
    for field in message.DESCRIPTOR.fields:
        repeated = field.is_repeated
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            if depth < 3 and field.message_type.full_name != "google.protobuf.Timestamp":
                target = getattr(message, field.name).add() if repeated else getattr(message, field.name)
                fill(target, variant, depth + 1)
            continue
        if field.type == FieldDescriptor.TYPE_STRING:
            value = STRINGS[variant % len(STRINGS)]
        elif field.type == FieldDescriptor.TYPE_BOOL:
            value = bool(variant % 2)
        elif field.type == FieldDescriptor.TYPE_ENUM:
            value = 999 if variant % 2 else 1
        else:
            value = NUMBERS[variant % len(NUMBERS)]
            if field.type == FieldDescriptor.TYPE_INT32:
                value = max(min(value, 2**31 - 1), -(2**31))
        if repeated:
            getattr(message, field.name).extend([value] * 3)
        else:
            setattr(message, field.name, value)


def methods():
    pool = descriptor_pool.Default()
    for service_name in server.SERVICES:
        for method in pool.FindServiceByName(service_name).methods:
            yield pytest.param(method, id=f"{method.containing_service.name}.{method.name}")


@pytest.mark.parametrize("method", list(methods()))
def test_hostile_values_never_get_internal(gateway, method):
    channel = gateway.channel("region-320300")
    request_class = GetMessageClass(method.input_type)
    response_class = GetMessageClass(method.output_type)
    call = channel.unary_unary(f"/{method.containing_service.full_name}/{method.name}",
                               request_serializer=request_class.SerializeToString,
                               response_deserializer=response_class.FromString)
    for variant in range(len(STRINGS)):
        request = request_class()
        fill(request, variant)
        try:
            call(request, timeout=5)
        except grpc.RpcError as err:
            assert err.code() not in NEVER, f"variant {variant}: {err.code()} {err.details()}"
