"""Every RPC states which principals it admits: ``@rpc(Kind.REGION)``.

The decorator resolves the caller from the client certificate, refuses
callers the method does not admit, runs the method, and turns a Refusal into
an AIP-193 status. A servicer method without it would admit nobody: a test
checks that every registered RPC carries it.
"""

from __future__ import annotations

import functools
from typing import Any, Awaitable, Callable

import grpc

from gateway.api.errors import to_status, unauthenticated
from gateway.domain.errors import Category, Refusal
from gateway.security.principal import Kind, Principal, principal_from_pem

Method = Callable[[Any, Any, grpc.aio.ServicerContext, Principal], Awaitable[Any]]


def caller_of(context: grpc.aio.ServicerContext) -> Principal | None:
    pems = context.auth_context().get("x509_pem_cert")
    return principal_from_pem(pems[0]) if pems else None


def rpc(*admitted: Kind) -> Callable[[Method], Callable[..., Awaitable[Any]]]:
    def decorate(method: Method) -> Callable[..., Awaitable[Any]]:
        @functools.wraps(method)
        async def handler(self: Any, request: Any, context: grpc.aio.ServicerContext) -> Any:
            try:
                principal = caller_of(context)
                if principal is None:
                    raise unauthenticated("the client certificate names no region or operator "
                                          "(expected a URI SAN spiffe://copay.local/region/{admdvs})")
                if principal.kind not in admitted:
                    raise Refusal(Category.PERMISSION_DENIED, "PRINCIPAL_NOT_ADMITTED",
                                  f"{principal} may not call {method.__name__}",
                                  metadata={"principal": str(principal),
                                            "admitted": ",".join(k.value for k in admitted)})
                return await method(self, request, context, principal)
            except Refusal as refusal:
                await context.abort_with_status(to_status(refusal))

        handler.admits = admitted  # type: ignore[attr-defined]
        return handler

    return decorate
