import pytest

from gateway.api.names import (MAX_PAGE_SIZE, check_request_id, decode_token, encode_token, page_size,
                               parse_member, parse_region)
from gateway.domain.errors import Violations


def test_page_token_round_trips_and_is_bound_to_its_query():
    token = encode_token("regions/320300", "P42")
    problems = Violations()
    assert decode_token(token, "regions/320300", problems) == "P42" and not problems.items
    decode_token(token, "regions/320100", problems)
    decode_token("garbage!", "regions/320300", problems)
    assert [v.field for v in problems.items] == ["page_token", "page_token"]


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
    parse_member("regions/320300/members/", problems)
    assert problems.items


@pytest.mark.parametrize("request_id, ok", [("r-1", True), ("a" * 64, True), ("", False), ("a" * 65, False),
                                            ("has space", False), ("请求", False)])
def test_request_ids(request_id, ok):
    problems = Violations()
    check_request_id(request_id, problems)
    assert (not problems.items) == ok
