"""Admission time on machines with many NUMA nodes: the kubelet's exhaustive algorithms
(the reference) against topolet's fast path.

Machine: 1 socket × N NUMA nodes × 4 cores × 2 threads (8 CPUs and 64Gi per NUMA
node). Kubelet: static CPU manager (reservedSystemCPUs: CPU 0 and its sibling),
Static memory manager, topology manager policy restricted (container scope),
max-allowable-numa-nodes = N. Pod: one Guaranteed container, 2 CPUs, 1Gi.
Timed: the admission (``node.admit``) on the empty node; the pod is deleted
between admissions (not timed).

The reference runs in a child process with a time cap (one admission); where it
finishes, the fast path's decision (verdict, CPUs, memory blocks, node state) is
compared with it. The fast path is timed over repeated admissions (mean).

    python benchmarks/large_numa.py [--cap SECONDS] [--seconds S] [--fill]

``--fill`` also admits 2-CPU pods on the fast path until the node is full (the
hint searches then run on fragmented nodes) and reports the mean and worst time.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import time
from typing import Any

from topolet.engine.fast_path import reference_mode
from topolet.engine.node import Node
from topolet.model.kubelet_config import load_kubelet_config
from topolet.model.manifest import admit_to_api, pods_from_object
from topolet.model.pod import Pod
from topolet.model.presets import get_preset

REFERENCE_SIZES = (8, 10, 12, 14)
FAST_ONLY_SIZES = (16, 32, 64)


def build(numa: int, reference: bool, policy: str = "restricted") -> Node:
    topo = get_preset("grid", {"sockets": 1, "numaPerSocket": numa, "coresPerNuma": 4, "threadsPerCore": 2})
    sibling = [c.id for c in topo.cpus.values() if c.core == topo.cpus[0].core]
    cfg = load_kubelet_config(
        {
            "cpuManagerPolicy": "static",
            "reservedSystemCPUs": ",".join(map(str, sibling)),
            "memoryManagerPolicy": "Static",
            "systemReserved": {"memory": "1Gi"},
            "evictionHard": {"memory.available": "100Mi"},
            "reservedMemory": [{"numaNode": 0, "limits": {"memory": "1124Mi"}}],
            "topologyManagerPolicy": policy,
            "topologyManagerPolicyOptions": {"max-allowable-numa-nodes": str(max(8, numa))},
        },
        "benchmark",
    )
    with reference_mode(reference):
        return Node(topo, cfg)


def make_pod(node: Node, name: str = "bench") -> Pod:
    res = {"cpu": "2", "memory": "1Gi"}
    obj = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "app", "image": "x", "resources": {"requests": res, "limits": res}}]},
    }
    pod, err = admit_to_api(pods_from_object(obj, "default", node.gates)[0], node.gates)
    assert pod is not None, err
    return pod


def decision(node: Node, pod: Pod) -> tuple[float, str]:
    """Admit once (timed), describe the decision and the node state, delete."""
    start = time.perf_counter()
    result = node.admit(pod)
    elapsed = time.perf_counter() - start
    result.trace = None
    text = repr((result, node.snapshot()))
    if result.admitted:
        node.delete(pod.key)
    return elapsed, text


def _reference_child(numa: int, conn: Any) -> None:
    node = build(numa, reference=True)
    pod = make_pod(node)
    start = time.perf_counter()
    elapsed, text = decision(node, pod)
    conn.send((elapsed, time.perf_counter() - start, text))
    conn.close()


def reference_once(numa: int, cap: float) -> tuple[float, str] | None:
    """One reference admission in a child process; None when it takes longer than ``cap``."""
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_reference_child, args=(numa, child), daemon=True)
    proc.start()
    child.close()
    got = parent.recv() if parent.poll(cap) else None
    if got is None:
        proc.terminate()
    proc.join()
    if got is None:
        return None
    return got[0], got[2]


def fast_per_admission(numa: int, seconds: float) -> tuple[float, str]:
    node = build(numa, reference=False)
    pod = make_pod(node)
    _, text = decision(node, pod)  # warm-up, and the decision to compare
    n = 0
    total = 0.0
    start = time.perf_counter()
    while True:
        t = time.perf_counter()
        r = node.admit(pod)
        total += time.perf_counter() - t
        assert r.admitted
        node.delete(pod.key)
        n += 1
        if time.perf_counter() - start >= seconds and n >= 5:
            return total / n, text


def fill(numa: int) -> tuple[int, float, float]:
    """Admit 2-CPU pods until one is rejected: (admitted, mean ms, worst ms)."""
    node = build(numa, reference=False)
    times: list[float] = []
    i = 0
    while True:
        pod = make_pod(node, f"fill-{i}")
        t = time.perf_counter()
        r = node.admit(pod)
        times.append(time.perf_counter() - t)
        if not r.admitted:
            break
        i += 1
    return i, 1000 * sum(times) / len(times), 1000 * max(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cap", type=float, default=120.0, help="time cap of one reference admission (seconds)")
    ap.add_argument("--seconds", type=float, default=2.0, help="time spent per fast-path measurement")
    ap.add_argument("--fill", action="store_true", help="also fill each node with 2-CPU pods (fast path)")
    args = ap.parse_args()
    targets = {12: 5.0, 14: 10.0, 32: 50.0}
    print("1 socket × N NUMA × 4 cores × 2 threads; one Guaranteed 2-CPU pod; restricted; per admission")
    print(f"{'NUMA':>4}  {'reference':>18}  {'fast path':>10}  {'target':>8}  decisions")
    skipped = False
    for numa in (*REFERENCE_SIZES, *FAST_ONLY_SIZES):
        fast, fast_text = fast_per_admission(numa, args.seconds)
        if numa in REFERENCE_SIZES:
            ref = None if skipped else reference_once(numa, args.cap)
            if ref is None:
                skipped = True  # larger machines only take longer
                ref_col = f"skipped (> {args.cap:g} s)"
                same = "-"
            else:
                ref_col = f"{ref[0] * 1000:.1f} ms"
                same = "identical" if ref[1] == fast_text else "DIFFERENT"
        else:
            ref_col, same = "-", "-"
        target = f"≤ {targets[numa]:g} ms" if numa in targets else ""
        print(f"{numa:>4}  {ref_col:>18}  {fast * 1000:>7.3f} ms  {target:>8}  {same}", flush=True)
    if args.fill:
        print("\nfast path, filling the node with 2-CPU pods until one is rejected")
        for numa in (*REFERENCE_SIZES, *FAST_ONLY_SIZES):
            n, mean, worst = fill(numa)
            print(f"{numa:>4}  {n:>4} pods admitted  mean {mean:.3f} ms  worst {worst:.3f} ms", flush=True)


if __name__ == "__main__":
    main()
