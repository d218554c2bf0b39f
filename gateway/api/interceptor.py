"""One log line and one metrics observation per call. A database that cannot
take the call now (StoreUnavailable) answers UNAVAILABLE; unexpected errors
become INTERNAL without leaking their text to the caller."""

from __future__ import annotations

import logging
import time
from typing import Any, Awaitable, Callable

import grpc

from gateway.api.auth import caller_of
from gateway.observability.metrics import Metrics
from gateway.service.ports import StoreUnavailable

log = logging.getLogger("copay.rpc")


class CallInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    async def intercept_service(self, continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Any]],
                                details: grpc.HandlerCallDetails) -> Any:
        handler = await continuation(details)
        if handler is None or handler.unary_unary is None:
            return handler
        behavior, method = handler.unary_unary, details.method

        async def observed(request: Any, context: grpc.aio.ServicerContext) -> Any:
            started = time.perf_counter()
            try:
                return await behavior(request, context)
            except grpc.aio.AbortError:
                raise
            except StoreUnavailable as unavailable:
                log.warning("database unavailable", extra={"fields": {"method": method, "why": str(unavailable)}})
                await context.abort(grpc.StatusCode.UNAVAILABLE, str(unavailable))
            except Exception:
                log.exception("unhandled error", extra={"fields": {"method": method}})
                await context.abort(grpc.StatusCode.INTERNAL, "internal error; the gateway logged the cause")
            finally:
                self._record(method, request, context, time.perf_counter() - started)

        return grpc.unary_unary_rpc_method_handler(observed, request_deserializer=handler.request_deserializer,
                                                   response_serializer=handler.response_serializer)

    def _record(self, method: str, request: Any, context: grpc.aio.ServicerContext, seconds: float) -> None:
        code = context.code() or grpc.StatusCode.OK
        name = code.name if isinstance(code, grpc.StatusCode) else str(code)
        self._metrics.observe(method, name, seconds)
        principal = caller_of(context)
        log.info("rpc", extra={"fields": {
            "method": method, "principal": str(principal) if principal else None, "code": name,
            "latency_ms": round(seconds * 1000, 3), "request_id": getattr(request, "request_id", None) or None}})
