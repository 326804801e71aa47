"""``topolet state inspect`` on real kubelet state files (V1-V4), against topologies and node directories."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from paths import CHECKPOINTS
from topolet.cli.main import app
from topolet.engine.cpumanager.state import CPUManagerState
from topolet.engine.memorymanager.state import Block, MemoryManagerState, MemoryTable, NUMANodeState
from topolet.io.checkpoint import dump_cpu_checkpoint, dump_cpu_checkpoint_v1, dump_memory_checkpoint
from topolet.io.inputs import load_topology_arg
from topolet.io.statefile import inspect_state_file
from topolet.model.cpuset import parse_bits
from topolet.model.topology_spec import topology_from_spec

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = CHECKPOINTS
SEED_CONFIG = str(ROOT / "src" / "topolet" / "data" / "kubelet-config.yaml")
SEED_POD = str(ROOT / "src" / "topolet" / "data" / "tightly-coupled-database.yaml")
needs_fixtures = pytest.mark.skipif(not FIXTURES.is_dir(), reason="shared/fixtures/checkpoints not found")

# twelve CPUs on one NUMA node: the machine of the fixture checkpoints
TWELVE = topology_from_spec({"cpus": [{"id": i, "core": i, "socket": 0, "numa": 0} for i in range(12)]})


def run(*args: str, code: int = 0) -> str:
    r = CliRunner().invoke(app, list(args))
    assert r.exit_code == code, (args, r.stdout, r.stderr)
    return r.stdout


@needs_fixtures
def test_real_kubelet_files() -> None:
    v3 = inspect_state_file(str(FIXTURES / "cpu_manager_state.v3"), topology=TWELVE)
    assert (v3.kind, v3.version, v3.checksum_status, v3.checksum) == ("cpu_manager_state", 3, "verified", 2076871501)
    assert v3.acceptance is not None and v3.acceptance.gate_on == "" and "cannot unmarshal" in v3.acceptance.gate_off
    assert v3.consistent, v3.consistency
    assert v3.pods == [{"uid": "pod-uid-1", "podCpus": "2,8", "containers": {"main": "2", "sidecar": "8"}}]
    v2 = inspect_state_file(str(FIXTURES / "cpu_manager_state.v2"), topology=TWELVE)
    assert (v2.version, v2.checksum_status, v2.checksum) == (2, "verified", 609255902)
    assert v2.consistency == ["CPUs 8 are in no set (neither the shared pool nor any pod)"]
    mem = inspect_state_file(str(FIXTURES / "memory_manager_state.v2"), topology=load_topology_arg("preset:2-numa"))
    assert (mem.kind, mem.version, mem.checksum_status, mem.checksum) == (
        "memory_manager_state",
        2,
        "verified",
        1872994301,
    )
    assert mem.consistent
    assert mem.pods[0]["podMemory"][0]["sizeText"] == "4Gi"
    assert mem.summary["machineState"]["0"]["memory"]["memory"]["reserved"] == "4Gi"
    wrong = inspect_state_file(str(FIXTURES / "cpu_manager_state.v3"), topology=load_topology_arg("preset:2-numa"))
    assert wrong.consistency == ["CPUs 12-63 are in no set (neither the shared pool nor any pod)"]


def test_all_versions(tmp_path: Path) -> None:
    st = CPUManagerState("static", parse_bits("0-1,4-11"), {"uid-a": {"c": parse_bits("2-3")}}, {})
    for version, status in ((2, "verified"), (4, "verified")):
        f = tmp_path / f"cpu.v{version}"
        f.write_bytes(dump_cpu_checkpoint(st, version))
        rep = inspect_state_file(str(f), topology=TWELVE)
        assert (rep.version, rep.checksum_status, rep.consistent) == (version, status, True)
    f1 = tmp_path / "cpu.v1"
    f1.write_bytes(dump_cpu_checkpoint_v1("static", parse_bits("0-1,4-11"), {"abc123": parse_bits("2-3")}))
    rep = inspect_state_file(str(f1), topology=TWELVE)
    assert (rep.version, rep.checksum_status, rep.consistent) == (1, "verified", True)
    assert rep.pods[0]["containers"] == {"abc123": "2-3"}
    assert rep.acceptance is not None and "not found in initial containers list" in rep.acceptance.gate_on
    ms = MemoryManagerState(
        "Static",
        {0: NUMANodeState(1, {"memory": MemoryTable(8 << 30, 1 << 30, 7 << 30, 2 << 30, 5 << 30)}, [0])},
        {"uid-a": {"c": [Block([0], "memory", 2 << 30)]}},
        {},
    )
    fm = tmp_path / "mem.v1"
    fm.write_bytes(dump_memory_checkpoint(ms, 1))
    topo = topology_from_spec(
        {"cpus": [{"id": 0, "core": 0, "socket": 0, "numa": 0}], "numaNodes": [{"id": 0, "memory": "8Gi"}]}
    )
    rep = inspect_state_file(str(fm), topology=topo)
    assert (rep.version, rep.checksum_status, rep.consistent) == (1, "verified", True)
    topo2 = topology_from_spec(
        {"cpus": [{"id": 0, "core": 0, "socket": 0, "numa": 0}], "numaNodes": [{"id": 0, "memory": "4Gi"}]}
    )
    rep = inspect_state_file(str(fm), topology=topo2)
    assert rep.consistency == ["NUMA 0 memory: total 8Gi differs from the machine's 4Gi"]


def test_checksum_statuses(tmp_path: Path) -> None:
    f = tmp_path / "cpu_manager_state"
    f.write_bytes(b'{"policyName":"none","defaultCpuSet":"0-3","checksum":0}')
    assert inspect_state_file(str(f)).checksum_status == "zero"
    f.write_bytes(b'{"policyName":"none","defaultCpuSet":"0-3","checksum":12345}')
    rep = inspect_state_file(str(f))
    assert rep.checksum_status == "unverified-legacy"  # a legacy checksum topolet cannot recompute
    assert rep.acceptance is not None and "checkpoint is corrupted" in rep.acceptance.gate_on
    f.write_bytes(
        b'{"policyName":"static","defaultCpuSet":"0","entries":{},"podEntries":{"p":{"cpuSet":"1"}},"checksum":7}'
    )
    rep = inspect_state_file(str(f))
    assert rep.checksum_status == "corrupt" and "please drain this node" in rep.error
    f.write_bytes(b"not json at all")
    rep = inspect_state_file(str(f))
    assert rep.checksum_status == "corrupt"


def test_double_accounted_cpus(tmp_path: Path) -> None:
    st = CPUManagerState(
        "static", parse_bits("0-3,8-11"), {"a": {"c": parse_bits("3-5")}, "b": {"c": parse_bits("5-7")}}
    )
    f = tmp_path / "cpu_manager_state"
    f.write_bytes(dump_cpu_checkpoint(st, 2))
    rep = inspect_state_file(str(f), topology=TWELVE)
    assert rep.consistency == [
        "CPU 3 is accounted more than once: defaultCpuSet, pod a",
        "CPU 5 is accounted more than once: pod a, pod b",
    ]


@needs_fixtures
def test_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = run("state", "inspect", str(FIXTURES / "cpu_manager_state.v3"), "--topology", "preset:2-numa", code=3)
    assert "Version:        V3" in out and "Checksum:       verified (2076871501)" in out
    assert "CPUs 12-63 are in no set" in out
    doc = json.loads(run("state", "inspect", str(FIXTURES / "memory_manager_state.v2"), "-o", "json"))
    assert doc["version"] == 2 and doc["checksum"] == {"status": "verified", "value": 1872994301}
    assert doc["kubelet136Accepts"]["podLevelResourceManagersOn"] == {"accepted": True}
    # a node directory: its own files, with pod names and the node's kubelet verdict
    monkeypatch.delenv("TOPOLET_NODE", raising=False)
    d = str(tmp_path / "node")
    run("node", "init", d, "--config", SEED_CONFIG)
    run("apply", "-f", SEED_POD, "--node", d)
    out = run("state", "inspect", "--node", d)
    assert "default/tightly-coupled-database" in out
    assert out.count("Node's Kubelet:  starts with it") == 2
    assert "Consistency:     OK against node" in out
    docs = json.loads(run("state", "inspect", "--node", d, "-o", "json"))
    assert [x["kind"] for x in docs] == ["cpu_manager_state", "memory_manager_state"]
    assert docs[0]["nodeKubelet"] == {"starts": True} and docs[0]["consistency"]["ok"]
    # the fixture file against this node: the kubelet would refuse it
    out = run("state", "inspect", str(FIXTURES / "cpu_manager_state.v3"), "--node", d, code=3)
    assert "Node's Kubelet:  refuses to start: start cpu manager error" in out
