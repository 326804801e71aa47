"""Pod-level budgets against the per-container model users write today (pure).

:func:`to_per_container_model` turns a pod with pod-level resources into what
users write without KEP-5526: every container Guaranteed on its own (requests
equal to limits, whole CPUs; a container without a CPU request gets its share
of the pod's CPU budget), and no ``spec.resources``. :func:`compare_models` admits a workload both ways on
copies of a node and counts the CPUs each model pins.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from topolet.engine.node import Node
from topolet.engine.result import EXCLUSIVE
from topolet.explain.core import explain_outcome
from topolet.explain.model import Explanation
from topolet.fleet.convert import to_per_container
from topolet.model.pod import MEMORY, Pod


def to_per_container_model(pod: Pod) -> Pod:
    """The pod as users write it without pod-level resources (a new object; ``pod`` is not changed).

    The same conversion as the fleet's (:func:`topolet.fleet.convert.to_per_container`): every container
    Guaranteed with whole CPUs; a container that states no CPU (or memory) gets its share of what the
    pod-level budget leaves, as a user converting by hand would; ``spec.resources`` is removed.
    """
    return to_per_container(pod)


@dataclass(slots=True)
class ModelSide:
    """One model's admissions and what they pin."""

    name: str  # "pod-level" or "per-container"
    title: str
    explanations: list[Explanation]
    node: Node  # the node after the admissions
    admitted: int = 0
    rejected: int = 0
    pinned_cpus: int = 0  # CPUs taken out of the node's shared pool by these pods (bubbles + exclusive)
    exclusive_cpus: int = 0  # CPUs exclusive to single containers
    pod_shared_cpus: int = 0  # CPUs in pod shared pools
    whole_cores: int = 0  # physical cores whose every thread is pinned by these pods
    cores_touched: int = 0
    pinned_memory: int = 0  # bytes of memory pinned by these pods (memory manager Static)
    pods: list[str] = field(default_factory=list)


def _stats(side: ModelSide, keys: list[str]) -> None:
    node = side.node
    topo = node.topology
    pinned = 0
    exclusive = 0
    pod_shared = 0
    mem = 0
    ms = node.memory_manager.state
    for key in keys:
        rec = node.get(key)
        if rec is None or not rec.result.admitted:
            continue
        r = rec.result
        allocs = node.container_allocations(rec.pod)
        pinned |= r.pod_cpus
        for a in allocs:
            if a.cpu_mode == EXCLUSIVE:
                exclusive |= a.cpus
                pinned |= a.cpus
            elif a.cpu_mode == "pod-shared" and a.kind != "init":
                pod_shared |= a.cpus
        blocks = ms.pod_assignments.get(rec.pod.uid)
        if blocks:
            mem += sum(b.size for b in blocks if b.type == MEMORY)
        else:
            mem += sum(b.size for bl in ms.assignments.get(rec.pod.uid, {}).values() for b in bl if b.type == MEMORY)
    cores = {topo.cpu_core[c] for c in range(len(topo.cpu_core)) if (pinned >> c) & 1}
    side.pinned_cpus = pinned.bit_count()
    side.exclusive_cpus = exclusive.bit_count()
    side.pod_shared_cpus = pod_shared.bit_count()
    side.cores_touched = len(cores)
    side.whole_cores = sum(1 for k in cores if topo.core_cpus[k] & pinned == topo.core_cpus[k])
    side.pinned_memory = mem


def run_model(node: Node, name: str, title: str, raw_pods: list[Pod], *, suggest: bool = True) -> ModelSide:
    current = node
    expls: list[Explanation] = []
    keys: list[str] = []
    for p in raw_pods:
        oc = explain_outcome(current, p, suggest=suggest)
        expls.append(oc.explanation)
        keys.append(oc.explanation.pod)
        current = oc.node
    side = ModelSide(name, title, expls, current, pods=keys)
    side.admitted = sum(1 for e in expls if e.admitted)
    side.rejected = len(expls) - side.admitted
    _stats(side, keys)
    return side


def compare_models(node: Node, raw_pods: list[Pod], *, suggest: bool = True) -> list[ModelSide]:
    """The workload with pod-level budgets, and converted to the per-container model, each on a copy of ``node``."""
    pod_level = run_model(
        node, "pod-level", "Pod-level budgets (KEP-5526 pod-level resource managers)", raw_pods, suggest=suggest
    )
    converted = [to_per_container_model(p) if p.has_pod_level_resources() else p for p in raw_pods]
    per_container = run_model(
        node,
        "per-container",
        "Per-container model (every container Guaranteed with integer CPUs, as users do today)",
        converted,
        suggest=suggest,
    )
    return [pod_level, per_container]
