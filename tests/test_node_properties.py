"""Properties of the engine on random machines, configurations and pod sequences.

* no CPU is held by two pods, and no held CPU is in the shared pool;
* held ∪ shared pool ∪ reserved = every online CPU;
* memory: free + reserved = allocatable on every NUMA node and resource, never negative;
* admit then delete restores the CPU state exactly, and the memory state exactly when no
  multi-NUMA memory group exists. (With a multi-NUMA group the kubelet releases a block onto
  the group's nodes in node order, not where it was taken — the corpus pins this 1.36
  behaviour — so there the free memory is conserved per group, not per node.)
* deleting every pod gives back the fresh node.
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from topolet.engine.errors import StartupError
from topolet.engine.node import Node
from topolet.model.kubelet_config import load_kubelet_config
from topolet.model.manifest import admit_to_api, pods_from_object
from topolet.model.presets import get_preset

EXAMPLES = int(os.environ.get("TOPOLET_EXAMPLES", "60"))


@st.composite
def machines(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "sockets": draw(st.integers(1, 2)),
        "numaPerSocket": draw(st.integers(1, 3)),
        "coresPerNuma": draw(st.integers(2, 4)),
        "threadsPerCore": draw(st.integers(1, 2)),
        "memoryPerNuma": draw(st.sampled_from(["4Gi", "8Gi"])),
        "hugepages2MiPerNuma": draw(st.sampled_from(["0", "64Mi"])),
    }


@st.composite
def kubelets(draw: st.DrawFn) -> dict[str, Any]:
    gates = draw(st.sampled_from([(True, True), (True, False)]))
    cfg: dict[str, Any] = {
        "featureGates": {"PodLevelResources": gates[0], "PodLevelResourceManagers": gates[1]},
        "cpuManagerPolicy": draw(st.sampled_from(["static", "static", "none"])),
        "topologyManagerPolicy": draw(st.sampled_from(["none", "best-effort", "restricted", "single-numa-node"])),
        "topologyManagerScope": draw(st.sampled_from(["container", "pod"])),
        "evictionHard": {"memory.available": "100Mi"},
    }
    if cfg["cpuManagerPolicy"] == "static":
        if draw(st.booleans()):
            cfg["reservedSystemCPUs"] = "0"
        else:
            cfg["kubeReserved"] = {"cpu": draw(st.sampled_from(["500m", "1", "2"]))}
        opts = draw(
            st.sets(
                st.sampled_from(["full-pcpus-only", "distribute-cpus-across-numa", "strict-cpu-reservation"]),
                max_size=2,
            )
        )
        if opts:
            cfg["cpuManagerPolicyOptions"] = {o: "true" for o in opts}
    if draw(st.booleans()):
        cfg["memoryManagerPolicy"] = "Static"
        cfg["systemReserved"] = {"memory": "156Mi"}
        cfg["reservedMemory"] = [{"numaNode": 0, "limits": {"memory": "256Mi"}}]
    return cfg


def _ctr(name: str, cpu: str, mem: str, guaranteed: bool) -> dict[str, Any]:
    res: dict[str, Any] = {"requests": {"cpu": cpu, "memory": mem}}
    if guaranteed:
        res["limits"] = {"cpu": cpu, "memory": mem}
    return {"name": name, "image": "x", "resources": res}


@st.composite
def pods(draw: st.DrawFn, i: int) -> dict[str, Any]:
    shape = draw(st.sampled_from(["guaranteed", "burstable", "init", "pod-level", "pod-level-sidecar"]))
    cpu = draw(st.sampled_from(["1", "2", "3", "4", "1500m"]))
    mem = draw(st.sampled_from(["256Mi", "1Gi", "3Gi", "6Gi"]))
    spec: dict[str, Any]
    if shape == "guaranteed":
        spec = {"containers": [_ctr("a", cpu, mem, True), _ctr("b", "1", "128Mi", True)]}
    elif shape == "burstable":
        spec = {"containers": [_ctr("a", "500m", mem, False)]}
    elif shape == "init":
        spec = {
            "initContainers": [_ctr("init", draw(st.sampled_from(["1", "4"])), "512Mi", True)],
            "containers": [_ctr("a", cpu, mem, True)],
        }
    else:
        budget = draw(st.sampled_from(["4", "6", "8", "5500m"]))
        spec = {
            "resources": {"requests": {"cpu": budget, "memory": "4Gi"}, "limits": {"cpu": budget, "memory": "4Gi"}},
            "containers": [_ctr("main", "2", "2Gi", True), _ctr("helper", "100m", "64Mi", False)],
        }
        if shape == "pod-level-sidecar":
            spec["initContainers"] = [{**_ctr("proxy", "100m", "64Mi", False), "restartPolicy": "Always"}]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"p{i}", "uid": f"uid-{i}"}, "spec": spec}


def _check_invariants(node: Node) -> None:
    cs = node.cpu_manager.state
    if node.config.cpu_manager_policy == "static":
        held_by_pod: dict[str, int] = {}
        for uid, cont in cs.assignments.items():
            for cpus in cont.values():
                held_by_pod[uid] = held_by_pod.get(uid, 0) | cpus
        for uid, bubble in cs.pod_assignments.items():
            held_by_pod[uid] = held_by_pod.get(uid, 0) | bubble
        seen = 0
        for cpus in held_by_pod.values():
            assert seen & cpus == 0, "a CPU is held by two pods"
            assert cs.default_cpuset & cpus == 0, "a held CPU is also in the shared pool"
            seen |= cpus
        reserved = node.cpu_manager.policy.reserved_cpus  # type: ignore[attr-defined]
        assert seen & reserved == 0, "a reserved CPU went to a pod"
        assert seen | cs.default_cpuset | reserved == node.topology.all_cpus
    for st_ in node.memory_manager.state.machine_state.values():
        for t in st_.memory_map.values():
            assert t.free >= 0 and t.reserved >= 0
            assert t.free + t.reserved == t.allocatable


def _memory_groups_are_single(node: Node) -> bool:
    return all(len(s.cells) <= 1 for s in node.memory_manager.state.machine_state.values())


def _group_free(node: Node) -> dict[tuple[int, ...], dict[str, int]]:
    out: dict[tuple[int, ...], dict[str, int]] = {}
    for nid, s in node.memory_manager.state.machine_state.items():
        key = tuple(sorted(s.cells)) if s.cells else (nid,)
        g = out.setdefault(key, {})
        for r, t in s.memory_map.items():
            g[r] = g.get(r, 0) + t.free
    return out


def _total_free(groups: dict[tuple[int, ...], dict[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for g in groups.values():
        for r, v in g.items():
            out[r] = out.get(r, 0) + v
    return out


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(machines(), kubelets(), st.data())
def test_invariants_hold_through_random_admissions_and_deletes(
    machine: dict[str, Any], kubelet: dict[str, Any], data: st.DataObject
) -> None:
    topo = get_preset("grid", machine)
    try:
        node = Node(topo, load_kubelet_config(kubelet, "k"))
    except StartupError:
        assume(False)
        return
    fresh_cpus = node.cpu_manager.state.default_cpuset
    fresh_mem = node.free_memory()
    _check_invariants(node)
    live: list[str] = []
    for i in range(data.draw(st.integers(1, 8))):
        if live and data.draw(st.booleans()):
            victim = live.pop(data.draw(st.integers(0, len(live) - 1)))
            node.delete(victim)
            _check_invariants(node)
            continue
        (pod,) = pods_from_object(data.draw(pods(i)), "gen", node.gates)
        stored, err = admit_to_api(pod, node.gates)
        assert stored is not None, err
        cpus_before = node.cpu_manager.state.default_cpuset
        mem_before = node.free_memory()
        groups_before = _group_free(node)
        single = _memory_groups_are_single(node)
        r = node.admit(stored)
        _check_invariants(node)
        if not r.admitted:
            assert r.reason, "every rejection carries a reason"
            assert node.cpu_manager.state.default_cpuset == cpus_before, "a rejected pod left CPUs behind"
            continue
        if data.draw(st.booleans()):
            node.delete(stored.key)
            _check_invariants(node)
            assert node.cpu_manager.state.default_cpuset == cpus_before
            if single:
                assert node.free_memory() == mem_before
            else:
                assert _total_free(_group_free(node)) == _total_free(groups_before)
        else:
            live.append(stored.key)
    for key in live:
        node.delete(key)
    _check_invariants(node)
    assert node.cpu_manager.state.default_cpuset == fresh_cpus
    assert not node.cpu_manager.state.assignments and not node.cpu_manager.state.pod_assignments
    assert node.free_memory() == fresh_mem
