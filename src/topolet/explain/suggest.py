"""What would make a rejected pod fit, and what each policy option did: found by re-running.

Nothing here is guessed: every :class:`~topolet.explain.model.Suggestion` is
a change under which the admission was actually re-run, on a copy of the node
as it was before the pod came, and admitted. The same goes for
:class:`~topolet.explain.model.OptionEffect`: an option's effect is checked by
admitting the pod on the node restarted without that option.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, replace

from topolet.engine.admission import Shortfall, pod_request_amounts
from topolet.engine.cpumanager.policy_static import StaticCPUPolicy
from topolet.engine.errors import StartupError
from topolet.engine.node import Node, NodeError
from topolet.engine.nodestatus import PODS
from topolet.engine.result import EXCLUSIVE, AdmitResult
from topolet.explain.copying import config_with, copy_node, node_with_config
from topolet.explain.core import empty_pod_shared_pool
from topolet.explain.fit import amount_text, cpu_text
from topolet.explain.fmt import GI, MI, cpus_str, human_bytes, numa_label, plural
from topolet.explain.model import OptionEffect, RejectionView, Suggestion
from topolet.model.cpuset import format_bits
from topolet.model.manifest import admit_to_api
from topolet.model.pod import CPU, MEMORY, Container, Pod
from topolet.model.quantity import Quantity

MAX_DELETE_TRIALS = 64
MAX_DELETE_SUGGESTIONS = 3
LINEAR_TRIALS = 12

OPTION_EFFECTS = {
    "full-pcpus-only": "only whole physical cores are allocated: every exclusive request must be a multiple of the "
    "CPUs per core",
    "distribute-cpus-across-numa": "a request that needs several NUMA nodes is split evenly over them",
    "align-by-socket": "hints aligned to whole sockets are preferred and CPUs come from the hint's sockets",
    "distribute-cpus-across-cores": "CPUs are spread over as many physical cores as possible "
    "(one thread per core first)",
    "strict-cpu-reservation": "the reserved CPUs are out of the shared pool too (no container runs on them)",
    "prefer-align-cpus-by-uncorecache": "CPUs are packed into as few L3 (uncore) caches as possible",
    "prefer-closest-numa-nodes": "among equally narrow NUMA masks the closest ones (smallest average distance) win",
}


# -- running a trial -------------------------------------------------------------------------
@dataclass(slots=True)
class Trial:
    admitted: bool
    result: AdmitResult | None
    node: Node | None
    error: str = ""


def _admit(node: Node, stored: Pod) -> Trial:
    try:
        r = node.admit(stored)
    except NodeError as e:
        return Trial(False, None, node, str(e))
    return Trial(r.admitted, r, node, "" if r.admitted else f"{r.reason}: {r.message}")


def _store(node: Node, raw: Pod) -> Pod | None:
    stored, _invalid = admit_to_api(raw, node.gates)
    return stored


def signature(result: AdmitResult) -> tuple:
    return (
        result.pod_cpus,
        tuple((c.name, c.cpus, c.mems, c.cpu_mode) for c in result.containers),
    )


def placement(node: Node, result: AdmitResult) -> tuple[list[int], int, str]:
    """Where an admitted pod landed: NUMA nodes, pinned CPUs and a short text."""
    topo = node.topology
    pinned = result.pod_cpus
    if not pinned:
        for c in result.containers:
            if c.cpu_mode == EXCLUSIVE:
                pinned |= c.cpus
    numa = set(topo.numa_of_bits(pinned)) if pinned else set()
    mems = 0
    for c in result.containers:
        if c.memory_pinned:
            mems |= c.mems
    mem_numa = {n for n in topo.numa_ids if (mems >> n) & 1}
    numa |= mem_numa
    ids = sorted(numa)
    if pinned:
        what = "bubble" if result.pod_cpus else "exclusive CPUs"
        text = f"admitted on {numa_label(ids)} ({what} {cpus_str(pinned)})"
    elif ids:
        text = f"admitted, memory on {numa_label(ids)} (no exclusive CPUs)"
    else:
        text = "admitted (no exclusive CPUs or memory)"
    return ids, pinned, text


def _suggestion(kind: str, change: str, trial: Trial) -> Suggestion:
    assert trial.result is not None and trial.node is not None
    ids, pinned, text = placement(trial.node, trial.result)
    return Suggestion(kind, change, text, ids, format_bits(pinned) if pinned else "")


# -- option effects ----------------------------------------------------------------------------
def _describe_alloc(node: Node, r: AdmitResult) -> str:
    if not r.admitted:
        return f"rejected ({r.reason}: {r.message})"
    parts = []
    if r.pod_cpus:
        parts.append(f"bubble {cpus_str(r.pod_cpus)} on {numa_label(sorted(node.topology.numa_of_bits(r.pod_cpus)))}")
    for c in r.containers:
        if c.cpu_mode == EXCLUSIVE:
            parts.append(f"{c.name} {cpus_str(c.cpus)}")
    return ", ".join(parts) if parts else "no exclusive CPUs"


def option_effects(before: Node, stored: Pod, result: AdmitResult) -> list[OptionEffect]:
    """For each CPU/topology manager option in force: its effect, checked by re-admitting without it."""
    cfg = before.config
    out: list[OptionEffect] = []
    targets: list[tuple[str, str]] = []
    if cfg.cpu_manager_policy == "static":
        for k, v in sorted(cfg.cpu_manager_policy_options.items()):
            if str(v).lower() in ("true", "1", "t"):
                targets.append(("cpu", k))
    if cfg.topology_manager_policy != "none":
        for k, v in sorted(cfg.topology_manager_policy_options.items()):
            if k == "prefer-closest-numa-nodes" and str(v).lower() in ("true", "1", "t"):
                targets.append(("topology", k))
    base = signature(result)
    for area, opt in targets:
        effect = OPTION_EFFECTS.get(opt, "")
        if area == "cpu":
            opts = {k: v for k, v in cfg.cpu_manager_policy_options.items() if k != opt}
            cfg2 = config_with(cfg, cpu_manager_policy_options=opts)
        else:
            opts = {k: v for k, v in cfg.topology_manager_policy_options.items() if k != opt}
            cfg2 = config_with(cfg, topology_manager_policy_options=opts)
        try:
            n2 = node_with_config(before, cfg2)
        except StartupError as e:
            out.append(OptionEffect(opt, effect, None, f"not checked: the kubelet would not start without it ({e})"))
            continue
        t = _admit(n2, stored)
        if t.result is None:
            out.append(OptionEffect(opt, effect, None, t.error))
            continue
        changed = signature(t.result) != base
        without = _describe_alloc(n2, t.result)
        out.append(OptionEffect(opt, effect, changed, without))
    return out


# -- pod edits ---------------------------------------------------------------------------------------
def _set_cpu(res_requests: dict, res_limits: dict, n: int) -> None:
    q = Quantity.parse(str(n))
    if CPU in res_requests or CPU not in res_limits:
        res_requests[CPU] = q
    if CPU in res_limits:
        res_limits[CPU] = q


def _set_mem(res_requests: dict, res_limits: dict, size: int) -> None:
    q = Quantity.parse(_mem_text(size))
    if MEMORY in res_requests or MEMORY not in res_limits:
        res_requests[MEMORY] = q
    if MEMORY in res_limits:
        res_limits[MEMORY] = q


def _mem_text(size: int) -> str:
    if size % GI == 0:
        return f"{size // GI}Gi"
    return f"{size // MI}Mi"


def with_pod_cpus(raw: Pod, n: int) -> Pod:
    p = copy.deepcopy(raw)
    assert p.resources is not None
    _set_cpu(p.resources.requests, p.resources.limits, n)
    return p


def with_pod_memory(raw: Pod, size: int) -> Pod:
    p = copy.deepcopy(raw)
    assert p.resources is not None
    _set_mem(p.resources.requests, p.resources.limits, size)
    return p


def with_container_cpus(raw: Pod, name: str, n: int) -> Pod:
    p = copy.deepcopy(raw)
    c = p.container(name)
    assert c is not None
    _set_cpu(c.resources.requests, c.resources.limits, n)
    return p


def with_containers_cpus(raw: Pod, sizes: dict[str, int]) -> Pod:
    p = copy.deepcopy(raw)
    for name, n in sizes.items():
        c = p.container(name)
        assert c is not None
        _set_cpu(c.resources.requests, c.resources.limits, n)
    return p


def with_container_memory(raw: Pod, name: str, size: int) -> Pod:
    p = copy.deepcopy(raw)
    c = p.container(name)
    assert c is not None
    _set_mem(c.resources.requests, c.resources.limits, size)
    return p


# -- the search --------------------------------------------------------------------------------------
class _Searcher:
    def __init__(self, before: Node, raw: Pod, stored: Pod, reason: str) -> None:
        self.before = before
        self.raw = raw
        self.stored = stored
        self.reason = reason
        self.tried = 0
        self.other: tuple[int, str] | None = None  # a candidate that failed for another reason, and why

    def pod(self, raw: Pod) -> Trial:
        stored = _store(self.before, raw)
        if stored is None:
            return Trial(False, None, None, "invalid")
        self.tried += 1
        return _admit(copy_node(self.before), stored)

    def config(self, **changes: object) -> Trial:
        cfg = config_with(self.before.config, **changes)
        try:
            node = node_with_config(self.before, cfg)
        except StartupError as e:
            return Trial(False, None, None, str(e))
        self.tried += 1
        return _admit(node, self.stored)

    def delete(self, key: str) -> Trial:
        node = copy_node(self.before)
        node.delete(key)
        self.tried += 1
        return _admit(node, self.stored)

    def largest(self, candidates: list[int], make: Callable[[int], Pod]) -> tuple[int, Trial] | None:
        """The largest candidate (ascending list) under which the pod is admitted: the top ones one by one,
        then by bisection below them. The answer is always one that was actually admitted."""
        valid = [c for c in candidates if _store(self.before, make(c)) is not None]
        top, rest = valid[-LINEAR_TRIALS:], valid[:-LINEAR_TRIALS]
        self.other = None
        for c in reversed(top):
            t = self.pod(make(c))
            if t.admitted:
                return c, t
            if self.other is None and t.result is not None and t.result.reason != self.reason:
                self.other = (c, t.error)
        lo, hi = 0, len(rest) - 1
        best: tuple[int, Trial] | None = None
        while lo <= hi:
            mid = (lo + hi) // 2
            t = self.pod(make(rest[mid]))
            if t.admitted:
                best = (rest[mid], t)
                lo = mid + 1
            else:
                hi = mid - 1
        return best


def _exclusive_containers(node: Node, stored: Pod) -> list[tuple[Container, int]]:
    policy = node.cpu_manager.policy
    if not isinstance(policy, StaticCPUPolicy):
        return []
    out = []
    for c in stored.all_containers():
        n = policy.guaranteed_cpus(stored, c)
        if n:
            out.append((c, n))
    return out


def _failed_container(rej: RejectionView) -> str | None:
    if rej.failed_at.startswith("container "):
        return rej.failed_at.removeprefix("container ")
    return None


def _pinned_size(node: Node, key: str) -> tuple[int, int]:
    rec = node.pods[key]
    r = rec.result
    cpus = r.pod_cpus
    for c in r.containers:
        if c.cpu_mode == EXCLUSIVE:
            cpus |= c.cpus
    mem = sum(b.size for c in r.containers for b in c.memory)
    return cpus.bit_count(), mem


def suggestions_for(
    before: Node, raw: Pod, stored: Pod, result: AdmitResult, rej: RejectionView
) -> tuple[list[Suggestion], int]:
    """Verified changes that make ``stored`` fit on ``before``; and how many admissions were tried."""
    s = _Searcher(before, raw, stored, result.reason)
    obstacles: list[str] = []
    cfg = before.config
    topo = before.topology
    smt = topo.cpus_per_core()
    policy = before.cpu_manager.policy
    full_pcpus = isinstance(policy, StaticCPUPolicy) and policy.options.full_physical_cpus_only
    pod_level = (
        stored.has_pod_level_resources()
        and before.topology_manager.scope == "pod"
        and before.gates.enabled("PodLevelResourceManagers")
    )
    reason = result.reason
    msg = result.message
    pod_changes: list[Suggestion] = []
    deletions: list[Suggestion] = []
    configs: list[Suggestion] = []

    # what the CPU request is, and where to change it
    budget = 0
    if isinstance(policy, StaticCPUPolicy):
        budget = policy.pod_guaranteed_cpus(stored)
    excl = _exclusive_containers(before, stored)
    target_name = _failed_container(rej)
    target: tuple[Container, int] | None = None
    for c, n in excl:
        if c.name == target_name:
            target = (c, n)
    if target is None and excl:
        target = max(excl, key=lambda cn: cn[1])
    cpu_pod_level = pod_level and budget > 0

    def cpu_make(n: int) -> Pod:
        if cpu_pod_level:
            return with_pod_cpus(raw, n)
        assert target is not None
        return with_container_cpus(raw, target[0].name, n)

    def cpu_change(n: int, cur: int) -> str:
        if cpu_pod_level:
            return f"a pod CPU budget of {n} instead of {cur} (spec.resources cpu)"
        assert target is not None
        return f"{plural(n, 'CPU')} instead of {cur} for container {target[0].name}"

    cur_cpus = budget if cpu_pod_level else (target[1] if target else 0)
    empty_cpu, empty_mem = empty_pod_shared_pool(before, stored)
    empty = bool(empty_cpu or empty_mem)
    cpu_involved = "cpu" in rej.blocking and not empty and not rej.known_bug
    mem_involved = "memory" in rej.blocking and not empty and not rej.known_bug

    # 1. SMT alignment: a multiple of the CPUs per core
    unaligned = [(c, n) for c, n in excl if smt > 1 and n % smt]
    if reason == "SMTAlignmentError" and "not multiple" in msg and smt > 1:
        if cpu_pod_level or len(unaligned) <= 1:
            down = cur_cpus - cur_cpus % smt
            for n in (down, down + smt):
                if n <= 0 or not cur_cpus:
                    continue
                t = s.pod(cpu_make(n))
                if t.admitted:
                    change = cpu_change(n, cur_cpus) + f" is SMT-aligned ({smt} CPUs per core)"
                    pod_changes.append(_suggestion("smt-aligned", change, t))
        else:
            for direction in ("down", "up"):
                sizes = {}
                for c, n in unaligned:
                    m = n - n % smt
                    if direction == "up" or m == 0:
                        m += smt
                    sizes[c.name] = m
                t = s.pod(with_containers_cpus(raw, sizes))
                if t.admitted:
                    what = ", ".join(
                        f"{name} {m} instead of {dict((c.name, n) for c, n in unaligned)[name]}"
                        for name, m in sizes.items()
                    )
                    pod_changes.append(
                        _suggestion("smt-aligned", f"SMT-aligned CPU requests ({smt} CPUs per core): {what}", t)
                    )

    # 2. an empty pod shared pool: a bigger budget, or a smaller exclusive container
    if empty and stored.resources is not None:
        if empty_cpu:
            step = smt if full_pcpus else 1
            t = s.pod(with_pod_cpus(raw, budget + step))
            if t.admitted:
                pod_changes.append(
                    _suggestion(
                        "cpu-budget",
                        f"a pod CPU budget of {budget + step} instead of {budget} leaves {plural(step, 'CPU')} for the "
                        "pod shared pool",
                        t,
                    )
                )
            if excl:
                c, n = max(excl, key=lambda cn: cn[1])
                if n - step > 0:
                    t = s.pod(with_container_cpus(raw, c.name, n - step))
                    if t.admitted:
                        pod_changes.append(
                            _suggestion(
                                "container-cpus", f"{plural(n - step, 'CPU')} instead of {n} for container {c.name}", t
                            )
                        )
        if empty_mem:
            mem = stored.resources.requests.get(MEMORY)
            if mem is not None:
                cur = mem.int_value()
                extra = 256 * MI
                t = s.pod(with_pod_memory(raw, cur + extra))
                if t.admitted:
                    pod_changes.append(
                        _suggestion(
                            "memory-budget",
                            f"a pod memory budget of {human_bytes(cur + extra)} instead of {human_bytes(cur)} leaves "
                            "memory for the shared containers",
                            t,
                        )
                    )

    # 3. fewer CPUs
    if cpu_involved and cur_cpus > 1 and (cpu_pod_level or target):
        step = smt if full_pcpus and smt > 1 else 1
        cands = [n for n in range(step, cur_cpus, step)]
        if cands:
            found = s.largest(cands, cpu_make)
            if found is None and s.other is not None:
                obstacles.append(
                    f"with {cpu_change(s.other[0], cur_cpus)} it is rejected for another reason: {s.other[1]}"
                )
            if found is not None:
                n, t = found
                if not any(x.kind == "smt-aligned" and x.cpus == format_bits(_pinned(t)) for x in pod_changes):
                    pod_changes.append(_suggestion("fewer-cpus", cpu_change(n, cur_cpus), t))

    # 4. less memory
    if mem_involved:
        size, make, label = _memory_target(before, raw, stored, pod_level)
        if size > MI:
            cands = _memory_candidates(size)
            found = s.largest(cands, make) if cands else None
            if found is None and s.other is not None:
                obstacles.append(f"with {label(s.other[0])} it is rejected for another reason: {s.other[1]}")
            if found is not None:
                m, t = found
                pod_changes.append(_suggestion("less-memory", label(m), t))

    # 5a. the node-fit check ran short: free the resource by deleting a pod, or allow more pods
    sf = result.shortfall
    if sf is not None:
        deletions.extend(_fit_deletions(s, before, sf))
        smaller = _fit_smaller_request(s, before, raw, stored, sf)
        if smaller is not None:
            pod_changes.append(smaller)
        if sf.resource == PODS and cfg.pods_per_core == 0:
            t = s.config(max_pods=sf.capacity + 1)
            if t.admitted:
                configs.append(_suggestion("max-pods", f"maxPods {sf.capacity + 1} instead of {sf.capacity}", t))

    # 5b. a forbidden sysctl: allow it as an unsafe sysctl
    if reason == "SysctlForbidden" and "not allowlisted" in msg:
        names = [n for n, _v in stored.sysctls if n not in cfg.allowed_unsafe_sysctls]
        t = s.config(allowed_unsafe_sysctls=[*cfg.allowed_unsafe_sysctls, *names])
        if t.admitted:
            configs.append(_suggestion("sysctl", f"allowedUnsafeSysctls: {', '.join(names)}", t))

    # 5. delete one pod that pins CPUs or memory
    if sf is None and not empty and not rej.known_bug and not (reason == "SMTAlignmentError" and "not multiple" in msg):
        keys = [k for k in before.pods if sum(_pinned_size(before, k)) > 0][:MAX_DELETE_TRIALS]
        fits: list[tuple[tuple[int, int], str, Trial]] = []
        for k in keys:
            t = s.delete(k)
            if t.admitted:
                fits.append((_pinned_size(before, k), k, t))
        fits.sort(key=lambda x: x[0])
        for _size, k, t in fits[:MAX_DELETE_SUGGESTIONS]:
            sug = _suggestion("delete-pod", f"delete pod {k}", t)
            ids, _pinned_cpus, _text = placement(t.node, t.result) if t.node and t.result else ([], 0, "")
            where = f"fits on {numa_label(ids)}" if ids else "fits"
            sug.result = f"{where} after deleting pod {k}" + (f" (CPUs {sug.cpus})" if sug.cpus else "")
            deletions.append(sug)

    # 6. the kubelet configuration: scope, policy, options
    if reason in ("TopologyAffinityError", "UnexpectedAdmissionError", "SMTAlignmentError"):
        scope = cfg.topology_manager_scope
        other = "pod" if scope == "container" else "container"
        if cfg.topology_manager_policy != "none":
            t = s.config(topology_manager_scope=other)
            if t.admitted:
                configs.append(_suggestion("scope", f"topologyManagerScope {other} instead of {scope}", t))
        combo: Suggestion | None = None
        for pol in ("single-numa-node", "restricted", "best-effort", "none"):
            if pol == cfg.topology_manager_policy:
                continue
            t = s.config(topology_manager_policy=pol)
            if t.admitted:
                configs.append(
                    _suggestion("policy", f"topologyManagerPolicy {pol} instead of {cfg.topology_manager_policy}", t)
                )
            elif scope != "pod" and pol != "none" and combo is None and not any(x.kind == "scope" for x in configs):
                t = s.config(topology_manager_policy=pol, topology_manager_scope="pod")
                if t.admitted:
                    combo = _suggestion(
                        "policy",
                        f"topologyManagerPolicy {pol} with topologyManagerScope pod "
                        f"(instead of {cfg.topology_manager_policy} / {scope})",
                        t,
                    )
        if combo is not None:
            configs.insert(0, combo)
        if cfg.cpu_manager_policy == "static":
            for k, v in sorted(cfg.cpu_manager_policy_options.items()):
                if str(v).lower() not in ("true", "1", "t"):
                    continue
                opts = {kk: vv for kk, vv in cfg.cpu_manager_policy_options.items() if kk != k}
                t = s.config(cpu_manager_policy_options=opts)
                if t.admitted:
                    configs.append(_suggestion("cpu-option", f"cpuManagerPolicyOptions without {k}", t))

    if rej.known_bug:
        order = configs + pod_changes + deletions
    elif reason == "SMTAlignmentError" or empty:
        order = pod_changes + deletions + configs
    else:
        order = deletions + pod_changes + configs
    if not order:
        rej.causes.extend(f"Fixing that alone is not enough: {o}." for o in obstacles)
    return order, s.tried


def _fit_deletions(s: _Searcher, before: Node, sf: Shortfall) -> list[Suggestion]:
    """Deleting one active pod whose request of the short resource covers the shortfall (smallest first)."""
    cands: list[tuple[int, str]] = []
    for k, rec in before.pods.items():
        if sf.resource == PODS:
            cands.append((0, k))
            continue
        have = pod_request_amounts(rec.pod, before.pod_level_resources).get(sf.resource, 0)
        if have >= sf.short:
            cands.append((have, k))
    cands.sort()
    out: list[Suggestion] = []
    for have, k in cands[:MAX_DELETE_TRIALS]:
        t = s.delete(k)
        if not t.admitted:
            continue
        sug = _suggestion("delete-pod", f"delete pod {k}", t)
        freed = f" (frees {amount_text(sf.resource, have)})" if have else ""
        sug.result = f"fits after deleting pod {k}{freed}"
        out.append(sug)
        if len(out) >= MAX_DELETE_SUGGESTIONS:
            break
    return out


def _fit_smaller_request(s: _Searcher, before: Node, raw: Pod, stored: Pod, sf: Shortfall) -> Suggestion | None:
    """A cpu or memory request smaller by the shortfall (where one request can be changed), verified."""
    if sf.resource not in (CPU, MEMORY):
        return None
    res = stored.resources
    pod_level = before.pod_level_resources and res is not None and sf.resource in res.requests
    if pod_level:
        assert res is not None
        have = pod_request_amounts(stored, True)[sf.resource]
        owner, cname = "the pod (spec.resources)", ""
    else:
        holders = [c for c in stored.all_containers() if sf.resource in c.resources.requests]
        if len(holders) != 1:
            return None
        cname = holders[0].name
        owner = f"container {cname}"
        have = pod_request_amounts(replace(stored, init_containers=[], containers=holders), False)[sf.resource]
    want = have - sf.short
    if sf.resource == CPU:
        n = want // 1000
        if n < 1:
            return None
        make = with_pod_cpus(raw, n) if pod_level else with_container_cpus(raw, cname, n)
        change = f"a cpu request of {plural(n, 'CPU')} instead of {cpu_text(have)} for {owner}"
    else:
        size = want - want % MI
        if size < MI:
            return None
        make = with_pod_memory(raw, size) if pod_level else with_container_memory(raw, cname, size)
        change = f"a memory request of {human_bytes(size)} instead of {human_bytes(have)} for {owner}"
    t = s.pod(make)
    return _suggestion("fewer-cpus" if sf.resource == CPU else "less-memory", change, t) if t.admitted else None


def _pinned(t: Trial) -> int:
    if t.result is None:
        return 0
    b = t.result.pod_cpus
    if not b:
        for c in t.result.containers:
            if c.cpu_mode == EXCLUSIVE:
                b |= c.cpus
    return b


def _memory_target(
    node: Node, raw: Pod, stored: Pod, pod_level: bool
) -> tuple[int, Callable[[int], Pod], Callable[[int], str]]:
    """The memory to shrink: the pod budget (pod-level path), else every container's memory capped at a size."""
    if pod_level and stored.resources is not None and MEMORY in stored.resources.requests:
        size = stored.resources.requests[MEMORY].int_value()
        return (
            size,
            lambda m: with_pod_memory(raw, m),
            lambda m: f"a pod memory budget of {human_bytes(m)} instead of {human_bytes(size)}",
        )
    sizes = {
        c.name: q.int_value() for c in stored.all_containers() if (q := c.resources.requests.get(MEMORY)) is not None
    }
    if not sizes:
        return 0, lambda m: raw, lambda m: ""
    top = max(sizes.values())

    def make(m: int) -> Pod:
        p = copy.deepcopy(raw)
        for name, v in sizes.items():
            if v > m:
                c = p.container(name)
                assert c is not None
                _set_mem(c.resources.requests, c.resources.limits, m)
        return p

    def label(m: int) -> str:
        over = [n for n, v in sizes.items() if v > m]
        if len(over) == 1:
            return f"memory {human_bytes(m)} instead of {human_bytes(sizes[over[0]])} for container {over[0]}"
        return f"memory of at most {human_bytes(m)} per container ({', '.join(over)})"

    return top, make, label


def _memory_candidates(size: int) -> list[int]:
    """Round sizes below ``size``: multiples of 1Gi when big, else of 64Mi (ascending)."""
    unit = GI if size > 4 * GI else 64 * MI
    cands = list(range(unit, size, unit))
    if len(cands) > 4096:
        unit = size // 4096 // MI * MI or MI
        cands = list(range(unit, size, unit))
    return cands
