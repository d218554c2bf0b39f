"""The console page's pure parts: a pair's state as written on the page, and escaping of what the registry says."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from gateway.console import page

NOW = datetime(2026, 11, 28, 4, tzinfo=timezone.utc)


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize("pair, pulled, state", [
    (None, False, "CLOSED"),
    ({"open": False}, True, "CLOSED"),
    ({"open": True, "openNow": True}, False, "OPEN"),
    ({"open": True}, True, "STOPPED"),  # openNow is false whenever the switch is pulled
    ({"open": True, "openTime": iso(NOW + timedelta(hours=1))}, False, "SCHEDULED"),
    ({"open": True, "openTime": iso(NOW + timedelta(hours=1))}, True, "SCHEDULED"),
    ({"open": True, "closeTime": iso(NOW - timedelta(hours=1))}, False, "ENDED"),
    ({"open": True, "closeTime": iso(NOW - timedelta(hours=1))}, True, "ENDED"),
    ({"open": True, "openTime": iso(NOW - timedelta(hours=1)), "closeTime": iso(NOW + timedelta(hours=1))}, False,
     "OPEN"),
])
def test_a_pairs_state_reads_its_switch_schedule_and_the_kill_switch(pair, pulled, state):
    assert page.pair_state(pair, pulled, NOW) == state


def test_what_the_registry_says_is_escaped():
    hostile = '<script>alert(1)</script>"'
    figures = {
        "kill_switch": {"pulled": True, "updatedBy": hostile},
        "regions": {"regions": [{"admdvs": "420100", "province": "42", "displayName": hostile,
                                 "state": "ROLLOUT_STATE_LIVE"}]},
        "provinces": {"provinces": [{"province": "42", "displayName": "湖北 Hubei", "column": 4, "row": 4,
                                     "regions": {"LIVE": 1}}]},
        "pairs": {}, "traffic": {"pairs": []},
        "changes": {"changeRequests": [{"name": "changeRequests/x", "summary": hostile, "reason": hostile}]},
        "audit": {"entries": [{"seq": "1", "actor": hostile, "reason": hostile}]},
    }
    html = page.render(figures)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "湖北" in html and "LIVE 1" in html
