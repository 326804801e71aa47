"""The kubelet's start-up refusals: messages, order, and the whole conformance corpus."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from paths import CORPUS as CORPUS_DIR
from topolet.engine.cpumanager.policy_options import (
    StaticPolicyOptions,
    check_none_policy_options,
    cpu_manager_startup,
    new_static_policy_options,
    validate_static_policy_options,
)
from topolet.engine.errors import StartupError
from topolet.engine.memorymanager.reserved import system_reserved_memory
from topolet.engine.startup import (
    KubeletStartupError,
    node_allocatable_reservation,
    node_capacity,
    startup_checks,
    validate_kubelet_config,
    validate_node_allocatable,
)
from topolet.engine.topologymanager.policy_options import (
    TopologyPolicyOptions,
    check_topology_manager,
    topology_policy_options,
)
from topolet.model.features import FeatureGates
from topolet.model.kubelet_config import KubeletConfig, load_kubelet_config
from topolet.model.quantity import parse_bytes
from topolet.model.topology import CPUInfo, NUMANode, Topology

ROOT = Path(__file__).resolve().parent.parent
CORPUS = CORPUS_DIR

GI = 1 << 30


def machine(
    sockets: int = 2,
    numa_per_socket: int = 1,
    cores_per_numa: int = 4,
    threads: int = 2,
    memory: int = 8 * GI,
    hugepages: dict[int, int] | None = None,
) -> Topology:
    """CPUs numbered core-major then thread (sibling of CPU c is c + number of cores)."""
    numas = sockets * numa_per_socket
    ncores = numas * cores_per_numa
    cpus = []
    for t in range(threads):
        for core in range(ncores):
            numa = core // cores_per_numa
            cpus.append(CPUInfo(t * ncores + core, core, numa // numa_per_socket, numa, numa // numa_per_socket))
    nodes = [
        NUMANode(n, memory, dict(hugepages or {}), tuple(10 if i == n else 21 for i in range(numas)))
        for n in range(numas)
    ]
    return Topology(cpus, nodes)


def cfg(**kw: Any) -> KubeletConfig:
    return load_kubelet_config(kw)


def start_error(config: dict[str, Any], topology: Topology | None = None) -> str:
    with pytest.raises(StartupError) as ei:
        startup_checks(load_kubelet_config(config), topology or machine())
    return str(ei.value)


STATIC = {"cpuManagerPolicy": "static", "reservedSystemCPUs": "0"}

# -- feature gates ---------------------------------------------------------------------------------


def test_pod_level_resources_off_alone() -> None:
    with pytest.raises(KubeletStartupError) as ei:
        startup_checks(cfg(featureGates={"PodLevelResources": False}), machine())
    msg = (
        "InPlacePodLevelResourcesVerticalScaling is enabled, but depends on features that are "
        "disabled: [PodLevelResources]"
    )
    assert str(ei.value) == msg
    assert ei.value.stage == "feature-gates"
    assert ei.value.kubelet_log.endswith("while setting defaults, error: " + msg)


def test_several_gate_errors_are_aggregated() -> None:
    msg = start_error({"featureGates": {"PodLevelResources": False, "PodLevelResourceManagers": True}})
    assert msg == (
        "[InPlacePodLevelResourcesVerticalScaling is enabled, but depends on features that are disabled: "
        "[PodLevelResources], PodLevelResourceManagers is enabled, but depends on features that are "
        "disabled: [PodLevelResources]]"
    )


def test_locked_gate_refused() -> None:
    assert start_error({"featureGates": {"TopologyManagerPolicyOptions": False}}) == (
        "cannot set feature gate TopologyManagerPolicyOptions to false, feature is locked to true"
    )


def test_unknown_gate_is_a_warning() -> None:
    plan = startup_checks(cfg(featureGates={"GatewayAPI": True}), machine())
    assert plan.warnings == ["unrecognized feature gate: GatewayAPI"]


# -- configuration validation ---------------------------------------------------------------------


def test_topology_policy_and_scope_values() -> None:
    assert start_error({"topologyManagerPolicy": "best_effort"}) == (
        'invalid configuration: topologyManagerPolicy (--topology-manager-policy) "best_effort" must be '
        'one of: ["none" "best-effort" "restricted" "single-numa-node"]'
    )
    assert start_error({"topologyManagerScope": "Pod"}) == (
        'invalid configuration: topologyManagerScope (--topology-manager-scope) "Pod" must be one of: '
        '"container", or "pod"'
    )


def test_validation_errors_are_joined() -> None:
    msg = start_error({"topologyManagerPolicy": "Restricted", "topologyManagerScope": "node"})
    assert msg.startswith("[invalid configuration: topologyManagerPolicy")
    assert ', invalid configuration: topologyManagerScope (--topology-manager-scope) "node"' in msg
    assert msg.endswith("]")


def test_reserved_cpus_syntax() -> None:
    assert start_error({**STATIC, "reservedSystemCPUs": "0-"}) == (
        "invalid configuration: unable to parse reservedSystemCPUs (--reserved-cpus) 0-, error: "
        'strconv.Atoi: parsing "": invalid syntax'
    )
    assert start_error({**STATIC, "reservedSystemCPUs": "3-1"}) == (
        "invalid configuration: unable to parse reservedSystemCPUs (--reserved-cpus) 3-1, error: "
        'invalid range "3-1" (3 > 1)'
    )
    msg = start_error({**STATIC, "systemReservedCgroup": "/system.slice"})
    assert "can't use reservedSystemCPUs (--reserved-cpus) with systemReservedCgroup" in msg


def test_reserved_memory_validation() -> None:
    msg = start_error(
        {
            "reservedMemory": [
                {"numaNode": 0, "limits": {"memory": "825Mi"}},
                {"numaNode": 1, "limits": {"memory": "187Mi"}},
                {"numaNode": 1, "limits": {"memory": "0"}},
            ]
        }
    )
    assert msg == (
        '[invalid configuration: reserved memory may not be zero for NUMA node 1 and resource "memory", '
        "invalid configuration: the reserved memory has a duplicate value for NUMA node 1 and resource "
        '"memory"]'
    )
    msg = start_error({"reservedMemory": [{"numaNode": 0, "limits": {"cpu": "1"}}]})
    assert msg == (
        'invalid configuration: the limit type "cpu" for NUMA node 0 is not supported, only '
        "[memory hugepages-<HugePageSize>] is accepted"
    )


# -- run(): reserved CPUs, reservations, eviction --------------------------------------------------


def test_reserved_cpus_must_be_online() -> None:
    assert start_error({**STATIC, "reservedSystemCPUs": "0,16"}) == (
        "reserved-cpus: 0,16 is not a subset of online-cpus: 0-15"
    )
    assert "is not a subset" in start_error({**STATIC, "reservedSystemCPUs": "0-100000000"})


def test_reserved_resources_parse() -> None:
    assert start_error({"kubeReserved": {"memory": "256Mi", "nvidia.com/gpu": "1"}}) == (
        '--kube-reserved value failed to parse: cannot reserve "nvidia.com/gpu" resource'
    )
    assert start_error({"kubeReserved": {"cpu": "-1"}}) == (
        '--kube-reserved value failed to parse: resource quantity for "cpu" cannot be negative: -1'
    )
    assert start_error({"systemReserved": {"memory": "1GB"}}) == (
        '--system-reserved value failed to parse: failed to parse quantity "1GB" for "memory" resource: '
        "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    )


def test_reserved_cpus_override_kube_reserved_cpu() -> None:
    # --reserved-cpus drops kubeReserved cpu (even an invalid one) and sets systemReserved cpu
    plan = startup_checks(
        cfg(
            cpuManagerPolicy="static",
            reservedSystemCPUs="0,8",
            kubeReserved={"cpu": "-1"},
            systemReserved={"cpu": "5"},
        ),
        machine(),
    )
    assert str(plan.system_reserved["cpu"]) == "2"
    assert "cpu" not in plan.kube_reserved
    assert plan.num_reserved_cpus == 2
    assert plan.reserved_cpus == 1 << 0 | 1 << 8


def test_eviction_thresholds() -> None:
    assert start_error({"evictionHard": {"memory.available": "0"}}) == (
        "eviction threshold memory.available must be positive: 0"
    )
    assert start_error({"evictionHard": {"memory.available": "-100Mi"}}) == (
        "eviction threshold memory.available must be positive: -100Mi"
    )
    assert start_error({"evictionHard": {"memory.free": "1Gi"}}) == "unsupported eviction signal memory.free"
    assert start_error({"evictionHard": {"memory.available": "120%"}}) == (
        "eviction percentage threshold memory.available must be <= 100%: 120%"
    )
    assert start_error({"evictionHard": {"memory.available": "-5%"}}) == (
        "eviction percentage threshold memory.available must be >= 0%: -5%"
    )
    assert start_error({"evictionHard": {"memory.available": "x%"}}) == (
        'strconv.ParseFloat: parsing "x": invalid syntax'
    )


# -- node allocatable reservation -------------------------------------------------------------------


def test_capacity() -> None:
    t = machine(hugepages={2 << 20: 512 << 20, 1 << 30: 0})
    cap = node_capacity(t)
    assert str(cap["cpu"]) == "16"
    assert str(cap["memory"]) == "16Gi"
    assert str(cap["hugepages-2Mi"]) == "1Gi"
    assert str(cap["hugepages-1Gi"]) == "0"


def test_reservation_formats() -> None:
    t = machine()
    r = node_allocatable_reservation(
        cfg(
            kubeReserved={"memory": "256Mi"},
            systemReserved={"memory": "512Mi"},
            evictionHard={"memory.available": "500Mi"},
        ),
        t,
    )
    assert {k: str(v) for k, v in r.items()} == {"memory": "1268Mi"}
    # defaults: 100Mi of hard eviction memory and no CPU
    r = node_allocatable_reservation(cfg(), t)
    assert {k: str(v) for k, v in r.items()} == {"memory": "100Mi"}
    # zero values are dropped
    r = node_allocatable_reservation(cfg(kubeReserved={"cpu": "0"}, evictionHard={"memory.available": "0%"}), t)
    assert r == {}
    r = node_allocatable_reservation(cfg(kubeReserved={"cpu": "1500m"}, systemReserved={"cpu": "1"}), t)
    assert str(r["cpu"]) == "2500m"
    # the first non-zero addend's format wins: 1 (DecimalSI) + 512Mi -> DecimalSI
    r = node_allocatable_reservation(
        cfg(systemReserved={"memory": "1"}, kubeReserved={"memory": "512Mi"}, evictionHard={}), t
    )
    assert str(r["memory"]) == str(512 * 2**20 + 1)


def test_percentage_eviction_reservation_uses_float32() -> None:
    t = machine(memory=16 * GI)  # 32Gi in total
    r = node_allocatable_reservation(cfg(evictionHard={"memory.available": "10%"}), t)
    # int64(float64(34359738368) * float64(float32(0.1)))
    assert r["memory"].value == int(34359738368 * 0.10000000149011612) == 3435973888
    assert str(r["memory"]) == "3435973888"


def test_node_allocatable_must_fit_capacity() -> None:
    with pytest.raises(KubeletStartupError) as ei:
        startup_checks(cfg(kubeReserved={"cpu": "9400m"}, systemReserved={"cpu": "8"}), machine())
    assert str(ei.value) == (
        'invalid Node Allocatable configuration. Resource "cpu" has a reservation of '
        "{{17400 -3} {<nil>}  DecimalSI} but capacity of {{16000 -3} {<nil>}  DecimalSI}. "
        "Expected capacity >= reservation."
    )
    assert ei.value.stage == "start"
    # can be left to the caller (it runs after the checkpoints are restored)
    startup_checks(cfg(kubeReserved={"cpu": "17"}), machine(), node_allocatable=False)
    with pytest.raises(StartupError, match='Resource "memory" has a reservation of'):
        validate_node_allocatable(cfg(systemReserved={"memory": "17Gi"}), machine())


# -- topology manager ---------------------------------------------------------------------------------


def test_policy_none_never_parses_options() -> None:
    c = cfg(topologyManagerPolicyOptions={"no-such-option": "x", "max-allowable-numa-nodes": "4"})
    assert topology_policy_options(c) == TopologyPolicyOptions(False, 8)
    ten = machine(sockets=2, numa_per_socket=5, cores_per_numa=2)
    assert check_topology_manager(c, ten) == TopologyPolicyOptions()


def test_topology_options() -> None:
    c = cfg(
        topologyManagerPolicy="restricted",
        topologyManagerPolicyOptions={"prefer-closest-numa-nodes": "true", "max-allowable-numa-nodes": "12"},
    )
    assert topology_policy_options(c) == TopologyPolicyOptions(True, 12)
    ten = machine(sockets=2, numa_per_socket=5, cores_per_numa=2)
    assert check_topology_manager(c, ten) == TopologyPolicyOptions(True, 12)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"prefer-closest-numa-nodes": "maybe"},
            'bad value for option "prefer-closest-numa-nodes": strconv.ParseBool: parsing "maybe": invalid syntax',
        ),
        (
            {"max-allowable-numa-nodes": "eight"},
            'unable to convert policy option to integer "max-allowable-numa-nodes": '
            'strconv.Atoi: parsing "eight": invalid syntax',
        ),
        (
            {"max-allowable-numa-nodes": "7"},
            'the minimum value of "max-allowable-numa-nodes" should not be less than 8',
        ),
        ({"prefer-closest-numa": "true"}, 'unknown Topology Manager Policy option: "prefer-closest-numa"'),
    ],
)
def test_topology_option_errors(options: dict[str, str], message: str) -> None:
    assert start_error({"topologyManagerPolicy": "best-effort", "topologyManagerPolicyOptions": options}) == message


def test_more_than_8_numa_nodes() -> None:
    ten = machine(sockets=2, numa_per_socket=5, cores_per_numa=2)
    assert start_error({"topologyManagerPolicy": "single-numa-node"}, ten) == (
        "unsupported on machines with more than 8 NUMA Nodes"
    )
    startup_checks(cfg(topologyManagerPolicy="none"), ten)


# -- CPU manager ------------------------------------------------------------------------------------------


def test_cpu_policy_names() -> None:
    assert start_error({"cpuManagerPolicy": "Static", "kubeReserved": {"cpu": "1"}}) == 'unknown policy: "Static"'


def test_none_policy_options() -> None:
    assert start_error({"cpuManagerPolicyOptions": {"strict-cpu-reservation": "true", "full-pcpus-only": "1"}}) == (
        "new none policy error: None policy: received unsupported options="
        "map[full-pcpus-only:1 strict-cpu-reservation:true]"
    )
    check_none_policy_options({})


def test_static_needs_a_cpu_reservation() -> None:
    msg = "[cpumanager] unable to determine reserved CPU resources for static policy"
    assert start_error({"cpuManagerPolicy": "static"}) == msg
    # 1.36 quirk: a zero reservation is dropped, never "greater than zero"
    assert (
        start_error({"cpuManagerPolicy": "static", "kubeReserved": {"cpu": "0"}, "systemReserved": {"cpu": "0"}}) == msg
    )


def test_num_reserved_cpus_is_the_ceiling() -> None:
    plan = startup_checks(cfg(cpuManagerPolicy="static", kubeReserved={"cpu": "1500m"}), machine())
    assert plan.num_reserved_cpus == 2
    assert plan.reserved_cpus is None  # taken by the static policy
    assert plan.cpu_options == StaticPolicyOptions()


def test_unable_to_reserve_more_cpus_than_the_machine_has() -> None:
    assert start_error({"cpuManagerPolicy": "static", "kubeReserved": {"cpu": "17"}}) == (
        "new static policy error: [cpumanager] unable to reserve the required amount of CPUs "
        "(size of  did not equal 17)"
    )


@pytest.mark.parametrize(
    ("options", "gates", "message"),
    [
        ({"foo": "true", "full-pcpus-only": "true"}, {}, 'unknown CPU Manager Policy option: "foo"'),
        (
            {"align-by-socket": "true"},
            {},
            'CPU Manager Policy Alpha-level Options not enabled, but option "align-by-socket" provided',
        ),
        (
            {"distribute-cpus-across-numa": "true"},
            {"CPUManagerPolicyBetaOptions": False},
            'CPU Manager Policy Beta-level Options not enabled, but option "distribute-cpus-across-numa" provided',
        ),
        (
            {"full-pcpus-only": "1.0"},
            {},
            'bad value for option "full-pcpus-only": strconv.ParseBool: parsing "1.0": invalid syntax',
        ),
        (
            {"full-pcpus-only": "true", "distribute-cpus-across-cores": "true"},
            {"CPUManagerPolicyAlphaOptions": True},
            "static policy options full-pcpus-only and distribute-cpus-across-cores can not be used at the same time",
        ),
        (
            {"distribute-cpus-across-numa": "true", "distribute-cpus-across-cores": "true"},
            {"CPUManagerPolicyAlphaOptions": True},
            "static policy options distribute-cpus-across-numa and distribute-cpus-across-cores "
            "can not be used at the same time",
        ),
        (
            {"prefer-align-cpus-by-uncorecache": "true", "distribute-cpus-across-numa": "true"},
            {},
            "static policy options prefer-align-cpus-by-uncorecache and distribute-cpus-across-numa "
            "can not be used at the same time",
        ),
    ],
)
def test_static_option_errors(options: dict[str, str], gates: dict[str, bool], message: str) -> None:
    with pytest.raises(StartupError) as ei:
        new_static_policy_options(options, FeatureGates(gates))
    assert str(ei.value) == message
    assert start_error({**STATIC, "featureGates": gates, "cpuManagerPolicyOptions": options}) == (
        "new static policy error: " + message
    )


def test_static_options_parse() -> None:
    opts = new_static_policy_options(
        {"full-pcpus-only": "T", "strict-cpu-reservation": "1", "prefer-align-cpus-by-uncorecache": "false"},
        FeatureGates(),
    )
    assert opts == StaticPolicyOptions(full_physical_cpus_only=True, strict_cpu_reservation=True)


def test_align_by_socket_checks() -> None:
    opts = StaticPolicyOptions(align_by_socket=True)
    with pytest.raises(StartupError) as ei:
        validate_static_policy_options(opts, machine(), "single-numa-node")
    assert str(ei.value) == (
        "Topolgy manager single-numa-node policy is incompatible with CPUManager align-by-socket policy option"
    )
    validate_static_policy_options(opts, machine(), "restricted")
    # more sockets than NUMA nodes
    cpus = [CPUInfo(i, i, i // 2, 0, i // 2) for i in range(4)]
    with pytest.raises(StartupError, match="Align by socket is not compatible with hardware"):
        validate_static_policy_options(opts, Topology(cpus), "none")


def test_cpu_manager_startup_directly() -> None:
    t = machine()
    c = cfg(cpuManagerPolicy="static", reservedSystemCPUs="0,8")
    r = node_allocatable_reservation(c, t)
    assert cpu_manager_startup(c, t, r) == (StaticPolicyOptions(), 2, 1 | 1 << 8)
    assert cpu_manager_startup(cfg(), t, r) == (None, 0, None)


# -- memory manager --------------------------------------------------------------------------------------------


def test_memory_policy_names() -> None:
    assert start_error({"memoryManagerPolicy": "none"}) == 'unknown policy: "none"'
    assert (
        start_error({"memoryManagerPolicy": "BestEffort"})
        == 'policy "BestEffort" is not available for platform "linux"'
    )


def test_static_memory_totals() -> None:
    base = {"memoryManagerPolicy": "Static", "kubeReserved": {"memory": "256Mi"}, "systemReserved": {"memory": "512Mi"}}
    assert start_error({**base, "evictionHard": {"memory.available": "500Mi"}}) == (
        'the total amount "0" of type "memory" is not equal to the value "1268Mi" determined by Node '
        "Allocatable feature"
    )
    assert start_error({**base, "reservedMemory": [{"numaNode": 0, "limits": {"memory": "867Mi"}}]}) == (
        'the total amount "867Mi" of type "memory" is not equal to the value "868Mi" determined by Node '
        "Allocatable feature"
    )
    assert start_error(
        {**base, "reservedMemory": [{"numaNode": 0, "limits": {"memory": "868Mi", "hugepages-2Mi": "2Mi"}}]}
    ) == (
        'the total amount "2Mi" of type "hugepages-2Mi" is not equal to the value "0" determined by Node '
        "Allocatable feature"
    )
    assert start_error({**base, "reservedMemory": [{"numaNode": 3, "limits": {"memory": "868Mi"}}]}) == (
        "the reserved memory configuration references a NUMA node 3 that does not exist on this machine"
    )
    assert start_error({"memoryManagerPolicy": "Static", "evictionHard": {"memory.available": "0%"}}) == (
        "[memorymanager] you should specify the system reserved memory"
    )


def test_system_reserved_memory_result() -> None:
    c = cfg(
        memoryManagerPolicy="Static",
        systemReserved={"memory": "1Gi"},
        evictionHard={"memory.available": "100Mi"},
        reservedMemory=[
            {"numaNode": 0, "limits": {"memory": "1000Mi"}},
            {"numaNode": 1, "limits": {"memory": "124Mi"}},
        ],
    )
    t = machine()
    r = node_allocatable_reservation(c, t)
    assert system_reserved_memory(c, t, r) == {0: {"memory": 1000 << 20}, 1: {"memory": 124 << 20}}
    plan = startup_checks(c, t)
    assert plan.memory_system_reserved == {0: {"memory": 1000 << 20}, 1: {"memory": 124 << 20}}


# -- the kubelet's order -------------------------------------------------------------------------------------------


def test_order_gates_before_validation() -> None:
    msg = start_error({"featureGates": {"PodLevelResources": False}, "topologyManagerPolicy": "bad"})
    assert msg.startswith("InPlacePodLevelResourcesVerticalScaling is enabled")


def test_order_validation_before_run() -> None:
    msg = start_error({"topologyManagerScope": "node", "reservedSystemCPUs": "0,99"})
    assert msg.startswith("invalid configuration: topologyManagerScope")


def test_order_run_phase() -> None:
    # reserved CPUs, then kubeReserved, then systemReserved, then eviction
    both = {"reservedSystemCPUs": "0,99", "kubeReserved": {"memory": "-1"}}
    assert start_error(both).startswith("reserved-cpus: 0,99")
    both = {"kubeReserved": {"memory": "-1"}, "systemReserved": {"memory": "-1"}}
    assert start_error(both).startswith("--kube-reserved")
    both = {"systemReserved": {"memory": "-1"}, "evictionHard": {"memory.available": "0"}}
    assert start_error(both).startswith("--system-reserved")


def test_order_run_before_managers() -> None:
    msg = start_error({"evictionHard": {"memory.available": "0"}, "cpuManagerPolicy": "Static"})
    assert msg == "eviction threshold memory.available must be positive: 0"


def test_order_topology_then_cpu_then_memory() -> None:
    msg = start_error(
        {
            "topologyManagerPolicy": "restricted",
            "topologyManagerPolicyOptions": {"max-allowable-numa-nodes": "7"},
            "cpuManagerPolicy": "Static",
            "memoryManagerPolicy": "none",
        }
    )
    assert msg.startswith("the minimum value")
    msg = start_error({"cpuManagerPolicy": "Static", "memoryManagerPolicy": "none"})
    assert msg == 'unknown policy: "Static"'
    msg = start_error({"cpuManagerPolicy": "static", "memoryManagerPolicy": "none"})
    assert msg == "[cpumanager] unable to determine reserved CPU resources for static policy"


def test_validate_kubelet_config_stops_before_the_managers() -> None:
    validate_kubelet_config(cfg(cpuManagerPolicy="Static", memoryManagerPolicy="x"), machine())
    with pytest.raises(StartupError, match="must be positive"):
        validate_kubelet_config(cfg(evictionHard={"memory.available": "0"}), machine())


def test_plan_for_a_good_config() -> None:
    plan = startup_checks(
        cfg(
            featureGates={"PodLevelResourceManagers": True},
            cpuManagerPolicy="static",
            cpuManagerPolicyOptions={"full-pcpus-only": "true"},
            reservedSystemCPUs="0",
            memoryManagerPolicy="Static",
            systemReserved={"memory": "1Gi"},
            evictionHard={"memory.available": "100Mi"},
            reservedMemory=[{"numaNode": 0, "limits": {"memory": "1124Mi"}}],
            topologyManagerPolicy="single-numa-node",
            topologyManagerScope="pod",
        ),
        machine(),
    )
    assert plan.gates.enabled("PodLevelResourceManagers")
    assert plan.cpu_options == StaticPolicyOptions(full_physical_cpus_only=True)
    assert plan.num_reserved_cpus == 1 and plan.reserved_cpus == 1
    assert plan.reserved_system_cpus == 1
    assert {k: str(v) for k, v in plan.reservation.items()} == {"cpu": "1", "memory": "1124Mi"}
    assert plan.topology_options == TopologyPolicyOptions()
    assert plan.memory_system_reserved == {0: {"memory": 1124 << 20}, 1: {}}
    assert plan.warnings == []


# -- the conformance corpus ----------------------------------------------------------------------------------


def topology_of(spec: dict[str, Any]) -> Topology:
    cpus = [
        CPUInfo(c["id"], c["core"], c["socket"], c["numa"], c.get("uncoreCache", c["socket"])) for c in spec["cpus"]
    ]
    nodes = [
        NUMANode(
            n["id"],
            memory=parse_bytes(n.get("memory", 0)),
            hugepages={parse_bytes(k): parse_bytes(v) for k, v in (n.get("hugepages") or {}).items()},
            distances=tuple(n.get("distances") or ()),
        )
        for n in spec.get("numaNodes") or []
    ]
    return Topology(cpus, nodes)


def _corpus() -> list[tuple[str, str, dict[str, Any]]]:
    if not CORPUS.is_dir():
        return []
    out = []
    for f in sorted(CORPUS.rglob("*.yaml")):
        for doc in yaml.safe_load_all(f.read_text()):
            if doc:
                out.append((str(f.relative_to(CORPUS)), doc["metadata"]["name"], doc["spec"]["node"]))
    return out


CASES = _corpus()
ERROR_CASES = [c for c in CASES if (c[2].get("expect") or {}).get("error") is not None]
OK_FILES = sorted({c[0] for c in CASES if c not in ERROR_CASES})

# Scenarios whose error needs the CPU allocation algorithm (none at present: the
# two "unable to reserve" ones ask for more CPUs than the machine has).
NEEDS_CPU_POLICY: dict[str, str] = {}


@pytest.mark.skipif(not CASES, reason=f"conformance corpus not found at {CORPUS}")
def test_corpus_is_there() -> None:
    assert len(ERROR_CASES) >= 75
    assert len(CASES) - len(ERROR_CASES) >= 1100


@pytest.mark.parametrize(("file", "name", "node"), ERROR_CASES, ids=[f"{c[0]}::{c[1]}" for c in ERROR_CASES])
def test_corpus_startup_error(file: str, name: str, node: dict[str, Any]) -> None:
    if name in NEEDS_CPU_POLICY:
        pytest.xfail(NEEDS_CPU_POLICY[name])
    want = node["expect"]["error"]
    with pytest.raises(StartupError) as ei:
        startup_checks(load_kubelet_config(node.get("kubelet") or {}), topology_of(node["topology"]))
    assert want in str(ei.value)


@pytest.mark.parametrize("file", OK_FILES)
def test_corpus_starts(file: str) -> None:
    failures = []
    for f, name, node in CASES:
        if f != file or (node.get("expect") or {}).get("error") is not None:
            continue
        try:
            startup_checks(load_kubelet_config(node.get("kubelet") or {}), topology_of(node["topology"]))
        except StartupError as e:
            failures.append(f"{name}: {e}")
    assert not failures
