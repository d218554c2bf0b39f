"""copayctl's commands and options, each with its help.

The connection options and ``--json`` may come before the command or after it (``copayctl pairs --json``):
each command repeats them with SUPPRESS as the default, so that a value given before the command is not
overwritten. In ``revoke``, ``--cert`` names the certificate to revoke; the operator's own goes before
``revoke``.
"""

from __future__ import annotations

import argparse
import os
from importlib import metadata
from typing import Callable

from gateway.api.admin import limits_message
from gateway.ctl import commands
from gateway.ctl.output import limits_text
from gateway.ctl.values import change_name, count, quiet, seconds, when, yuan
from gateway.domain.rollout import PRESETS

DESCRIPTION = """\
The operators' console for the copay gateway's AdminService: roll regions out,
open and close province pairs and set their limits, pull or lift the kill
switch, approve or reject change requests, revoke certificates, publish
province policies and read the audit log. It connects over mutual TLS with an
operator's certificate. 'copayctl COMMAND --help' explains each command.

A change that widens what may happen (a region towards live, a pair opened, a
limit raised or lifted, the kill switch lifted, a policy published) waits for a
second, different operator's approval (four-eyes); one that narrows it applies
at once. Every change needs --reason, for the audit log."""

EPILOG = """\
exit status: 0 done; 1 'audit verify' found the log broken; 2 refused, by the
gateway or by copayctl before sending (bad options, unreadable files); 3 the
gateway cannot be reached, or the TLS handshake with it failed.

environment: COPAYCTL_ADDRESS, COPAYCTL_CERT, COPAYCTL_KEY and COPAYCTL_CACERT
set the defaults of --address, --cert, --key and --cacert."""

Handler = Callable[..., int | None]


def _connection_options(parser: argparse.ArgumentParser, top: bool, cert: bool = True) -> None:
    """The global options; ``top``: on the main parser, with the defaults, else SUPPRESSed (see above)."""
    def default(variable: str, fallback: str) -> str:
        return (os.environ.get(variable) or fallback) if top else argparse.SUPPRESS

    group = parser.add_argument_group("connection and output" + ("" if top else " (also before the command)"))
    group.add_argument("--address", metavar="HOST:PORT", default=default("COPAYCTL_ADDRESS", "localhost:50051"),
                        help="the gateway (default: COPAYCTL_ADDRESS or localhost:50051)")
    if cert:
        group.add_argument("--cert", metavar="FILE", default=default("COPAYCTL_CERT", "certs/operator-ops.pem"),
                           help="your operator certificate, PEM (default: COPAYCTL_CERT or certs/operator-ops.pem)")
    group.add_argument("--key", metavar="FILE", default=default("COPAYCTL_KEY", "certs/operator-ops-key.pem"),
                       help="the private key of your operator certificate, PEM (default: COPAYCTL_KEY or "
                            "certs/operator-ops-key.pem)")
    group.add_argument("--cacert", metavar="FILE", default=default("COPAYCTL_CACERT", "certs/ca.pem"),
                       help="the CA certificate the gateway's certificate must chain to (default: COPAYCTL_CACERT "
                            "or certs/ca.pem)")
    group.add_argument("--server-name", metavar="NAME", default=None if top else argparse.SUPPRESS,
                       help="the name the gateway's certificate must bear, when it is not the host of --address "
                            "(default: that host)")
    group.add_argument("--timeout", metavar="SECONDS", type=seconds, default=10.0 if top else argparse.SUPPRESS,
                       help="give up on a call after this long (default: 10)")
    group.add_argument("--json", action="store_true", default=False if top else argparse.SUPPRESS,
                       help="print the gateway's answer as JSON (proto field names) instead of a table")


def _global(cert: bool = True) -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    _connection_options(parent, top=False, cert=cert)
    return parent


class _Commands:
    """Adds commands, each with the global options and a handler."""

    def __init__(self, parent: argparse.ArgumentParser, metavar: str, help_text: str, required: bool = True) -> None:
        self._actions = parent.add_subparsers(metavar=metavar, help=help_text, required=required)

    def add(self, name: str, summary: str, handler: Handler, details: str = "",
            cert: bool = True) -> argparse.ArgumentParser:
        """``summary`` is listed in the help of the parent; ``details`` follow it in the command's own."""
        description = f"{summary[0].upper()}{summary[1:]}." + (f" {details}." if details else "")
        command = self._actions.add_parser(name, help=summary, description=description, parents=[_global(cert)])
        command.set_defaults(handler=handler)
        return command


def _change_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--reason", required=True,
                         help="why, in 1 to 500 characters; it goes into the audit log (required)")
    command.add_argument("--request-id", metavar="ID",
                         help="the request's id, 1 to 64 printable characters without spaces (default: a fresh "
                              "UUID, so running the command again makes a new request; to retry one whose answer "
                              "was lost, pass its id again)")


def _pair_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("grantor", metavar="FROM", help="the grantors' province, 2 digits, e.g. 32")
    command.add_argument("other", metavar="TO",
                         help="the province of the beneficiary (bindings) or of the treatment (settlements), e.g. 31")
    command.add_argument("--both", action="store_true", help="also the opposite direction, TO->FROM")


def _limit_options(command: argparse.ArgumentParser) -> None:
    presets = "; ".join(f"{name}: {limits_text(limits_message(limits))}" for name, limits in sorted(PRESETS.items()))
    command.add_argument("--preset", choices=sorted(PRESETS),
                         help=f"start from a preset ({presets}); the options below override its fields")
    command.add_argument("--per-beneficiary-daily", type=count, metavar="N",
                         help="at most N cross-province settlements per beneficiary per day (Asia/Shanghai)")
    settlement = command.add_mutually_exclusive_group()
    settlement.add_argument("--per-settlement-fen", type=count, metavar="N",
                            help="the largest personal part a settlement may have to be paid across the pair, in fen")
    settlement.add_argument("--per-settlement-yuan", type=yuan, metavar="D", dest="per_settlement_fen",
                            help="the same in yuan, at most two decimals, e.g. 2000 or 1999.99")
    daily = command.add_mutually_exclusive_group()
    daily.add_argument("--daily-fen", type=count, metavar="N",
                       help="fen paid across the pair per day in all, a circuit breaker")
    daily.add_argument("--daily-yuan", type=yuan, metavar="D", dest="daily_fen",
                       help="the same in yuan, at most two decimals")
    command.add_argument("--quiet", type=quiet, metavar="HH:MM-HH:MM",
                         help="no settlements in these hours, Asia/Shanghai; may cross midnight, e.g. 22:00-06:00")


def _regions(top: _Commands) -> None:
    regions = top.add("regions", "list the regions; 'regions add' and 'regions set' register and roll them out",
                      commands.regions, "The registry in admdvs order, with each region's rollout state and its "
                      "last change")
    actions = _Commands(regions, "{add,set}", "without one, the regions are listed", required=False)
    add = actions.add("add", "register a pooling region", commands.region_add,
                      "It starts disabled; the change applies at once")
    add.add_argument("admdvs", metavar="ADMDVS", help="the region's 6-digit code, e.g. 320300")
    add.add_argument("display_name", metavar="NAME", help="its name for people, e.g. 'Xuzhou 徐州市, Jiangsu'")
    _change_options(add)
    state = actions.add("set", "set a region's rollout state", commands.region_set,
                        "disabled: its certificates and members are refused; pilot: mutual aid within its own "
                        "province only; live. Towards live waits for a second operator's approval; towards "
                        "disabled applies at once")
    state.add_argument("admdvs", metavar="ADMDVS", help="the region's 6-digit code")
    state.add_argument("state", choices=["disabled", "pilot", "live"], help="the new state")
    _change_options(state)


def _pairs(top: _Commands) -> None:
    top.add("pairs", "list the province pairs, open or not, and their limits", commands.pairs,
            "Every directed pair that has a switch (a pair not listed is closed): whether it is switched on (OPEN), "
            "whether it is open now (switched on, within its schedule, kill switch not pulled), its schedule and "
            "its limits")
    opening = top.add("open", "open a province pair (waits for a second operator)", commands.pair_open,
                      "Lets the grantors of province FROM pay for beneficiaries and treatments in province TO, "
                      "with an optional schedule and limits, which replace the pair's. Waits for a second "
                      "operator's approval")
    _pair_options(opening)
    opening.add_argument("--start", type=when, metavar="ISO8601",
                         help="open from this time, e.g. 2025-07-01T08:00+08:00 (no offset: Asia/Shanghai); "
                              "default: at once")
    opening.add_argument("--end", type=when, metavar="ISO8601", help="close at this time; default: no end")
    _limit_options(opening)
    _change_options(opening)
    closing = top.add("close", "close a province pair (applies at once)", commands.pair_close,
                      "Stops mutual aid from province FROM to TO; applies at once")
    _pair_options(closing)
    _change_options(closing)
    limits = top.add("limits", "set a province pair's limits", commands.pair_limits,
                     "They replace all of its limits: a limit not given is lifted. Stricter limits apply at once; "
                     "looser ones wait for a second operator's approval")
    _pair_options(limits)
    _limit_options(limits)
    _change_options(limits)


def _kill_switch(top: _Commands) -> None:
    switch = top.add("kill-switch", "show the kill switch; 'kill-switch pull' and 'lift' set it", commands.kill_switch,
                     "Pulled, it stops all cross-province mutual aid")
    actions = _Commands(switch, "{pull,lift}", "without one, the kill switch is shown", required=False)
    pull = actions.add("pull", "stop all cross-province mutual aid", commands.kill_switch_set,
                       "Mutual aid within a province goes on. Applies at once")
    pull.set_defaults(pulled=True)
    _change_options(pull)
    lift = actions.add("lift", "let cross-province mutual aid resume", commands.kill_switch_set,
                       "Where pairs are open. Waits for a second operator's approval")
    lift.set_defaults(pulled=False)
    _change_options(lift)


def _requests(top: _Commands) -> None:
    listing = top.add("requests", "list change requests; 'requests show ID' shows one", commands.requests,
                      "Oldest first, the first 50 unless --all-pages")
    listing.add_argument("--state", choices=["pending", "applied", "rejected"], help="only those in this state")
    listing.add_argument("--all-pages", action="store_true",
                         help="every page, not only the first 50 change requests")
    show = _Commands(listing, "{show}", "without it, change requests are listed", required=False).add(
        "show", "show one change request", commands.request_show,
        "What it changes, who asked and why, who decided and why")
    show.add_argument("name", metavar="NAME_OR_ID", type=change_name, help="changeRequests/{id}, or the id alone")
    for name, handler, help_text in (
            ("approve", commands.approve, "approve another operator's pending change, which then applies"),
            ("reject", commands.reject, "reject a pending change (the operator who asked for it may too)")):
        decision = top.add(name, help_text, handler, "Four-eyes: nobody approves a change they asked for")
        decision.add_argument("name", metavar="NAME_OR_ID", type=change_name,
                              help="changeRequests/{id}, or the id alone")
        _change_options(decision)


def _certificates(top: _Commands) -> None:
    revoke = top.add("revoke", "revoke a client certificate (applies at once)", commands.revoke,
                     "Every gateway process refuses it on its next call. Here --cert names the certificate to "
                     "revoke: give your own operator certificate (--cert) before 'revoke'", cert=False)
    which = revoke.add_mutually_exclusive_group(required=True)
    which.add_argument("--serial", metavar="HEX", help="its serial number, hex (colons allowed)")
    which.add_argument("--fingerprint", metavar="HEX", help="the SHA-256 of its DER encoding, hex (colons allowed)")
    which.add_argument("--cert", metavar="FILE", dest="certificate",
                       help="the certificate itself, PEM: serial, fingerprint and principal are read from it")
    _change_options(revoke)
    top.add("revoked", "list the revoked certificates", commands.revoked,
            "With what identifies each, whose it is when known, who revoked it, when and why")


def _policies(top: _Commands) -> None:
    listing = top.add("policies", "list the policies in force; 'policies publish FILE' publishes one",
                      commands.policies, "The province policies in force now, by province (PoliciesService)")
    publish = _Commands(listing, "{publish}", "without it, the policies in force are listed", required=False).add(
        "publish", "publish a new version of a province's policy", commands.policy_publish,
        "From a policy file in the format of gateway/policies/*.toml (its version is set by the gateway). Waits "
        "for a second operator's approval; bindings filed before keep the version they were decided under")
    publish.add_argument("file", metavar="FILE.toml", help="the policy file")
    publish.add_argument("--effective", type=when, metavar="ISO8601",
                         help="in force from this time (no offset: Asia/Shanghai); default: once approved")
    _change_options(publish)


def _audit(top: _Commands) -> None:
    audit = top.add("audit", "list the audit log; 'audit verify' checks its hash chain", commands.audit,
                    "Oldest first: every change, approval, rejection and revocation, with its operator, time and "
                    "reason (the states before and after: --json)")
    audit.add_argument("--actor", metavar="A", help="only this operator, e.g. operator/ops")
    audit.add_argument("--action", metavar="X", help="only this action, e.g. change.applied, certificate.revoked")
    audit.add_argument("--target", metavar="T", help="only this resource, e.g. changeRequests/{id}")
    audit.add_argument("--since", type=when, metavar="ISO8601", help="only from this time (no offset: Asia/Shanghai)")
    audit.add_argument("--until", type=when, metavar="ISO8601", help="only before this time")
    audit.add_argument("--limit", type=count, default=100, metavar="N", help="at most N entries (default: 100)")
    _Commands(audit, "{verify}", "without it, audit entries are listed", required=False).add(
        "verify", "recompute the audit log's hash chain", commands.audit_verify,
        "Exit status 0 when intact; 1 when not, naming the first entry edited, reordered or removed")
    impersonations = top.add("impersonations", "list attempts to pay with someone else's credential (R8)",
                             commands.impersonations, "Counted per day, caller and patient")
    impersonations.add_argument("--caller", metavar="region/ADMDVS", help="only this caller, e.g. region/320300")


def _version() -> str:
    try:
        return metadata.version("copay-gateway")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def build() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="copayctl", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}",
                        help="print the version of copayctl (the copay-gateway package) and exit")
    _connection_options(parser, top=True)
    top = _Commands(parser, "COMMAND", "'copayctl COMMAND --help' explains each")
    for add in (_regions, _pairs, _kill_switch, _requests, _certificates, _policies, _audit):
        add(top)
    return parser
