"""Strict input as the real tools (issue 9 item 3) and hardened input loaders (issue 12 items 1, 2, 7).

Every bad input named in the issues is here: each command exits 1 (2 for `predict` when the kubelet refuses
to start), names the file and the field, and never prints a traceback.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from paths import CORPUS, SEED_CONFIG, SEED_POD
from topolet.cli.main import app
from topolet.io import inputs, yamlio
from topolet.io.inputs import InputError, load_kubelet_config_file, load_objects
from topolet.model.api_fields import TYPES, fields_of, unknown_fields
from topolet.model.didyoumean import edit_distance, suggest
from topolet.model.features import FeatureGates
from topolet.model.kubelet_config import KubeletConfigError, load_kubelet_config
from topolet.model.kubelet_config_schema import FIELDS, STRUCTS, go_duration_string, go_parse_duration
from topolet.model.manifest import ManifestError, pods_from_object
from topolet.model.quantity import QuantityError
from topolet.model.topology import TopologyError
from topolet.model.topology_spec import TopologySpecError, topology_from_spec

runner = CliRunner()


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    r = runner.invoke(app, list(args), input=stdin)
    assert not isinstance(r.exception, Exception) or isinstance(r.exception, SystemExit), repr(r.exception)
    return r.exit_code, r.stdout, r.stderr


@pytest.fixture(autouse=True)
def _fresh_warnings() -> None:
    inputs._seen_warnings.clear()


def _no_traceback(*texts: str) -> None:
    for t in texts:
        assert "Traceback" not in t


# -- issue 12 item 1: deep nesting -----------------------------------------------------------------


def _deep(tmp_path: Path, name: str = "deep.json", kind: str = "list") -> Path:
    p = tmp_path / name
    text = "[" * 3000 + "]" * 3000 if kind == "list" else '{"a":' * 3000 + "1" + "}" * 3000
    p.write_text(text + "\n")
    return p


@pytest.mark.parametrize("kind", ["list", "object"])
def test_deep_json_manifest_is_a_clear_error(tmp_path: Path, kind: str) -> None:
    deep = _deep(tmp_path, kind=kind)
    for cmd in (["predict"], ["explain"], ["report", "--html", str(tmp_path / "r.html")]):
        code, out, err = run(*cmd, "-f", str(deep))
        assert code == 1, (cmd, out, err)
        assert "deep.json" in err and "nested too deeply" in err
        _no_traceback(out, err)


def test_deep_json_config_and_topology_are_clear_errors(tmp_path: Path) -> None:
    deep = _deep(tmp_path)
    code, out, err = run("predict", "-f", str(SEED_POD), "--config", str(deep))
    assert code == 1 and "deep.json" in err
    code, out, err = run("predict", "-f", str(SEED_POD), "--topology", str(deep))
    assert code == 1 and "deep.json" in err
    code, out, err = run("node", "init", str(tmp_path / "n"), "--config", str(deep))
    assert code == 1 and "deep.json" in err
    _no_traceback(out, err)


def test_moderately_deep_input_is_refused_before_it_reaches_the_rest(tmp_path: Path) -> None:
    # under libyaml's and json's own limits, but deeper than any object topolet reads
    p = tmp_path / "d.json"
    p.write_text(
        '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x", "labels": ' + "[" * 500 + "]" * 500 + "}}"
    )
    code, out, err = run("predict", "-f", str(p))
    assert code == 1 and "d.json" in err and "nested too deeply" in err
    _no_traceback(out, err)
    with pytest.raises(yamlio.NestingError):
        yamlio.load_json("[" * 150 + "]" * 150)
    yamlio.check_depth(json.loads("[" * 100 + "]" * 100))  # the limit itself is fine


def test_deep_scenario_and_fleet_files(tmp_path: Path) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text("[" * 999 + "]" * 999 + "\n")
    code, out, err = run("test", str(deep))
    assert code == 1 and "deep.yaml" in out
    _no_traceback(out, err)
    code, out, err = run("fleet", "run", "--fleet", str(deep), "-f", str(SEED_POD))
    assert code != 0 and "deep.yaml" in err
    _no_traceback(out, err)


# -- issue 12 item 2: every KubeletConfiguration field typed and range-checked ------------------------


@pytest.mark.parametrize("value", ['"abc"', "[1]", '"1e19"', "1.5e400", "1e19", "1.5", "3000000000", "{a: 1}", "true"])
def test_max_pods_of_the_wrong_type_is_refused(tmp_path: Path, value: str) -> None:
    cfg = tmp_path / "kubelet.yaml"
    cfg.write_text(f"kind: KubeletConfiguration\nmaxPods: {value}\n")
    code, out, err = run("node", "init", str(tmp_path / "n"), "--config", str(cfg))
    assert code == 1, (out, err)
    assert "kubelet.yaml: maxPods: json: cannot unmarshal" in err and "of type int32" in err
    assert not (tmp_path / "n").exists()
    code, out, err = run("predict", "-f", str(SEED_POD), "--config", str(cfg))
    assert code == 1 and "kubelet.yaml: maxPods:" in err
    _no_traceback(out, err)


def test_max_pods_null_is_the_default_as_the_go_decoder_leaves_it(tmp_path: Path) -> None:
    # encoding/json: null into an int32 is a no-op, then SetDefaults gives 110; the node commands must not crash
    cfg = tmp_path / "kubelet.yaml"
    cfg.write_text("kind: KubeletConfiguration\nmaxPods: null\n")
    assert load_kubelet_config_file(cfg).max_pods == 110
    node = str(tmp_path / "n")
    assert run("node", "init", node, "--config", str(cfg))[0] == 0
    code, out, err = run("describe", "node", "--node", node)
    assert code == 0 and "pods:" in out
    code, out, err = run("get", "nodes", "-o", "yaml", "--node", node)
    assert (code == 0 and "pods: '110'" in out) or 'pods: "110"' in out or "pods: 110" in out, out
    _no_traceback(out, err)


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("maxPods: -1", "maxPods (--max-pods) -1 must not be a negative number"),
        ("podsPerCore: -2", "podsPerCore (--pods-per-core) -2 must not be a negative number"),
        ("port: 70000", "port (--port) 70000 must be between 1 and 65535, inclusive"),
        ("hairpinMode: x", 'option "x" specified for hairpinMode'),
        ("memoryThrottlingFactor: 2", "memoryThrottlingFactor 2 must be greater than 0"),
        ("cpuCFSQuotaPeriod: 5s", "cpuCFSQuotaPeriod (--cpu-cfs-quota-period) 5s must be between 1ms and 1sec"),
        ("imageGCLowThresholdPercent: 90", "imageGCLowThresholdPercent (--image-gc-low-threshold) 90 must be less"),
        ("containerLogMaxFiles: 1", "containerLogMaxFiles must be greater than 1"),
        ("shutdownGracePeriod: 500ms", "shutdownGracePeriod 500ms must be either zero or otherwise >= 1 sec"),
    ],
)
def test_validation_ranges_with_the_kubelets_message(tmp_path: Path, line: str, needle: str) -> None:
    cfg = tmp_path / "kubelet.yaml"
    cfg.write_text(f"kind: KubeletConfiguration\n{line}\n")
    code, out, err = run("predict", "-f", str(SEED_POD), "--config", str(cfg))
    assert code == 2, (out, err)
    assert "kubelet.yaml" in err and needle in err
    code, out, err = run("node", "init", str(tmp_path / "n"), "--config", str(cfg))
    assert code == 2 and "kubelet.yaml" in err and needle in err  # the exit-code table: the kubelet refuses
    _no_traceback(out, err)


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"syncFrequency": "5x"}, 'syncFrequency: time: unknown unit "x" in duration "5x"'),
        ({"syncFrequency": 5}, "syncFrequency: json: cannot unmarshal number into Go value of type string"),
        ({"syncFrequency": None}, 'syncFrequency: time: invalid duration ""'),
        ({"logging": {"verbosity": -1}}, "logging.verbosity: json: cannot unmarshal number -1"),
        ({"logging": {"flushFrequency": 1.5}}, 'logging.flushFrequency: invalid duration "1.5"'),
        ({"authentication": {"webhook": {"enabled": "yes"}}}, "authentication.webhook.enabled: json: cannot unmarshal"),
        ({"tlsCipherSuites": "a"}, "tlsCipherSuites: json: cannot unmarshal string"),
        ({"staticPodURLHeader": {"a": "b"}}, "staticPodURLHeader.a: json: cannot unmarshal string"),
        ({"memoryThrottlingFactor": "0.5"}, "memoryThrottlingFactor: json: cannot unmarshal string"),
        ({"podPidsLimit": 2**63}, "podPidsLimit: json: cannot unmarshal number 9223372036854775808"),
        ({"reservedMemory": [{"numaNode": 0, "limits": {"memory": "1GB"}}]}, "reservedMemory[0].limits.memory"),
    ],
)
def test_go_types_of_other_fields(data: dict[str, Any], needle: str) -> None:
    with pytest.raises(KubeletConfigError) as ei:
        load_kubelet_config(data, "kubelet.yaml")
    assert str(ei.value).startswith("kubelet.yaml: ") and needle in str(ei.value)


def test_every_field_of_a_full_real_config_is_known() -> None:
    full = {name: None for name in FIELDS}
    full.update(
        {
            "syncFrequency": "1m",
            "authentication": {"x509": {"clientCAFile": "/ca"}, "webhook": {"enabled": True, "cacheTTL": "2m"}},
            "authorization": {"mode": "Webhook", "webhook": {"cacheAuthorizedTTL": "5m"}},
            "logging": {"format": "text", "flushFrequency": 5000000000, "verbosity": 2, "options": {"json": {}}},
            "fileCheckFrequency": "20s",
            "httpCheckFrequency": "20s",
            "streamingConnectionIdleTimeout": "4h",
            "nodeStatusUpdateFrequency": "10s",
            "nodeStatusReportFrequency": "5m",
            "imageMinimumGCAge": "2m",
            "imageMaximumGCAge": "0s",
            "volumeStatsAggPeriod": "1m",
            "cpuManagerReconcilePeriod": "10s",
            "runtimeRequestTimeout": "2m",
            "evictionPressureTransitionPeriod": "5m",
            "shutdownGracePeriod": "0s",
            "shutdownGracePeriodCriticalPods": "0s",
        }
    )
    cfg = load_kubelet_config(full, "full.yaml")
    assert not any("unknown field" in w for w in cfg.warnings)
    for struct, fields in STRUCTS.items():
        assert fields, struct


def test_go_duration_round_trip() -> None:
    assert go_parse_duration("1h30m") == 5400 * 10**9
    assert go_parse_duration("1.5s") == 1_500_000_000
    assert go_parse_duration("-2ms") == -2_000_000
    for bad, msg in (("1", "missing unit"), ("x", "invalid duration"), ("1y", 'unknown unit "y"')):
        with pytest.raises(ValueError, match=msg):
            go_parse_duration(bad)
    assert go_duration_string(100_000_000) == "100ms"
    assert go_duration_string(60 * 10**9) == "1m0s"
    assert go_duration_string(3_600_500_000_000) == "1h0m0.5s"


# -- issue 9 item 3: unknown fields and feature gates warned everywhere -----------------------------

TYPO_CONFIG = """apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cpuManagerPolicy: static
memoryManagerPolicy: Static
topologyManagerPolicy: single-numa-node
topologyManagerScop: pod
reservedSystemCPUs: "0-1,32-33"
kubeReserved: {memory: 1Gi}
systemReserved: {memory: 1Gi}
evictionHard: {memory.available: 100Mi}
reservedMemory:
- numaNode: 0
  limits: {memory: 2148Mi}
featureGates:
  PodLevelResourceManager: true
"""

FIELD_WARNING = 'unknown field "topologyManagerScop" (did you mean "topologyManagerScope"?)'
GATE_WARNING = 'unrecognized feature gate: PodLevelResourceManager (did you mean "PodLevelResourceManagers"?)'


@pytest.fixture
def typo_config(tmp_path: Path) -> Path:
    p = tmp_path / "kubelet.yaml"
    p.write_text(TYPO_CONFIG)
    return p


@pytest.mark.parametrize(
    "cmd",
    [
        ["predict", "-f", str(SEED_POD)],
        ["explain", "-f", str(SEED_POD)],
        ["map"],
        ["report", "--html", "REPORT"],
        ["node", "init", "NODE"],
    ],
)
def test_config_warnings_in_every_command(tmp_path: Path, typo_config: Path, cmd: list[str]) -> None:
    cmd = [str(tmp_path / "r.html") if c == "REPORT" else str(tmp_path / "n") if c == "NODE" else c for c in cmd]
    code, out, err = run(*cmd, "--config", str(typo_config))
    assert "Warning: " in err and str(typo_config) in err
    assert FIELD_WARNING in err and "lenient decoding" in err
    assert GATE_WARNING in err
    assert code in (0, 3), (out, err)
    _no_traceback(out, err)


def test_reconfigure_warns(tmp_path: Path, typo_config: Path) -> None:
    node = str(tmp_path / "n")
    assert run("node", "init", node, "--config", str(SEED_CONFIG))[0] == 0
    _code, _out, err = run("node", "reconfigure", "--node", node, "--config", str(typo_config))
    assert FIELD_WARNING in err, err


def test_scenario_kubelet_block_warns(tmp_path: Path) -> None:
    src = next(p for p in sorted((CORPUS / "cpu-static").glob("*.yaml")))
    docs = list(yaml.safe_load_all(src.read_text()))
    doc = docs[0]
    doc["spec"]["node"]["kubelet"]["topologyManagerScop"] = "pod"
    sc = tmp_path / "typo-scenario.yaml"
    sc.write_text(yaml.safe_dump(doc))
    _code, out, err = run("test", str(sc))
    assert FIELD_WARNING in err and "typo-scenario.yaml" in err
    _no_traceback(out, err)


def test_fleet_pool_config_warns(tmp_path: Path, typo_config: Path) -> None:
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(
        "apiVersion: topolet.dev/v1alpha1\nkind: Fleet\nname: f\n"
        f"pools:\n- name: a\n  count: 1\n  topology: preset:2-numa\n  kubelet: {typo_config}\n"
    )
    _code, out, err = run("fleet", "run", "--fleet", str(fleet), "-f", str(SEED_POD), "--no-progress")
    assert FIELD_WARNING in err, err
    _no_traceback(out, err)


def test_known_fields_give_no_warning() -> None:
    cfg = load_kubelet_config_file(SEED_CONFIG)
    assert cfg.warnings == []


# -- issue 12 item 7: refusals say which input and field --------------------------------------------


def test_kubelet_refusal_names_file_and_field(tmp_path: Path) -> None:
    cfg = tmp_path / "kubelet.yaml"
    cfg.write_text('cpuManagerPolicy: static\nreservedSystemCPUs: "0"\nmemoryManagerPolicy: 12\n')
    needle = f'{cfg}: memoryManagerPolicy: the kubelet refuses to start with this configuration: unknown policy: "12"'
    code, out, err = run("predict", "-f", str(SEED_POD), "--config", str(cfg))
    assert code == 2 and needle in err
    code, out, err = run("node", "init", str(tmp_path / "n"), "--config", str(cfg))
    assert code == 2 and needle in err
    code, out, err = run("explain", "-f", str(SEED_POD), "--config", str(cfg))
    assert code == 2 and needle in err
    _no_traceback(out, err)


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ({"cpus": [None]}, "cpus[0]: expected a mapping, got null"),
        ({"cpus": [1]}, "cpus[0]: expected a mapping, got number 1"),
        ({"cpus": "x"}, 'cpus: expected a list, got string "x"'),
        ({"cpus": [{"id": 0, "core": 0, "socket": 0, "numa": 0}], "numaNodes": [None]}, "numaNodes[0]: expected a"),
        (
            {"cpus": [{"id": 0, "core": 0, "socket": 0, "numa": 0}], "numaNodes": [{"id": 0, "hugepages": [1]}]},
            "numaNodes[0].hugepages: expected a mapping, got a list",
        ),
        ({"cpus": [{"id": 0, "core": 0, "socket": 0, "numa": 0, "uncoreCach": 1}]}, 'did you mean "uncoreCache"'),
    ],
)
def test_topology_messages_have_no_class_names(tmp_path: Path, spec: dict[str, Any], needle: str) -> None:
    p = tmp_path / "topo.yaml"
    p.write_text(yaml.safe_dump(spec))
    code, out, err = run("predict", "-f", str(SEED_POD), "--topology", str(p))
    assert code == 1 and "topo.yaml" in err and needle in err, err
    for internal in ("_CPU", "_NUMANode", "_Core", "_HugePages", "NoneType", "instance of", "Input should be"):
        assert internal not in err
    _no_traceback(out, err)


def test_fleet_and_mix_messages_have_no_class_names(tmp_path: Path) -> None:
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(
        "apiVersion: topolet.dev/v1alpha1\nkind: Fleet\nname: f\npools:\n"
        "- name: a\n  count: null\n  topology: preset:2-numa\n- name: b\n  cont: 1\n  topology: {cpus: [null]}\n"
    )
    code, out, err = run("fleet", "run", "--fleet", str(fleet), "-f", str(SEED_POD), "--no-progress")
    assert code != 0 and "fleet.yaml: pools[0].count: expected an integer, got null" in err
    assert 'pools[1].cont: unknown field (did you mean "count"?)' in err
    assert "NoneType" not in err and "Input should be" not in err
    _no_traceback(out, err)


# -- issue 9 item 3: pods validated as kubectl --validate -------------------------------------------

TYPO_POD = """apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
  - name: app
    image: nginx
    resources:
      requets: {cpu: "2", memory: 1Gi}
      limits: {cpu: "2", memory: 1Gi}
"""
POD_FIELD = '"spec.containers[0].resources.requets" (did you mean "spec.containers[0].resources.requests"?)'


@pytest.mark.parametrize("flag", [[], ["--validate=strict"], ["--validate", "true"]])
def test_predict_refuses_unknown_pod_fields_by_default(tmp_path: Path, flag: list[str]) -> None:
    p = tmp_path / "pod.yaml"
    p.write_text(TYPO_POD)
    code, out, err = run("predict", "-f", str(p), *flag)
    assert code == 1
    assert f'pod.yaml: document 1 (Pod "web"): strict decoding error: unknown field {POD_FIELD}' in err
    _no_traceback(out, err)


def test_validate_warn_and_ignore(tmp_path: Path) -> None:
    p = tmp_path / "pod.yaml"
    p.write_text(TYPO_POD)
    code, _out, err = run("predict", "-f", str(p), "--validate=warn")
    assert code == 0 and f'Warning: {p}: document 1 (Pod "web"): unknown field {POD_FIELD}' in err
    inputs._seen_warnings.clear()
    for v in ("ignore", "false"):
        code, _out, err = run("predict", "-f", str(p), f"--validate={v}")
        assert code == 0 and "unknown field" not in err
    code, _out, err = run("predict", "-f", str(p), "--validate=maybe")
    assert code == 1 and 'invalid - validate option "maybe"' in err


@pytest.mark.parametrize("cmd", [["explain"], ["map"], ["report", "--html", "REPORT"]])
def test_unknown_pod_fields_in_other_commands(tmp_path: Path, cmd: list[str]) -> None:
    p = tmp_path / "pod.yaml"
    p.write_text(TYPO_POD)
    cmd = [str(tmp_path / "r.html") if c == "REPORT" else c for c in cmd]
    code, out, err = run(*cmd, "-f", str(p))
    assert code == 1 and POD_FIELD in err
    code, out, err = run(*cmd, "-f", str(p), "--validate", "ignore")
    assert code == 0, (out, err)


def test_apply_validates(tmp_path: Path) -> None:
    node = str(tmp_path / "n")
    assert run("node", "init", node)[0] == 0
    p = tmp_path / "pod.yaml"
    p.write_text(TYPO_POD)
    code, out, err = run("apply", "--node", node, "-f", str(p))
    assert code == 1 and POD_FIELD in err
    code, out, err = run("get", "pods", "--node", node)
    assert "web" not in out
    code, out, err = run("apply", "--node", node, "-f", str(p), "--validate=warn")
    assert code == 0 and "pod/web created" in out and POD_FIELD in err


def test_fleet_workload_validates(tmp_path: Path) -> None:
    p = tmp_path / "pod.yaml"
    p.write_text(TYPO_POD)
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(
        "apiVersion: topolet.dev/v1alpha1\nkind: Fleet\nname: f\npools:\n- name: a\n  count: 1\n"
        "  topology: preset:2-numa\n"
    )
    code, out, err = run("fleet", "run", "--fleet", str(fleet), "-f", str(p), "--no-progress")
    assert code != 0 and POD_FIELD in err
    code, out, err = run("fleet", "run", "--fleet", str(fleet), "-f", str(p), "--no-progress", "--validate=ignore")
    assert code == 0, (out, err)


@pytest.mark.parametrize(
    ("obj", "field"),
    [
        (
            {"kind": "Deployment", "metadata": {"name": "d"}, "spec": {"replica": 2, "template": {"spec": {}}}},
            '"spec.replica" (did you mean "spec.replicas"?)',
        ),
        (
            {"kind": "StatefulSet", "metadata": {"name": "s"}, "spec": {"template": {"spec": {"containerz": []}}}},
            '"spec.template.spec.containerz" (did you mean "spec.template.spec.containers"?)',
        ),
        ({"kind": "DaemonSet", "metadata": {"name": "d", "label": {}}}, '"metadata.label"'),
        ({"kind": "ReplicaSet", "metadata": {"name": "r"}, "spec": {"templat": {}}}, '"spec.templat"'),
        ({"kind": "Job", "metadata": {"name": "j"}, "spec": {"paralelism": 2}}, '"spec.paralelism"'),
        (
            {"kind": "CronJob", "metadata": {"name": "c"}, "spec": {"jobTemplate": {"spec": {"completion": 1}}}},
            '"spec.jobTemplate.spec.completion" (did you mean "spec.jobTemplate.spec.completions"?)',
        ),
        ({"kind": "ResourceQuota", "metadata": {"name": "q"}, "spec": {"hrd": {}}}, '"spec.hrd"'),
        (
            {"kind": "List", "items": [{"kind": "Pod", "metadata": {"name": "p"}, "spec": {"nodeSelectr": {}}}]},
            '"items[0].spec.nodeSelectr" (did you mean "items[0].spec.nodeSelector"?)',
        ),
    ],
)
def test_unknown_fields_of_every_kind(tmp_path: Path, obj: dict[str, Any], field: str) -> None:
    p = tmp_path / "objs.yaml"
    p.write_text(yaml.safe_dump(obj))
    with pytest.raises(InputError) as ei:
        load_objects([str(p)])
    assert "objs.yaml" in str(ei.value) and f"unknown field {field}" in str(ei.value)
    assert load_objects([str(p)], "ignore")


def test_every_real_pod_spec_field_is_accepted(tmp_path: Path) -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "full",
            "labels": {"a": "b"},
            "annotations": {"x": "y"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "r", "uid": "u"}],
            "managedFields": [{"manager": "kubectl", "fieldsV1": {"f:spec": {"f:anything": {}}}}],
        },
        "spec": {
            "affinity": {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [{"matchExpressions": [{"key": "k", "operator": "In", "values": ["v"]}]}]
                    }
                },
                "podAntiAffinity": {
                    "preferredDuringSchedulingIgnoredDuringExecution": [
                        {"weight": 1, "podAffinityTerm": {"topologyKey": "zone", "labelSelector": {"matchLabels": {}}}}
                    ]
                },
            },
            "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 5}],
            "nodeSelector": {"disk": "ssd"},
            "securityContext": {"runAsUser": 1000, "fsGroup": 2000, "seccompProfile": {"type": "RuntimeDefault"}},
            "volumes": [
                {"name": "c", "configMap": {"name": "cm", "items": [{"key": "a", "path": "b"}]}},
                {"name": "e", "emptyDir": {"medium": "Memory", "sizeLimit": "1Gi"}},
                {"name": "p", "projected": {"sources": [{"serviceAccountToken": {"path": "t"}}]}},
            ],
            "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}],
            "priorityClassName": "high",
            "runtimeClassName": "rc",
            "dnsConfig": {"options": [{"name": "ndots", "value": "2"}]},
            "hostAliases": [{"ip": "1.2.3.4", "hostnames": ["a"]}],
            "os": {"name": "linux"},
            "schedulingGates": [{"name": "g"}],
            "resourceClaims": [{"name": "gpu", "resourceClaimName": "c"}],
            "readinessGates": [{"conditionType": "x"}],
            "terminationGracePeriodSeconds": 30,
            "initContainers": [{"name": "side", "image": "x", "restartPolicy": "Always"}],
            "containers": [
                {
                    "name": "app",
                    "image": "nginx",
                    "command": ["a"],
                    "args": ["b"],
                    "env": [{"name": "X", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
                    "envFrom": [{"configMapRef": {"name": "cm"}}],
                    "ports": [{"containerPort": 80, "protocol": "TCP"}],
                    "resources": {"requests": {"cpu": "1"}, "limits": {"cpu": "1"}, "claims": [{"name": "gpu"}]},
                    "resizePolicy": [{"resourceName": "cpu", "restartPolicy": "NotRequired"}],
                    "volumeMounts": [{"name": "c", "mountPath": "/c", "readOnly": True}],
                    "livenessProbe": {"httpGet": {"path": "/", "port": 80}, "periodSeconds": 5},
                    "readinessProbe": {"exec": {"command": ["true"]}},
                    "startupProbe": {"tcpSocket": {"port": "http"}, "failureThreshold": 30},
                    "lifecycle": {"preStop": {"sleep": {"seconds": 1}}},
                    "securityContext": {"capabilities": {"add": ["NET_ADMIN"]}, "privileged": False},
                    "imagePullPolicy": "IfNotPresent",
                    "terminationMessagePolicy": "File",
                    "stdin": False,
                    "tty": False,
                }
            ],
        },
        "status": {"phase": "Running", "qosClass": "Guaranteed", "conditions": [{"type": "Ready", "status": "True"}]},
    }
    assert unknown_fields(pod) == []
    p = tmp_path / "full.yaml"
    p.write_text(yaml.safe_dump(pod))
    assert len(load_objects([str(p)])) == 1


def test_schema_is_closed() -> None:
    scalars = {"string", "int", "bool", "number", "Quantity", "IntOrString", "Time", "any"}
    for t in TYPES:
        for name, shape in fields_of(t).items():
            assert shape.lstrip("[]{}") in TYPES or shape.lstrip("[]{}") in scalars, (t, name, shape)
    assert {"containers", "initContainers", "resources", "overhead", "ephemeralContainers"} <= set(fields_of("PodSpec"))


def test_corpus_and_examples_have_no_unknown_fields() -> None:
    for f in sorted(CORPUS.rglob("*.yaml"))[::10]:
        for doc in yamlio.load_all(f.read_text()):
            for step in ((doc or {}).get("spec") or {}).get("steps") or []:
                if isinstance(step, dict) and isinstance(step.get("admit"), dict):
                    assert unknown_fields(step["admit"]) == [], f


# -- did you mean ----------------------------------------------------------------------------------


def test_did_you_mean() -> None:
    assert edit_distance("requets", "requests") == 1
    assert edit_distance("ab", "ba") == 1
    assert suggest("topologyManagerScop", FIELDS) == "topologyManagerScope"
    assert suggest("maxpods", FIELDS) == "maxPods"
    assert suggest("cpuManagerPolcy", FIELDS) == "cpuManagerPolicy"
    assert suggest("completelyDifferent", FIELDS) is None
    assert suggest("maxPods", FIELDS) is None


# -- fuzz: only input errors ------------------------------------------------------------------------

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
)
_values = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=12,
)
_config_keys = st.sampled_from([*FIELDS, "reservedMemory", "featureGates", "unknownField"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(_config_keys, _values, max_size=4))
def test_fuzz_kubelet_config_only_input_errors(data: dict[str, Any]) -> None:
    try:
        cfg = load_kubelet_config(data, "fuzz.yaml")
    except KubeletConfigError as e:
        assert str(e).startswith("fuzz.yaml")
        return
    from topolet.engine.errors import StartupError
    from topolet.engine.node import Node
    from topolet.model.presets import preset_from_arg

    with contextlib.suppress(StartupError):
        Node(preset_from_arg("2-numa"), cfg)


_pod_keys = st.sampled_from(["metadata", "spec", "status", "apiVersion", "kind", "replicas", "x"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(["Pod", "Deployment", "Job", "CronJob", "List", "StatefulSet"]),
    st.dictionaries(_pod_keys, _values, max_size=4),
    st.dictionaries(st.sampled_from(["containers", "initContainers", "resources", "template", "x"]), _values),
)
def test_fuzz_manifests_only_input_errors(kind: str, body: dict[str, Any], spec: dict[str, Any]) -> None:
    obj = {**body, "kind": kind, "spec": spec}
    unknown_fields(obj)
    try:
        pods_from_object(obj, "fuzz.yaml", FeatureGates())
    except (ManifestError, QuantityError) as e:
        assert "fuzz.yaml" in str(e) or isinstance(e, QuantityError)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(["cpus", "numaNodes", "preset", "x"]), _values, max_size=3))
def test_fuzz_topology_only_input_errors(spec: dict[str, Any]) -> None:
    try:
        topology_from_spec(spec, "fuzz.yaml")
    except (TopologySpecError, TopologyError, QuantityError) as e:
        for internal in ("_CPU", "_NUMANode", "NoneType", "instance of"):
            assert internal not in str(e)


def test_duplicate_keys_in_a_kubelet_config_are_the_kubelets_strict_decoding_error(tmp_path: Path) -> None:
    from topolet.io.yamlio import duplicate_keys

    cfg = tmp_path / "kubelet.yaml"
    text = SEED_CONFIG.read_text()
    cfg.write_text(text.rstrip("\n") + "\npodsPerCore: 1\npodsPerCore: 0\n")
    n = len(text.rstrip("\n").splitlines())
    code, out, err = run("predict", "-f", str(SEED_POD), "--config", str(cfg))
    assert f'{cfg}: strict decoding error: yaml: unmarshal errors: line {n + 2}: key "podsPerCore" already set' in err
    assert "uses the last value;" not in err and "uses the last value" in err
    assert code == 0, (out, err)  # the last value (0: no limit per core) is used
    _no_traceback(out, err)
    # nested mappings and sequences, anchors; a merge key is not a duplicate; unparsable text gives none
    doc = "a: 1\nb: {x: 1, y: 2, x: 3}\nc:\n- k: 1\n  k: 2\nd: &m {p: 1}\ne:\n  <<: *m\n  <<: *m\n"
    assert duplicate_keys(doc) == [("x", 2, 2), ("k", 5, 4)]
    assert duplicate_keys("a: [") == []
