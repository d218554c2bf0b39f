"""The README's grpcurl walk-through, run as written against the real server:
each command's answer must contain the ``#=>`` line that follows it."""

from __future__ import annotations

import os
import re
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


def walkthrough() -> tuple[str, list[tuple[str, str]]]:
    """The variable settings, and the (command, expected) pairs, of the block after the walkthrough marker."""
    block = re.search(r"<!-- walkthrough.*?-->\s*```sh\n(.*?)```", README.read_text(), re.S)
    assert block, "README has no walk-through block"
    lines = block.group(1).splitlines()
    setup = "\n".join(line for line in lines if re.match(r"^[A-Z]+=", line))
    return setup, [(line, nxt[len("#=> "):]) for line, nxt in zip(lines, lines[1:]) if nxt.startswith("#=> ")]


def test_readme_walkthrough_runs_as_written(pki: Path, tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'copay.db'}"
    engine = make_engine(url)
    upgrade(engine)
    seed(engine, IdHasher(bytes.fromhex((pki / "id-hash.key").read_text())))
    engine.dispose()
    gw = start_gateway(pki, url, tmp_path)
    try:
        (tmp_path / "certs").symlink_to(pki)
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
        setup, steps = walkthrough()
        assert len(steps) >= 8
        address = "localhost:" + gw.address.rsplit(":", 1)[1]  # the server certificate names localhost
        for command, expected in steps:
            script = setup + "\n" + command.replace("localhost:50051", address)
            done = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                                  timeout=30)
            assert expected in done.stdout + done.stderr, f"{command}\n---\n{done.stdout}{done.stderr}"
    finally:
        gw.stop()
