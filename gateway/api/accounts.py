"""AccountsService: translation only; see gateway.service.accounts."""

from __future__ import annotations


from gateway._proto.copay.v1 import accounts_pb2 as pb
from gateway._proto.copay.v1 import accounts_pb2_grpc
from gateway.api.auth import rpc
from gateway.api.bindings import parse_party
from gateway.api.idempotency import request_key
from gateway.api.runner import Runner
from gateway.api.names import check_request_id, member_name, require_own_region
from gateway.domain.identity import IdHasher
from gateway.domain.errors import Violations
from gateway.domain.ledger import MAX_FEN
from gateway.security.principal import Kind, Principal
from gateway.service import accounts as service


def account_message(account: service.Account) -> pb.Account:
    grantor = member_name(account.grantor.region, account.grantor.psn_no)
    return pb.Account(name=f"{grantor}/account", grantor=grantor, balance_fen=account.balance,
                      funded_fen=account.funded, released_fen=account.released, spent_fen=account.spent,
                      refunded_fen=account.refunded)


def render(account: service.Account) -> bytes:
    return account_message(account).SerializeToString()


class AccountsServicer(accounts_pb2_grpc.AccountsServiceServicer):
    def __init__(self, db: Runner, hasher: IdHasher) -> None:
        self._db = db
        self._hash = hasher

    def _check(self, request, caller: Principal, allow_zero: bool):  # type: ignore[no-untyped-def]
        problems = Violations()
        grantor = parse_party(request.grantor, problems, "grantor")
        check_request_id(request.request_id, problems)
        if not (0 if allow_zero else 1) <= request.amount_fen <= MAX_FEN:
            problems.add("amount_fen", f"must be {'0 (everything) or more' if allow_zero else 'positive'}, "
                                       f"at most {MAX_FEN} fen")
        problems.raise_if_any()
        require_own_region(caller, grantor.region)
        return grantor

    @rpc(Kind.REGION)
    async def FundAccount(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        grantor = self._check(request, caller, allow_zero=False)
        key = request_key(caller, "FundAccount", request, self._hash)
        answer = await self._db(service.fund, grantor, request.amount_fen, key, render)
        return pb.Account.FromString(answer)

    @rpc(Kind.REGION)
    async def ReleaseAccount(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        grantor = self._check(request, caller, allow_zero=True)
        key = request_key(caller, "ReleaseAccount", request, self._hash)
        answer = await self._db(service.release, grantor, request.amount_fen, key, render)
        return pb.Account.FromString(answer)

    @rpc(Kind.REGION)
    async def GetAccount(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        problems = Violations()
        member, _, suffix = request.name.rpartition("/")
        if suffix != "account":
            problems.add("name", "must look like regions/{admdvs}/members/{psn_no}/account")
            problems.raise_if_any()
        grantor = parse_party(member, problems, "name")
        problems.raise_if_any()
        require_own_region(caller, grantor.region)
        return account_message(await self._db(service.get, grantor))
