"""CPU manager policy options and the CPU manager's start-up checks
(cpumanager/policy_options.go, policy_none.go ``NewNonePolicy``, cpu_manager.go
``NewManager``, policy_static.go ``NewStaticPolicy``).

Pure; errors are :class:`~topolet.engine.errors.StartupError` carrying the
kubelet's text, including the prefixes ``cpumanager.NewManager`` adds
("new static policy error: ", "new none policy error: ").
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from topolet.engine.errors import StartupError
from topolet.model.cpuset import format_bits
from topolet.model.features import (
    CPU_MANAGER_POLICY_ALPHA_OPTIONS,
    CPU_MANAGER_POLICY_BETA_OPTIONS,
    FeatureGates,
)
from topolet.model.kubelet_config import GoParseError, go_parse_bool, go_parse_cpuset, go_quote
from topolet.model.topology import Topology

if TYPE_CHECKING:
    from topolet.model.kubelet_config import KubeletConfig
    from topolet.model.quantity import Quantity

FULL_PCPUS_ONLY = "full-pcpus-only"
DISTRIBUTE_CPUS_ACROSS_NUMA = "distribute-cpus-across-numa"
ALIGN_BY_SOCKET = "align-by-socket"
DISTRIBUTE_CPUS_ACROSS_CORES = "distribute-cpus-across-cores"
STRICT_CPU_RESERVATION = "strict-cpu-reservation"
PREFER_ALIGN_BY_UNCORE_CACHE = "prefer-align-cpus-by-uncorecache"

ALPHA_OPTIONS = frozenset({ALIGN_BY_SOCKET, DISTRIBUTE_CPUS_ACROSS_CORES})
BETA_OPTIONS = frozenset({DISTRIBUTE_CPUS_ACROSS_NUMA})
STABLE_OPTIONS = frozenset({FULL_PCPUS_ONLY, STRICT_CPU_RESERVATION, PREFER_ALIGN_BY_UNCORE_CACHE})

POLICY_NONE = "none"
POLICY_STATIC = "static"

_FIELD = {
    FULL_PCPUS_ONLY: "full_physical_cpus_only",
    DISTRIBUTE_CPUS_ACROSS_NUMA: "distribute_cpus_across_numa",
    ALIGN_BY_SOCKET: "align_by_socket",
    DISTRIBUTE_CPUS_ACROSS_CORES: "distribute_cpus_across_cores",
    STRICT_CPU_RESERVATION: "strict_cpu_reservation",
    PREFER_ALIGN_BY_UNCORE_CACHE: "prefer_align_by_uncore_cache",
}

# the incompatible pairs, in the order NewStaticPolicyOptions checks them
_INCOMPATIBLE = (
    (FULL_PCPUS_ONLY, DISTRIBUTE_CPUS_ACROSS_CORES),
    (DISTRIBUTE_CPUS_ACROSS_NUMA, DISTRIBUTE_CPUS_ACROSS_CORES),
    (PREFER_ALIGN_BY_UNCORE_CACHE, DISTRIBUTE_CPUS_ACROSS_CORES),
    (PREFER_ALIGN_BY_UNCORE_CACHE, DISTRIBUTE_CPUS_ACROSS_NUMA),
)


@dataclass(frozen=True, slots=True)
class StaticPolicyOptions:
    """``cpumanager.StaticPolicyOptions``."""

    full_physical_cpus_only: bool = False
    distribute_cpus_across_numa: bool = False
    align_by_socket: bool = False
    distribute_cpus_across_cores: bool = False
    strict_cpu_reservation: bool = False
    prefer_align_by_uncore_cache: bool = False


def check_policy_option_available(option: str, gates: FeatureGates) -> None:
    """``CheckPolicyOptionAvailable`` (no prefix)."""
    if option not in ALPHA_OPTIONS and option not in BETA_OPTIONS and option not in STABLE_OPTIONS:
        raise StartupError(f"unknown CPU Manager Policy option: {go_quote(option)}")
    if option in ALPHA_OPTIONS and not gates.enabled(CPU_MANAGER_POLICY_ALPHA_OPTIONS):
        raise StartupError(
            f"CPU Manager Policy Alpha-level Options not enabled, but option {go_quote(option)} provided"
        )
    if option in BETA_OPTIONS and not gates.enabled(CPU_MANAGER_POLICY_BETA_OPTIONS):
        raise StartupError(f"CPU Manager Policy Beta-level Options not enabled, but option {go_quote(option)} provided")


def new_static_policy_options(options: Mapping[str, str], gates: FeatureGates) -> StaticPolicyOptions:
    """``NewStaticPolicyOptions`` (errors without the "new static policy error: " prefix).

    Options are examined in name order (the kubelet walks the Go map in random
    order, so with several bad options the one it names may vary).
    """
    values: dict[str, bool] = {}
    for name in sorted(options):
        check_policy_option_available(name, gates)
        try:
            values[_FIELD[name]] = go_parse_bool(options[name])
        except GoParseError as e:
            raise StartupError(f"bad value for option {go_quote(name)}: {e}") from None
    opts = StaticPolicyOptions(**values)
    for a, b in _INCOMPATIBLE:
        if getattr(opts, _FIELD[a]) and getattr(opts, _FIELD[b]):
            raise StartupError(f"static policy options {a} and {b} can not be used at the same time")
    return opts


def validate_static_policy_options(opts: StaticPolicyOptions, topology: Topology, topology_policy_name: str) -> None:
    """``ValidateStaticPolicyOptions`` (the kubelet's "Topolgy" spelling is kept)."""
    if opts.align_by_socket:
        if topology_policy_name == "single-numa-node":
            raise StartupError(
                "Topolgy manager single-numa-node policy is incompatible with CPUManager align-by-socket policy option"
            )
        if topology.num_sockets > topology.num_numa_nodes:
            raise StartupError(
                "Align by socket is not compatible with hardware where number of sockets are more than number of NUMA"
            )


def check_none_policy_options(options: Mapping[str, str]) -> None:
    """``NewNonePolicy``: the none policy takes no options (message without the prefix)."""
    if options:
        raise StartupError(f"None policy: received unsupported options={go_map(options)}")


def go_map(m: Mapping[str, str]) -> str:
    """``%v`` of a Go ``map[string]string``: keys sorted, ``map[k:v k2:v2]``."""
    return "map[" + " ".join(f"{k}:{m[k]}" for k in sorted(m)) + "]"


def _prefixed(prefix: str, err: StartupError) -> StartupError:
    return StartupError(prefix + str(err))


def cpu_manager_startup(
    cfg: KubeletConfig,
    topology: Topology,
    reservation: Mapping[str, Quantity],
    reserved_cpus: int | None = None,
) -> tuple[StaticPolicyOptions | None, int, int | None]:
    """``cpumanager.NewManager``'s checks, with its messages and prefixes.

    Returns ``(options, num_reserved_cpus, reserved_cpus)``: the static
    policy's options (None under the none policy), ``ceil(reserved cpu)``,
    and the explicit ``reservedSystemCPUs`` set as bits (None when the
    reserved CPUs are to be chosen by the allocation algorithm).
    ``reservation`` is the node allocatable reservation
    (:func:`topolet.engine.startup.node_allocatable_reservation`) and
    ``reserved_cpus`` the parsed ``reservedSystemCPUs`` (parsed from ``cfg``
    when not given).

    Not checked here: with no ``reservedSystemCPUs`` the static policy takes
    the reserved CPUs with ``takeByTopology``; when that cannot find
    ``num_reserved_cpus`` CPUs the kubelet refuses with "new static policy
    error: [cpumanager] unable to reserve the required amount of CPUs (size of
    X did not equal N)". That needs the allocation algorithm and is raised by
    the static CPU policy when it is built. The one case decidable without it,
    more CPUs to reserve than the machine has (takeByTopology fails, X is
    empty), is refused here with the same message.
    """
    policy = cfg.cpu_manager_policy
    if policy == POLICY_NONE:
        try:
            check_none_policy_options(cfg.cpu_manager_policy_options)
        except StartupError as e:
            raise _prefixed("new none policy error: ", e) from None
        return None, 0, None
    if policy != POLICY_STATIC:
        raise StartupError(f'unknown policy: "{policy}"')
    cpu = reservation.get("cpu")
    if cpu is None:
        # GetNodeAllocatableReservation drops zero values, so a zero reservation
        # lands here too (never on the "greater than zero" error below).
        raise StartupError("[cpumanager] unable to determine reserved CPU resources for static policy")
    if cpu.is_zero():  # pragma: no cover - unreachable in 1.36 (kept for fidelity)
        raise StartupError(
            "[cpumanager] the static policy requires systemreserved.cpu + kubereserved.cpu to be greater than zero"
        )
    num_reserved = math.ceil(cpu.milli_value() / 1000)
    try:
        opts = new_static_policy_options(cfg.cpu_manager_policy_options, cfg.feature_gates)
        validate_static_policy_options(opts, topology, cfg.topology_manager_policy)
    except StartupError as e:
        raise _prefixed("new static policy error: ", e) from None
    if reserved_cpus is None and cfg.reserved_system_cpus != "":
        try:
            reserved_cpus = go_parse_cpuset(cfg.reserved_system_cpus).bits
        except GoParseError:  # refused earlier by the configuration validation
            reserved_cpus = None
    bits = reserved_cpus if reserved_cpus else None
    size = bits.bit_count() if bits else 0
    if bits is None and num_reserved > topology.num_cpus:
        # takeByTopology fails ("not enough cpus available to satisfy request"): X is empty
        raise StartupError(
            "new static policy error: [cpumanager] unable to reserve the required amount of CPUs "
            f"(size of  did not equal {num_reserved})"
        )
    if bits is not None and size != num_reserved:
        raise StartupError(
            "new static policy error: [cpumanager] unable to reserve the required amount of CPUs "
            f"(size of {format_bits(bits)} did not equal {num_reserved})"
        )
    return opts, num_reserved, bits
