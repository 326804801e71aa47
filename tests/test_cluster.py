"""``topolet cluster`` against the real control plane (kube-apiserver, controller-manager, scheduler 1.36.2).

One control plane per session, one ``topolet cluster run`` (a subprocess, so that SIGKILL is
real) for the module, driven with the real kubectl. Skips, saying why, where the control plane
cannot run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cluster_support import TOPOLET, ControlPlane, Simulator, start_controlplane, stop_controlplane, wait_for
from paths import SEED_CONFIG, SEED_POD

FLEET = """\
apiVersion: topolet.dev/v1alpha1
kind: Fleet
name: {name}
pools:
- name: {prefix}db
  count: 2
  topology: preset:2-numa
  kubelet: {config}
  labels: {{pool: {prefix}db}}
- name: {prefix}spread
  count: 2
  topology: preset:2-numa
  kubelet: {config}
  labels: {{pool: {prefix}spread}}
"""


@pytest.fixture(scope="session")
def controlplane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    c = start_controlplane(tmp_path_factory.mktemp("controlplane"))
    try:
        yield c
    finally:
        stop_controlplane(c)


@pytest.fixture(scope="module")
def sim(controlplane: ControlPlane, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    d = tmp_path_factory.mktemp("cluster")
    fleet = d / "fleet.yaml"
    fleet.write_text(FLEET.format(name="t", prefix="", config=SEED_CONFIG))
    s = Simulator(controlplane, fleet, d / "state")
    s.start()
    # the node lifecycle controller removes the not-ready taint once the nodes are Ready
    wait_for(lambda: all(not n["spec"].get("taints") for n in _nodes(controlplane)), 180, "nodes untainted")
    try:
        yield s
    finally:
        s.kill(signal.SIGTERM)


def _nodes(c: ControlPlane, fleet: str = "t") -> list[dict]:
    return c.get("nodes", "-l", f"topolet.dev/cluster={fleet}")["items"]


def _pod(c: ControlPlane, name: str, ns: str = "default") -> dict:
    return c.get("pod", name, "-n", ns)


def _phase(c: ControlPlane, name: str) -> str:
    out = c.kubectl("get", "pod", name, "-o", "jsonpath={.status.phase}", check=False)
    return out.strip()


def _apply(c: ControlPlane, manifest: str) -> None:
    c.kubectl("apply", "-f", "-", input=manifest)


def _guaranteed_pod(name: str, cpus: int, pool: str = "db", mem: str = "1Gi") -> str:
    return f"""
apiVersion: v1
kind: Pod
metadata: {{name: {name}}}
spec:
  nodeSelector: {{pool: {pool}}}
  containers:
  - name: app
    image: busybox
    resources:
      limits: {{cpu: "{cpus}", memory: {mem}}}
"""


def _checkpoint_uids(state: Path, node: str) -> set[str]:
    data = json.loads((state / "nodes" / node / "cpu_manager_state").read_text())
    return set(data.get("entries") or {}) | set(data.get("podEntries") or {})


def test_nodes_registered_ready(controlplane: ControlPlane, sim: Simulator) -> None:
    nodes = {n["metadata"]["name"]: n for n in _nodes(controlplane)}
    assert sorted(nodes) == ["db-0", "db-1", "spread-0", "spread-1"]
    n = nodes["db-0"]
    labels = n["metadata"]["labels"]
    assert labels["kubernetes.io/hostname"] == "db-0"
    assert labels["kubernetes.io/os"] == "linux" and labels["kubernetes.io/arch"] == "amd64"
    assert labels["pool"] == "db"
    st = n["status"]
    assert st["capacity"]["cpu"] == "64" and st["capacity"]["memory"] == "128Gi" and st["capacity"]["pods"] == "110"
    # reservedSystemCPUs "0": one CPU; systemReserved 1Gi + evictionHard 100Mi of memory
    assert st["allocatable"]["cpu"] == "63"
    assert st["allocatable"]["memory"] == f"{128 * 1024 - 1024 - 100}Mi"
    assert st["nodeInfo"]["kubeletVersion"] == "v1.36.2"
    ready = next(c for c in st["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "True" and ready["reason"] == "KubeletReady"
    lease = controlplane.get("lease", "db-0", "-n", "kube-node-lease")
    assert lease["spec"]["holderIdentity"] == "db-0"
    describe = controlplane.kubectl("describe", "node", "db-0")
    assert "KubeletReady" in describe and "hugepages" not in describe.split("Allocatable:")[1].split("System Info")[0]


def test_seed_pod_runs_then_deletion_finishes(controlplane: ControlPlane, sim: Simulator) -> None:
    text = SEED_POD.read_text().replace("spec:\n", "spec:\n  nodeSelector: {pool: db}\n", 1)
    _apply(controlplane, text)
    wait_for(lambda: _phase(controlplane, "tightly-coupled-database") == "Running", 120, "the seed pod Running")
    pod = _pod(controlplane, "tightly-coupled-database")
    st = pod["status"]
    assert st["qosClass"] == "Guaranteed"
    conds = {c["type"]: c["status"] for c in st["conditions"]}
    assert conds == {
        "PodScheduled": "True",
        "PodReadyToStartContainers": "True",
        "Initialized": "True",
        "Ready": "True",
        "ContainersReady": "True",
    }
    assert [c["name"] for c in st["containerStatuses"]] == ["database", "metrics-exporter", "backup-agent"]
    assert all("running" in c["state"] and c["ready"] for c in st["containerStatuses"])
    node = pod["spec"]["nodeName"]
    n = controlplane.get("node", node)
    assert st["hostIP"] == n["status"]["addresses"][0]["address"]
    assert st["podIP"].rsplit(".", 1)[0] == n["spec"]["podCIDR"].rsplit(".", 1)[0]
    uid = pod["metadata"]["uid"]
    wait_for(lambda: uid in _checkpoint_uids(sim.state, node), 30, "the pod in the CPU manager checkpoint")
    desc = subprocess.run(
        [TOPOLET, "cluster", "describe", "pod/tightly-coupled-database", "--kubeconfig", controlplane.kubeconfig],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert desc.returncode == 0, desc.stderr
    assert "container database (app): Cpus_allowed_list " in desc.stdout and "NUMA node 1:" in desc.stdout
    # graceful deletion is finished by the kubelet: the object goes, the CPUs come back
    controlplane.kubectl("delete", "pod", "tightly-coupled-database", "--wait=true", "--timeout=120s")
    wait_for(lambda: uid not in _checkpoint_uids(sim.state, node), 30, "the pod gone from the checkpoint")


def test_rejected_pod_failed_with_event(controlplane: ControlPlane, sim: Simulator) -> None:
    # 40 CPUs fit the node (63 allocatable) but no NUMA node (32 CPUs): single-numa-node rejects it
    _apply(controlplane, _guaranteed_pod("too-wide", 40))
    wait_for(lambda: _phase(controlplane, "too-wide") == "Failed", 120, "the pod Failed")
    st = _pod(controlplane, "too-wide")["status"]
    assert st["reason"] == "TopologyAffinityError"
    assert st["message"] == "Pod was rejected: Resources cannot be allocated with Topology locality"
    assert st["qosClass"] == "Guaranteed"

    def described() -> str:
        out = controlplane.kubectl("describe", "pod", "too-wide")
        return out if "kubelet" in out.split("Events:")[-1] else ""

    events = wait_for(described, 60, "the kubelet's event").split("Events:")[-1]
    assert "Warning" in events and "TopologyAffinityError" in events
    assert "Resources cannot be allocated with Topology locality" in events
    # the kubectl plugin (kubectl-topolet beside the topolet binary)
    env = {**controlplane.env(), "PATH": f"{Path(TOPOLET).parent}:{os.environ.get('PATH', '')}"}
    out = subprocess.run(
        ["kubectl", "topolet", "explain", "pod/too-wide"], capture_output=True, text=True, timeout=60, env=env
    )
    assert out.returncode == 0, out.stderr
    assert "Pod default/too-wide on node db-" in out.stdout and "TopologyAffinityError" in out.stdout
    out = subprocess.run(
        ["kubectl", "topolet", "describe", "pod/too-wide", "--cluster"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert out.returncode == 0, out.stderr
    assert "too-wide" in out.stdout and "TopologyAffinityError" in out.stdout, out.stdout
    controlplane.kubectl("delete", "pod", "too-wide", "--wait=true", "--timeout=120s")
    # bound without the scheduler: the kubelet's node-fit predicate rejects what does not fit allocatable
    _apply(
        controlplane,
        """
apiVersion: v1
kind: Pod
metadata: {name: over-allocatable}
spec:
  nodeName: db-1
  containers:
  - {name: app, image: busybox, resources: {requests: {cpu: "100"}}}
""",
    )
    wait_for(lambda: _phase(controlplane, "over-allocatable") == "Failed", 120, "the over-allocatable pod Failed")
    st = _pod(controlplane, "over-allocatable")["status"]
    assert st["reason"] == "OutOfcpu" and st["message"].startswith(
        "Pod was rejected: Node didn't have enough resource: cpu"
    )
    controlplane.kubectl("delete", "pod", "over-allocatable", "--wait=true", "--timeout=120s")


def test_deployment_scheduled_to_numa_nodes_that_reject_some(controlplane: ControlPlane, sim: Simulator) -> None:
    # 20-CPU pods: kube-scheduler fits 3 on a node (63 CPUs), its NUMA nodes take one each
    dep = f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: wide}}
spec:
  replicas: 6
  selector: {{matchLabels: {{app: wide}}}}
  template:
    metadata: {{labels: {{app: wide}}}}
    spec:
{_indent(_guaranteed_pod("x", 20, pool="spread").split("spec:")[1], 4)}
"""
    _apply(controlplane, dep)

    def settled() -> tuple[list[dict], list[dict]] | None:
        pods = controlplane.get("pods", "-l", "app=wide")["items"]
        running = [p for p in pods if p["status"].get("phase") == "Running"]
        failed = [p for p in pods if p["status"].get("phase") == "Failed"]
        return (running, failed) if len(running) == 4 and len(failed) >= 2 else None

    running, failed = wait_for(settled, 180, "4 Running and rejected replicas")
    assert {p["spec"]["nodeName"] for p in running} == {"spread-0", "spread-1"}
    for n in ("spread-0", "spread-1"):
        assert sum(1 for p in running if p["spec"]["nodeName"] == n) == 2
    assert all(p["status"]["reason"] == "TopologyAffinityError" for p in failed)
    controlplane.kubectl("delete", "deployment", "wide", "--wait=true")
    wait_for(lambda: not controlplane.get("pods", "-l", "app=wide")["items"], 120, "the deployment's pods gone")


def _indent(text: str, n: int) -> str:
    return "\n".join((" " * n + line) if line.strip() else line for line in text.strip("\n").splitlines())


def test_nrt_objects_and_metrics(controlplane: ControlPlane, sim: Simulator) -> None:
    from topolet.cluster.nrt import fingerprint

    _apply(controlplane, _guaranteed_pod("nrt-probe", 4))
    wait_for(lambda: _phase(controlplane, "nrt-probe") == "Running", 120, "the probe pod Running")
    node = _pod(controlplane, "nrt-probe")["spec"]["nodeName"]

    def nrt_matches() -> dict | None:
        obj = controlplane.get("noderesourcetopologies", node)
        running = [
            (p["metadata"]["namespace"], p["metadata"]["name"])
            for p in controlplane.get("pods", "-A", "--field-selector", f"spec.nodeName={node}")["items"]
            if p["status"].get("phase") == "Running"
        ]
        attrs = {a["name"]: a["value"] for a in obj.get("attributes", [])}
        return obj if attrs.get("nodeTopologyPodsFingerprint") == fingerprint(running) else None

    obj = wait_for(nrt_matches, 60, "the NRT fingerprint of the node's running pods")
    attrs = {a["name"]: a["value"] for a in obj["attributes"]}
    assert attrs["topologyManagerPolicy"] == "single-numa-node" and attrs["topologyManagerScope"] == "pod"
    zones = {z["name"]: z for z in obj["zones"]}
    assert sorted(zones) == ["node-0", "node-1"]
    cpu = {z: next(r for r in zones[z]["resources"] if r["name"] == "cpu") for z in zones}
    assert cpu["node-0"]["capacity"] == "32" and cpu["node-0"]["allocatable"] == "31"  # CPU 0 reserved
    assert int(cpu["node-0"]["available"]) + int(cpu["node-1"]["available"]) == 31 + 32 - 4
    assert [c["value"] for c in zones["node-0"]["costs"]] == [10, 21]
    nrts = controlplane.get("noderesourcetopologies")["items"]
    assert {o["metadata"]["name"] for o in nrts} >= {"db-0", "db-1", "spread-0", "spread-1"}
    # the metrics endpoint: 1.36 names, a node label
    text = sim.http("/metrics")
    assert f'kubelet_topology_manager_admission_requests_total{{node="{node}"}}' in text
    assert 'kubelet_admission_rejections_total{node="db-' in text and 'reason="TopologyAffinityError"' in text
    # the probe's container got exclusive CPUs from the node (labels sorted by name, as the kubelet's)
    assert f'resource_manager_container_assignments{{assignment_type="node_exclusive",node="{node}",' in text
    assert f'kubelet_cpu_manager_allocation_per_numa{{node="{node}",numa_node="0"}}' in text
    assert "# TYPE kubelet_topology_manager_admission_duration_ms histogram" in text
    assert sim.http("/readyz").strip() == "ok"
    controlplane.kubectl("delete", "pod", "nrt-probe", "--wait=true", "--timeout=120s")


def test_sigkill_then_start_is_a_kubelet_restart(controlplane: ControlPlane, sim: Simulator) -> None:
    for i in range(3):
        _apply(controlplane, _guaranteed_pod(f"keep-{i}", 6))
    for i in range(3):
        wait_for(lambda i=i: _phase(controlplane, f"keep-{i}") == "Running", 120, f"keep-{i} Running")
    before = {p: _pod(controlplane, p) for p in ("keep-0", "keep-1", "keep-2")}
    sim.kill(signal.SIGKILL)
    # while the kubelets are down: a pod is deleted (stays Terminating), another one is bound
    controlplane.kubectl("delete", "pod", "keep-2", "--wait=false")
    _apply(controlplane, _guaranteed_pod("while-down", 6))
    wait_for(lambda: _pod(controlplane, "while-down")["spec"].get("nodeName"), 90, "while-down bound")
    assert _pod(controlplane, "keep-2")["metadata"].get("deletionTimestamp")
    time.sleep(0.5)
    sim.start()
    wait_for(lambda: _phase(controlplane, "while-down") == "Running", 90, "the pod bound while down Running")
    wait_for(lambda: "keep-2" not in controlplane.kubectl("get", "pods", "-o", "name"), 90, "keep-2 deletion finished")
    for name in ("keep-0", "keep-1"):
        now = _pod(controlplane, name)
        assert now["status"]["phase"] == "Running"
        assert now["status"]["podIP"] == before[name]["status"]["podIP"]
    # every Running pod's CPUs are in its node's checkpoint, no CPU is held twice
    pods = controlplane.get("pods", "-A")["items"]
    for node in ("db-0", "db-1"):
        running = {
            p["metadata"]["uid"]
            for p in pods
            if p["spec"].get("nodeName") == node and p["status"].get("phase") == "Running"
        }
        data = json.loads((sim.state / "nodes" / node / "cpu_manager_state").read_text())
        entries = data.get("entries") or {}
        assert set(entries) == running
        taken = [c for per_pod in entries.values() for c in per_pod.values()]
        bits = [_cpus(c) for c in taken]
        assert sum(len(b) for b in bits) == len(set().union(*bits)) if bits else True
        assert not set().union(*bits) & _cpus(data["defaultCpuSet"]) if bits else True
    for name in ("keep-0", "keep-1", "while-down"):
        controlplane.kubectl("delete", "pod", name, "--wait=false")


def test_node_deleted_by_someone_else_is_registered_again(controlplane: ControlPlane, sim: Simulator) -> None:
    uid = controlplane.get("node", "spread-1")["metadata"]["uid"]
    controlplane.kubectl("delete", "node", "spread-1")

    def back() -> bool:
        out = controlplane.kubectl("get", "node", "spread-1", "-o", "json", check=False)
        if not out:
            return False
        n = json.loads(out)
        ready = [c for c in n["status"].get("conditions", []) if c["type"] == "Ready"]
        return n["metadata"]["uid"] != uid and bool(ready) and ready[0]["status"] == "True"

    wait_for(back, 90, "spread-1 registered again")
    # the garbage collector deletes the old node's lease (owned by the deleted Node) some time after the
    # node is back: the simulator's next renewal creates it again
    wait_for(lambda: controlplane.find("lease", "spread-1", "-n", "kube-node-lease"), 90, "its lease again")


def test_api_server_restart_is_survived(controlplane: ControlPlane, sim: Simulator) -> None:
    subprocess.run(
        ["bash", str(controlplane.cp / "down.sh"), str(controlplane.state)], capture_output=True, timeout=120
    )
    time.sleep(2)
    r = subprocess.run(
        ["bash", str(controlplane.cp / "up.sh"), str(controlplane.state)], capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert sim.proc is not None and sim.proc.poll() is None  # the loop went on
    _apply(controlplane, _guaranteed_pod("after-restart", 2))
    wait_for(lambda: _phase(controlplane, "after-restart") == "Running", 180, "a pod admitted after the restart")
    nodes = _nodes(controlplane)
    assert all(next(c for c in n["status"]["conditions"] if c["type"] == "Ready")["status"] == "True" for n in nodes)
    controlplane.kubectl("delete", "pod", "after-restart", "--wait=true", "--timeout=120s")


def _cpus(text: str) -> set[int]:
    out: set[int] = set()
    for part in filter(None, text.split(",")):
        a, _, b = part.partition("-")
        out.update(range(int(a), int(b or a) + 1))
    return out


def test_watch_streams_decode_every_event(sim: Simulator) -> None:
    """No watch event failed to decode or broke a handler during the session (each would log and re-list)."""
    log = sim.log.read_text()
    assert "Expected `array`, got `null`" not in log, log[-3000:]
    assert "informer:" not in log, log[-3000:]


def test_admit_all_and_delete(controlplane: ControlPlane, tmp_path: Path) -> None:
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(FLEET.format(name="kwok", prefix="kw", config=SEED_CONFIG))
    s = Simulator(controlplane, fleet, tmp_path / "state", "--admit-all")
    s.start()
    try:
        wait_for(
            lambda: all(not n["spec"].get("taints") for n in _nodes(controlplane, "kwok")), 180, "kwok nodes untainted"
        )
        _apply(controlplane, _guaranteed_pod("kw-wide", 40, pool="kwdb"))
        wait_for(lambda: _phase(controlplane, "kw-wide") == "Running", 120, "the 40-CPU pod admitted by --admit-all")
        controlplane.kubectl("delete", "pod", "kw-wide", "--wait=true", "--timeout=120s")
    finally:
        s.kill(signal.SIGTERM)
    # stopped: the nodes stay (a kubelet going away); `topolet cluster delete` removes them
    assert len(_nodes(controlplane, "kwok")) == 4
    out = subprocess.run(
        [TOPOLET, "cluster", "delete", "--fleet", str(fleet), "--kubeconfig", controlplane.kubeconfig],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("deleted") == 4
    assert _nodes(controlplane, "kwok") == []
    assert controlplane.kubectl("get", "lease", "kwdb-0", "-n", "kube-node-lease", check=False) == ""
