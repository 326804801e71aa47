"""Capture bundles, ``node init --from-capture``, ``verify`` on captured trees, the gRPC clients, bad input."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from paths import CHECKPOINTS, EXAMPLES, H200
from topolet.cli.main import app
from topolet.realnode.capture import capture_node, read_bundle
from topolet.realnode.clients import cri_list, podresources_list

try:  # the gRPC servers need the realnode extra (grpcio, protobuf)
    from realnode_fakes import FakePod, serve
except ImportError:  # pragma: no cover - depends on the installation
    FakePod = serve = None  # type: ignore[assignment,misc]
needs_grpc = pytest.mark.skipif(serve is None, reason="grpcio/protobuf not installed (pip install 'topolet[realnode]')")

CONFIG_NONE_MEM = """apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
featureGates:
  PodLevelResources: true
  PodLevelResourceManagers: true
cpuManagerPolicy: static
reservedSystemCPUs: "0"
memoryManagerPolicy: None
topologyManagerPolicy: single-numa-node
topologyManagerScope: pod
"""


def run(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(app, list(args))
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    return res.exit_code, res.stdout, res.stderr


@pytest.fixture
def h200_root(tmp_path: Path) -> Path:
    with tarfile.open(H200) as tf:
        tf.extractall(tmp_path, filter="data")
    root = tmp_path / "sysfs-h200"
    shutil.copy(root / "proc-meminfo.txt", root / "proc-meminfo")
    (root / "var/lib/kubelet").mkdir(parents=True)
    return root


# --------------------------------------------------------------------------- gRPC clients


@needs_grpc
def test_podresources_and_cri_clients_against_local_servers(tmp_path: Path) -> None:
    pods = [FakePod("uid-1", "db", "prod", "sb1", {"main": "c" * 64, "side": "d" * 64}, {"main": [2, 3]})]
    pr_sock, cri_sock = tmp_path / "kubelet.sock", tmp_path / "containerd.sock"
    s1 = serve(str(pr_sock), pods=pods, kind="podresources", allocatable=[1, 2, 3])
    s2 = serve(str(cri_sock), pods=pods, kind="cri")
    try:
        pr = podresources_list(str(pr_sock))
        assert pr["pods"] == [
            {
                "name": "db",
                "namespace": "prod",
                "containers": [
                    {"name": "main", "cpuIds": [2, 3], "memory": [], "devices": []},
                    {"name": "side", "cpuIds": [], "memory": [], "devices": []},
                ],
            }
        ]
        assert pr["allocatable"]["cpuIds"] == [1, 2, 3]
        assert pr["allocatable"]["memory"] == [{"memoryType": "memory", "size": 1 << 30, "numa": [0]}]
        cri = cri_list(str(cri_sock))
        assert cri["sandboxes"] == [
            {"id": "sb1", "name": "db", "uid": "uid-1", "namespace": "prod", "state": "SANDBOX_READY"}
        ]
        assert {c["name"]: c["id"] for c in cri["containers"]} == {"main": "c" * 64, "side": "d" * 64}
    finally:
        s1.stop(None)
        s2.stop(None)


@needs_grpc
def test_client_on_a_dead_socket_names_it(tmp_path: Path) -> None:
    from topolet.realnode.clients import ClientError

    with pytest.raises(ClientError, match=str(tmp_path / "none.sock")):
        podresources_list(str(tmp_path / "none.sock"), timeout=0.5)


# --------------------------------------------------------------------------- capture -> init -> inspect


def test_real_checkpoints_captured_byte_for_byte(h200_root: Path, tmp_path: Path) -> None:
    kubelet = h200_root / "var/lib/kubelet"
    shutil.copy(CHECKPOINTS / "cpu_manager_state.v3", kubelet / "cpu_manager_state")
    shutil.copy(CHECKPOINTS / "memory_manager_state.v2", kubelet / "memory_manager_state")
    shutil.copy(EXAMPLES / "kubelet-config.yaml", kubelet / "config.yaml")
    out = tmp_path / "cap.tgz"
    code, stdout, _ = run("node", "capture", "--root", str(h200_root), "-o", str(out), "--no-apis")
    assert code == 0, stdout
    assert "found    cpuManagerState" in stdout and "missing  cgroups" in stdout
    cap = read_bundle(out)
    assert cap.file("kubelet/cpu_manager_state") == (CHECKPOINTS / "cpu_manager_state.v3").read_bytes()
    assert cap.file("kubelet/memory_manager_state") == (CHECKPOINTS / "memory_manager_state.v2").read_bytes()
    assert cap.manifest["missing"]["cgroups"].startswith("no kubepods cgroup")
    # the same files inspected from the bundle: versions and checksums as the kubelet wrote them
    for member, version, checksum in (("cpu_manager_state", 3, 2076871501), ("memory_manager_state", 2, 1872994301)):
        p = tmp_path / member
        p.write_bytes(cap.file(f"kubelet/{member}") or b"")
        code, stdout, _ = run("state", "inspect", str(p), "-o", "json")
        doc = json.loads(stdout)
        assert (doc["version"], doc["checksum"]["value"]) == (version, checksum)
    # these checkpoints come from a 12-CPU, 2-NUMA machine: a kubelet on the H200 refuses them
    code, _, err = run("node", "init", str(tmp_path / "node"), "--from-capture", str(out))
    assert code == 1
    assert "refuses to start on the captured checkpoints" in err and str(out) in err
    assert not (tmp_path / "node").exists()


def test_capture_init_inspect_round_trip_on_h200(h200_root: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "kubelet.yaml"
    cfg.write_text(CONFIG_NONE_MEM)
    src = tmp_path / "src-node"
    assert run("node", "init", str(src), "--topology", f"sysfs:{h200_root}", "--config", str(cfg))[0] == 0
    pod = tmp_path / "pod.yaml"
    pod.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: db, namespace: default}\nspec:\n"
        "  resources: {requests: {cpu: '6', memory: 2Gi}, limits: {cpu: '6', memory: 2Gi}}\n"
        "  containers:\n"
        "  - {name: main, image: x, resources: {requests: {cpu: '4', memory: 1Gi}, limits: {cpu: '4', memory: 1Gi}}}\n"
        "  - {name: side, image: x, resources: {requests: {cpu: 100m, memory: 64Mi}}}\n"
    )
    assert run("apply", "-f", str(pod), "--node", str(src))[0] == 0
    kubelet = h200_root / "var/lib/kubelet"
    for f in ("cpu_manager_state", "memory_manager_state"):
        shutil.copy(src / f, kubelet / f)
    shutil.copy(cfg, kubelet / "config.yaml")
    out = tmp_path / "cap.tgz"
    assert run("node", "capture", "--root", str(h200_root), "-o", str(out), "--no-apis")[0] == 0
    node = tmp_path / "copy"
    code, stdout, err = run("node", "init", str(node), "--from-capture", str(out))
    assert code == 0, err
    assert "pods:       1" in stdout
    # the checkpoints byte for byte, and the node's kubelet restarted on them
    for f in ("cpu_manager_state", "memory_manager_state"):
        assert (node / f).read_bytes() == (src / f).read_bytes()
    code, stdout, _ = run("state", "inspect", "--node", str(node), "-o", "json")
    assert code == 0
    docs = json.loads(stdout)
    cpu = next(d for d in (docs if isinstance(docs, list) else docs["items"]) if d["kind"] == "cpu_manager_state")
    assert cpu["version"] == 3 and cpu["consistency"]["ok"]
    # the copy answers like the original: the same free CPUs for a new pod
    code, stdout, _ = run("get", "pods", "--node", str(node), "-o", "json")
    assert code == 0


def test_init_from_capture_writes_137_formats_when_captured(h200_root: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "kubelet.yaml"
    cfg.write_text(CONFIG_NONE_MEM)
    src = tmp_path / "src-node"
    code, _, err = run(
        "node", "init", str(src), "--topology", f"sysfs:{h200_root}", "--config", str(cfg), "--kubelet-version", "1.37"
    )
    assert code == 0, err
    doc = json.loads((src / "cpu_manager_state").read_bytes())
    assert doc["checksum"] == 0 and "data" in doc and "dataChecksum" in doc
    mem = json.loads((src / "memory_manager_state").read_bytes())
    assert "data" in mem and mem["checksum"] != 0
    code, stdout, _ = run("state", "inspect", str(src / "cpu_manager_state"))
    assert "V4 (kubelet 1.37 format)" in stdout and "1.36 reads:" in stdout
    code, stdout, _ = run("state", "inspect", str(src / "memory_manager_state"))
    assert "V3 (kubelet 1.37 format)" in stdout
    assert run("node", "init", str(tmp_path / "bad"), "--kubelet-version", "1.38")[0] == 1
    # a captured 1.37 node: its copy keeps writing the 1.37 formats, byte for byte
    pod = tmp_path / "pod.yaml"
    pod.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: db}\nspec:\n  containers:\n"
        "  - {name: main, image: x, resources: {requests: {cpu: '2', memory: 1Gi}, limits: {cpu: '2', memory: 1Gi}}}\n"
    )
    assert run("apply", "-f", str(pod), "--node", str(src))[0] == 0
    kubelet = h200_root / "var/lib/kubelet"
    for f in ("cpu_manager_state", "memory_manager_state"):
        shutil.copy(src / f, kubelet / f)
    shutil.copy(cfg, kubelet / "config.yaml")
    out = tmp_path / "cap137.tgz"
    assert run("node", "capture", "--root", str(h200_root), "-o", str(out), "--no-apis")[0] == 0
    copy = tmp_path / "copy137"
    code, stdout, err = run("node", "init", str(copy), "--from-capture", str(out))
    assert code == 0, err
    assert "1.37 checkpoints" in stdout
    assert json.loads((copy / "node.json").read_text())["kubeletVersion"] == "1.37"
    for f in ("cpu_manager_state", "memory_manager_state"):
        assert (copy / f).read_bytes() == (src / f).read_bytes()
    # deleting the pod on the copy: the kubelet rewrites V4 / V3
    code, stdout, _ = run("get", "pods", "--node", str(copy), "-o", "json")
    name = json.loads(stdout)["items"][0]["metadata"]["name"]
    assert run("delete", "pod", name, "--node", str(copy))[0] == 0
    after = json.loads((copy / "cpu_manager_state").read_bytes())
    assert "dataChecksum" in after and after["checksum"] == 0 and "entries" not in after


# --------------------------------------------------------------------------- other cgroup version and driver


def _v2_systemd_tree(root: Path) -> Path:
    """A captured cgroup v2 tree with the systemd driver (as containerd + systemd lay it out)."""
    cg = root / "sys/fs/cgroup"
    cg.mkdir(parents=True)
    (cg / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    kp = cg / "kubepods.slice"
    pod = kp / "kubepods-pod11111111_2222_3333_4444_555555555555.slice"
    burst = kp / "kubepods-burstable.slice" / "kubepods-burstable-pod66666666_7777_8888_9999_000000000000.slice"
    c1 = pod / f"cri-containerd-{'e' * 64}.scope"
    c2 = burst / f"cri-containerd-{'f' * 64}.scope"
    for d, cpus, pid in ((c1, "3-4", 4242), (c2, "0-2,5-15", 4343)):
        d.mkdir(parents=True)
        (d / "cpuset.cpus").write_text(cpus + "\n")
        (d / "cpuset.cpus.effective").write_text(cpus + "\n")
        (d / "cpuset.mems").write_text("\n")
        (d / "cpuset.mems.effective").write_text("0\n")
        (d / "cgroup.procs").write_text(f"{pid}\n")
        status = root / "proc" / str(pid) / "status"
        status.parent.mkdir(parents=True)
        status.write_text(f"Name:\tx\nCpus_allowed_list:\t{cpus}\nMems_allowed_list:\t0\n")
    (pod / f"crio-conmon-{'a' * 64}.scope").mkdir()
    return kp


def test_verify_captured_v2_systemd_tree(h200_root: Path, tmp_path: Path) -> None:
    _v2_systemd_tree(h200_root)
    from topolet.engine.cpumanager.state import CPUManagerState
    from topolet.engine.memorymanager.state import MemoryManagerState
    from topolet.io.checkpoint import dump_cpu_checkpoint, dump_memory_checkpoint
    from topolet.model.cpuset import parse_bits

    uid = "11111111-2222-3333-4444-555555555555"
    kubelet = h200_root / "var/lib/kubelet"
    (kubelet / "config.yaml").write_text(CONFIG_NONE_MEM)
    st = CPUManagerState("static", parse_bits("0-2,5-15"), {uid: {"app": parse_bits("3-4")}}, {})
    (kubelet / "cpu_manager_state").write_bytes(dump_cpu_checkpoint(st, 3))
    (kubelet / "memory_manager_state").write_bytes(dump_memory_checkpoint(MemoryManagerState("None"), 2))
    cap = capture_node(h200_root, use_apis=False)
    assert cap.cgroups is not None and (cap.cgroups.version, cap.cgroups.driver) == (2, "systemd")
    assert {c.pod_uid for c in cap.cgroups.containers} == {uid, "66666666-7777-8888-9999-000000000000"}
    out = tmp_path / "cap.tgz"
    assert run("node", "capture", "--root", str(h200_root), "-o", str(out), "--no-apis")[0] == 0
    code, stdout, err = run("verify", "--capture", str(out), "-o", "json")
    assert code == 0, stdout + err
    report = json.loads(stdout)
    app_view = next(c for c in report["containers"] if c["container"] == "app")
    assert app_view["alignment"]["l3"]["aligned"] is True
    # plant drift in the captured tree: the shared container reaches into the exclusive CPUs
    shared = next(h200_root.rglob(f"cri-containerd-{'f' * 64}.scope"))
    (shared / "cpuset.cpus.effective").write_text("0-15\n")
    code, stdout, _ = run("verify", "--root", str(h200_root), "--no-apis", "-o", "json")
    assert code == 3
    kinds = sorted(d["kind"] for d in json.loads(stdout)["differences"])
    # the cgroup now allows more than its process's affinity says, too (only the cgroup file was changed)
    assert kinds == ["exclusive-cpus-shared", "process-affinity-differs", "shared-cpuset-differs"]
    code, stdout, _ = run("verify", "--root", str(h200_root), "--no-apis")
    assert code == 3 and "[exclusive-cpus-shared] CPUs 3-4 of pod" in stdout


# --------------------------------------------------------------------------- bad input


def _capture(root: Path, tmp_path: Path) -> Path:
    out = tmp_path / "cap.tgz"
    assert run("node", "capture", "--root", str(root), "-o", str(out), "--no-apis")[0] == 0
    return out


def test_truncated_bundle(h200_root: Path, tmp_path: Path) -> None:
    out = _capture(h200_root, tmp_path)
    data = out.read_bytes()
    out.write_bytes(data[: len(data) // 2])
    for args in (("verify", "--capture", str(out)), ("node", "init", str(tmp_path / "n"), "--from-capture", str(out))):
        code, _, err = run(*args)
        assert code == 1 and "truncated" in err and str(out) in err
    (tmp_path / "junk.tgz").write_bytes(b"not a bundle")
    code, _, err = run("verify", "--capture", str(tmp_path / "junk.tgz"))
    assert code == 1 and "junk.tgz" in err


def test_missing_state_files(h200_root: Path, tmp_path: Path) -> None:
    code, _, err = run("verify", "--capture", str(_capture(h200_root, tmp_path)))
    assert code == 1 and "no cpu_manager_state in the capture" in err and "var/lib/kubelet/cpu_manager_state" in err


def test_no_numa_information(h200_root: Path, tmp_path: Path) -> None:
    shutil.rmtree(h200_root / "sys/devices/system/node")
    shutil.copy(CHECKPOINTS / "cpu_manager_state.v3", h200_root / "var/lib/kubelet/cpu_manager_state")
    out = _capture(h200_root, tmp_path)
    assert "numa" in read_bundle(out).manifest["missing"]
    code, _, err = run("verify", "--capture", str(out))
    assert code == 1 and "no NUMA information" in err and "sys/devices/system/node" in err


def test_unknown_cgroup_layout(h200_root: Path, tmp_path: Path) -> None:
    kp = _v2_systemd_tree(h200_root)
    (kp / "something-else").mkdir()
    shutil.copy(CHECKPOINTS / "cpu_manager_state.v3", h200_root / "var/lib/kubelet/cpu_manager_state")
    out = _capture(h200_root, tmp_path)
    code, _, err = run("verify", "--capture", str(out))
    assert code == 1 and "unknown cgroup layout" in err and "something-else" in err


def test_future_version_state_file(h200_root: Path, tmp_path: Path) -> None:
    (h200_root / "var/lib/kubelet/cpu_manager_state").write_text(
        '{"data":"{}","dataChecksum":1,"checksum":0,"version":5,"allocationsV5":{}}'
    )
    _v2_systemd_tree(h200_root)
    out = _capture(h200_root, tmp_path)
    code, _, err = run("verify", "--capture", str(out))
    assert code == 1
    assert "cpu_manager_state" in err and "newer than 1.37" in err and "allocationsV5" in err


def _rewrite(bundle: Path, out: Path, member: str, data: bytes | None) -> None:
    with tarfile.open(bundle) as src, tarfile.open(out, "w:gz") as dst:
        for info in src:
            content = src.extractfile(info).read() if info.isfile() else b""  # type: ignore[union-attr]
            if info.name == f"node-capture/{member}":
                if data is None:
                    continue
                content = data
            info.size = len(content)
            dst.addfile(info, io.BytesIO(content))


@pytest.mark.parametrize(
    ("member", "data"),
    [
        ("manifest.json", b"[" * 5000 + b"]" * 5000),
        ("manifest.json", b'{"format": "topolet.dev/node-capture/v1", "files": 5}'),
        ("manifest.json", b'{"format": "other"}'),
        ("cgroups.json", b'{"root": "/x", "version": 3, "driver": "systemd", "containers": []}'),
        ("cgroups.json", b'{"root": "/x", "version": 2, "driver": "systemd", "containers": [{"path": 5}]}'),
        ("cgroups.json", b'{"root": "/x", "version": 2, "driver": "systemd", "containers": "x"}'),
        (
            "cgroups.json",
            b'{"root": "/x", "version": 2, "driver": "systemd", "containers": [{"path": "p", "podUID": "u", '
            b'"containerID": "c", "cpusetCpus": "0-99999999999"}]}',
        ),
        ("podresources.json", b'{"pods": 5}'),
        (
            "podresources.json",
            b'{"pods": [{"name": "a", "namespace": "b", "containers": [{"name": "c", "cpuIds": ["x"]}]}]}',
        ),
        ("cri.json", b'{"sandboxes": [{"id": 1}]}'),
        ("kubelet/cpu_manager_state", b"[" * 20000),
        ("kubelet/config.yaml", b"maxPods: [1]\n"),
        ("kubelet/config.yaml", None),
    ],
)
def test_damaged_bundles_are_refused_by_name(h200_root: Path, tmp_path: Path, member: str, data: bytes | None) -> None:
    _v2_systemd_tree(h200_root)
    kubelet = h200_root / "var/lib/kubelet"
    (kubelet / "config.yaml").write_text(CONFIG_NONE_MEM)
    from topolet.engine.cpumanager.state import CPUManagerState
    from topolet.io.checkpoint import dump_cpu_checkpoint
    from topolet.model.cpuset import parse_bits

    uid = "11111111-2222-3333-4444-555555555555"
    st = CPUManagerState("static", parse_bits("0-2,5-15"), {uid: {"app": parse_bits("3-4")}}, {})
    (kubelet / "cpu_manager_state").write_bytes(dump_cpu_checkpoint(st, 3))
    good = _capture(h200_root, tmp_path)
    (tmp_path / "pr").mkdir()
    cap = read_bundle(good)
    assert cap.cgroups is not None
    bad = tmp_path / "bad.tgz"
    if member in ("podresources.json", "cri.json"):  # add the member: the capture had no sockets
        with tarfile.open(good) as src, tarfile.open(bad, "w:gz") as dst:
            for info in src:
                dst.addfile(info, src.extractfile(info) if info.isfile() else None)
            info = tarfile.TarInfo(f"node-capture/{member}")
            info.size = len(data or b"")
            dst.addfile(info, io.BytesIO(data or b""))
    else:
        _rewrite(good, bad, member, data)
    commands = [("verify", "--capture", str(bad))]
    if b"99999999999" not in (data or b""):  # init does not read the cgroups' cpusets: only verify refuses that
        commands.append(("node", "init", str(tmp_path / "n"), "--from-capture", str(bad)))
    for args in commands:
        code, stdout, err = run(*args)
        assert code == 1, (args, stdout, err)
        assert str(bad) in err or "bad.tgz" in err, err
        assert not (tmp_path / "n").exists()
