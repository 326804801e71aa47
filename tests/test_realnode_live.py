"""``topolet node capture`` / ``verify`` on real cgroups: a kubepods-like cpuset hierarchy with real processes.

Runs where the tests are root and the cgroup v1 cpuset controller is writable
(this machine kind); elsewhere it skips, saying why. The hierarchy is created
under /sys/fs/cgroup/cpuset/topolet-test-<pid>/kubepods (cgroupfs driver),
real ``sleep`` processes are moved into the container cgroups with real
cpusets, the kubelet's state files name their assignments, and drift is
planted by changing a cpuset: ``verify`` must find exactly that. Everything is
removed afterwards.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from topolet.cli.main import app
from topolet.engine.cpumanager.state import CPUManagerState
from topolet.engine.memorymanager.state import MemoryManagerState
from topolet.io.checkpoint import dump_cpu_checkpoint, dump_memory_checkpoint

CPUSET = Path("/sys/fs/cgroup/cpuset")
UID_A = "0c6a8b1e-1111-4a4a-9a9a-00000000000a"
UID_B = "0c6a8b1e-2222-4b4b-9b9b-00000000000b"
CID_A = "a" * 64
CID_B = "b" * 64

CONFIG = """apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cpuManagerPolicy: static
reservedSystemCPUs: "0"
memoryManagerPolicy: None
topologyManagerPolicy: none
"""


def _why_not() -> str | None:
    if os.geteuid() != 0:
        return "needs root to create cgroups"
    if not (CPUSET / "cpuset.cpus").is_file():
        return "no cgroup v1 cpuset hierarchy at /sys/fs/cgroup/cpuset"
    if os.cpu_count() is None or len(_online()) < 2:
        return "needs at least 2 online CPUs"
    probe = CPUSET / f"topolet-probe-{os.getpid()}"
    try:
        probe.mkdir()
        probe.rmdir()
    except OSError as e:
        return f"the cpuset hierarchy is not writable: {e.strerror}"
    return None


def _online() -> list[int]:
    text = Path("/sys/devices/system/cpu/online").read_text().strip()
    out: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out += list(range(int(lo), int(hi or lo) + 1))
    return out


pytestmark = pytest.mark.skipif(_why_not() is not None, reason=str(_why_not()))


def _mkcg(path: Path, cpus: str, mems: str) -> None:
    path.mkdir()
    (path / "cpuset.cpus").write_text(cpus)
    (path / "cpuset.mems").write_text(mems)


def _rm_tree(path: Path) -> None:
    if not path.exists():
        return
    for child in sorted((p for p in path.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        _evict(child)
        child.rmdir()
    _evict(path)
    path.rmdir()


def _evict(cg: Path) -> None:
    for pid in (cg / "tasks").read_text().split():
        with contextlib.suppress(OSError):
            (CPUSET / "tasks").write_text(pid)


class LiveNode:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.base = CPUSET / f"topolet-test-{os.getpid()}"
        self.kubepods = self.base / "kubepods"
        self.root = tmp / "host"
        self.procs: list[subprocess.Popen[bytes]] = []
        cpus = _online()
        self.shared_cpu, self.pinned_cpu = cpus[0], cpus[1]
        self.all = f"{cpus[0]}-{cpus[-1]}" if len(cpus) > 1 else str(cpus[0])

    def build(self) -> None:
        mems = (CPUSET / "cpuset.mems").read_text().strip()
        _mkcg(self.base, self.all, mems)
        _mkcg(self.kubepods, self.all, mems)
        _mkcg(self.kubepods / f"pod{UID_A}", self.all, mems)
        _mkcg(self.kubepods / f"pod{UID_A}" / CID_A, str(self.pinned_cpu), mems)
        _mkcg(self.kubepods / "burstable", self.all, mems)
        _mkcg(self.kubepods / "burstable" / f"pod{UID_B}", self.all, mems)
        _mkcg(self.kubepods / "burstable" / f"pod{UID_B}" / CID_B, str(self.shared_cpu), mems)
        self.start(self.kubepods / f"pod{UID_A}" / CID_A)
        self.start(self.kubepods / "burstable" / f"pod{UID_B}" / CID_B)
        # a host root: the real /sys and /proc, the kubelet's files in a private /var/lib/kubelet
        kubelet = self.root / "var" / "lib" / "kubelet"
        kubelet.mkdir(parents=True)
        (self.root / "sys").symlink_to("/sys")
        (self.root / "proc").symlink_to("/proc")
        (kubelet / "config.yaml").write_text(CONFIG)
        default = 0
        for c in _online():
            default |= 1 << c
        default &= ~(1 << self.pinned_cpu)
        cpu = CPUManagerState("static", default, {UID_A: {"app": 1 << self.pinned_cpu}}, {})
        (kubelet / "cpu_manager_state").write_bytes(dump_cpu_checkpoint(cpu, 2))
        (kubelet / "memory_manager_state").write_bytes(dump_memory_checkpoint(MemoryManagerState("None"), 1))

    def start(self, cg: Path) -> None:
        p = subprocess.Popen(["sleep", "600"])
        self.procs.append(p)
        (cg / "tasks").write_text(str(p.pid))

    def cleanup(self) -> None:
        for p in self.procs:
            p.kill()
            p.wait()
        time.sleep(0.05)
        _rm_tree(self.base)

    def verify(self, *extra: str) -> tuple[int, dict]:
        args = ["verify", "--root", str(self.root), "--kubepods", str(self.kubepods), "--no-apis", "-o", "json"]
        res = CliRunner().invoke(app, [*args, *extra])
        assert res.exit_code in (0, 3), res.output
        return res.exit_code, json.loads(res.stdout)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveNode]:
    node = LiveNode(tmp_path)
    try:
        node.build()
        yield node
    finally:
        node.cleanup()
    assert not node.base.exists()


def _kinds(report: dict) -> list[tuple[str, str]]:
    return sorted((d["kind"], d.get("container", "")) for d in report["differences"])


def test_clean_node_verifies_clean(live: LiveNode) -> None:
    code, report = live.verify()
    assert code == 0, report["differences"]
    by_pod = {(c["podUID"], c["container"]): c for c in report["containers"]}
    a = by_pod[(UID_A, "app")]  # named by its cpuset (no runtime reachable)
    assert a["kernel"]["cpusetCpus"] == str(live.pinned_cpu)
    assert a["kernel"]["processes"][0]["cpusAllowedList"] == str(live.pinned_cpu)
    assert a["alignment"]["numa"]["aligned"] is True
    assert report["topolet"]["restart"] == "accepted"


def test_container_moved_to_another_cpu(live: LiveNode) -> None:
    (live.kubepods / f"pod{UID_A}" / CID_A / "cpuset.cpus").write_text(str(live.shared_cpu))
    code, report = live.verify()
    assert code == 3
    # no runtime: the pod's one unnamed container is tied to the pod's one entry by elimination
    assert _kinds(report) == [("cpuset-differs", "app")]
    msg = report["differences"][0]["message"]
    assert f"cpuset.cpus is {live.shared_cpu}, the checkpoint gives it {live.pinned_cpu}" in msg


def test_container_moved_with_names_from_the_runtime(live: LiveNode, tmp_path: Path) -> None:
    pytest.importorskip("grpc", reason="grpcio/protobuf not installed (pip install 'topolet[realnode]')")
    from realnode_fakes import FakePod, serve

    sock = tmp_path / "cri.sock"
    pods = [
        FakePod(UID_A, "db", "default", "sbA", {"app": CID_A}),
        FakePod(UID_B, "web", "default", "sbB", {"nginx": CID_B}),
    ]
    server = serve(str(sock), pods=pods, kind="cri")
    try:
        args = ["verify", "--root", str(live.root), "--kubepods", str(live.kubepods), "-o", "json"]
        res = CliRunner().invoke(app, [*args, "--no-apis"])
        assert res.exit_code == 0, res.output
        (live.kubepods / f"pod{UID_A}" / CID_A / "cpuset.cpus").write_text(str(live.shared_cpu))
        res = CliRunner().invoke(
            app,
            ["node", "capture", "--root", str(live.root), "--kubepods", str(live.kubepods), "--cri-socket", str(sock),
             "-o", str(tmp_path / "cap.tgz")],
        )  # fmt: skip
        assert res.exit_code == 0, res.output
        res = CliRunner().invoke(app, ["verify", "--capture", str(tmp_path / "cap.tgz"), "-o", "json"])
        assert res.exit_code == 3, res.output
        report = json.loads(res.stdout)
        assert _kinds(report) == [("cpuset-differs", "app")]
        assert report["differences"][0]["pod"] == "default/db"
    finally:
        server.stop(None)


def test_leaked_exclusive_cpu_in_a_shared_container(live: LiveNode) -> None:
    (live.kubepods / "burstable" / f"pod{UID_B}" / CID_B / "cpuset.cpus").write_text(live.all)
    code, report = live.verify()
    assert code == 3
    name_b = f"<{CID_B[:12]}>"
    assert _kinds(report) == [("exclusive-cpus-shared", "app"), ("shared-cpuset-differs", name_b)]


def test_container_gone_leaves_a_stale_entry(live: LiveNode) -> None:
    cg = live.kubepods / f"pod{UID_A}" / CID_A
    live.procs[0].kill()
    live.procs[0].wait()
    time.sleep(0.05)
    _evict(cg)
    cg.rmdir()
    code, report = live.verify()
    assert code == 3
    assert _kinds(report) == [("stale-entry", "app")]
