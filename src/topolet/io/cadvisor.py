"""cAdvisor ``MachineInfo`` JSON: what the kubelet's ``/spec`` endpoint serves.

:func:`topology_from_machine_info` reads it as the kubelet does
(``cpumanager/topology.Discover`` for the CPUs, the memory manager and the
topology manager for the NUMA nodes):

* every ``topology[].cores[]`` entry is one physical core; its CPUs are
  ``thread_ids``; the kubelet's CoreID is the lowest of them (cAdvisor's
  ``core_id`` is only unique per socket and is ignored); an empty or
  repeated ``thread_ids`` is refused, as ``Discover`` refuses it;
* the uncore cache of a core is the ``id`` of its first ``uncore_caches``
  entry, else the core's ``socket_id``;
* a node's memory is ``memory`` (bytes), hugepages ``[{page_size (KiB),
  num_pages}]``, distances the ``distances`` row;
* ``num_cores == 0`` is refused ("could not detect number of cpus"). Like
  the topology model, the CPU, core and socket counts come from the CPUs;
  ``num_cores``/``num_sockets`` are not otherwise used.

:func:`machine_info_from_topology` writes one. This module does no file I/O;
callers pass the decoded JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError

from topolet.model.input_messages import user_errors
from topolet.model.topology import CPUInfo, NUMANode, Topology, TopologyError

MAX_ID = 65535
MAX_NUMA_ID = 1023

Id = Annotated[StrictInt, Field(ge=0, le=MAX_ID)]


class MachineInfoError(ValueError):
    """Invalid machine info: ``"{source}: {field path}: {problem}"``."""


class _Cache(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: StrictInt = 0
    size: StrictInt = 0
    type: str = ""
    level: StrictInt = 0


class _Core(BaseModel):
    model_config = ConfigDict(extra="ignore")

    core_id: StrictInt = 0
    thread_ids: list[Id] | None = None
    socket_id: Id = 0
    uncore_caches: list[_Cache] | None = None


class _HugePages(BaseModel):
    model_config = ConfigDict(extra="ignore")

    page_size: Annotated[StrictInt, Field(gt=0, le=1 << 40)]  # KiB
    num_pages: Annotated[StrictInt, Field(ge=0, le=1 << 40)]


class _Node(BaseModel):
    model_config = ConfigDict(extra="ignore")

    node_id: Annotated[StrictInt, Field(ge=0, le=MAX_NUMA_ID)]
    memory: Annotated[StrictInt, Field(ge=0, le=1 << 62)] = 0
    hugepages: list[_HugePages] | None = None
    cores: list[_Core] | None = None
    distances: list[Annotated[StrictInt, Field(ge=0)]] | None = None


class _MachineInfo(BaseModel):
    model_config = ConfigDict(extra="ignore")

    num_cores: StrictInt = 0
    num_sockets: StrictInt = 0
    topology: list[_Node] | None = None


def topology_from_machine_info(data: Mapping[str, Any], source: str = "machine info") -> Topology:
    """The kubelet's view of a cAdvisor ``MachineInfo`` (decoded JSON)."""
    if not isinstance(data, Mapping):
        raise MachineInfoError(f"{source}: expected a JSON object, got {type(data).__name__}")
    try:
        mi = _MachineInfo.model_validate(dict(data))
    except ValidationError as e:
        path, problem = user_errors(e, _MachineInfo)[0]
        raise MachineInfoError(f"{source}: {path}: {problem}" if path else f"{source}: {problem}") from None
    if mi.num_cores == 0:
        raise MachineInfoError(f"{source}: num_cores: could not detect number of cpus")
    cpus: list[CPUInfo] = []
    where_cpu: dict[int, str] = {}
    nodes: list[NUMANode] = []
    seen_nodes: dict[int, int] = {}
    for i, node in enumerate(mi.topology or ()):
        if node.node_id in seen_nodes:
            raise MachineInfoError(
                f"{source}: topology[{i}].node_id: NUMA node {node.node_id} is listed twice "
                f"(also topology[{seen_nodes[node.node_id]}])"
            )
        seen_nodes[node.node_id] = i
        for j, core in enumerate(node.cores or ()):
            path = f"topology[{i}].cores[{j}].thread_ids"
            threads = core.thread_ids or []
            if not threads:
                raise MachineInfoError(f"{source}: {path}: no cpus provided")
            if len(set(threads)) != len(threads):
                raise MachineInfoError(f"{source}: {path}: cpus provided are not unique")
            core_id = min(threads)
            uncore = core.uncore_caches[0].id if core.uncore_caches else core.socket_id
            if uncore < 0:
                raise MachineInfoError(f"{source}: topology[{i}].cores[{j}].uncore_caches[0].id: negative")
            for t in threads:
                if t in where_cpu:
                    raise MachineInfoError(f"{source}: {path}: CPU {t} is also in {where_cpu[t]}")
                where_cpu[t] = path
                cpus.append(CPUInfo(id=t, core=core_id, socket=core.socket_id, numa=node.node_id, uncore=uncore))
        hugepages: dict[int, int] = {}
        for k, hp in enumerate(node.hugepages or ()):
            size = hp.page_size * 1024
            if size in hugepages:
                raise MachineInfoError(
                    f"{source}: topology[{i}].hugepages[{k}].page_size: page size {hp.page_size} KiB listed twice"
                )
            hugepages[size] = hp.num_pages * size
        nodes.append(NUMANode(node.node_id, node.memory, hugepages, tuple(node.distances or ())))
    if not cpus:
        raise MachineInfoError(f"{source}: topology: no CPUs in any NUMA node")
    top = max(seen_nodes)
    for i, node in enumerate(mi.topology or ()):
        if node.distances and len(node.distances) <= top:
            raise MachineInfoError(
                f"{source}: topology[{i}].distances: {len(node.distances)} entries, but NUMA node ids go up to {top}"
            )
    try:
        return Topology(cpus, nodes, name=source)
    except TopologyError as e:
        raise MachineInfoError(f"{source}: {e}") from None


def machine_info_from_topology(topo: Topology) -> dict[str, Any]:
    """A cAdvisor ``MachineInfo`` (the fields the kubelet's managers read) for ``topo``.

    Cores carry the kubelet's CoreID as ``core_id``. ``uncore_caches`` are
    written (as level-3 unified caches) for every core when any CPU's uncore
    cache differs from its socket; otherwise the L3 is left implicit, as
    cAdvisor does for a cache that spans the whole NUMA node.
    """
    with_uncore = any(c.uncore != c.socket for c in topo.cpus.values())
    by_node: dict[int, dict[int, list[int]]] = {}
    for c in sorted(topo.cpus.values(), key=lambda c: c.id):
        by_node.setdefault(c.numa, {}).setdefault(c.core, []).append(c.id)
    nodes: list[dict[str, Any]] = []
    for nid in topo.numa_ids:
        n = topo.numa_nodes[nid]
        cores: list[dict[str, Any]] = []
        for core, threads in sorted(by_node.get(nid, {}).items()):
            first = topo.cpus[threads[0]]
            entry: dict[str, Any] = {
                "core_id": core,
                "thread_ids": threads,
                "caches": None,
                "uncore_caches": None,
                "socket_id": first.socket,
            }
            if with_uncore:
                entry["uncore_caches"] = [{"id": first.uncore, "size": 0, "type": "Unified", "level": 3}]
            cores.append(entry)
        nodes.append(
            {
                "node_id": nid,
                "memory": n.memory,
                "hugepages": [
                    {"page_size": size // 1024, "num_pages": n.hugepages[size] // size} for size in sorted(n.hugepages)
                ],
                "cores": cores or None,
                "caches": None,
                "distances": list(n.distances),
            }
        )
    machine_hugepages: dict[int, int] = {}
    for n in topo.numa_nodes.values():
        for size, total in n.hugepages.items():
            machine_hugepages[size] = machine_hugepages.get(size, 0) + total // size
    return {
        "num_cores": topo.num_cpus,
        "num_physical_cores": topo.num_cores,
        "num_sockets": topo.num_sockets,
        "memory_capacity": sum(n.memory for n in topo.numa_nodes.values()),
        "hugepages": [
            {"page_size": size // 1024, "num_pages": machine_hugepages[size]} for size in sorted(machine_hugepages)
        ],
        "topology": nodes,
    }
