"""``copay-gateway seed``: load the sample world through the service layer.

Every region gets its members; then, so that a newcomer can settle at once,
member 1 (employee) and member 2 (employee, contributions lapsed) each grant
member 3 (resident), in that filing order, and both are funded: 30.00 and
1,000.00 yuan. Where the province requires an office review, the seed
approves as the region's office would. Re-running is harmless: member reports
that change nothing write nothing, and the bindings, approvals and funding
carry fixed request ids, so a second run replays the first.
"""

from __future__ import annotations

from sqlalchemy import Engine

from gateway import policies
from gateway.domain.bindings import Party, Status
from gateway.domain.identity import IdHasher
from gateway.domain.members import MemberReport
from gateway.domain.relationships import Relationship
from gateway.sample import REGIONS, members_of
from gateway.service import accounts, bindings
from gateway.service.members import report_members
from gateway.service.once import RequestKey, in_transaction
from gateway.store import unit_of_work

GRANTS = ((1, Relationship.DAUGHTER, 3_000), (2, Relationship.MOTHER, 100_000))  # member, beneficiary is their ..., fen


def seed(engine: Engine, hasher: IdHasher) -> dict[str, int]:
    uow = unit_of_work.factory(engine)
    in_force = policies.load()
    counts = {}
    for region in REGIONS:
        reports = [MemberReport(m.psn_no, hasher(m.id_number), region.admdvs, m.insurance_type, m.status)
                   for m in members_of(region.admdvs)]
        counts[region.admdvs] = len(in_transaction(uow, lambda u: report_members(u, region.admdvs, reports)))
        beneficiary = Party(region.admdvs, f"{region.admdvs}000003")
        for number, relationship, fen in GRANTS:
            grantor = Party(region.admdvs, f"{region.admdvs}{number:06d}")
            binding_id = f"seed-{region.admdvs}-{number}"

            def key(step: str) -> RequestKey:
                return RequestKey(f"region/{region.admdvs}", f"seed-{step}-{binding_id}", f"seed-{step}")

            status = bindings.create(uow, in_force, region.admdvs, grantor, beneficiary, relationship, binding_id,
                                     key("bind"), lambda b: b.status.value.encode()).decode()
            if status == Status.PENDING_REVIEW.value:
                bindings.approve(uow, region.admdvs, binding_id, key("approve"), lambda b: b"")
            accounts.fund(uow, grantor, fen, key("fund"), lambda a: b"")
    return counts
