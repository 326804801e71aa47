"""Machine topology: logical CPUs, cores, sockets, NUMA nodes and uncore caches.

This is the kubelet's ``cpumanager/topology.CPUTopology`` (CPU details) plus
what the memory and topology managers read from cAdvisor's ``MachineInfo``
(memory, hugepages and distances per NUMA node). Every grouping is
precomputed as CPU bit masks so that the managers' queries are integer
operations.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from topolet.model.cpuset import CPUSet, format_bits, iter_bits
from topolet.model.quantity import format_bytes


class TopologyError(ValueError):
    """An impossible or inconsistent machine description."""


@dataclass(frozen=True, slots=True)
class CPUInfo:
    """One logical CPU (``topology.CPUInfo``)."""

    id: int
    core: int  # the kubelet's CoreID: the lowest CPU id among the core's SMT siblings
    socket: int
    numa: int
    uncore: int  # L3 cache id; the socket when the machine reports none


@dataclass(frozen=True, slots=True)
class NUMANode:
    """A NUMA node's memory as cAdvisor reports it."""

    id: int
    memory: int = 0  # total bytes
    hugepages: Mapping[int, int] = field(default_factory=dict)  # page size (bytes) -> total bytes
    distances: tuple[int, ...] = ()  # row of the distance matrix, indexed by node id


def hugepage_resource_name(page_size: int) -> str:
    """``hugepages-2Mi`` for a 2 MiB page size (corehelper.HugePageResourceName)."""
    from topolet.model.quantity import format_bytes

    return f"hugepages-{format_bytes(page_size)}"


class Topology:
    """An immutable machine topology with precomputed CPU masks."""

    __slots__ = (
        "all_cpus",
        "core_cpus",
        "cpu_core",
        "cpu_numa",
        "cpu_socket",
        "cpu_uncore",
        "cpus",
        "name",
        "num_cores",
        "num_cpus",
        "num_numa_nodes",
        "num_sockets",
        "num_uncore_caches",
        "numa_cpus",
        "numa_ids",
        "numa_nodes",
        "socket_cpus",
        "socket_numas",
        "uncore_cpus",
    )

    def __init__(self, cpus: Iterable[CPUInfo], numa_nodes: Iterable[NUMANode] = (), name: str = "") -> None:
        cpu_list = sorted(cpus, key=lambda c: c.id)
        if not cpu_list:
            raise TopologyError("the machine has no CPUs")
        self.name = name
        self.cpus: dict[int, CPUInfo] = {}
        for c in cpu_list:
            if c.id < 0:
                raise TopologyError(f"cpus: CPU id {c.id} is negative")
            if c.id in self.cpus:
                raise TopologyError(f"cpus: CPU {c.id} is listed twice")
            for attr in ("core", "socket", "numa", "uncore"):
                if getattr(c, attr) < 0:
                    raise TopologyError(f"cpus: CPU {c.id} has a negative {attr} id")
            self.cpus[c.id] = c
        self.all_cpus = 0
        self.numa_cpus: dict[int, int] = {}
        self.socket_cpus: dict[int, int] = {}
        self.core_cpus: dict[int, int] = {}
        self.uncore_cpus: dict[int, int] = {}
        self.socket_numas: dict[int, int] = {}
        core_places: dict[int, tuple[int, int]] = {}
        physical_cores: set[tuple[int, int]] = set()
        for c in cpu_list:
            bit = 1 << c.id
            self.all_cpus |= bit
            self.numa_cpus[c.numa] = self.numa_cpus.get(c.numa, 0) | bit
            self.socket_cpus[c.socket] = self.socket_cpus.get(c.socket, 0) | bit
            self.core_cpus[c.core] = self.core_cpus.get(c.core, 0) | bit
            self.uncore_cpus[c.uncore] = self.uncore_cpus.get(c.uncore, 0) | bit
            self.socket_numas[c.socket] = self.socket_numas.get(c.socket, 0) | (1 << c.numa)
            place = core_places.setdefault(c.core, (c.socket, c.numa))
            if place != (c.socket, c.numa):
                raise TopologyError(f"cpus: core {c.core} spans sockets/NUMA nodes {place} and {(c.socket, c.numa)}")
            physical_cores.add((c.numa, c.core))
        # fast per-CPU lookups (lists indexed by CPU id; -1 for offline ids)
        top = cpu_list[-1].id + 1
        self.cpu_core = [-1] * top
        self.cpu_socket = [-1] * top
        self.cpu_numa = [-1] * top
        self.cpu_uncore = [-1] * top
        for c in cpu_list:
            self.cpu_core[c.id] = c.core
            self.cpu_socket[c.id] = c.socket
            self.cpu_numa[c.id] = c.numa
            self.cpu_uncore[c.id] = c.uncore
        self.num_cpus = len(cpu_list)
        self.num_cores = len(physical_cores)
        self.num_sockets = len(self.socket_cpus)
        self.num_uncore_caches = len(self.uncore_cpus)
        # NUMA nodes: those listed explicitly plus any that hold CPUs
        nodes = {n.id: n for n in numa_nodes}
        for nid in self.numa_cpus:
            nodes.setdefault(nid, NUMANode(id=nid))
        ids = sorted(nodes)
        if ids and ids[0] < 0:
            raise TopologyError(f"numaNodes: NUMA node id {ids[0]} is negative")
        fixed: dict[int, NUMANode] = {}
        for nid in ids:
            n = nodes[nid]
            dist = tuple(n.distances)
            if not dist:
                dist = tuple(10 if j == nid else 20 for j in range(max(ids) + 1))
            elif len(dist) <= max(ids):
                raise TopologyError(
                    f"numaNodes[{nid}].distances: {len(dist)} entries, but NUMA node ids go up to {max(ids)}"
                )
            if n.memory < 0:
                raise TopologyError(f"numaNodes[{nid}].memory: negative size")
            for ps, total in n.hugepages.items():
                if ps <= 0 or total < 0:
                    raise TopologyError(f"numaNodes[{nid}].hugepages: invalid page size or total")
                if total % ps:
                    raise TopologyError(
                        f"numaNodes[{nid}].hugepages: total {total} is not a multiple of the page size {ps}"
                    )
            fixed[nid] = NUMANode(nid, n.memory, dict(n.hugepages), dist)
        self.numa_nodes: dict[int, NUMANode] = fixed
        self.numa_ids: list[int] = ids
        self.num_numa_nodes = len(self.numa_cpus)

    # -- kubelet CPUTopology accessors ---------------------------------------
    def cpus_per_core(self) -> int:
        return self.num_cpus // self.num_cores if self.num_cores else 0

    def cpus_per_socket(self) -> int:
        return self.num_cpus // self.num_sockets if self.num_sockets else 0

    def cpus_per_uncore(self) -> int:
        return self.num_cpus // self.num_uncore_caches if self.num_uncore_caches else 0

    def cpu_set(self) -> CPUSet:
        return CPUSet.from_bits(self.all_cpus)

    def cpus_in_numa_nodes(self, ids: Iterable[int]) -> int:
        b = 0
        for i in ids:
            b |= self.numa_cpus.get(i, 0)
        return b

    def cpus_in_sockets(self, ids: Iterable[int]) -> int:
        b = 0
        for i in ids:
            b |= self.socket_cpus.get(i, 0)
        return b

    def cpus_in_cores(self, ids: Iterable[int]) -> int:
        b = 0
        for i in ids:
            b |= self.core_cpus.get(i, 0)
        return b

    def sockets_in_numa_nodes(self, ids: Iterable[int]) -> set[int]:
        want = set(ids)
        return {s for s, numas in self.socket_numas.items() if any((numas >> n) & 1 for n in want)}

    def cpu_numa_nodes(self) -> list[int]:
        """NUMA nodes that hold CPUs (``CPUDetails.NUMANodes()``), sorted."""
        return sorted(self.numa_cpus)

    def distance(self, a: int, b: int) -> int:
        return self.numa_nodes[a].distances[b]

    def numa_of_bits(self, bits: int) -> set[int]:
        return {self.cpu_numa[c] for c in iter_bits(bits)}

    def describe(self) -> str:
        smt = self.cpus_per_core()
        return f"{self.num_sockets} socket(s), {len(self.numa_ids)} NUMA, {self.num_cpus} CPUs, SMT{smt}" + (
            " with uncore caches" if self.num_uncore_caches != self.num_sockets else ""
        )

    def __repr__(self) -> str:
        return f"Topology({self.describe()}; cpus {format_bits(self.all_cpus)})"


def topology_to_spec(topo: Topology) -> dict[str, Any]:
    """The explicit form of ``topo`` (what :func:`topology_from_spec` reads back).

    ``uncoreCache`` is written for every CPU when any CPU's uncore cache
    differs from its socket, else left to its default. Sizes are canonical
    quantity strings (``64Gi``, ``0``).
    """
    cpus = [topo.cpus[i] for i in sorted(topo.cpus)]
    with_uncore = any(c.uncore != c.socket for c in cpus)
    out_cpus: list[dict[str, int]] = []
    for c in cpus:
        d = {"id": c.id, "core": c.core, "socket": c.socket, "numa": c.numa}
        if with_uncore:
            d["uncoreCache"] = c.uncore
        out_cpus.append(d)
    nodes: list[dict[str, Any]] = []
    for nid in topo.numa_ids:
        n = topo.numa_nodes[nid]
        node: dict[str, Any] = {"id": nid, "memory": format_bytes(n.memory)}
        if n.hugepages:
            node["hugepages"] = {format_bytes(size): format_bytes(n.hugepages[size]) for size in sorted(n.hugepages)}
        node["distances"] = list(n.distances)
        nodes.append(node)
    return {"cpus": out_cpus, "numaNodes": nodes}
