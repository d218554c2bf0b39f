"""The province policies in force: one TOML file per province, shipped in the
package. A changed rule is a new ``version`` in the same file; bindings keep
the version they were decided under."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

from gateway.domain.policies import Geography, GrantorOrder, Policy, Use, policy_problems
from gateway.domain.relationships import SCOPES, Relationship

FOLDER = Path(__file__).parent


def parse(text: str, origin: str) -> Policy:
    data = tomllib.loads(text)
    try:
        policy = Policy(
            province=data["province"], name=data["name"], version=int(data["version"]),
            scope=SCOPES[data["relationship_scope"]], geography=Geography(data["geography"]),
            confirmation=frozenset(Relationship(r) for r in data.get("confirmation_required", [])),
            review_required=bool(data["review_required"]), uses=frozenset(Use(u) for u in data["allowed_uses"]),
            grantor_order=GrantorOrder(data["grantor_order"]), sources=tuple(data["sources"]))
    except (KeyError, ValueError) as exc:
        raise ValueError(f"{origin}: {exc!r}") from None
    if problems := policy_problems(policy):
        raise ValueError(f"{origin}: " + "; ".join(f"{field}: {why}" for field, why in problems))
    return policy


@cache
def load() -> dict[str, Policy]:
    """Province code -> policy, from every ``*.toml`` beside this module."""
    policies = [parse(path.read_text(encoding="utf-8"), path.name) for path in sorted(FOLDER.glob("*.toml"))]
    return {p.province: p for p in policies}
