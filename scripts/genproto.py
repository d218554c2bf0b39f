"""Generate gateway/_proto/ (Python code) and protos/copay.binpb (descriptor set) from protos/; both committed.

    python scripts/genproto.py          # regenerate in place
    python scripts/genproto.py --check  # fail if the committed code or descriptor set drifted

protoc writes absolute imports such as ``from copay.v1 import x_pb2``; they are
rewritten to ``gateway._proto.copay.v1`` so the generated modules live inside
the package without touching sys.path.

protos/copay.binpb is the published contract for clients in other languages: a
FileDescriptorSet of every file under protos/ with its imports
(google/protobuf/timestamp.proto) and source info (comments), so it is
self-contained. protoc writes the files in a fixed order (the sorted sources,
each after its imports) and no absolute paths, so a build is byte-identical to
the last one as long as protoc (grpcio-tools, pinned) and protos/ are unchanged.
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
DESCRIPTOR_SET = PROTOS / "copay.binpb"
IMPORT = re.compile(r"^from copay\.(\S+) import", re.MULTILINE)


def generate(out: Path, descriptor_set: Path) -> None:
    """The Python code into the folder ``out``, the descriptor set into the file ``descriptor_set``."""
    sources = sorted(p.relative_to(PROTOS).as_posix() for p in PROTOS.rglob("*.proto"))
    include = Path(protoc.__file__).parent / "_proto"
    code = protoc.main(
        ["protoc", f"-I{PROTOS}", f"-I{include}", f"--python_out={out}", f"--pyi_out={out}",
         f"--grpc_python_out={out}", f"--descriptor_set_out={descriptor_set}", "--include_imports",
         "--include_source_info", *sources]
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


def stale(fresh: Path, fresh_set: Path, out: Path = OUT, descriptor_set: Path = DESCRIPTOR_SET) -> list[str]:
    """What the committed code (``out``) and descriptor set lack or hold beyond a fresh build."""
    found = drift(fresh, out)
    if not descriptor_set.is_file() or descriptor_set.read_bytes() != fresh_set.read_bytes():
        found.append(descriptor_set.relative_to(ROOT).as_posix() if descriptor_set.is_relative_to(ROOT)
                     else str(descriptor_set))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fresh, fresh_set = Path(tmp) / "_proto", Path(tmp) / DESCRIPTOR_SET.name
        fresh.mkdir()
        generate(fresh, fresh_set)
        if args.check:
            found = stale(fresh, fresh_set)
            if found:
                sys.exit("generated code drifted from protos/ (run scripts/genproto.py): " + ", ".join(found))
            print("generated code and descriptor set match protos/")
            return
        shutil.rmtree(OUT, ignore_errors=True)
        shutil.copytree(fresh, OUT)
        shutil.copyfile(fresh_set, DESCRIPTOR_SET)
        print(f"wrote {OUT.relative_to(ROOT)} and {DESCRIPTOR_SET.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
