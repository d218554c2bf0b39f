"""SIGKILL the gateway while settlements are in flight, restart it, retry every
request whose answer was lost: nothing is charged twice, nothing is lost."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

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
    writer = gw.writer_pid() if backend == "sqlite" else None
    gw.process.kill()  # SIGKILL: no drain, no cleanup
    gw.process.wait(timeout=10)
    if writer is not None:
        assert exits_soon(writer), "the SQLite writer outlived its server"
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


def test_a_dead_sqlite_writer_stops_the_gateway_with_an_error_and_calls_get_unavailable(pki, tmp_path):
    url = f"sqlite:///{tmp_path / 'copay.db'}"
    upgrade(make_engine(url))
    gw = start_gateway(pki, url, tmp_path)
    world = World(gw)
    _, beneficiary, _ = world.family("420100", fen=FUNDING)
    stub = world.settlements("420100")
    os.kill(gw.writer_pid(), signal.SIGKILL)
    with pytest.raises(grpc.RpcError) as refused:
        for i in range(50):  # until the server has noticed
            stub.Settle(pb.SettleRequest(request_id=f"orphan-{i}", claim=world.claim(beneficiary, FEN)), timeout=10)
            time.sleep(0.1)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    assert gw.process.wait(timeout=30) == 1
    assert '"msg": "database writer exited; the gateway stops"' in gw.log()


def exits_soon(pid: int, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        status = Path(f"/proc/{pid}/stat")
        if status.exists() and status.read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return True  # exited; its (killed) parent will never reap it
        time.sleep(0.05)
    return False
