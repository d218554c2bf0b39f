"""Random sequences of fund, settle, reverse and release against a real
SQLite database: after every step the ledger's invariants hold and every
balance equals what a simple model predicts."""

from __future__ import annotations

import pickle
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from gateway.domain.regions import Scoped
from gateway.domain.bindings import Party
from gateway.domain.errors import Refusal
from gateway.domain.members import EnrolmentStatus as S, InsuranceType as T, MemberReport
from gateway.domain.policies import Use
from gateway.domain.relationships import Relationship as R
from gateway.domain.settlements import Claim, CredentialType, Institution, InstitutionKind
from gateway.policies import load
from gateway.service import accounts, bindings, settlements
from gateway.service.members import report_members
from gateway.service.once import RequestKey, in_transaction
from gateway.store import unit_of_work
from gateway.seed import register_regions
from gateway.store.db import make_engine
from gateway.store.migrate import upgrade
from tests.invariants import check_ledger

POLICIES = load()
REGION = "420100"
GRANTORS = [Party(REGION, "G0"), Party(REGION, "G1")]
BENEFICIARIES = [Party(REGION, "B0"), Party(REGION, "B1")]
PAYERS = {BENEFICIARIES[0]: [GRANTORS[0], GRANTORS[1]], BENEFICIARIES[1]: [GRANTORS[1]]}  # filing order
fen = st.integers(min_value=1, max_value=8_000)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = tempfile.TemporaryDirectory()
        self.engine = make_engine(f"sqlite:///{Path(self.folder.name) / 'copay.db'}")
        upgrade(self.engine)
        register_regions(self.engine)
        self.uow = unit_of_work.factory(self.engine)
        self.steps = 0
        reports = [MemberReport(p.psn_no, f"hash-{p.psn_no}", REGION, T.EMPLOYEE, S.NORMAL)
                   for p in GRANTORS + BENEFICIARIES]
        in_transaction(self.uow, lambda u: report_members(u, REGION, reports))
        for beneficiary, grantors in PAYERS.items():
            for grantor in grantors:
                bindings.create(self.uow, POLICIES, REGION, grantor, beneficiary, R.ELDER_BROTHER, "",
                                self.key(), lambda b: b.id.encode())
        self.balances = {g: 0 for g in GRANTORS}
        self.paid: list[tuple[str, int]] = []  # settlement id, unrefunded amount
        self.before: dict[str, bytes] = {}  # each settlement as last seen

    def key(self) -> RequestKey:
        self.steps += 1
        return RequestKey("region/420100", f"step-{self.steps}", f"f-{self.steps}")

    @rule(grantor=st.sampled_from(GRANTORS), amount=fen)
    def fund(self, grantor, amount):
        accounts.fund(self.uow, grantor, amount, self.key(), lambda a: b"")
        self.balances[grantor] += amount

    @rule(grantor=st.sampled_from(GRANTORS), amount=st.integers(min_value=0, max_value=9_000))
    def release(self, grantor, amount):
        wanted = amount or self.balances[grantor]
        try:
            accounts.release(self.uow, grantor, amount, self.key(), lambda a: b"")
        except Refusal as refusal:
            assert refusal.reason == "RELEASE_EXCEEDS_BALANCE" and wanted > self.balances[grantor]
            return
        assert wanted <= self.balances[grantor]
        self.balances[grantor] -= wanted

    @rule(beneficiary=st.sampled_from(BENEFICIARIES), amount=fen, partial=st.booleans())
    def settle(self, beneficiary, amount, partial):
        claim = Claim(beneficiary, CredentialType.E_VOUCHER, f"hash-{beneficiary.psn_no}",
                      Institution("H1", InstitutionKind.HOSPITAL, True, REGION), Use.OUTPATIENT, amount, 0, amount,
                      frozenset(), (), partial)
        available = sum(self.balances[g] for g in PAYERS[beneficiary])
        try:
            done = pickle.loads(settlements.settle(self.uow, POLICIES, REGION, claim, "", self.key(), pickle.dumps))
        except Refusal as refusal:
            assert refusal.reason == "INSUFFICIENT_BALANCE" and not partial and available < amount
            return
        assert done.paid == min(amount, available) and done.cash == amount - done.paid
        remaining = amount
        for line, grantor in zip(done.lines, [g for g in PAYERS[beneficiary] if self.balances[g]]):
            assert line.grantor == grantor and line.amount == min(self.balances[grantor], remaining)  # R9
            remaining -= line.amount
            self.balances[grantor] -= line.amount
        self.paid.append((done.id, done.paid))
        self.before[done.id] = pickle.dumps(done)

    @precondition(lambda self: self.paid)
    @rule(data=st.data(), amount=st.integers(min_value=0, max_value=9_000))
    def reverse(self, data, amount):
        index = data.draw(st.integers(min_value=0, max_value=len(self.paid) - 1))
        settlement_id, left = self.paid[index]
        try:
            done = pickle.loads(settlements.reverse(self.uow, REGION, Scoped(REGION, settlement_id), amount, self.key(),
                                                    pickle.dumps))
        except Refusal as refusal:
            assert refusal.reason in ("REFUND_EXCEEDS_PAYMENT", "NOTHING_TO_REFUND") and (amount > left or left == 0)
            return
        refunded = amount or left
        assert refunded <= left and done.paid - done.refunded == left - refunded
        before = {line.position: line.refunded for line in pickle.loads(self.before[settlement_id]).lines}
        for line in done.lines:  # refunds go back to the grantors who paid, last drawn first
            self.balances[line.grantor] += line.refunded - before[line.position]
        self.before[settlement_id] = pickle.dumps(done)
        self.paid[index] = (settlement_id, left - refunded)

    @invariant()
    def ledger_holds_and_matches_the_model(self):
        shares = check_ledger(self.engine)
        for grantor in GRANTORS:
            assert shares.get(f"share:{grantor.region}:{grantor.psn_no}", 0) == self.balances[grantor]

    def teardown(self):
        self.engine.dispose()
        self.folder.cleanup()


LedgerMachine.TestCase.settings = settings(max_examples=20, stateful_step_count=15, deadline=None,
                                           derandomize=True, suppress_health_check=[HealthCheck.too_slow])
test_ledger_properties = LedgerMachine.TestCase
