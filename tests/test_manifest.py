"""Manifests to pods: documents, workloads, errors, the API-server step and the conformance corpus."""

from __future__ import annotations

import json
import re

import pytest

from paths import CORPUS as CORPUS_DIR
from topolet.model.features import FeatureGates
from topolet.model.manifest import (
    ManifestError,
    PodInvalidError,
    admit_to_api,
    load_documents,
    load_pods,
    pods_from_object,
)
from topolet.model.pod import Container, Pod, Resources
from topolet.model.quantity import Quantity

GATES = FeatureGates()
OFF = FeatureGates({"PodLevelResources": False})
CONFORMANCE = CORPUS_DIR


def pod_doc(name: str, **spec: object) -> dict:
    spec.setdefault("containers", [{"name": "c", "image": "img"}])
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


def workload(kind: str, name: str, api: str = "apps/v1", **spec: object) -> dict:
    spec.setdefault(
        "template",
        {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "c", "image": "i"}]}},
    )
    return {"apiVersion": api, "kind": kind, "metadata": {"name": name}, "spec": spec}


# -- documents ------------------------------------------------------------------------------------
def test_multi_document_yaml_skips_empty_documents() -> None:
    text = """
---
apiVersion: v1
kind: Pod
metadata: {name: a}
---
---
# only a comment
---
apiVersion: v1
kind: Pod
metadata: {name: b}
"""
    assert [d["metadata"]["name"] for d in load_documents(text, "x.yaml")] == ["a", "b"]


def test_list_kinds_expanded() -> None:
    text = """
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Pod, metadata: {name: a}}
- apiVersion: v1
  kind: PodList
  items:
  - {metadata: {name: b}}
  - {metadata: {name: c}}
---
apiVersion: apps/v1
kind: DeploymentList
items:
- {metadata: {name: d}}
---
kind: List
items: null
"""
    docs = load_documents(text, "x.yaml")
    assert [(d["kind"], d["apiVersion"], d["metadata"]["name"]) for d in docs] == [
        ("Pod", "v1", "a"),
        ("Pod", "v1", "b"),
        ("Pod", "v1", "c"),
        ("Deployment", "apps/v1", "d"),
    ]


def test_json_single_array_and_stream() -> None:
    one = json.dumps(pod_doc("a"))
    assert [d["metadata"]["name"] for d in load_documents(one, "a.json")] == ["a"]
    arr = json.dumps([pod_doc("a"), pod_doc("b")])
    assert [d["metadata"]["name"] for d in load_documents(arr, "a.json")] == ["a", "b"]
    stream = json.dumps(pod_doc("a"), indent=2) + "\n" + json.dumps(pod_doc("b"))
    assert [d["metadata"]["name"] for d in load_documents(stream, "a.json")] == ["a", "b"]


def test_yaml_flow_mapping_is_not_json() -> None:
    assert load_documents("{kind: Pod, metadata: {name: a}}", "x.yaml")[0]["metadata"]["name"] == "a"


def test_yaml_error_has_line_and_column() -> None:
    text = "apiVersion: v1\nkind: Pod\n---\nmetadata:\n  name: [a, b\n"
    with pytest.raises(ManifestError) as e:
        load_documents(text, "bad.yaml")
    msg = str(e.value)
    assert msg.startswith("bad.yaml: document 2: line ")
    assert re.search(r"line \d+, column \d+: invalid YAML", msg)
    assert e.value.__cause__ is None and e.value.__suppress_context__


def test_json_error_has_line_and_column() -> None:
    with pytest.raises(ManifestError, match=r"^bad.json: line 2, column \d+: invalid JSON: "):
        load_documents('{"kind": "Pod",\n "metadata": [1, }', "bad.json")


def test_non_mapping_document() -> None:
    with pytest.raises(ManifestError, match=r"^x.yaml: document 2: expected a mapping .*got string"):
        load_documents("kind: Pod\n---\njust a string\n", "x.yaml")
    with pytest.raises(ManifestError, match=r"document 1, items\[0\]: expected a mapping"):
        load_documents("kind: List\nitems: [3]\n", "x.yaml")


# -- pods -----------------------------------------------------------------------------------------
def test_pod_fields() -> None:
    doc = pod_doc(
        "db",
        resources={"requests": {"cpu": 2}, "limits": {"cpu": 2.5, "memory": "1Gi"}},
        initContainers=[
            {"name": "side", "image": "i", "restartPolicy": "Always"},
            {"name": "init", "image": "i"},
        ],
        containers=[{"name": "main", "image": "postgres:15", "resources": {"limits": {"cpu": "1"}}, "ports": []}],
    )
    doc["metadata"]["labels"] = {"app": "db"}
    doc["unknownTopLevel"] = {"x": 1}
    [p] = pods_from_object(doc, "db.yaml", GATES)
    assert (p.name, p.namespace, p.labels, p.owner) == ("db", "default", {"app": "db"}, "")
    assert p.resources is not None
    assert {k: str(v) for k, v in p.resources.requests.items()} == {"cpu": "2"}
    assert {k: str(v) for k, v in p.resources.limits.items()} == {"cpu": "2500m", "memory": "1Gi"}
    assert [c.name for c in p.init_containers] == ["side", "init"]
    assert [c.is_restartable for c in p.init_containers] == [True, False]
    assert p.containers[0].image == "postgres:15"
    assert p.containers[0].resources.requests == {}  # not defaulted here
    assert p.qos_class == ""


def test_spec_resources_absent_null_and_empty() -> None:
    [a] = pods_from_object(pod_doc("a"), "s", GATES)
    [b] = pods_from_object(pod_doc("b", resources=None), "s", GATES)
    [c] = pods_from_object(pod_doc("c", resources={}), "s", GATES)
    assert a.resources is None and b.resources is None
    assert c.resources == Resources()


def test_null_quantity_is_zero() -> None:
    [p] = pods_from_object(
        pod_doc("a", containers=[{"name": "c", "image": "i", "resources": {"requests": {"cpu": None}}}]),
        "s",
        GATES,
    )
    assert p.containers[0].resources.requests["cpu"] == Quantity.of(0)


def test_uid_deterministic_or_given() -> None:
    [a1] = pods_from_object(pod_doc("a"), "s", GATES)
    [a2] = pods_from_object(pod_doc("a"), "s", GATES)
    [b] = pods_from_object(pod_doc("b"), "s", GATES)
    assert a1.uid == a2.uid != b.uid
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", a1.uid)
    doc = pod_doc("a")
    doc["metadata"]["uid"] = "1234"
    doc["metadata"]["namespace"] = "prod"
    [p] = pods_from_object(doc, "s", GATES)
    assert (p.uid, p.namespace) == ("1234", "prod")
    ns = pod_doc("a")
    ns["metadata"]["namespace"] = "other"
    assert pods_from_object(ns, "s", GATES)[0].uid != a1.uid


def test_owner_reference_and_generate_name() -> None:
    doc = pod_doc("x")
    doc["metadata"] = {
        "generateName": "job-",
        "ownerReferences": [{"kind": "Job", "name": "job", "controller": True}],
    }
    [p] = pods_from_object(doc, "s", GATES)
    assert re.fullmatch(r"job-[bcdfghjklmnpqrstvwxz2456789]{5}", p.name)
    assert p.owner == "Job/job"
    assert pods_from_object(doc, "s", GATES)[0].name == p.name


# -- workloads ------------------------------------------------------------------------------------
def test_deployment_expansion() -> None:
    pods = pods_from_object(workload("Deployment", "web", replicas=3), "d.yaml", GATES)
    assert len(pods) == 3
    hashes = set()
    for p in pods:
        m = re.fullmatch(r"web-([a-z0-9]{10})-([a-z0-9]{5})", p.name)
        assert m, p.name
        hashes.add(m.group(1))
        assert p.owner == "Deployment/web"
        assert p.labels == {"app": "web"}
        assert p.namespace == "default"
    assert len(hashes) == 1
    assert len({p.name for p in pods}) == 3 and len({p.uid for p in pods}) == 3
    again = pods_from_object(workload("Deployment", "web", replicas=3), "d.yaml", GATES)
    assert [p.name for p in again] == [p.name for p in pods]
    assert [p.uid for p in again] == [p.uid for p in pods]


def test_replicas_default_and_zero() -> None:
    assert len(pods_from_object(workload("ReplicaSet", "rs"), "s", GATES)) == 1
    assert pods_from_object(workload("Deployment", "d", replicas=0), "s", GATES) == []


def test_statefulset_names() -> None:
    pods = pods_from_object(workload("StatefulSet", "db", replicas=3), "s", GATES)
    assert [p.name for p in pods] == ["db-0", "db-1", "db-2"]
    assert {p.owner for p in pods} == {"StatefulSet/db"}


def test_daemonset_one_pod_per_node() -> None:
    pods = pods_from_object(workload("DaemonSet", "agent", replicas=5), "s", GATES)
    assert len(pods) == 1 and re.fullmatch(r"agent-[a-z0-9]{5}", pods[0].name)


def test_replicaset_and_replication_controller_names() -> None:
    pods = pods_from_object(workload("ReplicaSet", "rs", replicas=2), "s", GATES)
    assert all(re.fullmatch(r"rs-[a-z0-9]{5}", p.name) for p in pods)
    rc = pods_from_object(workload("ReplicationController", "rc", api="v1", replicas=2), "s", GATES)
    assert len(rc) == 2 and rc[0].owner == "ReplicationController/rc"


def test_job_and_cronjob() -> None:
    assert len(pods_from_object(workload("Job", "j", api="batch/v1"), "s", GATES)) == 1
    pods = pods_from_object(workload("Job", "j", api="batch/v1", parallelism=4, completions=3), "s", GATES)
    assert len(pods) == 3 and all(re.fullmatch(r"j-[a-z0-9]{5}", p.name) for p in pods)
    tmpl = workload("Job", "x")["spec"]["template"]
    cron = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "nightly", "namespace": "ops"},
        "spec": {"schedule": "0 0 * * *", "jobTemplate": {"spec": {"parallelism": 2, "template": tmpl}}},
    }
    pods = pods_from_object(cron, "s", GATES)
    assert len(pods) == 2
    assert all(re.fullmatch(r"nightly-\d{8}-[a-z0-9]{5}", p.name) for p in pods)
    assert {(p.owner, p.namespace) for p in pods} == {("CronJob/nightly", "ops")}


def test_workload_errors() -> None:
    with pytest.raises(ManifestError, match=r'^s: Deployment "d": spec.replicas: Invalid value: -1'):
        pods_from_object(workload("Deployment", "d", replicas=-1), "s", GATES)
    with pytest.raises(ManifestError, match=r"spec.replicas: expected an integer"):
        pods_from_object(workload("Deployment", "d", replicas="3"), "s", GATES)
    doc = workload("Deployment", "d")
    del doc["spec"]["template"]
    with pytest.raises(ManifestError, match=r"spec.template: Required value"):
        pods_from_object(doc, "s", GATES)
    with pytest.raises(ManifestError, match=r"more than topolet expands"):
        pods_from_object(workload("Deployment", "d", replicas=10**9), "s", GATES)


def test_unsupported_kind_and_version() -> None:
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}}
    with pytest.raises(ManifestError, match=r"^svc.yaml: Service \"s\": unsupported kind 'Service'"):
        pods_from_object(svc, "svc.yaml", GATES)
    with pytest.raises(ManifestError, match=r'no matches for kind "Deployment" in version "extensions/v1beta1"'):
        pods_from_object(workload("Deployment", "d", api="extensions/v1beta1"), "s", GATES)
    with pytest.raises(ManifestError, match=r"Object 'Kind' is missing"):
        pods_from_object({"metadata": {"name": "x"}}, "s", GATES)


def test_list_object_to_pods() -> None:
    lst = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [pod_doc("a"), workload("StatefulSet", "s", replicas=2)],
    }
    assert [p.name for p in pods_from_object(lst, "s", GATES)] == ["a", "s-0", "s-1"]


# -- error paths ----------------------------------------------------------------------------------
def test_bad_quantity_error_names_document_and_field() -> None:
    text = "\n---\n".join(
        json.dumps(d)
        for d in [
            pod_doc("web"),
            pod_doc(
                "db",
                containers=[
                    {"name": "a", "image": "i"},
                    {"name": "b", "image": "i", "resources": {"requests": {"cpu": "1x"}}},
                ],
            ),
        ]
    )
    with pytest.raises(ManifestError) as e:
        load_pods(text, "pod.yaml", GATES)
    assert str(e.value).startswith(
        'pod.yaml: document 2 (Pod "db"): spec.containers[1].resources.requests.cpu: quantities must match'
    )
    assert not isinstance(e.value, PodInvalidError)


def test_shape_errors() -> None:
    with pytest.raises(ManifestError, match=r"spec.containers: expected a list, got a mapping"):
        pods_from_object(pod_doc("a", containers={"name": "c"}), "s", GATES)
    with pytest.raises(ManifestError, match=r"spec.containers\[0\].name: expected a string, got number 5"):
        pods_from_object(pod_doc("a", containers=[{"name": 5}]), "s", GATES)
    with pytest.raises(ManifestError, match=r"metadata.labels.on: expected a string, got boolean true"):
        pods_from_object({**pod_doc("a"), "metadata": {"name": "a", "labels": {"on": True}}}, "s", GATES)
    with pytest.raises(ManifestError, match=r"spec.resources.limits.memory: quantities must be strings or numbers"):
        pods_from_object(pod_doc("a", resources={"limits": {"memory": [1]}}), "s", GATES)
    with pytest.raises(ManifestError, match=r"^s: expected a mapping"):
        pods_from_object([], "s", GATES)  # type: ignore[arg-type]


def test_errors_never_leak_library_exceptions() -> None:
    for text in ["a: b: c", "[1, 2", "{", "- - -\n  x: : :", "kind: Pod\nspec: 3", "\t\tkind: Pod"]:
        with pytest.raises(ManifestError, match=r"^x: "):
            load_pods(text, "x", GATES)


# -- the API server step ------------------------------------------------------------------------
def test_load_pods_defaults_and_stamps_qos() -> None:
    text = """
apiVersion: v1
kind: Pod
metadata: {name: pl}
spec:
  resources:
    limits: {cpu: "4", memory: 4Gi}
  containers:
  - {name: a, image: i, resources: {limits: {cpu: "2", memory: 1Gi}}}
  - {name: b, image: i}
---
apiVersion: v1
kind: Pod
metadata: {name: g}
spec:
  containers:
  - {name: a, image: i, resources: {limits: {cpu: "2", memory: 1Gi}}}
"""
    pl, g = load_pods(text, "x.yaml", GATES)
    assert pl.resources is not None
    # cpu/memory requests default to the container aggregate (the containers request some)
    assert {k: str(v) for k, v in pl.resources.requests.items()} == {"cpu": "2", "memory": "1Gi"}
    assert pl.qos_class == "Burstable"
    assert {k: str(v) for k, v in g.containers[0].resources.requests.items()} == {"cpu": "2", "memory": "1Gi"}
    assert g.qos_class == "Guaranteed"
    pl_off, _ = load_pods(text, "x.yaml", OFF)
    assert pl_off.resources is not None and pl_off.resources.requests == {}
    assert pl_off.qos_class == "Burstable"  # from the containers alone


def test_load_pods_invalid_pod() -> None:
    text = """
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  template:
    spec:
      resources: {requests: {cpu: "1"}}
      containers:
      - {name: a, image: i, resources: {requests: {cpu: "2"}}}
"""
    with pytest.raises(PodInvalidError) as e:
        load_pods(text, "db.yaml", GATES)
    assert e.value.pod_name == "db-0"
    assert e.value.message == (
        'Pod "db-0" is invalid: spec.resources.requests[cpu]: Invalid value: "1": '
        "must be greater than or equal to aggregate container requests of 2"
    )
    assert str(e.value) == "db.yaml: document 1: " + e.value.message
    assert load_pods(text, "db.yaml", OFF)[0].name == "db-0"


def test_admit_to_api_does_not_modify_input() -> None:
    p = Pod("p", containers=[Container("c", Resources({}, {"cpu": Quantity.parse("1")}), image="i")])
    stored, msg = admit_to_api(p, GATES)
    assert msg is None and stored is not None
    assert p.containers[0].resources.requests == {} and p.qos_class == ""
    assert stored.containers[0].resources.requests == {"cpu": Quantity.parse("1")}
    assert stored.qos_class == "Burstable"
    assert stored.uid == p.uid


def test_admit_to_api_container_restart_policy_dropped_without_gate() -> None:
    p = Pod("p", containers=[Container("c", restart_policy="Never", image="i")])
    stored, msg = admit_to_api(p, FeatureGates({"ContainerRestartRules": False}))
    assert msg is None and stored is not None and stored.containers[0].restart_policy is None
    stored, msg = admit_to_api(p, GATES)
    assert stored is not None and stored.containers[0].restart_policy == "Never"


# -- the conformance corpus -----------------------------------------------------------------------
def _corpus_admits() -> list[tuple[str, dict, FeatureGates]]:
    out = []
    for path in sorted(CONFORMANCE.rglob("*.yaml")):
        for sc in load_documents(path.read_text(), str(path)):
            node = sc.get("spec", {}).get("node", {})
            gates = FeatureGates((node.get("kubelet") or {}).get("featureGates") or {})
            for i, step in enumerate(sc["spec"].get("steps") or []):
                if "admit" in step:
                    label = f"{path.relative_to(CONFORMANCE)}:{sc['metadata']['name']}:steps[{i}]"
                    out.append((label, step["admit"], gates))
    return out


@pytest.mark.skipif(not CONFORMANCE.is_dir(), reason="conformance corpus not present")
def test_conformance_admit_pods_are_valid() -> None:
    admits = _corpus_admits()
    assert len(admits) > 4000
    failures = []
    for label, body, gates in admits:
        obj = {"apiVersion": "v1", "kind": "Pod", **body}
        [p] = pods_from_object(obj, label, gates)
        stored, message = admit_to_api(p, gates)
        if stored is None:
            failures.append(f"{label}: {message}")
            continue
        assert stored.qos_class in ("Guaranteed", "Burstable", "BestEffort")
        if stored.resources is not None and gates.enabled("PodLevelResources") and stored.resources.limits:
            # after defaulting every supported pod-level limit has a request
            assert set(stored.resources.limits) <= set(stored.resources.requests), label
    assert failures == []
