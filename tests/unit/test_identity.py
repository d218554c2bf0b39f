import hmac
import pickle

import pytest

from gateway.domain.identity import IdHasher, check_character, id_number_problem
from gateway.sample import id_number

VALID = "11010519491231002X"  # the GB 11643 standard's own example


def test_standard_example_has_valid_check_character():
    assert check_character(VALID[:17]) == "X"
    assert id_number_problem(VALID) is None
    assert id_number_problem(VALID.lower()) is None


@pytest.mark.parametrize("bad", ["", "123", "11010519491231002Y", "110105194912310021", "1101051949123100 X",
                                 "x" * 18, "110105194912310020000"])
def test_malformed_id_numbers_are_refused_without_echoing_them(bad):
    problem = id_number_problem(bad)
    assert problem is not None
    assert bad.strip() == "" or bad not in problem


def test_sample_id_numbers_are_well_formed():
    from datetime import date
    assert id_number_problem(id_number("320300", date(1980, 5, 17), 42)) is None


def test_hash_is_keyed_and_normalises_case():
    one, other = IdHasher(b"k" * 32), IdHasher(b"j" * 32)
    assert one(VALID) == one(VALID.lower()) == one(f" {VALID} ")
    assert one(VALID) != other(VALID)
    assert VALID not in one(VALID) and len(one(VALID)) == 64
    assert "k" * 32 not in repr(one)


def test_hashes_are_the_stored_ones_call_after_call_and_in_another_process():
    """HMAC-SHA256 of the normalised number, and of the prefixed data: what the database already holds must
    be found again, by every call (each starts from a copy of the keyed HMAC), and by a pickled hasher."""
    key = bytes(range(32))
    hasher = IdHasher(key)
    for _ in range(2):
        assert hasher(VALID.lower()) == hmac.digest(key, VALID.encode(), "sha256").hex()
        assert hasher.digest(b"Settle\0x") == hmac.digest(key, b"copay-gateway digest\0Settle\0x", "sha256").hex()
    again = pickle.loads(pickle.dumps(hasher))
    assert again(VALID) == hasher(VALID) and again.digest(b"x") == hasher.digest(b"x")


def test_short_hash_key_is_rejected():
    with pytest.raises(ValueError):
        IdHasher(b"short")
