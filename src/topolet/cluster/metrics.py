"""The kubelet's resource-manager metrics (1.36 names and labels) per node, as Prometheus text.

Names as in ``pkg/kubelet/metrics/metrics.go``: the ``kubelet_`` subsystem
for the topology, CPU and memory manager series and ``admission_rejections_total``;
no subsystem for the 1.36 ``resource_manager_*`` series. Every series carries
a ``node`` label (one endpoint serves every simulated node).

Counters are derived from each admission's outcome: a pod through the
topology manager's Admit (``topology_manager_admission_requests_total``, its
duration in ms as measured around the engine's admission), a rejection by
reason, and per container of an admitted pod its CPU and memory assignment
(exclusive from the node, from the pod's pool, or the pod's shared pool). The
``*_pinning_errors_total`` and ``resource_manager_allocation_errors_total``
counters are counted from the rejection's reason and message (which manager
failed), not from inside the managers. Gauges (shared pool size, exclusive
CPUs, CPUs per NUMA node) are read from the node's state at scrape time.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from topolet.engine.admission import HANDLER_RESOURCE_MANAGERS, HANDLER_SYSCTL
from topolet.engine.errors import SMT_ALIGNMENT_ERROR, TOPOLOGY_AFFINITY_ERROR
from topolet.engine.node import Node
from topolet.engine.result import EXCLUSIVE, POD_SHARED, AdmitResult
from topolet.model.pod import Pod

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
    """One node's counters and its admission-duration histogram."""

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

    def record(self, pod: Pod, result: AdmitResult, ms: float, with_managers: bool) -> None:
        if not with_managers:
            return
        if not result.admitted and result.handler == HANDLER_SYSCTL:  # rejected before the topology manager
            self.inc("kubelet_admission_rejections_total", (("reason", rejection_label(result.reason)),))
            return
        self.inc("kubelet_topology_manager_admission_requests_total")
        self.observe_ms(ms)
        if not result.admitted:
            self._rejected(pod, result)
            return
        bubble = result.pod_cpus != 0
        node_excl = 0
        for c in result.containers:
            if c.cpu_mode == EXCLUSIVE:
                self.inc("kubelet_cpu_manager_pinning_requests_total")
                kind = "pod_exclusive" if bubble else "node_exclusive"
                self.inc(
                    "resource_manager_container_assignments", (("resource_name", "cpu"), ("assignment_type", kind))
                )
                node_excl += 0 if bubble else 1
            elif c.cpu_mode == POD_SHARED:
                self.inc(
                    "resource_manager_container_assignments",
                    (("resource_name", "cpu"), ("assignment_type", "pod_shared")),
                )
            if c.memory_pinned:
                self.inc("kubelet_memory_manager_pinning_requests_total")
                kind = "pod_exclusive" if bubble or pod.has_pod_level_resources() else "node_exclusive"
                self.inc(
                    "resource_manager_container_assignments", (("resource_name", "memory"), ("assignment_type", kind))
                )
                if kind == "node_exclusive":
                    self.inc("resource_manager_allocations_total", (("resource_name", "memory"), ("source", "node")))
        if node_excl:
            self.inc("resource_manager_allocations_total", (("resource_name", "cpu"), ("source", "node")), node_excl)
        if bubble:
            self.inc("resource_manager_allocations_total", (("resource_name", "cpu"), ("source", "pod")))

    def _rejected(self, pod: Pod, result: AdmitResult) -> None:
        self.inc("kubelet_admission_rejections_total", (("reason", rejection_label(result.reason)),))
        if result.handler != HANDLER_RESOURCE_MANAGERS:  # a later handler (node fit, AppArmor, ...)
            return
        if result.reason == TOPOLOGY_AFFINITY_ERROR:
            self.inc("kubelet_topology_manager_admission_errors_total")
            return
        msg = result.message.lower()
        source = "pod" if pod.has_pod_level_resources() else "node"
        if result.reason == SMT_ALIGNMENT_ERROR or "cpu" in msg:
            self.inc("kubelet_cpu_manager_pinning_requests_total")
            self.inc("kubelet_cpu_manager_pinning_errors_total")
            self.inc("resource_manager_allocation_errors_total", (("resource_name", "cpu"), ("source", source)))
        elif "memory" in msg or "hugepages" in msg:
            self.inc("kubelet_memory_manager_pinning_requests_total")
            self.inc("kubelet_memory_manager_pinning_errors_total")
            self.inc("resource_manager_allocation_errors_total", (("resource_name", "memory"), ("source", source)))


def _labels(labels: Labels) -> str:
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
    """The CPU manager's gauges, read from the node's state (static policy only)."""
    from topolet.engine.cpumanager.policy_static import StaticCPUPolicy

    out: dict[tuple[str, Labels], float] = {}
    policy = node.cpu_manager.policy
    if not isinstance(policy, StaticCPUPolicy):
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
        for (name, labels), v in sorted(m.counters.items()):
            series[name].append(f"{name}{_labels(nl + labels)} {_num(v)}")
        if node is not None:
            for (name, labels), v in sorted(gauges(node).items()):
                series[name].append(f"{name}{_labels(nl + labels)} {_num(v)}")
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
        out.append(f"# HELP {name} [ALPHA] {text}" if name.startswith("kubelet_") else f"# HELP {name} {text}")
        out.append(f"# TYPE {name} {kind}")
        out.extend(lines)
    return "\n".join(out) + "\n"
