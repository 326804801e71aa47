"""The memory manager's Static policy (memorymanager/policy_static.go, kubelet 1.36).

Guaranteed pods get their memory and hugepages pinned to a set of NUMA nodes.
A request that does not fit one NUMA node is spread over a group of nodes;
nodes used together form a group (``cells``) that later requests must
respect: a node used for a single-NUMA allocation cannot join a group, and a
grouped node can only be used with exactly the same group again.

With KEP-5526 (``PodLevelResourceManagers``) a pod with pod-level resources
gets its whole memory budget reserved once on the pod's NUMA mask
(:meth:`StaticMemoryPolicy.allocate_pod`); the budget is partitioned among
its containers, and every container's blocks carry the pod's mask.

Everything here reproduces 1.36, quirks included:

* A container with an empty request that reaches :meth:`allocate` with a nil
  hint (pod-level resources under container scope or topology policy
  ``none``) is rejected with "failed to get the default NUMA affinity, no
  NUMA nodes with enough memory is available" (fixed upstream in 1.37,
  kubernetes PR 138770).
* Quantities are ``uint64`` in Go: subtractions that can underflow wrap
  around modulo 2**64 here too.
* Go iterates maps in random order. Where that order is observable only
  through the order of a block list, blocks are produced deterministically:
  ``memory`` first, then hugepages sorted by name. Where two resources could
  both fail a check, the first in that order is reported.
* Where Go would dereference a nil pointer (a request for a resource the
  node has no memory table for, a nil NUMA mask), this port treats the
  missing table as empty or raises :class:`AllocationError`; the kubelet
  would crash instead. These paths are not reachable with a sane machine
  description (cAdvisor lists every supported hugepage size).

The policy is pure: it reads and mutates the :class:`MemoryManagerState`
given to it and keeps only the init-container reusable memory of the last
pod it allocated (as the kubelet does).
"""

from __future__ import annotations

from functools import lru_cache
from itertools import combinations

from topolet.engine.bitmask import bits, is_narrower_than, mask_of
from topolet.engine.errors import AllocationError, EmptyPodSharedPoolError, StartupError
from topolet.engine.fast_path import resolve_reference, structured_threshold
from topolet.engine.hint import NO_HINT, AffinityStore, ProviderHints, TopologyHint
from topolet.engine.memorymanager.fast_hints import EMPTY, MemoryHintSpace, memory_hint_space
from topolet.engine.memorymanager.state import (
    Block,
    MachineState,
    MemoryManagerState,
    MemoryTable,
    NUMANodeState,
    clone_blocks,
)
from topolet.engine.metrics import ManagerMetrics
from topolet.engine.qos import is_container_equivalent_qos_guaranteed, is_guaranteed
from topolet.engine.topologymanager.hint_space import HintList
from topolet.model.features import POD_LEVEL_RESOURCE_MANAGERS, POD_LEVEL_RESOURCES, FeatureGates
from topolet.model.pod import MEMORY, Container, Pod, is_memory_like
from topolet.model.quantity import Quantity
from topolet.model.topology import Topology, hugepage_resource_name

POLICY_STATIC = "Static"

_U64 = (1 << 64) - 1
_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1

# resource name -> bytes (Go: map[v1.ResourceName]uint64)
Requests = dict[str, int]
# pod UID -> NUMA mask -> resource -> bytes (Go: reusableMemory, keyed by the mask's String())
ReusableMemory = dict[str, dict[int, dict[str, int]]]

ERR_NO_SYSTEM_RESERVED = "[memorymanager] you should specify the system reserved memory"
ERR_NOT_INT64 = "[memorymanager] failed to represent quantity as int64"
ERR_NO_DEFAULT_HINT = (
    "[memorymanager] failed to get the default NUMA affinity, no NUMA nodes with enough memory is available"
)
ERR_DEFAULT_NOT_PREFERRED = "[memorymanager] failed to find the default preferred hint"
ERR_EXTENDED_NOT_PREFERRED = "[memorymanager] failed to find the extended preferred hint"
ERR_NO_EXTENSION = "[memorymanager] failed to find NUMA nodes to extend the current topology hint"
ERR_VIOLATES_NUMA = "[memorymanager] preferred hint violates NUMA node allocation"
ERR_EMPTY_STATE_WITH_ASSIGNMENTS = "[memorymanager] machine state can not be empty when it has memory assignments"
ERR_STATE_DIFFERS = "[memorymanager] the expected machine state is different from the real one"
# Go would panic (nil BitMask); the kubelet would crash. Not reachable for sane pods.
ERR_NIL_AFFINITY = "[memorymanager] runtime error: invalid memory address or nil pointer dereference"


def _resource_order(name: str) -> tuple[bool, str]:
    """Deterministic stand-in for Go's random map order: memory first, then by name."""
    return (name != MEMORY, name)


def _sorted_requests(reqs: Requests) -> Requests:
    if len(reqs) < 2:
        return reqs
    return {k: reqs[k] for k in sorted(reqs, key=_resource_order)}


def _as_uint64(q: Quantity) -> int:
    """``quantity.AsInt64()`` then ``uint64(...)``; raises when not representable."""
    v = q.as_int64()
    if v is None or v < _INT64_MIN or v > _INT64_MAX:
        raise AllocationError(ERR_NOT_INT64)
    return v & _U64


def _sub(a: int, b: int) -> int:
    """uint64 subtraction (wraps like Go)."""
    return (a - b) & _U64


@lru_cache(maxsize=32)
def _compact_masks(n: int) -> tuple[int, ...]:
    """Masks over positions ``0..n-1`` in ``IterateBitMasks`` order (by size, then
    lexicographically)."""
    singles = [1 << i for i in range(n)]
    masks: list[int] = []
    for size in range(1, n + 1):
        masks.extend(map(sum, combinations(singles, size)))
    return tuple(masks)


@lru_cache(maxsize=8)
def _subset_sums(values: tuple[int, ...]) -> list[int]:
    """``sums[cm]`` = sum of ``values[i]`` for every bit ``i`` of the compact mask ``cm``
    (cached: allocatable sizes never change, free sizes repeat between hints and
    allocation). The list is shared: do not modify it."""
    sums = [0]
    for v in values:
        sums += [s + v for s in sums]
    return sums


@lru_cache(maxsize=8)
def _hint_tables(ids: tuple[int, ...]) -> tuple[list[TopologyHint], list[TopologyHint]]:
    """Preferred and non-preferred hints indexed by compact mask (hints are immutable, and
    building tens of thousands of them per call is what a 16-node machine would cost)."""
    reals = [0]
    for nid in ids:
        bit = 1 << nid
        reals += [m | bit for m in reals]
    return [TopologyHint(m, True) for m in reals], [TopologyHint(m, False) for m in reals]


def _groups_equal(a: list[int], b: list[int]) -> bool:
    """``areGroupsEqual`` (without Go's in-place sort of its arguments)."""
    return len(a) == len(b) and sorted(a) == sorted(b)


def find_best_hint(hints: list[TopologyHint]) -> TopologyHint:
    """``findBestHint``: preferred first, then the narrowest; the zero hint for an empty list."""
    best = NO_HINT
    for h in hints:
        best_mask = best.mask
        if best_mask is None:
            best = h
            continue
        if h.preferred and not best.preferred:
            best = h
            continue
        if h.preferred == best.preferred and h.mask is not None and is_narrower_than(h.mask, best_mask):
            best = h
    return best


def is_affinity_satisfying_request(ms: MachineState, mask: int | None, requested: Requests) -> bool:
    """``isAffinitySatisfyRequest``: the mask's free memory covers every requested resource."""
    if mask is None:
        raise AllocationError(ERR_NIL_AFFINITY)
    nodes = [ms[n] for n in bits(mask) if n in ms]
    for name, size in requested.items():
        total = 0
        for node in nodes:
            t = node.memory_map.get(name)
            if t is not None:
                total += t.free
        if total < size:
            return False
    return True


def is_affinity_violating_numa_allocations(ms: MachineState, mask: int | None) -> bool:
    """``isAffinityViolatingNUMAAllocations``: a node cannot mix single and cross NUMA
    allocations, nor belong to two different groups."""
    if mask is None:
        raise AllocationError(ERR_NIL_AFFINITY)
    mask_bits = bits(mask)
    single = len(mask_bits) == 1
    for nid in mask_bits:
        node = ms.get(nid)
        if node is None or node.number_of_assignments == 0:
            continue
        if single:
            continue
        if len(node.cells) == 1:
            return True
        if not _groups_equal(node.cells, mask_bits):
            return True
    return False


def are_machine_states_equal(ms1: MachineState, ms2: MachineState) -> bool:
    """``areMachineStatesEqual``: same nodes, assignment counts, groups, sizes, and the same
    free/reserved totals per resource over each node's group."""
    if len(ms1) != len(ms2):
        return False
    for nid, n1 in ms1.items():
        n2 = ms2.get(nid)
        if n2 is None:
            return False
        if n1.number_of_assignments != n2.number_of_assignments:
            return False
        if not _groups_equal(n1.cells, n2.cells):
            return False
        if len(n1.memory_map) != len(n2.memory_map):
            return False
        for name, t1 in n1.memory_map.items():
            t2 = n2.memory_map.get(name)
            if t2 is None:
                return False
            if t1.total != t2.total or t1.system_reserved != t2.system_reserved or t1.allocatable != t2.allocatable:
                return False
            free1 = reserved1 = free2 = reserved2 = 0
            for cid in n1.cells:
                # Go dereferences these unchecked (a panic); a missing entry is a mismatch here.
                c1, c2 = ms1.get(cid), ms2.get(cid)
                if c1 is None or c2 is None:
                    return False
                a, b = c1.memory_map.get(name), c2.memory_map.get(name)
                if a is None or b is None:
                    return False
                free1 += a.free
                reserved1 += a.reserved
                free2 += b.free
                reserved2 += b.reserved
            if free1 != free2 or reserved1 != reserved2:
                return False
    return True


def _regenerate_hints(blocks: list[Block], requested: Requests) -> ProviderHints:
    """``regenerateHints``: the hints of an existing allocation, or None when it differs
    from the request."""
    if len(blocks) != len(requested):
        return None
    hints: dict[str, list[TopologyHint] | None] = {name: [] for name in requested}
    for b in blocks:
        if b.type not in requested:
            return None
        if b.size != requested[b.type]:
            return None
        if any(i < 0 or i > 63 for i in b.numa_affinity):
            return None  # bitmask.NewBitMask fails
        lst = hints[b.type]
        assert lst is not None
        lst.append(TopologyHint(mask_of(b.numa_affinity), True))
    return hints


class StaticMemoryPolicy:
    """``staticPolicy`` of the memory manager."""

    name = POLICY_STATIC

    __slots__ = (
        "_affinity",
        "_plr",
        "_plrm",
        "_reference",
        "_reusable",
        "_structured_from",
        "_system_reserved",
        "_topology",
        "metrics",
    )

    def __init__(
        self,
        topology: Topology,
        system_reserved: dict[int, dict[str, int]],
        affinity: AffinityStore,
        gates: FeatureGates,
        reference: bool | None = None,
        metrics: ManagerMetrics | None = None,
    ) -> None:
        # the kubelet's counters (engine/metrics.py), incremented where policy_static.go increments them
        self.metrics = metrics if metrics is not None else ManagerMetrics()
        # reference: enumerate every NUMA mask as the kubelet does; else the fast path
        # (fast_hints.MemoryHintSpace: the same hints as a structured set, never listed)
        self._reference = resolve_reference(reference)
        self._structured_from = structured_threshold()
        total = 0
        for node in system_reserved.values():
            total += node.get(MEMORY, 0)
        if total <= 0:
            raise StartupError(ERR_NO_SYSTEM_RESERVED)
        self._topology = topology
        self._system_reserved = {n: dict(r) for n, r in system_reserved.items()}
        self._affinity = affinity
        self._plrm = gates.enabled(POD_LEVEL_RESOURCE_MANAGERS)
        self._plr = gates.enabled(POD_LEVEL_RESOURCES)
        # init containers' memory that later containers of the same pod may reuse
        # (restartable init containers' memory is not reusable)
        self._reusable: ReusableMemory = {}

    # ------------------------------------------------------------------ start-up
    def start(self, state: MemoryManagerState) -> None:
        """``Start``: validate the restored state, or fill an empty one with defaults."""
        self._validate_state(state)

    def _validate_state(self, state: MemoryManagerState) -> None:
        ms = state.machine_state
        if not ms:
            if state.assignments:
                raise StartupError(ERR_EMPTY_STATE_WITH_ASSIGNMENTS)
            state.machine_state = self._default_machine_state()
            return

        expected = self._default_machine_state()
        for pod_uid, containers in state.assignments.items():
            if self._plrm:
                pod_blocks = state.pod_assignments.get(pod_uid)
                if pod_blocks:
                    self._update_expected_machine_state(expected, pod_blocks, pod_uid, "")
                    continue
            for container_name, blocks in containers.items():
                self._update_expected_machine_state(expected, blocks, pod_uid, container_name)

        if not are_machine_states_equal(ms, expected):
            raise StartupError(ERR_STATE_DIFFERS)

    @staticmethod
    def _update_expected_machine_state(
        expected: MachineState, blocks: list[Block], pod_uid: str, container_name: str
    ) -> None:
        for b in blocks:
            size = b.size
            for nid in b.numa_affinity:
                node = expected.get(nid)
                if node is None:
                    raise StartupError(
                        f"[memorymanager] (pod: {pod_uid}, container: {container_name}) "
                        "the memory assignment uses the NUMA that does not exist"
                    )
                node.number_of_assignments += 1
                node.cells = list(b.numa_affinity)
                t = node.memory_map.get(b.type)
                if t is None:
                    raise StartupError(
                        f"[memorymanager] (pod: {pod_uid}, container: {container_name}) "
                        "the memory assignment uses memory resource that does not exist"
                    )
                if size == 0:
                    continue
                if t.free <= 0:
                    continue
                if t.free >= size:
                    t.reserved += size
                    t.free -= size
                    size = 0
                    continue
                size -= t.free
                t.reserved += t.free
                t.free = 0

    def _resource_system_reserved(self, nid: int, name: str) -> int:
        return self._system_reserved.get(nid, {}).get(name, 0)

    def _default_machine_state(self) -> MachineState:
        """``getDefaultMachineState``: per NUMA node, hugepages and memory tables."""
        ms: MachineState = {}
        for nid, node in self._topology.numa_nodes.items():
            memory_map: dict[str, MemoryTable] = {}
            hugepages_total = 0
            for page_size, total in node.hugepages.items():
                name = hugepage_resource_name(page_size)
                reserved = self._resource_system_reserved(nid, name)
                allocatable = _sub(total, reserved)
                memory_map[name] = MemoryTable(
                    total=total,
                    system_reserved=reserved,
                    allocatable=allocatable,
                    reserved=0,
                    free=allocatable,
                )
                hugepages_total += total
            reserved = self._resource_system_reserved(nid, MEMORY)
            allocatable = _sub(_sub(node.memory, reserved), hugepages_total)
            memory_map[MEMORY] = MemoryTable(
                total=node.memory,
                system_reserved=reserved,
                allocatable=allocatable,
                reserved=0,
                free=allocatable,
            )
            ms[nid] = NUMANodeState(number_of_assignments=0, memory_map=memory_map, cells=[nid])
        return ms

    # ------------------------------------------------------------------ requests
    def _container_requests(self, pod: Pod, container: Container) -> Requests:
        """``getContainerRequestedResources``: memory and hugepages requests (zeros kept).

        Under pod-level resource management only Guaranteed-equivalent containers
        (cpu and memory request == limit) request exclusive memory."""
        if self._plrm and pod.has_pod_level_resources() and not is_container_equivalent_qos_guaranteed(container):
            return {}
        out: Requests = {}
        for name, q in container.resources.requests.items():
            if not is_memory_like(name):
                continue
            out[name] = _as_uint64(q)
        return _sorted_requests(out)

    def _pod_requests(self, pod: Pod) -> Requests:
        """``getPodRequestedResources``: the pod-level budget (positive values only), or the
        containers' effective requests (init and sidecar formula)."""
        if self._plrm and pod.has_pod_level_resources():
            out: Requests = {}
            assert pod.resources is not None
            for name, q in pod.resources.requests.items():
                if not is_memory_like(name):
                    continue
                v = q.as_int64()
                if v is None or v < _INT64_MIN or v > _INT64_MAX:
                    raise AllocationError(ERR_NOT_INT64)
                if v <= 0:
                    continue
                out[name] = v
            return _sorted_requests(out)

        # the maximum requested by init containers at any time
        by_init: Requests = {}
        # the total requested by restartable init containers
        by_restartable: Requests = {}
        for c in pod.init_containers:
            for name, qty in self._container_requests(pod, c).items():
                by_init.setdefault(name, 0)
                if c.is_restartable:
                    by_restartable[name] = by_restartable.get(name, 0) + qty
                elif by_restartable.get(name, 0) + qty > by_init[name]:
                    by_init[name] = by_restartable.get(name, 0) + qty

        by_app: Requests = {}
        for c in pod.containers:
            for name, qty in self._container_requests(pod, c).items():
                by_app[name] = by_app.get(name, 0) + qty

        out = {}
        for name, app_total in by_app.items():
            long_running = app_total + by_restartable.get(name, 0)
            out[name] = max(long_running, by_init.get(name, 0))
        return _sorted_requests(out)

    def _skips_pod_level(self, pod: Pod) -> bool:
        """Pod-level resources with either gate off: the static policy leaves the pod alone."""
        return not (self._plrm and self._plr) and pod.has_pod_level_resources()

    # ------------------------------------------------------------------ reusable memory
    def _pod_reusable_memory(self, pod_uid: str, mask: int, name: str) -> int:
        pod_reusable = self._reusable.get(pod_uid)
        if pod_reusable is None:
            return 0
        numa_reusable = pod_reusable.get(mask)
        if numa_reusable is None:
            return 0
        return numa_reusable.get(name, 0)

    def _update_pod_reusable_memory(self, pod: Pod, container: Container, blocks: list[Block]) -> None:
        uid = pod.uid
        for other in [u for u in self._reusable if u != uid]:
            del self._reusable[other]

        if _is_regular_init_container(pod, container):
            pod_reusable = self._reusable.setdefault(uid, {})
            for b in blocks:
                per_mask = pod_reusable.setdefault(mask_of(b.numa_affinity), {})
                if b.size > per_mask.get(b.type, 0):
                    per_mask[b.type] = b.size
            return

        # an app (or restartable init) container consumes the reusable memory
        for b in blocks:
            m = mask_of(b.numa_affinity)
            reusable = self._pod_reusable_memory(uid, m, b.type)
            if reusable != 0:
                per_mask = self._reusable[uid][m]
                if b.size >= reusable:
                    per_mask[b.type] = 0
                else:
                    per_mask[b.type] -= b.size

    @staticmethod
    def _update_init_containers_memory_blocks(
        state: MemoryManagerState, pod: Pod, container: Container, container_blocks: list[Block]
    ) -> None:
        """Shrink earlier init containers' blocks by what this container reused, so that the
        sum of all containers' blocks equals what the pod holds."""
        uid = pod.uid
        for cb in container_blocks:
            block_size = cb.size
            cb_mask = mask_of(cb.numa_affinity)
            for init in pod.init_containers:
                if init.name == container.name:
                    break
                if block_size == 0:
                    break
                if init.is_restartable:
                    continue
                init_blocks = state.get_blocks(uid, init.name)
                if not init_blocks:
                    continue
                for ib in init_blocks:
                    if ib.size == 0:
                        continue
                    if ib.type != cb.type:
                        continue
                    if mask_of(ib.numa_affinity) != cb_mask:
                        continue
                    if ib.size > block_size:
                        ib.size -= block_size
                        block_size = 0
                    else:
                        block_size -= ib.size
                        ib.size = 0
                state.set_blocks(uid, init.name, init_blocks)

    # ------------------------------------------------------------------ hints
    def _calculate_hints(
        self, ms: MachineState, pod_uid: str, requested: Requests
    ) -> dict[str, list[TopologyHint] | None]:
        """``calculateHints``, enumerated: every NUMA mask with enough allocatable and free
        memory that respects the node groups (see :func:`calculate_hints`)."""
        return calculate_hints(ms, self._reusable.get(pod_uid) or {}, requested)

    def _hints(self, ms: MachineState, pod_uid: str, requested: Requests) -> dict[str, list[TopologyHint] | None]:
        """``calculateHints`` as the provider answers it: enumerated (reference) or as
        structured spaces (fast path, :class:`~topolet.engine.memorymanager.fast_hints.MemoryHintSpace`)."""
        if self._reference or len(ms) < self._structured_from:
            return self._calculate_hints(ms, pod_uid, requested)
        space = memory_hint_space(ms, self._reusable.get(pod_uid) or {}, requested)
        if space is None:  # the structure does not apply (negative sizes): enumerate
            return self._calculate_hints(ms, pod_uid, requested)
        if space is EMPTY:
            return {}
        return {name: HintList(space) for name in requested}

    def _default_hint(self, ms: MachineState, pod_uid: str, requested: Requests) -> TopologyHint:
        """``getDefaultHint``: the best hint for regular memory."""
        if not self._reference and len(ms) >= self._structured_from:
            space = memory_hint_space(ms, self._reusable.get(pod_uid) or {}, requested)
            if space is EMPTY:
                raise AllocationError(ERR_NO_DEFAULT_HINT)
            if isinstance(space, MemoryHintSpace):
                if MEMORY not in requested:
                    return NO_HINT
                best = space.find_best_hint()
                assert best is not None
                return best
        hints = self._calculate_hints(ms, pod_uid, requested)
        if len(hints) < 1:
            raise AllocationError(ERR_NO_DEFAULT_HINT)
        return find_best_hint(hints.get(MEMORY) or [])

    def _extend_topology_manager_hint(
        self, ms: MachineState, pod_uid: str, requested: Requests, mask: int | None
    ) -> TopologyHint:
        """``extendTopologyManagerHint``: the best hint that contains the current mask."""
        if mask is None:
            raise AllocationError(ERR_NIL_AFFINITY)
        if not self._reference and len(ms) >= self._structured_from:
            space = memory_hint_space(ms, self._reusable.get(pod_uid) or {}, requested)
            if space is EMPTY or (isinstance(space, MemoryHintSpace) and MEMORY not in requested):
                raise AllocationError(ERR_NO_EXTENSION)
            if isinstance(space, MemoryHintSpace):
                found = space.find_best_hint(mask)
                if found is None:
                    raise AllocationError(ERR_NO_EXTENSION)
                return found
        hints = self._calculate_hints(ms, pod_uid, requested)
        filtered = [h for h in (hints.get(MEMORY) or []) if h.mask is not None and (h.mask & mask) == mask]
        if not filtered:
            raise AllocationError(ERR_NO_EXTENSION)
        return find_best_hint(filtered)

    def _resolve_hint(self, ms: MachineState, pod_uid: str, hint: TopologyHint, requested: Requests) -> TopologyHint:
        """Default a nil hint, extend an insufficient one, refuse one that breaks the groups."""
        best = hint
        if hint.mask is None:
            default = self._default_hint(ms, pod_uid, requested)
            if not default.preferred and best.preferred:
                raise AllocationError(ERR_DEFAULT_NOT_PREFERRED)
            best = default

        if not is_affinity_satisfying_request(ms, best.mask, requested):
            extended = self._extend_topology_manager_hint(ms, pod_uid, requested, best.mask)
            if not extended.preferred and best.preferred:
                raise AllocationError(ERR_EXTENDED_NOT_PREFERRED)
            best = extended

        if is_affinity_violating_numa_allocations(ms, best.mask):
            raise AllocationError(ERR_VIOLATES_NUMA)
        return best

    def get_topology_hints(self, state: MemoryManagerState, pod: Pod, container: Container) -> ProviderHints:
        """``GetTopologyHints`` (container scope)."""
        if not is_guaranteed(pod):
            return None
        try:
            requested = self._container_requests(pod, container)
        except AllocationError:
            return None
        if self._skips_pod_level(pod):
            return None
        blocks = state.get_blocks(pod.uid, container.name)
        if blocks is not None:
            return _regenerate_hints(blocks, requested)
        return self._hints(state.machine_state, pod.uid, requested)

    def get_pod_topology_hints(self, state: MemoryManagerState, pod: Pod) -> ProviderHints:
        """``GetPodTopologyHints`` (pod scope)."""
        if not is_guaranteed(pod):
            return None
        try:
            requested = self._pod_requests(pod)
        except AllocationError:
            return None
        if self._skips_pod_level(pod):
            return None
        if self._plrm and pod.has_pod_level_resources():
            try:
                self._validate_pod_scope_resources(pod)
            except AllocationError:
                # no hints: the topology manager rejects the pod
                return {name: [] for name in requested}
        if not requested:
            return None
        for c in pod.all_containers():
            blocks = state.get_blocks(pod.uid, c.name)
            if blocks is not None:
                # compares the first allocated container's blocks with the pod's request
                return _regenerate_hints(blocks, requested)
        return self._hints(state.machine_state, pod.uid, requested)

    # ------------------------------------------------------------------ allocation
    @staticmethod
    def _update_machine_state(ms: MachineState, mask_bits: list[int], name: str, size: int) -> None:
        """``updateMachineState``: count the assignment on every node of the mask, group the
        nodes, and reserve ``size`` bytes node after node."""
        for nid in mask_bits:
            node = ms[nid]
            node.number_of_assignments += 1
            node.cells = list(mask_bits)
            if size == 0:
                continue
            t = node.memory_map.get(name)
            if t is None or t.free <= 0:
                continue
            if t.free >= size:
                t.reserved += size
                t.free -= size
                size = 0
                continue
            size -= t.free
            t.reserved += t.free
            t.free = 0

    def allocate(self, state: MemoryManagerState, pod: Pod, container: Container) -> None:
        """``Allocate`` (idempotent): pin the container's memory to its hint's NUMA nodes."""
        if not is_guaranteed(pod):
            return
        if self._skips_pod_level(pod):
            return
        m = self.metrics
        m.memory_pinning_requests += 1  # policy_static.go:443
        try:
            self._allocate(state, pod, container)
        except Exception:
            # the deferred error counts (policy_static.go:444-449)
            m.memory_pinning_errors += 1
            m.memory_node_allocation_errors += 1
            raise

    def _allocate(self, state: MemoryManagerState, pod: Pod, container: Container) -> None:
        uid = pod.uid
        existing = state.get_blocks(uid, container.name)
        if existing is not None:
            self._update_pod_reusable_memory(pod, container, existing)
            return

        hint = self._affinity.get_affinity(uid, container.name)
        requested = self._container_requests(pod, container)
        ms = state.machine_state
        best = self._resolve_hint(ms, uid, hint, requested)
        assert best.mask is not None
        mask = best.mask
        mask_bits = bits(mask)

        # every check passed: from here on the machine state changes
        blocks: list[Block] = []
        for name, size in requested.items():
            blocks.append(Block(list(mask_bits), name, size))
            reusable = self._pod_reusable_memory(uid, mask, name)
            size = 0 if reusable >= size else size - reusable
            self._update_machine_state(ms, mask_bits, name, size)
            self.metrics.memory_node_allocations += 1  # per resource: policy_static.go:522

        self._update_pod_reusable_memory(pod, container, blocks)
        state.set_blocks(uid, container.name, blocks)
        # shrink the init containers' blocks by what was reused, so that the pod's blocks add
        # up to what it holds (a block may end at size 0)
        self._update_init_containers_memory_blocks(state, pod, container, blocks)
        self.metrics.memory_node_exclusive += 1  # policy_static.go:537

    def _validate_pod_scope_resources(self, pod: Pod) -> None:
        """``validatePodScopeResources``: refuse an empty pod shared pool (raises
        :class:`AllocationError` with the kubelet's message)."""
        total = self._pod_requests(pod)
        has_shared_long_running = False
        # exclusive memory of the containers that run for the pod's whole life
        long_running: Requests = {}

        for c in pod.init_containers:
            reqs = self._container_requests(pod, c)
            if not c.is_restartable:
                if not reqs:
                    for name, pool in total.items():
                        if long_running.get(name, 0) >= pool:
                            raise AllocationError(
                                f"pod rejected, pod has shared init containers but no {name} available for them"
                            )
            elif not reqs:
                has_shared_long_running = True
            else:
                for name, v in reqs.items():
                    long_running[name] = (long_running.get(name, 0) + v) & _U64

        for c in pod.containers:
            reqs = self._container_requests(pod, c)
            if not reqs:
                has_shared_long_running = True
            else:
                for name, v in reqs.items():
                    long_running[name] = (long_running.get(name, 0) + v) & _U64

        if has_shared_long_running:
            for name, pool in total.items():
                if long_running.get(name, 0) >= pool:
                    raise AllocationError(
                        f"pod rejected, sum of exclusive container {name} requests equals pod budget, "
                        "leaving no memory for shared containers"
                    )

    def allocate_pod(self, state: MemoryManagerState, pod: Pod) -> None:
        """``AllocatePod``: reserve the pod-level budget once on the pod's NUMA mask and
        partition it among the containers."""
        if not is_guaranteed(pod):
            return
        try:
            total = self._pod_requests(pod)
        except AllocationError:
            return  # the kubelet logs it and admits the pod without memory pinning
        m = self.metrics
        m.memory_pinning_requests += 1  # policy_static.go:201
        try:
            self._allocate_pod(state, pod, total)
        except Exception:
            # the deferred error counts (policy_static.go:202-207)
            m.memory_pinning_errors += 1
            m.memory_pod_allocation_errors += 1
            raise

    def _allocate_pod(self, state: MemoryManagerState, pod: Pod, total: Requests) -> None:
        m = self.metrics
        try:
            self._validate_pod_scope_resources(pod)
        except AllocationError as err:
            raise EmptyPodSharedPoolError(str(err)) from None

        uid = pod.uid
        ms = state.machine_state
        hint = self._affinity.get_affinity(uid, pod.all_containers()[0].name)
        best = self._resolve_hint(ms, uid, hint, total)
        assert best.mask is not None
        mask_bits = bits(best.mask)

        def blocks_of(amounts: Requests) -> list[Block]:
            return [
                Block(list(mask_bits), name, amounts[name])
                for name in sorted(amounts, key=_resource_order)
                if amounts[name] > 0
            ]

        exclusive: dict[str, list[Block]] = {}
        sidecars: Requests = {}
        for c in pod.init_containers:
            reqs = self._container_requests(pod, c)
            m.memory_pinning_requests += 1  # every init container: policy_static.go:261
            # an init container may use the whole budget minus the sidecars started so far
            runnable = {name: _sub(v, sidecars.get(name, 0)) for name, v in total.items()}
            if not reqs:
                if c.is_restartable:
                    continue  # a shared sidecar lives in the pod shared pool
                exclusive[c.name] = blocks_of(runnable)
                m.memory_pod_shared += 1  # policy_static.go:289
                continue
            exclusive[c.name] = blocks_of(reqs)
            m.memory_pod_exclusive += 1  # policy_static.go:305
            if c.is_restartable:
                # a sidecar's memory leaves the budget for the pod's whole life
                for name, v in reqs.items():
                    sidecars[name] = (sidecars.get(name, 0) + v) & _U64

        app_pool = {name: _sub(v, sidecars.get(name, 0)) for name, v in total.items()}
        for c in pod.containers:
            reqs = self._container_requests(pod, c)
            if not reqs:
                continue  # shared
            m.memory_pinning_requests += 1  # policy_static.go:334
            exclusive[c.name] = blocks_of(reqs)
            m.memory_pod_exclusive += 1  # policy_static.go:349
            for name, v in reqs.items():
                if v > 0:
                    app_pool[name] = _sub(app_pool.get(name, 0), v)

        shared = blocks_of(app_pool)
        pod_blocks = [Block(list(mask_bits), name, size) for name, size in total.items()]
        state.pod_assignments[uid] = clone_blocks(pod_blocks)

        for name, size in total.items():
            self._update_machine_state(ms, mask_bits, name, size)

        for c in pod.all_containers():
            blocks = exclusive.get(c.name)
            if blocks is None:
                blocks = shared
                m.memory_pod_shared += 1  # policy_static.go:386
            state.set_blocks(uid, c.name, blocks)
            m.memory_pod_allocations += 1  # policy_static.go:389

    # ------------------------------------------------------------------ release
    def remove_container(self, state: MemoryManagerState, pod_uid: str, container_name: str) -> None:
        """``RemoveContainer`` (idempotent). A pod-level allocation is released with the
        pod's last container."""
        if self._plrm:
            pod_blocks = state.pod_assignments.get(pod_uid)
            if pod_blocks is not None:
                state.delete(pod_uid, container_name)
                if not state.assignments.get(pod_uid):
                    self._release_memory(state, clone_blocks(pod_blocks))
                    state.delete_pod(pod_uid)
                return

        blocks = state.get_blocks(pod_uid, container_name)
        if blocks is None:
            return
        state.delete(pod_uid, container_name)
        self._release_memory(state, blocks)

    @staticmethod
    def _release_memory(state: MemoryManagerState, blocks: list[Block]) -> None:
        """``releaseMemory``: return the blocks' memory to the nodes, ungroup idle nodes."""
        ms = state.machine_state
        for b in blocks:
            released = b.size
            for nid in b.numa_affinity:
                node = ms[nid]
                node.number_of_assignments -= 1
                if node.number_of_assignments == 0:
                    node.cells = [nid]
                if released == 0:
                    continue
                t = node.memory_map.get(b.type)
                if t is None or t.reserved == 0:
                    continue
                if t.reserved < released:
                    released -= t.reserved
                    t.free += t.reserved
                    t.reserved = 0
                    continue
                t.free += released
                t.reserved -= released
                released = 0

    # ------------------------------------------------------------------ reporting
    def get_allocatable_memory(self, state: MemoryManagerState) -> list[Block]:
        """``GetAllocatableMemory``: one block per NUMA node and resource with allocatable
        memory (nodes ascending, memory first)."""
        out: list[Block] = []
        for nid in sorted(state.machine_state):
            memory_map = state.machine_state[nid].memory_map
            for name in sorted(memory_map, key=_resource_order):
                t = memory_map[name]
                if t.allocatable == 0:
                    continue
                out.append(Block([nid], name, t.allocatable))
        return out


def calculate_hints(
    ms: MachineState, reusable: dict[int, dict[str, int]], requested: Requests
) -> dict[str, list[TopologyHint] | None]:
    """``calculateHints``: every NUMA mask with enough allocatable and free memory that
    respects the node groups; preferred when of the minimal size that has enough
    allocatable memory.

    Same result as the kubelet's loop over ``IterateBitMasks``, computed with per-mask
    sums over "compact" masks (bit ``i`` = the ``i``-th NUMA id) and successive filters.
    """
    if not requested:
        return {}
    ids = sorted(ms)
    n = len(ids)
    if n == 0:
        return {}
    nodes = [ms[i] for i in ids]
    names = list(requested)
    position = {nid: i for i, nid in enumerate(ids)}

    def compact(real: int) -> int | None:
        """The compact mask of a real NUMA mask, None when it has ids outside the state."""
        out = 0
        for nid in bits(real):
            i = position.get(nid)
            if i is None:
                return None
            out |= 1 << i
        return out

    def column(name: str, free: bool) -> tuple[int, ...]:
        vals: list[int] = []
        for node in nodes:
            t = node.memory_map.get(name)  # Go would dereference a missing table
            vals.append(0 if t is None else (t.free if free else t.allocatable))
        return tuple(vals)

    order = _compact_masks(n)

    # 1. enough allocatable memory for every resource
    candidates: list[int] | tuple[int, ...] = order
    for name in names:
        sums = _subset_sums(column(name, free=False))
        need = requested[name]
        candidates = [cm for cm in candidates if sums[cm] >= need]
    if not candidates:
        return {}
    # IterateBitMasks goes by size: the first mask that fits is of the minimal size
    min_size = candidates[0].bit_count()

    # 2. node groups: a grouped node cannot serve a single-NUMA allocation; a used node
    #    can join a multi-NUMA allocation only with exactly its own group
    blocked_single = {1 << i for i, node in enumerate(nodes) if len(node.cells) > 1}
    used = 0
    group_of: dict[int, int] = {}  # compact position of a used node -> its compact group
    for i, node in enumerate(nodes):
        if node.number_of_assignments <= 0:
            continue
        used |= 1 << i
        cells = node.cells
        if len(cells) > 1 and len(set(cells)) == len(cells) and all(c >= 0 for c in cells):
            group = compact(mask_of(cells))
            if group is not None:
                group_of[i] = group
    allowed_groups: set[int] = set()
    for group in set(group_of.values()):
        members = group & used
        if all(group_of.get(i) == group for i in bits(members)):
            allowed_groups.add(group)
    candidates = [
        cm
        for cm in candidates
        if (cm & (cm - 1) == 0 and cm not in blocked_single)
        or (cm & (cm - 1) != 0 and (cm & used == 0 or cm in allowed_groups))
    ]

    # 3. enough free memory, counting the pod's reusable init-container memory
    for name in names:
        sums = _subset_sums(column(name, free=True))
        need = requested[name]
        extra: dict[int, int] = {}
        for real, per_resource in reusable.items():
            amount = per_resource.get(name, 0)
            cm = compact(real) if amount else None
            if cm is not None:
                extra[cm] = amount
        if extra:
            candidates = [cm for cm in candidates if sums[cm] + extra.get(cm, 0) >= need]
        else:
            candidates = [cm for cm in candidates if sums[cm] >= need]
    if not candidates:
        return {}

    # candidates keep IterateBitMasks order: the preferred (minimal) ones come first
    preferred, other = _hint_tables(tuple(ids))
    k = 0
    while k < len(candidates) and candidates[k].bit_count() == min_size:
        k += 1
    hints = [preferred[cm] for cm in candidates[:k]]
    hints += [other[cm] for cm in candidates[k:]]
    return {name: list(hints) for name in names}


def _is_regular_init_container(pod: Pod, container: Container) -> bool:
    for init in pod.init_containers:
        if init.name == container.name:
            return not init.is_restartable
    return False
