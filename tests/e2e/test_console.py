"""The operator console against the real server (two gateway processes on PostgreSQL, one on SQLite): its JSON
answers what the admin service answers over mTLS; cross-province traffic counted by every process shows per
pair and reason; bound beyond loopback, the listener serves operators only, and no revoked certificate. The
page in a real browser: test_console_browser."""

from __future__ import annotations

import json
import ssl
import time
import urllib.error
import urllib.request

import pytest
from google.protobuf import json_format

from gateway._proto.copay.v1 import admin_pb2 as apb
from gateway.security import pki as devpki
from gateway.security.principal import Kind, Principal
from tests.e2e.conftest import start_gateway
from tests.e2e.world import COUNTER, T, World, admin, set_pair

pytestmark = pytest.mark.e2e
FLUSHED_WITHIN = 10.0  # seconds: a process adds its traffic counts every 2 s


@pytest.fixture(scope="module")
def worlds(shared_database):
    gateways, _ = shared_database
    return [World(gw) for gw in gateways]


def get(gateway, path: str) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{gateway.console_port}{path}", timeout=T) as answer:
        assert answer.headers["Content-Type"] == "application/json"
        return json.loads(answer.read())


def test_on_loopback_a_request_for_another_host_is_refused(worlds):
    """A web page elsewhere cannot read the console through a browser here (DNS rebinding)."""
    url = f"http://127.0.0.1:{worlds[0].gateway.console_port}/api/kill-switch"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(urllib.request.Request(url, headers={"Host": "evil.example"}), timeout=T)
    assert refused.value.code == 403 and "localhost" in json.loads(refused.value.read())["error"]
    for host in (f"localhost:{worlds[0].gateway.console_port}", "127.0.0.1"):
        with urllib.request.urlopen(urllib.request.Request(url, headers={"Host": host}), timeout=T) as answer:
            assert answer.status == 200


def rid(prefix: str) -> str:
    return f"{prefix}-{next(COUNTER)}"


def ask_opening(gateway, one: str, other: str) -> apb.ChangeRequest:
    """An opening asked for by ops, not approved: it waits for a second operator."""
    return admin(gateway).OpenProvincePair(apb.OpenProvincePairRequest(
        request_id=rid("ask"), pair=apb.PairRef(grantor_province=one, other_province=other), reason="console test",
        limits_preset="wallet-2025"), timeout=T)


def test_the_json_endpoints_answer_what_the_admin_service_answers(worlds):
    gateway = worlds[0].gateway
    set_pair(gateway, "32", "31", True, both_ways=False)
    pending = ask_opening(gateway, "42", "44")
    ops = admin(gateway)
    as_json = json_format.MessageToDict
    # every process's console reads the same database
    for gw in (w.gateway for w in worlds):
        assert get(gw, "/api/regions") == as_json(ops.ListRegions(apb.ListRegionsRequest(), timeout=T))
        assert get(gw, "/api/kill-switch") == as_json(ops.GetKillSwitch(apb.GetKillSwitchRequest(), timeout=T))
        assert get(gw, "/api/change-requests") == as_json(ops.ListChangeRequests(apb.ListChangeRequestsRequest(
            state=apb.CHANGE_STATE_PENDING, page_size=100), timeout=T))
        pairs = get(gw, "/api/pairs")
        assert pairs == as_json(ops.ListProvincePairs(apb.ListProvincePairsRequest(), timeout=T))
        assert any(p["name"] == "provincePairs/32-31" and p["openNow"] for p in pairs["pairs"])
        assert pending.name in [c["name"] for c in get(gw, "/api/change-requests")["changeRequests"]]
        entries, token = [], ""
        while True:  # the whole log through the admin service; the console shows its newest entries
            page_ = ops.ListAuditEntries(apb.ListAuditEntriesRequest(page_size=100, page_token=token), timeout=T)
            entries += [as_json(e) for e in page_.entries]
            if not (token := page_.next_page_token):
                break
        assert get(gw, "/api/audit")["entries"] == entries[-20:]
        assert get(gw, "/api/audit/verify") == as_json(ops.VerifyAuditLog(apb.VerifyAuditLogRequest(), timeout=T))
        provinces = {p["province"]: p for p in get(gw, "/api/provinces")["provinces"]}
        assert provinces["32"]["regions"] == {"LIVE": 2} and provinces["32"]["displayName"].startswith("江苏")
        assert provinces["65"]["regions"] == {}
    admin(gateway, "ops2").RejectChangeRequest(apb.RejectChangeRequestRequest(
        name=pending.name, request_id=rid("no"), reason="console test done"), timeout=T)


def test_cross_province_traffic_of_every_process_shows_per_pair_and_reason(worlds):
    first = worlds[0]
    grantor, beneficiary, _ = first.family("320300", fen=100_000, beneficiary_region="320100")
    for w in worlds[1:]:
        w.numbers.update(first.numbers)
    set_pair(first.gateway, "32", "31", True, both_ways=False)
    before = _pair(get(first.gateway, "/api/traffic"), "32", "31")
    for w in worlds:  # allowed on every process, then refused on every process once the pair is closed
        w.settle(w.claim(beneficiary, 300, region="310000"))
    set_pair(first.gateway, "32", "31", False, both_ways=False)
    time.sleep(1.0)  # every process applies the close within a second
    for w in worlds:
        with pytest.raises(Exception):
            w.settle(w.claim(beneficiary, 300, region="310000"))
    want_allowed = sum(before["allowed"]) + len(worlds)
    want_refused = sum(before["refused"].get("CROSS_PROVINCE_CLOSED", [0])) + len(worlds)
    deadline = time.monotonic() + FLUSHED_WITHIN
    while True:
        found = _pair(get(first.gateway, "/api/traffic"), "32", "31")
        if (sum(found["allowed"]), sum(found["refused"].get("CROSS_PROVINCE_CLOSED", [0]))) == \
                (want_allowed, want_refused) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert sum(found["allowed"]) == want_allowed and len(found["allowed"]) == 60
    assert sum(found["refused"]["CROSS_PROVINCE_CLOSED"]) == want_refused
    assert found["allowed"][-1] + found["allowed"][-2] >= len(worlds)  # in the last minute or two, not earlier


def _pair(traffic: dict, grantor: str, other: str) -> dict:
    for p in traffic["pairs"]:
        if (p["grantorProvince"], p["otherProvince"]) == (grantor, other):
            return p
    return {"allowed": [0] * 60, "refused": {}}


# --- beyond loopback: operators only ------------------------------------------------------------------------

def test_beyond_loopback_the_console_serves_operators_only(pki, tmp_path):
    gateway = start_gateway(pki, f"sqlite:///{tmp_path / 'copay.db'}", tmp_path, COPAY_CONSOLE_LISTEN="0.0.0.0:0")
    issued = tmp_path / "issued"
    issued.mkdir()
    devpki.issue(Principal(Kind.OPERATOR, "night-shift"), devpki.load_ca(pki, pki.parent / "ca"), issued,
                 devpki.CLIENT_DAYS)
    try:
        def fetch(cert: str | None, path: str = "/api/kill-switch") -> tuple[int, str]:
            context = ssl.create_default_context(cafile=str(pki / "ca.pem"))
            if cert:
                folder = issued if (issued / f"{cert}.pem").exists() else pki
                context.load_cert_chain(folder / f"{cert}.pem", folder / f"{cert}-key.pem")
            try:
                with urllib.request.urlopen(f"https://localhost:{gateway.console_port}{path}", context=context,
                                            timeout=T) as answer:
                    return answer.status, answer.read().decode()
            except urllib.error.HTTPError as error:
                return error.code, error.read().decode()

        status, body = fetch("operator-ops")
        assert status == 200 and json.loads(body) == {}  # the switch was never pulled: proto3 JSON omits false
        assert fetch("operator-ops", "/")[0] == 200
        status, body = fetch("region-320300")
        assert status == 403 and "operator" in json.loads(body)["error"]
        with pytest.raises((ssl.SSLError, urllib.error.URLError, ConnectionError)):
            fetch(None)  # no client certificate: the handshake fails
        with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):  # no plain HTTP beyond loopback
            urllib.request.urlopen(f"http://127.0.0.1:{gateway.console_port}/api/kill-switch", timeout=T)
        assert fetch("operator-night-shift")[0] == 200
        admin(gateway).RevokeCertificate(apb.RevokeCertificateRequest(
            request_id=rid("revoke"), certificate_pem=(issued / "operator-night-shift.pem").read_text(),
            reason="laptop stolen"), timeout=T)
        deadline = time.monotonic() + 5.0  # the revocation applies within a second
        while (status := fetch("operator-night-shift"))[0] == 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert status[0] == 403 and "revoked" in json.loads(status[1])["error"]
        assert fetch("operator-ops")[0] == 200
    finally:
        gateway.stop()
