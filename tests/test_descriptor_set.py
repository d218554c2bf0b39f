"""The published descriptor set, protos/copay.binpb: self-contained, with comments, every service and
method the gateway serves, and rebuilt byte for byte by scripts/genproto.py (whose --check compares it)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool

from gateway import server
from gateway._proto.copay.v1 import (accounts_pb2, admin_pb2, bindings_pb2, diagnostics_pb2, members_pb2, policies_pb2,
                                     settlements_pb2)

ROOT = Path(__file__).resolve().parent.parent
SET = ROOT / "protos" / "copay.binpb"


def genproto():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("genproto", ROOT / "scripts" / "genproto.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


@pytest.fixture(scope="module")
def files() -> dict[str, descriptor_pb2.FileDescriptorProto]:
    return {f.name: f for f in descriptor_pb2.FileDescriptorSet.FromString(SET.read_bytes()).file}


def test_it_holds_every_proto_file_and_its_imports(files):
    protos = {p.relative_to(ROOT / "protos").as_posix() for p in (ROOT / "protos").rglob("*.proto")}
    assert set(files) == protos | {"google/protobuf/timestamp.proto"}
    for f in files.values():
        assert set(f.dependency) <= set(files), f"{f.name} imports a file the set lacks"


def test_it_is_self_contained_a_pool_builds_from_it_alone(files):
    pool = descriptor_pool.DescriptorPool()
    added: set[str] = set()
    while len(added) < len(files):  # in import order, whatever the order in the set
        for name, f in files.items():
            if name not in added and set(f.dependency) <= added:
                pool.Add(f)
                added.add(name)
    assert pool.FindMethodByName("copay.v1.MembersService.BatchUpsertMembers").input_type.full_name == \
        "copay.v1.BatchUpsertMembersRequest"


def test_it_has_every_service_the_gateway_serves_with_its_methods(files):
    published = {f"{f.package}.{s.name}": {m.name for m in s.method} for f in files.values() for s in f.service}
    assert set(published) == set(server.SERVICES)
    for module in (members_pb2, bindings_pb2, policies_pb2, accounts_pb2, settlements_pb2, diagnostics_pb2,
                   admin_pb2):
        for service in module.DESCRIPTOR.services_by_name.values():
            assert published[service.full_name] == set(service.methods_by_name), service.full_name


def test_it_keeps_the_comments(files):
    members = files["copay/v1/members.proto"]
    comments = [loc.leading_comments for loc in members.source_code_info.location]
    assert any("Regions report the insurance facts of the members they insure." in c for c in comments)
    assert any("Idempotency key (AIP-155)" in c for c in comments)
    for f in files.values():
        assert f.source_code_info.location, f"{f.name} has no source info"


def test_a_build_is_byte_identical_and_matches_the_committed_set(tmp_path: Path):
    module = genproto()
    builds = []
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        module.generate(tmp_path / name, tmp_path / f"{name}.binpb")
        builds.append((tmp_path / f"{name}.binpb").read_bytes())
    assert builds[0] == builds[1]
    assert builds[0] == SET.read_bytes(), "protos/copay.binpb is stale: run scripts/genproto.py"
    assert str(ROOT).encode() not in builds[0] and str(tmp_path).encode() not in builds[0]  # no machine's paths


def test_the_drift_check_names_a_descriptor_set_that_differs(tmp_path: Path):
    module = genproto()
    fresh = tmp_path / "_proto"
    fresh.mkdir()
    module.generate(fresh, tmp_path / "fresh.binpb")
    assert module.stale(fresh, tmp_path / "fresh.binpb") == []
    changed = tmp_path / "changed.binpb"
    data = descriptor_pb2.FileDescriptorSet.FromString(SET.read_bytes())
    data.file[-1].source_code_info.location[0].leading_comments += " edited"
    changed.write_bytes(data.SerializeToString())
    assert module.stale(fresh, tmp_path / "fresh.binpb", descriptor_set=changed) == [str(changed)]
    assert module.stale(fresh, tmp_path / "fresh.binpb", descriptor_set=tmp_path / "missing.binpb") == \
        [str(tmp_path / "missing.binpb")]
