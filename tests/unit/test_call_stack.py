"""The per-call stack finds a call's handler with one lookup: every method is wrapped once, at registration,
whether its service names its methods (the generated ``add_*_to_server``) or gives only a generic handler."""

from __future__ import annotations

import re

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from prometheus_client import generate_latest

from gateway._proto.copay.v1 import diagnostics_pb2, diagnostics_pb2_grpc
from gateway.api.call_stack import CallStack, Limits
from gateway.api.diagnostics import DiagnosticsServicer
from gateway.observability.metrics import Metrics

ECHO = "/copay.v1.DiagnosticsService/Echo"


class Details(grpc.HandlerCallDetails):
    def __init__(self, method: str) -> None:
        self.method, self.invocation_metadata = method, ()


class Asked(grpc.GenericRpcHandler):
    """A generic handler, counting the lookups that reach it."""

    def __init__(self, inner: grpc.GenericRpcHandler, asked: list[str]) -> None:
        self.inner, self.asked = inner, asked

    def service(self, details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        self.asked.append(details.method)
        return self.inner.service(details)


async def _ping(request: bytes, context: object) -> bytes:
    return request


PING = grpc.unary_unary_rpc_method_handler(_ping)


def only_generic() -> Asked:
    """A service that gives the server its generic handler and nothing else, its lookups counted."""
    return Asked(grpc.method_handlers_generic_handler("test.Ping", {"Ping": PING}), [])


class Counting:
    """The stack as a generated ``add_*_to_server`` sees it, its generic handlers counted."""

    def __init__(self, stack: CallStack) -> None:
        self.stack, self.asked = stack, []

    def add_generic_rpc_handlers(self, handlers: tuple[grpc.GenericRpcHandler, ...]) -> None:
        self.stack.add_generic_rpc_handlers(tuple(Asked(h, self.asked) for h in handlers))

    def add_registered_method_handlers(self, service: str, handlers: dict[str, grpc.RpcMethodHandler]) -> None:
        self.stack.add_registered_method_handlers(service, handlers)


def test_the_generated_registration_wraps_every_method_once_and_the_lookup_is_the_wrapped_handler():
    metrics = Metrics()
    stack = CallStack(metrics)
    server = Counting(stack)
    diagnostics_pb2_grpc.add_DiagnosticsServiceServicer_to_server(DiagnosticsServicer(), server)
    health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), server)
    methods = [f"/{service.full_name}/{method.name}" for service in (
        diagnostics_pb2.DESCRIPTOR.services_by_name["DiagnosticsService"],
        health_pb2.DESCRIPTOR.services_by_name["Health"]) for method in service.methods]
    scraped = generate_latest(metrics.registry).decode()
    for method in methods:  # each method's series are there, at zero, before it is looked up or called
        service, name = method[1:].split("/")
        assert re.search(rf'^grpc_server_started_total{{grpc_method="{name}",grpc_service="{service}",'
                         rf'grpc_type="\w+"}} 0\.0$', scraped, re.M), method
    assert len(methods) >= 3 and all(stack.service(Details(m)) is not None for m in methods)
    echo = stack.service(Details(ECHO))
    assert echo is not None and echo is stack.service(Details(ECHO))  # built once, at registration
    assert echo.unary_unary is not None and echo.request_deserializer is None  # the stack parses the bytes
    assert echo.response_serializer is diagnostics_pb2.EchoResponse.SerializeToString
    watch = stack.service(Details("/grpc.health.v1.Health/Watch"))
    assert watch is not None and watch.unary_stream is not None
    assert server.asked == []  # found by name: no generic handler asked


def test_a_service_with_only_a_generic_handler_is_found_through_it_and_wrapped_once():
    stack, ping = CallStack(Metrics()), only_generic()
    stack.add_generic_rpc_handlers((ping,))
    first = stack.service(Details("/test.Ping/Ping"))
    assert first is not None and first is not PING and first.unary_unary is not None
    assert stack.service(Details("/test.Ping/Ping")) is first
    assert ping.asked == ["/test.Ping/Ping"]  # asked once; then remembered


def test_an_unknown_method_is_unimplemented_and_not_remembered():
    stack, ping = CallStack(Metrics()), only_generic()
    stack.add_generic_rpc_handlers((ping,))
    for _ in range(3):
        assert stack.service(Details("/test.Ping/Nothing")) is None  # gRPC answers UNIMPLEMENTED
    assert ping.asked == ["/test.Ping/Nothing"] * 3
    assert "/test.Ping/Nothing" not in stack._wrapped  # a caller inventing names cannot grow the stack's table


def test_a_call_beyond_a_budget_is_told_whose_share_is_held() -> None:
    """The caller's own share if it holds it all (it would be refused whatever the others hold), else the
    gateway's total."""
    stack = CallStack(Metrics(), Limits(calls_per_principal=2, calls=3))
    taken = [stack._calls.take(who) for who in ("region/1", "region/1", "region/1", "region/2")]
    assert taken == [True, True, False, True]  # the total (3) is held now
    assert stack._too_many_calls("region/1").message == "region/1 has 2 calls in flight already; retry later"
    assert stack._too_many_calls("region/3").message == "the gateway has 3 calls in flight already; retry later"
    assert not stack._calls.take("region/3")
    stack._calls.give("region/2")
    assert stack._calls.take("region/3") and not stack._calls.take("region/1")
