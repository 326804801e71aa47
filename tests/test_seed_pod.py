"""The seed article's pod on the seed article's kubelet (shared/examples)."""

from __future__ import annotations

import pytest

from paths import EXAMPLES as EXAMPLES_DIR
from topolet.engine.node import Node
from topolet.io.inputs import load_kubelet_config_file, load_pods, load_topology_arg
from topolet.model.cpuset import format_bits
from topolet.model.manifest import admit_to_api

EXAMPLES = EXAMPLES_DIR


@pytest.fixture(params=["shared", "embedded"])
def seed_node_and_pod(request: pytest.FixtureRequest) -> tuple[Node, object]:
    if request.param == "shared":
        if not EXAMPLES.is_dir():
            pytest.skip("shared/examples not present")
        cfg = load_kubelet_config_file(EXAMPLES / "kubelet-config.yaml")
        pod_file = str(EXAMPLES / "tightly-coupled-database.yaml")
    else:
        from topolet.io.inputs import embedded_pod_path

        cfg = load_kubelet_config_file(None)
        pod_file = embedded_pod_path()
    node = Node(load_topology_arg("preset:2-numa"), cfg)
    (pod,) = load_pods([pod_file], node.gates)
    stored, err = admit_to_api(pod, node.gates)
    assert err is None
    return node, stored


def test_database_exclusive_sidecars_share_the_rest_of_the_budget(seed_node_and_pod: tuple[Node, object]) -> None:
    node, pod = seed_node_and_pod
    r = node.admit(pod)  # type: ignore[arg-type]
    assert r.admitted, r.message
    assert r.qos == "Guaranteed"
    bubble = r.pod_cpus
    assert bubble.bit_count() == 8
    db = r.container("database")
    exporter = r.container("metrics-exporter")
    backup = r.container("backup-agent")
    assert db is not None and exporter is not None and backup is not None
    assert db.cpu_mode == "exclusive" and db.cpus.bit_count() == 4
    assert exporter.cpu_mode == backup.cpu_mode == "pod-shared"
    assert exporter.cpus == backup.cpus == bubble & ~db.cpus
    assert exporter.cpus.bit_count() == 4
    # exclusive CPUs are whole cores (SMT siblings together) and leave the node's shared pool
    topo = node.topology
    cores = {topo.cpu_core[c] for c in range(64) if (db.cpus >> c) & 1}
    assert len(cores) == 2
    assert bubble & node.cpu_manager.state.default_cpuset == 0
    # all memory on one NUMA node, which holds every CPU of the bubble
    numas = {topo.cpu_numa[c] for c in range(64) if (bubble >> c) & 1}
    assert len(numas) == 1
    (numa,) = numas
    for c in (db, exporter, backup):
        assert format_bits(c.mems) == str(numa)
        assert all(b.numa_affinity == [numa] for b in c.memory)
    assert [b.size for b in db.memory] == [10 * 1024**3]
    assert [b.size for b in exporter.memory] == [6 * 1024**3]
    free = node.free_memory()[numa]["memory"]
    allocatable = node.memory_manager.state.machine_state[numa].memory_map["memory"].allocatable
    assert allocatable - free == 16 * 1024**3


def test_delete_returns_everything(seed_node_and_pod: tuple[Node, object]) -> None:
    node, pod = seed_node_and_pod
    before_cpus = node.cpu_manager.state.default_cpuset
    before_mem = node.free_memory()
    assert node.admit(pod).admitted  # type: ignore[arg-type]
    node.delete("tightly-coupled-database")
    assert node.cpu_manager.state.default_cpuset == before_cpus
    assert node.free_memory() == before_mem
    assert not node.cpu_manager.state.assignments and not node.cpu_manager.state.pod_assignments
