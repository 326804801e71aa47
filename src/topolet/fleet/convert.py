"""The per-container model users write today, from a pod written with pod-level resources (pure).

Before KEP-5526 a pod got NUMA-aligned exclusive CPUs only if it was
Guaranteed container by container, and every container of a Guaranteed pod
needs ``requests == limits`` for cpu and memory: so users make their sidecars
Guaranteed with integer CPUs, and each sidecar pins at least one whole CPU
(kubernetes issue 106149: "wasting at least 6 CPU cores for each MySQL pod").

:func:`to_per_container` rewrites a pod that way:

* a pod without pod-level resources is returned unchanged;
* ``spec.resources`` is dropped;
* every container (init, sidecar, app) gets ``cpu`` request = limit =
  ``ceil(max(cpu request, cpu limit))``, at least 1; a container with
  neither gets its share of what the pod-level CPU budget leaves, as a user
  converting by hand would give it: the long-running containers (apps and
  restartable sidecars) without one split ``budget - sum(the others' whole
  CPUs)`` evenly (rounded up, at least 1 each), and a regular init container
  without one gets what the budget leaves beside the restartable sidecars (it
  runs alone with them); without a pod-level CPU budget, 1;
* ``memory`` request = limit = ``max(memory request, memory limit)``; a
  container with neither gets an even share of what the pod-level memory
  leaves after the containers that set one (at least 64Mi, rounded up to Mi);
  without pod-level memory, 64Mi;
* pod-level ``hugepages-*`` that no container requests go to the first app
  container (request = limit).

The result is a Guaranteed pod on the classic per-container path: with the
static CPU manager every container gets exclusive integer CPUs.
"""

from __future__ import annotations

import math
from dataclasses import replace
from fractions import Fraction

from topolet.model.pod import CPU, MEMORY, Container, Pod, Resources, is_hugepages
from topolet.model.quantity import BINARY_SI, DECIMAL_SI, Quantity

__all__ = ["MIN_MEMORY", "to_per_container"]

MIN_MEMORY = 64 * 1024 * 1024
_MI = 1024 * 1024


def _max(res: Resources, name: str) -> Quantity | None:
    r, lim = res.requests.get(name), res.limits.get(name)
    if r is None:
        return lim
    if lim is None:
        return r
    return lim if lim.value > r.value else r


def _whole_cpus(c: Container) -> int | None:
    cpu = _max(c.resources, CPU)
    return max(1, math.ceil(cpu.value)) if cpu is not None else None


def _cpu_shares(pod: Pod) -> dict[int, int]:
    """Whole CPUs per container (by ``id``): its own, rounded up, or its share of the pod's CPU budget."""
    assert pod.resources is not None
    budget_q = _max(pod.resources, CPU)
    budget = math.floor(budget_q.value) if budget_q is not None else 0
    init_ids = {id(c) for c in pod.init_containers}
    regular_init = [c for c in pod.init_containers if not c.is_restartable]
    long_running = [c for c in pod.all_containers() if id(c) not in init_ids or c.is_restartable]
    out: dict[int, int] = {}
    for c in pod.all_containers():
        n = _whole_cpus(c)
        if n is not None:
            out[id(c)] = n
    unset = [c for c in long_running if id(c) not in out]
    if unset:
        left = budget - sum(out[id(c)] for c in long_running if id(c) in out)
        per = max(1, math.ceil(left / len(unset))) if left > 0 else 1
        for c in unset:
            out[id(c)] = per
    sidecars = sum(out[id(c)] for c in pod.init_containers if c.is_restartable)
    for c in regular_init:
        if id(c) not in out:
            out[id(c)] = max(1, budget - sidecars)
    return out


def to_per_container(pod: Pod) -> Pod:
    """``pod`` made Guaranteed container by container (see the module doc); ``pod`` is not modified."""
    if not pod.has_pod_level_resources():
        return pod
    assert pod.resources is not None
    pod_res = pod.resources
    all_c = pod.all_containers()
    # memory shares for containers that set none
    unset = [c for c in all_c if _max(c.resources, MEMORY) is None]
    share = MIN_MEMORY
    pod_mem = _max(pod_res, MEMORY)
    if unset and pod_mem is not None:
        init_ids = {id(c) for c in pod.init_containers}
        long_running = [c for c in all_c if id(c) not in init_ids or c.is_restartable]
        used = sum(
            (q.value for c in long_running if (q := _max(c.resources, MEMORY)) is not None),
            Fraction(0),
        )
        left = pod_mem.value - used
        per = math.ceil(left / len(unset) / _MI) * _MI if left > 0 else 0
        share = max(per, MIN_MEMORY)
    # pod-level hugepages nobody asks for
    orphan_hp = {
        name: q
        for name, q in {**pod_res.limits, **pod_res.requests}.items()
        if is_hugepages(name) and not any(name in c.resources.requests or name in c.resources.limits for c in all_c)
    }
    first_app = pod.containers[0] if pod.containers else None
    cpu_for = _cpu_shares(pod)

    def convert(c: Container) -> Container:
        n = cpu_for[id(c)]
        mem = _max(c.resources, MEMORY)
        mem_q = mem if mem is not None else Quantity(Fraction(share), BINARY_SI)
        req: dict[str, Quantity] = {CPU: Quantity(Fraction(n), DECIMAL_SI), MEMORY: mem_q}
        for name in {**c.resources.requests, **c.resources.limits}:
            if name in (CPU, MEMORY):
                continue
            q = _max(c.resources, name)
            assert q is not None
            req[name] = q
        if c is first_app:
            req.update(orphan_hp)
        return replace(c, resources=Resources(dict(req), dict(req)))

    return replace(
        pod,
        resources=None,
        containers=[convert(c) for c in pod.containers],
        init_containers=[convert(c) for c in pod.init_containers],
        qos_class="",
    )
