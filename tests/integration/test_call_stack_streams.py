"""A stream of answers ends as a unary call does when its method fails: a refusal as its status, with its
reason logged; anything else INTERNAL, logged with its traceback, never gRPC's UNKNOWN. Through a real
grpc.aio server over mutual TLS, with the call stack as its one handler."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import AsyncIterator

import grpc
import pytest

from gateway.api.call_stack import CallStack
from gateway.domain.errors import Category, Refusal
from gateway.observability.metrics import Metrics
from gateway.security.pki import init_dev_pki


async def _fails(request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
    yield b"first"
    if request == b"refuse":
        raise Refusal(Category.FAILED_PRECONDITION, "NOT_NOW", "not now")
    raise RuntimeError("a defect")


def _serve_and_call(certs: Path, request: bytes) -> tuple[list[bytes], grpc.StatusCode, str]:
    async def main() -> tuple[list[bytes], grpc.StatusCode, str]:
        stack = CallStack(Metrics())
        stack.add_registered_method_handlers("test.Streams", {"Fail": grpc.unary_stream_rpc_method_handler(_fails)})
        server = grpc.aio.server()
        server.add_generic_rpc_handlers((stack,))
        port = server.add_secure_port("127.0.0.1:0", grpc.ssl_server_credentials(
            [((certs / "server-key.pem").read_bytes(), (certs / "server.pem").read_bytes())],
            root_certificates=(certs / "ca.pem").read_bytes(), require_client_auth=True))
        await server.start()
        creds = grpc.ssl_channel_credentials((certs / "ca.pem").read_bytes(),
                                             (certs / "operator-ops-key.pem").read_bytes(),
                                             (certs / "operator-ops.pem").read_bytes())
        received: list[bytes] = []
        try:
            async with grpc.aio.secure_channel(f"localhost:{port}", creds) as channel:
                call = channel.unary_stream("/test.Streams/Fail")(request, timeout=10)
                try:
                    async for message in call:
                        received.append(message)
                except grpc.aio.AioRpcError as error:
                    return received, error.code(), error.details() or ""
                return received, grpc.StatusCode.OK, ""
        finally:
            await server.stop(None)

    return asyncio.run(main())


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pki")
    init_dev_pki(folder)
    return folder


def test_a_stream_whose_method_fails_ends_internal_with_the_cause_logged(certs: Path,
                                                                          caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="copay.rpc"):
        received, code, details = _serve_and_call(certs, b"fail")
    assert (received, code) == ([b"first"], grpc.StatusCode.INTERNAL) and "a defect" not in details
    unhandled = [r for r in caplog.records if r.getMessage() == "unhandled error"]
    assert len(unhandled) == 1 and unhandled[0].exc_info is not None  # with its traceback


def test_a_stream_whose_method_refuses_ends_with_the_refusals_status(certs: Path) -> None:
    received, code, details = _serve_and_call(certs, b"refuse")
    assert (received, code, details) == ([b"first"], grpc.StatusCode.FAILED_PRECONDITION, "not now")
