"""``topolet cluster`` pieces that need no API server: fingerprint, node object, kubelet restart, metrics."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from paths import SEED_CONFIG

pytest.importorskip("lightkube")
pytest.importorskip("xxhash")

from topolet.cluster import podstatus
from topolet.cluster.fleetnodes import nodes_from_fleet
from topolet.cluster.metrics import render
from topolet.cluster.nodestatus import node_object
from topolet.cluster.nrt import fingerprint, nrt_object
from topolet.cluster.podworker import ActivePod, NodeKubelet
from topolet.cluster.runner import ClusterRunner, RunOptions
from topolet.cluster.store import ClusterState
from topolet.engine.node import Node
from topolet.engine.restart import MOVED, REJECTED, leaked_cpus
from topolet.fleet.spec import fleet_from_mapping
from topolet.io.kubelet_restart import checkpoint_bytes
from topolet.model.manifest import admit_to_api, pods_from_object
from topolet.model.pod import Container, Pod, Resources
from topolet.model.quantity import Quantity
from topolet.nodedir.store import start_kubelet


def _fleet(config: str | dict = str(SEED_CONFIG), count: int = 2):
    return fleet_from_mapping(
        {"name": "u", "pools": [{"name": "p", "count": count, "topology": "preset:2-numa", "kubelet": config}]},
        "f.yaml",
    )


def _gpod(name: str, cpus: int) -> Pod:
    q = {"cpu": Quantity.parse(str(cpus)), "memory": Quantity.parse("1Gi")}
    return Pod(
        name=name, uid=f"uid-{name}", containers=[Container("c", Resources(dict(q), dict(q)))], qos_class="Guaranteed"
    )


def test_fingerprint_v001_compat_vector() -> None:
    # podfingerprint's testdata/compat-tiny-3pods-1ns: three pods in "production"
    pods = [("production", "jaeger-dpgjk"), ("production", "nginx-rt684"), ("production", "envoy-g9m22")]
    assert fingerprint(pods) == "pfp0v001607b76a0e9d3aeb4"
    assert fingerprint(reversed(pods)) == fingerprint(pods)
    assert fingerprint(pods[:2]) != fingerprint(pods)


def test_node_object_capacity_labels() -> None:
    specs = nodes_from_fleet(_fleet())
    assert [s.name for s in specs] == ["p-0", "p-1"]
    obj = node_object(specs[1])
    assert obj["metadata"]["labels"]["kubernetes.io/hostname"] == "p-1"
    assert obj["status"]["capacity"] == {"cpu": "64", "memory": "128Gi", "pods": "110"}
    assert obj["status"]["allocatable"]["cpu"] == "63"
    assert obj["spec"]["podCIDR"] == "10.128.1.0/24"


def test_a_pool_the_kubelet_refuses_is_an_input_error() -> None:
    from topolet.io.inputs import InputError

    bad = {"cpuManagerPolicy": "static", "topologyManagerPolicy": "single-numa-node"}  # static needs reserved CPUs
    with pytest.raises(InputError, match="pool 'p'"):
        nodes_from_fleet(_fleet(bad))


def test_cluster_run_refuses_bad_fleet_before_connecting(tmp_path: Path) -> None:
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text("name: x\npools:\n- name: p\n  count: 1\n  kubelet: {cpuManagerPolicy: static}\n")
    topolet = str(Path(sys.executable).parent / "topolet")
    r = subprocess.run(
        [
            topolet,
            "cluster",
            "run",
            "--fleet",
            str(fleet),
            "--kubeconfig",
            str(tmp_path / "none"),
            "--state",
            str(tmp_path / "s"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode != 0
    assert "pool 'p'" in r.stderr and "Traceback" not in r.stderr


def test_restore_is_a_kubelet_restart() -> None:
    spec = nodes_from_fleet(_fleet())[0]
    k = NodeKubelet(spec, Node(spec.topology, spec.config))
    a, b, c = _gpod("a", 8), _gpod("b", 8), _gpod("c", 8)
    for p in (a, b, c):
        assert k.admit(p).entry.admitted
    ips = {e.uid: e.ip for e in k.pods.values()}
    cpu, mem = checkpoint_bytes(k.engine)
    # restart: a still Running, b deleted while down, c admitted but its status never written, d bound while down
    # (a and d select the node by its pool label: the restarted kubelet's node carries the fleet's labels)
    a.node_selector = {"topolet.dev/pool": "p"}
    engine = start_kubelet(Path("/nonexistent"), spec.topology, spec.config, cpu, mem)
    k2 = NodeKubelet(spec, engine)
    d = _gpod("d", 8)
    d.node_selector = {"topolet.dev/pool": "p"}
    active = [
        ActivePod(a, a.uid, a.key, "Guaranteed", "Running", ips[a.uid]),
        ActivePod(c, c.uid, c.key, "Guaranteed", "Pending", ""),
        ActivePod(d, d.uid, d.key, "Guaranteed", "Pending", ""),
    ]
    r = k2.restore(active)
    # every active pod re-admitted in creation order (kubelet 1.36.2's restart), state of b removed
    assert [(x.entry.uid, x.entry.admitted) for x in r.decided] == [(a.uid, True), (c.uid, True), (d.uid, True)]
    assert r.stale == [b.uid] and not r.notes and not r.empty_start
    assert k2.pods[a.uid].ip == ips[a.uid]
    engine = k2.engine
    assert engine is not None and engine.name == spec.name
    # a and c keep the CPUs their checkpoint entries hold
    for p in (a, c):
        assert engine.get(p.key).result.containers[0].cpus == k.engine.get(p.key).result.containers[0].cpus
    assert k2.dirty  # b's state went: the new kubelet's checkpoints are written
    cs = engine.cpu_manager.state
    held = [bits for per in cs.assignments.values() for bits in per.values()]
    union = 0
    for bits in held:
        assert not union & bits
        union |= bits
    assert not union & cs.default_cpuset
    assert set(cs.assignments) == {a.uid, c.uid, d.uid}
    # the node-fit predicates count the pods running after the restart (a, c, d): 3 x 8 CPUs
    assert engine.usage is engine.pods._usage
    burst = Pod(
        name="e",
        uid="uid-e",
        containers=[Container("c", Resources({"cpu": Quantity.parse("40")}, {}))],
        qos_class="Burstable",
    )
    assert k2.admit(burst).entry.reason == "OutOfcpu"  # 63 allocatable - 24 requested < 40
    # the node's NRT and metrics
    obj = nrt_object(spec.name, engine, k2.running_keys())
    free = sum(int(next(r for r in z["resources"] if r["name"] == "cpu")["available"]) for z in obj["zones"])
    assert free == 63 - 24
    text = render({spec.name: (k2.metrics, engine, k2.counts())})
    # the restarted kubelet's counters: a, c, d re-admitted, then e
    assert 'kubelet_topology_manager_admission_requests_total{node="p-0"} 4' in text
    assert 'kubelet_cpu_manager_exclusive_cpu_allocation_count{node="p-0"} 24' in text


def test_rejection_and_removal_free_resources() -> None:
    spec = nodes_from_fleet(_fleet())[0]
    k = NodeKubelet(spec, Node(spec.topology, spec.config))
    big = _gpod("big", 40)
    d = k.admit(big)
    assert not d.entry.admitted and d.entry.reason == "TopologyAffinityError" and d.entry.ip == ""
    ok = k.admit(_gpod("ok", 30))
    assert ok.entry.admitted and ok.entry.ip == "10.128.0.2"
    assert k.remove(ok.entry.uid) is not None
    assert k.engine.cpu_manager.state.assignments == {}
    again = k.admit(_gpod("ok2", 30))
    assert again.entry.ip == "10.128.0.2"


def test_admit_all_admits_everything() -> None:
    spec = nodes_from_fleet(_fleet())[0]
    k = NodeKubelet(spec, None)
    assert k.admit(_gpod("big", 400)).entry.admitted
    assert k.checkpoints() is None


def test_api_pod_to_engine_pod_keeps_what_admission_reads() -> None:
    from lightkube.resources.core_v1 import Pod as ApiPod

    from topolet.cluster.convert import PodConversionError, pod_from_api

    obj = ApiPod.from_dict(
        {
            "metadata": {"name": "w", "namespace": "ns", "uid": "u-1", "labels": {"app": "w"}},
            "spec": {
                "nodeName": "p-0",
                "nodeSelector": {"pool": "db"},
                "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoSchedule"}],
                "volumes": [{"name": "v", "emptyDir": {}}],
                "initContainers": [{"name": "side", "image": "i", "restartPolicy": "Always"}],
                "containers": [
                    {
                        "name": "c",
                        "image": "i",
                        "ports": [{"containerPort": 80, "hostPort": 8080, "protocol": "TCP"}],
                        "resources": {
                            "limits": {"cpu": "2", "memory": "1Gi"},
                            "requests": {"cpu": "2", "memory": "1Gi"},
                        },
                        "volumeMounts": [{"name": "v", "mountPath": "/v"}],
                    }
                ],
            },
            "status": {"qosClass": "Burstable"},
        }
    )
    pod = pod_from_api(obj)
    assert (pod.key, pod.uid, pod.qos_class) == ("ns/w", "u-1", "Burstable")
    assert pod.node_name == "p-0" and pod.node_selector == {"pool": "db"} and len(pod.tolerations) == 1
    assert pod.init_containers[0].is_restartable and [p.port for p in pod.host_ports()] == [8080]
    assert str(pod.containers[0].resources.limits["cpu"]) == "2"
    bad = ApiPod.from_dict(
        {
            "metadata": {"name": "b", "namespace": "ns", "uid": "u-2"},
            "spec": {"containers": [{"name": "c", "image": "i", "resources": {"limits": {"cpu": "lots"}}}]},
        }
    )
    with pytest.raises(PodConversionError):
        pod_from_api(bad)


# --------------------------------------------------------------------------- restart: kubelet 1.36.2's

GRID8 = {"preset": "grid", "sockets": 1, "numaPerSocket": 2, "coresPerNuma": 4, "threadsPerCore": 1}


def _plrm_spec(policy: str = "best-effort"):
    kubelet = {
        "featureGates": {"PodLevelResourceManagers": True},
        "cpuManagerPolicy": "static",
        "reservedSystemCPUs": "0",
        "topologyManagerPolicy": policy,
        "topologyManagerScope": "pod",
    }
    fleet = fleet_from_mapping(
        {"name": "u", "pools": [{"name": "p", "count": 1, "topology": GRID8, "kubelet": kubelet}]}, "f.yaml"
    )
    return nodes_from_fleet(fleet)[0]


def _api_pod(node: Node, name: str, spec: dict) -> Pod:
    obj = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "uid": f"uid-{name}"}, "spec": spec}
    pod = pods_from_object(obj, name, node.gates)[0]
    stored, err = admit_to_api(pod, node.gates)
    assert stored is not None, err
    return stored


def _pod_level(cpu: str) -> dict:
    """Guaranteed with pod-level resources: an exclusive container and a shared one."""
    res = {"cpu": cpu, "memory": "1Gi"}
    excl = {"name": "excl", "image": "x", "resources": {"limits": {"cpu": "1", "memory": "256Mi"}}}
    return {"resources": {"requests": res, "limits": res}, "containers": [excl, {"name": "shared", "image": "x"}]}


def _guaranteed(cpu: str) -> dict:
    res = {"cpu": cpu, "memory": "256Mi"}
    return {"containers": [{"name": "c", "image": "x", "resources": {"requests": res, "limits": res}}]}


def _running(k: NodeKubelet, *pods: Pod) -> list[ActivePod]:
    return [ActivePod(p, p.uid, p.key, p.qos_class, "Running", k.pods[p.uid].ip) for p in pods]


def _no_cpu_twice(node: Node) -> None:
    cs = node.cpu_manager.state
    pod_level = set(cs.pod_assignments)
    # a container's CPUs lie inside its pod's pod-level CPUs (the shared ones in the pod's pool)
    for uid, per in cs.assignments.items():
        others = [b for u, p in cs.assignments.items() if u != uid for b in p.values()]
        for b in per.values():
            assert not any(b & o for o in others), "a CPU held by two pods"
            assert not b & cs.default_cpuset or uid in pod_level, "an exclusive CPU in the shared pool"
    for uid, b in cs.pod_assignments.items():
        others = [o for u, p in cs.assignments.items() if u != uid for o in p.values()]
        others += [o for u, o in cs.pod_assignments.items() if u != uid]
        assert not any(b & o for o in others), "a pod's pod-level CPUs held by another pod"


def test_restore_moves_a_pod_level_pod_as_kubelet_1362() -> None:
    spec = _plrm_spec()
    k = NodeKubelet(spec, Node(spec.topology, spec.config))
    pl = _api_pod(k.engine, "pl", _pod_level("2"))
    assert k.admit(pl).entry.admitted
    before = k.engine.cpu_manager.state.pod_assignments[pl.uid]
    ip = k.pods[pl.uid].ip
    files = checkpoint_bytes(k.engine)
    k2 = NodeKubelet(spec, start_kubelet(Path("/s/nodes/p-0"), spec.topology, spec.config, *files))
    r = k2.restore(_running(k, pl), files, Path("/s/nodes/p-0"))
    (d,) = r.decided
    assert d.entry.admitted and d.entry.ip == ip  # still Running, its IP kept
    (note,) = r.notes
    assert note.kind == MOVED and note.old_cpus == before and note.new_cpus != before
    assert note.leaked_cpus == before and leaked_cpus(k2.engine) == before
    assert k2.engine.cpu_manager.state.pod_assignments[pl.uid] == note.new_cpus
    assert "kubernetes#140989" in note.describe()
    assert k2.dirty and k2.checkpoints() != files  # the moved pod is written to the checkpoints
    _no_cpu_twice(k2.engine)


def test_restore_rejects_at_readmission_failed_with_the_kubelets_reason() -> None:
    spec = _plrm_spec("restricted")
    k = NodeKubelet(spec, Node(spec.topology, spec.config))
    pl = _api_pod(k.engine, "pl", _pod_level("2"))
    g = _api_pod(k.engine, "g", _guaranteed("1"))
    assert k.admit(pl).entry.admitted and k.admit(g).entry.admitted
    g_cpus = k.engine.get(g.key).result.containers[0].cpus
    ips = {u: e.ip for u, e in k.pods.items()}
    files = checkpoint_bytes(k.engine)
    k2 = NodeKubelet(spec, start_kubelet(Path("/s"), spec.topology, spec.config, *files))
    new = _api_pod(k.engine, "new", _guaranteed("1"))  # bound while the kubelet was down
    active = [*_running(k, pl, g), ActivePod(new, new.uid, new.key, "Guaranteed", "Pending", "")]
    r = k2.restore(active, files)
    by = {d.entry.uid: d.entry for d in r.decided}
    rej = by[pl.uid]
    assert (rej.admitted, rej.reason, rej.ip) == (False, "TopologyAffinityError", "")
    status = podstatus.rejected_status(rej.uid, rej.qos, rej.reason, rej.message)["status"]
    assert status["phase"] == "Failed" and status["message"].startswith("Pod was rejected: ")
    (note,) = r.notes
    assert note.kind == REJECTED and note.uid == pl.uid
    # g keeps its CPU and IP; the new pod is admitted; pl's state and IP are free again
    assert by[g.uid].admitted and by[g.uid].ip == ips[g.uid]
    assert k2.engine.get(g.key).result.containers[0].cpus == g_cpus
    assert by[new.uid].admitted and by[new.uid].ip and by[new.uid].ip != ips[g.uid]
    cs = k2.engine.cpu_manager.state
    assert pl.uid not in cs.assignments and pl.uid not in cs.pod_assignments and r.stale == [pl.uid]
    assert leaked_cpus(k2.engine) == 0
    assert k2.counts() == {"admitted": 2, "rejected": 1}
    assert k2.remove(pl.uid) is not None and k2.engine.get(g.key) is not None  # removing a rejected pod frees nothing
    _no_cpu_twice(k2.engine)


def test_restore_with_checkpoints_deleted_starts_from_empty_state() -> None:
    spec = nodes_from_fleet(_fleet())[0]
    k = NodeKubelet(spec, Node(spec.topology, spec.config))
    pods = [_gpod(n, 8) for n in ("a", "b")]
    for p in pods:
        assert k.admit(p).entry.admitted
    ips = {u: e.ip for u, e in k.pods.items()}
    k2 = NodeKubelet(spec, start_kubelet(Path("/s"), spec.topology, spec.config, None, None))
    r = k2.restore(_running(k, *pods), (None, None))
    assert r.empty_start and not r.stale
    assert [(d.entry.uid, d.entry.admitted, d.entry.ip) for d in r.decided] == [(p.uid, True, ips[p.uid]) for p in pods]
    cs = k2.engine.cpu_manager.state
    assert set(cs.assignments) == {p.uid for p in pods}  # pinned again, not silently unpinned
    for p in pods:
        assert k2.engine.get(p.key).result.containers[0].cpus.bit_count() == 8
    _no_cpu_twice(k2.engine)
    assert k2.dirty  # the new kubelet writes its checkpoints


def test_a_node_whose_kubelet_refuses_its_checkpoints_is_down_the_others_run(tmp_path: Path) -> None:
    # 1.36.2 moved a pod at a restart and leaked its old CPUs: the next start of that kubelet is refused
    spec = _plrm_spec()
    k = NodeKubelet(spec, Node(spec.topology, spec.config))
    pl = _api_pod(k.engine, "pl", _pod_level("2"))
    k.admit(pl)
    files = checkpoint_bytes(k.engine)
    k2 = NodeKubelet(spec, start_kubelet(Path("/s"), spec.topology, spec.config, *files))
    k2.restore(_running(k, pl), files)
    other = nodes_from_fleet(
        fleet_from_mapping(
            {
                "name": "u",
                "pools": [{"name": "q", "count": 1, "topology": "preset:2-numa", "kubelet": str(SEED_CONFIG)}],
            },
            "f.yaml",
        )
    )[0]
    state = ClusterState(tmp_path)
    state.open()
    state.node_dir(spec.name).mkdir()
    state.save(spec.name, k2.checkpoints())
    state.close()
    runner = ClusterRunner(RunOptions(None, tmp_path, "u"), [spec, other])
    runner.start_kubelets()
    try:
        assert list(runner.kubelets) == [other.name] and list(runner.specs) == [other.name]
        assert "doesn't match" in runner.down[spec.name] and str(tmp_path) in runner.down[spec.name]
        code, _, body = runner._http(f"/debug/nodes/{spec.name}")
        assert code == 503 and b"kubeletRefusal" in body
        assert b"kubeletRefusals" in runner._http("/debug/stats")[2]
    finally:
        runner.state.close()


def test_a_running_pod_rejected_at_a_restart_loses_what_the_rejection_status_lacks() -> None:
    fresh = podstatus.rejected_status("u", "Guaranteed", "TopologyAffinityError", "m")["status"]
    assert fresh["message"] == "Pod was rejected: m" and "startTime" in fresh and "podIP" not in fresh
    ran = podstatus.rejected_status("u", "Guaranteed", "TopologyAffinityError", "m", was_running=True)["status"]
    assert ran["phase"] == "Failed" and ran["reason"] == "TopologyAffinityError" and "startTime" not in ran
    assert ran["podIP"] is None and ran["containerStatuses"] is None
    assert {c["type"] for c in ran["conditions"]} == set(podstatus.KUBELET_CONDITIONS)
    assert all(c["$patch"] == "delete" for c in ran["conditions"])


def test_watch_bookmark_is_not_decoded_as_a_pod() -> None:
    """The API server sends a BOOKMARK as a Pod skeleton (``spec.containers: null``), which lightkube's
    typed decoder refuses: the watch takes its resourceVersion and never decodes it as a Pod."""
    pytest.importorskip("lightkube")
    from lightkube import ApiError
    from lightkube.resources.core_v1 import Pod

    from topolet.cluster.api import BOOKMARK, watch_event

    bookmark = (
        '{"type":"BOOKMARK","object":{"kind":"Pod","apiVersion":"v1","metadata":{"resourceVersion":"4711",'
        '"annotations":{"k8s.io/initial-events-end":"true"}},"spec":{"containers":null},"status":{}}}'
    )
    assert watch_event(bookmark, Pod) == (BOOKMARK, None, "4711")
    added = (
        '{"type":"ADDED","object":{"kind":"Pod","apiVersion":"v1","metadata":{"name":"p","resourceVersion":"4712"},'
        '"spec":{"containers":[{"name":"c","image":"x"}]}}}'
    )
    typ, pod, rv = watch_event(added, Pod)
    assert (typ, pod.metadata.name, rv) == ("ADDED", "p", "4712")
    gone = (
        '{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure",'
        '"message":"too old resource version","reason":"Expired","code":410}}'
    )
    with pytest.raises(ApiError) as e:
        watch_event(gone, Pod)
    assert e.value.status.code == 410


def test_call_retries_an_error_answer_that_is_not_a_status_and_gives_up_on_the_rest() -> None:
    import asyncio

    import httpx2 as httpx

    from topolet.cluster.api import GiveUp, call

    def answer(code: int) -> httpx.HTTPStatusError:
        req = httpx.Request("PATCH", "https://127.0.0.1/api/v1/namespaces/a/pods/b/status")
        resp = httpx.Response(code, request=req, text="upstream connect error", headers={"Content-Type": "text/plain"})
        return httpx.HTTPStatusError("proxy", request=req, response=resp)

    attempts: list[int] = []

    async def flaky() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise answer(503)
        return "written"

    async def refused() -> str:
        raise answer(400)

    async def main() -> None:
        assert await call(flaky, "status", tries=5) == "written"
        assert len(attempts) == 3
        with pytest.raises(GiveUp, match="status of pod"):
            await call(refused, "status of pod a/b", tries=5)

    asyncio.run(main())


def test_runner_keeps_leases_beside_the_pod_writes() -> None:
    spec = nodes_from_fleet(_fleet(), "")
    for workers in (1, 16, 64, 200):
        r = ClusterRunner(
            RunOptions(kubeconfig=None, state_dir=Path("/nonexistent"), fleet_name="u", workers=workers), spec
        )
        assert r.sem._value == workers
        assert r.sem_lease._value >= max(workers, 32)  # renewals never queue behind pod status writes


def test_cluster_run_against_an_api_server_that_refuses_is_a_clear_error(tmp_path: Path) -> None:
    """An API server that answers 403 to everything (wrong credentials): one line naming it, exit 1."""
    import http.server
    import json
    import threading

    class Refuse(http.server.BaseHTTPRequestHandler):
        def _refuse(self) -> None:
            body = json.dumps(
                {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "status": "Failure",
                    "message": 'forbidden: User "system:anonymous" cannot get path',
                    "reason": "Forbidden",
                    "code": 403,
                }
            ).encode()
            self.send_response(403)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _refuse

        def log_message(self, *args: object) -> None:
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        kubeconfig = tmp_path / "kubeconfig"
        kubeconfig.write_text(
            "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
            f"clusters: [{{name: k, cluster: {{server: 'http://127.0.0.1:{srv.server_address[1]}'}}}}]\n"
            "users: [{name: u, user: {token: nope}}]\n"
            "contexts: [{name: c, context: {cluster: k, user: u}}]\n"
        )
        fleet = tmp_path / "fleet.yaml"
        fleet.write_text(f"name: x\npools:\n- name: p\n  count: 1\n  kubelet: {SEED_CONFIG}\n")
        topolet = str(Path(sys.executable).parent / "topolet")
        cmd = [topolet, "cluster", "run", "--fleet", str(fleet), "--kubeconfig", str(kubeconfig)]
        cmd += ["--state", str(tmp_path / "s"), "--listen", "127.0.0.1:0"]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    finally:
        srv.shutdown()
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr
    assert f"the API server ({kubeconfig}): 403 Forbidden" in r.stderr, r.stderr


def test_raw_requests_fill_their_pools_in_order(tmp_path: Path) -> None:
    from topolet.cluster.api import SHARD_CONNECTIONS, RawRequests, make_client

    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        "clusters: [{name: k, cluster: {server: 'http://127.0.0.1:9'}}]\n"
        "users: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: k, user: u}}]\n"
    )
    raw = RawRequests(make_client(str(kubeconfig)), 3 * SHARD_CONNECTIONS)
    assert len(raw.pools) == 3
    assert raw.pick() == 0  # a light load stays on one pool
    raw.busy[0] = SHARD_CONNECTIONS
    assert raw.pick() == 1
    raw.busy[1] = SHARD_CONNECTIONS
    raw.busy[2] = SHARD_CONNECTIONS + 5
    assert raw.pick() == 2  # all busy: the last pool queues
    raw.busy[0] = 3
    assert raw.pick() == 0


# --------------------------------------------------------------------------- metrics


def test_metrics_render_the_kubelets_counters() -> None:
    """The engine's counters per node (engine/metrics.py; tests/test_engine_metrics.py checks them against
    the kubelet's source), the kubelet's rejections by reason and the admission duration."""
    spec = nodes_from_fleet(_fleet())[0]  # the example configuration: single-numa-node, pod scope, gates on
    k = NodeKubelet(spec, Node(spec.topology, spec.config))
    assert k.admit(_gpod("a", 8)).entry.admitted
    assert k.admit(_gpod("big", 40)).entry.reason == "TopologyAffinityError"
    sysctl = _gpod("s", 1)
    sysctl.sysctls = (("kernel.msgmax", "1"),)  # not allowed: rejected before the topology manager
    assert k.admit(sysctl).entry.reason == "SysctlForbidden"
    text = render({spec.name: (k.metrics, k.engine, k.counts())})
    lines = set(text.splitlines())
    m = k.engine.metrics
    assert (m.tm_requests, m.tm_errors, m.cpu_pinning_requests) == (2, 1, 1)
    for line in (
        'kubelet_topology_manager_admission_requests_total{node="p-0"} 2',
        'kubelet_topology_manager_admission_errors_total{node="p-0"} 1',
        'kubelet_topology_manager_admission_duration_ms_count{node="p-0"} 2',  # not the sysctl rejection
        'kubelet_cpu_manager_pinning_requests_total{node="p-0"} 1',
        'kubelet_cpu_manager_pinning_errors_total{node="p-0"} 0',
        'kubelet_memory_manager_pinning_requests_total{node="p-0"} 1',
        'kubelet_admission_rejections_total{node="p-0",reason="TopologyAffinityError"} 1',
        'kubelet_admission_rejections_total{node="p-0",reason="SysctlForbidden"} 1',
        # labels sorted by name, as the kubelet's exposition has them
        'kubelet_container_aligned_compute_resources_count{boundary="numa_node",node="p-0",scope="pod"} 1',
        'kubelet_container_aligned_compute_resources_failure_count{boundary="numa_node",node="p-0",scope="pod"} 1',
        'resource_manager_allocations_total{node="p-0",resource_name="cpu",source="node"} 1',
        'resource_manager_container_assignments{assignment_type="node_exclusive",node="p-0",resource_name="cpu"} 1',
        'kubelet_topology_manager_admission_duration_ms_bucket{node="p-0",le="+Inf"} 2',
        'kubelet_cpu_manager_exclusive_cpu_allocation_count{node="p-0"} 8',
        "# HELP resource_manager_allocations_total [ALPHA] Number of exclusive resource allocations performed "
        "by a resource manager.",
        "# TYPE resource_manager_container_assignments counter",
    ):
        assert line in lines, line
    # a restart is a new kubelet: its counters start at zero and count the re-admission
    files = checkpoint_bytes(k.engine)
    a = k.engine.get("default/a")
    assert a is not None
    k.restore([ActivePod(a.pod, a.pod.uid, a.pod.key, "Guaranteed", "Running", k.pods[a.pod.uid].ip)], files)
    lines = set(render({spec.name: (k.metrics, k.engine, k.counts())}).splitlines())
    for line in (
        'kubelet_topology_manager_admission_requests_total{node="p-0"} 1',
        'kubelet_topology_manager_admission_errors_total{node="p-0"} 0',
        'kubelet_topology_manager_admission_duration_ms_count{node="p-0"} 1',
        'kubelet_cpu_manager_pinning_requests_total{node="p-0"} 1',  # the container is in the restored state
    ):
        assert line in lines, line
    assert not [x for x in lines if x.startswith("kubelet_admission_rejections_total")]
    assert not [x for x in lines if x.startswith("resource_manager_allocations_total")]
