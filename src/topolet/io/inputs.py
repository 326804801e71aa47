"""Reading the user's inputs: topologies, kubelet configurations and manifests.

Every failure is an :class:`InputError` whose message names the file and the
field, for the CLI to print without a traceback.
"""

from __future__ import annotations

import difflib
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from topolet.io import yamlio
from topolet.model.features import FeatureGates
from topolet.model.kubelet_config import KubeletConfig, KubeletConfigError, load_kubelet_config
from topolet.model.manifest import (
    WORKLOAD_KINDS,
    ManifestError,
    field_validation,
    load_documents,
    pods_from_object,
    validation_mode,
)
from topolet.model.pod import Pod
from topolet.model.presets import PresetError, preset_from_arg
from topolet.model.quantity import QuantityError
from topolet.model.topology import Topology, TopologyError

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
DEFAULT_TOPOLOGY = "preset:2-numa"


class InputError(ValueError):
    """Bad user input: the message names the file and field."""


# -- warnings ------------------------------------------------------------------------------------------
# The loaders report what the real tools would warn about (a configuration's unknown fields and
# feature gates, manifests' unknown fields under --validate=warn) through one function, so that
# every command shows them. The default handler prints "Warning: ..." on standard error, once per
# message and process; tests and embedding code may install another.

WarningHandler = Callable[[str], None]
_seen_warnings: set[str] = set()


def _print_warning(message: str) -> None:
    if message in _seen_warnings:
        return
    _seen_warnings.add(message)
    print(f"Warning: {message}", file=sys.stderr, flush=True)


_warning_handler: WarningHandler = _print_warning


def warn(message: str) -> None:
    """Report a warning about the user's input (see the handler above)."""
    _warning_handler(message)


def set_warning_handler(handler: WarningHandler | None) -> WarningHandler:
    """Install ``handler`` (None: the default, printing on stderr); returns the previous one."""
    global _warning_handler
    previous = _warning_handler
    _warning_handler = handler or _print_warning
    return previous


def read_text(path: str | Path) -> str:
    """A file's text, or standard input for ``-``."""
    if str(path) == "-":
        return sys.stdin.read()
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise InputError(f"{p}: no such file") from e
    except IsADirectoryError as e:
        raise InputError(f"{p}: is a directory") from e
    except UnicodeDecodeError as e:
        raise InputError(f"{p}: not a UTF-8 text file ({e.reason} at byte {e.start})") from e
    except OSError as e:
        raise InputError(f"{p}: cannot read: {e.strerror}") from e


def parse_mapping(text: str, source: str) -> dict[str, Any]:
    """One YAML or JSON mapping."""
    try:
        docs = [d for d in yamlio.load_all(text) if d is not None]
    except yamlio.NestingError as e:
        raise InputError(f"{source}: {e}") from e
    except Exception as e:  # yaml.YAMLError and its scanner/parser subclasses
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise InputError(f"{source}: not valid YAML{where}: {problem}") from e
    if len(docs) != 1 or not isinstance(docs[0], dict):
        raise InputError(f"{source}: expected one YAML/JSON mapping")
    return docs[0]


def load_topology_arg(arg: str | None) -> Topology:
    """``sysfs[:ROOT]``, ``preset:NAME[,k=v...]``, or a file (explicit YAML/JSON, or cAdvisor MachineInfo JSON)."""
    arg = arg or DEFAULT_TOPOLOGY
    try:
        if arg == "sysfs" or arg.startswith("sysfs:"):
            from topolet.io.sysfs import SysfsError, read_sysfs_topology

            root = arg.partition(":")[2] or "/"
            try:
                return read_sysfs_topology(root)
            except SysfsError as e:
                raise InputError(f"--topology {arg}: {e}") from e
        if arg.startswith("preset:"):
            try:
                return preset_from_arg(arg.partition(":")[2])
            except PresetError as e:
                raise InputError(f"--topology {arg}: {e}") from e
        return load_topology_file(arg)
    except (TopologyError, QuantityError) as e:
        raise InputError(f"--topology {arg}: {e}") from e


def load_topology_file(path: str | Path) -> Topology:
    from topolet.model.topology_spec import TopologySpecError, topology_from_spec  # pydantic: only where used

    text = read_text(path)
    data = parse_mapping(text, str(path))
    try:
        if "topology" in data and isinstance(data["topology"], list) and "num_cores" in data:
            from topolet.io.cadvisor import MachineInfoError, topology_from_machine_info

            try:
                return topology_from_machine_info(data, str(path))
            except MachineInfoError as e:
                raise InputError(str(e)) from e
        spec = data.get("topology", data) if isinstance(data.get("topology"), dict) else data
        return topology_from_spec(spec, str(path))
    except (TopologySpecError, TopologyError, QuantityError, PresetError) as e:
        raise InputError(str(e) if str(path) in str(e) else f"{path}: {e}") from e


def load_kubelet_config_file(path: str | Path | None) -> KubeletConfig:
    """A KubeletConfiguration file; ``None`` gives the embedded seed-article configuration."""
    if path is None:
        from importlib.resources import files

        text = (files("topolet") / "data" / "kubelet-config.yaml").read_text(encoding="utf-8")
        source = "embedded kubelet-config.yaml"
    else:
        text = read_text(path)
        source = config_source(path)
    data = parse_mapping(text, source)
    try:
        cfg = load_kubelet_config(data, source)
    except (KubeletConfigError, QuantityError) as e:
        raise InputError(str(e) if source in str(e) else f"{source}: {e}") from e
    dups = yamlio.duplicate_keys(text)
    if dups:
        # the kubelet's strict decoding (sigs.k8s.io/yaml, yaml.UnmarshalStrict) fails; the lenient one keeps the last
        errs = "; ".join(f'line {line}: key "{key}" already set in map' for key, line, _ in dups)
        cfg.warnings.insert(
            0,
            f"{source}: strict decoding error: yaml: unmarshal errors: {errs}; the kubelet logs "
            '"Using lenient decoding as strict decoding failed" and uses the last value'
            + ("s" if len(dups) > 1 else ""),
        )
    for w in cfg.warnings:
        warn(w)
    return cfg


@dataclass(slots=True)
class LoadedObject:
    source: str
    obj: dict[str, Any]


def manifest_files(paths: list[str]) -> list[str]:
    """Files named by ``-f`` (directories: their manifests, sorted; ``-``: standard input)."""
    out: list[str] = []
    for p in paths:
        if p == "-":
            out.append(p)
            continue
        path = Path(p)
        if path.is_dir():
            files = sorted(f for f in path.iterdir() if f.is_file() and f.suffix in MANIFEST_SUFFIXES)
            if not files:
                raise InputError(f"{p}: no manifests (*.yaml, *.yml, *.json) in this directory")
            out.extend(str(f) for f in files)
        elif path.exists():
            out.append(p)
        else:
            raise InputError(f'{p}: no such file or directory (the path "{p}" does not exist)')
    return out


VALIDATE_HELP = (
    "Field validation, as kubectl's: strict (or true: unknown fields are an error), warn (print them and go on), "
    "ignore (or false)."
)


def check_validate(value: str) -> str:
    """A ``--validate`` value as kubectl takes it (strict/true, warn, ignore/false), or InputError."""
    try:
        return validation_mode(value)
    except ValueError as e:
        raise InputError(f"--validate: {e}") from None


def load_objects(paths: list[str], validate: str = "strict") -> list[LoadedObject]:
    """Every Kubernetes object in the files (multi-document YAML, JSON, ``kind: List``).

    ``validate`` is kubectl's ``--validate``: with ``strict`` (the default) an
    object with unknown fields is refused, with ``warn`` they are reported
    through :func:`warn`, with ``ignore`` dropped silently.
    """
    mode = check_validate(validate)
    out: list[LoadedObject] = []
    for f in manifest_files(paths):
        source = "<stdin>" if f == "-" else f
        text = read_text(f)
        try:
            docs = load_documents(text, source, field_validation(source, mode, warn))
        except ManifestError as e:
            raise InputError(str(e)) from e
        out.extend(LoadedObject(source, d) for d in docs)
    if not out:
        raise InputError(f"{', '.join(paths)}: no objects passed to apply")
    return out


def pods_from_objects(objs: list[LoadedObject], gates: FeatureGates) -> list[Pod]:
    pods: list[Pod] = []
    for lo in objs:
        try:
            pods.extend(pods_from_object(lo.obj, lo.source, gates))
        except (ManifestError, QuantityError) as e:
            raise InputError(str(e)) from e
    return pods


def load_pods(
    paths: list[str], gates: FeatureGates, skipped: list[str] | None = None, validate: str = "strict"
) -> list[Pod]:
    """Pods (workload objects expanded to their replicas) as written, before API defaulting.

    As ``kubectl`` users expect of a directory of manifests, objects that are not Pods or workload
    controllers (Services, ConfigMaps, ResourceQuotas, ...) are skipped; a note for each goes to
    ``skipped`` when given. No pod at all is an error.
    """
    objs = load_objects(paths, validate)
    workloads = []
    for lo in objs:
        note = skip_note(lo)
        if note is None:
            workloads.append(lo)
        elif skipped is not None:
            skipped.append(note)
    pods = pods_from_objects(workloads, gates)
    if not pods:
        kinds = ", ".join(sorted({str(lo.obj.get("kind")) for lo in objs if isinstance(lo.obj, dict)}))
        raise InputError(
            f"{', '.join(paths)}: no Pods or workload objects ({', '.join(WORKLOAD_KINDS)}) to use"
            + (f"; found only {kinds}" if kinds else "")
        )
    return pods


_SKIP_WHY = {
    "ResourceQuota": "quotas are enforced by `topolet apply` on a node",
    "Namespace": "namespaces need nothing from the kubelet",
}


def skip_note(lo: LoadedObject) -> str | None:
    """The note for an object that is not a Pod or a workload controller (None: a workload to use).

    Objects without a kind stay workloads, so that reading them reports kubectl's "Object 'Kind' is missing".
    """
    obj = lo.obj
    kind = obj.get("kind") if isinstance(obj, dict) else None
    if not isinstance(kind, str) or not kind or kind in WORKLOAD_KINDS or kind.endswith("List"):
        return None
    if difflib.get_close_matches(kind, list(WORKLOAD_KINDS), n=1, cutoff=0.8):
        return None  # a misspelt workload kind: reading it says so
    meta = obj.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    ref = f"{kind}/{name}" if isinstance(name, str) and name else kind
    why = _SKIP_WHY.get(kind, "not a Pod or a workload controller")
    return f"{lo.source}: {ref} skipped ({why})"


def embedded_pod_path() -> str:
    from importlib.resources import files

    return str(files("topolet") / "data" / "tightly-coupled-database.yaml")


def to_json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=False)


# -- where a kubelet refusal comes from ----------------------------------------------------------------


def refusal_field(message: str, cfg: KubeletConfig, stage: str | None = None) -> str | None:
    """The configuration field a kubelet start-up refusal is about (None: several, or none in particular).

    The kubelet's texts name a policy, an option, a resource or a threshold; this
    finds the field of ``cfg`` that holds it, so that a message can say where
    it comes from (``kubelet.yaml: memoryManagerPolicy: unknown policy: "12"``).
    Messages of ``ValidateKubeletConfiguration`` name their fields already.
    """
    if stage == "feature-gates":
        return "featureGates"
    if message.startswith("invalid configuration:") or message.startswith("["):
        return None
    if message.startswith(("unknown policy: ", "policy ")):
        value = message.split('"')[1] if '"' in message else ""
        for name, v in (
            ("cpuManagerPolicy", cfg.cpu_manager_policy),
            ("memoryManagerPolicy", cfg.memory_manager_policy),
            ("topologyManagerPolicy", cfg.topology_manager_policy),
        ):
            if v == value:
                return name
    if message.startswith("unknown scope"):
        return "topologyManagerScope"
    if "option" in message.lower():
        for name, opts in (
            ("cpuManagerPolicyOptions", cfg.cpu_manager_policy_options),
            ("topologyManagerPolicyOptions", cfg.topology_manager_policy_options),
        ):
            if any(f'"{k}"' in message for k in opts):
                return name
        if "CPU Manager" in message or "static policy options" in message or "None policy" in message:
            return "cpuManagerPolicyOptions"
        if "Topology Manager" in message or "topologymanager" in message:
            return "topologyManagerPolicyOptions"
    if "NUMA Nodes" in message:
        return "topologyManagerPolicyOptions"
    if "eviction" in message:
        return "evictionHard"
    if "reserved memory" in message or "determined by Node Allocatable" in message or "system reserved" in message:
        return "reservedMemory"
    if "reservedSystemCPUs" in message or "reserved cpus" in message.lower():
        return "reservedSystemCPUs"
    if "reserve" in message or "resource" in message:
        for name, m in (("kubeReserved", cfg.kube_reserved), ("systemReserved", cfg.system_reserved)):
            if any(f'"{k}"' in message for k in m):
                return name
        if cfg.reserved_system_cpus and "CPU" in message:
            return "reservedSystemCPUs"
        if "cpumanager" in message or "Expected capacity >= reservation" in message:
            return "kubeReserved/systemReserved"
    return None


def refusal_message(source: str, cfg: KubeletConfig, err: Exception) -> str:
    """``SOURCE: FIELD: the kubelet refuses to start with this configuration: <the kubelet's text>``."""
    message = str(err)
    where = refusal_field(message, cfg, getattr(err, "stage", None))
    head = f"{source}: {where}: " if where else f"{source}: "
    return f"{head}the kubelet refuses to start with this configuration: {message}"


def config_source(path: str | Path | None) -> str:
    """How messages name a configuration given as ``--config PATH`` (None: the embedded one)."""
    if path is None:
        return "embedded kubelet-config.yaml"
    return "<stdin>" if str(path) == "-" else str(path)
