"""The kubelet's whole admission: the Node it reports, the admit handlers in order, node-fit predicates."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from topolet.engine.admission import (
    Shortfall,
    pod_request_amounts,
)
from topolet.engine.errors import StartupError
from topolet.engine.node import ADMISSION_RESOURCE_MANAGERS, Node
from topolet.engine.nodestatus import build_node_object
from topolet.engine.startup import node_capacity
from topolet.explain.fit import held_text, rejection_causes, shortfall_text
from topolet.model.features import FeatureGates
from topolet.model.kubelet_config import KubeletConfig, KubeletConfigError, load_kubelet_config
from topolet.model.manifest import admit_to_api, pods_from_object
from topolet.model.pod import Pod
from topolet.model.quantity import Quantity
from topolet.model.topology import CPUInfo, NUMANode, Topology

MI = 1024 * 1024
GI = 1024 * MI


def machine(cpus: int = 8, numa: int = 2, memory: int = 16 * GI, hugepages: dict[int, int] | None = None) -> Topology:
    per = cpus // numa
    return Topology(
        [CPUInfo(i, i, i // per, i // per, i // per) for i in range(cpus)],
        [NUMANode(n, memory // numa, dict(hugepages or {})) for n in range(numa)],
    )


def config(**fields: Any) -> KubeletConfig:
    return load_kubelet_config({"evictionHard": {"memory.available": "0%"}, **fields})


def pod(name: str, spec: dict[str, Any] | None = None, labels: dict[str, str] | None = None, **res: Any) -> Pod:
    """A stored pod: one container with the given requests/limits, or ``spec`` as written."""
    if spec is None:
        container: dict[str, Any] = {"name": "c", "image": "x"}
        if res:
            container["resources"] = res
        spec = {"containers": [container]}
    md: dict[str, Any] = {"name": name}
    if labels:
        md["labels"] = labels
    obj = {"apiVersion": "v1", "kind": "Pod", "metadata": md, "spec": spec}
    (raw,) = pods_from_object(obj, "test", FeatureGates())
    stored, invalid = admit_to_api(raw, FeatureGates())
    assert stored is not None, invalid
    return stored


def with_spec(name: str, extra: dict[str, Any], **res: Any) -> Pod:
    container: dict[str, Any] = {"name": "c", "image": "x"}
    if res:
        container["resources"] = res
    return pod(name, {"containers": [container], **extra})


# -- the Node object (nodestatus.MachineInfo, the kubelet's own table cases) ----------------------


def _node_object(cpus: int, memory: int, cfg: KubeletConfig, reservation: dict[str, Quantity], hugepages: int = 0):
    topo = Topology([CPUInfo(i, i, 0, 0, 0) for i in range(cpus)], [NUMANode(0, memory)])
    cap = node_capacity(topo)
    if hugepages:  # as the kubelet's test: a capacity of hugepages that no real machine has
        cap["hugepages-test"] = Quantity.of(hugepages)
    return build_node_object("n", topo, cfg, cap, reservation)


@pytest.mark.parametrize(
    ("desc", "max_pods", "per_core", "reservation", "hugepages", "capacity", "allocatable"),
    [
        ("basic capacity and allocatable", 110, 0, {}, 0, (2000, 1024, 110), (2000, 1024, 110)),
        ("podsPerCore greater than zero, but less than maxPods/cores", 10, 4, {}, 0, (2000, 1024, 8), (2000, 1024, 8)),
        ("podsPerCore greater than maxPods/cores", 10, 6, {}, 0, (2000, 1024, 10), (2000, 1024, 10)),
        (
            "allocatable should equal capacity minus reservations",
            110,
            0,
            {"cpu": Quantity.parse("1m"), "memory": Quantity.of(1), "pods": Quantity.of(1)},
            0,
            (2000, 1024, 110),
            (1999, 1023, 109),
        ),
        ("allocatable memory does not double-count hugepages", 110, 0, {}, 1, (2000, 1024, 110), (2000, 1023, 110)),
        ("hugepages greater than memory capacity: memory 0", 110, 0, {}, 1025, (2000, 1024, 110), (2000, 0, 110)),
    ],
)
def test_machine_info_setter_cases(desc, max_pods, per_core, reservation, hugepages, capacity, allocatable) -> None:
    cfg = load_kubelet_config({"maxPods": max_pods, "podsPerCore": per_core})
    n = _node_object(2, 1024, cfg, reservation, hugepages)
    assert (n.capacity["cpu"], n.capacity["memory"], n.capacity["pods"]) == capacity, desc
    assert (n.allocatable["cpu"], n.allocatable["memory"], n.allocatable["pods"]) == allocatable, desc
    if hugepages:
        assert n.allocatable["hugepages-test"] == n.capacity["hugepages-test"] == hugepages


def test_node_reports_allocatable_as_the_kubelet() -> None:
    topo = machine(8, 2, 16 * GI, {2 * MI: 1 * GI, GI: 0})
    cfg = load_kubelet_config(
        {
            "cpuManagerPolicy": "static",
            "reservedSystemCPUs": "0,1",
            "kubeReserved": {"cpu": "3", "memory": "1Gi"},
            "systemReserved": {"memory": "512Mi"},
            "maxPods": 20,
            "registerWithTaints": [{"key": "dedicated", "value": "db", "effect": "NoExecute"}],
        }
    )
    n = Node(topo, cfg, name="worker-7").node_object
    assert n.capacity == {"cpu": 8000, "memory": 16 * GI, "hugepages-2Mi": 2 * GI, "hugepages-1Gi": 0, "pods": 20}
    # reservedSystemCPUs replaces the cpu reservations; default eviction 100Mi; memory less hugepages
    assert n.allocatable["cpu"] == 6000
    assert n.allocatable["memory"] == 16 * GI - GI - 512 * MI - 100 * MI - 2 * GI
    assert n.allocatable["hugepages-2Mi"] == 2 * GI and n.allocatable["hugepages-1Gi"] == 0
    assert n.labels["kubernetes.io/hostname"] == "worker-7" and n.labels["kubernetes.io/os"] == "linux"
    assert [str(t) for t in n.taints] == ["dedicated=db:NoExecute"]


def test_kubelet_config_fields_for_the_node() -> None:
    assert load_kubelet_config({}).max_pods == 110
    assert load_kubelet_config({"maxPods": 0}).max_pods == 110  # the v1beta1 default
    with pytest.raises(StartupError, match=r"maxPods .* must not be a negative number"):
        Node(machine(), load_kubelet_config({"maxPods": -1}))
    with pytest.raises(KubeletConfigError, match=r"registerWithTaints\[0\]\.effect"):
        load_kubelet_config({"registerWithTaints": [{"key": "a", "effect": "Sometimes"}]})
    with pytest.raises(KubeletConfigError, match="maxPods: json: cannot unmarshal string into Go struct field"):
        load_kubelet_config({"maxPods": "many"})
    with pytest.raises(StartupError, match="not known to be namespaced"):
        Node(machine(), load_kubelet_config({"allowedUnsafeSysctls": ["vm.swappiness"]}))


# -- resource.PodRequests ---------------------------------------------------------------------------


def test_pod_requests_init_and_sidecar_formula() -> None:
    p = pod(
        "p",
        {
            "initContainers": [
                {"name": "side", "image": "x", "restartPolicy": "Always", "resources": {"requests": {"cpu": "1"}}},
                {"name": "init", "image": "x", "resources": {"requests": {"cpu": "5", "memory": "1Gi"}}},
            ],
            "containers": [{"name": "app", "image": "x", "resources": {"requests": {"cpu": "2", "memory": "2Gi"}}}],
        },
    )
    # max(app + sidecar = 3, init + sidecars before it = 6) CPUs; memory max(2Gi, 1Gi)
    assert pod_request_amounts(p, True) == {"cpu": 6000, "memory": 2 * GI}


def test_pod_level_requests_replace_cpu_and_memory_when_the_gate_is_on() -> None:
    p = pod(
        "p",
        {
            "resources": {"requests": {"cpu": "4", "memory": "4Gi"}, "limits": {"cpu": "4", "memory": "4Gi"}},
            "containers": [{"name": "a", "image": "x", "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}],
        },
    )
    assert pod_request_amounts(p, True) == {"cpu": 4000, "memory": 4 * GI}
    assert pod_request_amounts(p, False) == {"cpu": 1000, "memory": GI}


# -- each predicate and its message ------------------------------------------------------------------


def test_out_of_pods() -> None:
    node = Node(machine(), config(maxPods=2))
    assert node.admit(pod("a")).admitted and node.admit(pod("b")).admitted
    r = node.admit(pod("c"))
    assert (r.reason, r.message) == (
        "OutOfpods",
        "Node didn't have enough resource: pods, requested: 1, used: 2, capacity: 2",
    )
    assert r.handler == "node fit" and r.shortfall == Shortfall("pods", 1, 2, 2)
    node.delete("a")
    assert node.admit(pod("c")).admitted


def test_out_of_cpu_counts_burstable_requests() -> None:
    node = Node(machine(8), config())
    assert node.admit(pod("b", requests={"cpu": "7"})).admitted
    r = node.admit(pod("g", requests={"cpu": "2"}))
    assert r.reason == "OutOfcpu"
    assert r.message == "Node didn't have enough resource: cpu, requested: 2000, used: 7000, capacity: 8000"
    assert shortfall_text(r.shortfall) == "OutOfcpu: requests 2 CPUs, 1 of 8 allocatable left: 1 short"


def test_out_of_memory_and_hugepages() -> None:
    node = Node(machine(8, 2, 16 * GI, {2 * MI: GI}), config())
    r = node.admit(pod("m", requests={"memory": "15Gi"}))
    assert r.reason == "OutOfmemory"  # allocatable memory is 16Gi less the 2Gi of hugepages
    assert r.message.endswith(f"requested: {15 * GI}, used: 0, capacity: {14 * GI}")
    r = node.admit(pod("h", requests={"hugepages-2Mi": "3Gi", "memory": "1Gi"}, limits={"hugepages-2Mi": "3Gi"}))
    assert r.reason == "OutOfhugepages-2Mi"
    assert (
        r.message
        == f"Node didn't have enough resource: hugepages-2Mi, requested: {3 * GI}, used: 0, capacity: {2 * GI}"
    )


def test_ephemeral_storage_and_extended_resources() -> None:
    node = Node(machine(), config())
    r = node.admit(pod("e", requests={"ephemeral-storage": "1Gi"}))
    assert r.reason == "OutOfephemeral-storage"  # no root filesystem is modelled: allocatable 0
    # an extended resource the node does not have is ignored (cluster-level resources)
    assert node.admit(pod("x", requests={"example.com/foo": "1"}, limits={"example.com/foo": "1"})).admitted


def test_node_affinity_and_selector() -> None:
    node = Node(machine(), config(), name="w1")
    assert node.admit(with_spec("a", {"nodeSelector": {"kubernetes.io/hostname": "w1"}})).admitted
    r = node.admit(with_spec("b", {"nodeSelector": {"kubernetes.io/hostname": "w2"}}))
    assert (r.reason, r.message) == (
        "NodeAffinity",
        "Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector",
    )

    def affinity(*terms: dict[str, Any]) -> dict[str, Any]:
        return {
            "affinity": {
                "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": list(terms)}}
            }
        }

    expr = {"matchExpressions": [{"key": "kubernetes.io/arch", "operator": "In", "values": ["arm64"]}]}
    field = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["w1"]}]}
    assert node.admit(with_spec("c", affinity(expr))).reason == "NodeAffinity"
    assert node.admit(with_spec("d", affinity(expr, field))).admitted  # terms are ORed
    notin = {"matchExpressions": [{"key": "kubernetes.io/os", "operator": "NotIn", "values": ["linux"]}]}
    assert node.admit(with_spec("e", affinity(notin))).reason == "NodeAffinity"


def test_node_name_and_ports() -> None:
    node = Node(machine(), config(), name="w1")
    r = node.admit(with_spec("a", {"nodeName": "w2"}))
    assert (r.reason, r.message) == (
        "NodeName",
        "Predicate NodeName failed: node(s) didn't match the requested node name",
    )

    def ports(*p: dict[str, Any]) -> dict[str, Any]:
        return {"containers": [{"name": "c", "image": "x", "ports": list(p)}]}

    assert node.admit(pod("p1", ports({"containerPort": 80, "hostPort": 8080}))).admitted
    r = node.admit(pod("p2", ports({"containerPort": 80, "hostPort": 8080})))
    assert (r.reason, r.message) == (
        "NodePorts",
        "Predicate NodePorts failed: node(s) didn't have free ports for the requested pod ports",
    )
    assert node.admit(pod("p3", ports({"containerPort": 80, "hostPort": 8080, "protocol": "UDP"}))).admitted
    assert node.admit(pod("p4", ports({"containerPort": 80, "hostPort": 9090, "hostIP": "10.0.0.1"}))).admitted
    assert node.admit(pod("p5", ports({"containerPort": 80, "hostPort": 9090}))).reason == "NodePorts"
    node.delete("p1")
    assert node.admit(pod("p6", ports({"containerPort": 80, "hostPort": 8080}))).admitted


def test_only_no_execute_taints_reject() -> None:
    taints = [{"key": "dedicated", "value": "db", "effect": "NoExecute"}, {"key": "gpu", "effect": "NoSchedule"}]
    node = Node(machine(), config(registerWithTaints=taints))
    r = node.admit(pod("a"))
    assert (r.reason, r.message) == (
        "TaintToleration",
        "Predicate TaintToleration failed: node(s) had taints that the pod didn't tolerate",
    )
    tol = {"tolerations": [{"key": "dedicated", "operator": "Equal", "value": "db", "effect": "NoExecute"}]}
    assert node.admit(with_spec("b", tol)).admitted  # the NoSchedule taint is not checked
    wrong = {"tolerations": [{"key": "dedicated", "operator": "Equal", "value": "web"}]}
    assert node.admit(with_spec("c", wrong)).reason == "TaintToleration"
    assert node.admit(with_spec("d", {"tolerations": [{"operator": "Exists"}]})).admitted


def test_os_checks() -> None:
    node = Node(machine(), config())
    r = node.admit(pod("a", labels={"kubernetes.io/os": "windows"}))
    assert r.reason == "PodOSSelectorNodeLabelDoesNotMatch"
    assert r.message == "Failed to admit pod as the `kubernetes.io/os` label doesn't match node label"
    r = node.admit(with_spec("b", {"os": {"name": "windows"}}))
    assert (r.reason, r.message) == ("PodOSNotSupported", "Failed to admit pod as the OS field doesn't match node OS")


def test_sysctls() -> None:
    node = Node(machine(), config())
    safe = {"securityContext": {"sysctls": [{"name": "net.ipv4.tcp_syncookies", "value": "1"}]}}
    assert node.admit(with_spec("a", safe)).admitted
    r = node.admit(with_spec("b", {"securityContext": {"sysctls": [{"name": "kernel.msgmax", "value": "1"}]}}))
    assert (r.reason, r.message) == ("SysctlForbidden", 'forbidden sysctl: "kernel.msgmax" not allowlisted')
    r = node.admit(with_spec("c", {"hostNetwork": True, **safe}))
    assert r.message == 'forbidden sysctl: "net.ipv4.tcp_syncookies" not allowed with host Net enabled'
    node = Node(machine(), config(allowedUnsafeSysctls=["kernel.msg*"]))
    assert node.admit(
        with_spec("b", {"securityContext": {"sysctls": [{"name": "kernel.msgmax", "value": "1"}]}})
    ).admitted


def test_apparmor_localhost_profile_needs_a_name() -> None:
    node = Node(machine(), config())
    prof = {"securityContext": {"appArmorProfile": {"type": "RuntimeDefault"}}}
    assert node.admit(with_spec("a", prof)).admitted
    empty = {"securityContext": {"appArmorProfile": {"type": "Localhost", "localhostProfile": " "}}}
    r = node.admit(with_spec("b", empty))
    assert r.reason == "AppArmor" and r.handler == "AppArmor"


def test_pod_level_resources_not_supported_after_the_managers_skipped_it() -> None:
    gates = {"PodLevelResources": False, "InPlacePodLevelResourcesVerticalScaling": False}
    cfg = config(featureGates=gates, cpuManagerPolicy="static", reservedSystemCPUs="0")
    node = Node(machine(), cfg)
    obj = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {
            "resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "2"}},
            "containers": [
                {"name": "c", "image": "x", "resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "2"}}}
            ],
        },
    }
    (raw,) = pods_from_object(obj, "t", node.gates)
    stored, _ = admit_to_api(raw, node.gates)
    assert stored is not None
    r = node.admit(stored)
    assert (r.reason, r.message, r.handler) == (
        "PodLevelResourcesNotSupported",
        "PodLevelResources feature gate is disabled",
        "pod features",
    )
    assert r.held is not None and r.held.cpus == 0  # the CPU manager skipped the pod: nothing held


# -- the handlers' order, and the allocation held until the sweep ----------------------------------


STATIC = {"cpuManagerPolicy": "static", "reservedSystemCPUs": "0"}


def test_sysctls_come_before_the_resource_managers() -> None:
    node = Node(machine(), config(**STATIC))
    too_big = {"requests": {"cpu": "100", "memory": "1Gi"}, "limits": {"cpu": "100", "memory": "1Gi"}}
    p = with_spec("a", {"securityContext": {"sysctls": [{"name": "kernel.msgmax", "value": "1"}]}}, **too_big)
    r = node.admit(p)
    assert r.reason == "SysctlForbidden" and r.held is None


def test_resource_managers_reason_wins_over_the_fit_check() -> None:
    node = Node(machine(8), config(**STATIC))
    g = {"requests": {"cpu": "9", "memory": "1Gi"}, "limits": {"cpu": "9", "memory": "1Gi"}}
    r = node.admit(pod("g", **g))  # both would reject: 9 CPUs > 7 free and > 8 allocatable
    assert r.reason == "UnexpectedAdmissionError" and r.handler == "resource managers"
    assert node.cpu_manager.state.default_cpuset == 0xFF


def test_fit_rejection_holds_the_allocation_until_the_sweep() -> None:
    node = Node(machine(8), config(**STATIC))
    assert node.admit(pod("burst", requests={"cpu": "6"})).admitted
    g = {"requests": {"cpu": "2", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "1Gi"}}
    r = node.admit(pod("g", **g), settle=False)
    assert r.reason == "OutOfcpu" and r.handler == "node fit"
    assert r.held is not None and r.held.cpus.bit_count() == 2 and not r.held.swept
    # the CPU manager gave it 2 exclusive CPUs before the fit check: out of the shared pool, still held
    assert node.cpu_manager.state.default_cpuset & r.held.cpus == 0
    assert "g" not in {k.split("/")[1] for k in node.pods}
    assert "holds them until the managers' next stale-state sweep" in held_text(r.held)
    swept = node.remove_stale_state()
    assert swept == [r] and r.held.swept
    assert node.cpu_manager.state.default_cpuset == 0xFF
    assert "which has returned them" in held_text(r.held)


def test_next_admission_sweeps_first_and_settle_is_the_default() -> None:
    node = Node(machine(8), config(**STATIC))
    assert node.admit(pod("burst", requests={"cpu": "6"})).admitted
    g = {"requests": {"cpu": "2", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "1Gi"}}
    r1 = node.admit(pod("g1", **g), settle=False)
    assert node.stale
    r2 = node.admit(pod("g2", **g))  # its Allocate begins with removeStaleState
    assert r1.held is not None and r1.held.swept
    assert r2.held is not None and r2.held.swept and not node.stale
    assert node.cpu_manager.state.default_cpuset == 0xFF


def test_resource_managers_mode_has_no_fit_check() -> None:
    node = Node(machine(8), config(maxPods=1), admission=ADMISSION_RESOURCE_MANAGERS)
    for i in range(3):
        assert node.admit(pod(f"p{i}", requests={"cpu": "7"})).admitted


def test_restored_pods_count_in_the_fit_check() -> None:
    from topolet.io.kubelet_restart import restart_running_node

    node = Node(machine(8), config(maxPods=2))
    a, b = pod("a"), pod("b")
    node.admit(a)
    node.admit(b)
    new = restart_running_node(node, [a, b]).node
    assert new.admit(pod("c")).reason == "OutOfpods"


def test_explain_says_which_handler_and_by_how_much() -> None:
    from topolet.explain.core import explain_outcome

    node = Node(machine(8), config())
    node.admit(pod("a", requests={"cpu": "6"}))
    raw = pod("b", requests={"cpu": "4"})
    oc = explain_outcome(node, raw)
    rej = oc.explanation.rejection
    assert rej is not None and rej.handler == "node fit"
    assert "Rejected by the node-fit predicates (5th admit handler, after the resource managers)." in rej.causes
    assert "OutOfcpu: requests 4 CPUs, 2 of 8 allocatable left: 2 short." in rej.causes
    assert rej.shortfall is not None and rej.shortfall["short"] == 2000
    assert [s.change for s in rej.suggestions] == [
        "delete pod default/a",
        "a cpu request of 2 CPUs instead of 4 CPUs for container c",
    ]
    assert rejection_causes(node.admit(raw))[1].startswith("OutOfcpu")


# -- the property: admitted requests never exceed allocatable ---------------------------------------

_pod_shapes = st.tuples(
    st.sampled_from(["BestEffort", "Burstable", "Guaranteed"]),
    st.integers(1, 4),  # CPUs
    st.integers(1, 6),  # GiB
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ops=st.lists(st.one_of(_pod_shapes, st.integers(0, 20)), min_size=1, max_size=25),
    static=st.booleans(),
    max_pods=st.integers(1, 8),
)
def test_active_requests_never_exceed_allocatable(ops: list[Any], static: bool, max_pods: int) -> None:
    cfg = config(maxPods=max_pods, kubeReserved={"memory": "1Gi"}, **(STATIC if static else {}))
    node = Node(machine(8, 2, 16 * GI), cfg)
    alloc = node.node_object.allocatable
    for i, op in enumerate(ops):
        if isinstance(op, int):
            if node.pods:
                keys = sorted(node.pods)
                node.delete(keys[op % len(keys)])
        else:
            qos, cpus, gib = op
            if qos == "BestEffort":
                p = pod(f"p{i}")
            elif qos == "Burstable":
                p = pod(f"p{i}", requests={"cpu": str(cpus), "memory": f"{gib}Gi"})
            else:
                q = {"cpu": str(cpus), "memory": f"{gib}Gi"}
                p = pod(f"p{i}", requests=q, limits=q)
            node.admit(p)
        used = {"cpu": 0, "memory": 0}
        for rec in node.pods.values():
            for k, v in pod_request_amounts(rec.pod, True).items():
                used[k] = used.get(k, 0) + v
        assert len(node.pods) <= alloc["pods"]
        assert used["cpu"] <= alloc["cpu"] and used["memory"] <= alloc["memory"]
        assert not node.stale
        assert node.usage.requested.get("cpu", 0) == used["cpu"] and node.usage.pods == len(node.pods)


# -- the critical pod admission handler (pkg/kubelet/preemption) --------------------------------------


def test_critical_pod_preempts_the_lowest_qos_pods_that_free_enough() -> None:
    node = Node(machine(8), config())
    assert node.admit(pod("be")).admitted
    assert node.admit(pod("small", requests={"cpu": "1"})).admitted
    assert node.admit(pod("large", requests={"cpu": "3"})).admitted
    g = {"requests": {"cpu": "3", "memory": "1Gi"}, "limits": {"cpu": "3", "memory": "1Gi"}}
    assert node.admit(pod("g", **g)).admitted  # 7 of 8 CPUs requested
    crit = with_spec("crit", {"priorityClassName": "system-node-critical"}, requests={"cpu": "3"})
    assert crit.priority == 2_000_001_000
    r = node.admit(crit)
    assert r.admitted and r.preempted == ["default/large"]  # 2 CPUs short: the closest Burstable pod
    assert "default/large" not in node.pods and node.preempted == {"default/large": "default/crit"}
    assert node.usage.requested["cpu"] == 7000


def test_critical_pod_reports_a_non_resource_reason_first() -> None:
    node = Node(machine(8), config())
    node.admit(pod("a", requests={"cpu": "8"}))
    crit = with_spec("crit", {"priority": 2_000_000_000, "nodeSelector": {"disk": "ssd"}}, requests={"cpu": "1"})
    r = node.admit(crit)
    assert r.reason == "NodeAffinity" and not r.preempted and "default/a" in node.pods


def test_critical_pod_that_nothing_can_make_room_for() -> None:
    node = Node(machine(8), config())
    node.admit(with_spec("c1", {"priority": 2_000_000_000}, requests={"cpu": "8"}))
    r = node.admit(with_spec("c2", {"priority": 2_000_000_000}, requests={"cpu": "1"}))
    assert r.reason == "UnexpectedAdmissionError"
    assert r.message == (
        "Unexpected error while attempting to recover from admission failure: preemption: error finding a set "
        "of pods to preempt: no set of running pods found to reclaim resources: [(res: cpu, q: 1000), ]"
    )


def test_explain_suggests_allowing_an_unsafe_sysctl() -> None:
    from topolet.explain.core import explain_outcome

    node = Node(machine(), config())
    raw = with_spec("s", {"securityContext": {"sysctls": [{"name": "kernel.msgmax", "value": "1"}]}})
    rej = explain_outcome(node, raw).explanation.rejection
    assert rej is not None and rej.handler == "sysctl"
    assert [s.change for s in rej.suggestions] == ["allowedUnsafeSysctls: kernel.msgmax"]


def test_explain_suggests_a_smaller_memory_request() -> None:
    from topolet.explain.core import explain_outcome

    node = Node(machine(8, 2, 16 * GI), config())
    node.admit(pod("a", requests={"memory": "12Gi"}))
    rej = explain_outcome(node, pod("b", requests={"memory": "6Gi"})).explanation.rejection
    assert rej is not None and rej.reason == "OutOfmemory"
    assert "a memory request of 4Gi instead of 6Gi for container c" in [s.change for s in rej.suggestions]


def test_the_pod_table_keeps_the_fit_usage_whoever_changes_it() -> None:
    import copy

    from topolet.engine.node import PodRecord

    node = Node(machine(8), config(maxPods=2))
    r = node.admit(pod("a", requests={"cpu": "3"}))
    b = pod("b", requests={"cpu": "2"})
    node.pods[b.key] = PodRecord(b, r)  # a caller re-registering a restored pod directly
    assert node.usage.pods == 2 and node.usage.requested["cpu"] == 5000
    assert node.admit(pod("c")).reason == "OutOfpods"
    twin = copy.deepcopy(node)
    assert twin.usage.pods == 2 and twin.usage.requested["cpu"] == 5000
    node.pods.pop(b.key)
    assert node.usage.pods == 1 and node.usage.requested["cpu"] == 3000
    node.pods = {}
    assert node.usage.pods == 0 and node.admit(pod("d", requests={"cpu": "8"})).admitted


def test_host_network_ports_default_to_host_ports() -> None:
    node = Node(machine(), config())
    spec = {"hostNetwork": True, "containers": [{"name": "c", "image": "x", "ports": [{"containerPort": 53}]}]}
    assert node.admit(pod("dns1", spec)).admitted
    assert node.admit(pod("dns2", spec)).reason == "NodePorts"
