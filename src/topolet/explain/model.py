"""The explanation of one admission, as plain data (no printing).

Every class is a dataclass of JSON-friendly fields (CPU sets in the Linux
list format, NUMA node ids as lists, sizes in bytes); :meth:`Explanation.to_dict`
gives what ``topolet explain -o json`` prints. Renderers (``topolet.render``)
turn it into text, terminal output or HTML.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class NodeSettings:
    """The node and the kubelet settings the decision depended on."""

    topology: str  # "2 socket(s), 2 NUMA, 64 CPUs, SMT2"
    cpus_per_core: int
    cpu_manager_policy: str
    reserved_cpus: str  # list format ("" when none)
    cpu_manager_options: list[str]  # options in force (set to true)
    memory_manager_policy: str
    topology_manager_policy: str
    topology_manager_scope: str  # as configured
    effective_scope: str  # "container", "pod" or "none" (policy none: no merge)
    topology_manager_options: list[str]
    feature_gates: dict[str, bool]  # PodLevelResources, PodLevelResourceManagers


@dataclass(slots=True)
class ContainerRequest:
    """What one container asks for and how the managers classify it."""

    name: str
    kind: str  # "init", "sidecar" or "app"
    cpu_request: str  # as written ("" when unset)
    cpu_limit: str
    memory_request: str
    memory_limit: str
    exclusive_cpus: int  # what the CPU manager would pin for it (0: shared)
    cpu_class: str  # "exclusive" or "shared"
    why: str  # why exclusive or shared
    exclusive_memory: dict[str, int]  # what the memory manager would pin for it (bytes by resource)


@dataclass(slots=True)
class PodRequest:
    qos: str
    pod_level: bool  # spec.resources is set
    cpu_budget: str  # spec.resources cpu request ("" when none)
    memory_budget: str
    pod_exclusive_cpus: int  # the CPU manager's request for the pod (budget or sum)
    pod_memory: dict[str, int]  # the memory manager's request for the pod (bytes by resource)
    containers: list[ContainerRequest]


@dataclass(slots=True)
class NUMAFree:
    """One NUMA node as the hint providers saw it before a merge."""

    numa: int
    cpus: int  # CPUs in the NUMA node
    free_cpus: int  # free for exclusive use (the shared pool minus reserved CPUs)
    free_cpu_list: str
    memory_free: dict[str, int] = field(default_factory=dict)
    memory_allocatable: dict[str, int] = field(default_factory=dict)
    group: list[int] = field(default_factory=list)  # memory manager node group (cells), when grouped


@dataclass(slots=True)
class HintView:
    numa: list[int] | None  # None: any NUMA node (the nil mask)
    preferred: bool
    why: str = ""

    @property
    def label(self) -> str:
        if self.numa is None:
            return "any"
        return "{" + ",".join(str(n) for n in self.numa) + "}"


@dataclass(slots=True)
class ProviderView:
    """The hints one provider offered for one resource."""

    provider: str  # "cpu" or "memory"
    resource: str  # "cpu", "memory", "hugepages-2Mi", or "" when the provider said nothing
    request: str  # human: "8 CPUs", "16Gi"
    request_value: int  # CPUs or bytes (0 when none)
    status: str  # "hints", "no-preference" or "cannot-satisfy"
    hints: list[HintView]
    why: str
    not_offered: list[str] = field(default_factory=list)  # single NUMA nodes left out, with the reason


@dataclass(slots=True)
class MergeView:
    """One topology manager merge: per container (scope container) or for the pod."""

    target: str  # "pod" or "container NAME"
    container: str | None
    providers: list[ProviderView]
    free: list[NUMAFree]
    merged: HintView
    admit: bool
    verdict: str


@dataclass(slots=True)
class CPUTake:
    """How a set of CPUs was taken (the pod's bubble or a container's exclusive CPUs)."""

    target: str  # "pod bubble", "container database", ...
    cpus: str
    count: int
    numa: list[int]
    hint_numa: list[int] | None
    whole_sockets: list[int]
    whole_numa: list[int]
    whole_cores: int
    split_cores: int  # cores of which only some threads were taken
    uncore_caches: list[int]
    description: str


@dataclass(slots=True)
class MemoryBlockView:
    numa: list[int]
    resource: str
    size: int


@dataclass(slots=True)
class ContainerAllocationView:
    name: str
    kind: str
    cpu_mode: str  # "exclusive", "pod-shared", "node-shared"
    cpus: str  # Cpus_allowed_list
    cpu_count: int
    cpu_numa: list[int]
    mems: str  # Mems_allowed_list
    memory: list[MemoryBlockView]
    memory_pinned: bool
    note: str


@dataclass(slots=True)
class OptionEffect:
    """A policy option in force and what it did to this admission (checked by re-running without it)."""

    option: str
    effect: str
    changed: bool | None  # None: not checked
    without: str = ""  # what the pod would get without the option


@dataclass(slots=True)
class AllocationView:
    bubble: str  # the pod's CPU bubble ("" when none)
    bubble_numa: list[int]
    pod_shared_pool: str  # bubble minus the long-running exclusive slices ("" when no bubble)
    pod_memory: list[MemoryBlockView]
    takes: list[CPUTake]
    containers: list[ContainerAllocationView]
    partition: list[str]  # how the budget was partitioned, step by step
    options: list[OptionEffect]
    notes: list[str]


@dataclass(slots=True)
class Suggestion:
    """A change that makes the pod fit, verified by re-running the admission with it."""

    kind: str  # delete-pod, cpu-budget, container-cpus, smt-aligned, memory, scope, policy, cpu-option, ...
    change: str  # what to change
    result: str  # what the kubelet would do then
    numa: list[int]
    cpus: str


@dataclass(slots=True)
class RejectionView:
    reason: str
    message: str
    status_message: str  # what kubectl describe pod shows
    stage: str  # api-validation, topology-merge, cpu-allocation, memory-allocation, pod-validation
    failed_at: str  # "pod" or "container NAME" ("" when unknown)
    provider: str  # "cpu", "memory", "topology" or "api"
    blocking: list[str]  # the resource managers whose request could not be met ("cpu", "memory")
    causes: list[str]
    known_bug: str  # "" unless this is a known upstream bug reproduced here
    suggestions: list[Suggestion]
    tried: int  # how many what-if admissions were run to find the suggestions
    handler: str = ""  # the kubelet admit handler that rejected ("resource managers", "node fit", ...)
    shortfall: dict[str, Any] | None = None  # OutOf<resource>: resource, requested, used, allocatable, short
    held: str = ""  # what the resource managers held for the pod until their stale-state sweep


@dataclass(slots=True)
class Explanation:
    pod: str  # namespace/name
    uid: str
    admitted: bool
    reason: str
    message: str
    node: NodeSettings
    path: str  # "pod-level", "pod", "container", "none", "skipped", "api"
    path_why: str
    request: PodRequest | None
    before: list[NUMAFree]
    merges: list[MergeView]
    allocation: AllocationView | None
    rejection: RejectionView | None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
