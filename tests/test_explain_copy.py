"""What-if admissions run on copies: the node is never changed, and a copy decides exactly as the node would."""

from __future__ import annotations

import copy
import dataclasses
import uuid

import pytest

from paths import CORPUS, SEED_CONFIG
from topolet.engine.node import Node
from topolet.explain.copying import copy_node, node_with_config
from topolet.explain.core import explain_outcome
from topolet.explain.suggest import signature
from topolet.io.inputs import load_kubelet_config_file, load_topology_arg
from topolet.model.manifest import admit_to_api, pods_from_object
from topolet.render.explain_text import explain_lines
from topolet.scenario.runner import _build_inputs, load_scenario_files


def _pod(name: str, cpu: str) -> object:
    obj = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "containers": [
                {
                    "name": "c",
                    "image": "i",
                    "resources": {"requests": {"cpu": cpu, "memory": "1Gi"}, "limits": {"cpu": cpu, "memory": "1Gi"}},
                }
            ]
        },
    }
    return pods_from_object(obj, "t", None)[0]


def test_copy_is_independent_and_equivalent() -> None:
    cfg = load_kubelet_config_file(str(SEED_CONFIG))
    node = Node(load_topology_arg("preset:2-numa"), cfg)
    stored, _ = admit_to_api(_pod("a", "6"), node.gates)
    assert stored is not None and node.admit(stored).admitted
    snap = node.snapshot()
    for other in (copy_node(node), copy.deepcopy(node)):
        assert other.snapshot() == snap and set(other.pods) == {"default/a"}
        b, _ = admit_to_api(_pod("b", "4"), node.gates)
        assert b is not None
        r = other.admit(b)
        assert r.admitted
        other.delete("default/a")
    assert node.snapshot() == snap and set(node.pods) == {"default/a"}
    # both kinds of copy decide the same
    r1 = copy_node(node).admit(b)
    r2 = copy.deepcopy(node).admit(b)
    assert signature(r1) == signature(r2)


def test_node_with_config_moves_reserved_cpus_for_strict_reservation() -> None:
    cfg = load_kubelet_config_file(str(SEED_CONFIG))
    node = Node(load_topology_arg("preset:2-numa"), cfg)
    strict = dataclasses.replace(cfg, cpu_manager_policy_options={"strict-cpu-reservation": "true"})
    n2 = node_with_config(node, strict)
    assert not (n2.cpu_manager.state.default_cpuset & 1)  # CPU 0 out of the shared pool
    back = node_with_config(n2, cfg)
    assert back.cpu_manager.state.default_cpuset & 1
    assert node.cpu_manager.state.default_cpuset & 1


NAMED = CORPUS / "named"


@pytest.mark.skipif(not NAMED.is_dir(), reason="the conformance corpus (conformance/) is missing")
def test_explanations_agree_with_the_engine_on_the_named_corpus() -> None:
    """Replaying the hand-made scenarios: at every admit step the explanation (made on a copy) reports the same
    decision and the same CPUs and memory as admitting on the node itself, and renders."""
    scenarios, _broken = load_scenario_files([NAMED])
    checked = 0
    for sc in scenarios:
        spec = sc.doc.get("spec") or {}
        topo, cfg = _build_inputs(spec["node"], "spec.node")
        try:
            node = Node(topo, cfg, admission=spec["node"].get("admission", "resourceManagers"))
        except Exception:
            continue
        for i, step in enumerate(spec.get("steps") or []):
            if "delete" in step:
                node.delete(str(step["delete"]["pod"]))
                continue
            if "admit" not in step:
                break
            obj = dict(step["admit"])
            obj.setdefault("apiVersion", "v1")
            obj.setdefault("kind", "Pod")
            md = dict(obj.get("metadata") or {})
            md.setdefault("uid", str(uuid.uuid5(uuid.NAMESPACE_URL, f"{sc.name}:{i}")))
            obj["metadata"] = md
            raw = pods_from_object(obj, "x", node.gates)[0]
            oc = explain_outcome(node, raw, suggest=False, check_options=False)
            assert explain_lines(oc.explanation)
            stored, _invalid = admit_to_api(raw, node.gates)
            if stored is None:
                assert oc.explanation.reason == "Invalid"
                continue
            r = node.admit(stored)
            e = oc.explanation
            assert (e.admitted, e.reason, e.message) == (r.admitted, r.reason, r.message), (sc.name, i)
            if r.admitted:
                rec = oc.node.get(stored.key)
                assert rec is not None and signature(rec.result) == signature(r), (sc.name, i)
            checked += 1
    assert checked >= 40
