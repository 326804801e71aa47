"""The CPU manager (cpumanager/cpu_manager.go): a policy bound to its state, as a hint provider."""

from __future__ import annotations

from typing import Protocol

from topolet.engine.cpumanager.state import CPUManagerState
from topolet.engine.errors import StartupError
from topolet.engine.hint import ProviderHints
from topolet.model.pod import Container, Pod

KUBELET_ROOT_DIR = "/var/lib/kubelet"


class CPUPolicy(Protocol):
    name: str

    def start(self, s: CPUManagerState) -> None: ...
    def get_topology_hints(self, s: CPUManagerState, pod: Pod, c: Container) -> ProviderHints: ...
    def get_pod_topology_hints(self, s: CPUManagerState, pod: Pod) -> ProviderHints: ...
    def allocate(self, s: CPUManagerState, pod: Pod, c: Container) -> None: ...
    def allocate_pod(self, s: CPUManagerState, pod: Pod) -> None: ...
    def remove_container(self, s: CPUManagerState, pod_uid: str, container: str) -> None: ...


class CPUManager:
    name = "cpu"

    __slots__ = ("policy", "state", "written")

    def __init__(
        self,
        policy: CPUPolicy,
        state: CPUManagerState,
        restored: bool = False,
        checkpoint_dir: str = KUBELET_ROOT_DIR,
    ) -> None:
        self.policy = policy
        self.state = state
        # whether this kubelet wrote the checkpoint file (every state change is stored at once;
        # a first start creates the file): the file then has this kubelet's format
        self.written = not restored
        if restored and state.policy_name != policy.name:
            raise StartupError(
                f"start {self.name} manager error: could not restore state from checkpoint: "
                f'configured policy "{policy.name}" differs from state checkpoint policy '
                f'"{state.policy_name}", please drain this node and delete the CPU manager checkpoint '
                f'file "{checkpoint_dir}/cpu_manager_state" before restarting Kubelet'
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
        before = s.get_cpuset(pod.uid, container.name)
        try:
            self.policy.allocate(s, pod, container)
        finally:
            if before is None and s.get_cpuset(pod.uid, container.name) is not None:
                self.written = True

    def allocate_pod(self, pod: Pod) -> None:
        s = self.state
        before = s.pod_assignments.get(pod.uid)
        try:
            self.policy.allocate_pod(s, pod)
        finally:
            after = s.pod_assignments.get(pod.uid)
            if after is not None and after != before:
                self.written = True

    def remove_container(self, pod_uid: str, container: str) -> None:
        if self.state.get_cpuset(pod_uid, container) is not None:
            self.written = True
        self.policy.remove_container(self.state, pod_uid, container)
