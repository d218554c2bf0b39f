"""copayctl, the operators' console, against the real server over mTLS (SQLite and PostgreSQL).

Run in-process through ``gateway.ctl.main`` (and once as the installed script). The tests share the module's
gateway, so each uses its own province pairs (32/31, 13/44, 42/45) and the kill switch is left lifted.
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509

from gateway._proto.copay.v1 import admin_pb2
from gateway.ctl import commands, main
from gateway.ctl import parser as command_line
from gateway.sample import REGIONS
from gateway.security import pki as devpki
from gateway.security.principal import Kind, Principal

pytestmark = pytest.mark.e2e
PENDING = "pending approval by a second operator"
REVOCATION_APPLIES_WITHIN = 3.0  # seconds; the gateway follows the operators' state within one


@dataclass
class Run:
    status: int
    out: str
    err: str


def connection(gateway, cert: str = "operator-ops", address: str = "") -> list[str]:
    """The options to reach ``gateway`` with the dev PKI's certificate ``cert``."""
    return ["--address", address or gateway.address, "--cacert", str(gateway.pki / "ca.pem"),
            "--cert", str(gateway.pki / f"{cert}.pem"), "--key", str(gateway.pki / f"{cert}-key.pem")]


def run(argv: list[str], capsys) -> Run:
    status = main(argv)
    captured = capsys.readouterr()
    return Run(status, captured.out, captured.err)


@pytest.fixture
def ctl(gateway, capsys):
    """Runs copayctl in-process as an operator (ops by default) against the module's gateway."""
    return lambda *argv, operator="ops": run([*connection(gateway, f"operator-{operator}"), *argv], capsys)


def change(result: Run, state: str) -> str:
    """The name of the change request a command printed as its one line, checking the line's state."""
    assert result.status == 0, result.err
    match = re.fullmatch(rf"{state}: .+ \((changeRequests/[0-9a-f-]{{36}})\)\n", result.out)
    assert match, result.out
    return match.group(1)


def sentence(result: Run, status: int) -> str:
    """The one line on stderr of a command that failed with ``status``; nothing on stdout, no traceback."""
    assert (result.status, result.out) == (status, ""), result
    assert result.err.startswith("copayctl: ") and result.err.count("\n") == 1, result.err
    return result.err


def pairs(ctl, *provinces: str) -> dict[str, dict]:
    listed = {p["name"]: p for p in json.loads(ctl("pairs", "--json").out)["pairs"]}
    return {name: listed.get(name, {}) for name in
            (f"provincePairs/{one}-{other}" for one, other in (provinces, provinces[::-1]))}


# --- help and coverage ---------------------------------------------------------------------------------------


def _command_paths(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [path]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                paths += _command_paths(sub, (*path, name))
    return paths


def _parser_of(path: tuple[str, ...]) -> argparse.ArgumentParser:
    parser = command_line.build()
    for name in path:
        parser = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[name]
    return parser


COMMANDS = _command_paths(command_line.build())


@pytest.mark.parametrize("path", COMMANDS, ids=lambda path: " ".join(path) or "copayctl")
def test_help_explains_the_command_and_every_option(path, capsys):
    assert main([*path, "--help"]) == 0
    shown = capsys.readouterr().out
    assert shown.startswith(f"usage: {' '.join(('copayctl', *path))}")
    parser = _parser_of(path)
    assert parser.description, path
    for action in parser._actions:
        assert action.help, f"{' '.join(path)}: {action.option_strings or action.dest} has no help"


def test_every_admin_rpc_has_a_command():
    source = Path(commands.__file__).read_text()
    methods = admin_pb2.DESCRIPTOR.services_by_name["AdminService"].methods
    assert [m.name for m in methods if not re.search(rf"\.admin\.{m.name}\b", source)] == []


# --- reading ----------------------------------------------------------------------------------------------------


def test_regions_lists_the_sample_regions_live(gateway, capsys, monkeypatch):
    """Connection defaults from the environment; --json and --address after the command."""
    monkeypatch.setenv("COPAYCTL_CERT", str(gateway.pki / "operator-ops.pem"))
    monkeypatch.setenv("COPAYCTL_KEY", str(gateway.pki / "operator-ops-key.pem"))
    monkeypatch.setenv("COPAYCTL_CACERT", str(gateway.pki / "ca.pem"))
    assert main(["regions", "--address", gateway.address]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["ADMDVS", "NAME", "STATE", "UPDATED", "BY"]
    for region in REGIONS:
        assert any(line.startswith(f"{region.admdvs}  {region.name}") and " live " in line for line in lines)
    assert main(["regions", "--json", "--address", gateway.address]) == 0
    listed = {r["admdvs"]: r for r in json.loads(capsys.readouterr().out)["regions"]}
    assert {r.admdvs: (r.name, "ROLLOUT_STATE_LIVE") for r in REGIONS}.items() <= {
        k: (v["display_name"], v["state"]) for k, v in listed.items()}.items()


def test_policies_lists_the_policies_in_force(ctl):
    shown = ctl("policies")
    assert shown.status == 0
    rows = shown.out.splitlines()[1:]
    assert [row.split()[0] for row in rows] == ["11@v1", "13@v1", "31@v1", "32@v1", "42@v1", "44@v1", "45@v1"]
    assert "spouse" in next(row for row in rows if row.startswith("32@v1"))


def test_impersonations_lists_per_caller_and_checks_the_caller(ctl):
    assert ctl("impersonations", "--caller", "region/320300").status == 0
    refused = sentence(ctl("impersonations", "--caller", "320300"), 2)
    assert refused == ("copayctl: refused: invalid fields: caller [INVALID_REQUEST]: caller: must look like "
                       "region/{admdvs}\n")


# --- changes ------------------------------------------------------------------------------------------------------


def test_opening_a_pair_takes_a_second_operator_and_closing_applies_at_once(ctl):
    asked = ctl("open", "32", "31", "--both", "--preset", "wallet-2025", "--reason", "Jiangsu-Shanghai trial")
    name = change(asked, PENDING)
    assert "open 32<->31 with limits" in asked.out

    refused = sentence(ctl("approve", name, "--reason", "looks right"), 2)
    assert refused.startswith("copayctl: refused: operator/ops asked for this change and may not approve it too")
    assert refused.endswith(" [SELF_APPROVAL]\n")

    bare_id = name.removeprefix("changeRequests/")
    assert change(ctl("approve", bare_id, "--reason", "checked", operator="ops2"), "applied") == name
    wallet = {"per_beneficiary_daily": 3, "per_settlement_fen": "200000", "quiet_from": "22:00",
              "quiet_until": "06:00"}
    for pair in pairs(ctl, "32", "31").values():
        assert (pair["open"], pair["open_now"], pair["limits"], pair["updated_by"]) == (
            True, True, wallet, "operator/ops2")
    table = ctl("pairs").out
    assert re.search(r"^32->31 +yes +yes +- +3 a day per beneficiary, at most 2,000\.00 yuan a settlement, "
                     r"quiet 22:00-06:00 ", table, re.M), table

    closed = ctl("close", "32", "31", "--both", "--reason", "trial over")
    change(closed, "applied")
    assert closed.out.startswith("applied: close 32<->31 (changeRequests/")
    assert [p["open"] for p in pairs(ctl, "32", "31").values()] == [False, False]


def test_limits_in_yuan_are_sent_as_exact_fen_and_stricter_limits_apply_at_once(ctl):
    name = change(ctl("open", "13", "44", "--per-settlement-yuan", "1999.99", "--daily-yuan", "50000.5",
                      "--per-beneficiary-daily", "2", "--quiet", "23:00-05:30", "--start", "2025-01-01T08:00+08:00",
                      "--end", "2099-01-01", "--reason", "Hebei-Guangdong"), PENDING)
    shown = ctl("requests", "show", name)
    assert "2 a day per beneficiary, at most 1,999.99 yuan a settlement, at most 50,000.50 yuan a day in all, " \
           "quiet 23:00-05:30" in shown.out
    change(ctl("approve", name, "--reason", "ok", operator="ops2"), "applied")
    opened = pairs(ctl, "13", "44")["provincePairs/13-44"]
    assert opened["limits"] == {"per_beneficiary_daily": 2, "per_settlement_fen": "199999", "daily_fen": "5000050",
                                "quiet_from": "23:00", "quiet_until": "05:30"}
    assert (opened["open_time"], opened["close_time"]) == ("2025-01-01T00:00:00Z", "2098-12-31T16:00:00Z")
    assert "from 2025-01-01 08:00:00+08:00 until 2099-01-01 00:00:00+08:00" in ctl("pairs").out

    stricter = ctl("limits", "13", "44", "--per-settlement-fen", "100000", "--daily-fen", "5000050",
                   "--per-beneficiary-daily", "1", "--quiet", "22:00-06:00", "--reason", "tighter")
    change(stricter, "applied")
    looser = ctl("limits", "13", "44", "--preset", "wallet-2025", "--reason", "lift the daily cap")
    change(looser, PENDING)
    assert pairs(ctl, "13", "44")["provincePairs/13-44"]["limits"]["per_settlement_fen"] == "100000"
    change(ctl("close", "13", "44", "--both", "--reason", "done"), "applied")


DECIMALS = "has more than two decimals: yuan go down to fen (0.01) and no further, e.g. 1.23"
NOT_YUAN = "is not an amount of yuan above 0; write e.g. 2000 or 1999.99"


@pytest.mark.parametrize("amount, why", [("1.234", DECIMALS), ("0.001", DECIMALS), *(
    (text, NOT_YUAN) for text in ("1e3", "-5", "0", "0.00", "nan", "1,000", "１２", ""))])
def test_yuan_that_are_not_whole_fen_are_refused_before_anything_is_sent(amount, why, capsys):
    """Port 1 answers nothing: a call would exit 3, a local refusal exits 2."""
    status = main(["--address", "127.0.0.1:1", "open", "32", "31", f"--per-settlement-yuan={amount}",
                   "--reason", "x"])
    assert status == 2
    assert capsys.readouterr().err.splitlines()[-1] == \
        f"copayctl open: error: argument --per-settlement-yuan: '{amount}' {why}"


def test_kill_switch_pulls_at_once_and_lifts_with_a_second_operator(ctl):
    change(ctl("kill-switch", "pull", "--reason", "drill"), "applied")
    assert ctl("kill-switch").out.startswith("kill switch pulled: all cross-province mutual aid is stopped; set by "
                                             "operator/ops at ")
    first = change(ctl("kill-switch", "lift", "--reason", "drill over"), PENDING)
    pending = ctl("requests", "--state", "pending")
    assert re.search(rf"^{first.removeprefix('changeRequests/')} +pending +lift the kill switch +operator/ops ",
                     pending.out, re.M), pending.out
    listed = json.loads(ctl("requests", "--state", "pending", "--all-pages", "--json").out)["change_requests"]
    assert first in [c["name"] for c in listed] and {c["state"] for c in listed} == {"CHANGE_STATE_PENDING"}

    rejected = ctl("reject", first, "--reason", "wrong time", operator="ops2")
    assert rejected.out == f"rejected: lift the kill switch ({first})\n"
    listed = json.loads(ctl("requests", "--state", "pending", "--json").out)["change_requests"]
    assert first not in [c["name"] for c in listed]

    second = change(ctl("kill-switch", "lift", "--reason", "drill over"), PENDING)
    change(ctl("approve", second, "--reason", "ok", operator="ops2"), "applied")
    assert json.loads(ctl("kill-switch", "--json").out)["pulled"] is False


def test_a_region_is_registered_disabled_and_enabled_by_two_operators(ctl):
    added = ctl("regions", "add", "329901", "Test 测试市, Jiangsu", "--reason", "new pooling region")
    assert added.out.startswith("registered: regions/329901 Test 测试市, Jiangsu, disabled")
    name = change(ctl("regions", "set", "329901", "pilot", "--reason", "pilot first"), PENDING)
    change(ctl("approve", name, "--reason", "ok", operator="ops2"), "applied")
    states = {r["admdvs"]: r["state"] for r in json.loads(ctl("regions", "--json").out)["regions"]}
    assert states["329901"] == "ROLLOUT_STATE_PILOT"
    change(ctl("regions", "set", "329901", "disabled", "--reason", "pause"), "applied")


def test_a_request_id_makes_a_retry_the_same_request(ctl):
    once = ctl("close", "42", "45", "--reason", "retry", "--request-id", "copayctl-retry-1")
    again = ctl("close", "42", "45", "--reason", "retry", "--request-id", "copayctl-retry-1")
    assert change(once, "applied") == change(again, "applied")
    assert change(ctl("close", "42", "45", "--reason", "retry"), "applied") != change(once, "applied")


def test_publishing_a_policy_waits_for_a_second_operator(ctl):
    jiangsu = Path(__file__).resolve().parents[2] / "gateway" / "policies" / "32-jiangsu.toml"
    asked = ctl("policies", "publish", str(jiangsu), "--effective", "2030-01-01T00:00+08:00", "--reason", "v2")
    name = change(asked, PENDING)
    assert "publish a policy for province 32 in force from 2029-12-31T16:00:00+00:00" in asked.out
    change(ctl("reject", name, "--reason", "not yet"), "rejected")


def test_a_policy_file_that_does_not_parse_is_refused_locally(ctl, tmp_path):
    bad = tmp_path / "32-bad.toml"
    bad.write_text('province = "32"\n')
    assert sentence(ctl("policies", "publish", str(bad), "--reason", "x"), 2).startswith(
        f"copayctl: not a valid policy file: {bad}: ")


def test_a_revoked_certificate_is_listed_and_refused(ctl, gateway, tmp_path, capsys):
    """A certificate issued for this test, so that revoking it troubles no other test."""
    ca = devpki.load_ca(gateway.pki, devpki.default_ca_dir(gateway.pki))
    fresh = devpki.issue(Principal(Kind.REGION, "320300"), ca, tmp_path)
    serial = format(x509.load_pem_x509_certificate(fresh.read_bytes()).serial_number, "x")
    as_fresh = ["--address", gateway.address, "--cacert", str(gateway.pki / "ca.pem"), "--cert", str(fresh),
                "--key", str(devpki.key_file_for(fresh)), "policies"]
    assert run(as_fresh, capsys).status == 0

    revoked = ctl("revoke", "--cert", str(fresh), "--reason", "laptop stolen")
    assert revoked.status == 0, revoked.err
    assert re.fullmatch(rf"revoked: certificate of region/320300, serial {serial}, SHA-256 fingerprint [0-9a-f]{{64}} "
                        r"\(revokedCertificates/[0-9]+\)\n", revoked.out), revoked.out
    assert re.search(rf"^revokedCertificates/[0-9]+ +region/320300 +{serial} .+ operator/ops +laptop stolen$",
                     ctl("revoked").out, re.M)
    listed = json.loads(ctl("revoked", "--json").out)["revoked_certificates"]
    assert any(r["serial"] == serial and r["principal"] == "region/320300" for r in listed)
    deadline = time.monotonic() + REVOCATION_APPLIES_WITHIN
    while (refused := run(as_fresh, capsys)).status == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sentence(refused, 2) == "copayctl: refused: this client certificate is revoked; ask the federation for a " \
                                   "new one [CERTIFICATE_REVOKED]\n"


# --- the audit log ---------------------------------------------------------------------------------------------


def test_the_audit_log_names_each_operator_and_verifies(ctl):
    name = change(ctl("open", "42", "45", "--reason", "Hubei-Guangxi"), PENDING)
    change(ctl("approve", name, "--reason", "ok", operator="ops2"), "applied")
    closed = change(ctl("close", "42", "45", "--reason", "audit"), "applied")
    entries = json.loads(ctl("audit", "--json", "--limit", "1000").out)["entries"]
    assert [(e["actor"], e["action"]) for e in entries if e["target"] == name] == [
        ("operator/ops", "change.requested"), ("operator/ops2", "change.approved")]
    assert [(e["actor"], e["action"], e["reason"]) for e in entries if e["target"] == closed] == [
        ("operator/ops", "change.applied", "audit")]

    filtered = json.loads(ctl("audit", "--json", "--actor", "operator/ops2", "--target", name).out)["entries"]
    assert [e["action"] for e in filtered] == ["change.approved"]
    table = ctl("audit", "--target", closed).out
    assert re.search(rf"^[0-9]+ +\S+ \S+ +operator/ops +change\.applied +{closed} +close 42->45 +audit$", table, re.M)

    verified = ctl("audit", "verify")
    assert verified.status == 0 and re.fullmatch(r"audit log intact: [0-9]+ entries checked\n", verified.out)


def test_audit_follows_pages_up_to_the_limit(ctl):
    for _ in range(3):
        change(ctl("close", "42", "45", "--reason", "pages"), "applied")
    shown = ctl("audit", "--json", "--action", "change.applied", "--limit", "2")
    assert len(json.loads(shown.out)["entries"]) == 2 and json.loads(shown.out)["next_page_token"]
    table = ctl("audit", "--action", "change.applied", "--limit", "2")
    assert len(table.out.splitlines()) == 3 and "raise --limit" in table.err


# --- refusals ---------------------------------------------------------------------------------------------------


def test_a_region_certificate_is_not_admitted(gateway, capsys):
    assert sentence(run([*connection(gateway, "region-320300"), "regions"], capsys), 2) == \
        "copayctl: refused: region/320300 may not call ListRegions [PRINCIPAL_NOT_ADMITTED]\n"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_gateway_exits_3_naming_the_address(gateway, capsys):
    address = f"127.0.0.1:{_closed_port()}"
    assert sentence(run([*connection(gateway, address=address), "--timeout", "5", "pairs"], capsys), 3).startswith(
        f"copayctl: cannot reach the gateway at {address} (UNAVAILABLE: ")


def test_the_gateway_certificate_must_bear_the_server_name(ctl):
    assert ctl("--server-name", "localhost", "kill-switch").status == 0
    wrong = sentence(ctl("--server-name", "gateway.example", "kill-switch"), 3)
    assert "Hostname Verification Check failed" in wrong


@pytest.mark.parametrize("cert, key, why", [
    ("missing.pem", "operator-ops-key.pem", "cannot read the client certificate {pki}/missing.pem (No such file or "
                                            "directory); give --cert or set COPAYCTL_CERT"),
    ("operator-ops.pem", "operator-ops2-key.pem", "the private key {pki}/operator-ops2-key.pem is not the key of the "
                                                  "certificate {pki}/operator-ops.pem"),
    ("operator-ops.pem", "operator-ops.pem", "the private key {pki}/operator-ops.pem is not a PEM private key "
                                             "without a password"),
    ("expired-region-320300.pem", "expired-region-320300-key.pem", "the client certificate "
                                                                   "{pki}/expired-region-320300.pem expired at "),
])
def test_credentials_that_cannot_work_are_refused_in_one_sentence(pki, capsys, cert, key, why):
    refused = run(["--address", "127.0.0.1:1", "--cacert", str(pki / "ca.pem"), "--cert", str(pki / cert),
                   "--key", str(pki / key), "regions"], capsys)
    assert sentence(refused, 2).startswith("copayctl: " + why.format(pki=pki))


# --- installed ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("program", [
    [str(Path(sys.executable).parent / "copayctl")], [sys.executable, "-m", "gateway.ctl"]],
    ids=["copayctl", "python -m gateway.ctl"])
def test_the_installed_command_runs(gateway, program):
    done = subprocess.run([*program, *connection(gateway), "kill-switch", "--json"], capture_output=True, text=True,
                          timeout=60)
    assert (done.returncode, done.stderr) == (0, "")
    assert json.loads(done.stdout)["pulled"] is False


def test_audit_verify_names_the_entry_that_was_edited_moved_or_deleted(ctl, gateway):
    """Tampering with the stored audit rows makes ``copayctl audit verify`` fail (exit 1) and name the entry."""
    from sqlalchemy import text

    from gateway.store.db import make_engine

    for _ in range(2):
        ctl("close", "11", "12", "--reason", "drill")  # applies at once, changes nothing: one entry each
    assert ctl("audit", "verify").status == 0
    engine = make_engine(gateway.database_url)
    with engine.connect() as conn:
        last = conn.execute(text("SELECT max(seq) FROM audit_log")).scalar_one()
        kept = conn.execute(text("SELECT * FROM audit_log WHERE seq >= :s ORDER BY seq"), {"s": last - 1}).all()
    tampering = {
        "edited": [f"UPDATE audit_log SET reason = 'nothing happened' WHERE seq = {last - 1}"],
        "moved": [f"UPDATE audit_log SET seq = -1 WHERE seq = {last - 1}",
                  f"UPDATE audit_log SET seq = {last - 1} WHERE seq = {last}",
                  f"UPDATE audit_log SET seq = {last} WHERE seq = -1"],
        "deleted": [f"DELETE FROM audit_log WHERE seq = {last - 1}"],
    }
    try:
        for how, statements in tampering.items():
            with engine.begin() as conn:
                for statement in statements:
                    conn.execute(text(statement))
            verified = ctl("audit", "verify")
            assert verified.status == 1, how
            assert re.match(rf"audit log broken at entry {last - 1}: ", verified.out + verified.err), (how, verified)
            with engine.begin() as conn:
                conn.execute(text("DELETE FROM audit_log WHERE seq >= :s"), {"s": last - 1})
                conn.execute(text("INSERT INTO audit_log VALUES (" + ", ".join(f":{c}" for c in kept[0]._fields)
                                  + ")"), [row._asdict() for row in kept])
            assert ctl("audit", "verify").status == 0, how
    finally:
        engine.dispose()
