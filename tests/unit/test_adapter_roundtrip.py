"""Property: for every province adapter and every transaction, a canonical request that the province's
local schema can express survives the trip through the local payload unchanged:
``codec.decode(codec.encode(infno, msgid, request, caller), caller) == request``.

The generators stay inside what a local payload can say; each restriction is noted where it is drawn."""

from __future__ import annotations

import functools
from datetime import date
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from google.protobuf.message import Message

from adapters.codec import METHODS
from adapters.provinces import CODECS, codec_of
from gateway._proto.copay.v1 import bindings_pb2 as bpb
from gateway._proto.copay.v1 import clearing_pb2 as cpb
from gateway._proto.copay.v1 import members_pb2 as mpb
from gateway._proto.copay.v1 import settlements_pb2 as spb

PROVINCES = {"beijing": "11", "hebei": "13", "shanghai": "31", "jiangsu": "32", "hubei": "42", "guangdong": "44",
             "guangxi": "45"}
SAMPLE_REGIONS = {"11": ["110000"], "13": ["130200", "130500"], "31": ["310000"], "32": ["320100", "320300"],
                  "42": ["420100", "421000"], "44": ["440100", "445300"], "45": ["450100", "450200"]}
MEDICAL = (spb.USE_OUTPATIENT, spb.USE_INPATIENT, spb.USE_PHARMACY)
EXAMPLES = 50  # per province and transaction: 42 tests, 2100 round trips
MAX_YUAN_FEN = 10**13 - 1  # the yuan format has at most 11 integer digits, the fen format 13 digits

ID_ALPHABET = string.ascii_letters + string.digits + "-_"  # no "/": a psn_no or id is one segment of a name
# Text drawn as bytes mapped onto an alphabet: one draw per string, which keeps 2100 examples fast (and no
# strategy below is built per example: they are module constants or cached per province).
IDS = st.binary(min_size=1, max_size=32).map(lambda raw: "".join(ID_ALPHABET[b % len(ID_ALPHABET)] for b in raw))
ID_NUMBERS = st.builds(lambda n, check: f"{n:017d}{check}", st.integers(10**16, 7 * 10**16 - 1),
                       st.sampled_from("0123456789X"))
MSGIDS = st.binary(min_size=1, max_size=64).map(lambda raw: "".join(chr(0x21 + b % 94) for b in raw))  # printable
OPTIONAL_IDS = st.just("") | IDS
ANY_REGION = st.integers(0, 999_999).map("{:06d}".format)


@functools.cache
def regions(province: str) -> st.SearchStrategy[str]:
    """A region of the caller's own province: a sample region, or any 6-digit code of the province."""
    return st.sampled_from(SAMPLE_REGIONS[province]) | st.integers(0, 9999).map(lambda n: f"{province}{n:04d}")


@functools.cache
def somewhere(province: str) -> st.SearchStrategy[str]:
    """A region a member of the province's payloads may be insured in: its own, or any 6-digit code."""
    return regions(province) | ANY_REGION


@functools.cache
def enum(province: str, table: str) -> st.SearchStrategy[int]:
    # Only values the province's table has a local code for (never 0/UNSPECIFIED: no local code exists).
    return st.sampled_from(sorted(set(CODECS[province].table(table).values())))


@functools.cache
def items(province: str) -> st.SearchStrategy[list[int]]:
    """Up to 50 item categories (the limit of list_types), drawn in one go as bytes."""
    values = sorted(set(CODECS[province].table("list_type").values()))
    return st.binary(max_size=50).map(lambda raw: [values[b % len(values)] for b in raw])


@functools.cache
def member(province: str) -> st.SearchStrategy[str]:
    return st.builds(lambda r, p: f"regions/{r}/members/{p}", somewhere(province), IDS)


@functools.cache
def records(province: str) -> st.SearchStrategy[list[mpb.MemberRecord]]:
    # insuring_region never empty (an empty one is read as the caller's); one basic enrolment a person.
    return st.lists(st.builds(
        mpb.MemberRecord, psn_no=IDS, id_number=ID_NUMBERS, insuring_region=somewhere(province),
        insurance_type=enum(province, "insutype"), enrolment_status=enum(province, "psn_insu_stas")),
        min_size=1, max_size=5)


@functools.cache
def grantors(province: str) -> st.SearchStrategy[list[str]]:
    return st.lists(member(province), max_size=4)  # the limit (20) is test_adapter_malformed's


def here_or(draw, caller: str, province: str) -> str:
    """The caller's own region, or another one."""
    return caller if draw(st.booleans()) else draw(somewhere(province))


def request_1101(draw, province: str, caller: str, msgid: str) -> mpb.BatchUpsertMembersRequest:
    # parent is always the caller's region.
    return mpb.BatchUpsertMembersRequest(parent=f"regions/{caller}", request_id=msgid,
                                         members=draw(records(province)))


def request_9101(draw, province: str, caller: str, msgid: str) -> bpb.CreateBindingRequest:
    # The grantor is in the caller's region; exactly one beneficiary form, its region never empty.
    request = bpb.CreateBindingRequest(request_id=msgid, grantor=f"regions/{caller}/members/{draw(IDS)}",
                                       relationship=draw(enum(province, "relation")), binding_id=draw(OPTIONAL_IDS))
    if draw(st.booleans()):
        request.beneficiary = draw(member(province))
    else:
        request.beneficiary_person.CopyFrom(bpb.PersonRef(id_number=draw(ID_NUMBERS),
                                                          insuring_region=draw(somewhere(province))))
    return request


def request_9102(draw, province: str, caller: str, msgid: str) -> bpb.RevokeBindingRequest:
    # reason: only the four causes revoke_rea has codes for (a revocation is requested or declined, never automatic).
    return bpb.RevokeBindingRequest(name=f"regions/{here_or(draw, caller, province)}/bindings/{draw(IDS)}",
                                    request_id=msgid, reason=draw(enum(province, "revoke_rea")))


def claim(draw, province: str, caller: str) -> spb.SettlementClaim:
    # The patient (member or insuring region) is always given and never in an empty region; an institution
    # exactly when the use is medical (premiums name none), with a kind and a non-empty treatment region.
    fund = draw(st.integers(0, MAX_YUAN_FEN // 2))
    personal = draw(st.integers(0, MAX_YUAN_FEN // 2))
    use = draw(enum(province, "med_type"))
    out = spb.SettlementClaim(
        credential=spb.Credential(type=draw(enum(province, "mdtrt_cert_type")), holder_id_number=draw(ID_NUMBERS)),
        use=use, total_fen=fund + personal, fund_part_fen=fund, personal_part_fen=personal,
        items=draw(items(province)), allow_partial=draw(st.booleans()), grantors=draw(grantors(province)))
    if draw(st.booleans()):
        out.beneficiary = draw(member(province))
    else:
        out.insuring_region = draw(somewhere(province))
    if use in MEDICAL:
        out.institution.CopyFrom(spb.Institution(code=draw(IDS), kind=draw(enum(province, "fixmedins_type")),
                                                 designated=draw(st.booleans()),
                                                 region=here_or(draw, caller, province)))
    return out


def request_2206(draw, province: str, caller: str, msgid: str) -> spb.PreSettleRequest:
    return spb.PreSettleRequest(claim=claim(draw, province, caller))  # no request_id: a quote changes nothing


def request_2207(draw, province: str, caller: str, msgid: str) -> spb.SettleRequest:
    return spb.SettleRequest(request_id=msgid, claim=claim(draw, province, caller),
                             settlement_id=draw(OPTIONAL_IDS))


def request_2208(draw, province: str, caller: str, msgid: str) -> spb.ReverseSettlementRequest:
    # The settlement is named in the caller's region (setl_id carries no region); 0 = refund all that is left.
    return spb.ReverseSettlementRequest(name=f"regions/{caller}/settlements/{draw(IDS)}", request_id=msgid,
                                        amount_fen=draw(REFUNDS))


REFUNDS = st.just(0) | st.integers(1, MAX_YUAN_FEN)
DAYS = st.dates(min_value=date(2026, 1, 1), max_value=date(2030, 12, 31)).map(date.isoformat)
LINE_NAMES = st.builds(lambda region, id_, n: f"regions/{region}/settlements/{id_}/lines/{n}",
                       st.sampled_from(["110000", "420100"]), IDS, st.integers(0, 20))


def statement(draw, caller: str) -> str:
    return f"regions/{caller}/clearingStatements/{draw(DAYS)}"


def request_3260(draw, province: str, caller: str, msgid: str) -> cpb.GetClearingStatementRequest:
    return cpb.GetClearingStatementRequest(name=statement(draw, caller))  # the caller's own statement, always


def request_3261(draw, province: str, caller: str, msgid: str) -> cpb.ConfirmClearingStatementRequest:
    return cpb.ConfirmClearingStatementRequest(name=statement(draw, caller), request_id=msgid,
                                               verdict=draw(enum(province, "cnfm_flag")), reason=draw(OPTIONAL_IDS))


def request_3201(draw, province: str, caller: str, msgid: str) -> cpb.ReconcileClearingTotalsRequest:
    # net_fen is the gateway's to work out: a region's totals never carry it.
    fields = {f: draw(st.integers(0, MAX_YUAN_FEN if f.endswith("_fen") else 10**9))
              for f in cpb.ClearingFigures.DESCRIPTOR.fields_by_name if f != "net_fen"}
    return cpb.ReconcileClearingTotalsRequest(name=statement(draw, caller), totals=cpb.ClearingFigures(**fields))


def request_3202(draw, province: str, caller: str, msgid: str) -> cpb.ReconcileClearingLinesPageRequest:
    lines = sorted(set(draw(st.lists(LINE_NAMES, max_size=5))))
    return cpb.ReconcileClearingLinesPageRequest(
        name=statement(draw, caller), after=draw(st.just("") | LINE_NAMES), last_page=draw(st.booleans()),
        lines=[cpb.ReconciledLine(name=n, amount_fen=draw(st.integers(1, MAX_YUAN_FEN))) for n in lines])


REQUESTS = {"1101": request_1101, "9101": request_9101, "9102": request_9102, "2206": request_2206,
            "2207": request_2207, "2208": request_2208, "3260": request_3260, "3261": request_3261,
            "3201": request_3201, "3202": request_3202}


@st.composite
def _exchanges(draw, province: str, infno: str) -> tuple[str, str, Message]:
    caller, msgid = draw(regions(province)), draw(MSGIDS)
    return caller, msgid, REQUESTS[infno](draw, province, caller, msgid)


@functools.cache
def exchanges(province: str, infno: str) -> st.SearchStrategy[tuple[str, str, Message]]:
    """(caller, msgid, canonical request): the caller is a region of the province (it picks the adapter)."""
    return _exchanges(province, infno)


@pytest.mark.parametrize("infno", REQUESTS)
@pytest.mark.parametrize("province", PROVINCES)
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_decode_inverts_encode(province, infno, data):
    codec = CODECS[PROVINCES[province]]
    caller, msgid, request = data.draw(exchanges(codec.province, infno), label="caller, msgid, request")
    assert codec_of(caller) is codec
    decoded = codec.decode(codec.encode(infno, msgid, request, caller), caller)
    assert (decoded.infno, decoded.msgid, decoded.method) == (infno, msgid, METHODS[infno])
    assert decoded.request == request
