"""The contracts: generated code up to date, buf lint and breaking, every RPC authorised."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gateway import server
from gateway._proto.copay.v1 import (accounts_pb2, admin_pb2, bindings_pb2, clearing_pb2, diagnostics_pb2, exchange_pb2,
                                     members_pb2, policies_pb2, settlements_pb2)
from gateway.api.accounts import AccountsServicer
from gateway.api.admin import AdminServicer
from gateway.api.bindings import BindingsServicer
from gateway.api.clearing import ClearingServicer
from gateway.api.diagnostics import DiagnosticsServicer
from gateway.api.exchange import LocalExchangeServicer
from gateway.api.members import MembersServicer
from gateway.api.policies import PoliciesServicer
from gateway.api.settlements import SettlementsServicer

ROOT = Path(__file__).resolve().parent.parent
BUF = shutil.which("buf", path=str(Path(sys.executable).parent)) or shutil.which("buf")


def test_generated_code_matches_the_protos():
    done = subprocess.run([sys.executable, "scripts/genproto.py", "--check"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_buf_lint_passes():
    assert BUF, "buf is installed by the test extra (buf-bin)"
    done = subprocess.run([BUF, "lint"], cwd=ROOT / "protos", capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_buf_breaking_against_the_baseline():
    """A change to protos/ must not break the published contracts: protos/baseline.json, an image of them.
    A deliberate break updates the baseline in the same commit (``make proto-baseline``), which the
    commit then shows and must explain."""
    against = os.environ.get("COPAY_BUF_AGAINST", "protos/baseline.json")
    done = subprocess.run([BUF, "breaking", "protos", "--against", against], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("servicer, descriptor", [
    (MembersServicer, members_pb2.DESCRIPTOR.services_by_name["MembersService"]),
    (BindingsServicer, bindings_pb2.DESCRIPTOR.services_by_name["BindingsService"]),
    (PoliciesServicer, policies_pb2.DESCRIPTOR.services_by_name["PoliciesService"]),
    (AccountsServicer, accounts_pb2.DESCRIPTOR.services_by_name["AccountsService"]),
    (SettlementsServicer, settlements_pb2.DESCRIPTOR.services_by_name["SettlementsService"]),
    (DiagnosticsServicer, diagnostics_pb2.DESCRIPTOR.services_by_name["DiagnosticsService"]),
    (AdminServicer, admin_pb2.DESCRIPTOR.services_by_name["AdminService"]),
    (LocalExchangeServicer, exchange_pb2.DESCRIPTOR.services_by_name["LocalExchangeService"]),
    (ClearingServicer, clearing_pb2.DESCRIPTOR.services_by_name["ClearingService"]),
])
def test_every_rpc_declares_the_principals_it_admits(servicer, descriptor):
    assert descriptor.full_name in server.SERVICES and len(server.SERVICES) == 9
    for method in descriptor.methods:
        assert getattr(getattr(servicer, method.name), "admits", None), f"{method.name} has no @rpc(...)"
