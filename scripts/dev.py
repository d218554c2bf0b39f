"""The README's two commands; they need nothing but Python 3.11+.

    python3 scripts/dev.py serve   # venv + install + dev certs + migrate + sample world, then serve
    python3 scripts/dev.py test    # venv + install + the whole test suite

Both create ``.venv`` beside this folder on first use and reinstall only when
pyproject.toml changes. Extra arguments after ``serve`` go to ``copay-gateway
serve`` (``serve --help`` lists them; COPAY_* variables work too), and the
certificates folder, database and ID hash key they name are the ones set up;
extra arguments after ``test`` go to pytest.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def run(*args: str | Path) -> None:
    """Runs a command; if it fails, exits with its status (it has said why)."""
    done = subprocess.run([str(a) for a in args], cwd=ROOT)
    if done.returncode:
        sys.exit(done.returncode)


def ensure_venv(extra: str) -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"copay-gateway needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not (BIN / "python").exists():
        print(f"creating {VENV.relative_to(ROOT)}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / f".installed-{extra}"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    print(f"installing copay-gateway[{extra}] into .venv", flush=True)
    run(BIN / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(BIN / "python", "-m", "pip", "install", "--quiet", "-e", f".[{extra}]")
    stamp.write_text(digest)


# Run by the venv's python (this script may run before gateway is importable): the settings
# 'copay-gateway serve ARGS' will use, from the COPAY_* variables and ARGS, as JSON.
SETTINGS = ("import dataclasses, json, sys; from gateway.cli import settings_for; "
            "print(json.dumps(dataclasses.asdict(settings_for(['serve', *sys.argv[1:]]))))")
LOCAL = ("", "0.0.0.0", "::", "[::]", "127.0.0.1", "::1", "[::1]", "localhost")


def address(listen: str) -> tuple[str, str]:
    """(how a client on this machine reaches ``host:port``, the port): the server certificate names localhost."""
    host, _, port = listen.rpartition(":")
    return ("localhost" if host in LOCAL else host), port


def serve(args: list[str]) -> None:
    ensure_venv("tools")
    gateway = BIN / "copay-gateway"
    os.chdir(ROOT)
    if {"-h", "--help"} & set(args):
        os.execv(gateway, [str(gateway), "serve", *args])
    found = subprocess.run([str(BIN / "python"), "-c", SETTINGS, *args], stdout=subprocess.PIPE, text=True)
    if found.returncode:
        sys.exit(found.returncode)  # a bad flag or value: copay-gateway has said which
    settings = json.loads(found.stdout)
    certs, url = settings["certs_dir"], settings["database_url"]
    run(gateway, "certs", "init", "--certs-dir", certs)
    key = ["--id-hash-key-file", settings["id_hash_key_file"]] if settings["id_hash_key_file"] else []
    run(gateway, "seed", "--database-url", url, "--certs-dir", certs, *key)
    host, port = address(settings["listen"])
    served, where = settings["listen"], f"{host}:{port}"
    if port == "0":  # port 0 picks a free port: the server's 'listening' log line names it
        served, where = f"{served.rpartition(':')[0]}, port PORT of the 'listening' log line", f"{host}:PORT"
    if settings["metrics_listen"] == "off":
        metrics = "metrics: off"
    else:
        metrics_host, _, metrics_port = settings["metrics_listen"].rpartition(":")
        metrics_host = "127.0.0.1" if metrics_host in ("", "0.0.0.0", "::", "[::]") else metrics_host
        metrics = f"metrics: http://{metrics_host}:{metrics_port}/metrics" if metrics_port != "0" else \
            "metrics: on the 'listening' log line's metrics_port"
    print(f"""
copay-gateway serves gRPC over mutual TLS on {served} ({metrics}).
In another terminal, from {ROOT}:
    source .venv/bin/activate
    grpcurl -cacert {certs}/ca.pem -cert {certs}/region-320300.pem -key {certs}/region-320300-key.pem {where} list
Stop with Ctrl-C.
""", flush=True)
    os.execv(gateway, [str(gateway), "serve", *args])


def test(pytest_args: list[str]) -> None:
    ensure_venv("test")
    os.chdir(ROOT)
    os.execv(BIN / "python", [str(BIN / "python"), "-m", "pytest", *pytest_args])


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "serve":
        serve(sys.argv[2:])
    elif command == "test":
        test(sys.argv[2:])
    else:
        sys.exit(__doc__)
