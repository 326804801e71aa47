"""``pkg/kubelet/cm/cpumanager/state``: the ``cpu_manager_state`` checkpoint, V1 to V4 beside each other.

V1 (read only: entries keyed by container ID), V2 (entries by pod and container),
V3 (V2 + pod-level ``podEntries``, 1.36 with PodLevelResourceManagers on) and
V4 (1.37: the V3 fields as a JSON string ``data`` with its own ``dataChecksum``,
the legacy fields beside it with checksum 0).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from topolet.engine.cpumanager.state import CPUManagerState
from topolet.io.checkpoint.checksum import ChecksumStatus, struct_checksum, v4_data_checksum, verify_checksum
from topolet.io.checkpoint.errors import CORRUPT, cpu_restore_error
from topolet.io.checkpoint.gojson import (
    CHECKSUM,
    STRING,
    GoField,
    GoType,
    JSONSyntaxError,
    encode,
    has_key,
    parse_json,
    unmarshal,
)
from topolet.io.checkpoint.golang import GoParseError, go_quote, parse_cpuset_bits
from topolet.model.cpuset import format_bits

CPU_CHECKPOINT_NAME = "cpu_manager_state"
KUBELET_VERSIONS = ("1.36", "1.37")

# cpumanager/state
_CPU_ENTRIES = GoType(
    "map",
    "map[string]map[string]string",
    key=STRING,
    elem=GoType("map", "map[string]string", key=STRING, elem=STRING),
)
_CPU_V1_ENTRIES = GoType("map", "map[string]string", key=STRING, elem=STRING)
_CPU_POD_ENTRY = GoType("cpuentry", "state.PodEntry")
_CPU_POD_ENTRIES = GoType("map", "state.PodCPUAssignments", key=STRING, elem=_CPU_POD_ENTRY)


def _cpu_struct(name: str, *, v1: bool = False, pod_entries: bool = False) -> GoType:
    fields = [
        GoField("PolicyName", "policyName", STRING),
        GoField("DefaultCPUSet", "defaultCpuSet", STRING),
        GoField("Entries", "entries", _CPU_V1_ENTRIES if v1 else _CPU_ENTRIES, omitempty=True),
    ]
    if pod_entries:
        fields.append(GoField("PodEntries", "podEntries", _CPU_POD_ENTRIES, omitempty=True))
    fields.append(GoField("Checksum", "checksum", CHECKSUM))
    return GoType("struct", f"state.{name}", fields=tuple(fields))


_CPU_V1 = _cpu_struct("CPUManagerCheckpointV1", v1=True)
_CPU_V2 = _cpu_struct("CPUManagerCheckpointV2")
_CPU_V3 = _cpu_struct("CPUManagerCheckpoint", pod_entries=True)
# 1.37: CPUManagerCheckpoint{CPUManagerCheckpointV3 `json:",inline"`; Data; DataChecksum;
# CheckpointData `json:"-"`}
_CPU_V4 = GoType(
    "struct",
    "state.CPUManagerCheckpoint",
    fields=(
        *(GoField(f.go, f.json, f.type, omitempty=f.omitempty, embed="CPUManagerCheckpointV3") for f in _CPU_V3.fields),
        GoField("Data", "data", STRING),
        GoField("DataChecksum", "dataChecksum", CHECKSUM),
    ),
)
_CPU_V4_DATA = GoType("struct", "state.CPUManagerCheckpointData", fields=_CPU_V3.fields[:-1])


@dataclass(slots=True)
class LoadedCPUCheckpoint:
    state: CPUManagerState
    version: int  # the format the file was read as: 1, 2, 3 or 4
    checksum_status: ChecksumStatus
    checksum: int = 0  # the stored checksum (V4: dataChecksum)
    # the load errors of the newer formats tried first (what the kubelet logs while falling back)
    attempts: tuple[tuple[str, str], ...] = field(default_factory=tuple)


def cpu_checkpoint_version_for(pod_level_resource_managers_enabled: bool, kubelet: str = "1.36") -> int:
    """The CPU checkpoint version a kubelet writes: 1.36 V3 with PodLevelResourceManagers on, else V2;
    1.37 always V4."""
    if kubelet == "1.37":
        return 4
    return 3 if pod_level_resource_managers_enabled else 2


def _cpu_go_value(state: CPUManagerState, version: int) -> dict[str, Any]:
    entries = {pod: {c: format_bits(b) for c, b in cs.items()} for pod, cs in state.assignments.items()}
    v: dict[str, Any] = {
        "PolicyName": state.policy_name,
        "DefaultCPUSet": format_bits(state.default_cpuset),
        "Entries": entries,
        "Checksum": 0,
    }
    if version >= 3:
        v["PodEntries"] = dict(state.pod_assignments)
    return v


def dump_cpu_checkpoint(state: CPUManagerState, version: int) -> bytes:
    """The bytes kubelet writes to ``cpu_manager_state`` (``storeStateV2`` / ``storeStateV3``; 1.37 V4).

    V2 leaves out ``state.pod_assignments`` (the format has no pod entries).
    """
    if version == 2:
        v = _cpu_go_value(state, 2)
        v["Checksum"] = struct_checksum(_CPU_V2, v, "CPUManagerCheckpoint")
        return encode(_CPU_V2, v).encode("utf-8")
    if version == 3:
        v = _cpu_go_value(state, 3)
        v["Checksum"] = struct_checksum(_CPU_V3, v)
        return encode(_CPU_V3, v).encode("utf-8")
    if version == 4:
        data = _cpu_go_value(state, 4)
        data_json = encode(_CPU_V4_DATA, data)
        v = dict(data)
        v["Checksum"] = 0  # "For forward compatibility, clear checksum from the legacy field."
        v["Data"] = data_json
        v["DataChecksum"] = v4_data_checksum(data_json)
        return encode(_CPU_V4, v).encode("utf-8")
    raise ValueError(f"cannot write CPU manager checkpoint version {version!r} (2, 3 or 4)")


def dump_cpu_checkpoint_v1(policy_name: str, default_cpuset: int, entries: Mapping[str, int]) -> bytes:
    """A legacy V1 file (entries keyed by container ID, as before 1.18); for tests and tools."""
    v = {
        "PolicyName": policy_name,
        "DefaultCPUSet": format_bits(default_cpuset),
        "Entries": {cid: format_bits(b) for cid, b in entries.items()},
        "Checksum": 0,
    }
    v["Checksum"] = struct_checksum(_CPU_V1, v, "CPUManagerCheckpoint")
    return encode(_CPU_V1, v).encode("utf-8")


def load_cpu_checkpoint(
    data: bytes,
    source: str = CPU_CHECKPOINT_NAME,
    *,
    pod_level_resource_managers: bool = True,
    policy_name: str | None = None,
    initial_containers: Mapping[str, tuple[str, str]] | None = None,
    allow_unverified_legacy: bool = False,
    kubelet: str | None = None,
) -> LoadedCPUCheckpoint:
    """Read ``cpu_manager_state`` as the kubelet's ``restoreState`` does.

    ``kubelet=None`` (the default: every format topolet knows): V4 (a file with
    ``data``/``dataChecksum`` that fails is an error, no fallback, as in 1.37),
    then with the gate on V3 -> V2 -> V1, with it off V2 -> V1 (a V3 file is then
    refused, as by 1.36).  ``kubelet="1.36"``: the same without V4 (a 1.37 V4
    file, whose legacy checksum is 0, then loads as V2 from its legacy fields:
    container entries kept, pod entries lost).  ``kubelet="1.37"``: V4 -> V3 ->
    V2 whatever the gate (V1 is no longer read); pod entries are restored only
    with the gate on.  A V1 file is migrated
    with ``initial_containers`` (container ID -> (pod UID, container name)), as
    the kubelet does with the runtime's container list.  ``policy_name``, when
    given, must match the checkpoint's (the kubelet's configured-policy check).
    Cpusets are parsed with Go's ``cpuset.Parse``.  Raises
    :class:`CheckpointError` with the kubelet's message; the last version
    tried gives the error, as in the kubelet.
    """
    if kubelet not in (None, *KUBELET_VERSIONS):
        raise ValueError(f"unknown kubelet version {kubelet!r}")
    gate = pod_level_resource_managers
    try:
        tree = parse_json(data)
    except JSONSyntaxError as e:
        if kubelet == "1.37":
            tried = ["v4", "v3", "v2"]
        else:
            tried = ["v4", "v3", "v2", "v1"] if gate else ["v4", "v2", "v1"]
            if kubelet == "1.36":
                tried.remove("v4")
        failed = tuple(
            (v, f"failed to deserialize cpu manager checkpoint: {e}" if v == "v4" else str(e)) for v in tried
        )
        raise cpu_restore_error(source, str(e), failed) from None

    attempts: list[tuple[str, str]] = []
    drop_pods = kubelet == "1.37" and not gate  # 1.37 restores pod entries only with the gate on
    if kubelet != "1.36":
        # V4 (1.37)
        v4 = _CPU_V4.zero()
        v4["Entries"], v4["PodEntries"] = {}, {}
        v4_data, err = _load_cpu_v4(tree, v4)
        if v4_data is not None:
            if drop_pods:
                v4_data["PodEntries"] = {}
            return _cpu_result(source, v4_data, 4, "verified", v4["DataChecksum"], attempts, policy_name)
        attempts.append(("v4", str(err)))
        if v4["Data"] or v4["DataChecksum"]:
            raise cpu_restore_error(source, f"could not load v4 checkpoint: {err}", tuple(attempts))

    unverified: list[tuple[int, dict[str, Any]]] = []  # decoded fine, checksum mismatch
    if gate or kubelet == "1.37":
        v3 = _CPU_V3.zero()
        v3["Entries"], v3["PodEntries"] = {}, {}
        err = unmarshal(tree, _CPU_V3, v3)
        if err is None:
            # 1.37 names the type CPUManagerCheckpointV3 and also accepts the legacy name.
            names3 = (
                ("CPUManagerCheckpointV3", "CPUManagerCheckpoint") if kubelet == "1.37" else ("CPUManagerCheckpoint",)
            )
            status, err = verify_checksum(_CPU_V3, v3, names3, accept_zero=False)
            if status is not None:
                if drop_pods:
                    v3["PodEntries"] = {}
                return _cpu_result(source, v3, 3, status, v3["Checksum"], attempts, policy_name)
        attempts.append(("v3", str(err)))

    v2 = _CPU_V2.zero()
    v2["Entries"] = {}
    err = unmarshal(tree, _CPU_V2, v2)
    if err is None:
        names = ("CPUManagerCheckpoint",) if gate else ("CPUManagerCheckpointV2", "CPUManagerCheckpoint")
        status, err = verify_checksum(_CPU_V2, v2, names, accept_zero=True)
        if status is not None:
            return _cpu_result(source, v2, 2, status, v2["Checksum"], attempts, policy_name)
        unverified.append((2, v2))
    attempts.append(("v2", str(err)))
    if kubelet == "1.37":  # V2 is the oldest version 1.37 reads
        raise cpu_restore_error(source, str(err), tuple(attempts))

    v1 = _CPU_V1.zero()
    v1["Entries"] = {}
    err = unmarshal(tree, _CPU_V1, v1)
    if err is None:
        status, err = verify_checksum(_CPU_V1, v1, ("CPUManagerCheckpoint",), accept_zero=True)
        if status is not None:
            migrated = _migrate_cpu_v1(source, v1, initial_containers, attempts)
            return _cpu_result(source, migrated, 1, status, v1["Checksum"], attempts, policy_name)
        unverified.append((1, v1))
    attempts.append(("v1", str(err)))
    if allow_unverified_legacy and unverified and not has_key(tree, ("podEntries", "data", "dataChecksum")):
        version, cp = unverified[0]
        if version == 1:
            cp = {**_migrate_cpu_v1(source, cp, initial_containers, attempts), "Checksum": cp["Checksum"]}
        return _cpu_result(source, cp, version, "unverified-legacy", cp["Checksum"], attempts, policy_name)
    raise cpu_restore_error(source, str(err), tuple(attempts))


def _load_cpu_v4(tree: Any, v4: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    """``GetCheckpoint`` with the 1.37 V4 type: (checkpoint data, None) or (None, error)."""
    err = unmarshal(tree, _CPU_V4, v4)
    if err is not None:
        return None, f"failed to deserialize cpu manager checkpoint: {err}"
    data = _CPU_V4_DATA.zero()
    data["Entries"], data["PodEntries"] = {}, {}
    try:
        inner = parse_json(v4["Data"].encode("utf-8"))
    except JSONSyntaxError as e:
        return None, f"failed to deserialize cpu manager checkpoint data: {e}"
    err = unmarshal(inner, _CPU_V4_DATA, data)
    if err is not None:
        return None, f"failed to deserialize cpu manager checkpoint data: {err}"
    if v4_data_checksum(v4["Data"]) != v4["DataChecksum"]:
        return None, CORRUPT
    return data, None


def _migrate_cpu_v1(
    source: str,
    v1: dict[str, Any],
    initial_containers: Mapping[str, tuple[str, str]] | None,
    attempts: list[tuple[str, str]],
) -> dict[str, Any]:
    """``migrateV1CheckpointToV2Checkpoint`` (container IDs in sorted order; Go's map order is random)."""
    entries: dict[str, dict[str, str]] = {}
    for cid in sorted(v1["Entries"] or {}):
        ref = (initial_containers or {}).get(cid)
        if ref is None:
            raise cpu_restore_error(
                source,
                f"failed to migrate checkpoint from v1 to v2: containerID '{cid}' not found in initial containers list",
                tuple(attempts),
            )
        entries.setdefault(ref[0], {})[ref[1]] = v1["Entries"][cid]
    return {"PolicyName": v1["PolicyName"], "DefaultCPUSet": v1["DefaultCPUSet"], "Entries": entries}


def _cpu_result(
    source: str,
    cp: dict[str, Any],
    version: int,
    status: ChecksumStatus,
    checksum: int,
    attempts: list[tuple[str, str]],
    policy_name: str | None,
) -> LoadedCPUCheckpoint:
    """The checks of ``restoreState`` after loading: policy, then the cpusets."""
    policy = cp["PolicyName"]
    if policy_name is not None and policy_name != policy:
        raise cpu_restore_error(
            source,
            f"configured policy {go_quote(policy_name)} differs from state checkpoint policy {go_quote(policy)}",
            tuple(attempts),
        )
    default_s = cp["DefaultCPUSet"]
    try:
        default = parse_cpuset_bits(default_s)
    except GoParseError as e:
        raise cpu_restore_error(
            source, f"could not parse default cpu set {go_quote(default_s)}: {e}", tuple(attempts)
        ) from None
    assignments: dict[str, dict[str, int]] = {}
    for pod in sorted(cp["Entries"] or {}):
        containers = cp["Entries"][pod] or {}
        assignments[pod] = {}
        for c in sorted(containers):
            s = containers[c]
            try:
                assignments[pod][c] = parse_cpuset_bits(s)
            except GoParseError as e:
                raise cpu_restore_error(
                    source,
                    f"could not parse cpuset {go_quote(s)} for container {go_quote(c)} in pod {go_quote(pod)}: {e}",
                    tuple(attempts),
                ) from None
    pods = dict(cp.get("PodEntries") or {})
    state = CPUManagerState(policy, default, assignments, pods)
    return LoadedCPUCheckpoint(state, version, status, checksum, tuple(attempts))
