"""The rollout of mutual aid, as operators set it: which regions take part, which province pairs are
open across provinces, with what limits, and the kill switch (R5).

Decisions where the issue was silent:

* **Regions** go ``DISABLED -> PILOT -> LIVE`` and back. A certificate of a region that is not in
  the registry, or is DISABLED, is refused; so is any call that would act on a member of a DISABLED
  region (as grantor, beneficiary or patient). A PILOT region takes part in mutual aid within its
  own province only: any cross-province binding or settlement that involves it is refused
  (REGION_IN_PILOT), whatever the pair says. That is the national trial's order: first within a
  province, then across.
* **A pair is directed**: grantor province -> the province of the beneficiary (for a binding) or of
  the treatment (for a settlement). A settlement needs every direction it crosses open: the
  grantor's province to the beneficiary's, and to the treatment's. Opening "both ways" writes both
  directions. A pair may carry a schedule: it is open from ``opens_at`` until ``closes_at``.
* **Limits per pair** (each optional): settlements per beneficiary per day, fen per settlement (the
  bill's personal part), fen per pair per day (a circuit breaker), and quiet hours in Asia/Shanghai.
  The 2025 wallet rules are a preset: 3 a day, at most 2,000 yuan each, none 22:00-06:00. A grantor
  whose pair is closed, or whose bill is over the per-settlement cap or falls in quiet hours, is
  excluded like any grantor a rule excludes (skipped unless named). The two daily limits are
  counted in the database when the settlement commits, so racing settlements cannot pass them; a
  settlement that would pass one is refused. Refunds do not give a day's count or total back.
* **The kill switch** stops every cross-province binding and settlement at once; same-province
  mutual aid goes on.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import datetime, time
from enum import StrEnum
from typing import Mapping

from gateway.domain.clock import CHINA
from gateway.domain.errors import Category, Refusal
from gateway.domain.policies import Policy
from gateway.domain.regions import province_of


class RolloutState(StrEnum):
    DISABLED = "disabled"
    PILOT = "pilot"
    LIVE = "live"


ORDER = {RolloutState.DISABLED: 0, RolloutState.PILOT: 1, RolloutState.LIVE: 2}


@dataclass(frozen=True)
class Region:
    admdvs: str
    name: str
    state: RolloutState

    @property
    def province(self) -> str:
        return province_of(self.admdvs)


@dataclass(frozen=True)
class PairLimits:
    """None: no limit."""

    per_beneficiary_daily: int | None = None
    per_settlement_fen: int | None = None
    daily_fen: int | None = None
    quiet_from: time | None = None  # no settlements from quiet_from until quiet_until (Asia/Shanghai)
    quiet_until: time | None = None

    def looser_than(self, other: "PairLimits") -> bool:
        """Whether any limit is raised or lifted compared with ``other`` (four-eyes needed)."""
        for name in ("per_beneficiary_daily", "per_settlement_fen", "daily_fen"):
            mine, theirs = getattr(self, name), getattr(other, name)
            if theirs is not None and (mine is None or mine > theirs):
                return True
        return _quiet_minutes(self) < _quiet_minutes(other) or (
            other.quiet_from is not None and not _covers(self, other))

    def quiet_at(self, at: datetime) -> bool:
        if self.quiet_from is None or self.quiet_until is None:
            return False
        now = at.astimezone(CHINA).time()
        if self.quiet_from <= self.quiet_until:
            return self.quiet_from <= now < self.quiet_until
        return now >= self.quiet_from or now < self.quiet_until  # across midnight


def _quiet_minutes(limits: PairLimits) -> int:
    if limits.quiet_from is None or limits.quiet_until is None:
        return 0
    start = limits.quiet_from.hour * 60 + limits.quiet_from.minute
    end = limits.quiet_until.hour * 60 + limits.quiet_until.minute
    return (end - start) % (24 * 60)


def _covers(mine: PairLimits, other: PairLimits) -> bool:
    """Whether ``mine``'s quiet hours include all of ``other``'s (checked minute by minute)."""
    day = datetime(2000, 1, 1, tzinfo=CHINA)
    return all(mine.quiet_at(day.replace(hour=m // 60, minute=m % 60))
               for m in range(24 * 60) if other.quiet_at(day.replace(hour=m // 60, minute=m % 60)))


WALLET_2025 = PairLimits(per_beneficiary_daily=3, per_settlement_fen=200_000, quiet_from=time(22),
                         quiet_until=time(6))
PRESETS = {"wallet-2025": WALLET_2025}


@dataclass(frozen=True)
class Pair:
    """The switch for one direction: grantor province -> province of the beneficiary or the treatment."""

    grantor_province: str
    other_province: str
    open: bool = False
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    limits: PairLimits = PairLimits()

    @property
    def name(self) -> str:
        return f"provincePairs/{self.grantor_province}-{self.other_province}"

    def open_at(self, at: datetime) -> bool:
        return self.open and (self.opens_at is None or self.opens_at <= at) and (
            self.closes_at is None or at < self.closes_at)


@dataclass(frozen=True)
class Revocations:
    serials: frozenset[str] = frozenset()  # lower-case hex
    fingerprints: frozenset[str] = frozenset()  # SHA-256 of the DER certificate, lower-case hex

    def revoked(self, serial: str, fingerprint: str) -> bool:
        return serial in self.serials or fingerprint in self.fingerprints


@dataclass(frozen=True)
class Control:
    """Everything operators set, as of one version; every gateway process reloads it when the version moves."""

    version: int = 0
    kill_switch: bool = False
    regions: Mapping[str, Region] = field(default_factory=dict)
    pairs: Mapping[tuple[str, str], Pair] = field(default_factory=dict)
    revocations: Revocations = Revocations()
    policies: Mapping[str, tuple[Policy, ...]] = field(default_factory=dict)  # published versions, oldest first

    def pair(self, grantor_province: str, other_province: str) -> Pair:
        return self.pairs.get((grantor_province, other_province), Pair(grantor_province, other_province))

    def policy(self, province: str, at: datetime, built_in: Mapping[str, Policy]) -> Policy | None:
        """The policy in force for ``province`` at ``at``: the latest published version in effect, else the
        built-in file's."""
        in_effect = [p for p in self.policies.get(province, ()) if p.effective_at is not None and p.effective_at <= at]
        return in_effect[-1] if in_effect else built_in.get(province)

    def policy_version(self, ref: str, built_in: Mapping[str, Policy]) -> Policy | None:
        """The policy a binding recorded (``{province}@v{version}``)."""
        province, _, version = ref.partition("@v")
        for policy in (*self.policies.get(province, ()), *([built_in[province]] if province in built_in else [])):
            if str(policy.version) == version:
                return policy
        return None


def refuse(category: Category, reason: str, message: str, **metadata: str) -> Refusal:
    return Refusal(category, reason, message, rule="R5" if reason.startswith(("CROSS", "REGION_IN")) else None,
                   metadata=metadata)


def region_refusal(control: Control, admdvs: str) -> Refusal | None:
    """Why a member of ``admdvs`` may not take part in mutual aid now, or None."""
    region = control.regions.get(admdvs)
    if region is None:
        return refuse(Category.FAILED_PRECONDITION, "REGION_NOT_REGISTERED",
                      f"region {admdvs} is not registered at the gateway", region=admdvs)
    if region.state is RolloutState.DISABLED:
        return refuse(Category.FAILED_PRECONDITION, "REGION_DISABLED",
                      f"region {admdvs} is disabled at the gateway", region=admdvs)
    return None


def crossing_refusal(control: Control, grantor_region: str, other_region: str, at: datetime) -> Refusal | None:
    """Why mutual aid may not cross from the grantor's region to ``other_region`` (the beneficiary's or the
    treatment's) at ``at``, or None: kill switch, pilot regions, the pair's switch and schedule."""
    grantor_province, other_province = province_of(grantor_region), province_of(other_region)
    if grantor_province == other_province:
        return None
    where = {"grantor_province": grantor_province, "other_province": other_province}
    if control.kill_switch:
        return refuse(Category.FAILED_PRECONDITION, "CROSS_PROVINCE_SUSPENDED", "all cross-province mutual aid is "
                      "suspended by the operators' kill switch", **where)
    for admdvs in (grantor_region, other_region):
        region = control.regions.get(admdvs)
        if region is not None and region.state is RolloutState.PILOT:
            return refuse(Category.FAILED_PRECONDITION, "REGION_IN_PILOT", f"region {admdvs} is in its pilot: mutual "
                          "aid within its own province only", region=admdvs, **where)
    pair = control.pair(grantor_province, other_province)
    if not pair.open_at(at):
        scheduled = pair.open and pair.opens_at is not None and at < pair.opens_at
        return refuse(Category.FAILED_PRECONDITION, "CROSS_PROVINCE_CLOSED", f"mutual aid from province "
                      f"{grantor_province} to {other_province} is not open" +
                      (f"; it opens at {pair.opens_at.isoformat()}" if scheduled else ""), **where)
    return None


def limit_refusal(pair: Pair, personal_part: int, at: datetime) -> Refusal | None:
    """The limits a bill meets before anything is counted: the cap per settlement and quiet hours."""
    where = {"grantor_province": pair.grantor_province, "other_province": pair.other_province}
    cap = pair.limits.per_settlement_fen
    if cap is not None and personal_part > cap:
        return refuse(Category.FAILED_PRECONDITION, "CROSS_PROVINCE_LIMIT", f"at most {cap} fen per settlement from "
                      f"province {pair.grantor_province} to {pair.other_province}", limit="per_settlement_fen",
                      limit_value=str(cap), **where)
    if pair.limits.quiet_at(at):
        return refuse(Category.FAILED_PRECONDITION, "CROSS_PROVINCE_QUIET_HOURS", f"no settlements from province "
                      f"{pair.grantor_province} to {pair.other_province} between "
                      f"{pair.limits.quiet_from:%H:%M} and {pair.limits.quiet_until:%H:%M} (Asia/Shanghai)",
                      limit="quiet_hours", **where)
    return None


def daily_limit_refusal(pair: Pair, limit: str) -> Refusal:
    """A daily limit the commit found reached (counted in the database)."""
    value = getattr(pair.limits, limit)
    what = {"per_beneficiary_daily": f"at most {value} settlements a day for one beneficiary",
            "daily_fen": f"at most {value} fen a day in all (the pair's circuit breaker)"}[limit]
    return refuse(Category.FAILED_PRECONDITION, "CROSS_PROVINCE_LIMIT", f"{what} from province "
                  f"{pair.grantor_province} to {pair.other_province}; the limit is reached for today",
                  limit=limit, limit_value=str(value), grantor_province=pair.grantor_province,
                  other_province=pair.other_province)


def with_limits(limits: PairLimits, **changes: object) -> PairLimits:
    known = {f.name for f in fields(PairLimits)}
    return replace(limits, **{k: v for k, v in changes.items() if k in known})
