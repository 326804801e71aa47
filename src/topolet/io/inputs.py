"""Reading the user's inputs: topologies, kubelet configurations and manifests.

Every failure is an :class:`InputError` whose message names the file and the
field, for the CLI to print without a traceback.
"""

from __future__ import annotations

import difflib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from topolet.io import yamlio
from topolet.model.features import FeatureGates
from topolet.model.kubelet_config import KubeletConfig, KubeletConfigError, load_kubelet_config
from topolet.model.manifest import WORKLOAD_KINDS, ManifestError, load_documents, pods_from_object
from topolet.model.pod import Pod
from topolet.model.presets import PresetError, preset_from_arg
from topolet.model.quantity import QuantityError
from topolet.model.topology import Topology, TopologyError
from topolet.model.topology_spec import TopologySpecError, topology_from_spec

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
DEFAULT_TOPOLOGY = "preset:2-numa"


class InputError(ValueError):
    """Bad user input: the message names the file and field."""


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
        source = str(path)
    data = parse_mapping(text, source)
    try:
        return load_kubelet_config(data, source)
    except (KubeletConfigError, QuantityError) as e:
        raise InputError(str(e) if source in str(e) else f"{source}: {e}") from e


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


def load_objects(paths: list[str]) -> list[LoadedObject]:
    """Every Kubernetes object in the files (multi-document YAML, JSON, ``kind: List``)."""
    out: list[LoadedObject] = []
    for f in manifest_files(paths):
        source = "<stdin>" if f == "-" else f
        text = read_text(f)
        try:
            docs = load_documents(text, source)
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


def load_pods(paths: list[str], gates: FeatureGates, skipped: list[str] | None = None) -> list[Pod]:
    """Pods (workload objects expanded to their replicas) as written, before API defaulting.

    As ``kubectl`` users expect of a directory of manifests, objects that are not Pods or workload
    controllers (Services, ConfigMaps, ResourceQuotas, ...) are skipped; a note for each goes to
    ``skipped`` when given. No pod at all is an error.
    """
    objs = load_objects(paths)
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
