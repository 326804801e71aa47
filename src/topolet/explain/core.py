"""Explaining one admission in the kubelet's own terms (pure: no I/O, no printing).

:func:`explain_pod` admits a pod on a *copy* of a node with tracing and
recording (:mod:`topolet.explain.recorder`), then describes: the scope and
policy in force and which admission path the pod takes; per hint provider the
hints offered and why (free CPUs and memory per NUMA node as the provider saw
them); the merged hint and the policy's verdict; for an admitted pod how its
CPUs were taken and its budget partitioned; for a rejected pod the reason, the
message, the causes and what would make it fit (:mod:`topolet.explain.suggest`,
every suggestion verified by re-running the admission).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from topolet.engine.bitmask import bits as mask_bits
from topolet.engine.cpumanager.policy_static import StaticCPUPolicy
from topolet.engine.hint import ProviderHints, TopologyHint
from topolet.engine.memorymanager.policy_static import StaticMemoryPolicy
from topolet.engine.node import Node
from topolet.engine.qos import is_container_equivalent_qos_guaranteed, is_guaranteed
from topolet.engine.result import EXCLUSIVE, NODE_SHARED, POD_SHARED, AdmitResult
from topolet.engine.topologymanager.manager import MergeRecord
from topolet.explain.copying import copy_node
from topolet.explain.fit import held_text, rejection_causes, shortfall_text
from topolet.explain.fmt import cpus_str, human_bytes, join_words, mask_label, numa_label, plural
from topolet.explain.model import (
    AllocationView,
    ContainerAllocationView,
    ContainerRequest,
    CPUTake,
    Explanation,
    HintView,
    MemoryBlockView,
    MergeView,
    NodeSettings,
    NUMAFree,
    PodRequest,
    ProviderView,
    RejectionView,
)
from topolet.explain.recorder import NUMAState, ProviderCall, admit_recorded, numa_state
from topolet.model.cpuset import format_bits, iter_bits
from topolet.model.features import POD_LEVEL_RESOURCE_MANAGERS, POD_LEVEL_RESOURCES
from topolet.model.manifest import admit_to_api
from topolet.model.pod import CPU, MEMORY, Container, Pod
from topolet.model.quantity import Quantity

KNOWN_BUG_PR = "kubernetes PR 138770"
DEFAULT_AFFINITY_BUG = "failed to get the default NUMA affinity"
VIOLATES_NUMA = "preferred hint violates NUMA node allocation"

CPU_OPTIONS = (
    "full-pcpus-only",
    "distribute-cpus-across-numa",
    "align-by-socket",
    "distribute-cpus-across-cores",
    "strict-cpu-reservation",
    "prefer-align-cpus-by-uncorecache",
)


@dataclass(slots=True)
class Outcome:
    """An explanation and the node copy it was computed on (after the admission)."""

    explanation: Explanation
    node: Node  # the copy, with the pod admitted when it was
    stored: Pod | None  # the pod as the API server stored it (None: invalid)


# -- settings ------------------------------------------------------------------------
def _true_options(options: dict[str, str]) -> list[str]:
    out = []
    for k in sorted(options):
        if str(options[k]).lower() in ("true", "1", "t"):
            out.append(k)
        elif str(options[k]).lower() not in ("false", "0", "f"):
            out.append(f"{k}={options[k]}")
    return out


def node_settings(node: Node) -> NodeSettings:
    cfg = node.config
    topo = node.topology
    policy = node.cpu_manager.policy
    reserved = getattr(policy, "reserved_cpus", 0)
    eff = node.topology_manager.scope
    return NodeSettings(
        topology=topo.describe(),
        cpus_per_core=topo.cpus_per_core(),
        cpu_manager_policy=cfg.cpu_manager_policy,
        reserved_cpus=format_bits(reserved) if reserved else "",
        cpu_manager_options=_true_options(cfg.cpu_manager_policy_options) if cfg.cpu_manager_policy == "static" else [],
        memory_manager_policy=cfg.memory_manager_policy,
        topology_manager_policy=cfg.topology_manager_policy,
        topology_manager_scope=cfg.topology_manager_scope,
        effective_scope=eff,
        topology_manager_options=_true_options(cfg.topology_manager_policy_options)
        if cfg.topology_manager_policy != "none"
        else [],
        feature_gates={
            POD_LEVEL_RESOURCES: node.gates.enabled(POD_LEVEL_RESOURCES),
            POD_LEVEL_RESOURCE_MANAGERS: node.gates.enabled(POD_LEVEL_RESOURCE_MANAGERS),
        },
    )


# -- requests --------------------------------------------------------------------------
def _q(res: dict, name: str) -> str:
    q = res.get(name)
    return str(q) if q is not None else ""


def _kind(pod: Pod, c: Container) -> str:
    if c in pod.init_containers:
        return "sidecar" if c.is_restartable else "init"
    return "app"


def _pod_level_managed(node: Node, pod: Pod) -> bool:
    return node.gates.enabled(POD_LEVEL_RESOURCE_MANAGERS) and pod.has_pod_level_resources()


def _gates_skip(node: Node, pod: Pod) -> bool:
    g = node.gates
    return pod.has_pod_level_resources() and not (
        g.enabled(POD_LEVEL_RESOURCE_MANAGERS) and g.enabled(POD_LEVEL_RESOURCES)
    )


def container_cpu_why(node: Node, pod: Pod, c: Container) -> tuple[int, str]:
    """The exclusive CPUs the CPU manager gives a container, and why (0: shared)."""
    policy = node.cpu_manager.policy
    if not isinstance(policy, StaticCPUPolicy):
        return 0, "cpuManagerPolicy none: no exclusive CPUs for anyone"
    if not is_guaranteed(pod):
        return 0, f"the pod is {pod.qos_class or 'not Guaranteed'}: only Guaranteed pods get exclusive CPUs"
    if _gates_skip(node, pod):
        return 0, "the pod has spec.resources but the pod-level resource managers are off: the CPU manager skips it"
    n = policy.guaranteed_cpus(pod, c)
    q = c.resources.requests.get(CPU)
    if n > 0:
        return n, f"integer CPU request {q} in a Guaranteed pod"
    if _pod_level_managed(node, pod) and not is_container_equivalent_qos_guaranteed(c):
        where = "the pod shared pool" if node.topology_manager.scope == "pod" else "the node's shared pool"
        return 0, f"not Guaranteed-equivalent (cpu and memory requests not both equal to limits): runs in {where}"
    if q is None:
        return 0, "no CPU request: runs in the shared pool"
    return 0, f"CPU request {q} is not an integer: runs in the shared pool"


def _memory_requests(node: Node, pod: Pod, c: Container | None) -> dict[str, int]:
    policy = node.memory_manager.policy
    if not isinstance(policy, StaticMemoryPolicy) or not is_guaranteed(pod) or _gates_skip(node, pod):
        return {}
    try:
        if c is None:
            return dict(policy._pod_requests(pod))
        return dict(policy._container_requests(pod, c))
    except Exception:
        return {}


def pod_request(node: Node, pod: Pod) -> PodRequest:
    policy = node.cpu_manager.policy
    containers: list[ContainerRequest] = []
    for c in pod.all_containers():
        n, why = container_cpu_why(node, pod, c)
        r = c.resources
        containers.append(
            ContainerRequest(
                name=c.name,
                kind=_kind(pod, c),
                cpu_request=_q(r.requests, CPU),
                cpu_limit=_q(r.limits, CPU),
                memory_request=_q(r.requests, MEMORY),
                memory_limit=_q(r.limits, MEMORY),
                exclusive_cpus=n,
                cpu_class="exclusive" if n else "shared",
                why=why,
                exclusive_memory=_memory_requests(node, pod, c),
            )
        )
    pod_cpus = 0
    if isinstance(policy, StaticCPUPolicy) and not _gates_skip(node, pod):
        pod_cpus = policy.pod_guaranteed_cpus(pod)
    pr = pod.resources
    return PodRequest(
        qos=pod.qos_class,
        pod_level=pod.has_pod_level_resources(),
        cpu_budget=_q(pr.requests, CPU) if pr else "",
        memory_budget=_q(pr.requests, MEMORY) if pr else "",
        pod_exclusive_cpus=pod_cpus,
        pod_memory=_memory_requests(node, pod, None),
        containers=containers,
    )


# -- path ---------------------------------------------------------------------------------
def admission_path(node: Node, pod: Pod) -> tuple[str, str]:
    cfg = node.config
    scope = node.topology_manager.scope
    pl = pod.has_pod_level_resources()
    if _gates_skip(node, pod):
        off = [g for g in (POD_LEVEL_RESOURCES, POD_LEVEL_RESOURCE_MANAGERS) if not node.gates.enabled(g)]
        return "skipped", (
            f"the pod has spec.resources but the feature gate {join_words(off)} is off: the CPU and memory "
            "managers skip such a pod (no pinning, no alignment), even when every container is Guaranteed"
        )
    if scope == "none":
        why = (
            "topologyManagerPolicy none: no hint merge at all; the CPU and memory managers allocate each container "
            "in turn with no NUMA preference"
        )
        if pl and node.gates.enabled(POD_LEVEL_RESOURCE_MANAGERS):
            why += (
                "; pod-level resource managers need scope pod and a policy other than none, "
                "so the pod budget is not pinned as a whole"
            )
        return "none", why
    if scope == "container":
        why = (
            f"topologyManagerScope container under policy {cfg.topology_manager_policy}: one hint merge per container, "
            "then that container's allocation"
        )
        if pl and node.gates.enabled(POD_LEVEL_RESOURCE_MANAGERS):
            why += "; the pod-level budget is not aligned as a whole (that needs topologyManagerScope pod)"
        return "container", why
    if pl and node.gates.enabled(POD_LEVEL_RESOURCE_MANAGERS):
        return "pod-level", (
            "pod-level resource managers (KEP-5526): both feature gates are on, topologyManagerScope is pod and "
            "the pod has spec.resources: one hint merge for the pod budget, then the CPU and memory managers "
            "allocate the whole "
            "budget and partition it among the containers (AllocatePod)"
        )
    return "pod", (
        f"topologyManagerScope pod under policy {cfg.topology_manager_policy}: one hint merge for the whole pod "
        "(the containers' requests added up, init containers counted at their peak), then each container's allocation "
        "on that NUMA affinity"
    )


# -- NUMA state -----------------------------------------------------------------------------
def _numa_free(states: list[NUMAState]) -> list[NUMAFree]:
    out = []
    for s in states:
        group = s.group if len(s.group) > 1 else []
        out.append(
            NUMAFree(
                numa=s.numa,
                cpus=s.cpus.bit_count(),
                free_cpus=s.free_cpus.bit_count(),
                free_cpu_list=format_bits(s.free_cpus),
                memory_free=dict(s.memory_free),
                memory_allocatable=dict(s.memory_allocatable),
                group=list(group),
            )
        )
    return out


# -- hints ------------------------------------------------------------------------------------
def _min_numa_for(totals: list[int], request: int) -> int:
    acc = 0
    for i, t in enumerate(sorted(totals, reverse=True), start=1):
        acc += t
        if acc >= request:
            return i
    return len(totals)


MAX_LISTED_NUMA = 8  # beyond this many NUMA nodes a provider's hints are sampled, not listed (2^N masks)


def listed_hints(hints: object) -> tuple[list[TopologyHint], str]:
    """A provider's hints as a list to show, and a note when they were sampled.

    The fast path hands over hint lists backed by a structured set (``.space``) that
    may stand for 2^N masks; beyond :data:`MAX_LISTED_NUMA` NUMA nodes only the
    single-NUMA-node hints and the narrowest preferred and non-preferred ones are
    shown (found with the set's exact tests, never by listing it).
    """
    if hints is None:
        return [], ""
    space = getattr(hints, "space", None)
    universe = getattr(space, "universe", 0) if space is not None else 0
    if space is None or universe.bit_count() <= MAX_LISTED_NUMA:
        return list(hints), ""  # type: ignore[call-overload]
    out: list[TopologyHint] = []
    seen: set[int] = set()
    for i in mask_bits(universe):
        m = 1 << i
        if space.fits(m):
            out.append(TopologyHint(m, bool(space.is_preferred(m))))
            seen.add(m)
    for pref in (True, False):
        m = space.narrowest(pref)
        if m is not None and m not in seen:
            out.append(TopologyHint(m, bool(space.is_preferred(m))))
            seen.add(m)
    n = universe.bit_count()
    return out, (
        f"the hints over {n} NUMA nodes are not listed one by one (up to 2^{n} masks): shown are the single-NUMA-node "
        "hints and the narrowest preferred and non-preferred ones"
    )


_NODE_REASON = re.compile(r"^NUMA node (\d+): (.*)$")


@dataclass(frozen=True, slots=True)
class NodeReason:
    """Why one NUMA node was left out, worded for it alone (``one``) and for a set of nodes (``each``)."""

    numa: int
    one: str  # "only 32 CPUs in all < 40"
    each: str  # "each has only 32 CPUs < 40"


def group_by_reason(items: list[str | NodeReason]) -> list[str]:
    """Per-node reasons grouped, first-seen order: one node "NUMA node 2: x", a set "NUMA nodes 2-3: each ..."."""
    groups: dict[str, list[int]] = {}
    each: dict[str, str] = {}
    other: list[str] = []
    for it in items:
        if isinstance(it, NodeReason):
            groups.setdefault(it.one, []).append(it.numa)
            each[it.one] = it.each
            continue
        m = _NODE_REASON.match(it)
        if m is None:
            other.append(it)
            continue
        groups.setdefault(m.group(2), []).append(int(m.group(1)))
    return [
        f"{numa_label(ids)}: {reason if len(ids) == 1 else each.get(reason, reason)}" for reason, ids in groups.items()
    ] + other


def _status(hints: list[TopologyHint] | None) -> str:
    if hints is None:
        return "no-preference"
    if not hints:
        return "cannot-satisfy"
    return "hints"


def _cpu_provider_view(
    node: Node, pod: Pod, c: Container | None, ph: ProviderHints, states: list[NUMAState], reusable: int
) -> list[ProviderView]:
    policy = node.cpu_manager.policy
    if not isinstance(policy, StaticCPUPolicy):
        return [
            ProviderView(
                "cpu",
                "",
                "",
                0,
                "no-preference",
                [],
                "cpuManagerPolicy none: the CPU manager pins nothing and has no NUMA preference",
            )
        ]
    if c is None:
        request = 0 if _gates_skip(node, pod) else policy.pod_guaranteed_cpus(pod)
    else:
        request = container_cpu_why(node, pod, c)[0]
    if ph is None or CPU not in ph:
        if c is not None:
            why = container_cpu_why(node, pod, c)[1]
        elif _gates_skip(node, pod):
            why = "the pod has spec.resources but the pod-level resource managers are off: the CPU manager skips it"
        elif not is_guaranteed(pod):
            why = f"the pod is {pod.qos_class}: no exclusive CPUs"
        elif _pod_level_managed(node, pod):
            why = (
                "the pod-level CPU budget is not an integer: no CPU pinning for the pod "
                "(its memory may still be pinned)"
            )
        else:
            why = "no container asks for exclusive CPUs"
        return [ProviderView("cpu", "", "", 0, "no-preference", [], f"no preference: {why}")]
    status = _status(ph[CPU])
    hints, sampled = listed_hints(ph[CPU])
    free_by_numa = {s.numa: s.free_cpus.bit_count() for s in states if s.cpus}
    totals = [s.cpus.bit_count() for s in states if s.cpus]
    min_aff = _min_numa_for(totals, request)
    reusable_n = reusable.bit_count()
    views: list[HintView] = []
    for h in hints or []:
        ids = mask_bits(h.mask) if h.mask is not None else None
        if ids is None:
            views.append(HintView(None, h.preferred, "any NUMA node"))
            continue
        free = sum(free_by_numa.get(n, 0) for n in ids) + reusable_n
        parts = [f"{free} free CPUs ≥ {request}" if free >= request else f"{free} free CPUs"]
        if h.preferred and len(ids) == min_aff:
            parts.append(f"preferred: the fewest NUMA nodes ({min_aff}) whose CPUs can hold {request}")
        elif h.preferred:
            parts.append("preferred: aligned to whole sockets (align-by-socket)")
        else:
            parts.append(f"not preferred: {len(ids)} NUMA nodes where {min_aff} could hold {plural(request, 'CPU')}")
        views.append(HintView(ids, h.preferred, "; ".join(parts)))
    offered_single = {mask_bits(h.mask)[0] for h in hints or [] if h.mask is not None and h.mask.bit_count() == 1}
    not_offered: list[str | NodeReason] = []
    for n, free in free_by_numa.items():
        if n not in offered_single and request > 0 and free + reusable_n < request:
            total = next(s.cpus.bit_count() for s in states if s.numa == n)
            if total < request:
                not_offered.append(
                    NodeReason(n, f"only {total} CPUs in all < {request}", f"each has only {total} CPUs < {request}")
                )
            else:
                not_offered.append(
                    NodeReason(n, f"{free} free CPUs < {request}", f"each has {free} free CPUs < {request}")
                )
    if status == "cannot-satisfy":
        if _pod_level_managed(node, pod) and c is None and policy.validate_pod_scope_resources(pod):
            why = (
                "no hints: the pod's CPU budget fails the pod-level check ("
                + (policy.validate_pod_scope_resources(pod) or "")
                + ")"
            )
        else:
            total_free = sum(free_by_numa.values()) + reusable_n
            why = f"no NUMA combination has {request} free CPUs (free in all: {total_free})"
    else:
        why = f"{plural(len(views), 'hint')} for {plural(request, 'CPU')}"
        if reusable_n:
            why += f" (counting {reusable_n} CPUs of the pod's init containers that can be reused)"
        if sampled:
            why = f"hints for {plural(request, 'CPU')}; {sampled}"
    return [
        ProviderView("cpu", CPU, plural(request, "CPU"), request, status, views, why, group_by_reason(not_offered)),
    ]


def _memory_provider_views(
    node: Node, pod: Pod, c: Container | None, ph: ProviderHints, states: list[NUMAState]
) -> list[ProviderView]:
    policy = node.memory_manager.policy
    if not isinstance(policy, StaticMemoryPolicy):
        return [
            ProviderView(
                "memory",
                "",
                "",
                0,
                "no-preference",
                [],
                "memoryManagerPolicy None: the memory manager pins nothing and has no NUMA preference",
            )
        ]
    requests = _memory_requests(node, pod, c)
    if ph is not None and not ph and requests:
        # calculateHints found no NUMA combination at all: an empty map, which the topology
        # manager takes as "no preference"; the memory manager's Allocate fails afterwards
        reasons = "; ".join(_memory_no_fit(states, r, v) for r, v in requests.items())
        req = ", ".join(f"{human_bytes(v)} {r}" for r, v in requests.items())
        short = human_bytes(next(iter(requests.values()))) if len(requests) == 1 else req
        return [
            ProviderView(
                "memory",
                next(iter(requests)),
                short,
                sum(requests.values()),
                "no-preference",
                [],
                f"no hint for {req}: {reasons}; an empty answer counts as no preference in the merge, "
                "so the memory manager fails later, in Allocate",
            )
        ]
    if ph is None or not ph:
        if not is_guaranteed(pod):
            why = f"the pod is {pod.qos_class}: no exclusive memory"
        elif _gates_skip(node, pod):
            why = "the pod has spec.resources but the pod-level resource managers are off: the memory manager skips it"
        elif c is not None and _pod_level_managed(node, pod) and not is_container_equivalent_qos_guaranteed(c):
            why = "not Guaranteed-equivalent: no exclusive memory for this container (it uses the pod's shared memory)"
        else:
            why = "nothing to pin"
        return [ProviderView("memory", "", "", 0, "no-preference", [], f"no preference: {why}")]
    views: list[ProviderView] = []
    by_numa = {s.numa: s for s in states}
    for resource, raw_hints in ph.items():
        request = requests.get(resource, 0)
        status = _status(raw_hints)
        hints, sampled = listed_hints(raw_hints)
        alloc = [s.memory_allocatable.get(resource, 0) for s in states]
        min_aff = _min_numa_for(alloc, request) if request else 1
        hv: list[HintView] = []
        for h in hints or []:
            ids = mask_bits(h.mask) if h.mask is not None else None
            if ids is None:
                hv.append(HintView(None, h.preferred, "any NUMA node"))
                continue
            free = sum(by_numa[n].memory_free.get(resource, 0) for n in ids if n in by_numa)
            parts = [f"{human_bytes(free)} free ≥ {human_bytes(request)}"]
            if h.preferred:
                parts.append(f"preferred: the fewest NUMA nodes ({min_aff}) whose allocatable {resource} can hold it")
            else:
                parts.append(f"not preferred: {len(ids)} NUMA nodes where {min_aff} could hold it")
            hv.append(HintView(ids, h.preferred, "; ".join(parts)))
        offered_single = {mask_bits(h.mask)[0] for h in hints or [] if h.mask is not None and h.mask.bit_count() == 1}
        not_offered: list[str | NodeReason] = []
        if request:
            for s in states:
                if s.numa in offered_single or not s.memory_allocatable:
                    continue
                free = s.memory_free.get(resource, 0)
                alloc = s.memory_allocatable.get(resource, 0)
                need = human_bytes(request)
                if len(s.group) > 1:
                    g = mask_label(s.group)
                    not_offered.append(
                        NodeReason(
                            s.numa,
                            f"part of the node group {g} of a cross-NUMA allocation, so it cannot serve a "
                            "single-NUMA one",
                            f"each is part of the node group {g} of a cross-NUMA allocation, so none can serve a "
                            "single-NUMA one",
                        )
                    )
                elif alloc < request:
                    not_offered.append(
                        NodeReason(
                            s.numa,
                            f"allocatable {resource} {human_bytes(alloc)} < {need}",
                            f"each has allocatable {resource} {human_bytes(alloc)} < {need}",
                        )
                    )
                elif free < request:
                    not_offered.append(
                        NodeReason(
                            s.numa, f"{human_bytes(free)} free < {need}", f"each has {human_bytes(free)} free < {need}"
                        )
                    )
        if status == "cannot-satisfy":
            why = f"no NUMA combination has {human_bytes(request)} of {resource} free (respecting the node groups)"
            if _pod_level_managed(node, pod) and c is None:
                try:
                    policy._validate_pod_scope_resources(pod)
                except Exception as e:
                    why = f"no hints: the pod's memory budget fails the pod-level check ({e})"
        else:
            why = f"{plural(len(hv), 'hint')} for {human_bytes(request)} of {resource}"
            if sampled:
                why = f"hints for {human_bytes(request)} of {resource}; {sampled}"
        views.append(
            ProviderView(
                "memory", resource, human_bytes(request), request, status, hv, why, group_by_reason(not_offered)
            )
        )
    return views


def _memory_no_fit(states: list[NUMAState], resource: str, request: int) -> str:
    """Why no NUMA combination can take ``request`` of ``resource`` (the memory manager's rules)."""
    alloc = {s.numa: s.memory_allocatable.get(resource, 0) for s in states if s.memory_allocatable}
    free = {s.numa: s.memory_free.get(resource, 0) for s in states if s.memory_allocatable}
    if sum(alloc.values()) < request:
        return f"the whole node has only {human_bytes(sum(alloc.values()))} of {resource} allocatable"
    single = [n for n, a in alloc.items() if a >= request]
    used_single = [s.numa for s in states if s.assignments > 0 and len(s.group) <= 1]
    if not single and used_single:
        return (
            f"no single NUMA node has {human_bytes(request)} allocatable, and NUMA node(s) "
            f"{', '.join(str(n) for n in used_single)} already hold single-NUMA allocations, so they cannot join "
            "a multi-NUMA group"
        )
    return (
        "not enough free "
        + resource
        + " (free: "
        + ", ".join(f"NUMA {n} {human_bytes(v)}" for n, v in free.items())
        + ")"
    )


def _merge_verdict(node: Node, rec: MergeRecord, providers: list[ProviderView]) -> tuple[HintView, str]:
    policy = node.config.topology_manager_policy
    best = rec.best
    ids = mask_bits(best.mask) if best.mask is not None else None
    cannot = [p for p in providers if p.status == "cannot-satisfy"]
    closest = "prefer-closest-numa-nodes" in node_settings(node).topology_manager_options
    if cannot:
        how = (
            f"the {join_words([p.provider + ' (' + (p.resource or p.provider) + ')' for p in cannot])} "
            "provider offered no hint, so no combination exists"
        )
    elif all(p.status == "no-preference" for p in providers):
        how = "no provider has a preference: any NUMA node"
    else:
        how = (
            "one hint per provider, ANDed; a combination is preferred only when every hint in it is preferred; "
            "the best is preferred first, then the "
            + (
                "closest (smallest average distance) of the narrowest masks"
                if closest
                else "narrowest mask (lowest NUMA ids on ties)"
            )
        )
    if policy == "single-numa-node":
        how += "; single-numa-node keeps only preferred single-NUMA-node hints"
    merged = HintView(ids, best.preferred, how)
    label = mask_label(ids)
    pref = "preferred" if best.preferred else "not preferred"
    if policy == "best-effort":
        verdict = f"best-effort admits any merged hint: admitted with {label} ({pref})"
        if not best.preferred:
            verdict += "; the allocation may not be NUMA-aligned"
    elif policy == "restricted":
        verdict = f"restricted admits only a preferred hint: {label} is {pref} → " + (
            "admitted" if rec.admit else "rejected (TopologyAffinityError)"
        )
    elif policy == "single-numa-node":
        if rec.admit:
            verdict = f"single-numa-node admits a preferred single-NUMA-node hint: {label} → admitted"
        else:
            verdict = (
                "single-numa-node: no preferred single-NUMA-node hint is common to all providers "
                "→ rejected (TopologyAffinityError)"
            )
    else:
        verdict = "admitted" if rec.admit else "rejected"
    return merged, verdict


def _merge_views(node: Node, pod: Pod, result: AdmitResult, calls: list[ProviderCall]) -> list[MergeView]:
    if result.trace is None:
        return []
    hint_calls = [c for c in calls if c.kind in ("hints", "pod-hints")]
    used: set[int] = set()
    out: list[MergeView] = []
    for rec in result.trace.merges:
        by_provider: dict[str, ProviderCall] = {}
        for i, call in enumerate(hint_calls):
            if i in used or call.container != rec.container:
                continue
            if call.provider in by_provider:
                continue
            by_provider[call.provider] = call
            used.add(i)
            if len(by_provider) == len(rec.provider_hints):
                break
        first = next(iter(by_provider.values()), None)
        states = first.numa if first else numa_state(node)
        container = pod.container(rec.container) if rec.container else None
        providers: list[ProviderView] = []
        for name, ph in rec.provider_hints:
            st = by_provider[name].numa if name in by_provider else states
            if name == "cpu":
                reusable = by_provider[name].reusable_cpus if name in by_provider else 0
                providers.extend(_cpu_provider_view(node, pod, container, ph, st, reusable))
            elif name == "memory":
                providers.extend(_memory_provider_views(node, pod, container, ph, st))
        merged, verdict = _merge_verdict(node, rec, providers)
        out.append(
            MergeView(
                target="pod" if rec.container is None else f"container {rec.container}",
                container=rec.container,
                providers=providers,
                free=_numa_free(states),
                merged=merged,
                admit=rec.admit,
                verdict=verdict,
            )
        )
    return out


# -- allocation -----------------------------------------------------------------------------------
def describe_take(node: Node, target: str, cpus: int, hint: list[int] | None, source: str = "") -> CPUTake:
    topo = node.topology
    numa = sorted(topo.numa_of_bits(cpus))
    whole_sockets = [s for s, m in sorted(topo.socket_cpus.items()) if m & cpus == m]
    whole_numa = [n for n, m in sorted(topo.numa_cpus.items()) if m and m & cpus == m]
    cores = sorted({topo.cpu_core[c] for c in iter_bits(cpus)})
    whole = [k for k in cores if topo.core_cpus[k] & cpus == topo.core_cpus[k]]
    split = [k for k in cores if k not in whole]
    uncore = sorted({topo.cpu_uncore[c] for c in iter_bits(cpus)})
    n = cpus.bit_count()
    parts: list[str] = []
    if whole_sockets and topo.num_sockets > 1:
        parts.append(
            f"whole socket{'s' if len(whole_sockets) > 1 else ''} {format_bits(sum(1 << s for s in whole_sockets))}"
        )
    smt = topo.cpus_per_core()
    if smt > 1:
        if whole:
            parts.append(f"{plural(len(whole), 'whole core')} ({smt} threads each)")
        if split:
            threads = sum((topo.core_cpus[k] & cpus).bit_count() for k in split)
            parts.append(f"{plural(threads, 'single thread')} of {plural(len(split), 'core')} shared with other owners")
    else:
        parts.append(f"{plural(len(cores), 'core')} (no SMT)")
    desc = f"{plural(n, 'CPU')} {cpus_str(cpus)} on {numa_label(numa)}"
    if source:
        desc += f", {source}"
    desc += ": " + ", ".join(parts)
    if hint is not None:
        outside = [x for x in numa if x not in hint]
        if not outside:
            desc += f"; all within the hint's {numa_label(hint)}"
        else:
            off = sum((cpus & topo.numa_cpus.get(x, 0)).bit_count() for x in outside)
            desc += f"; {plural(off, 'CPU')} outside the hint's {numa_label(hint)} (not enough free there)"
    if topo.num_uncore_caches > topo.num_sockets:
        desc += f"; L3 (uncore) cache{'s' if len(uncore) > 1 else ''} {format_bits(sum(1 << u for u in uncore))}"
    return CPUTake(
        target, format_bits(cpus), n, numa, hint, whole_sockets, whole_numa, len(whole), len(split), uncore, desc
    )


def _blocks(blocks: list) -> list[MemoryBlockView]:
    return [MemoryBlockView(sorted(b.numa_affinity), b.type, b.size) for b in blocks]


def allocation_view(node: Node, pod: Pod, result: AdmitResult, calls: list[ProviderCall]) -> AllocationView:
    """How an admitted pod's CPUs were taken and its budget partitioned (``node``: after the admission)."""
    topo = node.topology
    policy = node.cpu_manager.policy
    bubble = result.pod_cpus
    containers: list[ContainerAllocationView] = []
    takes: list[CPUTake] = []
    partition: list[str] = []
    notes: list[str] = []
    alloc_hint: dict[str | None, list[int] | None] = {}
    for call in calls:
        if call.provider == "cpu" and call.kind.startswith("allocate"):
            alloc_hint[call.container] = mask_bits(call.hint_mask) if call.hint_mask is not None else None
    pod_blocks = node.memory_manager.state.pod_assignments.get(pod.uid, [])
    if bubble:
        hint = alloc_hint.get(None)
        takes.append(describe_take(node, "pod bubble", bubble, hint, "out of the node's shared pool"))
        partition.append(
            f"The CPU manager took the whole budget of {plural(bubble.bit_count(), 'CPU')} ({cpus_str(bubble)}) "
            f"out of the node's shared pool as the pod's bubble, on {numa_label(sorted(topo.numa_of_bits(bubble)))}."
        )
    shared_names: list[str] = []
    shared_cpus = 0
    for ca in result.containers:
        c = pod.container(ca.name)
        note = ""
        if ca.cpu_mode == EXCLUSIVE:
            if bubble:
                src = "taken from the bubble"
                if ca.kind == "init":
                    src = "taken from the bubble (reused by the containers after it)"
                elif ca.kind == "sidecar":
                    src = "taken from the bubble, kept for the pod's life (sidecar)"
                takes.append(describe_take(node, f"container {ca.name}", ca.cpus, None, src))
                partition.append(
                    f"{ca.name}: exclusive slice {cpus_str(ca.cpus)} ({plural(ca.cpus.bit_count(), 'CPU')}), {src}."
                )
                note = "exclusive slice of the pod's bubble"
            else:
                hint = alloc_hint.get(ca.name, alloc_hint.get(None))
                takes.append(
                    describe_take(node, f"container {ca.name}", ca.cpus, hint, "out of the node's shared pool")
                )
                note = "exclusive CPUs of its own"
        elif ca.cpu_mode == POD_SHARED and ca.kind == "init":
            note = "shared init container: runs on the bubble minus the sidecars' slices so far"
        elif ca.cpu_mode == POD_SHARED:
            shared_names.append(ca.name)
            shared_cpus = ca.cpus
            note = "the pod shared pool"
        elif isinstance(policy, StaticCPUPolicy):
            why = container_cpu_why(node, pod, c)[1] if c else ""
            note = f"the node's shared pool: {why}" if why else "the node's shared pool"
        else:
            note = "all CPUs (cpuManagerPolicy none)"
        containers.append(
            ContainerAllocationView(
                name=ca.name,
                kind=ca.kind,
                cpu_mode=ca.cpu_mode,
                cpus=format_bits(ca.cpus),
                cpu_count=ca.cpus.bit_count(),
                cpu_numa=sorted(topo.numa_of_bits(ca.cpus)),
                mems=format_bits(ca.mems),
                memory=_blocks(ca.memory),
                memory_pinned=ca.memory_pinned,
                note=note,
            )
        )
    pool = 0
    if bubble:
        pool = bubble
        for ca in result.containers:
            if ca.cpu_mode == EXCLUSIVE and ca.kind != "init":
                pool &= ~ca.cpus
        if shared_cpus:
            pool = shared_cpus
        who = join_words(shared_names) if shared_names else "no container (it stays with the pod)"
        partition.append(
            f"Pod shared pool: the bubble minus the long-running exclusive slices = {cpus_str(pool)} "
            f"({plural(pool.bit_count(), 'CPU')}), shared by {who}."
        )
    if pod_blocks:
        total = ", ".join(
            f"{human_bytes(b.size)} {b.type} on {numa_label(sorted(b.numa_affinity))}" for b in pod_blocks
        )
        partition.append(
            f"The memory manager reserved the pod's memory budget once ({total}); every container's "
            "Mems_allowed is the pod's NUMA nodes."
        )
        excl = [ca for ca in result.containers if ca.memory_pinned and ca.cpu_mode == EXCLUSIVE]
        for ca in excl:
            mem = ", ".join(f"{human_bytes(b.size)} {b.type}" for b in ca.memory)
            partition.append(f"{ca.name}: exclusive memory {mem}.")
    elif any(ca.memory_pinned for ca in result.containers):
        for ca in result.containers:
            if ca.memory_pinned:
                mem = ", ".join(
                    f"{human_bytes(b.size)} {b.type} on {numa_label(sorted(b.numa_affinity))}" for b in ca.memory
                )
                partition.append(f"{ca.name}: memory pinned: {mem}.")
    reserved = getattr(policy, "reserved_cpus", 0)
    if reserved and isinstance(policy, StaticCPUPolicy):
        strict = policy.options.strict_cpu_reservation
        notes.append(
            f"Reserved CPUs {cpus_str(reserved)} are never given to exclusive containers"
            + (
                " and, with strict-cpu-reservation, are out of the shared pool too."
                if strict
                else " (they stay in the node's shared pool)."
            )
        )
    if isinstance(policy, StaticCPUPolicy):
        notes.append(_algorithm_note(policy))
    return AllocationView(
        bubble=format_bits(bubble) if bubble else "",
        bubble_numa=sorted(topo.numa_of_bits(bubble)) if bubble else [],
        pod_shared_pool=format_bits(pool) if pool else "",
        pod_memory=_blocks(pod_blocks),
        takes=takes,
        containers=containers,
        partition=partition,
        options=[],
        notes=notes,
    )


def _algorithm_note(policy: StaticCPUPolicy) -> str:
    o = policy.options
    if o.distribute_cpus_across_numa:
        return (
            "Allocation (distribute-cpus-across-numa): when the request needs more than one NUMA node it is split "
            "evenly over the fewest NUMA nodes that can hold it."
        )
    steps = "whole sockets or NUMA nodes first (whichever is bigger), "
    if o.prefer_align_by_uncore_cache:
        steps += "then whole L3 (uncore) caches, "
    if o.distribute_cpus_across_cores:
        steps += "then CPUs spread over as many cores as possible (distribute-cpus-across-cores)"
    else:
        steps += "then whole cores, then single threads of the fullest cores (packed)"
    return f"Allocation (static policy, takeByTopology): the hint's NUMA nodes first; {steps}."


# -- rejection ------------------------------------------------------------------------------------------
def _failed_call(calls: list[ProviderCall]) -> ProviderCall | None:
    for call in reversed(calls):
        if call.failed:
            return call
    return None


def rejection_view(
    node: Node, pod: Pod, result: AdmitResult, calls: list[ProviderCall], merges: list[MergeView]
) -> RejectionView:
    causes: list[str] = []
    failed = _failed_call(calls)
    stage = ""
    provider = ""
    failed_at = ""
    blocking: list[str] = []
    tm_policy = node.config.topology_manager_policy
    if merges and not merges[-1].admit:
        stage, provider = "topology-merge", "topology"
        failed_at = merges[-1].target
        m = merges[-1]
        causes.append(f"The topology manager's merge for the {m.target} failed: {m.verdict}.")
        for p in m.providers:
            if p.status == "no-preference":
                continue
            if p.status == "cannot-satisfy":
                causes.append(f"The {p.provider} manager offered no hint for {p.resource}: {p.why}.")
                blocking.append(p.provider)
            elif not any(h.preferred for h in p.hints):
                causes.append(f"The {p.provider} manager offered no preferred hint for {p.resource} ({p.request}).")
                blocking.append(p.provider)
            elif tm_policy == "single-numa-node" and not any(
                h.preferred and h.numa and len(h.numa) == 1 for h in p.hints
            ):
                causes.append(
                    f"The {p.provider} request ({p.request}) fits no single NUMA node, and single-numa-node admits "
                    "only a single NUMA node."
                )
                blocking.append(p.provider)
            for no in p.not_offered:
                causes.append(f"The {p.provider} manager left out {no}.")
        if not blocking:
            causes.append(
                "Each provider has preferred hints, but no NUMA mask is preferred by all of them at once "
                f"(the {tm_policy} policy needs one)."
            )
            blocking = [p.provider for p in m.providers if p.status == "hints"]
    elif failed is not None:
        for m in merges[-1:]:
            for p in m.providers:
                if p.status == "no-preference" and p.why.startswith("no hint for"):
                    causes.append(f"In the merge for the {m.target}, the {p.provider} manager had {p.why}.")
        provider = failed.provider
        blocking = [failed.provider]
        stage = f"{failed.provider}-allocation"
        failed_at = "pod" if failed.container is None else f"container {failed.container}"
        call_name = "AllocatePod" if failed.container is None else "Allocate"
        causes.append(f"The {failed.provider} manager's {call_name} for the {failed_at} failed: {failed.error}.")
    other = rejection_causes(result)
    if other:
        # a later admit handler rejected: the resource managers admitted the pod (or skipped it)
        causes = other
        stage, provider, blocking, failed_at = result.handler.replace(" ", "-"), result.handler, [], "pod"
    if result.reason == "EmptyPodSharedPoolError":
        stage = "pod-validation"
    empty = empty_pool_problem(node, pod)
    if empty:
        causes.append(
            "Pod-level resource managers: the exclusive containers use the whole pod budget, so nothing is left "
            f"for the containers that need the pod shared pool ({empty})."
        )
    if result.reason == "SMTAlignmentError":
        smt = node.topology.cpus_per_core()
        if "not multiple" in result.message:
            causes.append(
                f"full-pcpus-only: only whole physical cores ({smt} CPUs each) are allocated, so the request must be a "
                f"multiple of {smt}."
            )
        else:
            causes.append("full-pcpus-only: there are not enough free whole cores left (reserved cores do not count).")
    elif "not enough cpus available" in result.message:
        causes.append("The node's shared pool has fewer free CPUs than the exclusive request.")
    known = known_bug(node, pod, result, failed)
    if known:
        causes.append(known)
    return RejectionView(
        reason=result.reason,
        message=result.message,
        status_message=result.status_message,
        stage=stage or "admission",
        failed_at=failed_at,
        provider=provider,
        blocking=sorted(set(blocking)),
        causes=causes,
        known_bug=known,
        suggestions=[],
        tried=0,
        handler=result.handler,
        shortfall=_shortfall_dict(result),
        held=held_text(result.held) if result.held is not None else "",
    )


def _shortfall_dict(result: AdmitResult) -> dict[str, Any] | None:
    s = result.shortfall
    if s is None:
        return None
    return {
        "resource": s.resource,
        "requested": s.requested,
        "used": s.used,
        "allocatable": s.capacity,
        "short": s.short,
        "text": shortfall_text(s),
    }


def empty_pod_shared_pool(node: Node, pod: Pod) -> tuple[str, str]:
    """The pod-level empty-shared-pool problems of a pod (CPU, memory): the kubelet's texts, "" when none."""
    if (
        not _pod_level_managed(node, pod)
        or node.topology_manager.scope != "pod"
        or not is_guaranteed(pod)
        or _gates_skip(node, pod)
    ):
        return "", ""
    cpu = ""
    policy = node.cpu_manager.policy
    if isinstance(policy, StaticCPUPolicy) and policy.pod_guaranteed_cpus(pod):
        cpu = policy.validate_pod_scope_resources(pod) or ""
    mem = ""
    mpolicy = node.memory_manager.policy
    if isinstance(mpolicy, StaticMemoryPolicy):
        try:
            mpolicy._validate_pod_scope_resources(pod)
        except Exception as e:
            mem = str(e)
    return cpu, mem


def empty_pool_problem(node: Node, pod: Pod) -> str:
    cpu, mem = empty_pod_shared_pool(node, pod)
    return "; ".join(x for x in (cpu, mem) if x)


def known_bug(node: Node, pod: Pod, result: AdmitResult, failed: ProviderCall | None) -> str:
    """The known upstream 1.36 bug this rejection reproduces, or ""."""
    if result.reason != "UnexpectedAdmissionError" or "[memorymanager]" not in result.message:
        return ""
    if not (_pod_level_managed(node, pod) and isinstance(node.memory_manager.policy, StaticMemoryPolicy)):
        return ""
    if node.topology_manager.scope == "pod":
        return ""
    container = pod.container(failed.container) if failed and failed.container else None
    if container is not None and is_container_equivalent_qos_guaranteed(container):
        return ""
    who = f"container {container.name}" if container else "a container"
    if DEFAULT_AFFINITY_BUG in result.message:
        return (
            "Known upstream bug of kubelet 1.36: with the Static memory manager and PodLevelResourceManagers on, a pod "
            "with pod-level resources is rejected under topologyManagerScope container or topologyManagerPolicy "
            "none as "
            f"soon as one container has no exclusive memory ({who} here): the memory manager gets an empty request and "
            "a nil hint and finds no default hint. Fixed in Kubernetes 1.37 by "
            f"{KNOWN_BUG_PR} (per its description). topolet reproduces 1.36 as it is."
        )
    return (
        "This looks like the same upstream 1.36 bug: under topologyManagerScope container a shared container of a pod "
        f"with pod-level resources ({who} here) reaches the memory manager's per-container Allocate with an empty "
        "request and the whole-machine hint, which clashes with the pod's single-NUMA memory "
        f"(see {KNOWN_BUG_PR}, fixed in 1.37). topolet reproduces 1.36 as it is."
    )


# -- entry points -------------------------------------------------------------------------------------------
def _settings_notes(node: Node, pod: Pod) -> list[str]:
    notes: list[str] = []
    if pod.qos_class != "Guaranteed":
        notes.append(
            f"The pod's QoS class is {pod.qos_class}: the CPU and memory managers pin only Guaranteed pods; "
            "it runs in the node's shared pool."
        )
    if pod.has_pod_level_resources() and node.gates.enabled(POD_LEVEL_RESOURCES):
        notes.append("The pod's QoS class comes from spec.resources alone (PodLevelResources is on).")
    cpu_note = cpu_policy_none_note(node, pod)
    if cpu_note:
        notes.append(cpu_note)
    return notes


def cpu_policy_none_note(node: Node, pod: Pod) -> str:
    """For a Guaranteed pod asking for whole CPUs on a node whose CPU manager policy is none: what to set."""
    if isinstance(node.cpu_manager.policy, StaticCPUPolicy) or not is_guaranteed(pod) or _gates_skip(node, pod):
        return ""
    whole = [c.name for c in pod.all_containers() if _integral(c.resources.requests.get(CPU))]
    budget = pod.resources.requests.get(CPU) if pod.resources is not None else None
    if not whole and not (_pod_level_managed(node, pod) and _integral(budget)):
        return ""
    return (
        f"cpuManagerPolicy is {node.config.cpu_manager_policy}: no container gets exclusive CPUs. To pin them, set "
        "`cpuManagerPolicy: static` in the KubeletConfiguration (with CPUs reserved for the system, e.g. "
        "`reservedSystemCPUs`): it is a kubelet setting, not switched on by requesting integer CPUs (the seed "
        "article is wrong there); a node changing its policy must be drained and its cpu_manager_state removed."
    )


def _integral(q: Quantity | None) -> bool:
    return q is not None and q.value > 0 and q.value.denominator == 1


RESTART_SIMULATION_MAX_PODS = 256


def restart_notes(
    before: Node | None, after: Node, pod: Pod, result: AdmitResult, *, simulate: bool = True
) -> list[str]:
    """What kubelet 1.36.2's restart bug (kubernetes#140989, #140906) means here: CPUs it already
    leaked on the node, and (``simulate``: a restart is re-run on a copy, for nodes of up to
    RESTART_SIMULATION_MAX_PODS pods) what a kubelet restart would do to this pod once admitted."""
    from topolet.engine.errors import StartupError
    from topolet.engine.restart import MEMORY_TWICE, MOVED, REJECTED, leaked_cpus, simulate_restart

    notes: list[str] = []
    leaked = leaked_cpus(before if before is not None else after)
    if leaked:
        notes.append(
            f"CPUs {format_bits(leaked)} belong to nobody (in no pool and no assignment): kubelet 1.36 moved a pod "
            "with pod-level resources at a restart and leaked its old CPUs (kubernetes#140989, fixed in 1.37). They "
            "are not available to this pod, and the next kubelet restart refuses to start until the node is drained."
        )
    cs, ms = after.cpu_manager.state, after.memory_manager.state
    if not simulate or not result.admitted or len(after.pods) > RESTART_SIMULATION_MAX_PODS:
        return notes
    if pod.uid not in cs.pod_assignments and pod.uid not in ms.pod_assignments:
        return notes
    try:
        outcome = simulate_restart(after)
    except StartupError as e:
        if not leaked:
            notes.append(f"A kubelet restart now would refuse to start: {e}")
        return notes
    for n in outcome.notes:
        if n.uid != pod.uid:
            continue
        if n.kind == MOVED:
            notes.append(
                f"If the kubelet restarts, 1.36 moves this running pod from CPUs {format_bits(n.old_cpus)} to "
                f"{format_bits(n.new_cpus)} (it allocates the pod-level CPUs again at re-admission: "
                "kubernetes#140989, fixed in 1.37); the old CPUs leak and the restart after that refuses to start."
            )
        elif n.kind == REJECTED:
            notes.append(
                f"If the kubelet restarts, 1.36 rejects this running pod at re-admission ({n.reason}: {n.message}) "
                "and kills it: it allocates the pod-level CPUs and memory again (kubernetes#140989, #140906, fixed "
                "in 1.37)."
            )
        elif n.kind == MEMORY_TWICE:
            notes.append(
                "If the kubelet restarts, 1.36 applies this pod's pod-level memory again and counts it twice "
                "(kubernetes#140906, fixed in 1.37); the restart after that refuses to start."
            )
    return notes


def explain_outcome(node: Node, raw_pod: Pod, *, suggest: bool = True, check_options: bool = True) -> Outcome:
    """Explain the admission of ``raw_pod`` (as written, before API defaulting) on a copy of ``node``.

    ``node`` is not changed. The returned :class:`Outcome` carries the copy,
    with the pod admitted when it was, to chain several pods.
    """
    settings = node_settings(node)
    work = copy_node(node)
    stored, invalid = admit_to_api(raw_pod, node.gates)
    before_states = numa_state(work)
    if stored is None:
        msg = invalid or ""
        rej = RejectionView(
            reason="Invalid",
            message=msg,
            status_message=msg,
            stage="api-validation",
            failed_at="pod",
            provider="api",
            blocking=[],
            causes=["The API server refuses the pod before any kubelet sees it (validation of pod-level resources)."],
            known_bug="",
            suggestions=[],
            tried=0,
        )
        expl = Explanation(
            pod=raw_pod.key,
            uid=raw_pod.uid,
            admitted=False,
            reason="Invalid",
            message=msg,
            node=settings,
            path="api",
            path_why="rejected by API validation: never reaches the kubelet",
            request=None,
            before=_numa_free(before_states),
            merges=[],
            allocation=None,
            rejection=rej,
        )
        return Outcome(expl, work, None)
    notes = _settings_notes(work, stored)
    if stored.key in work.pods:
        work.delete(stored.key)
        before_states = numa_state(work)
        notes.append(f"Pod {stored.key} already exists on the node: explained as if it were deleted and created again.")
    request = pod_request(work, stored)
    path, path_why = admission_path(work, stored)
    before_node = copy_node(work) if (suggest or check_options) else work
    result, calls = admit_recorded(work, stored)
    merges = _merge_views(work, stored, result, calls)
    allocation = None
    rejection = None
    if result.admitted:
        allocation = allocation_view(work, stored, result, calls)
        if check_options:
            from topolet.explain.suggest import option_effects

            allocation.options = option_effects(before_node, stored, result)
    else:
        rejection = rejection_view(work, stored, result, calls, merges)
        if suggest:
            from topolet.explain.suggest import suggestions_for

            rejection.suggestions, rejection.tried = suggestions_for(before_node, raw_pod, stored, result, rejection)
    notes.extend(
        restart_notes(before_node if (suggest or check_options) else None, work, stored, result, simulate=suggest)
    )
    expl = Explanation(
        pod=stored.key,
        uid=stored.uid,
        admitted=result.admitted,
        reason=result.reason,
        message=result.message,
        node=settings,
        path=path,
        path_why=path_why,
        request=request,
        before=_numa_free(before_states),
        merges=merges,
        allocation=allocation,
        rejection=rejection,
        notes=notes,
    )
    return Outcome(expl, work, stored)


def explain_pod(node: Node, raw_pod: Pod, *, suggest: bool = True, check_options: bool = True) -> Explanation:
    """The explanation of admitting ``raw_pod`` on ``node`` (``node`` is not changed)."""
    return explain_outcome(node, raw_pod, suggest=suggest, check_options=check_options).explanation


def explain_pods(node: Node, raw_pods: list[Pod], *, suggest: bool = True) -> tuple[list[Explanation], Node]:
    """Explain several pods admitted one after another (each sees the ones before it); ``node`` is not changed."""
    out: list[Explanation] = []
    current = node
    for p in raw_pods:
        oc = explain_outcome(current, p, suggest=suggest)
        out.append(oc.explanation)
        current = oc.node
    return out, current


__all__ = [
    "NODE_SHARED",
    "Outcome",
    "admission_path",
    "describe_take",
    "explain_outcome",
    "explain_pod",
    "explain_pods",
    "known_bug",
    "node_settings",
    "pod_request",
]
