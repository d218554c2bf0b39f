"""``copay-gateway bench --clearing-lines N``: how long closing a clearing window of N lines takes, reading a
region's statement of it, and paging through that region's detail (gateway.service.clearing), straight on the
database (a close runs where the gateway runs it: on SQLite in the one writer, so settlements wait for it)."""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from time import perf_counter

from sqlalchemy import Engine, insert

from gateway.service import clearing
from gateway.store import unit_of_work
from gateway.store.tables import clearing_lines, settlements

DAY = date(2026, 1, 5)
REGIONS = ("420100", "421000", "110000", "310000", "320100", "440100")
BATCH = 50_000


def load(engine: Engine, count: int, day: date = DAY) -> None:
    """``count`` lines in the window of ``day`` between six regions, one in ten a refund."""
    at = datetime.combine(day, time(4), tzinfo=timezone.utc)  # noon in Asia/Shanghai
    with engine.begin() as conn:
        seq = conn.execute(insert(settlements).returning(settlements.c.seq), [{
            "id": f"bench-clearing-{day}", "treatment_region": REGIONS[0], "beneficiary_region": REGIONS[0],
            "beneficiary_psn_no": "B", "credential": "e_voucher", "institution_code": None, "institution_kind": None,
            "use": "outpatient", "total": 1, "fund_part": 0, "personal_part": 1, "items": "",
            "created_at": at}]).scalar()
    for start in range(0, count, BATCH):
        with engine.begin() as conn:
            conn.execute(insert(clearing_lines), [{
                "day": day, "name": f"regions/{REGIONS[i % 6]}/settlements/s{day:%Y%m%d}{i:08d}/lines/0",
                "kind": "refund" if i % 10 == 0 else "payment", "payer_region": REGIONS[(i // 6) % 6],
                "payee_region": REGIONS[i % 6], "amount": 100 + i % 1000, "settlement_seq": seq, "at": at}
                for i in range(start, min(count, start + BATCH))])


def measure(engine: Engine, count: int) -> str:
    started = perf_counter()
    load(engine, count)
    loaded = perf_counter() - started
    uow = unit_of_work.factory(engine)
    started = perf_counter()
    closed = clearing.close(uow, DAY, "bench", datetime(2026, 1, 7, tzinfo=timezone.utc))
    close = perf_counter() - started
    started = perf_counter()
    clearing.get_statement(uow, REGIONS[0], DAY)
    statement = perf_counter() - started
    started, after, lines = perf_counter(), "", 0
    while True:
        rows, more = clearing.lines_page(uow, REGIONS[0], DAY, after, 1000)
        lines += len(rows)
        if not more:
            break
        after = rows[-1].name
    detail = perf_counter() - started
    return (f"clearing window of {closed[0].lines:,} lines (loaded in {loaded:.1f} s): close {close:.2f} s; "
            f"a region's statement {statement * 1000:.1f} ms; its detail, {lines:,} lines in pages of 1,000, "
            f"{detail:.2f} s")
