"""The resource managers' counters, counted where kubelet 1.36.2 counts them. Pure: plain ints.

One :class:`ManagerMetrics` per :class:`~topolet.engine.node.Node` (a kubelet
process: a restarted kubelet starts from zero). The topology manager, the CPU
manager's static policy and the memory manager's Static policy increment its
fields at the code points where the kubelet increments its Prometheus
counters (``pkg/kubelet/cm/{topologymanager,cpumanager,memorymanager}``;
names, labels and label values in ``pkg/kubelet/metrics/metrics.go``). The
``none`` CPU policy and ``None`` memory policy count nothing, as the
kubelet's. :meth:`ManagerMetrics.series` lists them as the kubelet exposes
them: name, labels, value.

What the kubelet counts and where (kubelet 1.36.2, ``pkg/kubelet/``):

* ``cm/topologymanager/topology_manager.go:268`` every pod through the
  topology manager's ``Admit`` (any policy, ``none`` included):
  ``topology_manager_admission_requests_total``.
* ``scope_container.go:63,74``, ``scope_pod.go:76,107,124``: a failed merge
  or a failed allocation under the container and pod scopes:
  ``topology_manager_admission_errors_total`` (the ``none`` scope counts no
  error). Under ``single-numa-node`` a pod or container aligned, or not:
  ``container_aligned_compute_resources{,_failure}_count{scope,boundary="numa_node"}``
  (``scope_container.go:61,80``, ``scope_pod.go:122,135``).
* ``cm/cpumanager/policy_static.go`` ``Allocate`` (a container with
  exclusive CPUs; pod-level pods skipped while a pod-level gate is off):
  a pinning request before anything else (:591), even when the container is
  already in the state (a restarted kubelet's re-admission); on error a
  pinning error and ``resource_manager_allocation_errors_total{cpu,node}``
  (:594-595); a new allocation ``resource_manager_allocations_total{cpu,node}``
  and ``resource_manager_container_assignments{cpu,node_exclusive}`` (:632-633);
  with ``full-pcpus-only`` the ``physical_cpu`` alignment (:597, :604); a new
  allocation within one uncore cache the ``uncore_cache`` alignment (:1087).
* ``policy_static.go`` ``AllocatePod`` (the pod-level CPU budget): no pinning
  request for the pod itself; on any error a pinning error and
  ``resource_manager_allocation_errors_total{cpu,pod}`` (:417-418); per
  container with exclusive CPUs a pinning request and a ``pod_exclusive``
  assignment (:457/465, :493/498); a non-restartable init container without
  (:481) and every other container without exclusive CPUs (:513) a
  ``pod_shared`` assignment; then ``resource_manager_allocations_total{cpu,pod}``
  for every container of the pod (:516).
* ``cm/memorymanager/policy_static.go`` ``Allocate`` (a container of a
  Guaranteed pod): a pinning request (:443), also for a container already in
  the state; on error a pinning error and
  ``resource_manager_allocation_errors_total{memory,node}`` (:446-447); a new
  allocation ``resource_manager_allocations_total{memory,node}`` per resource
  (memory, each hugepages size: :522) and one
  ``resource_manager_container_assignments{memory,node_exclusive}`` (:537).
* ``policy_static.go`` ``AllocatePod`` (a Guaranteed pod's pod-level memory): a
  pinning request for the pod (:201), on error a pinning error and
  ``resource_manager_allocation_errors_total{memory,pod}`` (:204-205); a
  pinning request for every init container (:261) and for every app container
  with exclusive memory (:334); ``pod_shared`` for a non-restartable init
  container without exclusive memory (:289) and every other container without
  (:386), ``pod_exclusive`` for the ones with (:305, :349); then
  ``resource_manager_allocations_total{memory,pod}`` for every container (:389).
"""

from __future__ import annotations

# pkg/kubelet/metrics/metrics.go: names (the kubelet_ subsystem for the managers' series; none for
# the resource_manager_* series, registered only with the PodLevelResourceManagers gate on)
TM_REQUESTS = "kubelet_topology_manager_admission_requests_total"
TM_ERRORS = "kubelet_topology_manager_admission_errors_total"
CPU_PINNING_REQUESTS = "kubelet_cpu_manager_pinning_requests_total"
CPU_PINNING_ERRORS = "kubelet_cpu_manager_pinning_errors_total"
MEMORY_PINNING_REQUESTS = "kubelet_memory_manager_pinning_requests_total"
MEMORY_PINNING_ERRORS = "kubelet_memory_manager_pinning_errors_total"
ALIGNED = "kubelet_container_aligned_compute_resources_count"
ALIGNED_FAILURES = "kubelet_container_aligned_compute_resources_failure_count"
RM_ALLOCATIONS = "resource_manager_allocations_total"
RM_ALLOCATION_ERRORS = "resource_manager_allocation_errors_total"
RM_ASSIGNMENTS = "resource_manager_container_assignments"

Labels = tuple[tuple[str, str], ...]

# (field, name, labels): every counter, in the order they are listed
_SERIES: tuple[tuple[str, str, Labels], ...] = (
    ("tm_requests", TM_REQUESTS, ()),
    ("tm_errors", TM_ERRORS, ()),
    ("cpu_pinning_requests", CPU_PINNING_REQUESTS, ()),
    ("cpu_pinning_errors", CPU_PINNING_ERRORS, ()),
    ("memory_pinning_requests", MEMORY_PINNING_REQUESTS, ()),
    ("memory_pinning_errors", MEMORY_PINNING_ERRORS, ()),
    ("aligned_container_numa", ALIGNED, (("scope", "container"), ("boundary", "numa_node"))),
    ("aligned_pod_numa", ALIGNED, (("scope", "pod"), ("boundary", "numa_node"))),
    ("aligned_container_physical_cpu", ALIGNED, (("scope", "container"), ("boundary", "physical_cpu"))),
    ("aligned_container_uncore_cache", ALIGNED, (("scope", "container"), ("boundary", "uncore_cache"))),
    ("unaligned_container_numa", ALIGNED_FAILURES, (("scope", "container"), ("boundary", "numa_node"))),
    ("unaligned_pod_numa", ALIGNED_FAILURES, (("scope", "pod"), ("boundary", "numa_node"))),
    ("unaligned_container_physical_cpu", ALIGNED_FAILURES, (("scope", "container"), ("boundary", "physical_cpu"))),
    ("cpu_node_allocations", RM_ALLOCATIONS, (("resource_name", "cpu"), ("source", "node"))),
    ("cpu_pod_allocations", RM_ALLOCATIONS, (("resource_name", "cpu"), ("source", "pod"))),
    ("memory_node_allocations", RM_ALLOCATIONS, (("resource_name", "memory"), ("source", "node"))),
    ("memory_pod_allocations", RM_ALLOCATIONS, (("resource_name", "memory"), ("source", "pod"))),
    ("cpu_node_allocation_errors", RM_ALLOCATION_ERRORS, (("resource_name", "cpu"), ("source", "node"))),
    ("cpu_pod_allocation_errors", RM_ALLOCATION_ERRORS, (("resource_name", "cpu"), ("source", "pod"))),
    ("memory_node_allocation_errors", RM_ALLOCATION_ERRORS, (("resource_name", "memory"), ("source", "node"))),
    ("memory_pod_allocation_errors", RM_ALLOCATION_ERRORS, (("resource_name", "memory"), ("source", "pod"))),
    ("cpu_node_exclusive", RM_ASSIGNMENTS, (("resource_name", "cpu"), ("assignment_type", "node_exclusive"))),
    ("cpu_pod_exclusive", RM_ASSIGNMENTS, (("resource_name", "cpu"), ("assignment_type", "pod_exclusive"))),
    ("cpu_pod_shared", RM_ASSIGNMENTS, (("resource_name", "cpu"), ("assignment_type", "pod_shared"))),
    ("memory_node_exclusive", RM_ASSIGNMENTS, (("resource_name", "memory"), ("assignment_type", "node_exclusive"))),
    ("memory_pod_exclusive", RM_ASSIGNMENTS, (("resource_name", "memory"), ("assignment_type", "pod_exclusive"))),
    ("memory_pod_shared", RM_ASSIGNMENTS, (("resource_name", "memory"), ("assignment_type", "pod_shared"))),
)

# plain counters: registered at start, exposed at 0 (metrics.go:1376-1391)
_ALWAYS = frozenset(
    {TM_REQUESTS, TM_ERRORS, CPU_PINNING_REQUESTS, CPU_PINNING_ERRORS, MEMORY_PINNING_REQUESTS, MEMORY_PINNING_ERRORS}
)
# label sets the kubelet creates at 0: the topology manager's (topology_manager.go:232-235, not under
# the none policy: NewManager returns before initializeMetrics) and the static CPU policy's
# (policy_static.go:1074-1076)
_TM_INIT = frozenset({"aligned_container_numa", "aligned_pod_numa", "unaligned_container_numa", "unaligned_pod_numa"})
_CPU_INIT = frozenset(
    {"aligned_container_physical_cpu", "aligned_container_uncore_cache", "unaligned_container_physical_cpu"}
)
_RM = frozenset({RM_ALLOCATIONS, RM_ALLOCATION_ERRORS, RM_ASSIGNMENTS})


class ManagerMetrics:
    """One kubelet's resource-manager counters (see the module docstring for what counts where).

    ``topology_policy_none``, ``cpu_static`` and ``pod_level_resource_managers`` say which series the
    kubelet creates at start (at 0) and whether the ``resource_manager_*`` series are registered."""

    __slots__ = (
        *(f for f, _, _ in _SERIES),
        "cpu_static",
        "pod_level_resource_managers",
        "topology_policy_none",
    )

    tm_requests: int
    tm_errors: int
    cpu_pinning_requests: int
    cpu_pinning_errors: int
    memory_pinning_requests: int
    memory_pinning_errors: int
    aligned_container_numa: int
    aligned_pod_numa: int
    aligned_container_physical_cpu: int
    aligned_container_uncore_cache: int
    unaligned_container_numa: int
    unaligned_pod_numa: int
    unaligned_container_physical_cpu: int
    cpu_node_allocations: int
    cpu_pod_allocations: int
    memory_node_allocations: int
    memory_pod_allocations: int
    cpu_node_allocation_errors: int
    cpu_pod_allocation_errors: int
    memory_node_allocation_errors: int
    memory_pod_allocation_errors: int
    cpu_node_exclusive: int
    cpu_pod_exclusive: int
    cpu_pod_shared: int
    memory_node_exclusive: int
    memory_pod_exclusive: int
    memory_pod_shared: int

    def __init__(
        self, *, topology_policy_none: bool = False, cpu_static: bool = True, pod_level_resource_managers: bool = True
    ) -> None:
        for f, _, _ in _SERIES:
            setattr(self, f, 0)
        self.topology_policy_none = topology_policy_none
        self.cpu_static = cpu_static
        self.pod_level_resource_managers = pod_level_resource_managers

    def value(self, name: str, labels: Labels = ()) -> int:
        """One counter by its Prometheus name and labels (0 when there is no such series)."""
        for f, n, lb in _SERIES:
            if n == name and lb == labels:
                return int(getattr(self, f))
        return 0

    def series(self) -> list[tuple[str, Labels, int]]:
        """The counters as the kubelet exposes them: (name, labels, value). Plain counters always;
        a labelled series once counted or created at 0 by the kubelet; the ``resource_manager_*``
        series only with the PodLevelResourceManagers gate on (metrics.go:1429-1433)."""
        out: list[tuple[str, Labels, int]] = []
        for f, name, labels in _SERIES:
            v = int(getattr(self, f))
            if name in _RM and not self.pod_level_resource_managers:
                continue
            if (
                v
                or name in _ALWAYS
                or (f in _TM_INIT and not self.topology_policy_none)
                or (f in _CPU_INIT and self.cpu_static)
            ):
                out.append((name, labels, v))
        return out

    def counts(self) -> dict[str, int]:
        """The counters that are not zero, by field name."""
        return {f: v for f, _, _ in _SERIES if (v := int(getattr(self, f)))}

    def as_dict(self) -> dict[tuple[str, Labels], int]:
        """Every counter by (name, labels), zeros included."""
        return {(name, labels): int(getattr(self, f)) for f, name, labels in _SERIES}
