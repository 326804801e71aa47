"""The CPU manager's topology hints without enumerating NUMA masks (fast path).

``generateCPUTopologyHints`` keeps every NUMA mask m (over the NUMA nodes
with CPUs) such that every reusable CPU's NUMA node is in m and the available
CPUs of m plus the reusable CPUs cover the request; a hint is preferred when m
has ``minAffinitySize`` nodes (the fewest nodes whose *total* CPUs cover the
request) or, with ``align-by-socket``, when m spans exactly
``ceil(minAffinitySize / NUMA nodes per socket)`` sockets.

That is one :class:`~topolet.engine.topologymanager.hint_space.Family`:
universe = the NUMA nodes with CPUs, required = the reusable CPUs' nodes, one
constraint Σ free CPUs ≥ request − |reusable|. The preferred hints are the
same family at size ``minAffinitySize``, plus with ``align-by-socket`` one
family per set S of ``minSockets`` sockets (nodes whose sockets are within S,
one indicator constraint "touches s" per s in S). Building it costs O(N) per
call (free CPUs per node are popcounts of the available set).
"""

from __future__ import annotations

from itertools import combinations
from typing import TYPE_CHECKING

from topolet.engine.hint import TopologyHint
from topolet.engine.topologymanager.hint_space import Family, HintSpace, wsum
from topolet.model.cpuset import iter_bits

if TYPE_CHECKING:
    from topolet.engine.cpumanager.policy_static import StaticCPUPolicy


class CPUHintSpace(HintSpace):
    """The hints of ``generateCPUTopologyHints(available, reusable, request)``."""

    __slots__ = ("_args", "_policy", "aligned_sets", "free", "k", "need", "required")

    def __init__(self, policy: StaticCPUPolicy, available: int, reusable: int, request: int) -> None:
        topo = policy.topology
        ids = policy._numa_ids
        universe = 0
        for n in ids:
            universe |= 1 << n
        width = (max(ids) + 1) if ids else 1
        free = [0] * width
        totals: list[int] = []
        for n in ids:
            cpus = topo.numa_cpus[n]
            free[n] = (available & cpus).bit_count()
            totals.append(cpus.bit_count())
        required = 0
        for cpu in iter_bits(reusable):
            required |= 1 << topo.cpu_numa[cpu]
        need = request - reusable.bit_count()
        # minAffinitySize: the fewest nodes whose total CPUs cover the request
        k = len(ids)
        acc = 0
        for i, t in enumerate(sorted(totals, reverse=True)):
            acc += t
            if acc >= request:
                k = min(k, i + 1)
                break
        weights = tuple(free)
        constraint = ((weights, need),)
        fit = Family(universe, required, 1, len(ids), constraint)
        pref: list[Family] = [Family(universe, required, k, k, constraint)]
        aligned_sets: list[int] = []
        if policy.options.align_by_socket and topo.num_sockets:
            per_socket = topo.num_numa_nodes // topo.num_sockets
            if per_socket > 0:
                min_sockets = (k + per_socket - 1) // per_socket
                sockets = sorted(topo.socket_numas)
                for combo in combinations(sockets, min_sockets):
                    inside = 0
                    for s in combo:
                        inside |= topo.socket_numas[s]
                    outside = 0
                    for s in sockets:
                        if s not in combo:
                            outside |= topo.socket_numas[s]
                    u = universe & inside & ~outside
                    if required & ~u:
                        continue
                    touches = []
                    for s in combo:
                        ind = [0] * width
                        for n in ids:
                            if topo.socket_numas[s] >> n & 1:
                                ind[n] = 1
                        touches.append((tuple(ind), 1))
                    pref.append(Family(u, required, 1, u.bit_count(), (*constraint, *touches)))
                    aligned_sets.append(u)
        super().__init__(universe, frozenset(), (fit,), frozenset(), tuple(pref))
        self._policy = policy
        self._args = (available, reusable, request)
        self.free = weights
        self.required = required
        self.need = need
        self.k = k
        self.aligned_sets = aligned_sets

    def fits(self, m: int) -> bool:
        return bool(m) and not m & ~self.universe and not self.required & ~m and wsum(self.free, m) >= self.need

    def is_preferred(self, m: int) -> bool:
        if not self.fits(m):
            return False
        if m.bit_count() == self.k:
            return True
        return any(f.contains(m) for f in self.pref_families[1:])

    def materialize(self) -> list[TopologyHint]:
        return self._policy.generate_cpu_topology_hints(*self._args)
