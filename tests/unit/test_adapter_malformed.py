"""What a province adapter cannot read is refused with a CodecError that names the field by its LOCAL name
(Guangxi's ``akc264``, Jiangsu's ``gjr_certno``) and says precisely why, never a crash and never a guess.

Each case damages one of the province's golden payloads (tests/fixtures/adapters/<province>/). The
expected names, code lists and wordings are written out here by hand, not read from the codec."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Callable

import pytest

from adapters.envelope import CodecError
from adapters.provinces import CODECS

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "adapters"
PROVINCES = {"beijing": "11", "hebei": "13", "shanghai": "31", "jiangsu": "32", "hubei": "42", "guangdong": "44",
             "guangxi": "45"}
YUAN_PROVINCES = [p for p in PROVINCES if p != "shanghai"]

# The province's own name of a national field, where it differs.
LOCAL = {"guangxi": {"psn_no": "aac001", "certno": "aac002", "mdtrt_cert_no": "aac002", "insutype": "aae140",
                     "psn_insu_stas": "aac008", "insuplc_admdvs": "aab301", "medfee_sumamt": "akc264",
                     "fund_pay_sumamt": "akb068", "psn_part_amt": "akc261"},
         "jiangsu": {"mulaid_psn_no": "gjr_psn_no", "mulaid_certno": "gjr_certno",
                     "mulaid_insuplc_admdvs": "gjr_insuplc_admdvs"}}

# The codes each table accepts, as the refusal lists them (sorted as text).
MED_TYPES = "11, 12, 13, 14, 21, 22, 41, 91, 92, 93"
CERT_TYPES = {"guangdong": "01, 02, 03, 1, 2, 3"}
NATIONAL_CERT_TYPES = "01, 02, 03"
RELATIONS = {"jiangsu": "01, 02, 03, 04, 05, 06, 07, 08, 09, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 99"}
NATIONAL_RELATIONS = "10, 20, 30, 41, 42, 43, 44, 51, 52, 53, 54, 55, 56, 61, 62, 63, 64, 71, 73, 75, 77, 99"
STATUSES = {"guangxi": "1, 2, 3, 8"}
NATIONAL_STATUSES = "0, 1, 2, 4, 8"
LIST_TYPES = "101, 102, 201, 301, 901, 902, 903"
MEDICAL_TYPES = "11, 12, 13, 14, 21, 22, 41"

NOT_YUAN = 'not an amount in yuan (decimal yuan, e.g. "50.00")'
BAD_YUAN = [  # value, description
    ("50.001", "more than two decimals: yuan go to the fen (0.01) and no further"),
    ("0.999", "more than two decimals: yuan go to the fen (0.01) and no further"),
    ("-1.00", "must not have a sign: amounts are never negative"),
    ("+50.00", "must not have a sign: amounts are never negative"),
    ("1e2", "must not have an exponent"),
    ("5E1", "must not have an exponent"),
    ("NaN", NOT_YUAN),
    ("Infinity", NOT_YUAN),
    ("５0.00", NOT_YUAN),  # a full-width digit
    ("50.", NOT_YUAN),
    (".50", NOT_YUAN),
    ("050.00", NOT_YUAN),
    ("50,00", NOT_YUAN),
    ("¥50.00", NOT_YUAN),
    (" 50.00", "must not be empty or have spaces"),
    ("50.00 ", "must not be empty or have spaces"),
    ("", "must not be empty or have spaces"),
]
NOT_FEN = "not an amount in fen"
BAD_FEN = [  # Shanghai counts in whole fen
    ("50.00", "whole fen, without decimals"),
    ("50.001", "whole fen, without decimals"),
    ("5000.0", "whole fen, without decimals"),
    ("-100", "must not have a sign: amounts are never negative"),
    ("1e2", "must not have an exponent"),
    ("NaN", NOT_FEN),
    ("５000", NOT_FEN),
    ("05000", NOT_FEN),
    (" 5000", "must not be empty or have spaces"),
    ("", "must not be empty or have spaces"),
]
AMOUNT_FIELDS = [("2207", "medfee_sumamt"), ("2207", "fund_pay_sumamt"), ("2207", "psn_part_amt"),
                 ("2208", "refd_amt")]


def local(province: str, national: str) -> str:
    return LOCAL.get(province, {}).get(national, national)


def fixture(province: str, name: str) -> tuple[dict, str]:
    """A golden payload of the province (as a dict) and the region that sends it."""
    folder = FIXTURES / province
    payload = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    return payload, json.loads((folder / f"{name}.canonical.json").read_text(encoding="utf-8"))["caller"]


def refused(province: str, payload: dict | str, caller: str) -> CodecError:
    text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    with pytest.raises(CodecError) as caught:
        CODECS[PROVINCES[province]].decode(text, caller)
    return caught.value


def assert_refused(error: CodecError, field: str, description: str) -> None:
    assert (error.field, error.description) == (field, description)
    assert str(error) == f"{field}: {description}"


def person(payload: dict) -> dict:
    """The first person of a 1101 (a list under ``data``, or one person right in ``input``)."""
    return payload["input"]["data"][0] if "data" in payload["input"] else payload["input"]


def where(payload: dict) -> str:
    return "data[0]" if "data" in payload["input"] else "input"


def chosen(province: str, payload: dict) -> dict:
    """The enrolment the adapter reads: the employee (310) one if there is one, else the resident (390)."""
    enrolments = [e for e in person(payload)["insuinfo"] if e.get(local(province, "insutype")) in ("310", "390")]
    return min(enrolments, key=lambda e: e[local(province, "insutype")])


def ids(cases: list) -> list[str]:
    return [c[0] for c in cases]


# --- missing required fields ---------------------------------------------------------------------------------

def _pop(*path: str | int) -> Callable[[str, dict], None]:
    """Removes input[...path] (national names, translated to the province's)."""
    def damage(province: str, payload: dict) -> None:
        node: Any = payload["input"]
        for step in path[:-1]:
            node = node[local(province, step) if isinstance(step, str) else step]
        node.pop(local(province, path[-1]), None)
    return damage


def _pop_person(national: str) -> Callable[[str, dict], None]:
    return lambda province, payload: person(payload)["baseinfo"].pop(local(province, national))


def _pop_status(province: str, payload: dict) -> None:
    chosen(province, payload).pop(local(province, "psn_insu_stas"))


def _pop_beneficiary(province: str, payload: dict) -> None:
    for national in ("mulaid_psn_no", "mulaid_certno"):
        payload["input"].pop(local(province, national), None)


def _pop_institution(province: str, payload: dict) -> None:
    payload["input"].pop("fixmedins_code", None)
    payload.pop("fixmedins_code", None)  # the national interface may put it in the envelope


def _pop_amounts(province: str, payload: dict) -> None:
    for national in ("medfee_sumamt", "fund_pay_sumamt"):
        payload["input"].pop(local(province, national), None)


def _pop_envelope(key: str) -> Callable[[str, dict], None]:
    return lambda province, payload: payload.pop(key)


# A person's fields (1101) are named with their place in the list: "{where}" is the person's path, "{chosen}" the
# enrolment's the adapter reads; every part is made local.
MISSING = [  # id, fixture, damage, expected field (national name, made local), expected description
    ("1101-certno", "1101", _pop_person("certno"), "{where}.baseinfo.certno", lambda p: "required: a string"),
    ("1101-psn_no", "1101", _pop_person("psn_no"), "{where}.baseinfo.psn_no", lambda p: "required: a string"),
    ("1101-psn_insu_stas", "1101", _pop_status, "{chosen}.psn_insu_stas",
     lambda p: "must be one of " + STATUSES.get(p, NATIONAL_STATUSES)),
    ("9101-psn_no", "9101", _pop("psn_no"), "psn_no", lambda p: "required: a string"),
    ("9101-relation", "9101", _pop("relation"), "relation",
     lambda p: "must be one of " + RELATIONS.get(p, NATIONAL_RELATIONS)),
    ("9101-beneficiary", "9101", _pop_beneficiary, "mulaid_certno", lambda p: "required: a string"),
    ("9102-bind_id", "9102", _pop("bind_id"), "bind_id", lambda p: "required: a string"),
    ("9102-revoke_rea", "9102", _pop("revoke_rea"), "revoke_rea", lambda p: "must be one of 1, 2, 3, 4"),
    ("2206-mdtrt_cert_no", "2206", _pop("mdtrt_cert_no"), "mdtrt_cert_no", lambda p: "required: a string"),
    ("2207-mdtrt_cert_no", "2207", _pop("mdtrt_cert_no"), "mdtrt_cert_no", lambda p: "required: a string"),
    ("2207-mdtrt_cert_type", "2207", _pop("mdtrt_cert_type"), "mdtrt_cert_type",
     lambda p: "must be one of " + CERT_TYPES.get(p, NATIONAL_CERT_TYPES)),
    ("2207-med_type", "2207", _pop("med_type"), "med_type", lambda p: "must be one of " + MED_TYPES),
    ("2207-fixmedins_code", "2207", _pop_institution, "fixmedins_code",
     lambda p: f"required for medical use (med_type {MEDICAL_TYPES})"),
    ("2207-two-amounts", "2207", _pop_amounts, "medfee_sumamt",
     lambda p: f"required: give at least two of {local(p, 'medfee_sumamt')}, {local(p, 'fund_pay_sumamt')}, "
               f"{local(p, 'psn_part_amt')} (total = fund part + personal part)"),
    ("2208-setl_id", "2208", _pop("setl_id"), "setl_id", lambda p: "required: a string"),
    ("2207-infno", "2207", _pop_envelope("infno"), "infno",
     lambda p: 'required: the 4-digit transaction code, e.g. "2207"'),
    ("9101-msgid", "9101", _pop_envelope("msgid"), "msgid",
     lambda p: "required: the message id, 1 to 64 printable ASCII characters"),
    ("2208-input", "2208", _pop_envelope("input"), "input", lambda p: "required: a JSON object"),
]


@pytest.mark.parametrize("case", MISSING, ids=ids(MISSING))
@pytest.mark.parametrize("province", PROVINCES)
def test_a_missing_required_field_is_named_locally(province, case):
    _, name, damage, field, description = case
    payload, caller = fixture(province, name)
    expected = path(province, payload, field)
    damage(province, payload)
    assert_refused(refused(province, payload, caller), expected, description(province))


def path(province: str, payload: dict, field: str) -> str:
    """The local path of ``field``: "{where}" is the person's place, "{chosen}" the enrolment the adapter reads
    (before any damage), and every part made local."""
    if "{where}" in field or "{chosen}" in field:
        enrolment = person(payload)["insuinfo"].index(chosen(province, payload))
        field = field.replace("{where}", where(payload)).replace("{chosen}", f"{where(payload)}.insuinfo[{enrolment}]")
    return ".".join(local(province, part) for part in field.split("."))


@pytest.mark.parametrize("province", PROVINCES)
def test_a_person_without_a_basic_enrolment_is_named_by_their_place_in_the_list(province):
    payload, caller = fixture(province, "1101")
    person(payload)["insuinfo"] = [{local(province, "insutype"): "410", local(province, "psn_insu_stas"): "1"}]
    error = refused(province, payload, caller)
    assert error.field == f"{where(payload)}.insuinfo"
    assert re.fullmatch(r"no basic medical insurance enrolment \([a-z0-9_]+ 310 or 390\)", error.description)


@pytest.mark.parametrize("province", ["guangxi"])
def test_guangxi_is_told_its_own_insurance_type_field(province):
    payload, caller = fixture(province, "1101")
    person(payload)["insuinfo"] = [{"aae140": "410", "aac008": "1"}]
    assert refused(province, payload, caller).description == "no basic medical insurance enrolment (aae140 310 or 390)"


# --- wrong types ----------------------------------------------------------------------------------------------

def _set(*path: str | int, value: Any) -> Callable[[str, dict], None]:
    def damage(province: str, payload: dict) -> None:
        node: Any = payload["input"]
        for step in path[:-1]:
            node = node[local(province, step) if isinstance(step, str) else step]
        node[local(province, path[-1]) if isinstance(path[-1], str) else path[-1]] = value
    return damage


def _set_person(national: str, value: Any) -> Callable[[str, dict], None]:
    def damage(province: str, payload: dict) -> None:
        person(payload)["baseinfo"][local(province, national)] = value
    return damage


def _replace_input(value: Any) -> Callable[[str, dict], None]:
    return lambda province, payload: payload.update(input=value)


def _set_envelope(national: str, value: Any) -> Callable[[str, dict], None]:
    return lambda province, payload: payload.update({local(province, national): value})


def _list_people(value: Any) -> Callable[[str, dict], None]:
    return lambda province, payload: payload.update(input={"data": value})


WRONG_TYPES = [  # id, fixture, damage, field (national, made local; "{where}" = the person's path), description
    ("input-list", "2207", _replace_input([]), "input", lambda p: "required: a JSON object"),
    ("input-string", "9101", _replace_input("psn_no=1"), "input", lambda p: "required: a JSON object"),
    ("data-object", "1101", _list_people({}), "data", lambda p: "must be a list of at most 500"),
    ("data-item-list", "1101", _list_people([[]]), "data[0]", lambda p: "must be a JSON object"),
    ("data-empty", "1101", _list_people([]), "data", lambda p: "required: at least one person"),
    ("baseinfo-list", "1101", lambda p, d: person(d).update(baseinfo=[]), "{where}.baseinfo",
     lambda p: "must be a JSON object"),
    ("insuinfo-object", "1101", lambda p, d: person(d).update(insuinfo={}), "{where}.insuinfo",
     lambda p: "must be a list of at most 10"),
    ("certno-list", "1101", _set_person("certno", ["x"]), "{where}.baseinfo.certno",
     lambda p: "required: a string"),
    ("psn_no-object", "9101", _set("psn_no", value={}), "psn_no", lambda p: "required: a string"),
    ("psn_no-empty", "9101", _set("psn_no", value=""), "psn_no", lambda p: "required: a string"),
    ("relation-list", "9101", _set("relation", value=["10"]), "relation",
     lambda p: "must be one of " + RELATIONS.get(p, NATIONAL_RELATIONS)),
    ("bind_id-true", "9102", _set("bind_id", value=True), "bind_id", lambda p: "required: a string"),
    ("bind_admdvs-list", "9102", _set("bind_admdvs", value=["110000"]), "bind_admdvs",
     lambda p: "required: a string"),
    ("setl_id-null", "2208", _set("setl_id", value=None), "setl_id", lambda p: "required: a string"),
    ("refd_amt-null", "2208", _set("refd_amt", value=None), "refd_amt",
     lambda p: 'must be whole fen as a string, such as "5000"' if p == "shanghai"
     else 'must be a decimal-yuan string such as "50.00"'),
    ("mdtrt_cert_no-list", "2207", _set("mdtrt_cert_no", value=["x"]), "mdtrt_cert_no",
     lambda p: "required: a string"),
    ("med_type-object", "2207", _set("med_type", value={"code": "11"}), "med_type",
     lambda p: "must be one of " + MED_TYPES),
    ("list_types-string", "2207", _set("list_types", value="101"), "list_types",
     lambda p: "must be a list of at most 50"),
    ("list_types-nested", "2207", _set("list_types", value=[["101"]]), "list_types",
     lambda p: "each must be one of " + LIST_TYPES),
    ("mulaid_psn_list-object", "2207", _set("mulaid_psn_list", value={}), "mulaid_psn_list",
     lambda p: "must be a list of at most 20"),
    ("mulaid_psn_list-item-list", "2207", _set("mulaid_psn_list", value=[["x"]]), "mulaid_psn_list[0]",
     lambda p: "must be a JSON object"),
    ("part_pay_flag-true", "2207", _set("part_pay_flag", value=True), "part_pay_flag",
     lambda p: "required: a string"),
    ("mdtrtarea_admvs-list", "2207", _set_envelope("mdtrtarea_admvs", []), "mdtrtarea_admvs",
     lambda p: "must be a 6-digit region code as a string"),
    ("insuplc_admdvs-object", "2206", _set_envelope("insuplc_admdvs", {}), "insuplc_admdvs",
     lambda p: "must be a 6-digit region code as a string"),
    ("infno-list", "2207", _set_envelope("infno", ["2207"]), "infno",
     lambda p: 'required: the 4-digit transaction code, e.g. "2207"'),
    ("msgid-object", "2207", _set_envelope("msgid", {}), "msgid",
     lambda p: "required: the message id, 1 to 64 printable ASCII characters"),
]


@pytest.mark.parametrize("case", WRONG_TYPES, ids=ids(WRONG_TYPES))
@pytest.mark.parametrize("province", PROVINCES)
def test_a_wrong_type_is_named_locally(province, case):
    _, name, damage, field, description = case
    payload, caller = fixture(province, name)
    expected = path(province, payload, field)
    damage(province, payload)
    assert_refused(refused(province, payload, caller), expected, description(province))


def _with_number(province: str, name: str, national: str, number: str) -> tuple[str, str]:
    """The fixture's text with the field's string replaced by a bare JSON number."""
    payload, caller = fixture(province, name)
    node = person(payload)["baseinfo"] if name == "1101" else payload["input"]
    node[local(province, national)] = "@NUMBER@"
    return json.dumps(payload, ensure_ascii=False).replace('"@NUMBER@"', number), caller


NUMBERS = [("1101", "psn_no", "110000000101"), ("9101", "psn_no", "12345"), ("2207", "psn_part_amt", "50.0"),
           ("2207", "medfee_sumamt", "120"), ("2208", "refd_amt", "1e2"), ("2207", "med_type", "11")]


@pytest.mark.parametrize("name, national, number", NUMBERS, ids=[f"{n}-{f}-{v}" for n, f, v in NUMBERS])
@pytest.mark.parametrize("province", PROVINCES)
def test_a_json_number_is_refused_before_any_field_is_read(province, name, national, number):
    """The envelope parser refuses any JSON number (never guessing at 50.0 vs "50.00"), so the refusal names
    the payload and quotes the number rather than naming the field."""
    text, caller = _with_number(province, name, national, number)
    amounts = 'whole fen as strings such as "5000"' if province == "shanghai" else \
        'decimal-yuan strings such as "50.00"'
    assert_refused(refused(province, text, caller), "payload", f"a JSON number ({number}) where the interface sends "
                   f"strings; amounts are {amounts}")


def test_shanghai_is_not_told_to_send_yuan():
    text, caller = _with_number("shanghai", "2207", "psn_part_amt", "5000")
    assert "yuan" not in refused("shanghai", text, caller).description


@pytest.mark.parametrize("province", PROVINCES)
def test_an_insurance_type_that_is_a_list_is_refused_not_a_crash(province):
    payload, caller = fixture(province, "1101")
    expected = path(province, payload, "{where}.insuinfo")
    for enrolment in person(payload)["insuinfo"]:
        enrolment[local(province, "insutype")] = ["310"]
    error = refused(province, payload, caller)
    assert error.field == expected and error.description.startswith("no basic medical insurance enrolment")



LIMITS = [  # id, fixture, damage, field, description
    ("501-people", "1101", lambda p, d: d.update(input={"data": [person(d)] * 501}), "data",
     "must be a list of at most 500"),
    ("11-enrolments", "1101", lambda p, d: person(d).update(insuinfo=[chosen(p, d)] * 11), "{where}.insuinfo",
     "must be a list of at most 10"),
    ("21-grantors", "2207", lambda p, d: d["input"].update(mulaid_psn_list=[
        {local(p, "insuplc_admdvs"): "110000", local(p, "psn_no"): f"G{n}"} for n in range(21)]), "mulaid_psn_list",
     "must be a list of at most 20"),
    ("51-list-types", "2207", lambda p, d: d["input"].update(list_types=["101"] * 51), "list_types",
     "must be a list of at most 50"),
]


@pytest.mark.parametrize("case", LIMITS, ids=ids(LIMITS))
@pytest.mark.parametrize("province", PROVINCES)
def test_a_list_over_its_limit_is_refused(province, case):
    _, name, damage, field, description = case
    payload, caller = fixture(province, name)
    expected = path(province, payload, field)
    damage(province, payload)
    assert_refused(refused(province, payload, caller), expected, description)


@pytest.mark.parametrize("province", PROVINCES)
def test_lists_at_their_limit_are_read(province):
    payload, caller = fixture(province, "2207")
    payload["input"].update(list_types=["101"] * 50, mulaid_psn_list=[
        {local(province, "insuplc_admdvs"): "110000", local(province, "psn_no"): f"G{n}"} for n in range(20)])
    claim = CODECS[PROVINCES[province]].decode(json.dumps(payload), caller).request.claim
    assert (len(claim.items), len(claim.grantors)) == (50, 20)

# --- amounts --------------------------------------------------------------------------------------------------

AMOUNT_CASES = ([pytest.param(p, n, f, v, d, id=f"{p}-{f}-{v!r}") for p in YUAN_PROVINCES for n, f in AMOUNT_FIELDS
                 for v, d in BAD_YUAN] +
                [pytest.param("shanghai", n, f, v, d, id=f"shanghai-{f}-{v!r}") for n, f in AMOUNT_FIELDS
                 for v, d in BAD_FEN])


@pytest.mark.parametrize("province, name, national, value, description", AMOUNT_CASES)
def test_a_bad_amount_is_refused_with_its_reason(province, name, national, value, description):
    payload, caller = fixture(province, name)
    payload["input"][local(province, national)] = value
    assert_refused(refused(province, payload, caller), local(province, national), description)


def test_guangxis_total_is_named_akc264():
    payload, caller = fixture("guangxi", "2207")
    payload["input"]["akc264"] = "8600.001"
    assert_refused(refused("guangxi", payload, caller), "akc264",
                   "more than two decimals: yuan go to the fen (0.01) and no further")


@pytest.mark.parametrize("province", PROVINCES)
def test_an_amount_too_large_for_the_format_is_refused(province):
    payload, caller = fixture(province, "2207")
    payload["input"][local(province, "medfee_sumamt")] = "1" + "0" * 13 if province == "shanghai" else "1" + "0" * 11
    error = refused(province, payload, caller)
    assert error.field == local(province, "medfee_sumamt")
    assert error.description == (NOT_FEN if province == "shanghai" else NOT_YUAN)


# The total and one part given, the part larger than the total: the part given is what is wrong.
OVER = [("personal", "psn_part_amt", "fund_pay_sumamt"), ("fund", "fund_pay_sumamt", "psn_part_amt")]


@pytest.mark.parametrize("part, given, absent", OVER, ids=[o[0] for o in OVER])
@pytest.mark.parametrize("province", PROVINCES)
def test_a_part_larger_than_the_total_is_refused(province, part, given, absent):
    payload, caller = fixture(province, "2207")
    payload["input"].pop(local(province, absent), None)
    payload["input"][local(province, "medfee_sumamt")] = "10000" if province == "shanghai" else "100.00"
    payload["input"][local(province, given)] = "15000" if province == "shanghai" else "150.00"
    error = refused(province, payload, caller)
    assert error.description == f"more than {local(province, 'medfee_sumamt')}"
    assert error.field in (local(province, given), local(province, absent))


@pytest.mark.parametrize("part, given, absent", OVER, ids=[o[0] for o in OVER])
@pytest.mark.parametrize("province", ["hubei", "guangxi"])
def test_a_part_larger_than_the_total_names_the_part_given(province, part, given, absent):
    payload, caller = fixture(province, "2207")
    payload["input"].pop(local(province, absent), None)
    payload["input"][local(province, "medfee_sumamt")] = "100.00"
    payload["input"][local(province, given)] = "150.00"
    assert refused(province, payload, caller).field == local(province, given)


# --- unknown codes ----------------------------------------------------------------------------------------------

def _code(national: str, value: str, name: str) -> Callable[[str, dict], None]:
    if name == "1101":
        return lambda province, payload: chosen(province, payload).update({local(province, national): value})
    return lambda province, payload: payload["input"].update({local(province, national): value})


UNKNOWN = [  # id, fixture, damage, field (national), description
    ("med_type-99", "2207", _code("med_type", "99", "2207"), "med_type",
     lambda p: f"must be one of {MED_TYPES}, not '99'"),
    ("med_type-11-padded", "2206", _code("med_type", "011", "2206"), "med_type",
     lambda p: f"must be one of {MED_TYPES}, not '011'"),
    ("mdtrt_cert_type-zz", "2207", _code("mdtrt_cert_type", "zz", "2207"), "mdtrt_cert_type",
     lambda p: f"must be one of {CERT_TYPES.get(p, NATIONAL_CERT_TYPES)}, not 'zz'"),
    ("mdtrt_cert_type-04", "2206", _code("mdtrt_cert_type", "04", "2206"), "mdtrt_cert_type",
     lambda p: f"must be one of {CERT_TYPES.get(p, NATIONAL_CERT_TYPES)}, not '04'"),
    ("relation-88", "9101", _code("relation", "88", "9101"), "relation",
     lambda p: f"must be one of {RELATIONS.get(p, NATIONAL_RELATIONS)}, not '88'"),
    ("revoke_rea-9", "9102", _code("revoke_rea", "9", "9102"), "revoke_rea",
     lambda p: "must be one of 1, 2, 3, 4, not '9'"),
    ("psn_insu_stas-7", "1101", _code("psn_insu_stas", "7", "1101"), "{chosen}.psn_insu_stas",
     lambda p: f"must be one of {STATUSES.get(p, NATIONAL_STATUSES)}, not '7'"),
    ("fixmedins_type-3", "2207", _code("fixmedins_type", "3", "2207"), "fixmedins_type",
     lambda p: "must be one of 1, 2, not '3'"),
    ("list_types-999", "2207", _code("list_types", ["101", "999"], "2207"), "list_types",
     lambda p: "each must be one of " + LIST_TYPES),
    ("long-code-not-echoed", "2207", _code("med_type", "x" * 40, "2207"), "med_type",
     lambda p: "must be one of " + MED_TYPES),
]


@pytest.mark.parametrize("case", UNKNOWN, ids=ids(UNKNOWN))
@pytest.mark.parametrize("province", PROVINCES)
def test_an_unknown_code_is_refused_with_the_provinces_own_codes(province, case):
    _, name, damage, field, description = case
    payload, caller = fixture(province, name)
    expected = path(province, payload, field)
    damage(province, payload)
    assert_refused(refused(province, payload, caller), expected, description(province))


@pytest.mark.parametrize("province, code", [("guangxi", "4"), ("guangxi", "0"), ("beijing", "3"), ("hubei", "3")])
def test_a_status_code_of_the_other_table_is_refused(province, code):
    """Guangxi's aac008 has no 4 or 0 (its terminated is 3); the national table has no 3."""
    payload, caller = fixture(province, "1101")
    expected = path(province, payload, "{chosen}.psn_insu_stas")
    chosen(province, payload)[local(province, "psn_insu_stas")] = code
    error = refused(province, payload, caller)
    assert (error.field, error.description) == (
        expected, f"must be one of {STATUSES.get(province, NATIONAL_STATUSES)}, not '{code}'")


# --- the envelope: transaction codes, not JSON, not an object --------------------------------------------------

KNOWN = "known: 1101, 2206, 2207, 2208, 3201, 3202, 3260, 3261, 9101, 9102"
ENVELOPES = [  # id, text of the payload (from the province's 2207), field, description regex
    ("infno-2299", lambda p: _envelope(p, infno="2299"), "infno",
     re.escape(f"2299 is not a transaction of this interface; {KNOWN}")),
    ("infno-1102", lambda p: _envelope(p, infno="1102"), "infno",
     re.escape(f"1102 is not a transaction of this interface; {KNOWN}")),
    ("infno-abc", lambda p: _envelope(p, infno="abc"), "infno",
     re.escape('required: the 4-digit transaction code, e.g. "2207"')),
    ("infno-22070", lambda p: _envelope(p, infno="22070"), "infno",
     re.escape('required: the 4-digit transaction code, e.g. "2207"')),
    ("infno-fullwidth", lambda p: _envelope(p, infno="２２０７"), "infno",
     re.escape('required: the 4-digit transaction code, e.g. "2207"')),
    ("msgid-space", lambda p: _envelope(p, msgid="GX 0001"), "msgid",
     re.escape("required: the message id, 1 to 64 printable ASCII characters")),
    ("msgid-65", lambda p: _envelope(p, msgid="M" * 65), "msgid",
     re.escape("required: the message id, 1 to 64 printable ASCII characters")),
    ("not-json", lambda p: "{not json", "payload", r"not JSON: .+"),
    ("truncated", lambda p: _envelope(p)[:-5], "payload", r"not JSON: .+"),
    ("empty", lambda p: "", "payload", r"not JSON: .+"),
    ("json-array", lambda p: json.dumps([json.loads(_envelope(p))]), "payload",
     re.escape("must be a JSON object (the national envelope)")),
    ("json-string", lambda p: json.dumps(_envelope(p)), "payload",
     re.escape("must be a JSON object (the national envelope)")),
    ("json-null", lambda p: "null", "payload", re.escape("must be a JSON object (the national envelope)")),
    ("nested-too-deeply", lambda p: "[" * 100_000 + "]" * 100_000, "payload", re.escape("nested too deeply")),
    ("too-large", lambda p: " " * (1 << 20) + _envelope(p), "payload", re.escape("larger than 1048576 characters")),
]


def _envelope(province: str, **changes: str) -> str:
    payload, _ = fixture(province, "2207")
    payload.update(changes)
    return json.dumps(payload, ensure_ascii=False)


@pytest.mark.parametrize("case", ENVELOPES, ids=ids(ENVELOPES))
@pytest.mark.parametrize("province", PROVINCES)
def test_an_unreadable_envelope_is_refused(province, case):
    _, text, field, description = case
    _, caller = fixture(province, "2207")
    error = refused(province, text(province), caller)
    assert error.field == field and re.fullmatch(description, error.description), (error.field, error.description)


# --- another province's shape --------------------------------------------------------------------------------

NATIONAL_SHAPED = ["beijing", "hebei", "hubei"]
FOREIGN = (  # (the province whose payload it is, the province whose codec reads it), fixture, field, description
    [((src, "guangxi"), "2207", "aac002", "required: a string") for src in NATIONAL_SHAPED]
    + [((src, "guangxi"), "9101", "aac001", "required: a string") for src in NATIONAL_SHAPED]
    + [(("beijing", "guangxi"), "1101", "data[0].insuinfo",
        "no basic medical insurance enrolment (aae140 310 or 390)")]
    + [(("guangxi", dst), "2207", "mdtrt_cert_no", "required: a string") for dst in PROVINCES if dst != "guangxi"]
    + [(("guangxi", dst), "9101", "psn_no", "required: a string") for dst in PROVINCES if dst != "guangxi"]
    + [(("guangxi", dst), "1101", "data[0].insuinfo", "no basic medical insurance enrolment (insutype 310 or 390)")
       for dst in ("beijing", "shanghai", "guangdong")]
    + [(("jiangsu", dst), "9101", "relation", f"must be one of {NATIONAL_RELATIONS}, not '03'")
       for dst in ("beijing", "hubei", "guangdong")]
    + [(("beijing", "jiangsu"), "9101", "relation", f"must be one of {RELATIONS['jiangsu']}, not '52'"),
       (("hebei", "jiangsu"), "9101", "relation", f"must be one of {RELATIONS['jiangsu']}, not '20'"),
       (("beijing", "shanghai"), "2207", "medfee_sumamt", "whole fen, without decimals"),
       (("beijing", "shanghai"), "2208", "refd_amt", "whole fen, without decimals")]
    + [(("guangdong", dst), "2207", "mdtrt_cert_type", f"must be one of {NATIONAL_CERT_TYPES}, not '2'")
       for dst in PROVINCES if dst not in ("guangdong", "guangxi")]
)


@pytest.mark.parametrize("source, target, name, field, description", [
    pytest.param(src, dst, name, field, description, id=f"{src}-{name}-to-{dst}")
    for (src, dst), name, field, description in FOREIGN])
def test_another_provinces_payload_is_refused_in_the_readers_own_names(source, target, name, field, description):
    payload, _ = fixture(source, name)
    _, caller = fixture(target, name)  # the codec is the caller's province's, whatever the payload looks like
    assert_refused(refused(target, payload, caller), field, description)


@pytest.mark.parametrize("source, target", [("beijing", "jiangsu"), ("hubei", "jiangsu")])
def test_a_national_9101_by_psn_no_sent_to_jiangsu_asks_for_its_gjr_fields(source, target):
    """Jiangsu's beneficiary is gjr_*: a national mulaid_psn_no is not read, so it asks for gjr_certno."""
    payload, _ = fixture(source, "9101")
    payload["input"]["relation"] = "02"  # a code Jiangsu knows (father), to get past the relation
    _, caller = fixture(target, "9101")
    assert_refused(refused(target, payload, caller), "gjr_certno", "required: a string")


def test_a_guangxi_amount_name_is_named_by_a_national_province_as_missing():
    """Guangxi's akc264/akb068/akc261 mean nothing to Beijing: it asks for two of its own three amounts."""
    payload, _ = fixture("guangxi", "2207")
    payload["input"]["mdtrt_cert_no"] = payload["input"]["aac002"]  # past the credential, to the amounts
    assert_refused(refused("beijing", payload, "110000"), "medfee_sumamt",
                   "required: give at least two of medfee_sumamt, fund_pay_sumamt, psn_part_amt "
                   "(total = fund part + personal part)")


# --- where in a list: the local path of a field inside a list item --------------------------------------------

@pytest.mark.parametrize("province", ["beijing", "guangxi"])
def test_a_field_of_the_second_person_is_named_by_its_place(province):
    payload, caller = fixture(province, "1101")
    payload["input"]["data"][1]["baseinfo"].pop(local(province, "certno"))
    assert refused(province, payload, caller).field == f"data[1].baseinfo.{local(province, 'certno')}"


@pytest.mark.parametrize("province", ["beijing", "guangxi"])
def test_a_field_of_a_grantor_is_named_by_its_place(province):
    payload, caller = fixture(province, "2207")
    payload["input"]["mulaid_psn_list"][0].pop(local(province, "psn_no"))
    assert refused(province, payload, caller).field == f"mulaid_psn_list[0].{local(province, 'psn_no')}"


@pytest.mark.parametrize("province", ["beijing", "guangxi"])
def test_an_enrolment_that_is_not_an_object_is_named_by_its_place(province):
    payload, caller = fixture(province, "1101")
    payload["input"]["data"][0]["insuinfo"].append("310")
    assert refused(province, payload, caller).field == "data[0].insuinfo[2]"



@pytest.mark.parametrize("province", PROVINCES)
def test_a_refund_of_nothing_is_refused_not_read_as_a_refund_of_everything(province):
    """The canonical amount 0 means "all that is left"; a province that writes 0.00 (or 0 fen) means nothing."""
    payload, caller = fixture(province, "2208")
    payload["input"][local(province, "refd_amt")] = "0" if province == "shanghai" else "0.00"
    assert_refused(refused(province, payload, caller), local(province, "refd_amt"),
                   "must be more than 0; leave it out to refund all that is left")
