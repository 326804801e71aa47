"""The memory manager's state (memorymanager/state): per-NUMA tables and blocks."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class MemoryTable:
    """``state.MemoryTable`` (bytes)."""

    total: int = 0
    system_reserved: int = 0
    allocatable: int = 0
    reserved: int = 0
    free: int = 0

    def copy(self) -> MemoryTable:
        return MemoryTable(self.total, self.system_reserved, self.allocatable, self.reserved, self.free)


@dataclass(slots=True)
class NUMANodeState:
    """``state.NUMANodeState``."""

    number_of_assignments: int = 0
    memory_map: dict[str, MemoryTable] = field(default_factory=dict)
    cells: list[int] = field(default_factory=list)

    def copy(self) -> NUMANodeState:
        return NUMANodeState(
            self.number_of_assignments,
            {k: v.copy() for k, v in self.memory_map.items()},
            list(self.cells),
        )


@dataclass(slots=True)
class Block:
    """``state.Block``: memory of one type pinned to a set of NUMA nodes."""

    numa_affinity: list[int]
    type: str
    size: int

    def copy(self) -> Block:
        return Block(list(self.numa_affinity), self.type, self.size)


MachineState = dict[int, NUMANodeState]


def clone_machine_state(ms: MachineState) -> MachineState:
    return {k: v.copy() for k, v in ms.items()}


def clone_blocks(blocks: list[Block]) -> list[Block]:
    return [b.copy() for b in blocks]


@dataclass(slots=True)
class MemoryManagerState:
    policy_name: str = "None"
    machine_state: MachineState = field(default_factory=dict)
    # pod UID -> container name -> blocks
    assignments: dict[str, dict[str, list[Block]]] = field(default_factory=dict)
    # pod UID -> the pod's blocks (pod-level resource managers; checkpoint V2 podEntries)
    pod_assignments: dict[str, list[Block]] = field(default_factory=dict)

    def get_blocks(self, pod_uid: str, container: str) -> list[Block] | None:
        """``GetMemoryBlocks``: a copy of the container's blocks, or None."""
        c = self.assignments.get(pod_uid)
        if c is None or container not in c:
            return None
        return clone_blocks(c[container])

    def set_blocks(self, pod_uid: str, container: str, blocks: list[Block]) -> None:
        self.assignments.setdefault(pod_uid, {})[container] = clone_blocks(blocks)

    def delete(self, pod_uid: str, container: str) -> None:
        c = self.assignments.get(pod_uid)
        if c is None:
            return
        c.pop(container, None)
        if not c:
            del self.assignments[pod_uid]

    def delete_pod(self, pod_uid: str) -> None:
        self.assignments.pop(pod_uid, None)
        self.pod_assignments.pop(pod_uid, None)

    def clone(self) -> MemoryManagerState:
        return MemoryManagerState(
            self.policy_name,
            clone_machine_state(self.machine_state),
            {p: {c: clone_blocks(b) for c, b in cs.items()} for p, cs in self.assignments.items()},
            {p: clone_blocks(b) for p, b in self.pod_assignments.items()},
        )
