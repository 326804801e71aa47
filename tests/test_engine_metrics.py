"""The resource managers' counters (engine/metrics.py), as kubelet 1.36.2 counts them.

Every expected count is reasoned from the kubelet's source (paths under
``pkg/kubelet/``, kubelet 1.36.2):

* ``cm/topologymanager/topology_manager.go`` (TM), ``scope_container.go`` (SC), ``scope_pod.go`` (SP),
* ``cm/cpumanager/policy_static.go`` (CPU),
* ``cm/memorymanager/policy_static.go`` (MEM).

Hint providers run in the kubelet's order (container_manager_linux.go:317-361: devices, CPU, memory).
Machine: the ``2-numa`` preset (2 sockets x 1 NUMA node x 16 cores x 2 threads; one uncore cache per
socket) and the example kubelet configuration's reservations (tests/paths.py: examples/).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from paths import CORPUS
from topolet.engine.admission import HANDLER_RESOURCE_MANAGERS, HANDLER_SYSCTL
from topolet.engine.metrics import (
    ALIGNED,
    ALIGNED_FAILURES,
    CPU_PINNING_ERRORS,
    CPU_PINNING_REQUESTS,
    MEMORY_PINNING_REQUESTS,
    RM_ALLOCATIONS,
    RM_ASSIGNMENTS,
    TM_REQUESTS,
    ManagerMetrics,
)
from topolet.engine.node import Node
from topolet.engine.restart import simulate_restart
from topolet.engine.result import AdmitResult
from topolet.model.kubelet_config import load_kubelet_config
from topolet.model.manifest import admit_to_api, pods_from_object
from topolet.model.pod import Pod
from topolet.model.presets import get_preset
from topolet.scenario.runner import load_scenario_files, run_scenario

GATES = {"PodLevelResources": True, "PodLevelResourceManagers": True}


def node(policy: str = "single-numa-node", scope: str = "container", gates: bool = False, **extra: Any) -> Node:
    """The ``2-numa`` machine with the example configuration's managers (static CPU, reserved CPU 0;
    Static memory)."""
    cfg: dict[str, Any] = {
        "cpuManagerPolicy": "static",
        "reservedSystemCPUs": "0",
        "memoryManagerPolicy": "Static",
        "systemReserved": {"memory": "1Gi"},
        "evictionHard": {"memory.available": "100Mi"},
        "reservedMemory": [{"numaNode": 0, "limits": {"memory": "1124Mi"}}],
        "topologyManagerPolicy": policy,
        "topologyManagerScope": scope,
        **extra,
    }
    if gates:
        cfg["featureGates"] = dict(GATES)
    return Node(get_preset("2-numa"), load_kubelet_config(cfg, "kubelet.yaml"))


def ctr(name: str, cpu: str | None, mem: str, limits: bool = True, **extra: Any) -> dict[str, Any]:
    req = {"memory": mem} if cpu is None else {"cpu": cpu, "memory": mem}
    res: dict[str, Any] = {"requests": req}
    if limits:
        res["limits"] = dict(req)
    return {"name": name, "image": "x", "resources": res, **extra}


def pod(n: Node, name: str, spec: dict[str, Any]) -> Pod:
    obj = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}
    (raw,) = pods_from_object(obj, "test", n.gates)
    stored, err = admit_to_api(raw, n.gates)
    assert stored is not None, err
    return stored


def counted(m: ManagerMetrics) -> dict[str, int]:
    """The non-zero counters by field name."""
    return m.counts()


def test_exclusive_cpus_at_container_scope() -> None:
    n = node()
    p = pod(
        n,
        "db",
        {
            "initContainers": [ctr("setup", "1", "256Mi")],
            "containers": [ctr("db", "2", "1Gi"), ctr("log", "500m", "128Mi")],
        },
    )
    assert n.admit(p).admitted
    assert counted(n.metrics) == {
        "tm_requests": 1,  # TM:268, once per pod
        # SC:80 once per container (init and app alike) under single-numa-node (policy.go:35)
        "aligned_container_numa": 3,
        # CPU Allocate: setup (1 CPU) and db (2 CPUs) are pinned (CPU:591); log (500m) is shared (CPU:580-583)
        "cpu_pinning_requests": 2,
        "cpu_node_allocations": 2,  # CPU:632
        "cpu_node_exclusive": 2,  # CPU:633
        # updateMetricsOnAllocate (CPU:1086): each new set lies in one socket, the machine's uncore cache
        "aligned_container_uncore_cache": 2,
        # MEM Allocate: every container of a Guaranteed pod (MEM:443), one resource (memory) each (MEM:522)
        "memory_pinning_requests": 3,
        "memory_node_allocations": 3,
        "memory_node_exclusive": 3,  # MEM:537
    }
    # what the kubelet exposes: plain counters at 0 too, the vectors it creates at 0
    series = {(name, labels): v for name, labels, v in n.metrics.series()}
    assert series[(CPU_PINNING_ERRORS, ())] == 0
    assert series[(ALIGNED_FAILURES, (("scope", "pod"), ("boundary", "numa_node")))] == 0  # TM:232-235
    assert series[(ALIGNED, (("scope", "container"), ("boundary", "physical_cpu")))] == 0  # CPU:1075
    # the resource_manager_* series exist with the PodLevelResourceManagers gate only (metrics.go:1429)
    assert not [s for s in series if s[0] in (RM_ALLOCATIONS, RM_ASSIGNMENTS)]
    assert n.metrics.value(RM_ALLOCATIONS, (("resource_name", "cpu"), ("source", "node"))) == 2


def test_pod_level_budget_with_sidecars_in_the_pod_shared_pool() -> None:
    n = node(scope="pod", gates=True)
    p = pod(
        n,
        "plr",
        {
            "resources": {"requests": {"cpu": "4", "memory": "4Gi"}, "limits": {"cpu": "4", "memory": "4Gi"}},
            "initContainers": [
                ctr("migrate", "100m", "64Mi", limits=False),
                ctr("proxy", "100m", "128Mi", limits=False, restartPolicy="Always"),
            ],
            "containers": [ctr("db", "2", "2Gi"), ctr("exporter", "100m", "64Mi", limits=False)],
        },
    )
    r = n.admit(p)
    assert r.admitted, r.message
    assert counted(n.metrics) == {
        "tm_requests": 1,  # TM:268
        "aligned_pod_numa": 1,  # admitUsingPodResources -> updateSuccessMetrics, SP:135
        # CPU AllocatePod: no pinning request for the pod's budget itself; db's slice is one (CPU:493)
        "cpu_pinning_requests": 1,
        "cpu_pod_exclusive": 1,  # CPU:498
        # migrate (not restartable, no exclusive CPUs) in the init loop (CPU:481); proxy (restartable) is
        # skipped there and counted with exporter when the sets are saved (CPU:513)
        "cpu_pod_shared": 3,
        "cpu_pod_allocations": 4,  # every container of the pod, CPU:516
        "aligned_container_uncore_cache": 1,  # the pod's 4 CPUs (updateMetricsOnAllocate, CPU:444)
        # MEM AllocatePod: the pod (MEM:201), every init container (MEM:261: migrate and proxy, before
        # their requests are looked at), db (MEM:334); exporter has no exclusive memory
        "memory_pinning_requests": 4,
        "memory_pod_exclusive": 1,  # db, MEM:349
        "memory_pod_shared": 3,  # migrate (MEM:289), proxy and exporter (MEM:386)
        "memory_pod_allocations": 4,  # every container, MEM:389
    }


def test_burstable_pod_counts_only_the_topology_manager() -> None:
    n = node()
    assert n.admit(pod(n, "web", {"containers": [ctr("web", "500m", "512Mi", limits=False)]})).admitted
    # TM:268; the container's merge admits under single-numa-node (SC:80); no exclusive CPUs
    # (guaranteedCPUs is 0 outside Guaranteed pods: CPU:733-736), no memory pinning (MEM:431-434)
    assert counted(n.metrics) == {"tm_requests": 1, "aligned_container_numa": 1}
    n = node(policy="restricted")
    assert n.admit(pod(n, "web", {"containers": [ctr("web", "500m", "512Mi", limits=False)]})).admitted
    assert counted(n.metrics) == {"tm_requests": 1}  # alignment counted under single-numa-node only


def test_topology_affinity_error() -> None:
    # 40 CPUs do not fit one NUMA node (31 and 32 allocatable): no merge admits
    n = node(scope="pod")
    r = n.admit(pod(n, "big", {"containers": [ctr("a", "40", "1Gi")]}))
    assert r.reason == "TopologyAffinityError"
    # checkAffinity: SP:122 (single-numa-node) and SP:124; no provider's Allocate runs
    assert counted(n.metrics) == {"tm_requests": 1, "tm_errors": 1, "unaligned_pod_numa": 1}
    n = node(scope="container")
    r = n.admit(pod(n, "big", {"containers": [ctr("small", "1", "1Gi"), ctr("a", "40", "1Gi")]}))
    assert r.reason == "TopologyAffinityError"
    # the first container is aligned and allocated before the second one's merge fails (SC:61-63)
    assert counted(n.metrics) == {
        "tm_requests": 1,
        "tm_errors": 1,
        "aligned_container_numa": 1,
        "unaligned_container_numa": 1,
        "cpu_pinning_requests": 1,
        "cpu_node_allocations": 1,
        "cpu_node_exclusive": 1,
        "aligned_container_uncore_cache": 1,
        "memory_pinning_requests": 1,
        "memory_node_allocations": 1,
        "memory_node_exclusive": 1,
    }


def test_cpu_manager_cannot_allocate() -> None:
    # best-effort admits the merge; the CPU manager then finds too few CPUs
    n = node(policy="best-effort")
    r = n.admit(pod(n, "huge", {"containers": [ctr("a", "100", "1Gi")]}))
    assert r.reason == "UnexpectedAdmissionError" and "not enough cpus" in r.message
    # CPU:591 then the deferred CPU:594-595; SC:74; the memory manager is not reached
    assert counted(n.metrics) == {
        "tm_requests": 1,
        "tm_errors": 1,
        "cpu_pinning_requests": 1,
        "cpu_pinning_errors": 1,
        "cpu_node_allocation_errors": 1,
    }
    # the none policy's scope counts no admission error (admitPolicyNone, scope.go:143)
    n = node(policy="none")
    r = n.admit(pod(n, "huge", {"containers": [ctr("a", "100", "1Gi")]}))
    assert r.reason == "UnexpectedAdmissionError"
    assert counted(n.metrics) == {
        "tm_requests": 1,
        "cpu_pinning_requests": 1,
        "cpu_pinning_errors": 1,
        "cpu_node_allocation_errors": 1,
    }
    # and creates no alignment series (NewManager returns before initializeMetrics: TM:171-174)
    assert not [s for s in n.metrics.series() if s[0] == ALIGNED_FAILURES and s[1][0] == ("scope", "pod")]


def test_smt_alignment_error_counts_the_physical_cpu_failure() -> None:
    n = node(cpuManagerPolicyOptions={"full-pcpus-only": "true"})
    r = n.admit(pod(n, "odd", {"containers": [ctr("a", "3", "1Gi")]}))
    assert r.reason == "SMTAlignmentError"
    # the merge admitted, the allocation failed: SC:74, and SC:80 is not reached
    assert counted(n.metrics) == {
        "tm_requests": 1,
        "tm_errors": 1,
        "cpu_pinning_requests": 1,  # CPU:591
        "cpu_pinning_errors": 1,  # CPU:594
        "cpu_node_allocation_errors": 1,  # CPU:595
        "unaligned_container_physical_cpu": 1,  # CPU:597 (full-pcpus-only)
    }
    assert n.admit(pod(n, "even", {"containers": [ctr("a", "4", "1Gi")]})).admitted
    assert n.metrics.aligned_container_physical_cpu == 1  # CPU:604


def test_empty_pod_shared_pool_counts_an_error_without_a_request() -> None:
    # the pod's 2 CPUs all go to db, the exporter would get an empty pod shared pool; best-effort
    # admits the empty hint list, AllocatePod refuses
    n = node(policy="best-effort", scope="pod", gates=True)
    spec = {
        "resources": {"requests": {"cpu": "2", "memory": "2Gi"}, "limits": {"cpu": "2", "memory": "2Gi"}},
        "containers": [ctr("db", "2", "1Gi"), ctr("exporter", None, "64Mi", limits=False)],
    }
    r = n.admit(pod(n, "empty-pool", spec))
    assert r.reason == "EmptyPodSharedPoolError"
    # CPU:417-418 (the deferred error of AllocatePod) with no pinning request before it; SP:107;
    # the memory manager's AllocatePod is not reached
    assert counted(n.metrics) == {
        "tm_requests": 1,
        "tm_errors": 1,
        "cpu_pinning_errors": 1,
        "cpu_pod_allocation_errors": 1,
    }
    assert n.metrics.value(CPU_PINNING_REQUESTS) == 0


def test_memory_manager_static_pinning() -> None:
    topo = get_preset("grid", {"sockets": 2, "coresPerNuma": 16, "hugepages2MiPerNuma": "1Gi"})
    cfg = load_kubelet_config(
        {
            "cpuManagerPolicy": "static",
            "reservedSystemCPUs": "0",
            "memoryManagerPolicy": "Static",
            "systemReserved": {"memory": "1Gi"},
            "evictionHard": {"memory.available": "100Mi"},
            "reservedMemory": [{"numaNode": 0, "limits": {"memory": "1124Mi"}}],
            "topologyManagerPolicy": "best-effort",
        },
        "kubelet.yaml",
    )
    n = Node(topo, cfg)
    hp = {"cpu": "1", "memory": "1Gi", "hugepages-2Mi": "256Mi"}
    app = {"name": "app", "image": "x", "resources": {"requests": dict(hp), "limits": dict(hp)}}
    assert n.admit(pod(n, "hp", {"containers": [app, ctr("side", "500m", "128Mi")]})).admitted
    m = n.metrics
    assert m.memory_pinning_requests == 2  # MEM:443, both containers of the Guaranteed pod
    assert m.memory_node_allocations == 3  # per resource (MEM:522): memory + hugepages-2Mi, then memory
    assert m.memory_node_exclusive == 2  # per container, MEM:537
    # a container too large for the machine: the hint cannot be extended (MEM:446-447, SC:74)
    r = n.admit(pod(n, "hog", {"containers": [ctr("a", "1", "400Gi")]}))
    assert r.reason == "UnexpectedAdmissionError" and "[memorymanager]" in r.message
    assert (m.memory_pinning_requests, m.memory_pinning_errors, m.memory_node_allocation_errors) == (3, 1, 1)
    assert m.tm_errors == 1 and m.tm_requests == 2


def test_a_restarted_kubelet_counts_its_readmissions_from_zero() -> None:
    n = node()
    p = pod(n, "db", {"containers": [ctr("db", "2", "1Gi"), ctr("log", "500m", "128Mi")]})
    assert n.admit(p).admitted
    before = counted(n.metrics)
    out = simulate_restart(n)
    assert out.pods[0].result.admitted
    assert counted(n.metrics) == before  # the old kubelet's counters are its own
    # the new kubelet (a new process) re-admits the running pod (TM:268): each manager's Allocate
    # counts its pinning request, then finds the container in its restored state and allocates
    # nothing (CPU:591 then CPU:612-616; MEM:443 then MEM:450-455)
    assert counted(out.node.metrics) == {
        "tm_requests": 1,
        "aligned_container_numa": 2,  # SC:80
        "cpu_pinning_requests": 1,
        "memory_pinning_requests": 2,
    }
    assert out.node.metrics.value(TM_REQUESTS) == 1
    assert out.node.metrics.value(MEMORY_PINNING_REQUESTS) == 2


def test_a_restarted_kubelet_allocates_pod_level_resources_again() -> None:
    # kubelet 1.36.2's AllocatePod does not look at the restored pod entry (engine/restart.py,
    # kubernetes#140989 / #140906): the re-admission allocates the pod's budget again
    n = node(policy="best-effort", scope="pod", gates=True)
    spec = {
        "resources": {"requests": {"cpu": "4", "memory": "4Gi"}, "limits": {"cpu": "4", "memory": "4Gi"}},
        "containers": [ctr("db", "2", "2Gi"), ctr("exporter", "100m", "64Mi", limits=False)],
    }
    assert n.admit(pod(n, "plr", spec)).admitted
    cpu = {
        "cpu_pinning_requests": 1,  # db (CPU:493)
        "cpu_pod_exclusive": 1,  # CPU:498
        "cpu_pod_shared": 1,  # exporter (CPU:513)
        "cpu_pod_allocations": 2,  # CPU:516
        "aligned_container_uncore_cache": 1,  # the pod's CPUs (CPU:444 -> CPU:1087)
    }
    assert counted(n.metrics) == {
        "tm_requests": 1,
        **cpu,
        "memory_pinning_requests": 2,  # the pod (MEM:201) and db (MEM:334)
        "memory_pod_exclusive": 1,
        "memory_pod_shared": 1,
        "memory_pod_allocations": 2,
    }
    out = simulate_restart(n)
    r = out.pods[0].result
    # the CPU manager takes a new set of CPUs for the pod; the memory manager's second AllocatePod
    # finds its own earlier allocation on the NUMA node and refuses
    assert not r.admitted and "[memorymanager]" in r.message
    assert [note.kind for note in out.notes] == ["rejected"]
    assert counted(out.node.metrics) == {
        "tm_requests": 1,
        "tm_errors": 1,  # SP:107
        **cpu,  # the CPU manager's AllocatePod counts as on the first admission
        "memory_pinning_requests": 1,  # MEM:201, then the deferred MEM:204-205
        "memory_pinning_errors": 1,
        "memory_pod_allocation_errors": 1,
    }


def test_counters_agree_with_every_admission_of_the_corpus(monkeypatch: pytest.MonkeyPatch) -> None:
    """Over the conformance corpus (a quarter of it, restarts included), each kubelet's counters agree with what
    its admissions returned: one topology manager request per pod past the sysctl handler (TM:268), one
    admission error per pod the resource managers rejected (SC:63/74, SP:76/107/124; none under the
    none policy), every allocation error is a pinning error (CPU:417-418/594-595, MEM:204-205/446-447),
    and the none policies count nothing."""
    if not CORPUS.is_dir():
        pytest.skip(f"conformance corpus not found at {CORPUS}")
    seen: dict[int, tuple[Node, list[AdmitResult]]] = {}
    admit = Node.admit

    def recording(self: Node, pod: Pod, trace: bool = False, *, settle: bool = True) -> AdmitResult:
        result = admit(self, pod, trace, settle=settle)
        seen.setdefault(id(self), (self, []))[1].append(result)
        return result

    monkeypatch.setattr(Node, "admit", recording)
    # every fourth file of the corpus, restart/ included (the whole corpus takes ~8 s)
    scenarios, _ = load_scenario_files(sorted(CORPUS.rglob("*.yaml"))[::4])
    assert {Path(sc.file).parent.name for sc in scenarios} >= {"restart", "pod-level", "fit", "topology-policies"}
    for sc in scenarios:
        run_scenario(sc)
    assert len(seen) > 300
    for n, results in seen.values():
        m = n.metrics
        past_sysctl = [r for r in results if r.handler != HANDLER_SYSCTL]
        by_managers = [r for r in results if not r.admitted and r.handler == HANDLER_RESOURCE_MANAGERS]
        assert m.tm_requests == len(past_sysctl)
        if n.config.topology_manager_policy == "none":
            assert m.tm_errors == 0
        else:
            assert m.tm_errors == len(by_managers)
        assert m.cpu_pinning_errors == m.cpu_node_allocation_errors + m.cpu_pod_allocation_errors
        assert m.memory_pinning_errors == m.memory_node_allocation_errors + m.memory_pod_allocation_errors
        assert m.cpu_node_allocations == m.cpu_node_exclusive <= m.cpu_pinning_requests - m.cpu_pod_exclusive
        if n.config.cpu_manager_policy != "static":
            assert not [k for k in m.counts() if k.startswith("cpu_") or "physical_cpu" in k or "uncore" in k]
        if n.config.memory_manager_policy != "Static":
            assert not [k for k in m.counts() if k.startswith("memory_")]
