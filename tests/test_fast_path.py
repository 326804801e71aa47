"""The fast path decides exactly as the kubelet's exhaustive algorithms (the reference).

Two nodes are built from the same hypothesis-generated machine and kubelet
configuration — one on the reference (every NUMA mask enumerated by both hint
providers, every combination of hints walked by the merge), one on the fast path
(structured hint spaces, ordered searches) — and driven through the same random
sequence of admissions and deletions. After every step they must agree on every
field of the AdmitResult (trace included: every merge's provider hints, merged hint
and verdict) and on the whole node state (CPU and memory manager state, reusable
init-container CPUs and memory, the topology manager's affinity store).

Machines: 1–10 NUMA nodes (some without CPUs), uneven CPUs per node, 1–3 sockets,
random (often asymmetric) distances, memory and hugepages per node. Kubelets: CPU
manager none/static with any compatible subset of the six policy options, memory
manager None/Static, every topology policy and scope, prefer-closest-numa-nodes on
and off, both pod-level resource gates. Pods: Guaranteed (with hugepages),
Burstable, init containers, sidecars, pod-level resources.

The reference walks up to 1023^k hint combinations on a 10-NUMA node: a step whose
reference merge would exceed ``REFERENCE_BUDGET`` combinations ends the sequence
there (the steps before it are compared).

``TOPOLET_EXAMPLES`` sets the number of examples (default 200 here; 200–250 in the
other fast-path property tests).
"""

from __future__ import annotations

import os
from math import prod
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from topolet.engine.errors import StartupError
from topolet.engine.fast_path import reference_mode, structured_from
from topolet.engine.node import Node
from topolet.engine.topologymanager.policy import filter_providers_hints, filter_single_numa_hints
from topolet.model.kubelet_config import load_kubelet_config
from topolet.model.manifest import admit_to_api, pods_from_object
from topolet.model.topology import CPUInfo, NUMANode, Topology

EXAMPLES = int(os.environ.get("TOPOLET_EXAMPLES", "0")) or 200
REFERENCE_BUDGET = 40_000
MI = 1 << 20
GI = 1 << 30


@st.composite
def machines(draw: st.DrawFn) -> Topology:
    n_cpu = draw(st.integers(1, 10))
    cpuless = draw(st.sampled_from([0, 0, 0, 0, 1, 2]))
    cpuless = min(cpuless, 10 - n_cpu)
    n = n_cpu + cpuless
    sockets = draw(st.integers(1, min(3, n_cpu)))
    threads = draw(st.integers(1, 2))
    cpus: list[CPUInfo] = []
    cid = 0
    for numa in range(n_cpu):
        socket = numa * sockets // n_cpu
        for _ in range(draw(st.integers(1, 3))):
            core = cid
            for _t in range(threads):
                cpus.append(CPUInfo(cid, core, socket, numa, socket))
                cid += 1
    symmetric = draw(st.booleans())
    dist = [[0] * n for _ in range(n)]
    for a in range(n):
        for b in range(n):
            if a == b:
                dist[a][b] = 10
            elif symmetric and b < a:
                dist[a][b] = dist[b][a]
            else:
                dist[a][b] = draw(st.sampled_from([11, 12, 20, 21, 30]))
    nodes = []
    for i in range(n):
        mem = draw(st.sampled_from([2, 3, 4, 6])) * GI
        hp: dict[int, int] = {}
        if draw(st.integers(0, 2)) == 0:
            hp[2 * MI] = draw(st.sampled_from([64, 256])) * MI
        if draw(st.integers(0, 3)) == 0:
            hp[GI] = draw(st.sampled_from([1, 2])) * GI
        nodes.append(NUMANode(i, mem, hp, tuple(dist[i])))
    return Topology(cpus, nodes, name="random")


_CPU_OPTIONS = [
    "full-pcpus-only",
    "distribute-cpus-across-numa",
    "align-by-socket",
    "distribute-cpus-across-cores",
    "strict-cpu-reservation",
    "prefer-align-cpus-by-uncorecache",
]
_INCOMPATIBLE = [
    {"full-pcpus-only", "distribute-cpus-across-cores"},
    {"distribute-cpus-across-numa", "distribute-cpus-across-cores"},
    {"prefer-align-cpus-by-uncorecache", "distribute-cpus-across-cores"},
    {"prefer-align-cpus-by-uncorecache", "distribute-cpus-across-numa"},
]


@st.composite
def kubelets(draw: st.DrawFn, numa_nodes: int) -> dict[str, Any]:
    plr, plrm = draw(st.sampled_from([(True, True), (True, True), (True, False), (False, False)]))
    policy = draw(
        st.sampled_from(["none", "best-effort", "best-effort", "restricted", "restricted", "single-numa-node"])
    )
    cfg: dict[str, Any] = {
        "featureGates": {
            "PodLevelResources": plr,
            "PodLevelResourceManagers": plrm,
            "CPUManagerPolicyAlphaOptions": True,
            "CPUManagerPolicyBetaOptions": True,
        },
        "cpuManagerPolicy": draw(st.sampled_from(["static", "static", "static", "none"])),
        "topologyManagerPolicy": policy,
        "topologyManagerScope": draw(st.sampled_from(["container", "pod"])),
        "evictionHard": {"memory.available": "100Mi"},
    }
    if not plr:
        cfg["featureGates"]["InPlacePodLevelResourcesVerticalScaling"] = False
    tm_opts = {"prefer-closest-numa-nodes": draw(st.sampled_from(["true", "false"]))}
    if numa_nodes > 8:
        tm_opts["max-allowable-numa-nodes"] = str(numa_nodes)
    cfg["topologyManagerPolicyOptions"] = tm_opts
    if cfg["cpuManagerPolicy"] == "static":
        if draw(st.booleans()):
            cfg["reservedSystemCPUs"] = "0"
        else:
            cfg["kubeReserved"] = {"cpu": draw(st.sampled_from(["500m", "1"]))}
        opts = set(draw(st.sets(st.sampled_from(_CPU_OPTIONS), max_size=3)))
        for pair in _INCOMPATIBLE:
            if pair <= opts:
                opts.discard(sorted(pair)[0])
        if policy == "single-numa-node":
            opts.discard("align-by-socket")
        if opts:
            cfg["cpuManagerPolicyOptions"] = {o: "true" for o in sorted(opts)}
    if draw(st.integers(0, 3)):
        cfg["memoryManagerPolicy"] = "Static"
        cfg["systemReserved"] = {"memory": "156Mi"}
        cfg["reservedMemory"] = [{"numaNode": 0, "limits": {"memory": "256Mi"}}]
    return cfg


def _ctr(name: str, cpu: str, mem: str, guaranteed: bool, hp: dict[str, str] | None = None) -> dict[str, Any]:
    req: dict[str, Any] = {"cpu": cpu, "memory": mem, **(hp or {})}
    res: dict[str, Any] = {"requests": req}
    if guaranteed:
        res["limits"] = dict(req)
    return {"name": name, "image": "x", "resources": res}


CPUS = ["1", "2", "3", "4", "6", "8", "12", "1500m"]
MEMS = ["128Mi", "512Mi", "1Gi", "2Gi", "3Gi", "5Gi", "9Gi"]


@st.composite
def pods(draw: st.DrawFn, i: int) -> dict[str, Any]:
    shape = draw(
        st.sampled_from(["guaranteed", "guaranteed", "hugepages", "burstable", "init", "sidecar", "pod-level"])
    )
    cpu = draw(st.sampled_from(CPUS))
    mem = draw(st.sampled_from(MEMS))
    spec: dict[str, Any]
    if shape == "guaranteed":
        ctrs = [_ctr("a", cpu, mem, True)]
        for k in range(draw(st.integers(0, 2))):
            ctrs.append(_ctr(f"b{k}", draw(st.sampled_from(CPUS)), draw(st.sampled_from(MEMS)), True))
        spec = {"containers": ctrs}
    elif shape == "hugepages":
        hp = draw(st.sampled_from([{"hugepages-2Mi": "64Mi"}, {"hugepages-2Mi": "128Mi"}, {"hugepages-1Gi": "1Gi"}]))
        spec = {"containers": [_ctr("a", cpu, mem, True, hp)]}
    elif shape == "burstable":
        spec = {"containers": [_ctr("a", "500m", mem, False)]}
    elif shape == "init":
        spec = {
            "initContainers": [_ctr("init", draw(st.sampled_from(CPUS)), draw(st.sampled_from(MEMS)), True)],
            "containers": [_ctr("a", cpu, mem, True)],
        }
    elif shape == "sidecar":
        spec = {
            "initContainers": [
                _ctr("init", "2", "1Gi", True),
                {**_ctr("proxy", "1", "256Mi", True), "restartPolicy": "Always"},
            ],
            "containers": [_ctr("a", cpu, mem, True)],
        }
    else:
        budget = draw(st.sampled_from(["4", "6", "8", "5500m"]))
        pmem = draw(st.sampled_from(["2Gi", "4Gi", "7Gi"]))
        spec = {
            "resources": {"requests": {"cpu": budget, "memory": pmem}, "limits": {"cpu": budget, "memory": pmem}},
            "containers": [_ctr("main", "2", "1Gi", True), _ctr("helper", "100m", "64Mi", False)],
        }
        if draw(st.booleans()):
            spec["initContainers"] = [{**_ctr("proxy", "100m", "64Mi", False), "restartPolicy": "Always"}]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"p{i}", "uid": f"uid-{i}"}, "spec": spec}


def _state(node: Node) -> tuple[object, ...]:
    cpu_policy = node.cpu_manager.policy
    mem_policy = node.memory_manager.policy
    return (
        node.snapshot(),
        dict(getattr(cpu_policy, "cpus_to_reuse", {})),
        dict(getattr(mem_policy, "_reusable", {})),
        node.affinity.hints,
        sorted(node.pods),
    )


def _reference_cost(node: Node, result: Any) -> int:
    """How many hint combinations the reference merges of this admission walk."""
    total = 0
    single = node.config.topology_manager_policy == "single-numa-node"
    for rec in result.trace.merges if result.trace else []:
        filtered = filter_providers_hints([h for _, h in rec.provider_hints])
        if single:
            filtered = filter_single_numa_hints(filtered)
        total += prod(len(lst) for lst in filtered)
    return total


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.data())
def test_fast_path_decides_as_the_reference(data: st.DataObject) -> None:
    topo = data.draw(machines(), label="machine")
    cfg = load_kubelet_config(data.draw(kubelets(len(topo.numa_ids)), label="kubelet"), "kubelet")
    structured = data.draw(st.sampled_from([1, 1, 1, None]), label="structured-from")
    try:
        with reference_mode(True):
            ref = Node(topo, cfg)
    except StartupError as e:
        with reference_mode(False):
            try:
                Node(topo, cfg)
            except StartupError as e2:
                assert str(e2) == str(e)
                event("start-up refused")
                return
        raise AssertionError(f"the reference refused to start ({e}), the fast path did not") from None
    with reference_mode(False):
        if structured is None:
            fast = Node(topo, cfg)
        else:
            with structured_from(structured):
                fast = Node(topo, cfg)
    assert _state(fast) == _state(ref)
    event(f"{len(topo.numa_ids)} NUMA nodes")
    admitted: list[str] = []
    steps = data.draw(st.integers(2, 9), label="steps")
    for i in range(steps):
        if admitted and data.draw(st.integers(0, 3), label=f"op{i}") == 0:
            key = data.draw(st.sampled_from(admitted), label=f"delete{i}")
            admitted.remove(key)
            fast.delete(key)
            ref.delete(key)
            assert _state(fast) == _state(ref)
            continue
        obj = data.draw(pods(i), label=f"pod{i}")
        pod, _err = admit_to_api(pods_from_object(obj, "default", fast.gates)[0], fast.gates)
        if pod is None:
            continue
        got = fast.admit(pod, trace=True)
        if _reference_cost(fast, got) > REFERENCE_BUDGET:
            event("sequence cut: reference too costly")
            return
        want = ref.admit(pod, trace=True)
        assert got == want
        event("admitted" if got.admitted else f"rejected: {got.reason}")
        for rec in got.trace.merges if got.trace else []:
            event(f"merge {'preferred' if rec.best.preferred else 'non-preferred'}")
        if got.admitted:
            admitted.append(pod.key)
        assert _state(fast) == _state(ref)
