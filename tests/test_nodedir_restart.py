"""Kubelet restarts of a node directory, through the CLI: ``node restart``, checkpoint files deleted
while pods run, and what ``describe`` and ``explain`` say where kubelet 1.36.2's bug hits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from topolet.cli.main import app
from topolet.nodedir import load_node_dir_readonly
from topolet.nodedir.store import CPU_STATE_FILE, MEMORY_STATE_FILE

KUBELET = """\
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
featureGates: {PodLevelResourceManagers: true}
cpuManagerPolicy: static
reservedSystemCPUs: "0"
topologyManagerPolicy: best-effort
topologyManagerScope: pod
"""

POD_LEVEL = """\
apiVersion: v1
kind: Pod
metadata: {name: db}
spec:
  resources:
    requests: {cpu: "4", memory: 4Gi}
    limits: {cpu: "4", memory: 4Gi}
  containers:
  - name: main
    image: x
    resources:
      requests: {cpu: "2", memory: 2Gi}
      limits: {cpu: "2", memory: 2Gi}
  - name: side
    image: x
"""

GUARANTEED = """\
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
  - name: c
    image: x
    resources:
      requests: {cpu: "2", memory: 1Gi}
      limits: {cpu: "2", memory: 1Gi}
"""


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TOPOLET_NODE", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def run(*args: str, code: int = 0) -> tuple[str, str]:
    r = CliRunner().invoke(app, list(args))
    assert r.exit_code == code, (args, r.exit_code, r.stdout, r.stderr, r.exception)
    return r.stdout, r.stderr


@pytest.fixture
def node(tmp_path: Path) -> str:
    (tmp_path / "kubelet.yaml").write_text(KUBELET)
    (tmp_path / "db.yaml").write_text(POD_LEVEL)
    (tmp_path / "web.yaml").write_text(GUARANTEED)
    d = str(tmp_path / "node")
    run("node", "init", d, "--topology", "preset:2-numa", "--config", str(tmp_path / "kubelet.yaml"))
    return d


def test_loading_the_node_is_the_same_kubelet_going_on(node: str, tmp_path: Path) -> None:
    run("apply", "-f", str(tmp_path / "db.yaml"), "--node", node)
    before = (Path(node) / CPU_STATE_FILE).read_bytes()
    for _ in range(3):
        run("get", "pods", "--node", node)
        run("apply", "-f", str(tmp_path / "web.yaml"), "--node", node)
    nd = load_node_dir_readonly(node, require_kubelet=True)
    assert nd.node is not None and nd.node.get("default/db").result.pod_cpus == int("110", 2) | (0b11 << 33)  # type: ignore[union-attr]
    assert not any(sp.restart_note for sp in nd.pods.values())
    assert json.loads((Path(node) / CPU_STATE_FILE).read_bytes())["podEntries"] == json.loads(before)["podEntries"]


def test_node_restart_moves_the_pod_leaks_cpus_and_the_next_restart_refuses(node: str, tmp_path: Path) -> None:
    run("apply", "-f", str(tmp_path / "db.yaml"), "--node", node)
    out, err = run("node", "restart", "--node", node)
    assert out == "node/topolet-node restarted\n"
    assert "pod/db: moved by the kubelet restart from CPUs 1-2,33-34 to 3-4,35-36" in err
    assert "kubernetes#140989" in err and "fixed in kubelet 1.37" in err
    desc, _ = run("describe", "pod", "db", "--node", node)
    assert "Kubelet Restart:" in desc and "moved by the kubelet restart" in desc
    ndesc, _ = run("describe", "node", "--node", node)
    assert "Leaked CPUs:" in ndesc and "1-2,33-34 (4 CPUs)" in ndesc and "kubernetes#140989" in ndesc
    assert "Next Kubelet Restart:" in ndesc and "doesn't match with CPUs in state" in ndesc
    # the per-NUMA table shows the leaked CPUs apart, never as held by the pod
    numa = ndesc[ndesc.index("Per-NUMA CPU Use:") :].splitlines()
    assert numa[1].split() == ["NUMA", "CPUs", "Reserved", "Held", "by", "Pods", "Shared", "Pool", "Leaked"]
    row0 = numa[2].split()  # NUMA 0: its CPUs, reserved, held by pods, shared pool, leaked
    assert row0[0] == "0" and row0[-2:] == ["1-2,33-34", "(4)"]
    held = row0[row0.index("(32)") + 2 : row0.index("(32)") + 4]  # after the CPUs and the reserved CPUs
    assert held == ["3-4,35-36", "(4)"], row0
    # the kubelet goes on: other commands work
    run("get", "pods", "--node", node)
    # explain on this node names the leaked CPUs
    eout, _ = run("explain", "-f", str(tmp_path / "web.yaml"), "--node", node, "--no-suggest")
    assert "CPUs 1-2,33-34 belong to nobody" in eout
    # the next restart is refused: the node is down (NotReady) until drained
    _, err = run("node", "restart", "--node", node, code=2)
    assert "current set of available CPUs" in err and "NotReady" in err
    ndesc, _ = run("describe", "node", "--node", node)
    assert "NotReady: the kubelet refuses to start" in ndesc
    run("node", "drain", "--node", node)
    run("node", "restart", "--node", node)
    assert "Leaked CPUs" not in run("describe", "node", "--node", node)[0]


def test_explain_predicts_what_a_restart_does_to_the_pod(node: str, tmp_path: Path) -> None:
    out, _ = run("explain", "-f", str(tmp_path / "db.yaml"), "--node", node, "-o", "json")
    notes = json.loads(out)
    text = json.dumps(notes)
    assert "If the kubelet restarts, 1.36 moves this running pod from CPUs 1-2,33-34 to 3-4,35-36" in text


def test_rejected_at_readmission_is_failed_with_the_bug_named(node: str, tmp_path: Path) -> None:
    run("apply", "-f", str(tmp_path / "db.yaml"), "--node", node)
    restricted = tmp_path / "restricted.yaml"
    restricted.write_text(KUBELET.replace("best-effort", "restricted"))
    _, err = run("node", "reconfigure", "--config", str(restricted), "--node", node)
    assert "pod/db: rejected when the restarted kubelet re-admitted it (TopologyAffinityError" in err
    out, _ = run("get", "pods", "--node", node)
    assert "db     0/2     TopologyAffinityError" in out
    desc, _ = run("describe", "pod", "db", "--node", node)
    assert "Status:" in desc and "Failed" in desc and "kubernetes#140989" in desc
    nd = load_node_dir_readonly(node, require_kubelet=True)
    assert nd.node is not None and "default/db" not in nd.node.pods
    cs = nd.node.cpu_manager.state
    assert not cs.assignments and not cs.pod_assignments  # what it held is freed


def test_deleted_checkpoints_readmit_the_running_pods(node: str, tmp_path: Path) -> None:
    run("apply", "-f", str(tmp_path / "web.yaml"), "--node", node)
    held = load_node_dir_readonly(node, require_kubelet=True).node.get("default/web").result.containers[0].cpus  # type: ignore[union-attr]
    for f in (CPU_STATE_FILE, MEMORY_STATE_FILE):
        (Path(node) / f).unlink()
    _, err = run("get", "pods", "-o", "wide", "--node", node)
    assert "were deleted while 1 pod(s) run" in err and "re-admitted" in err
    nd = load_node_dir_readonly(node, require_kubelet=True)
    rec = nd.node.get("default/web")  # type: ignore[union-attr]
    # pinned again, never silently unpinned
    assert rec is not None and rec.result.containers[0].cpus == held
    assert held & nd.node.cpu_manager.state.default_cpuset == 0  # type: ignore[union-attr]
    # a write command saves the new kubelet's checkpoints
    run("apply", "-f", str(tmp_path / "db.yaml"), "--node", node)
    assert (Path(node) / CPU_STATE_FILE).is_file()
    assert "were deleted" not in run("get", "pods", "-o", "wide", "--node", node)[1]


def test_checkpoint_edited_behind_the_kubelets_back_is_a_start(node: str, tmp_path: Path) -> None:
    run("apply", "-f", str(tmp_path / "web.yaml"), "--node", node)
    p = Path(node) / CPU_STATE_FILE
    data = json.loads(p.read_bytes())
    data["policyName"] = "none"
    p.write_text(json.dumps(data))
    _, err = run("get", "pods", "-o", "wide", "--node", node)
    assert "the kubelet refuses to start" in err and "could not restore state from checkpoint" in err
