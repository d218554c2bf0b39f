"""Ledger transfers are never empty and never larger than MAX_FEN."""

from gateway.domain import ledger
from gateway.domain.bindings import Party

GRANTOR = Party("420100", "P1")


def test_a_release_past_max_fen_is_split_into_transfers_within_it():
    transfers = ledger.release(GRANTOR, 2 * ledger.MAX_FEN + 5)
    assert [t.amount for t in transfers] == [ledger.MAX_FEN, ledger.MAX_FEN, 5]
    assert {(t.debit, t.credit) for t in transfers} == {("share:420100:P1", "earmark:420100")}


def test_a_release_within_max_fen_is_one_transfer():
    assert [t.amount for t in ledger.release(GRANTOR, 700)] == [700]
