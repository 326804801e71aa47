"""Admissions per second: each pod of a 20-pod mix admitted, then all deleted, repeated.

Nodes: 2 sockets x 16 cores x 2 threads (2 NUMA, 64 CPUs) and 2 sockets x 4 NUMA
x 16 cores x 2 threads (8 NUMA, 256 CPUs); kubelet: static CPU manager
(reservedSystemCPUs 0 and its sibling), Static memory manager, restricted
policy at pod scope, both pod-level gates on. Also the whole conformance
corpus (scenarios per second, parsing excluded). One process, one core.

    python benchmarks/admission.py [--seconds S] [--corpus DIR] [--reference]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from topolet.engine.fast_path import reference_mode
from topolet.engine.node import Node
from topolet.model.kubelet_config import load_kubelet_config
from topolet.model.manifest import admit_to_api, pods_from_object
from topolet.model.pod import Pod
from topolet.model.presets import get_preset
from topolet.model.topology import Topology

KUBELET = {
    "featureGates": {"PodLevelResources": True, "PodLevelResourceManagers": True},
    "cpuManagerPolicy": "static",
    "memoryManagerPolicy": "Static",
    "systemReserved": {"memory": "1Gi"},
    "evictionHard": {"memory.available": "100Mi"},
    "topologyManagerPolicy": "restricted",
    "topologyManagerScope": "pod",
}


def _container(name: str, cpu: str, mem: str, limits: bool = True) -> dict[str, object]:
    res: dict[str, object] = {"requests": {"cpu": cpu, "memory": mem}}
    if limits:
        res["limits"] = {"cpu": cpu, "memory": mem}
    return {"name": name, "image": "x", "resources": res}


def pod_mix() -> list[dict[str, object]]:
    """20 pods: Guaranteed 1/2/4 CPUs, Burstable, and pod-level pods (exclusive container + sidecar)."""
    objs: list[dict[str, object]] = []
    for i in range(20):
        kind = i % 5
        name = f"p{i}"
        if kind in (0, 1, 2):
            cpu = ("1", "2", "4")[kind]
            spec = {"containers": [_container("app", cpu, "1Gi")]}
        elif kind == 3:
            spec = {"containers": [_container("web", "500m", "512Mi", limits=False)]}
        else:
            spec = {
                "resources": {"requests": {"cpu": "4", "memory": "4Gi"}, "limits": {"cpu": "4", "memory": "4Gi"}},
                "initContainers": [{**_container("proxy", "100m", "128Mi", limits=False), "restartPolicy": "Always"}],
                "containers": [_container("db", "2", "2Gi"), _container("exporter", "100m", "64Mi", limits=False)],
            }
        objs.append({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec})
    return objs


def reserved_config(topo: Topology) -> dict[str, object]:
    sibling = [c for c in topo.cpus.values() if c.core == topo.cpus[0].core]
    return {**KUBELET, "reservedSystemCPUs": ",".join(str(c.id) for c in sibling)}


def build(topo: Topology, reference: bool) -> tuple[Node, list[Pod]]:
    cfg_map = reserved_config(topo)
    nodes = len(topo.numa_ids)
    cfg_map["reservedMemory"] = [{"numaNode": 0, "limits": {"memory": "1124Mi"}}]
    if nodes > 8:
        cfg_map["topologyManagerPolicyOptions"] = {"max-allowable-numa-nodes": str(nodes)}
    cfg = load_kubelet_config(cfg_map, "benchmark")
    # the reference: the kubelet's exhaustive hint generation and merge, everywhere
    with reference_mode(reference):
        node = Node(topo, cfg)
    pods = []
    for obj in pod_mix():
        pod, err = admit_to_api(pods_from_object(obj, "mix", node.gates)[0], node.gates)
        assert pod is not None, err
        pods.append(pod)
    return node, pods


def admissions_per_second(topo: Topology, seconds: float, reference: bool = False) -> tuple[float, int, int]:
    node, pods = build(topo, reference)
    admitted = rejected = 0
    n = 0
    start = time.perf_counter()
    while True:
        for p in pods:
            r = node.admit(p)
            if r.admitted:
                admitted += 1
            else:
                rejected += 1
        for p in pods:
            if node.get(p.key) is not None:
                node.delete(p.key)
        n += len(pods)
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return n / elapsed, admitted, rejected


def corpus_rate(corpus: Path) -> tuple[float, int]:
    from topolet.scenario.runner import load_scenario_files, run_scenario

    scenarios, _ = load_scenario_files([corpus])
    start = time.perf_counter()
    ok = sum(1 for sc in scenarios if run_scenario(sc).passed)
    elapsed = time.perf_counter() - start
    return len(scenarios) / elapsed, ok


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--corpus", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "conformance")
    ap.add_argument("--reference", action="store_true", help="also time the exhaustive reference merge")
    args = ap.parse_args()
    grid = {"sockets": 2, "coresPerNuma": 16, "threadsPerCore": 2}
    machines = [
        ("2-NUMA 64 CPUs", get_preset("grid", {**grid, "numaPerSocket": 1})),
        ("8-NUMA 256 CPUs", get_preset("grid", {**grid, "numaPerSocket": 4})),
    ]
    for label, topo in machines:
        rate, ok, bad = admissions_per_second(topo, args.seconds)
        print(f"{label:18s} fast path : {rate:9.0f} admissions/s  ({ok} admitted, {bad} rejected)")
        if args.reference:
            rate_ref, ok_r, bad_r = admissions_per_second(topo, args.seconds, reference=True)
            print(f"{label:18s} reference : {rate_ref:9.0f} admissions/s  ({ok_r} admitted, {bad_r} rejected)")
    if args.corpus.is_dir():
        rate, ok = corpus_rate(args.corpus)
        print(f"conformance corpus : {rate:9.0f} scenarios/s  ({ok} passed)")


if __name__ == "__main__":
    main()
