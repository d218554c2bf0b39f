"""Provinces' own payloads through LocalExchangeService, against the real server over mTLS on both
engines: the same rules and the same ledger effect as the canonical API, exactly-once by msgid, the
adapter of the caller's own province only, and a local error answer (changing nothing) for whatever
the adapter cannot read."""

from __future__ import annotations

import json

import pytest

from adapters.provinces import CODECS
from gateway._proto.copay.v1 import bindings_pb2 as bpb
from gateway._proto.copay.v1 import exchange_pb2, exchange_pb2_grpc
from gateway._proto.copay.v1 import settlements_pb2 as spb
from tests.e2e.world import COUNTER, RESIDENT, T, World, region_of

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def world(gateway):
    return World(gateway)


def exchange(world: World, region: str, payload: dict | str) -> dict:
    stub = exchange_pb2_grpc.LocalExchangeServiceStub(world.gateway.channel(f"region-{region}"))
    text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    return json.loads(stub.Exchange(exchange_pb2.ExchangeRequest(payload=text), timeout=T).payload)


def settle_2207(world: World, beneficiary: str, msgid: str, personal: str = "50.00") -> dict:
    """A 2207 payload as a Hubei hospital's system sends it (national field names and codes)."""
    region, psn_no = beneficiary.split("/")[1], beneficiary.split("/")[3]
    return {"infno": "2207", "msgid": msgid, "mdtrtarea_admvs": region, "insuplc_admdvs": region,
            "input": {"psn_no": psn_no, "mdtrt_cert_type": "02", "mdtrt_cert_no": world.numbers[beneficiary],
                      "med_type": "11", "fixmedins_code": f"H{region}0001", "fixmedins_type": "1",
                      "medfee_sumamt": "120.00", "fund_pay_sumamt": "70.00", "psn_part_amt": personal,
                      "list_types": ["101", "201"]}}


def test_a_local_settlement_has_the_same_ledger_effect_as_the_canonical_one(world):
    local_grantor, local_beneficiary, _ = world.family("420100", fen=10_000)
    canonical_grantor, canonical_beneficiary, _ = world.family("420100", fen=10_000)
    answer = exchange(world, "420100", settle_2207(world, local_beneficiary, f"H420100-{next(COUNTER)}"))
    assert answer["infcode"] == 0, answer
    setl = answer["output"]["setlinfo"]
    assert (setl["medfee_sumamt"], setl["fund_pay_sumamt"], setl["psn_part_amt"], setl["acct_mulaid_pay"],
            setl["psn_cash_pay"]) == ("120.00", "70.00", "50.00", "50.00", "0.00")
    [line] = answer["output"]["mulaid_detail"]
    assert (line["mulaid_amt"], line["balc"], line["psn_no"]) == ("50.00", "50.00", local_grantor.rsplit("/", 1)[1])
    world.settle(world.claim(canonical_beneficiary, 5_000, fund_part=7_000,
                             items=[spb.ITEM_CATEGORY_DRUG, spb.ITEM_CATEGORY_MEDICAL_SERVICE]))
    assert world.balance(local_grantor) == world.balance(canonical_grantor) == 5_000
    mine = world.settlements("420100").ListSettlements(spb.ListSettlementsRequest(beneficiary=local_beneficiary),
                                                       timeout=T).settlements
    assert [(s.name.rsplit("/", 1)[1], s.mutual_aid_fen) for s in mine] == [(setl["setl_id"], 5_000)]


def test_a_repeated_msgid_charges_once_and_gets_the_first_answer(world):
    grantor, beneficiary, _ = world.family("420100", fen=10_000)
    payload = settle_2207(world, beneficiary, f"H420100-{next(COUNTER)}")
    first, again = exchange(world, "420100", payload), exchange(world, "420100", payload)
    assert first == again and first["infcode"] == 0
    assert world.balance(grantor) == 5_000
    payload["input"]["list_types"] = ["101"]  # the same msgid with other content
    reused = exchange(world, "420100", payload)
    assert reused["infcode"] == -1 and reused["err_msg"].startswith("REQUEST_ID_REUSED")


def test_a_refusal_is_a_local_error_answer_with_its_reason_and_rule(world):
    grantor, beneficiary, _ = world.family("420100", fen=1_000)
    answer = exchange(world, "420100", settle_2207(world, beneficiary, f"H420100-{next(COUNTER)}"))
    assert answer["infcode"] == -1 and answer["err_msg"].startswith("INSUFFICIENT_BALANCE (R6): ")
    assert answer["output"] == {} and answer["inf_refmsgid"].startswith("H420100-")
    assert world.balance(grantor) == 1_000


@pytest.mark.parametrize("damage, field", [
    (lambda p: p["input"].update(psn_part_amt="50.001"), "psn_part_amt"),
    (lambda p: p["input"].update(psn_part_amt="-50.00"), "psn_part_amt"),
    (lambda p: p["input"].update(psn_part_amt="5e1"), "psn_part_amt"),
    (lambda p: p["input"].update(psn_part_amt="NaN"), "psn_part_amt"),
    (lambda p: p["input"].update(med_type="77"), "med_type"),
    (lambda p: p["input"].pop("mdtrt_cert_no") and None, "mdtrt_cert_no"),
    (lambda p: p.update(infno="9999"), "infno"),
    (lambda p: p.update(input=[]), "input"),
    (lambda p: json.dumps(p).replace('"50.00"', "50.0"), "payload"),  # a JSON number, not a decimal string
    (lambda p: "{not json", "payload"),
])
def test_what_the_adapter_cannot_read_is_a_local_error_answer_and_changes_nothing(world, damage, field):
    grantor, beneficiary, _ = world.family("420100", fen=10_000)
    payload = settle_2207(world, beneficiary, f"H420100-{next(COUNTER)}")
    damaged = damage(payload)
    answer = exchange(world, "420100", damaged if isinstance(damaged, str) else payload)
    assert answer["infcode"] == -1 and answer["err_msg"].startswith("INVALID_REQUEST: ") and field in answer["err_msg"]
    assert world.balance(grantor) == 10_000


def test_a_region_speaks_only_its_own_provinces_schema(world):
    """A Jiangsu region sending Guangxi's legacy payload is read by Jiangsu's adapter, and refused."""
    guangxi = CODECS["45"]
    request = world.claim(world.family("320300")[1], 100)
    text = guangxi.encode("2207", f"X-{next(COUNTER)}", spb.SettleRequest(request_id="x", claim=request), "320300")
    answer = exchange(world, "320300", text)
    assert answer["infcode"] == -1 and "mdtrt_cert_no: required" in answer["err_msg"]  # Guangxi calls it aac002


def test_a_jiangsu_binding_filed_and_revoked_in_its_own_codes(world):
    grantor, _ = world.member("320300")
    beneficiary, number = world.member("320100", kind=RESIDENT)
    filed = exchange(world, "320300", {"infno": "9101", "msgid": f"JS-{next(COUNTER)}", "input": {
        "psn_no": grantor.rsplit("/", 1)[1], "gjr_certno": number, "gjr_insuplc_admdvs": "320100",
        "relation": "03"}})  # Jiangsu's own code: mother
    assert filed["infcode"] == 0, filed
    binding = world.bindings("320300").GetBinding(bpb.GetBindingRequest(
        name=f"regions/320300/bindings/{filed['output']['bind_id']}"), timeout=T)
    assert (binding.relationship, binding.beneficiary, filed["output"]["bind_stas"]) == (
        bpb.RELATIONSHIP_MOTHER, beneficiary, "3")
    revoked = exchange(world, "320300", {"infno": "9102", "msgid": f"JS-{next(COUNTER)}", "input": {
        "bind_id": filed["output"]["bind_id"], "revoke_rea": "1"}})
    assert revoked["output"]["bind_stas"] == "4"
    spouse = exchange(world, "320300", {"infno": "9101", "msgid": f"JS-{next(COUNTER)}", "input": {
        "psn_no": grantor.rsplit("/", 1)[1], "gjr_psn_no": beneficiary.rsplit("/", 1)[1],
        "gjr_insuplc_admdvs": "320100", "relation": "19"}})  # the spouse's mother: never (R4)
    assert spouse["infcode"] == -1 and spouse["err_msg"].startswith("RELATIVE_NOT_ELIGIBLE (R4)")
    assert "relationship=RELATIONSHIP_SPOUSE_MOTHER" in spouse["err_msg"]


def test_guangxi_reports_members_in_legacy_codes(world):
    from gateway.sample import id_number
    from datetime import date
    n = next(COUNTER)
    number = id_number("450100", date(1966, 6, 6), n % 1000)
    answer = exchange(world, "450100", {"infno": "1101", "msgid": f"GX-{n}", "input": {"data": [{
        "baseinfo": {"aac001": f"GX{n:06d}", "aac002": number},
        "insuinfo": [{"aae140": "390", "aac008": "1", "aab301": "450100"},
                     {"aae140": "310", "aac008": "2", "aab301": "450100"}]}]}})
    assert answer["infcode"] == 0, answer
    assert answer["output"]["data"] == [{"aac001": f"GX{n:06d}", "aab301": "450100", "aae140": "310", "aac008": "2",
                                         "moved_to_admdvs": ""}]


def test_shanghai_counts_in_fen(world):
    grantor, beneficiary, _ = world.family("310000", fen=10_000)
    binding = world.bindings("310000").ListBindings(bpb.ListBindingsRequest(beneficiary=beneficiary),
                                                    timeout=T).bindings[0]
    world.bindings("310000").ApproveBinding(bpb.ApproveBindingRequest(name=binding.name, request_id=f"ap-{next(COUNTER)}"),
                                            timeout=T)  # Shanghai reviews its bindings (R11)
    payload = settle_2207(world, beneficiary, f"SH-{next(COUNTER)}")
    payload["input"].update(medfee_sumamt="12000", fund_pay_sumamt="7000", psn_part_amt="5000")
    answer = exchange(world, "310000", payload)
    assert answer["infcode"] == 0, answer
    assert answer["output"]["setlinfo"]["acct_mulaid_pay"] == "5000" and world.balance(grantor) == 5_000
    assert region_of(grantor) == "310000"


def test_a_2207_as_the_national_interface_writes_it(world):
    """The institution in the envelope (not input), no institution type (a hospital, for outpatient), the
    pooled-fund part left for the gateway to work out, the envelope's and input's other fields (operator,
    version, the patient's name) ignored and kept nowhere."""
    grantor, beneficiary, _ = world.family("420100", fen=10_000)
    psn_no = beneficiary.rsplit("/", 1)[1]
    msgid = f"H420100-{next(COUNTER)}"
    answer = exchange(world, "420100", {
        "infno": "2207", "msgid": msgid, "infver": "V1.0", "opter": "0001", "opter_name": "收费员",
        "inf_time": "2026-11-28 10:00:00", "fixmedins_code": "H42010000001", "fixmedins_name": "某医院",
        "mdtrtarea_admvs": "420100", "insuplc_admdvs": "420100",
        "input": {"psn_no": psn_no, "psn_name": "张三", "mdtrt_cert_type": "02",
                  "mdtrt_cert_no": world.numbers[beneficiary], "med_type": "11", "insutype": "390",
                  "medfee_sumamt": "120.00", "psn_part_amt": "50.00", "acct_used_flag": "1"}})
    assert answer["infcode"] == 0, answer
    setl = answer["output"]["setlinfo"]
    assert (setl["fund_pay_sumamt"], setl["acct_mulaid_pay"], setl["psn_cash_pay"]) == ("70.00", "50.00", "0.00")
    settlement = world.settlements("420100").GetSettlement(spb.GetSettlementRequest(
        name=f"regions/420100/settlements/{setl['setl_id']}"), timeout=T)
    assert settlement.institution_code == "H42010000001"
    assert settlement.institution_kind == spb.INSTITUTION_KIND_HOSPITAL
    assert world.balance(grantor) == 5_000
    assert "张三" not in world.gateway.log()


def test_a_refusal_names_the_provinces_own_fields(world):
    """A canonical check (total below fund part + personal part) names Guangxi's legacy fields."""
    _, beneficiary, _ = world.family("450100", fen=10_000)
    payload = {"infno": "2207", "msgid": f"GX-{next(COUNTER)}", "aab301": "450100", "input": {
        "aac001": beneficiary.rsplit("/", 1)[1], "mdtrt_cert_type": "02", "aac002": world.numbers[beneficiary],
        "med_type": "11", "fixmedins_code": "H1", "akc264": "100.00", "akb068": "70.00", "akc261": "50.00"}}
    answer = exchange(world, "450100", payload)
    assert answer["infcode"] == -1 and answer["err_msg"].startswith("INVALID_REQUEST: invalid fields: akc264 ["), answer
    assert "[akc264: must be at least" in answer["err_msg"] and "total_fen" not in answer["err_msg"]


def test_one_persons_1101_and_guangdongs_national_credential_codes(world):
    from datetime import date

    from gateway.sample import id_number
    n = next(COUNTER)
    number = id_number("440100", date(1971, 7, 7), n % 1000)
    answer = exchange(world, "440100", {"infno": "1101", "msgid": f"GD-{n}", "insuplc_admdvs": "440100", "input": {
        "baseinfo": {"psn_no": f"GD{n:06d}", "certno": number, "psn_name": "李四", "gend": "1"},
        "insuinfo": [{"insutype": "410", "psn_insu_stas": "1"}, {"insutype": "310", "psn_insu_stas": "1",
                                                                "balc": "1000.00"}]}})
    assert answer["infcode"] == 0, answer
    assert answer["output"]["data"] == [{"psn_no": f"GD{n:06d}", "insuplc_admdvs": "440100", "insutype": "310",
                                         "psn_insu_stas": "1", "moved_to_admdvs": ""}]
    grantor, beneficiary, binding = world.family("440100", fen=10_000)
    world.bindings("440100").ApproveBinding(bpb.ApproveBindingRequest(name=binding.name,
                                                                      request_id=f"ap-{next(COUNTER)}"), timeout=T)
    payload = settle_2207(world, beneficiary, f"GD-{next(COUNTER)}")
    payload["input"]["mdtrt_cert_type"] = "02"  # the national code; Guangdong's own is "2"
    answer = exchange(world, "440100", payload)
    assert answer["infcode"] == 0, answer
    assert world.balance(grantor) == 5_000
