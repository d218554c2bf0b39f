"""The console page: server-rendered HTML and SVG from the same figures as the JSON endpoints (no script, so
it works without JavaScript; it reloads itself with a meta refresh). Colour is never the only signal: every
state is written out."""

from __future__ import annotations

from datetime import datetime, timezone
from html import escape
from typing import Any

from gateway.console.provinces import province_name
from gateway.domain.clock import CHINA

REFRESH_SECONDS = 5
STATES = ("LIVE", "PILOT", "DISABLED")


def _time(value: str | None) -> str:
    """An RFC 3339 time from the JSON, shown in Asia/Shanghai."""
    if not value:
        return ""
    at = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(CHINA)
    return at.strftime("%Y-%m-%d %H:%M:%S")


def _state(region: dict[str, Any]) -> str:
    return region.get("state", "ROLLOUT_STATE_UNSPECIFIED").removeprefix("ROLLOUT_STATE_")


def kill_switch(switch: dict[str, Any]) -> str:
    if switch.get("pulled"):
        return (f'<div class="kill pulled" role="alert" id="kill-switch"><strong>KILL SWITCH PULLED</strong>: '
                f'all cross-province mutual aid is stopped (by {escape(switch.get("updatedBy", ""))} at '
                f'{_time(switch.get("updateTime"))}). Same-province mutual aid goes on.</div>')
    return '<div class="kill" id="kill-switch">Kill switch: not pulled. Open pairs settle across provinces.</div>'


def province_grid(provinces: dict[str, Any]) -> str:
    tiles = []
    for p in provinces["provinces"]:
        counts = p["regions"]
        state = next((s for s in STATES if counts.get(s)), "NONE")
        label = ", ".join(f"{s} {counts[s]}" for s in STATES if counts.get(s)) or "no regions"
        tiles.append(f'<div class="tile state-{state.lower()} c{p["column"]} r{p["row"]}" '
                     f'title="{escape(p["displayName"])}: {label}">'
                     f'<span class="code">{p["province"]}</span> {escape(p["displayName"].split(" ")[0])}'
                     f'<br><small>{label}</small></div>')
    return '<div class="grid" aria-label="provinces by rollout state">' + "".join(tiles) + "</div>"


def regions_table(regions: dict[str, Any]) -> str:
    rows = sorted(regions.get("regions", []), key=lambda r: r["admdvs"])
    body = "".join(
        f'<tr><td>{escape(r["province"])} {escape(province_name(r["province"]))}</td><td>{escape(r["admdvs"])}</td>'
        f'<td>{escape(r.get("displayName", ""))}</td><td class="state-{_state(r).lower()}">{_state(r)}</td>'
        f'<td>{_time(r.get("updateTime"))}</td><td>{escape(r.get("updatedBy", ""))}</td></tr>' for r in rows)
    return ("<table id=\"regions\"><thead><tr><th>Province</th><th>Region</th><th>Name</th><th>State</th>"
            f"<th>Since</th><th>By</th></tr></thead><tbody>{body}</tbody></table>")


def _limits(limits: dict[str, Any]) -> str:
    parts = []
    if "perBeneficiaryDaily" in limits:
        parts.append(f'{limits["perBeneficiaryDaily"]} a day per beneficiary')
    if "perSettlementFen" in limits:
        parts.append(f'at most {int(limits["perSettlementFen"]) / 100:,.2f} yuan each')
    if "dailyFen" in limits:
        parts.append(f'at most {int(limits["dailyFen"]) / 100:,.2f} yuan a day in all')
    if limits.get("quietFrom"):
        parts.append(f'none {limits["quietFrom"]}-{limits.get("quietUntil", "")}')
    return "; ".join(parts) or "no limits"


def pair_state(pair: dict[str, Any] | None, pulled: bool, now: datetime) -> str:
    """OPEN, CLOSED, SCHEDULED (opens later), ENDED (its schedule is over) or STOPPED (open by its switch and
    schedule, but the kill switch is pulled). Quiet hours are among the limits written under it."""
    if pair is None or not pair.get("open"):
        return "CLOSED"
    at = lambda name: datetime.fromisoformat(pair[name].replace("Z", "+00:00")) if pair.get(name) else None
    opens, closes = at("openTime"), at("closeTime")
    if opens is not None and now < opens:
        return "SCHEDULED"
    if closes is not None and now >= closes:
        return "ENDED"
    return "STOPPED" if pulled else "OPEN"


def pair_matrix(pairs: dict[str, Any], regions: dict[str, Any], pulled: bool) -> str:
    now = datetime.now(timezone.utc)
    found = {(p["grantorProvince"], p["otherProvince"]): p for p in pairs.get("pairs", [])}
    codes = sorted({r["province"] for r in regions.get("regions", [])} | {c for key in found for c in key})
    head = "".join(f'<th scope="col">{c}<br><small>{escape(province_name(c).split(" ")[0])}</small></th>'
                   for c in codes)
    rows = []
    for grantor in codes:
        cells = []
        for other in codes:
            if grantor == other:
                cells.append('<td class="same">same province</td>')
                continue
            pair = found.get((grantor, other))
            state = pair_state(pair, pulled, now)
            detail = ""
            if pair is not None and pair.get("open"):
                window = " ".join(x for x in (f'from {_time(pair["openTime"])}' if pair.get("openTime") else "",
                                              f'until {_time(pair["closeTime"])}' if pair.get("closeTime") else "") if x)
                detail = f'<br><small>{escape(window)}{"<br>" if window else ""}{escape(_limits(pair.get("limits", {})))}</small>'
            cells.append(f'<td class="pair pair-{state.lower()}" data-pair="{grantor}-{other}">{state}{detail}</td>')
        rows.append(f'<tr><th scope="row">{grantor} {escape(province_name(grantor).split(" ")[0])}</th>'
                    + "".join(cells) + "</tr>")
    return (f'<table id="pairs" class="matrix"><thead><tr><th>grantor \\ other</th>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def _chart(allowed: list[int], refused: dict[str, list[int]]) -> str:
    """60 bars, one a minute: allowed below, refused stacked above, scaled to the busiest minute."""
    refused_total = [sum(series[i] for series in refused.values()) for i in range(len(allowed))]
    peak = max([a + r for a, r in zip(allowed, refused_total)] + [1])
    bars = []
    for i, (a, r) in enumerate(zip(allowed, refused_total)):
        ha, hr = 40 * a / peak, 40 * r / peak
        bars.append(f'<rect class="allowed" x="{i * 4}" y="{40 - ha:.1f}" width="3" height="{ha:.1f}">'
                    f'<title>minute {i + 1}: {a} allowed, {r} refused</title></rect>')
        if r:
            bars.append(f'<rect class="refused" x="{i * 4}" y="{40 - ha - hr:.1f}" width="3" height="{hr:.1f}"/>')
    return (f'<svg class="chart" viewBox="0 0 240 40" width="240" height="40" role="img" '
            f'aria-label="per minute over the last hour, peak {peak}">{"".join(bars)}</svg>')


def traffic_section(traffic: dict[str, Any]) -> str:
    if not traffic["pairs"]:
        return "<p>No cross-province settlements or refusals in the last hour.</p>"
    rows = []
    for p in traffic["pairs"]:
        reasons = ", ".join(f"{escape(reason)} {sum(series)}" for reason, series in p["refused"].items())
        rows.append(f'<tr data-pair="{p["grantorProvince"]}-{p["otherProvince"]}"><th scope="row">'
                    f'{p["grantorProvince"]} &rarr; {p["otherProvince"]}</th><td>{_chart(p["allowed"], p["refused"])}'
                    f'</td><td>{sum(p["allowed"])}</td><td>{sum(sum(s) for s in p["refused"].values())}'
                    f'{f" ({reasons})" if reasons else ""}</td></tr>')
    return ('<table id="traffic"><thead><tr><th>Pair</th><th>Per minute, last hour (lower bar: allowed; upper, '
            'red: refused)</th><th>Allowed</th><th>Refused (by reason)</th></tr></thead><tbody>'
            + "".join(rows) + "</tbody></table>")


def changes_table(changes: dict[str, Any]) -> str:
    found = changes.get("changeRequests", [])
    if not found:
        return '<p id="changes">No change request waits for a second operator.</p>'
    body = "".join(f'<tr><td>{escape(c["name"])}</td><td>{escape(c.get("summary", ""))}</td>'
                   f'<td>{escape(c.get("requestedBy", ""))}</td><td>{_time(c.get("createTime"))}</td>'
                   f'<td>{escape(c.get("reason", ""))}</td></tr>' for c in found)
    more = "<p>More are pending: see copayctl.</p>" if changes.get("nextPageToken") else ""
    return ('<table id="changes"><thead><tr><th>Change request</th><th>What</th><th>Asked by</th><th>Since</th>'
            f'<th>Why</th></tr></thead><tbody>{body}</tbody></table>{more}')


def audit_table(entries: dict[str, Any]) -> str:
    body = "".join(f'<tr><td>{e.get("seq", "")}</td><td>{_time(e.get("time"))}</td><td>{escape(e.get("actor", ""))}'
                   f'</td><td>{escape(e.get("action", ""))}</td><td>{escape(e.get("target", ""))}</td>'
                   f'<td>{escape(e.get("reason", ""))}</td></tr>' for e in reversed(entries.get("entries", [])))
    return ('<table id="audit"><thead><tr><th>#</th><th>When</th><th>Who</th><th>What</th><th>On</th><th>Why</th>'
            f'</tr></thead><tbody>{body}</tbody></table>'
            '<p><a href="/api/audit/verify">Verify the audit chain</a> (walks every entry; JSON).</p>')


def render(figures: dict[str, Any]) -> str:
    pulled = bool(figures["kill_switch"].get("pulled"))
    now = datetime.now(CHINA).strftime("%Y-%m-%d %H:%M:%S")
    links = " · ".join(f'<a href="{path}">{path}</a>' for path in (
        "/api/regions", "/api/provinces", "/api/pairs", "/api/kill-switch", "/api/traffic", "/api/change-requests",
        "/api/audit"))
    return f"""<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="{REFRESH_SECONDS}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>copay-gateway console{" - KILL SWITCH PULLED" if pulled else ""}</title>
<link rel="stylesheet" href="/console.css">
</head>
<body>
<header><h1>copay-gateway: cross-province mutual aid</h1>
<p>As of {now} (Asia/Shanghai); this page reloads every {REFRESH_SECONDS} s. Read-only: changes go through
copayctl.</p></header>
{kill_switch(figures["kill_switch"])}
<section><h2>Provinces</h2>{province_grid(figures["provinces"])}</section>
<section><h2>Province pairs</h2>{pair_matrix(figures["pairs"], figures["regions"], pulled)}</section>
<section><h2>Cross-province settlements, last hour</h2>{traffic_section(figures["traffic"])}</section>
<section><h2>Waiting for a second operator</h2>{changes_table(figures["changes"])}</section>
<section><h2>Regions</h2>{regions_table(figures["regions"])}</section>
<section><h2>Audit log, newest first</h2>{audit_table(figures["audit"])}</section>
<footer><p>JSON: {links}</p></footer>
</body>
</html>
"""

