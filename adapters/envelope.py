"""The national interface's envelope (两定接口), parsed strictly, and its answer.

A request is a JSON object: ``infno`` (the transaction code, e.g. 2207), ``msgid`` (the sender's
message id: it becomes the request_id, so a province's own retries are exactly-once),
``mdtrtarea_admvs`` (the treatment region) and ``insuplc_admdvs`` (the insuring region) as 6-digit
codes, and ``input``. An answer is ``infcode`` (0 done, -1 refused), ``err_msg`` and ``output``,
with ``inf_refmsgid`` echoing the msgid.

Money travels as decimal-yuan strings: a JSON number anywhere (``50.0``, ``5e1``, even ``50``) is
refused rather than guessed at, and so are NaN and Infinity.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

MAX_PAYLOAD = 1 << 20  # characters; a settlement's envelope is a few kilobytes
_MSGID = re.compile(r"[\x21-\x7e]{1,64}")
_INFNO = re.compile(r"[0-9]{4}")


class CodecError(ValueError):
    """A payload the adapter cannot read: the field (a path in the local payload) and why."""

    def __init__(self, field: str, description: str) -> None:
        super().__init__(f"{field}: {description}")
        self.field = field
        self.description = description


@dataclass(frozen=True)
class Envelope:
    infno: str
    msgid: str
    treatment_region: str  # mdtrtarea_admvs, or "" when absent
    insuring_region: str  # insuplc_admdvs, or ""
    input: dict[str, Any]
    extra: dict[str, Any]  # the envelope's other fields (e.g. fixmedins_code, as the national interface sends it)


YUAN = 'decimal-yuan strings such as "50.00"'


def parse(text: str, fields: dict[str, str] | None = None, amounts: str = YUAN) -> Envelope:
    """The envelope of a request; ``fields`` renames envelope keys (a province's legacy names); ``amounts``
    says how the province writes money, for the refusal of a JSON number."""
    names = {"infno": "infno", "msgid": "msgid", "mdtrtarea_admvs": "mdtrtarea_admvs",
             "insuplc_admdvs": "insuplc_admdvs", "input": "input", **(fields or {})}

    def no_number(number: str) -> Any:
        raise CodecError("payload", f"a JSON number ({number[:20]}) where the interface sends strings; amounts "
                                    f"are {amounts}")

    if len(text) > MAX_PAYLOAD:
        raise CodecError("payload", f"larger than {MAX_PAYLOAD} characters")
    try:
        data = json.loads(text, parse_float=no_number, parse_int=no_number, parse_constant=no_number)
    except RecursionError:
        raise CodecError("payload", "nested too deeply") from None
    except ValueError as error:
        if isinstance(error, CodecError):
            raise
        raise CodecError("payload", f"not JSON: {error.args[0][:80] if error.args else error}") from None
    if not isinstance(data, dict):
        raise CodecError("payload", "must be a JSON object (the national envelope)")
    infno, msgid = data.get(names["infno"]), data.get(names["msgid"])
    if not isinstance(infno, str) or not _INFNO.fullmatch(infno):
        raise CodecError(names["infno"], "required: the 4-digit transaction code, e.g. \"2207\"")
    if not isinstance(msgid, str) or not _MSGID.fullmatch(msgid):
        raise CodecError(names["msgid"], "required: the message id, 1 to 64 printable ASCII characters")
    body = data.get(names["input"])
    if not isinstance(body, dict):
        raise CodecError(names["input"], "required: a JSON object")
    regions = [data.get(names[key], "") for key in ("mdtrtarea_admvs", "insuplc_admdvs")]
    for key, value in zip(("mdtrtarea_admvs", "insuplc_admdvs"), regions):
        if not isinstance(value, str):
            raise CodecError(names[key], "must be a 6-digit region code as a string")
    return Envelope(infno, msgid, regions[0], regions[1], body,
                    {k: v for k, v in data.items() if k not in names.values()})


def answer(msgid: str, output: dict[str, Any]) -> str:
    return json.dumps({"infcode": 0, "inf_refmsgid": msgid, "err_msg": "", "output": output},
                      ensure_ascii=False, sort_keys=True, default=_decimal)


def refusal(msgid: str, err_msg: str) -> str:
    return json.dumps({"infcode": -1, "inf_refmsgid": msgid, "err_msg": err_msg, "output": {}},
                      ensure_ascii=False, sort_keys=True)


def _decimal(value: object) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(type(value).__name__)
