"""Text for the node workflow: kubectl-style tables and ``describe`` output.

Layout follows kubectl: ``get`` tables are aligned like its tabwriter
(min width 6, padding 3), ``describe`` like its describer (padding 2, two
spaces per level). The ``describe`` functions return rich renderables (one
per section) so that other views can append their own (for example a drawn
map of the node after :func:`describe_node_renderables`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from topolet.engine.result import EXCLUSIVE, NODE_SHARED, POD_SHARED, ContainerAllocation
from topolet.model.cpuset import format_bits
from topolet.model.features import POD_LEVEL_RESOURCE_MANAGERS, POD_LEVEL_RESOURCES
from topolet.model.pod import QOS_GUARANTEED, Pod
from topolet.model.quantity import Quantity, format_bytes
from topolet.nodedir.pods import StoredPod, parse_rfc3339, stored_pod_object
from topolet.nodedir.store import NodeDir

if TYPE_CHECKING:  # rich, the CPU policy and the quota module are imported where used (start-up stays cheap)
    from rich.console import RenderableType

    from topolet.io.quota import ResourceQuota

KUBELET_VERSION = "v1.36.2"
TOPOLET_CONDITION = "PodLevelResourcesAllocated"
TOPOLET_CONDITION_NOTE = "(topolet's own condition: a real kubelet sets no such condition)"


# --------------------------------------------------------------------------- Go text/tabwriter


def tabwrite(text: str, *, minwidth: int = 0, padding: int = 2) -> str:
    """Align tab-separated cells as Go's ``text/tabwriter`` does (pad char ' ', left aligned)."""
    lines = [ln.split("\t") for ln in text.split("\n")]
    out: list[str] = []
    widths: list[int] = []

    def write_lines(line0: int, line1: int) -> None:
        for i in range(line0, line1):
            cells = lines[i]
            parts: list[str] = []
            for j, c in enumerate(cells):
                parts.append(c)
                if j < len(widths):
                    parts.append(" " * max(0, widths[j] - len(c)))
            out.append("".join(parts))

    def fmt(line0: int, line1: int) -> None:
        column = len(widths)
        this = line0
        while this < line1:
            cells = lines[this]
            if column >= len(cells) - 1:
                this += 1
                continue
            write_lines(line0, this)
            line0 = this
            width = minwidth
            while this < line1:
                cells = lines[this]
                if column >= len(cells) - 1:
                    break
                w = len(cells[column]) + padding
                width = max(width, w)
                this += 1
            widths.append(width)
            fmt(line0, this)
            widths.pop()
            line0 = this
            this += 1
        write_lines(line0, line1)

    fmt(0, len(lines))
    return "\n".join(out)


def table(rows: Sequence[Sequence[str]]) -> str:
    """A kubectl ``get`` table (tabwriter min width 6, padding 3)."""
    return tabwrite("\n".join("\t".join(r) for r in rows), minwidth=6, padding=3)


# --------------------------------------------------------------------------- times


def human_duration(seconds: float) -> str:
    """``duration.HumanDuration`` (kubectl's AGE)."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 60 * 2:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        sec = s % 60
        return f"{minutes}m" if sec == 0 else f"{minutes}m{sec}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        m = minutes % 60
        return f"{hours}h" if m == 0 else f"{hours}h{m}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        h = hours % 24
        return f"{hours // 24}d" if h == 0 else f"{hours // 24}d{h}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if dy == 0 else f"{hours // 24 // 365}y{dy}d"
    return f"{hours // 24 // 365}y"


def age(ts: str) -> str:
    t = parse_rfc3339(ts)
    if t is None:
        return "<unknown>"
    return human_duration((datetime.now(UTC) - t).total_seconds())


def rfc1123z(ts: str) -> str:
    t = parse_rfc3339(ts)
    return t.strftime("%a, %d %b %Y %H:%M:%S +0000") if t else "<unknown>"


# --------------------------------------------------------------------------- pod views


@dataclass(slots=True)
class PodView:
    """What the node shows about one pod."""

    sp: StoredPod
    running: bool  # admitted and known to the running kubelet
    containers: list[ContainerAllocation]
    pod_cpus: int  # the pod's CPU bubble (0: none)
    pod_memory: list[Any]  # pod-level memory blocks
    pod_level_active: bool
    pod_level_why: str  # why the pod-level resource managers did (not) handle the pod

    @property
    def pod(self) -> Pod:
        return self.sp.pod

    def exclusive_cpus(self) -> int:
        b = 0
        for c in self.containers:
            if c.cpu_mode == EXCLUSIVE and c.kind != "init":
                b |= c.cpus
        return b

    def held_cpus(self) -> int:
        """CPUs the pod holds (its bubble, or its containers' exclusive CPUs)."""
        b = self.pod_cpus
        for c in self.containers:
            if c.cpu_mode == EXCLUSIVE:
                b |= c.cpus
        return b

    def numa_nodes(self, nd: NodeDir) -> list[int]:
        nodes: set[int] = set()
        held = self.held_cpus()
        if held:
            nodes |= nd.topology.numa_of_bits(held)
        for c in self.containers:
            for b in c.memory:
                nodes.update(b.numa_affinity)
        for b in self.pod_memory:
            nodes.update(b.numa_affinity)
        return sorted(nodes)

    def pod_shared_pool(self) -> int:
        b = 0
        for c in self.containers:
            if c.cpu_mode == POD_SHARED:
                b |= c.cpus
        return b


def _pod_level_reason(nd: NodeDir, pod: Pod) -> tuple[bool, str]:
    """Whether the pod-level resource managers handle the pod, and the one condition that decides it.

    They do only for a Guaranteed pod with ``spec.resources``, both feature gates on, and the topology
    manager at scope ``pod`` under a policy other than ``none`` (policy ``none`` has no pod scope).
    """
    gates = nd.node.gates if nd.node is not None else nd.config.feature_gates
    cfg = nd.config
    if not pod.has_pod_level_resources():
        return False, "the pod has no pod-level resources (spec.resources)"
    if not gates.enabled(POD_LEVEL_RESOURCES):
        return False, "the PodLevelResources feature gate is off"
    if not gates.enabled(POD_LEVEL_RESOURCE_MANAGERS):
        return False, "the PodLevelResourceManagers feature gate is off"
    if cfg.topology_manager_policy == "none":
        return False, (
            "topologyManagerPolicy is none (the pod-level managers need topologyManagerScope pod "
            "and a topology policy other than none)"
        )
    if cfg.topology_manager_scope != "pod":
        return False, f"topologyManagerScope is {cfg.topology_manager_scope}, not pod"
    if pod.qos_class != QOS_GUARANTEED:
        return False, f"the pod's QoS class is {pod.qos_class}, not Guaranteed"
    return True, (
        f"topologyManagerScope pod, topologyManagerPolicy {cfg.topology_manager_policy}, "
        "PodLevelResources and PodLevelResourceManagers on, Guaranteed pod with spec.resources"
    )


def _nothing_pinned_why(nd: NodeDir, pod: Pod) -> str:
    """Why the pod-level managers pinned neither CPUs nor memory for a pod they handle."""
    cfg = nd.config
    why: list[str] = []
    if cfg.cpu_manager_policy != "static":
        why.append(f"cpuManagerPolicy {cfg.cpu_manager_policy} pins no CPUs")
    else:
        q = pod.resources.requests.get("cpu") if pod.resources is not None else None
        if q is None:
            why.append("the pod has no pod-level cpu budget")
        elif q.as_int64() is None:
            why.append(f"non-integer pod CPU budget {q}: no CPU pinning")
    if cfg.memory_manager_policy != "Static":
        why.append(f"memoryManagerPolicy {cfg.memory_manager_policy} pins no memory")
    return "; ".join(why) or "nothing was allocated"


def pod_view(nd: NodeDir, sp: StoredPod) -> PodView:
    node = nd.node
    rec = node.get(sp.key) if node is not None and sp.admitted else None
    active, why = _pod_level_reason(nd, sp.pod)
    if rec is None:
        return PodView(sp, False, [], 0, [], False, why)
    cs = node.cpu_manager.state if node else None
    ms = node.memory_manager.state if node else None
    bubble = cs.pod_assignments.get(sp.pod.uid, 0) if cs else 0
    pmem = list(ms.pod_assignments.get(sp.pod.uid, [])) if ms else []
    return PodView(sp, True, node.container_allocations(sp.pod) if node else [], bubble, pmem, active, why)


def ready_count(pod: Pod) -> int:
    return len(pod.containers) + sum(1 for c in pod.init_containers if c.is_restartable)


def pod_status_text(sp: StoredPod) -> str:
    return sp.phase if sp.admitted else (sp.reason or sp.phase)


# --------------------------------------------------------------------------- get


def fitted_table(rows: Sequence[Sequence[str]], priority: dict[str, int], width: int | None = -1) -> str:
    """A kubectl ``get`` table fitted to ``width`` (-1: the terminal's, None: no limit): at a narrow width the
    columns of highest ``priority`` number are left out first, with a note; cells never wrap."""
    from topolet.render.width import Column, fit_plain_table, output_width

    if width == -1:
        width = output_width()
    head, body = rows[0], rows[1:]
    cols = [Column(h, priority=priority.get(h, 0)) for h in head]
    fitted = fit_plain_table(cols, body, width, padding=3)
    text = table([fitted.headers, *fitted.rows])
    note = fitted.note(width)
    return f"{text}\n{note}" if note else text


_VALUE_COLUMN = re.compile(r"^(\s*[^\s:][^:]*:\s{2,}|\s*(?:\S+ {2,}){2,})")


def fit_lines(text: str, width: int | None = -1) -> str:
    """``describe`` text with every line longer than ``width`` (-1: the terminal's; None: no limit) wrapped at
    spaces, the continuation under the value column ("Key:   value ...") or the last table column."""
    from topolet.render.width import output_width, wrap_words

    if width == -1:
        width = output_width()
    if width is None:
        return text
    out: list[str] = []
    for line in text.split("\n"):
        if len(line) <= width:
            out.append(line)
            continue
        m = _VALUE_COLUMN.match(line)
        hang = len(m.group(1)) if m else None
        if hang is not None and hang > width // 2:
            hang = None
        out.extend(wrap_words(line, width, hang))
    return "\n".join(out)


_POD_PRIORITY = {"NODE": 5, "RESTARTS": 4, "READY": 3, "AGE": 2, "NAMESPACE": 2, "QOS": 1, "NUMA": 1}
_NODE_PRIORITY = {"ROLES": 4, "VERSION": 4, "AGE": 3, "MEMORY": 2, "NUMA": 2, "MEMORY-POLICY": 1}


def pods_table(
    nd: NodeDir, pods: Iterable[StoredPod], *, wide: bool, all_namespaces: bool, width: int | None = -1
) -> str:
    head = ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    if all_namespaces:
        head.insert(0, "NAMESPACE")
    if wide:
        head += ["QOS", "CPUS", "NUMA", "NODE"]
    rows = [head]
    for sp in pods:
        n = ready_count(sp.pod)
        row = [sp.pod.name, f"{n if sp.admitted else 0}/{n}", pod_status_text(sp), "0", age(sp.created)]
        if all_namespaces:
            row.insert(0, sp.pod.namespace)
        if wide:
            v = pod_view(nd, sp)
            held = v.held_cpus()
            numa = v.numa_nodes(nd)
            row += [
                sp.pod.qos_class or "<none>",
                format_bits(held) if held else "<none>",
                ",".join(map(str, numa)) if numa else "<none>",
                nd.name,
            ]
        rows.append(row)
    return fitted_table(rows, _POD_PRIORITY, width)


def nodes_table(nd: NodeDir, *, wide: bool, width: int | None = -1) -> str:
    head = ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    if wide:
        head += ["CPUS", "MEMORY", "NUMA", "CPU-POLICY", "MEMORY-POLICY", "TOPOLOGY-POLICY", "SCOPE"]
    t = nd.topology
    row = [nd.name, "Ready" if nd.node is not None else "NotReady", "<none>", age(nd.meta.created), KUBELET_VERSION]
    if wide:
        c = nd.config
        row += [
            str(t.num_cpus),
            format_bytes(sum(n.memory for n in t.numa_nodes.values())),
            str(len(t.numa_ids)),
            c.cpu_manager_policy,
            c.memory_manager_policy,
            c.topology_manager_policy,
            c.topology_manager_scope,
        ]
    return fitted_table([head, row], _NODE_PRIORITY, width)


def quota_used_for(nd: NodeDir, q: ResourceQuota) -> dict[str, Quantity]:
    from topolet.io.quota import quota_used

    plr = (nd.node.gates if nd.node is not None else nd.config.feature_gates).enabled(POD_LEVEL_RESOURCES)
    return quota_used(q, [(sp.pod, not sp.admitted) for sp in nd.pods.values()], plr)


def quotas_table(nd: NodeDir, quotas: Iterable[ResourceQuota], *, all_namespaces: bool) -> str:
    head = ["NAME", "AGE", "REQUEST", "LIMIT"]
    if all_namespaces:
        head.insert(0, "NAMESPACE")
    rows = [head]
    for q in quotas:
        used = quota_used_for(nd, q)
        req, lim = [], []
        for k in sorted(q.hard):
            cell = f"{k}: {used.get(k, Quantity.of(0))}/{q.hard[k]}"
            (lim if k.startswith("limits.") else req).append(cell)
        row = [q.name, age(q.created), ", ".join(req), ", ".join(lim)]
        if all_namespaces:
            row.insert(0, q.namespace)
        rows.append(row)
    return table(rows)


def namespaces_table(nd: NodeDir) -> str:
    rows = [["NAME", "STATUS", "AGE"]]
    names = {n: nd.meta.created for n in ("default", "kube-node-lease", "kube-public", "kube-system")}
    names.update(nd.namespaces)
    for n in sorted(names):
        rows.append([n, "Active", age(names[n])])
    return table(rows)


# --------------------------------------------------------------------------- objects (-o json|yaml)


def _block_dict(b: Any) -> dict[str, Any]:
    return {"numaAffinity": list(b.numa_affinity), "type": b.type, "size": format_bytes(b.size)}


def pod_conditions(nd: NodeDir, v: PodView) -> list[dict[str, str]]:
    sp = v.sp
    t = sp.created
    conds: list[dict[str, str]] = []
    if sp.admitted:
        for c in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"):
            conds.append({"type": c, "status": "True", "lastTransitionTime": t})
    else:
        conds.append({"type": "PodScheduled", "status": "True", "lastTransitionTime": t})
    tc = topolet_condition(nd, v)
    if tc is not None:
        conds.append(tc)
    return conds


def topolet_condition(nd: NodeDir, v: PodView) -> dict[str, str] | None:
    """topolet's own ``PodLevelResourcesAllocated`` condition (not a kubelet condition) for pods with
    pod-level resources."""
    pod = v.pod
    if not pod.has_pod_level_resources():
        return None
    if not v.sp.admitted:
        status, reason, msg = "False", "Rejected", f"the kubelet rejected the pod: {v.sp.reason}"
    elif v.pod_level_active and (v.pod_cpus or v.pod_memory):
        where = []
        if v.pod_cpus:
            where.append(f"CPUs {format_bits(v.pod_cpus)}")
        if v.pod_memory:
            where.append("memory " + ", ".join(_block_text(b) for b in v.pod_memory))
        status, reason, msg = "True", "PodLevelResourceManagers", "pod budget allocated: " + "; ".join(where)
    elif v.pod_level_active:
        status, reason = "False", "NothingPinned"
        msg = f"the pod-level resource managers pinned nothing: {_nothing_pinned_why(nd, pod)}"
    else:
        status, reason, msg = "False", "NotApplicable", f"pod-level resource managers not used: {v.pod_level_why}"
    return {
        "type": TOPOLET_CONDITION,
        "status": status,
        "reason": reason,
        "message": f"{msg} {TOPOLET_CONDITION_NOTE}",
    }


def pod_object(nd: NodeDir, sp: StoredPod) -> dict[str, Any]:
    """The pod as ``kubectl get -o yaml`` would show it, plus a ``topolet`` section with the assignments."""
    v = pod_view(nd, sp)
    obj = stored_pod_object(sp)
    obj["spec"]["nodeName"] = nd.name
    status = obj["status"]
    status["conditions"] = pod_conditions(nd, v)
    if sp.admitted:
        status["startTime"] = sp.created
        status["containerStatuses"] = [
            {
                "name": c.name,
                "image": c.image,
                "ready": True,
                "restartCount": 0,
                "started": True,
                "state": {"running": {"startedAt": sp.created}},
            }
            for c in sp.pod.containers
        ]
    top: dict[str, Any] = {
        "note": "not part of the Kubernetes Pod object: what topolet's simulated kubelet assigned",
        "podLevelResourceManagers": {"active": v.pod_level_active, "why": v.pod_level_why},
    }
    if v.running:
        top["podCpus"] = format_bits(v.pod_cpus)
        top["podMemory"] = [_block_dict(b) for b in v.pod_memory]
        top["containers"] = [
            {
                "name": c.name,
                "kind": c.kind,
                "cpuMode": c.cpu_mode,
                "cpusAllowedList": c.cpus_list,
                "memsAllowedList": c.mems_list,
                "memory": [_block_dict(b) for b in c.memory],
            }
            for c in v.containers
        ]
    obj["topolet"] = top
    return obj


def node_object(nd: NodeDir) -> dict[str, Any]:
    cap, alloc, _ = capacity_lists(nd)
    t = nd.topology
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": nd.name,
            "creationTimestamp": nd.meta.created,
            "labels": {"kubernetes.io/hostname": nd.name},
        },
        "status": {
            "capacity": {k: str(v) for k, v in cap.items()},
            "allocatable": {k: str(v) for k, v in alloc.items()},
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True" if nd.node is not None else "False",
                    **({"message": nd.start_error.message} if nd.start_error is not None else {}),
                }
            ],
            "nodeInfo": {"kubeletVersion": KUBELET_VERSION},
        },
        "topolet": {
            "directory": str(nd.path),
            "topology": {"source": nd.meta.topology_source, "summary": t.describe()},
            "kubeletConfig": nd.meta.config_source,
        },
    }


def quota_object(nd: NodeDir, q: ResourceQuota) -> dict[str, Any]:
    from topolet.io.quota import quota_to_object

    return quota_to_object(q, quota_used_for(nd, q))


# --------------------------------------------------------------------------- describe helpers


def _block_text(b: Any) -> str:
    nodes = ",".join(str(n) for n in b.numa_affinity)
    return f"{b.type} {format_bytes(b.size)} on NUMA {nodes}"


def _count(bits: int) -> str:
    n = bits.bit_count()
    return f"{n} CPU" if n == 1 else f"{n} CPUs"


def _cpus(bits: int) -> str:
    return format_bits(bits) if bits else "<none>"


class _W:
    """kubectl's PrefixWriter: two spaces per level, then tab-separated cells."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def w(self, level: int, text: str) -> None:
        self.lines.append("  " * level + text)

    def text(self) -> str:
        return tabwrite("\n".join(self.lines), padding=2)


def _resources(w: _W, level: int, limits: dict[str, Quantity], requests: dict[str, Quantity]) -> None:
    if limits:
        w.w(level, "Limits:")
        for k in sorted(limits):
            w.w(level + 1, f"{k}:\t{limits[k]}")
    if requests:
        w.w(level, "Requests:")
        for k in sorted(requests):
            w.w(level + 1, f"{k}:\t{requests[k]}")


def _labels(w: _W, title: str, labels: dict[str, str]) -> None:
    if not labels:
        w.w(0, f"{title}:\t<none>")
        return
    for i, k in enumerate(sorted(labels)):
        w.w(0, f"{title + ':' if i == 0 else ''}\t{k}={labels[k]}")


_MODE_TEXT = {
    EXCLUSIVE: "exclusive",
    POD_SHARED: "pod-shared (the pod's shared pool)",
    NODE_SHARED: "node-shared (the node's shared pool)",
}


# --------------------------------------------------------------------------- describe pod


def describe_pod_renderables(nd: NodeDir, sp: StoredPod) -> list[RenderableType]:
    """``describe pod``: kubectl's layout plus what the resource managers assigned (one renderable per section)."""
    from rich.text import Text

    v = pod_view(nd, sp)
    pod = sp.pod
    w = _W()
    w.w(0, f"Name:\t{pod.name}")
    w.w(0, f"Namespace:\t{pod.namespace}")
    w.w(0, "Priority:\t0")
    w.w(0, "Service Account:\tdefault")
    w.w(0, f"Node:\t{nd.name}/")
    if sp.admitted:
        w.w(0, f"Start Time:\t{rfc1123z(sp.created)}")
    _labels(w, "Labels", pod.labels)
    w.w(0, "Annotations:\t<none>")
    w.w(0, f"Status:\t{sp.phase}")
    if not sp.admitted:
        w.w(0, f"Reason:\t{sp.reason}")
        w.w(0, f"Message:\t{sp.status_message}")
    w.w(0, "IP:\t")
    w.w(0, "IPs:\t<none>")
    if pod.owner:
        w.w(0, f"Controlled By:\t{pod.owner}")
    if pod.resources is not None and pod.resources.is_set():
        w.w(0, "Resources:")
        _resources(w, 1, pod.resources.limits, pod.resources.requests)
    allocs = {c.name: c for c in v.containers}
    for title, containers in (("Init Containers", pod.init_containers), ("Containers", pod.containers)):
        if title == "Init Containers" and not containers:
            continue
        w.w(0, f"{title}:")
        for c in containers:
            w.w(1, f"{c.name}:")
            w.w(2, f"Image:\t{c.image or '<none>'}")
            if v.running:
                if c in pod.init_containers and not c.is_restartable:
                    w.w(2, "State:\tTerminated")
                    w.w(3, "Reason:\tCompleted")
                    w.w(3, "Exit Code:\t0")
                    w.w(2, "Ready:\tTrue")
                else:
                    w.w(2, "State:\tRunning")
                    w.w(3, f"Started:\t{rfc1123z(sp.created)}")
                    w.w(2, "Ready:\tTrue")
                w.w(2, "Restart Count:\t0")
            _resources(w, 2, c.resources.limits, c.resources.requests)
            a = allocs.get(c.name)
            if a is not None:
                mode = _MODE_TEXT.get(a.cpu_mode, a.cpu_mode)
                if a.kind == "init":
                    mode += " (while it ran; later containers may reuse them)"
                w.w(2, f"Cpus_allowed_list:\t{a.cpus_list}")
                w.w(2, f"Mems_allowed_list:\t{a.mems_list}")
                w.w(2, f"CPU Assignment:\t{mode}, {_count(a.cpus)}")
                if a.memory:
                    w.w(2, f"Memory Blocks:\t{'; '.join(_block_text(b) for b in a.memory)}")
                else:
                    w.w(2, "Memory Blocks:\t<none> (not pinned by the memory manager)")
    conds = pod_conditions(nd, v)
    w.w(0, "Conditions:")
    w.w(1, "Type\tStatus")
    for cd in conds:
        note = f" {TOPOLET_CONDITION_NOTE}" if cd["type"] == TOPOLET_CONDITION else ""
        w.w(1, f"{cd['type']} \t{cd['status']} {note}")
    w.w(0, f"QoS Class:\t{pod.qos_class}")
    w.w(0, "Node-Selectors:\t<none>")
    w.w(0, "Tolerations:\t<none>")
    sections: list[RenderableType] = [Text(fit_lines(w.text()))]
    sections.append(Text(fit_lines(_pod_managers_section(nd, v))))
    sections.append(Text(fit_lines(_events_section(sp))))
    return sections


def _pod_managers_section(nd: NodeDir, v: PodView) -> str:
    w = _W()
    w.w(0, "Resource Managers (topolet):")
    if v.sp.restart_note:
        w.w(1, f"Kubelet Restart:\t{v.sp.restart_note}")
    if not v.sp.admitted:
        w.w(1, f"Assignment:\t<none>: the kubelet rejected the pod ({v.sp.reason}); it holds no CPUs or memory")
        return w.text()
    if not v.running:
        w.w(1, "Assignment:\t<unknown>: the kubelet is not running on this node")
        return w.text()
    pod = v.pod
    w.w(1, f"Pod-Level Managers:\t{'active' if v.pod_level_active else 'not used'}: {v.pod_level_why}")
    budget = 0
    if v.pod_level_active and pod.resources is not None:
        q = pod.resources.requests.get("cpu")
        budget = (q.as_int64() or 0) if q is not None else 0
    if v.pod_level_active:
        note = "" if budget else " is not an integer: no CPU pinning"
        w.w(1, f"Pod CPU Budget:\t{budget} (the pod-level cpu request{note})")
        w.w(1, f"Pod CPUs (bubble):\t{_cpus(v.pod_cpus)}{f' ({_count(v.pod_cpus)})' if v.pod_cpus else ''}")
        excl = [a for a in v.containers if a.cpu_mode == EXCLUSIVE and a.kind != "init"]
        for a in excl:
            w.w(1, f"Exclusive Slice:\t{a.name}: {a.cpus_list} ({_count(a.cpus)})")
        shared = [a.name for a in v.containers if a.cpu_mode == POD_SHARED]
        pool = v.pod_shared_pool()
        if shared:
            w.w(1, f"Pod Shared Pool:\t{_cpus(pool)} ({_count(pool)}; used by {', '.join(shared)})")
        else:
            w.w(1, "Pod Shared Pool:\t<none> (no container runs in it)")
        if v.pod_memory:
            w.w(1, f"Pod Memory:\t{'; '.join(_block_text(b) for b in v.pod_memory)}")
    else:
        excl_bits = v.exclusive_cpus()
        w.w(1, f"Exclusive CPUs:\t{_cpus(excl_bits)}")
    numa = v.numa_nodes(nd)
    w.w(1, f"NUMA Nodes:\t{','.join(map(str, numa)) if numa else '<none> (nothing pinned)'}")
    node = nd.node
    if node is not None:
        w.w(1, f"Node Shared Pool:\t{_cpus(node.cpu_manager.state.default_cpuset)}")
    return w.text()


def _events_section(sp: StoredPod) -> str:
    if sp.admitted:
        return tabwrite("Events:\t<none>")
    rows = [
        "Events:",
        "  Type\tReason\tAge\tFrom\tMessage",
        "  ----\t------\t----\t----\t-------",
        f"  Warning\t{sp.reason}\t{age(sp.created)}\tkubelet\t{sp.message}",
    ]
    return tabwrite("\n".join(rows), padding=2)


# --------------------------------------------------------------------------- describe node


def capacity_lists(nd: NodeDir) -> tuple[dict[str, Quantity], dict[str, Quantity], dict[str, Quantity]]:
    """Capacity, allocatable and the node-allocatable reservation."""
    from topolet.engine.startup import node_capacity

    node = nd.node
    cap = dict(node.plan.capacity) if node is not None else dict(node_capacity(nd.topology))
    from topolet.engine.nodestatus import pods_capacity

    max_pods = pods_capacity(nd.config, nd.topology.num_cpus)  # maxPods, or the podsPerCore rule
    reservation = dict(node.plan.reservation) if node is not None else {}
    alloc: dict[str, Quantity] = {}
    for k, v in cap.items():
        r = reservation.get(k)
        val = v.value - (r.value if r is not None else 0)
        alloc[k] = Quantity(max(val, Fraction(0)), v.format)
    # the kubelet takes every hugepage size's capacity out of allocatable memory
    hugepages = sum((v.value for k, v in cap.items() if k.startswith("hugepages-")), Fraction(0))
    if "memory" in alloc and hugepages:
        m = alloc["memory"]
        alloc["memory"] = Quantity(max(m.value - hugepages, Fraction(0)), m.format)
    cap["pods"] = Quantity.of(max_pods)
    alloc["pods"] = Quantity.of(max_pods)
    return cap, alloc, reservation


def _options(opts: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(opts.items())) if opts else "<none>"


def describe_node_renderables(nd: NodeDir) -> list[RenderableType]:
    """``describe node``: identity, gates, manager policies/options, capacity, per-NUMA use, the shared pool
    and the pods (one renderable per section; append more to extend the view)."""
    from rich.text import Text

    out: list[RenderableType] = [Text(fit_lines(s)) for s in describe_node_sections(nd)]
    if nd.node is not None:
        from topolet.render import memory_bars, node_map

        out += [Text("CPU Map:"), node_map(nd.node, header=False), memory_bars(nd.node)]
    return out


def describe_node_sections(nd: NodeDir) -> list[str]:
    from topolet.engine.cpumanager.policy_static import StaticCPUPolicy

    t = nd.topology
    cfg = nd.config
    node = nd.node
    sections: list[str] = []
    w = _W()
    w.w(0, f"Name:\t{nd.name}")
    w.w(0, "Roles:\t<none>")
    labels = dict(node.node_object.labels) if node is not None else {"kubernetes.io/hostname": nd.name}
    labels["topolet.dev/topology"] = nd.meta.topology_source
    _labels(w, "Labels", labels)
    w.w(0, "Annotations:\t<none>")
    w.w(0, f"CreationTimestamp:\t{rfc1123z(nd.meta.created)}")
    taints = [str(t) for t in cfg.register_with_taints] or ["<none>"]
    for i, taint in enumerate(taints):
        w.w(0, f"{'Taints:' if i == 0 else ''}\t{taint}")
    w.w(0, f"Node Directory:\t{nd.path} (topolet)")
    w.w(0, f"Topology:\t{t.describe()} ({nd.meta.topology_source})")
    w.w(0, f"Kubelet Config:\t{nd.file('kubelet-config.yaml')} (from {nd.meta.config_source})")
    w.w(0, f"Kubelet Version:\t{KUBELET_VERSION} (simulated by topolet)")
    if node is not None:
        w.w(0, "Status:\tReady")
    else:
        assert nd.start_error is not None
        w.w(0, f"Status:\tNotReady: the kubelet refuses to start: {nd.start_error.message}")
    gates = node.gates if node is not None else cfg.feature_gates
    gate_items = gates.items()
    for i, (name, on) in enumerate(gate_items):
        w.w(0, f"{'Feature Gates:' if i == 0 else ''}\t{name}={'true' if on else 'false'}")
    sections.append(w.text())

    w = _W()
    w.w(0, "CPU Manager:")
    w.w(1, f"Policy:\t{cfg.cpu_manager_policy}")
    w.w(1, f"Policy Options:\t{_options(cfg.cpu_manager_policy_options)}")
    policy = node.cpu_manager.policy if node is not None else None
    reserved = policy.reserved_cpus if isinstance(policy, StaticCPUPolicy) else 0
    if cfg.cpu_manager_policy == "static":
        src = "reservedSystemCPUs" if cfg.reserved_system_cpus else "kube/system-reserved cpu"
        w.w(1, f"Reserved CPUs:\t{_cpus(reserved)} ({src})")
    w.w(0, "Memory Manager:")
    w.w(1, f"Policy:\t{cfg.memory_manager_policy}")
    if cfg.reserved_memory:
        for i, r in enumerate(cfg.reserved_memory):
            lim = ", ".join(f"{k}={v}" for k, v in sorted(r.limits.items()))
            w.w(1, f"{'Reserved Memory:' if i == 0 else ''}\tNUMA {r.numa_node}: {lim}")
    else:
        w.w(1, "Reserved Memory:\t<none>")
    w.w(0, "Topology Manager:")
    w.w(1, f"Policy:\t{cfg.topology_manager_policy}")
    w.w(1, f"Scope:\t{cfg.topology_manager_scope}")
    w.w(1, f"Policy Options:\t{_options(cfg.topology_manager_policy_options)}")
    cap, alloc, reservation = capacity_lists(nd)
    w.w(0, "Capacity:")
    for k in sorted(cap):
        w.w(1, f"{k}:\t{cap[k]}")
    w.w(0, "Allocatable:")
    for k in sorted(alloc):
        w.w(1, f"{k}:\t{alloc[k]}")
    w.w(0, "Reserved (kube-reserved + system-reserved + hard eviction):")
    if reservation:
        for k in sorted(reservation):
            w.w(1, f"{k}:\t{reservation[k]}")
    else:
        w.w(1, "<none>")
    sections.append(w.text())
    if node is None:
        return sections

    restart = _restart_section(nd)
    if restart:
        sections.append(restart)
    sections.append(_numa_section(nd))
    sections.append(_pods_section(nd, alloc))
    return sections


def _restart_section(nd: NodeDir) -> str:
    """Where kubelet 1.36.2's restart bug left the node (leaked CPUs, memory counted twice, pods
    moved or rejected at re-admission) and whether the next restart would stop."""
    from topolet.engine.restart import FIXED_IN, ISSUE_CPU, leaked_cpus, next_restart_refusal

    node = nd.node
    assert node is not None
    leaked = leaked_cpus(node)
    refusal = next_restart_refusal(node)
    hit = [sp for sp in nd.pods.values() if sp.restart_note]
    if not (leaked or refusal or hit):
        return ""
    w = _W()
    w.w(0, "Kubelet Restarts (topolet):")
    if leaked:
        w.w(
            1,
            f"Leaked CPUs:\t{_cpus(leaked)} ({_count(leaked)}): in no pool and no assignment: kubelet 1.36 moved a pod "
            f"with pod-level resources at a restart and never gave its old CPUs back ({ISSUE_CPU}, fixed in "
            f"{FIXED_IN})",
        )
    for sp in hit:
        w.w(1, f"pod/{sp.pod.name}:\t{sp.restart_note}")
    if refusal:
        w.w(1, f"Next Kubelet Restart:\trefused: {refusal}")
        w.w(1, "\t(drain the node first: the kubelet's remedy deletes the checkpoint files)")
    return w.text()


def _numa_section(nd: NodeDir) -> str:
    from topolet.engine.cpumanager.policy_static import StaticCPUPolicy

    node = nd.node
    assert node is not None
    t = nd.topology
    cs = node.cpu_manager.state
    policy = node.cpu_manager.policy
    static = isinstance(policy, StaticCPUPolicy)
    reserved = policy.reserved_cpus if isinstance(policy, StaticCPUPolicy) else 0
    default = cs.default_cpuset if static else t.all_cpus
    from topolet.engine.restart import leaked_cpus

    leaked = leaked_cpus(node) if static else 0  # in no pool and no assignment: not held by any pod
    lines = ["Per-NUMA CPU Use:"]
    lines.append("  NUMA\tCPUs\tReserved\tHeld by Pods\tShared Pool" + ("\tLeaked" if leaked else ""))
    for n in t.numa_ids:
        cpus = t.numa_cpus.get(n, 0)
        held = cpus & ~default & ~reserved & ~leaked if static else 0
        shared = cpus & default
        lines.append(
            f"  {n}\t{_cpus(cpus)} ({cpus.bit_count()})\t{_cpus(cpus & reserved)}\t"
            f"{_cpus(held)} ({held.bit_count()})\t{_cpus(shared)} ({shared.bit_count()})"
            + (f"\t{_cpus(cpus & leaked)} ({(cpus & leaked).bit_count()})" if leaked else "")
        )
    lines.append(f"  Shared Pool (defaultCpuSet): {_cpus(default)} ({_count(default)}, reserved CPUs included)")
    ms = node.memory_manager.state
    if ms.machine_state and nd.config.memory_manager_policy == "Static":
        lines.append("Per-NUMA Memory (memory manager):")
        lines.append("  NUMA\tResource\tTotal\tSystem Reserved\tAllocatable\tReserved by Pods\tFree")
        for nid, st in sorted(ms.machine_state.items()):
            for res, mt in sorted(st.memory_map.items()):
                if mt.total == 0 and res != "memory":
                    continue
                lines.append(
                    f"  {nid}\t{res}\t{format_bytes(mt.total)}\t{format_bytes(mt.system_reserved)}\t"
                    f"{format_bytes(mt.allocatable)}\t{format_bytes(mt.reserved)}\t{format_bytes(mt.free)}"
                )
    else:
        lines.append("Per-NUMA Memory:")
        lines.append("  NUMA\tTotal")
        for nid in t.numa_ids:
            lines.append(f"  {nid}\t{format_bytes(t.numa_nodes[nid].memory)}")
        lines.append(f"  (memory manager policy {nd.config.memory_manager_policy}: no per-NUMA accounting)")
    return tabwrite("\n".join(lines), padding=2)


def _pct(q: Quantity, total: Quantity | None) -> str:
    if total is None or total.value == 0:
        return f"{q} (0%)"
    return f"{q} ({int(q.value * 100 / total.value)}%)"


_DESCRIBE_POD_PRIORITY = {
    "Age": 5,
    "Namespace": 4,
    "CPU Limits": 3,
    "Memory Limits": 3,
    "Exclusive CPUs": 2,
    "Pod CPUs": 1,
}


def _pods_section(nd: NodeDir, alloc: dict[str, Quantity]) -> str:
    from topolet.io.quota import pod_limits, pod_requests

    running = [sp for sp in nd.pods.values() if sp.admitted]
    plr = nd.node.gates.enabled(POD_LEVEL_RESOURCES) if nd.node is not None else True
    lines = [f"Non-terminated Pods:\t({len(running)} in total)"]
    total_req: dict[str, Quantity] = {}
    total_lim: dict[str, Quantity] = {}
    head = [
        "Namespace",
        "Name",
        "CPU Requests",
        "CPU Limits",
        "Memory Requests",
        "Memory Limits",
        "Age",
        "Pod CPUs",
        "Exclusive CPUs",
        "NUMA",
    ]
    rows: list[list[str]] = []
    for sp in running:
        req = pod_requests(sp.pod, plr)
        lim = pod_limits(sp.pod, plr)
        for k, q in req.items():
            total_req[k] = total_req[k].add(q) if k in total_req else q
        for k, q in lim.items():
            total_lim[k] = total_lim[k].add(q) if k in total_lim else q
        v = pod_view(nd, sp)
        numa = v.numa_nodes(nd)
        zero = Quantity.of(0)
        rows.append(
            [
                sp.pod.namespace,
                sp.pod.name,
                _pct(req.get("cpu", zero), alloc.get("cpu")),
                _pct(lim.get("cpu", zero), alloc.get("cpu")),
                _pct(req.get("memory", zero), alloc.get("memory")),
                _pct(lim.get("memory", zero), alloc.get("memory")),
                age(sp.created),
                _cpus(v.pod_cpus),
                _cpus(v.exclusive_cpus()),
                ",".join(map(str, numa)) if numa else "<none>",
            ]
        )
    note = ""
    if running:
        from topolet.render.width import Column, fit_plain_table, output_width

        width = output_width()
        cols = [Column(h, priority=_DESCRIBE_POD_PRIORITY.get(h, 0)) for h in head]
        fitted = fit_plain_table(cols, rows, None if width is None else width - 2, padding=2)
        note = fitted.note(width)
        lines.append("  " + "\t".join(fitted.headers))
        lines.append("  " + "\t".join("-" * len(h) for h in fitted.headers))
        lines.extend("  " + "\t".join(r) for r in fitted.rows)
    failed = [sp for sp in nd.pods.values() if not sp.admitted]
    if note:
        lines.extend("  " + ln for ln in note.splitlines())
    lines.append("Allocated resources:")
    lines.append("  (Total limits may be over 100 percent, i.e., overcommitted.)")
    lines.append("  Resource\tRequests\tLimits")
    lines.append("  --------\t--------\t------")
    zero = Quantity.of(0)
    for k in ("cpu", "memory"):
        lines.append(
            f"  {k}\t{_pct(total_req.get(k, zero), alloc.get(k))}\t{_pct(total_lim.get(k, zero), alloc.get(k))}"
        )
    if failed:
        lines.append(f"Rejected Pods:\t({len(failed)}, Failed, holding no resources)")
        lines.append("  Namespace\tName\tReason\tMessage")
        for sp in failed:
            lines.append(f"  {sp.pod.namespace}\t{sp.pod.name}\t{sp.reason}\t{sp.status_message}")
    return tabwrite("\n".join(lines), padding=2)


# --------------------------------------------------------------------------- describe quota


def describe_quota_text(nd: NodeDir, q: ResourceQuota) -> str:
    used = quota_used_for(nd, q)
    lines = [f"Name:\t{q.name}", f"Namespace:\t{q.namespace}"]
    if q.scopes:
        lines.append(f"Scopes:\t{', '.join(q.scopes)}")
    lines.append("Resource\tUsed\tHard")
    lines.append("--------\t----\t----")
    for k in sorted(q.hard):
        lines.append(f"{k}\t{used.get(k, Quantity.of(0))}\t{q.hard[k]}")
    return tabwrite("\n".join(lines), padding=2)
