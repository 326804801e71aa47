"""The ``--state`` directory of ``topolet cluster run``: one kubelet's checkpoints per node.

Layout::

    STATE/
      cluster.json                   the fleet's name and its nodes (written at start)
      .lock                          flock held by the running ``topolet cluster run``
      nodes/NAME/cpu_manager_state     the CPU manager checkpoint, as kubelet 1.36 writes it
      nodes/NAME/memory_manager_state  the memory manager checkpoint, as kubelet 1.36 writes it

The checkpoints are written with the node directory's commit journal
(:func:`topolet.io.statefile.commit_files`: both files as one unit, fsynced)
after every admission and every removal, before the pod's status is written:
a ``topolet cluster run`` killed at any point restarts as a kubelet would,
from the last checkpoints (:func:`topolet.nodedir.store.start_kubelet`, with
the kubelet's own refusals). Pods are not stored here: the API server holds
them, as it does for a kubelet.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

from topolet.cluster.fleetnodes import NodeSpec
from topolet.engine.node import Node
from topolet.io.statefile import LOCK_NAME, StateFileError, atomic_write, commit_files, recover
from topolet.nodedir.store import CPU_STATE_FILE, MEMORY_STATE_FILE, NodeStartError, start_kubelet

STATE_FORMAT = "topolet.dev/cluster/v1"


class StateError(Exception):
    """A state directory that cannot be used (the message names it)."""


class ClusterState:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._fd: int | None = None

    def open(self) -> None:
        """Create the directory if needed and take its lock (one ``cluster run`` per state directory)."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            (self.root / "nodes").mkdir(exist_ok=True)
        except OSError as e:
            raise StateError(f"{self.root}: cannot create the state directory: {e.strerror}") from e
        path = self.root / LOCK_NAME
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise StateError(f"{path}: cannot open the lock file: {e.strerror}") from e
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise StateError(
                f"{self.root}: another topolet cluster run is using this state directory (stop it first)"
            ) from None
        self._fd = fd

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def node_dir(self, name: str) -> Path:
        return self.root / "nodes" / name

    def write_meta(self, fleet: str, nodes: list[NodeSpec], endpoint: str) -> None:
        data = {
            "format": STATE_FORMAT,
            "fleet": fleet,
            "endpoint": endpoint,
            "nodes": {n.name: n.pool for n in nodes},
        }
        atomic_write(self.root / "cluster.json", (json.dumps(data, indent=1) + "\n").encode())

    def start(self, spec: NodeSpec) -> Node:
        """The node's kubelet on its checkpoints (fresh state when there are none)."""
        d = self.node_dir(spec.name)
        d.mkdir(exist_ok=True)
        try:
            recover(d)
        except StateFileError as e:
            raise StateError(str(e)) from e
        cpu = _read(d / CPU_STATE_FILE)
        mem = _read(d / MEMORY_STATE_FILE)
        try:
            return start_kubelet(d, spec.topology, spec.config, cpu, mem, name=spec.name)
        except NodeStartError as e:
            raise StateError(f"node {spec.name}: the kubelet refuses to start: {e.message}") from e

    def save(self, name: str, checkpoints: tuple[bytes, bytes]) -> None:
        cpu, mem = checkpoints
        try:
            commit_files(self.node_dir(name), {CPU_STATE_FILE: cpu, MEMORY_STATE_FILE: mem})
        except StateFileError as e:
            raise StateError(str(e)) from e

    def read_checkpoints(self, name: str) -> tuple[bytes | None, bytes | None]:
        d = self.node_dir(name)
        return _read(d / CPU_STATE_FILE), _read(d / MEMORY_STATE_FILE)


def _read(p: Path) -> bytes | None:
    try:
        return p.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise StateError(f"{p}: cannot read: {e.strerror}") from e
