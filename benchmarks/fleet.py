"""Fleet what-if at scale: 5,000 nodes, 200,000 pods, one process, then the speed-up with 2 Dask workers.

Fleet: 5,000 nodes of preset 2-numa (2 sockets x 16 cores x 2 threads, 64 CPUs, 2 NUMA nodes,
128Gi) with the seed article's kubelet (static CPU manager, reservedSystemCPUs 0, Static memory
manager, single-numa-node at pod scope, both pod-level gates). Workload (seeded, random order):
20,000 database, 6,000 trading, 4,000 ml-trainer and 170,000 web pods.

Measured, each in a fresh subprocess (so that peak RSS is the run's own):

1. ``Node(topology, config)`` construction cost, and the share of ``startup_checks`` in it;
2. one variant (as-written) on one process: wall time, CPU time, peak RSS (getrusage);
3. two variants (per-container, as-written) on one process, then on a LocalCluster of 2
   single-threaded workers: wall times, speed-up, workers' peak RSS, identical reports.

    python benchmarks/fleet.py [--nodes N] [--pods P] [--only node|single|dask]

The machine has 2 cores: the Dask speed-up is bounded by 2 and by whatever else runs.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

MIX = (("database", 0.10), ("trading", 0.03), ("ml-trainer", 0.02), ("web", 0.85))


def write_inputs(tmp: Path, nodes: int, pods: int) -> tuple[str, str]:
    fleet = {"name": f"bench-{nodes}", "pools": [{"name": "std", "count": nodes, "topology": "preset:2-numa"}]}
    counts = [int(pods * f) for _, f in MIX]
    counts[-1] += pods - sum(counts)
    mix = {
        "apiVersion": "topolet.dev/v1alpha1",
        "kind": "WorkloadMix",
        "name": "bench",
        "order": "random",
        "mix": [{"profile": p, "count": c} for (p, _), c in zip(MIX, counts, strict=True)],
    }
    (tmp / "fleet.yaml").write_text(yaml.safe_dump(fleet), encoding="utf-8")
    (tmp / "mix.yaml").write_text(yaml.safe_dump(mix), encoding="utf-8")
    return str(tmp / "fleet.yaml"), str(tmp / "mix.yaml")


def maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def case_node() -> dict[str, Any]:
    from topolet.engine.node import Node
    from topolet.engine.startup import startup_checks
    from topolet.io.inputs import load_kubelet_config_file, load_topology_arg

    topo = load_topology_arg("preset:2-numa")
    cfg = load_kubelet_config_file(None)
    for _ in range(50):
        Node(topo, cfg)
    n = 1000
    t = time.perf_counter()
    for _ in range(n):
        Node(topo, cfg)
    node_ms = (time.perf_counter() - t) / n * 1000
    t = time.perf_counter()
    for _ in range(n):
        startup_checks(cfg, topo)
    plan_ms = (time.perf_counter() - t) / n * 1000
    return {"node_ms": node_ms, "startup_checks_ms": plan_ms, "share": plan_ms / node_ms}


def _run(
    fleet_path: str, mix: str, variants: list[str], scheduler: str | None = None
) -> tuple[dict[str, Any], float, float]:
    from topolet.fleet.runner import RunOptions, run_fleet
    from topolet.fleet.spec import load_fleet
    from topolet.fleet.variants import resolve_variant
    from topolet.fleet.workload import load_workload

    fleet = load_fleet(fleet_path)
    sources = load_workload([mix])
    opts = RunOptions([resolve_variant(v, fleet) for v in variants], scheduler=scheduler)
    t, c = time.perf_counter(), time.process_time()
    report = run_fleet(fleet, sources, opts)
    return report, time.perf_counter() - t, time.process_time() - c


def case_single(fleet_path: str, mix: str) -> dict[str, Any]:
    load = os.getloadavg()[0]
    report, wall, cpu = _run(fleet_path, mix, ["as-written"])
    row = report["variants"][0]
    keep = ("admitted", "rejected", "pending", "pinned_cpus", "stranded_cpus", "nodes_used")
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_rss_mib": maxrss_mib(),
        "row": {k: row[k] for k in keep},
        "load_before": load,
    }


def _worker_maxrss() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _worker_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def case_dask(fleet_path: str, mix: str) -> dict[str, Any]:
    from dask.distributed import Client, LocalCluster

    variants = ["per-container", "as-written"]
    one, wall1, cpu1 = _run(fleet_path, mix, variants)
    t = time.perf_counter()
    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        host="127.0.0.1",
        silence_logs=logging.ERROR,
    )
    start = time.perf_counter() - t
    load = os.getloadavg()[0]
    try:
        with Client(cluster) as c:
            wcpu0 = c.run(_worker_cpu)
        two, wall2, _ = _run(fleet_path, mix, variants, scheduler=cluster.scheduler_address)
        with Client(cluster) as c:
            worker_rss = sorted(c.run(_worker_maxrss).values())
            wcpu1 = c.run(_worker_cpu)
    finally:
        cluster.close()
    return {
        "one_process_wall_s": wall1,
        "one_process_cpu_s": cpu1,
        "one_process_peak_rss_mib": maxrss_mib(),
        "cluster_start_s": start,
        "two_workers_wall_s": wall2,
        "speedup": wall1 / wall2,
        "speedup_with_start": wall1 / (wall2 + start),
        "speedup_cpu_bound": cpu1 / max(wcpu1[w] - wcpu0[w] for w in wcpu1),
        "worker_peak_rss_mib": worker_rss,
        "identical": one == two,
        "worker_cpu_s": sorted(wcpu1[w] - wcpu0[w] for w in wcpu1),
        "load_before": load,
        "load_after": os.getloadavg()[0],
        "saved": {r["variant"]: r["cpus_saved"] for r in one["variants"]},
        "pinned": {r["variant"]: r["pinned_cpus"] for r in one["variants"]},
    }


def _sub(case: str, args: argparse.Namespace, tmp: str) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--case", case, "--nodes", str(args.nodes), "--pods", str(args.pods), "--tmp", tmp]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nodes", type=int, default=5000)
    ap.add_argument("--pods", type=int, default=200_000)
    ap.add_argument("--only", choices=("node", "single", "dask"))
    ap.add_argument("--case", help=argparse.SUPPRESS)
    ap.add_argument("--tmp", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.case:
        fleet_path, mix = str(Path(args.tmp) / "fleet.yaml"), str(Path(args.tmp) / "mix.yaml")
        res = {
            "node": case_node,
            "single": lambda: case_single(fleet_path, mix),
            "dask": lambda: case_dask(fleet_path, mix),
        }[args.case]()
        print(json.dumps(res))
        return
    with tempfile.TemporaryDirectory() as tmp:
        write_inputs(Path(tmp), args.nodes, args.pods)
        print(f"fleet: {args.nodes} nodes (preset 2-numa, seed kubelet config); workload: {args.pods} pods")
        if args.only in (None, "node"):
            r = _sub("node", args, tmp)
            print(
                f"Node() construction: {r['node_ms']:.3f} ms per node, of which startup_checks "
                f"{r['startup_checks_ms']:.3f} ms ({100 * r['share']:.0f}%); x{args.nodes} nodes = "
                f"{r['node_ms'] * args.nodes / 1000:.1f} s"
            )
        if args.only in (None, "single"):
            r = _sub("single", args, tmp)
            print(
                f"one variant, one process: wall {r['wall_s']:.1f} s, CPU {r['cpu_s']:.1f} s, "
                f"peak RSS {r['peak_rss_mib']:.0f} MiB (target: <= 60 s; "
                f"1-min load average before: {r['load_before']:.1f})"
            )
            print(f"  {r['row']}")
        if args.only in (None, "dask"):
            r = _sub("dask", args, tmp)
            print(
                f"two variants (per-container, as-written): one process {r['one_process_wall_s']:.1f} s "
                f"(peak RSS {r['one_process_peak_rss_mib']:.0f} MiB); 2 Dask workers {r['two_workers_wall_s']:.1f} s "
                f"+ cluster start {r['cluster_start_s']:.1f} s; speed-up {r['speedup']:.2f}x "
                f"({r['speedup_with_start']:.2f}x with the start); workers' peak RSS "
                f"{', '.join(f'{m:.0f}' for m in r['worker_peak_rss_mib'])} MiB; identical reports: {r['identical']}"
            )
            print(
                f"  CPU time: one process {r['one_process_cpu_s']:.1f} s; workers during the run "
                f"{', '.join(f'{c:.1f}' for c in r['worker_cpu_s'])} s: speed-up on 2 free cores "
                f"(one-process CPU / busiest worker's CPU) {r['speedup_cpu_bound']:.2f}x; "
                f"1-min load average {r['load_before']:.1f} -> {r['load_after']:.1f} on {os.cpu_count()} cores"
            )
            print(f"  pinned CPUs {r['pinned']}, saved vs per-container {r['saved']}")


if __name__ == "__main__":
    main()
