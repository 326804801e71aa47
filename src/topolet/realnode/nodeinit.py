"""``topolet node init --from-capture BUNDLE``: a simulated node that is a copy of a captured real node.

The node directory gets the captured topology, the kubelet configuration and
the checkpoint files byte for byte, and the pods that hold state in them. A
checkpoint records assignments, not pod specs, so each pod is reconstructed:

* its name and namespace from the container runtime (CRI), else from the
  PodResources API (matched by the CPUs it reports), else ``captured-<uid>`` in
  ``default``;
* a container with exclusive CPUs requests that many CPUs; one on the shared
  pool requests ``100m``; memory is what the memory manager's blocks hold
  (``memory`` and ``hugepages-*``), else ``128Mi``; requests equal limits, so
  the pod is Guaranteed as the kubelet's pinning implies;
* a pod with a pod-level bubble gets pod-level resources of the bubble's size.

The node's kubelet then restarts on the captured checkpoints (the entries are
authoritative), so ``explain``, ``predict``, ``map`` and ``report`` see the real
node's free CPUs and memory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from topolet.io.checkpoint import CheckpointError, load_cpu_checkpoint, load_memory_checkpoint
from topolet.model.features import POD_LEVEL_RESOURCE_MANAGERS
from topolet.model.kubelet_config import KubeletConfig
from topolet.model.topology import Topology
from topolet.realnode.capture import CONFIG_MEMBER, CPU_STATE_MEMBER, MEMORY_STATE_MEMBER, Capture
from topolet.realnode.verify import VerifyInputError, load_config, load_topology

SHARED_CPU = "100m"
UNKNOWN_MEMORY = "128Mi"


@dataclass
class CapturedNode:
    topology: Topology
    config: KubeletConfig
    config_bytes: bytes
    cpu_bytes: bytes | None
    mem_bytes: bytes | None
    kubelet_version: str
    pods: list[dict[str, Any]] = field(default_factory=list)  # v1 Pod objects with metadata.uid
    warnings: list[str] = field(default_factory=list)


def _count(bits: int) -> int:
    return bin(bits).count("1")


def _blocks_total(blocks: list[Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    for b in blocks:
        out[b.type] = out.get(b.type, 0) + b.size
    return out


def _pod_object(uid: str, namespace: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": uid,
            "annotations": {"topolet.dev/reconstructed-from": "checkpoints"},
        },
        "spec": spec,
    }


def captured_node(cap: Capture, config_override: tuple[KubeletConfig, bytes] | None = None) -> CapturedNode:
    """Everything a node directory needs from a capture; :class:`VerifyInputError` for unusable input."""
    topology = load_topology(cap)
    if config_override is not None:
        config, config_bytes = config_override
    else:
        loaded = load_config(cap)
        data = cap.file(CONFIG_MEMBER)
        if loaded is None or data is None:
            why = cap.missing.get("kubeletConfig", "not captured")
            raise VerifyInputError(
                f"{cap.source}: no kubelet configuration in the capture ({why}); give one with --config"
            )
        config, config_bytes = loaded, data
    gate = config.feature_gates.enabled(POD_LEVEL_RESOURCE_MANAGERS)
    cpu_raw, mem_raw = cap.file(CPU_STATE_MEMBER), cap.file(MEMORY_STATE_MEMBER)
    cs = ms = None
    version = "1.36"
    try:
        if cpu_raw is not None:
            cpu = load_cpu_checkpoint(cpu_raw, cap.where(CPU_STATE_MEMBER), pod_level_resource_managers=gate)
            cs = cpu.state
            version = "1.37" if cpu.version == 4 else version
        if mem_raw is not None:
            mem = load_memory_checkpoint(mem_raw, cap.where(MEMORY_STATE_MEMBER), pod_level_resource_managers=gate)
            ms = mem.state
            version = "1.37" if mem.version == 3 else version
    except CheckpointError as e:
        raise VerifyInputError(f"{e.source}: {e.cause}") from None
    out = CapturedNode(topology, config, config_bytes, cpu_raw, mem_raw, version)
    if cpu_raw is None and mem_raw is None:
        out.warnings.append("the capture has no checkpoint files: the node starts with fresh state and no pods")
        return out

    # names from the runtime (through the cgroup tree) and the PodResources API
    names: dict[str, tuple[str, str]] = {}
    containers_of: dict[str, set[str]] = {}
    cgroup_qos: dict[str, str] = {}  # pods the kernel runs, with the QoS of their cgroup
    unnamed: dict[str, int] = {}
    if cap.cgroups is not None:
        for c in cap.cgroups.containers:
            cgroup_qos[c.pod_uid] = c.qos
            if c.pod_name:
                names[c.pod_uid] = (c.pod_namespace, c.pod_name)
            if c.name:
                containers_of.setdefault(c.pod_uid, set()).add(c.name)
            else:
                unnamed[c.pod_uid] = unnamed.get(c.pod_uid, 0) + 1
    uids: set[str] = set()
    if cs is not None:
        uids |= set(cs.assignments) | set(cs.pod_assignments)
    if ms is not None:
        uids |= set(ms.assignments) | set(ms.pod_assignments)
    if cap.podresources is not None and cs is not None:
        for p in cap.podresources.get("pods") or []:
            for c in p.get("containers") or []:
                bits = 0
                for cpu_id in c.get("cpuIds") or []:
                    bits |= 1 << int(cpu_id)
                if not bits:
                    continue
                for uid, cmap in cs.assignments.items():
                    if uid not in names and cmap.get(c["name"]) == bits:
                        names[uid] = (p["namespace"], p["name"])
    # pods that hold no state (Burstable / BestEffort, or shared-pool-only) but run: they count on the node too
    uids |= {u for u, q in cgroup_qos.items() if q in ("Burstable", "BestEffort")}
    for uid in sorted(uids):
        fallback = "captured-" + (re.sub(r"[^a-z0-9]+", "-", uid.lower()).strip("-")[:40] or "pod")
        ns, name = names.get(uid, ("default", fallback))
        cpu_entries = cs.assignments.get(uid, {}) if cs is not None else {}
        mem_entries = ms.assignments.get(uid, {}) if ms is not None else {}
        cnames = sorted(set(cpu_entries) | set(mem_entries) | containers_of.get(uid, set()))
        if not cnames:
            cnames = ["main"]
        containers = []
        pinned = bool(cpu_entries or mem_entries) or (cs is not None and uid in cs.pod_assignments)
        if not pinned and cgroup_qos.get(uid) in ("Burstable", "BestEffort"):
            extra = [f"container-{k}" for k in range(unnamed.get(uid, 0))] if cap.cgroups is not None else []
            for cn in sorted(set(containers_of.get(uid, set())) | set(extra)) or ["main"]:
                r = {"requests": {"cpu": SHARED_CPU}} if cgroup_qos[uid] == "Burstable" else {}
                containers.append({"name": cn, "image": "captured", "resources": r})
            out.pods.append(_pod_object(uid, *names.get(uid, ("default", fallback)), {"containers": containers}))
            if uid not in names:
                out.warnings.append(f"pod {uid}: its name is unknown (no runtime answer names it): called {fallback}")
            continue
        for cn in cnames:
            res: dict[str, str] = {}
            res["cpu"] = str(_count(cpu_entries[cn])) if cn in cpu_entries else SHARED_CPU
            totals = _blocks_total(mem_entries.get(cn, []))
            res["memory"] = str(totals.pop("memory")) if "memory" in totals else UNKNOWN_MEMORY
            for rname, size in totals.items():
                res[rname] = str(size)
            containers.append(
                {"name": cn, "image": "captured", "resources": {"requests": dict(res), "limits": dict(res)}}
            )
        spec: dict[str, Any] = {"containers": containers}
        bubble = cs.pod_assignments.get(uid) if cs is not None else None
        if bubble is not None:
            pod_res: dict[str, str] = {"cpu": str(_count(bubble))}
            pod_blocks = ms.pod_assignments.get(uid) if ms is not None else None
            totals = _blocks_total(pod_blocks or [])
            mem_total = totals.get("memory") or sum(
                int(c["resources"]["requests"]["memory"]) if c["resources"]["requests"]["memory"].isdigit() else 0
                for c in containers
            )
            if mem_total:
                pod_res["memory"] = str(mem_total)
                spec["resources"] = {"requests": dict(pod_res), "limits": dict(pod_res)}
        out.pods.append(_pod_object(uid, ns, name, spec))
        if uid not in names:
            out.warnings.append(
                f"pod {uid}: its name is unknown (no runtime or PodResources answer names it): called {name}"
            )
    return out


def rebuild_pods(cn: CapturedNode, cap: Capture, created: str = "") -> list[Any]:
    """The reconstructed pods as the API server stores them (StoredPods, admitted, in UID order)."""
    from dataclasses import replace

    from topolet.model.manifest import ManifestError, admit_to_api, pods_from_object
    from topolet.model.quantity import QuantityError
    from topolet.nodedir.pods import StoredPod

    gates = cn.config.feature_gates
    stored: list[StoredPod] = []
    for i, obj in enumerate(cn.pods, start=1):
        where = f"{cap.source}: pod {obj['metadata']['uid']}"
        try:
            pods = pods_from_object(obj, where, gates)
        except (ManifestError, QuantityError) as e:
            raise VerifyInputError(f"{where}: cannot rebuild the pod: {e}") from None
        pod, invalid = admit_to_api(pods[0], gates)
        if pod is None:
            raise VerifyInputError(f"{where}: the rebuilt pod is not valid: {invalid}")
        pod = replace(pod, uid=obj["metadata"]["uid"])
        stored.append(StoredPod(pod, i, created, True, source=f"{cap.source} (reconstructed from the checkpoints)"))
    return stored


def init_node_from_capture(
    directory: str | None,
    cap: Capture,
    *,
    config_override: tuple[KubeletConfig, bytes, str] | None = None,
    name: str | None = None,
    force: bool = False,
) -> tuple[Any, list[str]]:
    """Create the node directory (see the module docstring); returns (NodeDir, warnings).

    The node's kubelet is started on the captured checkpoints with the pods
    before anything is written: a capture it refuses leaves no directory behind.
    """
    from topolet.io.statefile import DirLock, StateFileError, commit_files
    from topolet.nodedir import store
    from topolet.nodedir.pods import now_rfc3339
    from topolet.nodedir.podtable import PODS_DIR, PodTable, pod_file_name

    cn = captured_node(cap, None if config_override is None else config_override[:2])
    d = store.resolve_node_dir(directory)
    created = now_rfc3339()
    stored = rebuild_pods(cn, cap, created)
    warnings = list(cn.warnings)
    try:
        node = store.start_kubelet(
            d, cn.topology, cn.config, cn.cpu_bytes, cn.mem_bytes, kubelet_version=cn.kubelet_version
        )
    except store.NodeStartError as e:
        raise VerifyInputError(
            f"{cap.source}: the kubelet refuses to start on the captured checkpoints: {e.message}"
        ) from None
    stale = store.register_pods(node, stored)
    if stale:
        warnings.append(f"state of pod UID(s) {', '.join(stale)} has no pod: removed as removeStaleState does")
    if d.exists() and not d.is_dir():
        raise store.NodeDirError(f"{d}: exists and is not a directory")
    if d.is_dir() and not store.is_node_dir(d):
        others = store._foreign_entries(d)
        if others:
            raise store.NodeDirError(
                f"{d} is not empty and is not a topolet node directory (it holds {', '.join(others[:5])})"
                "; choose a new or empty directory"
            )
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise store.NodeDirError(f"{d}: cannot create the node directory: {e.strerror}") from e
    meta = store.NodeMeta(
        name=name or cap.manifest.get("hostname") or store.DEFAULT_NODE_NAME,
        created=created,
        next_sequence=len(stored) + 1,
        topology_source=f"capture:{cap.source}",
        config_source=config_override[2] if config_override is not None else f"capture:{cap.source}",
        kubelet_version=cn.kubelet_version,
    )
    cpu, mem = store.node_checkpoint_bytes(node, cn.kubelet_version)
    table = PodTable(d, [])
    for sp in stored:
        table[sp.key] = sp
    namespaces = {n: created for n in sorted({sp.pod.namespace for sp in stored} - set(store.SYSTEM_NAMESPACES))}
    files: dict[str, bytes | None] = {
        store.TOPOLOGY_FILE: store.topology_yaml(cn.topology, f"capture {cap.source}"),
        store.CONFIG_FILE: cn.config_bytes,
        # the captured files byte for byte; the kubelet's own rewrite where stale state was dropped
        store.CPU_STATE_FILE: cn.cpu_bytes if cn.cpu_bytes is not None and not stale else cpu,
        store.MEMORY_STATE_FILE: cn.mem_bytes if cn.mem_bytes is not None and not stale else mem,
        store.PODS_FILE: store._index_bytes(table.index_doc()),
        store.OBJECTS_FILE: store.objects_bytes(namespaces, {}),
        store.NODE_FILE: store._json_bytes(meta.to_dict()),
    }
    for row in table.rows():
        files[pod_file_name(row.uid)] = store._json_bytes(table.entry_for(row.key))
    try:
        with DirLock(d, exclusive=True):
            if store.is_node_dir(d):
                if not force:
                    raise store.NodeDirError(
                        f"a topolet node already exists in {d}; use --force to replace it (its pods are discarded)"
                    )
                pods_dir = d / PODS_DIR
                if pods_dir.is_dir():  # the replaced node's pods
                    for old in pods_dir.iterdir():
                        files.setdefault(f"{PODS_DIR}/{old.name}", None)
            commit_files(d, files)
    except StateFileError as e:
        raise store.NodeDirError(str(e)) from e
    nd = store.load_node_dir_readonly(d)
    return nd, warnings
