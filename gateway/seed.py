"""``copay-gateway seed``: load the sample world through the service layer.

The sample regions are registered LIVE; every region gets its members; then, so that a newcomer can settle at once,
member 1 (employee) and member 2 (employee, contributions lapsed) each grant
member 3 (resident), in that filing order, and both are funded: 30.00 and
1,000.00 yuan. Xingtai's (130500) member 3 then has a little history in
Tangshan (130200), so that there is clearing to look at (``_seed_history``). Where the province requires an office review, the seed
approves as the region's office would. Re-running is harmless: member reports
that change nothing write nothing, and the bindings, approvals and funding
carry fixed request ids, so a second run replays the first.

``copay-gateway seed`` refuses (unless ``--force``) a database that holds data other than the sample
world's (``other_data``): a member that is not one of the sample's (its region and psn_no one of those
``gateway.sample.members_of`` makes: the region's code and a number from 1 to MEMBERS_PER_REGION), or a
registered region that is not a sample region. A sample database, seeded before, passes.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Iterable

from sqlalchemy import Engine, func, inspect, select, tuple_

from gateway import policies
from gateway.domain.bindings import Party, Status
from gateway.domain.identity import IdHasher
from gateway.domain.members import MemberReport
from gateway.domain.clock import CHINA
from gateway.domain.policies import Policy, Use
from gateway.domain.settlements import Claim, CredentialType, Institution, InstitutionKind
from gateway.domain.regions import Scoped
from gateway.domain.relationships import Relationship
from gateway.domain import rollout
from gateway.sample import REGIONS, Region, members_of
from gateway.service import accounts, bindings, settlements
from gateway.service.members import report_members
from gateway.service.once import RequestKey, in_transaction
from gateway.service.ports import UnitOfWork, UnitOfWorkFactory
from gateway.store import tables, unit_of_work

SEED_ACTOR = "copay-gateway seed"
GRANTS = ((1, Relationship.DAUGHTER, 3_000), (2, Relationship.MOTHER, 100_000))  # member, beneficiary is their ..., fen


def register_regions(engine: Engine, regions: Iterable[Region] = REGIONS) -> int:
    """Registers the sample regions LIVE (those not registered yet), with an audit entry each; returns how many.
    In production operators register regions (AdminService.CreateRegion) and enable them with four-eyes."""
    def work(uow: UnitOfWork) -> int:
        known = uow.control.lock().regions
        now, added = datetime.now(timezone.utc), 0
        for region in regions:
            if region.admdvs not in known:
                live = rollout.Region(region.admdvs, region.name, rollout.RolloutState.LIVE)
                uow.control.put_region(live, now, SEED_ACTOR)
                uow.control.append_audit(now, SEED_ACTOR, "region.registered", f"regions/{region.admdvs}",
                                         "sample world for development", None, {"state": "live", "display_name":
                                                                                region.name})
                added += 1
        return added

    return in_transaction(unit_of_work.factory(engine), work)


def other_data(engine: Engine) -> str | None:
    """What the database holds besides the sample world ("3 members and 1 region"), or None. Reads only;
    a database without the tables (not migrated yet) holds nothing."""
    present = set(inspect(engine).get_table_names())
    sample_regions = [r.admdvs for r in REGIONS]
    sample_members = [(m.region, m.psn_no) for r in sample_regions for m in members_of(r)]
    m, g = tables.members, tables.regions
    counts = {}
    with engine.connect() as conn:
        if m.name in present:
            counts["member"] = conn.execute(select(func.count()).select_from(m)
                                            .where(tuple_(m.c.region, m.c.psn_no).not_in(sample_members))).scalar()
        if g.name in present:
            counts["region"] = conn.execute(select(func.count()).select_from(g)
                                            .where(g.c.admdvs.not_in(sample_regions))).scalar()
    found = [f"{n} {what}{'' if n == 1 else 's'}" for what, n in counts.items() if n]
    return " and ".join(found) or None


def seed(engine: Engine, hasher: IdHasher) -> dict[str, int]:
    register_regions(engine)
    uow = unit_of_work.factory(engine)
    in_force = policies.load()
    counts = {region.admdvs: _seed_region(uow, in_force, hasher, region.admdvs) for region in REGIONS}
    _seed_history(uow, in_force, hasher)
    return counts


HISTORY_FROM, HISTORY_IN = "130500", "130200"  # Xingtai's member 3, treated in Tangshan (Hebei shares province-wide)


def _seed_history(uow: UnitOfWorkFactory, in_force: dict[str, Policy], hasher: IdHasher) -> None:
    """Clearing to look at: three days before the first seed, Xingtai's member 3 pays 50.00 yuan of a bill in
    Tangshan (30.00 and 20.00 from her two grantors); two days before, 12.00 of another, and Tangshan refunds
    5.00 of the first. Those windows have ended, so the gateway closes them when it starts. The request ids are
    fixed: a later seed replays these, whatever the day."""
    patient = Party(HISTORY_FROM, f"{HISTORY_FROM}000003")
    holder = hasher(members_of(HISTORY_FROM)[2].id_number)
    today = datetime.now(CHINA).replace(hour=10, minute=0, second=0, microsecond=0)
    for n, (days, personal) in enumerate([(3, 5_000), (2, 1_200)], start=1):
        claim = Claim(patient, CredentialType.E_VOUCHER, holder, Institution(
            f"H{HISTORY_IN}0001", InstitutionKind.HOSPITAL, True, HISTORY_IN), Use.OUTPATIENT, personal + 3_000,
            3_000, personal, frozenset(), (), False)
        settlements.settle(uow, in_force, HISTORY_IN, claim, f"seed-history-{n}", _key(HISTORY_IN, "settle", str(n)),
                           lambda s: b"", today - timedelta(days=days))
    settlements.reverse(uow, HISTORY_IN, Scoped(HISTORY_IN, "seed-history-1"), 500,
                        _key(HISTORY_IN, "refund", "1"), lambda s: b"", today - timedelta(days=2, hours=-1))


def _seed_region(uow: UnitOfWorkFactory, in_force: dict[str, Policy], hasher: IdHasher, region: str) -> int:
    reports = [MemberReport(m.psn_no, hasher(m.id_number), region, m.insurance_type, m.status)
               for m in members_of(region)]
    count = len(in_transaction(uow, lambda u: report_members(u, region, reports)))
    beneficiary = Party(region, f"{region}000003")
    for number, relationship, fen in GRANTS:
        grantor = Party(region, f"{region}{number:06d}")
        binding_id = f"seed-{region}-{number}"
        status = bindings.create(uow, in_force, region, grantor, beneficiary, relationship, binding_id,
                                 _key(region, "bind", binding_id), lambda b: b.status.value.encode()).decode()
        if status == Status.PENDING_REVIEW.value:
            bindings.approve(uow, region, Scoped(region, binding_id), _key(region, "approve", binding_id), lambda b: b"")
        accounts.fund(uow, grantor, fen, _key(region, "fund", binding_id), lambda a: b"")
    return count


def _key(region: str, step: str, binding_id: str) -> RequestKey:
    """Fixed per step and binding, so that a second run replays the first."""
    return RequestKey(f"region/{region}", f"seed-{step}-{binding_id}", f"seed-{step}")
