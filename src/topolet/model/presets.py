"""Machine topologies that topolet ships, by name.

Three kinds of preset:

* ``grid``: a regular machine built from parameters (sockets × NUMA nodes
  per socket × cores per NUMA node × threads per core, CPU numbering, L3
  splits, memory, hugepages, distances, CPU-less memory nodes);
* named conveniences (``2-numa``, ``8-numa-256``, ``gb200``, ...): ``grid``
  with fixed parameters, which the caller may still override;
* the kubelet's own unit-test machines (``single-socket-ht``,
  ``dual-socket-ht``, ...) from :mod:`topolet.model.presets_upstream`,
  which take no parameters (but ``goLiteralUncore``).

This module does no I/O.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from topolet.model.quantity import QuantityError, format_bytes, parse_bytes
from topolet.model.topology import CPUInfo, NUMANode, Topology, TopologyError

# Limits shared with topology_spec: anything above them is refused as absurd.
MAX_SOCKETS = 64
MAX_CPUS = 16384
MAX_NUMA_NODES = 1024
MAX_THREADS_PER_CORE = 8
MAX_MEMORY_PER_NUMA = 1 << 60  # 1Ei

GIB = 1 << 30
MIB = 1 << 20


class PresetError(ValueError):
    """An unknown preset, an unknown parameter or a bad parameter value.

    ``field`` names what is wrong: ``"preset"`` for the name, else the
    parameter (``"coresPerNuma"``).
    """

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


# -- grid ------------------------------------------------------------------


@dataclass(frozen=True)
class _Param:
    kind: str  # int | quantity | numbering | distances
    default: object
    help: str


_GRID_PARAMS: Mapping[str, _Param] = MappingProxyType(
    {
        "sockets": _Param("int", 1, f"number of sockets (1..{MAX_SOCKETS})"),
        "numaPerSocket": _Param("int", 1, "NUMA nodes per socket"),
        "coresPerNuma": _Param("int", 4, "physical cores per NUMA node"),
        "threadsPerCore": _Param("int", 2, f"SMT threads per core (1..{MAX_THREADS_PER_CORE})"),
        "numbering": _Param(
            "numbering",
            "interleaved",
            "interleaved (all first threads first, sibling = id + cores, as on Linux/Intel) "
            "or contiguous (siblings adjacent)",
        ),
        "uncorePerNuma": _Param("int", None, "L3 (uncore) caches per NUMA node (default: one per socket)"),
        "coresPerUncore": _Param("int", None, "cores sharing one L3 cache (alternative to uncorePerNuma)"),
        "memoryPerNuma": _Param("quantity", 64 * GIB, "memory of each NUMA node (quantity, default 64Gi)"),
        "hugepages2MiPerNuma": _Param("quantity", None, "2Mi hugepages per NUMA node, total size (e.g. 1Gi)"),
        "hugepages1GiPerNuma": _Param("quantity", None, "1Gi hugepages per NUMA node, total size (e.g. 4Gi)"),
        "distances": _Param(
            "distances",
            None,
            "local/remote-same-socket/remote-other-socket (default 10/11/21, or 10/21 with one "
            "NUMA node per socket), or the full matrix as a list of rows",
        ),
        "cpulessNumaNodes": _Param("int", 0, "extra NUMA nodes with memory but no CPUs (CXL, GPU memory)"),
        "cpulessMemoryPerNuma": _Param("quantity", 0, "memory of each CPU-less NUMA node"),
        "cpulessDistance": _Param("int", None, "distance to and between CPU-less nodes (default: remote)"),
    }
)


def _as_int(name: str, value: object) -> int:
    if isinstance(value, bool):
        raise PresetError(name, f"expected a whole number, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("+").isdigit():
        return int(value.strip())
    raise PresetError(name, f"expected a whole number, got {value!r}")


def _as_bytes(name: str, value: object) -> int:
    if isinstance(value, bool):
        raise PresetError(name, f"expected a size such as 64Gi, got {value!r}")
    try:
        n = parse_bytes(value)
    except QuantityError as e:
        raise PresetError(name, f"expected a size such as 64Gi: {e}") from None
    if n < 0:
        raise PresetError(name, f"negative size {value!r}")
    return n


def _as_distances(name: str, value: object) -> tuple[int, ...] | tuple[tuple[int, ...], ...]:
    if isinstance(value, (list, tuple)) and value and all(isinstance(r, (list, tuple)) for r in value):
        matrix = tuple(tuple(_as_int(name, d) for d in row) for row in value)
        for row in matrix:
            for d in row:
                if not 1 <= d <= 255:
                    raise PresetError(name, f"distance {d} is outside 1..255")
        return matrix
    if isinstance(value, str):
        parts: list[object] = [p.strip() for p in value.replace(",", "/").split("/")]
    elif isinstance(value, (list, tuple)):
        parts = list(value)
    else:
        raise PresetError(name, f"expected local/same-socket/other-socket such as 10/11/21, got {value!r}")
    if len(parts) not in (2, 3):
        raise PresetError(name, f"expected 2 or 3 values (local/remote or local/same/other), got {value!r}")
    out = tuple(_as_int(name, p) for p in parts)
    for d in out:
        if not 1 <= d <= 255:
            raise PresetError(name, f"distance {d} is outside 1..255")
    return out


def _coerce_grid_params(params: Mapping[str, object]) -> dict[str, object]:
    unknown = sorted(k for k in params if k not in _GRID_PARAMS)
    if unknown:
        raise PresetError(unknown[0], f"unknown grid parameter; valid parameters: {', '.join(_GRID_PARAMS)}")
    out: dict[str, object] = {}
    for name, p in _GRID_PARAMS.items():
        if name not in params or params[name] is None:
            out[name] = p.default
            continue
        v = params[name]
        if p.kind == "int":
            out[name] = _as_int(name, v)
        elif p.kind == "quantity":
            out[name] = _as_bytes(name, v)
        elif p.kind == "distances":
            out[name] = _as_distances(name, v)
        else:  # numbering
            if v not in ("interleaved", "contiguous"):
                raise PresetError(name, f"expected interleaved or contiguous, got {v!r}")
            out[name] = v
    return out


def _int_or_none(v: object) -> int | None:
    return None if v is None else int(v)  # type: ignore[call-overload]


def build_grid(params: Mapping[str, object] | None = None, name: str = "grid") -> Topology:
    """The ``grid`` preset: a regular machine from its parameters (see ``list_presets``)."""
    p = _coerce_grid_params(params or {})
    ints = {k: _int_or_none(p[k]) for k, spec in _GRID_PARAMS.items() if spec.kind in ("int", "quantity")}
    sockets = ints["sockets"] or 0
    nps = ints["numaPerSocket"] or 0
    cpn = ints["coresPerNuma"] or 0
    tpc = ints["threadsPerCore"] or 0
    extra = ints["cpulessNumaNodes"] or 0
    for key, value, low in (
        ("sockets", sockets, 1),
        ("numaPerSocket", nps, 1),
        ("coresPerNuma", cpn, 1),
        ("threadsPerCore", tpc, 1),
        ("cpulessNumaNodes", extra, 0),
    ):
        if value < low:
            raise PresetError(key, f"must be at least {low}, got {value}")
    if sockets > MAX_SOCKETS:
        raise PresetError("sockets", f"{sockets} sockets (at most {MAX_SOCKETS})")
    if tpc > MAX_THREADS_PER_CORE:
        raise PresetError("threadsPerCore", f"{tpc} threads per core (at most {MAX_THREADS_PER_CORE})")
    cpu_numas = sockets * nps
    if cpu_numas + extra > MAX_NUMA_NODES:
        raise PresetError(
            "numaPerSocket" if extra == 0 else "cpulessNumaNodes",
            f"{cpu_numas + extra} NUMA nodes (at most {MAX_NUMA_NODES})",
        )
    num_cores = cpu_numas * cpn
    if num_cores * tpc > MAX_CPUS:
        raise PresetError("coresPerNuma", f"{num_cores * tpc} CPUs (at most {MAX_CPUS})")

    # L3 split
    upn = ints["uncorePerNuma"]
    cpu_ = ints["coresPerUncore"]
    cores_per_uncore: int | None = None
    if upn is not None and cpu_ is not None:
        raise PresetError("coresPerUncore", "give uncorePerNuma or coresPerUncore, not both")
    if upn is not None:
        if upn < 1 or cpn % upn:
            raise PresetError("uncorePerNuma", f"{upn} does not divide coresPerNuma={cpn} into equal L3 groups")
        cores_per_uncore = cpn // upn
    elif cpu_ is not None:
        if cpu_ < 1 or cpn % cpu_:
            raise PresetError("coresPerUncore", f"{cpu_} does not divide coresPerNuma={cpn}")
        cores_per_uncore = cpu_

    # distances
    dist = p["distances"]
    matrix: tuple[tuple[int, ...], ...] | None = None
    total_numas = cpu_numas + extra
    if dist is None:
        local, same, other = (10, 11, 21) if nps > 1 else (10, 21, 21)
    elif isinstance(dist, tuple) and dist and isinstance(dist[0], tuple):
        matrix = dist
        if len(matrix) != total_numas or any(len(r) != total_numas for r in matrix):
            raise PresetError(
                "distances", f"the matrix must be {total_numas}×{total_numas} (one row and column per NUMA node)"
            )
        local, same, other = 10, 21, 21  # unused but for cpulessDistance's default
    else:
        d: tuple[int, ...] = tuple(dist)  # type: ignore[call-overload]
        if len(d) == 2:
            if nps > 1:
                raise PresetError(
                    "distances",
                    "with several NUMA nodes per socket give local/remote-same-socket/remote-other-socket",
                )
            local, same, other = d[0], d[1], d[1]
        else:
            local, same, other = d
    cpuless_dist = ints["cpulessDistance"]
    if cpuless_dist is None:
        cpuless_dist = other
    if not 1 <= cpuless_dist <= 255:
        raise PresetError("cpulessDistance", f"distance {cpuless_dist} is outside 1..255")

    memory = ints["memoryPerNuma"] or 0
    cpuless_memory = ints["cpulessMemoryPerNuma"] or 0
    for key, value in (("memoryPerNuma", memory), ("cpulessMemoryPerNuma", cpuless_memory)):
        if value > MAX_MEMORY_PER_NUMA:
            raise PresetError(key, f"{format_bytes(value)} per NUMA node is absurd (at most 1Ei)")
    hugepages: dict[int, int] = {}
    for key, size in (("hugepages2MiPerNuma", 2 * MIB), ("hugepages1GiPerNuma", GIB)):
        total = ints[key]
        if total is None:
            continue
        if total % size:
            raise PresetError(key, f"{format_bytes(total)} is not a whole number of {format_bytes(size)} pages")
        hugepages[size] = total

    cpus: list[CPUInfo] = []
    numbering = p["numbering"]
    for k in range(num_cores):  # global physical core index, socket-major
        numa = k // cpn
        socket = numa // nps
        local_core = k % cpn
        uncore = (
            socket if cores_per_uncore is None else numa * (cpn // cores_per_uncore) + (local_core // cores_per_uncore)
        )
        if numbering == "interleaved":
            ids = [t * num_cores + k for t in range(tpc)]
        else:
            ids = [k * tpc + t for t in range(tpc)]
        core_id = min(ids)
        for cid in ids:
            cpus.append(CPUInfo(id=cid, core=core_id, socket=socket, numa=numa, uncore=uncore))

    nodes: list[NUMANode] = []
    for n in range(total_numas):
        row: list[int] = []
        for m in range(total_numas):
            if matrix is not None:
                row.append(matrix[n][m])
            elif m == n:
                row.append(local)
            elif n >= cpu_numas or m >= cpu_numas:
                row.append(cpuless_dist)
            elif n // nps == m // nps:
                row.append(same)
            else:
                row.append(other)
        if n < cpu_numas:
            nodes.append(NUMANode(n, memory, dict(hugepages), tuple(row)))
        else:
            nodes.append(NUMANode(n, cpuless_memory, {}, tuple(row)))
    try:
        return Topology(cpus, nodes, name=name)
    except TopologyError as e:  # pragma: no cover - the grid is valid by construction
        raise PresetError("preset", str(e)) from None


# -- named conveniences -----------------------------------------------------

_NAMED: Mapping[str, tuple[str, Mapping[str, object]]] = MappingProxyType(
    {
        "1-numa": (
            "1 socket, 1 NUMA node, 8 cores × 2 threads (16 CPUs), 64Gi",
            {"sockets": 1, "numaPerSocket": 1, "coresPerNuma": 8, "threadsPerCore": 2},
        ),
        "2-numa": (
            "2 sockets × 1 NUMA node, 16 cores × 2 threads each (64 CPUs), 64Gi per NUMA node",
            {"sockets": 2, "numaPerSocket": 1, "coresPerNuma": 16, "threadsPerCore": 2},
        ),
        "2-numa-32": (
            "2 sockets × 1 NUMA node, 8 cores × 2 threads each (32 CPUs), 32Gi per NUMA node "
            "(the conformance node of named/tightly-coupled-database.yaml)",
            {
                "sockets": 2,
                "numaPerSocket": 1,
                "coresPerNuma": 8,
                "threadsPerCore": 2,
                "memoryPerNuma": "32Gi",
            },
        ),
        "4-numa": (
            "2 sockets × 2 NUMA nodes (SNC2/NPS2-like), 8 cores × 2 threads each (64 CPUs), "
            "64Gi per NUMA node, distances 10/11/21",
            {"sockets": 2, "numaPerSocket": 2, "coresPerNuma": 8, "threadsPerCore": 2},
        ),
        "8-numa-256": (
            "2 sockets × 4 NUMA nodes, 16 cores × 2 threads each (256 CPUs), 64Gi per NUMA node, "
            "distances 10/11/21 (8 NUMA nodes: the topology manager's default maximum)",
            {"sockets": 2, "numaPerSocket": 4, "coresPerNuma": 16, "threadsPerCore": 2},
        ),
        "epyc-64c-nps1": (
            "AMD EPYC-like: 1 socket, 1 NUMA node (NPS1), 64 cores × 2 threads (128 CPUs), "
            "8 L3 caches of 8 cores, 256Gi",
            {
                "sockets": 1,
                "numaPerSocket": 1,
                "coresPerNuma": 64,
                "threadsPerCore": 2,
                "coresPerUncore": 8,
                "memoryPerNuma": "256Gi",
            },
        ),
        "epyc-2x64c-nps4": (
            "AMD EPYC-like: 2 sockets × 4 NUMA nodes (NPS4), 16 cores × 2 threads each (256 CPUs), "
            "L3 caches of 8 cores, 64Gi per NUMA node, distances 10/12/32",
            {
                "sockets": 2,
                "numaPerSocket": 4,
                "coresPerNuma": 16,
                "threadsPerCore": 2,
                "coresPerUncore": 8,
                "distances": "10/12/32",
            },
        ),
        "gb200": (
            "NVIDIA GB200-like compute tray: 2 Grace sockets × 72 cores, no SMT (144 CPUs), "
            "448Gi per Grace NUMA node (distance 40), plus 32 CPU-less GPU NUMA nodes 2..33 "
            "(distance 80): 34 NUMA nodes, more than the topology manager's default maximum of 8",
            {
                "sockets": 2,
                "numaPerSocket": 1,
                "coresPerNuma": 72,
                "threadsPerCore": 1,
                "memoryPerNuma": "448Gi",
                "distances": "10/40",
                "cpulessNumaNodes": 32,
                "cpulessDistance": 80,
            },
        ),
    }
)

_GRID_DESCRIPTION = "a regular machine: " + "; ".join(f"{k}: {p.help}" for k, p in _GRID_PARAMS.items())


# -- upstream (kubelet unit-test machines) ----------------------------------


def _upstream() -> tuple[Mapping[str, Callable[[], Topology]], Mapping[str, str]]:
    """The kubelet unit-test machines, if that module is present."""
    try:
        mod = importlib.import_module("topolet.model.presets_upstream")
    except ImportError:
        return {}, {}
    presets = getattr(mod, "UPSTREAM_PRESETS", {}) or {}
    descriptions = getattr(mod, "UPSTREAM_DESCRIPTIONS", {}) or {}
    return presets, descriptions


def _describe_upstream(name: str, fn: Callable[[], Topology], descriptions: Mapping[str, str]) -> str:
    if name in descriptions:
        return str(descriptions[name])
    doc = (getattr(fn, "__doc__", None) or "").strip()
    if doc:
        return " ".join(doc.split("\n\n")[0].split())
    return "a machine from the kubelet's unit tests"


def _as_bool(name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.strip().lower() in ("true", "1", "yes")
    raise PresetError(name, f"expected true or false, got {value!r}")


# -- public API --------------------------------------------------------------


def list_presets() -> list[tuple[str, str]]:
    """Every preset name with a one-line description, ``grid`` first."""
    out = [("grid", _GRID_DESCRIPTION)]
    out.extend((name, desc) for name, (desc, _) in _NAMED.items())
    upstream, descriptions = _upstream()
    for name in sorted(upstream):
        if name == "grid" or name in _NAMED:
            continue
        out.append((name, _describe_upstream(name, upstream[name], descriptions)))
    return out


def preset_names() -> list[str]:
    return [n for n, _ in list_presets()]


def format_preset_arg(name: str, params: Mapping[str, object] | None = None) -> str:
    """The inverse of :func:`parse_preset_arg`: ``grid,sockets=2,distances=10/11/21``.

    A distance matrix (a list of rows) prints its rows separated by ``;``
    (a label only: :func:`parse_preset_arg` does not read it back).
    """
    parts = [name]
    for k, v in (params or {}).items():
        if isinstance(v, (list, tuple)):
            if all(isinstance(x, (list, tuple)) for x in v):
                v = ";".join("/".join(str(y) for y in x) for x in v)  # type: ignore[union-attr]
            else:
                v = "/".join(str(x) for x in v)
        parts.append(f"{k}={v}")
    return ",".join(parts)


def get_preset(name: str, params: Mapping[str, object] | None = None) -> Topology:
    """The topology of preset ``name`` with ``params`` (grid parameters)."""
    params = dict(params or {})
    if not isinstance(name, str) or not name:
        raise PresetError("preset", f"expected a preset name; valid presets: {', '.join(preset_names())}")
    label = format_preset_arg(name, params)
    if name == "grid":
        return build_grid(params, name=label)
    if name in _NAMED:
        merged = dict(_NAMED[name][1])
        merged.update(params)
        return build_grid(merged, name=label)
    upstream, _ = _upstream()
    if name in upstream:
        extra = sorted(k for k in params if k != "goLiteralUncore")
        if extra:
            raise PresetError(
                extra[0],
                f"preset {name!r} (a kubelet unit-test machine) takes no parameters but goLiteralUncore",
            )
        if "goLiteralUncore" in params:
            literal = _as_bool("goLiteralUncore", params["goLiteralUncore"])
            return upstream[name](go_literal_uncore=literal)  # type: ignore[call-arg]
        return upstream[name]()
    raise PresetError("preset", f"unknown preset {name!r}; valid presets: {', '.join(preset_names())}")


def parse_preset_arg(text: str) -> tuple[str, dict[str, object]]:
    """Split a command-line preset ``grid,sockets=2,numaPerSocket=2,distances=10/11/21``.

    Returns the name and its parameters; whole numbers become ``int``,
    everything else stays a string (quantities are parsed by the preset).
    """
    parts = [p.strip() for p in text.split(",")]
    name = parts[0]
    if not name or "=" in name:
        raise PresetError("preset", f"expected NAME[,param=value...], got {text!r}")
    params: dict[str, object] = {}
    for part in parts[1:]:
        if not part:
            continue
        key, sep, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            raise PresetError("preset", f"expected param=value, got {part!r} in {text!r}")
        if key in params:
            raise PresetError(key, f"given twice in {text!r}")
        params[key] = int(value) if value.isdigit() else value
    return name, params


def preset_from_arg(text: str) -> Topology:
    """``get_preset(*parse_preset_arg(text))``."""
    name, params = parse_preset_arg(text)
    return get_preset(name, params)
