"""The CPU manager's static policy, ported from the kubelet's unit tests (1.36).

Sources (pkg/kubelet/cm/cpumanager): ``policy_static_test.go`` (TestStaticPolicy*,
TestTopologyAwareAllocateCPUs, TestSMTAlignmentErrorText,
TestValidatePodScopeResources), ``policy_static_restore_test.go`` and the
policy-observable parts of ``cpu_manager_test.go`` (TestCPUManagerAdd*,
TestCPUManagerGetAllocatableCPUs). Hints live in ``test_cpu_topology_hints.py``,
option parsing in ``test_cpu_policy_options.py``.

Harness mapping:

* ``NewStaticPolicy(topo, numReserved, reserved, tm, options)`` ->
  :func:`new_policy` (``new_static_policy_options`` +
  ``validate_static_policy_options`` + :class:`StaticCPUPolicy`); the Go
  errors of ``NewStaticPolicy`` reach topolet with ``NewManager``'s
  "new static policy error: " prefix, which the tests allow for.
* ``topologymanager.NewFakeManager()`` -> an empty :class:`AffinityStore`
  (``TopologyHint{}``: nil mask); ``NewFakeManagerWithHint(h)`` ->
  :class:`FixedHintStore` (the same hint for every container).
* ``mockState`` -> :class:`CPUManagerState` built from the table.
* Feature gates: the 1.36 defaults plus what the Go test sets.
* Pods: the Go helpers ``makePod``, ``makeMultiContainerPod*`` and
  ``makePod*PodLevelResources`` rebuilt with the same names, UIDs and
  resources; the QoS class is computed as ``GetPodQOS`` does on a pod without
  a status (``ComputePodQOS`` under the PodLevelResources gate).
* Topologies: :data:`topolet.model.presets_upstream.UPSTREAM_PRESETS` with
  ``go_literal_uncore=True`` (the Go literals' zero uncore ids).

The metrics assertions of ``TestStaticPolicyAllocatePod`` (``requiredMetrics``)
are ported against the policy's counters (engine/metrics.py). Not ported: the
two ``TestStaticPolicyStartWithResvList`` cases about OpenShift's
management (workload) partitioning (``managed.IsEnabled()``), which topolet
does not model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from topolet.engine.cpumanager.manager import CPUManager
from topolet.engine.cpumanager.policy_options import (
    ALIGN_BY_SOCKET,
    DISTRIBUTE_CPUS_ACROSS_CORES,
    DISTRIBUTE_CPUS_ACROSS_NUMA,
    FULL_PCPUS_ONLY,
    PREFER_ALIGN_BY_UNCORE_CACHE,
    STRICT_CPU_RESERVATION,
    new_static_policy_options,
    validate_static_policy_options,
)
from topolet.engine.cpumanager.policy_static import StaticCPUPolicy
from topolet.engine.cpumanager.state import CPUManagerState
from topolet.engine.errors import AllocationError, EmptyPodSharedPoolError, SMTAlignmentError, StartupError
from topolet.engine.hint import AffinityStore, TopologyHint
from topolet.io.checkpoint import cpu_checkpoint_version_for, dump_cpu_checkpoint, load_cpu_checkpoint
from topolet.model import presets_upstream as pu
from topolet.model.cpuset import bits_of, format_bits, iter_bits, parse_bits
from topolet.model.features import (
    CPU_MANAGER_POLICY_ALPHA_OPTIONS,
    POD_LEVEL_RESOURCE_MANAGERS,
    POD_LEVEL_RESOURCES,
    FeatureGates,
)
from topolet.model.pod import CPU, MEMORY, Container, Pod, Resources
from topolet.model.qos import compute_pod_qos
from topolet.model.quantity import Quantity
from topolet.model.topology import CPUInfo, Topology

# --------------------------------------------------------------------------- topologies

_CACHE: dict[str, Topology] = {}
_GO_TO_PRESET = {go: name for name, go in pu.UPSTREAM_GO_NAMES.items()}


def topo(go_name: str) -> Topology:
    """A ``policy_test.go`` topology by its Go variable name."""
    if go_name not in _CACHE:
        _CACHE[go_name] = pu.UPSTREAM_PRESETS[_GO_TO_PRESET[go_name]](go_literal_uncore=True)
    return _CACHE[go_name]


def flat_topology(n: int) -> Topology:
    """The inline ``CPUTopology`` of cpu_manager_test.go: n cores, one socket, no SMT (NUMA/uncore 0)."""
    return Topology([CPUInfo(i, i, 0, 0, 0) for i in range(n)])


S1 = "topoSingleSocketHT"
D2 = "topoDualSocketHT"
D2NOHT = "topoDualSocketNoHT"
Q4 = "topoQuadSocketFourWayHT"
MN = "topoDualSocketMultiNumaPerSocketHT"


def cpus(*ids: int) -> int:
    return bits_of(ids)


def P(text: str) -> int:
    return parse_bits(text)


# --------------------------------------------------------------------------- gates, policy


GO_ALPHA = {CPU_MANAGER_POLICY_ALPHA_OPTIONS: True}
PLRM_ON = {POD_LEVEL_RESOURCES: True, POD_LEVEL_RESOURCE_MANAGERS: True}


class FixedHintStore(AffinityStore):
    """``topologymanager.NewFakeManagerWithHint``: one hint for every container."""

    __slots__ = ("hint",)

    def __init__(self, hint: TopologyHint) -> None:
        super().__init__()
        self.hint = hint

    def get_affinity(self, pod_uid: str, container: str) -> TopologyHint:
        return self.hint


def new_policy(
    topology: Topology,
    num_reserved: int = 0,
    reserved: int | None = None,
    options: dict[str, str] | None = None,
    *,
    gates: dict[str, bool] | None = None,
    hint: TopologyHint | None = None,
    tm_policy: str = "none",
) -> StaticCPUPolicy:
    """``NewStaticPolicy``: options parsed and validated, reserved CPUs chosen."""
    g = FeatureGates(gates or {})
    opts = new_static_policy_options(options or {}, g)
    validate_static_policy_options(opts, topology, tm_policy)
    store = FixedHintStore(hint) if hint is not None else AffinityStore()
    return StaticCPUPolicy(topology, num_reserved, reserved, store, opts, g)


def mock_state(assignments: dict[str, dict[str, int]] | None, default: int) -> CPUManagerState:
    return CPUManagerState("static", default, {p: dict(c) for p, c in (assignments or {}).items()})


def same_error(got: BaseException | None, exp: BaseException | None) -> bool:
    """``reflect.DeepEqual(err, expErr)``: same kind, same text (and SMT fields)."""
    if exp is None or got is None:
        return got is exp
    if type(got) is not type(exp) or str(got) != str(exp):
        return False
    if isinstance(exp, SMTAlignmentError):
        assert isinstance(got, SMTAlignmentError)
        return (got.requested, got.cpus_per_core, got.available_physical, got.physical) == (
            exp.requested,
            exp.cpus_per_core,
            exp.available_physical,
            exp.physical,
        )
    return True


def not_enough(requested: int, available: int) -> AllocationError:
    return AllocationError(
        f"not enough cpus available to satisfy request: requested={requested}, available={available}"
    )


def unique_ids(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n} #{seen[n]}")
    return out


# --------------------------------------------------------------------------- pods (cpu_manager_test.go helpers)


def q(v: str) -> Quantity:
    return Quantity.parse(v)


def stamp(pod: Pod, plr: bool = True) -> Pod:
    """``GetPodQOS`` on a status-less pod: ``ComputePodQOS`` under the PodLevelResources gate."""
    pod.qos_class = compute_pod_qos(pod, plr)
    return pod


def _cpu_mem(request: str, limit: str, mem: str = "1G") -> Resources:
    return Resources({CPU: q(request), MEMORY: q(mem)}, {CPU: q(limit), MEMORY: q(mem)})


def make_pod(uid: str, container: str, request: str, limit: str, *, plr: bool = True) -> Pod:
    """``makePod``."""
    return stamp(Pod(name="", uid=uid, containers=[Container(container, _cpu_mem(request, limit))]), plr)


def make_pod_with_pod_level_resources(
    uid: str, pod_request: str, pod_limit: str, container: str, request: str, limit: str, *, plr: bool = True
) -> Pod:
    """``makePodWithPodLevelResources``."""
    pod = make_pod(uid, container, request, limit)
    pod.resources = _cpu_mem(pod_request, pod_limit)
    return stamp(pod, plr)


def make_multi_container_pod(
    init: list[tuple[str, str]], app: list[tuple[str, str]], *, uid: str = "podUID", plr: bool = True
) -> Pod:
    """``makeMultiContainerPod`` (name "pod", UID "podUID"; ``WithPodUID`` via ``uid``)."""
    return stamp(
        Pod(
            name="pod",
            uid=uid,
            init_containers=[Container(f"initContainer-{i}", _cpu_mem(r, lim)) for i, (r, lim) in enumerate(init)],
            containers=[Container(f"appContainer-{i}", _cpu_mem(r, lim)) for i, (r, lim) in enumerate(app)],
        ),
        plr,
    )


@dataclass(frozen=True)
class Opt:
    """``containerOptions`` (its ``name`` is ignored by the Go helpers, as here)."""

    request: str = ""
    limit: str = ""
    restart_policy: str | None = None
    name: str = ""


def make_multi_container_pod_with_options(
    init: list[Opt], app: list[Opt], *, pod_level_cpus: str | None = None, plr: bool = True
) -> Pod:
    """``makeMultiContainerPodWithOptions`` / ``...AndPodLevelResources``."""

    def ctr(prefix: str, i: int, o: Opt, init_container: bool) -> Container:
        r = _cpu_mem(o.request, o.limit) if o.request else Resources()
        return Container(f"{prefix}-{i}", r, o.restart_policy if init_container else None)

    pod = Pod(
        name="pod",
        uid="podUID",
        init_containers=[ctr("initContainer", i, o, True) for i, o in enumerate(init)],
        containers=[ctr("appContainer", i, o, False) for i, o in enumerate(app)],
    )
    if pod_level_cpus is not None:
        pod.resources = _cpu_mem(pod_level_cpus, pod_level_cpus)
    return stamp(pod, plr)


@dataclass(frozen=True)
class CSpec:
    """``containerSpec`` of TestStaticPolicyAllocatePod."""

    name: str
    request: str = ""
    limit: str = ""
    restart_policy: str | None = None


def make_pod_with_containers_and_pod_level_resources(
    name: str, pod_request: str, pod_limit: str, init: list[CSpec], app: list[CSpec], *, plr: bool = True
) -> Pod:
    """``makePodWithContainersAndPodLevelResources``: 100Mi per container, 300Mi for the pod."""

    def ctr(c: CSpec, init_container: bool) -> Container:
        r = Resources({MEMORY: q("100Mi")}, {MEMORY: q("100Mi")})
        if c.request:
            r.requests[CPU] = q(c.request)
        if c.limit:
            r.limits[CPU] = q(c.limit)
        return Container(c.name, r, c.restart_policy if init_container else None, image="image")

    pod = Pod(
        name=name,
        uid=name,
        init_containers=[ctr(c, True) for c in init],
        containers=[ctr(c, False) for c in app],
    )
    if pod_request or pod_limit:
        r = Resources({MEMORY: q("300Mi")}, {MEMORY: q("300Mi")})
        if pod_request:
            r.requests[CPU] = q(pod_request)
        if pod_limit:
            r.limits[CPU] = q(pod_limit)
        pod.resources = r
    return stamp(pod, plr)


ALWAYS = "Always"


# =========================================================================== TestStaticPolicyName


def test_static_policy_name() -> None:
    policy = new_policy(topo(S1), 1)
    assert policy.name == "static"


# =========================================================================== TestStaticPolicyStart


@dataclass
class StartCase:
    desc: str
    topo: str
    num_reserved: int = 0
    options: dict[str, str] = field(default_factory=dict)
    assignments: dict[str, dict[str, int]] = field(default_factory=dict)
    default: int = 0
    exp_cset: int = 0
    exp_err: str | None = None


START_CASES = [
    StartCase(
        "non-corrupted state",
        D2,
        assignments={"fakePod": {"0": cpus(0)}},
        default=P("1-11"),
        exp_cset=P("1-11"),
    ),
    StartCase("empty cpuset", D2, 1, default=0, exp_cset=P("0-11")),
    StartCase(
        "reserved cores 0 & 6 are not present in available cpuset",
        D2,
        2,
        default=cpus(0, 1),
        exp_err='not all reserved cpus: "0,6" are present in defaultCpuSet: "0-1"',
    ),
    StartCase(
        "some of reserved cores are present in available cpuset (StrictCPUReservationOption)",
        D2,
        2,
        options={STRICT_CPU_RESERVATION: "true"},
        default=cpus(0, 1),
        exp_err='some of strictly reserved cpus: "0" are present in defaultCpuSet: "0-1"',
    ),
    StartCase(
        "assigned core 2 is still present in available cpuset",
        D2,
        assignments={"fakePod": {"0": cpus(0, 1, 2)}},
        default=P("2-11"),
        exp_err='pod: fakePod, container: 0 cpuset: "0-2" overlaps with default cpuset "2-11"',
    ),
    StartCase(
        "assigned core 2 is still present in available cpuset (StrictCPUReservationOption)",
        D2,
        options={STRICT_CPU_RESERVATION: "true"},
        assignments={"fakePod": {"0": cpus(0, 1, 2)}},
        default=P("2-11"),
        exp_err='pod: fakePod, container: 0 cpuset: "0-2" overlaps with default cpuset "2-11"',
    ),
    StartCase(
        "core 12 is not present in topology but is in state cpuset",
        D2,
        assignments={"fakePod": {"0": cpus(0, 1, 2), "1": cpus(3, 4)}},
        default=P("5-12"),
        exp_err='current set of available CPUs "0-11" doesn\'t match with CPUs in state "0-12"',
    ),
    StartCase(
        "core 11 is present in topology but is not in state cpuset",
        D2,
        assignments={"fakePod": {"0": cpus(0, 1, 2), "1": cpus(3, 4)}},
        default=P("5-10"),
        exp_err='current set of available CPUs "0-11" doesn\'t match with CPUs in state "0-10"',
    ),
]


def _run_start(policy: StaticCPUPolicy, st: CPUManagerState) -> str | None:
    try:
        policy.start(st)
    except StartupError as e:
        return str(e)
    return None


@pytest.mark.parametrize("tc", START_CASES, ids=[c.desc for c in START_CASES])
def test_static_policy_start(tc: StartCase) -> None:
    t = topo(tc.topo)
    policy = new_policy(t, tc.num_reserved, None, tc.options, gates=GO_ALPHA)
    st = mock_state(tc.assignments, tc.default)
    err = _run_start(policy, st)
    assert err == tc.exp_err
    if err is not None:
        return
    if tc.default:
        for cpu in range(1, t.num_cpus):
            assert st.default_cpuset >> cpu & 1, f"expected cpuid {cpu} to be present in defaultCPUSet"
    assert st.default_cpuset == tc.exp_cset, format_bits(st.default_cpuset)


# --------------------------------------------------------------------------- TestStaticPolicyStartWithResvList


@dataclass
class ResvStartCase:
    desc: str
    topo: str
    num_reserved: int
    reserved: int
    options: dict[str, str] = field(default_factory=dict)
    default: int = 0
    exp_cset: int = 0
    exp_err: str | None = None
    exp_new_err: str | None = None


RESV_START_CASES = [
    ResvStartCase("empty cpuset", D2, 2, cpus(0, 1), default=0, exp_cset=P("0-11")),
    ResvStartCase(
        "empty cpuset with StrictCPUReservationOption enabled",
        D2,
        2,
        cpus(0, 1),
        {STRICT_CPU_RESERVATION: "true"},
        default=0,
        exp_cset=P("2-11"),
    ),
    ResvStartCase(
        "reserved cores 0 & 1 are not present in available cpuset",
        D2,
        2,
        cpus(0, 1),
        default=P("2-5"),
        exp_err='not all reserved cpus: "0-1" are present in defaultCpuSet: "2-5"',
    ),
    ResvStartCase(
        "reserved cores 0 & 1 are present in available cpuset with StrictCPUReservationOption enabled",
        D2,
        2,
        cpus(0, 1),
        {STRICT_CPU_RESERVATION: "true"},
        default=P("0-5"),
        exp_err='some of strictly reserved cpus: "0-1" are present in defaultCpuSet: "0-5"',
    ),
    ResvStartCase(
        "inconsistency between numReservedCPUs and reserved",
        D2,
        1,
        cpus(0, 1),
        default=P("0-11"),
        exp_new_err="[cpumanager] unable to reserve the required amount of CPUs (size of 0-1 did not equal 1)",
    ),
    # "reserved cores 0 & 6 are not present in available cpuset when management partitioning is enabled"
    # (and "... during recovery") test OpenShift's managed.IsEnabled(): not modelled by topolet.
]


@pytest.mark.parametrize("tc", RESV_START_CASES, ids=[c.desc for c in RESV_START_CASES])
def test_static_policy_start_with_resv_list(tc: ResvStartCase) -> None:
    try:
        policy = new_policy(topo(tc.topo), tc.num_reserved, tc.reserved, tc.options, gates=GO_ALPHA)
    except StartupError as e:
        assert tc.exp_new_err is not None, str(e)
        # topolet's policy carries NewManager's prefix ("new static policy error: %w")
        assert str(e) == "new static policy error: " + tc.exp_new_err
        return
    assert tc.exp_new_err is None
    st = mock_state({}, tc.default)
    err = _run_start(policy, st)
    assert err == tc.exp_err
    if err is None:
        assert st.default_cpuset == tc.exp_cset, format_bits(st.default_cpuset)


# =========================================================================== TestStaticPolicyAdd


@dataclass
class AddCase:
    desc: str
    topo: str
    pod: Pod
    num_reserved: int = 0
    reserved: int | None = None
    options: dict[str, str] | None = None
    assignments: dict[str, dict[str, int]] = field(default_factory=dict)
    default: int = 0
    hint: TopologyHint | None = None
    exp_err: BaseException | None = None
    exp_alloc: bool = False
    exp_cset: int = 0
    gates: dict[str, bool] = field(default_factory=dict)
    xfail: str | None = None


def _quad_sets() -> tuple[int, int, int]:
    t = topo(Q4)
    return t.all_cpus, t.socket_cpus[0], t.socket_cpus[1]


LARGE, LARGE_S0, LARGE_S1 = _quad_sets()

OPTIONS_INSENSITIVE = [
    AddCase(
        "GuPodMultipleCores, SingleSocketHT, ExpectAllocOneCore",
        S1,
        make_pod("fakePod", "fakeContainer3", "2000m", "2000m"),
        1,
        assignments={"fakePod": {"fakeContainer100": cpus(2, 3, 6, 7)}},
        default=cpus(0, 1, 4, 5),
        exp_alloc=True,
        exp_cset=cpus(1, 5),
    ),
    AddCase(
        "GuPodMultipleCores, DualSocketHT, ExpectAllocOneSocket",
        D2,
        make_pod("fakePod", "fakeContainer3", "6000m", "6000m"),
        1,
        assignments={"fakePod": {"fakeContainer100": cpus(2)}},
        default=cpus(0, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11),
        exp_alloc=True,
        exp_cset=cpus(1, 3, 5, 7, 9, 11),
    ),
    AddCase(
        "GuPodMultipleCores, DualSocketHT, ExpectAllocThreeCores",
        D2,
        make_pod("fakePod", "fakeContainer3", "6000m", "6000m"),
        1,
        assignments={"fakePod": {"fakeContainer100": cpus(1, 5)}},
        default=cpus(0, 2, 3, 4, 6, 7, 8, 9, 10, 11),
        exp_alloc=True,
        exp_cset=cpus(2, 3, 4, 8, 9, 10),
    ),
    AddCase(
        "GuPodMultipleCores, DualSocketNoHT, ExpectAllocOneSocket",
        D2NOHT,
        make_pod("fakePod", "fakeContainer1", "4000m", "4000m"),
        1,
        assignments={"fakePod": {"fakeContainer100": 0}},
        default=cpus(0, 1, 3, 4, 5, 6, 7),
        exp_alloc=True,
        exp_cset=cpus(4, 5, 6, 7),
    ),
    AddCase(
        "GuPodMultipleCores, DualSocketNoHT, ExpectAllocFourCores",
        D2NOHT,
        make_pod("fakePod", "fakeContainer1", "4000m", "4000m"),
        1,
        assignments={"fakePod": {"fakeContainer100": cpus(4, 5)}},
        default=cpus(0, 1, 3, 6, 7),
        exp_alloc=True,
        exp_cset=cpus(1, 3, 6, 7),
    ),
    AddCase(
        "GuPodMultipleCores, DualSocketHT, ExpectAllocOneSocketOneCore",
        D2,
        make_pod("fakePod", "fakeContainer3", "8000m", "8000m"),
        1,
        assignments={"fakePod": {"fakeContainer100": cpus(2)}},
        default=cpus(0, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11),
        exp_alloc=True,
        exp_cset=cpus(1, 3, 4, 5, 7, 9, 10, 11),
    ),
    AddCase(
        "NonGuPod, SingleSocketHT, NoAlloc",
        S1,
        make_pod("fakePod", "fakeContainer1", "1000m", "2000m"),
        1,
        default=P("0-7"),
    ),
    AddCase(
        "GuPodNonIntegerCore, SingleSocketHT, NoAlloc",
        S1,
        make_pod("fakePod", "fakeContainer4", "977m", "977m"),
        1,
        default=P("0-7"),
    ),
    AddCase(
        "GuPodMultipleCores, topoQuadSocketFourWayHT, ExpectAllocSock0",
        Q4,
        make_pod("fakePod", "fakeContainer5", "72000m", "72000m"),
        assignments={"fakePod": {"fakeContainer100": cpus(3, 11, 4, 5, 6, 7)}},
        default=LARGE & ~cpus(3, 11, 4, 5, 6, 7),
        exp_alloc=True,
        exp_cset=LARGE_S0,
    ),
    AddCase(
        "GuPodMultipleCores, topoQuadSocketFourWayHT, ExpectAllocAllFullCoresFromThreeSockets",
        Q4,
        make_pod("fakePod", "fakeCcontainer5", "12000m", "12000m"),
        assignments={
            "fakePod": {
                "fakeContainer100": LARGE
                & ~cpus(1, 25, 13, 38, 2, 9, 11, 35, 23, 48, 12, 51, 53, 173, 113, 233, 54, 61)
            }
        },
        default=cpus(1, 25, 13, 38, 2, 9, 11, 35, 23, 48, 12, 51, 53, 173, 113, 233, 54, 61),
        exp_alloc=True,
        exp_cset=cpus(1, 25, 13, 38, 11, 35, 23, 48, 53, 173, 113, 233),
    ),
    AddCase(
        "GuPodMultipleCores, topoQuadSocketFourWayHT, ExpectAllocAllSock1+FullCore",
        Q4,
        make_pod("fakePod", "fakeContainer5", "76000m", "76000m"),
        assignments={
            "fakePod": {
                "fakeContainer100": LARGE & ~(LARGE_S1 | cpus(10, 34, 22, 47, 53, 173, 61, 181, 108, 228, 115, 235))
            }
        },
        default=LARGE_S1 | cpus(10, 34, 22, 47, 53, 173, 61, 181, 108, 228, 115, 235),
        exp_alloc=True,
        exp_cset=LARGE_S1 | cpus(10, 34, 22, 47),
    ),
]


def _with_options(tc: AddCase, options: dict[str, str] | None) -> AddCase:
    # fmt.Sprintf("options=%v %s", options, desc): a nil map prints as map[]
    shown = "map[" + " ".join(f"{k}:{v}" for k, v in sorted((options or {}).items())) + "]"
    return AddCase(**{**tc.__dict__, "desc": f"options={shown} {tc.desc}", "options": options})


OPTIONS_INSENSITIVE_PERMUTED = [
    _with_options(tc, opts) for tc in OPTIONS_INSENSITIVE for opts in (None, {FULL_PCPUS_ONLY: "true"})
]

DEFAULT_OPTIONS = [
    AddCase(
        "GuPodSingleCore, SingleSocketHT, ExpectAllocOneCPU",
        S1,
        make_pod("fakePod", "fakeContainer2", "1000m", "1000m"),
        1,
        default=P("0-7"),
        exp_alloc=True,
        exp_cset=cpus(4),  # expect sibling of partial core
    ),
    AddCase(
        "GuPodMultipleCores, topoQuadSocketFourWayHT, ExpectAllocCPUs",
        Q4,
        make_pod("fakePod", "fakeContainer5", "5000m", "5000m"),
        assignments={"fakePod": {"fakeContainer100": LARGE & ~cpus(10, 11, 53, 37, 55, 67, 52)}},
        default=cpus(10, 11, 53, 67, 52),
        exp_alloc=True,
        exp_cset=cpus(10, 11, 53, 67, 52),
    ),
    AddCase(
        "GuPodSingleCore, SingleSocketHT, ExpectError",
        S1,
        make_pod("fakePod", "fakeContainer2", "8000m", "8000m"),
        1,
        default=P("0-7"),
        exp_err=not_enough(8, 7),
    ),
    AddCase(
        "GuPodMultipleCores, SingleSocketHT, ExpectSameAllocation",
        S1,
        make_pod("fakePod", "fakeContainer3", "4000m", "4000m"),
        1,
        assignments={"fakePod": {"fakeContainer3": cpus(2, 3, 6, 7)}},
        default=cpus(0, 1, 4, 5),
        exp_alloc=True,
        exp_cset=cpus(2, 3, 6, 7),
    ),
    AddCase(
        "GuPodMultipleCores, DualSocketHT, NoAllocExpectError",
        D2,
        make_pod("fakePod", "fakeContainer5", "10000m", "10000m"),
        1,
        assignments={"fakePod": {"fakeContainer100": cpus(1, 2, 3)}},
        default=cpus(0, 4, 5, 6, 7, 8, 9, 10, 11),
        exp_err=not_enough(10, 8),
    ),
    AddCase(
        "GuPodMultipleCores, SingleSocketHT, NoAllocExpectError",
        S1,
        make_pod("fakePod", "fakeContainer5", "2000m", "2000m"),
        1,
        assignments={"fakePod": {"fakeContainer100": cpus(1, 2, 3, 4, 5, 6)}},
        default=cpus(0, 7),
        exp_err=not_enough(2, 1),
    ),
    AddCase(
        "GuPodMultipleCores, topoQuadSocketFourWayHT, NoAlloc",
        Q4,
        make_pod("fakePod", "fakeContainer5", "76000m", "76000m"),
        assignments={"fakePod": {"fakeContainer100": LARGE & ~cpus(10, 11, 53, 37, 55, 67, 52)}},
        default=cpus(10, 11, 53, 37, 55, 67, 52),
        exp_err=not_enough(76, 7),
    ),
]

SMTALIGN_OPTION = [
    AddCase(
        "GuPodSingleCore, SingleSocketHT, ExpectAllocOneCPU",
        S1,
        make_pod("fakePod", "fakeContainer2", "1000m", "1000m"),
        1,
        options={FULL_PCPUS_ONLY: "true"},
        default=P("0-7"),
        exp_err=SMTAlignmentError(1, 2),  # reject allocation of sibling of partial core
    ),
    AddCase(
        "GuPodMultipleCores, topoQuadSocketFourWayHT, ExpectAllocOneCPUs",
        Q4,
        make_pod("fakePod", "fakeContainer15", "15000m", "15000m"),
        8,
        options={FULL_PCPUS_ONLY: "true"},
        default=LARGE,
        exp_err=SMTAlignmentError(15, 4),
    ),
    AddCase(
        "GuPodManyCores, topoDualSocketHT, ExpectDoNotAllocPartialCPU",
        D2,
        make_pod("fakePod", "fakeContainerBug113537_1", "10000m", "10000m"),
        2,
        cpus(1, 6),
        options={FULL_PCPUS_ONLY: "true"},
        default=cpus(0, 2, 3, 4, 5, 7, 8, 9, 10, 11),
        exp_err=SMTAlignmentError(10, 2, 8, physical=True),
    ),
    AddCase(
        "GuPodManyCores, topoDualSocketHT, AutoReserve, ExpectAllocAllCPUs",
        D2,
        make_pod("fakePod", "fakeContainerBug113537_2", "10000m", "10000m"),
        2,
        options={FULL_PCPUS_ONLY: "true"},
        default=cpus(1, 2, 3, 4, 5, 7, 8, 9, 10, 11),
        exp_alloc=True,
        exp_cset=cpus(1, 2, 3, 4, 5, 7, 8, 9, 10, 11),
    ),
    AddCase(
        "GuPodManyCores, topoDualSocketHT, ExpectAllocAllCPUs",
        D2,
        make_pod("fakePod", "fakeContainerBug113537_2", "10000m", "10000m"),
        2,
        cpus(0, 6),
        options={FULL_PCPUS_ONLY: "true"},
        default=cpus(1, 2, 3, 4, 5, 7, 8, 9, 10, 11),
        exp_alloc=True,
        exp_cset=cpus(1, 2, 3, 4, 5, 7, 8, 9, 10, 11),
    ),
]

ALIGN_BY_SOCKET_OPTION = [
    AddCase(
        "Align by socket: true, cpu's within same socket of numa in hint are part of allocation",
        MN,
        make_pod("fakePod", "fakeContainer2", "2000m", "2000m"),
        1,
        options={ALIGN_BY_SOCKET: "true"},
        default=cpus(2, 11, 21, 22),
        hint=TopologyHint(cpus(0, 2), True),
        exp_alloc=True,
        exp_cset=cpus(2, 11),
        gates=GO_ALPHA,
    ),
    AddCase(
        "Align by socket: false, cpu's are taken strictly from NUMA nodes in hint",
        MN,
        make_pod("fakePod", "fakeContainer2", "2000m", "2000m"),
        1,
        options={ALIGN_BY_SOCKET: "false"},
        default=cpus(2, 11, 21, 22),
        hint=TopologyHint(cpus(0, 2), True),
        exp_alloc=True,
        exp_cset=cpus(2, 21),
        gates=GO_ALPHA,
    ),
]


def run_static_policy_test_case(tc: AddCase) -> None:
    """``runStaticPolicyTestCase``."""
    if tc.xfail:
        pytest.xfail(tc.xfail)
    policy = new_policy(topo(tc.topo), tc.num_reserved, tc.reserved, tc.options, gates=tc.gates, hint=tc.hint)
    st = mock_state(tc.assignments, tc.default)
    container = tc.pod.containers[0]
    err: BaseException | None = None
    try:
        policy.allocate(st, tc.pod, container)
    except Exception as e:  # the Go Allocate returns its error
        err = e
    assert same_error(err, tc.exp_err), f"expected error {tc.exp_err!r}, got {err!r}"
    cset = st.get_cpuset(tc.pod.uid, container.name)
    if tc.exp_alloc:
        assert cset is not None, f"expected container {container.name} in assignments {st.assignments}"
        assert cset == tc.exp_cset, f"expected cpuset {format_bits(tc.exp_cset)} but got {format_bits(cset)}"
        assert cset & st.default_cpuset == 0, "the exclusive cpuset must be disjoint from the shared cpuset"
    else:
        assert cset is None, f"did not expect container {container.name} in assignments {st.assignments}"


@pytest.mark.parametrize("tc", OPTIONS_INSENSITIVE_PERMUTED, ids=[c.desc for c in OPTIONS_INSENSITIVE_PERMUTED])
def test_static_policy_add_options_insensitive(tc: AddCase) -> None:
    run_static_policy_test_case(tc)


@pytest.mark.parametrize("tc", DEFAULT_OPTIONS, ids=[c.desc for c in DEFAULT_OPTIONS])
def test_static_policy_add_default_options(tc: AddCase) -> None:
    run_static_policy_test_case(tc)


@pytest.mark.parametrize("tc", SMTALIGN_OPTION, ids=[c.desc for c in SMTALIGN_OPTION])
def test_static_policy_add_full_pcpus_only(tc: AddCase) -> None:
    run_static_policy_test_case(tc)


@pytest.mark.parametrize("tc", ALIGN_BY_SOCKET_OPTION, ids=[c.desc for c in ALIGN_BY_SOCKET_OPTION])
def test_static_policy_add_align_by_socket(tc: AddCase) -> None:
    run_static_policy_test_case(tc)


# --------------------------------------------------------------------------- TestStaticPolicyReuseCPUs / DoNotReuse


def _allocate_all(policy: StaticCPUPolicy, st: CPUManagerState, pod: Pod, *, ignore_errors: bool) -> None:
    for c in pod.all_containers():
        try:
            policy.allocate(st, pod, c)
        except Exception:
            if not ignore_errors:
                raise


def test_static_policy_reuse_cpus() -> None:
    """SingleSocketHT, DeAllocOneInitContainer."""
    pod = make_multi_container_pod([("4000m", "4000m")], [("2000m", "2000m")])
    policy = new_policy(topo(S1))
    st = mock_state({}, P("0-7"))
    _allocate_all(policy, st, pod, ignore_errors=True)
    assert st.default_cpuset == cpus(2, 3, 6, 7), format_bits(st.default_cpuset)
    policy.remove_container(st, pod.uid, "initContainer-0")
    assert st.default_cpuset == cpus(1, 2, 3, 5, 6, 7), format_bits(st.default_cpuset)
    assert st.get_cpuset(pod.uid, "initContainer-0") is None


def test_static_policy_do_not_reuse_cpus() -> None:
    """SingleSocketHT, Don't reuse CPUs of a restartable init container."""
    pod = make_multi_container_pod_with_options(
        [Opt("4000m", "4000m", ALWAYS)],  # 0, 1, 4, 5
        [Opt("2000m", "2000m")],  # 2, 6
    )
    policy = new_policy(topo(S1))
    st = mock_state({}, P("0-7"))
    _allocate_all(policy, st, pod, ignore_errors=False)
    assert st.default_cpuset == cpus(3, 7), format_bits(st.default_cpuset)


# =========================================================================== TestStaticPolicyRemove

REMOVE_CASES = [
    ("SingleSocketHT, DeAllocOneContainer", "fakeContainer1", {"fakeContainer1": cpus(1, 2, 3)}, P("4-7"), P("1-7")),
    (
        "SingleSocketHT, DeAllocOneContainer, BeginEmpty",
        "fakeContainer1",
        {"fakeContainer1": cpus(1, 2, 3), "fakeContainer2": cpus(4, 5, 6, 7)},
        0,
        cpus(1, 2, 3),
    ),
    (
        "SingleSocketHT, DeAllocTwoContainer",
        "fakeContainer1",
        {"fakeContainer1": cpus(1, 3, 5), "fakeContainer2": cpus(2, 4)},
        cpus(6, 7),
        cpus(1, 3, 5, 6, 7),
    ),
    (
        "SingleSocketHT, NoDeAlloc",
        "fakeContainer2",
        {"fakeContainer1": cpus(1, 3, 5)},
        cpus(2, 4, 6, 7),
        cpus(2, 4, 6, 7),
    ),
]


@pytest.mark.parametrize(("desc", "name", "assigned", "default", "exp"), REMOVE_CASES, ids=[c[0] for c in REMOVE_CASES])
def test_static_policy_remove(desc: str, name: str, assigned: dict[str, int], default: int, exp: int) -> None:
    policy = new_policy(topo(S1))
    st = mock_state({"fakePod": assigned}, default)
    policy.remove_container(st, "fakePod", name)
    assert st.default_cpuset == exp, format_bits(st.default_cpuset)
    assert st.get_cpuset("fakePod", name) is None


# =========================================================================== TestTopologyAwareAllocateCPUs

TOPOLOGY_AWARE = [
    ("Request 2 CPUs, No BitMask", 2, None, cpus(0, 6)),
    ("Request 2 CPUs, BitMask on Socket 0", 2, cpus(0), cpus(0, 6)),
    ("Request 2 CPUs, BitMask on Socket 1", 2, cpus(1), cpus(1, 7)),
    ("Request 8 CPUs, BitMask on Socket 0", 8, cpus(0), cpus(0, 6, 2, 8, 4, 10, 1, 7)),
    ("Request 8 CPUs, BitMask on Socket 1", 8, cpus(1), cpus(1, 7, 3, 9, 5, 11, 0, 6)),
]


@pytest.mark.parametrize(("desc", "n", "mask", "exp"), TOPOLOGY_AWARE, ids=[c[0] for c in TOPOLOGY_AWARE])
def test_topology_aware_allocate_cpus(desc: str, n: int, mask: int | None, exp: int) -> None:
    policy = new_policy(topo(D2), 0)
    st = mock_state({}, P("0-11"))
    policy.start(st)
    got = policy.allocate_cpus(st, n, mask, 0)
    assert got == exp, format_bits(got)


# =========================================================================== TestStaticPolicyAddWithResvList

RESV_ADD_CASES = [
    AddCase(
        "GuPodSingleCore, SingleSocketHT, ExpectError",
        S1,
        make_pod("fakePod", "fakeContainer2", "8000m", "8000m"),
        1,
        cpus(0),
        default=P("0-7"),
        exp_err=not_enough(8, 7),
    ),
    AddCase(
        "GuPodSingleCore, SingleSocketHT, ExpectAllocOneCPU",
        S1,
        make_pod("fakePod", "fakeContainer2", "1000m", "1000m"),
        2,
        cpus(0, 1),
        default=P("0-7"),
        exp_alloc=True,
        exp_cset=cpus(4),  # expect sibling of partial core
    ),
    AddCase(
        "GuPodMultipleCores, SingleSocketHT, ExpectAllocOneCore",
        S1,
        make_pod("fakePod", "fakeContainer3", "2000m", "2000m"),
        2,
        cpus(0, 1),
        assignments={"fakePod": {"fakeContainer100": cpus(2, 3, 6, 7)}},
        default=cpus(0, 1, 4, 5),
        exp_alloc=True,
        exp_cset=cpus(4, 5),
    ),
]


@pytest.mark.parametrize("tc", RESV_ADD_CASES, ids=[c.desc for c in RESV_ADD_CASES])
def test_static_policy_add_with_resv_list(tc: AddCase) -> None:
    run_static_policy_test_case(tc)


# =========================================================================== TestStaticPolicyAddWithUncoreAlignment

SMT_UNCORE = "topoDualSocketSingleNumaPerSocketSMTUncore"
SMALL_UNCORE_SMT = "topoSingleSocketSingleNumaPerSocketSMTSmallUncore"
SMALL_UNCORE_NOSMT = "topoSingleSocketSingleNumaPerSocketNoSMTSmallUncore"
SMALL_DUAL_NOSMT = "topoSmallDualSocketSingleNumaPerSocketNoSMTUncore"
SMALL_SINGLE_NOSMT = "topoSmallSingleSocketSingleNumaPerSocketNoSMTUncore"
LARGE_SMT_UNCORE = "topoLargeSingleSocketSingleNumaPerSocketSMTUncore"
DUAL_MULTI_NUMA_UNCORE = "topoDualSocketMultiNumaPerSocketUncore"
SUBNUMA_MONO = "topoDualSocketSubNumaPerSocketHTMonolithicUncore"
PCORE_MONO = "topoSingleSocketSingleNumaPerSocketPCoreHTMonolithicUncore"
LARGE_UNCORE = "topoLargeSingleSocketSingleNumaPerSocketUncore"
SINGLE_MONO = "topoSingleSocketSingleNumaPerSocketUncore"

FULL_UNCORE = {FULL_PCPUS_ONLY: "true", PREFER_ALIGN_BY_UNCORE_CACHE: "true"}
UNCORE_ONLY = {PREFER_ALIGN_BY_UNCORE_CACHE: "true"}
STRICT_UNCORE = {STRICT_CPU_RESERVATION: "true", PREFER_ALIGN_BY_UNCORE_CACHE: "true"}


def all_cpus(go_name: str) -> int:
    return topo(go_name).all_cpus


def uncore(go_name: str, *ids: int) -> int:
    t = topo(go_name)
    b = 0
    for i in ids:
        b |= t.uncore_cpus.get(i, 0)
    return b


@dataclass
class UncoreCase:
    desc: str
    topo: str
    num_reserved: int
    reserved: int
    options: dict[str, str]
    default: int
    app: list[tuple[str, str]]
    uid: str
    exp_uncore: int = 0
    exp_alloc: bool = False
    exp_cset: int = 0
    xfail: str | None = None


UNCORE_CASES = [
    UncoreCase(
        "GuPodSingleContainerSaturating, DualSocketHTUncore, ExpectAllocOneUncore, FullUncoreAvail",
        SMT_UNCORE,
        8,
        cpus(0, 1, 96, 97, 192, 193, 288, 289),
        FULL_UNCORE,
        all_cpus(SMT_UNCORE) & ~(uncore(SMT_UNCORE, 0) | uncore(SMT_UNCORE, 12)),
        [("16000m", "16000m")],
        "with-app-container-saturating",
        exp_uncore=cpus(1),
    ),
    UncoreCase(
        "GuPodMainAndSidecarContainer, DualSocketHTUncore, ExpectAllocOneUncore, FullUncoreAvail",
        SMT_UNCORE,
        8,
        cpus(0, 1, 96, 97, 192, 193, 288, 289),
        FULL_UNCORE,
        all_cpus(SMT_UNCORE) & ~(uncore(SMT_UNCORE, 0) | uncore(SMT_UNCORE, 12)),
        [("12000m", "12000m"), ("2000m", "2000m")],
        "with-app-container-and-sidecar",
        exp_uncore=cpus(1),
    ),
    UncoreCase(
        "GuPodSidecarAndMainContainer, DualSocketHTUncore, ExpectAllocOneUncore, FullUncoreAvail",
        SMT_UNCORE,
        8,
        cpus(0, 1, 96, 97, 192, 193, 288, 289),
        FULL_UNCORE,
        all_cpus(SMT_UNCORE) & ~(uncore(SMT_UNCORE, 0) | uncore(SMT_UNCORE, 12)),
        [("2000m", "2000m"), ("12000m", "12000m")],
        "with-sidecar-and-app-container",
        exp_uncore=cpus(1),
    ),
    UncoreCase(
        "GuPodMainAndManySidecarContainer, DualSocketHTUncore, ExpectAllocOneUncore, FullUncoreAvail",
        SMT_UNCORE,
        8,
        cpus(0, 1, 96, 97, 192, 193, 288, 289),
        FULL_UNCORE,
        all_cpus(SMT_UNCORE) & ~(uncore(SMT_UNCORE, 0) | uncore(SMT_UNCORE, 12)),
        [("10000m", "10000m"), ("2000m", "2000m"), ("2000m", "2000m"), ("2000m", "2000m")],
        "with-app-container-and-multi-sidecar",
        exp_uncore=cpus(1),
    ),
    UncoreCase(
        "GuPodMainAndSidecarContainer, DualSocketHTUncore, ExpectAllocTwoUncore",
        SMT_UNCORE,
        8,
        cpus(0, 1, 96, 97, 192, 193, 288, 289),
        FULL_UNCORE,
        all_cpus(SMT_UNCORE),
        [("12000m", "12000m"), ("2000m", "2000m")],
        "with-app-container-and-sidecar",
        exp_uncore=cpus(0, 1),
    ),
    UncoreCase(
        "GuPodSingleContainer, SingleSocketSMTSmallUncore, ExpectAllocOneUncore",
        SMALL_UNCORE_SMT,
        4,
        cpus(0, 1, 64, 65),
        FULL_UNCORE,
        all_cpus(SMALL_UNCORE_SMT),
        [("8000m", "8000m")],
        "with-app-container-saturating",
        exp_uncore=cpus(1),
    ),
    UncoreCase(
        "GuPodSingleContainer, SingleSocketSMTSmallUncore, ExpectAllocTwoUncore",
        SMALL_UNCORE_SMT,
        4,
        cpus(0, 1, 64, 65),
        FULL_UNCORE,
        all_cpus(SMALL_UNCORE_SMT) & ~uncore(SMALL_UNCORE_SMT, 1),
        [("12000m", "12000m")],
        "with-app-container-saturating",
        exp_uncore=cpus(0, 2),
    ),
    UncoreCase(
        "GuPodSingleContainer, SingleSocketNoSMTSmallUncore, FragmentedUncore, ExpectAllocThreeUncore",
        SMALL_UNCORE_NOSMT,
        4,
        cpus(0, 1, 2, 3),
        FULL_UNCORE,
        all_cpus(SMALL_UNCORE_NOSMT) & ~uncore(SMALL_UNCORE_NOSMT, 2, 3, 5),
        [("12000m", "12000m")],
        "with-app-container-saturating",
        exp_uncore=cpus(1, 4, 6),
    ),
    UncoreCase(
        "GuPodMultiContainer, DualSocketSMTUncore, FragmentedUncore, ExpectAllocOneUncore",
        SMALL_DUAL_NOSMT,
        4,
        cpus(0, 1, 32, 33),
        FULL_UNCORE,
        all_cpus(SMALL_DUAL_NOSMT) & ~uncore(SMALL_DUAL_NOSMT, 1),
        [("4000m", "4000m"), ("2000m", "2000m")],
        "with-multiple-container",
        exp_uncore=cpus(0),
    ),
    UncoreCase(
        "GuPodMultiContainer, DualSocketSMTUncore, FragmentedUncore, ExpectAllocTwoUncore",
        SMALL_DUAL_NOSMT,
        4,
        cpus(0, 1, 32, 33),
        FULL_UNCORE,
        all_cpus(SMALL_DUAL_NOSMT) & ~uncore(SMALL_DUAL_NOSMT, 1),
        [("4000m", "4000m"), ("4000m", "4000m")],
        "with-multiple-container",
        exp_uncore=cpus(0, 2),
    ),
    UncoreCase(
        "GuPodMultiContainer, LargeSingleSocketSMTUncore, PartialUncoreFit, ExpectAllocTwoUncore",
        LARGE_SMT_UNCORE,
        4,
        cpus(0, 1, 128, 129),
        FULL_UNCORE,
        all_cpus(LARGE_SMT_UNCORE) & ~cpus(8, 9, 136, 137),
        [("12000m", "12000m"), ("12000m", "12000m")],
        "with-multiple-container",
        exp_uncore=cpus(0, 1),
    ),
    UncoreCase(
        "GuPodMultiContainer, LargeSingleSocketSMTUncore, PartialUncoreNoFit, ExpectAllocTwoUncore",
        LARGE_SMT_UNCORE,
        4,
        cpus(0, 1, 128, 129),
        FULL_UNCORE,
        all_cpus(LARGE_SMT_UNCORE) & ~cpus(8, 9, 136, 137),
        [("14000m", "14000m"), ("14000m", "14000m")],
        "with-multiple-container",
        exp_uncore=cpus(2, 3),
    ),
    UncoreCase(
        "GuPodLargeSingleContainer, DualSocketNoSMTUncore, FullNUMAsAvail, ExpectAllocFullNUMA",
        DUAL_MULTI_NUMA_UNCORE,
        4,
        cpus(0, 1, 2, 3),
        FULL_UNCORE,
        all_cpus(DUAL_MULTI_NUMA_UNCORE),
        [("48000m", "48000m")],
        "with-large-single-container",
        exp_uncore=cpus(6, 7, 8, 9, 10, 11),  # uncore caches of NUMA Node 1
    ),
    UncoreCase(
        "GuPodSingleContainer, MonoUncoreCacheHT, ExpectAllocCPUSet",
        SUBNUMA_MONO,
        4,
        cpus(0, 1, 120, 121),
        FULL_UNCORE,
        all_cpus(SUBNUMA_MONO),
        [("6000m", "6000m")],
        "with-single-container",
        exp_alloc=True,
        exp_cset=cpus(2, 3, 4, 122, 123, 124),
        exp_uncore=cpus(0),
    ),
    UncoreCase(
        "GuPodSingleContainer, MonoUncoreCacheHT, ExpectAllocCPUSet",
        PCORE_MONO,
        2,
        cpus(0, 1),
        FULL_UNCORE,
        all_cpus(PCORE_MONO) & ~cpus(4, 5, 6, 7),
        [("6000m", "6000m")],
        "with-single-container",
        exp_alloc=True,
        exp_cset=cpus(2, 3, 8, 9, 16, 17),  # identical to default packed assignment
        exp_uncore=cpus(0),
    ),
    UncoreCase(
        "GuPodSingleContainer, LargeSingleSocketUncore, ExpectAllocOneUncore",
        LARGE_UNCORE,
        4,
        cpus(0, 1, 2, 3),
        FULL_UNCORE,
        all_cpus(LARGE_UNCORE),
        [("8000m", "8000m")],
        "with-single-container",
        exp_uncore=cpus(1),
    ),
    UncoreCase(
        "GuPodSingleContainer, MonoUncoreCacheHT, ExpectFragmentedAllocCPUSet",
        SINGLE_MONO,
        2,
        cpus(0, 1),
        FULL_UNCORE,
        all_cpus(SINGLE_MONO) & ~(cpus(6, 7, 8, 9) | cpus(12, 13, 14, 15) | cpus(18, 19)),
        [("12000m", "12000m")],
        "with-single-container",
        exp_alloc=True,
        exp_cset=cpus(2, 3, 4, 5, 10, 11, 16, 17, 20, 21, 22, 23),  # identical to default packed assignment
        exp_uncore=cpus(0),
    ),
    UncoreCase(
        "GuPodSingleContainer, SingleSocketUncore, PartialUncore, ExpectBestEffortAllocTwoUncore",
        SMALL_SINGLE_NOSMT,
        4,
        cpus(0, 1, 2, 3),
        FULL_UNCORE,
        all_cpus(SMALL_SINGLE_NOSMT) & ~(cpus(8, 9, 10, 11) | cpus(16, 17, 18, 19) | cpus(24, 25, 26, 27)),
        [("8000m", "8000m")],
        "with-single-container",
        exp_uncore=cpus(0, 1),  # best-effort across uncore cache 0 and 1
    ),
    UncoreCase(
        "odd integer cpu required on smt-disabled",
        SMALL_SINGLE_NOSMT,
        4,
        cpus(0, 1, 2, 3),
        FULL_UNCORE,
        all_cpus(SMALL_SINGLE_NOSMT),
        [("5000m", "5000m")],
        "with-single-container",
        exp_alloc=True,
        exp_cset=cpus(8, 9, 10, 11, 12),
    ),
    UncoreCase(
        "odd integer required on smt-enabled",
        SMALL_UNCORE_SMT,
        4,
        cpus(0, 1, 64, 65),
        UNCORE_ONLY,
        all_cpus(SMALL_UNCORE_SMT),
        [("3000m", "3000m")],
        "with-single-container",
        exp_alloc=True,
        exp_cset=cpus(2, 3, 66),
    ),
    UncoreCase(
        "odd integer required on odd integer partial uncore",
        SMALL_UNCORE_SMT,
        3,
        cpus(0, 1, 64),
        UNCORE_ONLY,
        all_cpus(SMALL_UNCORE_SMT),
        [("3000m", "3000m")],
        "with-single-container",
        exp_alloc=True,
        exp_cset=cpus(2, 65, 66),
    ),
    UncoreCase(
        "even integer required on odd integer partial uncore",
        SMALL_UNCORE_SMT,
        3,
        cpus(0, 1, 64),
        UNCORE_ONLY,
        all_cpus(SMALL_UNCORE_SMT),
        [("4000m", "4000m")],
        "with-single-container",
        exp_alloc=True,
        exp_cset=cpus(4, 5, 68, 69),
    ),
    UncoreCase(
        "large odd integer required on smt-enabled",
        SMALL_UNCORE_SMT,
        3,
        cpus(0, 1, 64),
        UNCORE_ONLY,
        all_cpus(SMALL_UNCORE_SMT),
        [("11000m", "11000m")],
        "with-single-container",
        exp_alloc=True,
        exp_cset=cpus(2, 65, 66, 4, 5, 6, 7, 68, 69, 70, 71),  # full uncore 1 and partial uncore 0
    ),
    UncoreCase(
        # the Go table takes the default cpuset of topoSingleSocketSingleNumaPerSocketSMTSmallUncore (0-127)
        "odd integer required on HT monolithic uncore",
        SUBNUMA_MONO,
        3,
        cpus(0, 1, 120),
        UNCORE_ONLY,
        all_cpus(SMALL_UNCORE_SMT),
        [("5000m", "5000m")],
        "with-single-container",
        exp_alloc=True,
        exp_cset=cpus(2, 3, 121, 122, 123),
    ),
    UncoreCase(
        "even integer required on HT monolithic uncore",
        SUBNUMA_MONO,
        3,
        cpus(0, 1, 120),
        UNCORE_ONLY,
        all_cpus(SMALL_UNCORE_SMT),
        [("4000m", "4000m")],
        "with-single-container",
        exp_alloc=True,
        exp_cset=cpus(2, 3, 122, 123),  # takeFullCores
    ),
    UncoreCase(
        "GuPodSingleContainer, SingleSocketSMTSmallUncore, StrictReserveCompatability",
        SMALL_UNCORE_SMT,
        4,
        cpus(0, 1, 64, 65),
        STRICT_UNCORE,
        all_cpus(SMALL_UNCORE_SMT),
        [("2000m", "2000m")],
        "with-single-container",
        exp_alloc=True,
        exp_cset=cpus(2, 66),  # should avoid reserved cpuset
    ),
    UncoreCase(
        "GuPodSingleContainer, DualSocketHTMonoUncore, StrictReserveCompatability",
        SUBNUMA_MONO,
        4,
        cpus(0, 1, 120, 121),
        STRICT_UNCORE,
        all_cpus(SUBNUMA_MONO),
        [("4000m", "4000m")],
        "with-single-container",
        exp_alloc=True,
        exp_cset=cpus(2, 3, 122, 123),  # packed assignment avoid reserved cpuset
    ),
]

UNCORE_IDS = unique_ids([c.desc for c in UNCORE_CASES])


@pytest.mark.parametrize("tc", UNCORE_CASES, ids=UNCORE_IDS)
def test_static_policy_add_with_uncore_alignment(tc: UncoreCase) -> None:
    if tc.xfail:
        pytest.xfail(tc.xfail)
    t = topo(tc.topo)
    policy = new_policy(t, tc.num_reserved, tc.reserved, tc.options, gates=GO_ALPHA)
    pod = make_multi_container_pod([], tc.app, uid=tc.uid)
    st = mock_state({}, tc.default & ~tc.reserved)  # ensure the cpumanager invariant
    for c in pod.containers:
        policy.allocate(st, pod, c)
    if tc.exp_alloc:
        cset = st.get_cpuset(pod.uid, pod.containers[0].name)
        assert cset is not None
        assert cset == tc.exp_cset, f"expected {format_bits(tc.exp_cset)} but got {format_bits(cset)}"
        return
    ids = 0
    for c in pod.containers:
        cset = st.get_cpuset(pod.uid, c.name)
        assert cset is not None, f"GetCPUSet({pod.uid}, {c.name}) not ok"
        for cpu in iter_bits(cset):
            ids |= 1 << t.cpu_uncore[cpu]
    assert ids == tc.exp_uncore, f"expected UncoreCacheIDs {format_bits(tc.exp_uncore)} but got {format_bits(ids)}"


# =========================================================================== TestStaticPolicyAllocatePod


@dataclass
class AllocatePodCase:
    desc: str
    pod: Pod
    exp_assignments: dict[str, dict[str, int]]
    exp_default: int
    exp_err: BaseException | None = None


def _alloc_pod_case(
    desc: str,
    pod: Pod,
    exp: dict[str, int] | None,
    exp_default: int,
    exp_err: BaseException | None = None,
) -> AllocatePodCase:
    return AllocatePodCase(desc, pod, {pod.uid: exp} if exp else {}, exp_default, exp_err)


ALLOCATE_POD_CASES = [
    _alloc_pod_case(
        "should successfully allocate CPUs for a guaranteed pod with pod-level resources",
        make_pod_with_pod_level_resources("pod1", "2", "2", "container1", "1", "1"),
        {"container1": cpus(2)},
        cpus(0, 1, 3, 4, 5, 6, 7, 9, 10, 11),
    ),
    _alloc_pod_case(
        "scope: pod, should allocate exclusive CPUs to a guaranteed pod with pod-level resources and guaranteed "
        "container, PodLevelResourceManagers enabled",
        make_pod_with_pod_level_resources("gu-pod-level-resources", "2", "2", "gu-container", "1", "1"),
        {"gu-container": cpus(2)},
        cpus(0, 1, 3, 4, 5, 6, 7, 9, 10, 11),
    ),
    _alloc_pod_case(
        "scope: pod, should allocate exclusive CPUs to a guaranteed pod with pod-level resources and non-guaranteed "
        "container, PodLevelResourceManagers enabled",
        make_pod_with_containers_and_pod_level_resources(
            "gu-pod-level-resources", "1", "1", [], [CSpec("ngu-container")]
        ),
        {"ngu-container": cpus(6)},
        cpus(0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11),
    ),
    _alloc_pod_case(
        "scope: pod, should allocate exclusive CPUs to a guaranteed pod with pod-level resources and mix of "
        "guaranteed and non-guaranteed containers, PodLevelResourceManagers enabled",
        make_pod_with_containers_and_pod_level_resources(
            "gu-pod-level-mix-ctn",
            "3",
            "3",
            [],
            [CSpec("gu-container-1", "1", "1"), CSpec("gu-container-2", "1", "1"), CSpec("ngu-container")],
        ),
        {"gu-container-1": cpus(6), "gu-container-2": cpus(2), "ngu-container": cpus(8)},
        cpus(0, 1, 3, 4, 5, 7, 9, 10, 11),
    ),
    _alloc_pod_case(
        "scope: pod, should allocate exclusive CPUs to a guaranteed pod with pod-level resources and mix of "
        "guaranteed standard and init containers, PodLevelResourceManagers enabled",
        make_pod_with_containers_and_pod_level_resources(
            "gu-pod-level-gu-init-ctn",
            "2",
            "2",
            [CSpec("gu-init-container-1", "1", "1"), CSpec("gu-init-container-2", "1", "1")],
            [CSpec("gu-container-1", "1", "1"), CSpec("gu-container-2", "1", "1")],
        ),
        {
            "gu-init-container-1": cpus(2),
            "gu-init-container-2": cpus(2),
            "gu-container-1": cpus(2),
            "gu-container-2": cpus(8),
        },
        cpus(0, 1, 3, 4, 5, 6, 7, 9, 10, 11),
    ),
    _alloc_pod_case(
        "scope: pod, should allocate exclusive CPUs to a guaranteed pod with pod-level resources and mix of "
        "guaranteed standard and guaranteed restartable and non-guaranteed standard init containers, "
        "PodLevelResourceManagers enabled",
        make_pod_with_containers_and_pod_level_resources(
            "gu-pod-level-gu-init-ctn",
            "3",
            "3",
            [
                CSpec("ngu-init-container-1"),
                CSpec("gu-init-restartable-2", "1", "1", ALWAYS),
                CSpec("ngu-init-container-3"),
            ],
            [CSpec("gu-container-1", "1", "1"), CSpec("ngu-container-2")],
        ),
        {
            "ngu-init-container-1": cpus(2, 6, 8),
            "gu-init-restartable-2": cpus(6),
            "ngu-init-container-3": cpus(2, 8),
            "gu-container-1": cpus(2),
            "ngu-container-2": cpus(8),
        },
        cpus(0, 1, 3, 4, 5, 7, 9, 10, 11),
    ),
    _alloc_pod_case(
        "scope: pod, should allocate exclusive CPUs to a guaranteed pod with pod-level resources and mix of "
        "guaranteed standard and non-guaranteed restartable init containers, PodLevelResourceManagers enabled",
        make_pod_with_containers_and_pod_level_resources(
            "gu-pod-level-gu-init-ctn",
            "3",
            "3",
            [
                CSpec("ngu-init-container-1"),
                CSpec("ngu-init-restartable-2", restart_policy=ALWAYS),
                CSpec("ngu-init-container-3"),
            ],
            [CSpec("gu-container-1", "1", "1"), CSpec("ngu-container-2")],
        ),
        {
            "ngu-init-container-1": cpus(2, 6, 8),
            "ngu-init-restartable-2": cpus(2, 8),
            "ngu-init-container-3": cpus(2, 6, 8),
            "gu-container-1": cpus(6),
            "ngu-container-2": cpus(2, 8),
        },
        cpus(0, 1, 3, 4, 5, 7, 9, 10, 11),
    ),
    _alloc_pod_case(
        "scope: pod, should reject a pod that would result in an empty pod shared pool",
        make_pod_with_containers_and_pod_level_resources(
            "gu-pod-level-empty-pod-shared-pool",
            "2",
            "2",
            [],
            [CSpec("gu-container-1", "1", "1"), CSpec("gu-container-2", "1", "1"), CSpec("ngu-container")],
        ),
        None,
        P("0-11"),
        EmptyPodSharedPoolError(
            "pod rejected, sum of exclusive container cpu requests equals pod budget, "
            "leaving no cpus for shared containers"
        ),
    ),
    _alloc_pod_case(
        "scope: pod, should not allocate exclusive CPUs to a non-guaranteed pod with pod-level resources and "
        "guaranteed containers, PodLevelResourceManagers enabled",
        make_pod_with_containers_and_pod_level_resources(
            "ngu-pod-level-empty-pod-shared-pool", "2", "1", [], [CSpec("gu-container-1", "1", "1")]
        ),
        None,
        P("0-11"),
    ),
]


# the Go table's requiredMetrics, case by case: (expTotalAllocs, expExclusiveAssignments,
# expPodSharedPoolAssignments, expTotalErrors) of resource_manager_* {resource_name="cpu"}
REQUIRED_METRICS = dict(
    zip(
        [c.desc for c in ALLOCATE_POD_CASES],
        [
            (1, 1, 0, 0),
            (1, 1, 0, 0),
            (1, 0, 1, 0),
            (3, 2, 1, 0),
            (4, 4, 0, 0),
            (5, 2, 3, 0),
            (5, 1, 4, 0),
            (0, 0, 0, 1),
            (0, 0, 0, 0),
        ],
        strict=True,
    )
)


@pytest.mark.parametrize("tc", ALLOCATE_POD_CASES, ids=[c.desc for c in ALLOCATE_POD_CASES])
def test_static_policy_allocate_pod(tc: AllocatePodCase) -> None:
    # the Go table's topologyHint is not wired: the policy gets topologymanager.NewFakeManager()
    policy = new_policy(topo(D2), 1, cpus(0), gates=PLRM_ON)
    st = mock_state({}, P("0-11"))
    err: BaseException | None = None
    try:
        policy.allocate_pod(st, tc.pod)
    except Exception as e:
        err = e
    allocs, exclusive, shared, errors = REQUIRED_METRICS[tc.desc]
    m = policy.metrics
    if tc.exp_err is not None:
        assert same_error(err, tc.exp_err), repr(err)
        assert m.cpu_pod_allocation_errors == errors
        return
    assert err is None, repr(err)
    assert (m.cpu_pod_allocations, m.cpu_pod_exclusive, m.cpu_pod_shared) == (allocs, exclusive, shared)
    assert st.assignments == tc.exp_assignments, {
        p: {c: format_bits(b) for c, b in cs.items()} for p, cs in st.assignments.items()
    }
    assert st.default_cpuset == tc.exp_default, format_bits(st.default_cpuset)
    # KEP-5526: the pod's bubble (what left the shared pool) is kept as a pod entry
    if tc.exp_assignments:
        assert st.pod_assignments == {tc.pod.uid: P("0-11") & ~tc.exp_default}
    else:
        assert st.pod_assignments == {}


# =========================================================================== TestSMTAlignmentErrorText

SMT_TEXT = [
    (
        "base SMT alignment error",
        SMTAlignmentError(15, 4),
        "SMT Alignment Error: requested 15 cpus not multiple cpus per core = 4",
    ),
    (
        "base SMT alignment error, no physical CPUs, missing flag",
        SMTAlignmentError(4, 2, 0),
        "SMT Alignment Error: requested 4 cpus not multiple cpus per core = 2",
    ),
    (
        "base SMT alignment error, no physical CPUs, explicit flag",
        SMTAlignmentError(4, 2, 0, physical=True),
        "SMT Alignment Error: not enough free physical CPUs: available physical CPUs = 0, requested CPUs = 4, "
        "CPUs per core = 2",
    ),
]


@pytest.mark.parametrize(("name", "err", "expected"), SMT_TEXT, ids=[c[0] for c in SMT_TEXT])
def test_smt_alignment_error_text(name: str, err: SMTAlignmentError, expected: str) -> None:
    assert str(err) == expected
    assert err.reason == "SMTAlignmentError"


# =========================================================================== TestValidatePodScopeResources

_PLR = "PLR: Enabled, PLRM: Enabled"
VALIDATE_POD_SCOPE = [
    (
        f"Valid: Pod-level != Guaranteed containers, has podSharedPool containers, {_PLR}",
        make_multi_container_pod_with_options([], [Opt("2", "2", name="c1"), Opt(name="c2")], pod_level_cpus="4"),
        False,
    ),
    (
        f"Valid: Only Guaranteed containers, {_PLR}",
        make_multi_container_pod_with_options([], [Opt("2", "2"), Opt("2", "2")], pod_level_cpus="4"),
        False,
    ),
    (
        f"Valid: Only podSharedPool containers, {_PLR}",
        make_multi_container_pod_with_options([], [Opt(), Opt()], pod_level_cpus="4"),
        False,
    ),
    (
        f"Valid: Pod-level == Guaranteed containers, has podSharedPool containers with request, {_PLR}",
        make_multi_container_pod_with_options(
            [], [Opt("3", "3"), Opt("2", "2"), Opt("500m", "1000m"), Opt()], pod_level_cpus="6"
        ),
        False,
    ),
    (
        f"Failure: Pod-level == Guaranteed containers, has podSharedPool containers, {_PLR}",
        make_multi_container_pod_with_options([], [Opt("3", "3"), Opt("2", "2"), Opt()], pod_level_cpus="5"),
        True,
    ),
    (
        f"Valid: Pod-level resources with standard and restartable init containers, {_PLR}",
        make_multi_container_pod_with_options([Opt("1", "1"), Opt("1", "1", ALWAYS)], [Opt()], pod_level_cpus="2"),
        False,
    ),
    (
        f"Valid: Pod-level resources equal init and standard container resources, {_PLR}",
        make_multi_container_pod_with_options([Opt("2", "2")], [Opt("2", "2")], pod_level_cpus="2"),
        False,
    ),
    (
        f"Failure: Pod-level resources with shared standard init container and no available pool, {_PLR}",
        make_multi_container_pod_with_options([Opt("2", "2", ALWAYS), Opt()], [], pod_level_cpus="2"),
        True,
    ),
    (
        f"Valid: Pod-level resources with shared standard init container and no available pool, {_PLR}",
        make_multi_container_pod_with_options([Opt(), Opt("2", "2", ALWAYS)], [], pod_level_cpus="2"),
        False,
    ),
    (
        f"Failure: Pod-level == Restartable guaranteed init containers, has podSharedPool containers, {_PLR}",
        make_multi_container_pod_with_options(
            [Opt("2", "2", ALWAYS), Opt(restart_policy=ALWAYS)], [], pod_level_cpus="2"
        ),
        True,
    ),
    (
        f"Valid: Pod-level resources with only restartable one init container and one standard container, {_PLR}",
        make_multi_container_pod_with_options([Opt("1", "1", ALWAYS)], [Opt("1", "1")], pod_level_cpus="2"),
        False,
    ),
]


@pytest.mark.parametrize(("name", "pod", "expect_err"), VALIDATE_POD_SCOPE, ids=[c[0] for c in VALIDATE_POD_SCOPE])
def test_validate_pod_scope_resources(name: str, pod: Pod, expect_err: bool) -> None:
    policy = new_policy(topo(S1), gates=PLRM_ON)
    err = policy.validate_pod_scope_resources(pod)
    assert (err is not None) == expect_err, err


# =========================================================================== cpu_manager_test.go (policy-observable)


def test_cpu_manager_add() -> None:
    """TestCPUManagerAdd, "cpu manager add - no error": Allocate through the static policy.

    The Go state's default set {1-4} holds CPU 4, which the 4-CPU topology lacks.
    """
    policy = new_policy(flat_topology(4), 0)
    st = mock_state({}, cpus(1, 2, 3, 4))
    pod = make_pod("fakePod", "fakeContainer", "2", "2")
    policy.allocate(st, pod, pod.containers[0])
    assert st.default_cpuset == cpus(3, 4), format_bits(st.default_cpuset)


def test_cpu_manager_add_with_resv_list() -> None:
    """TestCPUManagerAddWithResvList, "cpu manager add - no error"."""
    policy = new_policy(flat_topology(4), 1, cpus(0))
    st = mock_state({}, P("0-3"))
    pod = make_pod("fakePod", "fakeContainer", "2", "2")
    policy.allocate(st, pod, pod.containers[0])
    assert st.default_cpuset == cpus(0, 3), format_bits(st.default_cpuset)


def test_cpu_manager_get_allocatable_cpus() -> None:
    """TestCPUManagerGetAllocatableCPUs, "Static Policy" (the none policy's is the empty set)."""
    policy = new_policy(flat_topology(4), 1, cpus(0))
    st = mock_state({}, P("0-3"))
    pod = make_pod("fakePod", "fakeContainer", "2", "2")
    policy.allocate(st, pod, pod.containers[0])
    assert policy.allocatable_cpus() == cpus(1, 2, 3)


INIT_CASES = [
    ("No Guaranteed Init CPUs", [("100m", "100m")], [("4000m", "4000m")], [0], [cpus(0, 4, 1, 5)]),
    (
        "Equal Number of Guaranteed CPUs",
        [("4000m", "4000m")],
        [("4000m", "4000m")],
        [cpus(0, 4, 1, 5)],
        [cpus(0, 4, 1, 5)],
    ),
    (
        "More Init Container Guaranteed CPUs",
        [("6000m", "6000m")],
        [("4000m", "4000m")],
        [cpus(0, 4, 1, 5, 2, 6)],
        [cpus(0, 4, 1, 5)],
    ),
    (
        "Less Init Container Guaranteed CPUs",
        [("2000m", "2000m")],
        [("4000m", "4000m")],
        [cpus(0, 4)],
        [cpus(0, 4, 1, 5)],
    ),
    (
        "Multi Init Container Equal CPUs",
        [("2000m", "2000m"), ("2000m", "2000m")],
        [("2000m", "2000m")],
        [cpus(0, 4), cpus(0, 4)],
        [cpus(0, 4)],
    ),
    (
        "Multi Init Container Less CPUs",
        [("4000m", "4000m"), ("4000m", "4000m")],
        [("2000m", "2000m")],
        [cpus(0, 4, 1, 5), cpus(0, 4, 1, 5)],
        [cpus(0, 4)],
    ),
    (
        "Multi Init Container More CPUs",
        [("2000m", "2000m"), ("2000m", "2000m")],
        [("4000m", "4000m")],
        [cpus(0, 4), cpus(0, 4)],
        [cpus(0, 4, 1, 5)],
    ),
    (
        "Multi Init Container Increasing CPUs",
        [("2000m", "2000m"), ("4000m", "4000m")],
        [("6000m", "6000m")],
        [cpus(0, 4), cpus(0, 4, 1, 5)],
        [cpus(0, 4, 1, 5, 2, 6)],
    ),
    (
        "Multi Init, Multi App Container Split CPUs",
        [("2000m", "2000m"), ("4000m", "4000m")],
        [("2000m", "2000m"), ("2000m", "2000m")],
        [cpus(0, 4), cpus(0, 4, 1, 5)],
        [cpus(0, 4), cpus(1, 5)],
    ),
]


@pytest.mark.parametrize(("desc", "init", "app", "exp_init", "exp_app"), INIT_CASES, ids=[c[0] for c in INIT_CASES])
def test_cpu_manager_add_with_init_containers(
    desc: str, init: list[tuple[str, str]], app: list[tuple[str, str]], exp_init: list[int], exp_app: list[int]
) -> None:
    policy = new_policy(topo(S1), 0)
    st = mock_state({}, P("0-7"))
    pod = make_multi_container_pod(init, app)
    cum = 0
    for c, exp in zip(pod.all_containers(), [*exp_init, *exp_app], strict=True):
        policy.allocate(st, pod, c)
        cset = st.get_cpuset(pod.uid, c.name)
        if exp:
            assert cset is not None, f"expected container {c.name} in assignments"
        if cset is not None:
            assert cset == exp, f"{c.name}: expected {format_bits(exp)} but got {format_bits(cset)}"
            cum |= cset
    assert st.default_cpuset == P("0-7") & ~cum, format_bits(st.default_cpuset)


# --------------------------------------------------------------------------- TestCPUManagerRestoreState

RESTORE_CASES = [
    ("Pod-level resources and managers enabled", "2", [Opt("1", "1")], True, True, True),
    ("Pod-level resources enabled, managers disabled", "2", [Opt("1", "1")], False, False, True),
    ("Container-level pod, features enabled", None, [Opt("1", "1"), Opt("1", "1")], False, True, True),
    ("Container-level pod, features disabled", None, [Opt("1", "1"), Opt("1", "1")], False, False, False),
]


@pytest.mark.parametrize(
    ("desc", "pod_cpus", "containers", "expect_pod_cpuset", "plrm", "plr"),
    RESTORE_CASES,
    ids=[c[0] for c in RESTORE_CASES],
)
def test_cpu_manager_restore_state(
    desc: str, pod_cpus: str | None, containers: list[Opt], expect_pod_cpuset: bool, plrm: bool, plr: bool
) -> None:
    """The policy side of a kubelet restart: allocate, checkpoint, restore, Start again."""
    gates = {POD_LEVEL_RESOURCES: plr, POD_LEVEL_RESOURCE_MANAGERS: plrm}
    topology = flat_topology(4)  # cadvisor: 4 cores, one thread each, one node
    pod = make_multi_container_pod_with_options([], containers, pod_level_cpus=pod_cpus, plr=plr)
    pod.name = pod.uid = "pod1"

    mgr = CPUManager(new_policy(topology, 1, gates=gates), CPUManagerState())
    if plrm and pod.has_pod_level_resources():
        mgr.allocate_pod(pod)
    else:
        for c in pod.containers:
            mgr.allocate(pod, c)
    pod_cpuset = mgr.state.pod_assignments.get(pod.uid, 0)
    assert bool(pod_cpuset) == expect_pod_cpuset

    data = dump_cpu_checkpoint(mgr.state, cpu_checkpoint_version_for(plrm))
    loaded = load_cpu_checkpoint(data, pod_level_resource_managers=plrm, policy_name="static")
    mgr2 = CPUManager(new_policy(topology, 1, gates=gates), loaded.state, restored=True)

    restored = mgr2.state.pod_assignments.get(pod.uid, 0)
    if expect_pod_cpuset:
        assert restored
        assert restored.bit_count() == pod_cpuset.bit_count()
    else:
        assert not restored
    skipped = plr and not plrm and pod.has_pod_level_resources()
    policy2 = mgr2.policy
    assert isinstance(policy2, StaticCPUPolicy)
    for c in pod.containers:
        cset = mgr2.state.get_cpuset(pod.uid, c.name)
        if skipped:
            assert cset is None
        else:
            assert cset is not None
            if policy2.guaranteed_cpus(pod, c) > 0:
                assert cset


# =========================================================================== option plumbing (not upstream tables)
# distribute-cpus-across-numa/-cores have no policy-level table upstream; these run
# TestTakeByTopologyNUMADistributed / TestTakeByTopologyWithSpreadPhysicalCPUsPreferredOption
# expectations through Allocate, to check the policy hands the right group size/strategy on.

PLUMBING: list[tuple[str, str, dict[str, str], dict[str, bool], int, int, int]] = [
    (
        "distribute-cpus-across-numa: allocate 13 full cores distributed across the first 2 NUMA nodes",
        MN,
        {DISTRIBUTE_CPUS_ACROSS_NUMA: "true"},
        {},
        P("0-79"),
        26,
        P("0-6,10-16,40-45,50-55"),
    ),
    (
        "distribute-cpus-across-numa+full-pcpus-only: ... first 2 NUMA nodes (cpuGroupSize 2)",
        MN,
        {DISTRIBUTE_CPUS_ACROSS_NUMA: "true", FULL_PCPUS_ONLY: "true"},
        {},
        P("0-79"),
        26,
        P("0-6,10-15,40-46,50-55"),
    ),
    (
        "distribute-cpus-across-cores: take cpus from dual socket with HT, 8 cpus",
        D2,
        {DISTRIBUTE_CPUS_ACROSS_CORES: "true"},
        GO_ALPHA,
        P("0-11"),
        8,
        cpus(0, 2, 4, 6, 8, 10, 1, 3),
    ),
]


@pytest.mark.parametrize(("desc", "t", "options", "gates", "avail", "n", "exp"), PLUMBING, ids=[c[0] for c in PLUMBING])
def test_policy_option_plumbing(
    desc: str, t: str, options: dict[str, str], gates: dict[str, bool], avail: int, n: int, exp: int
) -> None:
    policy = new_policy(topo(t), 0, options=options, gates=gates)
    pod = make_pod("fakePod", "c", str(n), str(n))
    st = mock_state({}, avail)
    policy.allocate(st, pod, pod.containers[0])
    got = st.get_cpuset("fakePod", "c")
    assert got == exp, format_bits(got or 0)


# ================================================================ pod-level RemoveContainer (policy_static.go)
# No upstream table covers it: RemoveContainer keeps a pod-level pod's bubble until its last
# container is gone, then returns the whole bubble and drops the pod entry.


def test_remove_container_pod_level_releases_bubble_with_last_container() -> None:
    pod = make_pod_with_containers_and_pod_level_resources(
        "gu-pod-level-mix-ctn",
        "3",
        "3",
        [],
        [CSpec("gu-container-1", "1", "1"), CSpec("gu-container-2", "1", "1"), CSpec("ngu-container")],
    )
    policy = new_policy(topo(D2), 1, cpus(0), gates=PLRM_ON)
    st = mock_state({}, P("0-11"))
    policy.allocate_pod(st, pod)
    after_alloc = st.default_cpuset
    names = [c.name for c in pod.containers]
    for name in names[:-1]:
        policy.remove_container(st, pod.uid, name)
        assert st.default_cpuset == after_alloc
        assert pod.uid in st.pod_assignments
    policy.remove_container(st, pod.uid, names[-1])
    assert st.default_cpuset == P("0-11")
    assert st.assignments == {}
    assert st.pod_assignments == {}


# ================================================================ NewStaticPolicy / Start edges (policy_static.go)
# Not upstream tables: the remaining branches of NewStaticPolicy and validateState.

NEW_POLICY_ERRORS = [
    (
        "reserved CPU unknown to the topology",
        1,
        cpus(12),
        "[cpumanager] unable to build the reserved physical CPUs from the reserved set: unknown CPU ID: 12",
    ),
    (
        "more CPUs to reserve than the machine has",
        13,
        None,
        "[cpumanager] unable to reserve the required amount of CPUs (size of  did not equal 13)",
    ),
]


@pytest.mark.parametrize(
    ("desc", "num_reserved", "reserved", "message"), NEW_POLICY_ERRORS, ids=[c[0] for c in NEW_POLICY_ERRORS]
)
def test_new_static_policy_errors(desc: str, num_reserved: int, reserved: int | None, message: str) -> None:
    with pytest.raises(StartupError) as e:
        new_policy(topo(D2), num_reserved, reserved)
    assert str(e.value) == "new static policy error: " + message


@pytest.mark.parametrize("plrm", [False, True], ids=["PodLevelResourceManagers off", "PodLevelResourceManagers on"])
def test_start_counts_pod_bubbles_only_with_pod_level_resource_managers(plrm: bool) -> None:
    """validateState adds GetPodCPUAssignments() to the known CPUs only under the gate."""
    policy = new_policy(topo(D2), 1, gates={POD_LEVEL_RESOURCE_MANAGERS: plrm})
    st = CPUManagerState("static", P("0,3-11"), {"p": {"c": cpus(1)}}, {"p": cpus(1, 2)})
    err = _run_start(policy, st)
    if plrm:
        assert err is None
    else:
        assert err == 'current set of available CPUs "0-11" doesn\'t match with CPUs in state "0-1,3-11"'
