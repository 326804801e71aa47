"""Kubelet 1.37 state files: CPU manager V4 and memory manager V3, read and written byte for byte.

Vectors from upstream 1.37 ``pkg/kubelet/cm/memorymanager/state/state_checkpoint_test.go``
(``TestCheckpointStateRestore``, ``TestMemoryManagerCheckpoint_MarshalCheckpoint_HashCompatibility``)
and ``../shared/SPEC.md`` §7 (the V4 data checksum).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from topolet.engine.cpumanager.state import CPUManagerState
from topolet.engine.memorymanager.state import Block, MemoryManagerState, MemoryTable, NUMANodeState
from topolet.io.checkpoint import (
    CheckpointError,
    dump_cpu_checkpoint,
    dump_memory_checkpoint,
    load_cpu_checkpoint,
    load_memory_checkpoint,
    v4_data_checksum,
)
from topolet.model.cpuset import parse_bits

MACHINE = '{"0":{"numberOfAssignments":0,"memoryMap":{"memory":{"total":2048,"systemReserved":512,"allocatable":1536,"reserved":512,"free":1024}},"cells":[]}}'  # noqa: E501
ENTRIES = '{"pod":{"container1":[{"numaAffinity":[0],"type":"memory","size":512}]}}'
DATA = '{"policyName":"static","machineState":' + MACHINE + ',"entries":' + ENTRIES + "}"


def _file(**fields: object) -> bytes:
    return json.dumps(fields).encode()


def _expected_state(policy: str = "static") -> MemoryManagerState:
    return MemoryManagerState(
        policy,
        {0: NUMANodeState(0, {"memory": MemoryTable(2048, 512, 1536, 512, 1024)}, [])},
        {"pod": {"container1": [Block([0], "memory", 512)]}},
        {},
    )


def test_upstream_data_checksum_vectors() -> None:
    assert v4_data_checksum(DATA) == 1849615440
    unknown = '{"unknownField":"value",' + DATA[1:]
    assert v4_data_checksum(unknown) == 2100279793


def test_upstream_v3_restore_ignores_corrupt_legacy_part() -> None:
    # "Restore valid checkpoint": the V1 part is intentionally wrong (checksum 1234, other policy).
    blob = _file(
        policyName="other",
        machineState=json.loads(MACHINE),
        entries={"pod": {"containerX": [{"numaAffinity": [0], "type": "memory", "size": 128}]}},
        checksum=1234,
        data=DATA,
        dataChecksum=1849615440,
    )
    for kubelet in ("1.37", None):
        loaded = load_memory_checkpoint(blob, policy_name="static", kubelet=kubelet)
        assert (loaded.version, loaded.checksum_status, loaded.checksum) == (3, "verified", 1849615440)
        assert loaded.state == _expected_state()
    # a 1.36 kubelet reads the legacy fields only: here they fail their checksum
    with pytest.raises(CheckpointError) as ei:
        load_memory_checkpoint(blob, kubelet="1.36")
    assert ei.value.cause == "checkpoint is corrupted"


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        (
            {"checksum": 4215593881, "dataChecksum": 1234},
            "could not load v3 checkpoint: failed to deserialize memory manager checkpoint data: "
            "unexpected end of JSON input",
        ),
        ({"checksum": 4215593881, "data": DATA}, "could not load v3 checkpoint: checkpoint is corrupted"),
        (
            {"checksum": 4215593881, "data": DATA, "dataChecksum": 1234},
            "could not load v3 checkpoint: checkpoint is corrupted",
        ),
        (
            {"checksum": 4215593881, "data": "{", "dataChecksum": 1234},
            "could not load v3 checkpoint: failed to deserialize memory manager checkpoint data: "
            "unexpected end of JSON input",
        ),
    ],
)
def test_upstream_v3_failures_do_not_fall_back(fields: dict[str, object], error: str) -> None:
    blob = _file(policyName="static", machineState=json.loads(MACHINE), entries=json.loads(ENTRIES), **fields)
    with pytest.raises(CheckpointError) as ei:
        load_memory_checkpoint(blob, policy_name="none", kubelet="1.37")
    assert ei.value.cause == error


def test_upstream_policy_taken_from_data() -> None:
    blob = _file(
        policyName="other", machineState=json.loads(MACHINE), entries={}, checksum=1234, data=DATA,
        dataChecksum=1849615440,
    )  # fmt: skip
    with pytest.raises(CheckpointError) as ei:
        load_memory_checkpoint(blob, policy_name="none", kubelet="1.37")
    assert ei.value.cause == '[memorymanager] configured policy "none" differs from state checkpoint policy "static"'


def test_upstream_v1_and_v2_vectors_under_137() -> None:
    v1 = _file(policyName="static", machineState=json.loads(MACHINE), entries=json.loads(ENTRIES), checksum=4215593881)
    loaded = load_memory_checkpoint(v1, policy_name="static", kubelet="1.37")
    assert (loaded.version, loaded.checksum_status) == (1, "verified")
    assert loaded.state == _expected_state()
    zero = _file(policyName="static", machineState=json.loads(MACHINE), entries=json.loads(ENTRIES), checksum=0)
    assert load_memory_checkpoint(zero, kubelet="1.37").checksum_status == "zero"
    v2 = _file(
        policyName="static",
        machineState=json.loads(MACHINE),
        entries=json.loads(ENTRIES),
        podEntries={"pod": {"memoryBlocks": [{"numaAffinity": [0], "type": "memory", "size": 512}]}},
        checksum=1278640530,
    )
    loaded = load_memory_checkpoint(v2, policy_name="static", kubelet="1.37")
    assert (loaded.version, loaded.checksum_status) == (2, "verified")
    assert loaded.state.pod_assignments == {"pod": [Block([0], "memory", 512)]}
    # the gate off: 1.37 does not restore pod entries
    assert load_memory_checkpoint(v2, pod_level_resource_managers=False, kubelet="1.37").state.pod_assignments == {}


def test_v3_writer_layout_and_legacy_checksum() -> None:
    state = _expected_state()
    state.pod_assignments = {"pod": [Block([0], "memory", 512)]}
    raw = dump_memory_checkpoint(state, 3)
    doc = json.loads(raw)
    assert list(doc) == ["policyName", "machineState", "entries", "checksum", "data", "dataChecksum"]
    # the legacy fields carry the V1 checksum an older kubelet verifies (upstream vector for this V1 content)
    assert doc["checksum"] == 4215593881
    assert (
        doc["data"]
        == DATA[:-1] + ',"podEntries":{"pod":{"memoryBlocks":[{"numaAffinity":[0],"type":"memory","size":512}]}}}'
    )
    assert doc["dataChecksum"] == v4_data_checksum(doc["data"])
    assert not raw.endswith(b"\n")
    loaded = load_memory_checkpoint(raw, kubelet="1.37")
    assert loaded.version == 3 and loaded.state == state
    # 1.36 reads the legacy V1 fields: container entries kept, pod-level entries lost
    old = load_memory_checkpoint(raw, kubelet="1.36")
    assert old.version == 1 and old.state.assignments == state.assignments and old.state.pod_assignments == {}
    assert dump_memory_checkpoint(loaded.state, 3) == raw


def test_v3_writer_without_pod_entries_keeps_data_minimal() -> None:
    raw = dump_memory_checkpoint(_expected_state(), 3)
    doc = json.loads(raw)
    assert doc["data"] == DATA
    assert doc["dataChecksum"] == 1849615440


def test_cpu_v4_read_by_136_keeps_container_entries_and_loses_pod_entries() -> None:
    st = CPUManagerState("static", parse_bits("0,9-15"), {"p": {"a": parse_bits("1-2")}}, {"p": parse_bits("1-8")})
    raw = dump_cpu_checkpoint(st, 4)
    assert json.loads(raw)["checksum"] == 0
    new = load_cpu_checkpoint(raw, kubelet="1.37")
    assert new.version == 4 and new.state == st
    for gate in (True, False):
        old = load_cpu_checkpoint(raw, pod_level_resource_managers=gate, kubelet="1.36")
        assert (old.version, old.checksum_status) == (2, "zero")
        assert old.state.assignments == st.assignments
        assert old.state.pod_assignments == {}
        assert old.state.default_cpuset == st.default_cpuset
    # 1.37 with the gate off restores no pod entries
    assert load_cpu_checkpoint(raw, pod_level_resource_managers=False, kubelet="1.37").state.pod_assignments == {}


def test_cpu_137_no_longer_reads_v1() -> None:
    from topolet.io.checkpoint import dump_cpu_checkpoint_v1

    raw = dump_cpu_checkpoint_v1("none", parse_bits("1-3"), {"cid": parse_bits("4-6")})
    with pytest.raises(CheckpointError):
        load_cpu_checkpoint(raw, kubelet="1.37", initial_containers={"cid": ("pod", "c")})
    assert load_cpu_checkpoint(raw, kubelet="1.36", initial_containers={"cid": ("pod", "c")}).version == 1


def test_unknown_kubelet_version() -> None:
    with pytest.raises(ValueError):
        load_cpu_checkpoint(b"{}", kubelet="1.38")
    with pytest.raises(ValueError):
        load_memory_checkpoint(b"{}", kubelet="1.35")


def test_state_inspect_names_the_137_format_and_what_136_loses(tmp_path: Path) -> None:
    from topolet.io.statefile import inspect_state_file

    st = CPUManagerState("static", parse_bits("0,9-15"), {"p": {"a": parse_bits("1-2")}}, {"p": parse_bits("1-8")})
    path = tmp_path / "cpu_manager_state"
    path.write_bytes(dump_cpu_checkpoint(st, 4))
    doc = inspect_state_file(str(path)).to_dict()
    assert (doc["version"], doc["writtenBy"]) == (4, "kubelet 1.37")
    assert "reads its legacy fields as V2" in doc["kubelet136Reads"]
    assert "loses the pod-level entries of 1 pod(s): p" in doc["kubelet136Reads"]
    assert doc["kubelet136Accepts"]["podLevelResourceManagersOn"] == {"accepted": True}
    path.write_bytes(dump_cpu_checkpoint(st, 3))
    doc = inspect_state_file(str(path)).to_dict()
    assert doc["writtenBy"] == "kubelet 1.36 or earlier" and "kubelet136Reads" not in doc
    mem = _expected_state()
    mem.pod_assignments = {"pod": [Block([0], "memory", 512)]}
    path = tmp_path / "memory_manager_state"
    path.write_bytes(dump_memory_checkpoint(mem, 3))
    doc = inspect_state_file(str(path)).to_dict()
    assert (doc["version"], doc["writtenBy"]) == (3, "kubelet 1.37")
    assert "as V1 (verified checksum)" in doc["kubelet136Reads"] and "pod(s): pod" in doc["kubelet136Reads"]


def test_a_137_node_with_the_gate_off_restores_no_pod_entries(tmp_path: Path) -> None:
    from topolet.io.inputs import parse_mapping
    from topolet.model.kubelet_config import load_kubelet_config
    from topolet.model.presets import get_preset
    from topolet.nodedir.store import start_kubelet

    config = load_kubelet_config(
        parse_mapping('cpuManagerPolicy: static\nreservedSystemCPUs: "0"\n', "kubelet.yaml"), "kubelet.yaml"
    )
    topology = get_preset("2-numa")
    # a V4 file with a pod entry (as a 1.37 kubelet with the gate on wrote it), read with the gate off
    st = CPUManagerState("static", parse_bits("0,3-63"), {"p": {"a": parse_bits("1-2")}}, {"p": parse_bits("1-2")})
    raw = dump_cpu_checkpoint(st, 4)
    assert (
        start_kubelet(tmp_path, topology, config, raw, None, kubelet_version="1.37").cpu_manager.state.pod_assignments
        == {}
    )
    assert start_kubelet(tmp_path, topology, config, raw, None).cpu_manager.state.pod_assignments == {
        "p": parse_bits("1-2")
    }
