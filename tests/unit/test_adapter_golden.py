"""Golden payloads of every province adapter (tests/fixtures/adapters/<province>/): each local payload, as
that province's system sends it, decodes to the canonical request written beside it by hand
(``<name>.canonical.json``: the request as ``MessageToDict(..., preserving_proto_field_name=True)``, with
the caller, infno, msgid and method), and that canonical request encodes back to a local payload that
decodes to the same canonical request again (payload -> canonical -> payload -> canonical)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from google.protobuf import json_format

from adapters.codec import ProvinceCodec
from adapters.provinces import CODECS, codec_of

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "adapters"
PROVINCES = {"beijing": "11", "hebei": "13", "shanghai": "31", "jiangsu": "32", "hubei": "42", "guangdong": "44",
             "guangxi": "45"}
TRANSACTIONS = ("1101", "9101", "9102", "2206", "2207", "2208")


def _cases() -> list:
    cases = []
    for province in PROVINCES:
        for payload in sorted((FIXTURES / province).glob("*.json")):
            if not payload.name.endswith(".canonical.json"):
                cases.append(pytest.param(province, payload.stem, id=f"{province}-{payload.stem}"))
    return cases


CASES = _cases()


def load(province: str, stem: str) -> tuple[str, dict]:
    folder = FIXTURES / province
    return ((folder / f"{stem}.json").read_text(encoding="utf-8"),
            json.loads((folder / f"{stem}.canonical.json").read_text(encoding="utf-8")))


def codec_for(province: str, caller: str) -> ProvinceCodec:
    codec = codec_of(caller)
    assert codec is not None and codec is CODECS[PROVINCES[province]], (province, caller)
    return codec


@pytest.mark.parametrize("province", PROVINCES)
def test_every_province_has_a_golden_payload_of_every_transaction(province):
    folder = FIXTURES / province
    for infno in TRANSACTIONS:
        assert (folder / f"{infno}.json").is_file() and (folder / f"{infno}.canonical.json").is_file(), infno
    for payload in folder.glob("*.json"):
        if not payload.name.endswith(".canonical.json"):
            assert payload.with_name(payload.stem + ".canonical.json").is_file(), payload.name


@pytest.mark.parametrize("province, stem", CASES)
def test_a_local_payload_decodes_to_its_golden_canonical_request(province, stem):
    text, golden = load(province, stem)
    codec = codec_for(province, golden["caller"])
    decoded = codec.decode(text, golden["caller"])
    assert (decoded.infno, decoded.msgid, decoded.method) == (golden["infno"], golden["msgid"], golden["method"])
    assert stem.split("-")[0] == golden["infno"]
    assert json_format.MessageToDict(decoded.request, preserving_proto_field_name=True) == golden["request"]
    # The golden file names only fields of the canonical message (ParseDict refuses any other).
    assert json_format.ParseDict(golden["request"], type(decoded.request)()) == decoded.request


@pytest.mark.parametrize("province, stem", CASES)
def test_the_canonical_request_encodes_back_to_a_local_payload_of_the_same_meaning(province, stem):
    text, golden = load(province, stem)
    codec = codec_for(province, golden["caller"])
    caller, infno, msgid = golden["caller"], golden["infno"], golden["msgid"]
    request = codec.decode(text, caller).request
    encoded = codec.encode(infno, msgid, request, caller)
    again = codec.decode(encoded, caller)
    assert (again.infno, again.msgid, again.method) == (infno, msgid, golden["method"])
    assert json_format.MessageToDict(again.request, preserving_proto_field_name=True) == golden["request"]
    assert codec.encode(infno, msgid, again.request, caller) == encoded  # a fixed point: nothing drifts


def keys(value: object) -> set[str]:
    """Every object key anywhere in a JSON value."""
    if isinstance(value, dict):
        return set(value).union(*(keys(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(keys(v) for v in value))
    return set()


def values(value: object, key: str) -> list:
    """Every value of ``key`` anywhere in a JSON value."""
    if isinstance(value, dict):
        return [v for k, v in value.items() if k == key] + [x for v in value.values() for x in values(v, key)]
    if isinstance(value, list):
        return [x for v in value for x in values(v, key)]
    return []


DIALECTS = [c for c in CASES if c.values[0] in ("guangxi", "jiangsu", "shanghai", "guangdong")]
RENAMED = {"guangxi": {"psn_no": "aac001", "certno": "aac002", "mdtrt_cert_no": "aac002", "insutype": "aae140",
                       "psn_insu_stas": "aac008", "insuplc_admdvs": "aab301", "medfee_sumamt": "akc264",
                       "fund_pay_sumamt": "akb068", "psn_part_amt": "akc261"},
           "jiangsu": {"mulaid_psn_no": "gjr_psn_no", "mulaid_certno": "gjr_certno",
                       "mulaid_insuplc_admdvs": "gjr_insuplc_admdvs"}}


@pytest.mark.parametrize("province, stem", DIALECTS)
def test_the_encoded_payload_speaks_the_provinces_dialect(province, stem):
    """The encoder writes the province's own names, codes and amounts, never the national ones."""
    text, golden = load(province, stem)
    codec = codec_for(province, golden["caller"])
    request = codec.decode(text, golden["caller"]).request
    sent, encoded = json.loads(text), json.loads(codec.encode(golden["infno"], golden["msgid"], request,
                                                              golden["caller"]))
    renamed = RENAMED.get(province, {})
    assert not keys(encoded) & set(renamed), keys(encoded) & set(renamed)
    assert keys(sent) & set(renamed.values()) <= keys(encoded)
    if province == "jiangsu":
        assert values(encoded, "relation") == values(sent, "relation")  # Jiangsu's own codes (03 mother)
    if province == "guangdong":
        assert values(encoded, "mdtrt_cert_type") in ([], ["1"], ["2"], ["3"])
    if province == "shanghai":
        money = [v for k in ("medfee_sumamt", "fund_pay_sumamt", "psn_part_amt", "refd_amt")
                 for v in values(encoded, k)]
        assert money == [v for k in ("medfee_sumamt", "fund_pay_sumamt", "psn_part_amt", "refd_amt")
                         for v in values(sent, k)] and all(v.isdigit() for v in money)
