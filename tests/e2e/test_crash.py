"""SIGKILL the gateway while settlements are in flight, restart it, retry every
request whose answer was lost: nothing is charged twice, nothing is lost."""

from __future__ import annotations

import time

import grpc
import pytest
from sqlalchemy import func, select

from gateway._proto.copay.v1 import settlements_pb2 as pb
from gateway.store.db import make_engine
from gateway.store.migrate import upgrade
from gateway.store.tables import settlements
from tests.conftest import BACKENDS
from tests.e2e.conftest import start_gateway
from tests.e2e.world import World
from tests.invariants import check_ledger

pytestmark = pytest.mark.e2e
REQUESTS, FEN, FUNDING = 240, 100, 100_000


@pytest.mark.parametrize("backend", BACKENDS)
def test_killed_gateway_loses_nothing_and_charges_nothing_twice(backend, pki, tmp_path, request):
    url = f"sqlite:///{tmp_path / 'copay.db'}" if backend == "sqlite" else request.getfixturevalue("fresh_postgres")()
    engine = make_engine(url)
    upgrade(engine)
    gw = start_gateway(pki, url, tmp_path)
    world = World(gw)
    families = [world.family("420100", fen=FUNDING) for _ in range(4)]
    claims = [world.claim(families[i % 4][1], FEN) for i in range(REQUESTS)]
    stub = world.settlements("420100")
    calls = [stub.Settle.future(pb.SettleRequest(request_id=f"crash-{i}", claim=claim), timeout=30)
             for i, claim in enumerate(claims)]
    while sum(c.done() for c in calls) < REQUESTS // 4:
        time.sleep(0.001)
    gw.process.kill()  # SIGKILL: no drain, no cleanup
    gw.process.wait(timeout=10)
    answers: dict[int, pb.Settlement] = {}
    for i, call in enumerate(calls):
        try:
            answers[i] = call.result()
        except grpc.RpcError:
            pass
    lost = [i for i in range(REQUESTS) if i not in answers]
    assert answers and lost, "the kill should land while some calls are still in flight"
    gw.stop()

    again = start_gateway(pki, url, tmp_path)
    try:
        world.gateway = again
        stub = world.settlements("420100")
        for i in lost:
            answers[i] = stub.Settle(pb.SettleRequest(request_id=f"crash-{i}", claim=claims[i]), timeout=10)
        for i in list(answers)[:10]:  # answers that did arrive replay identically
            assert stub.Settle(pb.SettleRequest(request_id=f"crash-{i}", claim=claims[i]), timeout=10) == answers[i]
        assert len({a.name for a in answers.values()}) == REQUESTS
        for grantor, _, _ in families:
            spent = sum(a.mutual_aid_fen for a in answers.values() if a.lines[0].grantor == grantor)
            assert world.balance(grantor) == FUNDING - spent == FUNDING - FEN * REQUESTS // 4
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(settlements)).scalar_one() == REQUESTS
        check_ledger(engine)
    finally:
        again.stop()
        engine.dispose()
