"""``copay-gateway``: serve, migrate, seed, prune, certs init|issue|renew, bench.

Every setting of gateway.config.Settings is a ``serve`` flag, made from the dataclass field (name, type,
default, docstring); the other commands take only the settings they use.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
from dataclasses import fields
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from gateway import config
from gateway.config import Settings
from gateway.observability import logs
from gateway.sample import OPERATORS, REGIONS
from gateway.security import pki

if TYPE_CHECKING:
    from sqlalchemy import Engine

DESCRIPTION = """\
The copay gateway: gRPC over mutual TLS for family mutual aid between employee
medical-insurance personal accounts, and the tools that go with it: database
migrations, the sample world and development PKI, request-log pruning and a
benchmark. 'copay-gateway COMMAND --help' explains a command and its options."""

EPILOG = """\
Settings come from COPAY_* environment variables, and a command's flags
override them ('copay-gateway serve --help' lists them all, with defaults)."""


def version() -> str:
    try:
        return metadata.version("copay-gateway")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def _settings(args: argparse.Namespace) -> Settings:
    """The settings: the environment's, overridden by the flags this command has."""
    return Settings.from_env(**{f.name: getattr(args, f.name, None) for f in fields(Settings)})


def settings_for(argv: list[str]) -> Settings:
    """The settings a command line would run with, e.g. ``settings_for(["serve", "--listen", ":0"])``
    (scripts/dev.py prints the addresses ``serve`` will use)."""
    return _settings(build_parser().parse_args(argv))


DOCS = config.documentation()
# A metavar by the setting's last word; numbers are N unless that word names the unit.
UNITS = ("seconds", "days", "bytes")


def _setting(parser: argparse.ArgumentParser | argparse._ArgumentGroup, name: str, *flags: str) -> None:
    """Adds the flag of the setting ``name`` (``flags``, else ``--name-in-kebab-case``); its help is the
    field's docstring, its environment variable and its default."""
    default, variable = getattr(Settings, name), config.variable(name)
    word = name.rsplit("_", 1)[-1]
    if isinstance(default, str):
        metavar = "HOST:PORT" if word == "listen" else word.upper()
        shown = default or "empty"
    else:
        metavar = word.upper() if word in UNITS else "N"
        shown = f"{default:g}" if isinstance(default, float) else str(default)
    doc = DOCS.get(name, "").replace(f" ({variable})", "").replace(f"({variable})", "")
    # The value stays text: Settings.from_env types and checks it as it does the variable's (ConfigError).
    parser.add_argument(*(flags or (config.flag(name),)), dest=name, metavar=metavar, default=None,
                        help=f"{doc} (environment: {variable}; default: {shown})".lstrip().replace("%", "%%"))


CERTS_DIR_HELP = "the certificates folder the server reads (default: COPAY_CERTS_DIR or certs)"
CA_DIR_HELP = ("folder of the CA private keys, kept apart from the certificates (default: COPAY_CA_DIR or ca/ "
               "beside the certificates folder)")


def _days(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= pki.MAX_CLIENT_DAYS:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days from 1 to {pki.MAX_CLIENT_DAYS}")
    return int(text)


def _certs_commands(certs: argparse.ArgumentParser) -> None:
    certs.add_argument("--certs-dir", help=CERTS_DIR_HELP)
    certs.add_argument("--ca-dir", help=CA_DIR_HELP)
    actions = certs.add_subparsers(dest="action", required=True, metavar="{init,issue,renew}",
                                   help="what to do; 'copay-gateway certs ACTION --help' explains each")

    def action(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = actions.add_parser(name, help=help_text, description=help_text)
        # SUPPRESS: given after the action they count, given before it they are not overwritten.
        sub.add_argument("--certs-dir", default=argparse.SUPPRESS, help=CERTS_DIR_HELP)
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="copay-gateway", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}",
                        help="print the version of copay-gateway and exit")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", title="commands",
                                     help="one of these; 'copay-gateway COMMAND --help' explains it")

    def command(name: str, help_text: str, description: str = "") -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help_text, description=description or help_text)

    serve = command("serve", "apply the migrations, then serve gRPC over mutual TLS until SIGTERM",
                    "Apply the database migrations, then serve gRPC over mutual TLS until SIGTERM (or Ctrl-C), "
                    "with Prometheus metrics beside it. Each setting below is also a COPAY_* environment "
                    "variable; a flag overrides the variable.")
    settings = serve.add_argument_group("settings")
    for f in fields(Settings):
        _setting(settings, f.name)

    migrate = command("migrate", "apply the database migrations (or, with --status or --sql, only tell)",
                      "Apply the database migrations up to the newest (head), as serve does on start. "
                      "--status and --sql change nothing: they read the database's revision and tell.")
    _setting(migrate, "database_url")
    only = migrate.add_mutually_exclusive_group()
    only.add_argument("--status", action="store_true",
                      help="print the database's revision, the newest revision and whether the database is up "
                           "to date; exit 0 either way")
    only.add_argument("--sql", action="store_true",
                      help="print the SQL that migrate would run from the database's revision to the newest, "
                           "without running it (for review; 'psql -f' or 'sqlite3' can run it)")

    seed = command("seed", "load the sample world: members, bindings, funded accounts (idempotent)",
                   f"Load the sample world into the database, for development: the {len(REGIONS)} sample "
                   "regions registered live, their members, and in each region members 1 and 2 granting "
                   "member 3, funded. Re-running it is harmless. It refuses a database that holds members or "
                   "regions other than the sample world's, unless --force.")
    _setting(seed, "database_url")
    _setting(seed, "certs_dir")
    _setting(seed, "id_hash_key_file")
    seed.add_argument("--force", action="store_true",
                      help="seed even a database that holds members or regions other than the sample world's")

    prune = command("prune", "forget request answers older than the retention window (serve does it hourly)")
    _setting(prune, "database_url")
    _setting(prune, "request_retention_days", "--retention-days", "--request-retention-days")

    _local_commands(command("local", "a province's own files: import members and bindings, export settlements",
                            "A province's own files, in its adapter's local format (one JSON payload a line, "
                            "as the LocalExchange service reads and writes them): 'local import' files existing "
                            "member facts (1101) and bindings (9101) all or nothing; 'local export' writes the "
                            "region's settlements (2207 answers)."))

    statement = command("clearing", "a region's clearing statement of a closed window as CSV, for finance",
                        "Writes REGION's statement of the closed window DAY as CSV: one row a clearing line "
                        "(name, kind, payer and payee region, fen, time), in order of name, read a page at a "
                        "time (a window of a million lines needs no more memory than one of ten), then a "
                        "summary row per counterparty.")
    statement.add_argument("--region", required=True, metavar="ADMDVS", help="the region whose statement it is")
    statement.add_argument("--window", required=True, metavar="DAY", help="the window: a day, yyyy-mm-dd")
    statement.add_argument("--out", metavar="FILE", help="write here instead of standard output")
    _setting(statement, "database_url")

    _certs_commands(command("certs", "development PKI: init, issue, renew (see 'copay-gateway certs --help')",
                            "The development PKI: a CA, the server's certificate, client certificates for "
                            "regions and operators, and the ID hash key."))

    commands.add_parser("bench", help="measure the real server (see 'copay-gateway bench --help')", add_help=False)
    return parser


def event_loop(name: str) -> Callable[[], asyncio.AbstractEventLoop]:
    """The loop ``serve`` runs on (COPAY_EVENT_LOOP)."""
    if name == "asyncio":
        return asyncio.new_event_loop
    try:
        import uvloop
    except ImportError:
        raise config.ConfigError("COPAY_EVENT_LOOP is uvloop, which is not installed here (pip install uvloop); "
                                 "or set COPAY_EVENT_LOOP=asyncio") from None
    return uvloop.new_event_loop


def main(argv: list[str] | None = None) -> int | None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["bench"]:
        from gateway.bench.run import main as bench
        return bench(argv[1:])
    args = build_parser().parse_args(argv)
    settings = _settings(args)
    logs.configure(settings.log_level, settings.log_ok_lines_per_second)
    if args.command == "serve":
        # gRPC core reads its trace settings when it loads: the peer of a refused TLS handshake
        # (gateway.observability.native) comes from the handshaker trace.
        os.environ.setdefault("GRPC_TRACE", "handshaker")
        from gateway.server import serve as run
        with asyncio.Runner(loop_factory=event_loop(settings.event_loop)) as runner:
            return runner.run(run(settings))
    elif args.command == "certs":
        return _certs(args, Path(settings.certs_dir))
    elif args.command == "migrate" and (args.status or args.sql):
        return _migrate_report(settings.database_url, args.sql)
    elif args.command == "local":
        return _local(args, settings)
    elif args.command == "clearing":
        return _clearing(args, settings)
    from gateway.store.db import make_engine
    from gateway.store.migrate import upgrade
    engine = make_engine(settings.database_url)
    try:
        if args.command == "seed":
            return _seed(engine, settings, args.force)
        upgrade(engine)
        if args.command == "prune":
            from gateway.service import retention
            from gateway.store import unit_of_work
            before = retention.cutoff(settings.request_retention_days)
            forgotten = retention.forget(unit_of_work.factory(engine), before)
            print(f"forgot {forgotten} request answers given before {before:%Y-%m-%d %H:%M} UTC")
        else:
            print(f"migrated {engine.url.render_as_string(hide_password=True)}")
    finally:
        engine.dispose()
    return 0


def _clearing(args: argparse.Namespace, settings: Settings) -> int:
    """``clearing``: a statement as CSV, straight from the database."""
    import csv
    from datetime import date
    from gateway.domain.regions import admdvs_problem
    from gateway.domain.errors import Refusal
    from gateway.service import clearing
    from gateway.store import unit_of_work
    from gateway.store.db import make_engine

    try:
        day = date.fromisoformat(args.window) if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", args.window) else None
    except ValueError:
        day = None
    if day is None or admdvs_problem(args.region) is not None:
        print(f"copay-gateway clearing: --window must be a day (yyyy-mm-dd) and --region six digits, not "
              f"{args.window!r} and {args.region!r}.", file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url)
    try:
        with unit_of_work.SqlUnitOfWork(engine, readonly=True) as uow:
            out = open(args.out, "w", encoding="utf-8", newline="") if args.out else sys.stdout
            try:
                rows = clearing.statement_csv(uow, args.region, day)
                csv.writer(out).writerows(rows)
            except Refusal as refusal:
                print(f"copay-gateway clearing: {refusal.message} ({refusal.reason}).", file=sys.stderr)
                return 2
            finally:
                if args.out:
                    out.close()
    finally:
        engine.dispose()
    return 0


def _local_commands(local: argparse.ArgumentParser) -> None:
    actions = local.add_subparsers(dest="action", required=True, metavar="{import,export}",
                                  help="import: members and bindings from a file; export: settlements")
    load = actions.add_parser("import", help="file a region's member facts and bindings from a file, all or nothing",
                              description="File a region's existing member facts (1101) and bindings (9101) "
                                          "from FILE: one local payload a line (JSON lines), a JSON array of "
                                          "payloads, or a single payload; '-' reads standard input. "
                                          "Every row is checked; if any cannot be read or is refused, each such "
                                          "row is reported with its line and nothing is imported (exit 1).")
    load.add_argument("file", metavar="FILE", help="the payloads ('-': standard input)")
    load.add_argument("--dry-run", action="store_true", help="check every row and report, but import nothing")
    save = actions.add_parser("export", help="write a region's settlements as its adapter's 2207 answers",
                              description="Write the settlements REGION settled (as the treatment region), "
                                          "oldest first, one local 2207 answer a line, as that region sees them.")
    save.add_argument("--since", metavar="TIME", help="only settlements from this RFC 3339 time on")
    save.add_argument("--out", metavar="FILE", help="write here instead of standard output")
    for parser in (load, save):
        parser.add_argument("--region", required=True, metavar="ADMDVS",
                            help="the region (six-digit admdvs) whose file it is; its province's adapter reads it")
        _setting(parser, "database_url")
        _setting(parser, "certs_dir")
        _setting(parser, "id_hash_key_file")


def _local(args: argparse.Namespace, settings: Settings) -> int:
    """``local import`` / ``local export``: the province's own files, through its adapter."""
    from adapters.provinces import codec_of
    from gateway import local_files, policies
    from gateway.domain.identity import IdHasher
    from gateway.domain.regions import admdvs_problem
    from gateway.domain.rollout import region_refusal
    from gateway.store import unit_of_work
    from gateway.store.db import make_engine
    from gateway.store.migrate import upgrade

    codec = codec_of(args.region) if admdvs_problem(args.region) is None else None
    if codec is None:
        print(f"copay-gateway local: {args.region!r} is not a region (six digits) of a province with an adapter.",
              file=sys.stderr)
        return 2
    since = None
    if args.action == "export" and args.since:
        try:
            since = datetime.fromisoformat(args.since.replace("Z", "+00:00"))
        except ValueError:
            since = None
        if since is None or since.tzinfo is None:
            print(f"copay-gateway local: --since {args.since!r} is not an RFC 3339 time with an offset "
                  "(e.g. 2026-11-01T00:00:00+08:00).", file=sys.stderr)
            return 2
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        with unit_of_work.SqlUnitOfWork(engine) as uow:
            if (refusal := region_refusal(uow.control.current(fresh=True), args.region)) is not None:
                print(f"copay-gateway local: {refusal.message} ({refusal.reason}).", file=sys.stderr)
                return 2
            if args.action == "export":
                out = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout
                try:
                    count = 0
                    for line in local_files.export_lines(uow, codec, args.region, since):
                        out.write(line + "\n")
                        count += 1
                finally:
                    if args.out:
                        out.close()
                print(f"exported {count} settlements of {args.region}", file=sys.stderr)
                return 0
            try:
                text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                print(f"copay-gateway local: cannot read {args.file}: {getattr(error, 'strerror', None) or error}.",
                      file=sys.stderr)
                return 2
            report = local_files.import_rows(uow, codec, args.region, local_files.rows_of(text),
                                             IdHasher(settings.id_hash_key()), policies.load())
            for where, why in report.rejected:
                print(f"{where}: {why}", file=sys.stderr)
            if not report.imported:
                print(f"imported nothing: {len(report.rejected)} of {report.rows} rows refused", file=sys.stderr)
                return 1
            if args.dry_run:
                print(f"dry run: all {report.rows} rows would import ({report.members} members, "
                      f"{report.bindings} bindings); imported nothing")
                return 0
            uow.commit()
            print(f"imported {report.rows} rows: {report.members} members, {report.bindings} bindings")
            return 0
    finally:
        engine.dispose()


def _migrate_report(url: str, sql: bool) -> int:
    """``migrate --status`` / ``--sql``: reads the database's revision, changes nothing."""
    from sqlalchemy.engine import make_url

    from gateway.store import migrate
    where = make_url(url).render_as_string(hide_password=True)
    state = migrate.status(url)
    unknown = (f"{where} is at revision {state.current}, which this copay-gateway does not know (its newest is "
               f"{state.head}): a newer version migrated it")
    if sql:
        if not state.known:
            print(f"copay-gateway migrate: {unknown}.", file=sys.stderr)
            return 2
        if state.up_to_date:
            print(f"-- {where} is at revision {state.head}, the newest: nothing to run.")
        else:
            sys.stdout.write(migrate.upgrade_sql(url, state.current))
        return 0
    print(f"database: {where}")
    print(f"current revision: {state.current or 'none (no migrations applied)'}")
    print(f"head revision: {state.head}")
    if state.up_to_date:
        print("up to date")
    elif not state.known:
        print(f"not up to date: {unknown}")
    else:
        print(f"not up to date: {len(state.pending)} to apply ({', '.join(state.pending)}); "
              "'copay-gateway migrate --sql' prints their SQL, 'copay-gateway migrate' runs them")
    return 0


def _seed(engine: Engine, settings: Settings, force: bool) -> int:
    from gateway.domain.identity import IdHasher
    from gateway.seed import other_data, seed
    from gateway.store.migrate import upgrade
    where = engine.url.render_as_string(hide_password=True)
    other = None if force else other_data(engine)
    if other:
        print(f"copay-gateway seed: {where} already holds data other than the sample world's ({other}), and the "
              "sample world is for development only: seed an empty database, or give --force.", file=sys.stderr)
        return 2
    hasher = IdHasher(settings.id_hash_key())
    upgrade(engine)
    counts = seed(engine, hasher)
    print(f"seeded {sum(counts.values())} members in {len(counts)} regions ({', '.join(counts)}); in each, "
          "members 1 and 2 grant member 3 and are funded")
    return 0


if __name__ == "__main__":
    sys.exit(main())
