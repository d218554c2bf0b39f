"""Operators' state as JSON: what change requests store, policy versions keep, and the audit log shows.
Canonical (sorted keys), so the same state always gives the same text, and the same audit hash."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from datetime import datetime, time as clock
from typing import Any

from gateway.domain.changes import (Change, Directions, KillSwitchChange, PairClosing, PairLimitsChange,
                                    PairOpening, PolicyPublication, RegionStateChange)
from gateway.domain.policies import Geography, GrantorOrder, Policy, Use
from gateway.domain.relationships import Relationship
from gateway.domain.rollout import PairLimits, RolloutState


def json_text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def hhmm(value: clock | None) -> str | None:
    return value.strftime("%H:%M") if value is not None else None


def parse_hhmm(value: str | None) -> clock | None:
    return clock.fromisoformat(value) if value else None


def limits_to_dict(limits: PairLimits) -> dict[str, Any]:
    return {**asdict(limits), "quiet_from": hhmm(limits.quiet_from), "quiet_until": hhmm(limits.quiet_until)}


def limits_from_dict(data: dict[str, Any]) -> PairLimits:
    return PairLimits(data["per_beneficiary_daily"], data["per_settlement_fen"], data["daily_fen"],
                      parse_hhmm(data["quiet_from"]), parse_hhmm(data["quiet_until"]))


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def change_to_dict(change: Change) -> dict[str, Any]:
    """The change as JSON-ready data: what change requests store and the audit log shows."""
    if isinstance(change, RegionStateChange):
        return {"region": change.admdvs, "state": change.state.value}
    if isinstance(change, KillSwitchChange):
        return {"pulled": change.pulled}
    if isinstance(change, PolicyPublication):
        return {"policy": json.loads(policy_to_json(change.policy))}
    data: dict[str, Any] = {"pair": asdict(change.pair)}
    if isinstance(change, PairOpening):
        data.update(opens_at=_time(change.opens_at), closes_at=_time(change.closes_at),
                    limits=limits_to_dict(change.limits))
    elif isinstance(change, PairLimitsChange):
        data["limits"] = limits_to_dict(change.limits)
    return data


def change_to_json(change: Change) -> str:
    return json_text(change_to_dict(change))


def change_from_json(kind: str, text: str) -> Change:
    data = json.loads(text)
    if kind == "RegionStateChange":
        return RegionStateChange(data["region"], RolloutState(data["state"]))
    if kind == "KillSwitchChange":
        return KillSwitchChange(data["pulled"])
    if kind == "PolicyPublication":
        return PolicyPublication(policy_from_dict(data["policy"]))
    pair = Directions(**data["pair"])
    if kind == "PairOpening":
        return PairOpening(pair, _parse_time(data["opens_at"]), _parse_time(data["closes_at"]),
                           limits_from_dict(data["limits"]))
    if kind == "PairLimitsChange":
        return PairLimitsChange(pair, limits_from_dict(data["limits"]))
    assert kind == "PairClosing", kind
    return PairClosing(pair)


def policy_to_json(policy: Policy) -> str:
    return json_text({"province": policy.province, "name": policy.name, "version": policy.version,
                  "scope": sorted(r.value for r in policy.scope), "geography": policy.geography.value,
                  "confirmation": sorted(r.value for r in policy.confirmation),
                  "review_required": policy.review_required, "uses": sorted(u.value for u in policy.uses),
                  "grantor_order": policy.grantor_order.value, "sources": list(policy.sources),
                  "effective_at": _time(policy.effective_at)})


def policy_from_dict(data: dict[str, Any]) -> Policy:
    return Policy(data["province"], data["name"], data["version"], frozenset(Relationship(r) for r in data["scope"]),
                  Geography(data["geography"]), frozenset(Relationship(r) for r in data["confirmation"]),
                  data["review_required"], frozenset(Use(u) for u in data["uses"]), GrantorOrder(data["grantor_order"]),
                  tuple(data["sources"]), _parse_time(data["effective_at"]))


def policy_from_json(text: str, version: int, effective_at: datetime) -> Policy:
    return replace(policy_from_dict(json.loads(text)), version=version, effective_at=effective_at)
