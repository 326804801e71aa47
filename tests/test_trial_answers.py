"""Issue 9 item 5: the wrong answers found in a user trial (describe, conversion, explain, predict)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from paths import SEED_CONFIG, SEED_POD
from topolet.cli.main import app


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TOPOLET_NODE", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def run(*args: str, code: int = 0) -> tuple[str, str]:
    r = CliRunner().invoke(app, list(args))
    assert r.exit_code == code, (args, r.exit_code, r.stdout, r.stderr, r.exception)
    return r.stdout, r.stderr


def _config(tmp_path: Path, name: str, **changes: object) -> str:
    cfg = yaml.safe_load(SEED_CONFIG.read_text(encoding="utf-8"))
    for k, v in changes.items():
        if v is None:
            cfg.pop(k, None)
        else:
            cfg[k] = v
    p = tmp_path / name
    p.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return str(p)


def _pod_conditions(node: str, name: str) -> dict[str, dict[str, str]]:
    obj = yaml.safe_load(run("get", "pod", name, "-o", "yaml", "--node", node)[0])
    return {c["type"]: c for c in obj["status"]["conditions"]}


# -- describe pod: when the pod-level managers are active ------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "active", "why"),
    [
        ({}, True, "topologyManagerScope pod, topologyManagerPolicy single-numa-node"),
        (
            {"topologyManagerPolicy": "none", "memoryManagerPolicy": "None", "reservedMemory": None},
            False,
            "topologyManagerPolicy is none",
        ),
        (
            {"topologyManagerScope": "container", "memoryManagerPolicy": "None", "reservedMemory": None},
            False,
            "topologyManagerScope is container, not pod",
        ),
    ],
)
def test_describe_pod_says_when_the_pod_level_managers_are_active(
    tmp_path: Path, changes: dict[str, object], active: bool, why: str
) -> None:
    node = str(tmp_path / "node")
    run("node", "init", node, "--topology", "preset:2-numa", "--config", _config(tmp_path, "k.yaml", **changes))
    run("apply", "-f", str(SEED_POD), "--node", node)
    out, _ = run("describe", "pod", "tightly-coupled-database", "--node", node)
    line = next(ln for ln in out.splitlines() if "Pod-Level Managers:" in ln)
    assert line.split(":", 1)[1].strip().startswith("active" if active else "not used"), line
    assert why in line
    cond = _pod_conditions(node, "tightly-coupled-database")["PodLevelResourcesAllocated"]
    assert cond["status"] == ("True" if active else "False")
    if active:
        assert cond["message"].startswith("pod budget allocated: CPUs ")
    else:
        # the message names the one condition that is not met, not the ones that are
        assert cond["reason"] == "NotApplicable"
        assert why in cond["message"]
        assert "Guaranteed pod with" not in cond["message"]
    if not active:
        assert "Pod CPUs (bubble)" not in out and re.search(r"Exclusive CPUs:\s+\S+", out)


def test_condition_says_why_nothing_was_pinned(tmp_path: Path) -> None:
    node = str(tmp_path / "node")
    cfg = _config(tmp_path, "k.yaml", memoryManagerPolicy="None", reservedMemory=None)
    run("node", "init", node, "--topology", "preset:2-numa", "--config", cfg)
    pod = yaml.safe_load(SEED_POD.read_text(encoding="utf-8"))
    pod["spec"]["resources"]["requests"]["cpu"] = "7500m"
    pod["spec"]["resources"]["limits"]["cpu"] = "7500m"
    p = tmp_path / "pod.yaml"
    p.write_text(yaml.safe_dump(pod), encoding="utf-8")
    run("apply", "-f", str(p), "--node", node)
    cond = _pod_conditions(node, "tightly-coupled-database")["PodLevelResourcesAllocated"]
    assert (cond["status"], cond["reason"]) == ("False", "NothingPinned")
    assert "non-integer pod CPU budget 7500m" in cond["message"]
    assert "memoryManagerPolicy None pins no memory" in cond["message"]


# -- the per-container conversion gives a container without requests its share of the pod's CPU budget -----
def _budget_pod(init: bool = False, sidecar: bool = False) -> dict[str, object]:
    spec: dict[str, object] = {
        "resources": {"requests": {"cpu": "8", "memory": "8Gi"}, "limits": {"cpu": "8", "memory": "8Gi"}},
        "containers": [
            {"name": "app", "image": "i", "resources": {"requests": {"cpu": "2", "memory": "2Gi"}}},
            {"name": "helper", "image": "i"},
            {"name": "logger", "image": "i", "resources": {"requests": {"memory": "1Gi"}}},
        ],
    }
    inits: list[dict[str, object]] = []
    if sidecar:
        inits.append(
            {"name": "proxy", "image": "i", "restartPolicy": "Always", "resources": {"requests": {"cpu": "1"}}}
        )
    if init:
        inits.append({"name": "setup", "image": "i"})
    if inits:
        spec["initContainers"] = inits
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec}


@pytest.mark.parametrize("convert", ["fleet", "compare"])
def test_conversion_shares_the_pod_cpu_budget(convert: str) -> None:
    from topolet.explain.compare import to_per_container_model
    from topolet.fleet.convert import to_per_container
    from topolet.model.manifest import admit_to_api, pods_from_object
    from topolet.model.qos import compute_pod_qos

    fn = to_per_container if convert == "fleet" else to_per_container_model
    pod = pods_from_object(_budget_pod(), "t", None)[0]
    conv = fn(pod)
    cpus = {c.name: c.resources.limits["cpu"].value for c in conv.all_containers()}
    # 8 - 2 = 6 CPUs left for the two containers that state none: 3 each, as a user converting by hand would
    assert cpus == {"app": 2, "helper": 3, "logger": 3}
    mem = {c.name: str(c.resources.limits["memory"]) for c in conv.all_containers()}
    assert mem == {"app": "2Gi", "helper": "5Gi", "logger": "1Gi"}
    stored, msg = admit_to_api(conv, _gates(), require_image=False)
    assert msg is None and stored is not None and compute_pod_qos(stored, True) == "Guaranteed"

    pod = pods_from_object(_budget_pod(init=True, sidecar=True), "t", None)[0]
    cpus = {c.name: c.resources.limits["cpu"].value for c in fn(pod).all_containers()}
    # the sidecar keeps its 1; 8 - 2 - 1 = 5 left for two: 3 each (rounded up); the init container runs
    # beside the sidecar only: 8 - 1
    assert cpus == {"proxy": 1, "setup": 7, "app": 2, "helper": 3, "logger": 3}


def _gates():  # type: ignore[no-untyped-def]
    from topolet.io.inputs import load_kubelet_config_file

    return load_kubelet_config_file(str(SEED_CONFIG)).feature_gates


def test_compare_counts_the_budget_share_as_pinned() -> None:
    from topolet.engine.node import Node
    from topolet.explain.compare import compare_models
    from topolet.io.inputs import load_kubelet_config_file, load_topology_arg
    from topolet.model.manifest import pods_from_object

    node = Node(load_topology_arg("preset:2-numa"), load_kubelet_config_file(str(SEED_CONFIG)))
    pod = pods_from_object(_budget_pod(), "t", None)[0]
    pod_level, per_container = compare_models(node, [pod], suggest=False)
    assert pod_level.admitted == per_container.admitted == 1
    assert pod_level.pinned_cpus == 8
    assert per_container.pinned_cpus == 8  # not 2 + 1 + 1 = 4: the conversion no longer flatters the model


# -- explain: "not offered" worded for one node and for a set of nodes; cpuManagerPolicy none ---------------
def _seed_node(**changes: object):  # type: ignore[no-untyped-def]
    from topolet.engine.node import Node
    from topolet.io.inputs import load_topology_arg
    from topolet.model.kubelet_config import load_kubelet_config

    raw = yaml.safe_load(SEED_CONFIG.read_text(encoding="utf-8"))
    for k, v in changes.items():
        if v is None:
            raw.pop(k, None)
        else:
            raw[k] = v
    return Node(load_topology_arg("preset:2-numa"), load_kubelet_config(raw))


def _pod(name: str, cpu: str, memory: str = "1Gi"):  # type: ignore[no-untyped-def]
    from topolet.model.manifest import pods_from_object

    res = {"requests": {"cpu": cpu, "memory": memory}, "limits": {"cpu": cpu, "memory": memory}}
    obj = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "c", "image": "i", "resources": res}]},
    }
    return pods_from_object(obj, "t", None)[0]


def test_not_offered_says_each_node_for_a_set() -> None:
    from topolet.explain import explain_pod

    node = _seed_node()
    e = explain_pod(node, _pod("big", "40"), suggest=False)
    cpu = next(p for m in e.merges for p in m.providers if p.provider == "cpu")
    assert cpu.not_offered == ["NUMA nodes 0-1: each has only 32 CPUs < 40"]
    # one node alone: its own figures
    node.admit(_admitted(node, _pod("filler", "20")))
    e = explain_pod(node, _pod("mid", "16"), suggest=False)
    cpu = next(p for m in e.merges for p in m.providers if p.provider == "cpu")
    assert e.admitted and cpu.not_offered == ["NUMA node 0: 11 free CPUs < 16"]


def _admitted(node, pod):  # type: ignore[no-untyped-def]
    from topolet.model.manifest import admit_to_api

    stored, msg = admit_to_api(pod, node.gates)
    assert stored is not None, msg
    return stored


def test_not_offered_single_node_wording() -> None:
    from topolet.explain.core import NodeReason, group_by_reason

    items: list[str | NodeReason] = [
        NodeReason(0, "3 free CPUs < 11", "each has 3 free CPUs < 11"),
        NodeReason(1, "10 free CPUs < 11", "each has 10 free CPUs < 11"),
        NodeReason(2, "10 free CPUs < 11", "each has 10 free CPUs < 11"),
    ]
    assert group_by_reason(items) == ["NUMA node 0: 3 free CPUs < 11", "NUMA nodes 1-2: each has 10 free CPUs < 11"]


def test_explain_with_cpu_manager_policy_none_says_to_set_static(tmp_path: Path) -> None:
    from topolet.explain import explain_pod
    from topolet.io.inputs import load_pods

    node = _seed_node(cpuManagerPolicy="none", reservedSystemCPUs=None)
    pod = load_pods([str(SEED_POD)], node.gates)[0]
    e = explain_pod(node, pod, suggest=False)
    assert e.admitted
    note = next(n for n in e.notes if n.startswith("cpuManagerPolicy is none"))
    assert "set `cpuManagerPolicy: static`" in note and "not switched on by requesting integer CPUs" in note
    # a pod that would pin nothing under static either gets no such note
    from topolet.model.manifest import pods_from_object

    obj = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "small"},
        "spec": {"containers": [{"name": "c", "image": "i", "resources": {"requests": {"cpu": "500m"}}}]},
    }
    e = explain_pod(node, pods_from_object(obj, "t", None)[0], suggest=False)
    assert not any("cpuManagerPolicy: static" in n for n in e.notes)
    out, _ = run(
        "explain",
        "-f",
        str(SEED_POD),
        "--config",
        _config(tmp_path, "k.yaml", cpuManagerPolicy="none", reservedSystemCPUs=None),
    )
    assert "set `cpuManagerPolicy: static`" in " ".join(out.split())


# -- predict/explain -f DIR: workload kinds used, the others skipped with a note -----------------------------
_OTHERS = """apiVersion: v1
kind: Service
metadata: {name: db}
spec: {ports: [{port: 5432}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {a: b}
"""


def test_predict_and_explain_skip_non_workload_kinds(tmp_path: Path) -> None:
    d = tmp_path / "deploy"
    d.mkdir()
    (d / "db.yaml").write_text(SEED_POD.read_text(encoding="utf-8"), encoding="utf-8")
    (d / "svc.yaml").write_text(_OTHERS, encoding="utf-8")
    out, err = run("predict", "-f", str(d))
    assert "pod/tightly-coupled-database: ADMITTED" in out
    assert f"Warning: {d / 'svc.yaml'}: Service/db skipped (not a Pod or a workload controller)" in err
    assert "ConfigMap/settings skipped" in err
    out, err = run("explain", "-f", str(d), "--no-suggest")
    assert "ADMITTED" in out and "Service/db skipped" in err
    # only other kinds: nothing to predict
    (d / "db.yaml").unlink()
    _, err = run("predict", "-f", str(d), code=1)
    assert "no Pods or workload objects" in err and "found only ConfigMap, Service" in err
    # a misspelt workload kind is an error, not skipped
    (d / "svc.yaml").write_text("apiVersion: apps/v1\nkind: Deploymnet\nmetadata: {name: x}\n", encoding="utf-8")
    _, err = run("predict", "-f", str(d), code=1)
    assert "Deploymnet" in err and "skipped" not in err


# -- predict: a one-line why under a pod with nothing pinned, or rejected ------------------------------------
def _write(tmp_path: Path, name: str, obj: dict[str, object]) -> str:
    p = tmp_path / name
    p.write_text(yaml.safe_dump(obj), encoding="utf-8")
    return str(p)


def _line_after(out: str, head: str) -> str:
    lines = out.splitlines()
    i = next(i for i, ln in enumerate(lines) if ln.startswith(head))
    return lines[i + 1]


def test_predict_says_why_nothing_is_pinned(tmp_path: Path) -> None:
    pod = yaml.safe_load(SEED_POD.read_text(encoding="utf-8"))
    pod["spec"]["resources"]["requests"]["cpu"] = "7500m"
    pod["spec"]["resources"]["limits"]["cpu"] = "7500m"
    out, _ = run("predict", "-f", _write(tmp_path, "p.yaml", pod))
    assert _line_after(out, "pod/tightly-coupled-database") == (
        "  why no CPU is pinned: non-integer pod CPU budget 7500m: no CPU pinning"
    )
    cfg = _config(tmp_path, "k.yaml", cpuManagerPolicy="none", reservedSystemCPUs=None)
    out, _ = run("predict", "-f", str(SEED_POD), "--config", cfg)
    assert _line_after(out, "pod/tightly-coupled-database").startswith(
        "  why no CPU is pinned: cpuManagerPolicy none: no exclusive CPUs (set cpuManagerPolicy: static"
    )
    burst = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web"},
        "spec": {"containers": [{"name": "c", "image": "i", "resources": {"requests": {"cpu": "2"}}}]},
    }
    out, _ = run("predict", "-f", _write(tmp_path, "b.yaml", burst))
    assert (
        _line_after(out, "pod/web") == "  why no CPU is pinned: not Guaranteed (QoS Burstable): runs in the shared pool"
    )
    # a pod that pins CPUs gets no such line
    out, _ = run("predict", "-f", str(SEED_POD))
    assert "why" not in out


def test_predict_says_why_a_pod_was_rejected(tmp_path: Path) -> None:
    big = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "big"},
        "spec": {
            "containers": [
                {
                    "name": "c",
                    "image": "i",
                    "resources": {"requests": {"cpu": "40", "memory": "1Gi"}, "limits": {"cpu": "40", "memory": "1Gi"}},
                }
            ]
        },
    }
    out, _ = run("predict", "-f", _write(tmp_path, "big.yaml", big), code=3)
    assert "pod/big: REJECTED TopologyAffinityError" in out
    assert _line_after(out, "pod/big") == (
        "  why: The cpu request (40 CPUs) fits no single NUMA node, and single-numa-node admits only a single NUMA node"
    )
    data = yaml.safe_load(run("predict", "-f", _write(tmp_path, "big.yaml", big), "-o", "yaml", code=3)[0])
    assert data["items"][0]["reason"] == "TopologyAffinityError"
