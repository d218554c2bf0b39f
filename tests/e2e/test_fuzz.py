"""Property-based fuzzing of every RPC against the real server, on SQLite and PostgreSQL.

The methods come from the descriptor pool (``gateway.server.SERVICES``), and every request is
built from the method's input descriptor, so a new RPC or field is fuzzed without touching
this file. Three kinds of input, against a small seeded world (members, bindings, an account,
settlements) whose names the strategies use, so that plausible requests reach the database:

* one field at a time (deterministic): a canonical valid request, then every leaf field in turn
  replaced by each class of value the security review found (a trailing newline on a valid value,
  a NUL, non-ASCII digits, an RTL mark, an emoji, 5,000 characters, forged page tokens, boundary
  integers, unknown enum numbers, out-of-range Timestamps, empty and 501-long lists);
* Hypothesis-generated requests: every field unset, plausible or hostile, nested messages to a
  bounded depth, from several callers (mostly region 320300; other regions, an operator, and a
  certificate that names nobody);
* raw bytes through a generic ``unary_unary`` with identity serializers: bad varints, truncated
  fields, lengths past the buffer, bad UTF-8 in string fields, deep groups, random bytes and
  mutated valid requests. Whether bytes are malformed is decided by parsing them here with the
  same protobuf runtime, so the oracle is exact: malformed bytes must get INVALID_ARGUMENT with
  reason MALFORMED_REQUEST.

Every answer must be clear: never INTERNAL or UNKNOWN, never a hang (5 s); a refusal carries an
AIP-193 ErrorInfo; an answer never shows a stored identifier that is not canonical (a newline or
NUL that slipped into the database). Afterwards the server still serves, and its log has no error
line: a client's mistake is never logged as a server error with a traceback.

Two server defects this fuzzing found are pinned by minimal tests at the end: a refusal listing
many field violations outgrew gRPC's trailer limits, and a balance past 10^13 fen could not be
released at once.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
from datetime import date

import grpc
import pytest
from google.protobuf import descriptor_pool, text_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor
from google.protobuf.message import DecodeError, Message
from google.protobuf.message_factory import GetMessageClass
from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from gateway import server
from gateway._proto.copay.v1 import (accounts_pb2, accounts_pb2_grpc, bindings_pb2, bindings_pb2_grpc,
                                     diagnostics_pb2, diagnostics_pb2_grpc, members_pb2, members_pb2_grpc,
                                     settlements_pb2, settlements_pb2_grpc)
from gateway.api.names import encode_token
from gateway.domain.identity import check_character
from gateway.sample import id_number
from tests.e2e.conftest import details

pytestmark = pytest.mark.e2e

T = 5  # seconds per call: an answer that takes longer is a hang, and fails the test
GENERATED_EXAMPLES = 120  # per method and engine
RAW_EXAMPLES = 50  # per method and engine
MAX_DEPTH = 4  # nested messages below this are left unset
MAX_MESSAGE_BYTES = 4 * 1024 * 1024  # the server's default receive limit
FUZZ_SETTINGS = settings(max_examples=GENERATED_EXAMPLES, deadline=None, derandomize=True, database=None,
                         print_blob=False,
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                HealthCheck.large_base_example, HealthCheck.filter_too_much])

NEVER = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN}
CLEAR = {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND, grpc.StatusCode.ALREADY_EXISTS,
         grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.FAILED_PRECONDITION,
         grpc.StatusCode.ABORTED, grpc.StatusCode.OUT_OF_RANGE, grpc.StatusCode.RESOURCE_EXHAUSTED}
"""Codes a refusal may carry; UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL, UNKNOWN... are not refusals."""

# Callers: mostly the region that owns the seeded world; some others.
CERTS = ["region-320300"] * 6 + ["region-320100", "region-110000", "operator-ops", "nobody"]

# --- The seeded world (made through the API by the ``world`` fixture; fresh database per module) ---------
HOME, NEIGHBOUR, ELSEWHERE = "320300", "320100", "110000"


def _member(region: str, psn_no: str) -> str:
    return f"regions/{region}/members/{psn_no}"


def _id(area: str, day: int, sequence: int) -> str:
    return id_number(area, date(1960, 1, 1).replace(day=day), sequence)


GRANTOR, BENEFICIARY, SPOUSE = _member(HOME, "FUZZ-G"), _member(HOME, "FUZZ-B"), _member(HOME, "FUZZ-S")
LONGEST = _member(HOME, "L" * 40)  # the longest person number there is
OTHER = _member(NEIGHBOUR, "FUZZ-O")
IDS = {GRANTOR: _id(HOME, 1, 1), BENEFICIARY: _id(HOME, 2, 2), SPOUSE: _id(HOME, 3, 3), LONGEST: _id(HOME, 4, 4),
       OTHER: _id(NEIGHBOUR, 5, 5)}
BINDING, PENDING = f"regions/{HOME}/bindings/fuzz-binding", f"regions/{HOME}/bindings/fuzz-pending"
SETTLEMENTS = [f"regions/{HOME}/settlements/fuzz-settlement", f"regions/{HOME}/settlements/fuzz-settlement-2"]
INSTITUTION = f"H{HOME}0001"

# --- Strings -----------------------------------------------------------------------------------------------
REGIONS = [HOME, NEIGHBOUR, ELSEWHERE]
MEMBERS = [GRANTOR, BENEFICIARY, SPOUSE, LONGEST, OTHER]
UNKNOWN_ID = _id(HOME, 9, 9)  # well formed, nobody's
X_ID = next(f"32030019700101{n:03d}X" for n in range(1000) if check_character(f"32030019700101{n:03d}") == "X")
BAD_CHECK_ID = IDS[GRANTOR][:17] + ("0" if IDS[GRANTOR][17] != "0" else "1")
ID_NUMBERS = [*IDS.values(), UNKNOWN_ID, X_ID, X_ID.lower(), BAD_CHECK_ID, IDS[GRANTOR][:17], IDS[GRANTOR] + "0"]
CHOSEN_IDS = ["fuzz-binding", "fuzz-settlement", "fuzz-new", "z", "a" + "-" * 62, "a" * 64, "9abc", "Fuzz"]
SCOPES = [f"regions/{HOME}", f"grantor:{GRANTOR}:0", f"grantor:{GRANTOR}:1", f"beneficiary:{BENEFICIARY}:0",
          f"grantor:{GRANTOR}:None:None", f"beneficiary:{BENEFICIARY}:None:None"]
TOKENS = [encode_token(f"regions/{HOME}", "FUZZ-B"), encode_token(f"regions/{HOME}", "A"),
          *(encode_token(scope, after) for scope in SCOPES[1:] for after in ("1", "0", "999999999999999999"))]
NAMES = [*MEMBERS, *(f"{m}/account" for m in MEMBERS), PENDING, BINDING, *SETTLEMENTS,
         *(f"regions/{r}" for r in REGIONS)]
HINTS: dict[str, list[str]] = {
    "parent": [f"regions/{r}" for r in REGIONS],
    "name": NAMES,
    "grantor": MEMBERS, "grantors": MEMBERS, "beneficiary": [BENEFICIARY, *MEMBERS],
    "holder_id_number": [IDS[BENEFICIARY], *ID_NUMBERS],
    "psn_no": ["FUZZ-G", "FUZZ-B", "FUZZ-N", "L" * 40, "n-1"],
    "code": [INSTITUTION, "C" * 40, "h-1"],
    "binding_id": ["", *CHOSEN_IDS], "settlement_id": ["", *CHOSEN_IDS],  # empty: the gateway picks an id
    "page_token": TOKENS,
}
EVERYTHING = sorted({*NAMES, *REGIONS, *ID_NUMBERS, *CHOSEN_IDS, *TOKENS, INSTITUTION, "FUZZ-G"})


def hints(name: str, tag: str = "") -> list[str]:
    """Plausible values of a string field, by its name (everything plausible for a name never seen);
    those of the collection the method ``tag`` names (GetBinding: regions/.../bindings/...) first."""
    if name == "name" and tag:
        words = [w.lower() for w in re.findall("[A-Z][a-z]+", tag)]
        relevant = [v for v in NAMES if any(f"/{w}s/" in v or v.endswith(f"/{w}") for w in words)]
        return relevant + [v for v in NAMES if v not in relevant]
    if name in HINTS:
        return HINTS[name]
    if name.endswith("region"):
        return REGIONS
    if name.endswith("id_number"):
        return ID_NUMBERS
    if name.endswith("_id"):
        return CHOSEN_IDS
    return EVERYTHING


ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
MUTATIONS = [
    lambda s: s + "\n", lambda s: s + "\r\n", lambda s: "\n" + s, lambda s: s + "\x00", lambda s: "\x00" + s,
    lambda s: s[: len(s) // 2] + "\x00" + s[len(s) // 2:], lambda s: " " + s, lambda s: s + " ",
    lambda s: s + "\u3000", lambda s: s + "\t", lambda s: s.translate(ARABIC_INDIC), lambda s: s.translate(FULLWIDTH),
    lambda s: s.replace("3", "\u0663", 1), lambda s: "\u202e" + s, lambda s: s + "\u200f", lambda s: "\ufeff" + s,
    lambda s: s + "\u200b", lambda s: s + "😀", lambda s: s[:-1] + "😀", lambda s: s.upper(), lambda s: s.lower(),
    lambda s: s * 200, lambda s: s + "9" * 5000, lambda s: s + "/", lambda s: s.replace("/", "//"),
    lambda s: s + "/x", lambda s: s[:-1], lambda s: s + "%00", lambda s: s + "\u0301",
]
HOSTILE = [
    "", "\x00", "\n", " ", "x" * 5000, "9" * 5000, "😀" * 100, "\u202eregions/320300", "\u200f320300",
    "名字; DROP TABLE members;--", "' OR '1'='1", "${jndi:ldap://x/a}", "%s%s%n", "../../etc/passwd", "\\",
    "regions/320300/members/320300000001", "regions/320300/bindings/x", "regions/320300/settlements/x",
    "regions/320300\n", "320300\n", "regions/٣٢٠٣٠٠", "٣٢٠٣٠٠", "３２０３００", "32030０", "990100",
    "regions/320300/members/", "regions/320300/members/a/b", "regions//members/x", "regions/320300/members/FUZZ-G\n",
    "regions/320300/members/FUZZ-G/account/account", "regions/320300/bindings/fuzz-binding\n",
    "regions/320300/settlements/fuzz-settlement\x00", "regions/320300/bindings/" + "a" * 64,
    "regions/320300/members/" + "9" * 200, "NaN", "-1", "1e309", "0x10",
]


def json_text(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def json_values() -> st.SearchStrategy[object]:
    scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**80), 2**80), st.floats(allow_nan=False),
                        st.text(max_size=20))
    return st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                         st.dictionaries(st.sampled_from(["s", "a", "x"]), inner,
                                                                         max_size=3)), max_leaves=8)


AFTERS = ["1\n", "٣", "٣٢٠", "１", "-1", "+1", " 1", "1 ", "1_0", "0x1", "1e3", "9" * 18, "9" * 19, "9" * 300, "",
          "FUZZ-B\n", "FUZZ-B\x00", "a" * 41, "\u202e1", "1😀"]
RAW_JSON = ['{"s":"regions/320300","a":' + "9" * 300 + "}", '{"s":"regions/320300","a":' + "9" * 5000 + "}",
            '{"s":"regions/320300","a":-' + "9" * 4400 + "}", "[" * 150 + "]" * 150, "[" * 5000 + "]" * 5000,
            '{"a":' * 100 + "1" + "}" * 100, '{"s":"regions/320300","a":1e99999}', "NaN", "null", '"x"', "1",
            '{"s":"regions/320300","a":"\\ud800"}', '{"s":"regions/320300","a":"\\u0000"}', "{", "\xff"]


def page_tokens() -> st.SearchStrategy[str]:
    """Forged page tokens: the server's format with hostile contents, odd encodings, random base64."""
    scope = st.one_of(st.sampled_from(SCOPES), st.sampled_from(HOSTILE), st.text(max_size=30))
    after = st.one_of(st.sampled_from(AFTERS), json_values())
    payload = st.one_of(st.builds(lambda s, a: json_text({"s": s, "a": a}), scope, after),
                        json_values().map(json_text), st.sampled_from(RAW_JSON))

    def encode(text: str, how: int) -> str:
        data = text.encode("utf-8", "surrogatepass")
        if how == 0:
            return base64.urlsafe_b64encode(data).decode().rstrip("=")
        if how == 1:
            return base64.urlsafe_b64encode(data).decode()
        if how == 2:
            return base64.b64encode(data).decode()
        if how == 3:
            return text  # not encoded at all
        return base64.urlsafe_b64encode(data).decode() + "\n"

    return st.one_of(
        st.builds(encode, payload, st.integers(0, 4)),
        st.binary(max_size=400).map(lambda b: base64.urlsafe_b64encode(b).decode().rstrip("=")),
        st.tuples(st.sampled_from(TOKENS), st.sampled_from(MUTATIONS)).map(lambda t: t[1](t[0])),
        st.sampled_from(["=", "====", "!!!!", "a", "abc٣", "eyJ", "e30", "e30=" * 200]),
    )


TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
REQUEST_ID_CHARS = st.characters(min_codepoint=0x21, max_codepoint=0x7E)


def strings(field: FieldDescriptor, hostile: bool, tag: str) -> st.SearchStrategy[str]:
    tokens = "token" in field.name
    if not hostile:
        if field.name == "request_id":  # fresh and distinct per method, so that writes go through
            return st.one_of(st.integers(0, 10**9).map(lambda n: f"fz-{tag}-{n}"),
                             st.text(REQUEST_ID_CHARS, min_size=1, max_size=64).map(lambda s: f"{tag}{s}"[:64]))
        if tokens:
            return st.one_of(st.just(""), st.sampled_from(TOKENS))
        if field.name == "message":
            return TEXT
        values = hints(field.name, tag)
        return st.one_of(st.just(values[0]), st.sampled_from(values))  # the first is the likeliest to be right
    valid = [v for v in hints(field.name, tag) if v] or ["x"]
    return st.one_of(
        st.tuples(st.sampled_from(valid), st.sampled_from(MUTATIONS)).map(lambda t: t[1](t[0])),
        st.sampled_from(HOSTILE),
        page_tokens() if tokens else st.sampled_from(TOKENS),
        TEXT,
        st.sampled_from(EVERYTHING),
    )


# --- Numbers, enums, timestamps --------------------------------------------------------------------------
INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
RANGES = {
    FieldDescriptor.TYPE_INT32: INT32, FieldDescriptor.TYPE_SINT32: INT32, FieldDescriptor.TYPE_SFIXED32: INT32,
    FieldDescriptor.TYPE_INT64: INT64, FieldDescriptor.TYPE_SINT64: INT64, FieldDescriptor.TYPE_SFIXED64: INT64,
    FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1), FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1), FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}
EDGES = [0, -1, 1, 2**31 - 1, -(2**31), 2**31, 2**32 - 1, 2**53 + 1, 2**63 - 1, -(2**63), 2**64 - 1,
         10**13, 10**13 + 1, 10**13 - 1, 500, 501, -500, 9_999_999_999_999_999]
PLAUSIBLE_NUMBERS = {"total_fen": [10_000, 1_000_000], "fund_part_fen": [0, 100], "personal_part_fen": [1, 100, 5_000],
                     "amount_fen": [1, 0, 100, 5_000], "page_size": [0, 1, 2, 500]}
FIRST, LAST = -62_135_596_800, 253_402_300_799  # 0001-01-01 and 9999-12-31T23:59:59, what a Timestamp may hold


def numbers(field: FieldDescriptor, hostile: bool) -> st.SearchStrategy[int]:
    low, high = RANGES[field.type]
    if not hostile:
        return st.sampled_from([n for n in PLAUSIBLE_NUMBERS.get(field.name, [0, 1, 2, 100]) if low <= n <= high])
    return st.one_of(st.sampled_from([n for n in EDGES if low <= n <= high]), st.integers(low, high))


PLAUSIBLE_ENUMS = {"reason": "TRANSITION_CAUSE_GRANTOR_REQUEST"}  # else the first value that is not 0


def likeliest(field: FieldDescriptor) -> int:
    known = field.enum_type.values_by_name
    if field.name in PLAUSIBLE_ENUMS and PLAUSIBLE_ENUMS[field.name] in known:
        return known[PLAUSIBLE_ENUMS[field.name]].number
    return next((v.number for v in field.enum_type.values if v.number), 0)


def enums(field: FieldDescriptor, hostile: bool) -> st.SearchStrategy[int]:
    known = [v.number for v in field.enum_type.values]
    if not hostile:
        return st.one_of(st.just(likeliest(field)), st.sampled_from([n for n in known if n] or known))
    return st.sampled_from([0, -1, max(known) + 1, 999, 2**31 - 1, -(2**31)])


def timestamps(hostile: bool) -> st.SearchStrategy[Message]:
    if not hostile:
        return st.builds(Timestamp, seconds=st.integers(1_600_000_000, 1_900_000_000),
                         nanos=st.integers(0, 999_999_999))
    seconds = st.one_of(st.sampled_from([FIRST - 1, FIRST, LAST, LAST + 1, *INT64, -1, 0]), st.integers(*INT64))
    nanos = st.one_of(st.sampled_from([-1, 10**9, 10**9 - 1, 0, *INT32]), st.integers(*INT32))
    return st.builds(Timestamp, seconds=seconds, nanos=nanos)


# --- Messages from descriptors ---------------------------------------------------------------------------
def real_oneofs(descriptor: Descriptor) -> list:
    """Oneofs, without proto3 ``optional``'s synthetic ones (``_x`` around the one field ``x``)."""
    return [o for o in descriptor.oneofs if not (len(o.fields) == 1 and o.name == "_" + o.fields[0].name)]


MODES = ["clean", "near", "near", "chaos"]


def fate(mode: str, roll: int) -> str:
    """What becomes of one field: ``clean`` mode sets every field to a plausible value (requests that
    go through and write); ``near`` mode sets a few fields to hostile values among plausible ones (so
    that one bad value goes deep); ``chaos`` mode sets anything to anything."""
    if mode == "clean":
        return "plausible"
    if mode == "near":
        return "unset" if roll == 0 else "hostile" if roll == 1 else "plausible"
    return "unset" if roll <= 5 else "hostile" if roll <= 13 else "plausible"


def scalars(field: FieldDescriptor, hostile: bool, tag: str) -> st.SearchStrategy:
    if field.type == FieldDescriptor.TYPE_STRING:
        return strings(field, hostile, tag)
    if field.type == FieldDescriptor.TYPE_BYTES:
        return st.binary(max_size=5000 if hostile else 20)
    if field.type == FieldDescriptor.TYPE_BOOL:
        return st.booleans() if hostile else st.one_of(st.just(True), st.booleans())
    if field.type == FieldDescriptor.TYPE_ENUM:
        return enums(field, hostile)
    if field.type in (FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_DOUBLE):
        return st.floats(width=32 if field.type == FieldDescriptor.TYPE_FLOAT else 64)
    return numbers(field, hostile)


@st.composite
def messages(draw, descriptor: Descriptor, mode: str, tag: str, depth: int = 0) -> Message:
    """A message of ``descriptor``: each field unset, plausible or hostile (see ``fate``)."""
    if descriptor.full_name == "google.protobuf.Timestamp":
        return draw(timestamps(hostile=mode == "chaos"))
    message = GetMessageClass(descriptor)()
    chosen: set[str] = set()  # the one member set of each real oneof
    for oneof in real_oneofs(descriptor):
        pick = draw(st.integers(1 if mode == "clean" else 0, len(oneof.fields)))
        if pick:
            chosen.add(oneof.fields[pick - 1].name)
    in_oneof = {f.name for o in real_oneofs(descriptor) for f in o.fields}
    for field in descriptor.fields:
        if field.name in in_oneof and field.name not in chosen:
            continue
        what = fate(mode, draw(st.integers(0, 19)))
        if what == "unset" and field.name not in chosen:
            continue
        hostile = what == "hostile"
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            if depth >= MAX_DEPTH:
                continue
            element = messages(field.message_type, "chaos" if hostile else mode, tag, depth + 1)
        else:
            element = scalars(field, hostile, tag)
        if field.is_repeated:
            if hostile:  # many copies of one value: long lists cost one draw
                copies = st.tuples(element, st.sampled_from([2, 20, 64, 500, 501])).map(lambda t: [t[0]] * t[1])
                values = draw(st.one_of(st.lists(element, max_size=4), copies))
            else:
                values = draw(st.lists(element, min_size=1, max_size=3))
            getattr(message, field.name).extend(values)
        elif field.type == FieldDescriptor.TYPE_MESSAGE:
            getattr(message, field.name).CopyFrom(draw(element))
        else:
            setattr(message, field.name, draw(element))
    return message


def requests(method: MethodDescriptor) -> st.SearchStrategy[Message]:
    return st.sampled_from(MODES).flatmap(lambda mode: messages(method.input_type, mode, method.name))


# --- One field at a time ---------------------------------------------------------------------------------
# Random combinations rarely put one bad value into an otherwise valid request (the case that reaches
# the database); so, besides Hypothesis, every leaf field of a canonical valid request is replaced in
# turn by each value of the classes the review found.
STRING_VARIANTS = [lambda v: v + "\n", lambda v: v + "\x00", lambda v: v[: len(v) // 2] + "\x00" + v[len(v) // 2:],
                   lambda v: "", lambda v: v.translate(ARABIC_INDIC), lambda v: v.translate(FULLWIDTH),
                   lambda v: "\u202e" + v, lambda v: v + "😀", lambda v: (v or "x") * (5000 // max(len(v), 1) + 1),
                   lambda v: v + " "]


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


TOKEN_VARIANTS = [  # forged page tokens: structure, then each scope the server uses with a hostile position
    _b64("[" * 5000 + "]" * 5000), _b64('{"a":' * 3000 + "1" + "}" * 3000), _b64("[" * 150 + "]" * 150),
    _b64('{"s":"regions/320300","a":' + "9" * 5000 + "}"), _b64("null"), _b64('"x"'), "e30", "!!!!", "=",
    base64.urlsafe_b64encode(bytes(range(256))).decode(), TOKENS[0] + "\n", TOKENS[0] + "\x00",
    *(encode_token(scope, after) for scope in SCOPES for after in ("٣٢٠", "１", "9" * 5000, "9" * 19, "-1", "1\n")),
    *(_b64(json_text({"s": scope, "a": after})) for scope in SCOPES[:2] for after in (2**80, -1, [[1]], None)),
]
TIMESTAMP_VARIANTS = [(FIRST - 1, 0), (LAST + 1, 0), (INT64[0], 0), (INT64[1], 0), (1_700_000_000, -1),
                      (1_700_000_000, 10**9), (1_700_000_000, INT32[1])]


def canonical(descriptor: Descriptor, tag: str, fresh) -> Message:  # type: ignore[no-untyped-def]
    """Every field at its likeliest plausible value (the first hint), one element per list, the first
    member of each oneof, Timestamps (optional filters) unset: for most methods, a valid request about
    the seeded world."""
    message = GetMessageClass(descriptor)()
    skipped = {f.name for o in real_oneofs(descriptor) for f in o.fields[1:]}
    for field in descriptor.fields:
        if field.name in skipped or (field.type == FieldDescriptor.TYPE_MESSAGE
                                     and field.message_type.full_name == "google.protobuf.Timestamp"):
            continue
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            value = canonical(field.message_type, tag, fresh)
        elif field.name == "request_id":
            value = fresh()
        elif field.type == FieldDescriptor.TYPE_STRING:
            value = "" if "token" in field.name else "hello" if field.name == "message" else hints(field.name, tag)[0]
        elif field.type == FieldDescriptor.TYPE_ENUM:
            value = likeliest(field)
        elif field.type == FieldDescriptor.TYPE_BOOL:
            value = True
        elif field.type == FieldDescriptor.TYPE_BYTES:
            value = b"x"
        elif field.type in (FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_DOUBLE):
            value = 1.0
        else:
            value = PLAUSIBLE_NUMBERS.get(field.name, [1])[0]
        if field.is_repeated:
            getattr(message, field.name).append(value)
        elif field.type == FieldDescriptor.TYPE_MESSAGE:
            getattr(message, field.name).CopyFrom(value)
        else:
            setattr(message, field.name, value)
    return message


def leaves(descriptor: Descriptor, depth: int = 0) -> list[tuple[FieldDescriptor, ...]]:
    """Paths to every field, through message fields (a Timestamp is a leaf), to a bounded depth."""
    found: list[tuple[FieldDescriptor, ...]] = []
    for field in descriptor.fields:
        found.append((field,))
        if (field.type == FieldDescriptor.TYPE_MESSAGE and field.message_type.full_name != "google.protobuf.Timestamp"
                and depth < MAX_DEPTH):
            found += [(field, *rest) for rest in leaves(field.message_type, depth + 1)]
    return found


def variants(field: FieldDescriptor, current: object) -> list[tuple[str, object]]:
    """Hostile replacements for one field (``current`` is its canonical value or list)."""
    if field.is_repeated:
        one = list(current)[:1]  # type: ignore[call-overload]
        shapes = [("empty", []), ("2 copies", one * 2), ("501 copies", one * 501)] if one else []
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            return shapes
        element = field.type, field.enum_type, field.name
        return shapes + [(f"[{why}]", [value]) for why, value in variants(_Single(*element), one[0] if one else "")]
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        if field.message_type.full_name == "google.protobuf.Timestamp":
            cls = GetMessageClass(field.message_type)
            return [(f"seconds={s}, nanos={n}", cls(seconds=s, nanos=n)) for s, n in TIMESTAMP_VARIANTS]
        return [("unset", None), ("empty", GetMessageClass(field.message_type)())]
    if field.type == FieldDescriptor.TYPE_STRING:
        forged = TOKEN_VARIANTS if "token" in field.name else []
        return [(repr(v)[:40], v) for v in dict.fromkeys([*(f(str(current)) for f in STRING_VARIANTS), *forged])
                if v != current]
    if field.type == FieldDescriptor.TYPE_ENUM:
        top = max(v.number for v in field.enum_type.values)
        return [(str(n), n) for n in (0, -1, top + 1, INT32[1], INT32[0])]
    if field.type == FieldDescriptor.TYPE_BOOL:
        return [("False", False)]
    if field.type in RANGES:
        low, high = RANGES[field.type]
        edges = (-1, 0, 1, 10**13, 10**13 + 1, INT32[1], INT32[0], INT64[1], INT64[0], 2**64 - 1)
        return [(str(n), n) for n in dict.fromkeys(edges) if low <= n <= high and n != current]
    return []


class _Single:
    """A repeated field's element, seen as a singular field of the same type (for ``variants``)."""

    is_repeated = False

    def __init__(self, type_: int, enum_type, name: str) -> None:  # type: ignore[no-untyped-def]
        self.type, self.enum_type, self.name = type_, enum_type, name


def with_value(request: Message, path_: tuple[FieldDescriptor, ...], value: object) -> Message:
    """A copy of ``request`` with the field at ``path_`` set to ``value`` (None: cleared)."""
    changed = type(request)()
    changed.CopyFrom(request)
    target = changed
    for step in path_[:-1]:
        target = getattr(target, step.name)
        if step.is_repeated:
            target = target[0] if len(target) else target.add()
    last = path_[-1]
    if value is None:
        target.ClearField(last.name)
    elif last.is_repeated:
        target.ClearField(last.name)
        getattr(target, last.name).extend(value)  # type: ignore[arg-type]
    elif last.type == FieldDescriptor.TYPE_MESSAGE:
        getattr(target, last.name).CopyFrom(value)
    else:
        setattr(target, last.name, value)
    return changed


def current_value(request: Message, path_: tuple[FieldDescriptor, ...]) -> object:
    target = request
    for step in path_[:-1]:
        target = getattr(target, step.name)
        if step.is_repeated:
            if not len(target):
                return None
            target = target[0]
    return getattr(target, path_[-1].name)


def sweep(method: MethodDescriptor, fresh) -> list[tuple[str, Message]]:  # type: ignore[no-untyped-def]
    """The canonical request, then one hostile field at a time; the other members of each oneof too."""
    base = canonical(method.input_type, method.name, fresh)
    cases = [("canonical", base)]
    for path_ in leaves(method.input_type):
        where = ".".join(f.name for f in path_)
        current = current_value(base, path_)
        if current is None:
            continue
        for why, value in variants(path_[-1], current):
            changed = with_value(base, path_, value)
            if path_[-1].name != "request_id" and "request_id" in method.input_type.fields_by_name:
                changed.request_id = fresh()  # a fresh id, so that the write is tried, not replayed
            cases.append((f"{where} = {why}", changed))
    for oneof in real_oneofs(method.input_type):
        for field in oneof.fields[1:]:
            other = type(base)()
            other.CopyFrom(base)
            sub = canonical(field.message_type, method.name, fresh) if field.type == FieldDescriptor.TYPE_MESSAGE \
                else None
            if sub is not None:
                getattr(other, field.name).CopyFrom(sub)
            else:
                setattr(other, field.name, hints(field.name, method.name)[0])
            if "request_id" in method.input_type.fields_by_name:
                other.request_id = fresh()
            cases.append((f"{oneof.name} = {field.name}", other))
    return cases


# --- Raw bytes -------------------------------------------------------------------------------------------
def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        if not n:
            return bytes(out + bytes([low]))
        out.append(low | 0x80)


def key(number: int, wire_type: int) -> bytes:
    return varint((number << 3) | wire_type)


def delimited(number: int, payload: bytes) -> bytes:
    return key(number, 2) + varint(len(payload)) + payload


BAD_UTF8 = [b"\xff\xfe", b"\xc0\x80", b"\xed\xa0\x80", b"\xe4\xb8", b"ok\x80", b"\xf4\x90\x80\x80"]


def broken_fields(descriptor: Descriptor, depth: int = 0) -> list[tuple[str, bytes]]:
    """Encodings that no parser may accept, built from the message's own fields (recursively)."""
    cases: list[tuple[str, bytes]] = []
    for field in descriptor.fields:
        n, at = field.number, field.name
        cases += [(f"{at}: length past the buffer", key(n, 2) + varint(100) + b"ab"),
                  (f"{at}: truncated varint", key(n, 0) + b"\x80\x80"),
                  (f"{at}: 11-byte varint", key(n, 0) + b"\xff" * 10 + b"\x01")]
        if field.type == FieldDescriptor.TYPE_STRING:
            cases += [(f"{at}: bad UTF-8 {bad!r}", delimited(n, bad)) for bad in BAD_UTF8]
            cases.append((f"{at}: valid value, then bad UTF-8", delimited(n, "regions/320300".encode())
                          + delimited(n, b"\xff\xfe")))
        if field.type == FieldDescriptor.TYPE_MESSAGE and depth < 3:
            for why, inner in broken_fields(field.message_type, depth + 1):
                cases.append((f"{at}.{why}", delimited(n, inner)))
        if field.is_repeated and field.type not in (FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_BYTES,
                                                    FieldDescriptor.TYPE_MESSAGE):
            cases.append((f"{at}: packed, truncated element", delimited(n, b"\x01\x80")))
    return cases


GENERIC_BROKEN = [
    ("an 11-byte varint", b"\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"),
    ("length past the buffer", b"\x0a\x10ab"), ("length of 2**40", b"\x0a" + varint(2**40) + b"x"),
    ("length of 2**31", b"\x0a" + varint(2**31) + b"x"), ("truncated tag", b"\x80"),
    ("field number 2**29", varint(2**29 << 3) + b"\x01"),
    ("wire type 6", key(1, 6) + b"\x00"), ("wire type 7", key(1, 7)), ("end group without start", key(1, 4)),
    ("unterminated group", key(1, 3) + b"\x08\x01"), ("truncated fixed64", key(1, 1) + b"\x00\x00"),
    ("truncated fixed32", key(1, 5) + b"\x00"), ("unknown field, truncated", key(777, 2) + b"\x05ab"),
    ("groups nested 5,000 deep", key(1000, 3) * 5000 + key(1000, 4) * 5000),
]


EDGES_OF_VALID = [  # valid or not depending on the message: judged by the oracle
    ("field 1 wire type 2 with bad UTF-8", b"\x0a\x02\xff\xfe"), ("nothing", b""),
    ("a 10-byte varint", b"\x08" + b"\xff" * 9 + b"\x01"),
    ("the largest field number", varint((2**29 - 1) << 3) + b"\x01"),
    ("groups nested 50 deep", key(1000, 3) * 50 + key(1000, 4) * 50),
    ("an unknown field", delimited(999, b"\xff" * 50)), ("field 1 as a varint", b"\x08\x01"),
    ("field number 0", b"\x00\x00"), ("field 1 as fixed64", key(1, 1) + b"\xff" * 8),
]


def broken(method: MethodDescriptor) -> list[tuple[str, bytes]]:
    return GENERIC_BROKEN + broken_fields(method.input_type)


def raw_payloads(method: MethodDescriptor) -> st.SearchStrategy[bytes]:
    """Random bytes, random fields of the message's numbers and wire types, and valid requests mutated."""
    numbers_ = [f.number for f in method.input_type.fields] or [1]
    field = st.tuples(st.one_of(st.sampled_from(numbers_), st.integers(0, 2**29)), st.integers(0, 7),
                      st.binary(max_size=12)).map(lambda t: key(*t[:2]) + t[2])
    valid = messages(method.input_type, "near", method.name, MAX_DEPTH - 1).map(lambda m: m.SerializeToString())

    def mutate(data: bytes, how: int, at: int, junk: bytes) -> bytes:
        at = at % (len(data) + 1)
        if how == 0:
            return data[:at]  # truncated
        if how == 1 and data:
            at = at % len(data)
            return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:]  # a byte flipped
        if how == 2:
            return data[:at] + junk + data[at:]  # bytes inserted
        return data + junk

    return st.one_of(
        st.binary(max_size=200),
        st.lists(field, max_size=6).map(b"".join),
        st.builds(mutate, valid, st.integers(0, 3), st.integers(0, 10**6), st.binary(min_size=1, max_size=8)),
        st.sampled_from(broken(method)).map(lambda case: case[1]),
    )


# --- Calling ---------------------------------------------------------------------------------------------
def methods():
    pool = descriptor_pool.Default()
    for service_name in server.SERVICES:
        for method in pool.FindServiceByName(service_name).methods:
            yield pytest.param(method, id=f"{method.containing_service.name}.{method.name}")


def path(method: MethodDescriptor) -> str:
    return f"/{method.containing_service.full_name}/{method.name}"


@pytest.fixture(scope="module")
def channels(gateway):
    made: dict[str, grpc.Channel] = {}

    def channel(cert: str) -> grpc.Channel:
        if cert not in made:
            made[cert] = gateway.channel(cert)
        return made[cert]

    return channel


def send(channel: grpc.Channel, method: MethodDescriptor, payload: bytes) -> tuple[grpc.StatusCode, object]:
    """Sends ``payload`` as is (identity serializers); the code and the raw answer or the error."""
    try:
        return grpc.StatusCode.OK, channel.unary_unary(path(method))(payload, timeout=T)
    except grpc.RpcError as err:
        return err.code(), err


def shown(value: object, limit: int = 1500) -> str:
    text = text_format.MessageToString(value, as_utf8=True) if isinstance(value, Message) else repr(value)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"


def error_info(err: grpc.RpcError) -> tuple[object, list[tuple[str, str]]]:
    """The ErrorInfo (None if there is none or the status details do not match the code) and violations."""
    try:
        return details(err)
    except ValueError:  # the trailers' google.rpc.Status says another code than the call's status
        return None, []


def answer(code: grpc.StatusCode, outcome: object) -> str:
    if code == grpc.StatusCode.OK:
        return "OK"
    info, violations = error_info(outcome)  # type: ignore[arg-type]
    return (f"{code.name} {outcome.details()!r} reason={info.reason if info else None} "  # type: ignore[attr-defined]
            f"violations={violations[:5]}{'...' if len(violations) > 5 else ''}")


CANONICAL_OUTPUT = re.compile(r"[!-~]*")  # printable ASCII, no space: resource names, regions, ids
IDENTIFIERS = {"name", "grantor", "beneficiary", "binding", "psn_no", "policy", "actor", "principal"}


def output_problems(message: Message, at: str = "") -> list[str]:
    """Stored identifiers the answer shows that are not canonical (a newline, a NUL, a non-ASCII digit
    that slipped through validation into the database): names, regions, parties, ids, actors."""
    problems = []
    for field, value in message.ListFields():
        values = value if field.is_repeated else [value]
        for i, item in enumerate(values):
            where = f"{at}{field.name}" + (f"[{i}]" if field.is_repeated else "")
            if field.type == FieldDescriptor.TYPE_MESSAGE:
                problems += output_problems(item, where + ".")
            elif (field.type == FieldDescriptor.TYPE_STRING
                  and (field.name in IDENTIFIERS or field.name.endswith("region"))
                  and not CANONICAL_OUTPUT.fullmatch(item)):
                problems.append(f"{where} = {item!r}")
    return problems


def judge(method: MethodDescriptor, cert: str, request_text: str,  # type: ignore[no-untyped-def]
          payload: bytes, code: grpc.StatusCode, outcome: object) -> None:
    """The properties of one answer to a request that parses."""
    said = f"{method.name} as {cert}: {request_text}\n-> {answer(code, outcome)}"
    assert code not in NEVER, said
    if code == grpc.StatusCode.OK:
        response = GetMessageClass(method.output_type).FromString(outcome)  # an answer of the declared type
        assert not (bad := output_problems(response)), f"{said}\nnot canonical in the answer: {bad}"
        return
    assert code in CLEAR, said
    info, _ = error_info(outcome)  # type: ignore[arg-type]
    if info is None:  # only gRPC's own message-size limit answers without an ErrorInfo
        assert code == grpc.StatusCode.RESOURCE_EXHAUSTED and len(payload) > MAX_MESSAGE_BYTES, (
            f"a refusal without ErrorInfo: {said}")


ERROR_LINE = re.compile(r'"level": "(error|critical)"|Traceback|^[EF]\d{4} ')


def error_lines(log: str) -> list[str]:
    return [line for line in log.splitlines() if ERROR_LINE.search(line)]


def served(gateway) -> None:
    """The server is alive and answers an Echo from region 320300."""
    assert gateway.process.poll() is None, f"the gateway exited with {gateway.process.returncode}"
    echo = diagnostics_pb2_grpc.DiagnosticsServiceStub(gateway.channel("region-320300"))
    reply = echo.Echo(diagnostics_pb2.EchoRequest(message="still there?"), timeout=T)
    assert (reply.message, reply.principal) == ("still there?", f"region/{HOME}")


# --- The world the fuzzer aims at ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def world(gateway):
    """Members, an active and a pending binding, a funded account, two settlements: names the
    strategies use exist, so that plausible requests reach the database and its constraints."""
    region = f"region-{HOME}"
    members = members_pb2_grpc.MembersServiceStub(gateway.channel(region))
    employee, resident = members_pb2.INSURANCE_TYPE_EMPLOYEE, members_pb2.INSURANCE_TYPE_RESIDENT
    for name, kind in ((GRANTOR, employee), (BENEFICIARY, resident), (SPOUSE, employee), (LONGEST, employee),
                       (OTHER, employee)):
        admdvs, psn_no = name.split("/")[1], name.split("/")[3]
        members_pb2_grpc.MembersServiceStub(gateway.channel(f"region-{admdvs}")).BatchUpsertMembers(
            members_pb2.BatchUpsertMembersRequest(
                parent=f"regions/{admdvs}", request_id=f"world-{psn_no[:20]}", members=[members_pb2.MemberRecord(
                    psn_no=psn_no, id_number=IDS[name], insuring_region=admdvs, insurance_type=kind,
                    enrolment_status=members_pb2.ENROLMENT_STATUS_NORMAL)]), timeout=T)
    bindings = bindings_pb2_grpc.BindingsServiceStub(gateway.channel(region))
    active = bindings.CreateBinding(bindings_pb2.CreateBindingRequest(
        request_id="world-binding", grantor=GRANTOR, beneficiary=BENEFICIARY,
        relationship=bindings_pb2.RELATIONSHIP_MOTHER, binding_id="fuzz-binding"), timeout=T)
    pending = bindings.CreateBinding(bindings_pb2.CreateBindingRequest(
        request_id="world-pending", grantor=GRANTOR, beneficiary=SPOUSE,
        relationship=bindings_pb2.RELATIONSHIP_SPOUSE, binding_id="fuzz-pending"), timeout=T)
    assert (active.name, active.status, pending.name, pending.status) == (
        BINDING, bindings_pb2.BINDING_STATUS_ACTIVE, PENDING, bindings_pb2.BINDING_STATUS_PENDING_CONFIRMATION)
    accounts_pb2_grpc.AccountsServiceStub(gateway.channel(region)).FundAccount(accounts_pb2.FundAccountRequest(
        grantor=GRANTOR, request_id="world-fund", amount_fen=10**9), timeout=T)
    settlements = settlements_pb2_grpc.SettlementsServiceStub(gateway.channel(region))
    for name in SETTLEMENTS:
        settled = settlements.Settle(settlements_pb2.SettleRequest(
            request_id=f"world-{name.rsplit('/', 1)[1]}", settlement_id=name.rsplit("/", 1)[1],
            claim=settlements_pb2.SettlementClaim(
                beneficiary=BENEFICIARY, credential=settlements_pb2.Credential(
                    type=settlements_pb2.CREDENTIAL_TYPE_E_VOUCHER, holder_id_number=IDS[BENEFICIARY]),
                institution=settlements_pb2.Institution(
                    code=INSTITUTION, kind=settlements_pb2.INSTITUTION_KIND_HOSPITAL, designated=True, region=HOME),
                use=settlements_pb2.USE_OUTPATIENT, total_fen=10_000, personal_part_fen=1_000)), timeout=T)
        assert settled.name == name
    listed = members.ListMembers(members_pb2.ListMembersRequest(parent=f"regions/{HOME}", page_size=1), timeout=T)
    assert listed.next_page_token, "a page token to learn from"
    return gateway


# --- The properties --------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", list(methods()))
def test_each_field_alone_gets_clear_answers(gateway, world, channels, method):
    """A valid request with one field made hostile (a trailing newline, a NUL, non-ASCII digits, 5,000
    characters, an out-of-range number or Timestamp, an unknown enum, 501 copies...): the answer is
    clear, and nothing not canonical is stored and shown back. Deterministic, every leaf field."""
    before = len(gateway.log())
    counter = itertools.count()
    fresh = lambda: f"sweep-{method.name}-{next(counter)}"  # noqa: E731
    for what, request in sweep(method, fresh):
        payload = request.SerializeToString()
        code, outcome = send(channels("region-320300"), method, payload)
        judge(method, "region-320300", f"{what}: {shown(request, 600)}", payload, code, outcome)
    errors = error_lines(gateway.log()[before:])
    assert not errors, f"{method.name}: error lines in the log:\n" + "\n".join(errors[:5])


@pytest.mark.parametrize("method", list(methods()))
def test_generated_requests_get_clear_answers(gateway, world, channels, method):
    """Any message of the method's input type, from any caller: an answer or a clear refusal."""
    before = len(gateway.log())

    @FUZZ_SETTINGS
    @given(request=requests(method), cert=st.integers(0, len(CERTS) - 1).map(CERTS.__getitem__))
    def one(request: Message, cert: str) -> None:
        payload = request.SerializeToString()
        code, outcome = send(channels(cert), method, payload)
        note(f"{method.name} as {cert}: {shown(request)} -> {answer(code, outcome)}")
        judge(method, cert, shown(request), payload, code, outcome)

    one()
    errors = error_lines(gateway.log()[before:])
    assert not errors, f"{method.name}: error lines in the log:\n" + "\n".join(errors[:5])


@pytest.mark.parametrize("method", list(methods()))
def test_malformed_bytes_get_invalid_argument(gateway, world, channels, method):
    """Every encoding the parser refuses gets INVALID_ARGUMENT with MALFORMED_REQUEST, from any caller."""
    before = len(gateway.log())
    parse = GetMessageClass(method.input_type).FromString

    def check(payload: bytes, cert: str, what: str, noting: bool = True) -> None:
        try:
            parse(payload)
            malformed = False
        except DecodeError:
            malformed = True
        code, outcome = send(channels(cert), method, payload)
        said = f"{method.name} as {cert}, {what}: {payload[:120]!r} ({len(payload)} bytes) -> {answer(code, outcome)}"
        if noting:
            note(said)
        if malformed:
            info, _ = error_info(outcome) if code != grpc.StatusCode.OK else (None, [])
            assert code == grpc.StatusCode.INVALID_ARGUMENT and info and info.reason == "MALFORMED_REQUEST", said
            return
        judge(method, cert, f"{what}: {payload[:120]!r} ({len(payload)} bytes)", payload, code, outcome)
        if code != grpc.StatusCode.OK:
            info, _ = error_info(outcome)
            assert info is None or info.reason != "MALFORMED_REQUEST", f"{said}: it parses"

    for i, (what, payload) in enumerate(broken(method)):
        with pytest.raises(DecodeError):  # the case really is broken: the oracle agrees
            parse(payload)
        check(payload, CERTS[i % len(CERTS)], what, noting=False)
    for what, payload in EDGES_OF_VALID:
        check(payload, "region-320300", what, noting=False)

    @settings(FUZZ_SETTINGS, max_examples=RAW_EXAMPLES)
    @given(payload=raw_payloads(method), cert=st.integers(0, len(CERTS) - 1).map(CERTS.__getitem__))
    def one(payload: bytes, cert: str) -> None:
        check(payload, cert, "generated")

    one()
    errors = error_lines(gateway.log()[before:])
    assert not errors, f"{method.name}: error lines in the log:\n" + "\n".join(errors[:5])


@pytest.mark.parametrize("method_name, request_", [
    ("BatchUpsertMembers", members_pb2.BatchUpsertMembersRequest(
        parent=f"regions/{HOME}", request_id="many-bad-records", members=[members_pb2.MemberRecord()] * 64)),
    ("PreSettle", settlements_pb2.PreSettleRequest(claim=settlements_pb2.SettlementClaim(
        grantors=[f"grantor-{i}" for i in range(200)]))),
], ids=["64-empty-member-records", "200-malformed-grantors"])
def test_a_refusal_with_many_violations_reaches_the_client(gateway, channels, method_name, request_):
    """Found by the fuzzing, kept minimal: the caller must be able to read why a big request was refused."""
    method = next(m.values[0] for m in methods() if m.values[0].name == method_name)
    code, outcome = send(channels("region-320300"), method, request_.SerializeToString())
    info, violations = error_info(outcome) if code != grpc.StatusCode.OK else (None, [])
    assert (code, info.reason if info else None) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_REQUEST"), answer(
        code, outcome)
    assert violations


def test_a_balance_stays_within_max_fen_and_is_released_at_once(gateway, channels):
    """Found by the fuzzing: funded past 10**13 fen, a balance could not be released at once (INTERNAL)."""
    number = _id(HOME, 20, 20)
    members_pb2_grpc.MembersServiceStub(channels(f"region-{HOME}")).BatchUpsertMembers(
        members_pb2.BatchUpsertMembersRequest(parent=f"regions/{HOME}", request_id="rich-member", members=[
            members_pb2.MemberRecord(psn_no="FUZZ-RICH", id_number=number, insuring_region=HOME,
                                     insurance_type=members_pb2.INSURANCE_TYPE_EMPLOYEE,
                                     enrolment_status=members_pb2.ENROLMENT_STATUS_NORMAL)]), timeout=T)
    accounts = accounts_pb2_grpc.AccountsServiceStub(channels(f"region-{HOME}"))
    rich = _member(HOME, "FUZZ-RICH")
    accounts.FundAccount(accounts_pb2.FundAccountRequest(grantor=rich, request_id="rich-0", amount_fen=10**13),
                         timeout=T)
    with pytest.raises(grpc.RpcError) as over:
        accounts.FundAccount(accounts_pb2.FundAccountRequest(grantor=rich, request_id="rich-1", amount_fen=1),
                             timeout=T)
    info, _ = error_info(over.value)
    assert (over.value.code(), info.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "BALANCE_OVER_LIMIT")
    released = accounts.ReleaseAccount(accounts_pb2.ReleaseAccountRequest(grantor=rich, request_id="rich-release"),
                                       timeout=T)
    assert (released.balance_fen, released.released_fen) == (0, 10**13)


def test_the_server_survives_and_never_logged_an_error(gateway, world):
    """After all of the above: alive, serving, and not one error line (a client's mistake is no server error)."""
    served(gateway)
    log = gateway.log()
    assert log.count('"msg": "rpc"') > 100, "the fuzzing reached the server"
    assert not (errors := error_lines(log)), "error lines in the log:\n" + "\n".join(errors[:5])
