"""Kubelet restarts as kubelet 1.36.2 does them (conformance/FORMAT.md "restart", SPEC §7).

Start-up refusals against the checkpoints, re-admission of the running pods in
creation order, the 1.36.2 bugs kubernetes#140989 / #140906 (a pod moved with
its old CPUs leaked, rejected at re-admission, memory counted twice), the
checkpoint formats on disk, and the scenario runner's ``restart`` step.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from topolet.engine.errors import StartupError
from topolet.engine.node import Node
from topolet.engine.restart import (
    MEMORY_TWICE,
    MOVED,
    REJECTED,
    leaked_cpus,
    next_restart_refusal,
    simulate_restart,
)
from topolet.engine.result import AdmitResult
from topolet.io.checkpoint import load_cpu_checkpoint
from topolet.io.kubelet_restart import checkpoint_bytes, restart_from_files, restart_running_node
from topolet.model.cpuset import parse_bits
from topolet.model.kubelet_config import KubeletConfig, load_kubelet_config
from topolet.model.manifest import admit_to_api, pods_from_object
from topolet.model.pod import Pod
from topolet.model.topology import Topology
from topolet.model.topology_spec import topology_from_spec
from topolet.scenario.runner import Scenario, run_scenario

SRC = Path(__file__).resolve().parent.parent / "src" / "topolet"

GRID8 = {"preset": "grid", "sockets": 1, "numaPerSocket": 2, "coresPerNuma": 4, "threadsPerCore": 1}
PLRM = {"PodLevelResourceManagers": True}


def topo(spec: dict[str, Any] | None = None) -> Topology:
    return topology_from_spec(spec or GRID8, "topology")


def kubelet(**fields: Any) -> KubeletConfig:
    base: dict[str, Any] = {
        "featureGates": dict(PLRM),
        "cpuManagerPolicy": "static",
        "reservedSystemCPUs": "0",
        "topologyManagerPolicy": "best-effort",
        "topologyManagerScope": "pod",
    }
    base.update(fields)
    return load_kubelet_config({k: v for k, v in base.items() if v is not None}, "kubelet")


def make_pod(node: Node, name: str, spec: dict[str, Any]) -> Pod:
    obj = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "uid": f"uid-{name}"}, "spec": spec}
    pod = pods_from_object(obj, name, node.gates)[0]
    stored, err = admit_to_api(pod, node.gates)
    assert stored is not None, err
    return stored


def pod_level(cpu: str, memory: str = "1Gi", exclusive: str | None = "1") -> dict[str, Any]:
    """A Guaranteed pod with pod-level resources: an exclusive container and a shared one."""
    containers: list[dict[str, Any]] = []
    if exclusive:
        containers.append(
            {"name": "excl", "image": "x", "resources": {"limits": {"cpu": exclusive, "memory": "256Mi"}}}
        )
    containers.append({"name": "shared", "image": "x"})
    res = {"cpu": cpu, "memory": memory}
    return {"resources": {"requests": res, "limits": res}, "containers": containers}


def guaranteed(cpu: str, memory: str = "256Mi") -> dict[str, Any]:
    res = {"cpu": cpu, "memory": memory}
    return {"containers": [{"name": "c", "image": "x", "resources": {"requests": res, "limits": res}}]}


def running(node: Node) -> list[Pod]:
    return [rec.pod for rec in node.pods.values() if rec.result.admitted]


# --------------------------------------------------------------------------- the engine does no I/O


def test_engine_restart_imports_no_io() -> None:
    tree = ast.parse((SRC / "engine" / "restart.py").read_text())
    imported = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)] + [
        a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
    ]
    assert imported and not [m for m in imported if m.startswith(("topolet.io", "topolet.nodedir", "topolet.cli"))]


# --------------------------------------------------------------------------- start-up refusals


def test_cpu_policy_changed_is_refused() -> None:
    node = Node(topo(), kubelet())
    node.admit(make_pod(node, "g", guaranteed("1")))
    with pytest.raises(StartupError) as ei:
        restart_running_node(node, running(node), config=kubelet(cpuManagerPolicy="none", reservedSystemCPUs=None))
    assert str(ei.value) == (
        'start cpu manager error: could not restore state from checkpoint: configured policy "none" differs from '
        'state checkpoint policy "static", please drain this node and delete the CPU manager checkpoint file '
        '"/var/lib/kubelet/cpu_manager_state" before restarting Kubelet'
    )


def test_cpus_gone_offline_are_refused() -> None:
    node = Node(topo(), kubelet())
    node.admit(make_pod(node, "g", guaranteed("1")))
    fewer = topo({"preset": "grid", "sockets": 1, "numaPerSocket": 2, "coresPerNuma": 3, "threadsPerCore": 1})
    with pytest.raises(StartupError, match=r'current set of available CPUs "0-5" doesn\'t match with CPUs in state'):
        restart_running_node(node, running(node), topology=fewer)


def test_reserved_cpus_given_to_containers_are_refused() -> None:
    node = Node(topo(), kubelet())
    node.admit(make_pod(node, "g", guaranteed("1")))  # takes CPU 1
    with pytest.raises(StartupError, match=r'not all reserved cpus: "0-1" are present in defaultCpuSet: "0,2-7"'):
        restart_running_node(node, running(node), config=kubelet(reservedSystemCPUs="0-1"))


def test_reserved_memory_changed_is_refused() -> None:
    mem = {"memoryManagerPolicy": "Static", "systemReserved": {"memory": "256Mi"}}
    topology = topo()
    reserved = [{"numaNode": 0, "limits": {"memory": "156Mi"}}, {"numaNode": 1, "limits": {"memory": "200Mi"}}]
    node = Node(topology, kubelet(**mem, reservedMemory=reserved))
    moved = [{"numaNode": 0, "limits": {"memory": "200Mi"}}, {"numaNode": 1, "limits": {"memory": "156Mi"}}]
    with pytest.raises(StartupError) as ei:
        restart_running_node(node, [], config=kubelet(**mem, reservedMemory=moved))
    assert str(ei.value) == (
        "start memory manager error: [memorymanager] the expected machine state is different from the real one"
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        # no container entry: the V3 file read as V2, then V1, fails its checksum
        (guaranteed("500m"), "could not restore state from checkpoint: checkpoint is corrupted, please drain"),
        # a container entry: V1's entries are strings
        (
            guaranteed("1"),
            "could not restore state from checkpoint: json: cannot unmarshal object into Go struct field "
            "CPUManagerCheckpointV1.entries.uid-p of type string, please drain",
        ),
    ],
)
def test_pod_level_resource_managers_turned_off_after_a_v3_checkpoint(spec: dict[str, Any], message: str) -> None:
    node = Node(topo(), kubelet())
    node.admit(make_pod(node, "p", spec))
    assert node.checkpoint_versions() == (3, 2)
    with pytest.raises(StartupError) as ei:
        restart_running_node(node, running(node), config=kubelet(featureGates={"PodLevelResourceManagers": False}))
    assert str(ei.value).startswith(f"start cpu manager error: {message}")
    # turning it on starts
    off = Node(topo(), kubelet(featureGates={"PodLevelResourceManagers": False}))
    off.admit(make_pod(off, "p", spec))
    assert off.checkpoint_versions() == (2, 1)
    restart_running_node(off, running(off), config=kubelet())


def test_checkpoint_keeps_the_older_format_until_the_new_kubelet_writes() -> None:
    # written with the gate off (V2), restarted with it on: nothing allocated, the file stays V2,
    # so turning the gate off again starts
    off = kubelet(featureGates={"PodLevelResourceManagers": False}, cpuManagerPolicy="none", reservedSystemCPUs=None)
    on = kubelet(cpuManagerPolicy="none", reservedSystemCPUs=None)
    node = Node(topo(), off)
    out = restart_running_node(node, [], config=on)
    assert out.node.checkpoint_versions() == (2, 1)
    restart_running_node(out.node, [], config=off)
    # a first start writes the file in its own format: the gate off is then refused
    fresh = Node(topo(), on)
    with pytest.raises(StartupError, match="checkpoint is corrupted"):
        restart_running_node(fresh, [], config=off)


def test_missing_checkpoints_start_from_empty_state_and_readmit() -> None:
    node = Node(topo(), kubelet())
    g = make_pod(node, "g", guaranteed("2"))
    node.admit(g)
    out = restart_from_files(node.topology, node.config, None, None, [g])
    rec = out.node.get("default/g")
    assert rec is not None and rec.result.admitted
    # pinned again (never silently unpinned): 2 exclusive CPUs out of the shared pool
    assert rec.result.containers[0].cpus.bit_count() == 2
    assert rec.result.containers[0].cpus & out.node.cpu_manager.state.default_cpuset == 0


# --------------------------------------------------------------------------- re-admission


def test_readmission_in_creation_order_each_against_those_before() -> None:
    node = Node(topo(), kubelet())
    pods = [make_pod(node, n, guaranteed("1")) for n in ("a", "b", "c")]
    for p in pods:
        node.admit(p)
    seen: list[tuple[str, int]] = []

    def admit(n: Node, p: Pod) -> AdmitResult:
        seen.append((p.name, len(n.pods)))
        return n.admit(p)

    out = restart_running_node(node, pods, admit=admit)
    assert seen == [("a", 0), ("b", 1), ("c", 2)]
    # container assignments found in the checkpoint are kept
    for p in pods:
        assert out.node.get(p.key).result.containers[0].cpus == node.get(p.key).result.containers[0].cpus  # type: ignore[union-attr]
    assert not out.notes and out.stale == []


def test_pod_moved_at_restart_leaks_its_cpus_and_the_next_restart_refuses() -> None:
    node = Node(topo(), kubelet())
    pl = make_pod(node, "pl", pod_level("2"))
    assert node.admit(pl).pod_cpus == parse_bits("1-2")
    out = restart_running_node(node, [pl])
    (note,) = out.notes
    assert (note.kind, note.old_cpus, note.new_cpus, note.leaked_cpus) == (
        MOVED,
        parse_bits("1-2"),
        parse_bits("3-4"),
        parse_bits("1-2"),
    )
    assert out.pods[0].result.pod_cpus == parse_bits("3-4")
    assert leaked_cpus(out.node) == parse_bits("1-2")
    text = note.describe()
    assert "from CPUs 1-2 to 3-4" in text and "kubernetes#140989" in text and "1.37" in text
    refusal = next_restart_refusal(out.node)
    assert refusal is not None and 'doesn\'t match with CPUs in state "0,3-7"' in refusal
    with pytest.raises(StartupError, match="doesn't match"):
        restart_running_node(out.node, running(out.node))


def test_pod_rejected_at_readmission_is_failed_and_freed() -> None:
    # restricted: the restored shared-pool entry does not match the container's request -> no hint
    node = Node(topo(), kubelet(topologyManagerPolicy="restricted"))
    pl = make_pod(node, "pl", pod_level("2"))
    g = make_pod(node, "g", guaranteed("1"))
    node.admit(pl)
    node.admit(g)
    out = restart_running_node(node, [pl, g])
    verdicts = {r.pod.name: (r.result.admitted, r.result.reason) for r in out.pods}
    assert verdicts == {"pl": (False, "TopologyAffinityError"), "g": (True, "")}
    (note,) = out.notes
    assert note.kind == REJECTED and "kubernetes#140989" in note.describe() and "Failed" in note.describe()
    # what it held goes back to the shared pool (stale state dropped); g keeps its CPU
    cs = out.node.cpu_manager.state
    assert "uid-pl" not in cs.assignments and "uid-pl" not in cs.pod_assignments
    assert cs.default_cpuset == topo().all_cpus & ~node.get("default/g").result.containers[0].cpus  # type: ignore[union-attr]
    assert out.stale == ["uid-pl"] and "default/pl" not in out.node.pods
    assert leaked_cpus(out.node) == 0


def test_memory_counted_twice_then_topology_affinity_error() -> None:
    cfg = kubelet(
        cpuManagerPolicy="none",
        reservedSystemCPUs=None,
        memoryManagerPolicy="Static",
        systemReserved={"memory": "256Mi"},
        reservedMemory=[{"numaNode": 0, "limits": {"memory": "356Mi"}}],
        topologyManagerPolicy="single-numa-node",
    )
    node = Node(topo(), cfg)
    free0 = node.free_memory()[0]["memory"]
    pl = make_pod(node, "pl", pod_level("1", memory="1Gi", exclusive=None))
    assert node.admit(pl).admitted
    out = restart_running_node(node, [pl])
    assert [n.kind for n in out.notes] == [MEMORY_TWICE]
    assert "kubernetes#140906" in out.notes[0].describe()
    assert out.node.free_memory()[0]["memory"] == free0 - 2 * (1 << 30)
    refusal = next_restart_refusal(out.node)
    assert (
        refusal
        == "start memory manager error: [memorymanager] the expected machine state is different from the real one"
    )


def test_simulated_restart_leaves_the_node_alone() -> None:
    node = Node(topo(), kubelet())
    pl = make_pod(node, "pl", pod_level("2"))
    node.admit(pl)
    before = checkpoint_bytes(node)
    out = simulate_restart(node)
    assert [n.kind for n in out.notes] == [MOVED]
    assert checkpoint_bytes(node) == before and leaked_cpus(node) == 0


# --------------------------------------------------------------------------- the scenario runner


def _run(doc: dict[str, Any]) -> list[str]:
    return [str(f) for f in run_scenario(Scenario("t.yaml", "t", doc)).failures]


def _doc(steps: list[dict[str, Any]], **kubelet_fields: Any) -> dict[str, Any]:
    k: dict[str, Any] = {
        "featureGates": dict(PLRM),
        "cpuManagerPolicy": "static",
        "reservedSystemCPUs": "0",
        "topologyManagerPolicy": "best-effort",
        "topologyManagerScope": "pod",
    }
    k.update(kubelet_fields)
    return {
        "apiVersion": "topolet/v1",
        "kind": "Scenario",
        "spec": {"node": {"topology": GRID8, "kubelet": k}, "steps": steps},
    }


def _admit(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"admit": {"metadata": {"name": name}, "spec": spec}, "expect": {"admitted": True}}


def test_runner_restart_expect_pods_and_leak() -> None:
    steps = [
        _admit("pl", pod_level("2")),
        {
            "restart": {},
            "expect": {
                "pods": {"pl": {"admitted": True, "podCpus": "3-4", "containers": {"excl": {"cpus": "3"}}}},
                "defaultCpuSet": "0,5-7",
            },
        },
        {"restart": {}, "expect": {"error": 'doesn\'t match with CPUs in state "0,3-7"'}},
        # still down: the next restart starts from the same files, and is refused again
        {"restart": {}, "expect": {"error": "current set of available CPUs"}},
    ]
    assert _run(_doc(steps)) == []
    bad = [*steps[:1], {"restart": {}, "expect": {"pods": {"pl": {"podCpus": "1-2"}}}}]
    (failure,) = _run(_doc(bad))
    assert 'pods.pl.podCpus: expected "1-2", got "3-4"' in failure


def test_runner_restart_replaces_topology_and_kubelet_from_then_on() -> None:
    fewer = {"preset": "grid", "sockets": 1, "numaPerSocket": 2, "coresPerNuma": 3, "threadsPerCore": 1}
    steps = [
        _admit("g", guaranteed("1")),
        {"restart": {"topology": fewer}, "expect": {"error": 'current set of available CPUs "0-5"'}},
        # absent: as at the previous (refused) start
        {"restart": {}, "expect": {"error": 'current set of available CPUs "0-5"'}},
        {"restart": {"topology": GRID8}, "expect": {"pods": {"g": {"admitted": True}}, "defaultCpuSet": "0,2-7"}},
    ]
    assert _run(_doc(steps)) == []


def test_runner_node_down_accepts_only_a_restart() -> None:
    steps = [
        _admit("g", guaranteed("1")),
        {
            "restart": {"kubelet": {"featureGates": PLRM, "cpuManagerPolicy": "none"}},
            "expect": {"error": "differs from state checkpoint"},
        },
        _admit("h", guaranteed("1")),
    ]
    (failure,) = _run(_doc(steps))
    assert "admit: expected a running kubelet" in failure
    unexpected = [_admit("g", guaranteed("1")), {"restart": {}, "expect": {"error": "anything"}}]
    assert "the kubelet started" in _run(_doc(unexpected))[0]
    with_key = [{"restart": {"kubelets": {}}}]
    assert "unknown key(s) kubelets" in _run(_doc(with_key))[0]


def test_v3_checkpoint_bytes_of_a_restarted_node() -> None:
    node = Node(topo(), kubelet())
    node.admit(make_pod(node, "g", guaranteed("1")))
    out = restart_running_node(node, running(node))
    cpu, _mem = checkpoint_bytes(out.node)
    loaded = load_cpu_checkpoint(cpu)
    assert loaded.version == 3 and loaded.state.assignments["uid-g"]["c"] == parse_bits("1")


def test_memory_reapplied_at_readmission_rejects_the_pod() -> None:
    cfg = kubelet(
        cpuManagerPolicy="none",
        reservedSystemCPUs=None,
        memoryManagerPolicy="Static",
        systemReserved={"memory": "256Mi"},
        reservedMemory=[{"numaNode": 0, "limits": {"memory": "356Mi"}}],
        topologyManagerPolicy="single-numa-node",
    )
    node = Node(topo(), cfg)
    free = node.free_memory()
    pl = make_pod(node, "pl", pod_level("1", memory="40Gi", exclusive=None))
    assert node.admit(pl).admitted
    out = restart_running_node(node, [pl])
    (r,) = out.pods
    assert (r.result.admitted, r.result.reason) == (False, "UnexpectedAdmissionError")
    assert "[memorymanager] failed to find NUMA nodes to extend the current topology hint" in r.result.message
    assert [n.kind for n in out.notes] == [REJECTED] and "kubernetes#140906" in out.notes[0].describe()
    # Failed, containers killed: its memory is free again
    assert out.node.free_memory() == free and not out.node.memory_manager.state.assignments


def test_readmission_runs_the_whole_admission_max_pods_lowered() -> None:
    node = Node(topo(), kubelet())
    pods = [make_pod(node, n, guaranteed("1")) for n in ("a", "b", "c")]
    for p in pods:
        assert node.admit(p).admitted
    out = restart_running_node(node, pods, config=kubelet(maxPods=2))
    verdicts = [(r.pod.name, r.result.admitted, r.result.reason) for r in out.pods]
    assert verdicts == [("a", True, ""), ("b", True, ""), ("c", False, "OutOfpods")]
    assert "requested: 1, used: 2, capacity: 2" in out.pods[2].result.message
    # the managers kept c's CPU through its re-admission; it goes back with the stale-state sweep
    assert out.node.cpu_manager.state.default_cpuset == topo().all_cpus & ~parse_bits("1-2")
    assert not out.notes  # not the 1.36.2 bug: an ordinary rejection


def test_a_137_kubelet_keeps_the_restored_pod_level_entries() -> None:
    node = Node(topo(), kubelet())
    pl = make_pod(node, "pl", pod_level("2"))
    g = make_pod(node, "g", guaranteed("1"))
    node.admit(pl)
    node.admit(g)
    cpu, mem = checkpoint_bytes(node)
    out = restart_from_files(node.topology, node.config, cpu, mem, [pl, g], kubelet_version="1.37")
    assert not out.notes and leaked_cpus(out.node) == 0
    assert out.node.get("default/pl").result.pod_cpus == parse_bits("1-2")  # type: ignore[union-attr]
    assert [r.result.admitted for r in out.pods] == [True, True]


def test_an_ordinary_rejection_at_readmission_is_not_the_bug() -> None:
    node = Node(topo(), kubelet(topologyManagerPolicy="none"))
    g = make_pod(node, "g", guaranteed("1"))
    pl = make_pod(node, "pl", pod_level("2"))
    node.admit(g)
    node.admit(pl)
    out = restart_running_node(node, [g, pl], config=kubelet(topologyManagerPolicy="none", maxPods=1))
    assert [(r.pod.name, r.result.reason) for r in out.pods] == [("g", ""), ("pl", "OutOfpods")]
    assert not out.notes
