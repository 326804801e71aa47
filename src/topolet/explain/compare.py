"""Pod-level budgets against the per-container model users write today (pure).

:func:`to_per_container_model` turns a pod with pod-level resources into what
users write without KEP-5526: every container Guaranteed on its own (requests
equal to limits, CPU rounded up to a whole number of at least 1), and no
``spec.resources``. :func:`compare_models` admits a workload both ways on
copies of a node and counts the CPUs each model pins.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

from topolet.engine.node import Node
from topolet.engine.result import EXCLUSIVE
from topolet.explain.core import explain_outcome
from topolet.explain.model import Explanation
from topolet.model.pod import CPU, MEMORY, Container, Pod, Resources, is_hugepages
from topolet.model.quantity import Quantity

MI = 1 << 20
DEFAULT_MEMORY = 128 * MI  # for a container that states no memory and the pod has none left to give


def _cpu_of(c: Container) -> Quantity | None:
    return c.resources.requests.get(CPU) or c.resources.limits.get(CPU)


def _mem_of(c: Container) -> Quantity | None:
    return c.resources.requests.get(MEMORY) or c.resources.limits.get(MEMORY)


def to_per_container_model(pod: Pod) -> Pod:
    """The pod as users write it without pod-level resources (a new object; ``pod`` is not changed).

    * every container (init, sidecar, app) gets requests = limits;
    * cpu: its request (else limit) rounded up to a whole number, at least 1;
    * memory: its request (else limit); a container with neither gets an even share of what the pod-level
      memory budget leaves over (rounded up to Mi), or 128Mi when nothing is left;
    * hugepages requests are kept, with limits equal to them; other resources are left as they are;
    * ``spec.resources`` is removed.
    """
    out = copy.deepcopy(pod)
    containers = out.all_containers()
    pod_mem = 0
    if pod.resources is not None:
        q = pod.resources.requests.get(MEMORY) or pod.resources.limits.get(MEMORY)
        if q is not None:
            pod_mem = q.int_value()
    known = sum(m.int_value() for c in containers if (m := _mem_of(c)) is not None)
    missing = [c for c in containers if _mem_of(c) is None]
    share = 0
    if missing and pod_mem > known:
        share = math.ceil((pod_mem - known) / len(missing) / MI) * MI
    for c in containers:
        r = c.resources
        cpu = _cpu_of(c)
        n = max(1, math.ceil(cpu.value)) if cpu is not None else 1
        mem = _mem_of(c)
        mem_q = mem if mem is not None else Quantity.parse(f"{(share or DEFAULT_MEMORY) // MI}Mi")
        req = {k: v for k, v in r.requests.items() if k not in (CPU, MEMORY)}
        lim = {k: v for k, v in r.limits.items() if k not in (CPU, MEMORY)}
        req[CPU] = Quantity.parse(str(n))
        lim[CPU] = Quantity.parse(str(n))
        req[MEMORY] = mem_q
        lim[MEMORY] = mem_q
        for k, v in list(req.items()):
            if is_hugepages(k):
                lim[k] = v
        for k, v in list(lim.items()):
            if is_hugepages(k) and k not in req:
                req[k] = v
        c.resources = Resources(req, lim)
    out.resources = None
    return out


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
