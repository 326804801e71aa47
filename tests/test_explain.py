"""The explanation model: content for admitted and rejected pods under every topology policy and scope."""

from __future__ import annotations

import dataclasses
import json

import pytest

from paths import SEED_CONFIG, SEED_POD
from topolet.engine.node import Node
from topolet.explain import explain_outcome, explain_pod, explain_pods
from topolet.explain.model import Explanation
from topolet.io.inputs import load_kubelet_config_file, load_pods, load_topology_arg
from topolet.model.kubelet_config import KubeletConfig
from topolet.model.manifest import admit_to_api, pods_from_object
from topolet.model.pod import Pod
from topolet.render.explain_text import explain_text

POLICIES = ("none", "best-effort", "restricted", "single-numa-node")
SCOPES = ("container", "pod")


def seed_config(**changes: object) -> KubeletConfig:
    cfg = load_kubelet_config_file(str(SEED_CONFIG))
    return dataclasses.replace(cfg, **changes) if changes else cfg


def seed_pod(node: Node) -> Pod:
    return load_pods([str(SEED_POD)], node.gates)[0]


def make_pod(
    name: str,
    cpu: str,
    mem: str = "1Gi",
    *,
    budget: tuple[str, str] | None = None,
    shared_cpu: str | None = "100m",
) -> Pod:
    """A pod with one Guaranteed container ``main``; with ``budget`` also pod-level resources and a shared
    sidecar-like container ``helper``."""
    spec: dict = {
        "containers": [
            {
                "name": "main",
                "image": "img",
                "resources": {"requests": {"cpu": cpu, "memory": mem}, "limits": {"cpu": cpu, "memory": mem}},
            }
        ]
    }
    if budget is not None:
        spec["resources"] = {
            "requests": {"cpu": budget[0], "memory": budget[1]},
            "limits": {"cpu": budget[0], "memory": budget[1]},
        }
        helper_req = {"memory": "64Mi"}
        if shared_cpu:
            helper_req["cpu"] = shared_cpu
        spec["containers"].append({"name": "helper", "image": "img", "resources": {"requests": helper_req}})
    obj = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}
    return pods_from_object(obj, "test", None)[0]


def admit(node: Node, pod: Pod) -> None:
    stored, invalid = admit_to_api(pod, node.gates)
    assert stored is not None, invalid
    assert node.admit(stored).admitted


def text_of(e: Explanation) -> str:
    return explain_text(e)


# -- the seed's pod under every policy and scope ------------------------------------------------------
@pytest.mark.parametrize("policy", ("best-effort", "restricted", "single-numa-node"))
def test_seed_pod_scope_pod_admitted(policy: str) -> None:
    node = Node(load_topology_arg("preset:2-numa"), seed_config(topology_manager_policy=policy))
    e = explain_pod(node, seed_pod(node))
    assert e.admitted and e.path == "pod-level"
    assert e.node.topology_manager_policy == policy and e.node.effective_scope == "pod"
    assert e.request is not None and e.request.pod_exclusive_cpus == 8
    assert [c.exclusive_cpus for c in e.request.containers] == [4, 0, 0]
    # one merge for the whole pod; both providers offer {0} and {1} preferred, {0,1} not preferred
    assert len(e.merges) == 1 and e.merges[0].target == "pod"
    cpu, mem = e.merges[0].providers
    assert (cpu.provider, cpu.request_value, mem.provider, mem.request) == ("cpu", 8, "memory", "16Gi")
    assert [(h.numa, h.preferred) for h in cpu.hints] == [([0], True), ([1], True), ([0, 1], False)]
    assert [(h.numa, h.preferred) for h in mem.hints] == [([0], True), ([1], True), ([0, 1], False)]
    assert "31 free CPUs ≥ 8" in cpu.hints[0].why  # CPU 0 is reserved
    assert e.merges[0].merged.numa == [0] and e.merges[0].merged.preferred and e.merges[0].admit
    assert policy in e.merges[0].verdict
    free0 = e.before[0]
    assert (free0.numa, free0.cpus, free0.free_cpus) == (0, 32, 31)
    a = e.allocation
    assert a is not None
    assert (a.bubble, a.bubble_numa, a.pod_shared_pool) == ("1-4,33-36", [0], "3-4,35-36")
    by = {c.name: c for c in a.containers}
    assert (by["database"].cpus, by["database"].cpu_mode) == ("1-2,33-34", "exclusive")
    assert (by["metrics-exporter"].cpus, by["metrics-exporter"].cpu_mode) == ("3-4,35-36", "pod-shared")
    assert all(c.mems == "0" for c in a.containers)
    bubble = a.takes[0]
    assert bubble.target == "pod bubble" and bubble.whole_cores == 4 and bubble.split_cores == 0
    assert bubble.hint_numa == [0]
    assert any("shared by metrics-exporter and backup-agent" in p for p in a.partition)
    assert any("16Gi memory on NUMA node 0" in p for p in a.partition)
    text = text_of(e)
    assert "ADMITTED" in text and "Admission path: pod-level" in text
    assert "pod bubble: 8 CPUs 1-4,33-36 on NUMA node 0" in text


def test_seed_pod_container_scope_is_the_known_upstream_bug() -> None:
    for policy in POLICIES:
        node = Node(
            load_topology_arg("preset:2-numa"),
            seed_config(topology_manager_scope="container", topology_manager_policy=policy),
        )
        e = explain_pod(node, seed_pod(node))
        assert not e.admitted and e.reason == "UnexpectedAdmissionError", policy
        rj = e.rejection
        assert rj is not None
        assert rj.failed_at == "container metrics-exporter" and rj.provider == "memory"
        assert "kubernetes PR 138770" in rj.known_bug and "1.37" in rj.known_bug
        assert rj.suggestions, policy
        top = rj.suggestions[0]
        assert "topologyManagerScope pod" in top.change
        assert top.numa == [0] and top.cpus == "1-4,33-36"
        if policy == "none":
            assert e.path == "none" and e.merges == []
            assert "topologyManagerPolicy" in top.change  # none needs a policy as well as scope pod
        else:
            assert e.path == "container"
            assert [m.target for m in e.merges][:1] == ["container database"]
            assert top.change == "topologyManagerScope pod instead of container"
            assert top.kind == "scope"
        text = text_of(e)
        assert "Known upstream bug of kubelet 1.36" in text or "same upstream 1.36 bug" in text


def test_seed_pod_scope_pod_policy_none_rejected_with_fix() -> None:
    node = Node(load_topology_arg("preset:2-numa"), seed_config(topology_manager_policy="none"))
    e = explain_pod(node, seed_pod(node))
    assert not e.admitted and e.path == "none" and e.node.effective_scope == "none"
    assert e.rejection is not None and "138770" in e.rejection.known_bug
    changes = [s.change for s in e.rejection.suggestions]
    assert any(c.startswith("topologyManagerPolicy") and "topologyManagerScope pod" not in c for c in changes)


# -- admitted per-container pods under each policy and scope ---------------------------------------------
@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("policy", POLICIES)
def test_classic_guaranteed_pod_admitted(policy: str, scope: str) -> None:
    node = Node(
        load_topology_arg("preset:2-numa"), seed_config(topology_manager_policy=policy, topology_manager_scope=scope)
    )
    e = explain_pod(node, make_pod("web", "4", "2Gi"))
    assert e.admitted
    assert e.allocation is not None
    main = e.allocation.containers[0]
    assert main.cpu_mode == "exclusive" and main.cpu_count == 4
    if policy == "none":
        assert e.path == "none" and e.merges == []
    else:
        assert e.path == scope
        assert [m.target for m in e.merges] == (["container main"] if scope == "container" else ["pod"])
        m = e.merges[0]
        assert m.merged.numa == [0] and m.merged.preferred
        assert {p.provider for p in m.providers} == {"cpu", "memory"}
    take = e.allocation.takes[0]
    assert take.target == "container main" and take.whole_cores == 2
    assert "Cpus_allowed_list" in text_of(e)


# -- rejected pods, with suggestions verified by re-running ---------------------------------------------
def full_numa0(policy: str, scope: str, **cfg: object) -> Node:
    """A 2-NUMA node (16 CPUs per NUMA node, CPU 0 reserved) with pods p0, p1 on NUMA 0 and p2 on NUMA 1."""
    node = Node(
        load_topology_arg("preset:2-numa-32"),
        seed_config(topology_manager_policy=policy, topology_manager_scope=scope, **cfg),
    )
    for i in range(3):
        admit(node, make_pod(f"p{i}", "1", budget=("6", "2Gi")) if scope == "pod" else make_pod(f"p{i}", "6"))
    return node


def test_single_numa_node_rejection_suggests_deleting_a_pod() -> None:
    node = full_numa0("single-numa-node", "pod")
    before = node.snapshot()
    e = explain_pod(node, make_pod("big", "4", budget=("11", "4Gi")))
    assert not e.admitted and e.reason == "TopologyAffinityError"
    assert "pod-scope topology manager" in e.message
    rj = e.rejection
    assert rj is not None and rj.stage == "topology-merge" and rj.blocking == ["cpu"]
    cpu = e.merges[0].providers[0]
    assert [(h.numa, h.preferred) for h in cpu.hints] == [([0, 1], False)]
    assert "NUMA node 0: 3 free CPUs < 11" in cpu.not_offered
    assert "NUMA node 1: 10 free CPUs < 11" in cpu.not_offered
    kinds = [s.kind for s in rj.suggestions]
    assert kinds[0] == "delete-pod"
    assert rj.suggestions[0].result.startswith("fits on NUMA node 1 after deleting pod default/p2")
    fewer = next(s for s in rj.suggestions if s.kind == "fewer-cpus")
    assert fewer.change == "a pod CPU budget of 10 instead of 11 (spec.resources cpu)" and fewer.numa == [1]
    assert any(s.kind == "policy" and "best-effort" in s.change for s in rj.suggestions)
    assert rj.tried >= len(rj.suggestions)
    # the node itself is untouched
    assert node.snapshot() == before and set(node.pods) == {"default/p0", "default/p1", "default/p2"}
    text = text_of(e)
    assert "fits on NUMA node 1 after deleting pod default/p2" in text


def test_restricted_container_scope_rejection() -> None:
    node = full_numa0("restricted", "container", memory_manager_policy="None", reserved_memory=[])
    e = explain_pod(node, make_pod("big", "11"))
    assert not e.admitted and e.reason == "TopologyAffinityError"
    assert e.message == "Resources cannot be allocated with Topology locality"
    assert e.merges[0].target == "container main"
    assert "restricted admits only a preferred hint" in e.merges[0].verdict
    mem = e.merges[0].providers[1]
    assert mem.status == "no-preference" and "memoryManagerPolicy None" in mem.why
    rj = e.rejection
    assert rj is not None
    assert any(s.kind == "delete-pod" for s in rj.suggestions)
    assert any(
        s.kind == "fewer-cpus" and s.change == "10 CPUs instead of 11 for container main" for s in rj.suggestions
    )


def test_best_effort_empty_pod_shared_pool() -> None:
    node = Node(load_topology_arg("preset:2-numa-32"), seed_config(topology_manager_policy="best-effort"))
    e = explain_pod(node, make_pod("full", "4", budget=("4", "4Gi"), shared_cpu=None))
    assert not e.admitted and e.reason == "EmptyPodSharedPoolError"
    rj = e.rejection
    assert rj is not None
    assert any("nothing is left for the containers that need the pod shared pool" in c for c in rj.causes)
    changes = [s.change for s in rj.suggestions]
    assert "a pod CPU budget of 5 instead of 4 leaves 1 CPU for the pod shared pool" in changes
    assert "3 CPUs instead of 4 for container main" in changes


def test_single_numa_node_empty_pool_shows_as_topology_affinity_error() -> None:
    node = Node(load_topology_arg("preset:2-numa-32"), seed_config())
    e = explain_pod(node, make_pod("full", "4", budget=("4", "4Gi"), shared_cpu=None))
    assert e.reason == "TopologyAffinityError"
    cpu = e.merges[0].providers[0]
    assert cpu.status == "cannot-satisfy" and "pod-level check" in cpu.why
    assert e.rejection is not None and e.rejection.suggestions[0].kind == "cpu-budget"


def test_smt_alignment_budget_suggestion() -> None:
    node = Node(load_topology_arg("preset:2-numa"), seed_config(cpu_manager_policy_options={"full-pcpus-only": "true"}))
    e = explain_pod(node, make_pod("odd", "4", budget=("7", "4Gi")))
    assert e.reason == "SMTAlignmentError" and "requested 7 cpus not multiple cpus per core = 2" in e.message
    rj = e.rejection
    assert rj is not None
    changes = [s.change for s in rj.suggestions]
    assert changes[0] == "a pod CPU budget of 6 instead of 7 (spec.resources cpu) is SMT-aligned (2 CPUs per core)"
    assert "cpuManagerPolicyOptions without full-pcpus-only" in changes
    assert any("full-pcpus-only: only whole physical cores" in c for c in rj.causes)


def test_policy_none_not_enough_cpus() -> None:
    node = Node(
        load_topology_arg("preset:2-numa-32"),
        seed_config(
            topology_manager_policy="none",
            topology_manager_scope="container",
            memory_manager_policy="None",
            reserved_memory=[],
        ),
    )
    for i in range(2):
        admit(node, make_pod(f"p{i}", "12"))
    e = explain_pod(node, make_pod("big", "10"))
    assert e.reason == "UnexpectedAdmissionError" and "not enough cpus available" in e.message
    rj = e.rejection
    assert rj is not None and rj.stage == "cpu-allocation" and rj.failed_at == "container main"
    assert rj.suggestions and rj.suggestions[0].kind == "delete-pod"
    assert any(s.kind == "fewer-cpus" and s.change.startswith("7 CPUs instead of 10") for s in rj.suggestions)


def test_api_invalid_pod() -> None:
    node = Node(load_topology_arg("preset:2-numa"), seed_config())
    e = explain_pod(node, make_pod("bad", "4", budget=("4", "4Gi")))  # 4 + 100m > 4
    assert e.reason == "Invalid" and e.path == "api" and "is invalid" in e.message
    assert e.rejection is not None and e.rejection.stage == "api-validation" and e.rejection.suggestions == []
    assert "What would make it fit" not in text_of(e)


def test_option_effects_are_checked() -> None:
    node = Node(
        load_topology_arg("preset:2-numa"),
        seed_config(cpu_manager_policy_options={"full-pcpus-only": "true", "strict-cpu-reservation": "true"}),
    )
    e = explain_pod(node, make_pod("odd", "3", budget=("6", "4Gi")))
    assert e.admitted and e.allocation is not None
    opts = {o.option: o for o in e.allocation.options}
    assert set(opts) == {"full-pcpus-only", "strict-cpu-reservation"}
    # with strict-cpu-reservation the sibling of the reserved CPU 0 is still free: without full-pcpus-only the
    # 3-CPU slice would take a single thread, with it whole cores only
    assert opts["full-pcpus-only"].changed is not None
    assert "whole physical cores" in opts["full-pcpus-only"].effect
    assert "reserved CPUs" in opts["strict-cpu-reservation"].effect


def test_chained_pods_and_existing_pod() -> None:
    node = Node(load_topology_arg("preset:2-numa"), seed_config())
    pods = [make_pod("a", "4", budget=("8", "8Gi")), make_pod("b", "4", budget=("8", "8Gi"))]
    expls, after = explain_pods(node, pods)
    assert [e.admitted for e in expls] == [True, True]
    assert expls[0].allocation and expls[1].allocation
    assert expls[0].allocation.bubble != expls[1].allocation.bubble  # b saw a
    assert node.pods == {} and set(after.pods) == {"default/a", "default/b"}
    # explaining a pod that already exists: as if deleted and created again
    oc = explain_outcome(after, make_pod("a", "4", budget=("8", "8Gi")))
    assert oc.explanation.admitted
    assert any("already exists" in n for n in oc.explanation.notes)
    assert set(after.pods) == {"default/a", "default/b"}


def test_json_round_trip() -> None:
    node = Node(load_topology_arg("preset:2-numa"), seed_config())
    e = explain_pod(node, seed_pod(node))
    data = json.loads(json.dumps(e.to_dict()))
    assert data["admitted"] is True and data["path"] == "pod-level"
    assert data["allocation"]["bubble"] == "1-4,33-36"
    assert data["merges"][0]["providers"][0]["hints"][0] == {
        "numa": [0],
        "preferred": True,
        "why": "31 free CPUs ≥ 8; preferred: the fewest NUMA nodes (1) whose CPUs can hold 8",
    }


def test_many_numa_nodes_hints_are_sampled_not_listed() -> None:
    """gb200: 34 NUMA nodes (32 without CPUs). The explanation must not list 2^34 masks."""
    cfg = seed_config(topology_manager_policy_options={"max-allowable-numa-nodes": "64"})
    node = Node(load_topology_arg("preset:gb200"), cfg)
    e = explain_pod(node, make_pod("big", "4", budget=("8", "16Gi")))
    assert e.admitted
    mem = e.merges[0].providers[1]
    assert mem.provider == "memory" and "not listed one by one (up to 2^34 masks)" in mem.why
    assert [(h.numa, h.preferred) for h in mem.hints][:2] == [([0], True), ([1], True)]
    assert len(mem.hints) <= 36
    e2 = explain_pod(node, make_pod("huge", "4", budget=("100", "16Gi")))
    assert e2.reason == "TopologyAffinityError"
    assert e2.rejection is not None and e2.rejection.suggestions
    assert e2.merges[0].providers[1].not_offered == ["NUMA nodes 2-33: each has allocatable memory 0 < 16Gi"]
