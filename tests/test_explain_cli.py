"""``topolet explain``, ``topolet map`` and ``topolet report`` on the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from paths import SEED_CONFIG as SEED_CONFIG_FILE
from paths import SEED_POD as SEED_POD_FILE
from topolet.cli import explain_cmds

SEED_POD = str(SEED_POD_FILE)
SEED_CONFIG = str(SEED_CONFIG_FILE)

BIG_POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: analytics
spec:
  resources:
    requests: {cpu: "7", memory: 8Gi}
    limits: {cpu: "7", memory: 8Gi}
  containers:
  - name: engine
    image: x
    resources:
      requests: {cpu: "4", memory: 6Gi}
      limits: {cpu: "4", memory: 6Gi}
  - name: sidecar
    image: y
    resources:
      requests: {cpu: 100m, memory: 128Mi}
"""

FULL_PCPUS_CONFIG = (
    Path(SEED_CONFIG)
    .read_text()
    .replace(
        "cpuManagerPolicy: static\n", 'cpuManagerPolicy: static\ncpuManagerPolicyOptions:\n  full-pcpus-only: "true"\n'
    )
    if Path(SEED_CONFIG).exists()
    else ""
)


def _app() -> typer.Typer:
    app = typer.Typer(pretty_exceptions_enable=False)

    @app.callback()
    def _root() -> None:
        """test app"""

    explain_cmds.register(app)
    return app


@pytest.fixture()
def run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # type: ignore[no-untyped-def]
    # no default node directory: commands fall back on the seed configuration on preset:2-numa
    monkeypatch.setenv("TOPOLET_NODE", str(tmp_path / "no-node-here"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("NO_COLOR", "1")
    runner = CliRunner()
    app = _app()

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(app, list(args))

    return invoke


def test_explain_seed_pod_text(run) -> None:  # type: ignore[no-untyped-def]
    r = run("explain", "-f", SEED_POD)
    assert r.exit_code == 0, r.output
    out = r.output
    assert "Pod default/tightly-coupled-database (QoS Guaranteed): ADMITTED" in out
    assert "topologyManagerPolicy single-numa-node, topologyManagerScope pod" in out
    assert "pod bubble: 8 CPUs 1-4,33-36 on NUMA node 0" in out
    assert "\x1b[" not in out


def test_explain_json_and_rejection(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pod = tmp_path / "big.yaml"
    pod.write_text(BIG_POD)
    cfg = tmp_path / "kubelet.yaml"
    cfg.write_text(FULL_PCPUS_CONFIG)
    r = run("explain", "-f", str(pod), "--config", str(cfg), "-o", "json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["admitted"] is False and data["reason"] == "SMTAlignmentError"
    changes = [s["change"] for s in data["rejection"]["suggestions"]]
    assert changes[0] == "a pod CPU budget of 6 instead of 7 (spec.resources cpu) is SMT-aligned (2 CPUs per core)"
    r = run("explain", "-f", SEED_POD, "-f", str(pod), "--config", str(cfg), "-o", "json")
    data = json.loads(r.output)
    assert data["kind"] == "List" and [i["admitted"] for i in data["items"]] == [True, False]


def test_explain_errors(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    r = run("explain", "-f", str(tmp_path / "missing.yaml"))
    assert r.exit_code == 1 and "missing.yaml" in r.output and "Traceback" not in r.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "kind: Pod\nmetadata: {name: x}\nspec:\n  containers:\n  - name: c\n    resources: {requests: {cpu: lots}}\n"
    )
    r = run("explain", "-f", str(bad))
    assert r.exit_code == 1 and "bad.yaml" in r.output and "Traceback" not in r.output
    r = run("explain", "-f", SEED_POD, "--node", str(tmp_path), "--topology", "preset:2-numa")
    assert r.exit_code == 1 and "--node cannot be combined" in r.output
    r = run("explain", "-f", SEED_POD, "-o", "yaml")
    assert r.exit_code == 1 and 'output format "yaml", allowed formats are: text,json' in r.output
    cfg = tmp_path / "k.yaml"
    cfg.write_text("kind: KubeletConfiguration\ncpuManagerPolicy: static\n")
    r = run("explain", "-f", SEED_POD, "--config", str(cfg))
    assert r.exit_code == 2 and "refuses to start" in r.output and "Traceback" not in r.output


def test_map_plain(run) -> None:  # type: ignore[no-untyped-def]
    r = run("map", "-f", SEED_POD, "--width", "110")
    assert r.exit_code == 0, r.output
    assert " 0##  1A1  2A1  3A~  4A~" in r.output
    assert "NUMA 0 memory" in r.output and "\x1b[" not in r.output
    r = run("map", "-o", "json")
    data = json.loads(r.output)
    assert data["shared_pool"] == "1-63" and data["owners"][0]["code"] == "##"


def test_report_and_compare(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "r.html"
    r = run("report", "--html", str(out), "-f", SEED_POD)
    assert r.exit_code == 0, r.output
    page = out.read_text()
    assert 'data-pod="default/tightly-coupled-database"' in page and page.count('class="cpu"') == 64
    r = run("report", "--html", str(out), "--compare")
    assert r.exit_code == 0, r.output
    page = out.read_text()
    assert 'id="pod-level"' in page and 'id="per-container"' in page
    r = run("report", "--html", str(tmp_path / "no" / "dir" / "r.html"))
    assert r.exit_code == 1 and "cannot write" in r.output


def test_node_directory(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """--node reads a node directory (with a pod applied by ``topolet apply``) and never changes it."""
    nodedir = pytest.importorskip("topolet.nodedir", reason="the node-directory module is not in this tree")
    from topolet.cli.main import app as main_app

    d = tmp_path / "node"
    nodedir.init_node(str(d), "preset:2-numa", SEED_CONFIG)
    r = CliRunner().invoke(main_app, ["apply", "-f", SEED_POD, "--node", str(d)])
    assert r.exit_code == 0, r.output
    before = {p.name: p.read_bytes() for p in d.iterdir() if p.is_file() and p.name != ".lock"}
    other = tmp_path / "other.yaml"
    other.write_text(Path(SEED_POD).read_text().replace("name: tightly-coupled-database", "name: db2", 1))
    r = run("explain", "-f", str(other), "--node", str(d))
    assert r.exit_code == 0, r.output
    assert f"on node directory {d}" in r.output and "Pod default/db2 (QoS Guaranteed): ADMITTED" in r.output
    assert "NUMA node 0: 23/32 CPUs free for exclusive use" in r.output  # the applied pod holds 8 CPUs
    assert "pod bubble: 8 CPUs 5-8,37-40 on NUMA node 0" in r.output
    r = run("map", "--node", str(d), "--width", "110")
    assert r.exit_code == 0 and " 1A1" in r.output
    after = {p.name: p.read_bytes() for p in d.iterdir() if p.is_file() and p.name != ".lock"}
    assert after == before
    r = run("explain", "-f", SEED_POD, "--node", str(tmp_path / "nothing"))
    assert r.exit_code == 1 and "Traceback" not in r.output
    # with neither --node nor --topology, the default node directory ($TOPOLET_NODE) is used when it exists
    r = CliRunner(env={"TOPOLET_NODE": str(d)}).invoke(_app(), ["explain", "-f", str(other)])
    assert r.exit_code == 0 and f"on node directory {d}" in r.output
