"""Every RPC states which principals it admits: ``@rpc(Kind.REGION)``.

The call stack (gateway.api.call_stack) reads the caller from the
client certificate once per call; the decorator refuses callers the method
does not admit, then runs it. Refusals raised here or in the method become
AIP-193 statuses in the call stack. A servicer method without the decorator
would admit nobody: a test checks that every registered RPC carries it.
"""

from __future__ import annotations

import functools
from contextvars import ContextVar
from typing import Any, Awaitable, Callable

import grpc

from gateway.domain.errors import Category, Refusal
from gateway.security.principal import Identity, Kind, Principal, identity_from_pem

Method = Callable[[Any, Any, grpc.aio.ServicerContext, Principal], Awaitable[Any]]
CALLER: ContextVar[Principal | None] = ContextVar("caller", default=None)
"""The principal of the call being served; set by the call stack for the call's task."""


def identity_of(context: grpc.aio.ServicerContext) -> Identity | None:
    pems = context.auth_context().get("x509_pem_cert")
    return identity_from_pem(pems[0]) if pems else None


def unknown_principal() -> Refusal:
    return Refusal(Category.UNAUTHENTICATED, "UNKNOWN_PRINCIPAL", "the client certificate names no region or "
                   "operator (expected a URI SAN spiffe://copay.local/region/{admdvs}); such a certificate may "
                   "only call grpc.health.v1.Health/Check")


def rpc(*admitted: Kind) -> Callable[[Method], Callable[..., Awaitable[Any]]]:
    def decorate(method: Method) -> Callable[..., Awaitable[Any]]:
        @functools.wraps(method)
        async def handler(self: Any, request: Any, context: grpc.aio.ServicerContext) -> Any:
            principal = CALLER.get()
            if principal is None:
                raise unknown_principal()
            if principal.kind not in admitted:
                raise Refusal(Category.PERMISSION_DENIED, "PRINCIPAL_NOT_ADMITTED",
                              f"{principal} may not call {method.__name__}",
                              metadata={"principal": str(principal), "admitted": ",".join(k.value for k in admitted)})
            return await method(self, request, context, principal)

        handler.admits = admitted  # type: ignore[attr-defined]
        return handler

    return decorate
