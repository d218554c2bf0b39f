"""The database's address goes away under load and comes back: a PgBouncer in front of PostgreSQL killed and
started again on the same address, as a failover behind a virtual IP or a DNS name looks to the gateways.
Two gateways keep serving; a call whose connection is cut, and one that finds no database to connect to, is
UNAVAILABLE, never another error; retried
with the same request_id until answered, every request is paid once; the gateways serve again without a
restart (README, Running N gateways against one PostgreSQL: when the database fails over)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any, Callable

import grpc
import pytest
from sqlalchemy import func, select

from gateway._proto.copay.v1 import settlements_pb2 as pb
from gateway.store.db import make_engine
from gateway.store.tables import settlements
from tests.e2e.conftest import start_gateway
from tests.e2e.world import World
from tests.invariants import check_ledger
from tests.pgbouncer import PgBouncer

pytestmark = pytest.mark.e2e
REQUESTS, FEN, FUNDING, THREADS = 160, 100, 100_000, 8


LOST, UNREACHABLE = "the connection to the database was lost", "the database cannot be reached"


def until(check, what: str, seconds: float = 30) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


def test_settlements_go_on_when_the_database_comes_back_and_each_is_paid_once(pki, tmp_path, postgres_server,
                                                                               fresh_postgres) -> None:
    url = fresh_postgres()
    bouncer = PgBouncer(postgres_server, tmp_path)
    engine = make_engine(url)  # straight to the database, for the checks
    gateways: list[Any] = []
    answers: dict[int, pb.Settlement] = {}
    codes: Counter[grpc.StatusCode] = Counter()
    unavailable: Counter[str] = Counter()  # UNAVAILABLE answers by the start of their message
    lock = threading.Lock()

    def unavailable_with(message: str) -> Callable[[], bool]:
        """Whether some call was answered UNAVAILABLE with this message; at once a failure if any call was
        answered with another code than OK or UNAVAILABLE."""
        def check() -> bool:
            with lock:
                assert set(codes) <= {grpc.StatusCode.OK, grpc.StatusCode.UNAVAILABLE}, codes
                return any(m.startswith(message) for m in unavailable)
        return check

    try:
        bouncer.start()
        gateways += [start_gateway(pki, bouncer.url(url), tmp_path) for _ in range(2)]
        worlds = [World(gw) for gw in gateways]
        families = [worlds[0].family("420100", fen=FUNDING) for _ in range(4)]
        claims = [worlds[0].claim(families[i % 4][1], FEN) for i in range(REQUESTS)]

        give_up = time.monotonic() + 90  # a gateway that never recovers fails the test in 90 s, not hours

        def settle_until_answered(k: int) -> None:
            """Thread k's share of the requests, each sent until it is answered, always with its request_id."""
            stub = worlds[k % 2].settlements("420100")
            for i in range(k, REQUESTS, THREADS):
                request = pb.SettleRequest(request_id=f"failover-{i}", claim=claims[i])
                while time.monotonic() < give_up:
                    try:
                        answer = stub.Settle(request, timeout=10)
                    except grpc.RpcError as err:
                        with lock:
                            codes[err.code()] += 1
                            if err.code() == grpc.StatusCode.UNAVAILABLE:
                                unavailable[err.details() or ""] += 1
                        if err.code() != grpc.StatusCode.UNAVAILABLE:
                            return
                        time.sleep(0.02)
                        continue
                    with lock:
                        codes[grpc.StatusCode.OK] += 1
                        answers[i] = answer
                    break

        workers = [threading.Thread(target=settle_until_answered, args=(k,), daemon=True) for k in range(THREADS)]
        for worker in workers:
            worker.start()
        until(lambda: len(answers) >= REQUESTS // 4, "no settlements before the database went away")
        bouncer.kill()  # and kept away until calls have found their connections cut and no database to connect to
        until(unavailable_with(LOST), "no call found its connection cut")
        until(unavailable_with(UNREACHABLE), "no call found the database unreachable")
        assert len(answers) < REQUESTS, "the database went away while requests were still to be sent"
        bouncer.start()  # the same address again
        for worker in workers:
            worker.join(max(0.0, give_up - time.monotonic()) + 20)
        assert not any(worker.is_alive() for worker in workers), "requests still unanswered"
        assert set(codes) == {grpc.StatusCode.OK, grpc.StatusCode.UNAVAILABLE}, codes
        assert sorted(answers) == list(range(REQUESTS)), "every request answered in the end"
        assert len({a.name for a in answers.values()}) == REQUESTS
        stub = worlds[0].settlements("420100")
        for i in list(answers)[:: REQUESTS // 8]:  # an answer given replays the same, from either gateway
            assert stub.Settle(pb.SettleRequest(request_id=f"failover-{i}", claim=claims[i]), timeout=10) \
                == answers[i]
        for grantor, _, _ in families:
            assert worlds[1].balance(grantor) == FUNDING - FEN * REQUESTS // 4
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(settlements)).scalar_one() == REQUESTS
        check_ledger(engine)
        assert all(gw.process.poll() is None for gw in gateways)  # the same processes served throughout
    finally:
        for gw in gateways:
            gw.stop()
        bouncer.stop()
        engine.dispose()
