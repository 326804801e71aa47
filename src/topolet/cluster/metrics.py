"""The kubelet's resource-manager metrics (1.36 names and labels) per node, as Prometheus text.

Names as in ``pkg/kubelet/metrics/metrics.go``: the ``kubelet_`` subsystem
for the topology, CPU and memory manager series and ``admission_rejections_total``;
no subsystem for the 1.36 ``resource_manager_*`` series (registered with the
PodLevelResourceManagers gate only). Every series carries a ``node`` label
(one endpoint serves every simulated node).

The managers' counters are the engine's (:class:`topolet.engine.metrics.ManagerMetrics`,
one per kubelet): the topology manager, the CPU manager's static policy and the
memory manager's Static policy count them where kubelet 1.36.2 does (see that
module for every code point). A restarted kubelet starts from zero and counts
its re-admissions as the kubelet does. Counted here, at the kubelet level:
``kubelet_admission_rejections_total`` by reason (``recordAdmissionRejection``,
kubelet.go:2614) and the duration of each topology manager ``Admit``
(``topology_manager_admission_duration_ms``: observed for every admission that
reached it, measured around the engine's admission of the pod, whole
milliseconds as the kubelet's). Gauges (shared pool size, exclusive CPUs,
CPUs per NUMA node) are read from the node's state at scrape time.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from topolet.engine.metrics import ALIGNED, ALIGNED_FAILURES
from topolet.engine.node import Node
from topolet.engine.result import AdmitResult

# metrics.ExponentialBuckets(.05, 2, 15)
DURATION_BUCKETS = tuple(0.05 * 2**i for i in range(15))

HELP = {
    "kubelet_topology_manager_admission_requests_total": (
        "counter",
        "The number of admission requests where resources have to be aligned.",
    ),
    "kubelet_topology_manager_admission_errors_total": (
        "counter",
        "The number of admission request failures where resources could not be aligned.",
    ),
    "kubelet_topology_manager_admission_duration_ms": (
        "histogram",
        "Duration in milliseconds to serve a pod admission request.",
    ),
    "kubelet_admission_rejections_total": ("counter", "Cumulative number pod admission rejections by the Kubelet."),
    "kubelet_cpu_manager_pinning_requests_total": (
        "counter",
        "The number of cpu core allocations which required pinning.",
    ),
    "kubelet_cpu_manager_pinning_errors_total": (
        "counter",
        "The number of cpu core allocations which required pinning failed.",
    ),
    "kubelet_cpu_manager_shared_pool_size_millicores": (
        "gauge",
        "The size of the shared CPU pool for non-guaranteed QoS pods, in millicores.",
    ),
    "kubelet_cpu_manager_exclusive_cpu_allocation_count": (
        "gauge",
        "The total number of CPUs exclusively allocated to containers running on this node",
    ),
    "kubelet_cpu_manager_allocation_per_numa": ("gauge", "Number of CPUs allocated per NUMA node"),
    "kubelet_memory_manager_pinning_requests_total": (
        "counter",
        "The number of memory pages allocations which required pinning.",
    ),
    "kubelet_memory_manager_pinning_errors_total": (
        "counter",
        "The number of memory pages allocations which required pinning that failed.",
    ),
    ALIGNED: (
        "counter",
        "Cumulative number of aligned compute resources allocated to containers by alignment type.",
    ),
    ALIGNED_FAILURES: (
        "counter",
        "Cumulative number of failures to allocate aligned compute resources to containers by alignment type.",
    ),
    "resource_manager_allocations_total": (
        "counter",
        "Number of exclusive resource allocations performed by a resource manager.",
    ),
    "resource_manager_allocation_errors_total": (
        "counter",
        "Number of errors encountered during exclusive resource allocation.",
    ),
    "resource_manager_container_assignments": (
        "counter",
        "Number of containers with a specific type of resource assignment.",
    ),
    "topolet_cluster_pods": ("gauge", "Pods on the node by the kubelet's verdict (topolet)."),
}

Labels = tuple[tuple[str, str], ...]

# kubelet.go admissionRejectionReasons: other reasons are "OutOfExtendedResources" (OutOf...) or "Other"
REJECTION_REASONS = frozenset(
    {
        "AppArmor",
        "PodOSSelectorNodeLabelDoesNotMatch",
        "PodOSNotSupported",
        "InvalidNodeInfo",
        "InitContainerRestartPolicyForbidden",
        "SupplementalGroupsPolicyNotSupported",
        "UnexpectedAdmissionError",
        "UnknownReason",
        "UnexpectedPredicateFailureType",
        "OutOfcpu",
        "OutOfmemory",
        "OutOfephemeral-storage",
        "OutOfpods",
        "PodLevelResourcesNotSupported",
        "PodFeatureUnsupported",
        "node(s) had taints that the pod didn't tolerate",
        "Evicted",
        "SysctlForbidden",
        "TopologyAffinityError",
        "NodeShutdown",
        "VolumeAttachmentLimitExceeded",
    }
)


def rejection_label(reason: str) -> str:
    """``recordAdmissionRejection``'s label for a reason."""
    if reason in REJECTION_REASONS:
        return reason
    return "OutOfExtendedResources" if reason.startswith("OutOf") else "Other"


@dataclass(slots=True)
class NodeMetrics:
    """One kubelet's own counters (admission rejections by reason) and its admission-duration
    histogram; the managers' counters are the engine node's (``Node.metrics``)."""

    counters: Counter[tuple[str, Labels]] = field(default_factory=Counter)
    buckets: list[int] = field(default_factory=lambda: [0] * len(DURATION_BUCKETS))
    duration_sum: float = 0.0
    duration_count: int = 0

    def inc(self, name: str, labels: Labels = (), n: int = 1) -> None:
        self.counters[(name, labels)] += n

    def observe_ms(self, ms: float) -> None:
        # the kubelet observes float64(time.Since(startTime).Milliseconds()): whole milliseconds
        v = float(int(ms))
        self.duration_sum += v
        self.duration_count += 1
        for i, b in enumerate(DURATION_BUCKETS):
            if v <= b:
                self.buckets[i] += 1

    def record(self, result: AdmitResult, ms: float, through_topology_manager: int = 1) -> None:
        """One admission by the kubelet: a rejection by reason; ``ms`` observed once for each
        time it went through the topology manager's Admit (0: rejected before it)."""
        if not result.admitted:
            self.reject(result.reason)
        for _ in range(through_topology_manager):
            self.observe_ms(ms)

    def reject(self, reason: str) -> None:
        """``recordAdmissionRejection`` (kubelet.go:2614)."""
        self.inc("kubelet_admission_rejections_total", (("reason", rejection_label(reason)),))


def _labels(labels: Labels) -> str:
    # the kubelet's exposition (client_golang) sorts a series' labels by name; a histogram's le comes last
    if not labels:
        return ""
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in labels)
    return "{" + inner + "}"


def _escape(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _num(v: float) -> str:
    if v == int(v):
        return str(int(v))
    return repr(v)


def gauges(node: Node) -> dict[tuple[str, Labels], float]:
    """The CPU manager's gauges, read from the node's state (0 under the none policy, which never sets them)."""
    from topolet.engine.cpumanager.policy_static import StaticCPUPolicy

    out: dict[tuple[str, Labels], float] = {}
    policy = node.cpu_manager.policy
    if not isinstance(policy, StaticCPUPolicy):
        # registered, never set by the none policy
        out[("kubelet_cpu_manager_shared_pool_size_millicores", ())] = 0
        out[("kubelet_cpu_manager_exclusive_cpu_allocation_count", ())] = 0
        return out
    cs = node.cpu_manager.state
    reserved = getattr(policy, "reserved_cpus", 0)
    out[("kubelet_cpu_manager_shared_pool_size_millicores", ())] = (cs.default_cpuset & ~reserved).bit_count() * 1000
    exclusive = 0
    for per_pod in cs.assignments.values():
        for bits in per_pod.values():
            exclusive |= bits
    for bits in cs.pod_assignments.values():
        exclusive |= bits
    out[("kubelet_cpu_manager_exclusive_cpu_allocation_count", ())] = exclusive.bit_count()
    for n in node.topology.numa_ids:
        numa_bits = node.topology.numa_cpus.get(n, 0)
        out[("kubelet_cpu_manager_allocation_per_numa", (("numa_node", str(n)),))] = (exclusive & numa_bits).bit_count()
    return out


def render(per_node: dict[str, tuple[NodeMetrics, Node | None, dict[str, int]]]) -> str:
    """Prometheus text exposition (0.0.4) of every node's series."""
    series: dict[str, list[str]] = {name: [] for name in HELP}
    for node_name, (m, node, pods) in sorted(per_node.items()):
        nl = (("node", node_name),)
        counted: list[tuple[str, Labels, float]] = [(n, lb, v) for (n, lb), v in m.counters.items()]
        if node is not None:
            counted.extend(node.metrics.series())
        for name, labels, v in sorted(counted):
            series[name].append(f"{name}{_labels(tuple(sorted(nl + labels)))} {_num(v)}")
        if node is not None:
            for (name, labels), v in sorted(gauges(node).items()):
                series[name].append(f"{name}{_labels(tuple(sorted(nl + labels)))} {_num(v)}")
            h = "kubelet_topology_manager_admission_duration_ms"
            for b, count in zip(DURATION_BUCKETS, m.buckets, strict=True):
                series[h].append(f"{h}_bucket{_labels((*nl, ('le', _num(b))))} {count}")
            series[h].append(f"{h}_bucket{_labels((*nl, ('le', '+Inf')))} {m.duration_count}")
            series[h].append(f"{h}_sum{_labels(nl)} {_num(m.duration_sum)}")
            series[h].append(f"{h}_count{_labels(nl)} {m.duration_count}")
        for verdict, n in sorted(pods.items()):
            series["topolet_cluster_pods"].append(f"topolet_cluster_pods{_labels((*nl, ('verdict', verdict)))} {n}")
    out: list[str] = []
    for name, lines in series.items():
        if not lines:
            continue
        kind, text = HELP[name]
        # component-base: a metric without a stability level is ALPHA, its help says so
        out.append(f"# HELP {name} {text}" if name.startswith("topolet_") else f"# HELP {name} [ALPHA] {text}")
        out.append(f"# TYPE {name} {kind}")
        out.extend(lines)
    return "\n".join(out) + "\n"
