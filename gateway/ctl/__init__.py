"""``copayctl``: the operators' console for the gateway's AdminService, over mutual TLS.

``main`` parses the command line (gateway.ctl.parser), runs the command (gateway.ctl.commands) and turns
every failure into one sentence on stderr and an exit status: 2 refused, 3 unreachable.
"""

from __future__ import annotations

import sys

import grpc

from gateway.ctl import parser as command_line
from gateway.ctl.output import UNREACHABLE_CODES, failure
from gateway.ctl.session import LocalRefusal, Session

EXIT_REFUSED, EXIT_UNREACHABLE = 2, 3


def main(argv: list[str] | None = None) -> int:
    try:
        args = command_line.build().parse_args(argv)
    except SystemExit as done:  # --help, or a usage error argparse has printed (status 2)
        return int(done.code or 0)
    session = Session(args)
    try:
        return args.handler(session, args) or 0
    except grpc.RpcError as error:
        print(f"copayctl: {failure(error, args.address)}", file=sys.stderr)
        return EXIT_UNREACHABLE if error.code() in UNREACHABLE_CODES else EXIT_REFUSED  # type: ignore[attr-defined]
    except LocalRefusal as refusal:
        print(f"copayctl: {refusal}", file=sys.stderr)
        return EXIT_REFUSED
    finally:
        session.close()
