"""The README's walk-throughs, run as written against the real server: each block after a
``<!-- walkthrough ... -->`` marker runs in one shell, in order (so a variable a command sets is there
for the next), and each command's output must contain the ``#=>`` line that follows it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.domain.identity import IdHasher
from gateway.seed import seed
from gateway.store.db import make_engine
from gateway.store.migrate import upgrade
from tests.e2e.conftest import start_gateway

pytestmark = pytest.mark.e2e
README = Path(__file__).resolve().parents[2] / "README.md"
MARK = "@@walkthrough-step-{}@@"


def walkthroughs() -> list[list[str]]:
    """Each block's lines, ``#=>`` lines included."""
    blocks = re.findall(r"<!-- walkthrough.*?-->\s*```sh\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) >= 3, "README has walk-throughs for regions, operators and a province's own payloads"
    return [block.splitlines() for block in blocks]


def script(lines: list[str], address: str) -> tuple[str, list[tuple[str, str]]]:
    """The block as one shell script that marks the end of each checked command's output, and the
    (command, expected) pairs in order."""
    out, steps = [], []
    for line, following in zip(lines, [*lines[1:], ""]):
        if line.startswith(("#", "source ")) or not line.strip():
            continue
        out.append(line.replace("localhost:50051", address) + " 2>&1")
        if following.startswith("#=> "):
            out.append(f"echo {MARK.format(len(steps))}")
            steps.append((line, following[len("#=> "):]))
    return "\n".join(out), steps


def test_readme_walkthroughs_run_as_written(pki: Path, tmp_path: Path):
    (tmp_path / "var").mkdir()
    url = f"sqlite:///{tmp_path / 'var' / 'copay.db'}"  # where the quick start's gateway keeps it
    engine = make_engine(url)
    upgrade(engine)
    seed(engine, IdHasher(bytes.fromhex((pki / "id-hash.key").read_text())))
    engine.dispose()
    gw = start_gateway(pki, url, tmp_path)
    try:
        shutil.copytree(pki, tmp_path / "certs")  # a copy: the walk-through renews a certificate
        shutil.copytree(pki.parent / "ca", tmp_path / "ca")
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
        address = "localhost:" + gw.address.rsplit(":", 1)[1]  # the server certificate names localhost
        for lines in walkthroughs():
            text, steps = script(lines, address)
            assert len(steps) >= 8
            done = subprocess.run(["bash", "-c", text], cwd=tmp_path, env=env, capture_output=True, text=True,
                                  timeout=120)
            outputs = re.split(r"@@walkthrough-step-\d+@@\n", done.stdout)
            for i, (command, expected) in enumerate(steps):
                said = outputs[i] if i < len(outputs) else ""
                assert expected in said, f"{command}\n---\n{said}{done.stderr}"
    finally:
        gw.stop()
