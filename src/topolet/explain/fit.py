"""Words for the kubelet's other admit handlers: which one rejected a pod, by how much it missed,
and what the resource managers held for it until their sweep. Pure (strings from results)."""

from __future__ import annotations

from topolet.engine.admission import (
    HANDLER_APPARMOR,
    HANDLER_POD_FEATURES,
    HANDLER_PREDICATES,
    HANDLER_RESOURCE_MANAGERS,
    HANDLER_SYSCTL,
    Shortfall,
)
from topolet.engine.nodestatus import PODS
from topolet.engine.result import AdmitResult, HeldAllocation
from topolet.model.cpuset import format_bits
from topolet.model.pod import CPU
from topolet.model.quantity import format_bytes

# the handler's place in the kubelet's chain (NewMainKubelet)
HANDLER_TEXT = {
    HANDLER_SYSCTL: "the sysctl admit handler (3rd of the kubelet's admit handlers, before the resource managers)",
    HANDLER_RESOURCE_MANAGERS: "the resource managers (topology, CPU and memory managers: the 4th admit handler)",
    HANDLER_PREDICATES: "the node-fit predicates (5th admit handler, after the resource managers)",
    HANDLER_APPARMOR: "the AppArmor admit handler (6th, after the node-fit predicates)",
    HANDLER_POD_FEATURES: "the pod-features admit handler (7th, after the node-fit predicates)",
}


def cpu_text(milli: int) -> str:
    if milli % 1000 == 0:
        n = milli // 1000
        return f"{n} CPU" if n == 1 else f"{n} CPUs"
    return f"{milli}m CPU"


def _number(resource: str, value: int) -> str:
    """An amount without the unit word: CPUs as a decimal, bytes as a quantity."""
    if resource == CPU:
        return str(value // 1000) if value % 1000 == 0 else f"{value / 1000:g}"
    return amount_text(resource, value)


def amount_text(resource: str, value: int) -> str:
    if resource == CPU:
        return cpu_text(value)
    if resource == PODS:
        return f"{value} pod" if value == 1 else f"{value} pods"
    if resource == "memory" or resource.startswith("hugepages-") or resource == "ephemeral-storage":
        return format_bytes(value)
    return str(value)


def shortfall_text(s: Shortfall) -> str:
    """``OutOfcpu: requests 30 CPUs, 4 of 64 allocatable left: 26 short``."""
    free = max(s.free, 0)
    if s.resource == PODS:
        return (
            f"{s.reason}: {s.used} pods already active, the node allows {s.capacity} "
            f"(allocatable pods: maxPods, or podsPerCore x CPUs): {s.short} pod short"
        )
    return (
        f"{s.reason}: requests {amount_text(s.resource, s.requested)}, "
        f"{_number(s.resource, free)} of {_number(s.resource, s.capacity)} allocatable left: "
        f"{_number(s.resource, s.short)} short"
    )


def held_text(held: HeldAllocation) -> str:
    parts = []
    if held.cpus:
        parts.append(f"CPUs {format_bits(held.cpus)}")
    for b in held.memory:
        numa = ",".join(str(n) for n in b.numa_affinity)
        parts.append(f"{format_bytes(b.size)} {b.type} on NUMA {numa}")
    if not parts:
        return ""
    what = ", ".join(parts)
    if held.swept:
        return (
            f"The resource managers had already allocated {what} for it before it was rejected; the kubelet held "
            "them until the managers' next stale-state sweep (the CPU manager's reconcile loop or the next "
            "admission), which has returned them."
        )
    return (
        f"The resource managers had already allocated {what} for it before it was rejected; the kubelet holds "
        "them until the managers' next stale-state sweep (the CPU manager's reconcile loop or the next admission)."
    )


def rejection_causes(result: AdmitResult) -> list[str]:
    """Sentences for a rejection by a handler other than the resource managers (empty otherwise)."""
    if result.admitted or not result.handler or result.handler == HANDLER_RESOURCE_MANAGERS:
        return []
    out = [f"Rejected by {HANDLER_TEXT.get(result.handler, result.handler)}."]
    if result.shortfall is not None:
        out.append(shortfall_text(result.shortfall) + ".")
    if result.held is not None:
        h = held_text(result.held)
        if h:
            out.append(h)
    return out


def one_line_why(result: AdmitResult) -> str:
    """A short why for a rejection by another handler: the shortfall, or the handler."""
    if result.shortfall is not None:
        return shortfall_text(result.shortfall)
    if result.handler and result.handler != HANDLER_RESOURCE_MANAGERS:
        return f"rejected by {HANDLER_TEXT.get(result.handler, result.handler).split(' (')[0]}"
    return ""
