"""The README's two commands; they need nothing but Python 3.11+.

    python3 scripts/dev.py serve   # venv + install + dev certs + migrate + sample world, then serve
    python3 scripts/dev.py test    # venv + install + the whole test suite

Both create ``.venv`` beside this folder on first use and reinstall only when
pyproject.toml changes. Extra arguments after ``test`` go to pytest.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def run(*args: str | Path) -> None:
    subprocess.run([str(a) for a in args], cwd=ROOT, check=True)


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


def serve() -> None:
    ensure_venv("tools")
    gateway = BIN / "copay-gateway"
    run(gateway, "certs", "init")
    run(gateway, "seed")
    print(f"""
copay-gateway serves gRPC over mutual TLS on localhost:50051 (metrics: http://127.0.0.1:9464/metrics).
In another terminal, from {ROOT}:
    source .venv/bin/activate
    grpcurl -cacert certs/ca.pem -cert certs/region-320300.pem -key certs/region-320300-key.pem localhost:50051 list
Stop with Ctrl-C.
""", flush=True)
    os.chdir(ROOT)
    os.execv(gateway, [str(gateway), "serve"])


def test(pytest_args: list[str]) -> None:
    ensure_venv("test")
    os.chdir(ROOT)
    os.execv(BIN / "python", [str(BIN / "python"), "-m", "pytest", *pytest_args])


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "serve":
        serve()
    elif command == "test":
        test(sys.argv[2:])
    else:
        sys.exit(__doc__)
