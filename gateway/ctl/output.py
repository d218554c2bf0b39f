"""What copayctl prints: tables for people, JSON for scripts, one sentence for a refusal."""

from __future__ import annotations

import json
import unicodedata
from typing import Iterable, Sequence

import grpc
from google.protobuf import json_format
from google.protobuf.message import Message
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from gateway._proto.copay.v1 import admin_pb2 as pb
from gateway.domain.clock import CHINA

UNREACHABLE_CODES = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


def as_json(message: Message) -> str:
    """The message as proto3 JSON with the .proto field names; fields at their default are shown too, so
    that scripts need not know the defaults (``"open": false``)."""
    return json.dumps(json_format.MessageToDict(message, preserving_proto_field_name=True,
                                                always_print_fields_with_no_presence=True),
                      ensure_ascii=False, indent=2)


def _width(text: str) -> int:
    """Columns on a terminal: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], empty: str) -> str:
    """Left-aligned columns, two spaces apart, ``-`` in an empty cell; ``empty`` when there are no rows."""
    lines = [list(headers), *([cell or "-" for cell in row] for row in rows)]
    if len(lines) == 1:
        return empty
    widths = [max(_width(line[i]) for line in lines) for i in range(len(headers))]
    return "\n".join("  ".join(cell + " " * (width - _width(cell)) for cell, width in zip(line, widths)).rstrip()
                     for line in lines)


def record(items: Sequence[tuple[str, str]]) -> str:
    """One thing, a field a line: ``name:  value``; fields without a value are left out."""
    width = max(len(name) for name, _ in items) + 2
    return "\n".join(f"{name + ':':<{width}}{value}" for name, value in items if value)


def label(message: Message, field: str) -> str:
    """An enum field for people: ``ROLLOUT_STATE_LIVE`` -> ``live``."""
    enum = message.DESCRIPTOR.fields_by_name[field].enum_type
    prefix = enum.values_by_number[0].name.removesuffix("UNSPECIFIED")
    return enum.values_by_number[getattr(message, field)].name.removeprefix(prefix).lower()


def moment(message: Message, field: str) -> str:
    """A Timestamp field in Asia/Shanghai time, to the second; empty when it is not set."""
    if not message.HasField(field):
        return ""
    at = getattr(message, field).ToDatetime(tzinfo=CHINA)
    return at.isoformat(sep=" ", timespec="seconds")


def _yuan(fen: int) -> str:
    return f"{fen // 100:,}.{fen % 100:02d} yuan"


def limits_text(limits: pb.PairLimits) -> str:
    """E.g. ``3 a day per beneficiary, at most 2,000.00 yuan a settlement, quiet 22:00-06:00``."""
    parts = []
    if limits.HasField("per_beneficiary_daily"):
        parts.append(f"{limits.per_beneficiary_daily} a day per beneficiary")
    if limits.HasField("per_settlement_fen"):
        parts.append(f"at most {_yuan(limits.per_settlement_fen)} a settlement")
    if limits.HasField("daily_fen"):
        parts.append(f"at most {_yuan(limits.daily_fen)} a day in all")
    if limits.quiet_from:
        parts.append(f"quiet {limits.quiet_from}-{limits.quiet_until}")
    return ", ".join(parts) or "no limits"


def change_line(change: pb.ChangeRequest) -> str:
    """What became of a change, e.g. ``applied: close 32<->31 (changeRequests/...)``."""
    state = {pb.CHANGE_STATE_PENDING: "pending approval by a second operator"}.get(change.state,
                                                                                  label(change, "state"))
    return f"{state}: {change.summary} ({change.name})"


def _details(error: grpc.RpcError) -> tuple[error_details_pb2.ErrorInfo | None, list[str]]:
    """The ErrorInfo and the ``field: description`` violations in the status details, if any."""
    try:
        status = rpc_status.from_call(error)  # type: ignore[arg-type]  # a failed call is a grpc.Call
    except ValueError:  # details that contradict the status code: show the code and message only
        status = None
    info, violations = None, []
    for detail in status.details if status else []:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            violations = [f"{v.field}: {v.description}" for v in bad.field_violations]
    return info, violations


def failure(error: grpc.RpcError, address: str) -> str:
    """One sentence for a failed call: its message, ``[REASON, rule R5]`` and the field violations."""
    code, message = error.code(), " ".join((error.details() or "").split())  # type: ignore[attr-defined]
    if code in UNREACHABLE_CODES:
        return f"cannot reach the gateway at {address} ({code.name}: {message})"
    info, violations = _details(error)
    return f"refused: {message} [{_tags(info, code)}]" + (": " + "; ".join(violations) if violations else "")


def _tags(info: error_details_pb2.ErrorInfo | None, code: grpc.StatusCode) -> str:
    """``REASON, rule R5`` from the ErrorInfo; the status code's name for a status without one."""
    if info is None:
        return code.name
    return ", ".join([info.reason, *([f"rule {info.metadata['rule']}"] if "rule" in info.metadata else [])])
