"""The node workflow through the CLI: the seed article's steps end to end, and kubectl's conventions."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from paths import EXAMPLES as EXAMPLES_DIR
from topolet.cli.main import app
from topolet.engine.node import Node
from topolet.io.checkpoint import load_cpu_checkpoint
from topolet.io.inputs import load_kubelet_config_file, load_topology_arg
from topolet.io.kubelet_restart import checkpoint_bytes
from topolet.model.cpuset import parse_bits
from topolet.model.manifest import admit_to_api
from topolet.nodedir import load_node_dir_readonly

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = EXAMPLES_DIR
DATA = ROOT / "src" / "topolet" / "data"
SEED_CONFIG = str(EXAMPLES / "kubelet-config.yaml" if EXAMPLES.is_dir() else DATA / "kubelet-config.yaml")
SEED_POD = str(
    EXAMPLES / "tightly-coupled-database.yaml" if EXAMPLES.is_dir() else DATA / "tightly-coupled-database.yaml"
)


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
    d = str(tmp_path / "node")
    out, _ = run("node", "init", d, "--topology", "preset:2-numa", "--config", SEED_CONFIG)
    assert out.startswith("node/topolet-node created\n")
    return d


def _field(text: str, container: str, key: str) -> str:
    """The value of ``key:`` in a container's block of describe output."""
    block = text.split(f"  {container}:\n", 1)[1]
    m = re.search(rf"^\s+{re.escape(key)}:\s+(.*)$", block, re.M)
    assert m, (container, key)
    return m.group(1).strip()


def test_seed_article_steps_end_to_end(tmp_path: Path) -> None:
    d = str(tmp_path / "node")
    # step 2-3: the kubelet settings, on a 2-NUMA machine
    out, err = run("node", "init", d, "--topology", "preset:2-numa", "--config", SEED_CONFIG)
    assert "node/topolet-node created" in out
    assert "2 socket(s), 2 NUMA, 64 CPUs, SMT2 (preset:2-numa)" in out
    assert "topologyManagerScope pod" in out
    # step 6: apply
    out, err = run("apply", "-f", SEED_POD, "--node", d)
    assert out == "pod/tightly-coupled-database created\n"
    assert err == ""
    out, _ = run("get", "pods", "--node", d)
    assert re.search(r"^tightly-coupled-database\s+3/3\s+Running\s+0\s+\S+$", out, re.M), out
    # describe
    out, _ = run("describe", "pod", "tightly-coupled-database", "--node", d)
    assert re.search(r"^Status:\s+Running$", out, re.M)
    assert re.search(r"^QoS Class:\s+Guaranteed$", out, re.M)
    db = parse_bits(_field(out, "database", "Cpus_allowed_list"))
    exporter = parse_bits(_field(out, "metrics-exporter", "Cpus_allowed_list"))
    backup = parse_bits(_field(out, "backup-agent", "Cpus_allowed_list"))
    assert db.bit_count() == 4 and _field(out, "database", "CPU Assignment").startswith("exclusive")
    assert exporter == backup and exporter.bit_count() == 4 and not exporter & db
    for c in ("metrics-exporter", "backup-agent"):
        assert _field(out, c, "CPU Assignment").startswith("pod-shared")
    bubble = parse_bits(re.search(r"Pod CPUs \(bubble\):\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    assert bubble == db | exporter and bubble.bit_count() == 8
    topo = load_topology_arg("preset:2-numa")
    assert len(topo.numa_of_bits(bubble)) == 1  # the whole budget on one NUMA node
    for c in ("database", "metrics-exporter", "backup-agent"):
        assert _field(out, c, "Mems_allowed_list") == "0"
    assert _field(out, "database", "Memory Blocks") == "memory 10Gi on NUMA 0"
    assert re.search(r"Pod Memory:\s+memory 16Gi on NUMA 0", out)
    assert re.search(r"Pod Shared Pool:\s+\S+ \(4 CPUs; used by metrics-exporter, backup-agent\)", out)
    cond = next(ln for ln in out.splitlines() if "PodLevelResourcesAllocated" in ln)
    assert "True" in cond and "topolet's own condition: a real kubelet sets no such condition" in cond
    # the verification step: the container's /proc/self/status
    out, err = run("exec", "tightly-coupled-database", "-c", "database", "--node", d, "--", "cat", "/proc/self/status")
    assert err == ""
    assert f"Cpus_allowed_list:\t{_fmt(db)}\n" in out
    assert "Mems_allowed_list:\t0\n" in out
    out, _ = run(
        "exec", "tightly-coupled-database", "-c", "backup-agent", "--node", d, "--", "cat", "/proc/self/status"
    )
    assert f"Cpus_allowed_list:\t{_fmt(exporter)}\n" in out
    # the node's own view: checkpoints byte-equal to what the engine writes for the same pod
    nd = load_node_dir_readonly(d)
    sp = nd.pods["default/tightly-coupled-database"]
    cfg = load_kubelet_config_file(SEED_CONFIG)
    ref = Node(topo, cfg)
    stored, _ = admit_to_api(sp.pod, ref.gates)
    assert stored is not None
    stored.uid = sp.pod.uid
    ref.admit(stored)
    cpu, mem = checkpoint_bytes(ref)
    assert (Path(d) / "cpu_manager_state").read_bytes() == cpu
    assert (Path(d) / "memory_manager_state").read_bytes() == mem
    # delete: everything returns to the node
    out, _ = run("delete", "pod", "tightly-coupled-database", "--node", d)
    assert out == 'pod "tightly-coupled-database" deleted from default namespace\n'
    out, err = run("get", "pods", "--node", d)
    assert out == "" and err == "No resources found in default namespace.\n"
    st = load_cpu_checkpoint((Path(d) / "cpu_manager_state").read_bytes()).state
    assert st.assignments == {} and st.pod_assignments == {}
    assert st.default_cpuset == topo.all_cpus


def _fmt(bits: int) -> str:
    from topolet.model.cpuset import format_bits

    return format_bits(bits)


def test_reapply_unchanged_image_configured_spec_refused(node: str, tmp_path: Path) -> None:
    run("apply", "-f", SEED_POD, "--node", node)
    out, _ = run("apply", "-f", SEED_POD, "--node", node)
    assert out == "pod/tightly-coupled-database unchanged\n"
    text = Path(SEED_POD).read_text()
    img = tmp_path / "img.yaml"
    img.write_text(text.replace("postgres:15", "postgres:16"))
    out, _ = run("apply", "-f", str(img), "--node", node)
    assert out == "pod/tightly-coupled-database configured\n"
    changed = tmp_path / "changed.yaml"
    changed.write_text(text.replace('"10Gi"', '"12Gi"'))
    out, err = run("apply", "-f", str(changed), "--node", node, code=1)
    assert out == ""
    assert err.startswith(
        f'Error from server (Invalid): error when patching "{changed}": Pod "tightly-coupled-database" is invalid: '
        "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`"
    )
    assert "-      memory: 10Gi" in err and "+      memory: 12Gi" in err
    out, _ = run("get", "pod", "tightly-coupled-database", "-o", "json", "--node", node)
    obj = json.loads(out)
    assert obj["spec"]["containers"][0]["image"] == "postgres:16"
    assert obj["spec"]["containers"][0]["resources"]["limits"]["memory"] == "10Gi"


def test_recreated_pod_gets_a_new_uid(node: str) -> None:
    run("apply", "-f", SEED_POD, "--node", node)
    uid1 = json.loads(run("get", "pod", "tightly-coupled-database", "-o", "json", "--node", node)[0])["metadata"]["uid"]
    run("delete", "-f", SEED_POD, "--node", node)
    run("apply", "-f", SEED_POD, "--node", node)
    uid2 = json.loads(run("get", "pod", "tightly-coupled-database", "-o", "json", "--node", node)[0])["metadata"]["uid"]
    assert uid1 != uid2
    cp = json.loads((Path(node) / "cpu_manager_state").read_bytes())
    assert list(cp["entries"]) == [uid2]


def test_rejected_pod_is_failed_and_holds_nothing(node: str, tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "big"},
                "spec": {
                    "resources": {"requests": {"cpu": "40", "memory": "8Gi"}, "limits": {"cpu": "40", "memory": "8Gi"}},
                    "containers": [{"name": "main", "image": "x"}],
                },
            }
        )
    )
    before = (Path(node) / "cpu_manager_state").read_bytes()
    out, err = run("apply", "-f", str(big), "--node", node)
    assert out == (
        "pod/big rejected by the kubelet: TopologyAffinityError: Pod was rejected: Pod Scope pod with pod-level "
        "resources failed admission under pod-scope topology manager\n"
    )
    run("apply", "-f", str(big), "--node", node, "--fail-on-rejection")  # unchanged: not a new rejection
    assert (Path(node) / "cpu_manager_state").read_bytes() == before
    out, _ = run("get", "pods", "--node", node)
    assert re.search(r"^big\s+0/1\s+TopologyAffinityError\s+0\s+", out, re.M)
    out, _ = run("describe", "pod", "big", "--node", node)
    assert re.search(r"^Status:\s+Failed$", out, re.M)
    assert re.search(r"^Reason:\s+TopologyAffinityError$", out, re.M)
    assert re.search(r"^Message:\s+Pod was rejected: Pod Scope pod with pod-level resources", out, re.M)
    assert "it holds no CPUs or memory" in out
    assert re.search(r"Warning\s+TopologyAffinityError\s+\S+\s+kubelet\s+Pod Scope", out)
    obj = json.loads(run("get", "pod", "big", "-o", "json", "--node", node)[0])
    assert obj["status"]["phase"] == "Failed" and obj["status"]["reason"] == "TopologyAffinityError"
    _, err = run("exec", "big", "--node", node, "--", "cat", "/proc/self/status", code=1)
    assert err == "error: cannot exec into a container in a completed pod; current phase is Failed\n"
    run("delete", "pod", "big", "--node", node)
    big2 = tmp_path / "big2.yaml"
    big2.write_text(big.read_text().replace("name: big", "name: big2"))
    run("apply", "-f", str(big2), "--node", node, "--fail-on-rejection", code=3)


def test_exec_defaults_grep_and_unsupported(node: str) -> None:
    run("apply", "-f", SEED_POD, "--node", node)
    out, err = run(
        "exec",
        "tightly-coupled-database",
        "--node",
        node,
        "--",
        "grep",
        "-E",
        "Cpus_allowed_list|Mems_allowed_list",
        "/proc/self/status",
    )
    assert err == 'Defaulted container "database" out of: database, metrics-exporter, backup-agent\n'
    lines = out.splitlines()
    assert [ln.split(":")[0] for ln in lines] == ["Cpus_allowed_list", "Mems_allowed_list"]
    out, _ = run("exec", "tightly-coupled-database", "-c", "metrics-exporter", "--node", node, "--", "nproc")
    assert out == "4\n"
    out, _ = run(
        "exec",
        "pod/tightly-coupled-database",
        "-c",
        "database",
        "--node",
        node,
        "--",
        "cat",
        "/sys/fs/cgroup/cpuset.mems.effective",
    )
    assert out == "0\n"
    out, err = run("exec", "tightly-coupled-database", "-c", "database", "--node", node, "--", "ls", "/", code=1)
    assert out == ""
    assert err.startswith("error: topolet exec cannot run 'ls /': it only simulates reading")
    _, err = run("exec", "tightly-coupled-database", "-c", "nope", "--node", node, "--", "nproc", code=1)
    assert "container nope is not valid for pod tightly-coupled-database" in err
    _, err = run("exec", "nope", "--node", node, "--", "nproc", code=1)
    assert err == 'Error from server (NotFound): pods "nope" not found\n'


def test_get_outputs(node: str) -> None:
    out, _ = run("apply", "-f", SEED_POD, "-o", "name", "--node", node)
    assert out == "pod/tightly-coupled-database\n"
    out, _ = run("get", "pods", "-o", "wide", "--node", node)
    header, row = out.splitlines()
    assert header.split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "QOS", "CPUS", "NUMA", "NODE"]
    assert row.split()[5:] == ["Guaranteed", row.split()[6], "0", "topolet-node"]
    assert parse_bits(row.split()[6]).bit_count() == 8
    out, _ = run("get", "pods", "-o", "name", "--node", node)
    assert out == "pod/tightly-coupled-database\n"
    obj = yaml.safe_load(run("get", "pods", "-o", "yaml", "--node", node)[0])
    assert obj["kind"] == "List" and obj["items"][0]["status"]["qosClass"] == "Guaranteed"
    item = obj["items"][0]
    assert item["topolet"]["containers"][0]["cpuMode"] == "exclusive"
    conds = {c["type"]: c for c in item["status"]["conditions"]}
    assert "a real kubelet sets no such condition" in conds["PodLevelResourcesAllocated"]["message"]
    out, _ = run("get", "pods", "-A", "--node", node)
    assert out.splitlines()[0].split()[0] == "NAMESPACE"
    out, _ = run("get", "nodes", "--node", node)
    assert out.splitlines()[1].split()[:2] == ["topolet-node", "Ready"]
    _, err = run("get", "pods", "nope", "--node", node, code=1)
    assert err == 'Error from server (NotFound): pods "nope" not found\n'
    _, err = run("get", "widgets", "--node", node, code=1)
    assert err == 'error: the server doesn\'t have a resource type "widgets"\n'
    _, err = run("get", "pods", "-o", "xml", "--node", node, code=1)
    assert "allowed formats are: json,yaml,wide,name" in err


def test_describe_node(node: str) -> None:
    run("apply", "-f", SEED_POD, "--node", node)
    out, _ = run("describe", "node", "--node", node)
    for pat in (
        r"^Feature Gates:\s+.*=",
        r"^\s+PodLevelResourceManagers=true$",
        r"^CPU Manager:\n\s+Policy:\s+static$",
        r"^\s+Reserved CPUs:\s+0 \(reservedSystemCPUs\)$",
        r"^Memory Manager:\n\s+Policy:\s+Static$",
        r"^\s+Reserved Memory:\s+NUMA 0: memory=1124Mi$",
        r"^Topology Manager:\n\s+Policy:\s+single-numa-node\n\s+Scope:\s+pod$",
        r"^Capacity:\n\s+cpu:\s+64\n\s+memory:\s+128Gi$",
        r"^Allocatable:\n\s+cpu:\s+63$",
        r"^\s+0\s+0-15,32-47 \(32\)\s+0\s+\S+ \(8\)\s+\S+ \(24\)$",
        r"^\s+0\s+memory\s+64Gi\s+1124Mi\s+64412Mi\s+16Gi\s+48028Mi$",
        r"Shared Pool \(defaultCpuSet\): \S+ \(56 CPUs",
        r"^Non-terminated Pods:\s+\(1 in total\)$",
    ):
        assert re.search(pat, out, re.M), pat
    _, err = run("describe", "node", "other", "--node", node, code=1)
    assert err == 'Error from server (NotFound): nodes "other" not found\n'


def test_describe_node_renderables_are_appendable(node: str) -> None:
    from rich.console import Console
    from rich.text import Text

    from topolet.render.node import describe_node_renderables

    nd = load_node_dir_readonly(node)
    parts = describe_node_renderables(nd)
    parts.append(Text("MAP"))
    c = Console(record=True, width=200)
    for p in parts:
        c.print(p)
    text = c.export_text()
    assert text.startswith("Name:") and text.rstrip().endswith("MAP")


def test_no_node_says_how_to_create_one(tmp_path: Path) -> None:
    _, err = run("get", "pods", code=1)
    assert err.startswith("error: no topolet node at ")
    assert "topolet node init --topology" in err
    _, err = run("apply", "-f", SEED_POD, "--node", str(tmp_path / "x"), code=1)
    assert f"node init {tmp_path / 'x'} --topology" in err


def test_default_node_dir_and_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out, _ = run("node", "init", "--config", SEED_CONFIG)
    assert str(tmp_path / "state" / "topolet" / "node") in out
    run("apply", "-f", SEED_POD)
    out, _ = run("get", "pods", "-o", "name")
    assert out == "pod/tightly-coupled-database\n"
    other = tmp_path / "other"
    run("node", "init", str(other), "--config", SEED_CONFIG)
    monkeypatch.setenv("TOPOLET_NODE", str(other))
    _, err = run("get", "pods")
    assert err == "No resources found in default namespace.\n"
    _, err = run("node", "init", str(other), code=1)
    assert "a topolet node already exists" in err and "--force" in err
    run("node", "init", str(other), "--force")


def test_bad_inputs_are_clear_errors(node: str, tmp_path: Path) -> None:
    _, err = run("apply", "-f", str(tmp_path / "missing.yaml"), "--node", node, code=1)
    assert err.startswith("error: ") and "missing.yaml" in err
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: Pod\napiVersion: v1\nmetadata: {name: x}\nspec:\n  containers: 3\n")
    _, err = run("apply", "-f", str(bad), "--node", node, code=1)
    assert err.startswith("error: ") and "bad.yaml" in err and "Traceback" not in err
    _, err = run("node", "init", str(tmp_path / "n2"), "--topology", "preset:nope", code=1)
    assert err.startswith("error: --topology preset:nope")
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text("cpuManagerPolicy: static\n")
    _, err = run("node", "init", str(tmp_path / "n3"), "--config", str(cfg), code=2)  # the kubelet refuses
    assert "the kubelet refuses to start with this configuration" in err
    assert not (tmp_path / "n3").exists()


def test_namespaces_and_other_kinds(node: str, tmp_path: Path) -> None:
    text = Path(SEED_POD).read_text()
    _, err = run("apply", "-f", SEED_POD, "-n", "team", "--node", node, code=1)
    assert err == f'Error from server (NotFound): error when creating "{SEED_POD}": namespaces "team" not found\n'
    f = tmp_path / "all.yaml"
    f.write_text(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: team}\n---\n"
        "apiVersion: v1\nkind: Service\nmetadata: {name: db}\n---\n"
        + text.replace("name: tightly", "namespace: team\n  name: tightly")
    )
    out, err = run("apply", "-f", str(f), "--node", node)
    assert out == "namespace/team created\npod/tightly-coupled-database created\n"
    assert "Service/db ignored" in err
    out, _ = run("get", "pods", "-n", "team", "-o", "name", "--node", node)
    assert out == "pod/tightly-coupled-database\n"
    _, err = run("apply", "-f", str(f), "-n", "other", "--node", node, code=1)
    assert "does not match the namespace" in err
    out, _ = run("delete", "namespace", "team", "--node", node)
    assert out == 'namespace "team" deleted\n'
    _, err = run("get", "pods", "-A", "--node", node)
    assert err == "No resources found\n"
