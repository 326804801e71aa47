"""What an admission produces and what the node looks like: plain data for renderers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from topolet.model.cpuset import format_bits

if TYPE_CHECKING:  # annotations only: reading a result does not load the managers
    from topolet.engine.admission import Shortfall
    from topolet.engine.memorymanager.state import Block, MemoryTable
    from topolet.engine.topologymanager.manager import AdmissionTrace

EXCLUSIVE = "exclusive"  # the container's own CPUs (node_exclusive or pod_exclusive)
POD_SHARED = "pod-shared"  # the pod shared pool cut from the pod's budget
NODE_SHARED = "node-shared"  # the node's shared pool (default cpuset)


@dataclass(slots=True)
class ContainerAllocation:
    name: str
    kind: str  # "init", "sidecar" or "app"
    cpus: int  # Cpus_allowed_list, as CPU bits
    mems: int  # Mems_allowed_list, as NUMA bits
    memory: list[Block]  # the memory manager's blocks (empty when none)
    cpu_mode: str  # EXCLUSIVE, POD_SHARED or NODE_SHARED
    memory_pinned: bool

    @property
    def cpus_list(self) -> str:
        return format_bits(self.cpus)

    @property
    def mems_list(self) -> str:
        return format_bits(self.mems)


@dataclass(slots=True)
class HeldAllocation:
    """What the resource managers allocated for a pod that a later admit handler rejected.

    The kubelet keeps it in the managers' state until their next stale-state
    sweep (``removeStaleState``: the CPU manager's reconcile loop, or the next
    pod's allocation); ``swept`` says whether that sweep has run.
    """

    cpus: int  # the CPUs taken out of the shared pool (container sets and the pod's bubble)
    memory: list[Block]  # the memory manager's blocks
    swept: bool = False


@dataclass(slots=True)
class AdmitResult:
    pod: str  # namespace/name
    uid: str
    admitted: bool
    reason: str = ""
    message: str = ""
    qos: str = ""
    pod_cpus: int = 0  # the pod's CPU bubble (pod-level resource managers)
    containers: list[ContainerAllocation] = field(default_factory=list)
    trace: AdmissionTrace | None = None
    handler: str = ""  # the admit handler that rejected (see topolet.engine.admission)
    shortfall: Shortfall | None = None  # for OutOf<resource>: requested, used, allocatable
    held: HeldAllocation | None = None  # allocated by the resource managers before the rejection
    preempted: list[str] = field(default_factory=list)  # pods killed to admit this critical pod

    @property
    def status_message(self) -> str:
        """What ``kubectl describe`` shows for a rejected pod."""
        return f"Pod was rejected: {self.message}" if not self.admitted else ""

    def container(self, name: str) -> ContainerAllocation | None:
        for c in self.containers:
            if c.name == name:
                return c
        return None


@dataclass(slots=True)
class NUMAUsage:
    numa: int
    cpus: int  # CPU bits on the node
    free_cpus: int  # in the shared pool (default cpuset)
    memory: dict[str, MemoryTable]  # per resource (Static memory manager), else empty


@dataclass(slots=True)
class NodeSnapshot:
    """The node's state: pools, assignments and per-NUMA memory."""

    cpu_policy: str
    memory_policy: str
    default_cpuset: int
    reserved_cpus: int
    assignments: dict[str, dict[str, int]]
    pod_cpus: dict[str, int]
    numa: list[NUMAUsage]
    memory_assignments: dict[str, dict[str, list[Block]]]
    pod_memory: dict[str, list[Block]]
