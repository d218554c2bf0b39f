"""A province's codec: its local payloads <-> the gateway's canonical messages, both ways.

A province joins with one small module (adapters/provinces/) that builds a ``ProvinceCodec``: its
code tables, the names of its fields where they differ from the national ones (legacy codes such as
``aac001``), its amount format, and how it words an error. The gateway core never sees a local
field name: ``decode`` gives the canonical request of a transaction, ``encode`` the local payload
of a canonical request (the inverse, used by the round-trip tests and by file exports), ``output``
the local answer of a canonical answer.

Transactions, by the national ``infno`` (the national interface has no public code for binding
filing and revocation, so 9101 and 9102 are defined here, in the same style):

====  ==========================================  ==========================================
infno  local                                       canonical
====  ==========================================  ==========================================
1101  member facts (baseinfo + insuinfo), a list   MembersService.BatchUpsertMembers
9101  file a binding (备案)                        BindingsService.CreateBinding
9102  revoke a binding (解除)                      BindingsService.RevokeBinding
3260  a clearing statement (清算明细)              ClearingService.GetClearingStatement
3261  confirm or dispute it (清算确认)             ClearingService.ConfirmClearingStatement
3201  reconcile totals (对总账)                    ClearingService.ReconcileClearingTotals
3202  reconcile the detail, a page (对明细账)      ClearingService.ReconcileClearingLinesPage
2206  pre-settlement (预结算)                      SettlementsService.PreSettle
2207  settlement (结算)                            SettlementsService.Settle
2208  settlement reversal (撤销/退费)              SettlementsService.ReverseSettlement
====  ==========================================  ==========================================

``msgid`` becomes the canonical ``request_id``: a province's own retries are exactly-once.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from google.protobuf.message import Message

from adapters import amounts, tables
from adapters.envelope import YUAN, CodecError, Envelope, parse
from gateway._proto.copay.v1 import bindings_pb2 as bpb
from gateway._proto.copay.v1 import clearing_pb2 as cpb
from gateway._proto.copay.v1 import members_pb2 as mpb
from gateway._proto.copay.v1 import settlements_pb2 as spb

METHODS = {"1101": "copay.v1.MembersService/BatchUpsertMembers", "9101": "copay.v1.BindingsService/CreateBinding",
           "9102": "copay.v1.BindingsService/RevokeBinding", "2206": "copay.v1.SettlementsService/PreSettle",
           "2207": "copay.v1.SettlementsService/Settle", "2208": "copay.v1.SettlementsService/ReverseSettlement",
           "3260": "copay.v1.ClearingService/GetClearingStatement",
           "3261": "copay.v1.ClearingService/ConfirmClearingStatement",
           "3201": "copay.v1.ClearingService/ReconcileClearingTotals",
           "3202": "copay.v1.ClearingService/ReconcileClearingLinesPage"}
MEDICAL = {spb.USE_OUTPATIENT, spb.USE_INPATIENT, spb.USE_PHARMACY}


@dataclass(frozen=True)
class Decoded:
    infno: str
    msgid: str
    method: str  # e.g. copay.v1.SettlementsService/Settle
    request: Message


def _invert(table: Mapping[str, int]) -> dict[int, str]:
    """Canonical -> local: where several local codes mean one thing, the first one listed."""
    out: dict[int, str] = {}
    for code, number in table.items():
        out.setdefault(number, code)
    return out


@dataclass(frozen=True)
class ProvinceCodec:
    province: str
    name: str
    names: Mapping[str, str] = field(default_factory=dict)
    """National field name -> this province's name, where they differ (legacy codes, local names)."""
    codes: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    """Table name -> local code -> canonical enum number, where the province's codes differ."""
    in_fen: bool = False
    """The province's amounts are whole fen (``"5000"``), not decimal yuan."""
    error_prefix: Callable[[str, str | None], str] = lambda reason, rule: reason + (f" ({rule})" if rule else "")
    """How an error answer names the reason (and rule) before the message."""

    # --- names, codes, amounts -----------------------------------------------------------------------

    def n(self, national: str) -> str:
        return self.names.get(national, national)

    def table(self, name: str) -> Mapping[str, int]:
        return self.codes.get(name, tables.NATIONAL[name])

    def code_in(self, data: Mapping[str, Any], national: str, table: str, required: bool = True,
                at: str = "") -> int:
        """The canonical number of a coded field; ``at``: where ``data`` is in the payload (a list item)."""
        local = self.n(national)
        value = data.get(local)
        if value is None and not required:
            return 0
        found = self.table(table).get(value) if isinstance(value, str) else None
        if found is None:
            raise CodecError(_at(at, local), "must be one of " + ", ".join(sorted(self.table(table))) +
                             (f", not {value!r}" if isinstance(value, str) and len(value) < 20 else ""))
        return found

    def code_out(self, number: int, table: str) -> str:
        return _invert(self.table(table))[number]

    def fen_in(self, data: Mapping[str, Any], national: str, required: bool = True) -> int:
        local = self.n(national)
        if local not in data and not required:
            return 0
        convert = amounts.fen_from_fen if self.in_fen else amounts.fen_from_yuan
        return convert(data.get(local), local)

    def money(self, fen: int) -> str:
        return amounts.fen_text(fen) if self.in_fen else amounts.yuan_from_fen(fen)

    def text_in(self, data: Mapping[str, Any], national: str, required: bool = True, at: str = "") -> str:
        local = self.n(national)
        value = data.get(local, None if required else "")
        if not isinstance(value, str) or (required and not value):
            raise CodecError(_at(at, local), "required: a string")
        return value

    # --- requests -------------------------------------------------------------------------------------

    def decode(self, text: str, caller: str) -> Decoded:
        """The canonical request of a local payload sent by region ``caller``."""
        envelope = parse(text, {k: self.n(k) for k in ("infno", "msgid", "mdtrtarea_admvs", "insuplc_admdvs")},
                         'whole fen as strings such as "5000"' if self.in_fen else YUAN)
        decode = _DECODERS.get(envelope.infno)
        if decode is None:
            raise CodecError(self.n("infno"), f"{envelope.infno} is not a transaction of this interface; known: "
                             + ", ".join(sorted(_DECODERS)))
        return Decoded(envelope.infno, envelope.msgid, METHODS[envelope.infno], decode(self, envelope, caller))

    def encode(self, infno: str, msgid: str, request: Message, caller: str) -> str:
        """The local payload of a canonical request (the inverse of ``decode``)."""
        body, regions = _ENCODERS[infno](self, request, caller)
        envelope = {self.n("infno"): infno, self.n("msgid"): msgid, self.n("input"): body}
        envelope.update({self.n(k): v for k, v in regions.items() if v})
        return json.dumps(envelope, ensure_ascii=False, sort_keys=True)

    # --- answers --------------------------------------------------------------------------------------

    def output(self, infno: str, response: Message, balances: Mapping[str, int] | None = None) -> dict[str, Any]:
        """The local ``output`` of a canonical answer; ``balances``: shareable balances of grantors the
        caller may see, by member name (``balc`` of their lines)."""
        return _OUTPUTS[infno](self, response, balances or {})

    def field(self, infno: str, canonical: str) -> str:
        """The local name of a canonical request's field (as a refusal's violations name them), e.g.
        ``claim.personal_part_fen`` -> ``psn_part_amt``; a field with no local counterpart keeps its name."""
        if canonical == "name":  # the resource a 9102, 2208 or 32xx names
            return self.n({"9": "bind_id", "2": "setl_id", "3": "stmt_date"}[infno[0]])
        names = _CLEARING_FIELDS if infno.startswith("32") else _LOCAL_FIELDS
        indexes = re.findall(r"\[([0-9]+)\]", canonical)
        path = re.sub(r"\[[0-9]+\]", "[]", canonical)
        while path and path not in names:
            path = path.rpartition(".")[0]
        if not path:
            return canonical
        national = iter(indexes)
        local = ".".join(self.n(part.removesuffix("[]")) + ("[]" if part.endswith("[]") else "")
                         for part in names[path].split("."))
        return re.sub(r"\[\]", lambda _: f"[{next(national, '')}]", local)

    def err_msg(self, reason: str, rule: str | None, message: str, violations: list[tuple[str, str]]) -> str:
        """An error answer's text; ``violations``: (local field, why)."""
        detail = "; ".join(f"{f}: {d}" for f, d in violations)
        return f"{self.error_prefix(reason, rule)}: {message}" + (f" [{detail}]" if detail else "")

    def refusal_msg(self, infno: str, reason: str, rule: str | None, message: str,
                    violations: list[tuple[str, str]], detail: str = "") -> str:
        """The error answer of a refusal of the canonical request of ``infno``: its fields by their local
        names (``violations``: canonical field, why), and ``detail`` after the message."""
        fields = [(self.field(infno, f), d) for f, d in violations]
        if fields:
            message = "invalid fields: " + ", ".join(dict.fromkeys(f for f, _ in fields))
        return self.err_msg(reason, rule, message + (f" ({detail})" if detail else ""), fields)


# --- the transactions, one decoder, encoder and output each -------------------------------------------------


def _at(at: str, local: str) -> str:
    return f"{at}.{local}" if at else local


def _member(region: str, psn_no: str) -> str:
    return f"regions/{region}/members/{psn_no}"


def _split(name: str) -> tuple[str, str]:
    parts = name.split("/")
    return (parts[1], parts[3]) if len(parts) == 4 else ("", "")


def _list(data: Mapping[str, Any], local: str, limit: int, at: str = "") -> list[Any]:
    value = data.get(local, [])
    if not isinstance(value, list) or len(value) > limit:
        raise CodecError(at or local, f"must be a list of at most {limit}")
    return value


def _object(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise CodecError(where, "must be a JSON object")
    return value


def decode_1101(c: ProvinceCodec, e: Envelope, caller: str) -> Message:
    """A list of people under ``data``, or one person's ``baseinfo`` and ``insuinfo`` right in ``input``
    (as the national 1101 answer carries them)."""
    if c.n("data") in e.input or c.n("baseinfo") not in e.input:
        people = [(f"{c.n('data')}[{i}]", _object(item, f"{c.n('data')}[{i}]"))
                  for i, item in enumerate(_list(e.input, c.n("data"), 500))]
    else:
        people = [(c.n("input"), e.input)]
    if not people:
        raise CodecError(c.n("data"), "required: at least one person")
    records = []
    for where, item in people:
        base_at, list_at = f"{where}.{c.n('baseinfo')}", f"{where}.{c.n('insuinfo')}"
        base = _object(item.get(c.n("baseinfo"), {}), base_at)
        enrolments = [(f"{list_at}[{k}]", _object(x, f"{list_at}[{k}]"))
                      for k, x in enumerate(_list(item, c.n("insuinfo"), 10, list_at))]
        basic = [(at, x) for at, x in enrolments if isinstance(x.get(c.n("insutype")), str)
                 and x[c.n("insutype")] in c.table("insutype")]
        if not basic:
            raise CodecError(list_at, f"no basic medical insurance enrolment ({c.n('insutype')} "
                             + " or ".join(c.table("insutype")) + ")")
        at, chosen = min(basic, key=lambda x: c.table("insutype")[x[1][c.n("insutype")]])  # employee first
        records.append(mpb.MemberRecord(
            psn_no=c.text_in(base, "psn_no", at=base_at), id_number=c.text_in(base, "certno", at=base_at),
            insuring_region=c.text_in(chosen, "insuplc_admdvs", required=False, at=at) or e.insuring_region or caller,
            insurance_type=c.code_in(chosen, "insutype", "insutype", at=at),
            enrolment_status=c.code_in(chosen, "psn_insu_stas", "psn_insu_stas", at=at)))
    return mpb.BatchUpsertMembersRequest(parent=f"regions/{caller}", request_id=e.msgid, members=records)


def encode_1101(c: ProvinceCodec, r: mpb.BatchUpsertMembersRequest, caller: str) -> tuple[dict, dict]:
    return {c.n("data"): [{c.n("baseinfo"): {c.n("psn_no"): m.psn_no, c.n("certno"): m.id_number},
                           c.n("insuinfo"): [{c.n("insutype"): c.code_out(m.insurance_type, "insutype"),
                                              c.n("psn_insu_stas"): c.code_out(m.enrolment_status, "psn_insu_stas"),
                                              c.n("insuplc_admdvs"): m.insuring_region}]}
                          for m in r.members]}, {}


def output_1101(c: ProvinceCodec, r: mpb.BatchUpsertMembersResponse, _: Mapping[str, int]) -> dict[str, Any]:
    return {c.n("data"): [{c.n("psn_no"): m.psn_no, c.n("insuplc_admdvs"): m.insuring_region,
                           c.n("insutype"): c.code_out(m.insurance_type, "insutype"),
                           c.n("psn_insu_stas"): c.code_out(m.enrolment_status, "psn_insu_stas"),
                           c.n("moved_to_admdvs"): m.moved_to_region} for m in r.members]}


def decode_9101(c: ProvinceCodec, e: Envelope, caller: str) -> Message:
    i = e.input
    request = bpb.CreateBindingRequest(request_id=e.msgid, grantor=_member(caller, c.text_in(i, "psn_no")),
                                       relationship=c.code_in(i, "relation", "relation"),
                                       binding_id=c.text_in(i, "bind_id", required=False))
    region = c.text_in(i, "mulaid_insuplc_admdvs", required=False) or caller  # absent: the grantor's region
    if c.n("mulaid_psn_no") in i:
        request.beneficiary = _member(region, c.text_in(i, "mulaid_psn_no"))
    else:
        request.beneficiary_person.CopyFrom(bpb.PersonRef(id_number=c.text_in(i, "mulaid_certno"),
                                                         insuring_region=region))
    return request


def encode_9101(c: ProvinceCodec, r: bpb.CreateBindingRequest, caller: str) -> tuple[dict, dict]:
    body = {c.n("psn_no"): _split(r.grantor)[1], c.n("relation"): c.code_out(r.relationship, "relation")}
    if r.binding_id:
        body[c.n("bind_id")] = r.binding_id
    if r.WhichOneof("beneficiary_is") == "beneficiary":
        region, psn_no = _split(r.beneficiary)
        body.update({c.n("mulaid_psn_no"): psn_no, c.n("mulaid_insuplc_admdvs"): region})
    else:
        body.update({c.n("mulaid_certno"): r.beneficiary_person.id_number,
                     c.n("mulaid_insuplc_admdvs"): r.beneficiary_person.insuring_region})
    return body, {}


def output_binding(c: ProvinceCodec, r: bpb.Binding, _: Mapping[str, int]) -> dict[str, Any]:
    region, psn_no = _split(r.beneficiary)
    return {c.n("bind_id"): r.name.rsplit("/", 1)[-1], c.n("bind_stas"): c.code_out(r.status, "bind_stas"),
            c.n("policy"): r.policy, c.n("mulaid_psn_no"): psn_no, c.n("mulaid_insuplc_admdvs"): region}


def decode_9102(c: ProvinceCodec, e: Envelope, caller: str) -> Message:
    i = e.input
    region = c.text_in(i, "bind_admdvs", required=False) or caller
    return bpb.RevokeBindingRequest(request_id=e.msgid, name=f"regions/{region}/bindings/{c.text_in(i, 'bind_id')}",
                                    reason=c.code_in(i, "revoke_rea", "revoke_rea"))


def encode_9102(c: ProvinceCodec, r: bpb.RevokeBindingRequest, caller: str) -> tuple[dict, dict]:
    parts = r.name.split("/")
    body = {c.n("bind_id"): parts[-1], c.n("revoke_rea"): c.code_out(r.reason, "revoke_rea")}
    if parts[1] != caller:
        body[c.n("bind_admdvs")] = parts[1]
    return body, {}


def _claim(c: ProvinceCodec, e: Envelope, caller: str) -> spb.SettlementClaim:
    i = e.input
    credential = spb.Credential(type=c.code_in(i, "mdtrt_cert_type", "mdtrt_cert_type"),
                                holder_id_number=c.text_in(i, "mdtrt_cert_no"))
    use = c.code_in(i, "med_type", "med_type")
    total, fund, personal = _parts(c, i)
    claim = spb.SettlementClaim(
        credential=credential, use=use, total_fen=total, fund_part_fen=fund, personal_part_fen=personal,
        items=[c.table("list_type").get(t, -1) if isinstance(t, str) else -1
               for t in _list(i, c.n("list_types"), 50)],
        allow_partial=c.text_in(i, "part_pay_flag", required=False) == "1")
    if -1 in claim.items:
        raise CodecError(c.n("list_types"), "each must be one of " + ", ".join(sorted(c.table("list_type"))))
    # The insuring region: the envelope's (as the national interface sends it), else the input's, else the
    # caller's own (a local patient).
    insuring = e.insuring_region or c.text_in(i, "insuplc_admdvs", required=False) or caller
    psn_no = c.text_in(i, "psn_no", required=False)
    if psn_no:
        claim.beneficiary = _member(insuring, psn_no)
    else:
        claim.insuring_region = insuring
    if use in MEDICAL:
        # The national interface names the institution in the envelope; a province may put it in input.
        code = c.text_in(i, "fixmedins_code", required=False) or c.text_in(e.extra, "fixmedins_code", required=False)
        if not code:
            raise CodecError(c.n("fixmedins_code"), "required for medical use (med_type "
                             + ", ".join(k for k, v in c.table("med_type").items() if v in MEDICAL) + ")")
        claim.institution.CopyFrom(spb.Institution(
            code=code, kind=c.code_in(i, "fixmedins_type", "fixmedins_type", required=False) or (
                spb.INSTITUTION_KIND_PHARMACY if use == spb.USE_PHARMACY else spb.INSTITUTION_KIND_HOSPITAL),
            designated=c.text_in(i, "fixmedins_flag", required=False) != "0",
            region=e.treatment_region or caller))
    for j, payer in enumerate(_list(i, c.n("mulaid_psn_list"), 20)):
        at = f"{c.n('mulaid_psn_list')}[{j}]"
        payer = _object(payer, at)
        claim.grantors.append(_member(c.text_in(payer, "insuplc_admdvs", at=at), c.text_in(payer, "psn_no", at=at)))
    return claim


def _parts(c: ProvinceCodec, i: Mapping[str, Any]) -> tuple[int, int, int]:
    """Total cost, pooled-fund part and personal burden: any two give the third (total = fund + personal);
    all three are checked as the canonical API checks them."""
    names = ("medfee_sumamt", "fund_pay_sumamt", "psn_part_amt")
    given = [c.n(n) in i for n in names]
    if sum(given) < 2:
        missing = [c.n(n) for n, g in zip(names, given) if not g]
        raise CodecError(missing[0], "required: give at least two of " + ", ".join(c.n(n) for n in names) +
                         " (total = fund part + personal part)")
    total, fund, personal = (c.fen_in(i, n, required=False) for n in names)
    if not given[0]:
        total = fund + personal
    elif not given[1]:
        fund = total - personal
        if fund < 0:  # the part given is too large, not the one worked out
            raise CodecError(c.n(names[2]), f"more than {c.n(names[0])}")
    elif not given[2]:
        personal = total - fund
        if personal < 0:
            raise CodecError(c.n(names[1]), f"more than {c.n(names[0])}")
    return total, fund, personal


def _claim_out(c: ProvinceCodec, claim: spb.SettlementClaim, caller: str) -> tuple[dict, dict]:
    body = {c.n("mdtrt_cert_type"): c.code_out(claim.credential.type, "mdtrt_cert_type"),
            c.n("mdtrt_cert_no"): claim.credential.holder_id_number, c.n("med_type"): c.code_out(claim.use, "med_type"),
            c.n("medfee_sumamt"): c.money(claim.total_fen), c.n("fund_pay_sumamt"): c.money(claim.fund_part_fen),
            c.n("psn_part_amt"): c.money(claim.personal_part_fen)}
    if claim.items:
        body[c.n("list_types")] = [c.code_out(t, "list_type") for t in claim.items]
    if claim.allow_partial:
        body[c.n("part_pay_flag")] = "1"
    regions = {"insuplc_admdvs": _split(claim.beneficiary)[0] if claim.beneficiary else claim.insuring_region}
    if claim.beneficiary:
        body[c.n("psn_no")] = _split(claim.beneficiary)[1]
    if claim.HasField("institution"):
        body.update({c.n("fixmedins_code"): claim.institution.code,
                     c.n("fixmedins_type"): c.code_out(claim.institution.kind, "fixmedins_type")})
        if not claim.institution.designated:
            body[c.n("fixmedins_flag")] = "0"
        regions["mdtrtarea_admvs"] = claim.institution.region
    if claim.grantors:
        body[c.n("mulaid_psn_list")] = [{c.n("insuplc_admdvs"): _split(g)[0], c.n("psn_no"): _split(g)[1]}
                                        for g in claim.grantors]
    return body, regions


def decode_2206(c: ProvinceCodec, e: Envelope, caller: str) -> Message:
    return spb.PreSettleRequest(claim=_claim(c, e, caller))


def encode_2206(c: ProvinceCodec, r: spb.PreSettleRequest, caller: str) -> tuple[dict, dict]:
    return _claim_out(c, r.claim, caller)


def decode_2207(c: ProvinceCodec, e: Envelope, caller: str) -> Message:
    return spb.SettleRequest(request_id=e.msgid, claim=_claim(c, e, caller),
                             settlement_id=c.text_in(e.input, "setl_id", required=False))


def encode_2207(c: ProvinceCodec, r: spb.SettleRequest, caller: str) -> tuple[dict, dict]:
    body, regions = _claim_out(c, r.claim, caller)
    if r.settlement_id:
        body[c.n("setl_id")] = r.settlement_id
    return body, regions


def decode_2208(c: ProvinceCodec, e: Envelope, caller: str) -> Message:
    i = e.input
    refund = c.fen_in(i, "refd_amt", required=False)
    if c.n("refd_amt") in i and refund == 0:  # the canonical 0 means "all": a province's 0.00 must not
        raise CodecError(c.n("refd_amt"), "must be more than 0; leave it out to refund all that is left")
    return spb.ReverseSettlementRequest(request_id=e.msgid, amount_fen=refund,
                                        name=f"regions/{caller}/settlements/{c.text_in(i, 'setl_id')}")


def encode_2208(c: ProvinceCodec, r: spb.ReverseSettlementRequest, caller: str) -> tuple[dict, dict]:
    body = {c.n("setl_id"): r.name.rsplit("/", 1)[-1]}
    if r.amount_fen:
        body[c.n("refd_amt")] = c.money(r.amount_fen)
    return body, {}


def _lines(c: ProvinceCodec, lines: Any, balances: Mapping[str, int]) -> list[dict[str, Any]]:
    out = []
    for line in lines:
        region, psn_no = _split(line.grantor) if line.grantor else (line.grantor_region, "")
        item = {c.n("insuplc_admdvs"): region, c.n("mulaid_amt"): c.money(line.amount_fen)}
        if psn_no:
            item.update({c.n("psn_no"): psn_no, c.n("bind_id"): line.binding.rsplit("/", 1)[-1]})
        if line.grantor in balances:
            item[c.n("balc")] = c.money(balances[line.grantor])
        if line.refunded_fen:
            item[c.n("refd_amt")] = c.money(line.refunded_fen)
        out.append(item)
    return out


def output_quote(c: ProvinceCodec, r: spb.PreSettleResponse, balances: Mapping[str, int]) -> dict[str, Any]:
    paid, cash = r.mutual_aid_fen, r.cash_fen
    return {c.n("setlinfo"): {c.n("psn_part_amt"): c.money(paid + cash), c.n("acct_mulaid_pay"): c.money(paid),
                              c.n("psn_cash_pay"): c.money(cash)},
            c.n("mulaid_detail"): _lines(c, r.lines, balances)}


def output_settlement(c: ProvinceCodec, r: spb.Settlement, balances: Mapping[str, int]) -> dict[str, Any]:
    info = {c.n("setl_id"): r.name.rsplit("/", 1)[-1], c.n("medfee_sumamt"): c.money(r.total_fen),
            c.n("fund_pay_sumamt"): c.money(r.fund_part_fen), c.n("psn_part_amt"): c.money(r.personal_part_fen),
            c.n("setl_time"): r.create_time.ToDatetime().strftime("%Y-%m-%d %H:%M:%S")}
    if r.HasField("mutual_aid_fen"):
        info.update({c.n("acct_mulaid_pay"): c.money(r.mutual_aid_fen), c.n("psn_cash_pay"): c.money(r.cash_fen),
                     c.n("refd_sumamt"): c.money(r.refunded_fen)})
    return {c.n("setlinfo"): info, c.n("mulaid_detail"): _lines(c, r.lines, balances)}


# Canonical field (indexes as []) -> its national name, for error answers (ProvinceCodec.field).
_LOCAL_FIELDS = {
    "request_id": "msgid", "parent": "insuplc_admdvs", "members": "data",
    "members[].psn_no": "data[].baseinfo.psn_no", "members[].id_number": "data[].baseinfo.certno",
    "members[].insuring_region": "data[].insuinfo.insuplc_admdvs", "members[].insurance_type": "data[].insuinfo.insutype",
    "members[].enrolment_status": "data[].insuinfo.psn_insu_stas", "members[]": "data[]",
    "grantor": "psn_no", "beneficiary": "mulaid_psn_no", "beneficiary_person": "mulaid_certno",
    "beneficiary_person.id_number": "mulaid_certno", "beneficiary_person.insuring_region": "mulaid_insuplc_admdvs",
    "relationship": "relation", "binding_id": "bind_id", "reason": "revoke_rea",
    "claim": "input", "claim.total_fen": "medfee_sumamt", "claim.fund_part_fen": "fund_pay_sumamt",
    "claim.personal_part_fen": "psn_part_amt", "claim.credential": "mdtrt_cert_type",
    "claim.credential.type": "mdtrt_cert_type", "claim.credential.holder_id_number": "mdtrt_cert_no",
    "claim.use": "med_type", "claim.institution": "fixmedins_code", "claim.institution.code": "fixmedins_code",
    "claim.institution.kind": "fixmedins_type", "claim.institution.designated": "fixmedins_flag",
    "claim.institution.region": "mdtrtarea_admvs", "claim.beneficiary": "psn_no", "claim.patient": "psn_no",
    "claim.insuring_region": "insuplc_admdvs", "claim.items": "list_types", "claim.items[]": "list_types[]",
    "claim.grantors": "mulaid_psn_list", "claim.grantors[]": "mulaid_psn_list[]", "settlement_id": "setl_id",
    "amount_fen": "refd_amt",
}

# --- clearing (3260, 3261, 3201, 3202): a statement is the caller's own, of one day (stmt_date) -----------

FIGURES = {"payable_count": "pay_cnt", "payable_fen": "pay_sumamt", "payable_refund_count": "pay_refd_cnt",
           "payable_refund_fen": "pay_refd_sumamt", "receivable_count": "recv_cnt", "receivable_fen": "recv_sumamt",
           "receivable_refund_count": "recv_refd_cnt", "receivable_refund_fen": "recv_refd_sumamt"}
"""A statement's figures, canonical -> national-style name: counts as digit strings, sums as money."""
_COUNT = re.compile(r"0|[1-9][0-9]{0,11}")


def _statement(c: ProvinceCodec, e: Envelope, caller: str) -> str:
    return f"regions/{caller}/clearingStatements/{c.text_in(e.input, 'stmt_date')}"


def _day_of(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def _figures_in(c: ProvinceCodec, data: Mapping[str, Any]) -> cpb.ClearingFigures:
    figures = cpb.ClearingFigures()
    for canonical, national in FIGURES.items():
        if canonical.endswith("_fen"):
            setattr(figures, canonical, c.fen_in(data, national))
        else:
            value = data.get(c.n(national))
            if not isinstance(value, str) or not _COUNT.fullmatch(value):
                raise CodecError(c.n(national), "required: a count, as a string of digits such as \"12\"")
            setattr(figures, canonical, int(value))
    return figures


def _figures_out(c: ProvinceCodec, figures: cpb.ClearingFigures) -> dict[str, str]:
    out = {c.n(national): c.money(getattr(figures, canonical)) if canonical.endswith("_fen")
           else str(getattr(figures, canonical)) for canonical, national in FIGURES.items()}
    out[c.n("net_amt")] = c.money(figures.net_fen)
    return out


def _value_out(c: ProvinceCodec, figure: str, value: int) -> str:
    return c.money(value) if figure.endswith("_fen") else str(value)


def decode_3260(c: ProvinceCodec, e: Envelope, caller: str) -> Message:
    return cpb.GetClearingStatementRequest(name=_statement(c, e, caller))


def encode_3260(c: ProvinceCodec, r: cpb.GetClearingStatementRequest, caller: str) -> tuple[dict, dict]:
    return {c.n("stmt_date"): _day_of(r.name)}, {}


def decode_3261(c: ProvinceCodec, e: Envelope, caller: str) -> Message:
    return cpb.ConfirmClearingStatementRequest(name=_statement(c, e, caller), request_id=e.msgid,
                                               verdict=c.code_in(e.input, "cnfm_flag", "cnfm_flag"),
                                               reason=c.text_in(e.input, "memo", required=False))


def encode_3261(c: ProvinceCodec, r: cpb.ConfirmClearingStatementRequest, caller: str) -> tuple[dict, dict]:
    body = {c.n("stmt_date"): _day_of(r.name), c.n("cnfm_flag"): c.code_out(r.verdict, "cnfm_flag")}
    if r.reason:
        body[c.n("memo")] = r.reason
    return body, {}


def output_statement(c: ProvinceCodec, r: cpb.ClearingStatement, _: Mapping[str, int]) -> dict[str, Any]:
    latest = r.confirmations[-1].verdict if r.confirmations else 0
    return {c.n("stmt_date"): _day_of(r.name), c.n("cnfm_flag"): c.code_out(latest, "cnfm_flag") if latest else "",
            c.n("stmt_sum"): _figures_out(c, r.totals),
            c.n("clr_detail"): [{c.n("admdvs"): p.region, **_figures_out(c, p.figures)} for p in r.counterparties]}


def decode_3201(c: ProvinceCodec, e: Envelope, caller: str) -> Message:
    return cpb.ReconcileClearingTotalsRequest(name=_statement(c, e, caller), totals=_figures_in(c, e.input))


def encode_3201(c: ProvinceCodec, r: cpb.ReconcileClearingTotalsRequest, caller: str) -> tuple[dict, dict]:
    body = _figures_out(c, r.totals)
    body.pop(c.n("net_amt"))
    return {c.n("stmt_date"): _day_of(r.name), **body}, {}


def output_3201(c: ProvinceCodec, r: cpb.ReconcileClearingTotalsResponse, _: Mapping[str, int]) -> dict[str, Any]:
    return {c.n("stmt_rslt"): "0" if r.result == cpb.RECONCILIATION_RESULT_MATCH else "1",
            c.n("stmt_sum"): _figures_out(c, r.gateway_totals),
            c.n("diff_list"): [{c.n("item"): c.n(FIGURES[d.figure]), c.n("gw_val"): _value_out(c, d.figure, d.gateway_value),
                                c.n("local_val"): _value_out(c, d.figure, d.region_value)} for d in r.differences]}


def decode_3202(c: ProvinceCodec, e: Envelope, caller: str) -> Message:
    i = e.input
    request = cpb.ReconcileClearingLinesPageRequest(name=_statement(c, e, caller),
                                                    after=c.text_in(i, "begin_after", required=False),
                                                    last_page=c.text_in(i, "end_flag", required=False) == "1")
    for k, item in enumerate(_list(i, c.n("detail"), 1000)):
        at = f"{c.n('detail')}[{k}]"
        item = _object(item, at)
        request.lines.add(name=c.text_in(item, "clr_line_id", at=at), amount_fen=c.fen_in(item, "amt"))
    return request


def encode_3202(c: ProvinceCodec, r: cpb.ReconcileClearingLinesPageRequest, caller: str) -> tuple[dict, dict]:
    body: dict[str, Any] = {c.n("stmt_date"): _day_of(r.name),
                            c.n("detail"): [{c.n("clr_line_id"): line.name, c.n("amt"): c.money(line.amount_fen)}
                                            for line in r.lines]}
    if r.after:
        body[c.n("begin_after")] = r.after
    if r.last_page:
        body[c.n("end_flag")] = "1"
    return body, {}


def output_3202(c: ProvinceCodec, r: cpb.ReconcileClearingLinesResponse, _: Mapping[str, int]) -> dict[str, Any]:
    def lines(found: Any) -> list[dict[str, str]]:
        return [{c.n("clr_line_id"): line.name, c.n("amt"): c.money(line.amount_fen)} for line in found]
    return {c.n("stmt_rslt"): "0" if r.result == cpb.RECONCILIATION_RESULT_MATCH else "1",
            c.n("only_gw"): lines(r.only_at_gateway), c.n("only_local"): lines(r.only_at_region),
            c.n("amt_diff"): [{c.n("clr_line_id"): d.name, c.n("gw_amt"): c.money(d.gateway_amount_fen),
                               c.n("local_amt"): c.money(d.region_amount_fen)} for d in r.amounts_differ],
            c.n("only_gw_cnt"): str(r.only_at_gateway_count), c.n("only_local_cnt"): str(r.only_at_region_count),
            c.n("amt_diff_cnt"): str(r.amounts_differ_count), c.n("match_cnt"): str(r.matched_count)}


_CLEARING_FIELDS = {"totals": "input", **{f"totals.{k}": v for k, v in FIGURES.items()}, "verdict": "cnfm_flag",
                    "reason": "memo", "after": "begin_after", "lines": "detail", "lines[]": "detail[]",
                    "lines[].name": "detail[].clr_line_id", "lines[].amount_fen": "detail[].amt",
                    "request_id": "msgid"}

_DECODERS = {"1101": decode_1101, "9101": decode_9101, "9102": decode_9102, "2206": decode_2206,
             "2207": decode_2207, "2208": decode_2208, "3260": decode_3260, "3261": decode_3261, "3201": decode_3201,
             "3202": decode_3202}
_ENCODERS = {"1101": encode_1101, "9101": encode_9101, "9102": encode_9102, "2206": encode_2206,
             "2207": encode_2207, "2208": encode_2208, "3260": encode_3260, "3261": encode_3261, "3201": encode_3201,
             "3202": encode_3202}
_OUTPUTS = {"1101": output_1101, "9101": output_binding, "9102": output_binding, "2206": output_quote,
            "2207": output_settlement, "2208": output_settlement, "3260": output_statement, "3261": output_statement,
            "3201": output_3201, "3202": output_3202}
