"""Case (a0) of the benchmark: a bare ``grpc.aio`` server over the same mutual TLS, whose one generic handler
answers any unary call with the request's bytes, and does nothing else: no call stack, no log line, no
metrics, no principal. What gRPC itself costs a call on this machine; the gateway's ``Echo`` against it is
what the gateway's per-call stack costs.

    python -m gateway.bench.bare CERTS_DIR     (prints {"msg": "listening", "port": N, "event_loop": ...})

It runs on the event loop the gateway runs on (COPAY_EVENT_LOOP), so that the difference is the gateway's own.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

import grpc

from gateway.cli import event_loop
from gateway.config import Settings


class _Echo(grpc.GenericRpcHandler):
    def service(self, handler_call_details):  # type: ignore[no-untyped-def]
        return grpc.unary_unary_rpc_method_handler(_echo)  # no (de)serializers: the bytes as they came


async def _echo(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    return request


async def serve(certs: Path) -> None:
    server = grpc.aio.server()
    server.add_generic_rpc_handlers((_Echo(),))
    port = server.add_secure_port("127.0.0.1:0", grpc.ssl_server_credentials(
        [((certs / "server-key.pem").read_bytes(), (certs / "server.pem").read_bytes())],
        root_certificates=(certs / "ca.pem").read_bytes(), require_client_auth=True))
    await server.start()
    print(json.dumps({"msg": "listening", "port": port,
                      "event_loop": type(asyncio.get_running_loop()).__module__.partition(".")[0]}), flush=True)
    stopping = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stopping.set)
    await stopping.wait()
    await server.stop(1)


if __name__ == "__main__":
    with asyncio.Runner(loop_factory=event_loop(Settings.from_env().event_loop)) as runner:
        runner.run(serve(Path(sys.argv[1])))
