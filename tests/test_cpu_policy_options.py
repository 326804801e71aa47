"""CPU manager static policy options, ported from the kubelet's unit tests (1.36).

``policy_options_test.go`` (TestPolicyDefaultsAvailable, TestPolicyOptionsAvailable,
TestPolicyOptionsAlwaysAvailableOnceGA, TestValidateStaticPolicyOptions,
TestPolicyOptionsCompatibility), ``policy_static_test.go`` (TestStaticPolicyOptions)
and the option/start-up parts of ``cpu_manager_test.go`` (TestCPUManagerGenerate,
TestCPUManagerHandlePolicyOptions) through :func:`cpu_manager_startup`.

The Go functions read the process-wide feature gates; topolet passes a
:class:`FeatureGates`: the 1.36 defaults plus what each Go test sets.
"""

from __future__ import annotations

import pytest

from topolet.engine.cpumanager.policy_options import (
    ALIGN_BY_SOCKET,
    DISTRIBUTE_CPUS_ACROSS_CORES,
    DISTRIBUTE_CPUS_ACROSS_NUMA,
    FULL_PCPUS_ONLY,
    PREFER_ALIGN_BY_UNCORE_CACHE,
    STRICT_CPU_RESERVATION,
    StaticPolicyOptions,
    check_policy_option_available,
    cpu_manager_startup,
    new_static_policy_options,
    validate_static_policy_options,
)
from topolet.engine.errors import StartupError
from topolet.io.cadvisor import MachineInfoError, topology_from_machine_info
from topolet.model import presets_upstream as pu
from topolet.model.features import (
    CPU_MANAGER_POLICY_ALPHA_OPTIONS,
    CPU_MANAGER_POLICY_BETA_OPTIONS,
    FeatureGates,
)
from topolet.model.kubelet_config import KubeletConfig
from topolet.model.quantity import Quantity
from topolet.model.topology import CPUInfo, Topology

ALPHA = CPU_MANAGER_POLICY_ALPHA_OPTIONS
BETA = CPU_MANAGER_POLICY_BETA_OPTIONS

MN = pu.topo_dual_socket_multi_numa_per_socket_ht(go_literal_uncore=True)  # topoDualSocketMultiNumaPerSocketHT
FAKE = pu.topo_multi_socket_dual_socket_per_numa_ht(go_literal_uncore=True)  # fakeTopoMultiSocketDualSocketPerNumaHT


def available(option: str, gates: dict[str, bool] | None = None) -> bool:
    try:
        check_policy_option_available(option, FeatureGates(gates or {}))
    except StartupError:
        return False
    return True


# =========================================================================== TestPolicyDefaultsAvailable

DEFAULTS_AVAILABLE = [("this-option-does-not-exist", False), (FULL_PCPUS_ONLY, True)]


@pytest.mark.parametrize(("option", "expected"), DEFAULTS_AVAILABLE, ids=[c[0] for c in DEFAULTS_AVAILABLE])
def test_policy_defaults_available(option: str, expected: bool) -> None:
    assert available(option) == expected


# =========================================================================== TestPolicyOptionsAvailable

OPTIONS_AVAILABLE = [
    ("this-option-does-not-exist", BETA, False, False),
    ("this-option-does-not-exist", BETA, True, False),
    (ALIGN_BY_SOCKET, ALPHA, True, True),
    (ALIGN_BY_SOCKET, BETA, True, False),
    (DISTRIBUTE_CPUS_ACROSS_NUMA, BETA, True, True),
    (DISTRIBUTE_CPUS_ACROSS_NUMA, BETA, False, False),
    (DISTRIBUTE_CPUS_ACROSS_CORES, ALPHA, True, True),
    (DISTRIBUTE_CPUS_ACROSS_CORES, BETA, True, False),
]


@pytest.mark.parametrize(
    ("option", "gate", "enabled", "expected"),
    OPTIONS_AVAILABLE,
    ids=[f"{c[0]} ({c[1]}={c[2]})" for c in OPTIONS_AVAILABLE],
)
def test_policy_options_available(option: str, gate: str, enabled: bool, expected: bool) -> None:
    assert available(option, {gate: enabled}) == expected


def test_policy_option_availability_messages() -> None:
    """``CheckPolicyOptionAvailable``'s texts (policy_options.go)."""
    gates = FeatureGates({ALPHA: False, BETA: False})
    with pytest.raises(StartupError) as e:
        check_policy_option_available("nope", gates)
    assert str(e.value) == 'unknown CPU Manager Policy option: "nope"'
    with pytest.raises(StartupError) as e:
        check_policy_option_available(ALIGN_BY_SOCKET, gates)
    assert str(e.value) == 'CPU Manager Policy Alpha-level Options not enabled, but option "align-by-socket" provided'
    with pytest.raises(StartupError) as e:
        check_policy_option_available(DISTRIBUTE_CPUS_ACROSS_NUMA, gates)
    assert str(e.value) == (
        'CPU Manager Policy Beta-level Options not enabled, but option "distribute-cpus-across-numa" provided'
    )


# =========================================================================== TestPolicyOptionsAlwaysAvailableOnceGA


@pytest.mark.parametrize("option", [FULL_PCPUS_ONLY, STRICT_CPU_RESERVATION, PREFER_ALIGN_BY_UNCORE_CACHE])
def test_policy_options_always_available_once_ga(option: str) -> None:
    assert available(option, {ALPHA: False, BETA: False})


# =========================================================================== TestValidateStaticPolicyOptions

VALIDATE = [
    ("Align by socket not enabled", {FULL_PCPUS_ONLY: "true"}, MN, "single-numa-node", False),
    (
        "Align by socket enabled with topology manager single numa node",
        {ALIGN_BY_SOCKET: "true"},
        MN,
        "single-numa-node",
        True,
    ),
    ("Align by socket enabled with num_sockets > num_numa", {ALIGN_BY_SOCKET: "true"}, FAKE, "none", True),
    ("Align by socket enabled: with topology manager None policy", {ALIGN_BY_SOCKET: "true"}, MN, "none", False),
    (
        "Align by socket enabled: with topology manager best-effort policy",
        {ALIGN_BY_SOCKET: "true"},
        MN,
        "best-effort",
        False,
    ),
    (
        "Align by socket enabled: with topology manager restricted policy",
        {ALIGN_BY_SOCKET: "true"},
        MN,
        "restricted",
        False,
    ),
]


@pytest.mark.parametrize(
    ("desc", "options", "topo", "tm_policy", "expected_err"), VALIDATE, ids=[c[0] for c in VALIDATE]
)
def test_validate_static_policy_options(
    desc: str, options: dict[str, str], topo: Topology, tm_policy: str, expected_err: bool
) -> None:
    # the Go test builds NewFakeManagerWithPolicy: a none policy unless single-numa-node
    tm = "single-numa-node" if tm_policy == "single-numa-node" else "none"
    opts = new_static_policy_options(options, FeatureGates({ALPHA: True}))
    try:
        validate_static_policy_options(opts, topo, tm)
    except StartupError:
        got = True
    else:
        got = False
    assert got == expected_err


# =========================================================================== TestPolicyOptionsCompatibility

COMPATIBILITY = [
    ("FullPhysicalCPUsOnly set to true only", BETA, {FULL_PCPUS_ONLY: "true"}, False),
    ("DistributeCPUsAcrossCores set to true only", ALPHA, {DISTRIBUTE_CPUS_ACROSS_CORES: "true"}, False),
    (
        "PreferAlignByUnCoreCache and StrictCPUReservation set to true",
        ALPHA,
        {PREFER_ALIGN_BY_UNCORE_CACHE: "true", STRICT_CPU_RESERVATION: "true"},
        False,
    ),
    (
        "PreferAlignByUnCoreCache and FullPCPUsOnly set to true",
        ALPHA,
        {PREFER_ALIGN_BY_UNCORE_CACHE: "true", FULL_PCPUS_ONLY: "true"},
        False,
    ),
    (
        "PreferAlignByUnCoreCache and AlignBySocket set to true",
        ALPHA,
        {PREFER_ALIGN_BY_UNCORE_CACHE: "true", ALIGN_BY_SOCKET: "true"},
        False,
    ),
    (
        "FullPhysicalCPUsOnly and DistributeCPUsAcrossCores options can not coexist",
        ALPHA,
        {FULL_PCPUS_ONLY: "true", DISTRIBUTE_CPUS_ACROSS_CORES: "true"},
        True,
    ),
    (
        "PreferAlignByUnCoreCache and DistributeCPUsAcrossCores options can not coexist",
        ALPHA,
        {PREFER_ALIGN_BY_UNCORE_CACHE: "true", DISTRIBUTE_CPUS_ACROSS_CORES: "true"},
        True,
    ),
    (
        "PreferAlignByUnCoreCache and DistributeCPUsAcrossNUMA options can not coexist",
        ALPHA,
        {PREFER_ALIGN_BY_UNCORE_CACHE: "true", DISTRIBUTE_CPUS_ACROSS_NUMA: "true"},
        True,
    ),
]


@pytest.mark.parametrize(("desc", "gate", "options", "expected_err"), COMPATIBILITY, ids=[c[0] for c in COMPATIBILITY])
def test_policy_options_compatibility(desc: str, gate: str, options: dict[str, str], expected_err: bool) -> None:
    try:
        new_static_policy_options(options, FeatureGates({gate: True}))
    except StartupError as e:
        assert expected_err, str(e)
        assert "can not be used at the same time" in str(e)
    else:
        assert not expected_err


def test_policy_options_incompatible_pairs_messages() -> None:
    """The four ``NewStaticPolicyOptions`` pair checks, in their order and with their texts."""
    gates = FeatureGates({ALPHA: True})
    pairs = [
        (FULL_PCPUS_ONLY, DISTRIBUTE_CPUS_ACROSS_CORES),
        (DISTRIBUTE_CPUS_ACROSS_NUMA, DISTRIBUTE_CPUS_ACROSS_CORES),
        (PREFER_ALIGN_BY_UNCORE_CACHE, DISTRIBUTE_CPUS_ACROSS_CORES),
        (PREFER_ALIGN_BY_UNCORE_CACHE, DISTRIBUTE_CPUS_ACROSS_NUMA),
    ]
    for a, b in pairs:
        with pytest.raises(StartupError) as e:
            new_static_policy_options({a: "true", b: "true"}, gates)
        assert str(e.value) == f"static policy options {a} and {b} can not be used at the same time"


# =========================================================================== TestStaticPolicyOptions

STATIC_POLICY_OPTIONS: list[tuple[str, dict[str, str] | None, bool, StaticPolicyOptions | None]] = [
    ("nil args", None, False, StaticPolicyOptions()),
    ("empty args", {}, False, StaticPolicyOptions()),
    ("bad single arg", {"badValue1": ""}, True, None),
    ("bad multiple arg", {"badValue1": "", "badvalue2": "aaaa"}, True, None),
    ("good arg", {FULL_PCPUS_ONLY: "true"}, False, StaticPolicyOptions(full_physical_cpus_only=True)),
    ("good arg, bad value", {FULL_PCPUS_ONLY: "enabled!"}, True, None),
    ("bad arg intermixed", {FULL_PCPUS_ONLY: "1", "badvalue2": "lorem ipsum"}, True, None),
]


@pytest.mark.parametrize(
    ("desc", "options", "expected_error", "expected"), STATIC_POLICY_OPTIONS, ids=[c[0] for c in STATIC_POLICY_OPTIONS]
)
def test_static_policy_options(
    desc: str, options: dict[str, str] | None, expected_error: bool, expected: StaticPolicyOptions | None
) -> None:
    try:
        opts = new_static_policy_options(options or {}, FeatureGates())
    except StartupError:
        assert expected_error
        return
    assert not expected_error
    assert opts == expected


def test_static_policy_option_bad_value_message() -> None:
    """``bad value for option %q: %w`` around strconv.ParseBool's error."""
    with pytest.raises(StartupError) as e:
        new_static_policy_options({FULL_PCPUS_ONLY: "enabled!"}, FeatureGates())
    assert str(e.value) == (
        'bad value for option "full-pcpus-only": strconv.ParseBool: parsing "enabled!": invalid syntax'
    )


# ================================================================ TestCPUManagerGenerate / HandlePolicyOptions

# cpu_manager_test.go's mocked machine: 4 cores, one thread each, one node
MOCKED_MACHINE = {
    "num_cores": 4,
    "topology": [
        {
            "node_id": 0,
            "cores": [{"core_id": i, "thread_ids": [i], "uncore_caches": [{"id": 1}]} for i in range(4)],
        }
    ],
}

GENERATE = [
    ("set none policy", "none", None, None),
    ("invalid policy name", "invalid", None, 'unknown policy: "invalid"'),
    ("static policy", "static", {"cpu": Quantity.of(3)}, None),
    (
        "static policy - broken reservation",
        "static",
        {},
        "unable to determine reserved CPU resources for static policy",
    ),
    (
        "static policy - no CPU resources",
        "static",
        {"cpu": Quantity.of(0)},
        "the static policy requires systemreserved.cpu + kubereserved.cpu to be greater than zero",
    ),
]


@pytest.mark.parametrize(("desc", "policy", "reservation", "expected_error"), GENERATE, ids=[c[0] for c in GENERATE])
def test_cpu_manager_generate(
    desc: str, policy: str, reservation: dict[str, Quantity] | None, expected_error: str | None
) -> None:
    topology = topology_from_machine_info(MOCKED_MACHINE)
    cfg = KubeletConfig(cpu_manager_policy=policy)
    try:
        opts, num_reserved, _ = cpu_manager_startup(cfg, topology, reservation or {})
    except StartupError as e:
        assert expected_error is not None, str(e)
        assert expected_error in str(e)
        return
    assert expected_error is None
    if policy == "none":
        assert opts is None
    else:
        assert opts == StaticPolicyOptions()
        assert num_reserved == 3


def test_cpu_manager_generate_broken_topology() -> None:
    """TestCPUManagerGenerate "static policy - broken topology": an empty MachineInfo."""
    with pytest.raises(MachineInfoError, match="could not detect number of cpus"):
        topology_from_machine_info({})


def test_cpu_manager_handle_policy_options() -> None:
    """TestCPUManagerHandlePolicyOptions: "options to none policy"."""
    topology = Topology([CPUInfo(i, i, 0, 0, 0) for i in range(4)])
    cfg = KubeletConfig(cpu_manager_policy="none", cpu_manager_policy_options={FULL_PCPUS_ONLY: "true"})
    with pytest.raises(StartupError) as e:
        cpu_manager_startup(cfg, topology, {})
    assert "received unsupported options" in str(e.value)
    assert str(e.value) == "new none policy error: None policy: received unsupported options=map[full-pcpus-only:true]"
