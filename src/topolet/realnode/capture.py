"""``topolet node capture``: what a real node's kubelet sees and what its kernel enforces, in one bundle.

A capture reads (never writes) under a host root (``/``, or ``/host`` under
``kubectl debug node/NAME``):

* the sysfs topology the kubelet reads: ``sys/devices/system/cpu`` (online CPUs,
  each CPU's topology and caches), ``sys/devices/system/node`` (NUMA nodes,
  meminfo, hugepages, distances), ``sys/kernel/mm/hugepages`` and ``proc/meminfo``;
* the kubelet's configuration: ``--kubelet-config``, else the running kubelet's
  ``--config`` flag (``proc/*/cmdline``), else ``var/lib/kubelet/config.yaml``;
* ``cpu_manager_state`` and ``memory_manager_state`` in the kubelet's root directory;
* the PodResources API's ``List`` and ``GetAllocatableResources`` (its socket under
  the kubelet's root directory), when the socket exists;
* every container under the kubepods cgroup (v1/v2, cgroupfs/systemd drivers):
  its cpusets and its processes' ``Cpus_allowed_list`` / ``Mems_allowed_list``,
  tied to pod and container names through the container runtime's CRI socket
  (the pod UID from the cgroup path when the runtime cannot be reached).

The bundle is a ``.tar.gz`` holding ``node-capture/manifest.json`` (what was
found and what was not, and why), the copied files under their host paths,
``kubelet/`` (config and state files, byte for byte), and ``cgroups.json``,
``podresources.json``, ``cri.json``.
"""

from __future__ import annotations

import io
import json
import os
import platform
import re
import socket
import stat
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from topolet.realnode.cgroups import (
    CgroupContainer,
    CgroupLayoutError,
    KubepodsTree,
    cgroup_version_of,
    find_kubepods,
    read_kubepods,
)

BUNDLE_FORMAT = "topolet.dev/node-capture/v1"
TOP = "node-capture"
CONFIG_MEMBER = "kubelet/config.yaml"
CPU_STATE_MEMBER = "kubelet/cpu_manager_state"
MEMORY_STATE_MEMBER = "kubelet/memory_manager_state"
MAX_MEMBER = 64 << 20  # no file of a capture is this large; a bigger member is refused
DEFAULT_KUBELET_ROOT = "/var/lib/kubelet"
CRI_SOCKETS = (
    "/run/containerd/containerd.sock",
    "/var/run/containerd/containerd.sock",
    "/run/crio/crio.sock",
    "/var/run/crio/crio.sock",
    "/run/cri-dockerd.sock",
    "/var/run/cri-dockerd.sock",
)

_CPU_DIR = re.compile(r"^cpu[0-9]+$")
_NODE_DIR = re.compile(r"^node[0-9]+$")
_CPU_TOPOLOGY_FILES = (
    "core_id",
    "physical_package_id",
    "die_id",
    "cluster_id",
    "book_id",
    "drawer_id",
    "thread_siblings_list",
    "core_siblings_list",
    "core_cpus_list",
    "package_cpus_list",
)
_CACHE_FILES = ("id", "level", "type", "size", "shared_cpu_list", "shared_cpu_map")


class CaptureError(Exception):
    """A capture or bundle that cannot be used; the message names what and where."""


@dataclass
class Capture:
    """A capture, live (just read) or loaded from a bundle."""

    manifest: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)  # bundle path (under node-capture/) -> bytes
    cgroups: KubepodsTree | None = None
    podresources: dict[str, Any] | None = None
    cri: dict[str, Any] | None = None
    source: str = ""  # the bundle file, or "root:/"

    # -- views -----------------------------------------------------------------------
    def file(self, name: str) -> bytes | None:
        return self.files.get(name)

    @property
    def found(self) -> dict[str, Any]:
        return self.manifest.setdefault("found", {})

    @property
    def missing(self) -> dict[str, str]:
        return self.manifest.setdefault("missing", {})

    def where(self, member: str) -> str:
        """How to name a member of this capture in a message."""
        if self.source.startswith("root:"):
            return self.manifest.get("paths", {}).get(member, member)
        return f"{self.source}: {TOP}/{member}"

    @contextmanager
    def sysfs_root(self) -> Iterator[Path]:
        """The captured ``sys/`` and ``proc/meminfo`` as a directory tree (a temporary copy for a bundle)."""
        live = self.manifest.get("root")
        if self.source.startswith("root:") and live:
            yield Path(live)
            return
        with tempfile.TemporaryDirectory(prefix="topolet-capture-") as tmp:
            for name, data in self.files.items():
                if name.startswith(("sys/", "proc/")):
                    p = Path(tmp, *PurePosixPath(name).parts)
                    p.parent.mkdir(parents=True, exist_ok=True)
                    p.write_bytes(data)
            yield Path(tmp)

    def has_numa_info(self) -> bool:
        if self.source.startswith("root:"):
            node_root = Path(self.manifest["root"]) / "sys" / "devices" / "system" / "node"
            return node_root.is_dir() and any(_NODE_DIR.match(p.name) for p in node_root.iterdir())
        return any(re.match(r"^sys/devices/system/node/node[0-9]+/", n) for n in self.files)


# --------------------------------------------------------------------------- reading the host


def _host(root: Path, path: str) -> Path:
    return root / path.lstrip("/")


def _read_bytes(p: Path) -> bytes | None:
    try:
        return p.read_bytes()
    except OSError:
        return None


def _copy_tree_files(root: Path, out: dict[str, bytes]) -> None:
    """The sysfs files the kubelet (cAdvisor) reads, into ``out`` under their host paths."""
    cpu_root = root / "sys/devices/system/cpu"
    node_root = root / "sys/devices/system/node"

    def add(p: Path) -> None:
        if p.is_file():
            data = _read_bytes(p)
            if data is not None:
                out[p.relative_to(root).as_posix()] = data

    for name in ("online", "possible", "present", "isolated", "offline", "kernel_max"):
        add(cpu_root / name)
    if cpu_root.is_dir():
        for d in sorted(cpu_root.iterdir()):
            if not _CPU_DIR.match(d.name):
                continue
            add(d / "online")
            for f in _CPU_TOPOLOGY_FILES:
                add(d / "topology" / f)
            cache = d / "cache"
            if cache.is_dir():
                for idx in sorted(cache.iterdir()):
                    if idx.name.startswith("index"):
                        for f in _CACHE_FILES:
                            add(idx / f)
    for name in ("online", "possible", "has_cpu", "has_memory", "has_normal_memory"):
        add(node_root / name)
    if node_root.is_dir():
        for d in sorted(node_root.iterdir()):
            if not _NODE_DIR.match(d.name):
                continue
            for f in ("cpulist", "cpumap", "meminfo", "distance"):
                add(d / f)
            hp = d / "hugepages"
            if hp.is_dir():
                for size in sorted(hp.iterdir()):
                    for f in ("nr_hugepages", "free_hugepages"):
                        add(size / f)
    hp = root / "sys/kernel/mm/hugepages"
    if hp.is_dir():
        for size in sorted(hp.iterdir()):
            for f in ("nr_hugepages", "free_hugepages"):
                add(size / f)
    add(root / "proc/meminfo")


def find_kubelet_process(root: Path) -> tuple[int, list[str]] | None:
    """The running kubelet's pid and argv (from ``proc/*/cmdline``), or None."""
    proc = root / "proc"
    try:
        entries = sorted((int(p.name), p) for p in proc.iterdir() if p.name.isdigit())
    except OSError:
        return None
    for pid, p in entries:
        raw = _read_bytes(p / "cmdline")
        if not raw:
            continue
        argv = [a.decode("utf-8", "replace") for a in raw.rstrip(b"\0").split(b"\0")]
        if argv and os.path.basename(argv[0]) == "kubelet":
            return pid, argv
    return None


def flag_value(argv: list[str], name: str) -> str | None:
    """The value of ``--name=V`` / ``--name V`` / ``-name V`` in a Go flag command line (the last one wins)."""
    value = None
    i = 1
    while i < len(argv):
        a = argv[i]
        for prefix in (f"--{name}", f"-{name}"):
            if a == prefix and i + 1 < len(argv):
                value = argv[i + 1]
                i += 1
                break
            if a.startswith(prefix + "="):
                value = a[len(prefix) + 1 :]
                break
        i += 1
    return value


def _config_field(data: bytes, name: str) -> str | None:
    try:
        import yaml

        doc = yaml.safe_load(data.decode("utf-8", "replace"))
    except Exception:  # a config we cannot parse: its fields are not used for discovery
        return None
    if isinstance(doc, dict) and isinstance(doc.get(name), str):
        return doc[name]
    return None


def _hostname(root: Path) -> str:
    """The node's host name: ROOT/etc/hostname, else (for / itself) this host's name."""
    data = _read_bytes(root / "etc" / "hostname")
    name = data.decode("utf-8", "replace").strip() if data else ""
    if not name and str(root) == "/":
        name = socket.gethostname()
    return name if re.fullmatch(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?", name) else ""


def _is_socket(p: Path) -> bool:
    try:
        return stat.S_ISSOCK(p.stat().st_mode)
    except OSError:
        return False


def _socket_path(endpoint: str) -> str:
    return endpoint[len("unix://") :] if endpoint.startswith("unix://") else endpoint


def capture_node(
    root: str | Path = "/",
    *,
    kubelet_config: str | None = None,
    kubepods: str | None = None,
    podresources_socket: str | None = None,
    cri_socket: str | None = None,
    use_apis: bool = True,
) -> Capture:
    """Read a node (never writing to it); see the module docstring. ``kubepods`` overrides where the
    kubepods cgroup is (a host path); the sockets override the discovered ones."""
    root = Path(root)
    if not root.is_dir():
        raise CaptureError(f"--root {root}: not a directory")
    cap = Capture(
        manifest={
            "format": BUNDLE_FORMAT,
            "capturedAt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "root": str(root),
            "hostname": _hostname(root),
            "kernel": platform.release() if str(root) == "/" else "",
            "found": {},
            "missing": {},
            "paths": {},
        },
        source=f"root:{root}",
    )
    found, missing, paths = cap.found, cap.missing, cap.manifest["paths"]

    # sysfs
    _copy_tree_files(root, cap.files)
    n_cpus = sum(1 for n in cap.files if n.startswith("sys/devices/system/cpu/cpu") and n.endswith("/core_id"))
    n_nodes = len({n.split("/")[4] for n in cap.files if re.match(r"^sys/devices/system/node/node[0-9]+/", n)})
    if n_cpus:
        found["sysfs"] = f"{n_cpus} CPU topology entries, {n_nodes} NUMA node(s)"
    else:
        missing["sysfs"] = f"{_host(root, '/sys/devices/system/cpu')}: no CPU topology"
    if n_cpus and not n_nodes:
        missing["numa"] = f"{_host(root, '/sys/devices/system/node')}: no NUMA node directories"

    # the kubelet: process, config, root dir
    proc = find_kubelet_process(root)
    argv = proc[1] if proc else []
    if proc:
        found["kubeletProcess"] = f"pid {proc[0]}: {' '.join(argv)[:500]}"
    else:
        missing["kubeletProcess"] = f"no kubelet in {_host(root, '/proc')}/*/cmdline"
    kubelet_root = flag_value(argv, "root-dir") or DEFAULT_KUBELET_ROOT
    if kubelet_config is not None:
        cfg_path, cfg_why = Path(kubelet_config), "--kubelet-config"
    elif flag_value(argv, "config"):
        cfg_path, cfg_why = _host(root, flag_value(argv, "config") or ""), "the running kubelet's --config"
    else:
        cfg_path, cfg_why = _host(root, "/var/lib/kubelet/config.yaml"), "the default location"
    cfg = _read_bytes(cfg_path)
    if cfg is not None:
        cap.files[CONFIG_MEMBER] = cfg
        found["kubeletConfig"] = f"{cfg_path} ({cfg_why})"
        paths[CONFIG_MEMBER] = str(cfg_path)
    else:
        missing["kubeletConfig"] = f"{cfg_path} ({cfg_why}): not readable"
    for member, fname in ((CPU_STATE_MEMBER, "cpu_manager_state"), (MEMORY_STATE_MEMBER, "memory_manager_state")):
        p = _host(root, f"{kubelet_root}/{fname}")
        data = _read_bytes(p)
        key = fname.replace("_manager_state", "ManagerState")
        if data is not None:
            cap.files[member] = data
            found[key] = str(p)
            paths[member] = str(p)
        else:
            missing[key] = f"{p}: not found"

    # PodResources
    pr_sock = (
        Path(podresources_socket) if podresources_socket else _host(root, f"{kubelet_root}/pod-resources/kubelet.sock")
    )
    if not use_apis:
        missing["podResources"] = "not queried (--no-apis)"
    elif _is_socket(pr_sock):
        from topolet.realnode.clients import ClientError, podresources_list

        try:
            cap.podresources = podresources_list(str(pr_sock))
            found["podResources"] = f"{pr_sock}: {len(cap.podresources['pods'])} pod(s)"
        except ClientError as e:
            missing["podResources"] = str(e)
    else:
        missing["podResources"] = f"{pr_sock}: no socket"

    # the container runtime
    endpoint = cri_socket or flag_value(argv, "container-runtime-endpoint")
    if endpoint is None and cfg is not None:
        endpoint = _config_field(cfg, "containerRuntimeEndpoint")
    candidates = [_socket_path(endpoint)] if endpoint else list(CRI_SOCKETS)
    cri_socks = [Path(c) if cri_socket else _host(root, c) for c in candidates]
    sock = next((s for s in cri_socks if _is_socket(s)), None)
    if not use_apis:
        missing["cri"] = "not queried (--no-apis)"
    elif sock is None:
        missing["cri"] = f"no container runtime socket ({', '.join(map(str, cri_socks))})"
    else:
        from topolet.realnode.clients import ClientError, cri_list

        try:
            cap.cri = cri_list(str(sock))
            found["cri"] = (
                f"{sock}: {len(cap.cri['sandboxes'])} pod sandbox(es), {len(cap.cri['containers'])} containers"
            )
        except ClientError as e:
            missing["cri"] = str(e)

    # cgroups
    if kubepods is not None:
        kp_path = Path(kubepods)
        located: tuple[Path, int] | None = (kp_path, cgroup_version_of(kp_path)) if kp_path.is_dir() else None
        if located is None:
            raise CaptureError(f"--kubepods {kubepods}: not a directory")
    else:
        located = find_kubepods(root)
    if located is None:
        missing["cgroups"] = f"no kubepods cgroup under {_host(root, '/sys/fs/cgroup')} (v1 cpuset or v2)"
    else:
        try:
            cap.cgroups = read_kubepods(located[0], root, located[1])
        except CgroupLayoutError as e:
            cap.manifest["cgroupLayoutError"] = str(e)
            missing["cgroups"] = str(e)
        else:
            tie_containers(cap.cgroups.containers, cap.cri)
            found["cgroups"] = (
                f"{located[0]} (cgroup v{cap.cgroups.version}, {cap.cgroups.driver} driver): "
                f"{len(cap.cgroups.pods)} pod(s), {len(cap.cgroups.containers)} container(s)"
            )
            if cap.cri is None:
                cap.manifest["containerNames"] = "unknown: the runtime was not reached (pod UIDs from the cgroup paths)"
    return cap


def tie_containers(containers: list[CgroupContainer], cri: dict[str, Any] | None) -> None:
    """Give each cgroup container its name and pod from the runtime's lists (by container ID)."""
    if cri is None:
        return
    sandboxes = {s["id"]: s for s in cri.get("sandboxes") or []}
    by_id = {c["id"]: c for c in cri.get("containers") or []}
    for c in containers:
        rc = by_id.get(c.container_id)
        if rc is None:
            continue
        c.name = rc["name"]
        sb = sandboxes.get(rc["podSandboxId"])
        if sb is not None:
            c.pod_name, c.pod_namespace = sb["name"], sb["namespace"]
            if sb.get("uid"):
                c.pod_uid = sb["uid"]


# --------------------------------------------------------------------------- the bundle


def _json(data: Any) -> bytes:
    return (json.dumps(data, indent=1, sort_keys=False) + "\n").encode()


def bundle_members(cap: Capture) -> dict[str, bytes]:
    members = dict(cap.files)
    manifest = dict(cap.manifest)
    manifest["files"] = sorted(cap.files)
    members["manifest.json"] = _json(manifest)
    if cap.cgroups is not None:
        members["cgroups.json"] = _json(cap.cgroups.to_dict())
    if cap.podresources is not None:
        members["podresources.json"] = _json(cap.podresources)
    if cap.cri is not None:
        members["cri.json"] = _json(cap.cri)
    return members


def write_bundle(cap: Capture, out: str | Path) -> None:
    """Write the bundle (a temporary file renamed into place: never a half-written bundle)."""
    out = Path(out)
    members = bundle_members(cap)
    tmp = out.with_name(f".{out.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as fh, tarfile.open(fileobj=fh, mode="w:gz") as tar:
            for name in sorted(members):
                data = members[name]
                info = tarfile.TarInfo(f"{TOP}/{name}")
                info.size = len(data)
                info.mtime = 0
                info.mode = 0o644
                tar.addfile(info, io.BytesIO(data))
        os.replace(tmp, out)
    except OSError as e:
        with suppress(OSError):
            tmp.unlink()
        raise CaptureError(f"{out}: cannot write the bundle: {e.strerror or e}") from e


MAX_BUNDLE = 1 << 30  # the bytes of all members together
MAX_MEMBERS = 500_000


def _json_error(e: Exception) -> str:
    return "nested too deeply" if isinstance(e, RecursionError) else str(e)


def read_bundle(path: str | Path) -> Capture:
    """Load a bundle written by :func:`write_bundle`; :class:`CaptureError` names what is wrong."""
    path = Path(path)
    if path.is_dir():
        raise CaptureError(f"{path}: a directory, not a bundle of `topolet node capture` (a .tar.gz)")
    if not path.is_file():
        raise CaptureError(f"{path}: no such file")
    members: dict[str, bytes] = {}
    total = 0
    try:
        with tarfile.open(path, mode="r:gz") as tar:
            for info in tar:
                name = info.name
                if not info.isfile():
                    continue
                parts = PurePosixPath(name).parts
                if not parts or parts[0] != TOP or ".." in parts or name.startswith("/"):
                    raise CaptureError(f"{path}: {name}: not a member of a topolet node capture")
                if info.size > MAX_MEMBER:
                    raise CaptureError(f"{path}: {name}: {info.size} bytes, larger than any capture file")
                total += info.size
                if total > MAX_BUNDLE or len(members) >= MAX_MEMBERS:
                    raise CaptureError(f"{path}: more data than any node capture holds (stopped at {name})")
                fh = tar.extractfile(info)
                if fh is None:
                    continue
                members["/".join(parts[1:])] = fh.read()
    except (tarfile.TarError, EOFError, zlib.error, OSError) as e:
        raise CaptureError(f"{path}: truncated or not a topolet node capture bundle (a .tar.gz): {e}") from None
    raw = members.pop("manifest.json", None)
    if raw is None:
        raise CaptureError(f"{path}: {TOP}/manifest.json missing: not a topolet node capture bundle")
    try:
        manifest = json.loads(raw)
    except (ValueError, RecursionError) as e:
        raise CaptureError(f"{path}: {TOP}/manifest.json: not valid JSON: {_json_error(e)}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != BUNDLE_FORMAT:
        raise CaptureError(f"{path}: {TOP}/manifest.json: format must be {BUNDLE_FORMAT!r}")
    _check_manifest(manifest, f"{path}: {TOP}/manifest.json")
    listed = manifest.get("files") or []
    absent = [f for f in listed if f not in members]
    if absent:
        raise CaptureError(
            f"{path}: truncated bundle: {len(absent)} file(s) listed in the manifest are missing "
            f"(first: {TOP}/{absent[0]})"
        )
    cap = Capture(manifest=manifest, source=str(path))

    def load_json(name: str) -> Any:
        data = members.pop(name, None)
        if data is None:
            return None
        try:
            return json.loads(data)
        except (ValueError, RecursionError) as e:
            raise CaptureError(f"{path}: {TOP}/{name}: not valid JSON: {_json_error(e)}") from None

    cg = load_json("cgroups.json")
    if cg is not None:
        _check_cgroups(cg, f"{path}: {TOP}/cgroups.json")
        cap.cgroups = KubepodsTree(
            cg["root"], cg["version"], cg["driver"], [], [CgroupContainer.from_dict(c) for c in cg["containers"]]
        )
    cap.podresources = load_json("podresources.json")
    if cap.podresources is not None:
        _check_podresources(cap.podresources, f"{path}: {TOP}/podresources.json")
    cap.cri = load_json("cri.json")
    if cap.cri is not None:
        _check_cri(cap.cri, f"{path}: {TOP}/cri.json")
    cap.files = {k: v for k, v in members.items() if k in set(listed)} if listed else members
    return cap


# --------------------------------------------------------------------------- bundle validation
# A bundle may be damaged by hand: every field verify and init read is checked, the message names it.


def _need(cond: bool, where: str, what: str) -> None:
    if not cond:
        raise CaptureError(f"{where}: {what}")


def _str_or_none(v: Any) -> bool:
    return v is None or isinstance(v, str)


def _list_of_dicts(v: Any, where: str, field_name: str) -> list[dict[str, Any]]:
    _need(isinstance(v, list), where, f"{field_name} must be a list")
    for i, item in enumerate(v):
        _need(isinstance(item, dict), where, f"{field_name}[{i}] must be a mapping")
    return v


def _check_manifest(m: dict[str, Any], where: str) -> None:
    for key in ("found", "missing"):
        v = m.get(key, {})
        _need(
            isinstance(v, dict) and all(isinstance(x, str) for x in v.values()), where, f"{key} must map names to text"
        )
    files = m.get("files", [])
    _need(isinstance(files, list) and all(isinstance(f, str) for f in files), where, "files must be a list of paths")
    _need(_str_or_none(m.get("cgroupLayoutError")), where, "cgroupLayoutError must be text")
    _need(_str_or_none(m.get("root")), where, "root must be text")
    _need(_str_or_none(m.get("hostname")), where, "hostname must be text")


def _check_cgroups(cg: Any, where: str) -> None:
    _need(isinstance(cg, dict), where, "must be a mapping")
    _need(isinstance(cg.get("root"), str), where, "root must be text")
    _need(cg.get("version") in (1, 2), where, "version must be 1 or 2")
    _need(cg.get("driver") in ("cgroupfs", "systemd"), where, "driver must be cgroupfs or systemd")
    for i, c in enumerate(_list_of_dicts(cg.get("containers", []), where, "containers")):
        at = f"containers[{i}]"
        for key in ("path", "podUID", "containerID"):
            _need(isinstance(c.get(key), str) and c.get(key), where, f"{at}.{key} must be non-empty text")
        for key in ("qos", "name", "podName", "podNamespace"):
            _need(_str_or_none(c.get(key)), where, f"{at}.{key} must be text")
        for key in ("cpusetCpus", "cpusetCpusEffective", "cpusetMems", "cpusetMemsEffective"):
            _need(_str_or_none(c.get(key)), where, f"{at}.{key} must be text or null")
        for j, pr in enumerate(_list_of_dicts(c.get("processes", []), where, f"{at}.processes")):
            pid = pr.get("pid")
            _need(
                isinstance(pid, int) and not isinstance(pid, bool) and 0 < pid < 1 << 31,
                where,
                f"{at}.processes[{j}].pid must be a process id",
            )
            for key in ("cpusAllowedList", "memsAllowedList"):
                _need(_str_or_none(pr.get(key)), where, f"{at}.processes[{j}].{key} must be text or null")
    cg.setdefault("containers", [])


def _check_podresources(pr: Any, where: str) -> None:
    _need(isinstance(pr, dict), where, "must be a mapping")
    for i, p in enumerate(_list_of_dicts(pr.get("pods", []), where, "pods")):
        for key in ("name", "namespace"):
            _need(isinstance(p.get(key), str), where, f"pods[{i}].{key} must be text")
        for j, c in enumerate(_list_of_dicts(p.get("containers", []), where, f"pods[{i}].containers")):
            _need(isinstance(c.get("name"), str), where, f"pods[{i}].containers[{j}].name must be text")
            ids = c.get("cpuIds", [])
            _need(
                isinstance(ids, list)
                and all(isinstance(x, int) and not isinstance(x, bool) and 0 <= x < 1 << 16 for x in ids),
                where,
                f"pods[{i}].containers[{j}].cpuIds must be a list of CPU ids",
            )


def _check_cri(cri: Any, where: str) -> None:
    _need(isinstance(cri, dict), where, "must be a mapping")
    for i, sb in enumerate(_list_of_dicts(cri.get("sandboxes", []), where, "sandboxes")):
        for key in ("id", "name", "uid", "namespace"):
            _need(isinstance(sb.get(key), str), where, f"sandboxes[{i}].{key} must be text")
    for i, c in enumerate(_list_of_dicts(cri.get("containers", []), where, "containers")):
        for key in ("id", "podSandboxId", "name"):
            _need(isinstance(c.get(key), str), where, f"containers[{i}].{key} must be text")
