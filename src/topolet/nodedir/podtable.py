"""The pods of a node directory, read one at a time.

Layout (``pods.json`` is an index, each pod has its own file)::

    pods.json            {"format": ..., "layout": "pod-files",
                          "index": [[sequence, namespace, name, uid, admitted], ...]}
    pods/UID.json        one stored pod entry (see :func:`topolet.nodedir.pods.stored_pod_entry`)

A one-pod change writes the index (a short row per pod), that pod's file and
the checkpoints -- not every pod. The older layout (``pods.json`` holding every
entry under ``items``) is still read; the next change writes the new layout.

:class:`PodTable` is the ``namespace/name -> StoredPod`` mapping of a loaded
node: a pod's file is read and checked when the pod is first used (a command
that does not start the kubelet reads only the pods it shows). The kubelet
counts every running pod in its NodeInfo: a running pod's index row keeps what
that count needs (:func:`usage_summary`: its request amounts and host ports), so
starting the kubelet reads no pod file; a pod is read when it is used, and then
checked against its summary. A row without a usable summary (an older index)
makes the pod be read at start, as before; the next write of the index adds its summary.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from topolet.nodedir.errors import NodeDirError
from topolet.nodedir.jsonfile import loads_json, read_bytes_or_none
from topolet.nodedir.pods import StoredPod, StoredPodError, stored_pod_entry, stored_pod_from_entry

PODS_DIR = "pods"
LAYOUT_POD_FILES = "pod-files"
_UID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def pod_file_name(uid: str) -> str:
    return f"{PODS_DIR}/{uid}.json"


#: the version of the usage summary kept in an index row (a summary of another version is not used)
USAGE_VERSION = 1


@dataclass(slots=True)
class IndexRow:
    sequence: int
    namespace: str
    name: str
    uid: str
    admitted: bool
    #: a running pod's usage summary (:func:`usage_summary`), or None (the pod's file then tells)
    usage: dict[str, Any] | None = None

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def to_list(self) -> list[Any]:
        row: list[Any] = [self.sequence, self.namespace, self.name, self.uid, self.admitted]
        if self.usage is not None and self.admitted:
            row.append(self.usage)
        return row


def usage_summary(pod: Any) -> dict[str, Any]:
    """What the kubelet's fit check counts of a running pod (its ``NodeInfo`` share): the request
    amounts with the PodLevelResources gate off and on, and its host ports."""
    from topolet.engine.admission import pod_port_keys, pod_request_amounts

    off = pod_request_amounts(pod, False)
    on = pod_request_amounts(pod, True)
    out: dict[str, Any] = {"v": USAGE_VERSION, "requests": off}
    if on != off:
        out["requestsPodLevel"] = on
    ports = pod_port_keys(pod)
    if ports:
        out["hostPorts"] = [list(p) for p in ports]
    return out


def _amounts(v: Any) -> dict[str, int] | None:
    if type(v) is not dict or not all(type(k) is str and type(n) is int for k, n in v.items()):
        return None
    return v


def usage_from_summary(
    summary: Any, pod_level_resources: bool
) -> tuple[dict[str, int], list[tuple[str, str, int]]] | None:
    """The request amounts and host ports of a summary, or None when it is not usable (absent,
    another version, malformed): the caller then reads the pod's file."""
    if type(summary) is not dict or summary.get("v") != USAGE_VERSION:
        return None
    amounts = _amounts(summary.get("requests"))
    if pod_level_resources and "requestsPodLevel" in summary:
        amounts = _amounts(summary["requestsPodLevel"])
    ports_raw = summary.get("hostPorts", [])
    if amounts is None or type(ports_raw) is not list:
        return None
    ports: list[tuple[str, str, int]] = []
    for p in ports_raw:
        if (
            type(p) is not list
            or len(p) != 3
            or type(p[0]) is not str
            or type(p[1]) is not str
            or type(p[2]) is not int
        ):
            return None
        ports.append((p[0], p[1], p[2]))
    return dict(amounts), ports


def check_uid(uid: Any, where: str) -> str:
    if not isinstance(uid, str) or not _UID_RE.match(uid):
        raise NodeDirError(f"{where}: metadata.uid must be a UID (letters, digits, '-', '.', '_'), got {uid!r:.80}")
    return uid


def parse_index(rows: Any, where: str) -> list[IndexRow]:
    """The rows of ``pods.json``'s index, checked (types, unique names, UIDs and sequence numbers)."""
    if not isinstance(rows, list):
        raise NodeDirError(f"{where}: index must be a list")
    out: list[IndexRow] = []
    keys: set[str] = set()
    uids: set[str] = set()
    seqs: set[int] = set()
    for i, r in enumerate(rows):
        w = f"{where}: index[{i}]"
        if not isinstance(r, list) or len(r) not in (5, 6):
            raise NodeDirError(f"{w}: must be [sequence, namespace, name, uid, admitted]")
        seq, ns, name, uid, admitted = r[:5]
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
            raise NodeDirError(f"{w}: sequence must be a positive integer")
        if not isinstance(ns, str) or not ns or not isinstance(name, str) or not name:
            raise NodeDirError(f"{w}: namespace and name must be non-empty strings")
        check_uid(uid, w)
        if not isinstance(admitted, bool):
            raise NodeDirError(f"{w}: admitted must be true or false")
        row = IndexRow(seq, ns, name, uid, admitted, r[5] if len(r) == 6 and type(r[5]) is dict else None)
        for seen, v, what in ((keys, row.key, "pod"), (uids, uid, "uid"), (seqs, seq, "sequence")):
            if v in seen:
                raise NodeDirError(f"{w}: {what} {v} is listed twice")
            seen.add(v)  # type: ignore[attr-defined]
        out.append(row)
    out.sort(key=lambda r: r.sequence)
    return out


class PodTable(MutableMapping[str, StoredPod]):
    """``namespace/name -> StoredPod`` in creation order; pods are read from their files when first used."""

    def __init__(self, directory: Path, rows: list[IndexRow], raw: dict[str, Any] | None = None, where: str = ""):
        self.directory = directory
        self._rows: dict[str, IndexRow] = {r.key: r for r in rows}
        self._cache: dict[str, StoredPod] = {}
        self._raw = raw  # old layout: key -> (where, entry), already in memory
        self._where = where
        self.dirty: set[str] = set()  # keys whose files must be written
        self.removed_uids: set[str] = set()  # pod files to delete
        self.changed = False  # the index changed

    # -- the index ---------------------------------------------------------------
    def rows(self) -> list[IndexRow]:
        return list(self._rows.values())

    def row(self, key: str) -> IndexRow | None:
        return self._rows.get(key)

    @property
    def old_layout(self) -> bool:
        return self._raw is not None

    def index_doc(self) -> list[list[Any]]:
        return [r.to_list() for r in self._rows.values()]

    # -- reading a pod ---------------------------------------------------------
    def _read(self, row: IndexRow) -> StoredPod:
        if self._raw is not None:
            where, entry = self._raw[row.key]
        else:
            p = self.directory / pod_file_name(row.uid)
            data = read_bytes_or_none(p)
            if data is None:
                raise NodeDirError(
                    f"{p}: missing (pods.json lists pod {row.key} with uid {row.uid}; the node directory is damaged)"
                )
            where = str(p)
            entry = loads_json(data, where)
        try:
            sp = stored_pod_from_entry(entry, where)
        except StoredPodError as e:
            raise NodeDirError(str(e)) from e
        if sp.key != row.key or sp.pod.uid != row.uid or sp.sequence != row.sequence or sp.admitted != row.admitted:
            raise NodeDirError(
                f"{where}: does not match pods.json's index (pod {sp.key} uid {sp.pod.uid} sequence {sp.sequence} "
                f"admitted {sp.admitted}; the index says {row.key} uid {row.uid} sequence {row.sequence} "
                f"admitted {row.admitted})"
            )
        return sp

    def entry_for(self, key: str) -> dict[str, Any]:
        """The stored entry to write for ``key``."""
        if key in self._cache:
            return stored_pod_entry(self._cache[key])
        assert self._raw is not None
        return self._raw[key][1]

    # -- MutableMapping ------------------------------------------------------------
    def __getitem__(self, key: str) -> StoredPod:
        sp = self._cache.get(key)
        if sp is not None:
            return sp
        row = self._rows.get(key)
        if row is None:
            raise KeyError(key)
        sp = self._read(row)
        self._cache[key] = sp
        return sp

    def __setitem__(self, key: str, sp: StoredPod) -> None:
        old = self._rows.get(key)
        if old is not None and old.uid != sp.pod.uid:
            self.removed_uids.add(old.uid)
        last = next(reversed(self._rows.values()), None) if self._rows else None
        usage = usage_summary(sp.pod) if sp.admitted else None
        self._rows[key] = IndexRow(sp.sequence, sp.pod.namespace, sp.pod.name, sp.pod.uid, sp.admitted, usage)
        if (old is not None and old.sequence != sp.sequence) or (
            old is None and last is not None and last.sequence > sp.sequence
        ):
            self._rows = dict(sorted(self._rows.items(), key=lambda kv: kv[1].sequence))
        self._cache[key] = sp
        self.removed_uids.discard(sp.pod.uid)
        self.dirty.add(key)
        self.changed = True

    def __delitem__(self, key: str) -> None:
        row = self._rows.pop(key)
        self._cache.pop(key, None)
        self.dirty.discard(key)
        self.removed_uids.add(row.uid)
        self.changed = True

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._rows))

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, key: object) -> bool:
        return key in self._rows

    def touch(self, key: str) -> None:
        """A pod changed in place (images, labels): write its file."""
        row = self._rows.get(key)
        if row is not None:
            sp = self._cache.get(key)
            if sp is not None and row.admitted:
                row.usage = usage_summary(sp.pod)
            self.dirty.add(key)
            self.changed = True
