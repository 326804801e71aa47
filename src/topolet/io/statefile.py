"""State files on disk: atomic writes, a directory lock, a commit journal, and ``state inspect``.

Writes
    :func:`atomic_write` writes one file the safe way (temporary file in the
    same directory, ``fsync``, ``rename``, ``fsync`` of the directory), so a
    reader sees the old bytes or the new bytes, never a torn file.
    :func:`commit_files` changes several files of one directory as one unit:
    the new contents go to a journal directory first (each file fsynced, then
    a ``COMMIT`` record), the journal is renamed into place (the commit point),
    then the files are moved over the old ones and the journal removed. A crash
    before the commit point leaves the old files; after it, :func:`recover`
    (run by the next :class:`DirLock` holder) finishes the move.

Locking
    :class:`DirLock` takes ``fcntl.flock`` on ``DIR/.lock``: exclusive for a
    load -> modify -> write cycle, shared for readers, so two concurrent
    writers never work from the same old state (no double allocation).

Inspection
    :func:`inspect_state_file` reads a kubelet ``cpu_manager_state`` or
    ``memory_manager_state`` (V1-V4) and reports its version, checksum status
    (``verified``, ``zero``, ``unverified-legacy`` or ``corrupt``), whether a
    1.36 kubelet would accept it with the PodLevelResourceManagers gate on and
    off, a per-pod view, and its consistency against a topology (every CPU
    accounted for exactly once; NUMA nodes and memory totals that exist).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the checkpoint readers are imported where a file is inspected (start-up stays cheap)
    from topolet.io.checkpoint import LoadedCPUCheckpoint, LoadedMemoryCheckpoint
    from topolet.model.topology import Topology

LOCK_NAME = ".lock"
JOURNAL_NAME = ".journal"
JOURNAL_TMP_NAME = ".journal.tmp"
COMMIT_NAME = "COMMIT"


class StateFileError(OSError):
    """A state file or directory that cannot be read or written.

    ``str()`` is the message alone (it names the file and says ``[Errno N] ...`` once).
    """

    def __str__(self) -> str:
        return str(self.strerror)


def _oserror_text(e: BaseException) -> str:
    """``[Errno 5] Input/output error`` (once), for any exception."""
    if isinstance(e, StateFileError):
        return str(e)
    if isinstance(e, OSError) and e.errno is not None:
        return f"[Errno {e.errno}] {e.strerror}"
    return str(e)


# --------------------------------------------------------------------------- low-level writes


def fsync_dir(directory: str | Path) -> None:
    """Make a directory's entries (a rename, a new file) durable."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # pragma: no cover - some filesystems refuse to open directories
        return
    try:
        with contextlib.suppress(OSError):  # pragma: no cover - e.g. EINVAL on some filesystems
            os.fsync(fd)
    finally:
        os.close(fd)


def _write_synced(path: Path, data: bytes, mode: int = 0o644) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: str | Path, data: bytes, mode: int = 0o644) -> None:
    """Replace ``path`` with ``data`` atomically and durably (temp file, fsync, rename, fsync dir)."""
    p = Path(path)
    tmp = p.with_name(f".{p.name}.tmp.{os.getpid()}")
    try:
        _write_synced(tmp, data, mode)
        os.replace(tmp, p)
    except OSError as e:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise StateFileError(e.errno, f"{p}: cannot write: {_oserror_text(e)}") from e
    fsync_dir(p.parent)


def _check_name(name: str) -> None:
    parts = name.split("/")
    if (
        not name
        or len(parts) > 2
        or any(p in ("", ".", "..") for p in parts)
        or parts[0] in (LOCK_NAME, JOURNAL_NAME, JOURNAL_TMP_NAME)
        or "%" in name
    ):
        raise ValueError(f"bad state file name {name!r}")


def _journal_name(name: str) -> str:
    """The file's name inside the journal directory (one level: ``pods/x.json`` -> ``pods%2Fx.json``)."""
    return name.replace("/", "%2F")


def commit_files(directory: str | Path, files: Mapping[str, bytes | None]) -> list[str]:
    """Change several files of ``directory`` as one unit (``None`` deletes the file).

    Names may have one sub-directory (``pods/UID.json``). The caller holds the
    directory's exclusive :class:`DirLock`. A failure before the commit point
    raises :class:`StateFileError` and changes nothing. After the commit point
    the change is made: a failure to finish moving the files (the next
    :class:`DirLock` holder finishes it) is returned as a warning, not raised.
    """
    d = Path(directory)
    for name in files:
        _check_name(name)
    tmp = d / JOURNAL_TMP_NAME
    journal = d / JOURNAL_NAME
    try:
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
        writes = [n for n, b in files.items() if b is not None]
        deletes = [n for n, b in files.items() if b is None]
        for name in writes:
            data = files[name]
            assert data is not None
            _write_synced(tmp / _journal_name(name), data)
        record = json.dumps({"write": writes, "delete": deletes}).encode()
        _write_synced(tmp / COMMIT_NAME, record)
        fsync_dir(tmp)
    except OSError as e:
        with contextlib.suppress(OSError):
            shutil.rmtree(tmp)
        raise StateFileError(e.errno, f"{d}: cannot write state: {_oserror_text(e)}") from e
    try:
        os.replace(tmp, journal)  # the commit point
    except OSError as e:
        # a rename that reports an error may still have happened: the journal decides
        if not ((journal / COMMIT_NAME).is_file() and not tmp.exists()):
            with contextlib.suppress(OSError):
                shutil.rmtree(tmp)
            raise StateFileError(e.errno, f"{d}: cannot write state: {_oserror_text(e)}") from e
    try:
        fsync_dir(d)
        _apply_journal(d)
    except (OSError, ValueError) as e:
        cause = e.__cause__ if isinstance(e, StateFileError) and e.__cause__ is not None else e
        return [
            f"the change is committed (in {journal}), but moving its files into place failed "
            f"({_oserror_text(cause)}); the next topolet command on this node finishes it"
        ]
    return []


def _apply_journal(d: Path) -> None:
    journal = d / JOURNAL_NAME
    try:
        record = json.loads((journal / COMMIT_NAME).read_bytes())
        subdirs: set[Path] = set()
        for name in record.get("write", []):
            _check_name(name)
            src = journal / _journal_name(name)
            dst = d / name
            if dst.parent != d:
                dst.parent.mkdir(exist_ok=True)
                subdirs.add(dst.parent)
            if src.exists():  # already moved by an interrupted earlier run
                os.replace(src, dst)
        for name in record.get("delete", []):
            _check_name(name)
            with contextlib.suppress(FileNotFoundError):
                (d / name).unlink()
            if "/" in name:
                subdirs.add((d / name).parent)
        for sub in sorted(subdirs):
            fsync_dir(sub)
        fsync_dir(d)
        shutil.rmtree(journal)
        fsync_dir(d)
    except (OSError, ValueError) as e:
        raise StateFileError(
            getattr(e, "errno", None) or errno.EIO,
            f"{d}: cannot finish an interrupted state write: {_oserror_text(e)}",
        ) from e


def pending_journal(directory: str | Path) -> bool:
    """Whether an interrupted write left a journal to finish or discard."""
    d = Path(directory)
    return (d / JOURNAL_NAME).exists() or (d / JOURNAL_TMP_NAME).exists()


def recover(directory: str | Path) -> bool:
    """Finish a committed but interrupted :func:`commit_files`, or discard an uncommitted one.

    Needs the exclusive lock. Returns whether anything was done.
    """
    d = Path(directory)
    done = False
    tmp = d / JOURNAL_TMP_NAME
    if tmp.exists():
        shutil.rmtree(tmp, ignore_errors=True)
        done = True
    if (d / JOURNAL_NAME).exists():
        if (d / JOURNAL_NAME / COMMIT_NAME).exists():
            _apply_journal(d)
        else:  # pragma: no cover - the journal is renamed into place only with its COMMIT record
            shutil.rmtree(d / JOURNAL_NAME, ignore_errors=True)
        done = True
    return done


# --------------------------------------------------------------------------- locking


class DirLock:
    """``flock`` on ``DIR/.lock``; exclusive for writers, shared for readers.

    Use as a context manager. A reader that finds an interrupted write
    upgrades to the exclusive lock long enough to :func:`recover` it.
    """

    def __init__(self, directory: str | Path, exclusive: bool = True) -> None:
        self.directory = Path(directory)
        self.exclusive = exclusive
        self._fd: int | None = None

    def __enter__(self) -> DirLock:
        path = self.directory / LOCK_NAME
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            if self.exclusive or e.errno not in (errno.EACCES, errno.EROFS, errno.EPERM):
                raise StateFileError(e.errno, f"{path}: cannot open the lock file: {e.strerror}") from e
            try:  # a read-only node directory: readers may still lock
                fd = os.open(path, os.O_RDONLY)
            except OSError as e2:
                raise StateFileError(e2.errno, f"{path}: cannot open the lock file: {e2.strerror}") from e2
        self._fd = fd
        fcntl.flock(fd, fcntl.LOCK_EX if self.exclusive else fcntl.LOCK_SH)
        if pending_journal(self.directory):
            if not self.exclusive:
                fcntl.flock(fd, fcntl.LOCK_EX)
            if pending_journal(self.directory):
                recover(self.directory)
            if not self.exclusive:
                fcntl.flock(fd, fcntl.LOCK_SH)
        return self

    @contextlib.contextmanager
    def exclusive_section(self) -> Iterator[None]:
        """Hold the lock exclusively for a moment (a reader writing what the kubelet would write at start).

        Converting a shared ``flock`` releases it first: what was read under the shared
        lock must be checked again inside the section.
        """
        assert self._fd is not None
        if self.exclusive:
            yield
            return
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_SH)

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


@contextlib.contextmanager
def locked(directory: str | Path, exclusive: bool = True) -> Iterator[DirLock]:
    with DirLock(directory, exclusive) as lk:
        yield lk


# --------------------------------------------------------------------------- state inspect

CPU_KIND = "cpu_manager_state"
MEMORY_KIND = "memory_manager_state"


@dataclass(slots=True)
class Acceptance:
    """Would a 1.36 kubelet (with the PodLevelResourceManagers gate on/off) load this file?"""

    gate_on: str  # "" when accepted, else the kubelet's error
    gate_off: str


@dataclass(slots=True)
class InspectReport:
    path: str
    kind: str  # CPU_KIND, MEMORY_KIND or "unknown"
    version: int | None = None
    checksum_status: str = "corrupt"  # verified | zero | unverified-legacy | corrupt
    checksum: int | None = None
    policy: str = ""
    error: str = ""  # the kubelet's error for a file it refuses (corrupt / unreadable)
    acceptance: Acceptance | None = None
    kubelet_136: str = ""  # for a 1.37 format: what a 1.36 kubelet reads of it and loses
    consistency: list[str] = field(default_factory=list)  # problems found against the topology
    consistent: bool | None = None  # None: not checked (no topology)
    pods: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "kind": self.kind}
        if self.version is not None:
            out["version"] = self.version
            out["writtenBy"] = (
                "kubelet 1.37" if self.version == _NEWEST_137.get(self.kind) else "kubelet 1.36 or earlier"
            )
        out["checksum"] = {"status": self.checksum_status}
        if self.checksum is not None:
            out["checksum"]["value"] = self.checksum
        if self.policy:
            out["policyName"] = self.policy
        if self.error:
            out["error"] = self.error
        if self.acceptance is not None:
            out["kubelet136Accepts"] = {
                "podLevelResourceManagersOn": {
                    "accepted": not self.acceptance.gate_on,
                    "error": self.acceptance.gate_on,
                }
                if self.acceptance.gate_on
                else {"accepted": True},
                "podLevelResourceManagersOff": {
                    "accepted": not self.acceptance.gate_off,
                    "error": self.acceptance.gate_off,
                }
                if self.acceptance.gate_off
                else {"accepted": True},
            }
        if self.kubelet_136:
            out["kubelet136Reads"] = self.kubelet_136
        if self.summary:
            out.update(self.summary)
        if self.consistent is not None:
            out["consistency"] = {"ok": self.consistent, "problems": list(self.consistency)}
        out["pods"] = self.pods
        return out


def detect_kind(path: str, data: bytes) -> str:
    """``cpu_manager_state`` or ``memory_manager_state``: by the file's keys, else by its name."""
    try:
        obj = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):  # too deep: not a state file (reported below)
        obj = None
    if isinstance(obj, dict):
        keys = {k.lower() for k in obj}
        if "machinestate" in keys:
            return MEMORY_KIND
        if "defaultcpuset" in keys or "data" in keys:
            return CPU_KIND
    name = Path(path).name.lower()
    if "memory" in name:
        return MEMORY_KIND
    if "cpu" in name:
        return CPU_KIND
    return "unknown"


def _v1_containers(data: bytes) -> dict[str, tuple[str, str]]:
    """For a V1 file (entries keyed by container ID): map every container ID to itself, so that its
    entries can be shown (the kubelet would need the runtime's container list to migrate them)."""
    try:
        obj = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return {}
    entries = obj.get("entries") if isinstance(obj, dict) else None
    if not isinstance(entries, dict):
        return {}
    return {k: (f"container-id:{k}", k) for k, v in entries.items() if isinstance(v, str)}


def _load_cpu(data: bytes, source: str, gate: bool, *, legacy: bool, kubelet: str | None = None) -> LoadedCPUCheckpoint:
    from topolet.io.checkpoint import load_cpu_checkpoint

    return load_cpu_checkpoint(
        data,
        source,
        pod_level_resource_managers=gate,
        allow_unverified_legacy=legacy,
        initial_containers=_v1_containers(data) if legacy else None,
        kubelet=kubelet,
    )


def _load_mem(
    data: bytes, source: str, gate: bool, *, legacy: bool, kubelet: str | None = None
) -> LoadedMemoryCheckpoint:
    from topolet.io.checkpoint import load_memory_checkpoint

    return load_memory_checkpoint(
        data, source, pod_level_resource_managers=gate, allow_unverified_legacy=legacy, kubelet=kubelet
    )


# The newest format of each file, which only 1.37 kubelets write (1.36 reads their legacy fields).
_NEWEST_137 = {CPU_KIND: 4, MEMORY_KIND: 3}


def _read_by_136(kind: str, loaded: LoadedCPUCheckpoint | LoadedMemoryCheckpoint, data: bytes, path: str) -> str:
    """What a 1.36 kubelet (gate on) makes of a 1.37 file: the version it reads and what it loses."""
    from topolet.io.checkpoint import CheckpointError

    loader = _load_cpu if kind == CPU_KIND else _load_mem
    try:
        old = loader(data, path, True, legacy=False, kubelet="1.36")
    except CheckpointError as e:
        return f"a 1.36 kubelet refuses this {kind} (V{loaded.version}, written by 1.37): {e.message}"
    lost = sorted(set(loaded.state.pod_assignments) - set(old.state.pod_assignments))
    kept = sum(len(cs) for cs in old.state.assignments.values())
    text = (
        f"written by a 1.37 kubelet (V{loaded.version}); a 1.36 kubelet reads its legacy fields as "
        f"V{old.version} ({old.checksum_status} checksum): it keeps the {kept} container entr"
        f"{'y' if kept == 1 else 'ies'}"
    )
    if lost:
        text += f" and loses the pod-level entries of {len(lost)} pod(s): {', '.join(lost)}"
    else:
        text += " (there are no pod-level entries to lose)"
    return text


def inspect_state_file(
    path: str,
    *,
    topology: Topology | None = None,
    pod_names: Mapping[str, str] | None = None,
    reserved_cpus: int = 0,
    strict_reserved: bool = False,
    data: bytes | None = None,
) -> InspectReport:
    """Inspect one kubelet state file (see the module docstring).

    ``pod_names`` maps pod UIDs to ``namespace/name`` for the per-pod view;
    ``reserved_cpus`` with ``strict_reserved`` (strict-cpu-reservation) lets
    those CPUs be missing from every set.
    """
    from topolet.io.checkpoint import CheckpointError, LoadedCPUCheckpoint

    if data is None:
        try:
            data = Path(path).read_bytes()
        except OSError as e:
            return InspectReport(path, "unknown", error=f"cannot read: {e.strerror}")
    kind = detect_kind(path, data)
    rep = InspectReport(path, kind)
    if kind == "unknown":
        rep.error = "not a kubelet cpu_manager_state or memory_manager_state file"
        return rep
    loader = _load_cpu if kind == CPU_KIND else _load_mem
    errs: dict[bool, str] = {}
    for gate in (True, False):
        try:
            loader(data, path, gate, legacy=False, kubelet="1.36")
            errs[gate] = ""
        except CheckpointError as e:
            errs[gate] = e.message
    rep.acceptance = Acceptance(errs[True], errs[False])
    loaded: LoadedCPUCheckpoint | LoadedMemoryCheckpoint | None = None
    for gate in (True, False):
        try:
            loaded = loader(data, path, gate, legacy=True)
            break
        except CheckpointError as e:
            rep.error = rep.error or e.message
    if loaded is None:
        rep.checksum_status = "corrupt"
        return rep
    rep.error = ""
    rep.version = loaded.version
    if loaded.version == _NEWEST_137[kind]:
        rep.kubelet_136 = _read_by_136(kind, loaded, data, path)
    rep.checksum_status = loaded.checksum_status
    rep.checksum = loaded.checksum
    names = pod_names or {}
    if isinstance(loaded, LoadedCPUCheckpoint):
        _inspect_cpu(rep, loaded, topology, names, reserved_cpus, strict_reserved)
    else:
        _inspect_mem(rep, loaded, topology, names)
    return rep


def _cpus(bits: int) -> str:
    from topolet.model.cpuset import format_bits

    return format_bits(bits)


def _inspect_cpu(
    rep: InspectReport,
    loaded: LoadedCPUCheckpoint,
    topology: Topology | None,
    names: Mapping[str, str],
    reserved_cpus: int,
    strict_reserved: bool,
) -> None:
    from topolet.model.cpuset import iter_bits

    st = loaded.state
    rep.policy = st.policy_name
    rep.summary = {"defaultCpuSet": _cpus(st.default_cpuset)}
    uids = sorted(set(st.assignments) | set(st.pod_assignments))
    pod_union: dict[str, int] = {}
    for uid in uids:
        containers = st.assignments.get(uid, {})
        bubble = st.pod_assignments.get(uid)
        union = 0
        for b in containers.values():
            union |= b
        entry: dict[str, Any] = {"uid": uid}
        if uid in names:
            entry["pod"] = names[uid]
        if bubble is not None:
            entry["podCpus"] = _cpus(bubble)
        entry["containers"] = {c: _cpus(b) for c, b in sorted(containers.items())}
        if bubble is not None and union & ~bubble:
            entry["outsideBubble"] = _cpus(union & ~bubble)
        pod_union[uid] = union | (bubble or 0)
        rep.pods.append(entry)
    if topology is None:
        return
    problems: list[str] = []
    all_cpus = topology.all_cpus
    owners: dict[int, list[str]] = {}
    for cpu in iter_bits(st.default_cpuset):
        owners.setdefault(cpu, []).append("defaultCpuSet")
    for uid, bits in pod_union.items():
        label = f"pod {names.get(uid, uid)}"
        for cpu in iter_bits(bits):
            owners.setdefault(cpu, []).append(label)
    for uid, entry in zip(uids, rep.pods, strict=True):
        if "outsideBubble" in entry:
            problems.append(
                f"pod {names.get(uid, uid)}: containers hold CPUs {entry['outsideBubble']} outside the pod's "
                f"CPUs {entry['podCpus']}"
            )
    twice = {c: o for c, o in owners.items() if len(o) > 1}
    for cpu in sorted(twice):
        problems.append(f"CPU {cpu} is accounted more than once: {', '.join(twice[cpu])}")
    known = 0
    for cpu in owners:
        known |= 1 << cpu
    unknown = known & ~all_cpus
    if unknown:
        problems.append(f"CPUs {_cpus(unknown)} are not on this machine (its CPUs are {_cpus(all_cpus)})")
    allowed_missing = reserved_cpus if strict_reserved else 0
    missing = all_cpus & ~known & ~allowed_missing
    if missing and st.policy_name != "none":
        problems.append(f"CPUs {_cpus(missing)} are in no set (neither the shared pool nor any pod)")
    if st.policy_name == "none" and st.assignments:
        problems.append("policy none with container assignments")
    rep.consistency = problems
    rep.consistent = not problems


def _block(b: Any) -> dict[str, Any]:
    from topolet.model.quantity import format_bytes

    return {"numa": list(b.numa_affinity), "type": b.type, "size": b.size, "sizeText": format_bytes(b.size)}


def _inspect_mem(
    rep: InspectReport, loaded: LoadedMemoryCheckpoint, topology: Topology | None, names: Mapping[str, str]
) -> None:
    from topolet.model.quantity import format_bytes
    from topolet.model.topology import hugepage_resource_name

    st = loaded.state
    rep.policy = st.policy_name
    machine: dict[str, Any] = {}
    for nid, ns in sorted(st.machine_state.items()):
        machine[str(nid)] = {
            "numberOfAssignments": ns.number_of_assignments,
            "cells": list(ns.cells),
            "memory": {
                r: {
                    "total": format_bytes(t.total),
                    "systemReserved": format_bytes(t.system_reserved),
                    "allocatable": format_bytes(t.allocatable),
                    "reserved": format_bytes(t.reserved),
                    "free": format_bytes(t.free),
                }
                for r, t in sorted(ns.memory_map.items())
            },
        }
    rep.summary = {"machineState": machine}
    uids = sorted(set(st.assignments) | set(st.pod_assignments))
    for uid in uids:
        entry: dict[str, Any] = {"uid": uid}
        if uid in names:
            entry["pod"] = names[uid]
        if uid in st.pod_assignments:
            entry["podMemory"] = [_block(b) for b in st.pod_assignments[uid]]
        entry["containers"] = {c: [_block(b) for b in bl] for c, bl in sorted(st.assignments.get(uid, {}).items())}
        rep.pods.append(entry)
    if topology is None:
        return
    problems: list[str] = []
    ids = set(topology.numa_ids)
    for nid, ns in sorted(st.machine_state.items()):
        if nid not in ids:
            problems.append(f"machineState has NUMA node {nid}, which this machine does not have")
            continue
        node = topology.numa_nodes[nid]
        want = {"memory": node.memory}
        for size, total in node.hugepages.items():
            want[hugepage_resource_name(size)] = total
        for res, t in sorted(ns.memory_map.items()):
            if res in want and t.total != want[res]:
                problems.append(
                    f"NUMA {nid} {res}: total {format_bytes(t.total)} differs from the machine's "
                    f"{format_bytes(want[res])}"
                )
            if t.free != t.allocatable - t.reserved:
                problems.append(
                    f"NUMA {nid} {res}: free {format_bytes(t.free)} != allocatable {format_bytes(t.allocatable)} "
                    f"- reserved {format_bytes(t.reserved)}"
                )
    if st.machine_state:
        for nid in sorted(ids - set(st.machine_state)):
            problems.append(f"machineState has no entry for NUMA node {nid}")
    for uid in uids:
        for c, bl in st.assignments.get(uid, {}).items():
            for b in bl:
                bad = [n for n in b.numa_affinity if n not in ids]
                if bad:
                    problems.append(f"pod {names.get(uid, uid)} container {c}: NUMA node(s) {bad} do not exist")
    rep.consistency = problems
    rep.consistent = not problems
