"""Generate the Python code for protos/ into gateway/_proto/ (committed).

    python scripts/genproto.py          # regenerate in place
    python scripts/genproto.py --check  # fail if the committed code drifted

protoc writes absolute imports such as ``from copay.v1 import x_pb2``; they are
rewritten to ``gateway._proto.copay.v1`` so the generated modules live inside
the package without touching sys.path.
"""

from __future__ import annotations

import argparse
import filecmp
import re
import shutil
import sys
import tempfile
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"
OUT = ROOT / "gateway" / "_proto"
IMPORT = re.compile(r"^from copay\.(\S+) import", re.MULTILINE)


def generate(out: Path) -> None:
    sources = sorted(str(p.relative_to(PROTOS)) for p in PROTOS.rglob("*.proto"))
    include = Path(protoc.__file__).parent / "_proto"
    code = protoc.main(
        ["protoc", f"-I{PROTOS}", f"-I{include}", f"--python_out={out}", f"--pyi_out={out}",
         f"--grpc_python_out={out}", *sources]
    )
    if code != 0:
        sys.exit(f"protoc failed with exit code {code}")
    for path in out.rglob("*.py*"):
        path.write_text(IMPORT.sub(r"from gateway._proto.copay.\1 import", path.read_text()))
    for folder in [out, *(p for p in out.rglob("*") if p.is_dir())]:
        (folder / "__init__.py").touch()


def drift(expected: Path, actual: Path) -> list[str]:
    def files(root: Path) -> set[str]:
        return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts}

    want, have = files(expected), files(actual)
    changed = [f for f in want & have if not filecmp.cmp(expected / f, actual / f, shallow=False)]
    return sorted((want ^ have) | set(changed))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "_proto"
        fresh.mkdir()
        generate(fresh)
        if args.check:
            stale = drift(fresh, OUT)
            if stale:
                sys.exit("generated code drifted from protos/ (run scripts/genproto.py): " + ", ".join(stale))
            print("generated code matches protos/")
            return
        shutil.rmtree(OUT, ignore_errors=True)
        shutil.copytree(fresh, OUT)
        print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
