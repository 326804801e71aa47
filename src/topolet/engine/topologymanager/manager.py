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
from topolet.engine.metrics import ManagerMetrics
from topolet.engine.topologymanager.policy import POLICY_NONE, POLICY_SINGLE_NUMA_NODE, Policy
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

    __slots__ = ("affinity", "aligned", "metrics", "pod_level_gate", "policy", "providers", "scope", "trace_enabled")

    def __init__(
        self,
        policy: Policy,
        scope: str,
        affinity: AffinityStore,
        providers: Sequence[HintProvider],
        pod_level_gate: bool,
        metrics: ManagerMetrics | None = None,
    ) -> None:
        self.policy = policy
        # NewManager: policy none always gets the none scope
        self.scope = SCOPE_NONE if policy.name == POLICY_NONE else scope
        self.affinity = affinity
        self.providers = list(providers)
        self.pod_level_gate = pod_level_gate
        self.trace_enabled = False
        if metrics is None:
            metrics = ManagerMetrics(topology_policy_none=policy.name == POLICY_NONE)
        self.metrics = metrics
        # IsAlignmentGuaranteed (policy.go:35): the alignment counters count under single-numa-node only
        self.aligned = policy.name == POLICY_SINGLE_NUMA_NODE

    def admit(self, pod: Pod, trace: AdmissionTrace | None = None) -> None:
        """Admit the pod or raise an error (AdmissionError, or a plain error for UnexpectedAdmissionError)."""
        # manager.Admit (topology_manager.go:268): every pod, whatever the policy
        self.metrics.tm_requests += 1
        if self.scope == SCOPE_NONE:
            # admitPolicyNone (scope.go:143): an allocation error is no admission error
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
            m = self.metrics
            if not admit:
                # scope_container.go:59-63
                if self.aligned:
                    m.unaligned_container_numa += 1
                m.tm_errors += 1
                if self.pod_level_gate and pod.has_pod_level_resources():
                    raise pod_level_topology_affinity_error(
                        "pod with pod-level resources failed admission with a container-level topology manager"
                    )
                raise TopologyAffinityError()
            self.affinity.set_affinity(pod.uid, c.name, best)
            try:
                self._allocate(pod, c)
            except Exception:
                m.tm_errors += 1  # scope_container.go:74
                raise
            if self.aligned:
                m.aligned_container_numa += 1  # scope_container.go:80

    def _pod_merge(self, pod: Pod, trace: AdmissionTrace | None) -> tuple[TopologyHint, bool]:
        """``podScope.checkAffinity``."""
        hints = [p.get_pod_topology_hints(pod) for p in self.providers]
        best, admit = self.policy.merge(hints)
        if trace is not None:
            trace.merges.append(MergeRecord(None, self._named(hints), best, admit))
        if not admit:
            # scope_pod.go:120-124
            if self.aligned:
                self.metrics.unaligned_pod_numa += 1
            self.metrics.tm_errors += 1
        return best, admit

    def _admit_pod_containers(self, pod: Pod, trace: AdmissionTrace | None) -> None:
        best, admit = self._pod_merge(pod, trace)
        if not admit:
            raise TopologyAffinityError()
        try:
            for c in pod.all_containers():
                self.affinity.set_affinity(pod.uid, c.name, best)
                self._allocate(pod, c)
        except Exception:
            self.metrics.tm_errors += 1  # scope_pod.go:76
            raise
        if self.aligned:
            self.metrics.aligned_pod_numa += 1  # updateSuccessMetrics, scope_pod.go:135

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
        try:
            for p in self.providers:
                p.allocate_pod(pod)
        except Exception:
            self.metrics.tm_errors += 1  # scope_pod.go:107
            raise
        if self.aligned:
            self.metrics.aligned_pod_numa += 1  # updateSuccessMetrics, scope_pod.go:135

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
