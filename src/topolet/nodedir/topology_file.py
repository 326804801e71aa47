"""A node directory's ``topology.yaml`` read without the validating (pydantic) model when it is plain.

``node init`` writes the machine in the explicit form of
:func:`topolet.model.topology_spec.topology_to_spec`. :func:`plain_topology`
reads exactly that shape with plain Python -- every field of the expected type
and in range, every consistency rule of the validating reader holding -- and
returns ``None`` for anything else (a hand-edited file, an unusual value, a
broken rule), so the caller falls back to
:func:`~topolet.model.topology_spec.topology_from_spec`, which accepts or
rejects with its own messages. The fast path never rejects: where it answers,
the validating reader gives the same :class:`~topolet.model.topology.Topology`
(tests/test_nodedir_fastread.py checks both on many machines).
"""

from __future__ import annotations

from typing import Any

from topolet.model.presets import MAX_CPUS, MAX_MEMORY_PER_NUMA, MAX_NUMA_NODES, MAX_SOCKETS
from topolet.model.quantity import QuantityError, parse_bytes
from topolet.model.topology import CPUInfo, NUMANode, Topology, TopologyError

# the validating reader's bounds (topolet.model.topology_spec)
_MAX_ID = 65535
_MAX_NUMA_ID = MAX_NUMA_NODES - 1
_MAX_DISTANCE = 255
_CPU_KEYS = frozenset(("id", "core", "socket", "numa"))
_CPU_KEYS_UNCORE = frozenset(("id", "core", "socket", "numa", "uncoreCache"))
_NODE_KEYS = frozenset(("id", "memory", "distances"))
_NODE_KEYS_HP = frozenset(("id", "memory", "hugepages", "distances"))


def _int(v: Any, hi: int) -> int | None:
    return v if type(v) is int and 0 <= v <= hi else None


def _size(v: Any) -> int | None:
    if type(v) is not str and type(v) is not int:
        return None
    try:
        n = parse_bytes(v)
    except (QuantityError, ValueError, TypeError, OverflowError):
        return None
    return n if type(n) is int and 0 <= n <= MAX_MEMORY_PER_NUMA else None


def plain_topology(spec: Any) -> Topology | None:
    """The topology of a plain explicit-form mapping, or ``None`` (use the validating reader)."""
    if type(spec) is not dict or spec.keys() != {"cpus", "numaNodes"}:
        return None
    raw_cpus, raw_nodes = spec["cpus"], spec["numaNodes"]
    if type(raw_cpus) is not list or type(raw_nodes) is not list or not raw_cpus or not raw_nodes:
        return None
    if len(raw_cpus) > MAX_CPUS or len(raw_nodes) > MAX_NUMA_NODES:
        return None
    keys = _CPU_KEYS_UNCORE if type(raw_cpus[0]) is dict and "uncoreCache" in raw_cpus[0] else _CPU_KEYS
    cpus: list[CPUInfo] = []
    seen: set[int] = set()
    place: dict[int, tuple[int, int, int]] = {}
    sockets: set[int] = set()
    for c in raw_cpus:
        if type(c) is not dict or c.keys() != keys:
            return None
        cid, core, sock = _int(c["id"], _MAX_ID), _int(c["core"], _MAX_ID), _int(c["socket"], _MAX_ID)
        numa = _int(c["numa"], _MAX_NUMA_ID)
        uncore = _int(c["uncoreCache"], _MAX_ID) if "uncoreCache" in c else sock
        if cid is None or core is None or sock is None or numa is None or uncore is None or cid in seen:
            return None
        seen.add(cid)
        sockets.add(sock)
        if place.setdefault(core, (sock, numa, uncore)) != (sock, numa, uncore):
            return None
        cpus.append(CPUInfo(id=cid, core=core, socket=sock, numa=numa, uncore=uncore))
    if len(sockets) > MAX_SOCKETS:
        return None
    ids: list[int] = []
    for n in raw_nodes:
        if type(n) is not dict or (n.keys() != _NODE_KEYS and n.keys() != _NODE_KEYS_HP):
            return None
        nid = _int(n["id"], _MAX_NUMA_ID)
        if nid is None or nid in ids:
            return None
        ids.append(nid)
    max_id = max(ids)
    nodes: list[NUMANode] = []
    for n in raw_nodes:
        memory = _size(n["memory"])
        dist = n["distances"]
        if memory is None or type(dist) is not list or len(dist) != max_id + 1:
            return None
        if not all(type(d) is int and 1 <= d <= _MAX_DISTANCE for d in dist):
            return None
        hugepages: dict[int, int] = {}
        hp = n.get("hugepages", {})
        if type(hp) is not dict:
            return None
        for k, v in hp.items():
            if type(k) is not str or k.startswith("hugepages-"):
                return None
            size, total = _size(k), _size(v)
            if size is None or total is None or size in hugepages:
                return None
            if size < 4096 or size & (size - 1) or total % size:
                return None
            hugepages[size] = total
        nodes.append(NUMANode(id=n["id"], memory=memory, hugepages=hugepages, distances=tuple(dist)))
    if not {c.numa for c in cpus} <= set(ids):
        return None
    try:
        return Topology(cpus, nodes, name="")
    except TopologyError:
        return None


def explicit_spec(topo: Topology) -> dict[str, Any]:
    """The explicit form of ``topo`` (:func:`topolet.model.topology.topology_to_spec`, which needs no
    validating model)."""
    from topolet.model.topology import topology_to_spec

    return topology_to_spec(topo)
