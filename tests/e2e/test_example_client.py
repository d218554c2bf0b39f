"""examples/python_client.py, run as an integrator runs it, against the real server over mTLS."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import Gateway

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "python_client.py"


def run_example(address: str, certs: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(EXAMPLE), "--address", address, "--certs", str(certs)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_the_example_client_runs_against_the_gateway(gateway: Gateway):
    done = run_example(gateway.address, gateway.pki)  # 127.0.0.1:port: the server certificate names it
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert "echo: principal=region/320300 message=hello" in lines

    upsert = next(line for line in lines if line.startswith("upsert: "))
    retry = next(line for line in lines if line.startswith("retry:  "))
    assert "regions/320300/members/320300009101 ENROLMENT_STATUS_NORMAL updated " in upsert
    assert upsert.split(": ", 1)[1] == retry.split(": ", 1)[1].lstrip()  # same request_id, same stored answer
    assert "same answer: True" in lines
    request_id = re.search(r"request_id=(\S+)", upsert).group(1)  # type: ignore[union-attr]
    assert len(gateway.calls(request_id)) == 2  # both copies reached the gateway

    output = done.stdout
    assert "refused: FAILED_PRECONDITION: " in output
    assert "  reason=CROSS_PROVINCE_CLOSED domain=copay.local rule=R5 metadata: grantor_province=32, " \
           "other_province=44" in lines
    assert "refused: INVALID_ARGUMENT: " in output
    assert "  reason=INVALID_REQUEST domain=copay.local rule=- metadata: -" in lines
    assert "  field members[0].id_number: must be 17 digits followed by a digit or X" in lines
    assert not done.stderr.strip(), done.stderr


def test_the_example_client_retries_while_unavailable_then_gives_up(pki: Path):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    done = run_example(f"127.0.0.1:{port}", pki)
    assert done.returncode == 1, done.stdout + done.stderr
    retries = [re.fullmatch(r"retry: UNAVAILABLE \(.*\); attempt (\d) in (\d+\.\d\d)s", line)
               for line in done.stdout.splitlines()]
    assert all(retries) and [int(m.group(1)) for m in retries] == [2, 3, 4, 5], done.stdout  # type: ignore[union-attr]
    pauses = [float(m.group(2)) for m in retries]  # type: ignore[union-attr]
    # 0.2 s, doubling, each ±50% (jitter)
    assert all(0.1 * 2**i - 0.01 <= pause <= 0.3 * 2**i + 0.01 for i, pause in enumerate(pauses)), pauses
    assert done.stderr.startswith("failed: UNAVAILABLE")
