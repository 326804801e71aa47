"""Checkpoint files: byte-exact output and loading, checked against the real kubelet.

Vectors come from the kubelet's own tests (cpumanager/state/state_checkpoint_test.go,
memorymanager/state/state_checkpoint_test.go, the 1.37 V4 tests), from the fixtures
written by the real kubelet 1.36.2 (tests/fixtures/checkpoints) and from the
kubelet's checkpoint code (Go structs, encoding/json, go-spew) run under Go.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paths import CHECKPOINTS
from topolet.engine.cpumanager.state import CPUManagerState
from topolet.engine.memorymanager.state import Block, MemoryManagerState, MemoryTable, NUMANodeState
from topolet.io import checkpoint as ck
from topolet.io.checkpoint import (
    CheckpointError,
    cpu_checkpoint_version_for,
    dump_cpu_checkpoint,
    dump_cpu_checkpoint_v1,
    dump_memory_checkpoint,
    fnv1a_32,
    go_quote,
    load_cpu_checkpoint,
    load_memory_checkpoint,
    memory_checkpoint_version_for,
    parse_go_cpuset,
    v4_data_checksum,
)
from topolet.model.cpuset import parse_bits

FIXTURES = CHECKPOINTS
GiB = 1 << 30


def bits(s: str) -> int:
    return parse_bits(s)


def json_checksum(data: bytes) -> int:
    return json.loads(data)["checksum"]


# --------------------------------------------------------------------------- known vectors


def test_fnv1a_32() -> None:
    assert fnv1a_32(b"") == 0x811C9DC5
    assert fnv1a_32(b"a") == 0xE40C292C
    assert fnv1a_32(b"foobar") == 0xBF9CF968


def test_v2_vector_3610638499() -> None:
    state = CPUManagerState("none", bits("1-3"), {"pod": {"container1": bits("4-6"), "container2": bits("1-3")}})
    out = dump_cpu_checkpoint(state, 2)
    assert out == (
        b'{"policyName":"none","defaultCpuSet":"1-3","entries":{"pod":{"container1":"4-6",'
        b'"container2":"1-3"}},"checksum":3610638499}'
    )
    loaded = load_cpu_checkpoint(out)
    assert (loaded.version, loaded.checksum_status, loaded.checksum) == (2, "verified", 3610638499)
    assert loaded.state == state


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            '{"policyName":"static","defaultCPUSet":"7-9","entries":{"pod":{"container1":"4-6","container2":"1-3"}}}',
            1420829534,
        ),
        ('{"policyName":"none","defaultCPUSet":"4-6"}', 657950972),
        ('{"policyName":"other","defaultCPUSet":"1-3"}', 2380595610),
        ('{"policyName":"none","defaultCPUSet":"1.3"}', 3033143655),
        ('{"policyName":"none","defaultCPUSet":"4-6","unknownField":"value"}', 3492408555),
    ],
)
def test_v4_data_checksum_vectors(data: str, expected: int) -> None:
    assert v4_data_checksum(data) == expected
    assert fnv1a_32(b"(string)" + data.encode()) == expected


def test_v4_file_with_the_spec_vector_loads() -> None:
    data = '{"policyName":"static","defaultCPUSet":"7-9","entries":{"pod":{"container1":"4-6","container2":"1-3"}}}'
    blob = json.dumps({"data": data, "dataChecksum": 1420829534}).encode()
    loaded = load_cpu_checkpoint(blob, policy_name="static")
    assert (loaded.version, loaded.checksum_status, loaded.checksum) == (4, "verified", 1420829534)
    assert loaded.state == CPUManagerState(
        "static", bits("7-9"), {"pod": {"container1": bits("4-6"), "container2": bits("1-3")}}, {}
    )


def test_checksum_of_v3_under_other_type_names() -> None:
    """go-spew output checked through the 1.37 tests, which hash V3 as ``state.CPUManagerCheckpointV3``."""
    a = {
        "PolicyName": "static",
        "DefaultCPUSet": "1-2",
        "Entries": {"pod1": {"container1": "5-6", "container2": "3-4"}},
        "PodEntries": {"pod2": bits("7-9")},
        "Checksum": 0,
    }
    b = {
        **a,
        "PolicyName": "none",
        "DefaultCPUSet": "1-3",
        "Entries": {"pod1": {"container1": "4-6", "container2": "1-3"}},
    }
    assert ck._checksum(ck._CPU_V3, a, "CPUManagerCheckpointV3") == 2284712151
    assert ck._checksum(ck._CPU_V3, b, "CPUManagerCheckpointV3") == 751755688


# --------------------------------------------------------------------------- fixtures (real kubelet 1.36.2 output)


def fixture_cpu_state(with_pod_entries: bool) -> CPUManagerState:
    containers = {"main": bits("2"), "sidecar": bits("8")} if with_pod_entries else {"main": bits("2")}
    pods = {"pod-uid-1": bits("2,8")} if with_pod_entries else {}
    return CPUManagerState("static", bits("0-1,3-7,9-11"), {"pod-uid-1": containers}, pods)


def fixture_memory_state() -> MemoryManagerState:
    return MemoryManagerState(
        "Static",
        {
            0: NUMANodeState(1, {"memory": MemoryTable(64 * GiB, GiB, 63 * GiB, 4 * GiB, 59 * GiB)}, [0]),
            1: NUMANodeState(0, {"memory": MemoryTable(64 * GiB, GiB, 63 * GiB, 0, 63 * GiB)}, [1]),
        },
        {
            "pod-uid-1": {
                "main": [Block([0], "memory", 3 * GiB)],
                "sidecar": [Block([0], "memory", GiB)],
            }
        },
        {"pod-uid-1": [Block([0], "memory", 4 * GiB)]},
    )


@pytest.mark.parametrize(
    ("name", "version", "checksum"), [("cpu_manager_state.v3", 3, 2076871501), ("cpu_manager_state.v2", 2, 609255902)]
)
def test_cpu_fixtures_byte_exact(name: str, version: int, checksum: int) -> None:
    raw = (FIXTURES / name).read_bytes()
    state = fixture_cpu_state(with_pod_entries=version == 3)
    assert dump_cpu_checkpoint(state, version) == raw
    assert not raw.endswith(b"\n")
    loaded = load_cpu_checkpoint(raw, policy_name="static")
    assert (loaded.version, loaded.checksum_status, loaded.checksum) == (version, "verified", checksum)
    assert loaded.state == state
    assert dump_cpu_checkpoint(loaded.state, version) == raw


def test_cpu_v2_fixture_drops_pod_entries() -> None:
    # The V2 fixture is "the same without pod entries": V2 cannot hold them.
    state = fixture_cpu_state(with_pod_entries=True)
    del state.assignments["pod-uid-1"]["sidecar"]
    assert dump_cpu_checkpoint(state, 2) == (FIXTURES / "cpu_manager_state.v2").read_bytes()


def test_memory_fixture_byte_exact() -> None:
    raw = (FIXTURES / "memory_manager_state.v2").read_bytes()
    state = fixture_memory_state()
    assert dump_memory_checkpoint(state, 2) == raw
    loaded = load_memory_checkpoint(raw, policy_name="Static")
    assert (loaded.version, loaded.checksum_status, loaded.checksum) == (2, "verified", 1872994301)
    assert loaded.state == state


def test_version_for_gate() -> None:
    assert cpu_checkpoint_version_for(True) == 3
    assert cpu_checkpoint_version_for(False) == 2
    assert memory_checkpoint_version_for(True) == 2
    assert memory_checkpoint_version_for(False) == 1


# --------------------------------------------------------------------------- output of the Go code (special characters)

GO_CPU_STATE = CPUManagerState(
    "static",
    bits("0,5-63"),
    {"<pod&1>": {'c"1\\': bits("1-2"), "\u2028é😀\n\x01": bits("3")}, "pod-b": {}},
    {"<pod&1>": bits("1-4"), "empty": 0},
)
GO_CPU_V3 = (
    b'{"policyName":"static","defaultCpuSet":"0,5-63","entries":{"\\u003cpod\\u00261\\u003e":{"c\\"1\\\\":"1-2",'
    b'"\\u2028\xc3\xa9\xf0\x9f\x98\x80\\n\\u0001":"3"},"pod-b":{}},"podEntries":{"\\u003cpod\\u00261\\u003e":'
    b'{"cpuSet":"1-4"},"empty":{}},"checksum":1929680497}'
)
GO_CPU_V2 = (
    b'{"policyName":"static","defaultCpuSet":"0,5-63","entries":{"\\u003cpod\\u00261\\u003e":{"c\\"1\\\\":"1-2",'
    b'"\\u2028\xc3\xa9\xf0\x9f\x98\x80\\n\\u0001":"3"},"pod-b":{}},"checksum":3283533490}'
)
GO_CPU_V4 = (
    b'{"policyName":"static","defaultCpuSet":"0,5-63","entries":{"\\u003cpod\\u00261\\u003e":{"c\\"1\\\\":"1-2"}},'
    b'"podEntries":{"\\u003cpod\\u00261\\u003e":{"cpuSet":"1-4"}},"checksum":0,"data":"{\\"policyName\\":\\"static\\",'
    b'\\"defaultCpuSet\\":\\"0,5-63\\",\\"entries\\":{\\"\\\\u003cpod\\\\u00261\\\\u003e\\":{\\"c\\\\\\"1\\\\\\\\\\":'
    b'\\"1-2\\"}},\\"podEntries\\":{\\"\\\\u003cpod\\\\u00261\\\\u003e\\":{\\"cpuSet\\":\\"1-4\\"}}}",'
    b'"dataChecksum":2722771209}'
)
GO_MEM_STATE = MemoryManagerState(
    "Static",
    {
        0: NUMANodeState(
            2, {"memory": MemoryTable(10, 1, 9, 4, 5), "hugepages-1Gi": MemoryTable(4, 0, 4, 1, 3)}, [0, 10]
        ),
        2: NUMANodeState(0, {"memory": MemoryTable(10, 1, 9, 0, 9)}, [2]),
        10: NUMANodeState(2, {"memory": MemoryTable(10, 1, 9, 0, 9)}, [0, 10]),
    },
    {"p<1>": {"c": [Block([0, 10], "memory", 4), Block([0], "hugepages-1Gi", 1)]}},
    {"p<1>": [Block([0, 10], "memory", 4)], "p2": []},
)
GO_MEM_V2 = (
    b'{"policyName":"Static","machineState":{"0":{"numberOfAssignments":2,"memoryMap":{"hugepages-1Gi":{"total":4,'
    b'"systemReserved":0,"allocatable":4,"reserved":1,"free":3},"memory":{"total":10,"systemReserved":1,'
    b'"allocatable":9,"reserved":4,"free":5}},"cells":[0,10]},"10":{"numberOfAssignments":2,"memoryMap":{"memory":'
    b'{"total":10,"systemReserved":1,"allocatable":9,"reserved":0,"free":9}},"cells":[0,10]},"2":'
    b'{"numberOfAssignments":0,"memoryMap":{"memory":{"total":10,"systemReserved":1,"allocatable":9,"reserved":0,'
    b'"free":9}},"cells":[2]}},"entries":{"p\\u003c1\\u003e":{"c":[{"numaAffinity":[0,10],"type":"memory","size":4},'
    b'{"numaAffinity":[0],"type":"hugepages-1Gi","size":1}]}},"podEntries":{"p2":{},"p\\u003c1\\u003e":'
    b'{"memoryBlocks":[{"numaAffinity":[0,10],"type":"memory","size":4}]}},"checksum":1409295354}'
)
GO_MEM_V1 = (
    b'{"policyName":"Static","machineState":{"0":{"numberOfAssignments":1,"memoryMap":{"memory":{"total":10,'
    b'"systemReserved":1,"allocatable":9,"reserved":4,"free":5}},"cells":[0]}},"entries":{"p":{"c":'
    b'[{"numaAffinity":[0],"type":"memory","size":4}]}},"checksum":973813558}'
)


def test_go_output_with_html_unicode_and_escapes() -> None:
    assert dump_cpu_checkpoint(GO_CPU_STATE, 3) == GO_CPU_V3
    assert dump_cpu_checkpoint(GO_CPU_STATE, 2) == GO_CPU_V2
    state4 = CPUManagerState("static", bits("0,5-63"), {"<pod&1>": {'c"1\\': bits("1-2")}}, {"<pod&1>": bits("1-4")})
    assert dump_cpu_checkpoint(state4, 4) == GO_CPU_V4
    assert load_cpu_checkpoint(GO_CPU_V3).state == GO_CPU_STATE
    assert load_cpu_checkpoint(GO_CPU_V4).state == state4


def test_v1_writer_matches_upstream_v1_checksum() -> None:
    # Old kubelets hashed V1 as state.CPUManagerCheckpoint (1.36's unused V1 MarshalCheckpoint would use
    # the ...V1 name, which its own VerifyChecksum rejects).
    raw = dump_cpu_checkpoint_v1("none", bits("1-3"), {"containerID1": bits("4-6"), "containerID2": bits("1-3")})
    assert json_checksum(raw) == 3680390589
    raw = dump_cpu_checkpoint_v1("none", bits("1-3"), {})
    assert raw == b'{"policyName":"none","defaultCpuSet":"1-3","checksum":1694838852}'


def test_go_output_memory_int_keys_sorted_as_strings() -> None:
    # encoding/json sorts the NUMA ids as strings ("10" < "2"); go-spew sorts them as numbers.
    assert dump_memory_checkpoint(GO_MEM_STATE, 2) == GO_MEM_V2
    loaded = load_memory_checkpoint(GO_MEM_V2)
    assert loaded.checksum_status == "verified"
    assert loaded.state == GO_MEM_STATE
    v1_state = MemoryManagerState(
        "Static",
        {0: NUMANodeState(1, {"memory": MemoryTable(10, 1, 9, 4, 5)}, [0])},
        {"p": {"c": [Block([0], "memory", 4)]}},
    )
    assert dump_memory_checkpoint(v1_state, 1) == GO_MEM_V1
    assert dump_memory_checkpoint(MemoryManagerState("None"), 2) == (
        b'{"policyName":"None","machineState":{},"checksum":512582496}'
    )
    assert dump_cpu_checkpoint(CPUManagerState("none"), 3) == (
        b'{"policyName":"none","defaultCpuSet":"","checksum":642675224}'
    )


# --------------------------------------------------------------------------- upstream restore tests (CPU)

NONE_46 = b'{"policyName":"none","defaultCPUSet":"4-6","entries":{},"checksum":354655845}'
V3_UPSTREAM = (
    b'{"policyName":"none","defaultCPUSet":"1-3","entries":{"pod":{"container1":"4-6","container2":"1-3"}},'
    b'"podEntries":{"pod":{"cpuSet":"4-6"}},"checksum":2649431787}'
)
V1_MIGRATION = (
    b'{"policyName":"none","defaultCPUSet":"1-3","entries":{"containerID1":"4-6","containerID2":"1-3"},'
    b'"checksum":3680390589}'
)
INITIAL = {"containerID1": ("pod", "container1"), "containerID2": ("pod", "container2")}
POD = {"pod": {"container1": bits("4-6"), "container2": bits("1-3")}}


@pytest.mark.parametrize("gate", [False, True])
@pytest.mark.parametrize(
    ("content", "version", "state"),
    [
        (NONE_46, 2, CPUManagerState("none", bits("4-6"))),
        (
            b'{"policyName":"none","defaultCPUSet":"1-3","entries":{"pod":{"container1":"4-6","container2":"1-3"}},'
            b'"checksum":3610638499}',
            2,
            CPUManagerState("none", bits("1-3"), POD),
        ),
        (b'{"policyName":"none","defaultCPUSet":"1-3","checksum":1694838852}', 1, CPUManagerState("none", bits("1-3"))),
        (V1_MIGRATION, 1, CPUManagerState("none", bits("1-3"), POD)),
        (
            b'{"policyName":"static","defaultCPUSet":"7-9","entries":{"containerID1":"4-6","containerID2":"1-3"},'
            b'"checksum":2026311253}',
            1,
            CPUManagerState("static", bits("7-9"), POD),
        ),
    ],
)
def test_upstream_cpu_restore(content: bytes, version: int, state: CPUManagerState, gate: bool) -> None:
    loaded = load_cpu_checkpoint(
        content, pod_level_resource_managers=gate, initial_containers=INITIAL, policy_name=state.policy_name
    )
    assert (loaded.version, loaded.checksum_status) == (version, "verified")
    assert loaded.checksum == json_checksum(content)
    assert loaded.state == state


def test_upstream_v3_restore_gate_on_and_off() -> None:
    loaded = load_cpu_checkpoint(V3_UPSTREAM, pod_level_resource_managers=True)
    assert (loaded.version, loaded.checksum_status) == (3, "verified")
    assert loaded.state == CPUManagerState("none", bits("1-3"), POD, {"pod": bits("4-6")})
    # "Restore valid v3 checkpoint with PodLevelResourceManagers disabled": 1.36 refuses it.
    with pytest.raises(CheckpointError, match="could not restore state from checkpoint"):
        load_cpu_checkpoint(V3_UPSTREAM, pod_level_resource_managers=False)


@pytest.mark.parametrize("gate", [False, True])
@pytest.mark.parametrize(
    ("content", "policy", "error"),
    [
        (
            b'{"policyName":"none","defaultCPUSet":"4-6","entries":{},"checksum":1337}',
            "none",
            "checkpoint is corrupted",
        ),
        (b"{", "none", "unexpected end of JSON input"),
        (
            b'{"policyName":"other","defaultCPUSet":"1-3","entries":{},"checksum":1394507217}',
            "none",
            'configured policy "none" differs from state checkpoint policy "other"',
        ),
        (
            b'{"policyName":"none","defaultCPUSet":"1.3","entries":{},"checksum":3021697696}',
            "none",
            'could not parse default cpu set "1.3": strconv.Atoi: parsing "1.3": invalid syntax',
        ),
        (
            b'{"policyName":"none","defaultCPUSet":"1-3","entries":{"pod":{"container1":"4-6","container2":"asd"}},'
            b'"checksum":962272150}',
            "none",
            'could not parse cpuset "asd" for container "container2" in pod "pod": strconv.Atoi: parsing "asd": '
            "invalid syntax",
        ),
        (
            b'{"policyName":"none","defaultCPUSet":"1-3","entries":{},"podEntries":{},"checksum":12345}',
            "none",
            "checkpoint is corrupted",
        ),
    ],
)
def test_upstream_cpu_restore_errors(content: bytes, policy: str, error: str, gate: bool) -> None:
    with pytest.raises(CheckpointError) as ei:
        load_cpu_checkpoint(
            content, "/var/lib/kubelet/cpu_manager_state", policy_name=policy, pod_level_resource_managers=gate
        )
    e = ei.value
    assert e.cause == error
    assert str(e) == (
        f"could not restore state from checkpoint: {error}, please drain this node and delete the CPU manager "
        'checkpoint file "/var/lib/kubelet/cpu_manager_state" before restarting Kubelet'
    )
    assert e.source == "/var/lib/kubelet/cpu_manager_state"


def test_v1_migration_needs_the_container() -> None:
    with pytest.raises(CheckpointError) as ei:
        load_cpu_checkpoint(V1_MIGRATION, initial_containers={"containerID1": ("pod", "container1")})
    assert ei.value.cause == (
        "failed to migrate checkpoint from v1 to v2: containerID 'containerID2' not found in initial containers list"
    )


# --------------------------------------------------------------------------- upstream restore tests (memory)

MEM_V1_UPSTREAM = (
    b'{"policyName":"static","machineState":{"0":{"numberOfAssignments":0,"memoryMap":{"memory":{"total":2048,'
    b'"systemReserved":512,"allocatable":1536,"reserved":512,"free":1024}},"cells":[]}},"entries":{"pod":'
    b'{"container1":[{"numaAffinity":[0],"type":"memory","size":512}]}},"checksum": 4215593881}'
)
MEM_V2_UPSTREAM = (
    b'{"policyName":"static","machineState":{"0":{"numberOfAssignments":0,"memoryMap":{"memory":{"total":2048,'
    b'"systemReserved":512,"allocatable":1536,"reserved":512,"free":1024}},"cells":[]}},"entries":{"pod":'
    b'{"container1":[{"numaAffinity":[0],"type":"memory","size":512}]}},"podEntries":{"pod":{"memoryBlocks":'
    b'[{"numaAffinity":[0],"type":"memory","size":512}]}},"checksum": 1278640530}'
)
MEM_MACHINE = {0: NUMANodeState(0, {"memory": MemoryTable(2048, 512, 1536, 512, 1024)}, [])}
MEM_ENTRIES = {"pod": {"container1": [Block([0], "memory", 512)]}}


@pytest.mark.parametrize("gate", [False, True])
def test_upstream_memory_v1(gate: bool) -> None:
    loaded = load_memory_checkpoint(MEM_V1_UPSTREAM, pod_level_resource_managers=gate, policy_name="static")
    assert (loaded.version, loaded.checksum_status, loaded.checksum) == (1, "verified", 4215593881)
    assert loaded.state == MemoryManagerState("static", MEM_MACHINE, MEM_ENTRIES)


def test_upstream_memory_v2() -> None:
    loaded = load_memory_checkpoint(MEM_V2_UPSTREAM)
    assert (loaded.version, loaded.checksum_status, loaded.checksum) == (2, "verified", 1278640530)
    assert loaded.state == MemoryManagerState("static", MEM_MACHINE, MEM_ENTRIES, {"pod": [Block([0], "memory", 512)]})
    with pytest.raises(CheckpointError) as ei:
        load_memory_checkpoint(MEM_V2_UPSTREAM, "/s/memory_manager_state", pod_level_resource_managers=False)
    assert str(ei.value) == (
        "could not restore state from checkpoint: checkpoint is corrupted, please drain this node and delete the "
        'memory manager checkpoint file "/s/memory_manager_state" before restarting Kubelet'
    )


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (
            MEM_V1_UPSTREAM.replace(b"numaAffinity", b"affinity").replace(b"4215593881", b"101010"),
            "checkpoint is corrupted",
        ),
        (b"{", "unexpected end of JSON input"),
        (
            b'{"policyName":"static","machineState":{},"entries":{},"podEntries":{},"checksum": 12345}',
            "checkpoint is corrupted",
        ),
        (MEM_V1_UPSTREAM, '[memorymanager] configured policy "Static" differs from state checkpoint policy "static"'),
    ],
)
def test_upstream_memory_errors(content: bytes, error: str) -> None:
    with pytest.raises(CheckpointError) as ei:
        load_memory_checkpoint(content, policy_name="Static")
    assert ei.value.cause == error


# --------------------------------------------------------------------------- round trips


def rich_cpu_state() -> CPUManagerState:
    return CPUManagerState(
        "static",
        bits("0,3-5,64-127"),
        {"pod-a": {"app": bits("1-2"), "init": 0}, "pod-b": {"x": bits("6,8,10")}},
        {"pod-a": bits("1-2"), "pod-c": 0},
    )


@pytest.mark.parametrize("version", [2, 3, 4])
def test_cpu_round_trip(version: int) -> None:
    state = rich_cpu_state()
    raw = dump_cpu_checkpoint(state, version)
    loaded = load_cpu_checkpoint(raw)
    assert (loaded.version, loaded.checksum_status) == (version, "verified")
    expected = state.clone()
    if version == 2:
        expected.pod_assignments = {}
    assert loaded.state == expected
    assert dump_cpu_checkpoint(loaded.state, version) == raw


def test_cpu_round_trip_v1() -> None:
    raw = dump_cpu_checkpoint_v1("static", bits("0-3"), {"cid-1": bits("4-5"), "cid-2": bits("6")})
    loaded = load_cpu_checkpoint(raw, initial_containers={"cid-1": ("p", "a"), "cid-2": ("p", "b")})
    assert (loaded.version, loaded.checksum_status) == (1, "verified")
    assert loaded.state == CPUManagerState("static", bits("0-3"), {"p": {"a": bits("4-5"), "b": bits("6")}})


def test_v4_writes_zero_legacy_checksum_and_data() -> None:
    raw = dump_cpu_checkpoint(rich_cpu_state(), 4)
    doc = json.loads(raw)
    assert doc["checksum"] == 0
    assert doc["dataChecksum"] == v4_data_checksum(doc["data"])
    assert list(doc) == ["policyName", "defaultCpuSet", "entries", "podEntries", "checksum", "data", "dataChecksum"]
    assert json.loads(doc["data"]) == {k: doc[k] for k in ("policyName", "defaultCpuSet", "entries", "podEntries")}


@pytest.mark.parametrize("version", [1, 2])
def test_memory_round_trip(version: int) -> None:
    state = fixture_memory_state()
    state.machine_state[0].memory_map["hugepages-2Mi"] = MemoryTable(1 << 31, 0, 1 << 31, 0, 1 << 31)
    state.pod_assignments["pod-empty"] = []
    raw = dump_memory_checkpoint(state, version)
    loaded = load_memory_checkpoint(raw)
    assert (loaded.version, loaded.checksum_status) == (version, "verified")
    expected = state.clone()
    if version == 1:
        expected.pod_assignments = {}
    assert loaded.state == expected
    assert dump_memory_checkpoint(loaded.state, version) == raw


def test_bad_versions() -> None:
    with pytest.raises(ValueError):
        dump_cpu_checkpoint(CPUManagerState(), 1)
    with pytest.raises(ValueError):
        dump_memory_checkpoint(MemoryManagerState(), 4)


# --------------------------------------------------------------------------- checksum rules


def test_zero_checksum_v2_accepted() -> None:
    raw = b'{"policyName":"none","defaultCpuSet":"1-3","entries":{"p":{"c":"4"}},"checksum":0}'
    loaded = load_cpu_checkpoint(raw)
    assert (loaded.version, loaded.checksum_status) == (2, "zero")
    assert loaded.state == CPUManagerState("none", bits("1-3"), {"p": {"c": bits("4")}})


def test_zero_checksum_v3_falls_back_to_v2_and_loses_pod_entries() -> None:
    # V3's VerifyChecksum does not accept 0; V2 does, and V2 has no podEntries.
    raw = b'{"policyName":"none","defaultCpuSet":"1-3","podEntries":{"p":{"cpuSet":"4"}},"checksum":0}'
    loaded = load_cpu_checkpoint(raw)
    assert (loaded.version, loaded.checksum_status) == (2, "zero")
    assert loaded.state.pod_assignments == {}
    assert loaded.attempts == (
        ("v4", "failed to deserialize cpu manager checkpoint data: unexpected end of JSON input"),
        ("v3", "checkpoint is corrupted"),
    )


def test_zero_checksum_memory_v2_loads_as_v1() -> None:
    raw = dump_memory_checkpoint(fixture_memory_state(), 2)
    raw = raw.replace(b'"checksum":1872994301', b'"checksum":0')
    loaded = load_memory_checkpoint(raw)
    assert (loaded.version, loaded.checksum_status) == (1, "zero")
    assert loaded.state.pod_assignments == {}


def test_gate_off_v2_name_checksum() -> None:
    # With the gate off 1.36 first verifies V2 under its own type name (state.CPUManagerCheckpointV2).
    v = {"PolicyName": "none", "DefaultCPUSet": "1-3", "Entries": {}, "Checksum": 0}
    cs = ck._checksum(ck._CPU_V2, v, "CPUManagerCheckpointV2")
    raw = b'{"policyName":"none","defaultCpuSet":"1-3","checksum":%d}' % cs
    assert load_cpu_checkpoint(raw, pod_level_resource_managers=False).checksum_status == "verified"
    with pytest.raises(CheckpointError, match="checkpoint is corrupted"):
        load_cpu_checkpoint(raw, pod_level_resource_managers=True)


def test_wrong_checksum_and_unverified_legacy() -> None:
    raw = dump_cpu_checkpoint(rich_cpu_state(), 2).replace(b'"checksum":', b'"checksum":1')
    with pytest.raises(CheckpointError) as ei:
        load_cpu_checkpoint(raw)
    # the last format tried (V1) gives the kubelet's error; encoding/json (Go >= 1.24) names the
    # map key in the field path, as the real kubelet 1.36.2 does (conformance/restart/gate-plrm.yaml)
    assert ei.value.cause == (
        "json: cannot unmarshal object into Go struct field CPUManagerCheckpointV1.entries.pod-a of type string"
    )
    assert ("v2", "checkpoint is corrupted") in ei.value.attempts
    loaded = load_cpu_checkpoint(raw, allow_unverified_legacy=True)
    assert (loaded.version, loaded.checksum_status) == (2, "unverified-legacy")
    # not for V3 content
    raw3 = dump_cpu_checkpoint(rich_cpu_state(), 3).replace(b'"checksum":', b'"checksum":1')
    with pytest.raises(CheckpointError):
        load_cpu_checkpoint(raw3, allow_unverified_legacy=True)


def test_corrupt_v4_does_not_fall_back() -> None:
    raw = dump_cpu_checkpoint(rich_cpu_state(), 4)
    doc = json.loads(raw)
    doc["dataChecksum"] += 1
    with pytest.raises(CheckpointError) as ei:
        load_cpu_checkpoint(json.dumps(doc).encode())
    assert ei.value.cause == "could not load v4 checkpoint: checkpoint is corrupted"
    doc["dataChecksum"] -= 1
    doc["data"] = doc["data"][:-1]
    with pytest.raises(CheckpointError) as ei:
        load_cpu_checkpoint(json.dumps(doc).encode())
    assert ei.value.cause == (
        "could not load v4 checkpoint: failed to deserialize cpu manager checkpoint data: unexpected end of JSON input"
    )


# --------------------------------------------------------------------------- Go JSON decoding rules


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"", "unexpected end of JSON input"),
        (b"   ", "unexpected end of JSON input"),
        (b'{"policyName":"none",}', "invalid character '}' looking for beginning of object key string"),
        (b'{"policyName" "none"}', "invalid character '\"' after object key"),
        (b"{'a':1}", "invalid character '\\'' looking for beginning of object key string"),
        (b'{"a":NaN}', "invalid character 'N' looking for beginning of value"),
        (b'{"a":01}', "invalid character '1' after object key:value pair"),
        (b'{"a":1.}', "invalid character '}' after decimal point in numeric literal"),
        (b'{"a":"\\x"}', "invalid character 'x' in string escape code"),
        (b'{"a":"\x01"}', "invalid character '\\x01' in string literal"),
        (b'{"a":nul}', "invalid character '}' in literal null (expecting 'l')"),
        (b"{} x", "invalid character 'x' after top-level value"),
        (b"\xef\xbb\xbf{}", "invalid character '\u00ef' looking for beginning of value"),
        (
            b'{"policyName":5}',
            "json: cannot unmarshal number into Go struct field CPUManagerCheckpointV1.policyName of type string",
        ),
        (
            b'{"checksum":-1}',
            "json: cannot unmarshal number -1 into Go struct field CPUManagerCheckpointV1.checksum of type "
            "checksum.Checksum",
        ),
        (
            b'{"checksum":1.5}',
            "json: cannot unmarshal number 1.5 into Go struct field CPUManagerCheckpointV1.checksum of type "
            "checksum.Checksum",
        ),
        (b"[]", "json: cannot unmarshal array into Go value of type state.CPUManagerCheckpointV1"),
        (b'"x"', "json: cannot unmarshal string into Go value of type state.CPUManagerCheckpointV1"),
        (
            b'{"entries":{"p":{"c":"1- 2"}},"checksum":0}',
            'could not parse cpuset "1- 2" for container "c" in pod "p": strconv.Atoi: parsing " 2": invalid syntax',
        ),
    ],
)
def test_go_json_errors(content: bytes, error: str) -> None:
    with pytest.raises(CheckpointError) as ei:
        load_cpu_checkpoint(content)
    assert ei.value.cause == error


def test_pod_entry_errors() -> None:
    with pytest.raises(CheckpointError) as ei:
        load_cpu_checkpoint(b'{"podEntries":{"p":{"cpuSet":"x"}},"checksum":1}')
    assert ("v3", 'failed to parse cpuset: strconv.Atoi: parsing "x": invalid syntax') in ei.value.attempts
    with pytest.raises(CheckpointError) as ei:
        load_cpu_checkpoint(b'{"podEntries":{"p":{"cpuSet":5}},"checksum":1}')
    assert (
        "v3",
        "json: cannot unmarshal number into Go struct field CPUManagerCheckpoint.podEntries.p.cpuSet of type string",
    ) in ei.value.attempts


def test_memory_type_error_path() -> None:
    with pytest.raises(CheckpointError) as ei:
        load_memory_checkpoint(b'{"machineState":{"1":{"memoryMap":{"m":{"total":-1}}}},"checksum":0}')
    assert ei.value.cause == (
        "json: cannot unmarshal number -1 into Go struct field MemoryTable.machineState.1.memoryMap.m.total "
        "of type uint64"
    )


def test_keys_match_case_insensitively_and_unknown_fields_are_ignored() -> None:
    state = CPUManagerState("none", bits("1-3"), {"pod": {"container1": bits("4-6"), "container2": bits("1-3")}})
    raw = (
        b'{"POLICYNAME":"none","defaultCPUSet":"1-3","unknown":[1,{"x":null}],"Entries":{"pod":{"container1":"4-6",'
        b'"container2":"1-3"}},"checksum":3610638499}'
    )
    assert load_cpu_checkpoint(raw).state == state
    # Go folds the long s (U+017F) and the Kelvin sign (U+212A) onto ASCII letters, nothing else
    folded = raw.replace(b"checksum", "chec\u212asum".encode()).replace(b"defaultCPUSet", "defaultCPUſet".encode())
    assert load_cpu_checkpoint(folded).state == state
    unknown = raw.replace(b"POLICYNAME", "POLİÇYNAME".encode())  # not policyName: ignored, checksum mismatch
    with pytest.raises(CheckpointError):
        load_cpu_checkpoint(unknown)


def test_duplicate_keys_merge_maps_like_go() -> None:
    raw = b'{"policyName":"none","entries":{"a":{"c":"1"}},"entries":{"b":{"c":"2"}},"checksum":0}'
    loaded = load_cpu_checkpoint(raw)
    assert loaded.state.assignments == {"a": {"c": bits("1")}, "b": {"c": bits("2")}}


def test_invalid_utf8_and_lone_surrogates_become_replacement_chars() -> None:
    raw = b'{"policyName":"n\xff\xe2\x82","defaultCpuSet":"\\ud800","checksum":0}'
    with pytest.raises(CheckpointError) as ei:
        load_cpu_checkpoint(raw)
    assert ei.value.cause == 'could not parse default cpu set "\ufffd": strconv.Atoi: parsing "\ufffd": invalid syntax'
    raw = b'{"policyName":"n\xff\xe2\x82","checksum":0}'
    assert load_cpu_checkpoint(raw).state.policy_name == "n\ufffd\ufffd\ufffd"


def test_go_cpuset_parse() -> None:
    assert parse_go_cpuset("") == 0
    assert parse_go_cpuset("0-2,5,+7,08,0--0") == bits("0-2,5,7,8")
    for bad, msg in [
        (" 1", 'strconv.Atoi: parsing " 1": invalid syntax'),
        ("1,,2", 'strconv.Atoi: parsing "": invalid syntax'),
        ("-1", 'strconv.Atoi: parsing "": invalid syntax'),
        ("3-1", 'invalid range "3-1" (3 > 1)'),
        ("1_0", 'strconv.Atoi: parsing "1_0": invalid syntax'),
        ("99999999999999999999", 'strconv.Atoi: parsing "99999999999999999999": value out of range'),
    ]:
        with pytest.raises(ValueError) as ei:
            parse_go_cpuset(bad)
        assert str(ei.value) == msg


def test_go_quote() -> None:
    assert go_quote('a"b\\c') == '"a\\"b\\\\c"'
    assert go_quote("\n\x00\x7fé\u00a0😀") == '"\\n\\x00\\x7fé\\u00a0😀"'


# --------------------------------------------------------------------------- properties

names = st.text(st.characters(blacklist_categories=("Cs",)), max_size=8)
cpusets = st.integers(min_value=0, max_value=(1 << 200) - 1)


@st.composite
def cpu_states(draw: st.DrawFn) -> CPUManagerState:
    return CPUManagerState(
        draw(names),
        draw(cpusets),
        draw(st.dictionaries(names, st.dictionaries(names, cpusets, max_size=3), max_size=4)),
        draw(st.dictionaries(names, cpusets, max_size=3)),
    )


uint64s = st.integers(min_value=0, max_value=(1 << 64) - 1)
blocks = st.builds(Block, st.lists(st.integers(0, 63), max_size=3), names, uint64s)


@st.composite
def memory_states(draw: st.DrawFn) -> MemoryManagerState:
    tables = st.builds(MemoryTable, uint64s, uint64s, uint64s, uint64s, uint64s)
    nodes = st.builds(
        NUMANodeState,
        st.integers(min_value=-(1 << 63), max_value=(1 << 63) - 1),
        st.dictionaries(names, tables, max_size=2),
        st.lists(st.integers(0, 1 << 20), max_size=4),
    )
    return MemoryManagerState(
        draw(names),
        draw(st.dictionaries(st.integers(0, 2000), nodes, max_size=4)),
        draw(st.dictionaries(names, st.dictionaries(names, st.lists(blocks, max_size=3), max_size=2), max_size=3)),
        draw(st.dictionaries(names, st.lists(blocks, max_size=3), max_size=3)),
    )


@settings(max_examples=150, deadline=None)
@given(cpu_states(), st.sampled_from([2, 3, 4]), st.booleans())
def test_cpu_round_trip_property(state: CPUManagerState, version: int, gate: bool) -> None:
    raw = dump_cpu_checkpoint(state, version)
    if version == 3 and not gate:
        with pytest.raises(CheckpointError):
            load_cpu_checkpoint(raw, pod_level_resource_managers=gate)
        return
    loaded = load_cpu_checkpoint(raw, pod_level_resource_managers=gate)
    assert (loaded.version, loaded.checksum_status) == (version, "verified")
    expected = state.clone()
    if version == 2:
        expected.pod_assignments = {}
    assert loaded.state == expected
    assert dump_cpu_checkpoint(loaded.state, version) == raw


@settings(max_examples=100, deadline=None)
@given(memory_states(), st.sampled_from([1, 2]))
def test_memory_round_trip_property(state: MemoryManagerState, version: int) -> None:
    raw = dump_memory_checkpoint(state, version)
    loaded = load_memory_checkpoint(raw)
    assert (loaded.version, loaded.checksum_status) == (version, "verified")
    expected = state.clone()
    if version == 1:
        expected.pod_assignments = {}
    assert loaded.state == expected
    assert dump_memory_checkpoint(loaded.state, version) == raw


@settings(max_examples=150, deadline=None)
@given(cpu_states(), st.sampled_from([2, 3]), st.data())
def test_any_corruption_is_detected_or_harmless(state: CPUManagerState, version: int, data: st.DataObject) -> None:
    raw = dump_cpu_checkpoint(state, version)
    i = data.draw(st.integers(0, len(raw) - 1))
    b = data.draw(st.integers(0, 255))
    mutated = raw[:i] + bytes([b]) + raw[i + 1 :]
    try:
        loaded = load_cpu_checkpoint(mutated)
    except CheckpointError as e:
        assert str(e).startswith("could not restore state from checkpoint: ")
        return
    # accepted: either a byte-for-byte equivalent document, or one the kubelet accepts too (zero checksum)
    assert loaded.checksum_status in ("verified", "zero")
