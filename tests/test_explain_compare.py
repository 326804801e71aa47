"""Pod-level budgets against the per-container model (sidecars made Guaranteed, as users do today)."""

from __future__ import annotations

from paths import SEED_CONFIG, SEED_POD
from topolet.engine.node import Node
from topolet.explain.compare import compare_models, to_per_container_model
from topolet.io.inputs import load_kubelet_config_file, load_pods, load_topology_arg
from topolet.model.manifest import admit_to_api, pods_from_object


def _node() -> Node:
    return Node(load_topology_arg("preset:2-numa"), load_kubelet_config_file(str(SEED_CONFIG)))


def test_to_per_container_model_of_the_seed_pod() -> None:
    node = _node()
    raw = load_pods([str(SEED_POD)], node.gates)[0]
    conv = to_per_container_model(raw)
    assert conv.resources is None and raw.resources is not None  # the original is untouched
    got = {
        c.name: (str(c.resources.requests["cpu"]), str(c.resources.limits["cpu"]), str(c.resources.requests["memory"]))
        for c in conv.containers
    }
    assert got == {
        "database": ("4", "4", "10Gi"),
        "metrics-exporter": ("1", "1", "128Mi"),
        "backup-agent": ("1", "1", "256Mi"),
    }
    for c in conv.containers:
        assert c.resources.requests == c.resources.limits
    stored, invalid = admit_to_api(conv, node.gates)
    assert stored is not None, invalid
    assert stored.qos_class == "Guaranteed"
    assert str(raw.containers[1].resources.requests["cpu"]) == "100m"


def test_to_per_container_model_fills_missing_memory_from_the_budget() -> None:
    obj = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {
            "resources": {"requests": {"cpu": "4", "memory": "4Gi"}, "limits": {"cpu": "4", "memory": "4Gi"}},
            "initContainers": [{"name": "init", "image": "i"}],
            "containers": [
                {"name": "a", "image": "i", "resources": {"requests": {"cpu": "2", "memory": "2Gi"}}},
                {"name": "b", "image": "i", "resources": {"requests": {"cpu": "1500m"}}},
            ],
        },
    }
    pod = pods_from_object(obj, "t", None)[0]
    conv = to_per_container_model(pod)
    cpu = {c.name: str(c.resources.limits["cpu"]) for c in conv.all_containers()}
    mem = {c.name: str(c.resources.limits["memory"]) for c in conv.all_containers()}
    assert cpu == {"init": "4", "a": "2", "b": "2"}  # the init container runs alone: the whole budget
    assert mem == {"init": "1Gi", "a": "2Gi", "b": "1Gi"}  # the 2Gi left over, shared by the two without memory


def test_compare_models_on_the_seed_pod() -> None:
    node = _node()
    raw = load_pods([str(SEED_POD)], node.gates)
    pod_level, per_container = compare_models(node, raw)
    assert node.pods == {}
    assert (pod_level.admitted, per_container.admitted) == (1, 1)
    # pod-level: an 8-CPU bubble (4 whole cores), 4 exclusive to the database, 4 in the pod shared pool
    assert (pod_level.pinned_cpus, pod_level.exclusive_cpus, pod_level.pod_shared_cpus) == (8, 4, 4)
    assert pod_level.whole_cores == 4 and pod_level.pinned_memory == 16 << 30
    # per-container: 4 + 1 + 1 exclusive CPUs; the two 1-CPU sidecars split cores
    assert (per_container.pinned_cpus, per_container.exclusive_cpus, per_container.pod_shared_cpus) == (6, 6, 0)
    assert per_container.whole_cores == 2
    assert per_container.pinned_memory == (10 << 30) + (384 << 20)
    assert per_container.explanations[0].path == "pod"  # no spec.resources any more: the classic pod scope
