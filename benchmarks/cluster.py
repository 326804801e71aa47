"""``topolet cluster`` at scale on the real control plane: nodes, pods from Deployments, kube-scheduler.

For each mode (the engine's admission, then ``--admit-all``, the KWOK-like baseline), on a fresh
control plane (shared/controlplane, or --kubeconfig to use a running cluster for both):

1. ``topolet cluster run`` registers N nodes (preset 2-numa, the seed article's kubelet: static
   CPU manager, Static memory manager, single-numa-node at pod scope, pod-level gates);
2. once the node lifecycle controller has untainted them, D Deployments with P pods in all are
   created (half Guaranteed 2 CPU / 2Gi, half Burstable 500m / 512Mi) and scheduled by the real
   kube-scheduler;
3. a watch records, per pod, when it was first seen (created), bound (spec.nodeName set) and
   given its status by topolet (phase Running or Failed).

Printed per mode: pods/s from the first creation to the last written status, the control
plane's own bind rate (creation -> binding), bind -> status latency p50/p99, topolet's CPU
seconds per admitted pod (utime+stime of the process from ready to done) and its peak RSS.

    python benchmarks/cluster.py [--nodes 1000] [--pods 20000] [--deployments 20] [--modes engine,admit-all]
                                 [--rate PODS_PER_S] [--lease-duration SECONDS]

Stop it with SIGTERM (kill PID): the control planes and topolet processes it started are stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import msgspec

REPO = Path(__file__).resolve().parent.parent
SEED_CONFIG = REPO / "examples" / "kubelet-config.yaml"
TOPOLET = str(Path(sys.executable).parent / "topolet")
NS = "bench"


def controlplane() -> Path:
    env = os.environ.get("TOPOLET_CONTROLPLANE")
    for c in (
        [Path(env)]
        if env
        else [REPO.parent / "shared" / "controlplane", REPO.parent.parent / "shared" / "controlplane"]
    ):
        if (c / "up.sh").is_file():
            return c
    sys.exit("no control plane: set TOPOLET_CONTROLPLANE or pass --kubeconfig")


def proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_hwm_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def deployment(name: str, replicas: int, guaranteed: bool) -> dict[str, Any]:
    if guaranteed:
        res = {"limits": {"cpu": "2", "memory": "2Gi"}}
    else:
        res = {"requests": {"cpu": "500m", "memory": "512Mi"}, "limits": {"memory": "512Mi"}}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "terminationGracePeriodSeconds": 0,
                    "containers": [{"name": "app", "image": "registry.k8s.io/pause:3.10", "resources": res}],
                },
            },
        },
    }


class _Meta(msgspec.Struct):
    uid: str = ""
    resourceVersion: str = ""


class _Spec(msgspec.Struct):
    nodeName: str | None = None


class _Status(msgspec.Struct):
    phase: str | None = None


class WatchedPod(msgspec.Struct):
    metadata: _Meta
    spec: _Spec | None = None
    status: _Status | None = None


class _Event(msgspec.Struct):
    type: str
    object: WatchedPod | None = None


_EVENT = msgspec.json.Decoder(_Event)


async def watch_pods(client: Any, on_pod: Any) -> None:
    """The benchmark's pods watched with only the fields it reads decoded (a watcher that falls behind
    would time events late): from the current state on, re-watched from the last version when closed."""
    from lightkube.core.generic_client import WatchDriver
    from lightkube.resources.core_v1 import Pod

    inner = client._client
    version: str | None = None
    while True:
        params = {"timeoutSeconds": 3600, "resourceVersion": version, "allowWatchBookmarks": "true"}
        req = inner.prepare_request("list", res=Pod, namespace=NS, watch=True, params=params)
        wd = WatchDriver(req, inner._client.build_request)
        resp = await inner.send(wd.get_request(timeout=inner._watch_timeout), stream=True)
        try:
            async for line in resp.aiter_lines():
                if not line:
                    continue
                if line.startswith('{"type":"ERROR"'):  # 410 Gone cannot happen within one benchmark run
                    raise SystemExit(f"pod watch: {line[:500]}")
                ev = _EVENT.decode(line)
                if ev.object is None:
                    continue
                version = ev.object.metadata.resourceVersion or version
                if ev.type in ("ADDED", "MODIFIED"):
                    on_pod(ev.object)
        finally:
            await resp.aclose()


async def create_paced(client: Any, per: list[int], rate: float) -> None:
    """The Deployments created with no replicas, then scaled up by ``rate`` pods a second in all."""
    from lightkube.resources.apps_v1 import Deployment

    for i in range(len(per)):
        await client.create(Deployment.from_dict(deployment(f"d{i}", 0, guaranteed=i % 2 == 0)))
    current = [0] * len(per)
    step = max(1, round(rate))  # pods added per tick
    tick = step / rate
    t_next = time.monotonic()
    i = 0
    while any(c < n for c, n in zip(current, per, strict=True)):
        if current[i] < per[i]:
            current[i] = min(per[i], current[i] + step)
            patch = {"spec": {"replicas": current[i]}}
            await client.patch(Deployment, f"d{i}", patch, namespace=NS)
            t_next += tick
            await asyncio.sleep(max(0.0, t_next - time.monotonic()))
        i = (i + 1) % len(per)


def debug_stats(endpoint: str) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(endpoint + "/debug/stats", timeout=10) as resp:
            return dict(json.loads(resp.read()))
    except (OSError, ValueError):
        return {}


async def measure(
    kubeconfig: str, nodes: int, pods: int, deployments: int, pid: int, timeout: float, rate: float, endpoint: str
) -> dict[str, Any]:
    from lightkube import ApiError, AsyncClient, KubeConfig
    from lightkube.resources.apps_v1 import Deployment
    from lightkube.resources.core_v1 import Namespace, Node

    client = AsyncClient(config=KubeConfig.from_file(kubeconfig))
    # nodes Ready and untainted
    t0 = time.monotonic()
    while True:
        ready = [n async for n in client.list(Node) if not (n.spec.taints or [])]
        if len(ready) >= nodes:
            break
        if time.monotonic() - t0 > 300:
            raise SystemExit(f"only {len(ready)} of {nodes} nodes untainted after 300 s")
        await asyncio.sleep(2)
    untainted_s = time.monotonic() - t0
    with contextlib.suppress(ApiError):  # already there
        await client.create(Namespace.from_dict({"metadata": {"name": NS}}))
    seen: dict[str, float] = {}
    bound: dict[str, float] = {}
    status: dict[str, float] = {}
    phase: dict[str, str] = {}
    cpu0 = proc_cpu(pid)
    done = asyncio.Event()

    counts = {"Running": 0, "Failed": 0}

    def on_pod(p: WatchedPod) -> None:
        now = time.monotonic()
        uid = p.metadata.uid
        seen.setdefault(uid, now)
        if p.spec is not None and p.spec.nodeName:
            bound.setdefault(uid, now)
        ph = p.status.phase if p.status is not None else None
        if ph in counts and uid not in status:
            status[uid] = now
            phase[uid] = ph
            counts[ph] += 1
            if counts["Running"] >= pods:
                done.set()

    async def watch() -> None:
        await watch_pods(client, on_pod)

    w = asyncio.create_task(watch())
    await asyncio.sleep(1)
    per = [pods // deployments + (1 if i < pods % deployments else 0) for i in range(deployments)]
    if rate > 0:
        pacer = asyncio.create_task(create_paced(client, per, rate))
    else:
        for i, n in enumerate(per):
            await client.create(Deployment.from_dict(deployment(f"d{i}", n, guaranteed=i % 2 == 0)))
    try:
        await asyncio.wait_for(done.wait(), timeout)
        complete = True
    except TimeoutError:
        complete = False
    if rate > 0:
        pacer.cancel()
    cpu1 = proc_cpu(pid)
    hwm = proc_hwm_mib(pid)
    inner = debug_stats(endpoint)
    not_ready = 0
    async for n in client.list(Node):
        conds = (n.status.conditions or []) if n.status else []
        if not any(c.type == "Ready" and c.status == "True" for c in conds):
            not_ready += 1
    w.cancel()
    await client.close()
    first = min(seen.values())
    last_status = max(status.values()) if status else first
    last_bound = max(bound.values()) if bound else first
    lat = sorted(status[u] - bound[u] for u in status if u in bound)
    admitted = sum(1 for v in phase.values() if v == "Running")
    return {
        "complete": complete,
        "untainted_s": round(untainted_s, 1),
        "pods_seen": len(seen),
        "bound": len(bound),
        "admitted": admitted,
        "rejected": sum(1 for v in phase.values() if v == "Failed"),
        "pods_per_s_creation_to_status": round(len(status) / max(last_status - first, 1e-9), 1),
        "control_plane_pods_per_s_creation_to_bind": round(len(bound) / max(last_bound - first, 1e-9), 1),
        "seconds_creation_to_last_bind": round(last_bound - first, 1),
        "seconds_creation_to_last_status": round(last_status - first, 1),
        "bind_to_status_p50_ms": round(1000 * statistics.median(lat), 1) if lat else None,
        "bind_to_status_p99_ms": round(1000 * lat[min(len(lat) - 1, int(len(lat) * 0.99))], 1) if lat else None,
        "topolet_cpu_s": round(cpu1 - cpu0, 2),
        "topolet_cpu_ms_per_admitted_pod": round(1000 * (cpu1 - cpu0) / max(admitted, 1), 3),
        "topolet_peak_rss_mib": round(hwm, 1),
        "nodes_not_ready_at_end": not_ready,
        # inside topolet: from its admission of a pod to its status written (the API server's answer included)
        "topolet_admission_to_status_p50_ms": inner.get("admission_to_status_ms_p50"),
        "topolet_admission_to_status_p99_ms": inner.get("admission_to_status_ms_p99"),
    }


def run_mode(mode: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    """One mode on a fresh control plane (or --kubeconfig's cluster); the control plane is always stopped."""
    if args.kubeconfig is not None:
        return run_topolet(mode, args, tmp, args.kubeconfig)
    cp = controlplane()
    cp_state = tmp / f"cp-{mode}"
    try:
        r = subprocess.run(["bash", str(cp / "up.sh"), str(cp_state)], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"control plane: {r.stderr[-2000:]}")
        return run_topolet(mode, args, tmp, str(cp_state / "kubeconfig"))
    finally:
        subprocess.run(["bash", str(cp / "down.sh"), str(cp_state)], capture_output=True)


def run_topolet(mode: str, args: argparse.Namespace, tmp: Path, kubeconfig: str) -> dict[str, Any]:
    fleet = tmp / f"fleet-{mode}.yaml"
    fleet.write_text(
        f"name: bench\npools:\n- name: n\n  count: {args.nodes}\n  topology: preset:2-numa\n  kubelet: {SEED_CONFIG}\n"
    )
    state = tmp / f"state-{mode}"
    # the console script run as a script under cProfile: its statistics are written when it stops (SIGTERM)
    prof = []
    if args.profile:
        prof = [sys.executable, "-m", "cProfile", "-o", str(Path(args.profile).resolve() / f"topolet-{mode}.prof")]
    cmd = [*prof, TOPOLET, "cluster", "run", "--fleet", str(fleet), "--state", str(state), "--kubeconfig", kubeconfig]
    cmd += ["--listen", "127.0.0.1:0"] + (["--admit-all"] if mode == "admit-all" else [])
    if args.lease_duration:
        cmd += ["--lease-duration", str(args.lease_duration)]
    if args.status_workers:
        cmd += ["--status-workers", str(args.status_workers)]
    log = open(tmp / f"topolet-{mode}.log", "w")  # noqa: SIM115
    t_start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log)
    try:
        while True:
            time.sleep(0.5)
            if proc.poll() is not None:
                log.close()
                tail = Path(log.name).read_text()[-3000:]
                sys.exit(f"topolet cluster run exited {proc.returncode}:\n{tail}")
            try:
                ep = json.loads((state / "cluster.json").read_text())["endpoint"]
                with urllib.request.urlopen(ep + "/readyz", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except (OSError, ValueError, KeyError):
                continue
        registered_s = time.monotonic() - t_start
        out = asyncio.run(
            measure(kubeconfig, args.nodes, args.pods, args.deployments, proc.pid, args.timeout, args.rate, ep)
        )
        out["registered_s"] = round(registered_s, 1)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nodes", type=int, default=1000)
    ap.add_argument("--pods", type=int, default=20000)
    ap.add_argument("--deployments", type=int, default=20)
    ap.add_argument("--modes", default="engine,admit-all")
    ap.add_argument("--kubeconfig", default=None, help="Use this cluster (both modes) instead of fresh control planes.")
    ap.add_argument("--timeout", type=float, default=1800.0, help="Seconds to wait for every pod's status.")
    ap.add_argument(
        "--lease-duration",
        type=int,
        default=None,
        help="nodeLeaseDurationSeconds for every node (renewed every 1/4; the kubelet's default 40 s: 100 renewals/s "
        "for 1,000 nodes, more than this 2-core machine's API server takes beside the pods).",
    )
    ap.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="Create the pods at this many a second (Deployments scaled up step by step) instead of all at once: "
        "below the control plane's own limit, bind -> status latency is topolet's, not the API server's queue.",
    )
    ap.add_argument("--status-workers", type=int, default=None, help="topolet cluster run --status-workers N.")
    ap.add_argument("--profile", default=None, help="Run topolet under cProfile, writing DIR/topolet-MODE.prof.")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # the finally blocks stop what was started
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="topolet-bench-") as t:
        for mode in args.modes.split(","):
            print(f"== {mode}: {args.nodes} nodes, {args.pods} pods in {args.deployments} Deployments", flush=True)
            results[mode] = run_mode(mode, args, Path(t))
            for k, v in results[mode].items():
                print(f"  {k}: {v}", flush=True)
    if "engine" in results and "admit-all" in results:
        e, a = results["engine"], results["admit-all"]
        ratio = e["pods_per_s_creation_to_status"] / max(a["pods_per_s_creation_to_status"], 1e-9)
        print(f"== engine / admit-all throughput: {ratio:.2f}")
    if args.json:
        print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
