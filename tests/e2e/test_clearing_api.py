"""ClearingService through the real server over mTLS, on both engines. The traffic of past days is made through
the service layer (the API can only settle today); the gateway closes those windows itself when it starts."""

from __future__ import annotations

import json
import time
from datetime import date, datetime, timedelta, timezone

import grpc
import pytest

from gateway._proto.copay.v1 import clearing_pb2 as pb
from gateway._proto.copay.v1 import clearing_pb2_grpc
from gateway.domain.clock import china_day
from gateway.domain.regions import Scoped
from gateway.seed import register_regions
from gateway.service import settlements
from gateway.store import unit_of_work
from gateway.store.db import make_engine
from gateway.store.migrate import upgrade
from tests.e2e.conftest import details, start_gateway
from tests.e2e.world import T, World, refused
from tests.integration.test_clearing import family, key, noon, settle

pytestmark = pytest.mark.e2e
TODAY = china_day(datetime.now(timezone.utc))
DAY = TODAY - timedelta(days=3)  # the traffic's day; the day after it has a refund, and is closed too
STATEMENT = f"regions/421000/clearingStatements/{DAY}"


@pytest.fixture(scope="module")
def gateway(pki, backend_url, tmp_path_factory):  # type: ignore[no-untyped-def]
    """Wuhan (420100) grantors pay 10.00, 20.00 and 30.00 yuan in Jingzhou (421000) on DAY; on the next day
    Jingzhou refunds 5.00 of the first."""
    engine = make_engine(backend_url)
    upgrade(engine)
    register_regions(engine)
    uow = unit_of_work.factory(engine)
    patient = family(uow, "420100", 900, 100_000)
    done = [settle(uow, patient, "421000", fen, noon(DAY)) for fen in (1_000, 2_000, 3_000)]
    settlements.reverse(uow, "421000", Scoped("421000", done[0].id), 500, key("421000"), lambda s: b"",
                        noon(DAY + timedelta(days=1)))
    engine.dispose()
    gw = start_gateway(pki, backend_url, tmp_path_factory.mktemp("clearing"))
    yield gw
    gw.stop()


def clearing(gw, cert: str = "region-421000") -> clearing_pb2_grpc.ClearingServiceStub:  # type: ignore[no-untyped-def]
    return clearing_pb2_grpc.ClearingServiceStub(gw.channel(cert))


def closed(gw, day: date) -> pb.ClearingWindow:  # type: ignore[no-untyped-def]
    """The window once the gateway's own close has reached it (it starts closing at start-up)."""
    deadline = time.monotonic() + 30
    while True:
        windows = clearing(gw, "operator-ops").ListClearingWindows(pb.ListClearingWindowsRequest(page_size=50),
                                                                   timeout=T).clearing_windows
        found = [w for w in windows if w.name == f"clearingWindows/{day}"]
        if found and found[0].state == pb.CLEARING_WINDOW_STATE_CLOSED:
            return found[0]
        assert time.monotonic() < deadline, windows
        time.sleep(0.2)


def test_past_windows_close_by_themselves_and_today_stays_open(gateway):
    window = closed(gateway, DAY)
    assert (window.closed_by, window.line_count, window.net_paid_fen) == ("copay-gateway", 3, 6_000)
    assert closed(gateway, DAY + timedelta(days=1)).net_paid_fen == -500
    windows = clearing(gateway).ListClearingWindows(pb.ListClearingWindowsRequest(), timeout=T).clearing_windows
    assert windows[0].name == f"clearingWindows/{TODAY}" and windows[0].state == pb.CLEARING_WINDOW_STATE_OPEN
    code, reason, _, _ = refused(clearing(gateway, "operator-ops").CloseClearingWindow, pb.CloseClearingWindowRequest(
        name=f"clearingWindows/{TODAY}", request_id="close-today", reason="too early"))
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "WINDOW_NOT_ENDED")
    code, reason, _, _ = refused(clearing(gateway).GetClearingStatement, pb.GetClearingStatementRequest(
        name=f"regions/421000/clearingStatements/{TODAY}"))
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "WINDOW_OPEN")


def test_each_side_reads_its_own_statement_and_the_nets_mirror(gateway):
    closed(gateway, DAY)
    payee = clearing(gateway).GetClearingStatement(pb.GetClearingStatementRequest(name=STATEMENT), timeout=T)
    payer = clearing(gateway, "region-420100").GetClearingStatement(pb.GetClearingStatementRequest(
        name=f"regions/420100/clearingStatements/{DAY}"), timeout=T)
    assert [c.region for c in payee.counterparties] == ["420100"]
    assert (payee.totals.receivable_count, payee.totals.receivable_fen, payee.totals.net_fen) == (3, 6_000, 6_000)
    assert (payer.totals.payable_count, payer.totals.payable_fen, payer.totals.net_fen) == (3, 6_000, -6_000)
    operator = clearing(gateway, "operator-ops").GetClearingStatement(pb.GetClearingStatementRequest(name=STATEMENT),
                                                                       timeout=T)
    assert operator == payee


@pytest.mark.parametrize("day", [DAY, date(2001, 1, 1)], ids=["existing", "never"])
def test_a_region_cannot_read_or_reconcile_another_regions_statement_whether_or_not_it_exists(gateway, day):
    name = f"regions/421000/clearingStatements/{day}"
    stub = clearing(gateway, "region-420100")
    for call, request in [(stub.GetClearingStatement, pb.GetClearingStatementRequest(name=name)),
                          (stub.ListClearingLines, pb.ListClearingLinesRequest(parent=name)),
                          (stub.ReconcileClearingTotals, pb.ReconcileClearingTotalsRequest(name=name)),
                          (stub.ConfirmClearingStatement, pb.ConfirmClearingStatementRequest(
                              name=name, request_id="x-1", verdict=pb.CLEARING_VERDICT_CONFIRMED))]:
        code, reason, metadata, _ = refused(call, request)
        assert (code, reason, metadata.get("region")) == (grpc.StatusCode.PERMISSION_DENIED, "REGION_NOT_CALLER",
                                                           "421000")
    code, reason, _, _ = refused(stub.CloseClearingWindow, pb.CloseClearingWindowRequest(
        name=f"clearingWindows/{day}", request_id="x-2", reason="not mine"))
    assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "PRINCIPAL_NOT_ADMITTED")


def test_the_detail_pages_through_every_line_in_order_of_name(gateway):
    closed(gateway, DAY)
    names, token = [], ""
    while True:
        page = clearing(gateway).ListClearingLines(pb.ListClearingLinesRequest(
            parent=STATEMENT, page_size=2, page_token=token), timeout=T)
        names += [(line.name, line.amount_fen, line.kind) for line in page.clearing_lines]
        token = page.next_page_token
        if not token:
            break
    assert [n for n, _, _ in names] == sorted(n for n, _, _ in names) and len(names) == 3
    assert sorted(fen for _, fen, _ in names) == [1_000, 2_000, 3_000]
    assert {kind for *_, kind in names} == {pb.CLEARING_LINE_KIND_PAYMENT}
    assert all(n.startswith("regions/421000/settlements/") and n.endswith("/lines/0") for n, _, _ in names)


def lines_of(gateway) -> list[pb.ReconciledLine]:  # type: ignore[no-untyped-def]
    page = clearing(gateway).ListClearingLines(pb.ListClearingLinesRequest(parent=STATEMENT), timeout=T)
    return [pb.ReconciledLine(name=line.name, amount_fen=line.amount_fen) for line in page.clearing_lines]


def reconcile(gateway, *messages: pb.ReconcileClearingLinesRequest) -> pb.ReconcileClearingLinesResponse:  # type: ignore[no-untyped-def]
    return clearing(gateway).ReconcileClearingLines(iter(messages), timeout=T)


def test_detail_reconciliation_streamed_finds_each_discrepancy_and_nothing_on_clean_books(gateway):
    closed(gateway, DAY)
    ours = lines_of(gateway)
    clean = reconcile(gateway, pb.ReconcileClearingLinesRequest(name=STATEMENT, lines=ours[:1]),
                      pb.ReconcileClearingLinesRequest(lines=ours[1:]))
    assert (clean.result, clean.matched_count) == (pb.RECONCILIATION_RESULT_MATCH, 3)
    extra = pb.ReconciledLine(name="regions/421000/settlements/zz-not-ours/lines/0", amount_fen=700)
    off = pb.ReconciledLine(name=ours[2].name, amount_fen=ours[2].amount_fen + 1)
    found = reconcile(gateway, pb.ReconcileClearingLinesRequest(name=STATEMENT, lines=[ours[1], off, extra]))
    assert found.result == pb.RECONCILIATION_RESULT_MISMATCH
    assert list(found.only_at_gateway) == [ours[0]] and list(found.only_at_region) == [extra]
    assert [(d.name, d.gateway_amount_fen, d.region_amount_fen) for d in found.amounts_differ] == [
        (ours[2].name, ours[2].amount_fen, ours[2].amount_fen + 1)]
    assert (found.only_at_gateway_count, found.only_at_region_count, found.amounts_differ_count,
            found.matched_count) == (1, 1, 1, 1)


def test_detail_reconciliation_in_the_wrong_order_is_refused_naming_the_line(gateway):
    closed(gateway, DAY)
    ours = lines_of(gateway)
    before = len(gateway.log().splitlines())
    with pytest.raises(grpc.RpcError) as err:
        reconcile(gateway, pb.ReconcileClearingLinesRequest(name=STATEMENT, lines=[ours[1], ours[0]]))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "lines[1].name" in err.value.details()
    info, _ = details(err.value)
    logged = gateway.logged("/copay.v1.ClearingService/ReconcileClearingLines", "INVALID_ARGUMENT", before)
    assert [(e["code"], e.get("reason")) for e in logged if e["msg"] == "rpc"] == [("INVALID_ARGUMENT", info.reason)]


def test_totals_reconciliation_names_the_figures_that_differ(gateway):
    closed(gateway, DAY)
    same = clearing(gateway).ReconcileClearingTotals(pb.ReconcileClearingTotalsRequest(
        name=STATEMENT, totals=pb.ClearingFigures(receivable_count=3, receivable_fen=6_000)), timeout=T)
    assert same.result == pb.RECONCILIATION_RESULT_MATCH and same.gateway_totals.net_fen == 6_000
    differs = clearing(gateway).ReconcileClearingTotals(pb.ReconcileClearingTotalsRequest(
        name=STATEMENT, totals=pb.ClearingFigures(receivable_count=3, receivable_fen=5_999)), timeout=T)
    assert differs.result == pb.RECONCILIATION_RESULT_MISMATCH
    assert [(d.figure, d.gateway_value, d.region_value) for d in differs.differences] == [
        ("receivable_fen", 6_000, 5_999)]


def test_a_dispute_then_a_confirmation_each_once_per_request(gateway):
    closed(gateway, DAY + timedelta(days=1))
    name = f"regions/421000/clearingStatements/{DAY + timedelta(days=1)}"
    dispute = pb.ConfirmClearingStatementRequest(name=name, request_id="dispute-1", verdict=pb.CLEARING_VERDICT_DISPUTED,
                                                 reason="our refund was 4.00")
    first = clearing(gateway).ConfirmClearingStatement(dispute, timeout=T)
    assert clearing(gateway).ConfirmClearingStatement(dispute, timeout=T) == first  # a retry: the same answer
    confirmed = clearing(gateway).ConfirmClearingStatement(pb.ConfirmClearingStatementRequest(
        name=name, request_id="confirm-1", verdict=pb.CLEARING_VERDICT_CONFIRMED), timeout=T)
    assert [c.verdict for c in confirmed.confirmations] == [pb.CLEARING_VERDICT_DISPUTED, pb.CLEARING_VERDICT_CONFIRMED]
    assert confirmed.confirmations[0].actor == "region/421000"
    code, reason, _, _ = refused(clearing(gateway).ConfirmClearingStatement, pb.ConfirmClearingStatementRequest(
        name=name, request_id="dispute-2", verdict=pb.CLEARING_VERDICT_DISPUTED, reason="second thoughts"))
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "STATEMENT_CONFIRMED")


def test_todays_settlement_through_the_api_lands_in_todays_open_window(gateway):
    world = World(gateway)
    _, beneficiary, _ = world.family("421000", fen=5_000)
    world.settle(world.claim(beneficiary, 1_200, region="421000"), region="421000")
    windows = clearing(gateway).ListClearingWindows(pb.ListClearingWindowsRequest(page_size=1), timeout=T)
    assert windows.clearing_windows[0].name == f"clearingWindows/{TODAY}" and windows.next_page_token
    rest = clearing(gateway).ListClearingWindows(pb.ListClearingWindowsRequest(
        page_token=windows.next_page_token), timeout=T).clearing_windows
    assert f"clearingWindows/{DAY}" in [w.name for w in rest] and f"clearingWindows/{TODAY}" not in [w.name for w in rest]


def test_detail_reconciliation_in_pages_keeps_nothing_between_them(gateway):
    """Each page covers the names after the previous page's last; the last page runs to the end. Here the region
    sends the first line, then a last page without the third: the third is only at the gateway."""
    closed(gateway, DAY)
    ours = lines_of(gateway)
    first = clearing(gateway).ReconcileClearingLinesPage(pb.ReconcileClearingLinesPageRequest(
        name=STATEMENT, lines=ours[:1]), timeout=T)
    assert (first.result, first.matched_count) == (pb.RECONCILIATION_RESULT_MATCH, 1)
    last = clearing(gateway).ReconcileClearingLinesPage(pb.ReconcileClearingLinesPageRequest(
        name=STATEMENT, after=ours[0].name, lines=ours[1:2], last_page=True), timeout=T)
    assert last.result == pb.RECONCILIATION_RESULT_MISMATCH and list(last.only_at_gateway) == [ours[2]]
    assert last.matched_count == 1
    code, _, _, violations = refused(clearing(gateway).ReconcileClearingLinesPage, pb.ReconcileClearingLinesPageRequest(
        name=STATEMENT, after=ours[1].name, lines=ours[:1]))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and [f for f, _ in violations] == ["lines[0].name"]


def exchange(gw, payload: dict) -> dict:  # type: ignore[no-untyped-def]
    from gateway._proto.copay.v1 import exchange_pb2, exchange_pb2_grpc
    stub = exchange_pb2_grpc.LocalExchangeServiceStub(gw.channel("region-421000"))
    return json.loads(stub.Exchange(exchange_pb2.ExchangeRequest(payload=json.dumps(payload)), timeout=T).payload)


def test_a_province_reconciles_in_its_own_schema(gateway):
    """3260, 3201, 3202 and 3261 through LocalExchangeService, as Jingzhou's (Hubei: national names) system sends
    them: the same statement, the same differences, in yuan and local names."""
    closed(gateway, DAY)
    statement = exchange(gateway, {"infno": "3260", "msgid": "JZ-3260-1", "input": {"stmt_date": str(DAY)}})
    assert statement["infcode"] == 0, statement
    assert statement["output"]["stmt_sum"]["recv_sumamt"] == "60.00" and statement["output"]["stmt_sum"]["net_amt"] \
        == "60.00" and statement["output"]["clr_detail"][0]["admdvs"] == "420100"
    totals = {"pay_cnt": "0", "pay_sumamt": "0.00", "pay_refd_cnt": "0", "pay_refd_sumamt": "0.00", "recv_cnt": "3",
              "recv_sumamt": "59.99", "recv_refd_cnt": "0", "recv_refd_sumamt": "0.00"}
    differs = exchange(gateway, {"infno": "3201", "msgid": "JZ-3201-1", "input": {"stmt_date": str(DAY), **totals}})
    assert differs["output"]["stmt_rslt"] == "1" and differs["output"]["diff_list"] == [
        {"item": "recv_sumamt", "gw_val": "60.00", "local_val": "59.99"}]
    ours = lines_of(gateway)
    detail = [{"clr_line_id": line.name, "amt": f"{line.amount_fen // 100}.{line.amount_fen % 100:02d}"}
              for line in ours]
    page = exchange(gateway, {"infno": "3202", "msgid": "JZ-3202-1", "input": {
        "stmt_date": str(DAY), "end_flag": "1", "detail": detail[:2]}})
    assert page["output"]["stmt_rslt"] == "1" and page["output"]["only_gw"] == [detail[2]], page
    bad = exchange(gateway, {"infno": "3202", "msgid": "JZ-3202-2", "input": {
        "stmt_date": str(DAY), "detail": [detail[1], detail[0]]}})
    assert bad["infcode"] == -1 and "detail[1].clr_line_id" in bad["err_msg"], bad
    missing = exchange(gateway, {"infno": "3201", "msgid": "JZ-3201-2", "input": {"stmt_date": str(DAY)}})
    assert missing["infcode"] == -1 and "pay_cnt: required" in missing["err_msg"], missing
    other = exchange(gateway, {"infno": "3260", "msgid": "JZ-3260-2", "input": {"stmt_date": str(TODAY)}})
    assert other["infcode"] == -1 and other["err_msg"].startswith("WINDOW_OPEN"), other
    disputed = exchange(gateway, {"infno": "3261", "msgid": "JZ-3261-1", "input": {
        "stmt_date": str(DAY), "cnfm_flag": "0", "memo": "59.99 on our side"}})
    assert disputed["output"]["cnfm_flag"] == "0", disputed
    assert exchange(gateway, {"infno": "3261", "msgid": "JZ-3261-1", "input": {
        "stmt_date": str(DAY), "cnfm_flag": "0", "memo": "59.99 on our side"}}) == disputed  # msgid: once


def test_a_region_sees_windows_without_every_regions_figures(gateway):
    window = closed(gateway, DAY)
    assert window.line_count == 3  # an operator's view
    seen = [w for w in clearing(gateway).ListClearingWindows(pb.ListClearingWindowsRequest(page_size=50),
                                                            timeout=T).clearing_windows if w.name == window.name]
    assert len(seen) == 1 and seen[0].state == pb.CLEARING_WINDOW_STATE_CLOSED
    assert (seen[0].line_count, seen[0].net_paid_fen, seen[0].closed_by) == (0, 0, "")


@pytest.mark.parametrize("name, code, reason", [
    ("clearingWindows/2001-01-01", grpc.StatusCode.FAILED_PRECONDITION, "WINDOW_NOT_CLOSABLE"),
    ("clearingWindows/9999-12-31", grpc.StatusCode.INVALID_ARGUMENT, "MALFORMED_REQUEST"),
    ("clearingWindows/2026-02-30", grpc.StatusCode.INVALID_ARGUMENT, "MALFORMED_REQUEST"),
])
def test_a_window_that_cannot_close_is_a_clear_refusal(gateway, name, code, reason):
    closed(gateway, DAY)
    got, why, _, _ = refused(clearing(gateway, "operator-ops").CloseClearingWindow, pb.CloseClearingWindowRequest(
        name=name, request_id=f"close-{name}", reason="test"))
    assert got == code and (why == reason or code == grpc.StatusCode.INVALID_ARGUMENT)


def test_a_forged_page_token_with_an_impossible_day_is_invalid_argument(gateway):
    from gateway.api.names import encode_token
    code, _, _, violations = refused(clearing(gateway).ListClearingWindows, pb.ListClearingWindowsRequest(
        page_token=encode_token("windows", "2026-02-30")))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and [f for f, _ in violations] == ["page_token"]


def test_a_reconciliation_stream_has_a_message_budget(gateway):
    closed(gateway, DAY)
    messages = [pb.ReconcileClearingLinesRequest(name=STATEMENT)] + [pb.ReconcileClearingLinesRequest()] * 5000
    with pytest.raises(grpc.RpcError) as err:
        reconcile(gateway, *messages)
    _, violations = details(err.value)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations == [("lines", "at most 5000 messages a stream; reconcile the rest in pages")]
