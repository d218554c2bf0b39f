"""gRPC core's own output, turned into the gateway's JSON log lines.

gRPC core (C++) writes plain-text lines to file descriptor 2, outside Python's logging: a refused TLS
handshake (another CA, an expired or missing client certificate, plaintext) appears as "Handshake
failed with error ...", without the peer's address, between the JSON lines. ``capture`` makes fd 2 a
pipe read by a thread, while Python's own logging and tracebacks keep writing to the original
stderr directly (the hot path gains nothing):

* a refused handshake becomes one JSON line, logger ``copay.tls``, with the peer address and the
  reason in words. The peer address comes from gRPC's handshaker trace (GRPC_TRACE=handshaker,
  which ``serve`` turns on): a few lines per connection, never per call; those of handshakes that
  succeed are dropped;
* any other line of gRPC core becomes a JSON line, logger ``grpc``, with its level;
* JSON lines (the SQLite writer process logs to the same fd) pass through unchanged.
"""

from __future__ import annotations

import logging
import os
import re
import select
import sys
import threading

log = logging.getLogger("copay.tls")
native = logging.getLogger("grpc")
HEADER = re.compile(r"([IWEF])\d{4} [\d:.]+\s+\d+ ([\w.]+):\d+\] (.*)")
LEVELS = {"I": logging.INFO, "W": logging.WARNING, "E": logging.ERROR, "F": logging.CRITICAL}
PEER = re.compile(r"endpoint_peer_address=(?:ipv[46]:)?([^,}\s]+)")
FAILURE = re.compile(r"CallNextHandshakerLocked: error=(?!OK)(.*?)(?:: OK)?$", re.M)
HANDSHAKE_FILES = {"handshaker.cc", "channel_trace.h", "ssl_transport_security.cc", "trace.cc"}
REASONS = (("PEER_DID_NOT_RETURN_A_CERTIFICATE", "no client certificate"),
           ("certificate has expired", "the client certificate has expired"),
           ("certificate is not yet valid", "the client certificate is not valid yet"),
           ("unable to get local issuer certificate", "the client certificate is not issued by the federation CA"),
           ("WRONG_VERSION_NUMBER", "not TLS: plaintext, or another protocol"),
           ("HTTP_REQUEST", "not TLS: plain HTTP"))


def reason_of(detail: str) -> str:
    return next((why for mark, why in REASONS if mark in detail), "the TLS handshake failed")


def record(lines: list[str]) -> None:
    """One record of gRPC core: a header line and its continuation lines."""
    header = HEADER.match(lines[0])
    if header is None:
        native.warning(" ".join(lines))
        return
    level, source, text = header.groups()
    body = "\n".join([text, *lines[1:]])
    if source in HANDSHAKE_FILES:
        failure, peer = FAILURE.search(body), PEER.search(body)
        if failure and peer:
            detail = failure.group(1).strip()
            log.warning("TLS handshake refused", extra={"fields": {
                "peer": peer.group(1), "reason": reason_of(detail), "detail": detail[:300]}})
        return  # the trace of a handshake, or gRPC's own line of a failure logged above
    native.log(LEVELS[level], text, extra={"fields": {"source": source}})


def _follow(fd: int, out: object) -> None:
    pending: list[str] = []
    buffer = b""
    while True:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            if pending:
                record(pending)
                pending = []
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            return
        buffer += chunk
        *complete, buffer = buffer.split(b"\n")
        for raw in complete:
            line = raw.decode("utf-8", "replace")
            if line.startswith("{"):
                out.write(line + "\n")  # type: ignore[attr-defined]
                out.flush()  # type: ignore[attr-defined]
            elif HEADER.match(line) or not pending:
                if pending:
                    record(pending)
                pending = [line]
            elif line.strip():
                pending.append(line)


def capture() -> None:
    """From now on, fd 2 is read here; Python's stderr (its logs, its tracebacks) is the original one."""
    original = os.fdopen(os.dup(2), "w", buffering=1, encoding="utf-8", errors="replace")
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)
    sys.stderr = original
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(original)
    threading.Thread(target=_follow, args=(read_end, original), name="native-stderr", daemon=True).start()
