"""The topology manager's admission (topology_manager.go, scope*.go).

Scopes: ``container`` (one merge per container), ``pod`` (one merge for the
pod; with the pod-level resource managers, one merge for the pod budget and
``AllocatePod`` on every provider) and the ``none`` scope used when the
policy is ``none`` (no merge at all, only allocation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from topolet.engine.errors import (
    AdmissionError,
    TopologyAffinityError,
    pod_level_topology_affinity_error,
)
from topolet.engine.hint import AffinityStore, ProviderHints, TopologyHint
from topolet.engine.topologymanager.policy import POLICY_NONE, Policy
from topolet.model.pod import Container, Pod

SCOPE_CONTAINER = "container"
SCOPE_POD = "pod"
SCOPE_NONE = "none"
SCOPES = (SCOPE_CONTAINER, SCOPE_POD)


class HintProvider(Protocol):
    """``topologymanager.HintProvider`` (the CPU and memory managers)."""

    name: str

    def get_topology_hints(self, pod: Pod, container: Container) -> ProviderHints: ...

    def get_pod_topology_hints(self, pod: Pod) -> ProviderHints: ...

    def allocate(self, pod: Pod, container: Container) -> None: ...

    def allocate_pod(self, pod: Pod) -> None: ...


@dataclass(slots=True)
class MergeRecord:
    """One merge the topology manager did: for explanations."""

    container: str | None  # None: the whole pod
    provider_hints: list[tuple[str, ProviderHints]]
    best: TopologyHint
    admit: bool


@dataclass(slots=True)
class AdmissionTrace:
    merges: list[MergeRecord] = field(default_factory=list)
    pod_level: bool = False  # the pod-level resource managers path (AllocatePod)


class TopologyManager:
    """``topologymanager.manager`` with its scope."""

    __slots__ = ("affinity", "pod_level_gate", "policy", "providers", "scope", "trace_enabled")

    def __init__(
        self,
        policy: Policy,
        scope: str,
        affinity: AffinityStore,
        providers: Sequence[HintProvider],
        pod_level_gate: bool,
    ) -> None:
        self.policy = policy
        # NewManager: policy none always gets the none scope
        self.scope = SCOPE_NONE if policy.name == POLICY_NONE else scope
        self.affinity = affinity
        self.providers = list(providers)
        self.pod_level_gate = pod_level_gate
        self.trace_enabled = False

    def admit(self, pod: Pod, trace: AdmissionTrace | None = None) -> None:
        """Admit the pod or raise an error (AdmissionError, or a plain error for UnexpectedAdmissionError)."""
        if self.scope == SCOPE_NONE:
            for c in pod.all_containers():
                self._allocate(pod, c)
            return
        if self.scope == SCOPE_CONTAINER:
            self._admit_container_scope(pod, trace)
            return
        if self.pod_level_gate and pod.has_pod_level_resources():
            self._admit_pod_resources(pod, trace)
        else:
            self._admit_pod_containers(pod, trace)

    # -- scopes ----------------------------------------------------------------
    def _allocate(self, pod: Pod, c: Container) -> None:
        for p in self.providers:
            p.allocate(pod, c)

    def _admit_container_scope(self, pod: Pod, trace: AdmissionTrace | None) -> None:
        for c in pod.all_containers():
            hints = [p.get_topology_hints(pod, c) for p in self.providers]
            best, admit = self.policy.merge(hints)
            if trace is not None:
                trace.merges.append(MergeRecord(c.name, self._named(hints), best, admit))
            if not admit:
                if self.pod_level_gate and pod.has_pod_level_resources():
                    raise pod_level_topology_affinity_error(
                        "pod with pod-level resources failed admission with a container-level topology manager"
                    )
                raise TopologyAffinityError()
            self.affinity.set_affinity(pod.uid, c.name, best)
            self._allocate(pod, c)

    def _pod_merge(self, pod: Pod, trace: AdmissionTrace | None) -> tuple[TopologyHint, bool]:
        hints = [p.get_pod_topology_hints(pod) for p in self.providers]
        best, admit = self.policy.merge(hints)
        if trace is not None:
            trace.merges.append(MergeRecord(None, self._named(hints), best, admit))
        return best, admit

    def _admit_pod_containers(self, pod: Pod, trace: AdmissionTrace | None) -> None:
        best, admit = self._pod_merge(pod, trace)
        if not admit:
            raise TopologyAffinityError()
        for c in pod.all_containers():
            self.affinity.set_affinity(pod.uid, c.name, best)
            self._allocate(pod, c)

    def _admit_pod_resources(self, pod: Pod, trace: AdmissionTrace | None) -> None:
        if trace is not None:
            trace.pod_level = True
        best, admit = self._pod_merge(pod, trace)
        if not admit:
            raise pod_level_topology_affinity_error(
                "pod with pod-level resources failed admission under pod-scope topology manager"
            )
        for c in pod.all_containers():
            self.affinity.set_affinity(pod.uid, c.name, best)
        for p in self.providers:
            p.allocate_pod(pod)

    def _named(self, hints: list[ProviderHints]) -> list[tuple[str, ProviderHints]]:
        return [(p.name, h) for p, h in zip(self.providers, hints, strict=True)]


__all__ = [
    "SCOPES",
    "SCOPE_CONTAINER",
    "SCOPE_NONE",
    "SCOPE_POD",
    "AdmissionError",
    "AdmissionTrace",
    "HintProvider",
    "MergeRecord",
    "TopologyManager",
]
