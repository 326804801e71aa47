"""The memory manager's None policy (memorymanager/policy_none.go): no memory management."""

from __future__ import annotations

from topolet.engine.hint import ProviderHints
from topolet.engine.memorymanager.state import Block, MemoryManagerState
from topolet.model.pod import Container, Pod

POLICY_NONE = "None"


class NoneMemoryPolicy:
    """``none``: every call is a no-op; no topology hints (no preference)."""

    name = POLICY_NONE

    __slots__ = ()

    def start(self, state: MemoryManagerState) -> None:
        return None

    def get_topology_hints(self, state: MemoryManagerState, pod: Pod, container: Container) -> ProviderHints:
        return None

    def get_pod_topology_hints(self, state: MemoryManagerState, pod: Pod) -> ProviderHints:
        return None

    def allocate(self, state: MemoryManagerState, pod: Pod, container: Container) -> None:
        return None

    def allocate_pod(self, state: MemoryManagerState, pod: Pod) -> None:
        return None

    def remove_container(self, state: MemoryManagerState, pod_uid: str, container_name: str) -> None:
        return None

    def get_allocatable_memory(self, state: MemoryManagerState) -> list[Block]:
        return []
