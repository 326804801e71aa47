"""The node directory: one simulated node on disk.

Layout (every file is rewritten atomically, several at once through the
commit journal of :mod:`topolet.io.statefile`)::

    DIR/
      node.json              name, creation time, sources, next creation sequence
      topology.yaml          the machine, in the explicit form of FORMAT.md
      kubelet-config.yaml    the KubeletConfiguration file, byte for byte as given
      cpu_manager_state      the CPU manager checkpoint, as kubelet 1.36 writes it
      memory_manager_state   the memory manager checkpoint, as kubelet 1.36 writes it
      pods.json              the pods as the API server stored them + the kubelet's verdict
      objects.json           namespaces and ResourceQuotas
      .lock                  flock: exclusive for load -> modify -> write, shared for readers

Loading a node is a kubelet restart: the configuration is checked, the
checkpoints are restored (the kubelet's own refusals included: a policy that
differs from the checkpoint, a corrupt or foreign file), and the running pods
are re-registered with their existing assignments -- the checkpoint entries
are authoritative; nothing is re-admitted.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from topolet.engine.errors import StartupError
from topolet.engine.node import Node
from topolet.engine.restart import checkpoint_bytes
from topolet.engine.result import AdmitResult
from topolet.engine.startup import startup_checks
from topolet.io import yamlio
from topolet.io.checkpoint import (
    CheckpointError,
    cpu_checkpoint_version_for,
    dump_cpu_checkpoint,
    dump_memory_checkpoint,
    go_quote,
    load_cpu_checkpoint,
    load_memory_checkpoint,
    memory_checkpoint_version_for,
)
from topolet.io.inputs import InputError, load_kubelet_config_file, load_topology_arg, parse_mapping, read_text
from topolet.io.quota import QuotaError, ResourceQuota, quota_from_object, quota_to_object
from topolet.io.statefile import DirLock, StateFileError, commit_files
from topolet.model.features import POD_LEVEL_RESOURCE_MANAGERS
from topolet.model.kubelet_config import KubeletConfig, KubeletConfigError, load_kubelet_config
from topolet.model.pod import Container, Pod
from topolet.model.quantity import QuantityError
from topolet.model.topology import Topology, TopologyError
from topolet.model.topology_spec import TopologySpecError, topology_from_spec, topology_to_spec
from topolet.nodedir.pods import (
    StoredPod,
    StoredPodError,
    now_rfc3339,
    stored_pod_entry,
    stored_pod_from_entry,
)

NODE_FILE = "node.json"
TOPOLOGY_FILE = "topology.yaml"
CONFIG_FILE = "kubelet-config.yaml"
PODS_FILE = "pods.json"
OBJECTS_FILE = "objects.json"
CPU_STATE_FILE = "cpu_manager_state"
MEMORY_STATE_FILE = "memory_manager_state"
NODE_DIR_FORMAT = "topolet.dev/node/v1"
ENV_NODE = "TOPOLET_NODE"
DEFAULT_NODE_NAME = "topolet-node"
KUBELET_VERSIONS = ("1.36", "1.37")
SYSTEM_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")
_KUBELET_ROOT = "/var/lib/kubelet/"
OUR_FILES = (
    NODE_FILE,
    TOPOLOGY_FILE,
    CONFIG_FILE,
    PODS_FILE,
    OBJECTS_FILE,
    CPU_STATE_FILE,
    MEMORY_STATE_FILE,
)


class NodeDirError(Exception):
    """A node directory that cannot be used; ``message`` is what the CLI prints after ``error:``."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NoNodeError(NodeDirError):
    """No node in the directory: the message says how to create one."""


class NodeStartError(NodeDirError):
    """The kubelet refuses to start on this node (its own message, file paths of this node directory)."""


def program_name() -> str:
    """``kubectl topolet`` when run as the kubectl plugin, else ``topolet``."""
    import sys

    return "kubectl topolet" if Path(sys.argv[0]).name == "kubectl-topolet" else "topolet"


# --------------------------------------------------------------------------- where the node lives


def default_node_dir() -> Path:
    """``$XDG_STATE_HOME/topolet/node``, or ``~/.local/state/topolet/node``."""
    base = os.environ.get("XDG_STATE_HOME") or ""
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".local" / "state"
    return root / "topolet" / "node"


def resolve_node_dir(path: str | os.PathLike[str] | None) -> Path:
    """The node directory: ``path``, else ``$TOPOLET_NODE``, else :func:`default_node_dir`."""
    if path is not None and str(path) != "":
        return Path(path).expanduser()
    env = os.environ.get(ENV_NODE)
    if env:
        return Path(env).expanduser()
    return default_node_dir()


def _how_to_create(d: Path) -> str:
    prog = program_name()
    where = "" if d == default_node_dir() else f" {d}"
    return (
        f"create one with:\n  {prog} node init{where} --topology sysfs|preset:NAME|FILE --config KUBELET_CONFIG.yaml\n"
        f"(or pick another node with --node DIR or ${ENV_NODE})"
    )


# --------------------------------------------------------------------------- metadata


@dataclass(slots=True)
class NodeMeta:
    name: str
    created: str
    next_sequence: int = 1
    topology_source: str = ""
    config_source: str = ""
    kubelet_version: str = "1.36"  # the checkpoint formats the node's kubelet writes (1.36 or 1.37)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "format": NODE_DIR_FORMAT,
            "name": self.name,
            "creationTimestamp": self.created,
            "nextSequence": self.next_sequence,
            "topologySource": self.topology_source,
            "configSource": self.config_source,
        }
        if self.kubelet_version != "1.36":
            out["kubeletVersion"] = self.kubelet_version
        return out

    @staticmethod
    def from_dict(d: Any, where: str) -> NodeMeta:
        if not isinstance(d, dict) or d.get("format") != NODE_DIR_FORMAT:
            raise NodeDirError(f"{where}: not a topolet node directory file (format {NODE_DIR_FORMAT!r} expected)")
        seq = d.get("nextSequence")
        if not isinstance(seq, int) or seq < 1:
            raise NodeDirError(f"{where}: nextSequence must be a positive integer")
        kv = d.get("kubeletVersion", "1.36")
        if kv not in KUBELET_VERSIONS:
            raise NodeDirError(f"{where}: kubeletVersion must be one of {', '.join(KUBELET_VERSIONS)}, not {kv!r}")
        return NodeMeta(
            kubelet_version=kv,
            name=str(d.get("name") or DEFAULT_NODE_NAME),
            created=str(d.get("creationTimestamp") or ""),
            next_sequence=seq,
            topology_source=str(d.get("topologySource") or ""),
            config_source=str(d.get("configSource") or ""),
        )


def _json_bytes(data: Any) -> bytes:
    return (json.dumps(data, indent=1, sort_keys=False) + "\n").encode()


def node_checkpoint_bytes(node: Node, kubelet_version: str = "1.36") -> tuple[bytes, bytes]:
    """The ``cpu_manager_state`` and ``memory_manager_state`` files the node's kubelet writes:
    1.36's formats (V3/V2, or V2/V1 with the pod-level gate off), or 1.37's (CPU V4, memory V3)."""
    if kubelet_version == "1.36":
        return checkpoint_bytes(node)
    return (
        dump_cpu_checkpoint(node.cpu_manager.state, cpu_checkpoint_version_for(True, kubelet_version)),
        dump_memory_checkpoint(node.memory_manager.state, memory_checkpoint_version_for(True, kubelet_version)),
    )


def topology_yaml(topology: Topology, source: str) -> bytes:
    header = (
        f"# The node's machine topology (from {source}), in the explicit form of topolet's FORMAT.md.\n"
        "# Written by `topolet node init`; the checkpoints are only valid for this machine.\n"
    )
    body = yaml.dump(topology_to_spec(topology), Dumper=yamlio.SafeDumper, sort_keys=False, default_flow_style=None)
    return (header + body).encode()


# --------------------------------------------------------------------------- the node directory


@dataclass
class NodeDir:
    """A loaded node directory (see the module docstring)."""

    path: Path
    meta: NodeMeta
    topology: Topology
    config: KubeletConfig
    config_bytes: bytes
    node: Node | None  # None when the kubelet refuses to start (see start_error)
    start_error: NodeStartError | None = None
    pods: dict[str, StoredPod] = field(default_factory=dict)  # by "namespace/name", in creation order
    quotas: dict[str, ResourceQuota] = field(default_factory=dict)  # by "namespace/name"
    namespaces: dict[str, str] = field(default_factory=dict)  # name -> creationTimestamp
    warnings: list[str] = field(default_factory=list)
    _dirty_config: bool = False
    _reset_checkpoints: bool = False

    # -- accessors --------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.meta.name

    def kubelet(self) -> Node:
        """The running kubelet, or the kubelet's refusal to start."""
        if self.node is None:
            assert self.start_error is not None
            raise self.start_error
        return self.node

    def file(self, name: str) -> Path:
        return self.path / name

    def pod_names_by_uid(self) -> dict[str, str]:
        return {sp.pod.uid: sp.key for sp in self.pods.values()}

    def namespace_exists(self, ns: str) -> bool:
        return ns in SYSTEM_NAMESPACES or ns in self.namespaces

    def find_pod(self, name: str, namespace: str) -> StoredPod | None:
        return self.pods.get(f"{namespace}/{name}")

    def next_sequence(self) -> int:
        n = self.meta.next_sequence
        self.meta.next_sequence += 1
        return n

    # -- changes --------------------------------------------------------------------
    def set_config(self, config: KubeletConfig, data: bytes, source: str) -> None:
        self.config = config
        self.config_bytes = data
        self.meta.config_source = source
        self._dirty_config = True

    def reset_checkpoints(self) -> None:
        """Delete the checkpoint files on save (the kubelet's remedy after a drain)."""
        self._reset_checkpoints = True

    def save(self) -> None:
        """Write every changed file as one unit (the caller holds the exclusive lock)."""
        files: dict[str, bytes | None] = {
            NODE_FILE: _json_bytes(self.meta.to_dict()),
            PODS_FILE: _json_bytes(
                {"format": NODE_DIR_FORMAT, "items": [stored_pod_entry(sp) for sp in self._pods_in_order()]}
            ),
            OBJECTS_FILE: _json_bytes(
                {
                    "format": NODE_DIR_FORMAT,
                    "namespaces": [{"name": n, "creationTimestamp": c} for n, c in sorted(self.namespaces.items())],
                    "resourceQuotas": [
                        {"source": q.source, "object": quota_to_object(q)} for _, q in sorted(self.quotas.items())
                    ],
                }
            ),
        }
        if self._dirty_config:
            files[CONFIG_FILE] = self.config_bytes
        if self.node is not None:
            cpu, mem = node_checkpoint_bytes(self.node, self.meta.kubelet_version)
            for fname, data in ((CPU_STATE_FILE, cpu), (MEMORY_STATE_FILE, mem)):
                if not _same_bytes(self.file(fname), data):
                    files[fname] = data
        elif self._reset_checkpoints:
            files[CPU_STATE_FILE] = None
            files[MEMORY_STATE_FILE] = None
        commit_files(self.path, files)
        self._dirty_config = False
        self._reset_checkpoints = False

    def _pods_in_order(self) -> list[StoredPod]:
        return sorted(self.pods.values(), key=lambda sp: sp.sequence)


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        return path.read_bytes() == data
    except OSError:
        return False


# --------------------------------------------------------------------------- starting the kubelet


def _fix_paths(message: str, d: Path) -> str:
    """The kubelet names its checkpoint files under /var/lib/kubelet: name this node's files instead."""
    for fname in (CPU_STATE_FILE, MEMORY_STATE_FILE):
        message = message.replace(go_quote(_KUBELET_ROOT + fname), go_quote(str(d / fname)))
    return message


def start_kubelet(
    d: Path,
    topology: Topology,
    config: KubeletConfig,
    cpu_bytes: bytes | None,
    mem_bytes: bytes | None,
    name: str = DEFAULT_NODE_NAME,
    *,
    kubelet_version: str | None = None,
) -> Node:
    """Start a kubelet on the node directory's checkpoints (``None``: no file, a fresh state).

    ``kubelet_version`` "1.37" reads the checkpoints as a 1.37 kubelet does (pod-level entries only
    with the gate on); otherwise every format topolet knows is read.

    Raises :class:`NodeStartError` with the kubelet's message.
    """
    try:
        plan = startup_checks(config, topology, node_allocatable=False)
    except StartupError as e:
        raise NodeStartError(str(e)) from e
    gate = plan.gates.enabled(POD_LEVEL_RESOURCE_MANAGERS)
    cpu_state = mem_state = None
    try:
        if cpu_bytes is not None:
            cpu_state = load_cpu_checkpoint(
                cpu_bytes,
                str(d / CPU_STATE_FILE),
                pod_level_resource_managers=gate,
                policy_name=config.cpu_manager_policy,
                kubelet="1.37" if kubelet_version == "1.37" else None,
            ).state
    except CheckpointError as e:
        raise NodeStartError(f"start cpu manager error: {e.message}") from e
    try:
        if mem_bytes is not None:
            mem_state = load_memory_checkpoint(
                mem_bytes,
                str(d / MEMORY_STATE_FILE),
                pod_level_resource_managers=gate,
                policy_name=config.memory_manager_policy,
                kubelet="1.37" if kubelet_version == "1.37" else None,
            ).state
    except CheckpointError as e:
        raise NodeStartError(f"start memory manager error: {e.message}") from e
    try:
        node = Node(topology, config, cpu_state=cpu_state, memory_state=mem_state, name=name)
    except StartupError as e:
        raise NodeStartError(_fix_paths(str(e), d)) from e
    return node


def register_pods(node: Node, pods: list[StoredPod]) -> list[str]:
    """Re-register the running pods with their existing assignments (entries are authoritative).

    State held for pod UIDs that are not running here is stale: it is removed
    as the kubelet's ``removeStaleState`` does. Returns the stale UIDs.
    """
    running: set[str] = set()
    for sp in sorted(pods, key=lambda p: p.sequence):
        if not sp.admitted:
            continue
        pod = sp.pod
        running.add(pod.uid)
        result = AdmitResult(sp.key, pod.uid, True, qos=pod.qos_class)
        result.pod_cpus = node.cpu_manager.state.pod_assignments.get(pod.uid, 0)
        result.containers = node.container_allocations(pod)
        node.register_running(pod, result)
    cs = node.cpu_manager.state
    ms = node.memory_manager.state
    stale = sorted(
        (set(cs.assignments) | set(cs.pod_assignments) | set(ms.assignments) | set(ms.pod_assignments)) - running
    )
    for uid in stale:
        names = sorted(set(cs.assignments.get(uid, {})) | set(ms.assignments.get(uid, {})))
        ghost = Pod(name=uid, namespace="", uid=uid, containers=[Container(n) for n in names])
        node._remove_pod_state(ghost)
        cs.pod_assignments.pop(uid, None)
        ms.pod_assignments.pop(uid, None)
    return stale


# --------------------------------------------------------------------------- reading a node directory


def _read_bytes(p: Path) -> bytes | None:
    try:
        return p.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise NodeDirError(f"{p}: cannot read: {e.strerror}") from e


def _read_json(p: Path) -> Any:
    data = _read_bytes(p)
    if data is None:
        raise NodeDirError(f"{p}: missing (the node directory is incomplete)")
    try:
        return json.loads(data)
    except ValueError as e:
        raise NodeDirError(f"{p}: not valid JSON: {e}") from e


def read_config(d: Path) -> tuple[KubeletConfig, bytes]:
    p = d / CONFIG_FILE
    data = _read_bytes(p)
    if data is None:
        raise NodeDirError(f"{p}: missing (the node directory is incomplete)")
    try:
        mapping = parse_mapping(data.decode("utf-8"), str(p))
        return load_kubelet_config(mapping, str(p)), data
    except UnicodeDecodeError as e:
        raise NodeDirError(f"{p}: not a UTF-8 text file") from e
    except (InputError, KubeletConfigError, QuantityError) as e:
        raise NodeDirError(str(e) if str(p) in str(e) else f"{p}: {e}") from e


def read_topology(d: Path) -> Topology:
    p = d / TOPOLOGY_FILE
    data = _read_bytes(p)
    if data is None:
        raise NodeDirError(f"{p}: missing (the node directory is incomplete)")
    try:
        spec = parse_mapping(data.decode("utf-8"), str(p))
        return topology_from_spec(spec, str(p))
    except (InputError, TopologySpecError, TopologyError, QuantityError, UnicodeDecodeError) as e:
        raise NodeDirError(str(e) if str(p) in str(e) else f"{p}: {e}") from e


def is_node_dir(d: Path) -> bool:
    return (d / NODE_FILE).is_file()


def _load(d: Path, *, require_kubelet: bool) -> NodeDir:
    if not d.exists():
        raise NoNodeError(f"no topolet node at {d}; {_how_to_create(d)}")
    if not d.is_dir():
        raise NodeDirError(f"{d}: not a directory")
    if not is_node_dir(d):
        raise NoNodeError(f"{d} is not a topolet node directory (no {NODE_FILE}); {_how_to_create(d)}")
    meta = NodeMeta.from_dict(_read_json(d / NODE_FILE), str(d / NODE_FILE))
    topology = read_topology(d)
    config, config_bytes = read_config(d)
    pods: dict[str, StoredPod] = {}
    pods_doc = _read_json(d / PODS_FILE)
    items = pods_doc.get("items") if isinstance(pods_doc, dict) else None
    if not isinstance(items, list):
        raise NodeDirError(f"{d / PODS_FILE}: items must be a list")
    try:
        for i, entry in enumerate(items):
            sp = stored_pod_from_entry(entry, f"{d / PODS_FILE}: items[{i}]")
            pods[sp.key] = sp
    except StoredPodError as e:
        raise NodeDirError(str(e)) from e
    objects = _read_json(d / OBJECTS_FILE)
    if not isinstance(objects, dict):
        raise NodeDirError(f"{d / OBJECTS_FILE}: must be a mapping")
    namespaces = {
        str(n.get("name")): str(n.get("creationTimestamp") or "")
        for n in objects.get("namespaces") or []
        if isinstance(n, dict) and n.get("name")
    }
    quotas: dict[str, ResourceQuota] = {}
    for i, entry in enumerate(objects.get("resourceQuotas") or []):
        where = f"{d / OBJECTS_FILE}: resourceQuotas[{i}]"
        obj = entry.get("object") if isinstance(entry, dict) else None
        if not isinstance(obj, dict):
            raise NodeDirError(f"{where}: not a stored ResourceQuota")
        try:
            q = quota_from_object(obj, where)
        except QuotaError as e:
            raise NodeDirError(str(e)) from e
        q.created = str((obj.get("metadata") or {}).get("creationTimestamp") or "")
        q.source = str(entry.get("source") or "")
        quotas[q.key] = q
    nd = NodeDir(
        path=d,
        meta=meta,
        topology=topology,
        config=config,
        config_bytes=config_bytes,
        node=None,
        pods=dict(sorted(pods.items(), key=lambda kv: kv[1].sequence)),
        quotas=quotas,
        namespaces=namespaces,
    )
    try:
        node = start_kubelet(
            d,
            topology,
            config,
            _read_bytes(d / CPU_STATE_FILE),
            _read_bytes(d / MEMORY_STATE_FILE),
            meta.name,
            kubelet_version=meta.kubelet_version,
        )
    except NodeStartError as e:
        if require_kubelet:
            raise
        nd.start_error = e
        return nd
    stale = register_pods(node, list(nd.pods.values()))
    if stale:
        nd.warnings.append(
            "the checkpoints hold state for pod UID(s) that are not running on this node "
            f"({', '.join(stale)}); removed as the kubelet's removeStaleState does"
        )
    nd.node = node
    return nd


@contextmanager
def open_node(path: str | os.PathLike[str] | None, *, write: bool, require_kubelet: bool = True) -> Iterator[NodeDir]:
    """Lock and load the node directory (exclusive lock with ``write``: the caller calls ``save()``
    before leaving the block, still under the lock)."""
    d = resolve_node_dir(path)
    if not d.is_dir():
        _load(d, require_kubelet=require_kubelet)  # raises the "no node" error
    try:
        lock = DirLock(d, exclusive=write)
        lock.__enter__()
    except StateFileError as e:
        raise NodeDirError(str(e)) from e
    try:
        yield _load(d, require_kubelet=require_kubelet)
    finally:
        lock.__exit__(None, None, None)


def load_node_readonly(path: str | os.PathLike[str] | None) -> Node:
    """The node's kubelet, restored from its directory (``None``: the default node directory).

    Raises :class:`NoNodeError` (no node: the message says how to create one),
    :class:`NodeStartError` (the kubelet refuses to start: its message) or
    :class:`NodeDirError`.
    """
    with open_node(path, write=False) as nd:
        return nd.kubelet()


def load_node_dir_readonly(path: str | os.PathLike[str] | None, *, require_kubelet: bool = False) -> NodeDir:
    """The whole node directory (pods, quotas, metadata) read under a shared lock."""
    with open_node(path, write=False, require_kubelet=require_kubelet) as nd:
        return nd


# --------------------------------------------------------------------------- creating a node directory


@dataclass(slots=True)
class InitResult:
    nd: NodeDir
    replaced: bool
    warnings: list[str]


def init_node(
    path: str | os.PathLike[str] | None,
    topology_arg: str | None,
    config_path: str | None,
    *,
    name: str | None = None,
    force: bool = False,
    kubelet_version: str = "1.36",
) -> InitResult:
    """Create a node directory (see the module docstring); ``force`` replaces an existing node.

    ``kubelet_version`` "1.37" makes the node's kubelet write 1.37's checkpoint formats (CPU V4,
    memory V3); the managers' behaviour stays 1.36's.
    """
    if kubelet_version not in KUBELET_VERSIONS:
        raise NodeDirError(
            f"--kubelet-version: {kubelet_version!r} is not supported (one of {', '.join(KUBELET_VERSIONS)})"
        )
    d = resolve_node_dir(path)
    try:
        topology = load_topology_arg(topology_arg)
        if config_path is None:
            config = load_kubelet_config_file(None)
            from importlib.resources import files

            config_bytes = (files("topolet") / "data" / "kubelet-config.yaml").read_bytes()
            config_source = "embedded kubelet-config.yaml (the seed article's settings)"
        else:
            config = load_kubelet_config_file(config_path)
            config_bytes = read_text(config_path).encode("utf-8")
            config_source = "<stdin>" if config_path == "-" else str(Path(config_path).resolve())
    except InputError as e:
        raise NodeDirError(str(e)) from e
    try:
        node = start_kubelet(d, topology, config, None, None, name or DEFAULT_NODE_NAME)
    except NodeStartError as e:
        raise NodeStartError(f"the kubelet refuses to start with this configuration: {e.message}") from e
    if d.exists() and not d.is_dir():
        raise NodeDirError(f"{d}: exists and is not a directory")
    replaced = False
    if d.is_dir():
        if is_node_dir(d):
            if not force:
                raise NodeDirError(
                    f"a topolet node already exists in {d}; use --force to replace it (its pods are discarded)"
                )
            replaced = True
        else:
            others = [p.name for p in d.iterdir() if p.name not in (".lock", *OUR_FILES)]
            if others:
                raise NodeDirError(
                    f"{d} is not empty and is not a topolet node directory (it holds {', '.join(sorted(others)[:5])}"
                    f"{', ...' if len(others) > 5 else ''}); choose a new or empty directory"
                )
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise NodeDirError(f"{d}: cannot create the node directory: {e.strerror}") from e
    if topology_arg is None:
        topology_source = "preset:2-numa"
    elif topology_arg == "sysfs" or topology_arg.startswith(("sysfs:", "preset:")):
        topology_source = topology_arg
    else:
        topology_source = str(Path(topology_arg).resolve())
    created = now_rfc3339()
    meta = NodeMeta(
        name=name or (socket.gethostname() if topology_arg == "sysfs" else DEFAULT_NODE_NAME),
        created=created,
        topology_source=topology_source,
        config_source=config_source,
        kubelet_version=kubelet_version,
    )
    nd = NodeDir(
        path=d,
        meta=meta,
        topology=topology,
        config=config,
        config_bytes=config_bytes,
        node=node,
    )
    try:
        with DirLock(d, exclusive=True):
            if is_node_dir(d) and not force:  # another init won the race
                raise NodeDirError(f"a topolet node already exists in {d}; use --force to replace it")
            cpu, mem = node_checkpoint_bytes(node, kubelet_version)
            commit_files(
                d,
                {
                    TOPOLOGY_FILE: topology_yaml(topology, topology_source),
                    CONFIG_FILE: config_bytes,
                    CPU_STATE_FILE: cpu,
                    MEMORY_STATE_FILE: mem,
                    PODS_FILE: _json_bytes({"format": NODE_DIR_FORMAT, "items": []}),
                    OBJECTS_FILE: _json_bytes({"format": NODE_DIR_FORMAT, "namespaces": [], "resourceQuotas": []}),
                    NODE_FILE: _json_bytes(meta.to_dict()),
                },
            )
    except StateFileError as e:
        raise NodeDirError(str(e)) from e
    return InitResult(nd, replaced, list(node.plan.warnings))
