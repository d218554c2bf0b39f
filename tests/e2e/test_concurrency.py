"""Money under concurrency, through real servers: no overdraft, exactly-once
retries, refunds within the payment; on SQLite, and on PostgreSQL with two
gateway processes sharing one database, straight and through PgBouncer in
transaction pooling."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from gateway._proto.copay.v1 import settlements_pb2 as pb
from tests.e2e.conftest import WITH_PGBOUNCER
from tests.e2e.world import T, World
from tests.invariants import check_ledger

pytestmark = [pytest.mark.e2e, WITH_PGBOUNCER]


def outcome(call):
    try:
        return call()
    except grpc.RpcError as err:
        return err.code()


def test_concurrent_settlements_against_one_grantor_never_overdraw(shared_database):
    gateways, engine = shared_database
    worlds = [World(gw) for gw in gateways]
    grantor, beneficiary, _ = worlds[0].family("420100", fen=10_000)
    for w in worlds[1:]:
        w.numbers.update(worlds[0].numbers)
    claim = worlds[0].claim(beneficiary, 300)  # 33 fit in the balance, the 34th does not
    requests = [(worlds[i % len(worlds)], f"race-{i}") for i in range(60)]
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda r: outcome(lambda: r[0].settle(claim, request_id=r[1])), requests))
    paid = [r for r in results if isinstance(r, pb.Settlement)]
    refused = [r for r in results if not isinstance(r, pb.Settlement)]
    assert len(paid) == 33 and set(refused) == {grpc.StatusCode.FAILED_PRECONDITION}
    assert worlds[0].balance(grantor) == 100
    assert check_ledger(engine)[f"share:{grantor.split('/')[1]}:{grantor.split('/')[3]}"] == 100


def test_concurrent_retries_of_one_request_charge_once(shared_database):
    gateways, engine = shared_database
    worlds = [World(gw) for gw in gateways]
    grantor, beneficiary, _ = worlds[0].family("420100", fen=10_000)
    claim = worlds[0].claim(beneficiary, 700)
    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda i: worlds[i % len(worlds)].settle(claim, request_id="retry-me"), range(12)))
    assert len({a.SerializeToString() for a in answers}) == 1
    assert worlds[0].balance(grantor) == 9_300
    check_ledger(engine)


def test_concurrent_refunds_never_exceed_the_payment(shared_database):
    gateways, engine = shared_database
    worlds = [World(gw) for gw in gateways]
    grantor, beneficiary, _ = worlds[0].family("420100", fen=10_000)
    paid = worlds[0].settle(worlds[0].claim(beneficiary, 5_000))
    stubs = [w.settlements("420100") for w in worlds]

    def refund(i):
        return outcome(lambda: stubs[i % len(stubs)].ReverseSettlement(pb.ReverseSettlementRequest(
            name=paid.name, request_id=f"refund-{i}", amount_fen=700), timeout=T))

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(refund, range(20)))
    done = [r for r in results if isinstance(r, pb.Settlement)]
    assert len(done) == 7 and worlds[0].balance(grantor) == 5_000 + 7 * 700
    final = stubs[0].GetSettlement(pb.GetSettlementRequest(name=paid.name), timeout=T)
    assert final.refunded_fen == 4_900 <= final.mutual_aid_fen
    check_ledger(engine)
