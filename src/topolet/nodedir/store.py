"""The node directory: one simulated node on disk.

Layout (every change is one commit of the journal of :mod:`topolet.io.statefile`:
all its files change together or none does)::

    DIR/
      node.json              name, creation time, sources, next creation sequence
      topology.yaml          the machine, in the explicit form of FORMAT.md
      kubelet-config.yaml    the KubeletConfiguration file, byte for byte as given
      cpu_manager_state      the CPU manager checkpoint, as kubelet 1.36 writes it
      memory_manager_state   the memory manager checkpoint, as kubelet 1.36 writes it
      pods.json              the index of the pods: [sequence, namespace, name, uid, admitted] per pod
      pods/UID.json          one pod: the API server's object + the kubelet's verdict
      objects.json           namespaces and ResourceQuotas
      .lock                  flock: exclusive for load -> modify -> write, shared for readers

(An older node directory keeps every pod inside ``pods.json``; it is read as it
is and written in the new layout at its next change.)

Loading a node starts its kubelet from the checkpoints: the configuration is
checked, the checkpoints are restored (the kubelet's own refusals included: a
policy that differs from the checkpoint, a corrupt or foreign file). The
kubelet checkpoints every change, so with the files it wrote in place
(``kubeletInputs`` in node.json) this is the kubelet going on: the running pods
keep their assignments. A real kubelet restart (``node restart``, ``node
reconfigure``, or checkpoint files deleted while pods run: a kubelet starting
from empty state) re-admits the running pods one by one in creation order, as
kubelet 1.36.2 does, its bugs included (:mod:`topolet.engine.restart`): a pod
may move, leak CPUs or be rejected. A command reads what it uses: the
kubelet starts when a command first needs it, and a pod's file is read when the
pod is first used, so a one-pod change on a node with many pods costs one pod.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from topolet.io.statefile import JOURNAL_NAME, JOURNAL_TMP_NAME, LOCK_NAME, DirLock, StateFileError, commit_files
from topolet.nodedir.errors import NodeDirError, NodeExistsError, NodeStartError, NoNodeError
from topolet.nodedir.jsonfile import expect_list, expect_mapping, loads_json, read_bytes_or_none, read_json, type_name
from topolet.nodedir.pods import StoredPod, now_rfc3339
from topolet.nodedir.podtable import (
    LAYOUT_POD_FILES,
    PODS_DIR,
    IndexRow,
    PodTable,
    check_uid,
    parse_index,
    pod_file_name,
)

if TYPE_CHECKING:
    from topolet.engine.node import Node
    from topolet.engine.restart import RestartResult
    from topolet.engine.result import AdmitResult
    from topolet.io.quota import ResourceQuota
    from topolet.model.kubelet_config import KubeletConfig
    from topolet.model.pod import Pod
    from topolet.model.topology import Topology

__all__ = [
    "NoNodeError",
    "NodeDirError",
    "NodeExistsError",
    "NodeStartError",
]

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
#: what topolet itself leaves in a node directory while it writes (the lock, the journal, temporary files)
_OUR_TRANSIENT = re.compile(r"^(\.lock|\.journal|\.journal\.tmp|\..+\.tmp\.\d+)$")


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
    # a digest of what the running kubelet started from and wrote (configuration file, machine,
    # checkpoint files): while unchanged, loading the node is the same kubelet going on; empty
    # when the kubelet is down
    kubelet_inputs: str = ""

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
        if self.kubelet_inputs:
            out["kubeletInputs"] = self.kubelet_inputs
        return out

    @staticmethod
    def from_dict(d: Any, where: str) -> NodeMeta:
        if not isinstance(d, dict) or d.get("format") != NODE_DIR_FORMAT:
            raise NodeDirError(f"{where}: not a topolet node directory file (format {NODE_DIR_FORMAT!r} expected)")
        seq = d.get("nextSequence")
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
            raise NodeDirError(f"{where}: nextSequence must be a positive integer")
        for key in ("name", "creationTimestamp", "topologySource", "configSource"):
            if not isinstance(d.get(key, ""), str | None):
                raise NodeDirError(f"{where}: {key} must be a string, got {type_name(d.get(key))}")
        kv = d.get("kubeletVersion", "1.36")
        if kv not in KUBELET_VERSIONS:
            raise NodeDirError(f"{where}: kubeletVersion must be one of {', '.join(KUBELET_VERSIONS)}, not {kv!r:.40}")
        return NodeMeta(
            kubelet_version=kv,
            name=str(d.get("name") or DEFAULT_NODE_NAME),
            created=str(d.get("creationTimestamp") or ""),
            next_sequence=seq,
            topology_source=str(d.get("topologySource") or ""),
            config_source=str(d.get("configSource") or ""),
            kubelet_inputs=str(d.get("kubeletInputs") or ""),
        )


def kubelet_inputs(config_bytes: bytes, topology: Topology, cpu_bytes: bytes | None, mem_bytes: bytes | None) -> str:
    """A digest of a running kubelet's inputs and outputs: its configuration file, the machine and
    the checkpoint files it wrote (anything changed behind its back makes the next load a start)."""
    import hashlib

    from topolet.nodedir.topology_file import explicit_spec

    h = hashlib.sha256(config_bytes)
    for part in (
        json.dumps(explicit_spec(topology), sort_keys=True, default=str).encode(),
        cpu_bytes or b"",
        mem_bytes or b"",
    ):
        h.update(b"\0%d\0" % len(part))
        h.update(part)
    return h.hexdigest()


def _json_bytes(data: Any) -> bytes:
    return (json.dumps(data, indent=1, sort_keys=False) + "\n").encode()


def _index_bytes(index: list[list[Any]]) -> bytes:
    rows = ",\n  ".join(json.dumps(r) for r in index)
    body = f"[\n  {rows}\n ]" if index else "[]"
    return (
        f'{{\n "format": {json.dumps(NODE_DIR_FORMAT)},\n "layout": "{LAYOUT_POD_FILES}",\n "index": {body}\n}}\n'
    ).encode()


def node_checkpoint_bytes(node: Node, kubelet_version: str = "1.36") -> tuple[bytes, bytes]:
    """The ``cpu_manager_state`` and ``memory_manager_state`` files the node's kubelet writes:
    1.36's formats (V3/V2, or V2/V1 with the pod-level gate off), or 1.37's (CPU V4, memory V3)."""
    from topolet.io.kubelet_restart import checkpoint_bytes

    if kubelet_version == "1.36":
        return checkpoint_bytes(node)
    from topolet.io.checkpoint import (
        cpu_checkpoint_version_for,
        dump_cpu_checkpoint,
        dump_memory_checkpoint,
        memory_checkpoint_version_for,
    )

    return (
        dump_cpu_checkpoint(node.cpu_manager.state, cpu_checkpoint_version_for(True, kubelet_version)),
        dump_memory_checkpoint(node.memory_manager.state, memory_checkpoint_version_for(True, kubelet_version)),
    )


def topology_yaml(topology: Topology, source: str) -> bytes:
    import yaml

    from topolet.io import yamlio
    from topolet.model.topology import topology_to_spec

    header = (
        f"# The node's machine topology (from {source}), in the explicit form of topolet's FORMAT.md.\n"
        "# Written by `topolet node init`; the checkpoints are only valid for this machine.\n"
    )
    body = yaml.dump(topology_to_spec(topology), Dumper=yamlio.SafeDumper, sort_keys=False, default_flow_style=None)
    return (header + body).encode()


# --------------------------------------------------------------------------- objects.json


def parse_objects(doc: Any, where: str) -> tuple[dict[str, str], dict[str, ResourceQuota]]:
    """``objects.json``: namespaces (name -> creationTimestamp) and ResourceQuotas (by namespace/name)."""
    doc = expect_mapping(doc, where)
    nss = doc.get("namespaces")
    namespaces: dict[str, str] = {}
    for i, n in enumerate(expect_list([] if nss is None else nss, f"{where}: namespaces")):
        w = f"{where}: namespaces[{i}]"
        n = expect_mapping(n, w)
        name, created = n.get("name"), n.get("creationTimestamp", "")
        if not isinstance(name, str) or not name:
            raise NodeDirError(f"{w}: name must be a non-empty string, got {type_name(name)}")
        if not isinstance(created, str | None):
            raise NodeDirError(f"{w}: creationTimestamp must be a string, got {type_name(created)}")
        namespaces[name] = created or ""
    quotas: dict[str, ResourceQuota] = {}
    rqs = doc.get("resourceQuotas")
    entries = expect_list([] if rqs is None else rqs, f"{where}: resourceQuotas")
    if entries:
        from topolet.io.quota import QuotaError, quota_from_object
        from topolet.model.quantity import QuantityError

        for i, entry in enumerate(entries):
            w = f"{where}: resourceQuotas[{i}]"
            entry = expect_mapping(entry, w)
            obj = expect_mapping(entry.get("object"), f"{w}: object")
            meta = expect_mapping(obj.get("metadata") or {}, f"{w}: object.metadata")
            source = entry.get("source", "")
            created = meta.get("creationTimestamp", "")
            if not isinstance(source, str | None) or not isinstance(created, str | None):
                raise NodeDirError(f"{w}: source and object.metadata.creationTimestamp must be strings")
            try:
                q = quota_from_object(obj, w)
            except (QuotaError, QuantityError) as e:
                raise NodeDirError(str(e)) from e
            except (TypeError, AttributeError, ValueError) as e:  # a shape quota_from_object does not expect
                raise NodeDirError(f"{w}: not a valid ResourceQuota ({e})") from e
            q.created = created or ""
            q.source = source or ""
            quotas[q.key] = q
    return namespaces, quotas


def objects_bytes(namespaces: dict[str, str], quotas: dict[str, ResourceQuota]) -> bytes:
    doc: dict[str, Any] = {
        "format": NODE_DIR_FORMAT,
        "namespaces": [{"name": n, "creationTimestamp": c} for n, c in sorted(namespaces.items())],
        "resourceQuotas": [],
    }
    if quotas:
        from topolet.io.quota import quota_to_object

        doc["resourceQuotas"] = [{"source": q.source, "object": quota_to_object(q)} for _, q in sorted(quotas.items())]
    return _json_bytes(doc)


# --------------------------------------------------------------------------- pods.json


def read_pod_table(d: Path) -> PodTable:
    """``pods.json``: the index of the new layout, or every entry in the old one (checked)."""
    p = d / PODS_FILE
    doc = expect_mapping(read_json(p), str(p))
    if doc.get("format") != NODE_DIR_FORMAT:
        raise NodeDirError(f"{p}: not a topolet node directory file (format {NODE_DIR_FORMAT!r} expected)")
    if "index" in doc:
        if doc.get("layout") != LAYOUT_POD_FILES:
            raise NodeDirError(f"{p}: layout must be {LAYOUT_POD_FILES!r}")
        return PodTable(d, parse_index(doc["index"], str(p)), where=str(p))
    items = expect_list(doc.get("items"), f"{p}: items")
    rows: list[IndexRow] = []
    raw: dict[str, Any] = {}
    for i, entry in enumerate(items):
        w = f"{p}: items[{i}]"
        entry = expect_mapping(entry, w)
        obj = expect_mapping(entry.get("object"), f"{w}: object")
        meta = expect_mapping(obj.get("metadata"), f"{w}: object.metadata")
        adm = expect_mapping(entry.get("admission"), f"{w}: admission")
        ns = meta.get("namespace") or "default"
        name = meta.get("name")
        seq = entry.get("sequence")
        if not isinstance(name, str) or not name or not isinstance(ns, str):
            raise NodeDirError(f"{w}: object.metadata.name and namespace must be strings")
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
            raise NodeDirError(f"{w}: sequence must be a positive integer")
        admitted = adm.get("admitted")
        if not isinstance(admitted, bool):
            raise NodeDirError(f"{w}: admission.admitted must be true or false")
        uid = check_uid(meta.get("uid"), w)
        rows.append(IndexRow(seq, ns, name, uid, admitted))
        raw[f"{ns}/{name}"] = (w, entry)
    rows = parse_index([r.to_list() for r in rows], f"{p}: items")  # the same uniqueness checks
    return PodTable(d, rows, raw=raw, where=str(p))


# --------------------------------------------------------------------------- the node directory


class NodeDir:
    """A loaded node directory (see the module docstring).

    The metadata, the namespaces and quotas and the pods' index are read (and checked)
    when the directory is opened; the topology, the configuration, the kubelet and each
    pod when first used.
    """

    def __init__(
        self,
        path: Path,
        meta: NodeMeta,
        pods: PodTable,
        namespaces: dict[str, str],
        quotas: dict[str, ResourceQuota],
        *,
        lock: DirLock | None = None,
        require_kubelet: bool = True,
        warn: Callable[[str], None] | None = None,
        file_bytes: dict[str, bytes] | None = None,
    ) -> None:
        self.path = path
        self.meta = meta
        self.pods = pods
        self.namespaces = namespaces
        self.quotas = quotas
        self.warnings: list[str] = []
        self.require_kubelet = require_kubelet
        self._warn = warn
        self._lock = lock
        self._file_bytes = dict(file_bytes or {})  # what was read, to write only what changed
        self._topology: Topology | None = None
        self._config: KubeletConfig | None = None
        self._config_bytes: bytes | None = None
        self._node: Node | None = None
        self._start_error: NodeStartError | None = None
        self._started = False
        self._dirty_config = False
        self._reset_checkpoints = False

    # -- lazily read parts --------------------------------------------------------
    def warn(self, text: str) -> None:
        self.warnings.append(text)
        if self._warn is not None:
            self._warn(text)

    @property
    def name(self) -> str:
        return self.meta.name

    @property
    def topology(self) -> Topology:
        if self._topology is None:
            self._topology = read_topology(self.path)
        return self._topology

    @topology.setter
    def topology(self, value: Topology) -> None:
        self._topology = value

    @property
    def config(self) -> KubeletConfig:
        if self._config is None:
            self._config, self._config_bytes = read_config(self.path)
        return self._config

    @property
    def config_bytes(self) -> bytes:
        if self._config_bytes is None:
            _ = self.config
        assert self._config_bytes is not None
        return self._config_bytes

    @property
    def node(self) -> Node | None:
        """The running kubelet; ``None`` when it refuses to start (see :attr:`start_error`)."""
        self._start()
        return self._node

    @node.setter
    def node(self, value: Node | None) -> None:
        self._started = True
        self._node = value

    @property
    def start_error(self) -> NodeStartError | None:
        self._start()
        return self._start_error

    @start_error.setter
    def start_error(self, value: NodeStartError | None) -> None:
        self._start_error = value

    def kubelet(self) -> Node:
        """The running kubelet, or the kubelet's refusal to start."""
        node = self.node
        if node is None:
            assert self._start_error is not None
            raise self._start_error
        return node

    def file(self, name: str) -> Path:
        return self.path / name

    def pod_names_by_uid(self) -> dict[str, str]:
        return {r.uid: r.key for r in self.pods.rows()}

    def namespace_exists(self, ns: str) -> bool:
        return ns in SYSTEM_NAMESPACES or ns in self.namespaces

    def find_pod(self, name: str, namespace: str) -> StoredPod | None:
        return self.pods.get(f"{namespace}/{name}")

    def next_sequence(self) -> int:
        n = self.meta.next_sequence
        self.meta.next_sequence += 1
        return n

    # -- starting the kubelet -------------------------------------------------------
    def _checkpoint(self, name: str) -> bytes | None:
        data = read_bytes_or_none(self.file(name))
        if data is not None:
            self._file_bytes[name] = data
        return data

    def _start(self) -> None:
        if self._started:
            return
        self._started = True
        cpu_b, mem_b = self._checkpoint(CPU_STATE_FILE), self._checkpoint(MEMORY_STATE_FILE)
        running = [r for r in self.pods.rows() if r.admitted]
        if running and (cpu_b is None or mem_b is None):
            # checkpoint files deleted while pods run: the kubelet starts from empty state and
            # re-admits them (never shown silently unpinned)
            try:
                outcome = restart_kubelet(
                    self.path,
                    self.topology,
                    self.config,
                    cpu_b,
                    mem_b,
                    list(self.pods.values()),
                    self.meta.name,
                    self.meta.kubelet_version,
                )
            except NodeStartError as e:
                self._start_error = e
                if self.require_kubelet:
                    raise
                self.warn(f"the kubelet refuses to start on this node: {e.message}")
                return
            gone = [f for f, b in ((CPU_STATE_FILE, cpu_b), (MEMORY_STATE_FILE, mem_b)) if b is None]
            self.warn(
                f"the checkpoint file(s) {', '.join(gone)} were deleted while {len(running)} pod(s) run: the "
                "kubelet started from empty state and re-admitted the running pods in creation order"
            )
            for line in apply_restart(self, outcome):
                self.warn(line)
            return
        try:
            digest = self.meta.kubelet_inputs
            if digest and digest == kubelet_inputs(self.config_bytes, self.topology, cpu_b, mem_b):
                # the kubelet that wrote these checkpoints goes on (it validated them when it started)
                node = resume_kubelet(self.path, self.topology, self.config, cpu_b, mem_b, self.meta.name)
            else:
                node = start_kubelet(
                    self.path,
                    self.topology,
                    self.config,
                    cpu_b,
                    mem_b,
                    self.meta.name,
                    kubelet_version=self.meta.kubelet_version,
                )
        except NodeStartError as e:
            self._start_error = e
            if self.require_kubelet:
                raise
            self.warn(f"the kubelet refuses to start on this node: {e.message}")
            return
        stale = self._register(node)
        self._node = node
        if stale:
            self._remove_stale(stale, cpu_b, mem_b)

    def _register(self, node: Node) -> list[str]:
        """Give the kubelet its running pods (their records count in its NodeInfo); remove stale state.

        Returns the stale UIDs.
        """
        from topolet.nodedir.podtable import usage_from_summary, usage_summary

        running: set[str] = set()
        plr = node.pod_level_resources
        for r in self.pods.rows():
            if not r.admitted:
                continue
            running.add(r.uid)
            usage = usage_from_summary(r.usage, plr)
            if usage is None:  # no summary (an older index): read the pod, and keep its summary
                sp = self.pods[r.key]
                node.register_running(*pod_record_parts(node, sp))
                r.usage = usage_summary(sp.pod)
            else:  # the pod's file is read when the pod is used
                node.register_running_summary(r.key, r.uid, *usage, load=self._pod_loader(node, r.key, usage))
        return remove_stale_state(node, running)

    def _pod_loader(
        self, node: Node, key: str, usage: tuple[dict[str, int], list[tuple[str, str, int]]]
    ) -> Callable[[], tuple[Pod, AdmitResult]]:
        def load() -> tuple[Pod, AdmitResult]:
            from topolet.engine.admission import pod_port_keys, pod_request_amounts

            sp = self.pods[key]
            if (pod_request_amounts(sp.pod, node.pod_level_resources), pod_port_keys(sp.pod)) != usage:
                raise NodeDirError(
                    f"{self.file(pod_file_name(sp.pod.uid))}: pod {key}'s requests or host ports do not match "
                    f"{self.file(PODS_FILE)}'s index (the node directory is damaged)"
                )
            return pod_record_parts(node, sp)

        return load

    def _remove_stale(self, stale: list[str], cpu_b: bytes | None, mem_b: bytes | None) -> None:
        """The kubelet's removeStaleState removes the entries and writes its checkpoints: so does topolet."""
        what = (
            "the checkpoints hold state for pod UID(s) that are not running on this node "
            f"({', '.join(stale)}); the kubelet's removeStaleState removes it"
        )
        if self._lock is None:
            self.warn(f"{what} (not written: the node directory is not locked)")
            return
        assert self._node is not None
        cpu, mem = node_checkpoint_bytes(self._node, self.meta.kubelet_version)
        try:
            with self._lock.exclusive_section():
                if (
                    read_bytes_or_none(self.file(CPU_STATE_FILE)) != cpu_b
                    or read_bytes_or_none(self.file(MEMORY_STATE_FILE)) != mem_b
                ):
                    self.warn(f"{what}; another command changed the checkpoints meanwhile, so they were not rewritten")
                    return
                notes = commit_files(self.path, {CPU_STATE_FILE: cpu, MEMORY_STATE_FILE: mem})
        except StateFileError as e:
            self.warn(f"{what}; it is removed for this command, but the checkpoints could not be rewritten: {e}")
            return
        self._file_bytes[CPU_STATE_FILE], self._file_bytes[MEMORY_STATE_FILE] = cpu, mem
        self.warn(f"{what}: removed, and {CPU_STATE_FILE} and {MEMORY_STATE_FILE} rewritten as the kubelet writes them")
        for n in notes:
            self.warn(n)

    def materialize(self) -> None:
        """Read every pod and make every kubelet record (for tools that walk the whole node)."""
        for _ in self.pods.values():
            pass
        _ = self.node

    # -- changes --------------------------------------------------------------------
    def set_config(self, config: KubeletConfig, data: bytes, source: str) -> None:
        self._config = config
        self._config_bytes = data
        self.meta.config_source = source
        self._dirty_config = True

    def reset_checkpoints(self) -> None:
        """Delete the checkpoint files on save (the kubelet's remedy after a drain)."""
        self._reset_checkpoints = True

    def save(self) -> list[str]:
        """Write every changed file as one unit (the caller holds the exclusive lock).

        Returns warnings: a change that is committed but whose clean-up failed is made
        (it is finished by the next command), not an error.
        """
        files: dict[str, bytes | None] = {}

        def put(name: str, data: bytes) -> None:
            if self._file_bytes.get(name) != data:
                files[name] = data

        checkpoints: tuple[bytes, bytes] | None = None
        if self._started:
            self.meta.kubelet_inputs = ""
            if self._node is not None:
                checkpoints = node_checkpoint_bytes(self._node, self.meta.kubelet_version)
                self.meta.kubelet_inputs = kubelet_inputs(self.config_bytes, self.topology, *checkpoints)
        put(NODE_FILE, _json_bytes(self.meta.to_dict()))
        put(OBJECTS_FILE, objects_bytes(self.namespaces, self.quotas))
        pods = self.pods
        migrate = pods.old_layout
        if pods.changed or migrate:
            files[PODS_FILE] = _index_bytes(pods.index_doc())
            keys = list(pods) if migrate else sorted(pods.dirty)
            for key in keys:
                row = pods.row(key)
                if row is not None:
                    files[pod_file_name(row.uid)] = _json_bytes(pods.entry_for(key))
            live = {r.uid for r in pods.rows()}
            for uid in sorted(pods.removed_uids - live):
                files[pod_file_name(uid)] = None
        if self._dirty_config:
            files[CONFIG_FILE] = self.config_bytes
        if checkpoints is not None:
            cpu, mem = checkpoints
            for fname, data in ((CPU_STATE_FILE, cpu), (MEMORY_STATE_FILE, mem)):
                if not _same_bytes(self.file(fname), data):
                    files[fname] = data
        elif self._reset_checkpoints:
            files[CPU_STATE_FILE] = None
            files[MEMORY_STATE_FILE] = None
        if not files:
            return []
        notes = commit_files(self.path, files)
        for name, data in files.items():
            if data is not None:
                self._file_bytes[name] = data
        pods.dirty.clear()
        pods.removed_uids.clear()
        pods.changed = False
        self._dirty_config = False
        self._reset_checkpoints = False
        return notes


def pod_record_parts(node: Node, sp: StoredPod) -> tuple[Pod, AdmitResult]:
    """A running pod and its admission result, with its existing assignments (entries are authoritative)."""
    from topolet.engine.result import AdmitResult

    pod = sp.pod
    result = AdmitResult(sp.key, pod.uid, True, qos=pod.qos_class)
    result.pod_cpus = node.cpu_manager.state.pod_assignments.get(pod.uid, 0)
    result.containers = node.container_allocations(pod)
    return pod, result


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        return path.read_bytes() == data
    except OSError:
        return False


# --------------------------------------------------------------------------- starting the kubelet


def _fix_paths(message: str, d: Path) -> str:
    """The kubelet names its checkpoint files under /var/lib/kubelet: name this node's files instead."""
    from topolet.io.checkpoint import go_quote

    for fname in (CPU_STATE_FILE, MEMORY_STATE_FILE):
        message = message.replace(go_quote(_KUBELET_ROOT + fname), go_quote(str(d / fname)))
    return message


def _name_checkpoint(message: str, d: Path, cpu_restored: bool, mem_restored: bool) -> str:
    """A refusal caused by a checkpoint file starts with that file's path (the kubelet's text follows)."""
    if cpu_restored and message.startswith("start cpu manager error"):
        return f"{d / CPU_STATE_FILE}: {message}"
    if mem_restored and message.startswith("start memory manager error"):
        return f"{d / MEMORY_STATE_FILE}: {message}"
    return message


def _name_config(d: Path, config: KubeletConfig, err: Exception) -> str:
    """A refusal caused by the configuration starts with the node's config file (and field, where known)."""
    from topolet.io.inputs import refusal_field

    message = str(err)
    where = refusal_field(message, config, getattr(err, "stage", None))
    return f"{d / CONFIG_FILE}: {where + ': ' if where else ''}{message}"


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

    Raises :class:`NodeStartError` with the kubelet's message (preceded by the checkpoint
    file's path when a checkpoint is refused).
    """
    from topolet.engine.errors import StartupError
    from topolet.engine.node import Node
    from topolet.engine.startup import startup_checks
    from topolet.io.checkpoint import CheckpointError, load_cpu_checkpoint, load_memory_checkpoint
    from topolet.model.features import POD_LEVEL_RESOURCE_MANAGERS

    try:
        plan = startup_checks(config, topology, node_allocatable=False)
    except StartupError as e:
        # a configuration the kubelet refuses: say which file and field (the kubelet's text follows)
        raise NodeStartError(_name_config(d, config, e)) from e
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
        raise NodeStartError(f"{d / CPU_STATE_FILE}: start cpu manager error: {e.message}") from e
    except RecursionError as e:
        raise NodeStartError(f"{d / CPU_STATE_FILE}: start cpu manager error: nested too deeply") from e
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
        raise NodeStartError(f"{d / MEMORY_STATE_FILE}: start memory manager error: {e.message}") from e
    except RecursionError as e:
        raise NodeStartError(f"{d / MEMORY_STATE_FILE}: start memory manager error: nested too deeply") from e
    try:
        node = Node(topology, config, cpu_state=cpu_state, memory_state=mem_state, name=name)
    except StartupError as e:
        fixed = _fix_paths(str(e), d)
        msg = _name_checkpoint(fixed, d, cpu_bytes is not None, mem_bytes is not None)
        if msg == fixed and not msg.startswith(("start cpu manager error", "start memory manager error")):
            msg = _name_config(d, config, e)  # not a checkpoint's: the configuration's
        raise NodeStartError(msg) from e
    return node


def resume_kubelet(
    d: Path,
    topology: Topology,
    config: KubeletConfig,
    cpu_bytes: bytes | None,
    mem_bytes: bytes | None,
    name: str = DEFAULT_NODE_NAME,
) -> Node:
    """The running kubelet, from the checkpoints it wrote (no start-up validation: it is not a new
    kubelet; e.g. CPUs that 1.36.2 leaked at the last restart only stop the *next* restart)."""
    from topolet.engine.errors import StartupError
    from topolet.engine.restart import resume_node
    from topolet.io.kubelet_restart import read_checkpoints

    cp = read_checkpoints(config, cpu_bytes, mem_bytes, str(d))
    if cp.cpu_error is not None:
        raise NodeStartError(f"{d / CPU_STATE_FILE}: start cpu manager error: {cp.cpu_error}")
    if cp.memory_error is not None:
        raise NodeStartError(f"{d / MEMORY_STATE_FILE}: start memory manager error: {cp.memory_error}")
    try:
        return resume_node(topology, config, cp, name=name)
    except StartupError as e:
        raise NodeStartError(_fix_paths(str(e), d)) from e


def restart_kubelet(
    d: Path,
    topology: Topology,
    config: KubeletConfig,
    cpu_bytes: bytes | None,
    mem_bytes: bytes | None,
    pods: list[StoredPod],
    name: str = DEFAULT_NODE_NAME,
    kubelet_version: str = "1.36",
) -> RestartResult:
    """A kubelet restart on the node directory's checkpoints (``None``: no file): the new kubelet
    starts, then re-admits the running pods in creation order (kubelet 1.36.2, bugs included).

    Raises :class:`NodeStartError` with the kubelet's message (this node's file paths).
    """
    from topolet.engine.errors import StartupError
    from topolet.engine.restart import record_pods
    from topolet.engine.startup import startup_checks
    from topolet.io.kubelet_restart import restart_from_files

    try:
        startup_checks(config, topology, node_allocatable=False)
    except StartupError as e:
        raise NodeStartError(str(e)) from e
    running = [sp.pod for sp in sorted(pods, key=lambda p: p.sequence) if sp.admitted]
    try:
        outcome = restart_from_files(
            topology,
            config,
            cpu_bytes,
            mem_bytes,
            running,
            directory=str(d),
            name=name,
            kubelet_version=kubelet_version,
        )
    except StartupError as e:
        msg = _name_checkpoint(_fix_paths(str(e), d), d, cpu_bytes is not None, mem_bytes is not None)
        raise NodeStartError(msg) from e
    record_pods(outcome)
    return outcome


def apply_restart(nd: NodeDir, outcome: RestartResult) -> list[str]:
    """Take a restart's outcome into the node directory: the new kubelet, the pods rejected at
    re-admission (Failed, containers killed) and where 1.36.2's bug hit. Returns notes for the user."""
    notes_by_pod = {n.pod: n for n in outcome.notes}
    lines: list[str] = []
    for r in outcome.pods:
        sp = nd.pods.get(r.result.pod)
        if sp is None:
            continue
        note = notes_by_pod.get(r.result.pod)
        if not r.result.admitted:
            sp.admitted, sp.reason, sp.message = False, r.result.reason, r.result.message
        if note is not None:
            sp.restart_note = note.describe()
        elif not r.result.admitted:
            sp.restart_note = (
                f"rejected when the restarted kubelet re-admitted it ({r.result.reason}); it was set to Failed "
                "and its containers killed"
            )
        else:
            continue
        lines.append(f"pod/{sp.pod.name}: {sp.restart_note}")
        nd.pods[sp.key] = sp
    nd.node = outcome.node
    nd.start_error = None
    return lines


def remove_stale_state(node: Node, running: set[str]) -> list[str]:
    """State held for pod UIDs that are not running is removed, as the kubelet's ``removeStaleState`` does.

    Returns the stale UIDs (the caller writes the checkpoints).
    """
    from topolet.model.pod import Container, Pod

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


def register_pods(node: Node, pods: list[StoredPod]) -> list[str]:
    """Re-register the running pods with their existing assignments (entries are authoritative).

    State held for pod UIDs that are not running here is stale: it is removed
    as the kubelet's ``removeStaleState`` does. Returns the stale UIDs.
    """
    running: set[str] = set()
    for sp in sorted(pods, key=lambda p: p.sequence):
        if not sp.admitted:
            continue
        running.add(sp.pod.uid)
        node.register_running(*pod_record_parts(node, sp))
    return remove_stale_state(node, running)


# --------------------------------------------------------------------------- reading a node directory


def _parse_mapping(data: bytes, p: Path) -> dict[str, Any]:
    """One YAML/JSON mapping (the node directory's own YAML files); errors name the file."""
    from topolet.io import yamlio

    try:
        docs = [x for x in yamlio.load_all(data.decode("utf-8")) if x is not None]
    except UnicodeDecodeError as e:
        raise NodeDirError(f"{p}: not a UTF-8 text file") from e
    except RecursionError as e:
        raise NodeDirError(f"{p}: not valid YAML: nested too deeply") from e
    except Exception as e:  # yaml.YAMLError and its scanner/parser subclasses
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise NodeDirError(f"{p}: not valid YAML{where}: {problem}") from e
    if len(docs) != 1 or not isinstance(docs[0], dict):
        raise NodeDirError(f"{p}: expected one YAML/JSON mapping")
    return docs[0]


def read_config(d: Path) -> tuple[KubeletConfig, bytes]:
    from topolet.model.kubelet_config import KubeletConfigError, load_kubelet_config
    from topolet.model.quantity import QuantityError

    p = d / CONFIG_FILE
    data = read_bytes_or_none(p)
    if data is None:
        raise NodeDirError(f"{p}: missing (the node directory is incomplete)")
    mapping = _parse_mapping(data, p)
    try:
        return load_kubelet_config(mapping, str(p)), data
    except RecursionError as e:
        raise NodeDirError(f"{p}: nested too deeply") from e
    except (KubeletConfigError, QuantityError, ValueError, TypeError) as e:
        raise NodeDirError(str(e) if str(p) in str(e) else f"{p}: {e}") from e


def read_topology(d: Path) -> Topology:
    from topolet.model.quantity import QuantityError
    from topolet.model.topology import TopologyError
    from topolet.nodedir.topology_file import plain_topology

    p = d / TOPOLOGY_FILE
    data = read_bytes_or_none(p)
    if data is None:
        raise NodeDirError(f"{p}: missing (the node directory is incomplete)")
    spec = _parse_mapping(data, p)
    fast = plain_topology(spec)  # the file as node init wrote it: no validating model needed
    if fast is not None:
        return fast
    from topolet.model.topology_spec import TopologySpecError, topology_from_spec

    try:
        return topology_from_spec(spec, str(p))
    except RecursionError as e:
        raise NodeDirError(f"{p}: nested too deeply") from e
    except (TopologySpecError, TopologyError, QuantityError, ValueError, TypeError) as e:
        raise NodeDirError(str(e) if str(p) in str(e) else f"{p}: {e}") from e


def is_node_dir(d: Path) -> bool:
    return (d / NODE_FILE).is_file()


def _load(
    d: Path,
    *,
    require_kubelet: bool,
    lock: DirLock | None = None,
    warn: Callable[[str], None] | None = None,
    eager: bool = True,
) -> NodeDir:
    if not d.exists():
        raise NoNodeError(f"no topolet node at {d}; {_how_to_create(d)}")
    if not d.is_dir():
        raise NodeDirError(f"{d}: not a directory")
    if not is_node_dir(d):
        raise NoNodeError(f"{d} is not a topolet node directory (no {NODE_FILE}); {_how_to_create(d)}")
    file_bytes: dict[str, bytes] = {}
    docs: dict[str, Any] = {}
    for name in (NODE_FILE, OBJECTS_FILE):
        data = read_bytes_or_none(d / name)
        if data is None:
            raise NodeDirError(f"{d / name}: missing (the node directory is incomplete)")
        file_bytes[name] = data
        docs[name] = loads_json(data, str(d / name))
    meta = NodeMeta.from_dict(docs[NODE_FILE], str(d / NODE_FILE))
    namespaces, quotas = parse_objects(docs[OBJECTS_FILE], str(d / OBJECTS_FILE))
    pods = read_pod_table(d)
    nd = NodeDir(
        d,
        meta,
        pods,
        namespaces,
        quotas,
        lock=lock,
        require_kubelet=require_kubelet,
        warn=warn,
        file_bytes=file_bytes,
    )
    if eager:
        _ = nd.topology, nd.config
        if require_kubelet:
            nd.kubelet()
    return nd


@contextmanager
def open_node(
    path: str | os.PathLike[str] | None,
    *,
    write: bool,
    require_kubelet: bool = True,
    warn: Callable[[str], None] | None = None,
    eager: bool = True,
) -> Iterator[NodeDir]:
    """Lock and load the node directory (exclusive lock with ``write``: the caller calls ``save()``
    before leaving the block, still under the lock).

    ``eager=False`` reads the topology, the configuration and the kubelet only when used
    (the CLI: a command pays for what it shows); ``warn`` receives warnings as they arise.
    """
    d = resolve_node_dir(path)
    if not d.is_dir() or not is_node_dir(d):
        _load(d, require_kubelet=require_kubelet)  # raises the "no node" error
    try:
        lock = DirLock(d, exclusive=write)
        lock.__enter__()
    except StateFileError as e:
        raise NodeDirError(str(e)) from e
    try:
        yield _load(d, require_kubelet=require_kubelet, lock=lock, warn=warn, eager=eager)
    finally:
        lock.__exit__(None, None, None)


def load_node_readonly(path: str | os.PathLike[str] | None) -> Node:
    """The node's kubelet, restored from its directory (``None``: the default node directory).

    Raises :class:`NoNodeError` (no node: the message says how to create one),
    :class:`NodeStartError` (the kubelet refuses to start: its message) or
    :class:`NodeDirError`.
    """
    with open_node(path, write=False) as nd:
        nd.materialize()
        return nd.kubelet()


def load_node_dir_readonly(path: str | os.PathLike[str] | None, *, require_kubelet: bool = False) -> NodeDir:
    """The whole node directory (pods, quotas, metadata) read under a shared lock."""
    with open_node(path, write=False, require_kubelet=require_kubelet) as nd:
        nd.materialize()
        return nd


# --------------------------------------------------------------------------- creating a node directory


@dataclass(slots=True)
class InitResult:
    nd: NodeDir
    replaced: bool
    warnings: list[str]


def _foreign_entries(d: Path) -> list[str]:
    """What in ``d`` is not topolet's own (its files, the pods directory, its lock, journal and temporary files)."""
    out = []
    for p in d.iterdir():
        if p.name in OUR_FILES or _OUR_TRANSIENT.match(p.name):
            continue
        if p.name == PODS_DIR and p.is_dir() and all(c.name.endswith(".json") for c in p.iterdir()):
            continue
        out.append(p.name)
    return sorted(out)


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

    A directory left by an interrupted ``node init`` (topolet's lock, journal or temporary
    files only) is taken over; a committed but unfinished write is finished first (the
    node then exists).

    ``kubelet_version`` "1.37" makes the node's kubelet write 1.37's checkpoint formats (CPU V4,
    memory V3); the managers' behaviour stays 1.36's.
    """
    from topolet.io.inputs import InputError, load_kubelet_config_file, load_topology_arg, read_text

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
        from topolet.io.inputs import config_source as config_source_name
        from topolet.io.inputs import refusal_message

        raise NodeStartError(refusal_message(config_source_name(config_path), config, e.__cause__ or e)) from e
    if d.exists() and not d.is_dir():
        raise NodeDirError(f"{d}: exists and is not a directory")
    existed_before = d.is_dir() and is_node_dir(d)
    if d.is_dir():
        others = _foreign_entries(d)
        if others:
            raise NodeDirError(
                f"{d} is not empty and is not a topolet node directory (it holds {', '.join(others[:5])}"
                f"{', ...' if len(others) > 5 else ''}); choose a new or empty directory"
            )
        if existed_before and not force:
            raise NodeExistsError(
                f"a topolet node already exists in {d}; use --force to replace it (its pods are discarded)"
            )
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise NodeDirError(f"{d}: cannot create the node directory: [Errno {e.errno}] {e.strerror}") from e
    if topology_arg is None:
        topology_source = "preset:2-numa"
    elif topology_arg == "sysfs" or topology_arg.startswith(("sysfs:", "preset:")):
        topology_source = topology_arg
    else:
        topology_source = str(Path(topology_arg).resolve())
    meta = NodeMeta(
        name=name or (socket_hostname() if topology_arg == "sysfs" else DEFAULT_NODE_NAME),
        created=now_rfc3339(),
        topology_source=topology_source,
        config_source=config_source,
        kubelet_version=kubelet_version,
    )
    # the configuration's own warnings (unknown fields, feature gates) were reported when it was read
    reported = " ".join(config.warnings)
    warnings = [w for w in node.plan.warnings if w not in reported]
    replaced = False
    try:
        # taking the lock finishes (or discards) an interrupted write first
        with DirLock(d, exclusive=True):
            if is_node_dir(d):
                if not force:
                    if existed_before:
                        raise NodeExistsError(f"a topolet node already exists in {d}; use --force to replace it")
                    raise NodeExistsError(
                        f"a topolet node now exists in {d}: another `{program_name()} node init` (or an interrupted "
                        "one, finished now) created it; use --force to replace it"
                    )
                replaced = True
            elif any((d / f).exists() for f in OUR_FILES) and not force:
                raise NodeExistsError(
                    f"{d} holds an incomplete topolet node directory (no {NODE_FILE}); use --force to replace it"
                )
            cpu, mem = node_checkpoint_bytes(node, kubelet_version)
            meta.kubelet_inputs = kubelet_inputs(config_bytes, topology, cpu, mem)
            files: dict[str, bytes | None] = {
                TOPOLOGY_FILE: topology_yaml(topology, topology_source),
                CONFIG_FILE: config_bytes,
                CPU_STATE_FILE: cpu,
                MEMORY_STATE_FILE: mem,
                PODS_FILE: _index_bytes([]),
                OBJECTS_FILE: objects_bytes({}, {}),
                NODE_FILE: _json_bytes(meta.to_dict()),
            }
            pods_dir = d / PODS_DIR
            if pods_dir.is_dir():  # the replaced node's pods
                for p in pods_dir.iterdir():
                    files[f"{PODS_DIR}/{p.name}"] = None
            for p in d.iterdir():  # an interrupted write's temporary files
                if _OUR_TRANSIENT.match(p.name) and p.name not in (LOCK_NAME, JOURNAL_NAME, JOURNAL_TMP_NAME):
                    p.unlink(missing_ok=True)
            warnings += commit_files(d, files)
    except StateFileError as e:
        raise NodeDirError(str(e)) from e
    nd = NodeDir(d, meta, PodTable(d, []), {}, {})
    nd.topology = topology
    nd.set_config(config, config_bytes, config_source)
    nd._dirty_config = False
    nd.node = node
    return InitResult(nd, replaced, warnings)


def socket_hostname() -> str:
    import socket

    return socket.gethostname()
