"""An :class:`~topolet.explain.model.Explanation` as readable text (plain lines; the CLI adds style)."""

from __future__ import annotations

from topolet.explain.fmt import human_bytes, mask_label, numa_label
from topolet.explain.model import Explanation, MergeView, NUMAFree

MAX_HINTS_SHOWN = 8


def _free_line(f: NUMAFree, show_memory: bool) -> str:
    line = f"NUMA node {f.numa}: {f.free_cpus}/{f.cpus} CPUs free for exclusive use"
    if show_memory and f.memory_free:
        mem = ", ".join(
            f"{r} {human_bytes(f.memory_free[r])} free of {human_bytes(f.memory_allocatable.get(r, 0))}"
            for r in sorted(f.memory_free, key=lambda r: (r != "memory", r))
            if f.memory_allocatable.get(r, 0) or f.memory_free[r]
        )
        if mem:
            line += f"; {mem}"
    if f.group:
        line += f"; memory node group {mask_label(f.group)}"
    return line


def _merge_lines(m: MergeView, show_memory: bool) -> list[str]:
    out = [f"Topology merge for the {m.target}:"]
    for p in m.providers:
        head = f"  {p.provider} manager"
        if p.resource:
            head += f" ({p.resource}, request {p.request})"
        if p.status == "no-preference":
            out.append(f"{head}: {p.why}")
            continue
        if p.status == "cannot-satisfy":
            out.append(f"{head}: no hint at all — {p.why}")
        else:
            out.append(f"{head}: {p.why}")
        shown = p.hints
        hidden = 0
        if len(shown) > MAX_HINTS_SHOWN:
            pref = [h for h in shown if h.preferred]
            rest = [h for h in shown if not h.preferred]
            shown = (pref + rest)[:MAX_HINTS_SHOWN]
            hidden = len(p.hints) - len(shown)
        for h in shown:
            flag = "preferred" if h.preferred else "not preferred"
            out.append(f"    {h.label:<9} {flag:<13} {h.why}")
        if hidden:
            out.append(f"    … and {hidden} more (wider, not preferred)")
        for no in p.not_offered:
            out.append(f"    not offered: {no}")
    out.append(f"  merged hint: {m.merged.label} ({'preferred' if m.merged.preferred else 'not preferred'})")
    out.append(f"    how: {m.merged.why}")
    out.append(f"  verdict: {m.verdict}")
    return out


def explain_lines(e: Explanation, *, node_free: bool = True) -> list[str]:
    """The explanation, one line per item (no trailing newlines)."""
    out: list[str] = []
    status = "ADMITTED" if e.admitted else f"REJECTED: {e.reason}"
    qos = f" (QoS {e.request.qos})" if e.request else ""
    out.append(f"Pod {e.pod}{qos}: {status}")
    n = e.node
    out.append("")
    out.append(f"Node: {n.topology}")
    cpu = f"cpuManagerPolicy {n.cpu_manager_policy}"
    if n.reserved_cpus:
        cpu += f" (reserved CPUs {n.reserved_cpus})"
    if n.cpu_manager_options:
        cpu += f", options {', '.join(n.cpu_manager_options)}"
    out.append(f"  {cpu}; memoryManagerPolicy {n.memory_manager_policy}")
    tm = f"  topologyManagerPolicy {n.topology_manager_policy}, topologyManagerScope {n.topology_manager_scope}"
    if n.effective_scope != n.topology_manager_scope:
        tm += f" (in effect: {n.effective_scope})"
    if n.topology_manager_options:
        tm += f", options {', '.join(n.topology_manager_options)}"
    out.append(tm)
    out.append("  feature gates: " + ", ".join(f"{k}={'on' if v else 'off'}" for k, v in n.feature_gates.items()))
    out.append("")
    out.append(f"Admission path: {e.path}")
    out.append(f"  {e.path_why}")
    if e.request is not None:
        r = e.request
        out.append("")
        if r.pod_level:
            out.append(f"Pod budget (spec.resources): cpu {r.cpu_budget or '-'}, memory {r.memory_budget or '-'}")
        if r.pod_exclusive_cpus or r.pod_memory:
            mem = ", ".join(f"{human_bytes(v)} {k}" for k, v in r.pod_memory.items())
            out.append(
                f"  the CPU manager's pod request: {r.pod_exclusive_cpus} exclusive CPUs"
                + (f"; the memory manager's: {mem}" if mem else "")
            )
        out.append("Containers:")
        for c in r.containers:
            req = f"cpu {c.cpu_request or '-'}"
            if c.cpu_limit and c.cpu_limit != c.cpu_request:
                req += f" (limit {c.cpu_limit})"
            req += f", memory {c.memory_request or '-'}"
            if c.memory_limit and c.memory_limit != c.memory_request:
                req += f" (limit {c.memory_limit})"
            cls = f"{c.exclusive_cpus} exclusive CPUs" if c.exclusive_cpus else "shared CPUs"
            out.append(f"  {c.name} [{c.kind}]: {req} → {cls}: {c.why}")
    show_memory = e.node.memory_manager_policy == "Static"
    if node_free and e.before:
        out.append("")
        out.append("Node before admission:")
        for f in e.before:
            out.append("  " + _free_line(f, show_memory))
    for m in e.merges:
        out.append("")
        out.extend(_merge_lines(m, show_memory))
    if e.allocation is not None:
        a = e.allocation
        out.append("")
        out.append("How the CPUs were taken:")
        if not a.takes:
            out.append("  no exclusive CPUs")
        for t in a.takes:
            out.append(f"  {t.target}: {t.description}")
        if a.partition:
            out.append("Partition of the pod:" if a.bubble else "Memory:")
            for p in a.partition:
                out.append(f"  {p}")
        out.append("Containers (what /proc/self/status shows):")
        for c in a.containers:
            mem = ""
            if c.memory_pinned:
                mem = "; pinned memory " + ", ".join(
                    f"{human_bytes(b.size)} {b.resource} on {mask_label(b.numa)}" for b in c.memory
                )
                if c.cpu_mode == "pod-shared":
                    mem += " (the pod's shared memory)"
            out.append(
                f"  {c.name}: Cpus_allowed_list {c.cpus} ({c.cpu_mode}), Mems_allowed_list {c.mems}{mem} — {c.note}"
            )
        if a.options:
            out.append("Policy options in force (checked by re-running the admission without each):")
            for o in a.options:
                if o.changed is None:
                    res = o.without
                elif o.changed:
                    res = f"changed this admission; without it: {o.without}"
                else:
                    res = "no difference for this pod"
                out.append(f"  {o.option}: {o.effect} — {res}")
        if a.notes:
            out.append("Notes:")
        for note in a.notes:
            out.append(f"  {note}")
    if e.rejection is not None:
        rj = e.rejection
        out.append("")
        out.append(f"Rejected: {rj.reason}")
        out.append(f"  message: {rj.message}")
        if rj.status_message and rj.status_message != rj.message:
            out.append(f'  kubectl describe pod: Status Failed, Reason {rj.reason}, Message "{rj.status_message}"')
        if rj.failed_at or rj.stage:
            out.append(f"  failed at: {rj.stage}" + (f" ({rj.failed_at})" if rj.failed_at else ""))
        out.append("Why:")
        for c in rj.causes:
            out.append(f"  - {c}")
        if rj.stage != "api-validation":
            out.append(f"What would make it fit (each verified by re-running the admission; {rj.tried} tried):")
            if not rj.suggestions:
                out.append(
                    "  nothing found among: deleting one pod, fewer CPUs or less memory, SMT-aligned requests, "
                    "another scope, policy or option"
                )
            for s in rj.suggestions:
                if s.kind == "delete-pod":
                    out.append(f"  - {s.result}")
                else:
                    out.append(f"  - {s.change}: {s.result}")
    for note in e.notes:
        out.append("")
        out.append(f"Note: {note}")
    return out


def explain_text(e: Explanation) -> str:
    return "\n".join(explain_lines(e)) + "\n"


__all__ = ["explain_lines", "explain_text", "numa_label"]
