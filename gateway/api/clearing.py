"""ClearingService: translation only; the rules live in gateway.domain.clearing and gateway.service.clearing."""

from __future__ import annotations

import re
from datetime import date
from typing import Any, AsyncIterator

from gateway._proto.copay.v1 import clearing_pb2 as pb
from gateway._proto.copay.v1 import clearing_pb2_grpc
from gateway.api.auth import rpc
from gateway.api.idempotency import request_key
from gateway.api.names import check_request_id, decode_token, encode_token, page_size, require_own_region
from gateway.api.runner import Runner
from gateway.api.times import timestamp
from gateway.domain.clearing import Figures, LineDifferences, LineKind, merge
from gateway.domain.errors import Category, Refusal, Violations
from gateway.domain.identity import IdHasher
from gateway.domain.ledger import MAX_FEN
from gateway.domain.regions import admdvs_problem
from gateway.security.principal import Kind, Principal
from gateway.service import clearing as service

DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
LINE = re.compile(r"regions/[0-9]{6}/settlements/[a-z0-9][a-z0-9-]{0,62}(/refunds/[1-9][0-9]{0,5})?"
                  r"/lines/(0|[1-9][0-9]{0,3})")
MAX_LINES_A_MESSAGE = 1000
MAX_MESSAGES = 5000  # a stream's messages: five million lines; more goes in another reconciliation
COMPARE_PAGE = 1000
VERDICTS = {pb.CLEARING_VERDICT_CONFIRMED: "confirmed", pb.CLEARING_VERDICT_DISPUTED: "disputed"}
KINDS = {LineKind.PAYMENT.value: pb.CLEARING_LINE_KIND_PAYMENT, LineKind.REFUND.value: pb.CLEARING_LINE_KIND_REFUND}


def _day(text: str, problems: Violations, field: str) -> date:
    try:
        if DAY.fullmatch(text) and (day := date.fromisoformat(text)) < date.max:
            return day
    except ValueError:
        pass
    problems.add(field, "must end in a day, yyyy-mm-dd, e.g. 2026-11-28")
    return date.min


def parse_window(name: str, problems: Violations, field: str = "name") -> date:
    """``clearingWindows/{yyyy-mm-dd}``."""
    prefix, _, day = name.partition("/")
    if prefix != "clearingWindows":
        problems.add(field, "must look like clearingWindows/{yyyy-mm-dd}")
        return date.min
    return _day(day, problems, field)


def parse_statement(name: str, problems: Violations, field: str = "name") -> tuple[str, date]:
    """``regions/{admdvs}/clearingStatements/{yyyy-mm-dd}``."""
    parts = name.split("/")
    if len(parts) != 4 or parts[0] != "regions" or parts[2] != "clearingStatements":
        problems.add(field, "must look like regions/{admdvs}/clearingStatements/{yyyy-mm-dd}")
        return "", date.min
    if (why := admdvs_problem(parts[1])) is not None:
        problems.add(field, why)
    return parts[1], _day(parts[3], problems, field)


def _readable(caller: Principal, region: str) -> None:
    """A region reads only its own statements; operators read every region's."""
    if caller.kind is Kind.REGION:
        require_own_region(caller, region)


def window_message(window: service.Window, all_figures: bool) -> pb.ClearingWindow:
    """``all_figures``: who closed it and its lines and sum over every region, for operators only (a region
    could take its own off them and learn the others')."""
    message = pb.ClearingWindow(name=f"clearingWindows/{window.day}", state=pb.CLEARING_WINDOW_STATE_OPEN)
    if window.closed_at is not None:
        message.state = pb.CLEARING_WINDOW_STATE_CLOSED
        message.close_time.CopyFrom(timestamp(window.closed_at))
        if all_figures:
            message.closed_by, message.line_count, message.net_paid_fen = window.closed_by, window.lines, window.fen
    return message


def render_window(window: service.Window) -> bytes:
    return window_message(window, True).SerializeToString()


def figures_message(figures: Figures) -> pb.ClearingFigures:
    return pb.ClearingFigures(**dict(figures.items()), net_fen=figures.net_fen)


def statement_message(view: service.StatementView) -> pb.ClearingStatement:
    s = view.statement
    return pb.ClearingStatement(
        name=f"regions/{s.region}/clearingStatements/{s.window}", clearing_window=f"clearingWindows/{s.window}",
        counterparties=[pb.ClearingCounterparty(region=r, figures=figures_message(f))
                        for r, f in s.counterparties.items()],
        totals=figures_message(s.totals),
        confirmations=[pb.ClearingConfirmation(verdict=pb.CLEARING_VERDICT_CONFIRMED if c.verdict == "confirmed"
                                               else pb.CLEARING_VERDICT_DISPUTED, reason=c.reason, actor=c.actor,
                                               time=timestamp(c.at)) for c in view.history])


def render_statement(view: service.StatementView) -> bytes:
    return statement_message(view).SerializeToString()


def _lines(lines: Any, after: str, problems: Violations) -> list[tuple[str, int]]:
    """(name, fen) of a message's lines, checked: each a line's name, in ascending order after ``after``."""
    if len(lines) > MAX_LINES_A_MESSAGE:
        problems.add("lines", f"at most {MAX_LINES_A_MESSAGE} a message")
    found, last = [], after
    for i, line in enumerate(lines[:MAX_LINES_A_MESSAGE]):
        if not LINE.fullmatch(line.name):
            problems.add(f"lines[{i}].name", "must be a clearing line's name, "
                         "regions/{T}/settlements/{id}/lines/{n} or .../refunds/{k}/lines/{n}")
        elif line.name <= last:
            problems.add(f"lines[{i}].name", "the lines must come in ascending order of name (byte order), each "
                         f"once: this one is not after {last}")
        if not 1 <= line.amount_fen <= MAX_FEN:
            problems.add(f"lines[{i}].amount_fen", "must be a positive amount in fen")
        last = max(last, line.name)
        found.append((line.name, line.amount_fen))
    return found


def _differences(found: LineDifferences) -> pb.ReconcileClearingLinesResponse:
    return pb.ReconcileClearingLinesResponse(
        result=pb.RECONCILIATION_RESULT_MATCH if found.clean else pb.RECONCILIATION_RESULT_MISMATCH,
        only_at_gateway=[pb.ReconciledLine(name=n, amount_fen=a) for n, a in found.only_at_gateway],
        only_at_region=[pb.ReconciledLine(name=n, amount_fen=a) for n, a in found.only_at_region],
        amounts_differ=[pb.AmountDifference(name=n, gateway_amount_fen=g, region_amount_fen=r)
                        for n, g, r in found.amounts_differ],
        only_at_gateway_count=found.counts["only_at_gateway"], only_at_region_count=found.counts["only_at_region"],
        amounts_differ_count=found.counts["amounts_differ"], matched_count=found.counts["matched"])


class ClearingServicer(clearing_pb2_grpc.ClearingServiceServicer):
    """``reads`` runs what only reads (statements, detail, reconciliation, the sums before a close): on SQLite
    beside the writer process, so that a large window's detail does not hold up settlements."""

    def __init__(self, db: Runner, reads: Runner, hasher: IdHasher) -> None:
        self._db = db
        self._reads = reads
        self._hash = hasher

    @rpc(Kind.REGION, Kind.OPERATOR)
    async def ListClearingWindows(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        problems = Violations()
        size = page_size(request.page_size, problems)
        before = decode_token(request.page_token, "windows", problems, DAY)
        day = _day(before, problems, "page_token") if before else None
        problems.raise_if_any()
        found = await self._reads(service.windows, day, size + 1)
        page = found[:size]
        return pb.ListClearingWindowsResponse(
            clearing_windows=[window_message(w, caller.kind is Kind.OPERATOR) for w in page],
            next_page_token=encode_token("windows", page[-1].day.isoformat()) if len(found) > size else "")

    @rpc(Kind.OPERATOR)
    async def CloseClearingWindow(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        problems = Violations()
        day = parse_window(request.name, problems)
        check_request_id(request.request_id, problems)
        if not 1 <= len(request.reason) <= 500:
            problems.add("reason", "required: why, 1 to 500 characters (it goes into the audit log)")
        problems.raise_if_any()
        key = request_key(caller, "CloseClearingWindow", request, self._hash)
        tallies = await self._reads(service.tallies, day)
        return pb.ClearingWindow.FromString(await self._db(service.close_once, day, str(caller), request.reason, key,
                                                           render_window, tallies))

    @rpc(Kind.REGION, Kind.OPERATOR)
    async def GetClearingStatement(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        problems = Violations()
        region, day = parse_statement(request.name, problems)
        problems.raise_if_any()
        _readable(caller, region)
        return statement_message(await self._reads(service.get_statement, region, day))

    @rpc(Kind.REGION, Kind.OPERATOR)
    async def ListClearingLines(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        problems = Violations()
        region, day = parse_statement(request.parent, problems, "parent")
        size = page_size(request.page_size, problems)
        after = decode_token(request.page_token, request.parent, problems, LINE) or ""
        problems.raise_if_any()
        _readable(caller, region)
        rows, more = await self._reads(service.lines_page, region, day, after, size)
        return pb.ListClearingLinesResponse(
            clearing_lines=[pb.ClearingLine(name=r.name, kind=KINDS[r.kind], payer_region=r.payer_region,
                                            payee_region=r.payee_region, amount_fen=r.amount, time=timestamp(r.at))
                            for r in rows],
            next_page_token=encode_token(request.parent, rows[-1].name) if more else "")

    @rpc(Kind.REGION)
    async def ConfirmClearingStatement(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        problems = Violations()
        region, day = parse_statement(request.name, problems)
        check_request_id(request.request_id, problems)
        verdict = VERDICTS.get(request.verdict)
        if verdict is None:
            problems.add("verdict", "CLEARING_VERDICT_CONFIRMED or CLEARING_VERDICT_DISPUTED")
        if len(request.reason) > 500 or (verdict == "disputed" and not request.reason.strip()):
            problems.add("reason", "a dispute says why; at most 500 characters")
        problems.raise_if_any()
        require_own_region(caller, region)
        key = request_key(caller, "ConfirmClearingStatement", request, self._hash)
        return pb.ClearingStatement.FromString(await self._db(
            service.confirm_once, region, day, verdict, request.reason, str(caller), key, render_statement))

    @rpc(Kind.REGION)
    async def ReconcileClearingTotals(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        problems = Violations()
        region, day = parse_statement(request.name, problems)
        given = {f: getattr(request.totals, f) for f, _ in Figures().items()}
        for f, value in given.items():
            if not 0 <= value <= (MAX_FEN if f.endswith("_fen") else 2**62):
                problems.add(f"totals.{f}", "must not be negative")
        problems.raise_if_any()
        require_own_region(caller, region)
        ours, differences = await self._reads(service.reconcile_totals, region, day, Figures(**given))
        return pb.ReconcileClearingTotalsResponse(
            result=pb.RECONCILIATION_RESULT_MISMATCH if differences else pb.RECONCILIATION_RESULT_MATCH,
            gateway_totals=figures_message(ours),
            differences=[pb.FigureDifference(figure=f, gateway_value=g, region_value=r) for f, g, r in differences])

    @rpc(Kind.REGION)
    async def ReconcileClearingLines(self, request_iterator: AsyncIterator[Any], context,  # type: ignore[no-untyped-def]
                                     caller: Principal):
        """Merges the region's lines, message by message, with the gateway's of the same name range: memory
        holds one message and one page of the gateway's lines, whatever the window's size."""
        found = LineDifferences(cap=1000)
        statement, region, day, last, count = "", "", date.min, "", 0
        async for message in request_iterator:
            problems = Violations()
            count += 1
            if count > MAX_MESSAGES:
                problems.add("lines", f"at most {MAX_MESSAGES} messages a stream; reconcile the rest in pages")
            if not statement:
                region, day = await self._statement(message.name, caller)
                statement = message.name
            elif message.name and message.name != statement:
                problems.add("name", f"only the first message names the statement ({statement})")
            theirs = _lines(message.lines, last, problems)
            problems.raise_if_any()
            if theirs:
                await self._compare(region, day, last, theirs[-1][0], theirs, found)
                last = theirs[-1][0]
        if not statement:
            raise Refusal(Category.INVALID_ARGUMENT, "MALFORMED_REQUEST", "no message: the first names the statement")
        await self._compare(region, day, last, None, [], found)
        return _differences(found)

    @rpc(Kind.REGION)
    async def ReconcileClearingLinesPage(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        problems = Violations()
        if request.after and not LINE.fullmatch(request.after):
            problems.add("after", "empty for the first page, else the name of the previous page's last line")
        theirs = _lines(request.lines, request.after, problems)
        if not theirs and not request.last_page:
            problems.add("lines", "required, except on the last page")
        parse_statement(request.name, problems)
        problems.raise_if_any()
        region, day = await self._statement(request.name, caller)
        found = LineDifferences(cap=1000)
        await self._compare(region, day, request.after, None if request.last_page else theirs[-1][0], theirs, found)
        return _differences(found)

    async def _statement(self, name: str, caller: Principal) -> tuple[str, date]:
        """The caller's own closed statement (refused while its window is open)."""
        problems = Violations()
        region, day = parse_statement(name, problems)
        problems.raise_if_any()
        require_own_region(caller, region)
        await self._reads(service.get_statement, region, day)
        return region, day

    async def _compare(self, region: str, day: date, after: str, upto: str | None, theirs: list[tuple[str, int]],
                       found: LineDifferences) -> None:
        """Compares the names in (after, upto] (to the end if ``upto`` is None), a page of the gateway's at a
        time."""
        i = 0
        while True:
            ours = await self._reads(service.gateway_lines, region, day, after, upto, COMPARE_PAGE)
            bound = ours[-1][0] if len(ours) == COMPARE_PAGE else upto
            j = i
            while j < len(theirs) and (bound is None or theirs[j][0] <= bound):
                j += 1
            merge(ours, theirs[i:j], found)
            i = j
            if len(ours) < COMPARE_PAGE:
                return
            after = bound  # type: ignore[assignment]

