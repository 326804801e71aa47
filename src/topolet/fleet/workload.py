"""The workload of a fleet what-if: manifests, or a seeded generator of pod mixes.

``-f`` takes Kubernetes manifests (Pods and workload objects, expanded to
their replicas with :func:`topolet.model.manifest.pods_from_object`) and
topolet's own ``WorkloadMix`` documents, which generate pods from built-in
profiles (or from a manifest used as a template) with counts, an arrival
order and optional departures, all from a seed:

.. code-block:: yaml

    apiVersion: topolet.dev/v1alpha1
    kind: WorkloadMix
    order: random          # random (seeded shuffle) | grouped (entry by entry) | interleaved (round robin)
    mix:
    - profile: database    # database | trading | ml-trainer | web
      count: 750
      params: {dbCpu: 4, sidecars: 6}
    - profile: web
      count: 5000
    - manifest: my-pod.yaml   # the first pod of the file is the template
      count: 100
      nodeSelector: {pool: gpu}
    departures:            # optional: pods that leave again
      fraction: 0.2        # of the generated pods
      after: [100, 2000]   # leave after a uniform number of later arrivals

Pods arrive in the order of the ``-f`` arguments; a ``WorkloadMix``
shuffles (``random``) with the run's ``--seed``. The expansion is a pure
function of the documents and the seed, so every Dask worker rebuilds the
same workload.
"""

from __future__ import annotations

import copy
import hashlib
import math
import pickle
import random
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError

from topolet.io.inputs import InputError, LoadedObject, load_objects
from topolet.model.features import FeatureGates
from topolet.model.input_messages import user_message
from topolet.model.manifest import ManifestError, pods_from_object
from topolet.model.pod import Pod
from topolet.model.quantity import BINARY_SI, DECIMAL_SI, Quantity, QuantityError, format_quantity

__all__ = [
    "PROFILES",
    "MixEntry",
    "MixSpec",
    "Template",
    "Workload",
    "WorkloadSource",
    "expand_workload",
    "load_workload",
    "profile_pod",
]

MIX_KIND = "WorkloadMix"
_GATES = FeatureGates()


# -- built-in profiles -----------------------------------------------------------------------
def _c(name: str, cpu: Any, mem: Any, *, limits: bool = True, cpu_limit: Any = None, mem_limit: Any = None) -> dict:
    res: dict[str, Any] = {"requests": {"cpu": str(cpu), "memory": str(mem)}}
    if limits:
        res["limits"] = {"cpu": str(cpu_limit or cpu), "memory": str(mem_limit or mem)}
    return {"name": name, "image": f"example/{name}", "resources": res}


def _q(v: Any) -> Fraction:
    return Quantity.parse(v).value


def _qs(v: Fraction, binary: bool) -> str:
    return format_quantity(v, BINARY_SI if binary else DECIMAL_SI)


def _budget(spec: dict[str, Any], cpu: Any, mem: Any) -> dict[str, Any]:
    spec["resources"] = {
        "requests": {"cpu": str(cpu), "memory": str(mem)},
        "limits": {"cpu": str(cpu), "memory": str(mem)},
    }
    return spec


def _database(p: dict[str, Any]) -> dict[str, Any]:
    """The seed article's tightly-coupled database: an exclusive engine and light sidecars in a pod budget."""
    n = int(p["sidecars"])
    side_cpu, side_mem = _q(p["sidecarCpu"]), _q(p["sidecarMemory"])
    cpu = p.get("budgetCpu") or int(_q(p["dbCpu"]) + math.ceil(n * side_cpu))
    mem = p.get("budgetMemory") or _qs(_q(p["dbMemory"]) + n * side_mem, True)
    names = ["metrics-exporter", "backup-agent"] + [f"sidecar-{i}" for i in range(3, n + 1)]
    containers = [_c("database", p["dbCpu"], p["dbMemory"])]
    containers += [_c(names[i], p["sidecarCpu"], p["sidecarMemory"], limits=False) for i in range(n)]
    return _budget({"containers": containers}, cpu, mem)


def _trading(p: dict[str, Any]) -> dict[str, Any]:
    """A trading engine: exclusive engine and feed handler, a logging sidecar and a metrics agent."""
    cpu = p.get("budgetCpu") or int(_q(p["engineCpu"]) + _q(p["feedCpu"]) + 1)
    mem = p.get("budgetMemory") or _qs(_q(p["engineMemory"]) + _q(p["feedMemory"]) + 2 * _q("128Mi"), True)
    spec = {
        "initContainers": [{**_c("logger", "100m", "64Mi", limits=False), "restartPolicy": "Always"}],
        "containers": [
            _c("engine", p["engineCpu"], p["engineMemory"]),
            _c("feed-handler", p["feedCpu"], p["feedMemory"]),
            _c("metrics", "100m", "64Mi", limits=False),
        ],
    }
    return _budget(spec, cpu, mem)


def _ml_trainer(p: dict[str, Any]) -> dict[str, Any]:
    """An ML trainer: a dataset-fetch init container, an exclusive trainer, shared data loaders, a sidecar."""
    n = int(p["loaders"])
    lcpu, lmem = _q(p["loaderCpu"]), _q(p["loaderMemory"])
    cpu = p.get("budgetCpu") or int(_q(p["trainerCpu"]) + math.ceil(n * lcpu + Fraction(1, 4)))
    mem_total = _q(p["trainerMemory"]) + n * lmem + _q("256Mi")
    mem = p.get("budgetMemory") or _qs(math.ceil(mem_total / 2**30) * 2**30, True)
    spec = {
        "initContainers": [
            _c("fetch-dataset", "2", "1Gi", limits=False),
            {**_c("metrics", "250m", "256Mi", limits=False), "restartPolicy": "Always"},
        ],
        "containers": [_c("trainer", p["trainerCpu"], p["trainerMemory"])]
        + [_c(f"loader-{i}", p["loaderCpu"], p["loaderMemory"], limits=False) for i in range(n)],
    }
    return _budget(spec, cpu, mem)


def _web(p: dict[str, Any]) -> dict[str, Any]:
    """A plain Burstable web pod (no pod-level resources, no exclusive CPUs)."""
    c = _c("web", p["cpu"], p["memory"], cpu_limit=p["cpuLimit"], mem_limit=p["memoryLimit"])
    return {"containers": [c]}


PROFILES: dict[str, tuple[Any, dict[str, Any]]] = {
    "database": (
        _database,
        {
            "dbCpu": 4,
            "dbMemory": "10Gi",
            "sidecars": 2,
            "sidecarCpu": "100m",
            "sidecarMemory": "128Mi",
            "budgetCpu": None,
            "budgetMemory": None,
        },
    ),
    "trading": (
        _trading,
        {
            "engineCpu": 4,
            "engineMemory": "8Gi",
            "feedCpu": 2,
            "feedMemory": "2Gi",
            "budgetCpu": None,
            "budgetMemory": None,
        },
    ),
    "ml-trainer": (
        _ml_trainer,
        {
            "trainerCpu": 8,
            "trainerMemory": "32Gi",
            "loaders": 4,
            "loaderCpu": "1500m",
            "loaderMemory": "2Gi",
            "budgetCpu": None,
            "budgetMemory": None,
        },
    ),
    "web": (_web, {"cpu": "250m", "memory": "256Mi", "cpuLimit": "1", "memoryLimit": "512Mi"}),
}
"""Profile name -> (builder, default parameters)."""


_COUNT_PARAMS = ("sidecars", "loaders")
_MAX_CONTAINERS = 1000  # far above any pod the API server would take


def _check_param(key: str, value: Any, default: Any) -> None:
    """A profile parameter's type: a container count (an integer) or a quantity (a number or a string
    like ``500m``, ``2Gi``); ``budgetCpu``/``budgetMemory`` may be null (computed)."""
    if key in _COUNT_PARAMS:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_CONTAINERS:
            raise ValueError(f"{key}: expected an integer from 0 to {_MAX_CONTAINERS}, got {value!r}")
        return
    if value is None and default is None:
        return
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"{key}: expected a quantity (a number or a string like 500m or 2Gi), got {value!r}")
    try:
        q = Quantity.parse(value)
    except QuantityError as e:
        raise ValueError(f"{key}: {e}") from None
    if q.value < 0:
        raise ValueError(f"{key}: must be non-negative, got {value!r}")


def profile_pod(profile: str, params: dict[str, Any] | None = None, name: str | None = None) -> Pod:
    """The pod (as written) of a built-in profile with its parameters."""
    builder, defaults = PROFILES[profile]
    unknown = sorted(set(params or {}) - set(defaults))
    if unknown:
        raise ValueError(f"unknown parameter {unknown[0]!r} (known: {', '.join(defaults)})")
    p = {**defaults, **(params or {})}
    for key, value in (params or {}).items():
        _check_param(key, value, defaults[key])
    obj = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name or profile}, "spec": builder(p)}
    return pods_from_object(obj, f"profile {profile}", _GATES)[0]


# -- the WorkloadMix document --------------------------------------------------------------
_CFG = ConfigDict(extra="forbid", frozen=True)


class _Departures(BaseModel):
    model_config = _CFG
    fraction: float = Field(ge=0, le=1)
    after: tuple[StrictInt, StrictInt] = (1, 1000)


class _Entry(BaseModel):
    model_config = _CFG
    profile: Literal["database", "trading", "ml-trainer", "web"] | None = None
    manifest: str | None = None
    count: StrictInt = Field(ge=0, le=100_000_000)
    name: str | None = None
    namespace: str = "default"
    params: dict[str, Any] = Field(default_factory=dict)
    nodeSelector: dict[str, str] = Field(default_factory=dict)


class _Mix(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    apiVersion: str | None = None
    kind: Literal["WorkloadMix"]
    name: str = "mix"
    seed: StrictInt | None = None
    order: Literal["random", "grouped", "interleaved"] = "random"
    mix: list[_Entry] = Field(min_length=1)
    departures: _Departures | None = None


@dataclass(slots=True)
class Template:
    """One pod shape of the workload: every pod made from it differs only by name and UID."""

    name: str
    pod: Pod  # as written, before API defaulting
    namespace: str = "default"
    node_selector: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class MixEntry:
    template: Template
    count: int


@dataclass(slots=True)
class MixSpec:
    """A resolved ``WorkloadMix``: templates built, counts and order kept; expanded per seed."""

    name: str
    source: str
    entries: list[MixEntry]
    order: str
    seed: int | None
    departure_fraction: float = 0.0
    departure_after: tuple[int, int] = (1, 1)


@dataclass(slots=True)
class ManifestPart:
    """Pods of manifests: one template per object, the replicas' names kept."""

    source: str
    template: Template
    names: list[str]


WorkloadSource = MixSpec | ManifestPart


@dataclass(slots=True)
class Workload:
    """The pods of one run in arrival order (``seq`` = index), with departures."""

    templates: list[Template]
    tmpl_of: list[int]  # template index of pod ``seq``
    names: list[str | None] | None  # explicit names; None (or a None entry): ``<template>-<seq>``
    departures: dict[int, list[int]]  # arrival index i -> pods that leave just before pod i arrives
    final_departures: list[int] = field(default_factory=list)  # pods that leave after the last arrival

    def __len__(self) -> int:
        return len(self.tmpl_of)

    def name(self, seq: int) -> str:
        if self.names is not None:
            n = self.names[seq]
            if n is not None:
                return n
        return f"{self.templates[self.tmpl_of[seq]].name}-{seq}"


def _node_selector(obj: dict[str, Any]) -> dict[str, str]:
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    for path in (("jobTemplate", "spec", "template", "spec"), ("template", "spec"), ()):
        cur: Any = spec
        for k in path:
            cur = cur.get(k) if isinstance(cur, dict) else None
        if isinstance(cur, dict) and isinstance(cur.get("nodeSelector"), dict):
            return {str(k): str(v) for k, v in cur["nodeSelector"].items()}
    return {}


def _object_label(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    return f"{obj.get('kind', '?')}/{meta.get('name') or meta.get('generateName') or '?'}"


def _manifest_part(lo: LoadedObject) -> ManifestPart:
    obj = lo.obj
    try:
        pods = pods_from_object(obj, lo.source, _GATES)
    except (ManifestError, QuantityError) as e:
        spec = obj.get("spec")
        if "more than topolet expands" not in str(e) or not isinstance(spec, dict):
            raise InputError(str(e)) from e
        # a fleet-sized workload: one template, names <workload>-<i>
        small = copy.deepcopy(obj)
        small["spec"]["replicas"] = 1
        try:
            pods = pods_from_object(small, lo.source, _GATES)
        except (ManifestError, QuantityError) as e2:
            raise InputError(str(e2)) from e2
        wname = obj.get("metadata", {}).get("name", "pod")
        count = int(spec.get("replicas", 1))
        t = Template(_object_label(obj), pods[0], pods[0].namespace, _node_selector(obj))
        return ManifestPart(lo.source, t, [f"{wname}-{i}" for i in range(count)])
    if not pods:
        return ManifestPart(lo.source, Template(_object_label(obj), Pod(name="empty")), [])
    t = Template(_object_label(obj), pods[0], pods[0].namespace, _node_selector(obj))
    return ManifestPart(lo.source, t, [p.name for p in pods])


def _mix_spec(data: dict[str, Any], source: str, validate: str = "strict") -> MixSpec:
    try:
        model = _Mix.model_validate(data)
    except ValidationError as e:
        raise InputError(user_message(source, e, _Mix)) from None
    entries: list[MixEntry] = []
    names: set[str] = set()
    base = Path(source).parent if source != "<stdin>" else Path(".")
    for i, e in enumerate(model.mix):
        where = f"{source}: mix[{i}]"
        if (e.profile is None) == (e.manifest is None):
            raise InputError(f"{where}: give exactly one of profile or manifest")
        if e.profile is not None:
            try:
                pod = profile_pod(e.profile, e.params, e.name or e.profile)
            except (ValueError, QuantityError, ManifestError) as err:
                raise InputError(f"{where}.params: {err}") from err
            label = e.name or e.profile
        else:
            assert e.manifest is not None
            if e.params:
                raise InputError(f"{where}.params: only profiles take parameters")
            path = Path(e.manifest)
            path = path if path.is_absolute() else base / path
            try:
                parts = [_manifest_part(lo) for lo in load_objects([str(path)], validate)]
            except InputError as err:
                raise InputError(f"{where}.manifest: {err}") from err
            parts = [p for p in parts if p.names]
            if not parts:
                raise InputError(f"{where}.manifest: {path}: no pod in it")
            pod = parts[0].template.pod
            label = e.name or pod.name
        if label in names:
            raise InputError(f"{where}.name: duplicate template name {label!r} (set name:)")
        names.add(label)
        entries.append(MixEntry(Template(label, pod, e.namespace, dict(e.nodeSelector)), e.count))
    d = model.departures
    if d is not None and not (1 <= d.after[0] <= d.after[1]):
        raise InputError(f"{source}: departures.after: expected [min, max] with 1 <= min <= max")
    return MixSpec(
        model.name,
        source,
        entries,
        model.order,
        model.seed,
        d.fraction if d else 0.0,
        tuple(d.after) if d else (1, 1),
    )


def load_workload(paths: list[str], validate: str = "strict") -> list[WorkloadSource]:
    """The workload sources of ``-f`` paths, in order (manifests and ``WorkloadMix`` documents).

    ``validate`` is kubectl's ``--validate`` for the manifests (see :func:`topolet.io.inputs.load_objects`).
    """
    sources: list[WorkloadSource] = []
    for lo in load_objects(paths, validate):
        if isinstance(lo.obj, dict) and lo.obj.get("kind") == MIX_KIND:
            sources.append(_mix_spec(lo.obj, lo.source, validate))
        elif isinstance(lo.obj, dict) and lo.obj.get("kind") in ("ResourceQuota", "Namespace"):
            continue
        else:
            part = _manifest_part(lo)
            if part.names:
                sources.append(part)
    if not sources:
        raise InputError(f"{', '.join(paths)}: no pods in the workload")
    keys: dict[str, str] = {}
    for s in sources:
        if isinstance(s, ManifestPart):
            for n in s.names:
                key = f"{s.template.namespace}/{n}"
                if key in keys:
                    raise InputError(f"{s.source}: pod {key} is also in {keys[key]}: pod names must be unique")
                keys[key] = s.source
    return sources


def workload_token(sources: list[WorkloadSource]) -> str:
    """A stable digest of the sources (workers cache expansions under it)."""
    return hashlib.sha256(pickle.dumps(sources, protocol=4)).hexdigest()[:16]


def _order(spec: MixSpec, rng: random.Random) -> list[int]:
    counts = [e.count for e in spec.entries]
    if spec.order == "grouped":
        return [i for i, c in enumerate(counts) for _ in range(c)]
    if spec.order == "interleaved":
        # smooth round robin: each entry at evenly spaced positions, ties by entry order
        keyed = [((k + 0.5) / c, i) for i, c in enumerate(counts) for k in range(c)]
        keyed.sort()
        return [i for _, i in keyed]
    out = [i for i, c in enumerate(counts) for _ in range(c)]
    rng.shuffle(out)
    return out


def expand_workload(sources: list[WorkloadSource], seed: int) -> Workload:
    """The pods of the sources in arrival order, for ``seed`` (pure, deterministic)."""
    templates: list[Template] = []
    tmpl_of: list[int] = []
    names: list[str | None] = []
    any_names = False
    departures: dict[int, list[int]] = {}
    pending: list[tuple[int, int]] = []  # (leave-before index, seq)
    for position, s in enumerate(sources):
        if isinstance(s, ManifestPart):
            ti = len(templates)
            templates.append(s.template)
            tmpl_of.extend([ti] * len(s.names))
            names.extend(s.names)
            any_names = True
            continue
        # seeded by the run's seed and the document's place and name, not by its path
        rng = random.Random(f"{seed}/{position}/{s.name}")
        first = len(templates)
        templates.extend(e.template for e in s.entries)
        start = len(tmpl_of)
        order = _order(s, rng)
        tmpl_of.extend(first + i for i in order)
        names.extend([None] * len(order))
        if s.departure_fraction > 0:
            lo, hi = s.departure_after
            for k in range(len(order)):
                if rng.random() < s.departure_fraction:
                    pending.append((start + k + 1 + rng.randint(lo, hi), start + k))
    n = len(tmpl_of)
    final: list[int] = []
    for at, seq in sorted(pending):
        if at < n:
            departures.setdefault(at, []).append(seq)
        else:
            final.append(seq)
    return Workload(templates, tmpl_of, names if any_names else None, departures, final)
