"""A running pod's usage summary in the node directory's index (issue 12 item 11).

Starting the kubelet of a node directory registers the running pods by the
summary their index rows keep (request amounts, host ports) instead of reading
every pod's file. Every admission decision must be the same as with the pods
read: the property test applies random pods to two copies of a node -- one
with the summaries, one with them stripped (an older index: every pod read) --
and compares the outcomes, the stored pods and the checkpoints.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paths import EXAMPLES
from topolet.io.inputs import LoadedObject
from topolet.nodedir import api, init_node, open_node

CONFIG = (EXAMPLES / "kubelet-config.yaml").read_text()


def _pod(i: int, cpu: str, memory: str, guaranteed: bool, port: int | None, plr: bool) -> dict[str, Any]:
    res: dict[str, Any] = {"requests": {"cpu": cpu, "memory": memory}}
    if guaranteed:
        res["limits"] = dict(res["requests"])
    c: dict[str, Any] = {"name": "main", "image": "pause", "resources": res}
    if port is not None:
        c["ports"] = [{"containerPort": 80, "hostPort": port}]
    spec: dict[str, Any] = {"containers": [c]}
    if plr:  # pod-level resources: the pod's own requests count
        spec["resources"] = {"requests": {"cpu": "3", "memory": "100Mi"}}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"p{i}", "namespace": "default"}, "spec": spec}


PODS = st.lists(
    st.tuples(
        st.sampled_from(["0", "10m", "500m", "1", "2", "7", "20"]),
        st.sampled_from(["0", "16Mi", "1Gi", "30Gi"]),
        st.booleans(),
        st.sampled_from([None, None, None, 8080, 9090]),
        st.sampled_from([False, False, False, True]),
    ),
    min_size=1,
    max_size=10,
)


def _apply(node: Path, pods: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    with open_node(node, write=True) as nd:
        planned = api.plan_objects([LoadedObject("t", p) for p in pods], None, nd.kubelet().gates)
        out = api.apply(nd, planned)
        nd.save()
    return [(o.name, o.action, o.error) for o in out]


def _strip_summaries(node: Path) -> None:
    p = node / "pods.json"
    doc = json.loads(p.read_text())
    doc["index"] = [row[:5] for row in doc["index"]]
    p.write_text(json.dumps(doc))


def _state(node: Path) -> dict[str, Any]:
    """The checkpoints and the stored pods by name (UIDs and timestamps differ between the copies)."""
    uids = {}
    for f in sorted((node / "pods").iterdir()):
        entry = json.loads(f.read_text())
        meta = entry.get("object", {}).get("metadata", {})
        uids[meta["uid"]] = meta["name"]
    out: dict[str, Any] = {}
    for f in ("cpu_manager_state", "memory_manager_state"):
        doc = json.loads((node / f).read_text())
        doc.pop("checksum", None)
        text = json.dumps(doc, sort_keys=True)
        for uid, name in uids.items():
            text = text.replace(uid, name)
        out[f] = json.loads(text)
    for f in sorted((node / "pods").iterdir()):
        text = f.read_text()
        for uid, name in uids.items():
            text = text.replace(uid, name)
        entry = json.loads(text)
        for k in ("creationTimestamp",):
            entry.get("object", {}).get("metadata", {}).pop(k, None)
        out[entry["object"]["metadata"]["name"]] = json.dumps(entry, sort_keys=True)
    doc = json.loads((node / "pods.json").read_text())
    out["index"] = [(row[0], row[1], row[2], row[4]) for row in doc["index"]]
    return out


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    first=PODS,
    then=PODS,
    max_pods=st.integers(2, 12),
    gate=st.booleans(),
)
def test_admission_with_summaries_is_admission_with_every_pod_read(
    tmp_path_factory: Any, first: list[Any], then: list[Any], max_pods: int, gate: bool
) -> None:
    tmp = tmp_path_factory.mktemp("summary")
    cfg = tmp / "kubelet-config.yaml"
    gates = "featureGates:\n  PodLevelResources: true\n" if gate else ""
    cfg.write_text(CONFIG + f"maxPods: {max_pods}\n" + gates)
    a = tmp / "a"
    init_node(a, "preset:2-numa", str(cfg))
    _apply(a, [_pod(i, *t) for i, t in enumerate(first)])
    b = tmp / "b"
    shutil.copytree(a, b)
    _strip_summaries(b)
    with open_node(a, write=False) as nd:
        nd.kubelet()
        assert not nd.pods._cache, "the kubelet started without reading a pod file"
        usage_a = nd.kubelet().usage
    with open_node(b, write=False) as nd:
        usage_b = nd.kubelet().usage
    assert (usage_a.pods, usage_a.requested, usage_a.ports) == (usage_b.pods, usage_b.requested, usage_b.ports)
    new = [_pod(100 + i, *t) for i, t in enumerate(then)]
    assert _apply(a, new) == _apply(b, new)
    assert _state(a) == _state(b)


def test_a_pod_file_that_contradicts_its_summary_is_a_damaged_node(tmp_path: Path) -> None:
    cfg = tmp_path / "kubelet-config.yaml"
    cfg.write_text(CONFIG)
    node = tmp_path / "n"
    init_node(node, "preset:2-numa", str(cfg))
    _apply(node, [_pod(0, "1", "1Gi", False, None, False)])
    doc = json.loads((node / "pods.json").read_text())
    doc["index"][0][5]["requests"]["cpu"] = 5
    (node / "pods.json").write_text(json.dumps(doc))
    with open_node(node, write=False) as nd:
        assert nd.kubelet().usage.requested["cpu"] == 5  # the summary counts ...
        try:
            _ = nd.kubelet().pods["default/p0"].pod  # ... until the pod is read and does not match
        except Exception as e:
            assert "do not match" in str(e) and "pods.json" in str(e)
        else:
            raise AssertionError("no error")
