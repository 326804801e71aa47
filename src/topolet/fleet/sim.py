"""One cell of a fleet what-if: place a workload on a set of nodes, pod by pod (pure apart from the pod sink).

A *cell* is (variant, seed, shard). Inside a cell everything is sequential:
for each arriving pod, kube-scheduler's NodeResourcesFit picks a node
(:mod:`topolet.fleet.scheduler`, filtering on the allocatable each kubelet
reports), then that node's kubelet admits or rejects it with the engine
(``Node.admit``: the kubelet's whole admit-handler chain -- the resource
managers, then the node-fit predicates, OutOfcpu, OutOfpods, ...). A rejected pod is Failed with the
kubelet's reason and is not rescheduled; with ``recreate: N`` a controller
creates a replacement (same name, a NEW UID) up to N times, and the
scheduler may well pick the same node again (kubernetes issue 84869). With
``numaAware`` the scheduler filters out nodes whose kubelet admission would
fail (the trial admission is the real one when it succeeds; a failed one
leaves no state behind), which is what a topology-aware scheduler saves.

Departures delete the pod from its node; the scheduler forgets its requests.

The result is a deterministic function of the task: same inputs, same
numbers, whichever process runs it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from topolet.engine.errors import StartupError
from topolet.engine.node import Node
from topolet.engine.result import POD_SHARED
from topolet.fleet.convert import to_per_container
from topolet.fleet.scheduler import FitIndex, NodeAllocatable, PodRequest, pod_request
from topolet.fleet.spec import PoolSpec
from topolet.fleet.workload import Workload, WorkloadSource, expand_workload
from topolet.model.cpuset import format_bits
from topolet.model.features import POD_LEVEL_RESOURCES, FeatureGates
from topolet.model.manifest import admit_to_api
from topolet.model.pod import Pod

__all__ = [
    "ADMITTED",
    "DEPARTED",
    "INVALID",
    "PENDING",
    "REJECTED",
    "CellResult",
    "CellTask",
    "FleetError",
    "VariantPlan",
    "run_cell",
]

ADMITTED = "Admitted"
REJECTED = "Rejected"
PENDING = "Pending"
INVALID = "Invalid"
DEPARTED = "Departed"
UNSCHEDULABLE = "Unschedulable"

POD_COLUMNS = (
    "variant",
    "seed",
    "shard",
    "seq",
    "attempt",
    "pod",
    "uid",
    "template",
    "node",
    "pool",
    "outcome",
    "reason",
    "message",
    "pinned_cpus",
    "pod_shared_cpus",
    "cpus",
    "numa",
)
NODE_COLUMNS = (
    "variant",
    "seed",
    "shard",
    "node",
    "pool",
    "pods",
    "cpu_requested_m",
    "cpu_allocatable_m",
    "memory_requested",
    "memory_allocatable",
    "pinned_cpus",
    "shared_pool_cpus",
    "pod_shared_cpus",
    "free_cpus",
    "stranded_cpus",
    "free_cpus_per_numa",
)


class FleetError(ValueError):
    """A what-if that cannot run (a kubelet that refuses to start under a variant, ...)."""


@dataclass(frozen=True, slots=True)
class VariantPlan:
    """A variant resolved against the fleet: what changes for every pool and the workload."""

    name: str
    kubelet: dict[str, Any] = field(default_factory=dict)
    workload: str = "as-written"  # or "per-container"
    scoring: str = "LeastAllocated"
    numa_aware: bool = False
    recreate: int = 0
    description: str = ""


@dataclass(slots=True)
class CellTask:
    index: int
    variant: VariantPlan
    seed: int
    shard: int
    shards: int
    pools: list[PoolSpec]
    api_gates: FeatureGates
    token: str
    node_limit: int | None = None  # only the first N nodes of the cell (nodes-needed bisection)
    fail_budget: int | None = None  # stop once more pods than this failed (bisection)
    pods_path: str | None = None  # stream per-pod rows to this Parquet file
    want_nodes: bool = False


@dataclass(slots=True)
class CellResult:
    index: int
    variant: str
    seed: int
    shard: int
    nodes: int = 0
    pods: int = 0
    admitted: int = 0
    departed: int = 0
    pending: int = 0
    invalid: int = 0
    recreated: int = 0
    numa_filtered: int = 0  # trial admissions that failed (NUMA-aware placement)
    rejected: dict[str, int] = field(default_factory=dict)  # pods whose last attempt was rejected, by reason
    rejections: dict[str, int] = field(default_factory=dict)  # every rejected attempt, by reason
    running: int = 0
    pinned_cpus: int = 0
    peak_pinned_cpus: int = 0
    shared_pool_cpus: int = 0
    min_shared_pool_cpus: int = 0
    pod_shared_cpus: int = 0
    free_cpus: int = 0
    stranded_cpus: int = 0
    free_numa_nodes: int = 0
    partly_used_numa_nodes: int = 0
    nodes_used: int = 0
    per_template: dict[str, dict[str, int]] = field(default_factory=dict)
    node_rows: list[tuple[Any, ...]] | None = None
    stopped_early: bool = False
    invalid_messages: dict[str, str] = field(default_factory=dict)


# -- workload expansion, cached per process (Dask workers run many cells of one workload) -----------
_WL_CACHE: dict[tuple[str, int], Workload] = {}


def cached_workload(sources: list[WorkloadSource], token: str, seed: int) -> Workload:
    key = (token, seed)
    wl = _WL_CACHE.get(key)
    if wl is None:
        if len(_WL_CACHE) >= 4:
            _WL_CACHE.pop(next(iter(_WL_CACHE)))
        wl = expand_workload(sources, seed)
        _WL_CACHE[key] = wl
    return wl


# -- pools ------------------------------------------------------------------------------------------
@dataclass(slots=True)
class _Pool:
    spec: PoolSpec
    config: Any
    alloc: NodeAllocatable
    empty: tuple[int, int, int, int, int, int, str]  # summary of a node with no pod
    reserved: int
    numa_avail: list[int]


def _allocatable(node: Node) -> NodeAllocatable:
    """The Node's ``status.allocatable`` as the kubelet reports it (the scheduler filters on it, and the
    kubelet's own node-fit check admits against it): memory less the hugepages, pods by maxPods/podsPerCore."""
    alloc = node.node_object.allocatable
    hp = tuple(sorted((k, v) for k, v in alloc.items() if k.startswith("hugepages-")))
    return NodeAllocatable(alloc.get("cpu", 0), alloc.get("memory", 0), alloc.get("pods", 0), hp)


def _cpu_summary(node: Node, reserved: int, numa_avail: list[int]) -> tuple[int, int, int, int, int, int, str]:
    """(pinned, shared pool, free, stranded, whole free NUMA nodes, partly used NUMA nodes, per-NUMA free)."""
    policy = node.cpu_manager.policy
    all_cpus = node.topology.all_cpus
    if getattr(policy, "name", "none") != "static":
        per = [a.bit_count() for a in numa_avail]
        return 0, all_cpus.bit_count(), sum(per), 0, sum(1 for p in per if p), 0, ",".join(map(str, per))
    default = node.cpu_manager.state.default_cpuset
    pinned = (all_cpus & ~reserved & ~default).bit_count()
    free = stranded = whole = partly = 0
    per: list[str] = []
    for avail in numa_avail:
        cap = avail.bit_count()
        f = (avail & default).bit_count()
        per.append(str(f))
        free += f
        if cap == 0:
            continue
        if f == cap:
            whole += 1
        elif f > 0:
            stranded += f
            partly += 1
    return pinned, default.bit_count(), free, stranded, whole, partly, ",".join(per)


def _prepare_pool(spec: PoolSpec, variant: VariantPlan) -> _Pool:
    cfg = spec.config(variant.kubelet or None)
    try:
        probe = Node(spec.topology, cfg)
    except StartupError as e:
        raise FleetError(
            f"variant {variant.name!r}: pool {spec.name!r} ({spec.kubelet_source}): the kubelet refuses to start: {e}"
        ) from None
    reserved = getattr(probe.cpu_manager.policy, "reserved_cpus", 0) or 0
    topo = spec.topology
    numa_avail = [topo.numa_cpus.get(n, 0) & ~reserved for n in topo.numa_ids]
    return _Pool(spec, cfg, _allocatable(probe), _cpu_summary(probe, reserved, numa_avail), reserved, numa_avail)


# -- templates ---------------------------------------------------------------------------------------
@dataclass(slots=True)
class _Tmpl:
    name: str
    stored: Pod | None
    invalid: str
    req: PodRequest | None
    shape_key: Any
    selector: dict[str, str]
    namespace: str


def _prepare_templates(wl: Workload, variant: VariantPlan, gates: FeatureGates) -> list[_Tmpl]:
    out: list[_Tmpl] = []
    pod_level = gates.enabled(POD_LEVEL_RESOURCES)
    for ti, t in enumerate(wl.templates):
        pod = to_per_container(t.pod) if variant.workload == "per-container" else t.pod
        stored, msg = admit_to_api(pod, gates, require_image=False)
        if stored is None:
            out.append(_Tmpl(t.name, None, msg or "invalid", None, None, t.node_selector, t.namespace))
            continue
        req = pod_request(stored, pod_level)
        key: Any = ti if variant.numa_aware else (req, tuple(sorted(t.node_selector.items())))
        out.append(_Tmpl(t.name, stored, "", req, key, t.node_selector, t.namespace))
    return out


# -- the per-pod sink -----------------------------------------------------------------------------------
class _NullSink:
    def add(self, row: tuple[Any, ...]) -> None:
        pass

    def close(self) -> None:
        pass


def _uid(seed: int, seq: int, attempt: int) -> str:
    return "%08x-%04x-4000-8000-%012x" % (seq & 0xFFFFFFFF, attempt & 0xFFFF, seed & 0xFFFFFFFFFFFF)  # noqa: UP031


# -- the cell ------------------------------------------------------------------------------------------
def run_cell(
    task: CellTask,
    sources: list[WorkloadSource],
    progress: Callable[[int], None] | None = None,
) -> CellResult:
    """Simulate one cell; per-pod rows go to ``task.pods_path`` (Parquet) when set."""
    v = task.variant
    wl = cached_workload(sources, task.token, task.seed)
    pools = [_prepare_pool(p, v) for p in task.pools]
    # the cell's nodes: node j of each pool goes to shard j % shards; fleet order
    meta: list[tuple[int, int]] = []
    for pi, p in enumerate(task.pools):
        meta.extend((pi, j) for j in range(task.shard, p.count, task.shards))
    if task.node_limit is not None:
        meta = meta[: task.node_limit]
    n_nodes = len(meta)
    rng = random.Random(f"fleet/{task.seed}/{task.shard}")
    fit = FitIndex(
        [pools[pi].alloc for pi, _ in meta],
        [task.pools[pi].labels for pi, _ in meta],
        v.scoring,
        rng,
    )
    nodes: list[Node | None] = [None] * n_nodes
    node_pod_shared = [0] * n_nodes
    tmpls = _prepare_templates(wl, v, task.api_gates)
    shape_ids: dict[Any, int] = {}
    res = CellResult(task.index, v.name, task.seed, task.shard, nodes=n_nodes)
    per_t = {t.name: {"admitted": 0, "rejected": 0, "pending": 0, "invalid": 0, "pinned_cpus": 0} for t in tmpls}
    live: dict[int, tuple[int, str, PodRequest, int, int, str]] = {}
    rejected = res.rejected
    rejections = res.rejections
    pinned_total = 0
    peak = 0
    failures = 0
    seed = task.seed
    recreate = v.recreate
    numa_aware = v.numa_aware
    shards, shard = task.shards, task.shard
    node_name = [f"{task.pools[pi].name}-{j}" for pi, j in meta]
    pool_name = [task.pools[pi].name for pi, _ in meta]

    sink: Any = _NullSink()
    if task.pods_path:
        from topolet.fleet.output import PodSink

        sink = PodSink(task.pods_path, POD_COLUMNS)
    record = task.pods_path is not None
    vname = v.name

    def get_node(i: int) -> Node:
        node = nodes[i]
        if node is None:
            pool = pools[meta[i][0]]
            node = Node(pool.spec.topology, pool.config, name=node_name[i])
            nodes[i] = node
        return node

    def shape_of(t: _Tmpl) -> int:
        s = shape_ids.get(t.shape_key)
        if s is None:
            assert t.req is not None
            s = fit.add_shape(t.req, t.selector)
            shape_ids[t.shape_key] = s
        return s

    def depart(seq: int) -> None:
        nonlocal pinned_total
        rec = live.pop(seq, None)
        if rec is None:
            return
        i, key, req, _pinned, pod_shared, tname = rec
        node = get_node(i)
        cs = node.cpu_manager.state
        before = cs.default_cpuset
        node.delete(key)
        freed = (node.cpu_manager.state.default_cpuset & ~before).bit_count()
        pinned_total -= freed
        node_pod_shared[i] -= pod_shared
        fit.release(i, req)
        res.departed += 1
        if record:
            sink.add(
                (
                    vname,
                    seed,
                    shard,
                    seq,
                    0,
                    key,
                    "",
                    tname,
                    node_name[i],
                    pool_name[i],
                    DEPARTED,
                    "",
                    "",
                    -freed,
                    0,
                    "",
                    "",
                )
            )

    n = len(wl)
    departures = wl.departures
    tmpl_of = wl.tmpl_of
    step = 1000
    for idx in range(n):
        deps = departures.get(idx)
        if deps:
            for seq in deps:
                if seq % shards == shard:
                    depart(seq)
        if idx % shards != shard:
            continue
        res.pods += 1
        if progress is not None and res.pods % step == 0:
            progress(step)
        t = tmpls[tmpl_of[idx]]
        stats = per_t[t.name]
        name = wl.name(idx)
        key = f"{t.namespace}/{name}"
        if t.stored is None:
            res.invalid += 1
            stats["invalid"] += 1
            failures += 1
            if record:
                sink.add(
                    (vname, seed, shard, idx, 0, key, "", t.name, "", "", INVALID, "Invalid", t.invalid, 0, 0, "", "")
                )
            if task.fail_budget is not None and failures > task.fail_budget:
                res.stopped_early = True
                break
            continue
        s = shape_of(t)
        st = t.stored
        req = t.req
        assert req is not None
        for attempt in range(recreate + 1):
            if attempt:
                res.recreated += 1
            uid = _uid(seed, idx, attempt)
            pod = Pod(
                name,
                t.namespace,
                uid,
                st.containers,
                st.init_containers,
                st.resources,
                st.qos_class,
                st.labels,
                st.owner,
            )
            chosen = -1
            result = None
            before = 0
            if numa_aware:
                for i in fit.candidates(s):
                    node = get_node(i)
                    b = node.cpu_manager.state.default_cpuset
                    r = node.admit(pod)
                    if r.admitted:
                        chosen, result, before = i, r, b
                        break
                    res.numa_filtered += 1
                    fit.block(s, i)
            else:
                i = fit.select(s)
                if i is not None:
                    node = get_node(i)
                    before = node.cpu_manager.state.default_cpuset
                    result = node.admit(pod)
                    chosen = i
            if result is None:
                res.pending += 1
                stats["pending"] += 1
                failures += 1
                if record:
                    msg = "0/%d nodes are available" % n_nodes  # noqa: UP031
                    sink.add(
                        (
                            vname,
                            seed,
                            shard,
                            idx,
                            attempt,
                            key,
                            uid,
                            t.name,
                            "",
                            "",
                            PENDING,
                            UNSCHEDULABLE,
                            msg,
                            0,
                            0,
                            "",
                            "",
                        )
                    )
                break
            node = nodes[chosen]
            assert node is not None
            if result.admitted:
                after = node.cpu_manager.state.default_cpuset
                pinned_cpus = before & ~after
                pinned = pinned_cpus.bit_count()
                pod_shared_bits = 0
                mems = 0
                for c in result.containers:
                    if c.cpu_mode == POD_SHARED:
                        pod_shared_bits |= c.cpus
                    mems |= c.mems
                pod_shared = pod_shared_bits.bit_count()
                pinned_total += pinned
                if pinned_total > peak:
                    peak = pinned_total
                node_pod_shared[chosen] += pod_shared
                fit.assign(chosen, req)
                live[idx] = (chosen, key, req, pinned, pod_shared, t.name)
                res.admitted += 1
                stats["admitted"] += 1
                stats["pinned_cpus"] += pinned
                if record:
                    sink.add(
                        (
                            vname,
                            seed,
                            shard,
                            idx,
                            attempt,
                            key,
                            uid,
                            t.name,
                            node_name[chosen],
                            pool_name[chosen],
                            ADMITTED,
                            "",
                            "",
                            pinned,
                            pod_shared,
                            format_bits(pinned_cpus),
                            format_bits(mems),
                        )
                    )
                break
            reason = result.reason or "UnknownReason"
            rejections[reason] = rejections.get(reason, 0) + 1
            if record:
                sink.add(
                    (
                        vname,
                        seed,
                        shard,
                        idx,
                        attempt,
                        key,
                        uid,
                        t.name,
                        node_name[chosen],
                        pool_name[chosen],
                        REJECTED,
                        reason,
                        result.status_message,
                        0,
                        0,
                        "",
                        "",
                    )
                )
            if attempt == recreate:
                rejected[reason] = rejected.get(reason, 0) + 1
                stats["rejected"] += 1
                failures += 1
        if task.fail_budget is not None and failures > task.fail_budget:
            res.stopped_early = True
            break
    else:
        for seq in wl.final_departures:
            if seq % shards == shard:
                depart(seq)
    sink.close()

    # the fleet's state at the end
    res.running = len(live)
    res.peak_pinned_cpus = peak
    min_shared = None
    rows: list[tuple[Any, ...]] | None = [] if task.want_nodes else None
    u_cpu, u_mem = fit.u_cpu, fit.u_mem
    for i in range(n_nodes):
        pool = pools[meta[i][0]]
        node = nodes[i]
        npods = len(node.pods) if node is not None else 0
        summary = _cpu_summary(node, pool.reserved, pool.numa_avail) if node is not None and npods else pool.empty
        pinned, shared, free, stranded, whole, partly, per_numa = summary
        res.pinned_cpus += pinned
        res.shared_pool_cpus += shared
        res.pod_shared_cpus += node_pod_shared[i]
        res.free_cpus += free
        res.stranded_cpus += stranded
        res.free_numa_nodes += whole
        res.partly_used_numa_nodes += partly
        if npods:
            res.nodes_used += 1
        if min_shared is None or shared < min_shared:
            min_shared = shared
        if rows is not None:
            rows.append(
                (
                    vname,
                    seed,
                    shard,
                    node_name[i],
                    pool_name[i],
                    npods,
                    u_cpu[i],
                    pool.alloc.cpu,
                    u_mem[i],
                    pool.alloc.memory,
                    pinned,
                    shared,
                    node_pod_shared[i],
                    free,
                    stranded,
                    per_numa,
                )
            )
    res.min_shared_pool_cpus = min_shared or 0
    res.per_template = per_t
    res.node_rows = rows
    for t in tmpls:
        if t.stored is None:
            res.invalid_messages[t.name] = t.invalid
    return res
