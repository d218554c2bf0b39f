"""Operators through the real server over mTLS: who may call the admin service, four-eyes, a pair opened
and closed while settlements go on (two gateway processes on PostgreSQL: a change on one applies on the
other within a second), the kill switch, disabled and unregistered regions, revoked certificates (by the
admin service and by the CA's CRL), a policy version, and the audit log."""

from __future__ import annotations

import time
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from gateway._proto.copay.v1 import admin_pb2 as apb
from gateway._proto.copay.v1.admin_pb2_grpc import AdminServiceStub
from gateway._proto.copay.v1 import bindings_pb2 as bpb
from gateway._proto.copay.v1 import diagnostics_pb2, diagnostics_pb2_grpc
from gateway._proto.copay.v1.policies_pb2 import ListProvincePoliciesRequest
from gateway._proto.copay.v1.policies_pb2_grpc import PoliciesServiceStub
from gateway._proto.copay.v1 import settlements_pb2 as spb
from gateway.api.policies import policy_message
from gateway.policies import load
from gateway.security import pki as devpki
from gateway.security.principal import Kind, Principal
from tests.e2e.conftest import details, start_gateway
from tests.e2e.world import COUNTER, RESIDENT, T, World, admin, refused, set_pair

pytestmark = pytest.mark.e2e
APPLIES_WITHIN = 1.0  # seconds: a change made on one gateway process applies on every other by then


@pytest.fixture(scope="module")
def worlds(shared_database):
    """One World per gateway process sharing the database."""
    gateways, engine = shared_database
    return [World(gw) for gw in gateways]


def rid(prefix: str) -> str:
    return f"{prefix}-{next(COUNTER)}"


def echo(gateway, cert: str, folder: Path | None = None) -> str:
    """Echo with ``cert`` (from ``folder``, the dev PKI by default): the principal, or the refusal's reason."""
    folder = folder or gateway.pki
    creds = grpc.ssl_channel_credentials((gateway.pki / "ca.pem").read_bytes(),
                                         (folder / f"{cert}-key.pem").read_bytes(), (folder / f"{cert}.pem").read_bytes())
    channel = grpc.secure_channel(gateway.address, creds, options=[("grpc.ssl_target_name_override", "localhost")])
    gateway.channels.append(channel)
    try:
        return diagnostics_pb2_grpc.DiagnosticsServiceStub(channel).Echo(diagnostics_pb2.EchoRequest(), timeout=T).principal
    except grpc.RpcError as err:
        info, _ = details(err)
        return info.reason if info else err.code().name


def issue(gateway, kind: Kind, name: str, folder: Path) -> None:
    """A fresh certificate of the dev CA, so that revoking it troubles no other test."""
    ca = devpki.load_ca(gateway.pki, gateway.pki.parent / "ca")
    devpki.issue(Principal(kind, name), ca, folder, devpki.CLIENT_DAYS)


def cross_province_family(world: World):
    """A Jiangsu grantor and beneficiary, funded; the bill is treated in Shanghai."""
    grantor, beneficiary, _ = world.family("320300", fen=100_000, beneficiary_region="320100")
    return grantor, beneficiary


def shanghai_bill(world: World, beneficiary: str, fen: int = 1_000):
    return world.claim(beneficiary, fen, region="310000")


def outcome(world: World, claim) -> str:
    try:
        world.settle(claim)
        return "OK"
    except grpc.RpcError as err:
        info, _ = details(err)
        return info.reason


def test_a_region_certificate_cannot_call_the_admin_service(worlds):
    stub = AdminServiceStub(worlds[0].gateway.channel("region-320300"))
    for call, request in ((stub.ListRegions, apb.ListRegionsRequest()),
                          (stub.SetKillSwitch, apb.SetKillSwitchRequest(request_id=rid("k"), pulled=True,
                                                                        reason="not mine"))):
        code, reason, _, _ = refused(call, request)
        assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "PRINCIPAL_NOT_ADMITTED")


def test_an_operator_cannot_approve_their_own_request(worlds):
    gateway = worlds[0].gateway
    asked = admin(gateway).OpenProvincePair(apb.OpenProvincePairRequest(
        request_id=rid("open"), pair=apb.PairRef(grantor_province="13", other_province="44"), reason="pilot"),
        timeout=T)
    assert asked.state == apb.CHANGE_STATE_PENDING
    code, reason, meta, _ = refused(admin(gateway).ApproveChangeRequest, apb.ApproveChangeRequestRequest(
        name=asked.name, request_id=rid("self"), reason="looks fine to me"))
    assert (code, reason, meta["requested_by"]) == (grpc.StatusCode.PERMISSION_DENIED, "SELF_APPROVAL", "operator/ops")
    rejected = admin(gateway).RejectChangeRequest(apb.RejectChangeRequestRequest(
        name=asked.name, request_id=rid("withdraw"), reason="withdrawn"), timeout=T)
    assert rejected.state == apb.CHANGE_STATE_REJECTED


def test_an_approved_opening_lets_jiangsu_pay_a_shanghai_treatment_and_a_close_stops_it_everywhere(worlds):
    first, last = worlds[0], worlds[-1]
    _, beneficiary = cross_province_family(first)
    for w in worlds[1:]:
        w.numbers.update(first.numbers)
    assert outcome(last, shanghai_bill(last, beneficiary)) == "CROSS_PROVINCE_CLOSED"
    opened = set_pair(first.gateway, "32", "31", True, both_ways=False)  # ops asks, ops2 approves, on process 1
    assert opened.state == apb.CHANGE_STATE_APPLIED
    time.sleep(APPLIES_WITHIN)
    assert outcome(last, shanghai_bill(last, beneficiary)) == "OK"  # on the last process
    closed = set_pair(first.gateway, "32", "31", False, both_ways=False)  # one operator, at once
    assert closed.state == apb.CHANGE_STATE_APPLIED and closed.decided_by == "operator/ops"
    time.sleep(APPLIES_WITHIN)
    assert outcome(last, shanghai_bill(last, beneficiary)) == "CROSS_PROVINCE_CLOSED"
    assert outcome(first, shanghai_bill(first, beneficiary)) == "CROSS_PROVINCE_CLOSED"


def test_the_kill_switch_stops_cross_province_settlements_while_same_province_ones_go_on(worlds):
    first, last = worlds[0], worlds[-1]
    _, beneficiary = cross_province_family(first)
    for w in worlds[1:]:
        w.numbers.update(first.numbers)
    set_pair(first.gateway, "32", "31", True, both_ways=False)
    pulled = admin(first.gateway).SetKillSwitch(apb.SetKillSwitchRequest(request_id=rid("kill"), pulled=True,
                                                                         reason="incident 42"), timeout=T)
    assert pulled.state == apb.CHANGE_STATE_APPLIED
    time.sleep(APPLIES_WITHIN)
    assert outcome(last, shanghai_bill(last, beneficiary)) == "CROSS_PROVINCE_SUSPENDED"
    assert outcome(last, last.claim(beneficiary, 500, region="320100")) == "OK"  # same province goes on
    lift = admin(first.gateway).SetKillSwitch(apb.SetKillSwitchRequest(request_id=rid("lift"), pulled=False,
                                                                       reason="incident over"), timeout=T)
    assert lift.state == apb.CHANGE_STATE_PENDING  # lifting needs a second operator
    assert admin(first.gateway).GetKillSwitch(apb.GetKillSwitchRequest(), timeout=T).pulled
    admin(first.gateway, "ops2").ApproveChangeRequest(apb.ApproveChangeRequestRequest(
        name=lift.name, request_id=rid("ok"), reason="checked"), timeout=T)
    time.sleep(APPLIES_WITHIN)
    assert outcome(last, shanghai_bill(last, beneficiary)) == "OK"
    set_pair(first.gateway, "32", "31", False, both_ways=False)


def test_a_daily_limit_through_the_server(worlds):
    first = worlds[0]
    _, beneficiary = cross_province_family(first)
    set_pair(first.gateway, "32", "31", True, both_ways=False, limits=apb.PairLimits(per_beneficiary_daily=2))
    outcomes = [outcome(first, shanghai_bill(first, beneficiary, 100)) for _ in range(3)]
    assert outcomes == ["OK", "OK", "CROSS_PROVINCE_LIMIT"]
    set_pair(first.gateway, "32", "31", False, both_ways=False)


def test_unregistered_and_disabled_regions_are_refused(worlds, tmp_path):
    gateway = worlds[0].gateway
    issue(gateway, Kind.REGION, "320500", tmp_path)  # Suzhou: a real region, not registered here
    assert echo(gateway, "region-320500", tmp_path) == "REGION_NOT_REGISTERED"
    registered = admin(gateway).CreateRegion(apb.CreateRegionRequest(
        request_id=rid("add"), admdvs="320500", display_name="Suzhou 苏州市, Jiangsu", reason="joins"), timeout=T)
    assert registered.state == apb.ROLLOUT_STATE_DISABLED
    for w in worlds:
        assert wait_for(lambda: echo(w.gateway, "region-320500", tmp_path), "REGION_DISABLED") == "REGION_DISABLED"
    enable = admin(gateway).SetRegionState(apb.SetRegionStateRequest(
        request_id=rid("live"), region="regions/320500", state=apb.ROLLOUT_STATE_LIVE, reason="ready"), timeout=T)
    assert enable.state == apb.CHANGE_STATE_PENDING
    admin(gateway, "ops2").ApproveChangeRequest(apb.ApproveChangeRequestRequest(
        name=enable.name, request_id=rid("ok"), reason="checked"), timeout=T)
    for w in worlds:
        assert wait_for(lambda: echo(w.gateway, "region-320500", tmp_path), "region/320500") == "region/320500"
    # A certificate admitted before (the gateway remembers it) is refused once its region is disabled.
    admin(gateway).SetRegionState(apb.SetRegionStateRequest(
        request_id=rid("off-320500"), region="regions/320500", state=apb.ROLLOUT_STATE_DISABLED,
        reason="incident"), timeout=T)
    for w in worlds:
        assert wait_for(lambda: echo(w.gateway, "region-320500", tmp_path), "REGION_DISABLED") == "REGION_DISABLED"
    # Disabling applies at once, and a call acting on a member of the disabled region is refused too.
    world = worlds[0]
    grantor, _ = world.member("450100")
    beneficiary, _ = world.member("450200", kind=RESIDENT)
    admin(gateway).SetRegionState(apb.SetRegionStateRequest(
        request_id=rid("off"), region="regions/450200", state=apb.ROLLOUT_STATE_DISABLED, reason="incident"),
        timeout=T)
    code, reason, _, _ = refused(world.bindings("450100").CreateBinding, bpb.CreateBindingRequest(
        request_id=rid("b"), grantor=grantor, beneficiary=beneficiary, relationship=bpb.RELATIONSHIP_MOTHER))
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "REGION_DISABLED")


def wait_for(probe, want: str, seconds: float = APPLIES_WITHIN):
    """The probe's answer once it is ``want``, or its last answer after ``seconds``."""
    deadline, answer = time.monotonic() + seconds, probe()
    while answer != want and time.monotonic() < deadline:
        time.sleep(0.05)
        answer = probe()
    return answer


def test_a_revoked_certificate_is_refused_on_every_process_within_a_second(worlds, tmp_path):
    issue(worlds[0].gateway, Kind.REGION, "320300", tmp_path)
    assert [echo(w.gateway, "region-320300", tmp_path) for w in worlds] == ["region/320300"] * len(worlds)
    pem = (tmp_path / "region-320300.pem").read_text()
    revoked = admin(worlds[0].gateway).RevokeCertificate(apb.RevokeCertificateRequest(
        request_id=rid("revoke"), certificate_pem=pem, reason="laptop stolen"), timeout=T)
    assert revoked.principal == "region/320300" and revoked.serial
    time.sleep(APPLIES_WITHIN)
    assert [echo(w.gateway, "region-320300", tmp_path) for w in worlds] == ["CERTIFICATE_REVOKED"] * len(worlds)
    assert echo(worlds[-1].gateway, "region-320300") == "region/320300"  # the region's other certificate works
    metrics = urllib.request.urlopen(f"http://127.0.0.1:{worlds[-1].gateway.metrics_port}/metrics").read().decode()
    assert "copay_revoked_certificate_refusals_total 1.0" in metrics


def test_a_certificate_on_the_cas_crl_is_refused_and_the_list_is_reloaded_when_it_changes(pki, tmp_path):
    issue_into = tmp_path / "issued"
    issue_into.mkdir()
    ca_issuer = devpki.load_ca(pki, pki.parent / "ca")
    devpki.issue(Principal(Kind.REGION, "420100"), ca_issuer, issue_into, devpki.CLIENT_DAYS)
    crl_file = tmp_path / "federation.crl"
    gw = start_gateway(pki, f"sqlite:///{tmp_path / 'copay.db'}", tmp_path, COPAY_CRL_FILE=str(crl_file))
    try:
        assert echo(gw, "region-420100", issue_into) == "region/420100"
        cert = x509.load_pem_x509_certificate((issue_into / "region-420100.pem").read_bytes())
        now = datetime.now(timezone.utc)
        crl = (x509.CertificateRevocationListBuilder().issuer_name(ca_issuer.cert.subject).last_update(now)
               .next_update(now + timedelta(days=1)).add_revoked_certificate(
                   x509.RevokedCertificateBuilder().serial_number(cert.serial_number).revocation_date(now).build())
               .sign(ca_issuer.key, hashes.SHA256()))
        crl_file.write_bytes(crl.public_bytes(serialization.Encoding.DER))
        assert wait_for(lambda: echo(gw, "region-420100", issue_into), "CERTIFICATE_REVOKED") == "CERTIFICATE_REVOKED"
        assert echo(gw, "region-420100") == "region/420100"
    finally:
        gw.stop()


def test_a_published_policy_applies_to_bindings_filed_after_it_and_earlier_ones_keep_theirs(worlds):
    world, gateway = worlds[0], worlds[0].gateway
    before_grantor, _ = world.member("130200")
    before = world.create(before_grantor, world.member("130500", kind=RESIDENT)[0], bpb.RELATIONSHIP_SON)
    assert (before.policy, before.status) == ("13@v1", bpb.BINDING_STATUS_ACTIVE)
    hebei = policy_message(load()["13"])
    hebei.review_required = True
    asked = admin(gateway).PublishProvincePolicy(apb.PublishProvincePolicyRequest(
        request_id=rid("policy"), policy=hebei, reason="Hebei requires office review from now on"), timeout=T)
    assert asked.state == apb.CHANGE_STATE_PENDING
    admin(gateway, "ops2").ApproveChangeRequest(apb.ApproveChangeRequestRequest(
        name=asked.name, request_id=rid("ok"), reason="matches the provincial notice"), timeout=T)
    after_grantor, _ = world.member("130200")
    after = world.create(after_grantor, world.member("130500", kind=RESIDENT)[0], bpb.RELATIONSHIP_SON)
    assert (after.policy, after.status) == ("13@v2", bpb.BINDING_STATUS_PENDING_REVIEW)
    kept = world.bindings("130200").GetBinding(bpb.GetBindingRequest(name=before.name), timeout=T)
    assert (kept.policy, kept.status) == ("13@v1", bpb.BINDING_STATUS_ACTIVE)
    in_force = PoliciesServiceStub(gateway.channel("region-130200")).ListProvincePolicies(
        ListProvincePoliciesRequest(), timeout=T).policies
    assert "13@v2" in {p.policy for p in in_force}


def test_every_change_is_audited_once_with_before_and_after_and_the_chain_verifies(worlds):
    gateway = worlds[0].gateway
    closed = set_pair(gateway, "45", "44", False)
    opened = set_pair(gateway, "45", "44", True)
    entries = admin(gateway).ListAuditEntries(apb.ListAuditEntriesRequest(page_size=500), timeout=T).entries
    for change, actions in ((closed, ["change.applied"]), (opened, ["change.requested", "change.approved"])):
        mine = [e for e in entries if e.target == change.name]
        assert [e.action for e in mine] == actions
        applied = mine[-1]
        assert '"provincePairs/45-44"' in applied.after_json and '"provincePairs/44-45"' in applied.before_json
        assert applied.reason and applied.actor in ("operator/ops", "operator/ops2")
    verified = admin(gateway).VerifyAuditLog(apb.VerifyAuditLogRequest(), timeout=T)
    assert verified.intact and verified.entries_checked == len(entries)


def test_operators_read_impersonation_attempts(worlds):
    world = worlds[0]
    grantor, beneficiary, _ = world.family("421000")
    refused(world.settlements("421000").Settle, spb.SettleRequest(
        request_id=rid("imp"), claim=world.claim(beneficiary, 100, holder=grantor)))
    attempts = admin(world.gateway).ListImpersonationAttempts(apb.ListImpersonationAttemptsRequest(
        caller="region/421000"), timeout=T).attempts
    assert [(a.beneficiary, a.attempts) for a in attempts] == [(beneficiary, 1)]


def test_metrics_show_the_pairs_the_kill_switch_and_cross_province_settlements(worlds):
    world, gateway = worlds[0], worlds[0].gateway
    _, beneficiary = cross_province_family(world)
    set_pair(gateway, "32", "31", True, both_ways=False)
    assert outcome(world, shanghai_bill(world, beneficiary)) == "OK"
    set_pair(gateway, "32", "31", False, both_ways=False)
    set_pair(gateway, "11", "13", True, both_ways=False)
    time.sleep(APPLIES_WITHIN)  # the gauges follow the server's poll
    metrics = urllib.request.urlopen(f"http://127.0.0.1:{gateway.metrics_port}/metrics").read().decode()
    assert 'copay_province_pair_open{grantor_province="11",other_province="13"} 1.0' in metrics
    assert "copay_kill_switch_pulled 0.0" in metrics
    assert 'copay_cross_province_settlements_total{grantor_province="32",other_province="31",outcome="allowed"}' \
        in metrics
    set_pair(gateway, "11", "13", False, both_ways=False)

