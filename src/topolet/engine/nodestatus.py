"""The Node object this kubelet registers and keeps up to date (pkg/kubelet/nodestatus).

Pure. What the predicate admit handler reads of it: the name, the labels, the
taints (``registerWithTaints``), and ``status.capacity`` / ``status.allocatable``
as the ``MachineInfo`` setter computes them:

* capacity: ``cadvisor.CapacityFromMachineInfo`` (cpu, memory, ``hugepages-<size>``
  per page size) and ``pods`` = ``maxPods``, or ``min(podsPerCore x CPUs, maxPods)``
  when ``podsPerCore`` > 0;
* allocatable: capacity - ``GetNodeAllocatableReservation`` (systemReserved +
  kubeReserved + hard eviction, reservedSystemCPUs standing for the cpu), at
  least 0; memory is further reduced by the capacity of every hugepage size.

Amounts are integers: cpu in millicores, everything else in units (bytes, pods).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from topolet.model.kubelet_config import KubeletConfig
from topolet.model.pod import CPU, MEMORY, is_hugepages
from topolet.model.quantity import Quantity
from topolet.model.scheduling import (
    LABEL_ARCH,
    LABEL_ARCH_BETA,
    LABEL_HOSTNAME,
    LABEL_OS,
    LABEL_OS_BETA,
    Taint,
)
from topolet.model.topology import Topology

PODS = "pods"
EPHEMERAL_STORAGE = "ephemeral-storage"
DEFAULT_NODE_NAME = "node-1"


@dataclass(slots=True)
class NodeObject:
    """The parts of ``v1.Node`` that admission reads."""

    name: str
    labels: dict[str, str] = field(default_factory=dict)
    taints: list[Taint] = field(default_factory=list)
    capacity: dict[str, int] = field(default_factory=dict)  # cpu in millicores
    allocatable: dict[str, int] = field(default_factory=dict)

    def allocatable_of(self, resource: str) -> int:
        return self.allocatable.get(resource, 0)


def amount(resource: str, q: Quantity) -> int:
    """The scheduler's integer for a quantity: ``MilliValue()`` for cpu, ``Value()`` otherwise."""
    v = q.value  # a Fraction: ceil with integer arithmetic (this runs for every pod admitted)
    if resource == CPU:
        return -((-v.numerator * 1000) // v.denominator)
    return -((-v.numerator) // v.denominator)


def node_labels(name: str) -> dict[str, str]:
    """The labels the kubelet sets on its Node (``initialNode``): hostname, os and arch."""
    return {
        LABEL_HOSTNAME: name,
        LABEL_OS: "linux",
        LABEL_ARCH: "amd64",
        LABEL_OS_BETA: "linux",
        LABEL_ARCH_BETA: "amd64",
    }


def pods_capacity(config: KubeletConfig, num_cpus: int) -> int:
    """``MachineInfo``: maxPods, or min(podsPerCore x NumCores, maxPods) (NumCores: logical CPUs)."""
    if config.pods_per_core > 0:
        return min(num_cpus * config.pods_per_core, config.max_pods)
    return config.max_pods


def build_node_object(
    name: str,
    topology: Topology,
    config: KubeletConfig,
    capacity: Mapping[str, Quantity],
    reservation: Mapping[str, Quantity],
) -> NodeObject:
    """The Node as registered: ``capacity`` is ``CapacityFromMachineInfo``, ``reservation``
    ``GetNodeAllocatableReservation`` (both from the start-up plan)."""
    cap: dict[str, int] = {}
    alloc: dict[str, int] = {}
    for rname, q in capacity.items():
        cap[rname] = amount(rname, q)
        r = reservation.get(rname)
        left = q.value - (r.value if r is not None else 0)
        alloc[rname] = max(amount(rname, Quantity(left, q.format)), 0)
    cap[PODS] = pods_capacity(config, topology.num_cpus)
    r = reservation.get(PODS)
    alloc[PODS] = max(cap[PODS] - (math.ceil(r.value) if r is not None else 0), 0)
    # for every hugepage size, its capacity comes out of allocatable memory
    for rname, v in cap.items():
        if is_hugepages(rname):
            alloc[MEMORY] = max(alloc.get(MEMORY, 0) - v, 0)
    return NodeObject(
        name=name,
        labels=node_labels(name),
        taints=list(config.register_with_taints),
        capacity=cap,
        allocatable=alloc,
    )
