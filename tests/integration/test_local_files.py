"""A province's own files through ``copay-gateway local import`` / ``local export``, on both engines:
an import is checked row by row and is all or nothing (one bad row imports nothing and is named by its
line), a dry run imports nothing, a repeated import files nothing twice, and an export writes the
region's settlements in its adapter's local 2207 answers."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from adapters.provinces import codec_of
from gateway._proto.copay.v1 import bindings_pb2 as bpb
from gateway._proto.copay.v1 import members_pb2 as mpb
from gateway.domain.bindings import Party
from gateway.domain.policies import Use
from gateway.domain.settlements import Claim, CredentialType, Institution, InstitutionKind
from gateway.policies import load
from gateway.sample import id_number
from gateway.service import accounts, settlements
from gateway.service.once import RequestKey
from gateway.store import unit_of_work
from gateway.store.tables import bindings, members
from tests.conftest import BACKENDS
from tests.integration.test_migrate_cli import environment

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
NANNING = "450100"  # Guangxi: its adapter speaks the legacy aac* names, not the national ones
CODEC = codec_of(NANNING)


def local(pki: Path, url: str, *args: str, stdin: str | None = None, region: str = NANNING
          ) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "gateway.cli", "local", *args, "--region", region,
                           "--database-url", url, "--certs-dir", str(pki)], env=environment(), input=stdin,
                          capture_output=True, text=True, timeout=120)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def member_row(psn_no: str, number: str, kind: int) -> str:
    request = mpb.BatchUpsertMembersRequest(members=[mpb.MemberRecord(
        psn_no=psn_no, id_number=number, insuring_region=NANNING, insurance_type=kind,
        enrolment_status=mpb.ENROLMENT_STATUS_NORMAL)])
    return CODEC.encode("1101", f"row-{psn_no}", request, NANNING)


def binding_row(grantor: str, beneficiary: str, binding_id: str = "") -> str:
    request = bpb.CreateBindingRequest(grantor=f"regions/{NANNING}/members/{grantor}",
                                       beneficiary=f"regions/{NANNING}/members/{beneficiary}",
                                       relationship=bpb.RELATIONSHIP_MOTHER, binding_id=binding_id)
    return CODEC.encode("9101", f"bind-{grantor}", request, NANNING)


def family_file(tag: str) -> tuple[str, list[str]]:
    """Two members (an employee granting a resident) and their binding: the file and the psn_nos."""
    grantor, beneficiary = f"IMP{tag}1", f"IMP{tag}2"
    born = date(1960 + len(tag), 3, 4)
    rows = [member_row(grantor, id_number(NANNING, born, 1), mpb.INSURANCE_TYPE_EMPLOYEE),
            member_row(beneficiary, id_number(NANNING, born, 2), mpb.INSURANCE_TYPE_RESIDENT),
            binding_row(grantor, beneficiary, binding_id=f"imp-{tag}")]
    return "\n".join(rows) + "\n", [grantor, beneficiary]


def counts(engine, psn_nos: list[str]) -> tuple[int, int]:
    with engine.connect() as conn:
        known = conn.scalar(select(func.count()).select_from(members).where(members.c.psn_no.in_(psn_nos)))
        bound = conn.scalar(select(func.count()).select_from(bindings).where(
            bindings.c.grantor_psn_no.in_(psn_nos)))
    return known, bound


def test_an_import_is_tried_by_a_dry_run_then_filed_once(pki, database_url, engine, tmp_path):
    text, psn_nos = family_file("a")
    (tmp_path / "rows.jsonl").write_text(text, encoding="utf-8")

    tried = local(pki, database_url, "import", "--dry-run", str(tmp_path / "rows.jsonl"))
    assert tried.returncode == 0, tried.stderr
    assert "all 3 rows would import (2 members, 1 bindings)" in tried.stdout
    assert counts(engine, psn_nos) == (0, 0)

    done = local(pki, database_url, "import", "-", stdin=text)
    assert done.returncode == 0, done.stderr
    assert "imported 3 rows: 2 members, 1 bindings" in done.stdout
    assert counts(engine, psn_nos) == (2, 1)

    again = local(pki, database_url, "import", str(tmp_path / "rows.jsonl"))
    assert again.returncode == 1
    assert "line 3: BINDING_ID_TAKEN" in again.stderr and "imported nothing: 1 of 3 rows refused" in again.stderr
    assert counts(engine, psn_nos) == (2, 1)


def test_one_bad_row_imports_nothing_and_each_is_named_by_its_line(pki, database_url, engine, tmp_path):
    text, psn_nos = family_file("b")
    unreadable = json.loads(member_row("IMPb9", id_number(NANNING, date(1970, 1, 1), 9), 1))
    unreadable[CODEC.n("input")][CODEC.n("data")][0][CODEC.n("insuinfo")][0][CODEC.n("psn_insu_stas")] = "7"
    refused = binding_row("IMPb1", "NOBODY")  # a beneficiary the region does not know
    rows = text.splitlines() + [json.dumps(unreadable, ensure_ascii=False), refused, "", "{not json"]
    (tmp_path / "rows.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")

    done = local(pki, database_url, "import", str(tmp_path / "rows.jsonl"))
    assert done.returncode == 1
    reported = [line.split(":")[0] for line in done.stderr.splitlines() if line.startswith("line ")]
    assert reported == ["line 4", "line 5", "line 7"], done.stderr
    assert f"line 4: data[0].insuinfo[0].{CODEC.n('psn_insu_stas')}: must be one of" in done.stderr
    assert "line 5: MEMBER_NOT_FOUND" in done.stderr or "line 5: BENEFICIARY" in done.stderr, done.stderr
    assert "imported nothing: 3 of 6 rows refused" in done.stderr
    assert counts(engine, psn_nos + ["IMPb9"]) == (0, 0)  # the good rows before the bad ones are not kept
    assert id_number(NANNING, date(1962, 3, 4), 1) not in done.stderr  # no ID number in what it reports


def test_an_export_writes_the_regions_settlements_as_its_local_answers(pki, database_url, engine, hasher,
                                                                      tmp_path):
    text, (grantor, beneficiary) = family_file("c")
    assert local(pki, database_url, "import", "-", stdin=text).returncode == 0
    uow = unit_of_work.factory(engine)
    accounts.fund(uow, Party(NANNING, grantor), 10_000, RequestKey(f"region/{NANNING}", "fund-c", "f"),
                  lambda a: b"")
    claim = Claim(Party(NANNING, beneficiary), CredentialType.E_VOUCHER,
                  hasher(id_number(NANNING, date(1961, 3, 4), 2)),
                  Institution("H1", InstitutionKind.HOSPITAL, True, NANNING), Use.OUTPATIENT, 3_000, 0, 3_000,
                  frozenset(), (), False)
    for n, fen in enumerate((3_000, 2_550)):
        claim = Claim(**{**claim.__dict__, "total": fen, "personal_part": fen})
        settled = pickle.loads(settlements.settle(uow, load(), NANNING, claim, f"exp-{n}",
                                                  RequestKey(f"region/{NANNING}", f"settle-c{n}", "f"),
                                                  pickle.dumps))
        assert settled.id == f"exp-{n}"

    out = tmp_path / "settlements.jsonl"
    done = local(pki, database_url, "export", "--out", str(out))
    assert done.returncode == 0, done.stderr
    answers = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    mine = [a for a in answers if a[CODEC.n("setlinfo")][CODEC.n("setl_id")].startswith("exp-")]
    amounts = [(a[CODEC.n("setlinfo")][CODEC.n("setl_id")], a[CODEC.n("setlinfo")][CODEC.n("acct_mulaid_pay")])
               for a in mine]
    assert amounts == [("exp-0", "30.00"), ("exp-1", "25.50")]
    assert f"exported {len(answers)} settlements of {NANNING}" in done.stderr

    later = local(pki, database_url, "export", "--since", "2999-01-01T00:00:00+08:00")
    assert later.returncode == 0 and later.stdout == ""


def test_a_json_array_of_payloads_imports_too_and_names_items(pki, database_url, engine, tmp_path):
    text, psn_nos = family_file("d")
    rows = [json.loads(row) for row in text.splitlines()]
    (tmp_path / "rows.json").write_text(json.dumps(rows, ensure_ascii=False, indent=2), encoding="utf-8")
    rows[1][CODEC.n("input")][CODEC.n("data")][0][CODEC.n("baseinfo")][CODEC.n("certno")] = "110101199003070000"
    (tmp_path / "bad.json").write_text(json.dumps(rows, ensure_ascii=False, indent=2), encoding="utf-8")

    bad = local(pki, database_url, "import", str(tmp_path / "bad.json"))
    assert bad.returncode == 1 and "item 2: INVALID_REQUEST" in bad.stderr, bad.stderr
    assert "item 3: MEMBER_NOT_FOUND" in bad.stderr or "item 3: BENEFICIARY" in bad.stderr, bad.stderr
    assert "110101199003070000" not in bad.stderr and counts(engine, psn_nos) == (0, 0)
    good = local(pki, database_url, "import", str(tmp_path / "rows.json"))
    assert good.returncode == 0 and counts(engine, psn_nos) == (2, 1), good.stderr


@pytest.mark.parametrize("region, args, says", [
    (NANNING, ["import", "/nonexistent/rows.jsonl"], "cannot read /nonexistent/rows.jsonl"),
    (NANNING, ["export", "--since", "yesterday"], "not an RFC 3339 time"),
    (NANNING, ["export", "--since", "2026-11-01T00:00:00"], "not an RFC 3339 time"),
    ("990000", ["export"], "not a region (six digits) of a province with an adapter"),
    ("4501", ["export"], "not a region (six digits) of a province with an adapter"),
    ("450300", ["export"], "REGION_NOT_REGISTERED"),  # Guilin: Guangxi, but not registered
])
def test_a_bad_command_line_is_one_sentence(pki, database_url, region, args, says):
    done = local(pki, database_url, *args, region=region)
    assert done.returncode == 2 and says in done.stderr and len(done.stderr.strip().splitlines()) == 1
