"""The node as a picture, as data: sockets → NUMA nodes → cores → threads, each CPU with its owner.

Owners and their two-character codes (readable without colour):

* ``##`` a reserved CPU (never exclusive; out of the shared pool with strict-cpu-reservation);
* ``..`` the node's shared pool;
* ``A1``, ``A2``, … the exclusive CPUs of pod A's containers (one code per container);
* ``A~`` pod A's shared pool (the bubble minus the exclusive slices, pod-level resource managers);
* ``A+`` CPUs of pod A's bubble that no container uses.

Memory per NUMA node and resource comes as bars: system reserved, each pod's
pinned memory (by pod letter), free. Pure: built from a node's state.
"""

from __future__ import annotations

import dataclasses
import string
from dataclasses import dataclass, field
from typing import Any

from topolet.engine.cpumanager.policy_static import StaticCPUPolicy
from topolet.engine.node import Node
from topolet.engine.result import EXCLUSIVE, POD_SHARED
from topolet.explain.core import node_settings
from topolet.explain.fmt import human_bytes, plural
from topolet.explain.model import NodeSettings
from topolet.model.cpuset import format_bits, iter_bits

RESERVED = "##"
FREE = ".."
_SLOT_CHARS = "123456789" + string.ascii_lowercase + string.ascii_uppercase
_POD_LETTERS = string.ascii_uppercase + string.ascii_lowercase + "αβγδεζηθικλμνξπρστυφχψω"


@dataclass(slots=True)
class OwnerView:
    code: str
    kind: str  # reserved, free, exclusive, pod-shared, bubble
    pod: str  # namespace/name ("" for reserved/free)
    pod_letter: str
    pod_index: int  # for colours (-1 for reserved/free)
    containers: list[str]
    cpus: str
    count: int
    label: str


@dataclass(slots=True)
class CPUView:
    id: int
    core: int
    thread: int
    code: str


@dataclass(slots=True)
class CoreView:
    id: int
    uncore: int
    cpus: list[CPUView]


@dataclass(slots=True)
class NUMABlock:
    socket: int
    numa: int
    cpus: str
    free_cpus: int
    total_cpus: int
    shared: bool  # the NUMA node spans several sockets (this block is the socket's part)
    cores: list[CoreView]


@dataclass(slots=True)
class SocketView:
    id: int
    blocks: list[NUMABlock]


@dataclass(slots=True)
class MemorySegment:
    code: str  # "##" system reserved, pod letter, ".." free
    label: str
    size: int


@dataclass(slots=True)
class MemoryBar:
    numa: int
    resource: str
    total: int
    system_reserved: int
    allocatable: int
    used: int
    free: int
    segments: list[MemorySegment]


@dataclass(slots=True)
class ContainerRow:
    name: str
    kind: str
    code: str
    cpu_mode: str
    cpus: str
    cpu_numa: str
    mems: str
    memory: str


@dataclass(slots=True)
class PodRow:
    letter: str
    pod: str
    qos: str
    pod_cpus: str
    numa: str
    containers: list[ContainerRow]


@dataclass(slots=True)
class NodeView:
    title: str
    settings: NodeSettings
    sockets: list[SocketView]
    owners: list[OwnerView]
    memory_tracked: bool
    memory: list[MemoryBar]
    numa_memory: dict[int, int]  # total memory per NUMA node (from the topology)
    cpuless_numa: list[int]
    pods: list[PodRow]
    shared_pool: str
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _pod_letter(i: int) -> str:
    if i < len(_POD_LETTERS):
        return _POD_LETTERS[i]
    return "?"


def node_view(node: Node, title: str = "") -> NodeView:
    topo = node.topology
    policy = node.cpu_manager.policy
    cs = node.cpu_manager.state
    static = isinstance(policy, StaticCPUPolicy)
    reserved = policy.reserved_cpus if isinstance(policy, StaticCPUPolicy) else 0
    code_of: dict[int, str] = {}
    owners: list[OwnerView] = []
    if reserved:
        owners.append(
            OwnerView(
                RESERVED, "reserved", "", "", -1, [], format_bits(reserved), reserved.bit_count(), "reserved CPUs"
            )
        )
        for c in iter_bits(reserved):
            code_of[c] = RESERVED
    pods: list[PodRow] = []
    pod_letters: dict[str, str] = {}
    idx = 0
    ms = node.memory_manager.state
    for key, rec in node.pods.items():
        pod = rec.pod
        who = pod.name if pod.namespace == "default" else key
        allocs = node.container_allocations(pod) if static else rec.result.containers
        bubble = cs.pod_assignments.get(pod.uid, 0) if static else 0
        pinned_cpus = any(a.cpu_mode in (EXCLUSIVE, POD_SHARED) for a in allocs) if static else False
        pinned_mem = bool(ms.assignments.get(pod.uid)) or bool(ms.pod_assignments.get(pod.uid))
        letter = ""
        pod_index = -1
        if pinned_cpus or bubble or pinned_mem:
            letter = _pod_letter(idx)
            pod_letters[pod.uid] = letter
            pod_index = idx
            idx += 1
        rows: list[ContainerRow] = []
        slot = 0
        exclusive_codes: dict[str, str] = {}
        cells: dict[int, tuple[int, str]] = {}  # cpu -> (priority, code)
        for a in allocs:
            code = ""
            if letter and a.cpu_mode == EXCLUSIVE:
                code = letter + (_SLOT_CHARS[slot] if slot < len(_SLOT_CHARS) else "*")
                slot += 1
                exclusive_codes[a.name] = code
                prio = 1 if a.kind == "init" else 3
                owners.append(
                    OwnerView(
                        code,
                        "exclusive",
                        key,
                        letter,
                        pod_index,
                        [a.name],
                        format_bits(a.cpus),
                        a.cpus.bit_count(),
                        f"{who} · {a.name} ({a.kind}): exclusive, {plural(a.cpus.bit_count(), 'CPU')}",
                    )
                )
                for c in iter_bits(a.cpus):
                    if cells.get(c, (0, ""))[0] < prio:
                        cells[c] = (prio, code)
            elif letter and a.cpu_mode == POD_SHARED:
                code = letter + "~"
            mem = ", ".join(
                f"{human_bytes(b.size)} {b.type} on NUMA {format_bits(sum(1 << n for n in b.numa_affinity))}"
                for b in a.memory
            )
            if mem and a.cpu_mode == POD_SHARED and ms.pod_assignments.get(pod.uid):
                mem += " (pod shared)"
            rows.append(
                ContainerRow(
                    a.name,
                    a.kind,
                    code,
                    a.cpu_mode,
                    format_bits(a.cpus),
                    format_bits(sum(1 << n for n in topo.numa_of_bits(a.cpus))),
                    format_bits(a.mems),
                    mem,
                )
            )
        if letter:
            shared = [a for a in allocs if a.cpu_mode == POD_SHARED and a.kind != "init"]
            pool = 0
            for a in shared:
                pool |= a.cpus
            if pool:
                owners.append(
                    OwnerView(
                        letter + "~",
                        "pod-shared",
                        key,
                        letter,
                        pod_index,
                        [a.name for a in shared],
                        format_bits(pool),
                        pool.bit_count(),
                        f"{who} · pod shared pool ({', '.join(a.name for a in shared)}), "
                        f"{plural(pool.bit_count(), 'CPU')}",
                    )
                )
                for c in iter_bits(pool):
                    if cells.get(c, (0, ""))[0] < 2:
                        cells[c] = (2, letter + "~")
            rest = bubble & ~sum(1 << c for c in cells)
            if rest:
                owners.append(
                    OwnerView(
                        letter + "+",
                        "bubble",
                        key,
                        letter,
                        pod_index,
                        [],
                        format_bits(rest),
                        rest.bit_count(),
                        f"{who} · unused part of the pod's bubble, {plural(rest.bit_count(), 'CPU')}",
                    )
                )
                for c in iter_bits(rest):
                    cells[c] = (0, letter + "+")
            if not any(o.pod == key for o in owners):
                owners.append(
                    OwnerView(
                        letter + " ",
                        "memory",
                        key,
                        letter,
                        pod_index,
                        [],
                        "",
                        0,
                        f"{who} · pinned memory only (its CPUs are in the node's shared pool)",
                    )
                )
        for c, (_p, code) in cells.items():
            code_of[c] = code
        pod_cpus = bubble
        if not pod_cpus:
            for a in allocs:
                if a.cpu_mode == EXCLUSIVE:
                    pod_cpus |= a.cpus
        numa_ids: set[int] = set(topo.numa_of_bits(pod_cpus)) if pod_cpus else set()
        for a in allocs:
            if a.memory_pinned:
                numa_ids |= {n for n in topo.numa_ids if (a.mems >> n) & 1}
        pods.append(
            PodRow(
                letter,
                key,
                pod.qos_class,
                format_bits(pod_cpus),
                format_bits(sum(1 << n for n in numa_ids)),
                rows,
            )
        )
    shared_pool = cs.default_cpuset & ~reserved if static else topo.all_cpus
    if static:
        owners.insert(
            1 if reserved else 0,
            OwnerView(
                FREE,
                "free",
                "",
                "",
                -1,
                [],
                format_bits(shared_pool),
                shared_pool.bit_count(),
                "the node's shared pool",
            ),
        )
    else:
        owners.insert(
            0,
            OwnerView(
                FREE,
                "free",
                "",
                "",
                -1,
                [],
                format_bits(topo.all_cpus),
                topo.num_cpus,
                "all CPUs (cpuManagerPolicy none)",
            ),
        )
    sockets = _sockets(node, code_of, shared_pool)
    mem_tracked = bool(ms.machine_state)
    bars = _memory_bars(node, pod_letters) if mem_tracked else []
    settings = node_settings(node)
    return NodeView(
        title=title or settings.topology,
        settings=settings,
        sockets=sockets,
        owners=owners,
        memory_tracked=mem_tracked,
        memory=bars,
        numa_memory={n: topo.numa_nodes[n].memory for n in topo.numa_ids},
        cpuless_numa=[n for n in topo.numa_ids if not topo.numa_cpus.get(n)],
        pods=pods,
        shared_pool=format_bits(shared_pool),
    )


def _sockets(node: Node, code_of: dict[int, str], shared_pool: int) -> list[SocketView]:
    topo = node.topology
    out: list[SocketView] = []
    numa_sockets: dict[int, set[int]] = {}
    for c in topo.cpus.values():
        numa_sockets.setdefault(c.numa, set()).add(c.socket)
    for s in sorted(topo.socket_cpus):
        blocks: list[NUMABlock] = []
        smask = topo.socket_cpus[s]
        for n in sorted(topo.numa_cpus):
            part = smask & topo.numa_cpus[n]
            if not part:
                continue
            cores: dict[int, list[int]] = {}
            for c in iter_bits(part):
                cores.setdefault(topo.cpu_core[c], []).append(c)
            core_views = []
            for core_id in sorted(cores, key=lambda k: (topo.cpu_uncore[cores[k][0]], k)):
                cpus = sorted(cores[core_id])
                core_views.append(
                    CoreView(
                        core_id,
                        topo.cpu_uncore[cpus[0]],
                        [CPUView(c, core_id, t, code_of.get(c, FREE)) for t, c in enumerate(cpus)],
                    )
                )
            blocks.append(
                NUMABlock(
                    socket=s,
                    numa=n,
                    cpus=format_bits(part),
                    free_cpus=(part & shared_pool).bit_count(),
                    total_cpus=part.bit_count(),
                    shared=len(numa_sockets.get(n, ())) > 1,
                    cores=core_views,
                )
            )
        out.append(SocketView(s, blocks))
    return out


def _memory_bars(node: Node, letters: dict[str, str]) -> list[MemoryBar]:
    ms = node.memory_manager.state
    # each pod's pinned memory by resource and NUMA mask
    per_pod: list[tuple[str, str, list[tuple[list[int], str, int]]]] = []
    for key, rec in node.pods.items():
        uid = rec.pod.uid
        letter = letters.get(uid)
        if not letter:
            continue
        blocks = ms.pod_assignments.get(uid)
        items: list[tuple[list[int], str, int]] = []
        if blocks:
            items = [(list(b.numa_affinity), b.type, b.size) for b in blocks]
        else:
            for bl in ms.assignments.get(uid, {}).values():
                items.extend((list(b.numa_affinity), b.type, b.size) for b in bl)
        per_pod.append((letter, key, items))
    bars: list[MemoryBar] = []
    resources: list[str] = []
    for ns in ms.machine_state.values():
        for r in ns.memory_map:
            if r not in resources:
                resources.append(r)
    resources.sort(key=lambda r: (r != "memory", r))
    for r in resources:
        # attribute: single-NUMA blocks first, then multi-NUMA blocks node after node
        used: dict[int, dict[str, int]] = {n: {} for n in ms.machine_state}
        room = {n: ns.memory_map[r].reserved if r in ns.memory_map else 0 for n, ns in ms.machine_state.items()}
        for letter, _key, items in per_pod:
            for numa, typ, size in items:
                if typ != r or len(numa) != 1 or numa[0] not in used:
                    continue
                take = min(size, room[numa[0]])
                used[numa[0]][letter] = used[numa[0]].get(letter, 0) + take
                room[numa[0]] -= take
        for letter, _key, items in per_pod:
            for numa, typ, size in items:
                if typ != r or len(numa) == 1:
                    continue
                left = size
                for n in sorted(numa):
                    if n not in room or left <= 0:
                        continue
                    take = min(left, room[n])
                    if take:
                        used[n][letter] = used[n].get(letter, 0) + take
                        room[n] -= take
                        left -= take
        for n in sorted(ms.machine_state):
            t = ms.machine_state[n].memory_map.get(r)
            if t is None or (t.total == 0 and t.allocatable == 0):
                continue
            segs = [MemorySegment(RESERVED, "reserved for the system", t.system_reserved)] if t.system_reserved else []
            segs += [MemorySegment(letter, "pod", size) for letter, size in used[n].items() if size]
            other = t.reserved - sum(used[n].values())
            if other > 0:
                segs.append(MemorySegment("??", "pinned (owner not shown)", other))
            segs.append(MemorySegment(FREE, "free", t.free))
            bars.append(MemoryBar(n, r, t.total, t.system_reserved, t.allocatable, t.reserved, t.free, segs))
    return bars
