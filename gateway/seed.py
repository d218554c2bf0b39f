"""``copay-gateway seed``: load the sample world through the service layer.

Re-running is harmless: a report that changes nothing writes nothing.
"""

from __future__ import annotations

from sqlalchemy import Engine

from gateway.domain.identity import IdHasher
from gateway.domain.members import MemberReport
from gateway.sample import REGIONS, members_of
from gateway.service.members import report_members
from gateway.service.once import in_transaction
from gateway.store import unit_of_work


def seed(engine: Engine, hasher: IdHasher) -> dict[str, int]:
    uow = unit_of_work.factory(engine)
    counts = {}
    for region in REGIONS:
        reports = [MemberReport(m.psn_no, hasher(m.id_number), region.admdvs, m.insurance_type, m.status)
                   for m in members_of(region.admdvs)]
        counts[region.admdvs] = len(in_transaction(uow, lambda u: report_members(u, region.admdvs, reports)))
    return counts
