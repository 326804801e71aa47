"""The kubepods cgroup tree as the kubelet lays it out: pods, containers, their cpusets and processes.

Read only. Handles cgroup v1 (the ``cpuset`` hierarchy) and v2 (the unified
hierarchy), and both cgroup drivers:

* cgroupfs: ``kubepods/[burstable|besteffort/]pod<UID>/<container ID>``
* systemd: ``kubepods.slice/[kubepods-burstable.slice/]kubepods-[burstable-]pod<UID with _>.slice/
  <runtime>-<container ID>.scope`` (``cri-containerd-``, ``crio-``, ``docker-``, ``cri-dockerd-``)

A directory under a pod cgroup that is neither a container nor a known
helper (``crio-conmon-*.scope``) is reported as an unknown layout, with its path.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

QOS_DIRS = {"burstable": "Burstable", "besteffort": "BestEffort"}
_POD_CGROUPFS = re.compile(r"^pod([0-9a-fA-F][0-9a-fA-F-]{7,})$")
_POD_SYSTEMD = re.compile(r"^kubepods(?:-(burstable|besteffort))?-pod([0-9a-fA-F_]{8,})\.slice$")
_CONTAINER_ID = re.compile(r"^[0-9a-f]{12,128}$")
_SCOPE = re.compile(r"^(cri-containerd|crio|docker|cri-dockerd|containerd)-([0-9a-f]{12,128})\.scope$")
_HELPER_SCOPE = re.compile(r"^crio-conmon-[0-9a-f]+\.scope$")


class CgroupLayoutError(ValueError):
    """A kubepods tree whose layout topolet does not know (the message names the path)."""


@dataclass(slots=True)
class ProcAffinity:
    pid: int
    cpus_allowed_list: str | None  # None: the process is gone or /proc is not readable
    mems_allowed_list: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"pid": self.pid, "cpusAllowedList": self.cpus_allowed_list, "memsAllowedList": self.mems_allowed_list}


@dataclass(slots=True)
class CgroupContainer:
    path: str  # relative to the kubepods cgroup
    pod_uid: str
    container_id: str
    qos: str  # Guaranteed, Burstable or BestEffort (from the cgroup path)
    cpus: str | None
    cpus_effective: str | None
    mems: str | None
    mems_effective: str | None
    procs: list[ProcAffinity] = field(default_factory=list)
    # filled in from the container runtime (CRI) when it can be reached
    name: str = ""
    pod_name: str = ""
    pod_namespace: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "podUID": self.pod_uid,
            "containerID": self.container_id,
            "qos": self.qos,
            "name": self.name,
            "podName": self.pod_name,
            "podNamespace": self.pod_namespace,
            "cpusetCpus": self.cpus,
            "cpusetCpusEffective": self.cpus_effective,
            "cpusetMems": self.mems,
            "cpusetMemsEffective": self.mems_effective,
            "processes": [p.to_dict() for p in self.procs],
        }

    @staticmethod
    def from_dict(d: dict[str, Any]) -> CgroupContainer:
        return CgroupContainer(
            path=str(d["path"]),
            pod_uid=str(d["podUID"]),
            container_id=str(d["containerID"]),
            qos=str(d.get("qos") or ""),
            cpus=d.get("cpusetCpus"),
            cpus_effective=d.get("cpusetCpusEffective"),
            mems=d.get("cpusetMems"),
            mems_effective=d.get("cpusetMemsEffective"),
            procs=[
                ProcAffinity(int(p["pid"]), p.get("cpusAllowedList"), p.get("memsAllowedList"))
                for p in d.get("processes") or []
            ],
            name=str(d.get("name") or ""),
            pod_name=str(d.get("podName") or ""),
            pod_namespace=str(d.get("podNamespace") or ""),
        )


@dataclass(slots=True)
class CgroupPod:
    path: str
    uid: str
    qos: str
    cpus: str | None
    mems: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "uid": self.uid, "qos": self.qos, "cpusetCpus": self.cpus, "cpusetMems": self.mems}


@dataclass(slots=True)
class KubepodsTree:
    root: str  # the kubepods cgroup directory read
    version: int  # 1 or 2
    driver: str  # cgroupfs or systemd
    pods: list[CgroupPod] = field(default_factory=list)
    containers: list[CgroupContainer] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "version": self.version,
            "driver": self.driver,
            "pods": [p.to_dict() for p in self.pods],
            "containers": [c.to_dict() for c in self.containers],
        }


def _read(p: Path) -> str | None:
    try:
        return p.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None


def find_kubepods(root: Path) -> tuple[Path, int] | None:
    """The kubepods cgroup under ``root`` (a host's ``/``) and its cgroup version, or None."""
    base = root / "sys" / "fs" / "cgroup"
    candidates: list[tuple[Path, int]] = []
    if (base / "cgroup.controllers").is_file():  # unified (v2) mount
        candidates += [(base / "kubepods.slice", 2), (base / "kubepods", 2)]
    candidates += [(base / "cpuset" / "kubepods.slice", 1), (base / "cpuset" / "kubepods", 1)]
    if (base / "unified" / "cgroup.controllers").is_file():  # hybrid: v2 at /sys/fs/cgroup/unified
        candidates += [(base / "unified" / "kubepods.slice", 2), (base / "unified" / "kubepods", 2)]
    for path, version in candidates:
        if path.is_dir():
            return path, version
    return None


def cgroup_version_of(path: Path) -> int:
    """1 for a directory of the v1 cpuset hierarchy, 2 for the unified hierarchy."""
    if (path / "cpuset.effective_cpus").exists() or (path / "tasks").exists():
        return 1
    if (path / "cgroup.controllers").exists() or (path / "cpuset.cpus.effective").exists():
        return 2
    parts = path.parts
    for i in range(len(parts) - 1):
        if parts[i] == "cgroup" and parts[i + 1] == "cpuset":  # .../sys/fs/cgroup/cpuset/...
            return 1
    return 2


def proc_affinity(root: Path, pid: int) -> ProcAffinity:
    text = _read(root / "proc" / str(pid) / "status")
    cpus = mems = None
    for line in (text or "").splitlines():
        key, _, value = line.partition(":")
        if key == "Cpus_allowed_list":
            cpus = value.strip()
        elif key == "Mems_allowed_list":
            mems = value.strip()
    return ProcAffinity(pid, cpus, mems)


def _pids(d: Path) -> list[int]:
    text = _read(d / "cgroup.procs")
    if text is None:
        text = _read(d / "tasks")
    out: list[int] = []
    for line in (text or "").split():
        if line.isdigit():
            out.append(int(line))
    return sorted(set(out))


def _cpuset_files(d: Path, version: int) -> tuple[str | None, str | None, str | None, str | None]:
    if version == 1:
        return (
            _read(d / "cpuset.cpus"),
            _read(d / "cpuset.effective_cpus"),
            _read(d / "cpuset.mems"),
            _read(d / "cpuset.effective_mems"),
        )
    return (
        _read(d / "cpuset.cpus"),
        _read(d / "cpuset.cpus.effective"),
        _read(d / "cpuset.mems"),
        _read(d / "cpuset.mems.effective"),
    )


def _subdirs(d: Path) -> list[Path]:
    try:
        return sorted(p for p in d.iterdir() if p.is_dir())
    except OSError:
        return []


def _pod_of(name: str) -> tuple[str, str, str | None] | None:
    """(uid, driver, qos from the name) for a pod cgroup directory name, else None."""
    m = _POD_CGROUPFS.match(name)
    if m:
        return m.group(1), "cgroupfs", None
    m = _POD_SYSTEMD.match(name)
    if m:
        return m.group(2).replace("_", "-"), "systemd", QOS_DIRS.get(m.group(1) or "", "Guaranteed")
    return None


def read_kubepods(kubepods: Path, host_root: Path, version: int | None = None) -> KubepodsTree:
    """Walk the kubepods cgroup: every pod and container, its cpusets, and its processes' affinity.

    Raises :class:`CgroupLayoutError` naming the first directory that fits no known layout.
    """
    if version is None:
        version = cgroup_version_of(kubepods)
    driver = "systemd" if kubepods.name.endswith(".slice") else "cgroupfs"
    tree = KubepodsTree(str(kubepods), version, driver)
    pod_dirs: list[tuple[Path, str]] = []  # (dir, qos)
    for d in _subdirs(kubepods):
        name = d.name
        qos_dir = {"burstable": "burstable", "besteffort": "besteffort"}.get(name)
        if driver == "systemd":
            m = re.match(r"^kubepods-(burstable|besteffort)\.slice$", name)
            qos_dir = m.group(1) if m else None
        if qos_dir is not None:
            for pd in _subdirs(d):
                pod_dirs.append((pd, QOS_DIRS[qos_dir]))
        else:
            pod_dirs.append((d, "Guaranteed"))
    for pd, qos in pod_dirs:
        parsed = _pod_of(pd.name)
        if parsed is None:
            raise CgroupLayoutError(
                f"{pd}: unknown cgroup layout under {kubepods} (expected a pod cgroup: pod<UID> with the "
                "cgroupfs driver, kubepods[-<qos>]-pod<UID>.slice with the systemd driver)"
            )
        uid, pod_driver, _ = parsed
        if pod_driver != driver:
            raise CgroupLayoutError(
                f"{pd}: a {pod_driver}-driver pod cgroup under the {driver}-driver kubepods cgroup {kubepods}"
            )
        rel = os.path.relpath(pd, kubepods)
        cpus, _, mems, _ = _cpuset_files(pd, version)
        tree.pods.append(CgroupPod(rel, uid, qos, cpus, mems))
        for cd in _subdirs(pd):
            cname = cd.name
            if _HELPER_SCOPE.match(cname):
                continue
            if driver == "cgroupfs":
                if not _CONTAINER_ID.match(cname):
                    raise CgroupLayoutError(
                        f"{cd}: unknown cgroup layout (a container cgroup under a cgroupfs pod cgroup is named by "
                        "its container ID, 12-128 hex digits)"
                    )
                cid = cname
            else:
                m = _SCOPE.match(cname)
                if not m:
                    raise CgroupLayoutError(
                        f"{cd}: unknown cgroup layout (a container cgroup under a systemd pod slice is "
                        "<runtime>-<container ID>.scope)"
                    )
                cid = m.group(2)
            c_cpus, c_cpus_eff, c_mems, c_mems_eff = _cpuset_files(cd, version)
            tree.containers.append(
                CgroupContainer(
                    path=os.path.relpath(cd, kubepods),
                    pod_uid=uid,
                    container_id=cid,
                    qos=qos,
                    cpus=c_cpus,
                    cpus_effective=c_cpus_eff,
                    mems=c_mems,
                    mems_effective=c_mems_eff,
                    procs=[proc_affinity(host_root, pid) for pid in _pids(cd)],
                )
            )
    return tree
