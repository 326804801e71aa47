"""The memory manager's Static policy, ported from memorymanager/policy_static_test.go (1.36).

Machine states are compared as the kubelet's tests compare them
(``areMachineStatesEqual``: free/reserved totals per node group), block lists
as multisets. ``TestStaticPolicyAllocatePod``'s metrics assertions (``requiredMetrics``)
are checked against the policy's counters (engine/metrics.py).
"""

from __future__ import annotations

import copy
from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from topolet.engine.bitmask import mask_of
from topolet.engine.errors import AllocationError, EmptyPodSharedPoolError, StartupError
from topolet.engine.hint import NO_HINT, AffinityStore, TopologyHint
from topolet.engine.memorymanager.policy_none import NoneMemoryPolicy
from topolet.engine.memorymanager.policy_static import (
    ERR_DEFAULT_NOT_PREFERRED,
    ERR_EXTENDED_NOT_PREFERRED,
    ERR_NO_DEFAULT_HINT,
    ERR_NO_EXTENSION,
    ERR_STATE_DIFFERS,
    ERR_VIOLATES_NUMA,
    StaticMemoryPolicy,
    are_machine_states_equal,
    is_affinity_violating_numa_allocations,
)
from topolet.engine.memorymanager.state import Block, MemoryManagerState, MemoryTable, NUMANodeState
from topolet.model.features import POD_LEVEL_RESOURCE_MANAGERS, POD_LEVEL_RESOURCES, FeatureGates
from topolet.model.pod import QOS_BURSTABLE, QOS_GUARANTEED, Container, Pod, Resources
from topolet.model.quantity import Quantity
from topolet.model.topology import CPUInfo, NUMANode, Topology

MB = 1 << 20
GB = 1 << 30
HP1G = "hugepages-1Gi"
HP2M = "hugepages-2Mi"
MEM = "memory"

PLR_ONLY = {POD_LEVEL_RESOURCES: True, POD_LEVEL_RESOURCE_MANAGERS: False}
PLR_OFF = {POD_LEVEL_RESOURCES: False, POD_LEVEL_RESOURCE_MANAGERS: False}
PLRM = {POD_LEVEL_RESOURCES: True, POD_LEVEL_RESOURCE_MANAGERS: True}


# --------------------------------------------------------------------------- builders
def T(allocatable: int, free: int, reserved: int, system_reserved: int, total: int) -> MemoryTable:
    """A memory table in the field order of the Go literals."""
    return MemoryTable(
        total=total, system_reserved=system_reserved, allocatable=allocatable, reserved=reserved, free=free
    )


def N(
    mem: MemoryTable | None = None,
    hp: MemoryTable | None = None,
    cells: list[int] | None = None,
    n: int = 0,
    *,
    hp2m: MemoryTable | None = None,
) -> NUMANodeState:
    mm: dict[str, MemoryTable] = {}
    if mem is not None:
        mm[MEM] = mem
    if hp is not None:
        mm[HP1G] = hp
    if hp2m is not None:
        mm[HP2M] = hp2m
    return NUMANodeState(number_of_assignments=n, memory_map=mm, cells=list(cells or []))


def B(affinity: list[int], type_: str, size: int) -> Block:
    return Block(list(affinity), type_, size)


def topo(nodes: dict[int, tuple[int, int]] | None = None) -> Topology:
    """One CPU per NUMA node; ``nodes``: id -> (memory bytes, number of 1Gi hugepages)."""
    nodes = nodes if nodes is not None else {0: (0, 0)}
    cpus = [CPUInfo(id=i, core=i, socket=0, numa=nid, uncore=0) for i, nid in enumerate(sorted(nodes))]
    numa = [
        NUMANode(id=nid, memory=m, hugepages={GB: pages * GB} if pages else {}) for nid, (m, pages) in nodes.items()
    ]
    return Topology(cpus, numa)


def q(v: str) -> Quantity:
    return Quantity.parse(v)


def res(requests: dict[str, str], limits: dict[str, str] | None = None) -> Resources:
    lim = requests if limits is None else limits
    return Resources({k: q(v) for k, v in requests.items()}, {k: q(v) for k, v in lim.items()})


def ctr(name: str, r: Resources | None = None, restartable: bool = False) -> Container:
    return Container(
        name=name, resources=r.copy() if r else Resources(), restart_policy="Always" if restartable else None
    )


def gi(n: int | str) -> Resources:
    """Guaranteed cpu 1000Mi + memory and 1Gi-hugepages of n Gi (as the Go tables)."""
    return res({"cpu": "1000Mi", MEM: f"{n}Gi", HP1G: f"{n}Gi"})


GUARANTEED = gi(1)
BURSTABLE = res(
    {"cpu": "1000Mi", MEM: "1Gi", HP1G: "1Gi"},
    {"cpu": "1000Mi", MEM: "2Gi", HP1G: "2Gi"},
)
POD_LEVEL_GUARANTEED = res({"cpu": "1000m", MEM: "1Gi"})
POD_LEVEL_BURSTABLE = res({"cpu": "500m", MEM: "1Gi"}, {"cpu": "1000m", MEM: "1Gi"})


def mkpod(
    uid: str,
    containers: list[Container],
    init: list[Container] | None = None,
    resources: Resources | None = None,
    qos: str = QOS_GUARANTEED,
) -> Pod:
    return Pod(
        name=uid,
        uid=uid,
        containers=containers,
        init_containers=init or [],
        resources=resources,
        qos_class=qos,
    )


def get_pod(uid: str, name: str, r: Resources, qos: str = QOS_GUARANTEED) -> Pod:
    return mkpod(uid, [ctr(name, r)], qos=qos)


class FixedAffinity(AffinityStore):
    """``topologymanager.NewFakeManagerWithHint``: the same hint for every container."""

    def __init__(self, hint: TopologyHint) -> None:
        super().__init__()
        self.hint = hint

    def get_affinity(self, pod_uid: str, container: str) -> TopologyHint:
        return self.hint


def make(
    system_reserved: dict[int, dict[str, int]],
    machine_state: dict[int, NUMANodeState] | None = None,
    assignments: dict[str, dict[str, list[Block]]] | None = None,
    topology: Topology | None = None,
    hint: TopologyHint | None = None,
    gates: dict[str, bool] | None = None,
) -> tuple[StaticMemoryPolicy, MemoryManagerState]:
    affinity: AffinityStore = FixedAffinity(hint) if hint is not None else AffinityStore()
    p = StaticMemoryPolicy(topology or topo(), system_reserved, affinity, FeatureGates(gates))
    s = MemoryManagerState(
        policy_name="Static",
        machine_state=copy.deepcopy(machine_state or {}),
        assignments=copy.deepcopy(assignments or {}),
    )
    return p, s


def norm(assignments: dict[str, dict[str, list[Block]]]) -> dict[str, dict[str, list[tuple]]]:
    return {
        p: {c: sorted((tuple(b.numa_affinity), b.type, b.size) for b in bl) for c, bl in cs.items()}
        for p, cs in assignments.items()
    }


def assert_state(
    s: MemoryManagerState,
    expected_assignments: dict[str, dict[str, list[Block]]],
    expected_machine_state: dict[int, NUMANodeState],
) -> None:
    assert norm(s.assignments) == norm(expected_assignments)
    assert are_machine_states_equal(s.machine_state, expected_machine_state), s.machine_state


def H(ids: list[int], preferred: bool) -> TopologyHint:
    return TopologyHint(mask_of(ids), preferred)


R512 = {0: {MEM: 512 * MB}}
R512x2 = {0: {MEM: 512 * MB}, 1: {MEM: 512 * MB}}
R512x3 = {i: {MEM: 512 * MB} for i in range(3)}
R512x4 = {i: {MEM: 512 * MB} for i in range(4)}


# --------------------------------------------------------------------------- New / Name
def test_new_requires_system_reserved_memory() -> None:
    with pytest.raises(StartupError, match=r"^\[memorymanager\] you should specify the system reserved memory$"):
        make({})
    with pytest.raises(StartupError):
        make({0: {HP1G: GB}})


def test_new_succeeds_with_reserved_memory_on_one_node() -> None:
    p, _ = make({0: {}, 1: {MEM: 512 * MB}})
    assert p.name == "Static"


# --------------------------------------------------------------------------- Start
START_CASES = [
    pytest.param(
        {},
        {"pod": {"container1": [B([0], MEM, 512 * MB)]}},
        {0: (2 * GB, 1)},
        R512,
        "[memorymanager] machine state can not be empty when it has memory assignments",
        None,
        id="empty machine state with assignments",
    ),
    pytest.param(
        {},
        {},
        {0: (3 * GB, 1)},
        R512,
        None,
        {0: N(T(1536 * MB, 1536 * MB, 0, 512 * MB, 3 * GB), T(GB, GB, 0, 0, GB), cells=[0])},
        id="fills the state with defaults",
    ),
    pytest.param(
        {0: N(T(1536 * MB, 1536 * MB, 0, 512 * MB, 2 * GB), T(GB, GB, 0, 0, GB), cells=[0])},
        {},
        {0: (2 * GB, 1), 1: (2 * GB, 1)},
        R512,
        ERR_STATE_DIFFERS,
        None,
        id="machine state without all NUMA nodes",
    ),
    pytest.param(
        {0: N(hp=T(GB, GB, 0, 0, GB), cells=[0])},
        {},
        {0: (2 * GB, 1)},
        R512,
        ERR_STATE_DIFFERS,
        None,
        id="machine state without memory",
    ),
    pytest.param(
        {0: N(T(1536 * MB, 1536 * MB, 0, 512 * MB, 1536 * MB), cells=[0])},
        {},
        {0: (2 * GB, 1)},
        R512,
        ERR_STATE_DIFFERS,
        None,
        id="wrong total memory",
    ),
    pytest.param(
        {0: N(T(1536 * MB, 1536 * MB, 0, 1024, 2 * GB), cells=[0])},
        {},
        {0: (2 * GB, 1)},
        R512,
        ERR_STATE_DIFFERS,
        None,
        id="wrong system reserved memory",
    ),
    pytest.param(
        {0: N(T(1536 * MB, 1536 * MB, 0, 512 * MB, 2 * GB), cells=[0], n=1)},
        {"pod": {"container1": [B([0], MEM, 512 * MB)]}},
        {0: (2 * GB, 1)},
        R512,
        ERR_STATE_DIFFERS,
        None,
        id="reserved differs from the assignments",
    ),
    pytest.param(
        {0: N(T(1536 * MB, 1536 * MB, 0, 512 * MB, 2 * GB), T(GB, GB, 0, 0, GB), cells=[0])},
        {},
        {0: (2 * GB, 2)},
        R512,
        ERR_STATE_DIFFERS,
        None,
        id="wrong hugepages size",
    ),
    pytest.param(
        {0: N(T(1536 * MB, 1536 * MB, 0, 512 * MB, 2 * GB), T(GB, GB, 0, GB, 2 * GB), cells=[0])},
        {},
        {0: (2 * GB, 2)},
        R512,
        ERR_STATE_DIFFERS,
        None,
        id="wrong system reserved hugepages",
    ),
    pytest.param(
        {0: N(T(1536 * MB, 1536 * MB, 0, 512 * MB, 2 * GB), T(4 * GB, GB, 3 * GB, 0, 4 * GB), cells=[0], n=2)},
        {"pod1": {"container1": [B([0], HP1G, GB)]}, "pod2": {"container2": [B([0], HP1G, GB)]}},
        {0: (2 * GB, 4)},
        R512,
        ERR_STATE_DIFFERS,
        None,
        id="hugepages reserved differs from the assignments",
    ),
    pytest.param(
        {0: N(T(1536 * MB, 1536 * MB, 0, 512 * MB, 2 * GB), T(GB, GB, 0, 0, GB), cells=[0])},
        {"pod1": {"container1": [B([1], MEM, GB)]}},
        {0: (2 * GB, 1)},
        R512,
        "[memorymanager] (pod: pod1, container: container1) the memory assignment uses the NUMA that does not exist",
        None,
        id="assignment on a missing NUMA node",
    ),
    pytest.param(
        {0: N(T(1536 * MB, 1536 * MB, 0, 512 * MB, 2 * GB), T(GB, GB, 0, 0, GB), cells=[0], n=2)},
        {"pod1": {"container1": [B([0], MEM, GB), B([0], HP2M, GB)]}},
        {0: (2 * GB, 1)},
        R512,
        "[memorymanager] (pod: pod1, container: container1) the memory assignment uses memory "
        "resource that does not exist",
        None,
        id="assignment of a missing resource",
    ),
    pytest.param(
        {0: N(T(1536 * MB, 1536 * MB, 0, 512 * MB, 2 * GB), T(GB, GB, 0, 0, GB), cells=[0], n=1)},
        {"pod1": {"container1": [B([0], MEM, GB), B([0], HP1G, GB)]}},
        {0: (2 * GB, 1)},
        R512,
        ERR_STATE_DIFFERS,
        None,
        id="wrong number of assignments",
    ),
    pytest.param(
        {
            0: N(T(640 * MB, 0, 640 * MB, 512 * MB, 2176 * MB), T(GB, 0, GB, 0, GB), cells=[0, 1], n=4),
            1: N(T(640 * MB, 256 * MB, 384 * MB, 512 * MB, 2176 * MB), T(GB, 0, GB, 0, GB), cells=[0, 1], n=4),
        },
        {
            "pod1": {"container1": [B([0, 1], MEM, 768 * MB), B([0, 1], HP1G, GB)]},
            "pod2": {"container2": [B([0, 1], MEM, 256 * MB), B([0, 1], HP1G, GB)]},
        },
        {0: (2176 * MB, 1), 1: (2176 * MB, 1)},
        R512x2,
        None,
        {
            0: N(T(640 * MB, 0, 640 * MB, 512 * MB, 2176 * MB), T(GB, 0, GB, 0, GB), cells=[0, 1], n=4),
            1: N(T(640 * MB, 256 * MB, 384 * MB, 512 * MB, 2176 * MB), T(GB, 0, GB, 0, GB), cells=[0, 1], n=4),
        },
        id="cross NUMA reserved memory matches the assignments",
    ),
    pytest.param(
        {
            0: N(T(220 * MB, 10 * MB, 210 * MB, 20 * MB, 240 * MB), cells=[0, 1], n=2),
            1: N(T(220 * MB, 180 * MB, 40 * MB, 20 * MB, 240 * MB), cells=[0, 1], n=2),
        },
        {
            "pod1": {"container1": [B([0, 1], MEM, 240 * MB)]},
            "pod2": {"container2": [B([0, 1], MEM, 10 * MB)]},
        },
        {0: (240 * MB, 0), 1: (240 * MB, 0)},
        {0: {MEM: 20 * MB}, 1: {MEM: 20 * MB}},
        None,
        {
            0: N(T(220 * MB, 30 * MB, 190 * MB, 20 * MB, 240 * MB), cells=[0, 1], n=2),
            1: N(T(220 * MB, 160 * MB, 60 * MB, 20 * MB, 240 * MB), cells=[0, 1], n=2),
        },
        id="group totals of free and reserved",
    ),
]


@pytest.mark.parametrize(("machine_state", "assignments", "machine", "reserved", "error", "expected_ms"), START_CASES)
def test_start(machine_state, assignments, machine, reserved, error, expected_ms) -> None:
    p, s = make(reserved, machine_state, assignments, topology=topo(machine))
    before = copy.deepcopy(s.assignments)
    if error is not None:
        with pytest.raises(StartupError) as e:
            p.start(s)
        assert str(e.value) == error
        return
    p.start(s)
    assert_state(s, before, expected_ms)


def test_start_pod_level_assignments_are_counted_once() -> None:
    """validateState counts a pod-level pod by its pod blocks (PodLevelResourceManagers on)."""
    machine = topo({0: (2 * GB, 0), 1: (2 * GB, 0)})
    p, s = make(R512x2, topology=machine, hint=H([0, 1], True), gates=PLRM)
    p.start(s)
    pod = pod_level_pod("pod3", "2Gi", [], [("container1", None), ("container2", None)])
    p.allocate_pod(s, pod)
    restarted, _ = make(R512x2, topology=machine, gates=PLRM)
    restarted.start(s)  # valid
    legacy, _ = make(R512x2, topology=machine, gates=PLR_ONLY)
    with pytest.raises(StartupError, match="expected machine state is different"):
        legacy.start(s)


# --------------------------------------------------------------------------- Allocate
def base_ms(mem_free: int = 1536 * MB, mem_reserved: int = 0, hp_free: int = GB, cells=None, n=0):
    return {
        0: N(
            T(1536 * MB, mem_free, mem_reserved, 512 * MB, 2 * GB),
            T(GB, hp_free, GB - hp_free, 0, GB),
            cells=[] if cells is None else cells,
            n=n,
        )
    }


def three_nodes(node0_reserved: int) -> dict[int, NUMANodeState]:
    return {
        0: N(T(GB, GB - node0_reserved, node0_reserved, 512 * MB, 1536 * MB), T(GB, GB, 0, 0, GB), [0], 1),
        1: N(T(512 * MB, 512 * MB, 0, 512 * MB, 1536 * MB), T(GB, GB, 0, 0, GB), [1]),
        2: N(T(512 * MB, 512 * MB, 0, 512 * MB, 1536 * MB), T(GB, GB, 0, 0, GB), [2]),
    }


def four_small_nodes() -> dict[int, NUMANodeState]:
    return {i: N(T(512 * MB, 512 * MB, 0, 512 * MB, GB), T(GB, GB, 0, 0, GB), [i]) for i in range(4)}


ALLOCATE_CASES = [
    pytest.param(
        {},
        base_ms(),
        R512,
        get_pod("pod1", "container1", BURSTABLE, QOS_BURSTABLE),
        NO_HINT,
        None,
        {},
        base_ms(),
        {},
        id="does nothing for non-guaranteed pods",
    ),
    pytest.param(
        {"pod1": {"container1": [B([0], MEM, GB)]}},
        base_ms(512 * MB, GB),
        R512,
        get_pod("pod1", "container1", GUARANTEED),
        NO_HINT,
        None,
        {"pod1": {"container1": [B([0], MEM, GB)]}},
        base_ms(512 * MB, GB),
        {},
        id="does nothing once the container is in the state",
    ),
    pytest.param(
        {},
        base_ms(cells=[0]),
        R512,
        get_pod("pod1", "container1", GUARANTEED),
        NO_HINT,
        None,
        {"pod1": {"container1": [B([0], MEM, GB), B([0], HP1G, GB)]}},
        base_ms(512 * MB, GB, 0, cells=[0], n=2),
        {},
        id="calculates a default hint when the topology manager gave none",
    ),
    pytest.param(
        {"pod1": {"container1": [B([0], MEM, GB), B([0], HP1G, GB)]}},
        base_ms(512 * MB, GB, 0, cells=[0], n=2),
        R512,
        get_pod("pod2", "container2", GUARANTEED),
        NO_HINT,
        ERR_NO_DEFAULT_HINT,
        None,
        None,
        {},
        id="fails when the default hint cannot be calculated",
    ),
    pytest.param(
        {"pod1": {"container1": [B([0], MEM, 512 * MB)]}},
        three_nodes(512 * MB),
        R512x3,
        get_pod("pod2", "container2", GUARANTEED),
        TopologyHint(None, True),
        ERR_DEFAULT_NOT_PREFERRED,
        None,
        None,
        {},
        id="fails when the preferred nil hint gets a non-preferred default",
    ),
    pytest.param(
        {},
        {
            0: N(T(512 * MB, 512 * MB, 0, 512 * MB, GB), T(GB, GB, 0, 0, GB), [0]),
            1: N(T(1536 * MB, 512 * MB, GB, 512 * MB, 2 * GB), T(GB, GB, 0, 0, GB), [1, 2], 1),
            2: N(T(1536 * MB, 512 * MB, GB, 512 * MB, 2 * GB), T(GB, GB, 0, 0, GB), [1, 2], 1),
        },
        R512x3,
        get_pod("pod1", "container1", GUARANTEED),
        H([0], False),
        ERR_NO_EXTENSION,
        None,
        None,
        {},
        id="fails when the hint cannot be extended",
    ),
    pytest.param(
        {"pod1": {"container1": [B([0], MEM, 512 * MB)]}},
        three_nodes(512 * MB),
        R512x3,
        get_pod("pod2", "container2", GUARANTEED),
        H([1], True),
        ERR_EXTENDED_NOT_PREFERRED,
        None,
        None,
        {},
        id="fails when the preferred hint extends to a non-preferred one",
    ),
    pytest.param(
        {},
        four_small_nodes(),
        R512x4,
        get_pod("pod1", "container1", GUARANTEED),
        TopologyHint(None, True),
        None,
        {"pod1": {"container1": [B([0, 1], MEM, GB), B([0, 1], HP1G, GB)]}},
        {
            0: N(T(512 * MB, 0, 512 * MB, 512 * MB, GB), T(GB, 0, GB, 0, GB), [0, 1], 2),
            1: N(T(512 * MB, 0, 512 * MB, 512 * MB, GB), T(GB, GB, 0, 0, GB), [0, 1], 2),
            2: N(T(512 * MB, 512 * MB, 0, 512 * MB, GB), T(GB, GB, 0, 0, GB), [2]),
            3: N(T(512 * MB, 512 * MB, 0, 512 * MB, GB), T(GB, GB, 0, 0, GB), [3]),
        },
        {},
        id="allocates memory from multiple NUMA nodes",
    ),
    pytest.param(
        {"pod1": {"container1": [B([0], MEM, 1024 * MB)]}},
        {
            0: N(T(1536 * MB, 512 * MB, 1024 * MB, 512 * MB, 2176 * MB), T(GB, GB, 0, 0, GB), [0], 1),
            1: N(T(512 * MB, 512 * MB, 0, 512 * MB, 2176 * MB), T(GB, GB, 0, 0, GB), [1]),
        },
        R512x2,
        get_pod("pod2", "container1", GUARANTEED),
        H([0, 1], True),
        ERR_VIOLATES_NUMA,
        None,
        None,
        {},
        id="a NUMA node cannot have both single and cross NUMA allocations",
    ),
    pytest.param(
        {},
        base_ms(),
        R512,
        mkpod("pod1", [ctr("container1", GUARANTEED)], resources=POD_LEVEL_GUARANTEED),
        NO_HINT,
        None,
        {},
        base_ms(),
        PLR_ONLY,
        id="does nothing for a pod with pod-level resources (PodLevelResourceManagers off)",
    ),
]


@pytest.mark.parametrize(
    ("assignments", "machine_state", "reserved", "pod", "hint", "error", "exp_assign", "exp_ms", "gates"),
    ALLOCATE_CASES,
)
def test_allocate(assignments, machine_state, reserved, pod, hint, error, exp_assign, exp_ms, gates) -> None:
    p, s = make(reserved, machine_state, assignments, hint=hint, gates=gates)
    if error is not None:
        before = s.clone()
        with pytest.raises(AllocationError) as e:
            p.allocate(s, pod, pod.containers[0])
        assert str(e.value) == error
        assert s == before  # a failed allocation changes nothing
        return
    p.allocate(s, pod, pod.containers[0])
    assert_state(s, exp_assign, exp_ms)


# --------------------------------------------------------------------------- init containers
def one_node(total_gb: int, alloc_mem: int, hp_gb: int) -> dict[int, NUMANodeState]:
    return {
        0: N(
            T(alloc_mem, alloc_mem, 0, 512 * MB, total_gb * GB),
            T(hp_gb * GB, hp_gb * GB, 0, 0, hp_gb * GB),
            [0],
        )
    }


def both(size: int) -> list[Block]:
    return [B([0], MEM, size), B([0], HP1G, size)]


INIT_CASES = [
    pytest.param(
        (1, 2),
        (3, 4),
        one_node(8, 7680 * MB, 8),
        None,
        {
            "initContainer1": both(0),
            "initContainer2": both(0),
            "container1": both(3 * GB),
            "container2": both(4 * GB),
        },
        {0: N(T(7680 * MB, 512 * MB, 7 * GB, 512 * MB, 8 * GB), T(8 * GB, GB, 7 * GB, 0, 8 * GB), [0], 8)},
        id="init 1Gi+2Gi, apps 3Gi+4Gi",
    ),
    pytest.param(
        (4, 3),
        (2, 1),
        one_node(8, 7680 * MB, 8),
        None,
        {
            "initContainer1": both(0),
            "initContainer2": both(GB),
            "container1": both(2 * GB),
            "container2": both(GB),
        },
        {
            0: N(
                T(7680 * MB, 3584 * MB, 4 * GB, 512 * MB, 8 * GB),
                T(8 * GB, 4 * GB, 4 * GB, 0, 8 * GB),
                [0],
                8,
            )
        },
        id="init 4Gi+3Gi, apps 2Gi+1Gi",
    ),
    pytest.param(
        (7, 4),
        (4, 3),
        one_node(8, 7680 * MB, 8),
        None,
        {
            "initContainer1": both(0),
            "initContainer2": both(0),
            "container1": both(4 * GB),
            "container2": both(3 * GB),
        },
        {0: N(T(7680 * MB, 512 * MB, 7 * GB, 512 * MB, 8 * GB), T(8 * GB, GB, 7 * GB, 0, 8 * GB), [0], 8)},
        id="init 7Gi+4Gi, apps 4Gi+3Gi",
    ),
    pytest.param(
        (7, 4),
        (5, 2),
        one_node(10, 10240 * MB, 10),
        {"pod0": {}},
        {
            "initContainer1": both(0),
            "initContainer2": both(0),
            "container1": both(5 * GB),
            "container2": both(2 * GB),
        },
        {
            0: N(
                T(10240 * MB, 3072 * MB, 7 * GB, 512 * MB, 10 * GB),
                T(10 * GB, 3 * GB, 7 * GB, 0, 10 * GB),
                [0],
                8,
            )
        },
        id="init 7Gi+4Gi, apps 5Gi+2Gi, another pod's reusable memory dropped",
    ),
]


@pytest.mark.parametrize(("inits", "apps", "machine_state", "reusable", "expected", "exp_ms"), INIT_CASES)
def test_allocate_with_init_containers(inits, apps, machine_state, reusable, expected, exp_ms) -> None:
    pod = mkpod(
        "pod1",
        [ctr(f"container{i + 1}", gi(v)) for i, v in enumerate(apps)],
        [ctr(f"initContainer{i + 1}", gi(v)) for i, v in enumerate(inits)],
    )
    p, s = make(R512, machine_state, hint=NO_HINT)
    if reusable is not None:
        p._reusable = reusable
    for c in pod.all_containers():
        p.allocate(s, pod, c)
    assert_state(s, {"pod1": expected}, exp_ms)
    assert "pod0" not in p._reusable


def test_allocate_restartable_init_containers_already_in_state() -> None:
    pod = mkpod("pod1", [ctr("container1", GUARANTEED)], [ctr("initContainer1", GUARANTEED, restartable=True)])
    assigned = {"pod1": {"initContainer1": [B([0], MEM, GB)], "container1": [B([0], MEM, GB)]}}
    ms = {0: N(T(2560 * MB, 512 * MB, 2048 * MB, 512 * MB, 3 * GB), T(2 * GB, 2 * GB, 0, 0, 2 * GB), [])}
    p, s = make(R512, ms, assigned, hint=NO_HINT)
    for c in pod.all_containers():
        p.allocate(s, pod, c)
    assert_state(s, assigned, ms)


def test_allocate_does_not_reuse_restartable_init_containers_memory() -> None:
    pod = mkpod(
        "pod1",
        [ctr("container1", GUARANTEED)],
        [
            ctr("initContainer1", gi(1)),
            ctr("restartableInitContainer2", gi(2), restartable=True),
            ctr("initContainer3", gi(3)),
            ctr("restartableInitContainer4", gi(4), restartable=True),
        ],
    )
    ms = {0: N(T(7 * GB, 7 * GB, 0, 512 * MB, 7680 * MB), T(7 * GB, 7 * GB, 0, 0, 7 * GB), [0])}
    p, s = make(R512, ms, hint=NO_HINT)
    for c in pod.all_containers():
        p.allocate(s, pod, c)
    expected = {
        "pod1": {
            "initContainer1": both(0),
            "restartableInitContainer2": both(2 * GB),
            "initContainer3": both(0),
            "restartableInitContainer4": both(4 * GB),
            "container1": both(GB),
        }
    }
    exp_ms = {0: N(T(7 * GB, 0, 7 * GB, 512 * MB, 7680 * MB), T(7 * GB, 0, 7 * GB, 0, 7 * GB), [0], 10)}
    assert_state(s, expected, exp_ms)


# --------------------------------------------------------------------------- RemoveContainer
REMOVE_CASES = [
    pytest.param({}, base_ms(), R512, {}, base_ms(), id="container not in the state"),
    pytest.param(
        {"pod1": {"container1": [B([0], MEM, GB), B([0], HP1G, GB)]}},
        base_ms(512 * MB, GB, 0, cells=[0], n=2),
        R512,
        {},
        base_ms(cells=[0]),
        id="deletes the assignment and frees the memory",
    ),
    pytest.param(
        {"pod1": {"container1": [B([0, 1], MEM, GB), B([0, 1], HP1G, GB)]}},
        {
            0: N(T(512 * MB, 0, 512 * MB, 512 * MB, GB), T(GB, 0, GB, 0, GB), [0, 1], 2),
            1: N(T(512 * MB, 0, 512 * MB, 512 * MB, GB), T(GB, GB, 0, 0, GB), [0, 1], 2),
        },
        R512x2,
        {},
        {
            0: N(T(512 * MB, 512 * MB, 0, 512 * MB, GB), T(GB, GB, 0, 0, GB), [0]),
            1: N(T(512 * MB, 512 * MB, 0, 512 * MB, GB), T(GB, GB, 0, 0, GB), [1]),
        },
        id="deletes a cross NUMA assignment and ungroups the nodes",
    ),
]


@pytest.mark.parametrize(("assignments", "machine_state", "reserved", "exp_assign", "exp_ms"), REMOVE_CASES)
def test_remove_container(assignments, machine_state, reserved, exp_assign, exp_ms) -> None:
    p, s = make(reserved, machine_state, assignments)
    p.remove_container(s, "pod1", "container1")
    assert_state(s, exp_assign, exp_ms)
    # the node groups are cleared exactly as the kubelet clears them
    for nid, node in exp_ms.items():
        if node.number_of_assignments == 0 and node.cells:
            assert s.machine_state[nid].cells == node.cells


# --------------------------------------------------------------------------- GetTopologyHints
def four_nodes_grouped() -> dict[int, NUMANodeState]:
    return {
        0: N(T(1536 * MB, 0, 1536 * MB, 512 * MB, 2 * GB), T(GB, 0, GB, 0, GB), [0, 1], 2),
        1: N(T(1536 * MB, GB, 512 * MB, 512 * MB, 2 * GB), T(GB, 0, GB, 0, GB), [0, 1], 2),
        2: N(T(1536 * MB, 1536 * MB, 0, 512 * MB, 2 * GB), T(GB, GB, 0, 0, GB), [2]),
        3: N(T(1536 * MB, 1536 * MB, 0, 512 * MB, 2 * GB), T(GB, GB, 0, 0, GB), [3]),
    }


def two_nodes(hugepages: bool = True) -> dict[int, NUMANodeState]:
    hp = T(GB, GB, 0, 0, GB) if hugepages else None
    return {i: N(T(2 * GB, 2 * GB, 0, 512 * MB, 3 * GB), hp, cells=[i]) for i in range(2)}


def hints_of(*names: str, masks: list[tuple[list[int], bool]]) -> dict[str, list[TopologyHint]]:
    return {name: [H(ids, pref) for ids, pref in masks] for name in names}


TWO_NODE_HINTS = [([0], True), ([1], True), ([0, 1], False)]

HINT_CASES = [
    pytest.param({}, {}, get_pod("pod1", "container1", BURSTABLE, QOS_BURSTABLE), None, None, id="non-guaranteed pod"),
    pytest.param(
        {"pod1": {"container1": [B([0], MEM, GB), B([0], HP1G, GB)]}},
        {},
        get_pod("pod1", "container1", GUARANTEED),
        None,
        hints_of(MEM, HP1G, masks=[([0], True)]),
        id="regenerated from the existing assignment",
    ),
    pytest.param(
        {"pod1": {"container1": [B([0, 1], MEM, 2 * GB), B([0, 1], HP1G, 2 * GB)]}},
        four_nodes_grouped(),
        get_pod("pod2", "container2", GUARANTEED),
        None,
        hints_of(MEM, HP1G, masks=[([2], True), ([3], True), ([2, 3], False)]),
        id="calculated for a new container",
    ),
    pytest.param(
        {"pod1": {"container1": [B([0], MEM, GB)]}},
        {},
        get_pod("pod1", "container1", GUARANTEED),
        None,
        None,
        id="existing assignment with fewer resources than requested",
    ),
    pytest.param(
        {"pod1": {"container1": [B([0], MEM, GB), B([0], HP2M, GB)]}},
        {},
        get_pod("pod1", "container1", GUARANTEED),
        None,
        None,
        id="existing assignment with other resources than requested",
    ),
    pytest.param(
        {"pod1": {"container1": [B([0], MEM, 512 * MB), B([0], HP1G, GB)]}},
        {},
        get_pod("pod1", "container1", GUARANTEED),
        None,
        None,
        id="existing assignment of another size",
    ),
    pytest.param(
        {"pod1": {"container1": [B([0, 1], MEM, 2 * GB), B([0, 1], HP2M, 24 * MB)]}},
        {
            0: N(
                T(1536 * MB, 0, 1536 * MB, 512 * MB, 2 * GB),
                hp2m=T(20 * MB, 0, 20 * MB, 0, 20 * MB),
                cells=[0, 1],
                n=2,
            ),
            1: N(
                T(1536 * MB, GB, 512 * MB, 512 * MB, 2 * GB),
                hp2m=T(20 * MB, 16 * MB, 4 * MB, 0, 20 * MB),
                cells=[0, 1],
                n=2,
            ),
        },
        get_pod("pod2", "container2", res({"cpu": "1000Mi", MEM: "1Gi", HP2M: "16Mi"})),
        None,
        hints_of(MEM, HP2M, masks=[([0, 1], False)]),
        id="multi NUMA hints not preferred when one node would do",
    ),
    pytest.param(
        {},
        {},
        mkpod("pod1", [ctr("container1", GUARANTEED)], resources=POD_LEVEL_GUARANTEED),
        PLR_ONLY,
        None,
        id="pod-level resources without PodLevelResourceManagers",
    ),
    pytest.param(
        {},
        two_nodes(),
        mkpod("pod1", [ctr("container1", GUARANTEED)], resources=POD_LEVEL_GUARANTEED),
        PLRM,
        hints_of(MEM, HP1G, masks=TWO_NODE_HINTS),
        id="pod-level resources with PodLevelResourceManagers",
    ),
    pytest.param(
        {},
        {},
        mkpod("pod1", [ctr("container1", GUARANTEED)], resources=POD_LEVEL_BURSTABLE, qos=QOS_BURSTABLE),
        PLRM,
        None,
        id="burstable pod with pod-level resources",
    ),
]


@pytest.mark.parametrize(("assignments", "machine_state", "pod", "gates", "expected"), HINT_CASES)
def test_get_topology_hints(assignments, machine_state, pod, gates, expected) -> None:
    reserved = {i: {MEM: 1024 * MB} for i in range(max(len(machine_state), 1))}
    p, s = make(reserved, machine_state, assignments, gates=gates)
    assert p.get_topology_hints(s, pod, pod.containers[0]) == expected


POD_HINT_CASES = [
    pytest.param(
        two_nodes(),
        get_pod("pod1", "container1", GUARANTEED),
        PLR_OFF,
        hints_of(MEM, HP1G, masks=TWO_NODE_HINTS),
        id="guaranteed pod without pod-level resources, gates off",
    ),
    pytest.param(
        {},
        get_pod("pod1", "container1", BURSTABLE, QOS_BURSTABLE),
        PLR_OFF,
        None,
        id="burstable pod, gates off",
    ),
    pytest.param(
        {},
        mkpod("pod1", [ctr("container1", GUARANTEED)], resources=POD_LEVEL_GUARANTEED),
        PLR_ONLY,
        None,
        id="pod-level resources, PodLevelResourceManagers off",
    ),
    pytest.param(
        two_nodes(False),
        mkpod("pod1", [ctr("container1", GUARANTEED)], resources=POD_LEVEL_GUARANTEED),
        PLRM,
        hints_of(MEM, masks=TWO_NODE_HINTS),
        id="pod-level resources, PodLevelResourceManagers on",
    ),
    pytest.param(
        two_nodes(False),
        mkpod("pod1", [ctr("container1", BURSTABLE)], resources=POD_LEVEL_GUARANTEED),
        PLRM,
        hints_of(MEM, masks=TWO_NODE_HINTS),
        id="pod-level resources override container resources",
    ),
    pytest.param(
        {},
        mkpod("pod1", [ctr("container1", GUARANTEED)], resources=POD_LEVEL_BURSTABLE, qos=QOS_BURSTABLE),
        PLRM,
        None,
        id="burstable pod-level resources",
    ),
    pytest.param(
        {},
        mkpod("pod1", [ctr("container1", BURSTABLE)], resources=POD_LEVEL_BURSTABLE, qos=QOS_BURSTABLE),
        PLRM,
        None,
        id="burstable pod-level and container resources",
    ),
]


@pytest.mark.parametrize(("machine_state", "pod", "gates", "expected"), POD_HINT_CASES)
def test_get_pod_topology_hints(machine_state, pod, gates, expected) -> None:
    p, s = make({0: {MEM: GB}, 1: {MEM: GB}}, machine_state, gates=gates)
    assert p.get_pod_topology_hints(s, pod) == expected


# --------------------------------------------------------------------------- getPodRequestedResources
def req_only(mem: str, hp: str) -> Resources:
    return Resources({MEM: q(mem), HP1G: q(hp)}, {})


POD_REQUEST_CASES = [
    pytest.param(
        [("1Gi", "1Gi", False), ("4Gi", "4Gi", False)],
        [("1Gi", "1Gi"), ("2Gi", "2Gi")],
        {MEM: 4 * GB, HP1G: 4 * GB},
        id="init maximum above the app total",
    ),
    pytest.param(
        [("1Gi", "1Gi", False), ("3Gi", "3Gi", False)],
        [("2Gi", "2Gi"), ("3Gi", "3Gi")],
        {MEM: 5 * GB, HP1G: 5 * GB},
        id="init maximum below the app total",
    ),
    pytest.param(
        [("1Gi", "1Gi", False), ("3Gi", "4Gi", False)],
        [("2Gi", "1Gi"), ("3Gi", "2Gi")],
        {MEM: 5 * GB, HP1G: 4 * GB},
        id="resources calculated independently",
    ),
    pytest.param(
        [("2Gi", "2Gi", True), ("4Gi", "4Gi", False)],
        [("1Gi", "1Gi"), ("2Gi", "2Gi")],
        {MEM: 6 * GB, HP1G: 6 * GB},
        id="init maximum with sidecars above the long-running total",
    ),
    pytest.param(
        [("2Gi", "2Gi", True), ("4Gi", "4Gi", False)],
        [("2Gi", "2Gi"), ("3Gi", "3Gi")],
        {MEM: 7 * GB, HP1G: 7 * GB},
        id="init maximum with sidecars below the long-running total",
    ),
]


@pytest.mark.parametrize(("inits", "apps", "expected"), POD_REQUEST_CASES)
def test_pod_requested_resources(inits, apps, expected) -> None:
    pod = mkpod(
        "",
        [ctr(f"container{i + 1}", req_only(m, h)) for i, (m, h) in enumerate(apps)],
        [ctr(f"init{i + 1}", req_only(m, h), restartable=r) for i, (m, h, r) in enumerate(inits)],
    )
    p, _ = make(R512)
    assert p._pod_requests(pod) == expected


# --------------------------------------------------------------------------- isAffinityViolating...
@pytest.mark.parametrize(
    ("nodes", "affinity", "violates"),
    [
        pytest.param({0: (1, [0, 1]), 1: (1, [0, 1]), 2: (1, [2]), 3: (0, [3])}, [1, 2], True, id="other group"),
        pytest.param({0: (0, [0, 1]), 1: (1, [1])}, [0, 1], True, id="node used for single NUMA"),
        pytest.param({0: (0, [0]), 1: (0, [1])}, [0, 1], False, id="no prior assignments"),
    ],
)
def test_is_affinity_violating_numa_allocations(nodes, affinity, violates) -> None:
    ms = {nid: N(cells=cells, n=n) for nid, (n, cells) in nodes.items()}
    assert is_affinity_violating_numa_allocations(ms, mask_of(affinity)) is violates


# --------------------------------------------------------------------------- validatePodScopeResources
def multi_pod(budget: str, inits: list[tuple], apps: list[tuple]) -> Pod:
    """``makeMultiContainerPodWithOptionsAndPodLevelResources``: pod-level memory only; a
    container with a request gets cpu 1/1 and memory request/limit."""

    def make_ctr(name: str, opts: tuple) -> Container:
        request = opts[0] if opts else ""
        limit = opts[1] if len(opts) > 1 else ""
        restartable = len(opts) > 2 and opts[2]
        r = res({"cpu": "1", MEM: request}, {"cpu": "1", MEM: limit}) if request else None
        return ctr(name, r, restartable)

    return mkpod(
        "podUID",
        [make_ctr(f"appContainer-{i}", o) for i, o in enumerate(apps)],
        [make_ctr(f"initContainer-{i}", o) for i, o in enumerate(inits)],
        resources=res({MEM: budget}),
    )


SHARED_EQUALS_BUDGET = (
    "pod rejected, sum of exclusive container memory requests equals pod budget, "
    "leaving no memory for shared containers"
)
NO_SHARED_INIT = "pod rejected, pod has shared init containers but no memory available for them"

VALIDATE_CASES = [
    pytest.param("2Gi", [], [("1Gi", "1Gi"), ()], None, id="budget above exclusive, shared containers"),
    pytest.param("2Gi", [], [("1Gi", "1Gi"), ("1Gi", "1Gi")], None, id="only exclusive containers"),
    pytest.param("2Gi", [], [(), ()], None, id="only shared containers"),
    pytest.param(
        "6Gi",
        [],
        [("3Gi", "3Gi"), ("2Gi", "2Gi"), ("500Gi", "1Gi"), ()],
        None,
        id="shared container with a request",
    ),
    pytest.param("5Gi", [], [("2Gi", "2Gi"), ("3Gi", "3Gi"), ()], SHARED_EQUALS_BUDGET, id="budget used up"),
    pytest.param(
        "2Gi",
        [("1Gi", "1Gi"), ("1Gi", "1Gi", True)],
        [()],
        None,
        id="standard and restartable init containers",
    ),
    pytest.param("2Gi", [("1Gi", "1Gi", True)], [("1Gi", "1Gi")], None, id="no shared containers"),
    pytest.param(
        "2Gi",
        [("2Gi", "2Gi", True), ()],
        [],
        NO_SHARED_INIT,
        id="sidecar uses the budget before a shared init",
    ),
    pytest.param("2Gi", [(), ("2Gi", "2Gi", True)], [], None, id="shared init before the sidecar"),
    pytest.param("2Gi", [("2Gi", "2Gi"), ("2Gi", "2Gi", True)], [], None, id="exclusive init then sidecar"),
    pytest.param(
        "2Gi",
        [("2Gi", "2Gi", True), ("", "", True)],
        [],
        SHARED_EQUALS_BUDGET,
        id="sidecar uses the budget of a shared sidecar",
    ),
    pytest.param("2Gi", [("1Gi", "1Gi", True)], [("1Gi", "1Gi")], None, id="sidecar and app container"),
]


@pytest.mark.parametrize(("budget", "inits", "apps", "error"), VALIDATE_CASES)
def test_validate_pod_scope_resources(budget, inits, apps, error) -> None:
    p, _ = make({0: {MEM: 256 * MB}}, topology=topo({0: (8 * GB, 0)}), gates=PLRM)
    pod = multi_pod(budget, inits, apps)
    if error is None:
        p._validate_pod_scope_resources(pod)
    else:
        with pytest.raises(AllocationError) as e:
            p._validate_pod_scope_resources(pod)
        assert str(e.value) == error


# --------------------------------------------------------------------------- AllocatePod
def pod_level_pod(name: str, budget: str, inits: list[tuple], apps: list[tuple], limit: str | None = None) -> Pod:
    """``getPodWithContainersAndPodLevelResources``: containers with cpu 1/1 and optional
    memory; pod-level cpu 3/3 and memory."""

    def make_ctr(spec: tuple) -> Container:
        cname, mem = spec[0], spec[1]
        restartable = len(spec) > 2 and spec[2]
        requests = {"cpu": "1"} | ({MEM: mem} if mem else {})
        return ctr(cname, res(requests), restartable)

    lim = limit or budget
    qos = QOS_GUARANTEED if lim == budget else QOS_BURSTABLE
    return mkpod(
        name,
        [make_ctr(a) for a in apps],
        [make_ctr(i) for i in inits],
        resources=res({"cpu": "3", MEM: budget}, {"cpu": "3", MEM: lim}),
        qos=qos,
    )


POD_MS = {i: N(T(1536 * MB, 1536 * MB, 0, 512 * MB, 2 * GB), cells=[i]) for i in range(2)}


def pod_ms(free0: int, free1: int, cells: list[int], n: int = 1) -> dict[int, NUMANodeState]:
    return {
        0: N(
            T(1536 * MB, free0, 1536 * MB - free0, 512 * MB, 2 * GB),
            cells=cells if 0 in cells else [0],
            n=n if 0 in cells else 0,
        ),
        1: N(
            T(1536 * MB, free1, 1536 * MB - free1, 512 * MB, 2 * GB),
            cells=cells if 1 in cells else [1],
            n=n if 1 in cells else 0,
        ),
    }


def mem01(size: int) -> list[Block]:
    return [B([0, 1], MEM, size)]


ALLOCATE_POD_CASES = [
    pytest.param(
        pod_level_pod("pod1", "1Gi", [], [("container1", "512Mi")]),
        H([0], True),
        None,
        {"pod1": {"container1": [B([0], MEM, 512 * MB)]}},
        pod_ms(512 * MB, 1536 * MB, [0]),
        id="guaranteed pod with pod-level resources",
    ),
    pytest.param(
        pod_level_pod("pod2", "2Gi", [], [("container1", "1Gi")]),
        H([1], True),
        None,
        {"pod2": {"container1": mem01(GB)}},
        pod_ms(1024 * MB, 0, [0, 1]),
        id="hint extended to two NUMA nodes",
    ),
    pytest.param(
        pod_level_pod("pod3", "2Gi", [], [("container1", ""), ("container2", "")]),
        H([0, 1], True),
        None,
        {"pod3": {"container1": mem01(2 * GB), "container2": mem01(2 * GB)}},
        pod_ms(512 * MB, 512 * MB, [0, 1]),
        id="shared containers get the whole budget",
    ),
    pytest.param(
        pod_level_pod("pod3", "2Gi", [], [("container1", "1Gi"), ("container2", ""), ("container3", "")]),
        H([0, 1], True),
        None,
        {"pod3": {"container1": mem01(GB), "container2": mem01(GB), "container3": mem01(GB)}},
        pod_ms(512 * MB, 512 * MB, [0, 1]),
        id="exclusive and shared containers",
    ),
    pytest.param(
        pod_level_pod("pod4", "2Gi", [("init-container1", "2Gi")], [("container1", "1Gi"), ("container2", "")]),
        H([0, 1], True),
        None,
        {"pod4": {"init-container1": mem01(2 * GB), "container1": mem01(GB), "container2": mem01(GB)}},
        pod_ms(512 * MB, 512 * MB, [0, 1]),
        id="exclusive init container",
    ),
    pytest.param(
        pod_level_pod(
            "pod4",
            "3Gi",
            [("init-container1", ""), ("init-restartable-container2", "1Gi", True), ("init-container3", "")],
            [("container1", "1Gi"), ("container2", "")],
        ),
        H([0, 1], True),
        None,
        {
            "pod4": {
                "init-container1": mem01(3 * GB),
                "init-restartable-container2": mem01(GB),
                "init-container3": mem01(2 * GB),
                "container1": mem01(GB),
                "container2": mem01(GB),
            }
        },
        pod_ms(0, 0, [0, 1]),
        id="exclusive sidecar between shared init containers",
    ),
    pytest.param(
        pod_level_pod(
            "pod4",
            "3Gi",
            [("init-container1", ""), ("init-restartable-container2", "", True), ("init-container3", "")],
            [("container1", "1Gi"), ("container2", "")],
        ),
        H([0, 1], True),
        None,
        {
            "pod4": {
                "init-container1": mem01(3 * GB),
                "init-restartable-container2": mem01(2 * GB),
                "init-container3": mem01(3 * GB),
                "container1": mem01(GB),
                "container2": mem01(2 * GB),
            }
        },
        pod_ms(0, 0, [0, 1]),
        id="shared sidecar and shared init containers",
    ),
    pytest.param(
        pod_level_pod("pod4", "2Gi", [("init-container1", "")], [("container1", "1Gi"), ("container2", "")]),
        H([0, 1], True),
        None,
        {"pod4": {"init-container1": mem01(2 * GB), "container1": mem01(GB), "container2": mem01(GB)}},
        pod_ms(512 * MB, 512 * MB, [0, 1]),
        id="shared init container",
    ),
    pytest.param(
        pod_level_pod("pod3", "2Gi", [], [("container1", "1Gi"), ("container2", "1Gi"), ("container3", "")]),
        NO_HINT,
        SHARED_EQUALS_BUDGET,
        {},
        POD_MS,
        id="rejects an empty pod shared pool",
    ),
    pytest.param(
        pod_level_pod("pod3", "1Gi", [], [("container1", "1Gi"), ("container2", ""), ("container3", "")], "2Gi"),
        NO_HINT,
        None,
        {},
        POD_MS,
        id="non-guaranteed pod",
    ),
]


# TestStaticPolicyAllocatePod's requiredMetrics, case by case: (expTotalAllocs, expExclusiveAssignments,
# expPodSharedPoolAssignments, expTotalErrors) of resource_manager_* {resource_name="memory"}
REQUIRED_METRICS = dict(
    zip(
        [c.id for c in ALLOCATE_POD_CASES],
        [
            (1, 1, 0, 0),
            (1, 1, 0, 0),
            (2, 0, 2, 0),
            (3, 1, 2, 0),
            (3, 2, 1, 0),
            (5, 2, 3, 0),
            (5, 1, 4, 0),
            (3, 1, 2, 0),
            (0, 0, 0, 1),
            (0, 0, 0, 0),
        ],
        strict=True,
    )
)


@pytest.mark.parametrize(("pod", "hint", "error", "exp_assign", "exp_ms"), ALLOCATE_POD_CASES)
def test_allocate_pod(request: pytest.FixtureRequest, pod, hint, error, exp_assign, exp_ms) -> None:
    p, s = make(R512x2, POD_MS, topology=topo({0: (2 * GB, 0), 1: (2 * GB, 0)}), hint=hint, gates=PLRM)
    allocs, exclusive, shared, errors = REQUIRED_METRICS[request.node.callspec.id]
    m = p.metrics
    if error is not None:
        with pytest.raises(EmptyPodSharedPoolError) as e:
            p.allocate_pod(s, pod)
        assert e.value.message == error
        assert e.value.reason == "EmptyPodSharedPoolError"
        assert_state(s, {}, exp_ms)
        assert m.memory_pod_allocation_errors == errors
        return
    p.allocate_pod(s, pod)
    assert_state(s, exp_assign, exp_ms)
    assert (m.memory_pod_allocations, m.memory_pod_exclusive, m.memory_pod_shared) == (allocs, exclusive, shared)


def test_allocate_pod_records_the_pod_budget_and_releases_it_with_the_last_container() -> None:
    p, s = make(R512x2, POD_MS, hint=H([0, 1], True), gates=PLRM)
    pod = pod_level_pod("pod3", "2Gi", [], [("container1", "1Gi"), ("container2", "")])
    p.allocate_pod(s, pod)
    assert s.pod_assignments == {"pod3": mem01(2 * GB)}
    p.remove_container(s, "pod3", "container1")
    assert are_machine_states_equal(s.machine_state, pod_ms(512 * MB, 512 * MB, [0, 1]))
    assert "pod3" in s.pod_assignments
    p.remove_container(s, "pod3", "container2")
    assert s.assignments == {} and s.pod_assignments == {}
    assert are_machine_states_equal(s.machine_state, POD_MS)
    assert [n.cells for n in s.machine_state.values()] == [[0], [1]]


def test_pod_hints_after_allocate_pod_regenerate_from_the_first_container() -> None:
    """1.36 compares the first allocated container's blocks with the pod budget."""
    p, s = make(R512x2, POD_MS, hint=H([0], True), gates=PLRM)
    shared = pod_level_pod("pod1", "1Gi", [], [("container1", "")])
    p.allocate_pod(s, shared)
    assert p.get_pod_topology_hints(s, shared) == {MEM: [H([0], True)]}
    partial = pod_level_pod("pod2", "1Gi", [], [("container1", "512Mi"), ("container2", "")])
    p._affinity = FixedAffinity(H([1], True))
    p.allocate_pod(s, partial)
    assert p.get_pod_topology_hints(s, partial) is None


def test_pod_hints_empty_when_the_shared_pool_would_be_empty() -> None:
    p, s = make(R512x2, POD_MS, gates=PLRM)
    pod = pod_level_pod("pod3", "2Gi", [], [("container1", "1Gi"), ("container2", "1Gi"), ("container3", "")])
    assert p.get_pod_topology_hints(s, pod) == {MEM: []}


# --------------------------------------------------------------------------- 1.36 quirks (container scope)
def test_container_scope_pod_level_shared_container_without_hint_is_rejected() -> None:
    """Known upstream bug (fixed in 1.37): an empty request with a nil hint finds no default."""
    p, s = make(R512x2, POD_MS, hint=NO_HINT, gates=PLRM)
    pod = pod_level_pod("pod1", "2Gi", [], [("exclusive", "1Gi"), ("shared", "")])
    p.allocate(s, pod, pod.containers[0])
    assert s.assignments["pod1"]["exclusive"] == [B([0], MEM, GB)]
    with pytest.raises(AllocationError) as e:
        p.allocate(s, pod, pod.containers[1])
    assert str(e.value) == (
        "[memorymanager] failed to get the default NUMA affinity, no NUMA nodes with enough memory is available"
    )


def test_container_scope_pod_level_shared_container_with_hint() -> None:
    # the all-NUMA hint of "no preference" is fine on an idle node: the container gets no blocks
    p, s = make(R512x2, POD_MS, hint=H([0, 1], True), gates=PLRM)
    pod = pod_level_pod("pod1", "2Gi", [], [("shared", "")])
    p.allocate(s, pod, pod.containers[0])
    assert s.assignments == {"pod1": {"shared": []}}
    assert p.get_topology_hints(s, pod, pod.containers[0]) == {}
    # ... but violates the groups once a node holds a single-NUMA allocation
    p2, s2 = make(R512x2, POD_MS, hint=H([0], True), gates=PLRM)
    other = get_pod("other", "c", res({"cpu": "1", MEM: "1Gi"}))
    p2.allocate(s2, other, other.containers[0])
    p2._affinity = FixedAffinity(H([0, 1], True))
    with pytest.raises(AllocationError, match="preferred hint violates NUMA node allocation"):
        p2.allocate(s2, pod, pod.containers[0])


def test_pod_level_pod_skipped_without_pod_level_resources_gate() -> None:
    p, s = make(R512x2, POD_MS, hint=NO_HINT, gates={POD_LEVEL_RESOURCES: False, POD_LEVEL_RESOURCE_MANAGERS: True})
    pod = pod_level_pod("pod1", "2Gi", [], [("c", "1Gi")])
    assert p.get_topology_hints(s, pod, pod.containers[0]) is None
    assert p.get_pod_topology_hints(s, pod) is None
    p.allocate(s, pod, pod.containers[0])
    assert s.assignments == {}


# --------------------------------------------------------------------------- misc
def test_get_allocatable_memory() -> None:
    machine = topo({0: (3 * GB, 1), 1: (3 * GB, 0)})
    p, s = make(R512x2, topology=machine)
    p.start(s)
    got = p.get_allocatable_memory(s)
    assert got == [B([0], MEM, 1536 * MB), B([0], HP1G, GB), B([1], MEM, 2560 * MB)]


def test_none_policy() -> None:
    p = NoneMemoryPolicy()
    s = MemoryManagerState()
    pod = get_pod("pod1", "c", GUARANTEED)
    p.start(s)
    assert p.name == "None"
    assert p.get_topology_hints(s, pod, pod.containers[0]) is None
    assert p.get_pod_topology_hints(s, pod) is None
    p.allocate(s, pod, pod.containers[0])
    p.allocate_pod(s, pod)
    p.remove_container(s, "pod1", "c")
    assert p.get_allocatable_memory(s) == []
    assert s == MemoryManagerState()


# --------------------------------------------------------------------------- calculateHints vs a literal port
def reference_calculate_hints(
    ms: dict[int, NUMANodeState], reusable: dict[int, dict[str, int]], requested: dict[str, int]
) -> dict[str, list[TopologyHint]]:
    """calculateHints transcribed literally (no precomputation)."""
    ids = sorted(ms)
    min_size = len(ids)
    hints: dict[str, list[TopologyHint]] = {}
    for size in range(1, len(ids) + 1):
        for combo in combinations(ids, size):
            mask_bits = list(combo)
            single = len(mask_bits) == 1
            free = dict.fromkeys(requested, 0)
            alloc = dict.fromkeys(requested, 0)
            for nid in mask_bits:
                for r in requested:
                    t = ms[nid].memory_map.get(r)
                    free[r] += t.free if t else 0
                    alloc[r] += t.allocatable if t else 0
            if any(alloc[r] < v for r, v in requested.items()):
                continue
            min_size = min(min_size, size)
            if single and len(ms[mask_bits[0]].cells) > 1:
                continue
            bad = False
            for nid in mask_bits:
                node = ms[nid]
                if (
                    not single
                    and node.number_of_assignments > 0
                    and (len(node.cells) == 1 or sorted(node.cells) != mask_bits)
                ):
                    bad = True
                    break
            if bad:
                continue
            m = mask_of(mask_bits)
            if any(free[r] + reusable.get(m, {}).get(r, 0) < v for r, v in requested.items()):
                continue
            for r in requested:
                hints.setdefault(r, []).append(TopologyHint(m, False))
    return {r: [TopologyHint(h.mask, bin(h.mask).count("1") == min_size) for h in hs] for r, hs in hints.items()}


@st.composite
def machine_states(
    draw: st.DrawFn,
) -> tuple[dict[int, NUMANodeState], dict[int, dict[str, int]], dict[str, int]]:
    n = draw(st.integers(1, 5))
    ids = sorted(draw(st.sets(st.integers(0, 7), min_size=n, max_size=n)))
    ms: dict[int, NUMANodeState] = {}
    for nid in ids:
        alloc = draw(st.integers(0, 8)) * GB // 2
        free = draw(st.integers(0, alloc // (GB // 2))) * GB // 2
        hp_alloc = draw(st.integers(0, 4)) * GB
        used = draw(st.booleans())
        cells = [nid]
        kind = draw(st.integers(0, 4))
        if kind == 1 and len(ids) > 1:  # a proper group
            cells = sorted(draw(st.sets(st.sampled_from(ids), min_size=2, max_size=len(ids))))
        elif kind == 2:  # odd checkpoint contents: empty, duplicates, unknown nodes
            cells = draw(st.lists(st.integers(0, 9), max_size=3))
        ms[nid] = N(T(alloc, free, alloc - free, 0, alloc), T(hp_alloc, hp_alloc, 0, 0, hp_alloc), cells, int(used))
    requested = {MEM: draw(st.integers(0, 12)) * GB // 2}
    if draw(st.booleans()):
        requested[HP1G] = draw(st.integers(0, 6)) * GB
    reusable: dict[int, dict[str, int]] = {}
    for _ in range(draw(st.integers(0, 3))):
        combo = draw(st.sets(st.sampled_from(ids), min_size=1))
        reusable[mask_of(combo)] = {MEM: draw(st.integers(0, 4)) * GB // 2}
    return ms, reusable, requested


@settings(max_examples=300, deadline=None)
@given(machine_states())
def test_calculate_hints_matches_a_literal_port(case) -> None:
    ms, reusable, requested = case
    p, _ = make(R512)
    p._reusable = {"pod": reusable}
    got = p._calculate_hints(ms, "pod", requested)
    assert got == reference_calculate_hints(ms, reusable, requested)


def test_calculate_hints_on_sixteen_numa_nodes() -> None:
    # (speed is measured by benchmarks/large_numa.py, never in a timed test)
    ms = {i: N(T(4 * GB, 4 * GB, 0, 0, 4 * GB), T(GB, GB, 0, 0, GB), [i]) for i in range(16)}
    p, _ = make(R512)
    hints = p._calculate_hints(ms, "pod", {MEM: 6 * GB, HP1G: 2 * GB})
    assert len(hints[MEM]) == 2**16 - 1 - 16
    assert sum(h.preferred for h in hints[MEM]) == 120
