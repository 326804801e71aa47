"""``topolet cluster`` pieces that need no API server: fingerprint, node object, kubelet restart, metrics."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from paths import SEED_CONFIG

pytest.importorskip("lightkube")
pytest.importorskip("xxhash")

from topolet.cluster.fleetnodes import nodes_from_fleet
from topolet.cluster.metrics import render
from topolet.cluster.nodestatus import node_object
from topolet.cluster.nrt import fingerprint, nrt_object
from topolet.cluster.podworker import ActivePod, NodeKubelet
from topolet.engine.node import Node
from topolet.fleet.spec import fleet_from_mapping
from topolet.io.kubelet_restart import checkpoint_bytes
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
    engine = start_kubelet(Path("/nonexistent"), spec.topology, spec.config, cpu, mem)
    k2 = NodeKubelet(spec, engine)
    d = _gpod("d", 8)
    active = [
        ActivePod(a, a.uid, a.key, "Guaranteed", "Running", ips[a.uid]),
        ActivePod(c, c.uid, c.key, "Guaranteed", "Pending", ""),
        ActivePod(d, d.uid, d.key, "Guaranteed", "Pending", ""),
    ]
    r = k2.restore(active)
    assert [e.uid for e in r.registered] == [a.uid, c.uid]
    assert r.stale == [b.uid]
    assert [x.entry.uid for x in r.decided] == [d.uid] and r.decided[0].entry.admitted
    assert k2.pods[a.uid].ip == ips[a.uid]
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
    assert 'kubelet_topology_manager_admission_requests_total{node="p-0"} 2' in text  # d and e
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
