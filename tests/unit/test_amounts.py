"""adapters.amounts: money converted exactly between a province's text and integer fen, both ways, and
anything else refused with a precise reason (never rounded)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.amounts import fen_from_fen, fen_from_yuan, fen_text, yuan_from_fen
from adapters.envelope import CodecError

YUAN = [("50.00", 5000), ("50.0", 5000), ("50", 5000), ("0.5", 50), ("0.50", 50), ("0.05", 5), ("0.01", 1),
        ("0", 0), ("0.00", 0), ("1234.56", 123456), ("30", 3000), ("100.10", 10010),
        ("99999999999.99", 9_999_999_999_999)]


@pytest.mark.parametrize("text, fen", YUAN, ids=[t for t, _ in YUAN])
def test_decimal_yuan_to_fen_is_exact(text, fen):
    assert fen_from_yuan(text, "amt") == fen


FEN = [(0, "0.00"), (1, "0.01"), (5, "0.05"), (10, "0.10"), (99, "0.99"), (100, "1.00"), (5000, "50.00"),
       (123456, "1234.56"), (9_999_999_999_999, "99999999999.99"), (-5, "-0.05"), (-123456, "-1234.56")]


@pytest.mark.parametrize("fen, text", FEN, ids=[t for _, t in FEN])
def test_fen_to_decimal_yuan_always_has_two_decimals(fen, text):
    assert yuan_from_fen(fen) == text


@pytest.mark.parametrize("text, fen", [("0", 0), ("1", 1), ("5000", 5000), ("9999999999999", 9_999_999_999_999)])
def test_whole_fen_both_ways(text, fen):
    assert fen_from_fen(text, "amt") == fen and fen_text(fen) == text


NOT_YUAN = 'not an amount in yuan (decimal yuan, e.g. "50.00")'
REFUSED_YUAN = [
    ("50.001", "more than two decimals: yuan go to the fen (0.01) and no further"),
    ("0.005", "more than two decimals: yuan go to the fen (0.01) and no further"),
    ("-1.00", "must not have a sign: amounts are never negative"),
    ("+1", "must not have a sign: amounts are never negative"),
    ("1e2", "must not have an exponent"),
    ("1.5E1", "must not have an exponent"),
    ("NaN", NOT_YUAN),
    ("inf", NOT_YUAN),
    ("５0.00", NOT_YUAN),
    ("٥٠.٠٠", NOT_YUAN),  # Arabic-Indic digits: int() would read them, the format must not
    ("1_000.00", NOT_YUAN),
    ("1,000.00", NOT_YUAN),
    ("01.00", NOT_YUAN),
    ("1.", NOT_YUAN),
    (".5", NOT_YUAN),
    ("100000000000", NOT_YUAN),  # 12 integer digits: beyond the format
    (" 50.00", "must not be empty or have spaces"),
    ("50.00\n", "must not be empty or have spaces"),
    ("", "must not be empty or have spaces"),
]


@pytest.mark.parametrize("text, why", REFUSED_YUAN, ids=[repr(t) for t, _ in REFUSED_YUAN])
def test_what_is_not_decimal_yuan_is_refused_with_its_reason(text, why):
    with pytest.raises(CodecError) as caught:
        fen_from_yuan(text, "medfee_sumamt")
    assert (caught.value.field, caught.value.description) == ("medfee_sumamt", why)


@pytest.mark.parametrize("value", [50, 50.0, None, ["50.00"], {"yuan": "50.00"}, True], ids=repr)
def test_what_is_not_a_string_is_refused_as_yuan(value):
    with pytest.raises(CodecError) as caught:
        fen_from_yuan(value, "akc264")
    assert (caught.value.field, caught.value.description) == ("akc264", 'must be a decimal-yuan string such as "50.00"')


REFUSED_FEN = [("50.00", "whole fen, without decimals"), ("-5", "must not have a sign: amounts are never negative"),
               ("5e3", "must not have an exponent"), ("05000", "not an amount in fen"),
               ("５000", "not an amount in fen"), ("10000000000000", "not an amount in fen"),
               ("5000 ", "must not be empty or have spaces"), ("", "must not be empty or have spaces")]


@pytest.mark.parametrize("text, why", REFUSED_FEN, ids=[repr(t) for t, _ in REFUSED_FEN])
def test_what_is_not_whole_fen_is_refused_with_its_reason(text, why):
    with pytest.raises(CodecError) as caught:
        fen_from_fen(text, "refd_amt")
    assert (caught.value.field, caught.value.description) == ("refd_amt", why)


@pytest.mark.parametrize("value", [5000, None, ["5000"]], ids=repr)
def test_what_is_not_a_string_is_refused_as_fen(value):
    with pytest.raises(CodecError) as caught:
        fen_from_fen(value, "refd_amt")
    assert caught.value.description == 'must be whole fen as a string, such as "5000"'


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10**12))
def test_fen_to_yuan_and_back_is_the_identity(fen):
    text = yuan_from_fen(fen)
    assert fen_from_yuan(text, "amt") == fen
    assert fen_from_fen(fen_text(fen), "amt") == fen


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10**11 - 1), st.integers(0, 99))
def test_yuan_in_its_written_form_survives_the_trip_through_fen(yuan, fen):
    text = f"{yuan}.{fen:02d}"
    assert fen_from_yuan(text, "amt") == yuan * 100 + fen
    assert yuan_from_fen(fen_from_yuan(text, "amt")) == text
