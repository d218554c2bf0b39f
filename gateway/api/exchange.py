"""LocalExchangeService: a province's own payloads, through the adapter of the caller's province
(adapters.provinces), to the same servicers as the canonical API, and the answer back in the same
local schema. A payload the adapter cannot read, and a refusal, are local error answers (``infcode``
-1); nothing is written for either."""

from __future__ import annotations

import json
from typing import Any, Awaitable, Callable

from google.protobuf.message import Message

from adapters import envelope
from adapters.envelope import CodecError
from adapters.provinces import CODECS, codec_of
from gateway._proto.copay.v1 import accounts_pb2
from gateway._proto.copay.v1 import exchange_pb2 as pb
from gateway._proto.copay.v1 import exchange_pb2_grpc
from gateway.api.accounts import AccountsServicer
from gateway.api.auth import rpc
from gateway.api.bindings import BindingsServicer
from gateway.api.clearing import ClearingServicer
from gateway.api.members import MembersServicer
from gateway.api.settlements import SettlementsServicer
from gateway.api.vocabulary import wire_metadata
from gateway.domain.errors import Category, Refusal
from gateway.security.principal import Kind, Principal

Handler = Callable[[Message, Any], Awaitable[Message]]


class LocalExchangeServicer(exchange_pb2_grpc.LocalExchangeServiceServicer):
    def __init__(self, members: MembersServicer, bindings: BindingsServicer, settlements: SettlementsServicer,
                 accounts: AccountsServicer, clearing: ClearingServicer) -> None:
        self._accounts = accounts
        self._handlers: dict[str, Handler] = {
            "copay.v1.MembersService/BatchUpsertMembers": members.BatchUpsertMembers,
            "copay.v1.BindingsService/CreateBinding": bindings.CreateBinding,
            "copay.v1.BindingsService/RevokeBinding": bindings.RevokeBinding,
            "copay.v1.SettlementsService/PreSettle": settlements.PreSettle,
            "copay.v1.SettlementsService/Settle": settlements.Settle,
            "copay.v1.SettlementsService/ReverseSettlement": settlements.ReverseSettlement,
            "copay.v1.ClearingService/GetClearingStatement": clearing.GetClearingStatement,
            "copay.v1.ClearingService/ConfirmClearingStatement": clearing.ConfirmClearingStatement,
            "copay.v1.ClearingService/ReconcileClearingTotals": clearing.ReconcileClearingTotals,
            "copay.v1.ClearingService/ReconcileClearingLinesPage": clearing.ReconcileClearingLinesPage}

    @rpc(Kind.REGION)
    async def Exchange(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        codec = codec_of(caller.name)
        if codec is None:
            raise Refusal(Category.FAILED_PRECONDITION, "NO_ADAPTER", f"province {caller.name[:2]} has no adapter at "
                          "the gateway; use the canonical services", metadata={"provinces": ",".join(sorted(CODECS))})
        try:
            decoded = codec.decode(request.payload, caller.name)
        except CodecError as error:
            text = codec.err_msg("INVALID_REQUEST", None, "the payload cannot be read", [(error.field,
                                                                                         error.description)])
            return pb.ExchangeResponse(payload=envelope.refusal(_msgid(request.payload), text))
        try:
            answer = await self._handlers[decoded.method](decoded.request, context)
        except Refusal as refusal:
            named = {k: v for k, v in refusal.metadata.items() if k != "rule"}
            detail = ", ".join(f"{k}={v}" for k, v in sorted(wire_metadata(named).items()))
            text = codec.refusal_msg(decoded.infno, refusal.reason, refusal.rule, refusal.message,
                                     [(v.field, v.description) for v in refusal.violations], detail)
            return pb.ExchangeResponse(payload=envelope.refusal(decoded.msgid, text))
        balances = await self._balances(answer, caller, context)
        return pb.ExchangeResponse(payload=envelope.answer(decoded.msgid, codec.output(decoded.infno, answer,
                                                                                          balances)))

    async def _balances(self, answer: Message, caller: Principal, context: Any) -> dict[str, int]:
        """``balc`` for the lines of the caller's own grantors (only they may see those balances)."""
        grantors = {line.grantor for line in getattr(answer, "lines", ()) if line.grantor_region == caller.name
                    and line.grantor}
        found = {}
        for grantor in sorted(grantors):
            account = await self._accounts.GetAccount(accounts_pb2.GetAccountRequest(name=f"{grantor}/account"),
                                                      context)
            found[grantor] = account.balance_fen
        return found


def _msgid(payload: str) -> str:
    """The msgid of a payload that could not be read, if it can be found, for ``inf_refmsgid``."""
    try:
        return str(json.loads(payload).get("msgid", ""))[:64]
    except (ValueError, AttributeError, RecursionError):
        return ""

