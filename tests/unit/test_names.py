import base64

import pytest

from gateway.api.names import (MAX_PAGE_SIZE, check_request_id, decode_position, decode_token, encode_token, page_size,
                               parse_member, parse_region)
from gateway.domain.errors import Violations


def test_page_token_round_trips_and_is_bound_to_its_query():
    token = encode_token("regions/320300", "P42")
    problems = Violations()
    assert decode_token(token, "regions/320300", problems) == "P42" and not problems.items
    for wrong in (decode_token(token, "regions/320100", problems := Violations()),
                  decode_token("garbage!", "regions/320300", problems)):
        assert wrong is None and [v.field for v in problems.items] == ["page_token"]


def _forged(after: object, scope: str = "s") -> str:
    import base64
    import json
    return base64.urlsafe_b64encode(json.dumps({"s": scope, "a": after}).encode()).decode().rstrip("=")


@pytest.mark.parametrize("token", [
    _forged("٣٤"),  # Arabic-Indic digits: str.isdigit() says yes
    _forged("9" * 30),  # beyond a BIGINT
    _forged("9" * 5000),  # beyond Python's int() digit limit
    _forged("1\n"), _forged("\x001"), _forged(7), _forged(None),
    base64.urlsafe_b64encode(b"[" * 100_000).decode(),  # deeply nested JSON
    "[" * 5000, "名字", "%%%", base64.urlsafe_b64encode(b"\xff\xfe").decode(),
])
def test_forged_position_tokens_are_violations_not_errors(token):
    problems = Violations()
    assert decode_position(token, "s", problems) is None
    assert [v.field for v in problems.items] == ["page_token"]


def test_member_page_tokens_carry_only_person_numbers():
    problems = Violations()
    assert decode_token(_forged("P\x00", "regions/320300"), "regions/320300", problems) is None and problems.items


@pytest.mark.parametrize("requested, expected", [(0, 50), (7, 7), (10_000, MAX_PAGE_SIZE)])
def test_page_size_defaults_and_is_capped(requested, expected):
    assert page_size(requested, Violations()) == expected


def test_negative_page_size_is_a_violation():
    problems = Violations()
    page_size(-1, problems)
    assert problems.items[0].field == "page_size"


@pytest.mark.parametrize("name, ok", [("regions/320300", True), ("regions/32030", False), ("region/320300", False),
                                      ("regions/320300/members/x", False), ("", False)])
def test_region_names(name, ok):
    problems = Violations()
    parse_region(name, problems)
    assert (not problems.items) == ok


def test_member_names():
    problems = Violations()
    assert parse_member("regions/320300/members/P1", problems) == ("320300", "P1") and not problems.items
    for bad in ("regions/320300/members/", "regions/320300/members/P1\n", "regions/320300/members/P\x001",
                "regions/320300\n/members/P1", "regions/320300/members/" + "9" * 41):
        parse_member(bad, problems := Violations())
        assert problems.items, bad


@pytest.mark.parametrize("request_id, ok", [("r-1", True), ("a" * 64, True), ("", False), ("a" * 65, False),
                                            ("has space", False), ("请求", False), ("r-1\n", False)])
def test_request_ids(request_id, ok):
    problems = Violations()
    check_request_id(request_id, problems)
    assert (not problems.items) == ok


def test_a_refusal_lists_at_most_max_violations_and_says_how_many_more():
    from gateway.domain.errors import MAX_VIOLATIONS, Refusal
    problems = Violations()
    for i in range(MAX_VIOLATIONS + 7):
        problems.add(f"members[{i}].psn_no", "must be 1 to 40 letters, digits or '-'")
    with pytest.raises(Refusal) as refused:
        problems.raise_if_any()
    listed = refused.value.violations
    assert len(listed) == MAX_VIOLATIONS + 1 and listed[-1].field == "request" and "7 more" in listed[-1].description
    assert refused.value.message.endswith("and 7 more")
