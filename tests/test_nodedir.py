"""The node directory: layout, restart semantics, kubelet refusals, safety of the state files."""

from __future__ import annotations

import json
import os
import tarfile
from pathlib import Path

import pytest

from paths import H200 as H200_FILE
from topolet.engine.node import Node
from topolet.io.cadvisor import machine_info_from_topology
from topolet.io.checkpoint import dump_cpu_checkpoint, load_cpu_checkpoint
from topolet.io.inputs import load_objects, load_topology_arg
from topolet.io.kubelet_restart import checkpoint_bytes
from topolet.io.statefile import DirLock, atomic_write, commit_files
from topolet.io.sysfs import read_sysfs_topology
from topolet.model.cpuset import parse_bits
from topolet.model.topology import topology_to_spec
from topolet.nodedir import (
    NodeDirError,
    NodeStartError,
    NoNodeError,
    api,
    default_node_dir,
    init_node,
    load_node_dir_readonly,
    load_node_readonly,
    open_node,
    resolve_node_dir,
)
from topolet.nodedir.store import CPU_STATE_FILE, MEMORY_STATE_FILE

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "src" / "topolet" / "data"
SEED_CONFIG = str(DATA / "kubelet-config.yaml")
SEED_POD = str(DATA / "tightly-coupled-database.yaml")
H200 = H200_FILE


def _apply(d: Path, *files: str) -> list[api.Outcome]:
    with open_node(d, write=True) as nd:
        planned = api.plan_objects(load_objects(list(files)), None, nd.kubelet().gates)
        out = api.apply(nd, planned)
        nd.save()
    return out


def _pod(tmp: Path, name: str, cpu: str = "2", mem: str = "1Gi", pod_level: bool = False) -> str:
    res = {"requests": {"cpu": cpu, "memory": mem}, "limits": {"cpu": cpu, "memory": mem}}
    spec: dict = {"containers": [{"name": "main", "image": "x", "resources": res}]}
    if pod_level:
        spec["resources"] = res
    p = tmp / f"{name}.json"
    p.write_text(json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}))
    return str(p)


@pytest.fixture
def node(tmp_path: Path) -> Path:
    d = tmp_path / "node"
    init_node(d, "preset:2-numa", SEED_CONFIG)
    return d


def test_layout_and_fresh_checkpoints(node: Path) -> None:
    names = sorted(p.name for p in node.iterdir())
    assert names == sorted(
        [
            ".lock",
            "cpu_manager_state",
            "kubelet-config.yaml",
            "memory_manager_state",
            "node.json",
            "objects.json",
            "pods.json",
            "topology.yaml",
        ]
    )
    assert (node / "kubelet-config.yaml").read_bytes() == Path(SEED_CONFIG).read_bytes()
    topo = load_topology_arg("preset:2-numa")
    nd = load_node_dir_readonly(node)
    assert topology_to_spec(nd.topology) == topology_to_spec(topo)
    fresh = Node(topo, nd.config)
    cpu, mem = checkpoint_bytes(fresh)
    assert (node / CPU_STATE_FILE).read_bytes() == cpu
    assert (node / MEMORY_STATE_FILE).read_bytes() == mem
    assert json.loads(cpu)["policyName"] == "static" and "podEntries" not in json.loads(cpu)


def test_checkpoint_versions_follow_the_gate(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(
        Path(SEED_CONFIG)
        .read_text()
        .replace("PodLevelResourceManagers: true", "PodLevelResourceManagers: false")
        .replace("topologyManagerScope: pod", "topologyManagerScope: container")
    )
    d = tmp_path / "n"
    init_node(d, "preset:2-numa", str(cfg))
    _apply(d, _pod(tmp_path, "p", pod_level=True))
    assert load_cpu_checkpoint((d / CPU_STATE_FILE).read_bytes(), pod_level_resource_managers=False).version == 2
    assert "podEntries" not in json.loads((d / MEMORY_STATE_FILE).read_bytes())
    d2 = tmp_path / "n2"
    init_node(d2, "preset:2-numa", SEED_CONFIG)
    _apply(d2, _pod(tmp_path, "p", pod_level=True))
    assert load_cpu_checkpoint((d2 / CPU_STATE_FILE).read_bytes()).version == 3
    assert "podEntries" in json.loads((d2 / MEMORY_STATE_FILE).read_bytes())


def test_load_node_readonly_and_resolution(node: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _apply(node, SEED_POD)
    n = load_node_readonly(str(node))
    assert isinstance(n, Node)
    rec = n.get("tightly-coupled-database")
    assert rec is not None and rec.result.admitted and rec.result.pod_cpus.bit_count() == 8
    monkeypatch.setenv("TOPOLET_NODE", str(node))
    assert resolve_node_dir(None) == node
    assert load_node_readonly(None).pods.keys() == n.pods.keys()
    assert resolve_node_dir(str(tmp_path / "x")) == tmp_path / "x"
    monkeypatch.delenv("TOPOLET_NODE")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert resolve_node_dir(None) == default_node_dir() == tmp_path / "xdg" / "topolet" / "node"
    monkeypatch.delenv("XDG_STATE_HOME")
    assert default_node_dir() == Path.home() / ".local" / "state" / "topolet" / "node"
    with pytest.raises(NoNodeError, match="topolet node init"):
        load_node_readonly(str(tmp_path / "nothing"))


def test_restart_keeps_assignments_from_the_checkpoint(node: Path, tmp_path: Path) -> None:
    """Existing entries are authoritative: a restart re-registers the pods with what the checkpoint holds."""
    _apply(node, _pod(tmp_path, "a", cpu="2"))
    cp = load_cpu_checkpoint((node / CPU_STATE_FILE).read_bytes())
    st = cp.state
    (uid,) = st.assignments
    old = st.assignments[uid]["main"]
    # move the container to two other free CPUs of NUMA 1 (a consistent state a kubelet could have written)
    new = parse_bits("20,52")
    assert not new & old
    st.default_cpuset = (st.default_cpuset | old) & ~new
    st.assignments[uid]["main"] = new
    atomic_write(node / CPU_STATE_FILE, dump_cpu_checkpoint(st, 3))
    n = load_node_readonly(str(node))
    rec = n.get("a")
    assert rec is not None and rec.result.container("main").cpus == new  # type: ignore[union-attr]
    assert n.cpu_manager.state.assignments[uid]["main"] == new
    # a later pod is allocated around it, and the rewrite keeps the entry as it was
    _apply(node, _pod(tmp_path, "b", cpu="2"))
    assert load_cpu_checkpoint((node / CPU_STATE_FILE).read_bytes()).state.assignments[uid]["main"] == new


def test_policy_change_refused_until_drained(node: Path, tmp_path: Path) -> None:
    _apply(node, SEED_POD)
    cfg = tmp_path / "none.yaml"
    cfg.write_text(Path(SEED_CONFIG).read_text().replace("cpuManagerPolicy: static", "cpuManagerPolicy: none"))
    before = {f: (node / f).read_bytes() for f in (CPU_STATE_FILE, MEMORY_STATE_FILE, "kubelet-config.yaml")}
    with open_node(node, write=True, require_kubelet=False) as nd, pytest.raises(NodeStartError) as ei:
        api.reconfigure(nd, str(cfg))
    msg = ei.value.message
    assert (
        'start cpu manager error: could not restore state from checkpoint: configured policy "none" differs from '
        f'state checkpoint policy "static", please drain this node and delete the CPU manager checkpoint file '
        f'"{node / CPU_STATE_FILE}" before restarting Kubelet'
    ) in msg
    assert "drain it first" in msg
    assert {f: (node / f).read_bytes() for f in before} == before
    # the configuration edited in place (like /var/lib/kubelet/config.yaml): the kubelet refuses to start
    (node / "kubelet-config.yaml").write_bytes(cfg.read_bytes())
    with pytest.raises(NodeStartError, match='configured policy "none" differs from state checkpoint policy'):
        load_node_readonly(str(node))
    with pytest.raises(NodeStartError):
        _apply(node, _pod(tmp_path, "x"))
    assert (node / CPU_STATE_FILE).read_bytes() == before[CPU_STATE_FILE]
    # reads still work (the API server is up): the pod is listed
    assert "default/tightly-coupled-database" in load_node_dir_readonly(node).pods
    with open_node(node, write=True, require_kubelet=False) as nd:
        evicted = api.drain(nd)
        nd.save()
    assert [sp.key for sp in evicted] == ["default/tightly-coupled-database"]
    n = load_node_readonly(str(node))
    assert n.cpu_manager.policy.name == "none" and not n.pods
    assert json.loads((node / CPU_STATE_FILE).read_bytes())["policyName"] == "none"


def test_reconfigure_on_drained_node_starts_fresh(node: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "none.yaml"
    cfg.write_text(Path(SEED_CONFIG).read_text().replace("cpuManagerPolicy: static", "cpuManagerPolicy: none"))
    with open_node(node, write=True) as nd:
        res = api.reconfigure(nd, str(cfg))
        nd.save()
    assert res.notes and "the node is drained" in res.notes[0]
    assert (node / "kubelet-config.yaml").read_bytes() == cfg.read_bytes()
    assert json.loads((node / CPU_STATE_FILE).read_bytes())["policyName"] == "none"
    # same policy, pods running: a restart from the checkpoints, as kubelet 1.36.2 does it: the
    # pod is re-admitted and its pod-level memory applied again (kubernetes#140906)
    _apply(node, SEED_POD)
    with open_node(node, write=True) as nd:
        notes = api.reconfigure(nd, str(cfg)).notes
        nd.save()
    assert len(notes) == 1 and "counted twice" in notes[0] and "kubernetes#140906" in notes[0]
    assert "default/tightly-coupled-database" in load_node_readonly(str(node)).pods
    # the same kubelet going on: loads keep working; the next restart refuses to start
    with open_node(node, write=True) as nd, pytest.raises(NodeStartError, match="expected machine state"):
        api.restart(nd)


def test_corrupt_checkpoint_refused_and_never_overwritten(node: Path, tmp_path: Path) -> None:
    _apply(node, SEED_POD)
    cp = json.loads((node / CPU_STATE_FILE).read_bytes())
    cp["checksum"] += 1
    bad = json.dumps(cp, separators=(",", ":")).encode()
    (node / CPU_STATE_FILE).write_bytes(bad)
    with pytest.raises(NodeStartError) as ei:
        _apply(node, _pod(tmp_path, "x"))
    # the kubelet falls back V3 -> V2 -> V1 and reports the last error, with its remedy
    msg = ei.value.message
    prefix = f"{node / CPU_STATE_FILE}: start cpu manager error: could not restore state from checkpoint: "
    assert msg.startswith(prefix)
    assert msg.endswith(
        f'please drain this node and delete the CPU manager checkpoint file "{node / CPU_STATE_FILE}" '
        "before restarting Kubelet"
    )
    assert (node / CPU_STATE_FILE).read_bytes() == bad
    with open_node(node, write=True, require_kubelet=False) as nd:
        api.delete_pod(nd, "tightly-coupled-database", "default")  # the API server still works
        nd.save()
    assert (node / CPU_STATE_FILE).read_bytes() == bad


def test_foreign_checkpoint_refused(node: Path, tmp_path: Path) -> None:
    other = tmp_path / "big"
    init_node(other, "preset:grid,sockets=2,numaPerSocket=1,coresPerNuma=64,threadsPerCore=2", SEED_CONFIG)
    foreign = (other / CPU_STATE_FILE).read_bytes()
    (node / CPU_STATE_FILE).write_bytes(foreign)
    with pytest.raises(NodeStartError, match=r"start cpu manager error: .*doesn't match with CPUs in state"):
        load_node_readonly(str(node))
    assert (node / CPU_STATE_FILE).read_bytes() == foreign


def test_stale_checkpoint_entries_are_removed(node: Path, tmp_path: Path) -> None:
    _apply(node, _pod(tmp_path, "a"))
    st = load_cpu_checkpoint((node / CPU_STATE_FILE).read_bytes()).state
    ghost = parse_bits("30,62")
    st.default_cpuset &= ~ghost
    st.assignments["ghost-uid"] = {"c": ghost}
    atomic_write(node / CPU_STATE_FILE, dump_cpu_checkpoint(st, 3))
    nd = load_node_dir_readonly(node)
    assert any("ghost-uid" in w for w in nd.warnings)
    assert "ghost-uid" not in nd.kubelet().cpu_manager.state.assignments
    _apply(node, _pod(tmp_path, "b"))
    st2 = load_cpu_checkpoint((node / CPU_STATE_FILE).read_bytes()).state
    assert "ghost-uid" not in st2.assignments and ghost & st2.default_cpuset == ghost


def test_commit_journal_recovery(node: Path) -> None:
    # a crash after the commit point: the next lock holder finishes the move
    journal = node / ".journal"
    journal.mkdir()
    (journal / "pods.json").write_bytes(b'{"format": "topolet.dev/node/v1", "items": []}\n')
    (journal / "COMMIT").write_text(json.dumps({"write": ["pods.json"], "delete": []}))
    (node / "pods.json").write_bytes(b"torn")
    assert load_node_dir_readonly(node).pods == {}
    assert not journal.exists()
    assert (node / "pods.json").read_bytes().startswith(b'{"format"')
    # a crash before the commit point: the half-written journal is discarded
    tmp = node / ".journal.tmp"
    tmp.mkdir()
    (tmp / "pods.json").write_bytes(b"half")
    with DirLock(node):
        pass
    assert not tmp.exists() and (node / "pods.json").read_bytes().startswith(b'{"format"')


def test_commit_files_and_atomic_write(tmp_path: Path) -> None:
    (tmp_path / "gone").write_text("x")
    commit_files(tmp_path, {"a": b"1", "b": b"2", "gone": None})
    assert (tmp_path / "a").read_bytes() == b"1" and (tmp_path / "b").read_bytes() == b"2"
    assert not (tmp_path / "gone").exists()
    assert sorted(os.listdir(tmp_path)) == ["a", "b"]
    atomic_write(tmp_path / "a", b"new")
    assert (tmp_path / "a").read_bytes() == b"new" and sorted(os.listdir(tmp_path)) == ["a", "b"]
    with pytest.raises(ValueError):
        commit_files(tmp_path, {"../x": b""})


def test_init_refuses_to_clobber(tmp_path: Path, node: Path) -> None:
    with pytest.raises(NodeDirError, match="already exists"):
        init_node(node, "preset:2-numa", SEED_CONFIG)
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(NodeDirError, match="not a topolet node directory"):
        init_node(other, None, None, force=True)
    assert (other / "notes.txt").read_text() == "mine"
    res = init_node(node, "preset:2-numa", SEED_CONFIG, force=True)
    assert res.replaced


def test_init_from_this_machine_sysfs(tmp_path: Path) -> None:
    if not Path("/sys/devices/system/cpu/online").exists():
        pytest.skip("no Linux sysfs on this machine")
    res = init_node(tmp_path / "n", "sysfs", SEED_CONFIG)
    assert topology_to_spec(res.nd.topology) == topology_to_spec(read_sysfs_topology("/"))
    assert json.loads((tmp_path / "n" / "node.json").read_bytes())["topologySource"] == "sysfs"


@pytest.mark.skipif(not H200.exists(), reason="sysfs-h200.tgz fixture not found")
def test_init_from_captured_sysfs(tmp_path: Path) -> None:
    with tarfile.open(H200) as tf:
        tf.extractall(tmp_path, filter="data")
    root = tmp_path / "sysfs-h200"
    d = tmp_path / "n"
    res = init_node(d, f"sysfs:{root}", SEED_CONFIG)
    assert res.nd.topology.num_cpus == 16 and len(res.nd.topology.numa_ids) == 1
    out = _apply(d, _pod(tmp_path, "small", cpu="4", mem="1Gi", pod_level=True))
    assert out[0].stored is not None and out[0].stored.admitted
    n = load_node_readonly(str(d))
    assert n.get("small").result.pod_cpus.bit_count() == 4  # type: ignore[union-attr]


def test_init_from_topology_files(tmp_path: Path) -> None:
    topo = load_topology_arg("preset:2-numa")
    explicit = tmp_path / "topo.json"
    explicit.write_text(json.dumps(topology_to_spec(topo)))
    res = init_node(tmp_path / "a", str(explicit), SEED_CONFIG)
    assert topology_to_spec(res.nd.topology) == topology_to_spec(topo)
    mi = tmp_path / "machine.json"
    mi.write_text(json.dumps(machine_info_from_topology(topo)))
    res = init_node(tmp_path / "b", str(mi), SEED_CONFIG)
    assert res.nd.topology.num_cpus == 64 and len(res.nd.topology.numa_ids) == 2
