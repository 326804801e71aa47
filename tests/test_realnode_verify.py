"""``verify`` on captured trees (every cgroup version and driver): each kind of difference, named exactly."""

from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from paths import EXAMPLES, H200
from topolet.cli.main import app
from topolet.engine.cpumanager.state import CPUManagerState
from topolet.engine.memorymanager.state import MemoryManagerState
from topolet.io.checkpoint import dump_cpu_checkpoint, dump_memory_checkpoint
from topolet.model.cpuset import format_bits, iter_bits
from topolet.realnode.capture import capture_node, find_kubelet_process, flag_value
from topolet.realnode.cgroups import CgroupLayoutError, read_kubepods

try:  # the gRPC servers need the realnode extra (grpcio, protobuf)
    from realnode_fakes import FakePod, serve
except ImportError:  # pragma: no cover - depends on the installation
    FakePod = serve = None  # type: ignore[assignment,misc]
needs_grpc = pytest.mark.skipif(serve is None, reason="grpcio/protobuf not installed (pip install 'topolet[realnode]')")

UID_A = "aaaaaaaa-0000-4000-8000-00000000000a"
UID_B = "bbbbbbbb-0000-4000-8000-00000000000b"
CID = {"app": "1" * 64, "side": "2" * 64, "web": "3" * 64}

CONFIG = """apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
featureGates:
  PodLevelResources: true
  PodLevelResourceManagers: true
cpuManagerPolicy: static
reservedSystemCPUs: "0"
memoryManagerPolicy: Static
reservedMemory:
- numaNode: 0
  limits: {memory: 1Gi}
systemReserved: {memory: 924Mi}
topologyManagerPolicy: single-numa-node
topologyManagerScope: pod
"""


def run(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(app, list(args))
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    return res.exit_code, res.stdout, res.stderr


@pytest.fixture
def root(tmp_path: Path) -> Path:
    with tarfile.open(H200) as tf:
        tf.extractall(tmp_path, filter="data")
    r = tmp_path / "sysfs-h200"
    (r / "var/lib/kubelet").mkdir(parents=True)
    (r / "var/lib/kubelet/config.yaml").write_text(CONFIG)
    return r


def build_tree(root: Path, version: int, driver: str, containers: dict[tuple[str, str], tuple[str, str]]) -> Path:
    """A kubepods tree: (pod UID, container) -> (cpuset.cpus, cpuset.mems); pod A Guaranteed, pod B Burstable."""
    base = root / "sys/fs/cgroup"
    if version == 2:
        base.mkdir(parents=True, exist_ok=True)
        (base / "cgroup.controllers").write_text("cpuset cpu memory\n")
    else:
        base = base / "cpuset"
    kp = base / ("kubepods.slice" if driver == "systemd" else "kubepods")
    pid = 5000
    for (uid, name), (cpus, mems) in containers.items():
        guaranteed = uid == UID_A
        if driver == "systemd":
            u = uid.replace("-", "_")
            pod = (
                kp / f"kubepods-pod{u}.slice"
                if guaranteed
                else kp / "kubepods-burstable.slice" / f"kubepods-burstable-pod{u}.slice"
            )
            c = pod / f"crio-{CID[name]}.scope"
        else:
            pod = kp / f"pod{uid}" if guaranteed else kp / "burstable" / f"pod{uid}"
            c = pod / CID[name]
        c.mkdir(parents=True)
        eff = (
            ("cpuset.effective_cpus", "cpuset.effective_mems")
            if version == 1
            else ("cpuset.cpus.effective", "cpuset.mems.effective")
        )
        (c / "cpuset.cpus").write_text(cpus + "\n")
        (c / "cpuset.mems").write_text(mems + "\n")
        (c / eff[0]).write_text(cpus + "\n")
        (c / eff[1]).write_text(mems + "\n")
        (c / ("tasks" if version == 1 else "cgroup.procs")).write_text(f"{pid}\n")
        st = root / "proc" / str(pid) / "status"
        st.parent.mkdir(parents=True)
        st.write_text(f"Name:\tx\nCpus_allowed_list:\t{cpus}\nMems_allowed_list:\t{mems}\n")
        pid += 1
    return kp


def admitted_states(root: Path, pod_level: bool = False) -> tuple[CPUManagerState, MemoryManagerState]:
    """The checkpoints of a kubelet (topolet's engine) on this machine that admitted pod A (app: 2 CPUs
    exclusive, side: 500m on the shared pool), so that they are consistent as a real kubelet's are."""
    from dataclasses import replace

    from topolet.engine.node import Node
    from topolet.io.inputs import parse_mapping
    from topolet.io.sysfs import read_sysfs_topology
    from topolet.model.kubelet_config import load_kubelet_config
    from topolet.model.manifest import admit_to_api, pods_from_object

    topology = read_sysfs_topology(root)
    config = load_kubelet_config(parse_mapping(CONFIG, "config"), "config")
    node = Node(topology, config)

    def c(name: str, cpu: str, mem: str) -> dict:
        r = {"cpu": cpu, "memory": mem}
        return {"name": name, "image": "x", "resources": {"requests": r, "limits": r}}

    spec: dict = {"containers": [c("app", "2", "1Gi"), c("side", "500m", "512Mi")]}
    if pod_level:
        spec["resources"] = {"requests": {"cpu": "4", "memory": "2Gi"}, "limits": {"cpu": "4", "memory": "2Gi"}}
    obj = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "db", "namespace": "default"}, "spec": spec}
    pod, err = admit_to_api(pods_from_object(obj, "test", config.feature_gates)[0], config.feature_gates)
    assert pod is not None, err
    res = node.admit(replace(pod, uid=UID_A))
    assert res.admitted, res.message
    return node.cpu_manager.state.clone(), node.memory_manager.state.clone()


def write_states(root: Path, cs: CPUManagerState, ms: MemoryManagerState) -> None:
    kubelet = root / "var/lib/kubelet"
    (kubelet / "cpu_manager_state").write_bytes(dump_cpu_checkpoint(cs, 3))
    (kubelet / "memory_manager_state").write_bytes(dump_memory_checkpoint(ms, 2))


def consistent(
    root: Path, version: int = 1, driver: str = "cgroupfs", **kw: bool
) -> tuple[CPUManagerState, MemoryManagerState, Path]:
    cs, ms = admitted_states(root, **kw)
    app_cpus = format_bits(cs.assignments[UID_A]["app"])
    shared = (
        format_bits(cs.pod_assignments[UID_A] & ~cs.assignments[UID_A]["app"])
        if UID_A in cs.pod_assignments
        else format_bits(cs.default_cpuset)
    )
    kp = build_tree(root, version, driver, {(UID_A, "app"): (app_cpus, "0"), (UID_A, "side"): (shared, "0")})
    write_states(root, cs, ms)
    return cs, ms, kp


def kinds(root: Path, *extra: str) -> tuple[int, list[tuple[str, str]], dict]:
    code, out, err = run("verify", "--root", str(root), "--no-apis", "-o", "json", *extra)
    assert code in (0, 3), out + err
    rep = json.loads(out)
    return code, sorted((d["kind"], d.get("container", "")) for d in rep["differences"]), rep


@pytest.mark.parametrize(("version", "driver"), [(1, "cgroupfs"), (1, "systemd"), (2, "cgroupfs"), (2, "systemd")])
def test_every_layout_reads_and_verifies_clean(root: Path, version: int, driver: str) -> None:
    _, _, kp = consistent(root, version, driver)
    tree = read_kubepods(kp, root)
    assert (tree.version, tree.driver) == (version, driver)
    assert {(c.pod_uid, c.container_id, c.qos) for c in tree.containers} == {
        (UID_A, CID["app"], "Guaranteed"),
        (UID_A, CID["side"], "Guaranteed"),
    }
    code, ks, rep = kinds(root)
    assert (code, ks) == (0, []), rep
    assert rep["topolet"]["restart"] == "accepted"
    side = next(c for c in rep["containers"] if c["container"] == "<222222222222>")
    assert side["checkpoint"]["cpus"] == "shared pool"
    app_view = next(c for c in rep["containers"] if c["container"] == "app")
    # topolet's own decision (the pod created again on the node as it is now) is the checkpoint's
    assert app_view["topolet"]["cpus"] == app_view["checkpoint"]["cpus"]
    assert app_view["alignment"]["numa"] == {"aligned": True, "cpuNUMANodes": [0], "memoryNUMANodes": [0]}


def test_mems_differ_from_the_memory_checkpoint(root: Path) -> None:
    _, _, kp = consistent(root, 2, "systemd")
    app = next(kp.rglob(f"crio-{CID['app']}.scope"))
    (app / "cpuset.mems.effective").write_text("1\n")
    code, ks, rep = kinds(root)
    assert code == 3
    assert ks == [("mems-differs", "app"), ("process-affinity-differs", "app")]
    assert (
        "cpuset.mems is 1, the memory manager's checkpoint pins its memory to NUMA node(s) 0"
        in rep["differences"][0]["message"]
    )


def test_bubble_missing_and_containers_outside_it(root: Path) -> None:
    cs, ms, _ = consistent(root, pod_level=True)
    assert UID_A in cs.pod_assignments and UID_A in ms.pod_assignments
    assert kinds(root)[:2] == (0, [])
    # the CPU manager lost the bubble, the memory manager kept it (a 1.36 kubelet read a 1.37 file)
    lost = cs.clone()
    bubble = lost.pod_assignments.pop(UID_A)
    lost.default_cpuset |= bubble & ~lost.assignments[UID_A]["app"]
    write_states(root, lost, ms)
    code, ks, _ = kinds(root)
    assert code == 3 and ("pod-bubble-missing", "") in ks
    # the bubble is there but the container was re-allocated outside it (the 1.36 restart bug)
    moved = cs.clone()
    outside = next(c for c in iter_bits(moved.default_cpuset) if c != 0)
    moved.assignments[UID_A]["app"] = 1 << outside
    write_states(root, moved, ms)
    code, ks, rep = kinds(root)
    assert code == 3 and ("outside-bubble", "app") in ks
    assert any("outside the pod's bubble" in d["message"] for d in rep["differences"])


def test_stale_entry_and_exclusive_cpus_in_the_shared_pool(root: Path) -> None:
    cs, ms, _ = consistent(root)
    cs.assignments[UID_B] = {"web": 1 << 15}  # leaked: no such container, and CPU 15 still in the shared pool
    write_states(root, cs, ms)
    code, ks, _ = kinds(root)
    assert code == 3
    assert ("stale-entry", "web") in ks and ("exclusive-in-shared-pool", "") in ks
    assert ("exclusive-cpus-shared", "web") in ks  # CPU 15 is also in the shared container's cpuset


@needs_grpc
def test_names_from_the_runtime_and_podresources(root: Path, tmp_path: Path) -> None:
    cs, _, _ = consistent(root, 2, "cgroupfs")
    app_cpus = sorted(iter_bits(cs.assignments[UID_A]["app"]))
    wrong = [*app_cpus[:-1], app_cpus[-1] + 1]
    pods = [FakePod(UID_A, "db", "prod", "sbA", {"app": CID["app"], "side": CID["side"]}, {"app": wrong})]
    cri_sock, pr_sock = tmp_path / "crio.sock", tmp_path / "kubelet.sock"
    s1, s2 = serve(str(cri_sock), pods=pods, kind="cri"), serve(str(pr_sock), pods=pods, kind="podresources")
    try:
        out = tmp_path / "cap.tgz"
        code, stdout, err = run(
            "node", "capture", "--root", str(root), "-o", str(out), "--cri-socket", str(cri_sock),
            "--podresources-socket", str(pr_sock),
        )  # fmt: skip
        assert code == 0, err
        assert "found    cri" in stdout and "found    podResources" in stdout
        code, stdout, _ = run("verify", "--capture", str(out), "-o", "json")
        rep = json.loads(stdout)
        assert code == 3
        assert [(d["kind"], d["pod"], d["container"]) for d in rep["differences"]] == [
            ("podresources-differs", "prod/db", "app")
        ]
        assert {c["container"] for c in rep["containers"]} == {"app", "side"}
        # init from the capture: the pod keeps its real name, and explain works on the copy
        node = tmp_path / "node"
        code, _, err = run("node", "init", str(node), "--from-capture", str(out))
        assert code == 0, err
        code, stdout, _ = run("get", "pods", "-n", "prod", "--node", str(node))
        assert code == 0 and "db" in stdout
        code, stdout, err = run("explain", "-f", str(EXAMPLES / "tightly-coupled-database.yaml"), "--node", str(node))
        assert code in (0, 3) and "Traceback" not in stdout + err
    finally:
        s1.stop(None)
        s2.stop(None)


def test_kubelet_found_from_proc_cmdline(root: Path, tmp_path: Path) -> None:
    proc = root / "proc" / "777"
    proc.mkdir(parents=True)
    (proc / "cmdline").write_bytes(
        b"/usr/bin/kubelet\0--config=/etc/kubernetes/kubelet.yaml\0--root-dir\0/data/kubelet\0--v=2\0"
    )
    (root / "etc/kubernetes").mkdir(parents=True)
    (root / "etc/kubernetes/kubelet.yaml").write_text(CONFIG)
    (root / "data/kubelet").mkdir(parents=True)
    (root / "data/kubelet/cpu_manager_state").write_bytes(b"{}")
    found = find_kubelet_process(root)
    assert found is not None and found[0] == 777
    assert flag_value(found[1], "root-dir") == "/data/kubelet"
    cap = capture_node(root, use_apis=False)
    assert cap.found["kubeletConfig"].endswith("(the running kubelet's --config)")
    assert cap.file("kubelet/cpu_manager_state") == b"{}"
    assert cap.missing["memoryManagerState"].endswith("data/kubelet/memory_manager_state: not found")


def test_unknown_layouts_are_named(root: Path) -> None:
    kp = build_tree(root, 1, "cgroupfs", {(UID_A, "app"): ("2-3", "0")})
    (kp / f"pod{UID_A}" / "not-a-container").mkdir()
    with pytest.raises(CgroupLayoutError, match="not-a-container"):
        read_kubepods(kp, root)
    shutil.rmtree(kp / f"pod{UID_A}" / "not-a-container")
    (kp / "kubepods-pod1234abcd_0000.slice").mkdir()
    with pytest.raises(CgroupLayoutError, match="systemd-driver pod cgroup under the cgroupfs"):
        read_kubepods(kp, root)


def test_verify_never_writes(root: Path) -> None:
    consistent(root)

    def snapshot() -> dict[str, tuple[float, bytes]]:
        return {
            str(p): (p.stat().st_mtime, p.read_bytes()) for p in root.rglob("*") if p.is_file() and not p.is_symlink()
        }

    before = snapshot()
    kinds(root)
    assert snapshot() == before
    capture_node(root, use_apis=False)  # capture reads only, too
    assert snapshot() == before


def test_without_cpuset_files_the_processes_affinity_is_the_kernel_view(root: Path) -> None:
    cs, _, kp = consistent(root, 2, "systemd")
    for f in kp.rglob("cpuset.*"):
        f.unlink()
    code, ks, rep = kinds(root)
    assert (code, ks) == (0, [])
    assert any("cpuset controller is not enabled" in n for n in rep["notes"])
    # the pinned container's process runs elsewhere: found through /proc
    app = next(kp.rglob(f"crio-{CID['app']}.scope"))
    pid = (app / "cgroup.procs").read_text().strip()
    other = next(c for c in iter_bits(cs.default_cpuset) if c != 0)
    (root / "proc" / pid / "status").write_text(f"Name:\tx\nCpus_allowed_list:\t{other}\nMems_allowed_list:\t0\n")
    code, ks, _ = kinds(root)
    assert code == 3 and ("cpuset-differs", "app") in ks
