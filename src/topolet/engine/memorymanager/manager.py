"""The memory manager (memorymanager/memory_manager.go): a policy bound to its state, as a hint provider."""

from __future__ import annotations

from typing import Protocol

from topolet.engine.errors import StartupError
from topolet.engine.hint import ProviderHints
from topolet.engine.memorymanager.state import MemoryManagerState
from topolet.model.pod import Container, Pod

KUBELET_ROOT_DIR = "/var/lib/kubelet"


class MemoryPolicy(Protocol):
    name: str

    def start(self, state: MemoryManagerState) -> None: ...
    def get_topology_hints(self, state: MemoryManagerState, pod: Pod, container: Container) -> ProviderHints: ...
    def get_pod_topology_hints(self, state: MemoryManagerState, pod: Pod) -> ProviderHints: ...
    def allocate(self, state: MemoryManagerState, pod: Pod, container: Container) -> None: ...
    def allocate_pod(self, state: MemoryManagerState, pod: Pod) -> None: ...
    def remove_container(self, state: MemoryManagerState, pod_uid: str, container_name: str) -> None: ...


class MemoryManager:
    name = "memory"

    __slots__ = ("policy", "state", "written")

    def __init__(
        self,
        policy: MemoryPolicy,
        state: MemoryManagerState,
        restored: bool = False,
        checkpoint_dir: str = KUBELET_ROOT_DIR,
    ) -> None:
        self.policy = policy
        self.state = state
        # whether this kubelet wrote the checkpoint file (see CPUManager.written)
        self.written = not restored
        if restored and state.policy_name != policy.name:
            raise StartupError(
                f"start {self.name} manager error: could not restore state from checkpoint: "
                f'[memorymanager] configured policy "{policy.name}" differs from state checkpoint policy '
                f'"{state.policy_name}", please drain this node and delete the memory manager checkpoint '
                f'file "{checkpoint_dir}/memory_manager_state" before restarting Kubelet'
            )
        state.policy_name = policy.name
        try:
            policy.start(state)
        except StartupError as e:
            raise StartupError(f"start {self.name} manager error: {e}") from e

    def get_topology_hints(self, pod: Pod, container: Container) -> ProviderHints:
        return self.policy.get_topology_hints(self.state, pod, container)

    def get_pod_topology_hints(self, pod: Pod) -> ProviderHints:
        return self.policy.get_pod_topology_hints(self.state, pod)

    def allocate(self, pod: Pod, container: Container) -> None:
        s = self.state
        before = container.name in s.assignments.get(pod.uid, {})
        try:
            self.policy.allocate(s, pod, container)
        finally:
            if not before and container.name in s.assignments.get(pod.uid, {}):
                self.written = True

    def allocate_pod(self, pod: Pod) -> None:
        s = self.state
        before = s.pod_assignments.get(pod.uid)
        try:
            self.policy.allocate_pod(s, pod)
        finally:
            if s.pod_assignments.get(pod.uid) is not before:
                self.written = True

    def add_container(self, pod: Pod, container: Container) -> None:
        """``AddContainer``: a container starts. Every init container before it has run to
        completion, so the state of the earlier non-restartable init containers is removed
        (their memory is freed for other pods)."""
        for ic in pod.init_containers:
            if ic.name == container.name:
                break
            if ic.is_restartable:
                continue
            self.remove_container(pod.uid, ic.name)

    def remove_container(self, pod_uid: str, container: str) -> None:
        s = self.state
        if container in s.assignments.get(pod_uid, {}) or pod_uid in s.pod_assignments:
            self.written = True
        self.policy.remove_container(s, pod_uid, container)
