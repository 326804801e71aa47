"""The kubelet's node-fit admission as users see it: predict, the node directory, explain, test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from topolet.cli.main import app

runner = CliRunner()

NONE_CONFIG = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
BIG = """apiVersion: apps/v1
kind: StatefulSet
metadata: {name: big}
spec:
  replicas: 3
  template:
    spec:
      containers:
      - name: c
        image: db
        resources: {requests: {cpu: "30", memory: 10Gi}, limits: {cpu: "30", memory: 10Gi}}
"""


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TOPOLET_NODE", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def run(*args: str) -> tuple[int, str]:
    r = runner.invoke(app, list(args))
    return r.exit_code, r.stdout


def write(tmp_path: Path, name: str, text: str) -> str:
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_predict_three_30_cpu_pods_on_64_cpus(tmp_path: Path) -> None:
    cfg = write(tmp_path, "kc.yaml", NONE_CONFIG)
    big = write(tmp_path, "big.yaml", BIG)
    code, out = run("predict", "-f", big, "--topology", "preset:2-numa", "--config", cfg)
    assert code == 3, out
    assert "pod/big-0: ADMITTED" in out and "pod/big-1: ADMITTED" in out
    assert (
        "pod/big-2: REJECTED OutOfcpu: Pod was rejected: Node didn't have enough resource: cpu, requested: 30000, "
        "used: 60000, capacity: 64000" in out
    )
    assert "why: OutOfcpu: requests 30 CPUs, 4 of 64 allocatable left: 26 short" in out
    # the old answer, on request
    code, out = run(
        "predict", "-f", big, "--topology", "preset:2-numa", "--config", cfg, "--admission", "resource-managers"
    )
    assert code == 0 and out.count("ADMITTED") == 3


def test_predict_json_carries_the_handler_and_the_held_allocation(tmp_path: Path) -> None:
    cfg = write(
        tmp_path,
        "kc.yaml",
        NONE_CONFIG + 'cpuManagerPolicy: static\nreservedSystemCPUs: "0"\n',
    )
    pods = write(
        tmp_path,
        "pods.yaml",
        """apiVersion: v1
kind: Pod
metadata: {name: burst}
spec:
  containers: [{name: c, image: x, resources: {requests: {cpu: "60"}}}]
---
apiVersion: v1
kind: Pod
metadata: {name: guar}
spec:
  containers:
  - {name: c, image: x, resources: {requests: {cpu: "4", memory: 1Gi}, limits: {cpu: "4", memory: 1Gi}}}
""",
    )
    code, out = run("predict", "-f", pods, "--topology", "preset:2-numa", "--config", cfg, "-o", "json")
    assert code == 3
    burst, guar = json.loads(out)["items"]
    assert burst["admitted"] and not guar["admitted"]
    assert guar["reason"] == "OutOfcpu" and guar["admitHandler"] == "node fit"
    assert guar["shortfall"] == {
        "resource": "cpu",
        "requested": 4000,
        "used": 60000,
        "allocatable": 63000,
        "short": 1000,
    }
    held = guar["heldUntilSweep"]
    assert held["swept"] and len(held["cpus"].split(",")) == 2  # two cores' worth of exclusive CPUs, returned


def test_apply_3000_replicas_on_a_110_pod_node(tmp_path: Path) -> None:
    d = str(tmp_path / "node")
    cfg = write(tmp_path, "kc.yaml", NONE_CONFIG + "maxPods: 110\n")
    code, out = run("node", "init", "--node", d, "--topology", "preset:2-numa", "--config", cfg)
    assert code == 0, out
    deploy = write(
        tmp_path,
        "deploy.yaml",
        """apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3000
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: c, image: nginx, resources: {requests: {cpu: 10m, memory: 10Mi}}}]
""",
    )
    code, out = run("apply", "--node", d, "-f", deploy)
    assert out.count(" created") == 110
    assert out.count("rejected by the kubelet: OutOfpods") == 2890
    assert "Node didn't have enough resource: pods, requested: 1, used: 110, capacity: 110" in out
    code, out = run("get", "pods", "--node", d)
    statuses = [line.split()[2] for line in out.splitlines()[1:] if line.strip()]
    assert statuses.count("Running") == 110 and statuses.count("OutOfpods") == 2890


def test_node_directory_and_explain_out_of_cpu(tmp_path: Path) -> None:
    d = str(tmp_path / "node")
    cfg = write(tmp_path, "kc.yaml", NONE_CONFIG)
    assert run("node", "init", "--node", d, "--topology", "preset:2-numa", "--config", cfg)[0] == 0
    big = write(tmp_path, "big.yaml", BIG)
    code, out = run("apply", "--node", d, "-f", big)
    assert "pod/big-2 rejected by the kubelet: OutOfcpu" in out
    one = write(
        tmp_path,
        "one.yaml",
        """apiVersion: v1
kind: Pod
metadata: {name: third}
spec:
  containers:
  - {name: c, image: db, resources: {requests: {cpu: "30", memory: 10Gi}, limits: {cpu: "30", memory: 10Gi}}}
""",
    )
    code, out = run("explain", "--node", d, "-f", one)
    assert "REJECTED: OutOfcpu" in out
    assert "Rejected by the node-fit predicates (5th admit handler, after the resource managers)." in out
    assert "OutOfcpu: requests 30 CPUs, 4 of 64 allocatable left: 26 short." in out
    assert "fits after deleting pod default/big-0 (frees 30 CPUs)" in out
    code, out = run("explain", "--node", d, "-f", one, "-o", "json")
    assert code == 0  # explain reports; it does not fail on a rejection
    rej = json.loads(out)["rejection"]
    assert rej["handler"] == "node fit" and rej["shortfall"]["short"] == 26000


def test_scenario_admission_key_and_node_name(tmp_path: Path) -> None:
    sc = write(
        tmp_path,
        "sc.yaml",
        """apiVersion: topolet/v1
kind: Scenario
metadata: {name: named-node}
spec:
  node:
    topology: {preset: grid, sockets: 1, numaPerSocket: 1, coresPerNuma: 4, threadsPerCore: 1}
    kubelet: {maxPods: 1}
    admission: full
    name: worker-3
  steps:
    - admit:
        metadata: {name: a}
        spec: {containers: [{name: c, image: x}], nodeSelector: {kubernetes.io/hostname: worker-3}}
      expect: {admitted: true}
    - admit: {metadata: {name: b}, spec: {containers: [{name: c, image: x}]}}
      expect: {admitted: false, reason: OutOfpods, messageContains: "used: 1, capacity: 1"}
""",
    )
    code, out = run("test", sc)
    assert code == 0, out
    assert "1 passed, 0 failed" in out
    bad = write(tmp_path, "bad.yaml", Path(sc).read_text().replace("admission: full", "admission: some"))
    code, out = run("test", bad)
    assert code != 0 and "spec.node.admission: 'some' is not one of full, resourceManagers" in out


def test_predict_node_name(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "p.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  nodeName: w3\n  containers: [{name: c, image: x}]\n",
    )
    code, out = run("predict", "-f", p, "-t", "preset:2-numa")
    assert code == 3 and "REJECTED NodeName" in out and "why: rejected by the node-fit predicates" in out
    code, out = run("predict", "-f", p, "-t", "preset:2-numa", "--node-name", "w3")
    assert code == 0 and "pod/a: ADMITTED" in out


def test_tolerations_may_only_be_added(tmp_path: Path) -> None:
    d = str(tmp_path / "node")
    cfg = write(tmp_path, "kc.yaml", NONE_CONFIG)
    assert run("node", "init", "--node", d, "--topology", "preset:2-numa", "--config", cfg)[0] == 0
    base = "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  containers: [{name: c, image: x}]\n"
    tol = "  tolerations: [{key: k, operator: Exists}]\n"
    assert "pod/a created" in run("apply", "--node", d, "-f", write(tmp_path, "a.yaml", base))[1]
    assert "pod/a configured" in run("apply", "--node", d, "-f", write(tmp_path, "b.yaml", base + tol))[1]
    code, out = run("get", "pod", "a", "--node", d, "-o", "yaml")
    assert code == 0
    assert "tolerations" in out and "key: k" in out
    r = runner.invoke(app, ["apply", "--node", d, "-f", write(tmp_path, "c.yaml", base)])
    assert "pod updates may not change fields" in r.stdout + r.stderr
