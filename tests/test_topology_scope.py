"""Ports of the kubelet's topology manager scope tests (pkg/kubelet/cm/topologymanager).

scope_container_test.go, scope_pod_test.go, scope_test.go and topology_manager_test.go
(TestAdmit, the scope/policy selection of TestNewManager and TestManagerScope), plus
the admission paths of scope_container.go, scope_pod.go and scope_none.go: which
hints are asked for, which affinity is stored per container, the order of the
Allocate / AllocatePod calls and the errors (and their messages) on rejection.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import pytest

from topolet.engine.bitmask import mask_of
from topolet.engine.errors import (
    TOPOLOGY_AFFINITY_ERROR,
    UNEXPECTED_ADMISSION_ERROR,
    AdmissionError,
    AllocationError,
    SMTAlignmentError,
    TopologyAffinityError,
    admit_result_of,
    pod_level_topology_affinity_error,
)
from topolet.engine.hint import NO_HINT, AffinityStore, ProviderHints, TopologyHint
from topolet.engine.topologymanager.manager import (
    SCOPE_CONTAINER,
    SCOPE_NONE,
    SCOPE_POD,
    AdmissionTrace,
    TopologyManager,
)
from topolet.engine.topologymanager.policy import (
    POLICIES,
    POLICY_BEST_EFFORT,
    POLICY_NONE,
    POLICY_RESTRICTED,
    POLICY_SINGLE_NUMA_NODE,
    NUMAInfo,
    Policy,
    new_policy,
)
from topolet.model.pod import (
    QOS_BEST_EFFORT,
    QOS_BURSTABLE,
    QOS_GUARANTEED,
    Container,
    Pod,
    Resources,
)
from topolet.model.quantity import Quantity

H = TopologyHint

TOPOLOGY_LOCALITY = "Resources cannot be allocated with Topology locality"
POD_LEVEL_CONTAINER_SCOPE = (
    "Pod Scope pod with pod-level resources failed admission with a container-level topology manager"
)
POD_LEVEL_POD_SCOPE = "Pod Scope pod with pod-level resources failed admission under pod-scope topology manager"


def m(*ids: int) -> int:
    """``NewTestBitMask``."""
    return mask_of(ids)


def two_nodes() -> NUMAInfo:
    return NUMAInfo(nodes=[0, 1], distances={0: [10, 11], 1: [11, 10]})


class Log(list):
    """The calls made on the fake providers, in order."""


class FakeProvider:
    """A ``HintProvider``: ``mockHintProvider`` plus a record of the calls.

    ``hints`` is returned for every container (or looked up by container name when
    it is ``by_container``); ``pod_hints`` by ``get_pod_topology_hints`` (default: the same
    as ``hints``, as the Go mock). ``fail_allocate`` names a container whose Allocate
    raises ``error``; ``fail_allocate_pod`` makes AllocatePod raise it.
    """

    def __init__(
        self,
        name: str,
        hints: ProviderHints = None,
        *,
        log: Log | None = None,
        by_container: dict[str, ProviderHints] | None = None,
        pod_hints: ProviderHints | str = "same",
        fail_allocate: str | None = None,
        fail_allocate_pod: bool = False,
        error: Exception | None = None,
    ) -> None:
        self.name = name
        self.hints = hints
        self.by_container = by_container
        self.pod_hints = hints if pod_hints == "same" else pod_hints
        self.log = log if log is not None else Log()
        self.fail_allocate = fail_allocate
        self.fail_allocate_pod = fail_allocate_pod
        self.error = error or AllocationError(f"{name} failed")

    def get_topology_hints(self, pod: Pod, container: Container) -> ProviderHints:
        self.log.append(("hints", self.name, container.name))
        if self.by_container is not None:
            return self.by_container[container.name]
        return self.hints

    def get_pod_topology_hints(self, pod: Pod) -> ProviderHints:
        self.log.append(("pod_hints", self.name))
        assert not isinstance(self.pod_hints, str)
        return self.pod_hints

    def allocate(self, pod: Pod, container: Container) -> None:
        self.log.append(("allocate", self.name, container.name))
        if self.fail_allocate == container.name:
            raise self.error

    def allocate_pod(self, pod: Pod) -> None:
        self.log.append(("allocate_pod", self.name))
        if self.fail_allocate_pod:
            raise self.error


class MockPolicy(Policy):
    """``mockPolicy``: records the providers' hints, returns TopologyHint{} and admits."""

    name = "mock"

    def __init__(self) -> None:
        super().__init__(two_nodes(), False)
        self.ph: list[ProviderHints] | None = None

    def merge(self, providers_hints: Sequence[ProviderHints]) -> tuple[TopologyHint, bool]:
        self.ph = list(providers_hints)
        return H(None, False), True


def make_pod(
    containers: list[str] | None = None,
    init: list[str] | None = None,
    pod_resources: dict[str, str] | None = None,
    qos: str = QOS_GUARANTEED,
    name: str = "pod",
) -> Pod:
    res = None
    if pod_resources is not None:
        q = {k: Quantity.parse(v) for k, v in pod_resources.items()}
        res = Resources(requests=dict(q), limits=dict(q))
    return Pod(
        name=name,
        uid=f"uid-{name}",
        containers=[Container(c) for c in (containers if containers is not None else ["c"])],
        init_containers=[Container(c) for c in (init or [])],
        resources=res,
        qos_class=qos,
    )


def make_manager(policy: Policy, scope: str, providers: list[FakeProvider], gate: bool = False) -> TopologyManager:
    return TopologyManager(policy, scope, AffinityStore(), providers, gate)


def admit(tm: TopologyManager, pod: Pod) -> tuple[bool, str, str]:
    """``lifecycle.PodAdmitResult`` of the manager's Admit: (admit, reason, message)."""
    try:
        tm.admit(pod)
    except Exception as err:
        reason, message = admit_result_of(err)
        return False, reason, message
    return True, "", ""


# --- TestContainerCalculateAffinity / TestPodCalculateAffinity, *AccumulateProvidersHints ---

CALCULATE_AFFINITY_CASES = [
    ("No hint providers", [], []),
    ("HintProvider returns empty non-nil map[string][]TopologyHint", [{}], [{}]),
    (
        "HintProvider returns -nil map[string][]TopologyHint from provider",
        [{"resource": None}],
        [{"resource": None}],
    ),
    (
        "Assorted HintProviders",
        [
            {
                "resource-1/A": [H(m(0), True), H(m(0, 1), False)],
                "resource-1/B": [H(m(1), True), H(m(1, 2), False)],
            },
            {
                "resource-2/A": [H(m(2), True), H(m(3, 4), False)],
                "resource-2/B": [H(m(2), True), H(m(3, 4), False)],
            },
            {"resource-3": None},
        ],
        [
            {
                "resource-1/A": [H(m(0), True), H(m(0, 1), False)],
                "resource-1/B": [H(m(1), True), H(m(1, 2), False)],
            },
            {
                "resource-2/A": [H(m(2), True), H(m(3, 4), False)],
                "resource-2/B": [H(m(2), True), H(m(3, 4), False)],
            },
            {"resource-3": None},
        ],
    ),
]

ACCUMULATE_PROVIDERS_HINTS_CASES = [
    ("TopologyHint not set", [], []),
    ("HintProvider returns empty non-nil map[string][]TopologyHint", [{}], [{}]),
    (
        "HintProvider returns - nil map[string][]TopologyHint from provider",
        [{"resource": None}],
        [{"resource": None}],
    ),
    (
        "2 HintProviders with 1 resource returns hints",
        [{"resource1": [H(None, False)]}, {"resource2": [H(None, False)]}],
        [{"resource1": [H(None, False)]}, {"resource2": [H(None, False)]}],
    ),
    (
        "2 HintProviders 1 with 1 resource 1 with nil hints",
        [{"resource1": [H(None, False)]}, None],
        [{"resource1": [H(None, False)]}, None],
    ),
    (
        "2 HintProviders 1 with 1 resource 1 empty hints",
        [{"resource1": [H(None, False)]}, {}],
        [{"resource1": [H(None, False)]}, {}],
    ),
    (
        "HintProvider with 2 resources returns hints",
        [{"resource1": [H(None, False)], "resource2": [H(None, False)]}],
        [{"resource1": [H(None, False)], "resource2": [H(None, False)]}],
    ),
]


def _hint_params() -> list:
    params = []
    for scope, prefix in ((SCOPE_CONTAINER, "Container"), (SCOPE_POD, "Pod")):
        for test, table in (
            ("CalculateAffinity", CALCULATE_AFFINITY_CASES),
            ("AccumulateProvidersHints", ACCUMULATE_PROVIDERS_HINTS_CASES),
        ):
            for name, hp, expected in table:
                params.append(pytest.param(scope, hp, expected, id=f"Test{prefix}{test}/{name}"))
    return params


@pytest.mark.parametrize(("scope", "hp", "expected"), _hint_params())
def test_calculate_affinity(scope: str, hp: list[ProviderHints], expected: list[ProviderHints]) -> None:
    """The policy's Merge gets each provider's hints as they were returned, in provider order."""
    log = Log()
    providers = [FakeProvider(f"p{i}", h, log=log) for i, h in enumerate(hp)]
    policy = MockPolicy()
    tm = make_manager(policy, scope, providers)
    trace = AdmissionTrace()
    tm.admit(make_pod(), trace)
    assert policy.ph == expected
    # a provider's returned object is passed through (nil map stays nil, empty map stays empty)
    assert policy.ph is not None
    for got, h in zip(policy.ph, hp, strict=True):
        assert got is h
    assert len(trace.merges) == 1
    assert trace.merges[0].provider_hints == [(p.name, h) for p, h in zip(providers, hp, strict=True)]
    kind = "hints" if scope == SCOPE_CONTAINER else "pod_hints"
    asked = [e for e in log if e[0] in ("hints", "pod_hints")]
    assert asked == [(kind, p.name, "c") if scope == SCOPE_CONTAINER else (kind, p.name) for p in providers]


# --- TestAdmit -------------------------------------------------------------------------------


class AdmitCase(NamedTuple):
    name: str
    qos: str
    policy: str
    hp: list[ProviderHints]
    expected: bool


ADMIT_CASES = [
    AdmitCase(
        "QOSClass set as BestEffort. None Policy. No Hints.",
        QOS_BEST_EFFORT,
        POLICY_NONE,
        [],
        True,
    ),
    AdmitCase(
        "QOSClass set as Guaranteed. None Policy. No Hints.",
        QOS_GUARANTEED,
        POLICY_NONE,
        [],
        True,
    ),
    AdmitCase(
        "QOSClass set as BestEffort. single-numa-node Policy. No Hints.",
        QOS_BEST_EFFORT,
        POLICY_SINGLE_NUMA_NODE,
        [None],
        True,
    ),
    AdmitCase(
        "QOSClass set as BestEffort. Restricted Policy. No Hints.",
        QOS_BEST_EFFORT,
        POLICY_RESTRICTED,
        [None],
        True,
    ),
    AdmitCase(
        "QOSClass set as Guaranteed. BestEffort Policy. Preferred Affinity.",
        QOS_GUARANTEED,
        POLICY_BEST_EFFORT,
        [{"resource": [H(m(0), True), H(m(0, 1), False)]}],
        True,
    ),
    AdmitCase(
        "QOSClass set as Guaranteed. BestEffort Policy. More than one Preferred Affinity.",
        QOS_GUARANTEED,
        POLICY_BEST_EFFORT,
        [{"resource": [H(m(0), True), H(m(1), True), H(m(0, 1), False)]}],
        True,
    ),
    AdmitCase(
        "QOSClass set as Burstable. BestEffort Policy. More than one Preferred Affinity.",
        QOS_BURSTABLE,
        POLICY_BEST_EFFORT,
        [{"resource": [H(m(0), True), H(m(1), True), H(m(0, 1), False)]}],
        True,
    ),
    AdmitCase(
        "QOSClass set as Guaranteed. BestEffort Policy. No Preferred Affinity.",
        QOS_GUARANTEED,
        POLICY_BEST_EFFORT,
        [{"resource": [H(m(0, 1), False)]}],
        True,
    ),
    AdmitCase(
        "QOSClass set as Guaranteed. Restricted Policy. Preferred Affinity.",
        QOS_GUARANTEED,
        POLICY_RESTRICTED,
        [{"resource": [H(m(0), True), H(m(0, 1), False)]}],
        True,
    ),
    AdmitCase(
        "QOSClass set as Burstable. Restricted Policy. Preferred Affinity.",
        QOS_BURSTABLE,
        POLICY_RESTRICTED,
        [{"resource": [H(m(0), True), H(m(0, 1), False)]}],
        True,
    ),
    AdmitCase(
        "QOSClass set as Guaranteed. Restricted Policy. More than one Preferred affinity.",
        QOS_GUARANTEED,
        POLICY_RESTRICTED,
        [{"resource": [H(m(0), True), H(m(1), True), H(m(0, 1), False)]}],
        True,
    ),
    AdmitCase(
        "QOSClass set as Burstable. Restricted Policy. More than one Preferred affinity.",
        QOS_BURSTABLE,
        POLICY_RESTRICTED,
        [{"resource": [H(m(0), True), H(m(1), True), H(m(0, 1), False)]}],
        True,
    ),
    AdmitCase(
        "QOSClass set as Guaranteed. Restricted Policy. No Preferred affinity.",
        QOS_GUARANTEED,
        POLICY_RESTRICTED,
        [{"resource": [H(m(0, 1), False)]}],
        False,
    ),
    AdmitCase(
        "QOSClass set as Burstable. Restricted Policy. No Preferred affinity.",
        QOS_BURSTABLE,
        POLICY_RESTRICTED,
        [{"resource": [H(m(0, 1), False)]}],
        False,
    ),
]


@pytest.mark.parametrize("scope", [SCOPE_CONTAINER, SCOPE_POD])
@pytest.mark.parametrize("case", ADMIT_CASES, ids=[c.name for c in ADMIT_CASES])
def test_admit(case: AdmitCase, scope: str) -> None:
    policy = new_policy(case.policy, two_nodes(), False)
    pod = make_pod(qos=case.qos)
    tm = make_manager(policy, scope, [FakeProvider(f"p{i}", h) for i, h in enumerate(case.hp)])
    ok, reason, message = admit(tm, pod)
    assert ok is case.expected
    if not ok:
        assert (reason, message) == (TOPOLOGY_AFFINITY_ERROR, TOPOLOGY_LOCALITY)
    # the Go test runs the none policy under a container / pod scope directly
    if case.policy == POLICY_NONE:
        tm.scope = scope
        assert admit(tm, pod) == (True, "", "")


# --- NewManager: scope selection; scope_test.go -------------------------------------------


@pytest.mark.parametrize("scope", [SCOPE_CONTAINER, SCOPE_POD])
@pytest.mark.parametrize("policy_name", POLICIES)
def test_manager_scope(policy_name: str, scope: str) -> None:
    """TestNewManager / TestManagerScope: the none policy always gets the none scope."""
    tm = make_manager(new_policy(policy_name, two_nodes(), False), scope, [])
    assert tm.scope == (SCOPE_NONE if policy_name == POLICY_NONE else scope)
    assert tm.policy.name == policy_name


def test_get_affinity_unknown() -> None:
    """TestGetAffinity: an unknown pod / container has the zero TopologyHint{}."""
    store = AffinityStore()
    assert store.get_affinity("0aafa4c4-38e8-11e9-bcb1-a4bf01040474", "nginx") == H(None, False)
    assert H(None, False) == NO_HINT


# --- the error types -------------------------------------------------------------------------


def test_topology_affinity_errors() -> None:
    err = TopologyAffinityError()
    assert isinstance(err, AdmissionError)
    assert admit_result_of(err) == (TOPOLOGY_AFFINITY_ERROR, TOPOLOGY_LOCALITY)
    assert str(err) == TOPOLOGY_LOCALITY
    # PodLevelTopologyAffinityError
    assert admit_result_of(pod_level_topology_affinity_error("x")) == (TOPOLOGY_AFFINITY_ERROR, "Pod Scope x")
    assert admit_result_of(pod_level_topology_affinity_error("")) == (
        TOPOLOGY_AFFINITY_ERROR,
        "Pod Scope Resources cannot be allocated with Topology locality",
    )
    # anything else is wrapped as an unexpected admission error
    assert admit_result_of(AllocationError("boom")) == (
        UNEXPECTED_ADMISSION_ERROR,
        "Allocate failed due to boom, which is unexpected",
    )


# --- container scope -----------------------------------------------------------------------

INIT_AND_APPS = {"containers": ["app-1", "app-2"], "init": ["init"]}


def container_providers(
    log: Log, app1_memory: ProviderHints = None, fail_allocate: str | None = None
) -> list[FakeProvider]:
    cpu = FakeProvider(
        "cpu",
        log=log,
        by_container={
            "init": {"cpu": [H(m(0), True), H(m(1), True), H(m(0, 1), False)]},
            "app-1": {"cpu": [H(m(1), True), H(m(0, 1), False)]},
            "app-2": None,
        },
        fail_allocate=fail_allocate,
    )
    memory = FakeProvider(
        "memory",
        log=log,
        by_container={
            "init": {"memory": [H(m(0), True), H(m(0, 1), False)]},
            "app-1": app1_memory or {"memory": [H(m(1), True), H(m(0, 1), False)]},
            "app-2": {"memory": [H(m(0, 1), True)]},
        },
    )
    return [cpu, memory]


def _per_container(kind: str, container: str) -> list[tuple[str, str, str]]:
    return [(kind, "cpu", container), (kind, "memory", container)]


@pytest.mark.parametrize("gate", [False, True])
def test_container_scope_admit(gate: bool) -> None:
    """One merge per container (init containers first); its hint is stored, then every
    provider allocates the container, in provider order."""
    log = Log()
    tm = make_manager(
        new_policy(POLICY_BEST_EFFORT, two_nodes(), False), SCOPE_CONTAINER, container_providers(log), gate
    )
    pod = make_pod(**INIT_AND_APPS, pod_resources={"cpu": "2"} if gate else None)
    trace = AdmissionTrace()
    tm.admit(pod, trace)
    assert log == [
        *_per_container("hints", "init"),
        *_per_container("allocate", "init"),
        *_per_container("hints", "app-1"),
        *_per_container("allocate", "app-1"),
        *_per_container("hints", "app-2"),
        *_per_container("allocate", "app-2"),
    ]
    assert tm.affinity.get_affinity(pod.uid, "init") == H(m(0), True)
    assert tm.affinity.get_affinity(pod.uid, "app-1") == H(m(1), True)
    assert tm.affinity.get_affinity(pod.uid, "app-2") == H(m(0, 1), True)
    assert [(r.container, r.best, r.admit) for r in trace.merges] == [
        ("init", H(m(0), True), True),
        ("app-1", H(m(1), True), True),
        ("app-2", H(m(0, 1), True), True),
    ]
    assert not trace.pod_level


@pytest.mark.parametrize(
    ("pod_resources", "gate", "message"),
    [
        pytest.param(None, False, TOPOLOGY_LOCALITY, id="no pod-level resources"),
        pytest.param(None, True, TOPOLOGY_LOCALITY, id="no pod-level resources, gate on"),
        pytest.param({"cpu": "2", "memory": "1Gi"}, False, TOPOLOGY_LOCALITY, id="pod-level resources, gate off"),
        pytest.param({"cpu": "2", "memory": "1Gi"}, True, POD_LEVEL_CONTAINER_SCOPE, id="pod-level cpu+memory"),
        pytest.param({"memory": "1Gi"}, True, POD_LEVEL_CONTAINER_SCOPE, id="pod-level memory"),
        pytest.param({"hugepages-2Mi": "4Mi"}, True, POD_LEVEL_CONTAINER_SCOPE, id="pod-level hugepages"),
        pytest.param({"ephemeral-storage": "1Gi"}, True, TOPOLOGY_LOCALITY, id="pod-level other resource"),
    ],
)
def test_container_scope_reject(pod_resources: dict[str, str] | None, gate: bool, message: str) -> None:
    """The first container whose merge is not admitted stops the admission: the earlier
    containers keep their hints and allocations, nothing is done for the later ones."""
    log = Log()
    tm = make_manager(
        new_policy(POLICY_RESTRICTED, two_nodes(), False),
        SCOPE_CONTAINER,
        container_providers(log, app1_memory={"memory": [H(m(0, 1), False)]}),
        gate,
    )
    pod = make_pod(**INIT_AND_APPS, pod_resources=pod_resources)
    with pytest.raises(TopologyAffinityError) as exc:
        tm.admit(pod)
    assert admit_result_of(exc.value) == (TOPOLOGY_AFFINITY_ERROR, message)
    assert log == [
        *_per_container("hints", "init"),
        *_per_container("allocate", "init"),
        *_per_container("hints", "app-1"),
    ]
    assert tm.affinity.get_affinity(pod.uid, "init") == H(m(0), True)
    assert tm.affinity.get_affinity(pod.uid, "app-1") == NO_HINT
    assert tm.affinity.get_affinity(pod.uid, "app-2") == NO_HINT


def test_container_scope_single_numa_node() -> None:
    """single-numa-node: a merged default mask is stored as {nil, preferred}; a container
    whose hints all span two nodes is rejected."""
    log = Log()
    ok = make_manager(
        new_policy(POLICY_SINGLE_NUMA_NODE, two_nodes(), False),
        SCOPE_CONTAINER,
        [FakeProvider("cpu", None, log=log), FakeProvider("memory", {"memory": None}, log=log)],
    )
    pod = make_pod()
    ok.admit(pod)
    assert ok.affinity.get_affinity(pod.uid, "c") == H(None, True)

    wide = make_manager(
        new_policy(POLICY_SINGLE_NUMA_NODE, two_nodes(), False),
        SCOPE_CONTAINER,
        [FakeProvider("cpu", {"cpu": [H(m(0, 1), True)]}), FakeProvider("memory", None)],
    )
    assert admit(wide, pod) == (False, TOPOLOGY_AFFINITY_ERROR, TOPOLOGY_LOCALITY)


# --- pod scope ---------------------------------------------------------------------------------


def pod_providers(
    log: Log,
    memory: ProviderHints = None,
    fail_allocate: str | None = None,
    fail_allocate_pod: bool = False,
) -> list[FakeProvider]:
    return [
        FakeProvider(
            "cpu",
            {"cpu": [H(m(1), True), H(m(0, 1), False)]},
            log=log,
            fail_allocate=fail_allocate,
            fail_allocate_pod=fail_allocate_pod,
        ),
        FakeProvider("memory", memory or {"memory": [H(m(0), True), H(m(1), True), H(m(0, 1), False)]}, log=log),
    ]


ALL_CONTAINERS = ["init", "app-1", "app-2"]


@pytest.mark.parametrize(
    ("pod_resources", "gate"),
    [
        pytest.param(None, False, id="no pod-level resources"),
        pytest.param(None, True, id="no pod-level resources, gate on"),
        pytest.param({"cpu": "2", "memory": "1Gi"}, False, id="pod-level resources, gate off"),
        pytest.param({"ephemeral-storage": "1Gi"}, True, id="pod-level other resource, gate on"),
    ],
)
def test_pod_scope_admit_container_resources(pod_resources: dict[str, str] | None, gate: bool) -> None:
    """admitUsingContainerResources: one merge of the pod hints; the same hint is stored for
    every container, then every provider allocates each container (init containers first)."""
    log = Log()
    tm = make_manager(new_policy(POLICY_BEST_EFFORT, two_nodes(), False), SCOPE_POD, pod_providers(log), gate)
    pod = make_pod(**INIT_AND_APPS, pod_resources=pod_resources)
    trace = AdmissionTrace()
    tm.admit(pod, trace)
    assert log == [
        ("pod_hints", "cpu"),
        ("pod_hints", "memory"),
        *(e for c in ALL_CONTAINERS for e in _per_container("allocate", c)),
    ]
    for c in ALL_CONTAINERS:
        assert tm.affinity.get_affinity(pod.uid, c) == H(m(1), True)
    assert [(r.container, r.best, r.admit) for r in trace.merges] == [(None, H(m(1), True), True)]
    assert not trace.pod_level


@pytest.mark.parametrize(
    ("pod_resources", "gate"),
    [
        pytest.param(None, False, id="no pod-level resources"),
        pytest.param(None, True, id="no pod-level resources, gate on"),
        pytest.param({"cpu": "2"}, False, id="pod-level resources, gate off"),
    ],
)
def test_pod_scope_reject_container_resources(pod_resources: dict[str, str] | None, gate: bool) -> None:
    log = Log()
    tm = make_manager(
        new_policy(POLICY_RESTRICTED, two_nodes(), False),
        SCOPE_POD,
        pod_providers(log, memory={"memory": [H(m(0), True)]}),
        gate,
    )
    pod = make_pod(**INIT_AND_APPS, pod_resources=pod_resources)
    assert admit(tm, pod) == (False, TOPOLOGY_AFFINITY_ERROR, TOPOLOGY_LOCALITY)
    assert log == [("pod_hints", "cpu"), ("pod_hints", "memory")]
    assert tm.affinity.hints == {}


@pytest.mark.parametrize(
    "pod_resources",
    [{"cpu": "2", "memory": "1Gi"}, {"cpu": "500m"}, {"memory": "1Gi"}, {"hugepages-1Gi": "1Gi"}],
    ids=str,
)
def test_pod_scope_admit_pod_resources(pod_resources: dict[str, str]) -> None:
    """admitUsingPodResources: the hint is stored for every container, then AllocatePod
    once per provider; no per-container Allocate."""
    log = Log()
    tm = make_manager(new_policy(POLICY_BEST_EFFORT, two_nodes(), False), SCOPE_POD, pod_providers(log), True)
    pod = make_pod(**INIT_AND_APPS, pod_resources=pod_resources)
    trace = AdmissionTrace()
    tm.admit(pod, trace)
    assert log == [
        ("pod_hints", "cpu"),
        ("pod_hints", "memory"),
        ("allocate_pod", "cpu"),
        ("allocate_pod", "memory"),
    ]
    for c in ALL_CONTAINERS:
        assert tm.affinity.get_affinity(pod.uid, c) == H(m(1), True)
    assert trace.pod_level
    assert [(r.container, r.best) for r in trace.merges] == [(None, H(m(1), True))]


@pytest.mark.parametrize("policy_name", [POLICY_RESTRICTED, POLICY_SINGLE_NUMA_NODE])
def test_pod_scope_reject_pod_resources(policy_name: str) -> None:
    log = Log()
    tm = make_manager(
        new_policy(policy_name, two_nodes(), False),
        SCOPE_POD,
        pod_providers(log, memory={"memory": [H(m(0), True)]}),
        True,
    )
    pod = make_pod(**INIT_AND_APPS, pod_resources={"cpu": "2", "memory": "1Gi"})
    assert admit(tm, pod) == (False, TOPOLOGY_AFFINITY_ERROR, POD_LEVEL_POD_SCOPE)
    assert log == [("pod_hints", "cpu"), ("pod_hints", "memory")]
    assert tm.affinity.hints == {}


def test_pod_scope_best_effort_never_rejects() -> None:
    tm = make_manager(
        new_policy(POLICY_BEST_EFFORT, two_nodes(), False),
        SCOPE_POD,
        [FakeProvider("cpu", {"cpu": []}), FakeProvider("memory", {"memory": [H(m(0), True)]})],
        True,
    )
    pod = make_pod(pod_resources={"cpu": "1"})
    tm.admit(pod)
    # an empty hint list is {nil, false}: the merge keeps node 0 but is not preferred
    assert tm.affinity.get_affinity(pod.uid, "c") == H(m(0), False)


# --- none scope --------------------------------------------------------------------------------


@pytest.mark.parametrize("gate", [False, True])
@pytest.mark.parametrize("scope", [SCOPE_CONTAINER, SCOPE_POD])
def test_none_scope(scope: str, gate: bool) -> None:
    """admitPolicyNone: no hints, no merge, no stored affinity; Allocate per container."""
    log = Log()
    tm = make_manager(new_policy(POLICY_NONE, two_nodes(), False), scope, pod_providers(log), gate)
    pod = make_pod(**INIT_AND_APPS, pod_resources={"cpu": "2", "memory": "1Gi"})
    trace = AdmissionTrace()
    tm.admit(pod, trace)
    assert tm.scope == SCOPE_NONE
    assert log == [e for c in ALL_CONTAINERS for e in _per_container("allocate", c)]
    assert tm.affinity.hints == {}
    assert tm.affinity.get_affinity(pod.uid, "app-1") == NO_HINT
    assert trace.merges == []


# --- allocation errors ---------------------------------------------------------------------------


@pytest.mark.parametrize("scope", [SCOPE_CONTAINER, SCOPE_POD, SCOPE_NONE])
def test_allocate_error_stops_admission(scope: str) -> None:
    """An Allocate error is returned at once: no later provider or container is allocated."""
    log = Log()
    policy = new_policy(POLICY_NONE if scope == SCOPE_NONE else POLICY_BEST_EFFORT, two_nodes(), False)
    providers = (
        container_providers(log, fail_allocate="app-1")
        if scope == SCOPE_CONTAINER
        else pod_providers(log, fail_allocate="app-1")
    )
    tm = make_manager(policy, scope, providers)
    pod = make_pod(**INIT_AND_APPS)
    assert admit(tm, pod) == (
        False,
        UNEXPECTED_ADMISSION_ERROR,
        "Allocate failed due to cpu failed, which is unexpected",
    )
    allocations = [e for e in log if e[0] == "allocate"]
    assert allocations == [*_per_container("allocate", "init"), ("allocate", "cpu", "app-1")]
    if scope == SCOPE_NONE:
        assert tm.affinity.hints == {}
    else:
        # the hint is stored before the container is allocated
        assert set(tm.affinity.hints[pod.uid]) == {"init", "app-1"}


def test_allocate_admission_error_keeps_its_reason() -> None:
    err = SMTAlignmentError(requested=3, cpus_per_core=2)
    tm = make_manager(
        new_policy(POLICY_BEST_EFFORT, two_nodes(), False),
        SCOPE_CONTAINER,
        [FakeProvider("cpu", None, fail_allocate="c", error=err), FakeProvider("memory", None)],
    )
    assert admit(tm, make_pod()) == (
        False,
        "SMTAlignmentError",
        "SMT Alignment Error: requested 3 cpus not multiple cpus per core = 2",
    )


def test_allocate_pod_error_stops_admission() -> None:
    log = Log()
    tm = make_manager(
        new_policy(POLICY_BEST_EFFORT, two_nodes(), False),
        SCOPE_POD,
        pod_providers(log, fail_allocate_pod=True),
        True,
    )
    pod = make_pod(**INIT_AND_APPS, pod_resources={"cpu": "2"})
    assert admit(tm, pod) == (
        False,
        UNEXPECTED_ADMISSION_ERROR,
        "Allocate failed due to cpu failed, which is unexpected",
    )
    assert log == [("pod_hints", "cpu"), ("pod_hints", "memory"), ("allocate_pod", "cpu")]
    # the hints were stored for every container before AllocatePod
    assert set(tm.affinity.hints[pod.uid]) == set(ALL_CONTAINERS)
