"""``copay-gateway``: serve, certs init|issue|renew, migrate, seed, bench."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from gateway.config import Settings
from gateway.observability import logs
from gateway.sample import OPERATORS, REGIONS
from gateway.security import pki


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(listen=getattr(args, "listen", None), database_url=args.database_url,
                             certs_dir=args.certs_dir, metrics_listen=getattr(args, "metrics_listen", None),
                             request_retention_days=getattr(args, "retention_days", None))


CA_DIR_HELP = ("folder of the CA private keys, kept apart from the certificates (default: COPAY_CA_DIR or ca/ "
               "beside the certificates folder)")


def _days(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= pki.MAX_CLIENT_DAYS:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days from 1 to {pki.MAX_CLIENT_DAYS}")
    return int(text)


def _certs_commands(certs: argparse.ArgumentParser) -> None:
    certs.add_argument("--ca-dir", help=CA_DIR_HELP)
    actions = certs.add_subparsers(dest="action", required=True, metavar="{init,issue,renew}")

    def action(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = actions.add_parser(name, help=help_text, description=help_text)
        # SUPPRESS: given after the action they count, given before it they are not overwritten.
        sub.add_argument("--certs-dir", default=argparse.SUPPRESS,
                         help="the certificates folder the server reads (default: COPAY_CERTS_DIR or certs)")
        sub.add_argument("--ca-dir", default=argparse.SUPPRESS, help=CA_DIR_HELP)
        return sub

    init = action("init", "create the dev PKI: the CA, a server certificate, a certificate per sample region and "
                  "operator, negative cases and the ID hash key. Re-run it at will: it re-issues only certificates "
                  f"that are missing or expire within {pki.RENEW_BEFORE.days} days, and keeps the CA")
    init.add_argument("--force", action="store_true",
                      help="re-create every file, the CA and ID hash key included: certificates issued before stop "
                           "working and stored ID hashes no longer match")
    days_help = f"validity in days, 1 to {pki.MAX_CLIENT_DAYS} (default: {pki.CLIENT_DAYS})"

    issue = action("issue", "issue a client certificate signed by the CA: 'issue region 320300' or 'issue operator "
                   "alice' makes a new key too; 'issue --csr FILE --principal region/320300' signs a request")
    issue.add_argument("kind", nargs="?", metavar="KIND", help="region or operator")
    issue.add_argument("name", nargs="?", metavar="NAME",
                       help="the region's 6-digit admdvs code, or the operator's name (a-z, 0-9, '-'; at most 32)")
    issue.add_argument("--csr", type=Path, metavar="FILE",
                       help="sign this PEM certificate signing request instead of making a key; needs --principal")
    issue.add_argument("--principal", metavar="KIND/NAME",
                       help="with --csr: whom the certificate names, e.g. region/320300; whatever the request "
                            "itself names is ignored")
    issue.add_argument("--out", type=Path, metavar="PATH",
                       help="folder for KIND-NAME.pem and KIND-NAME-key.pem (default: the certificates folder); "
                            "with --csr, the certificate file (default: standard output)")
    issue.add_argument("--days", type=_days, default=pki.CLIENT_DAYS, metavar="N", help=days_help)

    renew = action("renew", "re-issue a client certificate in place for the principal it names, with a new key "
                   "in the -key.pem file beside it")
    renew.add_argument("file", type=Path, metavar="FILE", help="the certificate, e.g. certs/region-320300.pem")
    renew.add_argument("--keep-key", action="store_true", help="keep the key in the -key.pem file beside FILE")
    renew.add_argument("--days", type=_days, default=pki.CLIENT_DAYS, metavar="N", help=days_help)


def _certs(args: argparse.Namespace, certs_dir: Path) -> int:
    """Runs a certs action. A refusal is one sentence on stderr and exit status 2; a file-system error, status 1."""
    ca_dir = Path(args.ca_dir or os.environ.get("COPAY_CA_DIR") or pki.default_ca_dir(certs_dir))
    try:
        if args.action == "init":
            _certs_init(certs_dir, ca_dir, args.force)
        elif args.action == "issue":
            _certs_issue(args, certs_dir, ca_dir)
        else:
            who = pki.renew(args.file, pki.load_ca(certs_dir, ca_dir), args.days, args.keep_key)
            key = "same key" if args.keep_key else f"new key in {pki.key_file_for(args.file)}"
            print(f"renewed {args.file} for {who}, valid {args.days} days, {key}")
    except pki.PkiError as refusal:
        print(f"copay-gateway certs {args.action}: {refusal}", file=sys.stderr)
        return 2
    except OSError as problem:
        print(f"copay-gateway certs {args.action}: {problem}", file=sys.stderr)
        return 1
    return 0


def _certs_init(certs_dir: Path, ca_dir: Path, force: bool) -> None:
    report = pki.init_dev_pki(certs_dir, force=force, ca_dir=ca_dir)
    print(f"{certs_dir}/: {len(report.files)} files (CA certificate, server, {len(REGIONS)} regions, operators "
          f"{', '.join(OPERATORS)}, negative cases, ID hash key), {len(report.issued)} certificates new or renewed "
          f"(client certificates last {pki.CLIENT_DAYS} days); CA private keys in {report.ca_dir}/")


def _certs_issue(args: argparse.Namespace, certs_dir: Path, ca_dir: Path) -> None:
    if args.csr is None and args.principal is None and args.kind and args.name:
        who = pki.parse_principal(args.kind, args.name)
        cert = pki.issue(who, pki.load_ca(certs_dir, ca_dir), args.out or certs_dir, args.days)
        print(f"wrote {cert} and {pki.key_file_for(cert)} for {who}, valid {args.days} days")
    elif args.csr is not None and args.principal is not None and args.kind is None:
        kind, slash, name = args.principal.partition("/")
        if not slash:
            raise pki.PkiError(f"bad --principal {args.principal!r}: write region/ADMDVS or operator/NAME.")
        who = pki.parse_principal(kind, name)
        pem = pki.sign_csr(args.csr, who, pki.load_ca(certs_dir, ca_dir), args.days)
        if args.out is None:
            sys.stdout.write(pem.decode())
        else:
            pki.write_certificate(args.out, pem)
            print(f"wrote {args.out} for {who}, valid {args.days} days")
    else:
        raise pki.PkiError("give either KIND NAME, or --csr FILE with --principal KIND/NAME.")


def main(argv: list[str] | None = None) -> int | None:
    parser = argparse.ArgumentParser(prog="copay-gateway", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--database-url", help="SQLAlchemy URL (default: COPAY_DATABASE_URL or sqlite:///var/copay.db)")
        sub.add_argument("--certs-dir", help="dev PKI and key folder (default: COPAY_CERTS_DIR or certs)")
        return sub

    serve = command("serve", "migrate, then serve gRPC over mTLS until SIGTERM")
    serve.add_argument("--listen", help="host:port (default 127.0.0.1:50051)")
    serve.add_argument("--metrics-listen", help="host:port for /metrics, or 'off' (default 127.0.0.1:9464)")
    command("migrate", "apply the database migrations")
    command("seed", "load the sample world: members, bindings, funded accounts (idempotent)")
    prune = command("prune", "forget request answers older than the retention window (serve does it hourly)")
    prune.add_argument("--retention-days", type=float,
                       help="keep answers this many days, at least 1 (default: COPAY_REQUEST_RETENTION_DAYS or 30)")
    _certs_commands(command("certs", "development PKI: init, issue, renew (see 'copay-gateway certs --help')"))

    commands.add_parser("bench", help="measure the real server (see 'copay-gateway bench --help')", add_help=False)
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["bench"]:
        from gateway.bench.run import main as bench
        return bench(argv[1:])
    args = parser.parse_args(argv)
    settings = _settings(args)
    logs.configure(settings.log_level)
    if args.command == "serve":
        from gateway.server import serve as run
        return asyncio.run(run(settings))
    elif args.command == "certs":
        return _certs(args, Path(settings.certs_dir))
    else:
        from gateway.store.db import make_engine
        from gateway.store.migrate import upgrade
        engine = make_engine(settings.database_url)
        upgrade(engine)
        if args.command == "prune":
            from gateway.service import retention
            from gateway.store import unit_of_work
            before = retention.cutoff(settings.request_retention_days)
            forgotten = retention.forget(unit_of_work.factory(engine), before)
            print(f"forgot {forgotten} request answers given before {before:%Y-%m-%d %H:%M} UTC")
        elif args.command == "seed":
            from gateway.domain.identity import IdHasher
            from gateway.seed import seed
            counts = seed(engine, IdHasher(settings.id_hash_key()))
            print(f"seeded {sum(counts.values())} members in {len(counts)} regions ({', '.join(counts)}); in each, "
                  "members 1 and 2 grant member 3 and are funded")
        else:
            print(f"migrated {engine.url.render_as_string(hide_password=True)}")
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
