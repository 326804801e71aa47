"""The ``topology:`` mapping of a scenario file (FORMAT.md, "Topology").

Two forms::

    {cpus: [{id, core, socket, numa, uncoreCache?}, ...],
     numaNodes: [{id, memory, hugepages: {2Mi: 1Gi}, distances: [10, 21]}, ...]}

    {preset: NAME, ...params}

:func:`topology_from_spec` validates either form through a pydantic model and
refuses impossible machines with the field named::

    TopologySpecError("node.yaml: cpus[3].id: CPU 2 is listed twice (also cpus[1])")

:func:`topolet.model.topology.topology_to_spec` writes the explicit form back (quantities as
canonical strings). This module does no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, ValidationError

from topolet.model.input_messages import user_errors
from topolet.model.presets import (
    MAX_CPUS,
    MAX_MEMORY_PER_NUMA,
    MAX_NUMA_NODES,
    MAX_SOCKETS,
    PresetError,
    get_preset,
)
from topolet.model.quantity import QuantityError, format_bytes, parse_bytes
from topolet.model.topology import (
    CPUInfo,
    NUMANode,
    Topology,
    TopologyError,
)
from topolet.model.topology import topology_to_spec as topology_to_spec  # the explicit form, re-exported

MAX_ID = 65535  # CPU, core, socket and uncore ids (they become bit positions)
MAX_NUMA_ID = MAX_NUMA_NODES - 1  # Linux MAX_NUMNODES is at most 1024
MAX_DISTANCE = 255  # the ACPI SLIT range


class TopologySpecError(ValueError):
    """An invalid topology description: ``"{source}: {field path}: {problem}"``.

    ``errors`` holds every ``(path, problem)`` found (the message names the first).
    """

    def __init__(self, source: str, path: str, problem: str, errors: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(f"{source}: {path}: {problem}" if path else f"{source}: {problem}")
        self.source = source
        self.path = path
        self.problem = problem
        self.errors: list[tuple[str, str]] = list(errors) or [(path, problem)]


# -- pydantic edge model -----------------------------------------------------


def _size(value: object) -> object:
    """A byte size: an int (bytes) or a Kubernetes quantity string."""
    if isinstance(value, bool):
        raise ValueError(f"expected a size (bytes or a quantity such as 16Gi), got {value!r}")
    if isinstance(value, (int, str, float)):
        try:
            return parse_bytes(value)
        except QuantityError as e:
            raise ValueError(str(e)) from None
    raise ValueError(f"expected a size (bytes or a quantity such as 16Gi), got {value!r}")


def _page_size(value: object) -> object:
    """A hugepage size key: ``2Mi``, ``1Gi``, ``hugepages-2Mi`` or bytes."""
    if isinstance(value, str) and value.startswith("hugepages-"):
        value = value[len("hugepages-") :]
    return _size(value)


Size = Annotated[int, BeforeValidator(_size)]
PageSize = Annotated[int, BeforeValidator(_page_size)]
Id = Annotated[StrictInt, Field(ge=0, le=MAX_ID)]
NumaId = Annotated[StrictInt, Field(ge=0, le=MAX_NUMA_ID)]


class _CPU(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Id
    core: Id
    socket: Id
    numa: NumaId
    uncoreCache: Id | None = None


class _NUMANode(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: NumaId
    memory: Size = 0
    hugepages: dict[PageSize, Size] = Field(default_factory=dict)
    distances: list[StrictInt] | None = None


class _Explicit(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    cpus: list[_CPU]
    numaNodes: list[_NUMANode] | None = None


def _loc(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _pydantic_errors(e: ValidationError) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for path, msg in user_errors(e, _Explicit):
        # a bad hugepages key: name it as a page size
        if msg.startswith("bad key: "):
            msg = "bad page size: " + msg[len("bad key: ") :]
        out.append((path, msg))
    return out


# -- semantic checks ----------------------------------------------------------


def _check(model: _Explicit) -> list[tuple[str, str]]:
    errs: list[tuple[str, str]] = []
    cpus = model.cpus
    if not cpus:
        errs.append(("cpus", "the machine has no CPUs"))
        return errs
    if len(cpus) > MAX_CPUS:
        errs.append(("cpus", f"{len(cpus)} CPUs (at most {MAX_CPUS})"))
        return errs
    seen: dict[int, int] = {}
    core_place: dict[int, tuple[int, int, int, int]] = {}  # core -> (index, socket, numa, uncore)
    sockets: set[int] = set()
    numas: set[int] = set()
    mixed_uncore = {c.uncoreCache is None for c in cpus}
    if len(mixed_uncore) > 1:
        i = next(i for i, c in enumerate(cpus) if (c.uncoreCache is None) != (cpus[0].uncoreCache is None))
        errs.append(
            (
                f"cpus[{i}].uncoreCache",
                "give uncoreCache for every CPU or for none (it defaults to the socket)",
            )
        )
    for i, c in enumerate(cpus):
        if c.id in seen:
            errs.append((f"cpus[{i}].id", f"CPU {c.id} is listed twice (also cpus[{seen[c.id]}])"))
            continue
        seen[c.id] = i
        sockets.add(c.socket)
        numas.add(c.numa)
        uncore = c.socket if c.uncoreCache is None else c.uncoreCache
        place = core_place.setdefault(c.core, (i, c.socket, c.numa, uncore))
        j = place[0]
        if place[1] != c.socket:
            errs.append(
                (
                    f"cpus[{i}].socket",
                    f"core {c.core} spans sockets: socket {place[1]} (cpus[{j}]) and socket {c.socket}",
                )
            )
        elif place[2] != c.numa:
            errs.append(
                (
                    f"cpus[{i}].numa",
                    f"core {c.core} spans NUMA nodes: node {place[2]} (cpus[{j}]) and node {c.numa}",
                )
            )
        elif place[3] != uncore:
            errs.append(
                (
                    f"cpus[{i}].uncoreCache",
                    f"core {c.core} spans uncore caches: {place[3]} (cpus[{j}]) and {uncore}",
                )
            )
    if len(sockets) > MAX_SOCKETS:
        errs.append(("cpus", f"{len(sockets)} sockets (at most {MAX_SOCKETS})"))

    nodes = model.numaNodes
    if nodes is None:
        if len(numas) > MAX_NUMA_NODES:  # pragma: no cover - ids are bounded by MAX_NUMA_ID
            errs.append(("cpus", f"{len(numas)} NUMA nodes (at most {MAX_NUMA_NODES})"))
        return errs
    if len(nodes) > MAX_NUMA_NODES:  # pragma: no cover - ids are bounded by MAX_NUMA_ID
        errs.append(("numaNodes", f"{len(nodes)} NUMA nodes (at most {MAX_NUMA_NODES})"))
        return errs
    defined: dict[int, int] = {}
    for k, n in enumerate(nodes):
        if n.id in defined:
            errs.append((f"numaNodes[{k}].id", f"NUMA node {n.id} is listed twice (also numaNodes[{defined[n.id]}])"))
        else:
            defined[n.id] = k
    for i, c in enumerate(cpus):
        if c.numa not in defined:
            errs.append(
                (
                    f"cpus[{i}].numa",
                    f"NUMA node {c.numa} is not defined in numaNodes (defined: {sorted(defined) or 'none'})",
                )
            )
            break
    max_id = max(defined) if defined else 0
    for k, n in enumerate(nodes):
        where = f"numaNodes[{k}]"
        if n.memory < 0:
            errs.append((f"{where}.memory", f"negative size {n.memory}"))
        elif n.memory > MAX_MEMORY_PER_NUMA:
            errs.append((f"{where}.memory", f"{format_bytes(n.memory)} is absurd (at most 1Ei per NUMA node)"))
        for size, total in n.hugepages.items():
            label = format_bytes(size) if size > 0 else str(size)
            if size <= 0 or size & (size - 1) or size < 4096:
                errs.append((f"{where}.hugepages", f"page size {label} is not a power of two of at least 4Ki"))
            elif total < 0:
                errs.append((f"{where}.hugepages.{label}", f"negative size {total}"))
            elif total % size:
                errs.append(
                    (
                        f"{where}.hugepages.{label}",
                        f"total {format_bytes(total)} is not a whole number of {label} pages",
                    )
                )
            elif total > MAX_MEMORY_PER_NUMA:
                errs.append((f"{where}.hugepages.{label}", f"{format_bytes(total)} is absurd"))
        if n.distances is not None:
            if len(n.distances) != max_id + 1:
                errs.append(
                    (
                        f"{where}.distances",
                        f"{len(n.distances)} entries, but the row is indexed by NUMA node id "
                        f"0..{max_id} ({max_id + 1} {'entry' if max_id == 0 else 'entries'})",
                    )
                )
            for j, d in enumerate(n.distances):
                if not 1 <= d <= MAX_DISTANCE:
                    errs.append((f"{where}.distances[{j}]", f"distance {d} is outside 1..{MAX_DISTANCE}"))
                    break
    return errs


def _build(model: _Explicit, name: str) -> Topology:
    cpus = [
        CPUInfo(
            id=c.id,
            core=c.core,
            socket=c.socket,
            numa=c.numa,
            uncore=c.socket if c.uncoreCache is None else c.uncoreCache,
        )
        for c in model.cpus
    ]
    nodes = [
        NUMANode(id=n.id, memory=n.memory, hugepages=dict(n.hugepages), distances=tuple(n.distances or ()))
        for n in model.numaNodes or ()
    ]
    return Topology(cpus, nodes, name=name)


# -- public API ---------------------------------------------------------------


def topology_from_spec(spec: Mapping[str, Any], source: str = "topology") -> Topology:
    """The :class:`Topology` of a scenario's ``topology:`` mapping (either form)."""
    if not isinstance(spec, Mapping):
        raise TopologySpecError(
            source, "", f"expected a mapping with cpus/numaNodes or preset, got {type(spec).__name__}"
        )
    if "preset" in spec:
        params = {k: v for k, v in spec.items() if k != "preset"}
        name = spec["preset"]
        if not isinstance(name, str):
            raise TopologySpecError(source, "preset", f"expected a preset name, got {name!r}")
        try:
            return get_preset(name, params)
        except PresetError as e:
            raise TopologySpecError(source, e.field, e.problem) from None
        except TopologyError as e:  # pragma: no cover - presets are valid by construction
            raise TopologySpecError(source, "preset", str(e)) from None
    if "cpus" not in spec:
        raise TopologySpecError(source, "cpus", "missing: give cpus (and optionally numaNodes) or preset")
    try:
        model = _Explicit.model_validate(dict(spec))
    except ValidationError as e:
        errs = _pydantic_errors(e)
        raise TopologySpecError(source, errs[0][0], errs[0][1], errs) from None
    errs = _check(model)
    if errs:
        raise TopologySpecError(source, errs[0][0], errs[0][1], errs)
    try:
        return _build(model, name="")
    except TopologyError as e:  # a check above should have caught it; keep the message
        raise TopologySpecError(source, "", str(e)) from None
