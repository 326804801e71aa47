"""The CPU manager's static policy (cpumanager/policy_static.go), with the
pod-level resource managers of KEP-5526 (pod CPU bubble, exclusive slices and
the pod shared pool).

CPU sets are integer bit masks. The policy is pure: it reads and writes a
:class:`CPUManagerState` handed to it by the node.
"""

from __future__ import annotations

from topolet.engine.bitmask import bits as mask_bits
from topolet.engine.bitmask import iterate_bitmasks
from topolet.engine.cpumanager.cpu_assignment import (
    CPU_SORTING_PACKED,
    CPU_SORTING_SPREAD,
    take_by_topology_numa_distributed,
    take_by_topology_numa_packed,
)
from topolet.engine.cpumanager.fast_hints import CPUHintSpace
from topolet.engine.cpumanager.policy_options import StaticPolicyOptions
from topolet.engine.cpumanager.state import CPUManagerState
from topolet.engine.errors import AllocationError, EmptyPodSharedPoolError, SMTAlignmentError, StartupError
from topolet.engine.fast_path import resolve_reference, structured_threshold
from topolet.engine.hint import AffinityStore, ProviderHints, TopologyHint
from topolet.engine.metrics import ManagerMetrics
from topolet.engine.qos import is_container_equivalent_qos_guaranteed, is_guaranteed
from topolet.engine.topologymanager.hint_space import HintList
from topolet.model.cpuset import format_bits, iter_bits
from topolet.model.features import POD_LEVEL_RESOURCE_MANAGERS, POD_LEVEL_RESOURCES, FeatureGates
from topolet.model.pod import CPU, Container, Pod
from topolet.model.quantity import Quantity
from topolet.model.topology import Topology

POLICY_STATIC = "static"


def is_integral_cpu_amount(q: Quantity) -> bool:
    """``isIntegralCPUAmount``: Value()*1000 == MilliValue()."""
    return q.int_value() * 1000 == q.milli_value()


class StaticCPUPolicy:
    """``staticPolicy``."""

    name = POLICY_STATIC

    def __init__(
        self,
        topology: Topology,
        num_reserved_cpus: int,
        reserved_cpus: int | None,
        affinity: AffinityStore,
        options: StaticPolicyOptions,
        gates: FeatureGates,
        reference: bool | None = None,
        metrics: ManagerMetrics | None = None,
    ) -> None:
        self.topology = topology
        # the kubelet's counters (engine/metrics.py), incremented where policy_static.go increments them
        self.metrics = metrics if metrics is not None else ManagerMetrics()
        # reference: enumerate every NUMA mask as the kubelet does; else the fast path
        # (fast_hints.CPUHintSpace: the same hints as a structured set, never listed)
        self.reference = resolve_reference(reference)
        self._structured_from = structured_threshold()
        self.affinity = affinity
        self.options = options
        self.cpu_group_size = topology.cpus_per_core()
        self.cpus_to_reuse: dict[str, int] = {}
        self.pod_level = gates.enabled(POD_LEVEL_RESOURCE_MANAGERS)
        self.pod_level_resources = gates.enabled(POD_LEVEL_RESOURCES)
        all_cpus = topology.all_cpus
        if reserved_cpus:
            reserved = reserved_cpus
        else:
            try:
                reserved = self.take_by_topology(all_cpus, num_reserved_cpus)
            except AllocationError:
                reserved = 0
        if reserved.bit_count() != num_reserved_cpus:
            raise StartupError(
                "new static policy error: [cpumanager] unable to reserve the required amount of CPUs "
                f"(size of {format_bits(reserved)} did not equal {num_reserved_cpus})"
            )
        reserved_physical = 0
        for cpu in iter_bits(reserved):
            if cpu >= len(topology.cpu_core) or topology.cpu_core[cpu] < 0:
                raise StartupError(
                    "new static policy error: [cpumanager] unable to build the reserved physical CPUs "
                    f"from the reserved set: unknown CPU ID: {cpu}"
                )
            reserved_physical |= topology.core_cpus[topology.cpu_core[cpu]]
        self.reserved_cpus = reserved
        self.reserved_physical_cpus = reserved_physical
        # for hint generation: the NUMA ids with CPUs; every mask over them and its total
        # CPUs are listed on first use by the reference enumeration only (2^N of them)
        self._numa_ids = topology.cpu_numa_nodes()
        self._masks: list[int] | None = None
        self._mask_total: dict[int, int] = {}

    def _all_masks(self) -> list[int]:
        if self._masks is None:
            masks = list(iterate_bitmasks(self._numa_ids))
            for m in masks:
                self._mask_total[m] = sum(self.topology.numa_cpus[n].bit_count() for n in mask_bits(m))
            self._masks = masks
        return self._masks

    # -- start-up --------------------------------------------------------------
    def start(self, s: CPUManagerState) -> None:
        """``Start`` / ``validateState``."""
        all_cpus = self.topology.all_cpus
        if self.options.strict_cpu_reservation:
            all_cpus &= ~self.reserved_cpus
        default = s.default_cpuset
        if default == 0:
            if s.assignments:
                raise StartupError("default cpuset cannot be empty")
            s.default_cpuset = all_cpus
            return
        if self.options.strict_cpu_reservation:
            if self.reserved_cpus & default:
                raise StartupError(
                    f'some of strictly reserved cpus: "{format_bits(self.reserved_cpus & default)}" '
                    f'are present in defaultCpuSet: "{format_bits(default)}"'
                )
        elif self.reserved_cpus & default != self.reserved_cpus:
            raise StartupError(
                f'not all reserved cpus: "{format_bits(self.reserved_cpus)}" are present in '
                f'defaultCpuSet: "{format_bits(default)}"'
            )
        known = default
        for pod, containers in s.assignments.items():
            for name, cset in containers.items():
                if default & cset:
                    raise StartupError(
                        f'pod: {pod}, container: {name} cpuset: "{format_bits(cset)}" overlaps with '
                        f'default cpuset "{format_bits(default)}"'
                    )
                known |= cset
        if self.pod_level:
            for cset in s.pod_assignments.values():
                known |= cset
        if known != self.topology.all_cpus:
            raise StartupError(
                f'current set of available CPUs "{format_bits(self.topology.all_cpus)}" doesn\'t match '
                f'with CPUs in state "{format_bits(known)}"'
            )

    # -- pools -------------------------------------------------------------------
    def available_cpus(self, s: CPUManagerState) -> int:
        return s.default_cpuset & ~self.reserved_cpus

    def allocatable_cpus(self) -> int:
        return self.topology.all_cpus & ~self.reserved_cpus

    def available_physical_cpus(self, s: CPUManagerState) -> int:
        return s.default_cpuset & ~self.reserved_physical_cpus

    # -- sizing ------------------------------------------------------------------
    def _pod_level_managed(self, pod: Pod) -> bool:
        return self.pod_level and pod.has_pod_level_resources()

    def _skipped_pod_level(self, pod: Pod) -> bool:
        """Gates off but the pod carries spec.resources: the policy leaves it alone."""
        return (not self.pod_level or not self.pod_level_resources) and pod.has_pod_level_resources()

    def guaranteed_cpus(self, pod: Pod, c: Container) -> int:
        """``guaranteedCPUs``: the exclusive CPUs a container asks for (0: shared)."""
        if not is_guaranteed(pod):
            return 0
        q = c.resources.requests.get(CPU)
        if self._pod_level_managed(pod) and not is_container_equivalent_qos_guaranteed(c):
            return 0
        if q is None:
            return 0
        if not is_integral_cpu_amount(q):
            return 0
        return q.int_value()

    def pod_guaranteed_cpus(self, pod: Pod) -> int:
        """``podGuaranteedCPUs``."""
        if self._pod_level_managed(pod):
            if not is_guaranteed(pod):
                return 0
            assert pod.resources is not None
            q = pod.resources.requests.get(CPU)
            if q is not None and is_integral_cpu_amount(q):
                return q.int_value()
            return 0
        by_init = 0
        by_restartable = 0
        for c in pod.init_containers:
            if CPU not in c.resources.requests:
                continue
            n = self.guaranteed_cpus(pod, c)
            if c.is_restartable:
                by_restartable += n
            elif by_restartable + n > by_init:
                by_init = by_restartable + n
        by_app = 0
        for c in pod.containers:
            if CPU not in c.resources.requests:
                continue
            by_app += self.guaranteed_cpus(pod, c)
        long_running = by_app + by_restartable
        return by_init if by_init > long_running else long_running

    def validate_pod_scope_resources(self, pod: Pod) -> str | None:
        """``validatePodScopeResources``: the empty-pod-shared-pool checks (an error text or None)."""
        total = self.pod_guaranteed_cpus(pod)
        has_shared = False
        exclusive = 0
        for c in pod.init_containers:
            n = self.guaranteed_cpus(pod, c)
            if not c.is_restartable:
                if n == 0 and exclusive >= total:
                    return "pod rejected, pod has shared init containers but no cpus available for them"
            elif n == 0:
                has_shared = True
            else:
                exclusive += n
        for c in pod.containers:
            n = self.guaranteed_cpus(pod, c)
            if n == 0:
                has_shared = True
            else:
                exclusive += n
        if has_shared and exclusive >= total:
            return (
                "pod rejected, sum of exclusive container cpu requests equals pod budget, "
                "leaving no cpus for shared containers"
            )
        return None

    # -- allocation --------------------------------------------------------------
    def take_by_topology(self, available: int, num_cpus: int) -> int:
        strategy = CPU_SORTING_SPREAD if self.options.distribute_cpus_across_cores else CPU_SORTING_PACKED
        if self.options.distribute_cpus_across_numa:
            group = self.cpu_group_size if self.options.full_physical_cpus_only else 1
            return take_by_topology_numa_distributed(self.topology, available, num_cpus, group, strategy)
        return take_by_topology_numa_packed(
            self.topology, available, num_cpus, strategy, self.options.prefer_align_by_uncore_cache
        )

    def enforce_smt_alignment(self, s: CPUManagerState, num_cpus: int) -> None:
        if not self.options.full_physical_cpus_only:
            return
        if num_cpus % self.cpu_group_size != 0:
            raise SMTAlignmentError(num_cpus, self.cpu_group_size)
        avail = self.available_physical_cpus(s).bit_count()
        if num_cpus > avail:
            raise SMTAlignmentError(num_cpus, self.cpu_group_size, avail, physical=True)

    def _aligned_cpus(self, numa_mask: int, allocatable: int) -> int:
        topo = self.topology
        numa_ids = mask_bits(numa_mask)
        if self.options.align_by_socket:
            aligned = 0
            for sock in topo.sockets_in_numa_nodes(numa_ids):
                aligned |= allocatable & topo.socket_cpus[sock]
            return aligned
        aligned = 0
        for n in numa_ids:
            aligned |= allocatable & topo.numa_cpus.get(n, 0)
        return aligned

    def allocate_cpus(self, s: CPUManagerState, num_cpus: int, numa_mask: int | None, reusable: int) -> int:
        """``allocateCPUs``: take CPUs (preferring the hint's NUMA nodes) out of the shared pool."""
        allocatable = self.available_cpus(s) | reusable
        result = 0
        if numa_mask is not None:
            aligned = self._aligned_cpus(numa_mask, allocatable)
            n = min(num_cpus, aligned.bit_count())
            result |= self.take_by_topology(aligned, n)
        result |= self.take_by_topology(allocatable & ~result, num_cpus - result.bit_count())
        s.default_cpuset &= ~result
        # updateMetricsOnAllocate (policy_static.go:1086-1087): result.Aligned = CheckAlignment(CPUs),
        # all CPUs in one uncore cache (topology/alignment.go:60)
        if result:
            topo = self.topology
            if not result & ~topo.uncore_cpus[topo.cpu_uncore[(result & -result).bit_length() - 1]]:
                self.metrics.aligned_container_uncore_cache += 1
        return result

    def update_cpus_to_reuse(self, pod: Pod, c: Container, cset: int) -> None:
        uid = pod.uid
        for other in [u for u in self.cpus_to_reuse if u != uid]:
            del self.cpus_to_reuse[other]
        cur = self.cpus_to_reuse.get(uid, 0)
        for ic in pod.init_containers:
            if ic.name == c.name:
                if ic.is_restartable:
                    break
                self.cpus_to_reuse[uid] = cur | cset
                return
        self.cpus_to_reuse[uid] = cur & ~cset

    def allocate(self, s: CPUManagerState, pod: Pod, c: Container) -> None:
        """``Allocate`` for one container."""
        n = self.guaranteed_cpus(pod, c)
        if n == 0:
            return
        if self._skipped_pod_level(pod):
            return
        m = self.metrics
        m.cpu_pinning_requests += 1  # policy_static.go:591
        try:
            self.enforce_smt_alignment(s, n)
            existing = s.get_cpuset(pod.uid, c.name)
            if existing is not None:
                self.update_cpus_to_reuse(pod, c, existing)
            else:
                hint = self.affinity.get_affinity(pod.uid, c.name)
                cset = self.allocate_cpus(s, n, hint.mask, self.cpus_to_reuse.get(pod.uid, 0))
                s.set_cpuset(pod.uid, c.name, cset)
                self.update_cpus_to_reuse(pod, c, cset)
                m.cpu_node_allocations += 1  # policy_static.go:632
                m.cpu_node_exclusive += 1  # policy_static.go:633
        except Exception:
            # the deferred error counts (policy_static.go:592-598)
            m.cpu_pinning_errors += 1
            m.cpu_node_allocation_errors += 1
            if self.options.full_physical_cpus_only:
                m.unaligned_container_physical_cpu += 1
            raise
        if self.options.full_physical_cpus_only:
            m.aligned_container_physical_cpu += 1  # policy_static.go:602-605

    def allocate_pod(self, s: CPUManagerState, pod: Pod) -> None:
        """``AllocatePod``: the pod's bubble, then its exclusive slices and shared pool."""
        total = self.pod_guaranteed_cpus(pod)
        if total == 0:
            return
        try:
            self._allocate_pod(s, pod, total)
        except Exception:
            # the deferred error counts (policy_static.go:415-420): no pinning request for the pod itself
            self.metrics.cpu_pinning_errors += 1
            self.metrics.cpu_pod_allocation_errors += 1
            raise

    def _allocate_pod(self, s: CPUManagerState, pod: Pod, total: int) -> None:
        m = self.metrics
        err = self.validate_pod_scope_resources(pod)
        if err is not None:
            raise EmptyPodSharedPoolError(err)
        self.enforce_smt_alignment(s, total)
        containers = pod.all_containers()
        hint = self.affinity.get_affinity(pod.uid, containers[0].name)
        bubble = self.allocate_cpus(s, total, hint.mask, 0)
        s.pod_assignments[pod.uid] = bubble
        exclusive: dict[str, int] = {}
        sidecar_cpus = 0
        for c in pod.init_containers:
            n = self.guaranteed_cpus(pod, c)
            if n > 0:
                m.cpu_pinning_requests += 1  # policy_static.go:457
                cset = self.take_by_topology(bubble & ~sidecar_cpus, n)
                m.cpu_pod_exclusive += 1  # policy_static.go:465
                exclusive[c.name] = cset
                if c.is_restartable:
                    sidecar_cpus |= cset
            else:
                if c.is_restartable:
                    continue
                m.cpu_pod_shared += 1  # policy_static.go:481
                exclusive[c.name] = bubble & ~sidecar_cpus
        shared_pool = bubble & ~sidecar_cpus
        for c in pod.containers:
            n = self.guaranteed_cpus(pod, c)
            if n > 0:
                m.cpu_pinning_requests += 1  # policy_static.go:493
                cset = self.take_by_topology(shared_pool, n)
                m.cpu_pod_exclusive += 1  # policy_static.go:498
                exclusive[c.name] = cset
                shared_pool &= ~cset
        for c in containers:
            cset = exclusive.get(c.name)
            if cset is None:
                cset = shared_pool
                m.cpu_pod_shared += 1  # policy_static.go:513
            s.set_cpuset(pod.uid, c.name, cset)
            m.cpu_pod_allocations += 1  # policy_static.go:516

    def remove_container(self, s: CPUManagerState, pod_uid: str, container: str) -> None:
        """``RemoveContainer``: give the container's CPUs (or the pod's bubble) back."""
        to_release = s.get_cpuset(pod_uid, container)
        if to_release is None:
            return
        s.delete(pod_uid, container)
        if self.pod_level and pod_uid in s.pod_assignments:
            if not s.assignments.get(pod_uid):
                s.default_cpuset |= s.pod_assignments[pod_uid]
                s.delete_pod(pod_uid)
            return
        in_use = 0
        for other in s.assignments.get(pod_uid, {}).values():
            in_use |= other
        s.default_cpuset |= to_release & ~in_use

    # -- hints -------------------------------------------------------------------
    def get_topology_hints(self, s: CPUManagerState, pod: Pod, c: Container) -> ProviderHints:
        requested = self.guaranteed_cpus(pod, c)
        if requested == 0:
            return None
        if self._skipped_pod_level(pod):
            return None
        allocated = s.get_cpuset(pod.uid, c.name)
        if allocated is not None:
            if allocated.bit_count() != requested:
                return {CPU: []}
            return {CPU: self._topology_hints(allocated, 0, requested)}
        available = self.available_cpus(s)
        reusable = self.cpus_to_reuse.get(pod.uid, 0)
        return {CPU: self._topology_hints(available, reusable, requested)}

    def get_pod_topology_hints(self, s: CPUManagerState, pod: Pod) -> ProviderHints:
        requested = self.pod_guaranteed_cpus(pod)
        if requested == 0:
            return None
        if self._skipped_pod_level(pod):
            return None
        if self._pod_level_managed(pod) and self.validate_pod_scope_resources(pod) is not None:
            return {CPU: []}
        assigned = 0
        for c in pod.all_containers():
            by_container = self.guaranteed_cpus(pod, c)
            allocated = s.get_cpuset(pod.uid, c.name)
            if allocated is not None:
                if allocated.bit_count() != by_container:
                    return {CPU: []}
                assigned |= allocated
        if assigned.bit_count() == requested:
            return {CPU: self._topology_hints(assigned, 0, requested)}
        available = self.available_cpus(s)
        reusable = self.cpus_to_reuse.get(pod.uid, 0) | assigned
        return {CPU: self._topology_hints(available, reusable, requested)}

    def _topology_hints(self, available: int, reusable: int, request: int) -> list[TopologyHint] | HintList:
        """The hint list: enumerated (reference) or as a structured space (fast path)."""
        if self.reference or len(self._numa_ids) < self._structured_from:
            return self.generate_cpu_topology_hints(available, reusable, request)
        space = CPUHintSpace(self, available, reusable, request)
        if space.is_empty():
            return []
        return HintList(space)

    def generate_cpu_topology_hints(self, available: int, reusable: int, request: int) -> list[TopologyHint]:
        """``generateCPUTopologyHints``: every NUMA mask that can hold the request."""
        topo = self.topology
        numa_ids = self._numa_ids
        min_affinity = len(numa_ids)
        per_numa_avail = {n: (available & topo.numa_cpus[n]).bit_count() for n in numa_ids}
        reusable_numas = 0
        for cpu in iter_bits(reusable):
            reusable_numas |= 1 << topo.cpu_numa[cpu]
        n_reusable = reusable.bit_count()
        fits: list[int] = []
        for mask in self._all_masks():
            cnt = mask.bit_count()
            if self._mask_total[mask] >= request and cnt < min_affinity:
                min_affinity = cnt
            if reusable_numas & ~mask:
                continue
            matching = n_reusable
            for n in mask_bits(mask):
                matching += per_numa_avail[n]
            if matching < request:
                continue
            fits.append(mask)
        hints: list[TopologyHint] = []
        for mask in fits:
            if self.options.align_by_socket and self._is_hint_socket_aligned(mask, min_affinity):
                hints.append(TopologyHint(mask, True))
                continue
            hints.append(TopologyHint(mask, mask.bit_count() == min_affinity))
        return hints

    def _is_hint_socket_aligned(self, mask: int, min_affinity: int) -> bool:
        topo = self.topology
        per_socket = topo.num_numa_nodes // topo.num_sockets if topo.num_sockets else 0
        if per_socket == 0:
            return False
        min_sockets = (min_affinity + per_socket - 1) // per_socket
        return len(topo.sockets_in_numa_nodes(mask_bits(mask))) == min_sockets


class NoneCPUPolicy:
    """``nonePolicy``: no pinning; every container runs on all CPUs."""

    name = "none"

    def start(self, s: CPUManagerState) -> None:
        return None

    def get_topology_hints(self, s: CPUManagerState, pod: Pod, c: Container) -> ProviderHints:
        return None

    def get_pod_topology_hints(self, s: CPUManagerState, pod: Pod) -> ProviderHints:
        return None

    def allocate(self, s: CPUManagerState, pod: Pod, c: Container) -> None:
        return None

    def allocate_pod(self, s: CPUManagerState, pod: Pod) -> None:
        return None

    def remove_container(self, s: CPUManagerState, pod_uid: str, container: str) -> None:
        return None
