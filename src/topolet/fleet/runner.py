"""Running a fleet what-if: cells (variant x seed x shard) in one process or as Dask tasks, merged in order.

Every cell is an independent simulation whose result depends only on its
inputs, so the merged report is identical whether the cells ran one after
the other here, on a ``LocalCluster`` of N single-threaded worker processes
(``--workers N``) or on an existing Dask scheduler (``--scheduler ADDRESS``):
results are gathered, then sorted by cell index (variant, seed, shard).

*Nodes needed* (``--nodes-needed``): for each cell, the smallest k such that
the same simulation (same workload, seed and placement policy) on only the
first k nodes of the cell (fleet order: pools as listed, nodes in order)
admits at least as many pods as the whole cell did; found by bisection,
which assumes that more nodes never admit fewer pods. Summed over shards.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from topolet.fleet.sim import CellResult, CellTask, VariantPlan, cached_workload, run_cell
from topolet.fleet.spec import FleetSpec
from topolet.fleet.variants import BASELINE
from topolet.fleet.workload import WorkloadSource, workload_token

__all__ = ["Progress", "RunOptions", "build_report", "nodes_needed", "run_fleet"]


class Progress(Protocol):
    def start(self, total: int, description: str) -> None: ...

    def advance(self, n: int) -> None: ...


@dataclass(slots=True)
class RunOptions:
    variants: list[VariantPlan]
    seeds: list[int] = field(default_factory=lambda: [0])
    shards: int = 1
    workers: int | None = None
    scheduler: str | None = None
    out: Path | None = None
    nodes_needed: bool = False
    baseline: str | None = None


def nodes_needed(task: CellTask, sources: list[WorkloadSource], target: int, cell_pods: int) -> int:
    """The smallest prefix of the cell's nodes that admits ``target`` pods (bisection)."""
    if target <= 0:
        return 0
    full = task.node_limit
    assert full is not None
    lo, hi = 0, full  # admitted(lo) < target <= admitted(hi)
    budget = cell_pods - target
    while lo + 1 < hi:
        mid = (lo + hi) // 2
        r = run_cell(replace(task, node_limit=mid, fail_budget=budget, pods_path=None, want_nodes=False), sources)
        if not r.stopped_early and r.admitted >= target:
            hi = mid
        else:
            lo = mid
    return hi


def _nn_task(task: CellTask, sources: list[WorkloadSource], target: int, cell_pods: int) -> tuple[int, int]:
    return task.index, nodes_needed(task, sources, target, cell_pods)


def _cell_nodes(fleet: FleetSpec, shard: int, shards: int) -> int:
    return sum(len(range(shard, p.count, shards)) for p in fleet.pools)


def _tasks(fleet: FleetSpec, sources: list[WorkloadSource], opts: RunOptions) -> list[CellTask]:
    token = workload_token(sources)
    tasks: list[CellTask] = []
    for v in opts.variants:
        for seed in opts.seeds:
            for shard in range(opts.shards):
                i = len(tasks)
                pods_path = str(opts.out / "parts" / f"pods-{i:05d}.parquet") if opts.out else None
                tasks.append(
                    CellTask(
                        index=i,
                        variant=v,
                        seed=seed,
                        shard=shard,
                        shards=opts.shards,
                        pools=fleet.pools,
                        api_gates=fleet.api_gates,
                        token=token,
                        pods_path=pods_path,
                        want_nodes=opts.out is not None,
                    )
                )
    return tasks


class _Null:
    def start(self, total: int, description: str) -> None:
        pass

    def advance(self, n: int) -> None:
        pass


def _run_local(
    tasks: list[CellTask], sources: list[WorkloadSource], cell_pods: list[int], progress: Progress
) -> list[CellResult]:
    out: list[CellResult] = []
    for t in tasks:
        done = 0

        def tick(n: int) -> None:
            nonlocal done
            done += n
            progress.advance(n)

        r = run_cell(t, sources, tick)
        progress.advance(max(cell_pods[t.index] - done, 0))
        out.append(r)
    return out


def _client(opts: RunOptions) -> tuple[Any, Any]:
    from dask.distributed import Client, LocalCluster

    if opts.scheduler:
        return Client(opts.scheduler, timeout="20s"), None
    cluster = LocalCluster(
        n_workers=opts.workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
        host="127.0.0.1",
    )
    return Client(cluster), cluster


def _run_dask(
    tasks: list[CellTask],
    sources: list[WorkloadSource],
    cell_pods: list[int],
    opts: RunOptions,
    progress: Progress,
    targets: Callable[[list[CellResult]], list[tuple[CellTask, int]]] | None,
) -> tuple[list[CellResult], dict[int, int]]:
    from dask.distributed import as_completed

    client, cluster = _client(opts)
    try:
        src = client.scatter(sources, broadcast=True)
        futs = [client.submit(run_cell, t, src, pure=False, key=f"topolet-cell-{t.index}-{id(t)}") for t in tasks]
        results: list[CellResult] = []
        for fut in as_completed(futs):
            r = fut.result()
            results.append(r)
            progress.advance(cell_pods[r.index])
        nn: dict[int, int] = {}
        if targets is not None:
            jobs = targets(sorted(results, key=lambda r: r.index))
            nn_futs = [client.submit(_nn_task, t, src, target, cell_pods[t.index], pure=False) for t, target in jobs]
            for fut in as_completed(nn_futs):
                idx, k = fut.result()
                nn[idx] = k
        return results, nn
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_fleet(
    fleet: FleetSpec,
    sources: list[WorkloadSource],
    opts: RunOptions,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Run every cell and return the merged report (see :func:`build_report`)."""
    progress = progress or _Null()
    if opts.out is not None:
        opts.out.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(opts.out / "parts", ignore_errors=True)
    tasks = _tasks(fleet, sources, opts)
    # pods per cell (arrivals of its shard), for the progress bar and the bisection budget
    token = tasks[0].token if tasks else workload_token(sources)
    sizes = {seed: len(cached_workload(sources, token, seed)) for seed in opts.seeds}
    cell_pods = [len(range(t.shard, sizes[t.seed], t.shards)) for t in tasks]
    progress.start(sum(cell_pods), "simulating")

    def nn_jobs(results: list[CellResult]) -> list[tuple[CellTask, int]]:
        return [
            (replace(tasks[r.index], node_limit=_cell_nodes(fleet, r.shard, opts.shards)), r.admitted) for r in results
        ]

    nn: dict[int, int] = {}
    if opts.workers or opts.scheduler:
        results, nn = _run_dask(tasks, sources, cell_pods, opts, progress, nn_jobs if opts.nodes_needed else None)
    else:
        results = _run_local(tasks, sources, cell_pods, progress)
        if opts.nodes_needed:
            for t, target in nn_jobs(sorted(results, key=lambda r: r.index)):
                nn[t.index] = nodes_needed(t, sources, target, cell_pods[t.index])
    results.sort(key=lambda r: r.index)
    report = build_report(fleet, opts, results, nn, sum(sizes.values()) // max(len(sizes), 1))
    if opts.out is not None:
        _write_files(report, results, tasks, opts.out)
    return report


def _add(a: dict[str, int], b: dict[str, int]) -> None:
    for k, v in b.items():
        a[k] = a.get(k, 0) + v


_SUMS = (
    "nodes",
    "pods",
    "admitted",
    "running",
    "departed",
    "pending",
    "invalid",
    "recreated",
    "numa_filtered",
    "pinned_cpus",
    "peak_pinned_cpus",
    "shared_pool_cpus",
    "pod_shared_cpus",
    "free_cpus",
    "stranded_cpus",
    "free_numa_nodes",
    "partly_used_numa_nodes",
    "nodes_used",
)


def build_report(
    fleet: FleetSpec, opts: RunOptions, results: list[CellResult], nn: dict[int, int], pods: int
) -> dict[str, Any]:
    """Per (variant, seed): the cells' sums, savings against the baseline variant, nodes needed."""
    rows: dict[tuple[str, int], dict[str, Any]] = {}
    plans = {v.name: v for v in opts.variants}
    for r in results:
        key = (r.variant, r.seed)
        row = rows.get(key)
        if row is None:
            v = plans[r.variant]
            row = {
                "variant": r.variant,
                "seed": r.seed,
                "description": v.description,
                "workload": v.workload,
                "scoring": v.scoring,
                "numa_aware": v.numa_aware,
                "recreate": v.recreate,
                "kubelet_patch": v.kubelet,
                **dict.fromkeys(_SUMS, 0),
                "min_shared_pool_cpus": None,
                "rejected": {},
                "rejections": {},
                "per_template": {},
                "invalid_messages": {},
                "nodes_needed": 0 if opts.nodes_needed else None,
            }
            rows[key] = row
        for k in _SUMS:
            row[k] += getattr(r, k)
        m = row["min_shared_pool_cpus"]
        row["min_shared_pool_cpus"] = r.min_shared_pool_cpus if m is None else min(m, r.min_shared_pool_cpus)
        _add(row["rejected"], r.rejected)
        _add(row["rejections"], r.rejections)
        for t, st in r.per_template.items():
            _add(row["per_template"].setdefault(t, {}), st)
        row["invalid_messages"].update(r.invalid_messages)
        if opts.nodes_needed:
            row["nodes_needed"] += nn.get(r.index, 0)
    baseline = opts.baseline or (BASELINE if BASELINE in plans else None)
    if baseline is not None and baseline not in plans:
        baseline = None
    out_rows: list[dict[str, Any]] = []
    for (name, seed), row in rows.items():
        row["rejected"] = dict(sorted(row["rejected"].items()))
        row["rejections"] = dict(sorted(row["rejections"].items()))
        row["rejected_total"] = sum(row["rejected"].values())
        row["pinned_per_running_pod"] = round(row["pinned_cpus"] / row["running"], 3) if row["running"] else 0.0
        row["stranded_fraction"] = round(row["stranded_cpus"] / row["free_cpus"], 4) if row["free_cpus"] else 0.0
        base = rows.get((baseline, seed)) if baseline else None
        row["cpus_saved"] = base["pinned_cpus"] - row["pinned_cpus"] if base is not None else None
        row["baseline"] = baseline
        out_rows.append(row)
        del name
    return {
        "fleet": fleet.name,
        "fleet_file": fleet.source,
        "nodes": fleet.node_count,
        "pools": [
            {
                "name": p.name,
                "count": p.count,
                "topology": p.topology_source,
                "kubelet": p.kubelet_source,
                "labels": p.labels,
            }
            for p in fleet.pools
        ],
        "pods": pods,
        "seeds": list(opts.seeds),
        "shards": opts.shards,
        "baseline": baseline,
        "definitions": {
            "pinned_cpus": "CPUs taken out of the nodes' shared pools at the end: exclusive container CPUs plus "
            "pod-level CPU budgets (a pod's whole budget is pinned, its shared part included); reserved CPUs excluded",
            "cpus_saved": "pinned_cpus of the baseline variant (same seed) minus this variant's",
            "shared_pool_cpus": "sum over nodes of the node shared pool (the CPU manager's default cpuset)",
            "pod_shared_cpus": "sum over pods of their pod shared pool (budget minus exclusive slices)",
            "stranded_cpus": "free (unpinned, unreserved) CPUs on NUMA nodes that are partly pinned",
            "nodes_used": "nodes running at least one pod at the end",
            "nodes_needed": "smallest prefix of each cell's nodes (pools in file order) that admits as many pods as "
            "the whole cell, by bisection; summed over shards (null unless --nodes-needed)",
        },
        "variants": out_rows,
    }


def _write_files(report: dict[str, Any], results: list[CellResult], tasks: list[CellTask], out: Path) -> None:
    import json

    from topolet.fleet.output import merge_parts, write_nodes, write_plots
    from topolet.fleet.render import markdown_table

    parts = [t.pods_path for t in sorted(tasks, key=lambda t: t.index) if t.pods_path]
    merge_parts([p for p in parts if p and Path(p).exists()], out / "pods.parquet", out / "pods.csv")
    shutil.rmtree(out / "parts", ignore_errors=True)
    write_nodes((row for r in results for row in (r.node_rows or [])), out / "nodes.parquet", out / "nodes.csv")
    (out / "summary.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    (out / "report.md").write_text(markdown_table(report), encoding="utf-8")
    write_plots(report, out)
