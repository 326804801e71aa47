"""The memory manager's start-up checks (memorymanager/memory_manager.go ``NewManager``,
``getSystemReservedMemory``, ``validateReservedMemory``, ``convertReserved``;
policy_static.go ``NewPolicyStatic``).

Pure; errors are :class:`~topolet.engine.errors.StartupError` with the
kubelet's text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import TYPE_CHECKING

from topolet.engine.errors import StartupError
from topolet.model.kubelet_config import go_quote
from topolet.model.quantity import DECIMAL_SI, Quantity
from topolet.model.topology import Topology

if TYPE_CHECKING:
    from topolet.model.kubelet_config import KubeletConfig, MemoryReservation

POLICY_NONE = "None"
POLICY_STATIC = "Static"
POLICY_BEST_EFFORT = "BestEffort"
MEMORY = "memory"
HUGEPAGES_PREFIX = "hugepages-"

ERR_NO_SYSTEM_RESERVED = "[memorymanager] you should specify the system reserved memory"


def is_memory_resource(name: str) -> bool:
    """memory or hugepages-<size> (``IsHugePageResourceName`` or ``ResourceMemory``)."""
    return name == MEMORY or name.startswith(HUGEPAGES_PREFIX)


def _zero() -> Quantity:
    return Quantity(Fraction(0), DECIMAL_SI)


def total_memory_type_reserved(topology: Topology, reserved_memory: Iterable[MemoryReservation]) -> dict[str, Quantity]:
    """``getTotalMemoryTypeReserved``: the reservedMemory totals per resource."""
    nodes = set(topology.numa_ids)
    totals: dict[str, Quantity] = {}
    for r in reserved_memory:
        if r.numa_node not in nodes:
            raise StartupError(
                f"the reserved memory configuration references a NUMA node {r.numa_node} "
                "that does not exist on this machine"
            )
        for name in sorted(r.limits):
            q = r.limits[name]
            prev = totals.get(name)
            # q.Add(value): the entry's own format wins unless it is zero
            totals[name] = q.add(prev) if prev is not None else q
    return totals


def validate_reserved_memory(
    topology: Topology, reservation: Mapping[str, Quantity], reserved_memory: Iterable[MemoryReservation]
) -> None:
    """``validateReservedMemory``: per memory type, reservedMemory total == node allocatable reservation.

    The kubelet walks the types in Go's random map order; topolet in name order.
    """
    totals = total_memory_type_reserved(topology, reserved_memory)
    types = set(totals) | {k for k in reservation if is_memory_resource(k)}
    for rtype in sorted(types):
        allocatable = _zero()
        if rtype in reservation:
            allocatable = allocatable.add(reservation[rtype])
        reserved = _zero()
        if rtype in totals:
            reserved = reserved.add(totals[rtype])
        if allocatable.value != reserved.value:
            raise StartupError(
                f"the total amount {go_quote(str(reserved))} of type {go_quote(rtype)} is not equal to "
                f"the value {go_quote(str(allocatable))} determined by Node Allocatable feature"
            )


def convert_reserved(topology: Topology, reserved_memory: Iterable[MemoryReservation]) -> dict[int, dict[str, int]]:
    """``convertReserved``: bytes per NUMA node and resource (every node present)."""
    out: dict[int, dict[str, int]] = {nid: {} for nid in topology.numa_ids}
    for r in reserved_memory:
        for name in sorted(r.limits):
            v = r.limits[name].as_int64()
            if v is None:
                raise StartupError("could not covert a variable of type Quantity to int64")
            # uint64(val): a negative value wraps around
            out.setdefault(r.numa_node, {})[name] = v % (1 << 64)
    return out


def system_reserved_memory(
    cfg: KubeletConfig, topology: Topology, reservation: Mapping[str, Quantity]
) -> dict[int, dict[str, int]]:
    """``getSystemReservedMemory`` then ``NewPolicyStatic``'s check, for the Static policy.

    ``reservation`` is the node allocatable reservation
    (:func:`topolet.engine.startup.node_allocatable_reservation`).
    """
    validate_reserved_memory(topology, reservation, cfg.reserved_memory)
    converted = convert_reserved(topology, cfg.reserved_memory)
    total = sum(node.get(MEMORY, 0) for node in converted.values()) % (1 << 64)  # uint64
    if total == 0:
        raise StartupError(ERR_NO_SYSTEM_RESERVED)
    return converted


def memory_manager_startup(
    cfg: KubeletConfig, topology: Topology, reservation: Mapping[str, Quantity]
) -> dict[int, dict[str, int]] | None:
    """``memorymanager.NewManager`` on Linux: the Static policy's system reserved memory, or None."""
    policy = cfg.memory_manager_policy
    if policy == POLICY_NONE:
        return None
    if policy == POLICY_STATIC:
        return system_reserved_memory(cfg, topology, reservation)
    if policy == POLICY_BEST_EFFORT:
        raise StartupError(f'policy "{POLICY_BEST_EFFORT}" is not available for platform "linux"')
    raise StartupError(f"unknown policy: {go_quote(policy)}")
