"""Clearing windows against real databases: random settlements and refunds across regions and days, then
every window closed (from sums taken half-way and the lines after them): each statement balances, the nets of all regions sum to zero in every window, and over
all windows each region's net is its clearing position in the ledger. A close racing with settlements on
PostgreSQL from two processes: every line lands in exactly one window, and a closed window's totals are
exactly the lines in it. Reconciliation finds each injected discrepancy and nothing on clean books."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import shutil
import tempfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import func, select

from gateway.domain.bindings import Party
from gateway.domain.clearing import Figures, LineDifferences, merge
from gateway.domain.clock import CHINA
from gateway.domain.errors import Refusal
from gateway.domain.members import EnrolmentStatus as S, InsuranceType as T, MemberReport
from gateway.domain.policies import Use
from gateway.domain.regions import Scoped
from gateway.domain.relationships import Relationship as R
from gateway.domain.settlements import Claim, CredentialType, Institution, InstitutionKind
from gateway.policies import load
from gateway.seed import register_regions
from gateway.service import accounts, bindings, clearing, settlements
from gateway.service.members import report_members
from gateway.service.once import RequestKey, in_transaction
from gateway.store import unit_of_work
from gateway.store.db import make_engine
from gateway.store.ledger import SqlLedger
from gateway.store.migrate import upgrade
from gateway.store.tables import clearing_lines, clearing_windows, settlement_lines
from tests.conftest import BACKENDS

POLICIES = load()
REGIONS = ("420100", "421000")  # Hubei shares across the province: grantors of either pay in either
DAY0 = date(2026, 11, 2)
COUNTER = iter(range(10**9))


def key(region: str) -> RequestKey:
    """Unique in every process (the race test's workers are spawned: each starts the counter anew)."""
    n = f"{os.getpid()}-{next(COUNTER)}"
    return RequestKey(f"region/{region}", f"r-{n}", f"f-{n}")


def noon(day: date, minutes: int = 0) -> datetime:
    return datetime.combine(day, datetime.min.time(), CHINA) + timedelta(hours=12, minutes=minutes)


def family(uow, region: str, n: int, fen: int) -> Party:  # type: ignore[no-untyped-def]
    """A beneficiary of ``region`` with a grantor in each region, each funded with ``fen``."""
    beneficiary = Party(region, f"B{n}")
    grantors = [Party(r, f"G{n}") for r in REGIONS]
    for party in [beneficiary, *grantors]:
        in_transaction(uow, lambda u, p=party: report_members(u, p.region, [
            MemberReport(p.psn_no, f"hash-{p.region}-{p.psn_no}", p.region, T.EMPLOYEE, S.NORMAL)]))
    for grantor in grantors:
        bindings.create(uow, POLICIES, grantor.region, grantor, beneficiary, R.ELDER_BROTHER, "", key(grantor.region),
                        lambda b: b"")
        accounts.fund(uow, grantor, fen, key(grantor.region), lambda a: b"")
    return beneficiary


def settle(uow, beneficiary: Party, where: str, fen: int, at: datetime):  # type: ignore[no-untyped-def]
    claim = Claim(beneficiary, CredentialType.E_VOUCHER, f"hash-{beneficiary.region}-{beneficiary.psn_no}",
                  Institution("H1", InstitutionKind.HOSPITAL, True, where), Use.OUTPATIENT, fen, 0, fen,
                  frozenset(), (), True)
    return pickle.loads(settlements.settle(uow, POLICIES, where, claim, "", key(where), pickle.dumps, at))


def positions(engine) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        derived = SqlLedger(conn).derived_balances()
    return {k.removeprefix("position:"): v for k, v in derived.items() if k.startswith("position:")}


@pytest.fixture
def world(engine):  # type: ignore[no-untyped-def]
    return unit_of_work.factory(engine)


# --- property: random traffic over days, every window closed ------------------------------------------------

operations = st.lists(st.tuples(
    st.integers(0, 3),  # the beneficiary
    st.sampled_from(REGIONS),  # where the treatment is
    st.integers(1, 5_000),  # fen
    st.integers(0, 3),  # the day
    st.one_of(st.none(), st.tuples(st.integers(0, 2), st.integers(0, 3_000))),  # refund: days later, fen (0 all)
), min_size=1, max_size=25)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database with four families (one made per module: each example copies it)."""
    path = tmp_path_factory.mktemp("clearing") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    register_regions(engine)
    uow = unit_of_work.factory(engine)
    for n in range(4):
        family(uow, REGIONS[n % 2], n, 20_000)
    engine.dispose()
    return path


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_statements_balance_sum_to_zero_and_agree_with_the_ledger(template, ops):
    with tempfile.TemporaryDirectory() as folder:
        shutil.copy(template, Path(folder) / "copay.db")
        engine = make_engine(f"sqlite:///{Path(folder) / 'copay.db'}")
        uow = unit_of_work.factory(engine)
        people = [Party(REGIONS[n % 2], f"B{n}") for n in range(4)]
        through, now, tallies = DAY0 + timedelta(days=5), noon(DAY0 + timedelta(days=9)), {}
        for i, (who, where, fen, day, refund) in enumerate(ops):
            if i == len(ops) // 2:  # the sums before a close, half-way: the close adds the lines after them
                tallies = clearing.tallies(uow, through, now)
            done = settle(uow, people[who], where, fen, noon(DAY0 + timedelta(days=day)))
            if refund is not None and done.paid:
                later, amount = refund
                try:
                    settlements.reverse(uow, where, Scoped(where, done.id), min(amount, done.paid), key(where),
                                        pickle.dumps, noon(DAY0 + timedelta(days=day + later), 1))
                except Refusal as refusal:
                    assert refusal.reason == "NOTHING_TO_REFUND"
        closed = clearing.close(uow, through, "test", now, tallies=tallies)
        first = min(day for *_, day, _ in ops)  # windows start with the first day that has a line
        assert [w.day for w in closed] == [DAY0 + timedelta(days=d) for d in range(first, 6)]
        net: dict[str, int] = {}
        for window in closed:
            statements = clearing.all_statements(uow, window.day)
            assert sum(s.totals.net_fen for s in statements) == 0, "the nets of a window sum to zero"
            lines = sum(s.totals.payable_count + s.totals.payable_refund_count for s in statements)
            assert lines == window.lines, "every line is payable by exactly one region"
            for s in statements:
                assert sum(f.net_fen for f in s.counterparties.values()) == s.totals.net_fen
                net[s.region] = net.get(s.region, 0) + s.totals.net_fen
                for other, figures in s.counterparties.items():  # each side of a pair sees the other's mirror
                    mirror = clearing.get_statement(uow, other, window.day).statement.counterparties[s.region]
                    assert (figures.payable_fen, figures.receivable_fen) == (mirror.receivable_fen, mirror.payable_fen)
        assert {r: v for r, v in net.items() if v} == {r: v for r, v in positions(engine).items() if v}
        with engine.connect() as conn:
            paid = conn.execute(select(func.sum(clearing_lines.c.amount)).where(
                clearing_lines.c.kind == "payment")).scalar() or 0
        assert paid == sum(ops_paid(engine))
        engine.dispose()


def ops_paid(engine) -> list[int]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return [r.amount for r in conn.execute(select(settlement_lines.c.amount))]


# --- windows, statements, confirmations, reconciliation on both engines -------------------------------------

pytestmark_both = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)


@pytestmark_both
def test_a_window_closes_after_its_day_in_order_once_and_its_statement_waits_for_the_close(world):
    a = family(world, "420100", 1, 10_000)
    settle(world, a, "421000", 3_000, noon(DAY0))  # 420100's and 421000's grantors: 3000 from the first
    with pytest.raises(Refusal) as early:
        clearing.close(world, DAY0, "ops", noon(DAY0, 60))
    assert early.value.reason == "WINDOW_NOT_ENDED"
    with pytest.raises(Refusal) as open_:
        clearing.get_statement(world, "420100", DAY0)
    assert open_.value.reason == "WINDOW_OPEN"
    later = noon(DAY0 + timedelta(days=1))
    settle(world, a, "421000", 1_000, later)
    assert [w.day for w in clearing.close(world, DAY0, "ops", later)] == [DAY0]
    assert clearing.close(world, DAY0, "ops", later) == []  # closed already: nothing to do
    payer = clearing.get_statement(world, "420100", DAY0).statement
    payee = clearing.get_statement(world, "421000", DAY0).statement
    assert payer.counterparties["421000"].payable_fen == 3_000 and payer.totals.net_fen == -3_000
    assert payee.counterparties["420100"].receivable_fen == 3_000 and payee.totals.net_fen == 3_000
    assert [w.day for w in clearing.close_due(world, timedelta(minutes=30),
                                              datetime.combine(DAY0 + timedelta(days=2), datetime.min.time(), CHINA)
                                              + timedelta(minutes=29))] == []  # within the grace period
    assert [w.day for w in clearing.close_due(world, timedelta(minutes=30),
                                              datetime.combine(DAY0 + timedelta(days=2), datetime.min.time(), CHINA)
                                              + timedelta(minutes=31))] == [DAY0 + timedelta(days=1)]
    assert clearing.get_statement(world, "420100", DAY0 + timedelta(days=1)).statement.totals.payable_fen == 1_000


@pytestmark_both
def test_a_refund_belongs_to_the_window_it_happens_in(world):
    a = family(world, "420100", 2, 10_000)
    done = settle(world, a, "421000", 4_000, noon(DAY0))
    settlements.reverse(world, "421000", Scoped("421000", done.id), 1_500, key("421000"), pickle.dumps,
                        noon(DAY0 + timedelta(days=1)))
    clearing.close(world, DAY0 + timedelta(days=1), "ops", noon(DAY0 + timedelta(days=2)))
    first = clearing.get_statement(world, "421000", DAY0).statement.counterparties["420100"]
    second = clearing.get_statement(world, "421000", DAY0 + timedelta(days=1)).statement.counterparties["420100"]
    assert (first.receivable_fen, first.receivable_refund_fen) == (4_000, 0)
    assert (second.receivable_fen, second.receivable_refund_fen, second.receivable_refund_count) == (0, 1_500, 1)
    assert second.net_fen == -1_500


@pytestmark_both
def test_confirm_or_dispute_once_confirmed_stays_confirmed_and_is_audited(world, engine):
    a = family(world, "420100", 3, 10_000)
    settle(world, a, "421000", 2_000, noon(DAY0))
    clearing.close(world, DAY0, "ops", noon(DAY0 + timedelta(days=1)))
    now = noon(DAY0 + timedelta(days=1))

    def say(verdict: str, reason: str):  # type: ignore[no-untyped-def]
        return in_transaction(world, lambda u: clearing.confirm(u, "421000", DAY0, verdict, reason, "region/421000",
                                                                now))
    assert say("disputed", "our books say 1,900").history[-1].verdict == "disputed"
    assert [c.verdict for c in say("confirmed", "corrected on our side").history] == ["disputed", "confirmed"]
    with pytest.raises(Refusal) as again:
        say("disputed", "second thoughts")
    assert again.value.reason == "STATEMENT_CONFIRMED"
    from gateway.store.tables import audit_log
    with engine.connect() as conn:
        actions = [r.action for r in conn.execute(select(audit_log.c.action).order_by(audit_log.c.seq))]
    assert actions[-2:] == ["clearing.disputed", "clearing.confirmed"]


@pytestmark_both
def test_reconciliation_finds_each_injected_discrepancy_and_nothing_on_clean_books(world):
    a = family(world, "420100", 4, 50_000)
    for fen in (1_000, 2_000, 3_000):
        settle(world, a, "421000", fen, noon(DAY0))
    clearing.close(world, DAY0, "ops", noon(DAY0 + timedelta(days=1)))
    ours = clearing.gateway_lines(world, "421000", DAY0, "", None, 100)
    assert [fen for _, fen in ours] == sorted(fen for _, fen in ours) or len(ours) == 3

    def reconcile(theirs):  # type: ignore[no-untyped-def]
        found = LineDifferences(cap=10)
        merge(clearing.gateway_lines(world, "421000", DAY0, "", None, 100), sorted(theirs), found)
        return found

    clean = reconcile(ours)
    assert clean.clean and clean.counts["matched"] == 3
    missing = reconcile(ours[1:])
    assert missing.only_at_gateway == [ours[0]] and missing.counts["only_at_region"] == 0
    extra = reconcile([*ours, ("regions/421000/settlements/not-ours/lines/0", 500)])
    assert extra.only_at_region == [("regions/421000/settlements/not-ours/lines/0", 500)] and \
        extra.counts["only_at_gateway"] == 0
    off = reconcile([ours[0], (ours[1][0], ours[1][1] + 1), ours[2]])
    assert off.amounts_differ == [(ours[1][0], ours[1][1], ours[1][1] + 1)] and off.counts["matched"] == 2
    totals, differences = clearing.reconcile_totals(world, "421000", DAY0, Figures(receivable_count=3,
                                                                                   receivable_fen=6_000))
    assert differences == [] and totals.receivable_fen == 6_000
    _, differences = clearing.reconcile_totals(world, "421000", DAY0, Figures(receivable_count=3,
                                                                              receivable_fen=5_999))
    assert differences == [("receivable_fen", 6_000, 5_999)]


# --- a close racing with settlements: PostgreSQL, two processes ---------------------------------------------

def _settle_until(url: str, beneficiaries: list[tuple[str, str]], at: datetime, start, stop) -> None:
    engine = make_engine(url)
    uow = unit_of_work.factory(engine)
    start.wait()
    n = 0
    while not stop.is_set():
        region, psn_no = beneficiaries[n % len(beneficiaries)]
        settle(uow, Party(region, psn_no), "421000", 10, at)
        n += 1
    engine.dispose()


def _lines(engine) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(clearing_lines)).scalar()


def _wait_for(engine, count: int) -> None:  # type: ignore[no-untyped-def]
    deadline = datetime.now(timezone.utc) + timedelta(seconds=120)
    while _lines(engine) < count:
        assert datetime.now(timezone.utc) < deadline, "the workers stopped settling"


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_close_racing_with_settlements_from_two_processes_leaves_every_line_in_exactly_one_window(
        world, engine, database_url):
    """Two processes settle (one line each, all dated in DAY0) before, during and after the close of DAY0."""
    people = [family(world, "420100", 10 + n, 1_000_000) for n in range(4)]
    context = multiprocessing.get_context("spawn")
    start, stop = context.Event(), context.Event()
    workers = [context.Process(target=_settle_until, args=(
        database_url, [(p.region, p.psn_no) for p in people[n::2]], noon(DAY0), start, stop)) for n in range(2)]
    for w in workers:
        w.start()
    try:
        start.set()
        _wait_for(engine, 40)
        assert [w.day for w in clearing.close(world, DAY0, "ops", noon(DAY0 + timedelta(days=1)))] == [DAY0]
        with engine.connect() as conn:
            frozen = conn.execute(select(clearing_windows.c.lines).where(clearing_windows.c.day == DAY0)).scalar()
        _wait_for(engine, frozen + 40)
    finally:
        stop.set()
        for w in workers:
            w.join(60)
    assert [w.exitcode for w in workers] == [0, 0]
    with engine.connect() as conn:
        by_day = dict(conn.execute(select(clearing_lines.c.day, func.count()).group_by(clearing_lines.c.day)).all())
        total = conn.execute(select(func.count()).select_from(clearing_lines)).scalar()
        names = conn.execute(select(func.count(clearing_lines.c.name.distinct()))).scalar()
        settled = conn.execute(select(func.count()).select_from(settlement_lines)).scalar()
    assert by_day[DAY0] == frozen, "a closed window holds exactly the lines counted at its close"
    assert by_day[DAY0 + timedelta(days=1)] >= 40 and set(by_day) == {DAY0, DAY0 + timedelta(days=1)}
    assert total == names == settled, "every settlement line in exactly one window"


@pytestmark_both
def test_a_line_dated_before_a_closed_window_goes_to_the_first_open_one(world, engine):
    """Windows close in order: a day before the last closed window takes no more lines (a clock far behind)."""
    a = family(world, "420100", 5, 10_000)
    settle(world, a, "421000", 1_000, noon(DAY0 + timedelta(days=2)))
    clearing.close(world, DAY0 + timedelta(days=2), "ops", noon(DAY0 + timedelta(days=3)))
    settle(world, a, "421000", 500, noon(DAY0))
    with engine.connect() as conn:
        days = dict(conn.execute(select(clearing_lines.c.amount, clearing_lines.c.day)).all())
    assert days == {1_000: DAY0 + timedelta(days=2), 500: DAY0 + timedelta(days=3)}


@pytestmark_both
def test_a_line_stranded_before_the_first_window_closes_with_the_next_close(world, engine):
    """The one race windows in order cannot stop: a line written into a day before the first window, by a process
    whose clock ran behind, while that first window was being closed. The next close closes its day first."""
    a = family(world, "420100", 6, 10_000)
    settle(world, a, "421000", 1_000, noon(DAY0 + timedelta(days=2)))
    assert [w.day for w in clearing.close(world, DAY0 + timedelta(days=2), "ops", noon(DAY0 + timedelta(days=3)))] \
        == [DAY0 + timedelta(days=2)]
    with engine.begin() as conn:  # what the race leaves behind: a line in an open day before the first window
        line = conn.execute(select(clearing_lines).where(clearing_lines.c.amount == 1_000)).one()._asdict()
        del line["seq"]
        conn.execute(clearing_lines.insert().values({**line, "day": DAY0, "amount": 7,
                                                     "name": line["name"].replace("/lines/", "/lines/9")}))
    closed = clearing.close(world, DAY0 + timedelta(days=3), "ops", noon(DAY0 + timedelta(days=4)))
    # its day and the (empty) days up to the first window first: the windows are a run of days again
    assert [w.day for w in closed] == [DAY0, DAY0 + timedelta(days=1), DAY0 + timedelta(days=3)]
    assert clearing.get_statement(world, "420100", DAY0).statement.totals.payable_fen == 7
    assert clearing.close(world, DAY0 + timedelta(days=3), "ops", noon(DAY0 + timedelta(days=4))) == []


@pytestmark_both
def test_stranded_days_close_whole_back_from_the_first_window_whatever_the_close_asks(world, engine):
    """A close through a stranded day closes every day up to the first window with it: no gap is left behind."""
    a = family(world, "420100", 7, 10_000)
    settle(world, a, "421000", 1_000, noon(DAY0 + timedelta(days=3)))
    clearing.close(world, DAY0 + timedelta(days=3), "ops", noon(DAY0 + timedelta(days=4)))
    with engine.begin() as conn:
        line = conn.execute(select(clearing_lines).where(clearing_lines.c.amount == 1_000)).one()._asdict()
        del line["seq"]
        conn.execute(clearing_lines.insert().values({**line, "day": DAY0, "amount": 9,
                                                     "name": line["name"].replace("/lines/", "/lines/8")}))
    closed = clearing.close(world, DAY0, "ops", noon(DAY0 + timedelta(days=4)))
    assert [w.day for w in closed] == [DAY0 + timedelta(days=d) for d in range(3)]
    with engine.connect() as conn:
        days = sorted(conn.execute(select(clearing_windows.c.day)).scalars())
    assert days == [DAY0 + timedelta(days=d) for d in range(4)]  # one run of days
