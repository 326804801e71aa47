"""A node directory with many pods: what one command costs as the node fills.

For N in 100, 1,000, 10,000 a node is created (preset:2-numa, the example
kubelet configuration with ``maxPods`` raised to 20,000) and filled with N small
pods (Burstable pods of 10m CPU and 16Mi; a few Guaranteed pods hold exclusive
CPUs). With the kubelet's full admission chain, pods beyond the node's
allocatable CPU are rejected (OutOfcpu) and kept as Failed: on the 10,000-pod
node about a third are, and the new pod of the ``apply`` row is rejected too (so
its ``delete`` does not start the kubelet). Then each
command runs as a user runs it (a fresh ``topolet`` process), ``--runs`` times;
the median wall and CPU times are printed:

* ``apply`` of one new pod, then ``delete pod`` of it (a one-pod change);
* ``get pods`` (the whole table), ``get pod NAME``, ``describe pod NAME``;
* ``describe node``.

The children write and use a bytecode cache in the temporary directory (an
installed topolet has its ``.pyc`` files; see ``benchmarks/cli_startup.py``);
``--no-bytecode-cache`` compiles topolet's modules in every run instead.

    python benchmarks/node_many_pods.py [--sizes 100,1000,10000] [--runs 3] [--no-bytecode-cache]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from topolet.io.inputs import LoadedObject
from topolet.nodedir import api, init_node, open_node

ROOT = Path(__file__).resolve().parent.parent
RUN = "import sys; from topolet.cli.main import main; sys.argv[0] = 'topolet'; main()"
ENV: dict[str, str] = dict(os.environ)
CONFIG = (ROOT / "examples" / "kubelet-config.yaml").read_text() + "maxPods: 20000\n"


def _pod(name: str, cpu: str, memory: str, guaranteed: bool) -> dict:
    res = {"requests": {"cpu": cpu, "memory": memory}}
    if guaranteed:
        res["limits"] = dict(res["requests"])
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"containers": [{"name": "main", "image": "registry.k8s.io/pause:3.10", "resources": res}]},
    }


def fill(node: Path, n: int) -> None:
    """Put ``n`` pods on the node in one locked write (the library, not the CLI: it is set-up)."""
    objs = []
    for i in range(n):
        g = i < 8  # a few pods hold exclusive CPUs and NUMA memory
        objs.append(LoadedObject("bench", _pod(f"pod-{i:05d}", "2" if g else "10m", "1Gi" if g else "16Mi", g)))
    with open_node(node, write=True) as nd:
        planned = api.plan_objects(objs, None, nd.kubelet().gates)
        api.apply(nd, planned)
        nd.save()


def run(args: list[str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", RUN, *args], capture_output=True, text=True, env=ENV)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise SystemExit(f"topolet {' '.join(args)}: exit {p.returncode}: {p.stderr}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100,1000,10000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-bytecode-cache", action="store_true", help="compile topolet's modules in every run")
    a = ap.parse_args()
    sizes = [int(s) for s in a.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        from cli_startup import child_env

        ENV.clear()
        ENV.update(child_env(tmp, not a.no_bytecode_cache))
        print("bytecode cache:", "none for topolet (compiled in every run)" if a.no_bytecode_cache else "yes")
        print(f"{'pods':>6}  {'command':<22} {'wall median':>12} {'CPU median':>11}")
        cfg = Path(tmp) / "kubelet-config.yaml"
        cfg.write_text(CONFIG)
        newpod = Path(tmp) / "new.json"
        newpod.write_text(json.dumps(_pod("new-pod", "1", "64Mi", True)))
        for n in sizes:
            node = Path(tmp) / f"node-{n}"
            init_node(node, "preset:2-numa", str(cfg))
            t0 = time.perf_counter()
            fill(node, n)
            setup = time.perf_counter() - t0
            nd = ["--node", str(node)]
            rows: dict[str, list[tuple[float, float]]] = {}
            run(["get", "pods", *nd])  # warm-up (fills the bytecode cache)
            for _ in range(a.runs):
                rows.setdefault("apply -f (one pod)", []).append(run(["apply", "-f", str(newpod), *nd]))
                rows.setdefault("delete pod (one pod)", []).append(run(["delete", "pod", "new-pod", *nd]))
                rows.setdefault("get pods", []).append(run(["get", "pods", *nd]))
                rows.setdefault("get pod NAME", []).append(run(["get", "pod", "pod-00003", *nd]))
                rows.setdefault("describe pod NAME", []).append(run(["describe", "pod", "pod-00003", *nd]))
                rows.setdefault("describe node", []).append(run(["describe", "node", *nd]))
            for label, vals in rows.items():
                wall = statistics.median(v[0] for v in vals)
                cpu = statistics.median(v[1] for v in vals)
                print(f"{n:>6}  {label:<22} {wall:>11.3f}s {cpu:>10.3f}s")
            print(f"{n:>6}  {'(fill, in-process)':<22} {setup:>11.3f}s")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
