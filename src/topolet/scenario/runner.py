"""Scenario files (conformance/FORMAT.md): load, run against the engine, check.

A scenario is one node (topology + kubelet configuration) and ordered steps
(``admit``, ``delete``, ``restart``) with what must be observed after each.
The runner is pure given the parsed documents; reading files is done by
:func:`load_scenario_files`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from topolet.engine.errors import StartupError
from topolet.engine.node import ADMISSION_MODES, ADMISSION_RESOURCE_MANAGERS, Node, NodeError
from topolet.engine.nodestatus import DEFAULT_NODE_NAME
from topolet.engine.result import AdmitResult
from topolet.io import yamlio
from topolet.model.cpuset import CPUSetError, format_bits, parse_bits
from topolet.model.kubelet_config import KubeletConfig, KubeletConfigError, load_kubelet_config
from topolet.model.manifest import ManifestError, admit_to_api, pods_from_object
from topolet.model.pod import Pod
from topolet.model.quantity import QuantityError, format_bytes, parse_bytes
from topolet.model.topology import Topology, TopologyError
from topolet.model.topology_spec import TopologySpecError, topology_from_spec

SUPPORTED_KUBELET_VERSIONS = ("1.36",)
ACTIONS = ("admit", "delete", "restart")


class ScenarioError(ValueError):
    """A scenario file that cannot be run (malformed, unknown keys)."""


@dataclass(slots=True)
class Failure:
    file: str
    scenario: str
    step: str
    check: str
    expected: str
    got: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.scenario}"
        if self.step:
            where += f": {self.step}"
        return f"{where}: {self.check}: expected {self.expected}, got {self.got}"


@dataclass(slots=True)
class ScenarioResult:
    file: str
    name: str
    failures: list[Failure] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


@dataclass(slots=True)
class Scenario:
    file: str
    name: str
    doc: dict[str, Any]


def load_scenario_files(paths: Iterable[str | Path]) -> tuple[list[Scenario], list[ScenarioResult]]:
    """Scenarios from files and directories (recursively, sorted: *.yaml, *.yml, *.json).

    Files that cannot be read or parsed come back as failed results.
    """
    files: list[Path] = []
    broken: list[ScenarioResult] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            files.extend(sorted(f for f in path.rglob("*") if f.is_file() and f.suffix in (".yaml", ".yml", ".json")))
        elif path.is_file():
            files.append(path)
        else:
            broken.append(
                ScenarioResult(str(path), "-", [Failure(str(path), "-", "", "file", "a file", "no such file")])
            )
    scenarios: list[Scenario] = []
    for f in files:
        try:
            text = f.read_text(encoding="utf-8")
            docs = [d for d in yamlio.load_all(text) if d is not None]
        except (OSError, UnicodeDecodeError, yaml.YAMLError, yamlio.NestingError) as e:
            broken.append(ScenarioResult(str(f), "-", [Failure(str(f), "-", "", "parse", "YAML", _one_line(e))]))
            continue
        for i, d in enumerate(docs):
            name = f"document {i + 1}"
            if isinstance(d, Mapping):
                md = d.get("metadata")
                if isinstance(md, Mapping) and md.get("name"):
                    name = str(md["name"])
            scenarios.append(Scenario(str(f), name, d if isinstance(d, dict) else {"_invalid": d}))
    return scenarios, broken


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split())


def run_scenario(sc: Scenario) -> ScenarioResult:
    res = ScenarioResult(sc.file, sc.name)
    try:
        _run(sc, res)
    except ScenarioError as e:
        res.failures.append(Failure(sc.file, sc.name, "", "scenario", "a valid scenario", str(e)))
    return res


def _require_mapping(v: object, where: str) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise ScenarioError(f"{where}: must be a mapping")
    return v


def _build_inputs(node_spec: dict[str, Any], where: str) -> tuple[Topology, KubeletConfig]:
    if "topology" not in node_spec:
        raise ScenarioError(f"{where}.topology: missing")
    try:
        topology = topology_from_spec(node_spec["topology"], f"{where}.topology")
    except (TopologySpecError, TopologyError, QuantityError) as e:
        raise ScenarioError(str(e)) from e
    try:
        config = load_kubelet_config(node_spec.get("kubelet") or {}, f"{where}.kubelet")
    except (KubeletConfigError, QuantityError) as e:
        raise ScenarioError(str(e)) from e
    return topology, config


def _report_warnings(sc: Scenario, config: KubeletConfig) -> None:
    """What the kubelet would log about the scenario's configuration (unknown fields, feature gates)."""
    if config.warnings:
        from topolet.io.inputs import warn

        for w in config.warnings:
            warn(f"{sc.file}: {sc.name}: {w}")


def _run(sc: Scenario, res: ScenarioResult) -> None:
    doc = sc.doc
    if "_invalid" in doc:
        raise ScenarioError("a scenario document must be a mapping")
    if doc.get("kind") not in (None, "Scenario"):
        raise ScenarioError(f"kind: expected Scenario, got {doc.get('kind')!r}")
    md = doc.get("metadata") or {}
    version = str(md.get("kubeletVersion", "1.36")) if isinstance(md, dict) else "1.36"
    if version not in SUPPORTED_KUBELET_VERSIONS:
        raise ScenarioError(
            f"metadata.kubeletVersion: {version!r} is not modelled (supported: {', '.join(SUPPORTED_KUBELET_VERSIONS)})"
        )
    spec = _require_mapping(doc.get("spec"), "spec")
    node_spec = _require_mapping(spec.get("node"), "spec.node")
    topology, config = _build_inputs(node_spec, "spec.node")
    _report_warnings(sc, config)
    node_expect = node_spec.get("expect") or {}
    steps = spec.get("steps") or []
    if not isinstance(steps, list):
        raise ScenarioError("spec.steps: must be a list")
    admission, node_name = _admission_of(node_spec)
    try:
        node = Node(topology, config, admission=admission, name=node_name)
    except StartupError as e:
        want = node_expect.get("error") if isinstance(node_expect, dict) else None
        if want is None:
            res.failures.append(Failure(sc.file, sc.name, "start", "kubelet start", "a running kubelet", str(e)))
        elif str(want) not in str(e):
            res.failures.append(Failure(sc.file, sc.name, "start", "error", repr(str(want)), repr(str(e))))
        return
    if isinstance(node_expect, dict) and node_expect.get("error") is not None:
        res.failures.append(
            Failure(sc.file, sc.name, "start", "error", repr(str(node_expect["error"])), "the kubelet started")
        )
        return
    state = _RunState(node, topology, config)
    for i, step in enumerate(steps):
        step = _require_mapping(step, f"spec.steps[{i}]")
        actions = [k for k in step if k != "expect"]
        if len(actions) != 1 or actions[0] not in ACTIONS:
            raise ScenarioError(f"spec.steps[{i}]: needs exactly one action of {', '.join(ACTIONS)}, got {actions}")
        action = actions[0]
        expect = step.get("expect") or {}
        if not isinstance(expect, dict):
            raise ScenarioError(f"spec.steps[{i}].expect: must be a mapping")
        label = f"step {i + 1} ({action}"
        if action == "admit":
            body = _require_mapping(step["admit"], f"spec.steps[{i}].admit")
            meta = body.get("metadata")  # checked with the pod (the API server's validation)
            label += f" {meta.get('name', '?') if isinstance(meta, dict) else '?'})"
            if state.down is not None:
                res.failures.append(Failure(sc.file, sc.name, label, "admit", "a running kubelet", state.down))
                return
            _step_admit(state, body, expect, res, sc, label, i)
        elif action == "delete":
            body = _require_mapping(step["delete"], f"spec.steps[{i}].delete")
            label += f" {body.get('pod', '?')})"
            if state.down is not None:
                res.failures.append(Failure(sc.file, sc.name, label, "delete", "a running kubelet", state.down))
                return
            _step_delete(state, body, expect, res, sc, label, i)
        else:
            label += ")"
            if not _step_restart(state, step["restart"] or {}, expect, res, sc, label, i):
                continue
        _check_node(state.node, expect, res, sc, label)


def _admission_of(node_spec: dict[str, Any]) -> tuple[str, str]:
    """``spec.node.admission`` (default resourceManagers) and ``spec.node.name`` (default node-1)."""
    admission = node_spec.get("admission", ADMISSION_RESOURCE_MANAGERS)
    if admission not in ADMISSION_MODES:
        raise ScenarioError(f"spec.node.admission: {admission!r} is not one of {', '.join(ADMISSION_MODES)}")
    name = node_spec.get("name", DEFAULT_NODE_NAME)
    if not isinstance(name, str) or not name:
        raise ScenarioError("spec.node.name: must be a non-empty string")
    return admission, name


@dataclass(slots=True)
class _RunState:
    node: Node
    topology: Topology
    config: KubeletConfig
    # the kubelet is down after a refused start (its error); the pods run on unmanaged and the
    # checkpoint files stay as they were
    down: str | None = None
    running: list[Pod] = field(default_factory=list)  # while down: the pods that run, in creation order
    files: tuple[bytes, bytes] | None = None  # while down: the checkpoint files on disk
    admits: int = 0  # admit steps so far

    def admit(self, node: Node, pod: Pod) -> AdmitResult:
        """The kubelet's admission of one pod on ``node`` (at a step and at a restart)."""
        return node.admit(pod)


def _step_admit(
    st: _RunState,
    body: dict[str, Any],
    expect: dict[str, Any],
    res: ScenarioResult,
    sc: Scenario,
    label: str,
    i: int,
) -> None:
    obj = dict(body)
    obj.setdefault("apiVersion", "v1")
    obj.setdefault("kind", "Pod")
    metadata = obj.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise ScenarioError(f"spec.steps[{i}].admit.metadata: must be a mapping")
    md = dict(metadata)
    st.admits += 1
    if not md.get("uid"):
        # the API server gives every pod it creates a new UID: a pod re-created under the
        # same name is another pod to the kubelet (its managers key state by UID). Spelled as
        # the conformance oracle did ("pod-<n>-<name>", n counting the admit steps): the UIDs
        # show in checkpoint errors and order the checkpoint entries
        md["uid"] = f"pod-{st.admits}-{md.get('name', '')}"
    obj["metadata"] = md
    try:
        pods = pods_from_object(obj, f"spec.steps[{i}].admit", st.node.gates)
    except (ManifestError, QuantityError) as e:
        raise ScenarioError(str(e)) from e
    if len(pods) != 1:
        raise ScenarioError(f"spec.steps[{i}].admit: must be one pod")
    pod = pods[0]
    if not pod.node_name:
        # the pod is bound to this node (spec.nodeName) unless it names one itself
        pod = replace(pod, node_name=st.node.name)
    stored, invalid = admit_to_api(pod, st.node.gates)

    def fail(check: str, want: object, got: object) -> None:
        res.failures.append(Failure(sc.file, sc.name, label, check, str(want), str(got)))

    if stored is None:
        admitted, reason, message = False, "Invalid", invalid or ""
        result = None
    else:
        try:
            result = st.admit(st.node, stored)
        except NodeError as e:
            raise ScenarioError(f"spec.steps[{i}].admit: {e}") from e
        admitted, reason, message = result.admitted, result.reason, result.message
    if result is None:
        if "admitted" in expect and bool(expect["admitted"]) != admitted:
            fail("admitted", expect["admitted"], f"{admitted} ({reason}: {message})")
            return
        if "reason" in expect and expect["reason"] != reason:
            fail("reason", expect["reason"], f"{reason} ({message})")
        if "messageContains" in expect and str(expect["messageContains"]) not in message:
            fail("messageContains", repr(expect["messageContains"]), repr(message))
        return
    _check_admit_expect(expect, result, fail, f"spec.steps[{i}].expect")


def _check_admit_expect(
    expect: dict[str, Any], result: AdmitResult, fail: Callable[[str, object, object], None], where: str
) -> None:
    """The keys of an admit expect against one pod's verdict and allocations."""
    admitted, reason, message = result.admitted, result.reason, result.message
    if "admitted" in expect and bool(expect["admitted"]) != admitted:
        fail("admitted", expect["admitted"], admitted if admitted else f"{admitted} ({reason}: {message})")
        return
    if "reason" in expect and expect["reason"] != reason:
        fail("reason", expect["reason"], f"{reason} ({message})")
    if "messageContains" in expect and str(expect["messageContains"]) not in message:
        fail("messageContains", repr(expect["messageContains"]), repr(message))
    if not result.admitted:
        return
    if "podCpus" in expect:
        want = _cpus(expect["podCpus"], "podCpus")
        if want != result.pod_cpus:
            fail("podCpus", _fmt(want), _fmt(result.pod_cpus))
    containers = expect.get("containers") or {}
    if not isinstance(containers, dict):
        raise ScenarioError(f"{where}.containers: must be a mapping")
    for cname, cexp in containers.items():
        got = result.container(str(cname))
        if got is None:
            fail(f"containers.{cname}", "a container", "no such container")
            continue
        cexp = cexp or {}
        if "cpus" in cexp:
            want = _cpus(cexp["cpus"], f"containers.{cname}.cpus")
            if want != got.cpus:
                fail(f"containers.{cname}.cpus", _fmt(want), _fmt(got.cpus))
        if "mems" in cexp:
            want = _cpus(cexp["mems"], f"containers.{cname}.mems")
            if want != got.mems:
                fail(f"containers.{cname}.mems", _fmt(want), _fmt(got.mems))
        if "memory" in cexp:
            want_blocks = sorted(_block_key(b, f"containers.{cname}.memory") for b in cexp["memory"] or [])
            got_blocks = sorted((tuple(sorted(b.numa_affinity)), b.type, b.size) for b in got.memory)
            if want_blocks != got_blocks:
                fail(f"containers.{cname}.memory", _fmt_blocks(want_blocks), _fmt_blocks(got_blocks))


def _step_delete(
    st: _RunState,
    body: dict[str, Any],
    expect: dict[str, Any],
    res: ScenarioResult,
    sc: Scenario,
    label: str,
    i: int,
) -> None:
    name = body.get("pod")
    if not name:
        raise ScenarioError(f"spec.steps[{i}].delete.pod: missing")
    try:
        st.node.delete(str(name))
    except NodeError as e:
        res.failures.append(Failure(sc.file, sc.name, label, "delete", "an existing pod", str(e)))


def _step_restart(
    st: _RunState,
    body: object,
    expect: dict[str, Any],
    res: ScenarioResult,
    sc: Scenario,
    label: str,
    i: int,
) -> bool:
    """Stop the kubelet and start a new one on its checkpoint files (FORMAT.md "restart").

    Returns False when the new kubelet refused to start (the node is then down)."""
    from topolet.engine.restart import record_pods
    from topolet.io.kubelet_restart import checkpoint_bytes, restart_from_files

    body = _require_mapping(body, f"spec.steps[{i}].restart")
    unknown = sorted(set(body) - {"kubelet", "topology"})
    if unknown:
        raise ScenarioError(f"spec.steps[{i}].restart: unknown key(s) {', '.join(map(str, unknown))}")
    config, topology = st.config, st.topology
    if body.get("kubelet") is not None:
        try:
            config = load_kubelet_config(body["kubelet"], f"spec.steps[{i}].restart.kubelet")
        except (KubeletConfigError, QuantityError) as e:
            raise ScenarioError(str(e)) from e
        _report_warnings(sc, config)
    if body.get("topology") is not None:
        try:
            topology = topology_from_spec(body["topology"], f"spec.steps[{i}].restart.topology")
        except (TopologySpecError, TopologyError, QuantityError) as e:
            raise ScenarioError(str(e)) from e
    # from now on, as at this start (even a refused one)
    st.config, st.topology = config, topology
    if st.down is None:
        running = [rec.pod for rec in st.node.pods.values() if rec.result.admitted]
        files = checkpoint_bytes(st.node)
    else:
        assert st.files is not None
        running, files = st.running, st.files
    try:
        outcome = restart_from_files(
            topology, config, files[0], files[1], running, st.admit, admission=st.node.admission, name=st.node.name
        )
    except StartupError as e:
        st.down, st.running, st.files = str(e), running, files
        want = expect.get("error")
        if want is None:
            res.failures.append(Failure(sc.file, sc.name, label, "restart", "a running kubelet", str(e)))
        elif str(want) not in str(e):
            res.failures.append(Failure(sc.file, sc.name, label, "error", repr(str(want)), repr(str(e))))
        return False
    st.down, st.running, st.files = None, [], None
    record_pods(outcome)
    st.node = outcome.node
    if expect.get("error") is not None:
        res.failures.append(Failure(sc.file, sc.name, label, "error", repr(expect["error"]), "the kubelet started"))
        return False
    pods = expect.get("pods") or {}
    if not isinstance(pods, dict):
        raise ScenarioError(f"spec.steps[{i}].expect.pods: must be a mapping")
    for pname, pexp in pods.items():
        pexp = _require_mapping(pexp or {}, f"spec.steps[{i}].expect.pods.{pname}")
        readmitted = outcome.readmission(str(pname))

        def fail(check: str, want: object, got: object, pname: object = pname) -> None:
            res.failures.append(Failure(sc.file, sc.name, label, f"pods.{pname}.{check}", str(want), str(got)))

        if readmitted is None:
            fail("pod", "a pod running before the restart", "no such pod")
            continue
        _check_admit_expect(pexp, readmitted.result, fail, f"spec.steps[{i}].expect.pods.{pname}")
    return True


def _check_node(node: Node, expect: dict[str, Any], res: ScenarioResult, sc: Scenario, label: str) -> None:
    if "defaultCpuSet" in expect:
        want = _cpus(expect["defaultCpuSet"], "defaultCpuSet")
        got = node.cpu_manager.state.default_cpuset
        if want != got:
            res.failures.append(Failure(sc.file, sc.name, label, "defaultCpuSet", _fmt(want), _fmt(got)))
    if "freeMemory" in expect:
        fm = expect["freeMemory"] or {}
        if not isinstance(fm, dict):
            raise ScenarioError("expect.freeMemory: must be a mapping")
        free = node.free_memory()
        for numa, resources in fm.items():
            try:
                nid = int(numa)
            except (TypeError, ValueError) as e:
                raise ScenarioError(f"expect.freeMemory: NUMA id {numa!r} is not an integer") from e
            for rname, size in (resources or {}).items():
                want_b = _bytes(size, f"freeMemory.{numa}.{rname}")
                got_b = free.get(nid, {}).get(str(rname))
                if got_b != want_b:
                    res.failures.append(
                        Failure(
                            sc.file,
                            sc.name,
                            label,
                            f"freeMemory.{nid}.{rname}",
                            f"{want_b} ({format_bytes(want_b)})",
                            "none" if got_b is None else f"{got_b} ({format_bytes(got_b)})",
                        )
                    )


def _cpus(v: object, where: str) -> int:
    if v is None:
        return 0
    try:
        return parse_bits(str(v))
    except CPUSetError as e:
        raise ScenarioError(f"expect.{where}: {e}") from e


def _bytes(v: object, where: str) -> int:
    try:
        return parse_bytes(v)
    except QuantityError as e:
        raise ScenarioError(f"expect.{where}: {e}") from e


def _block_key(b: object, where: str) -> tuple[tuple[int, ...], str, int]:
    if not isinstance(b, dict):
        raise ScenarioError(f"expect.{where}: each block must be a mapping")
    numa = b.get("numa")
    if isinstance(numa, int):
        numa = [numa]
    if not isinstance(numa, list):
        raise ScenarioError(f"expect.{where}.numa: must be a list of NUMA ids")
    return (tuple(sorted(int(n) for n in numa)), str(b.get("type", "memory")), _bytes(b.get("size"), where))


def _fmt(bits: int) -> str:
    s = format_bits(bits)
    return f'"{s}"'


def _fmt_blocks(blocks: list[tuple[tuple[int, ...], str, int]]) -> str:
    return "[" + ", ".join(f"{{numa {list(n)} {t} {format_bytes(s)}}}" for n, t, s in blocks) + "]"


def run_paths(paths: Iterable[str | Path]) -> list[ScenarioResult]:
    scenarios, broken = load_scenario_files(paths)
    return broken + [run_scenario(sc) for sc in scenarios]
