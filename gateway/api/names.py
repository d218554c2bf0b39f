"""Resource names (AIP-122), the caller-owns-it check, and page tokens (AIP-158)."""

from __future__ import annotations

import base64
import binascii
import json
import re

from gateway.domain.errors import Category, Refusal, Violations
from gateway.domain.members import PSN_NO
from gateway.domain.regions import Scoped, admdvs_problem
from gateway.security.principal import Principal

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
MAX_TOKEN = 512  # characters; ours are far shorter
_REQUEST_ID = re.compile(r"[\x21-\x7e]{1,64}")
_POSITION = re.compile(r"[0-9]{1,18}")  # ASCII digits that fit a BIGINT
_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")  # a caller's ids start with a letter; generated UUIDs may not


def region_name(admdvs: str) -> str:
    return f"regions/{admdvs}"


def member_name(admdvs: str, psn_no: str) -> str:
    return f"regions/{admdvs}/members/{psn_no}"


def region_of(member: str) -> str:
    """The region of a member name the gateway made: ``regions/{admdvs}/members/{psn_no}``."""
    return member.split("/")[1]


def parse_region(name: str, problems: Violations, field: str = "parent") -> str:
    parts = name.split("/")
    if len(parts) != 2 or parts[0] != "regions":
        problems.add(field, "must look like regions/{admdvs}, for example regions/320300")
        return ""
    if (why := admdvs_problem(parts[1])) is not None:
        problems.add(field, why)
    return parts[1]


def parse_member(name: str, problems: Violations, field: str = "name") -> tuple[str, str]:
    parts = name.split("/")
    if len(parts) != 4 or parts[0] != "regions" or parts[2] != "members" or not PSN_NO.fullmatch(parts[3]):
        problems.add(field, "must look like regions/{admdvs}/members/{psn_no}, the person number 1 to 40 letters, "
                            "digits or '-'")
        return "", ""
    if (why := admdvs_problem(parts[1])) is not None:
        problems.add(field, why)
    return parts[1], parts[3]


def parse_scoped(name: str, collection: str, problems: Violations, field: str = "name") -> Scoped:
    """``regions/{admdvs}/{collection}/{id}``: an id in one region's namespace."""
    parts = name.split("/")
    if len(parts) != 4 or parts[0] != "regions" or parts[2] != collection or not _ID.fullmatch(parts[3]):
        problems.add(field, f"must look like regions/{{admdvs}}/{collection}/{{id}}")
        return Scoped("", "")
    if (why := admdvs_problem(parts[1])) is not None:
        problems.add(field, why)
    return Scoped(parts[1], parts[3])


def check_request_id(request_id: str, problems: Violations) -> None:
    if not _REQUEST_ID.fullmatch(request_id):
        problems.add("request_id", "required: 1 to 64 printable ASCII characters without spaces (AIP-155)")


def require_own_region(caller: Principal, region: str) -> None:
    if caller.name != region:
        raise Refusal(Category.PERMISSION_DENIED, "REGION_NOT_CALLER",
                      f"region {caller.name} may act only for its own members, not for region {region}",
                      metadata={"caller_region": caller.name, "region": region})


def page_size(requested: int, problems: Violations) -> int:
    if requested < 0:
        problems.add("page_size", "must not be negative")
    return DEFAULT_PAGE_SIZE if requested <= 0 else min(requested, MAX_PAGE_SIZE)


def listing_party(request, problems: Violations, what: str) -> tuple[str, str, str]:  # type: ignore[no-untyped-def]
    """For ``oneof party {grantor, beneficiary}`` listings: the side, the member's region and person number."""
    side = request.WhichOneof("party")
    if side is None:
        problems.add("party", f"set grantor or beneficiary to the member whose {what} to list")
        problems.raise_if_any()
    region, psn_no = parse_member(getattr(request, side), problems, side)
    return side, region, psn_no


def decode_position(token: str, scope: str, problems: Violations) -> int | None:
    """A page token that carries a filing position (an integer)."""
    after = decode_token(token, scope, problems, _POSITION)
    return int(after) if after is not None else None


def encode_token(scope: str, after: str) -> str:
    payload = json.dumps({"s": scope, "a": after}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def decode_token(token: str, scope: str, problems: Violations, key: re.Pattern[str] = PSN_NO) -> str | None:
    """The key to continue after, or None for the first page. ``scope`` binds a token to its query;
    the key must match ``key`` whole, so a forged token reaches the database only as a valid value."""
    if not token:
        return None
    if len(token) <= MAX_TOKEN:
        try:
            payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            after = payload.get("a") if isinstance(payload, dict) and payload.get("s") == scope else None
            if isinstance(after, str) and key.fullmatch(after):
                return after
        except (binascii.Error, ValueError, RecursionError):
            pass
    problems.add("page_token", "not a token from a previous response to this same request")
    return None
