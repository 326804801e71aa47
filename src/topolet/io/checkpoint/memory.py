"""``pkg/kubelet/cm/memorymanager/state``: the ``memory_manager_state`` checkpoint, V1 and V2 beside each other.

V1 (policy, machine state, container entries) and V2 (V1 + pod-level
``podEntries``, 1.36 with PodLevelResourceManagers on).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from topolet.engine.memorymanager.state import Block, MemoryManagerState, MemoryTable, NUMANodeState
from topolet.io.checkpoint.checksum import ChecksumStatus, struct_checksum, v4_data_checksum, verify_checksum
from topolet.io.checkpoint.errors import CORRUPT, memory_restore_error
from topolet.io.checkpoint.gojson import (
    CHECKSUM,
    INT,
    INTS,
    RESOURCE,
    STRING,
    UINT64,
    GoField,
    GoType,
    JSONSyntaxError,
    encode,
    has_key,
    parse_json,
    unmarshal,
)
from topolet.io.checkpoint.golang import go_quote

MEMORY_CHECKPOINT_NAME = "memory_manager_state"

# memorymanager/state
_MEMORY_TABLE = GoType(
    "struct",
    "state.MemoryTable",
    fields=(
        GoField("TotalMemSize", "total", UINT64),
        GoField("SystemReserved", "systemReserved", UINT64),
        GoField("Allocatable", "allocatable", UINT64),
        GoField("Reserved", "reserved", UINT64),
        GoField("Free", "free", UINT64),
    ),
)
_NUMA_NODE_STATE = GoType(
    "struct",
    "state.NUMANodeState",
    fields=(
        GoField("NumberOfAssignments", "numberOfAssignments", INT),
        GoField(
            "MemoryMap",
            "memoryMap",
            GoType(
                "map",
                "map[v1.ResourceName]*state.MemoryTable",
                key=RESOURCE,
                elem=GoType("ptr", "*state.MemoryTable", elem=_MEMORY_TABLE),
            ),
        ),
        GoField("Cells", "cells", INTS),
    ),
)
_NUMA_NODE_MAP = GoType(
    "map", "state.NUMANodeMap", key=INT, elem=GoType("ptr", "*state.NUMANodeState", elem=_NUMA_NODE_STATE)
)
_BLOCK = GoType(
    "struct",
    "state.Block",
    fields=(
        GoField("NUMAAffinity", "numaAffinity", INTS),
        GoField("Type", "type", RESOURCE),
        GoField("Size", "size", UINT64),
    ),
)
_BLOCKS = GoType("slice", "[]state.Block", elem=_BLOCK)
_MEM_ENTRIES = GoType(
    "map",
    "state.ContainerMemoryAssignments",
    key=STRING,
    elem=GoType("map", "map[string][]state.Block", key=STRING, elem=_BLOCKS),
)
_MEM_POD_ENTRY = GoType(
    "struct", "state.PodEntry", fields=(GoField("MemoryBlocks", "memoryBlocks", _BLOCKS, omitempty=True),)
)
_MEM_POD_ENTRIES = GoType("map", "state.PodMemoryAssignments", key=STRING, elem=_MEM_POD_ENTRY)


def _mem_struct(name: str, *, pod_entries: bool) -> GoType:
    fields = [
        GoField("PolicyName", "policyName", STRING),
        GoField("MachineState", "machineState", _NUMA_NODE_MAP),
        GoField("Entries", "entries", _MEM_ENTRIES, omitempty=True),
    ]
    if pod_entries:
        fields.append(GoField("PodEntries", "podEntries", _MEM_POD_ENTRIES, omitempty=True))
    fields.append(GoField("Checksum", "checksum", CHECKSUM))
    return GoType("struct", f"state.{name}", fields=tuple(fields))


_MEM_V1 = _mem_struct("MemoryManagerCheckpointV1", pod_entries=False)
_MEM_V2 = _mem_struct("MemoryManagerCheckpoint", pod_entries=True)
# 1.37: MemoryManagerCheckpoint{MemoryManagerCheckpointV1 `json:",inline"`; Data; DataChecksum;
# CheckpointData `json:"-"`}; V2 keeps its own struct (hashed under the name MemoryManagerCheckpoint).
_MEM_V3 = GoType(
    "struct",
    "state.MemoryManagerCheckpoint",
    fields=(
        *(
            GoField(f.go, f.json, f.type, omitempty=f.omitempty, embed="MemoryManagerCheckpointV1")
            for f in _MEM_V1.fields
        ),
        GoField("Data", "data", STRING),
        GoField("DataChecksum", "dataChecksum", CHECKSUM),
    ),
)
_MEM_V3_DATA = GoType("struct", "state.MemoryManagerCheckpointData", fields=_MEM_V2.fields[:-1])

KUBELET_VERSIONS = ("1.36", "1.37")


@dataclass(slots=True)
class LoadedMemoryCheckpoint:
    state: MemoryManagerState
    version: int  # 1, 2 or 3 (1.37)
    checksum_status: ChecksumStatus
    checksum: int = 0  # the stored checksum (V3: dataChecksum)
    attempts: tuple[tuple[str, str], ...] = field(default_factory=tuple)


def memory_checkpoint_version_for(pod_level_resource_managers_enabled: bool, kubelet: str = "1.36") -> int:
    """The memory checkpoint version a kubelet writes: 1.36 V2 with PodLevelResourceManagers on, else V1;
    1.37 always V3."""
    if kubelet == "1.37":
        return 3
    return 2 if pod_level_resource_managers_enabled else 1


def _block_go(b: Block) -> dict[str, Any]:
    return {"NUMAAffinity": list(b.numa_affinity), "Type": b.type, "Size": b.size}


def _mem_go_value(state: MemoryManagerState, version: int) -> dict[str, Any]:
    machine = {
        node: {
            "NumberOfAssignments": ns.number_of_assignments,
            "MemoryMap": {
                res: {
                    "TotalMemSize": mt.total,
                    "SystemReserved": mt.system_reserved,
                    "Allocatable": mt.allocatable,
                    "Reserved": mt.reserved,
                    "Free": mt.free,
                }
                for res, mt in ns.memory_map.items()
            },
            "Cells": list(ns.cells),
        }
        for node, ns in state.machine_state.items()
    }
    entries = {
        pod: {c: [_block_go(b) for b in blocks] for c, blocks in cs.items()} for pod, cs in state.assignments.items()
    }
    v: dict[str, Any] = {
        "PolicyName": state.policy_name,
        "MachineState": machine,
        "Entries": entries,
        "Checksum": 0,
    }
    if version >= 2:
        # An empty block list is omitted (omitempty) and so reads back as nil: hash it as nil.
        v["PodEntries"] = {
            pod: {"MemoryBlocks": [_block_go(b) for b in blocks] or None}
            for pod, blocks in state.pod_assignments.items()
        }
    return v


def dump_memory_checkpoint(state: MemoryManagerState, version: int) -> bytes:
    """The bytes kubelet writes to ``memory_manager_state`` (``storeStateV1`` / ``storeStateV2``).

    V1 leaves out ``state.pod_assignments``.
    """
    if version == 1:
        v = _mem_go_value(state, 1)
        v["Checksum"] = struct_checksum(_MEM_V1, v, "MemoryManagerCheckpoint")
        return encode(_MEM_V1, v).encode("utf-8")
    if version == 2:
        v = _mem_go_value(state, 2)
        v["Checksum"] = struct_checksum(_MEM_V2, v)
        return encode(_MEM_V2, v).encode("utf-8")
    if version == 3:
        # 1.37 MarshalCheckpoint: data = the JSON of MemoryManagerCheckpointData, dataChecksum over it; the
        # V1 fields beside it keep a V1 checksum (hashed as state.MemoryManagerCheckpoint) for older kubelets.
        data = _mem_go_value(state, 2)
        del data["Checksum"]
        data_json = encode(_MEM_V3_DATA, data)
        v1 = {k: data[k] for k in ("PolicyName", "MachineState", "Entries")}
        v1["Checksum"] = 0
        v1["Checksum"] = struct_checksum(_MEM_V1, v1, "MemoryManagerCheckpoint")
        v = {**v1, "Data": data_json, "DataChecksum": v4_data_checksum(data_json)}
        return encode(_MEM_V3, v).encode("utf-8")
    raise ValueError(f"cannot write memory manager checkpoint version {version!r} (1, 2 or 3)")


def load_memory_checkpoint(
    data: bytes,
    source: str = MEMORY_CHECKPOINT_NAME,
    *,
    pod_level_resource_managers: bool = True,
    policy_name: str | None = None,
    allow_unverified_legacy: bool = False,
    kubelet: str | None = None,
) -> LoadedMemoryCheckpoint:
    """Read ``memory_manager_state`` as the kubelet's ``restoreState`` does.

    ``kubelet="1.36"``: gate on, V2 falling back to V1 (a zero-checksum V2 file
    thus loads as V1, without its pod entries, as in the kubelet; a 1.37 V3 file
    loads as V1 from its legacy fields); gate off, V1 only.
    ``kubelet="1.37"``: V3 (a file with ``data``/``dataChecksum`` that fails is
    an error, no fallback), then V2, then V1, whatever the gate; pod entries are
    restored only with the gate on.  ``None`` (the default): V3 first, then the
    1.36 rules -- every format topolet knows.
    """
    if kubelet not in (None, *KUBELET_VERSIONS):
        raise ValueError(f"unknown kubelet version {kubelet!r}")
    gate = pod_level_resource_managers
    attempts: list[tuple[str, str]] = []
    try:
        tree = parse_json(data)
    except JSONSyntaxError as e:
        if kubelet == "1.37":
            tried = ["v3", "v2", "v1"]
        else:
            tried = (
                (["v2", "v1"] if gate else ["v1"])
                if kubelet == "1.36"
                else (["v3", "v2", "v1"] if gate else ["v3", "v1"])
            )
        failed = tuple(
            (v, f"failed to deserialize memory manager checkpoint: {e}" if v == "v3" else str(e)) for v in tried
        )
        raise memory_restore_error(source, str(e), failed) from None

    if kubelet != "1.36":
        v3 = _MEM_V3.zero()
        v3["Entries"], v3["MachineState"] = {}, {}
        v3_data, err = _load_mem_v3(tree, v3)
        if v3_data is not None:
            res = _mem_result(source, v3_data, 3, "verified", attempts, policy_name, checksum=v3["DataChecksum"])
            if not gate and kubelet == "1.37":
                res.state.pod_assignments.clear()
            return res
        attempts.append(("v3", str(err)))
        if v3["Data"] or v3["DataChecksum"]:
            raise memory_restore_error(source, f"could not load v3 checkpoint: {err}", tuple(attempts))

    if gate or kubelet == "1.37":
        v2 = _MEM_V2.zero()
        v2["Entries"], v2["PodEntries"], v2["MachineState"] = {}, {}, {}
        err = unmarshal(tree, _MEM_V2, v2)
        if err is None:
            status, err = verify_checksum(_MEM_V2, v2, ("MemoryManagerCheckpoint",), accept_zero=False)
            if status is not None:
                res = _mem_result(source, v2, 2, status, attempts, policy_name)
                if not gate:
                    res.state.pod_assignments.clear()
                return res
        attempts.append(("v2", str(err)))
    v1 = _MEM_V1.zero()
    v1["Entries"], v1["MachineState"] = {}, {}
    err = unmarshal(tree, _MEM_V1, v1)
    if err is None:
        if gate or kubelet == "1.37":
            names: tuple[str, ...] = ("MemoryManagerCheckpoint",)
        else:
            names = ("MemoryManagerCheckpointV1", "MemoryManagerCheckpoint")
        status, err = verify_checksum(_MEM_V1, v1, names, accept_zero=True)
        if status is not None:
            return _mem_result(source, v1, 1, status, attempts, policy_name)
        if allow_unverified_legacy and not has_key(tree, ("podEntries", "data", "dataChecksum")):
            attempts.append(("v1", str(err)))
            return _mem_result(source, v1, 1, "unverified-legacy", attempts, policy_name)
    attempts.append(("v1", str(err)))
    raise memory_restore_error(source, str(err), tuple(attempts))


def _load_mem_v3(tree: Any, v3: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    """``GetCheckpoint`` with the 1.37 V3 type: (checkpoint data, None) or (None, error)."""
    err = unmarshal(tree, _MEM_V3, v3)
    if err is not None:
        return None, f"failed to deserialize memory manager checkpoint: {err}"
    data = _MEM_V3_DATA.zero()
    data["Entries"], data["PodEntries"], data["MachineState"] = {}, {}, {}
    try:
        inner = parse_json(v3["Data"].encode("utf-8"))
    except JSONSyntaxError as e:
        return None, f"failed to deserialize memory manager checkpoint data: {e}"
    err = unmarshal(inner, _MEM_V3_DATA, data)
    if err is not None:
        return None, f"failed to deserialize memory manager checkpoint data: {err}"
    if v4_data_checksum(v3["Data"]) != v3["DataChecksum"]:
        return None, CORRUPT
    data["Checksum"] = v3["DataChecksum"]
    return data, None


def _blocks_model(blocks: list[dict[str, Any]] | None) -> list[Block]:
    return [Block(list(b["NUMAAffinity"] or []), b["Type"], b["Size"]) for b in blocks or []]


def _mem_result(
    source: str,
    cp: dict[str, Any],
    version: int,
    status: ChecksumStatus,
    attempts: list[tuple[str, str]],
    policy_name: str | None,
    *,
    checksum: int | None = None,
) -> LoadedMemoryCheckpoint:
    policy = cp["PolicyName"]
    if policy_name is not None and policy_name != policy:
        raise memory_restore_error(
            source,
            f"[memorymanager] configured policy {go_quote(policy_name)} differs from state checkpoint policy "
            f"{go_quote(policy)}",
            tuple(attempts),
        )
    machine: dict[int, NUMANodeState] = {}
    for node, ns in sorted((cp["MachineState"] or {}).items()):
        if ns is None:  # a JSON null: Go keeps a nil *NUMANodeState
            machine[node] = NUMANodeState()
            continue
        memory_map = {}
        for res, mt in (ns["MemoryMap"] or {}).items():
            if mt is None:
                memory_map[res] = MemoryTable()
            else:
                memory_map[res] = MemoryTable(
                    mt["TotalMemSize"], mt["SystemReserved"], mt["Allocatable"], mt["Reserved"], mt["Free"]
                )
        machine[node] = NUMANodeState(ns["NumberOfAssignments"], memory_map, list(ns["Cells"] or []))
    assignments = {
        pod: {c: _blocks_model(blocks) for c, blocks in (cs or {}).items()} for pod, cs in (cp["Entries"] or {}).items()
    }
    pods = {pod: _blocks_model(e["MemoryBlocks"]) for pod, e in (cp.get("PodEntries") or {}).items()}
    state = MemoryManagerState(policy, machine, assignments, pods)
    return LoadedMemoryCheckpoint(
        state, version, status, cp["Checksum"] if checksum is None else checksum, tuple(attempts)
    )
