"""DiagnosticsService: Echo answers with the caller's principal."""

from __future__ import annotations

from gateway._proto.copay.v1 import diagnostics_pb2 as pb
from gateway._proto.copay.v1 import diagnostics_pb2_grpc
from gateway.api.auth import rpc
from gateway.security.principal import Kind, Principal

MAX_ECHO = 1024


class DiagnosticsServicer(diagnostics_pb2_grpc.DiagnosticsServiceServicer):
    @rpc(Kind.REGION, Kind.OPERATOR)
    async def Echo(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        return pb.EchoResponse(message=request.message[:MAX_ECHO], principal=str(caller))
