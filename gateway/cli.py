"""``copay-gateway``: serve, certs init, migrate, seed, bench."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from gateway.config import Settings
from gateway.observability import logs


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(listen=getattr(args, "listen", None), database_url=args.database_url,
                             certs_dir=args.certs_dir, metrics_listen=getattr(args, "metrics_listen", None))


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
    certs = command("certs", "development PKI")
    certs.add_argument("action", choices=["init"])
    certs.add_argument("--force", action="store_true", help="re-create every file, even existing ones")

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
        from gateway.security.pki import init_dev_pki
        files = init_dev_pki(Path(settings.certs_dir), force=args.force)
        print(f"{settings.certs_dir}/: {len(files)} files (CA, server, regions, operator, negative cases, ID hash key)")
    else:
        from gateway.store.db import make_engine
        from gateway.store.migrate import upgrade
        engine = make_engine(settings.database_url)
        upgrade(engine)
        if args.command == "seed":
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
