"""Machines beyond the topology manager's default of 8 NUMA nodes.

* ``max-allowable-numa-nodes``: the kubelet refuses to start on more NUMA nodes than the
  option allows (8 when unset; values below 8 are refused; policy ``none`` never checks);
* topolet models machines of up to 64 NUMA nodes (presets, specs) and admits pods on them
  with the fast path, for every policy and scope, in milliseconds;
* the fast path's answers there are those the kubelet's rules dictate (checked on
  states whose answer is known: the narrowest / closest free NUMA nodes).
"""

from __future__ import annotations

from typing import Any

import pytest

from topolet.engine.errors import StartupError
from topolet.engine.fast_path import reference_enabled, reference_mode, structured_threshold
from topolet.engine.node import Node
from topolet.io.inputs import load_topology_arg
from topolet.model.kubelet_config import load_kubelet_config
from topolet.model.manifest import admit_to_api, pods_from_object
from topolet.model.pod import Pod
from topolet.model.presets import get_preset
from topolet.model.topology import Topology


def grid(sockets: int, numa_per_socket: int, **kw: Any) -> Topology:
    return get_preset(
        "grid", {"sockets": sockets, "numaPerSocket": numa_per_socket, "coresPerNuma": 4, "threadsPerCore": 2, **kw}
    )


def kubelet(policy: str = "restricted", scope: str = "container", **options: str) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "cpuManagerPolicy": "static",
        "reservedSystemCPUs": "0",
        "memoryManagerPolicy": "Static",
        "systemReserved": {"memory": "1Gi"},
        "evictionHard": {"memory.available": "100Mi"},
        "reservedMemory": [{"numaNode": 0, "limits": {"memory": "1124Mi"}}],
        "topologyManagerPolicy": policy,
        "topologyManagerScope": scope,
    }
    if options:
        cfg["topologyManagerPolicyOptions"] = dict(options)
    return cfg


def node_of(topo: Topology, cfg: dict[str, Any]) -> Node:
    return Node(topo, load_kubelet_config(cfg, "kubelet"))


def guaranteed(node: Node, name: str, cpu: str, memory: str, **extra: str) -> Pod:
    res = {"cpu": cpu, "memory": memory, **extra}
    obj = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "app", "image": "x", "resources": {"requests": res, "limits": res}}]},
    }
    pod, err = admit_to_api(pods_from_object(obj, "default", node.gates)[0], node.gates)
    assert pod is not None, err
    return pod


# --------------------------------------------------------------------------- max-allowable-numa-nodes
def test_more_than_eight_numa_nodes_need_the_option() -> None:
    nine = grid(1, 9)
    with pytest.raises(StartupError, match="unsupported on machines with more than 8 NUMA Nodes"):
        node_of(nine, kubelet())
    node_of(nine, kubelet(**{"max-allowable-numa-nodes": "9"}))
    with pytest.raises(StartupError, match="unsupported on machines with more than 9 NUMA Nodes"):
        node_of(grid(2, 5), kubelet(**{"max-allowable-numa-nodes": "9"}))
    # policy none: no topology manager, no check
    node_of(grid(2, 32), kubelet(policy="none"))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("7", 'the minimum value of "max-allowable-numa-nodes" should not be less than 8'),
        ("0", 'the minimum value of "max-allowable-numa-nodes" should not be less than 8'),
        ("-64", 'the minimum value of "max-allowable-numa-nodes" should not be less than 8'),
        ("64.0", 'unable to convert policy option to integer "max-allowable-numa-nodes"'),
        ("", 'unable to convert policy option to integer "max-allowable-numa-nodes"'),
    ],
)
def test_option_bounds(value: str, message: str) -> None:
    with pytest.raises(StartupError, match=message):
        node_of(grid(1, 2), kubelet(**{"max-allowable-numa-nodes": value}))


def test_large_values_are_accepted() -> None:
    # no upper bound (the kubelet only logs a warning above 8)
    node_of(grid(1, 2), kubelet(**{"max-allowable-numa-nodes": "1024"}))
    node_of(grid(2, 32), kubelet(**{"max-allowable-numa-nodes": "64"}))


def test_presets_model_64_numa_nodes() -> None:
    topo = load_topology_arg("preset:grid,sockets=2,numaPerSocket=32,coresPerNuma=2,threadsPerCore=2")
    assert len(topo.numa_ids) == 64 and topo.num_cpus == 256 and topo.num_sockets == 2
    assert topo.numa_nodes[63].distances[0] == 21 and topo.numa_nodes[63].distances[62] == 11
    gb = get_preset("gb200")
    assert len(gb.numa_ids) == 34


# --------------------------------------------------------------------------- admission at 64 NUMA nodes
@pytest.mark.parametrize("policy", ["best-effort", "restricted", "single-numa-node"])
@pytest.mark.parametrize("scope", ["container", "pod"])
@pytest.mark.parametrize("closest", ["true", "false"])
def test_admission_on_64_numa_nodes(policy: str, scope: str, closest: str) -> None:
    assert not reference_enabled() and structured_threshold() <= 64
    topo = grid(2, 32)
    node = node_of(
        topo,
        kubelet(policy, scope, **{"max-allowable-numa-nodes": "64", "prefer-closest-numa-nodes": closest}),
    )
    # 2 CPUs fit on one NUMA node: NUMA node 0 (CPU 0 is reserved, 7 left)
    r = node.admit(guaranteed(node, "small", "2", "1Gi"))
    assert r.admitted and r.containers[0].mems_list == "0"
    # 8 CPUs: no node has 8 free any more but node 1 has all 8
    r = node.admit(guaranteed(node, "full-node", "8", "1Gi"))
    assert r.admitted and r.containers[0].mems_list == "1"
    if policy == "single-numa-node":
        r = node.admit(guaranteed(node, "two-nodes", "16", "1Gi"))
        assert not r.admitted and r.reason == "TopologyAffinityError"
        return
    # 16 CPUs: two whole NUMA nodes, the first free ones (2, 3), distances 11 either way
    r = node.admit(guaranteed(node, "two-nodes", "16", "100Gi"))
    assert r.admitted and r.containers[0].mems_list == "2-3"
    assert r.containers[0].cpus.bit_count() == 16
    # memory for four nodes, CPUs for one: no preferred hint
    r = node.admit(guaranteed(node, "memory-heavy", "2", "200Gi"))
    if policy == "restricted":
        assert not r.admitted and r.reason == "TopologyAffinityError"
    else:
        assert r.admitted and r.containers[0].mems_list == "4-7"
    for key in list(node.pods):
        node.delete(key)
    assert node.cpu_manager.state.default_cpuset == topo.all_cpus


def test_closest_numa_nodes_on_two_sockets() -> None:
    """24 CPUs = 3 NUMA nodes; with prefer-closest-numa-nodes the three must share a socket."""
    topo = grid(2, 32)
    for closest, want in (("false", "1-3"), ("true", "1-3")):
        node = node_of(
            topo, kubelet("best-effort", **{"max-allowable-numa-nodes": "64", "prefer-closest-numa-nodes": closest})
        )
        # fill NUMA node 0 (7 free CPUs) so that masks with it do not fit exactly
        node.admit(guaranteed(node, "fill", "7", "1Gi"))
        r = node.admit(guaranteed(node, "three", "24", "1Gi"))
        assert r.admitted and r.containers[0].mems_list == want
    # nodes 1..31 busy except 31 and 32..: the closest triple stays on the second socket
    node = node_of(
        topo, kubelet("best-effort", **{"max-allowable-numa-nodes": "64", "prefer-closest-numa-nodes": "true"})
    )
    for i in range(31):
        node.admit(guaranteed(node, f"fill{i}", "8" if i else "7", "1Gi"))
    r = node.admit(guaranteed(node, "three", "24", "1Gi"))
    assert r.admitted and r.containers[0].mems_list == "32-34"


def test_gb200_gpu_memory_nodes() -> None:
    """34 NUMA nodes, 32 of them CPU-less GPU memory: the hints of the CPU (2 nodes) and the
    memory manager (34 nodes) merge without enumerating 2^34 masks."""
    topo = get_preset("gb200")
    node = node_of(topo, kubelet("best-effort", "pod", **{"max-allowable-numa-nodes": "34"}))
    r = node.admit(guaranteed(node, "a", "4", "8Gi"))
    assert r.admitted and r.containers[0].mems_list == "0"
    # 100 CPUs need both CPU nodes; the memory manager cannot group node 0 (used alone)
    # with others: no merged mask of 2 nodes is reachable, the best is {0}, not preferred
    r = node.admit(guaranteed(node, "b", "100", "8Gi"), trace=True)
    assert r.admitted and r.trace is not None
    assert str(r.trace.merges[0].best) == "{0 preferred=false}"
    assert r.containers[0].mems_list == "0" and r.containers[0].cpus.bit_count() == 100


def test_reference_mode_is_scoped() -> None:
    with reference_mode():
        assert reference_enabled()
        node = node_of(grid(1, 2), kubelet())
    assert not reference_enabled()
    assert node.topology_manager.policy.reference
    assert node.cpu_manager.policy.reference  # type: ignore[union-attr]


def test_traces_on_64_numa_nodes_keep_the_structure() -> None:
    """A trace's hint lists are not listed beyond LISTABLE_MAX_NODES NUMA nodes (2^64 - 1
    masks): they say so, and their structure answers instead."""
    from topolet.engine.topologymanager.hint_space import LISTABLE_MAX_NODES, HintList, HintListTooLarge

    topo = grid(2, 32)
    node = node_of(topo, kubelet("restricted", **{"max-allowable-numa-nodes": "64"}))
    r = node.admit(guaranteed(node, "a", "2", "1Gi"), trace=True)
    assert r.trace is not None and r.admitted
    (name, cpu_hints), (_, mem_hints) = r.trace.merges[0].provider_hints
    assert name == "cpu" and cpu_hints is not None and mem_hints is not None
    lst = cpu_hints["cpu"]
    assert isinstance(lst, HintList) and not lst.listable and LISTABLE_MAX_NODES < 64
    assert "NUMA nodes" in repr(lst)
    with pytest.raises(HintListTooLarge):
        len(lst)
    assert str(lst.space.find_best_hint()) == "{0 preferred=true}"
    assert len(lst.space.single_numa_preferred()) == 64
