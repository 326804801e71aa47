"""Everything the kubelet checks when it starts, in the kubelet's order (pure, no I/O).

The order, from cmd/kubelet/app/server.go and cm.NewContainerManager:

1. feature gates (``SetFromMap`` while the config file is decoded): locked
   gates, dependencies ("X is enabled, but depends on features that are
   disabled: [Y]");
2. ``ValidateKubeletConfiguration``: topologyManagerPolicy/Scope,
   reservedSystemCPUs syntax, reservedMemory entries; all errors joined
   ("[a, b]" when several);
3. ``run()``: reservedSystemCPUs must be online CPUs; kubeReserved then
   systemReserved parse (the reserved-cpus override applied first); the hard
   eviction thresholds parse;
4. ``NewContainerManager``: the topology manager (``NewManager``), then the CPU
   manager (policy name, reservation, options), then the memory manager
   (policy name, reservedMemory against the node allocatable reservation);
5. ``ContainerManager.Start`` (after the managers restored their
   checkpoints): the node allocatable reservation must fit the capacity.

Messages. ``str(err)`` of a :class:`StartupError` is the error the failing
kubelet function returns, which is what the conformance corpus quotes. The
kubelet logs it inside a wrapper that depends on the phase; that full line is
on ``err.kubelet_log`` and the phase on ``err.stage`` (the errors raised here are
:class:`KubeletStartupError`, a :class:`StartupError`):

* ``feature-gates``: the config file's gates are applied while the file is
  decoded, and ``SetDefaults_KubeletConfiguration`` panics: "panic: failed to
  merge global and in-flight KubeletConfiguration while setting defaults,
  error: ...";
* ``validation``: "failed to validate kubelet configuration, error: ...,
  path: ..." (the path, a dump of the whole struct, is left out);
* ``run``: "failed to run Kubelet: ...";
* ``start``: "Failed to start ContainerManager" err="...".

The kubelet walks Go maps (options, reserved resources, thresholds, gates) in
random order, so with several problems of the same kind it may name a
different one from run to run; topolet walks them in name order.

Not modelled: the settings that do not concern the resource managers (ports,
cgroups, logging, ...) and the soft eviction thresholds (parsed later, by the
eviction manager).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction

from topolet.engine.cpumanager.policy_options import StaticPolicyOptions, cpu_manager_startup
from topolet.engine.errors import StartupError
from topolet.engine.memorymanager.reserved import memory_manager_startup
from topolet.engine.topologymanager.policy_options import (
    POLICIES,
    TopologyPolicyOptions,
    check_topology_manager,
)
from topolet.model.cpuset import format_bits
from topolet.model.features import FeatureGates
from topolet.model.kubelet_config import (
    GoParseError,
    KubeletConfig,
    f32_round,
    go_amount_add,
    go_int64_amount,
    go_parse_cpuset,
    go_parse_float32,
    go_parse_quantity,
    go_quote,
)
from topolet.model.kubelet_config_schema import validation_errors
from topolet.model.quantity import BINARY_SI, DECIMAL_SI, Quantity
from topolet.model.topology import Topology, hugepage_resource_name

__all__ = [
    "KubeletStartupError",
    "StartupPlan",
    "Threshold",
    "check_feature_gates",
    "hard_eviction_reservation",
    "node_allocatable_reservation",
    "node_capacity",
    "parse_resource_list",
    "parse_threshold_config",
    "startup_checks",
    "validate_configuration",
    "validate_kubelet_config",
    "validate_node_allocatable",
]

STAGE_FEATURE_GATES = "feature-gates"
STAGE_VALIDATION = "validation"
STAGE_RUN = "run"
STAGE_START = "start"

_WRAP = {
    STAGE_FEATURE_GATES: "panic: failed to merge global and in-flight KubeletConfiguration while setting "
    "defaults, error: {}",
    STAGE_VALIDATION: "failed to validate kubelet configuration, error: {}",
    STAGE_RUN: "failed to run Kubelet: {}",
    STAGE_START: '"Failed to start ContainerManager" err="{}"',
}


class KubeletStartupError(StartupError):
    """A :class:`StartupError` that knows the phase it came from and the line the kubelet logs."""

    def __init__(self, message: str, stage: str) -> None:
        super().__init__(message)
        self.message = message
        self.stage = stage
        self.kubelet_log = _WRAP[stage].format(message)


def _fail(message: str, stage: str) -> KubeletStartupError:
    return KubeletStartupError(message, stage)


def _restage(err: StartupError, stage: str) -> KubeletStartupError:
    return _fail(str(err), stage)


def aggregate(errors: list[str]) -> str:
    """``utilerrors.NewAggregate(errs).Error()``: one message, or "[a, b]" (duplicates dropped)."""
    seen: list[str] = []
    for e in errors:
        if e not in seen:
            seen.append(e)
    if len(seen) == 1:
        return seen[0]
    return "[" + ", ".join(seen) + "]"


# -- 1. feature gates ----------------------------------------------------------------------


def check_feature_gates(cfg: KubeletConfig) -> list[str]:
    """``SetFromMap`` on the configuration's gates; returns the warnings."""
    errors, warnings = cfg.feature_gates.validate()
    if errors:
        raise _fail(aggregate(errors), STAGE_FEATURE_GATES)
    return warnings


# -- 2. ValidateKubeletConfiguration -----------------------------------------------------


def _is_hugepages(name: str) -> bool:
    return name.startswith("hugepages-")


def validate_configuration(cfg: KubeletConfig) -> None:
    """``ValidateKubeletConfiguration``, errors joined in its order.

    The resource managers' checks are here; the other fields' checks come from
    :func:`topolet.model.kubelet_config_schema.validation_errors`, placed in the kubelet's order.
    """
    # maxPods and podsPerCore as the loader defaulted them (also set directly by callers)
    values = {**cfg.values, "maxPods": cfg.max_pods, "podsPerCore": cfg.pods_per_core}
    first, second, third = validation_errors(values)
    errs: list[str] = list(first)
    if cfg.topology_manager_policy not in POLICIES:
        choices = " ".join(go_quote(p) for p in POLICIES)
        errs.append(
            "invalid configuration: topologyManagerPolicy (--topology-manager-policy) "
            f"{go_quote(cfg.topology_manager_policy)} must be one of: [{choices}]"
        )
    if cfg.topology_manager_scope not in ("container", "pod"):
        errs.append(
            "invalid configuration: topologyManagerScope (--topology-manager-scope) "
            f'{go_quote(cfg.topology_manager_scope)} must be one of: "container", or "pod"'
        )
    errs.extend(second)
    if cfg.reserved_system_cpus != "":
        if cfg.system_reserved_cgroup != "" or cfg.kube_reserved_cgroup != "":
            errs.append(
                "invalid configuration: can't use reservedSystemCPUs (--reserved-cpus) with "
                "systemReservedCgroup (--system-reserved-cgroup) or kubeReservedCgroup "
                "(--kube-reserved-cgroup)"
            )
        try:
            go_parse_cpuset(cfg.reserved_system_cpus)
        except GoParseError as e:
            errs.append(
                "invalid configuration: unable to parse reservedSystemCPUs (--reserved-cpus) "
                f"{cfg.reserved_system_cpus}, error: {e}"
            )
    # validateReservedMemoryConfiguration
    seen: dict[int, set[str]] = {}
    for r in cfg.reserved_memory:
        names = seen.setdefault(r.numa_node, set())
        for name in sorted(r.limits):
            q = r.limits[name]
            if not (_is_hugepages(name) or name == "memory"):
                errs.append(
                    f"invalid configuration: the limit type {go_quote(name)} for NUMA node {r.numa_node} "
                    "is not supported, only [memory hugepages-<HugePageSize>] is accepted"
                )
            if q.is_zero():
                errs.append(
                    f"invalid configuration: reserved memory may not be zero for NUMA node {r.numa_node} "
                    f"and resource {go_quote(name)}"
                )
            if name in names:
                errs.append(
                    "invalid configuration: the reserved memory has a duplicate value for NUMA node "
                    f"{r.numa_node} and resource {go_quote(name)}"
                )
            names.add(name)
    errs.extend(third)
    if errs:
        raise _fail(aggregate(errs), STAGE_VALIDATION)


# -- 3. run(): reserved CPUs, reserved resources, hard eviction ----------------------------


def reserved_system_cpus(cfg: KubeletConfig, topology: Topology) -> int:
    """``getReservedCPUs``: the reservedSystemCPUs as bits (0 when unset)."""
    if cfg.reserved_system_cpus == "":
        return 0
    try:
        parsed = go_parse_cpuset(cfg.reserved_system_cpus)
    except GoParseError as e:  # refused by the validation already
        raise _fail(f"unable to parse reserved-cpus list: {e}", STAGE_RUN) from None
    if parsed.beyond or parsed.bits & ~topology.all_cpus:
        raise _fail(
            f"reserved-cpus: {cfg.reserved_system_cpus} is not a subset of online-cpus: "
            f"{format_bits(topology.all_cpus)}",
            STAGE_RUN,
        )
    return parsed.bits


RESERVABLE = ("cpu", "memory", "ephemeral-storage", "pid")


def parse_resource_list(m: Mapping[str, str]) -> dict[str, Quantity]:
    """``parseResourceList`` (cmd/kubelet/app/server.go), errors without the flag prefix."""
    out: dict[str, Quantity] = {}
    for k in sorted(m):
        v = m[k]
        if k not in RESERVABLE:
            raise StartupError(f"cannot reserve {go_quote(k)} resource")
        try:
            q = go_parse_quantity(v)
        except GoParseError as e:
            raise StartupError(f"failed to parse quantity {go_quote(v)} for {go_quote(k)} resource: {e}") from None
        if q.value < 0:
            raise StartupError(f"resource quantity for {go_quote(k)} cannot be negative: {v}")
        out[k] = q
    return out


def effective_reserved(cfg: KubeletConfig, reserved_cpus: int) -> tuple[dict[str, str], dict[str, str]]:
    """kubeReserved and systemReserved after the reservedSystemCPUs override.

    With reserved CPUs, the kubelet drops kubeReserved's cpu and sets
    systemReserved's cpu to their count.
    """
    kube = dict(cfg.kube_reserved)
    system = dict(cfg.system_reserved)
    if reserved_cpus:
        kube.pop("cpu", None)
        system["cpu"] = str(reserved_cpus.bit_count())
    return kube, system


@dataclass(frozen=True, slots=True)
class Threshold:
    """A hard eviction threshold (``evictionapi.Threshold``, operator LessThan)."""

    signal: str
    quantity: Quantity | None = None
    percentage: float = 0.0  # a float32 value, as a fraction of the capacity
    text: str = ""  # the value as written


SIGNALS = (
    "memory.available",
    "allocatableMemory.available",
    "imagefs.available",
    "imagefs.inodesFree",
    "containerfs.available",
    "containerfs.inodesFree",
    "nodefs.available",
    "nodefs.inodesFree",
    "pid.available",
)


def parse_threshold_config(eviction_hard: Mapping[str, str]) -> list[Threshold]:
    """``eviction.ParseThresholdConfig`` for the hard thresholds (errors as the kubelet's)."""
    out: list[Threshold] = []
    for signal in sorted(eviction_hard):
        val = eviction_hard[signal]
        if signal not in SIGNALS:
            raise StartupError(f"unsupported eviction signal {signal}")
        if val.endswith("%"):
            if val in ("0%", "100%"):
                continue  # ignored
            try:
                pct = go_parse_float32(val.rstrip("%"))
            except GoParseError as e:
                raise StartupError(str(e)) from None
            # float32(value) / 100, in float32 (NaN and infinities pass through)
            pct = f32_round(Fraction(pct) / 100) if math.isfinite(pct) else pct / 100
            if pct < 0:
                raise StartupError(f"eviction percentage threshold {signal} must be >= 0%: {val}")
            if pct > 1:
                raise StartupError(f"eviction percentage threshold {signal} must be <= 100%: {val}")
            out.append(Threshold(signal, None, pct, val))
            continue
        try:
            q = go_parse_quantity(val)
        except GoParseError as e:
            raise StartupError(str(e)) from None
        if q.value <= 0:
            raise StartupError(f"eviction threshold {signal} must be positive: {q}")
        out.append(Threshold(signal, q, 0.0, val))
    return out


def node_capacity(topology: Topology) -> dict[str, Quantity]:
    """``cadvisor.CapacityFromMachineInfo``: cpu, memory and hugepages-<size> of the machine."""
    cap: dict[str, Quantity] = {
        "cpu": Quantity(Fraction(topology.num_cpus), DECIMAL_SI),
        "memory": Quantity(Fraction(sum(n.memory for n in topology.numa_nodes.values())), BINARY_SI),
    }
    sizes: dict[int, int] = {}
    for n in topology.numa_nodes.values():
        for size, total in n.hugepages.items():
            sizes[size] = sizes.get(size, 0) + total
    for size in sorted(sizes):
        cap[hugepage_resource_name(size)] = Quantity(Fraction(sizes[size]), BINARY_SI)
    return cap


_INT64_MIN = -(2**63)


def _threshold_quantity(t: Threshold, capacity: Quantity | None) -> Quantity:
    """``evictionapi.GetThresholdQuantity``."""
    if t.quantity is not None:
        return t.quantity
    cap = capacity.int_value() if capacity is not None else 0
    product = float(cap) * float(t.percentage)
    # int64(float64): truncation; NaN/out of range give the minimum int64 on amd64
    v = int(product) if product == product and abs(product) < 2**63 else _INT64_MIN
    return Quantity(Fraction(v), BINARY_SI)


def hard_eviction_reservation(
    thresholds: list[Threshold], capacity: Mapping[str, Quantity]
) -> dict[str, Quantity] | None:
    """``hardEvictionReservation`` (cm/helpers.go): memory and ephemeral-storage reservations."""
    if not thresholds:
        return None
    out: dict[str, Quantity] = {}
    for t in thresholds:
        if t.signal == "memory.available":
            out["memory"] = _threshold_quantity(t, capacity.get("memory"))
        elif t.signal == "nodefs.available":
            out["ephemeral-storage"] = _threshold_quantity(t, capacity.get("ephemeral-storage"))
    return out


@dataclass(slots=True)
class _Reservations:
    reserved_cpus: int
    kube: dict[str, Quantity]
    system: dict[str, Quantity]
    kube_text: dict[str, str]
    system_text: dict[str, str]
    thresholds: list[Threshold]


def _run_phase(cfg: KubeletConfig, topology: Topology) -> _Reservations:
    reserved = reserved_system_cpus(cfg, topology)
    kube_text, system_text = effective_reserved(cfg, reserved)
    try:
        kube = parse_resource_list(kube_text)
    except StartupError as e:
        raise _fail(f"--kube-reserved value failed to parse: {e}", STAGE_RUN) from None
    try:
        system = parse_resource_list(system_text)
    except StartupError as e:
        raise _fail(f"--system-reserved value failed to parse: {e}", STAGE_RUN) from None
    try:
        thresholds = parse_threshold_config(cfg.eviction_hard)
    except StartupError as e:
        raise _restage(e, STAGE_RUN) from None
    return _Reservations(reserved, kube, system, kube_text, system_text, thresholds)


def _reservation(res: _Reservations, capacity: Mapping[str, Quantity]) -> dict[str, Quantity]:
    """``GetNodeAllocatableReservation``: system + kube + hard eviction, zero values dropped."""
    evict = hard_eviction_reservation(res.thresholds, capacity)
    out: dict[str, Quantity] = {}
    for k in capacity:
        value = Quantity(Fraction(0), DECIMAL_SI)
        for part in (res.system.get(k), res.kube.get(k), (evict or {}).get(k)):
            if part is not None:
                value = value.add(part)
        if not value.is_zero():
            out[k] = value
    return out


def validate_kubelet_config(cfg: KubeletConfig, topology: Topology) -> None:
    """Steps 1-3: everything checked before the resource managers are built."""
    check_feature_gates(cfg)
    validate_configuration(cfg)
    _run_phase(cfg, topology)


def node_allocatable_reservation(cfg: KubeletConfig, topology: Topology) -> dict[str, Quantity]:
    """``GetNodeAllocatableReservation`` as the managers see it at construction.

    Keys are the capacity's resources (cpu, memory, hugepages-<size>); values
    keep Go's formats (the first non-zero addend's), e.g. ``1268Mi``.
    Raises :class:`StartupError` when the reservations do not parse.
    """
    return _reservation(_run_phase(cfg, topology), node_capacity(topology))


# -- 5. node allocatable against capacity ------------------------------------------------------


def _go_struct(amount: tuple[int, int] | None, q: Quantity) -> str:
    """Go's ``%v`` of a ``resource.Quantity`` value (its struct): ``{{1073741824 0} {<nil>}  BinarySI}``.

    When Go would hold the value in an ``inf.Dec`` (not printable the same
    way) topolet shows the quantity instead.
    """
    if amount is None:
        return str(q)
    return f"{{{{{amount[0]} {amount[1]}}} {{<nil>}}  {q.format}}}"


def _amount_of(text: str | None, q: Quantity | None) -> tuple[int, int] | None:
    if q is None:
        return (0, 0)
    if text is not None:
        try:
            return go_int64_amount(text)
        except GoParseError:  # pragma: no cover - parsed before
            return None
    whole = q.as_int64()  # resource.NewQuantity(v, BinarySI): int64Amount{v, 0}
    return (whole, 0) if whole is not None else None


def validate_node_allocatable(
    cfg: KubeletConfig,
    topology: Topology,
    reservation: Mapping[str, Quantity] | None = None,
) -> None:
    """``validateNodeAllocatable`` (run by ``ContainerManager.Start``): reservation <= capacity.

    Only cpu, memory and hugepages are known here (the disk is not modelled:
    ephemeral-storage is not checked). A topology without memory sizes (every
    NUMA node at 0) is taken as "memory unknown" and its memory is not
    checked.
    """
    res = _run_phase(cfg, topology)
    capacity = node_capacity(topology)
    if reservation is None:
        reservation = _reservation(res, capacity)
    evict = hard_eviction_reservation(res.thresholds, capacity) or {}
    memory_known = any(n.memory for n in topology.numa_nodes.values())
    errors: list[str] = []
    for k in sorted(reservation):
        v = reservation[k]
        if k == "memory" and not memory_known:
            continue
        cap = capacity.get(k, Quantity(Fraction(0), DECIMAL_SI))
        if cap.value - v.value >= 0:
            continue
        # the Go int64Amount of the reservation: 0 + system + kube + eviction
        amount: tuple[int, int] | None = (0, 0)
        for text, q in (
            (res.system_text.get(k), res.system.get(k)),
            (res.kube_text.get(k), res.kube.get(k)),
            (_threshold_text(res.thresholds, k), evict.get(k)),
        ):
            part = _amount_of(text, q)
            amount = go_amount_add(amount, part) if amount is not None and part is not None else None
        cap_amount = (topology.num_cpus * 1000, -3) if k == "cpu" else (cap.as_int64() or 0, 0)
        errors.append(
            f"Resource {go_quote(k)} has a reservation of {_go_struct(amount, v)} but capacity of "
            f"{_go_struct(cap_amount, cap)}. Expected capacity >= reservation."
        )
    if errors:
        raise _fail("invalid Node Allocatable configuration. " + " ".join(errors), STAGE_START)


def _threshold_text(thresholds: list[Threshold], resource: str) -> str | None:
    signal = {"memory": "memory.available", "ephemeral-storage": "nodefs.available"}.get(resource)
    for t in thresholds:
        if t.signal == signal and t.quantity is not None:
            return t.text
    return None


# -- the whole start-up ---------------------------------------------------------------------------


@dataclass(slots=True)
class StartupPlan:
    """What the managers are built from, once the kubelet has accepted the configuration."""

    gates: FeatureGates
    capacity: dict[str, Quantity]
    reservation: dict[str, Quantity]  # GetNodeAllocatableReservation
    kube_reserved: dict[str, Quantity]  # after the reserved-cpus override
    system_reserved: dict[str, Quantity]
    hard_eviction_thresholds: list[Threshold]
    reserved_system_cpus: int  # reservedSystemCPUs as bits (0: unset)
    topology_options: TopologyPolicyOptions
    cpu_options: StaticPolicyOptions | None  # None under the none CPU policy
    num_reserved_cpus: int
    reserved_cpus: int | None  # explicit reserved CPUs; None: the static policy takes them
    memory_system_reserved: dict[int, dict[str, int]] | None  # Static memory policy only
    warnings: list[str] = field(default_factory=list)


def startup_checks(cfg: KubeletConfig, topology: Topology, *, node_allocatable: bool = True) -> StartupPlan:
    """Run every start-up check in the kubelet's order; the plan, or :class:`StartupError`.

    ``node_allocatable=False`` leaves out step 5 (``validate_node_allocatable``),
    which the kubelet runs only after the CPU and memory managers have
    restored their checkpoints: a caller that restores checkpoints runs it
    afterwards to keep the kubelet's order.
    """
    warnings = check_feature_gates(cfg)
    validate_configuration(cfg)
    res = _run_phase(cfg, topology)
    capacity = node_capacity(topology)
    reservation = _reservation(res, capacity)
    # NewContainerManager: topology manager, CPU manager, memory manager
    try:
        topo_opts = check_topology_manager(cfg, topology)
    except StartupError as e:
        raise _restage(e, STAGE_RUN) from None
    try:
        cpu_opts, num_reserved, reserved_bits = cpu_manager_startup(cfg, topology, reservation, res.reserved_cpus)
    except StartupError as e:
        raise _restage(e, STAGE_RUN) from None
    try:
        mem = memory_manager_startup(cfg, topology, reservation)
    except StartupError as e:
        raise _restage(e, STAGE_RUN) from None
    if node_allocatable:
        validate_node_allocatable(cfg, topology, reservation)
    return StartupPlan(
        gates=cfg.feature_gates,
        capacity=capacity,
        reservation=reservation,
        kube_reserved=res.kube,
        system_reserved=res.system,
        hard_eviction_thresholds=res.thresholds,
        reserved_system_cpus=res.reserved_cpus,
        topology_options=topo_opts,
        cpu_options=cpu_opts,
        num_reserved_cpus=num_reserved,
        reserved_cpus=reserved_bits,
        memory_system_reserved=mem,
        warnings=warnings,
    )
