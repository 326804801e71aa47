"""The fleet file: node pools (count x topology x KubeletConfiguration), scheduler settings and variants.

Validated with pydantic at this edge; every problem is an
:class:`~topolet.io.inputs.InputError` whose message names the file and the
field (``fleet.yaml: pools[1].count: must be at least 1``).

.. code-block:: yaml

    apiVersion: topolet.dev/v1alpha1
    kind: Fleet
    name: db-fleet
    scheduler:
      scoring: LeastAllocated        # or MostAllocated (kube-scheduler NodeResourcesFit)
      numaAware: false               # true: filter nodes whose kubelet admission would fail
      recreate: 0                    # a controller recreates a rejected pod (new UID) up to N times
    apiServer:
      featureGates: {PodLevelResources: true}
    pools:
    - name: general
      count: 40
      topology: preset:2-numa        # preset arg, sysfs:DIR, a topology file, or an inline spec mapping
      kubelet: kubelet-config.yaml   # a KubeletConfiguration file, an inline mapping, or omitted (seed config)
      labels: {pool: general}
    variants:                        # named patches, usable with --compare NAME
      sn-container:
        kubelet: {topologyManagerScope: container}
        workload: per-container
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, ValidationError

from topolet.io.inputs import InputError, load_topology_arg, load_topology_file, parse_mapping, read_text, warn
from topolet.model.features import FeatureGates
from topolet.model.input_messages import user_message
from topolet.model.kubelet_config import KubeletConfig, KubeletConfigError, load_kubelet_config
from topolet.model.quantity import QuantityError
from topolet.model.topology import Topology, TopologyError
from topolet.model.topology_spec import TopologySpecError, topology_from_spec

__all__ = [
    "FleetSpec",
    "PoolSpec",
    "SchedulerSettings",
    "VariantSpec",
    "deep_merge",
    "fleet_from_mapping",
    "load_fleet",
]

SCORING = ("LeastAllocated", "MostAllocated")
WORKLOAD_MODELS = ("as-written", "per-container")

_CFG = ConfigDict(extra="forbid", frozen=True)


class _Scheduler(BaseModel):
    model_config = _CFG
    scoring: Literal["LeastAllocated", "MostAllocated"] = "LeastAllocated"
    numaAware: StrictBool = False
    recreate: StrictInt = Field(0, ge=0, le=100)


class _ApiServer(BaseModel):
    model_config = _CFG
    featureGates: dict[str, StrictBool] = Field(default_factory=dict)


class _Pool(BaseModel):
    model_config = _CFG
    name: str = Field(min_length=1)
    count: StrictInt = Field(ge=1, le=1_000_000)
    topology: str | dict[str, Any] = "preset:2-numa"
    kubelet: str | dict[str, Any] | None = None
    labels: dict[str, str] = Field(default_factory=dict)


class _Variant(BaseModel):
    model_config = _CFG
    description: str = ""
    kubelet: dict[str, Any] = Field(default_factory=dict)
    workload: Literal["as-written", "per-container"] | None = None
    scoring: Literal["LeastAllocated", "MostAllocated"] | None = None
    numaAware: StrictBool | None = None
    recreate: StrictInt | None = Field(None, ge=0, le=100)


class _Fleet(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    apiVersion: str | None = None
    kind: Literal["Fleet"] | None = None
    name: str = "fleet"
    scheduler: _Scheduler = Field(default_factory=_Scheduler)
    apiServer: _ApiServer = Field(default_factory=_ApiServer)
    pools: list[_Pool] = Field(min_length=1)
    variants: dict[str, _Variant] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SchedulerSettings:
    scoring: str = "LeastAllocated"
    numa_aware: bool = False
    recreate: int = 0


@dataclass(slots=True)
class PoolSpec:
    """One node pool, resolved: ``count`` identical nodes."""

    name: str
    count: int
    topology: Topology
    topology_source: str
    kubelet: dict[str, Any]  # the KubeletConfiguration mapping (variants patch it)
    kubelet_source: str
    labels: dict[str, str] = field(default_factory=dict)

    def config(self, patch: dict[str, Any] | None = None) -> KubeletConfig:
        """The pool's kubelet configuration, with a variant's patch merged in."""
        data = deep_merge(self.kubelet, patch) if patch else self.kubelet
        source = self.kubelet_source + (" (patched by the variant)" if patch else "")
        try:
            return load_kubelet_config(data, source)
        except (KubeletConfigError, QuantityError) as e:
            raise InputError(str(e) if source in str(e) else f"{source}: {e}") from e


@dataclass(slots=True)
class VariantSpec:
    name: str
    description: str = ""
    kubelet: dict[str, Any] = field(default_factory=dict)
    workload: str | None = None
    scoring: str | None = None
    numa_aware: bool | None = None
    recreate: int | None = None


@dataclass(slots=True)
class FleetSpec:
    name: str
    source: str
    pools: list[PoolSpec]
    scheduler: SchedulerSettings
    api_gates: FeatureGates
    variants: dict[str, VariantSpec]

    @property
    def node_count(self) -> int:
        return sum(p.count for p in self.pools)


def deep_merge(base: dict[str, Any], patch: dict[str, Any] | None) -> dict[str, Any]:
    """``base`` with ``patch`` merged in (mappings recursively; anything else replaced; ``None`` deletes)."""
    out = dict(base)
    for k, v in (patch or {}).items():
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def _resolve_path(base: Path, value: str) -> str:
    p = Path(value)
    return str(p if p.is_absolute() else base / p)


def _pool_topology(pool: _Pool, where: str, source: str, base: Path) -> tuple[Topology, str]:
    t = pool.topology
    if isinstance(t, dict):
        try:
            return topology_from_spec(t, f"{source}: {where}.topology"), "inline"
        except (TopologySpecError, TopologyError, QuantityError) as e:
            raise InputError(str(e) if where in str(e) else f"{source}: {where}.topology: {e}") from e
    try:
        if t.startswith("preset:"):
            return load_topology_arg(t), t
        if t == "sysfs" or t.startswith("sysfs:"):
            root = t.partition(":")[2]
            if not root:
                raise InputError("a fleet file needs a captured sysfs directory: sysfs:DIR")
            arg = "sysfs:" + _resolve_path(base, root)
            return load_topology_arg(arg), arg
        path = _resolve_path(base, t)
        return load_topology_file(path), path
    except InputError as e:
        raise InputError(f"{source}: {where}.topology: {e}") from e


def _pool_kubelet(pool: _Pool, where: str, source: str, base: Path) -> tuple[dict[str, Any], str]:
    k = pool.kubelet
    if k is None:
        from importlib.resources import files

        text = (files("topolet") / "data" / "kubelet-config.yaml").read_text(encoding="utf-8")
        return parse_mapping(text, "embedded kubelet-config.yaml"), f"{source}: {where}.kubelet (embedded seed config)"
    if isinstance(k, dict):
        return dict(k), f"{source}: {where}.kubelet"
    path = _resolve_path(base, k)
    try:
        return parse_mapping(read_text(path), path), path
    except InputError as e:
        raise InputError(f"{source}: {where}.kubelet: {e}") from e


def fleet_from_mapping(data: dict[str, Any], source: str, base: Path | None = None) -> FleetSpec:
    """A :class:`FleetSpec` from the fleet file's mapping (paths relative to ``base``)."""
    base = base or Path(".")
    try:
        model = _Fleet.model_validate(data)
    except ValidationError as e:
        raise InputError(user_message(source, e, _Fleet)) from None
    pools: list[PoolSpec] = []
    names: set[str] = set()
    for i, p in enumerate(model.pools):
        where = f"pools[{i}]"
        if p.name in names:
            raise InputError(f"{source}: {where}.name: duplicate pool name {p.name!r}")
        names.add(p.name)
        topo, tsrc = _pool_topology(p, where, source, base)
        kube, ksrc = _pool_kubelet(p, where, source, base)
        pool = PoolSpec(p.name, p.count, topo, tsrc, kube, ksrc, dict(p.labels))
        for w in pool.config().warnings:  # decodes, or names the field
            warn(w)
        pools.append(pool)
    variants = {
        name: VariantSpec(name, v.description, dict(v.kubelet), v.workload, v.scoring, v.numaAware, v.recreate)
        for name, v in model.variants.items()
    }
    for v in variants.values():
        if v.kubelet:
            for pool in pools:
                try:
                    cfg = pool.config(v.kubelet)
                except InputError:
                    continue  # reported where the variant runs, as before
                base = {w.replace(pool.kubelet_source, "", 1) for w in pool.config().warnings}
                patched = pool.kubelet_source + " (patched by the variant)"
                for w in cfg.warnings:
                    if w.replace(patched, "", 1) not in base:
                        warn(f"variant {v.name}: {w}")
    sched = SchedulerSettings(model.scheduler.scoring, model.scheduler.numaAware, model.scheduler.recreate)
    gates = FeatureGates(dict(model.apiServer.featureGates))
    return FleetSpec(model.name, source, pools, sched, gates, variants)


def load_fleet(path: str | Path) -> FleetSpec:
    """Read and validate a fleet file."""
    text = read_text(path)
    data = parse_mapping(text, str(path))
    return fleet_from_mapping(data, str(path), Path(path).parent)
