"""Watching one admission on a copy of a node: what each hint provider saw and did.

The topology manager asks its hint providers (the CPU and memory managers) for
hints and then tells them to allocate. :func:`admit_recorded` wraps the
providers of a *copy* of the node for one admission and records, at every
call, the free CPUs and memory per NUMA node the provider saw (so that a
container's hints under scope ``container`` are explained with the state
left by the containers before it) and which call failed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from topolet.engine.cpumanager.policy_static import StaticCPUPolicy
from topolet.engine.memorymanager.policy_static import StaticMemoryPolicy
from topolet.engine.node import Node
from topolet.engine.result import AdmitResult
from topolet.model.pod import Container, Pod


@dataclass(slots=True)
class NUMAState:
    """One NUMA node as a provider saw it."""

    numa: int
    cpus: int = 0  # CPU bits of the NUMA node
    free_cpus: int = 0  # bits free for exclusive use (shared pool minus reserved CPUs)
    memory_free: dict[str, int] = field(default_factory=dict)
    memory_allocatable: dict[str, int] = field(default_factory=dict)
    group: list[int] = field(default_factory=list)  # the memory manager's node group (cells)
    assignments: int = 0  # the memory manager's numberOfAssignments


@dataclass(slots=True)
class ProviderCall:
    """One call from the topology manager to a hint provider."""

    kind: str  # "hints", "pod-hints", "allocate", "allocate-pod"
    provider: str  # "cpu" or "memory"
    container: str | None  # None: the whole pod
    numa: list[NUMAState]
    reusable_cpus: int = 0
    hint_mask: int | None = None  # the affinity stored for the container (allocate calls)
    hint_preferred: bool = False
    failed: bool = False
    error: str = ""


def numa_state(node: Node, pod_uid: str | None = None) -> list[NUMAState]:
    """Free CPUs and memory per NUMA node, as the managers see them now."""
    topo = node.topology
    policy = node.cpu_manager.policy
    cs = node.cpu_manager.state
    if isinstance(policy, StaticCPUPolicy):
        free = policy.available_cpus(cs)
    else:
        free = topo.all_cpus
    ms = node.memory_manager.state.machine_state
    out: list[NUMAState] = []
    for n in topo.numa_ids:
        st = NUMAState(numa=n, cpus=topo.numa_cpus.get(n, 0), free_cpus=free & topo.numa_cpus.get(n, 0))
        ns = ms.get(n)
        if ns is not None:
            st.memory_free = {r: t.free for r, t in ns.memory_map.items()}
            st.memory_allocatable = {r: t.allocatable for r, t in ns.memory_map.items()}
            st.group = list(ns.cells)
            st.assignments = ns.number_of_assignments
        out.append(st)
    return out


class _Recording:
    """A hint provider that records each call, then delegates to the real one."""

    def __init__(self, inner: Any, node: Node, calls: list[ProviderCall]) -> None:
        self._inner = inner
        self._node = node
        self._calls = calls
        self.name = inner.name

    def __getattr__(self, item: str) -> Any:
        return getattr(self._inner, item)

    def _record(self, kind: str, pod: Pod, container: Container | None) -> ProviderCall:
        reusable = 0
        policy = self._node.cpu_manager.policy
        if self.name == "cpu" and isinstance(policy, StaticCPUPolicy):
            reusable = policy.cpus_to_reuse.get(pod.uid, 0)
        call = ProviderCall(kind, self.name, container.name if container else None, numa_state(self._node), reusable)
        if kind.startswith("allocate"):
            first = container or (pod.all_containers()[0] if pod.all_containers() else None)
            if first is not None:
                hint = self._node.affinity.get_affinity(pod.uid, first.name)
                call.hint_mask, call.hint_preferred = hint.mask, hint.preferred
        self._calls.append(call)
        return call

    def _run(self, call: ProviderCall, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except Exception as e:
            call.failed = True
            call.error = str(e)
            raise

    def get_topology_hints(self, pod: Pod, container: Container) -> Any:
        call = self._record("hints", pod, container)
        return self._run(call, self._inner.get_topology_hints, pod, container)

    def get_pod_topology_hints(self, pod: Pod) -> Any:
        call = self._record("pod-hints", pod, None)
        return self._run(call, self._inner.get_pod_topology_hints, pod)

    def allocate(self, pod: Pod, container: Container) -> Any:
        call = self._record("allocate", pod, container)
        return self._run(call, self._inner.allocate, pod, container)

    def allocate_pod(self, pod: Pod) -> Any:
        call = self._record("allocate-pod", pod, None)
        return self._run(call, self._inner.allocate_pod, pod)


def admit_recorded(node: Node, pod: Pod) -> tuple[AdmitResult, list[ProviderCall]]:
    """Admit ``pod`` on ``node`` (a copy: it is changed) with tracing, recording the provider calls."""
    tm = node.topology_manager
    calls: list[ProviderCall] = []
    original = list(tm.providers)
    tm.providers = [_Recording(p, node, calls) for p in original]
    try:
        result = node.admit(pod, trace=True)
    finally:
        tm.providers = original
    return result, calls


def memory_policy_is_static(node: Node) -> bool:
    return isinstance(node.memory_manager.policy, StaticMemoryPolicy)
