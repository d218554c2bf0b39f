"""A small world built through the real API: members, bindings, funded accounts, bills."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import grpc
import pytest

from gateway._proto.copay.v1 import admin_pb2 as apb
from gateway._proto.copay.v1 import admin_pb2_grpc
from gateway._proto.copay.v1 import (accounts_pb2, accounts_pb2_grpc, bindings_pb2 as bpb, bindings_pb2_grpc,
                                     members_pb2 as mpb, settlements_pb2 as spb, settlements_pb2_grpc)
from gateway.sample import id_number
from tests.e2e.conftest import details

T = 5
EMPLOYEE, RESIDENT = mpb.INSURANCE_TYPE_EMPLOYEE, mpb.INSURANCE_TYPE_RESIDENT
NORMAL, TERMINATED = mpb.ENROLMENT_STATUS_NORMAL, mpb.ENROLMENT_STATUS_TERMINATED
COUNTER = itertools.count(1)  # shared by every World of the test run: names and ID numbers never repeat


class World:
    """Each member gets a distinct person number and ID number; each call a distinct request id."""

    def __init__(self, gateway):
        self.gateway = gateway
        self.numbers: dict[str, str] = {}

    def next_id(self, prefix: str) -> str:
        return f"{prefix}-{next(COUNTER)}"

    def member(self, region: str, kind=EMPLOYEE, status=NORMAL) -> tuple[str, str]:
        n = next(COUNTER)
        psn_no, number = f"W-{n:05d}", id_number(region, date(1950, 1, 1) + timedelta(days=n), n)
        self.report(region, psn_no, number, kind, status)
        name = f"regions/{region}/members/{psn_no}"
        self.numbers[name] = number
        return name, number

    def report(self, region, psn_no, number, kind=EMPLOYEE, status=NORMAL, insuring=None):
        self.gateway.members(f"region-{region}").BatchUpsertMembers(mpb.BatchUpsertMembersRequest(
            parent=f"regions/{region}", request_id=self.next_id("world"), members=[mpb.MemberRecord(
                psn_no=psn_no, id_number=number, insuring_region=insuring or region, insurance_type=kind,
                enrolment_status=status)]), timeout=T)

    def bindings(self, region: str) -> bindings_pb2_grpc.BindingsServiceStub:
        return bindings_pb2_grpc.BindingsServiceStub(self.gateway.channel(f"region-{region}"))

    def accounts(self, region: str) -> accounts_pb2_grpc.AccountsServiceStub:
        return accounts_pb2_grpc.AccountsServiceStub(self.gateway.channel(f"region-{region}"))

    def settlements(self, region: str) -> settlements_pb2_grpc.SettlementsServiceStub:
        return settlements_pb2_grpc.SettlementsServiceStub(self.gateway.channel(f"region-{region}"))

    def create(self, grantor: str, beneficiary: str, relationship: int, by: str | None = None, **kw) -> bpb.Binding:
        return self.bindings(by or region_of(grantor)).CreateBinding(bpb.CreateBindingRequest(
            request_id=self.next_id("create"), grantor=grantor, beneficiary=beneficiary,
            relationship=relationship, **kw), timeout=T)

    def fund(self, grantor: str, fen: int) -> accounts_pb2.Account:
        return self.accounts(region_of(grantor)).FundAccount(accounts_pb2.FundAccountRequest(
            grantor=grantor, request_id=self.next_id("fund"), amount_fen=fen), timeout=T)

    def balance(self, grantor: str) -> int:
        return self.accounts(region_of(grantor)).GetAccount(
            accounts_pb2.GetAccountRequest(name=f"{grantor}/account"), timeout=T).balance_fen

    def family(self, region: str, relationship=bpb.RELATIONSHIP_MOTHER, fen: int = 10_000,
               beneficiary_region: str | None = None) -> tuple[str, str, bpb.Binding]:
        """A funded grantor, a beneficiary, and an active binding between them."""
        grantor, _ = self.member(region)
        beneficiary, _ = self.member(beneficiary_region or region, kind=RESIDENT)
        binding = self.create(grantor, beneficiary, relationship)
        if fen:
            self.fund(grantor, fen)
        return grantor, beneficiary, binding

    def claim(self, beneficiary: str, personal: int, region: str | None = None, use=spb.USE_OUTPATIENT,
              holder: str | None = None, designated=True, kind=None, items=(), grantors=(), partial=False,
              fund_part: int = 0) -> spb.SettlementClaim:
        region = region or region_of(beneficiary)
        kind = kind or (spb.INSTITUTION_KIND_PHARMACY if use == spb.USE_PHARMACY else spb.INSTITUTION_KIND_HOSPITAL)
        medical = use in (spb.USE_OUTPATIENT, spb.USE_INPATIENT, spb.USE_PHARMACY)
        return spb.SettlementClaim(
            beneficiary=beneficiary,
            credential=spb.Credential(type=spb.CREDENTIAL_TYPE_E_VOUCHER,
                                      holder_id_number=self.numbers[holder or beneficiary]),
            institution=spb.Institution(code=f"H{region}0001", kind=kind, designated=designated, region=region)
            if medical else None,
            use=use, total_fen=personal + fund_part, fund_part_fen=fund_part, personal_part_fen=personal,
            items=items, grantors=grantors, allow_partial=partial)

    def settle(self, claim: spb.SettlementClaim, region: str | None = None, request_id: str | None = None):
        region = region or (claim.institution.region if claim.HasField("institution")
                            else region_of(claim.beneficiary))
        return self.settlements(region).Settle(spb.SettleRequest(
            request_id=request_id or self.next_id("settle"), claim=claim), timeout=T)


def admin(gateway, operator: str = "ops") -> admin_pb2_grpc.AdminServiceStub:
    return admin_pb2_grpc.AdminServiceStub(gateway.channel(f"operator-{operator}"))


def set_pair(gateway, one: str, other: str, is_open: bool, both_ways: bool = True, **opening) -> apb.ChangeRequest:
    """Through AdminService, as operators would: ops asks, ops2 approves an opening; a closing applies at once."""
    pair = apb.PairRef(grantor_province=one, other_province=other, both_ways=both_ways)
    if not is_open:
        return admin(gateway).CloseProvincePair(apb.CloseProvincePairRequest(
            request_id=f"close-{next(COUNTER)}", pair=pair, reason="test"), timeout=T)
    asked = admin(gateway).OpenProvincePair(apb.OpenProvincePairRequest(
        request_id=f"open-{next(COUNTER)}", pair=pair, reason="test", **opening), timeout=T)
    return admin(gateway, "ops2").ApproveChangeRequest(apb.ApproveChangeRequestRequest(
        name=asked.name, request_id=f"approve-{next(COUNTER)}", reason="test"), timeout=T)


def region_of(member_name: str) -> str:
    return member_name.split("/")[1]


def refused(call, request) -> tuple[grpc.StatusCode, str, dict, list]:
    with pytest.raises(grpc.RpcError) as err:
        call(request, timeout=T)
    info, violations = details(err.value)
    return err.value.code(), info.reason if info else "", dict(info.metadata) if info else {}, violations
