"""``topolet verify``: the kubelet's checkpoints, the kernel's cpusets and topolet's view, side by side.

Three views of the same pods:

* the checkpoints: ``cpu_manager_state`` (exclusive CPUs per container, the
  shared pool ``defaultCpuSet``, pod-level bubbles) and ``memory_manager_state``
  (NUMA nodes per container);
* the kernel: each container cgroup's ``cpuset.cpus``/``cpuset.mems`` (effective
  values where the kernel reports them) and its processes' ``Cpus_allowed_list``
  / ``Mems_allowed_list``;
* topolet: a 1.36 kubelet (topolet's engine) restarted on the same topology,
  configuration and checkpoints -- does it accept them, and what is free.

Every difference is named with its kind (see :data:`KINDS`); per pinned
container the SMT, L3 (uncore cache) and NUMA alignment of what the kernel
enforces is reported. Nothing is written anywhere.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from topolet.io.checkpoint import CheckpointError, load_cpu_checkpoint, load_memory_checkpoint
from topolet.io.sysfs import SysfsError, read_sysfs_topology
from topolet.model.cpuset import format_bits, iter_bits, parse_bits
from topolet.model.features import POD_LEVEL_RESOURCE_MANAGERS
from topolet.model.kubelet_config import KubeletConfig
from topolet.model.topology import Topology
from topolet.realnode.capture import CONFIG_MEMBER, CPU_STATE_MEMBER, MEMORY_STATE_MEMBER, Capture

KINDS = {
    "cpuset-differs": "a container's cpuset differs from its checkpoint entry",
    "shared-cpuset-differs": "a container without exclusive CPUs is not on the shared pool it should be on",
    "exclusive-cpus-shared": "exclusive CPUs are inside another container's cpuset",
    "exclusive-in-shared-pool": "the checkpoint's shared pool (defaultCpuSet) holds exclusive CPUs",
    "stale-entry": "a checkpoint entry for a container that no longer exists",
    "pod-bubble-missing": "a pod-level bubble is missing (the 1.36 restart bug, or a 1.36 kubelet read a 1.37 file)",
    "outside-bubble": "a container's exclusive CPUs lie outside its pod's bubble",
    "mems-differs": "memory pinned to NUMA nodes other than the checkpoint's",
    "process-affinity-differs": "a process's Cpus_allowed_list / Mems_allowed_list differs from its cgroup",
    "podresources-differs": "the PodResources API reports other CPUs than the checkpoint",
    "kubelet-refuses": "a kubelet restarted on these checkpoints would refuse to start",
}

# the top-level keys of every state file version topolet reads
_KNOWN_KEYS = {
    "cpu_manager_state": {"policyname", "defaultcpuset", "entries", "podentries", "checksum", "data", "datachecksum"},
    "memory_manager_state": {"policyname", "machinestate", "entries", "podentries", "checksum", "data", "datachecksum"},
}


class VerifyInputError(Exception):
    """Input verify cannot work from (exit 1); the message names what and where."""


@dataclass(slots=True)
class Difference:
    kind: str
    message: str
    pod: str = ""
    container: str = ""
    cpus: str = ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "message": self.message}
        if self.pod:
            out["pod"] = self.pod
        if self.container:
            out["container"] = self.container
        if self.cpus:
            out["cpus"] = self.cpus
        return out


@dataclass(slots=True)
class ContainerView:
    pod_uid: str
    pod: str  # namespace/name when known, else the UID
    name: str  # the container name, or <ID prefix> when the runtime was not reached
    qos: str
    checkpoint_cpus: int | None  # exclusive CPUs in the checkpoint, None: shared pool
    expected_cpus: int  # what the checkpoint says the cgroup should hold
    cgroup_cpus: int | None
    expected_mems: int | None  # NUMA nodes of the memory checkpoint's blocks, None: no memory entry
    cgroup_mems: int | None
    procs: list[dict[str, Any]] = field(default_factory=list)
    alignment: dict[str, Any] | None = None
    topolet_cpus: str | None = None  # topolet's own decision for this container (CPUs, or a rejection)

    def to_dict(self) -> dict[str, Any]:
        def f(b: int | None) -> str | None:
            return None if b is None else format_bits(b)

        out: dict[str, Any] = {
            "podUID": self.pod_uid,
            "pod": self.pod,
            "container": self.name,
            "qos": self.qos,
            "checkpoint": {
                "cpus": f(self.checkpoint_cpus) if self.checkpoint_cpus is not None else "shared pool",
                "expectedCpuset": format_bits(self.expected_cpus),
                "mems": f(self.expected_mems),
            },
            "kernel": {"cpusetCpus": f(self.cgroup_cpus), "cpusetMems": f(self.cgroup_mems), "processes": self.procs},
        }
        if self.topolet_cpus is not None:
            out["topolet"] = {"cpus": self.topolet_cpus}
        if self.alignment is not None:
            out["alignment"] = self.alignment
        return out


@dataclass
class VerifyReport:
    source: str
    topology: str
    policy: str
    checkpoint_version: int
    memory_checkpoint_version: int | None
    default_cpuset: int
    containers: list[ContainerView]
    differences: list[Difference]
    topolet: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.differences

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "topology": self.topology,
            "checkpoint": {
                "policyName": self.policy,
                "cpuManagerStateVersion": self.checkpoint_version,
                "memoryManagerStateVersion": self.memory_checkpoint_version,
                "defaultCpuSet": format_bits(self.default_cpuset),
            },
            "topolet": self.topolet,
            "containers": [c.to_dict() for c in self.containers],
            "differences": [d.to_dict() for d in self.differences],
            "clean": self.clean,
            "notes": self.notes,
        }


MAX_CPU_ID = 1 << 16  # no machine has more CPUs; a larger id is a damaged file, not a CPU


def _bits(s: str | None, where: str) -> int | None:
    if s is None:
        return None
    if not isinstance(s, str):
        raise VerifyInputError(f"{where}: not a CPU/NUMA list: {s!r}")
    if any(len(tok) > 6 for tok in re.split(r"[,\-\s]+", s.strip())):
        raise VerifyInputError(f"{where}: not a CPU/NUMA list: {s[:80]!r} (ids above {MAX_CPU_ID})")
    try:
        bits = parse_bits(s.strip())
    except ValueError as e:
        raise VerifyInputError(f"{where}: not a CPU/NUMA list: {s[:80]!r} ({e})") from None
    if bits >> MAX_CPU_ID:
        raise VerifyInputError(f"{where}: not a CPU/NUMA list: {s[:80]!r} (ids above {MAX_CPU_ID})")
    return bits


def _future_version(kind: str, data: bytes) -> str:
    try:
        tree = json.loads(data)
    except (ValueError, RecursionError):
        return ""
    if not isinstance(tree, dict):
        return ""
    unknown = sorted(k for k in tree if k.lower() not in _KNOWN_KEYS[kind])
    if unknown:
        newest = "V4" if kind == "cpu_manager_state" else "V3"
        return (
            f" -- it has fields no known version has ({', '.join(unknown)}): probably written by a kubelet newer "
            f"than 1.37 (topolet reads up to {newest})"
        )
    return ""


def load_topology(cap: Capture) -> Topology:
    if not cap.has_numa_info():
        raise VerifyInputError(
            f"{cap.where('sys/devices/system/node')}: the capture has no NUMA information (no "
            "sys/devices/system/node/node* directories on the captured machine); topolet cannot tell which NUMA "
            "node a CPU or a page belongs to"
        )
    try:
        with cap.sysfs_root() as root:
            return read_sysfs_topology(root)
    except SysfsError as e:
        raise VerifyInputError(f"{cap.source}: the captured sysfs topology: {e}") from None


def load_config(cap: Capture) -> KubeletConfig | None:
    data = cap.file(CONFIG_MEMBER)
    if data is None:
        return None
    from topolet.io.inputs import InputError, parse_mapping
    from topolet.model.kubelet_config import KubeletConfigError, load_kubelet_config
    from topolet.model.quantity import QuantityError

    where = cap.where(CONFIG_MEMBER)
    try:
        return load_kubelet_config(parse_mapping(data.decode("utf-8"), where), where)
    except UnicodeDecodeError:
        raise VerifyInputError(f"{where}: not a UTF-8 text file") from None
    except (InputError, KubeletConfigError, QuantityError, ValueError) as e:
        msg = str(e)
        raise VerifyInputError(msg if where in msg else f"{where}: {msg}") from None


def _gate(config: KubeletConfig | None) -> bool:
    if config is None:
        return True
    return config.feature_gates.enabled(POD_LEVEL_RESOURCE_MANAGERS)


def _load_states(cap: Capture, gate: bool) -> tuple[Any, Any]:
    cpu_raw = cap.file(CPU_STATE_MEMBER)
    if cpu_raw is None:
        why = cap.missing.get("cpuManagerState", "not captured")
        raise VerifyInputError(f"{cap.source}: no cpu_manager_state in the capture ({why})")
    try:
        cpu = load_cpu_checkpoint(cpu_raw, cap.where(CPU_STATE_MEMBER), pod_level_resource_managers=gate)
    except CheckpointError as e:
        raise VerifyInputError(
            f"{cap.where(CPU_STATE_MEMBER)}: {e.cause}{_future_version('cpu_manager_state', cpu_raw)}"
        ) from None
    mem = None
    mem_raw = cap.file(MEMORY_STATE_MEMBER)
    if mem_raw is not None:
        try:
            mem = load_memory_checkpoint(mem_raw, cap.where(MEMORY_STATE_MEMBER), pod_level_resource_managers=gate)
        except CheckpointError as e:
            raise VerifyInputError(
                f"{cap.where(MEMORY_STATE_MEMBER)}: {e.cause}{_future_version('memory_manager_state', mem_raw)}"
            ) from None
    return cpu, mem


def _cpus_word(bits: int) -> str:
    return "CPU" if bits & (bits - 1) == 0 else "CPUs"


def _alignment(topology: Topology, cpus: int, mems: int | None) -> dict[str, Any]:
    cores = {topology.cpu_core[c] for c in iter_bits(cpus) if c < len(topology.cpu_core) and topology.cpu_core[c] >= 0}
    whole = 0
    for core in cores:
        whole |= topology.core_cpus[core]
    partial = sorted(core for core in cores if topology.core_cpus[core] & ~cpus)
    uncores = sorted({topology.cpu_uncore[c] for c in iter_bits(cpus) if c < len(topology.cpu_uncore)})
    numas = sorted({topology.cpu_numa[c] for c in iter_bits(cpus) if c < len(topology.cpu_numa)})
    out: dict[str, Any] = {
        "smt": {
            "aligned": not partial,
            "detail": "whole cores"
            if not partial
            else f"partial core(s) {', '.join(map(str, partial))} (siblings {format_bits(whole & ~cpus)} not held)",
        },
        "l3": {"aligned": len(uncores) <= 1, "uncoreCaches": uncores},
        "numa": {"aligned": len(numas) <= 1, "cpuNUMANodes": numas},
    }
    if mems is not None:
        mem_nodes = sorted(iter_bits(mems))
        out["numa"]["memoryNUMANodes"] = mem_nodes
        out["numa"]["aligned"] = out["numa"]["aligned"] and set(mem_nodes) <= set(numas)
    return out


def _mem_nodes(blocks: list[Any]) -> int:
    bits = 0
    for b in blocks:
        for n in b.numa_affinity:
            bits |= 1 << n
    return bits


def _topolet_view(topology: Topology, config: KubeletConfig | None, cap: Capture) -> dict[str, Any]:
    if config is None:
        return {"restart": "not checked: the capture has no kubelet configuration"}
    from topolet.nodedir.store import NodeStartError, start_kubelet

    try:
        node = start_kubelet(
            Path("/var/lib/kubelet"),
            topology,
            config,
            cap.file(CPU_STATE_MEMBER),
            cap.file(MEMORY_STATE_MEMBER),
        )
    except NodeStartError as e:
        return {"restart": "refused", "message": e.message}
    cs = node.cpu_manager.state
    return {
        "restart": "accepted",
        "message": "a 1.36 kubelet (topolet's engine) restarts on these checkpoints",
        "freeSharedPool": format_bits(cs.default_cpuset),
    }


MAX_READMITTED = 50  # pods re-admitted one by one for topolet's decision (each on a freshly restarted node)


def _topolet_decisions(cap: Capture, config: KubeletConfig, pinned: set[str]) -> tuple[dict[tuple[str, str], str], str]:
    """topolet's own decision for each pinned pod: the pod deleted and created again on the node as it is now
    (a kubelet restarted on the checkpoints with the other pods). Returns ((uid, container) -> CPUs or a
    rejection, a note)."""
    from topolet.nodedir.store import NodeStartError, register_pods, start_kubelet
    from topolet.realnode.nodeinit import captured_node, rebuild_pods

    try:
        cn = captured_node(cap)
        stored = rebuild_pods(cn, cap)
    except VerifyInputError as e:
        return {}, f"topolet's decisions not computed: {e}"
    out: dict[tuple[str, str], str] = {}
    todo = [sp for sp in stored if sp.pod.uid in pinned]
    for sp in todo[:MAX_READMITTED]:
        try:
            node = start_kubelet(Path("/var/lib/kubelet"), cn.topology, config, cn.cpu_bytes, cn.mem_bytes)
        except NodeStartError:
            break
        register_pods(node, stored)
        node.delete(sp.key)
        res = node.admit(sp.pod)
        if not res.admitted:
            for c in sp.pod.all_containers():
                out[(sp.pod.uid, c.name)] = f"rejected: {res.reason}"
            continue
        for alloc in res.containers:
            out[(sp.pod.uid, alloc.name)] = format_bits(alloc.cpus)
    note = (
        "topolet's decision: each pinned pod deleted and created again on the node as it is now (the other pods "
        "keep their CPUs); it differs from the kubelet's where the node was different when the pod was admitted"
    )
    if len(todo) > MAX_READMITTED:
        note += f" (first {MAX_READMITTED} of {len(todo)} pods)"
    return out, note


def _kernel_view(c: Any, root: str) -> tuple[int | None, int | None]:
    """A container's CPUs and NUMA nodes as the kernel enforces them: its cgroup's (effective) cpusets, or,
    without cpuset files, its first process's Cpus_allowed_list / Mems_allowed_list. ``root`` names the
    kubepods cgroup (with the bundle, for a capture)."""
    where = f"{root}/{c.path}"
    cpus = _bits(c.cpus_effective or c.cpus, f"{where}/cpuset.cpus")
    mems = _bits(c.mems_effective or c.mems, f"{where}/cpuset.mems")
    if cpus is None:
        first = next((p for p in c.procs if p.cpus_allowed_list is not None), None)
        if first is not None:
            cpus = _bits(first.cpus_allowed_list, f"/proc/{first.pid}/status Cpus_allowed_list")
            mems = _bits(first.mems_allowed_list, f"/proc/{first.pid}/status Mems_allowed_list")
    return cpus, mems


def _name_containers(
    containers: list[Any], exclusive: dict[tuple[str, str], int], root: str, shared: Any
) -> dict[str, str]:
    """Container ID -> name: the runtime's name; else the checkpoint entry of its pod with the same
    cpuset; else, when a pod has as many unmatched entries as unnamed containers that are not on its
    shared pool (``shared(uid)``), pair those in order; else ``<ID prefix>``."""
    names: dict[str, str] = {}
    taken: set[tuple[str, str]] = set()
    unnamed: dict[str, list[Any]] = {}
    for c in containers:
        if c.name:
            names[c.container_id] = c.name
            taken.add((c.pod_uid, c.name))
    for c in sorted(containers, key=lambda c: c.container_id):
        if c.name:
            continue
        actual, _ = _kernel_view(c, root)
        for (u, n), bits in sorted(exclusive.items()):
            if u == c.pod_uid and bits == actual and (u, n) not in taken:
                names[c.container_id] = n
                taken.add((u, n))
                break
        else:
            unnamed.setdefault(c.pod_uid, []).append(c)
    for uid, cs in unnamed.items():
        left = sorted(n for (u, n) in exclusive if u == uid and (u, n) not in taken)
        candidates = cs if len(left) == len(cs) else [c for c in cs if _kernel_view(c, root)[0] != shared(uid)]
        if left and len(left) == len(candidates):
            for c, n in zip(candidates, left, strict=True):
                names[c.container_id] = n
                taken.add((uid, n))
        for c in cs:
            names.setdefault(c.container_id, f"<{c.container_id[:12]}>")
    return names


def verify(cap: Capture) -> VerifyReport:
    """Compare the three views (see the module docstring); :class:`VerifyInputError` for unusable input."""
    if cap.manifest.get("cgroupLayoutError"):
        raise VerifyInputError(str(cap.manifest["cgroupLayoutError"]))
    topology = load_topology(cap)
    config = load_config(cap)
    gate = _gate(config)
    # read every format the files may be in (a kubelet that would refuse them is the topolet view's finding)
    cpu, mem = _load_states(cap, True)
    if cap.cgroups is None:
        why = cap.missing.get("cgroups", "not captured")
        raise VerifyInputError(f"{cap.source}: no kubepods cgroup in the capture ({why}): nothing to compare with")
    cs = cpu.state
    ms = mem.state if mem is not None else None
    diffs: list[Difference] = []
    notes: list[str] = []
    names_known = cap.cri is not None or any(c.name for c in cap.cgroups.containers)
    if cap.cgroups.containers and all(c.cpus is None and c.cpus_effective is None for c in cap.cgroups.containers):
        notes.append(
            f"no container cgroup under {cap.cgroups.root} has cpuset files (the cpuset controller is not enabled "
            "there): the kernel's view is the processes' Cpus_allowed_list / Mems_allowed_list"
        )
    if not names_known:
        notes.append(
            "the container runtime was not reached: containers are tied to checkpoint entries by pod UID and cpuset"
        )

    pod_label: dict[str, str] = {}
    for c in cap.cgroups.containers:
        if c.pod_name:
            pod_label[c.pod_uid] = f"{c.pod_namespace}/{c.pod_name}"

    def label(uid: str) -> str:
        return pod_label.get(uid, uid)

    # the exclusive slices of each pod and its shared pool
    exclusive: dict[tuple[str, str], int] = {}
    for uid, containers in cs.assignments.items():
        for name, bits in containers.items():
            exclusive[(uid, name)] = bits
    all_exclusive = 0
    for bits in exclusive.values():
        all_exclusive |= bits

    def expected_shared(uid: str) -> int:
        bubble = cs.pod_assignments.get(uid)
        if bubble is None:
            return cs.default_cpuset
        used = 0
        for (u, _), bits in exclusive.items():
            if u == uid:
                used |= bits
        return bubble & ~used

    # name cgroup containers without a runtime name: by their cpuset, then by elimination within the pod
    # how to name a container's cgroup in a message: its path, in the bundle's cgroups.json for a capture
    cg_root = cap.cgroups.root if cap.source.startswith("root:") else f"{cap.source}: cgroups.json: {cap.cgroups.root}"
    names = _name_containers(cap.cgroups.containers, exclusive, cg_root, expected_shared)
    views: list[ContainerView] = []
    for c in sorted(cap.cgroups.containers, key=lambda c: (c.pod_uid, names[c.container_id], c.container_id)):
        where = f"{cap.cgroups.root}/{c.path}"
        actual_cpus, actual_mems = _kernel_view(c, cg_root)
        name = names[c.container_id]
        key = (c.pod_uid, name)
        entry = exclusive.get(key)
        expected = entry if entry is not None else expected_shared(c.pod_uid)
        mem_blocks = ms.assignments.get(c.pod_uid, {}).get(name) if ms is not None else None
        expected_mems = _mem_nodes(mem_blocks) if mem_blocks else None
        procs = [p.to_dict() for p in c.procs]
        v = ContainerView(
            c.pod_uid, label(c.pod_uid), name, c.qos, entry, expected, actual_cpus, expected_mems, actual_mems, procs
        )
        if entry is not None and actual_cpus is not None:
            v.alignment = _alignment(topology, actual_cpus, actual_mems)
        views.append(v)
        pod = label(c.pod_uid)
        if actual_cpus is not None and actual_cpus != expected:
            if entry is not None:
                diffs.append(
                    Difference(
                        "cpuset-differs",
                        f"pod {pod} container {name}: cpuset.cpus is {format_bits(actual_cpus)}, the checkpoint "
                        f"gives it {format_bits(entry)} exclusively ({where})",
                        pod,
                        name,
                        format_bits(actual_cpus ^ entry),
                    )
                )
            else:
                pool = "the pod's shared pool" if c.pod_uid in cs.pod_assignments else "the shared pool (defaultCpuSet)"
                diffs.append(
                    Difference(
                        "shared-cpuset-differs",
                        f"pod {pod} container {name}: cpuset.cpus is {format_bits(actual_cpus)}, {pool} is "
                        f"{format_bits(expected)} ({where})",
                        pod,
                        name,
                        format_bits(actual_cpus ^ expected),
                    )
                )
        if expected_mems is not None and actual_mems is not None and actual_mems != expected_mems:
            diffs.append(
                Difference(
                    "mems-differs",
                    f"pod {pod} container {name}: cpuset.mems is {format_bits(actual_mems)}, the memory manager's "
                    f"checkpoint pins its memory to NUMA node(s) {format_bits(expected_mems)} ({where})",
                    pod,
                    name,
                )
            )
        for p in c.procs:
            if p.cpus_allowed_list is None:
                continue
            pc = _bits(p.cpus_allowed_list, f"/proc/{p.pid}/status Cpus_allowed_list")
            pm = _bits(p.mems_allowed_list, f"/proc/{p.pid}/status Mems_allowed_list")
            if actual_cpus is not None and pc != actual_cpus:
                diffs.append(
                    Difference(
                        "process-affinity-differs",
                        f"pod {pod} container {name}: process {p.pid} has Cpus_allowed_list {p.cpus_allowed_list}, "
                        f"its cgroup allows {format_bits(actual_cpus)}",
                        pod,
                        name,
                    )
                )
            if actual_mems is not None and pm is not None and pm != actual_mems:
                diffs.append(
                    Difference(
                        "process-affinity-differs",
                        f"pod {pod} container {name}: process {p.pid} has Mems_allowed_list {p.mems_allowed_list}, "
                        f"its cgroup allows {format_bits(actual_mems)}",
                        pod,
                        name,
                    )
                )

    # exclusive CPUs inside someone else's cpuset
    for (uid, name), bits in sorted(exclusive.items()):
        for v in views:
            if (v.pod_uid, v.name) == (uid, name) or v.cgroup_cpus is None:
                continue
            overlap = bits & v.cgroup_cpus
            if overlap:
                diffs.append(
                    Difference(
                        "exclusive-cpus-shared",
                        f"{_cpus_word(overlap)} {format_bits(overlap)} of pod {label(uid)} container {name} "
                        f"(exclusive in the checkpoint) {'is' if _cpus_word(overlap) == 'CPU' else 'are'} also in the "
                        f"cpuset of pod {v.pod} container {v.name}",
                        label(uid),
                        name,
                        format_bits(overlap),
                    )
                )
    leaked = cs.default_cpuset & all_exclusive
    if leaked:
        diffs.append(
            Difference(
                "exclusive-in-shared-pool",
                f"the checkpoint's defaultCpuSet {format_bits(cs.default_cpuset)} holds exclusive CPUs "
                f"{format_bits(leaked)}",
                cpus=format_bits(leaked),
            )
        )

    # entries of containers (and pods) that no longer exist
    live_pods = {c.pod_uid for c in cap.cgroups.containers} | {p.uid for p in cap.cgroups.pods}
    live = {(v.pod_uid, v.name) for v in views}
    ambiguous = {v.pod_uid for v in views if v.name.startswith("<")}  # pods with containers we could not name
    for (uid, name), bits in sorted(exclusive.items()):
        if (uid, name) not in live and (names_known or uid not in ambiguous):
            diffs.append(
                Difference(
                    "stale-entry",
                    f"the checkpoint gives CPUs {format_bits(bits)} to pod {label(uid)} container {name}, which has "
                    "no cgroup: the CPUs are leaked until the kubelet removes the stale state",
                    label(uid),
                    name,
                    format_bits(bits),
                )
            )
    for uid, bits in sorted(cs.pod_assignments.items()):
        if uid not in live_pods:
            diffs.append(
                Difference(
                    "stale-entry",
                    f"the checkpoint holds the bubble {format_bits(bits)} of pod {uid}, which has no cgroup",
                    uid,
                    cpus=format_bits(bits),
                )
            )

    # pod-level bubbles
    for uid, bubble in sorted(cs.pod_assignments.items()):
        for (u, name), bits in sorted(exclusive.items()):
            if u == uid and bits & ~bubble:
                diffs.append(
                    Difference(
                        "outside-bubble",
                        f"pod {label(uid)} container {name}: exclusive CPUs {format_bits(bits & ~bubble)} lie outside "
                        f"the pod's bubble {format_bits(bubble)} (re-allocated after a restart, the 1.36 bug)",
                        label(uid),
                        name,
                        format_bits(bits & ~bubble),
                    )
                )
    if ms is not None and gate:
        for uid in sorted(set(ms.pod_assignments) - set(cs.pod_assignments)):
            if uid in live_pods:
                diffs.append(
                    Difference(
                        "pod-bubble-missing",
                        f"pod {label(uid)} has a pod-level memory entry but no pod-level CPU entry (bubble): "
                        "lost at a kubelet restart (the 1.36 bug) or read by a kubelet that drops pod entries",
                        label(uid),
                    )
                )
        for uid in sorted(set(cs.pod_assignments) - set(ms.pod_assignments)):
            if uid in live_pods and ms.policy_name == "Static":
                diffs.append(
                    Difference(
                        "pod-bubble-missing",
                        f"pod {label(uid)} has a pod-level CPU bubble but no pod-level memory entry",
                        label(uid),
                    )
                )

    # PodResources vs the checkpoint
    if cap.podresources is not None and names_known:
        by_name = {(v.pod, v.name): v for v in views}
        for p in cap.podresources.get("pods") or []:
            for c in p.get("containers") or []:
                v = by_name.get((f"{p['namespace']}/{p['name']}", c["name"]))
                if v is None or v.checkpoint_cpus is None:
                    continue
                reported = 0
                for cpu_id in c.get("cpuIds") or []:
                    reported |= 1 << int(cpu_id)
                if reported != v.checkpoint_cpus:
                    diffs.append(
                        Difference(
                            "podresources-differs",
                            f"pod {v.pod} container {v.name}: the PodResources API reports CPUs "
                            f"{format_bits(reported) or '<none>'}, the checkpoint {format_bits(v.checkpoint_cpus)}",
                            v.pod,
                            v.name,
                        )
                    )

    view = _topolet_view(topology, config, cap)
    if view.get("restart") == "accepted" and config is not None:
        pinned = set(cs.assignments) | set(cs.pod_assignments)
        decisions, note = _topolet_decisions(cap, config, pinned)
        for v in views:
            v.topolet_cpus = decisions.get((v.pod_uid, v.name))
        if decisions:
            view["decisions"] = note
        elif pinned:
            notes.append(note)
    if view.get("restart") == "refused":
        diffs.append(
            Difference("kubelet-refuses", f"a kubelet restarted on these checkpoints refuses: {view['message']}")
        )
    return VerifyReport(
        source=cap.source,
        topology=topology.describe(),
        policy=cs.policy_name,
        checkpoint_version=cpu.version,
        memory_checkpoint_version=mem.version if mem is not None else None,
        default_cpuset=cs.default_cpuset,
        containers=views,
        differences=diffs,
        topolet=view,
        notes=notes,
    )
