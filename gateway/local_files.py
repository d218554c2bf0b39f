"""A province's own files: importing its existing member facts and bindings, exporting its settlements.

**Import** (``copay-gateway local import``): a file of local payloads, each a 1101 (member facts) or a
9101 (a binding), as the province's adapter reads them (adapters/), for one region: one payload a line
(JSON lines), or a JSON array of payloads, or a single payload however it is laid out. Every row is checked, and applied in a savepoint of one transaction, in file order (members
before the bindings that name them). Every row that cannot be read or is refused is reported with
its line and why; if any is, nothing is imported (the transaction is rolled back), and a dry run
rolls back always. So an import is all or nothing, and can be tried first. Rows carry no request id:
running an import again reports the bindings it already filed (BINDING_EXISTS) and imports nothing.

**Export** (``copay-gateway local export``): the region's settlements (as the settling region) from
a time on, one 2207-style local answer (``output``) a line, as that region may see them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterable, Iterator

from adapters.codec import ProvinceCodec
from adapters.envelope import CodecError
from gateway._proto.copay.v1 import bindings_pb2, members_pb2
from gateway.api.bindings import binding_filing
from gateway.api.members import member_reports
from gateway.api.settlements import settlement_message
from gateway.domain.errors import Refusal, Violations
from gateway.domain.identity import IdHasher
from gateway.domain.policies import Policy
from gateway.domain.visibility import settlement_view
from gateway.service.bindings import file_binding
from gateway.service.members import report_members
from gateway.service.ports import UnitOfWork


@dataclass
class ImportReport:
    rows: int = 0
    members: int = 0
    bindings: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)  # ("line 3" or "item 3", why)

    @property
    def imported(self) -> bool:
        return not self.rejected


def rows_of(text: str) -> Iterator[tuple[str, str]]:
    """The payloads of a file, each with where it is: a JSON array's items, a file that is one JSON object,
    or else one payload a line (blank lines skipped)."""
    whole = None
    try:
        whole = json.loads(text)
    except ValueError:
        pass
    if isinstance(whole, list):
        for number, item in enumerate(whole, start=1):
            yield f"item {number}", json.dumps(item, ensure_ascii=False)
    elif isinstance(whole, dict):
        yield "line 1", text
    else:
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                yield f"line {number}", line


def import_rows(uow: UnitOfWork, codec: ProvinceCodec, region: str, rows: Iterable[tuple[str, str]],
                hasher: IdHasher, policies: dict[str, Policy]) -> ImportReport:
    """Applies every row (``rows_of``) inside ``uow``, each in a savepoint of its own; the caller commits
    only if ``report.imported`` and this is no dry run."""
    report, now = ImportReport(), datetime.now(timezone.utc)
    for where, line in rows:
        report.rows += 1
        try:
            decoded = codec.decode(line, region)
            with uow.savepoint():
                if isinstance(decoded.request, members_pb2.BatchUpsertMembersRequest):
                    report.members += _members(uow, decoded.request, region, hasher)
                elif isinstance(decoded.request, bindings_pb2.CreateBindingRequest):
                    _binding(uow, decoded.request, region, hasher, policies, now)
                    report.bindings += 1
                else:
                    raise CodecError(codec.n("infno"), "an import holds member facts (1101) and bindings (9101) only")
        except CodecError as error:
            report.rejected.append((where, f"{error.field}: {error.description}"))
        except Refusal as refusal:
            report.rejected.append((where, codec.refusal_msg(decoded.infno, refusal.reason, refusal.rule,
                                                             refusal.message, [(v.field, v.description)
                                                                               for v in refusal.violations])))
    return report


def _members(uow: UnitOfWork, request: members_pb2.BatchUpsertMembersRequest, region: str, hasher: IdHasher) -> int:
    problems = Violations()
    _, reports = member_reports(request, hasher, problems)
    problems.raise_if_any()
    return len(report_members(uow, region, reports))


def _binding(uow: UnitOfWork, request: bindings_pb2.CreateBindingRequest, region: str, hasher: IdHasher,
             policies: dict[str, Policy], now: datetime) -> None:
    problems = Violations()
    grantor, beneficiary, relationship = binding_filing(request, hasher, problems)
    problems.raise_if_any()
    file_binding(uow, policies, region, grantor, beneficiary, relationship, request.binding_id, now)


def export_lines(uow: UnitOfWork, codec: ProvinceCodec, region: str, since: datetime | None) -> Iterator[str]:
    """The region's settlements (settled by it) from ``since`` on, oldest first, each as its local answer."""
    for settlement in uow.settlements.settled_by(region, since):
        view = settlement_view(settlement, region)
        assert view is not None  # the settling region is a party
        yield json.dumps(codec.output("2207", settlement_message(view)), ensure_ascii=False, sort_keys=True)
