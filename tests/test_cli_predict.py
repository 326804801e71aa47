"""``topolet predict`` / ``demo`` / ``test``: output, exit codes, and clear errors on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from topolet.cli.main import app

runner = CliRunner()


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    r = runner.invoke(app, list(args), input=stdin)
    return r.exit_code, r.stdout, r.stderr


def test_demo_shows_the_seed_allocation() -> None:
    code, out, _ = run("demo")
    assert code == 0, out
    assert "pod/tightly-coupled-database: ADMITTED QoS Guaranteed, pod CPUs 1-4,33-36 (NUMA 0)" in out
    lines = {line.split()[0]: line.split() for line in out.splitlines() if line.split()}
    assert lines["database"][1:5] == ["app", "exclusive", "1-2,33-34", "0"]
    assert lines["metrics-exporter"][1:5] == ["app", "pod-shared", "3-4,35-36", "0"]
    assert lines["backup-agent"][1:5] == ["app", "pod-shared", "3-4,35-36", "0"]


def test_predict_json() -> None:
    from topolet.io.inputs import embedded_pod_path

    code, out, _ = run("predict", "-f", embedded_pod_path(), "-o", "json")
    assert code == 0
    items = json.loads(out)["items"]
    (item,) = items
    assert item["admitted"] and item["podCpus"] == "1-4,33-36"
    assert [c["cpuMode"] for c in item["containers"]] == ["exclusive", "pod-shared", "pod-shared"]


POD = """apiVersion: v1
kind: Pod
metadata: {{name: big}}
spec:
  containers:
  - name: a
    image: x
    resources:
      limits: {{cpu: "{cpu}", memory: 1Gi}}
"""


def test_rejection_exit_code_and_message() -> None:
    code, out, _ = run("predict", "-f", "-", "-o", "json", stdin=POD.format(cpu=40))
    assert code == 3
    (item,) = json.loads(out)["items"]
    assert item["phase"] == "Failed"
    assert item["reason"] == "TopologyAffinityError"
    assert item["message"].startswith("Pod was rejected: ")


def test_api_validation_is_reason_invalid() -> None:
    pod = POD.format(cpu=2).replace("limits:", "requests: {cpu: '3'}\n      limits:")
    code, out, _ = run("predict", "-f", "-", "-o", "json", stdin=pod)
    assert code == 3
    (item,) = json.loads(out)["items"]
    assert item["reason"] == "Invalid"
    assert "must be less than or equal to cpu limit" in item["message"]


@pytest.mark.parametrize(
    ("args", "stdin", "needle"),
    [
        (("predict", "-f", "/no/such.yaml"), None, "/no/such.yaml: no such file"),
        (("predict", "-f", "-"), "kind: Pod\nmetadata: [1\n", "invalid YAML"),
        (("predict", "-f", "-"), POD.format(cpu="lots"), "spec.containers[0].resources.limits.cpu"),
        (("predict", "-f", "-"), "apiVersion: v1\nkind: Gizmo\nmetadata: {name: g}\n", "Gizmo"),
        (("predict", "-f", "-", "--topology", "preset:grid,sockets=0"), POD.format(cpu=1), "sockets"),
        (("predict", "-f", "-", "--topology", "preset:nope"), POD.format(cpu=1), "unknown preset"),
    ],
)
def test_bad_input_is_a_clear_error(args: tuple[str, ...], stdin: str | None, needle: str) -> None:
    code, out, err = run(*args, stdin=stdin)
    assert code == 1, (out, err)
    assert needle in err
    assert "Traceback" not in out + err


def test_bad_kubelet_config_names_the_file(tmp_path: Path) -> None:
    cfg = tmp_path / "kubelet.yaml"
    cfg.write_text("cpuManagerPolicy: static\nfeatureGates: [1, 2]\n")
    code, _, err = run("predict", "-f", "-", "--config", str(cfg), stdin=POD.format(cpu=1))
    assert code == 1
    assert str(cfg) in err and "featureGates" in err


def test_kubelet_startup_refusal_is_exit_2(tmp_path: Path) -> None:
    cfg = tmp_path / "kubelet.yaml"
    cfg.write_text("cpuManagerPolicy: static\n")
    code, _, err = run("predict", "-f", "-", "--config", str(cfg), stdin=POD.format(cpu=1))
    assert code == 2
    assert "unable to determine reserved CPU resources for static policy" in err


def test_scenario_runner_counts(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(
        """apiVersion: topolet/v1
kind: Scenario
metadata: {name: ok}
spec:
  node:
    topology: {preset: 2-numa}
    kubelet: {cpuManagerPolicy: static, reservedSystemCPUs: "0"}
  steps:
    - admit:
        metadata: {name: a}
        spec:
          containers:
          - {name: c, image: x, resources: {limits: {cpu: "2", memory: 1Gi}}}
      expect: {admitted: true, containers: {c: {cpus: "1,33"}}}
---
apiVersion: topolet/v1
kind: Scenario
metadata: {name: wrong}
spec:
  node:
    topology: {preset: 2-numa}
    kubelet: {cpuManagerPolicy: static, reservedSystemCPUs: "0"}
  steps:
    - admit:
        metadata: {name: a}
        spec:
          containers:
          - {name: c, image: x, resources: {limits: {cpu: "2", memory: 1Gi}}}
      expect: {admitted: true, containers: {c: {cpus: "2,34"}}}
"""
    )
    code, out, _ = run("test", str(good))
    assert code == 3  # a check failed (docs/exit-codes.md)
    assert out.strip().splitlines()[-1] == "1 passed, 1 failed"
    assert 'wrong: step 1 (admit a): containers.c.cpus: expected "2,34", got "1,33"' in out
