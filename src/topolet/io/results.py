"""Admission results and node state as plain data (for ``-o json|yaml`` and files)."""

from __future__ import annotations

from typing import Any

from topolet.engine.memorymanager.state import Block
from topolet.engine.node import Node
from topolet.engine.result import AdmitResult, ContainerAllocation
from topolet.model.cpuset import format_bits
from topolet.model.quantity import format_bytes


def block_to_dict(b: Block) -> dict[str, Any]:
    return {"numa": list(b.numa_affinity), "type": b.type, "size": b.size, "sizeText": format_bytes(b.size)}


def container_to_dict(c: ContainerAllocation) -> dict[str, Any]:
    return {
        "name": c.name,
        "kind": c.kind,
        "cpuMode": c.cpu_mode,
        "cpusAllowedList": format_bits(c.cpus),
        "memsAllowedList": format_bits(c.mems),
        "memoryPinned": c.memory_pinned,
        "memory": [block_to_dict(b) for b in c.memory],
    }


def result_to_dict(r: AdmitResult) -> dict[str, Any]:
    out: dict[str, Any] = {
        "pod": r.pod,
        "uid": r.uid,
        "admitted": r.admitted,
        "qosClass": r.qos,
    }
    if r.admitted:
        out["podCpus"] = format_bits(r.pod_cpus)
        out["containers"] = [container_to_dict(c) for c in r.containers]
        if r.preempted:
            out["preempted"] = list(r.preempted)
    else:
        out["phase"] = "Failed"
        out["reason"] = r.reason
        out["message"] = r.status_message if r.reason != "Invalid" else r.message
        if r.handler:
            out["admitHandler"] = r.handler
        if r.shortfall is not None:
            sf = r.shortfall
            out["shortfall"] = {
                "resource": sf.resource,
                "requested": sf.requested,
                "used": sf.used,
                "allocatable": sf.capacity,
                "short": sf.short,
            }
        if r.held is not None:
            out["heldUntilSweep"] = {
                "cpus": format_bits(r.held.cpus),
                "memory": [block_to_dict(b) for b in r.held.memory],
                "swept": r.held.swept,
            }
    return out


def node_state_to_dict(node: Node) -> dict[str, Any]:
    snap = node.snapshot()
    return {
        "cpuManagerPolicy": snap.cpu_policy,
        "memoryManagerPolicy": snap.memory_policy,
        "defaultCpuSet": format_bits(snap.default_cpuset),
        "reservedCpus": format_bits(snap.reserved_cpus),
        "assignments": {p: {c: format_bits(b) for c, b in cs.items()} for p, cs in snap.assignments.items()},
        "podCpus": {p: format_bits(b) for p, b in snap.pod_cpus.items()},
        "numa": [
            {
                "id": n.numa,
                "cpus": format_bits(n.cpus),
                "sharedPoolCpus": format_bits(n.free_cpus),
                "memory": {
                    r: {
                        "total": t.total,
                        "systemReserved": t.system_reserved,
                        "allocatable": t.allocatable,
                        "reserved": t.reserved,
                        "free": t.free,
                    }
                    for r, t in n.memory.items()
                },
            }
            for n in snap.numa
        ],
    }
