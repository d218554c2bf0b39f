"""The per-call stack, around every method of the server (ours, health, reflection):

* the request bytes are parsed here, not by gRPC, so that bytes that are not
  the method's message (a bad varint, a truncated field, bad UTF-8 in a
  string) are answered INVALID_ARGUMENT (MALFORMED_REQUEST), logged as one
  line and counted like any other call, not as gRPC's UNKNOWN with a traceback;
* the caller's certificate is read once (``auth.CALLER``); a revoked
  certificate, or one of a region that is not registered or is disabled, is
  refused (gateway.api.admission); a certificate that names nobody may call
  nothing but ``Health/Check``;
* budgets: unary calls in flight, per principal and in all; streams (health
  ``Watch``, reflection) have a budget of their own, in all and per principal,
  and end after ``stream_max_seconds``, so that open streams can never take the
  slots that calls need. A call beyond a budget is refused here, with its line
  and its count, not by gRPC's own limit (``maximum_concurrent_rpcs``), which
  answers before any handler runs and leaves no trace: that one is set above
  these budgets (gateway.server), for the calls they do not see;
* a Refusal becomes an AIP-193 status; a database that cannot take the call
  now (StoreUnavailable) answers UNAVAILABLE, one whose concurrent transactions kept winning
  past the retries (Conflict) ABORTED; any other error becomes INTERNAL,
  logged with its traceback, its text never sent to the caller;
* one JSON log line (under load, successes beyond a rate are counted instead:
  gateway.observability.logs.Sampling) and one metrics observation per call
  (gateway.observability.metrics: the grpc_server_* names, with the status
  code's name; a cancelled call is CANCELLED, or DEADLINE_EXCEEDED if its
  deadline had passed), and every message of a stream counted.

The wrapped handler of each method is built once and kept (``CallStack``): at registration, or for a
service that gives only a generic handler, at its first call. Each method's metrics exist from then on.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from dataclasses import dataclass
from typing import Any, AsyncIterator, Awaitable, Callable

import grpc
from google.protobuf.message import DecodeError

from gateway.api.admission import Admission
from gateway.api.auth import CALLER, identity_of, unknown_principal
from gateway.api.errors import to_status
from gateway.domain.errors import Category, FieldViolation, Refusal
from gateway.observability.logs import RpcLine
from gateway.observability.metrics import Metrics, RpcMetrics
from gateway.security.principal import Principal
from gateway.service.ports import Conflict, StoreUnavailable

log = logging.getLogger("copay.rpc")
OPEN_TO_ANYONE = "/grpc.health.v1.Health/Check"


@dataclass(frozen=True)
class Limits:
    calls_per_principal: int = 128
    """Unary calls in flight at once per principal (one region cannot take every slot)."""
    calls: int | None = None
    """Unary calls in flight at once, in all (None: no limit here)."""
    streams: int = 64
    """Streams open at once, in all."""
    streams_per_principal: int = 8
    stream_max_seconds: float = 300.0
    """A stream ends (OK) after this long; clients open a new one."""


class Budget:
    """How many of something each principal holds; the event loop is the only user."""

    def __init__(self, per_principal: int, total: int | None = None) -> None:
        self._per_principal, self._total = per_principal, total
        self._held: dict[str, int] = {}
        self._sum = 0

    def take(self, who: str) -> bool:
        held = self._held.get(who, 0)
        if held >= self._per_principal or (self._total is not None and self._sum >= self._total):
            return False
        self._held[who] = held + 1
        self._sum += 1
        return True

    def give(self, who: str) -> None:
        held = self._held[who] - 1
        if held:
            self._held[who] = held
        else:
            del self._held[who]
        self._sum -= 1

    def holds_its_share(self, who: str) -> bool:
        return self._held.get(who, 0) >= self._per_principal


class CallStack(grpc.GenericRpcHandler):
    """Every method's handler wrapped once, at registration: the generated ``add_*_to_server`` functions are
    given this object as their server (``add_registered_method_handlers`` names each method), and the server is
    given this object as its one generic handler, so that finding a call's handler is one dict lookup. Not a
    ``grpc.aio`` interceptor, which would run a coroutine chain for every call; nor registered methods, for each
    of which grpc.aio's accept loop keeps a request pending and waits on all of them for every call it accepts
    (about 30 µs a call with this gateway's 50-odd methods: README, Benchmark). A service registered by its
    generic handler only is found through it and wrapped the first time it is called."""

    def __init__(self, metrics: Metrics, limits: Limits = Limits(), admission: Admission | None = None) -> None:
        self._metrics = metrics
        self._limits = limits
        self._admission = admission or Admission()
        self._calls = Budget(limits.calls_per_principal, limits.calls)
        self._streams = Budget(limits.streams_per_principal, limits.streams)
        self._wrapped: dict[str, grpc.RpcMethodHandler] = {}
        self._generic: list[grpc.GenericRpcHandler] = []

    def add_registered_method_handlers(self, service: str, handlers: dict[str, grpc.RpcMethodHandler]) -> None:
        for name, handler in handlers.items():
            method = f"/{service}/{name}"
            self._wrapped[method] = self._wrap(method, handler)

    def add_generic_rpc_handlers(self, handlers: tuple[grpc.GenericRpcHandler, ...]) -> None:
        self._generic.extend(handlers)

    def service(self, details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        method = details.method
        wrapped = self._wrapped.get(method)
        if wrapped is None:  # a method no service registered by name; an unknown one is not remembered
            handler = next((h for g in self._generic if (h := g.service(details)) is not None), None)
            if handler is None:
                return None  # gRPC answers UNIMPLEMENTED
            wrapped = self._wrapped[method] = self._wrap(method, handler)
        return wrapped

    def _wrap(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        parse, serialize = handler.request_deserializer, handler.response_serializer
        rpc = self._metrics.rpc
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                self._unary(method, handler.unary_unary, parse, rpc(method, "unary")),
                response_serializer=serialize)
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                self._stream(method, handler.unary_stream, parse, False, rpc(method, "server_stream")),
                response_serializer=serialize)
        if handler.stream_stream:
            return grpc.stream_stream_rpc_method_handler(
                self._stream(method, handler.stream_stream, parse, True, rpc(method, "bidi_stream")),
                response_serializer=serialize)
        return grpc.stream_unary_rpc_method_handler(
            self._stream(method, handler.stream_unary, parse, True, rpc(method, "client_stream"), one_answer=True),
            response_serializer=serialize)

    def _unary(self, method: str, behavior: Callable[..., Awaitable[Any]], parse: Callable[[bytes], Any] | None,
               rpc: RpcMetrics):
        line, has_id = RpcLine(method), _has_request_id(parse)

        async def observed(raw: bytes, context: grpc.aio.ServicerContext) -> Any:
            started = time.perf_counter()
            rpc.started()
            identity = identity_of(context)
            principal = identity.principal if identity else None
            CALLER.set(principal)
            who, request, refusal = principal.text if principal else "", None, None
            held = self._calls.take(who)
            try:
                if not held:
                    raise self._too_many_calls(who)
                request = _parsed(parse, raw, method)
                if identity is not None and (refused := self._admission.refusal(identity)) is not None:
                    raise refused
                if principal is None and method != OPEN_TO_ANYONE:
                    raise unknown_principal()
                return await behavior(request, context)
            except Exception as error:
                refusal = error if isinstance(error, Refusal) else None
                await _answer_failure(error, method, context)
            finally:
                if held:
                    self._calls.give(who)
                self._record(rpc, line, who, context, time.perf_counter() - started, refusal,
                             _request_id(request, has_id))

        return observed

    def _stream(self, method: str, behavior: Callable[..., Any], parse: Callable[[bytes], Any] | None,
                streaming_in: bool, rpc: RpcMetrics, one_answer: bool = False):
        """A streaming method: admitted, budgeted, and ended after ``stream_max_seconds`` (a stream of answers
        ends there; a client stream still waiting for its one answer gets DEADLINE_EXCEEDED). Errors are
        answered as a unary call's are."""
        line = RpcLine(method)

        async def admit(context: grpc.aio.ServicerContext) -> tuple[Principal | None, float]:
            started = time.perf_counter()
            rpc.started()
            identity = identity_of(context)
            principal = identity.principal if identity else None
            CALLER.set(principal)
            refusal = self._admission.refusal(identity) if identity is not None else None
            if refusal is None and principal is None:
                refusal = unknown_principal()
            elif refusal is None and not self._streams.take(str(principal)):
                refusal = Refusal(Category.RESOURCE_EXHAUSTED, "TOO_MANY_STREAMS", f"{principal} has "
                                  f"{self._limits.streams_per_principal} streams open already, or the gateway "
                                  f"{self._limits.streams}; close one first")
            if refusal is not None:
                self._record(rpc, line, principal.text if principal else "", context,
                             time.perf_counter() - started, refusal, None)
                await context.abort_with_status(to_status(refusal))
            return principal, started

        def requests(given: Any, context: grpc.aio.ServicerContext) -> Any:
            if not streaming_in:
                return _parsed(parse, given, method)
            return _parsed_each(parse, given, method, context, rpc)

        def done(principal: Principal | None, context: grpc.aio.ServicerContext, started: float,
                 refusal: Refusal | None) -> None:
            self._streams.give(str(principal))
            self._record(rpc, line, str(principal), context, time.perf_counter() - started, refusal, None)

        if inspect.isasyncgenfunction(behavior):
            async def streamed(given: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
                principal, started = await admit(context)
                refusal = None
                try:
                    async with asyncio.timeout(self._limits.stream_max_seconds):
                        async for item in behavior(requests(given, context), context):
                            yield item
                            rpc.sent()
                except TimeoutError:
                    return
                except Exception as error:  # a malformed request message, the method's refusal, or a failure
                    refusal = error if isinstance(error, Refusal) else None
                    await _answer_failure(error, method, context)
                finally:
                    done(principal, context, started, refusal)

            return streamed

        async def written(given: Any, context: grpc.aio.ServicerContext) -> Any:
            incoming = None
            if one_answer:  # a client stream's first message is read before admission, as a unary call's is
                try:
                    async with asyncio.timeout(self._limits.stream_max_seconds):
                        incoming = await _peeked(requests(given, context))
                except TimeoutError:
                    await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "no first message in time")
            principal, started = await admit(context)
            refusal = None
            try:
                async with asyncio.timeout(self._limits.stream_max_seconds):
                    return await behavior(incoming or requests(given, context), _Counting(context, rpc))
            except TimeoutError:
                if one_answer:
                    await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "the stream ran longer than the "
                                        f"gateway allows ({self._limits.stream_max_seconds:g} s); send less at once")
                return None
            except Exception as error:  # a malformed request message, the method's refusal, or a failure
                refusal = error if isinstance(error, Refusal) else None
                await _answer_failure(error, method, context)
            finally:
                done(principal, context, started, refusal)

        return written

    def _too_many_calls(self, who: str) -> Refusal:
        """Names the caller's own share if that is what is held (it would refuse the call either way)."""
        if self._calls.holds_its_share(who):
            why = f"{who or 'this caller'} has {self._limits.calls_per_principal} calls in flight already"
        else:
            why = f"the gateway has {self._limits.calls} calls in flight already"
        return Refusal(Category.RESOURCE_EXHAUSTED, "TOO_MANY_CALLS", f"{why}; retry later")

    @staticmethod
    def _record(rpc: RpcMetrics, line: RpcLine, who: str, context: grpc.aio.ServicerContext, seconds: float,
                refusal: Refusal | None, request_id: str | None) -> None:
        if refusal is None:
            name = _code_name(context)
            rpc.handled(name, seconds)
            line.write(who or None, name, seconds, request_id)
            return
        name = refusal.category.value
        rpc.handled(name, seconds, refusal)
        line.write(who or None, name, seconds, request_id, refusal.reason, refusal.rule)


def _has_request_id(parse: Callable[[bytes], Any] | None) -> bool | None:
    """Whether the method's request message (the class whose ``FromString`` parses it) has a request_id; None
    if the parser does not say (protobuf's pure-Python implementation: ``FromString`` is a static method)."""
    descriptor = getattr(getattr(parse, "__self__", None), "DESCRIPTOR", None)
    return None if descriptor is None else "request_id" in descriptor.fields_by_name


def _request_id(request: Any, has_id: bool | None) -> str | None:
    if request is None or has_id is False:
        return None
    return (request.request_id if has_id else getattr(request, "request_id", None)) or None


def _code_name(context: grpc.aio.ServicerContext) -> str:
    """The status the call ended with, by name; a call cancelled under the handler (the client went away, or
    its deadline passed) has none set: CANCELLED, or DEADLINE_EXCEEDED."""
    code = context.code()
    if code is None or code == grpc.StatusCode.OK or code == 0:
        task = asyncio.current_task()  # gRPC cancels the call's task; the context may not say so yet
        if not (context.cancelled() or (task is not None and task.cancelling())):
            return "OK"
        remaining = context.time_remaining()
        return "DEADLINE_EXCEEDED" if remaining is not None and remaining <= 0 else "CANCELLED"
    return code.name if isinstance(code, grpc.StatusCode) else _BY_NUMBER.get(code, str(code))


_BY_NUMBER = {code.value[0]: code.name for code in grpc.StatusCode}


class _Counting:
    """The context a stream's handler gets: as gRPC's, with each ``write`` counted as a message sent."""

    def __init__(self, context: grpc.aio.ServicerContext, rpc: RpcMetrics) -> None:
        self._context, self._rpc = context, rpc

    async def write(self, message: Any) -> None:
        await self._context.write(message)
        self._rpc.sent()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


def _parsed(parse: Callable[[bytes], Any] | None, raw: bytes, method: str) -> Any:
    if parse is None:
        return raw
    try:
        return parse(raw)
    except (DecodeError, ValueError, RecursionError) as error:
        raise _malformed(method, error) from None


async def _parsed_each(parse: Callable[[bytes], Any] | None, raws: AsyncIterator[bytes], method: str,
                       context: grpc.aio.ServicerContext, rpc: RpcMetrics) -> AsyncIterator[Any]:
    async for raw in raws:
        rpc.received()
        try:
            yield _parsed(parse, raw, method)
        except Refusal as refusal:
            await context.abort_with_status(to_status(refusal))


async def _answer_failure(error: Exception, method: str, context: grpc.aio.ServicerContext) -> None:
    """Ends a call that raised (called in its ``except``): a refusal as its AIP-193 status, a call already
    aborted as it was, the store's conditions as UNAVAILABLE or ABORTED, anything else INTERNAL."""
    if isinstance(error, grpc.aio.AbortError):
        raise error
    if isinstance(error, Refusal):
        await context.abort_with_status(to_status(error))
    elif isinstance(error, Conflict):
        log.warning("concurrent changes kept winning", extra={"fields": {"method": method}})
        await context.abort(grpc.StatusCode.ABORTED, "concurrent changes to the same records kept winning; "
                            "nothing of this call was kept: retry with the same request_id")
    elif isinstance(error, StoreUnavailable):
        log.warning("database unavailable", extra={"fields": {"method": method, "why": str(error)}})
        await context.abort(grpc.StatusCode.UNAVAILABLE, str(error))
    else:
        log.exception("unhandled error", extra={"fields": {"method": method}})
        await context.abort(grpc.StatusCode.INTERNAL, "internal error; the gateway logged the cause")


async def _peeked(messages: AsyncIterator[Any]) -> AsyncIterator[Any]:
    """``messages`` with the first already read (a malformed one aborts now)."""
    first = await anext(messages, None)

    async def chained() -> AsyncIterator[Any]:
        if first is not None:
            yield first
            async for message in messages:
                yield message
    return chained()


def _malformed(method: str, error: Exception) -> Refusal:
    message = method.rsplit("/", 1)[-1]
    return Refusal(Category.INVALID_ARGUMENT, "MALFORMED_REQUEST", f"the request is not a valid protobuf "
                   f"message for {message}: {type(error).__name__}",
                   violations=(FieldViolation("request", "not a valid protobuf encoding of the request message "
                                                         "(bad varint, truncated field, or a string that is not "
                                                         "UTF-8)"),))
