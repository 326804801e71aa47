"""The KubeletConfiguration model, its loader, the Go parsing primitives and the feature gates."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import pytest
import yaml

from topolet.model.features import DEFAULTS, DEPENDENCIES, SPECS, FeatureGates
from topolet.model.kubelet_config import (
    DEFAULT_EVICTION_HARD,
    GoParseError,
    KubeletConfig,
    KubeletConfigError,
    MemoryReservation,
    f32_round,
    go_amount_add,
    go_atoi,
    go_int64_amount,
    go_parse_bool,
    go_parse_cpuset,
    go_parse_float32,
    go_parse_quantity,
    go_quote,
    load_kubelet_config,
)
from topolet.model.quantity import BINARY_SI, DECIMAL_EXPONENT, DECIMAL_SI, Quantity

DATA = Path(__file__).resolve().parent.parent / "src" / "topolet" / "data"

# -- loading ----------------------------------------------------------------------------------


def _go(what: str, field: str, go_type: str) -> str:
    """The Go decoder's message for a value of the wrong JSON type."""
    return f"json: cannot unmarshal {what} into Go struct field KubeletConfiguration.{field} of type {go_type}"


def test_empty_config_gets_the_1_36_defaults() -> None:
    cfg = load_kubelet_config({})
    assert cfg.cpu_manager_policy == "none"
    assert cfg.cpu_manager_policy_options == {}
    assert cfg.reserved_system_cpus == ""
    assert cfg.kube_reserved == {} and cfg.system_reserved == {}
    assert cfg.eviction_hard == DEFAULT_EVICTION_HARD
    assert cfg.memory_manager_policy == "None"
    assert cfg.reserved_memory == []
    assert cfg.topology_manager_policy == "none"
    assert cfg.topology_manager_scope == "container"
    assert cfg.topology_manager_policy_options == {}
    assert cfg.feature_gates.enabled("PodLevelResources")
    assert not cfg.feature_gates.enabled("PodLevelResourceManagers")
    assert cfg.raw == {}


def test_dataclass_defaults_match_the_loader() -> None:
    direct = KubeletConfig()
    loaded = load_kubelet_config({})
    for name in (
        "cpu_manager_policy",
        "reserved_system_cpus",
        "eviction_hard",
        "memory_manager_policy",
        "topology_manager_policy",
        "topology_manager_scope",
    ):
        assert getattr(direct, name) == getattr(loaded, name), name


def test_eviction_defaults_linux_1_36() -> None:
    assert DEFAULT_EVICTION_HARD == {
        "memory.available": "100Mi",
        "nodefs.available": "10%",
        "nodefs.inodesFree": "5%",
        "imagefs.available": "15%",
        "imagefs.inodesFree": "5%",
    }


def test_shipped_kubelet_config_file_loads() -> None:
    data = yaml.safe_load((DATA / "kubelet-config.yaml").read_text())
    cfg = load_kubelet_config(data, "kubelet-config.yaml")
    assert cfg.cpu_manager_policy == "static"
    assert cfg.reserved_system_cpus == "0"
    assert cfg.memory_manager_policy == "Static"
    assert cfg.reserved_memory == [MemoryReservation(0, {"memory": Quantity.parse("1124Mi")})]
    assert cfg.eviction_hard == {"memory.available": "100Mi"}
    assert cfg.topology_manager_scope == "pod"
    assert cfg.feature_gates.enabled("PodLevelResourceManagers")


REAL_CONFIG = """
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous: {enabled: false}
  webhook: {cacheTTL: 0s, enabled: true}
  x509: {clientCAFile: /etc/kubernetes/pki/ca.crt}
authorization: {mode: Webhook}
cgroupDriver: systemd
clusterDNS: [10.96.0.10]
clusterDomain: cluster.local
containerRuntimeEndpoint: unix:///var/run/containerd/containerd.sock
cpuManagerReconcilePeriod: 0s
evictionPressureTransitionPeriod: 0s
fileCheckFrequency: 0s
healthzBindAddress: 127.0.0.1
healthzPort: 10248
logging: {flushFrequency: 0, options: {json: {infoBufferSize: "0"}}, verbosity: 0}
memorySwap: {}
nodeStatusReportFrequency: 0s
rotateCertificates: true
runtimeRequestTimeout: 0s
shutdownGracePeriod: 0s
staticPodPath: /etc/kubernetes/manifests
streamingConnectionIdleTimeout: 0s
syncFrequency: 0s
volumeStatsAggPeriod: 0s
featureGates:
  PodLevelResourceManagers: true
cpuManagerPolicy: static
cpuManagerPolicyOptions:
  full-pcpus-only: "true"
kubeReserved: {cpu: 500m, memory: 1Gi, ephemeral-storage: 1Gi, pid: "1000"}
systemReserved: {cpu: 500m, memory: 512Mi}
evictionHard: {memory.available: 200Mi, nodefs.available: 10%}
memoryManagerPolicy: Static
reservedMemory:
  - numaNode: 0
    limits: {memory: 868Mi}
  - numaNode: 1
    limits: {memory: 868Mi}
topologyManagerPolicy: restricted
topologyManagerScope: pod
topologyManagerPolicyOptions:
  prefer-closest-numa-nodes: "true"
"""


def test_whole_real_config_is_accepted_unknown_fields_ignored() -> None:
    data = yaml.safe_load(REAL_CONFIG)
    cfg = load_kubelet_config(data)
    assert cfg.kube_reserved == {"cpu": "500m", "memory": "1Gi", "ephemeral-storage": "1Gi", "pid": "1000"}
    assert cfg.eviction_hard == {"memory.available": "200Mi", "nodefs.available": "10%"}
    assert [r.numa_node for r in cfg.reserved_memory] == [0, 1]
    assert cfg.topology_manager_policy_options == {"prefer-closest-numa-nodes": "true"}
    assert cfg.raw["cgroupDriver"] == "systemd"


def test_eviction_hard_when_set_replaces_the_defaults() -> None:
    cfg = load_kubelet_config({"evictionHard": {"memory.available": "500Mi"}})
    assert cfg.eviction_hard == {"memory.available": "500Mi"}
    cfg = load_kubelet_config({"evictionHard": {}})
    assert cfg.eviction_hard == {}
    cfg = load_kubelet_config({"evictionHard": None})
    assert cfg.eviction_hard == DEFAULT_EVICTION_HARD


def test_merge_default_eviction_settings_fills_missing_keys() -> None:
    cfg = load_kubelet_config({"evictionHard": {"memory.available": "500Mi"}, "mergeDefaultEvictionSettings": True})
    assert cfg.eviction_hard == {**DEFAULT_EVICTION_HARD, "memory.available": "500Mi"}


def test_empty_strings_take_the_defaults() -> None:
    cfg = load_kubelet_config(
        {
            "cpuManagerPolicy": "",
            "memoryManagerPolicy": "",
            "topologyManagerPolicy": "",
            "topologyManagerScope": "",
        }
    )
    assert (cfg.cpu_manager_policy, cfg.memory_manager_policy) == ("none", "None")
    assert (cfg.topology_manager_policy, cfg.topology_manager_scope) == ("none", "container")


def test_invalid_values_are_kept_for_the_startup_checks() -> None:
    cfg = load_kubelet_config(
        {
            "cpuManagerPolicy": "Static",
            "topologyManagerPolicy": "best_effort",
            "reservedSystemCPUs": "0-",
            "kubeReserved": {"cpu": "-1", "nvidia.com/gpu": "1"},
            "evictionHard": {"memory.available": "0"},
        }
    )
    assert cfg.cpu_manager_policy == "Static"
    assert cfg.topology_manager_policy == "best_effort"
    assert cfg.reserved_system_cpus == "0-"
    assert cfg.kube_reserved == {"cpu": "-1", "nvidia.com/gpu": "1"}
    assert cfg.eviction_hard == {"memory.available": "0"}


def test_yaml_scalars_are_taken_as_text() -> None:
    data = yaml.safe_load(
        """
cpuManagerPolicyOptions: {full-pcpus-only: true, strict-cpu-reservation: false}
topologyManagerPolicyOptions: {max-allowable-numa-nodes: 12}
reservedSystemCPUs: 0
kubeReserved: {cpu: 1, memory: 0.5}
reservedMemory: [{numaNode: 0, limits: {memory: 1073741824}}]
"""
    )
    cfg = load_kubelet_config(data)
    assert cfg.cpu_manager_policy_options == {"full-pcpus-only": "true", "strict-cpu-reservation": "false"}
    assert cfg.topology_manager_policy_options == {"max-allowable-numa-nodes": "12"}
    assert cfg.reserved_system_cpus == "0"
    assert cfg.kube_reserved == {"cpu": "1", "memory": "0.5"}
    assert cfg.reserved_memory[0].limits["memory"].value == 1 << 30


def test_reserved_memory_quantities() -> None:
    cfg = load_kubelet_config(
        {"reservedMemory": [{"numaNode": 1, "limits": {"memory": " 1100Mi ", "hugepages-1Gi": "2Gi"}}]}
    )
    r = cfg.reserved_memory[0]
    assert r.numa_node == 1
    assert str(r.limits["memory"]) == "1100Mi" and r.limits["memory"].format == BINARY_SI
    assert r.limits["hugepages-1Gi"].value == 2 << 30
    # null is a zero quantity (refused later by the validation, not by the loader)
    cfg = load_kubelet_config({"reservedMemory": [{"numaNode": 0, "limits": {"memory": None}}]})
    assert cfg.reserved_memory[0].limits["memory"].is_zero()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ([], "a KubeletConfiguration must be a mapping"),
        ({"kind": "Pod"}, "kind: expected KubeletConfiguration"),
        ({"apiVersion": "v1"}, "apiVersion"),
        (
            {"featureGates": ["PodLevelResources"]},
            "featureGates" + ": " + _go("array", "featureGates", "map[string]bool"),
        ),
        (
            {"featureGates": {"PodLevelResources": "true"}},
            "featureGates.PodLevelResources" + ": " + _go("string", "featureGates", "bool"),
        ),
        (
            {"cpuManagerPolicy": ["static"]},
            "cpuManagerPolicy" + ": " + _go("array", "cpuManagerPolicy", "string"),
        ),
        (
            {"cpuManagerPolicyOptions": "full-pcpus-only"},
            "cpuManagerPolicyOptions" + ": " + _go("string", "cpuManagerPolicyOptions", "map[string]string"),
        ),
        (
            {"kubeReserved": {"cpu": {"a": 1}}},
            "kubeReserved.cpu" + ": " + _go("object", "kubeReserved", "string"),
        ),
        (
            {"evictionHard": ["memory.available<100Mi"]},
            "evictionHard" + ": " + _go("array", "evictionHard", "map[string]string"),
        ),
        (
            {"reservedMemory": {"numaNode": 0}},
            "reservedMemory" + ": " + _go("object", "reservedMemory", "[]v1beta1.MemoryReservation"),
        ),
        (
            {"reservedMemory": [{"numaNode": "0", "limits": {}}]},
            "reservedMemory[0].numaNode" + ": " + _go("string", "reservedMemory.numaNode", "int32"),
        ),
        (
            {"reservedMemory": [{"numaNode": True}]},
            "reservedMemory[0].numaNode" + ": " + _go("bool", "reservedMemory.numaNode", "int32"),
        ),
        ({"reservedMemory": [{"numaNode": 2**31}]}, "reservedMemory[0].numaNode"),
        (
            {"reservedMemory": [{"numaNode": 0, "limits": [1]}]},
            "reservedMemory[0].limits" + ": " + _go("array", "reservedMemory.limits", "map[string]resource.Quantity"),
        ),
        (
            {"reservedMemory": [{"numaNode": 0, "limits": {"memory": "1GB"}}]},
            "reservedMemory[0].limits.memory: '1GB': quantities must match",
        ),
        (
            {"reservedMemory": [{"numaNode": 0, "limits": {"memory": "1Mm"}}]},
            "reservedMemory[0].limits.memory: '1Mm': unable to parse quantity's suffix",
        ),
        (
            {"mergeDefaultEvictionSettings": "yes"},
            "mergeDefaultEvictionSettings" + ": " + _go("string", "mergeDefaultEvictionSettings", "bool"),
        ),
    ],
)
def test_malformed_input_names_the_field(data: object, field: str) -> None:
    with pytest.raises(KubeletConfigError) as ei:
        load_kubelet_config(data, "node.kubelet")  # type: ignore[arg-type]
    assert str(ei.value).startswith("node.kubelet: ")
    assert field in str(ei.value)
    assert isinstance(ei.value, ValueError)


# -- Go primitives --------------------------------------------------------------------------------


@pytest.mark.parametrize("s", ["1", "t", "T", "TRUE", "true", "True"])
def test_parse_bool_true(s: str) -> None:
    assert go_parse_bool(s) is True


@pytest.mark.parametrize("s", ["0", "f", "F", "FALSE", "false", "False"])
def test_parse_bool_false(s: str) -> None:
    assert go_parse_bool(s) is False


@pytest.mark.parametrize("s", ["1.0", "yes", "on", "tRue", "", " true", "enabled"])
def test_parse_bool_errors(s: str) -> None:
    with pytest.raises(GoParseError) as ei:
        go_parse_bool(s)
    assert str(ei.value) == f"strconv.ParseBool: parsing {go_quote(s)}: invalid syntax"


def test_atoi() -> None:
    assert go_atoi("8") == 8
    assert go_atoi("+12") == 12
    assert go_atoi("-1") == -1
    assert go_atoi("007") == 7
    for bad in ("eight", "", "-", "1_000", " 8", "8 ", "1.0", "0x10"):
        with pytest.raises(GoParseError, match="invalid syntax") as ei:
            go_atoi(bad)
        assert str(ei.value) == f"strconv.Atoi: parsing {go_quote(bad)}: invalid syntax"
    with pytest.raises(GoParseError) as ei:
        go_atoi("99999999999999999999")
    assert str(ei.value) == 'strconv.Atoi: parsing "99999999999999999999": value out of range'


def test_quote() -> None:
    assert go_quote("abc") == '"abc"'
    assert go_quote('a"b\\c') == '"a\\"b\\\\c"'
    assert go_quote("a\tb\n") == '"a\\tb\\n"'
    assert go_quote("\x00") == '"\\x00"'
    assert go_quote("é") == '"é"'


def test_cpuset_parse() -> None:
    assert go_parse_cpuset("").bits == 0
    assert go_parse_cpuset("0-1,16-17").bits == 0b11 | 0b11 << 16
    assert go_parse_cpuset("3-3").bits == 1 << 3
    assert go_parse_cpuset("2,2").bits == 1 << 2
    assert go_parse_cpuset("0-4000000").beyond


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0-", 'strconv.Atoi: parsing "": invalid syntax'),
        ("3-1", 'invalid range "3-1" (3 > 1)'),
        ("0, 4", 'strconv.Atoi: parsing " 4": invalid syntax'),
        ("-1", 'strconv.Atoi: parsing "": invalid syntax'),
        ("0,", 'strconv.Atoi: parsing "": invalid syntax'),
        ("1-2-3", 'strconv.Atoi: parsing "2-3": invalid syntax'),
        ("a", 'strconv.Atoi: parsing "a": invalid syntax'),
    ],
)
def test_cpuset_parse_errors(text: str, message: str) -> None:
    with pytest.raises(GoParseError) as ei:
        go_parse_cpuset(text)
    assert str(ei.value) == message


@pytest.mark.parametrize(
    ("text", "value", "fmt", "printed"),
    [
        ("0", 0, DECIMAL_SI, "0"),
        ("1", 1, DECIMAL_SI, "1"),
        ("1500m", Fraction(3, 2), DECIMAL_SI, "1500m"),
        ("100Mi", 100 << 20, BINARY_SI, "100Mi"),
        ("1.5Gi", 3 << 29, BINARY_SI, "1536Mi"),
        ("1e3", 1000, DECIMAL_EXPONENT, "1e3"),
        ("1E", 10**18, DECIMAL_SI, "1E"),
        ("-1", -1, DECIMAL_SI, "-1"),
        ("+2k", 2000, DECIMAL_SI, "2k"),
        ("0Mi", 0, BINARY_SI, "0"),
        (".5", Fraction(1, 2), DECIMAL_SI, "500m"),
        ("1.", 1, DECIMAL_SI, "1"),
        ("0.0000000001", Fraction(1, 10**9), DECIMAL_SI, "1n"),
    ],
)
def test_parse_quantity(text: str, value: Fraction | int, fmt: str, printed: str) -> None:
    q = go_parse_quantity(text)
    assert q.value == value
    assert q.format == fmt
    assert str(q) == printed


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "quantities must match the regular expression"),
        ("abc", "quantities must match the regular expression"),
        (" 1", "quantities must match the regular expression"),
        ("1GB", "quantities must match the regular expression"),
        ("1Mb", "quantities must match the regular expression"),
        ("1Mm", "unable to parse quantity's suffix"),
        ("1Ki2", "unable to parse quantity's suffix"),
        ("1e", "unable to parse quantity's suffix"),
    ],
)
def test_parse_quantity_errors(text: str, message: str) -> None:
    with pytest.raises(GoParseError) as ei:
        go_parse_quantity(text)
    assert str(ei.value).startswith(message)


def test_float32_parsing() -> None:
    assert go_parse_float32("10") == 10.0
    # float32(0.1) is not float64(0.1)
    assert go_parse_float32("0.1") == 0.10000000149011612
    assert f32_round(Fraction(1, 10)) == 0.10000000149011612
    assert go_parse_float32("1e1") == 10.0
    assert math.isinf(go_parse_float32("inf"))
    assert math.isnan(go_parse_float32("NaN"))
    with pytest.raises(GoParseError) as ei:
        go_parse_float32("abc")
    assert str(ei.value) == 'strconv.ParseFloat: parsing "abc": invalid syntax'
    with pytest.raises(GoParseError) as ei:
        go_parse_float32("1e39")
    assert str(ei.value) == 'strconv.ParseFloat: parsing "1e39": value out of range'


def test_int64_amounts() -> None:
    assert go_int64_amount("1Gi") == (1 << 30, 0)
    assert go_int64_amount("9400m") == (9400, -3)
    assert go_int64_amount("100M") == (100, 6)
    assert go_int64_amount("1.5") == (15, -1)
    assert go_int64_amount("1.5Gi") is None  # inf.Dec
    assert go_amount_add((0, 0), (9400, -3)) == (9400, -3)
    assert go_amount_add((1, 0), (500, -3)) == (1500, -3)
    assert go_amount_add((100, 6), (1, 0)) == (100000001, 0)


# -- feature gates --------------------------------------------------------------------------------


def test_defaults_match_the_1_36_specs() -> None:
    for name, default in DEFAULTS.items():
        assert SPECS[name][0] == default, name
    assert SPECS["PodLevelResources"] == (True, "Beta", False)
    assert SPECS["PodLevelResourceManagers"] == (False, "Alpha", False)
    assert SPECS["CPUManagerPolicyOptions"] == (True, "GA", True)
    assert SPECS["InPlacePodVerticalScaling"] == (True, "GA", True)
    assert DEPENDENCIES["PodLevelResourceManagers"] == ("PodLevelResources",)
    assert DEPENDENCIES["InPlacePodLevelResourcesVerticalScaling"] == (
        "InPlacePodVerticalScaling",
        "NodeDeclaredFeatures",
        "PodLevelResources",
    )


def test_default_gates_are_consistent() -> None:
    assert FeatureGates().validate() == ([], [])
    for feature, deps in DEPENDENCIES.items():
        for d in deps:
            assert d in SPECS, (feature, d)


def test_gate_dependency_messages() -> None:
    errors, _ = FeatureGates({"PodLevelResources": False}).validate()
    assert errors == [
        "InPlacePodLevelResourcesVerticalScaling is enabled, but depends on features that are disabled: "
        "[PodLevelResources]"
    ]
    errors, _ = FeatureGates(
        {"PodLevelResources": False, "InPlacePodLevelResourcesVerticalScaling": False, "PodLevelResourceManagers": True}
    ).validate()
    assert errors == [
        "PodLevelResourceManagers is enabled, but depends on features that are disabled: [PodLevelResources]"
    ]
    errors, _ = FeatureGates({"PodLevelResources": False, "NodeDeclaredFeatures": False}).validate()
    assert (
        "InPlacePodLevelResourcesVerticalScaling is enabled, but depends on features that are disabled: "
        "[NodeDeclaredFeatures PodLevelResources]"
    ) in errors


def test_locked_gates() -> None:
    errors, _ = FeatureGates({"CPUManagerPolicyOptions": False}).validate()
    assert errors == ["cannot set feature gate CPUManagerPolicyOptions to false, feature is locked to true"]
    errors, warnings = FeatureGates({"CPUManagerPolicyOptions": True}).validate()
    assert errors == []
    assert warnings == ["Setting GA feature gate CPUManagerPolicyOptions=true. It will be removed in a future release."]


def test_unknown_gates_only_warn() -> None:
    g = FeatureGates({"GatewayAPI": True})
    assert g.validate() == ([], ["unrecognized feature gate: GatewayAPI"])
    assert g.enabled("GatewayAPI")  # as set; nothing in the kubelet reads it


def test_all_alpha_and_all_beta() -> None:
    g = FeatureGates({"AllAlpha": True, "CPUManagerPolicyAlphaOptions": False})
    assert g.enabled("PodLevelResourceManagers")
    assert not g.enabled("CPUManagerPolicyAlphaOptions")
    g = FeatureGates({"AllBeta": False})
    assert not g.enabled("PodLevelResources")
    errors, _ = g.validate()
    assert errors == []  # every beta gate off: no enabled gate depends on a disabled one


def test_items_lists_manager_gates_and_explicit_ones() -> None:
    items = dict(FeatureGates({"GatewayAPI": True}).items())
    assert set(items) == set(DEFAULTS) | {"GatewayAPI"}
