"""The static CPU policy's topology hints, ported from cpumanager/topology_hints_test.go (1.36).

TestPodGuaranteedCPUs, TestGetTopologyHints, TestGetPodTopologyHints,
TestGetPodTopologyHintsWithPolicyOptions (align-by-socket) and
TestTopologyHintsPodLevelResources.

The Go tests build ``staticPolicy{topology: ...}`` by hand: no reserved CPUs,
default options (or the parsed ones), so :func:`bare_policy` does the same.
The machine of ``returnMachineInfo()`` goes through ``topology.Discover``; here
through :func:`topolet.io.cadvisor.topology_from_machine_info`.

Hint lists are compared as the Go tests compare them: sorted (order is not
part of the contract). In TestGetTopologyHints/TestGetPodTopologyHints an
expected empty list and a nil list are the same ("len == 0 on both sides"); in
TestTopologyHintsPodLevelResources ``reflect.DeepEqual`` tells nil (no cpu
entry: ``None`` here) from an empty list.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from topolet.engine.cpumanager.policy_options import (
    ALIGN_BY_SOCKET,
    StaticPolicyOptions,
    new_static_policy_options,
)
from topolet.engine.cpumanager.policy_static import StaticCPUPolicy
from topolet.engine.cpumanager.state import CPUManagerState
from topolet.engine.hint import AffinityStore, ProviderHints, TopologyHint
from topolet.io.cadvisor import topology_from_machine_info
from topolet.model import presets_upstream as pu
from topolet.model.cpuset import bits_of, parse_bits
from topolet.model.features import (
    CPU_MANAGER_POLICY_ALPHA_OPTIONS,
    POD_LEVEL_RESOURCE_MANAGERS,
    POD_LEVEL_RESOURCES,
    FeatureGates,
)
from topolet.model.pod import CPU, MEMORY, Container, Pod, Resources
from topolet.model.qos import compute_pod_qos
from topolet.model.quantity import Quantity
from topolet.model.topology import Topology


def cpus(*ids: int) -> int:
    return bits_of(ids)


def mask(*ids: int) -> int:
    return bits_of(ids)


# --------------------------------------------------------------------------- machine, policy


def return_machine_info() -> Topology:
    """``returnMachineInfo()`` through ``topology.Discover``: 2 NUMA nodes/sockets of 3 cores, SMT2."""
    cores0 = [{"socket_id": 0, "core_id": i, "thread_ids": [i, i + 6], "uncore_caches": [{"id": 1}]} for i in range(3)]
    cores1 = [
        {"socket_id": 1, "core_id": i, "thread_ids": [i + 3, i + 9], "uncore_caches": [{"id": 1}]} for i in range(3)
    ]
    return topology_from_machine_info(
        {"num_cores": 12, "topology": [{"node_id": 0, "cores": cores0}, {"node_id": 1, "cores": cores1}]}
    )


MACHINE = return_machine_info()
MN = pu.topo_dual_socket_multi_numa_per_socket_ht(go_literal_uncore=True)  # topoDualSocketMultiNumaPerSocketHT


def bare_policy(
    topology: Topology, gates: dict[str, bool] | None = None, options: StaticPolicyOptions | None = None
) -> StaticCPUPolicy:
    """``&staticPolicy{topology: t, options: o}``: nothing reserved."""
    return StaticCPUPolicy(
        topology, 0, None, AffinityStore(), options or StaticPolicyOptions(), FeatureGates(gates or {})
    )


def state(assignments: dict[str, dict[str, int]] | None, default: int) -> CPUManagerState:
    return CPUManagerState("static", default, {p: dict(c) for p, c in (assignments or {}).items()})


def cpu_hints(h: ProviderHints) -> list[TopologyHint] | None:
    """``m.GetTopologyHints(...)[string(v1.ResourceCPU)]`` (a nil map reads as a nil list)."""
    if h is None:
        return None
    return h.get(CPU)


def ordered(hints: list[TopologyHint] | None) -> list[tuple[int | None, bool]] | None:
    if hints is None:
        return None
    return sorted(((h.mask, h.preferred) for h in hints), key=lambda x: (x[0] or 0, x[1]))


def H(m: int, preferred: bool) -> TopologyHint:
    return TopologyHint(m, preferred)


# --------------------------------------------------------------------------- pods (cpu_manager_test.go helpers)


def q(v: str) -> Quantity:
    return Quantity.parse(v)


def _cpu_mem(request: str, limit: str) -> Resources:
    return Resources({CPU: q(request), MEMORY: q("1G")}, {CPU: q(limit), MEMORY: q("1G")})


def make_pod(uid: str, container: str, request: str, limit: str, plr: bool = True) -> Pod:
    """``makePod``."""
    pod = Pod(name="", uid=uid, containers=[Container(container, _cpu_mem(request, limit))])
    pod.qos_class = compute_pod_qos(pod, plr)
    return pod


def make_pod_with_pod_level_resources(
    uid: str, pod_request: str, pod_limit: str, container: str, request: str, limit: str, plr: bool = True
) -> Pod:
    """``makePodWithPodLevelResources``."""
    pod = make_pod(uid, container, request, limit)
    pod.resources = _cpu_mem(pod_request, pod_limit)
    pod.qos_class = compute_pod_qos(pod, plr)
    return pod


@dataclass(frozen=True)
class Opt:
    """``containerOptions``."""

    request: str = ""
    limit: str = ""
    restart_policy: str | None = None


def make_multi_container_pod_with_options(init: list[Opt], app: list[Opt], plr: bool = True) -> Pod:
    """``makeMultiContainerPodWithOptions``."""

    def ctr(prefix: str, i: int, o: Opt, init_container: bool) -> Container:
        r = _cpu_mem(o.request, o.limit) if o.request else Resources()
        return Container(f"{prefix}-{i}", r, o.restart_policy if init_container else None)

    pod = Pod(
        name="pod",
        uid="podUID",
        init_containers=[ctr("initContainer", i, o, True) for i, o in enumerate(init)],
        containers=[ctr("appContainer", i, o, False) for i, o in enumerate(app)],
    )
    pod.qos_class = compute_pod_qos(pod, plr)
    return pod


ALWAYS = "Always"
PLRM_ON = {POD_LEVEL_RESOURCES: True, POD_LEVEL_RESOURCE_MANAGERS: True}

# =========================================================================== TestPodGuaranteedCPUs

O0 = [Opt("0", "0")]
O1 = [Opt("2", "2")]
O2 = [Opt("5", "5")]
O3 = [Opt("2", "2"), Opt("4", "4")]

POD_GUARANTEED = [
    (
        "TestCase01: if requestedCPU == 0, Pod is not Guaranteed Qos",
        make_multi_container_pod_with_options(O0, O0),
        0,
        {},
    ),
    (
        "TestCase02: if requestedCPU == 0, Pod is not Guaranteed Qos",
        make_multi_container_pod_with_options(O0, O1),
        0,
        {},
    ),
    (
        "TestCase03: if requestedCPU == 0, Pod is not Guaranteed Qos",
        make_multi_container_pod_with_options(O1, O0),
        0,
        {},
    ),
    ("TestCase04: Guaranteed Pod requests 2 CPUs", make_multi_container_pod_with_options(O1, O1), 2, {}),
    ("TestCase05: Guaranteed Pod requests 5 CPUs", make_multi_container_pod_with_options(O2, O2), 5, {}),
    (
        "TestCase06: The number of CPUs requested By app is bigger than the number of CPUs requested by init",
        make_multi_container_pod_with_options(O1, O2),
        5,
        {},
    ),
    (
        "TestCase07: The number of CPUs requested By init is bigger than the number of CPUs requested by app",
        make_multi_container_pod_with_options(O2, O1),
        5,
        {},
    ),
    (
        "TestCase08: Sum of CPUs requested by multiple containers",
        make_multi_container_pod_with_options(O3, O3),
        6,
        {},
    ),
    (
        "TestCase09: restartable init container + regular container",
        make_multi_container_pod_with_options([Opt("1", "1", ALWAYS)], [Opt("1", "1")]),
        2,
        {},
    ),
    (
        # (sic: the Go table numbers this one 09 too)
        "TestCase09: multiple restartable init containers",
        make_multi_container_pod_with_options(
            [Opt("5", "5"), Opt("1", "1", ALWAYS), Opt("2", "2", ALWAYS), Opt("3", "3", ALWAYS)], [Opt("1", "1")]
        ),
        7,
        {},
    ),
    (
        "TestCase11: multiple restartable and regular init containers",
        make_multi_container_pod_with_options(
            [
                Opt("5", "5"),
                Opt("1", "1", ALWAYS),
                Opt("2", "2", ALWAYS),
                Opt("5", "5"),
                Opt("3", "3", ALWAYS),
            ],
            [Opt("1", "1")],
        ),
        8,
        {},
    ),
    (
        "TestCase12: restartable init, regular init and regular container",
        make_multi_container_pod_with_options([Opt("10", "10", ALWAYS), Opt("200", "200")], [Opt("100", "100")]),
        210,
        {},
    ),
    (
        "TestCase13: Pod with pod-level resources and PodLevelResourceManagers enabled",
        make_pod_with_pod_level_resources("fakePodWithPLR", "3", "3", "fakeContainer", "1", "1"),
        3,
        PLRM_ON,
    ),
]


@pytest.mark.parametrize(
    ("name", "pod", "expected", "gates"),
    POD_GUARANTEED,
    ids=[c[0] for c in POD_GUARANTEED],
)
def test_pod_guaranteed_cpus(name: str, pod: Pod, expected: int, gates: dict[str, bool]) -> None:
    assert bare_policy(MACHINE, gates).pod_guaranteed_cpus(pod) == expected


# =========================================================================== returnTestCases

FIRST, SECOND, CROSS = mask(0), mask(1), mask(0, 1)


@dataclass
class HintCase:
    name: str
    pod: Pod
    default: int
    expected: list[TopologyHint] | None
    assignments: dict[str, dict[str, int]] = field(default_factory=dict)
    gates: dict[str, bool] = field(default_factory=dict)


def return_test_cases() -> list[HintCase]:
    pod1 = make_pod("fakePod", "fakeContainer", "2", "2")
    pod2 = make_pod("fakePod", "fakeContainer", "5", "5")
    pod3 = make_pod("fakePod", "fakeContainer", "7", "7")
    pod4 = make_pod("fakePod", "fakeContainer", "11", "11")
    pod5 = make_pod_with_pod_level_resources("fakePod", "3", "3", "fakeContainer", "2", "2")
    burstable_plr = make_pod_with_pod_level_resources("burstablePod", "2", "4", "c1", "1", "2")
    avail = cpus(2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
    # The Go loop sets gates with the outer t (they stick for the later cases); only the last
    # three cases set any, in this order, so each case's own settings are what is in force.
    plr_only = {POD_LEVEL_RESOURCES: True}
    return [
        HintCase(
            "Request 2 CPUs, 4 available on NUMA 0, 6 available on NUMA 1",
            pod1,
            avail,
            [H(FIRST, True), H(SECOND, True), H(CROSS, False)],
        ),
        HintCase(
            "Request 5 CPUs, 4 available on NUMA 0, 6 available on NUMA 1",
            pod2,
            avail,
            [H(SECOND, True), H(CROSS, False)],
        ),
        HintCase("Request 7 CPUs, 4 available on NUMA 0, 6 available on NUMA 1", pod3, avail, [H(CROSS, True)]),
        HintCase("Request 11 CPUs, 4 available on NUMA 0, 6 available on NUMA 1", pod4, avail, None),
        HintCase("Request 2 CPUs, 1 available on NUMA 0, 1 available on NUMA 1", pod1, cpus(0, 3), [H(CROSS, False)]),
        HintCase("Request more CPUs than available", pod2, cpus(0, 1, 2, 3), None),
        HintCase(
            "Regenerate Single-Node NUMA Hints if already allocated 1/2",
            pod1,
            0,
            [H(FIRST, True), H(CROSS, False)],
            {"fakePod": {"fakeContainer": cpus(0, 6)}},
        ),
        HintCase(
            "Regenerate Single-Node NUMA Hints if already allocated 1/2",
            pod1,
            0,
            [H(SECOND, True), H(CROSS, False)],
            {"fakePod": {"fakeContainer": cpus(3, 9)}},
        ),
        HintCase(
            "Regenerate Cross-NUMA Hints if already allocated",
            pod4,
            0,
            [H(CROSS, True)],
            {"fakePod": {"fakeContainer": parse_bits("0-10")}},
        ),
        HintCase(
            "Requested less than already allocated",
            pod1,
            0,
            [],
            {"fakePod": {"fakeContainer": cpus(0, 6, 3, 9)}},
        ),
        HintCase(
            "Requested more than already allocated",
            pod4,
            0,
            [],
            {"fakePod": {"fakeContainer": cpus(0, 6, 3, 9)}},
        ),
        HintCase(
            "Pod has pod level resources but PodLevelResourceManagersEnabled is disabled, no hint generation",
            pod5,
            cpus(0, 1, 2, 3),
            None,
            gates=plr_only,
        ),
        HintCase(
            "Pod has pod level resources and PodLevelResourceManagersEnabled is enabled, hint generation",
            pod5,
            cpus(0, 1, 2, 3),
            [H(FIRST, True), H(CROSS, False)],
            gates=PLRM_ON,
        ),
        HintCase(
            "Burstable pod with pod level resources should not generate hints",
            burstable_plr,
            cpus(0, 1, 2, 3),
            None,
            gates=PLRM_ON,
        ),
    ]


HINT_CASES = return_test_cases()


def _ids(cases: list[HintCase]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for c in cases:
        seen[c.name] = seen.get(c.name, 0) + 1
        out.append(c.name if seen[c.name] == 1 else f"{c.name} #{seen[c.name]}")
    return out


def _assert_lenient(got: list[TopologyHint] | None, expected: list[TopologyHint] | None) -> None:
    """``if len(tc.expectedHints) == 0 && len(hints) == 0 { continue }``, else sorted DeepEqual."""
    if not expected and not got:
        return
    assert ordered(got) == ordered(expected)


@pytest.mark.parametrize("tc", HINT_CASES, ids=_ids(HINT_CASES))
def test_get_topology_hints(tc: HintCase) -> None:
    policy = bare_policy(MACHINE, tc.gates)
    st = state(tc.assignments, tc.default)
    got = cpu_hints(policy.get_topology_hints(st, tc.pod, tc.pod.containers[0]))
    _assert_lenient(got, tc.expected)


@pytest.mark.parametrize("tc", HINT_CASES, ids=_ids(HINT_CASES))
def test_get_pod_topology_hints(tc: HintCase) -> None:
    policy = bare_policy(MACHINE, tc.gates)
    st = state(tc.assignments, tc.default)
    got = cpu_hints(policy.get_pod_topology_hints(st, tc.pod))
    _assert_lenient(got, tc.expected)


# =========================================================================== TestGetPodTopologyHintsWithPolicyOptions

M0001, M0011, M0101, M1001 = mask(0), mask(0, 1), mask(0, 2), mask(0, 3)
M0111, M1011, M1101, M1111 = mask(0, 1, 2), mask(0, 1, 3), mask(0, 2, 3), mask(0, 1, 2, 3)

WITH_OPTIONS = [
    (
        "AlignBySocket:false, Preferred hints does not contains socket aligned hints",
        make_pod("fakePod", "fakeContainer", "2", "2"),
        cpus(2, 3, 11),
        {ALIGN_BY_SOCKET: "false"},
        [
            H(M0001, True),
            H(M0011, False),
            H(M0101, False),
            H(M1001, False),
            H(M0111, False),
            H(M1011, False),
            H(M1101, False),
            H(M1111, False),
        ],
    ),
    (
        "AlignBySocket:true Preferred hints contains socket aligned hints",
        make_pod("fakePod", "fakeContainer", "2", "2"),
        cpus(2, 3, 11),
        {ALIGN_BY_SOCKET: "true"},
        [
            H(M0001, True),
            H(M0011, True),
            H(M0101, False),
            H(M1001, False),
            H(M0111, False),
            H(M1011, False),
            H(M1101, False),
            H(M1111, False),
        ],
    ),
    (
        "AlignBySocket:true Preferred hints are spread across socket since 2 sockets are required",
        make_pod("fakePod", "fakeContainer", "41", "41"),
        parse_bits("0-28,40-57"),
        {ALIGN_BY_SOCKET: "true"},
        [H(M0111, True), H(M1111, True)],
    ),
]


@pytest.mark.parametrize(
    ("desc", "pod", "default", "options", "expected"), WITH_OPTIONS, ids=[c[0] for c in WITH_OPTIONS]
)
def test_get_pod_topology_hints_with_policy_options(
    desc: str, pod: Pod, default: int, options: dict[str, str], expected: list[TopologyHint]
) -> None:
    gates = {CPU_MANAGER_POLICY_ALPHA_OPTIONS: True}
    opts = new_static_policy_options(options, FeatureGates(gates))
    policy = bare_policy(MN, gates, opts)
    got = cpu_hints(policy.get_pod_topology_hints(state({}, default), pod))
    assert ordered(got) == ordered(expected)


# =========================================================================== TestTopologyHintsPodLevelResources

PLR_CASES = [
    (
        "Guaranteed pod level resources overriding burstable container should only generate hints for pod scope",
        make_pod_with_pod_level_resources("guaranteedPod", "3", "3", "c1", "1", "2"),
        [H(FIRST, True), H(CROSS, False)],
        None,
    ),
    (
        "Guaranteed pod level resources with guaranteed container should generate hints for both scopes",
        make_pod_with_pod_level_resources("guaranteedPod", "3", "3", "c1", "2", "2"),
        [H(FIRST, True), H(CROSS, False)],
        [H(FIRST, True), H(CROSS, False)],
    ),
    (
        "Burstable pod level resources with burstable container should not generate hints for both scopes",
        make_pod_with_pod_level_resources("burstablePod", "2", "4", "c1", "1", "2"),
        None,
        None,
    ),
]


@pytest.mark.parametrize(("name", "pod", "exp_pod", "exp_container"), PLR_CASES, ids=[c[0] for c in PLR_CASES])
def test_topology_hints_pod_level_resources(
    name: str, pod: Pod, exp_pod: list[TopologyHint] | None, exp_container: list[TopologyHint] | None
) -> None:
    policy = bare_policy(MACHINE, PLRM_ON)
    st = state({}, cpus(0, 1, 2, 3))
    # reflect.DeepEqual: nil (None) and an empty list differ here
    assert ordered(cpu_hints(policy.get_pod_topology_hints(st, pod))) == ordered(exp_pod)
    assert ordered(cpu_hints(policy.get_topology_hints(st, pod, pod.containers[0]))) == ordered(exp_container)


# =========================================================================== generateCPUTopologyHints invariants


@pytest.mark.parametrize("request_cpus", [1, 3, 6, 7, 12])
def test_generate_hints_preferred_are_the_narrowest(request_cpus: int) -> None:
    """Every fitting mask is a hint; exactly the narrowest possible ones are preferred (no align-by-socket)."""
    policy = bare_policy(MACHINE)
    hints = policy.generate_cpu_topology_hints(MACHINE.all_cpus, 0, request_cpus)
    assert {h.mask for h in hints} == {m for m in (FIRST, SECOND, CROSS) if request_cpus <= 6 * m.bit_count()}
    narrowest = min(m.bit_count() for m in (FIRST, SECOND, CROSS) if 6 * m.bit_count() >= request_cpus)
    assert all(h.preferred == (h.mask is not None and h.mask.bit_count() == narrowest) for h in hints)


def test_topology_hints_count_cpus_reusable_from_init_containers() -> None:
    """GetTopologyHints passes cpusToReuse: an app container's hints count its pod's init CPUs.

    Not an upstream table: the init container takes {0,1,6,7} (NUMA 0); for the 4-CPU app
    container NUMA 0 then offers 2 free + 4 reusable CPUs, while any mask without NUMA 0 is
    dropped because the reusable CPUs are not in it.
    """
    pod = make_multi_container_pod_with_options([Opt("4", "4")], [Opt("4", "4")])
    policy = bare_policy(MACHINE)
    st = state({}, MACHINE.all_cpus)
    policy.allocate(st, pod, pod.init_containers[0])
    assert st.get_cpuset(pod.uid, "initContainer-0") == cpus(0, 1, 6, 7)
    got = cpu_hints(policy.get_topology_hints(st, pod, pod.containers[0]))
    assert ordered(got) == ordered([H(FIRST, True), H(CROSS, False)])
