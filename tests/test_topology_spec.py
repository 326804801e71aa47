"""The scenario ``topology:`` mapping: explicit and preset forms, errors, round trip."""

from __future__ import annotations

import glob
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from paths import CORPUS as CORPUS_DIR
from topolet.model.quantity import parse_bytes
from topolet.model.topology import Topology
from topolet.model.topology_spec import TopologySpecError, topology_from_spec, topology_to_spec

CONFORMANCE = CORPUS_DIR
GIB = 1 << 30
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
CONFORMANCE_FILES = sorted(glob.glob(str(CONFORMANCE / "**" / "*.yaml"), recursive=True))


def _same(a: Topology, b: Topology) -> bool:
    return a.cpus == b.cpus and a.numa_nodes == b.numa_nodes


def _cpu(i: int, core: int | None = None, socket: int = 0, numa: int = 0, **kw: Any) -> dict[str, Any]:
    return {"id": i, "core": i if core is None else core, "socket": socket, "numa": numa, **kw}


def _err(spec: Any) -> TopologySpecError:
    with pytest.raises(TopologySpecError) as e:
        topology_from_spec(spec, "node.yaml")
    return e.value


# -- conformance corpus -----------------------------------------------------------


def test_conformance_files_exist() -> None:
    assert len(CONFORMANCE_FILES) >= 40


@pytest.mark.parametrize("path", CONFORMANCE_FILES, ids=lambda p: str(Path(p).relative_to(CONFORMANCE)))
def test_every_conformance_topology_loads_and_round_trips(path: str) -> None:
    n = 0
    seen: set[str] = set()
    with open(path, encoding="utf-8") as fh:
        for doc in yaml.load_all(fh, Loader=_LOADER):
            if not doc:
                continue
            n += 1
            where = f"{path}: {doc['metadata']['name']}"
            spec = doc["spec"]["node"]["topology"]
            key = json.dumps(spec, sort_keys=True)
            if key in seen:
                continue
            seen.add(key)
            topo = topology_from_spec(spec, where)
            # the file's facts
            assert sorted(topo.cpus) == sorted(c["id"] for c in spec["cpus"])
            for c in spec["cpus"]:
                info = topo.cpus[c["id"]]
                assert (info.core, info.socket, info.numa) == (c["core"], c["socket"], c["numa"])
                assert info.uncore == c.get("uncoreCache", c["socket"])
            for node in spec.get("numaNodes", []):
                got = topo.numa_nodes[node["id"]]
                assert got.memory == parse_bytes(node["memory"])
                assert list(got.distances) == node["distances"]
                assert dict(got.hugepages) == {
                    parse_bytes(k): parse_bytes(v) for k, v in (node.get("hugepages") or {}).items()
                }
            # round trip, also through YAML text
            out = topology_to_spec(topo)
            assert _same(topology_from_spec(out, where), topo)
            again = yaml.load(yaml.dump(out, Dumper=_DUMPER, sort_keys=False), Loader=_LOADER)
            assert topology_to_spec(topology_from_spec(again, where)) == out
    assert n > 0


# -- explicit form ----------------------------------------------------------------


def test_defaults_numa_nodes_and_uncore() -> None:
    t = topology_from_spec({"cpus": [_cpu(0), _cpu(1, socket=1, numa=1)]}, "x")
    assert t.numa_ids == [0, 1]
    assert t.numa_nodes[0].memory == 0
    assert t.numa_nodes[0].distances == (10, 20)
    assert t.numa_nodes[1].distances == (20, 10)
    assert t.cpus[1].uncore == 1  # the socket
    assert dict(t.numa_nodes[0].hugepages) == {}


def test_sizes_as_ints_quantities_and_hugepage_keys() -> None:
    t = topology_from_spec(
        {
            "cpus": [_cpu(0)],
            "numaNodes": [
                {"id": 0, "memory": 17179869184, "hugepages": {"2Mi": "1Gi", "hugepages-1Gi": 2 * GIB, 65536: 0}}
            ],
        },
        "x",
    )
    n = t.numa_nodes[0]
    assert n.memory == 16 * GIB
    assert dict(n.hugepages) == {2 << 20: GIB, GIB: 2 * GIB, 65536: 0}
    assert n.distances == (10,)


def test_cpu_less_numa_node_and_sparse_ids() -> None:
    t = topology_from_spec(
        {
            "cpus": [_cpu(0), _cpu(1)],
            "numaNodes": [
                {"id": 0, "memory": "8Gi", "distances": [10, 255, 30]},
                {"id": 2, "memory": "1Ti", "distances": [30, 255, 10]},
            ],
        },
        "x",
    )
    assert t.numa_ids == [0, 2]
    assert t.cpu_numa_nodes() == [0]
    assert t.numa_nodes[2].memory == 1 << 40
    assert t.distance(0, 2) == 30


def test_uncore_cache_given() -> None:
    cpus = [_cpu(i, core=i % 4, uncoreCache=(i % 4) // 2) for i in range(8)]
    t = topology_from_spec({"cpus": cpus}, "x")
    assert t.num_uncore_caches == 2 and t.num_cores == 4 and t.cpus_per_core() == 2


def test_uncore_cache_may_span_sockets_as_in_kubelet_tests() -> None:
    # topology_test.go "DualSocketNoHT": one uncore cache id for two sockets
    cpus = [_cpu(i, socket=i % 2, numa=i % 2, uncoreCache=0) for i in range(4)]
    t = topology_from_spec({"cpus": cpus}, "x")
    assert t.num_uncore_caches == 1 and t.num_sockets == 2


def test_numa_node_may_span_sockets() -> None:
    cpus = [_cpu(i, socket=i // 2, numa=0) for i in range(4)]
    t = topology_from_spec({"cpus": cpus}, "x")
    assert t.num_sockets == 2 and t.num_numa_nodes == 1


# -- to_spec --------------------------------------------------------------------------


def test_to_spec_canonical_form() -> None:
    t = topology_from_spec(
        {
            "cpus": [_cpu(0), _cpu(1, core=0), _cpu(2, socket=1, numa=1), _cpu(3, core=2, socket=1, numa=1)],
            "numaNodes": [
                {"id": 0, "memory": 17179869184, "hugepages": {"1Gi": 0, "2Mi": 536870912}, "distances": [10, 21]},
                {"id": 1, "memory": "16384Mi", "distances": [21, 10]},
            ],
        },
        "x",
    )
    assert topology_to_spec(t) == {
        "cpus": [
            {"id": 0, "core": 0, "socket": 0, "numa": 0},
            {"id": 1, "core": 0, "socket": 0, "numa": 0},
            {"id": 2, "core": 2, "socket": 1, "numa": 1},
            {"id": 3, "core": 2, "socket": 1, "numa": 1},
        ],
        "numaNodes": [
            {"id": 0, "memory": "16Gi", "hugepages": {"2Mi": "512Mi", "1Gi": "0"}, "distances": [10, 21]},
            {"id": 1, "memory": "16Gi", "distances": [21, 10]},
        ],
    }


def test_to_spec_writes_uncore_for_all_cpus_when_any_differs() -> None:
    cpus = [_cpu(i, socket=0, uncoreCache=i // 2) for i in range(4)]
    out = topology_to_spec(topology_from_spec({"cpus": cpus}, "x"))
    assert [c["uncoreCache"] for c in out["cpus"]] == [0, 0, 1, 1]


# -- preset form ---------------------------------------------------------------------------


def test_preset_form() -> None:
    t = topology_from_spec(
        {"preset": "grid", "sockets": 2, "numaPerSocket": 2, "coresPerNuma": 8, "threadsPerCore": 2}, "x"
    )
    assert t.num_cpus == 64 and len(t.numa_ids) == 4
    assert topology_from_spec({"preset": "2-numa"}, "x").num_cpus == 64


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"preset": "nope"}, "node.yaml: preset: unknown preset 'nope'; valid presets: grid,"),
        ({"preset": 3}, "node.yaml: preset: expected a preset name, got 3"),
        ({"preset": "grid", "sockts": 2}, "node.yaml: sockts: unknown grid parameter; valid parameters: sockets,"),
        ({"preset": "grid", "sockets": 99}, "node.yaml: sockets: 99 sockets (at most 64)"),
    ],
)
def test_preset_form_errors(spec: dict, message: str) -> None:
    assert str(_err(spec)).startswith(message)


# -- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ([], "node.yaml: expected a mapping with cpus/numaNodes or preset, got list"),
        ({"numaNodes": []}, "node.yaml: cpus: missing: give cpus (and optionally numaNodes) or preset"),
        ({"cpus": []}, "node.yaml: cpus: the machine has no CPUs"),
        ({"cpus": "0-3"}, "node.yaml: cpus: expected a list"),
        ({"cpus": [_cpu(0), _cpu(0)]}, "node.yaml: cpus[1].id: CPU 0 is listed twice (also cpus[0])"),
        ({"cpus": [{"id": 0, "core": 0, "socket": 0}]}, "node.yaml: cpus[0].numa: required field is missing"),
        ({"cpus": [_cpu(0, colour="red")]}, "node.yaml: cpus[0].colour: unknown field"),
        ({"cpus": [_cpu(0)], "extra": 1}, "node.yaml: extra: unknown field"),
        ({"cpus": [_cpu(-1)]}, "node.yaml: cpus[0].id: must be at least 0"),
        ({"cpus": [_cpu(0, socket=-2)]}, "node.yaml: cpus[0].socket: must be at least 0"),
        ({"cpus": [_cpu(1 << 20)]}, "node.yaml: cpus[0].id: must be at most 65535"),
        ({"cpus": [_cpu(True)]}, "node.yaml: cpus[0].id: expected an integer"),
        ({"cpus": [_cpu("1")]}, "node.yaml: cpus[0].id: expected an integer"),
        ({"cpus": [_cpu(0, numa=2000)]}, "node.yaml: cpus[0].numa: must be at most 1023"),
        (
            {"cpus": [_cpu(0), _cpu(1, core=0, socket=1)]},
            "node.yaml: cpus[1].socket: core 0 spans sockets: socket 0 (cpus[0]) and socket 1",
        ),
        (
            {"cpus": [_cpu(0), _cpu(1, core=0, numa=1)]},
            "node.yaml: cpus[1].numa: core 0 spans NUMA nodes: node 0 (cpus[0]) and node 1",
        ),
        (
            {"cpus": [_cpu(0, uncoreCache=0), _cpu(1, core=0, uncoreCache=1)]},
            "node.yaml: cpus[1].uncoreCache: core 0 spans uncore caches: 0 (cpus[0]) and 1",
        ),
        (
            {"cpus": [_cpu(0, uncoreCache=0), _cpu(1)]},
            "node.yaml: cpus[1].uncoreCache: give uncoreCache for every CPU or for none",
        ),
        ({"cpus": [_cpu(i, socket=i) for i in range(65)]}, "node.yaml: cpus: 65 sockets (at most 64)"),
        ({"cpus": [_cpu(i) for i in range(16385)]}, "node.yaml: cpus: 16385 CPUs (at most 16384)"),
        (
            {"cpus": [_cpu(0, numa=1)], "numaNodes": [{"id": 0}]},
            "node.yaml: cpus[0].numa: NUMA node 1 is not defined in numaNodes (defined: [0])",
        ),
        (
            {"cpus": [_cpu(0)], "numaNodes": [{"id": 0}, {"id": 0}]},
            "node.yaml: numaNodes[1].id: NUMA node 0 is listed twice (also numaNodes[0])",
        ),
        (
            {"cpus": [_cpu(0)], "numaNodes": [{"id": 0, "memory": "-1Gi"}]},
            "node.yaml: numaNodes[0].memory: negative size",
        ),
        (
            {"cpus": [_cpu(0)], "numaNodes": [{"id": 0, "memory": "2Ei"}]},
            "node.yaml: numaNodes[0].memory: 2Ei is absurd",
        ),
        (
            {"cpus": [_cpu(0)], "numaNodes": [{"id": 0, "memory": "lots"}]},
            "node.yaml: numaNodes[0].memory: quantities must match the regular expression",
        ),
        (
            {"cpus": [_cpu(0)], "numaNodes": [{"id": 0, "memory": True}]},
            "node.yaml: numaNodes[0].memory: expected a size",
        ),
        (
            {"cpus": [_cpu(0)], "numaNodes": [{"id": 0, "hugepages": {"2Mi": "3Mi"}}]},
            "node.yaml: numaNodes[0].hugepages.2Mi: total 3Mi is not a whole number of 2Mi pages",
        ),
        (
            {"cpus": [_cpu(0)], "numaNodes": [{"id": 0, "hugepages": {"2Mi": "-2Mi"}}]},
            "node.yaml: numaNodes[0].hugepages.2Mi: negative size",
        ),
        (
            {"cpus": [_cpu(0)], "numaNodes": [{"id": 0, "hugepages": {"3Mi": "3Mi"}}]},
            "node.yaml: numaNodes[0].hugepages: page size 3Mi is not a power of two of at least 4Ki",
        ),
        (
            {"cpus": [_cpu(0)], "numaNodes": [{"id": 0, "hugepages": {"huge": "2Mi"}}]},
            "node.yaml: numaNodes[0].hugepages.huge: bad page size",
        ),
        (
            {"cpus": [_cpu(0)], "numaNodes": [{"id": 0, "distances": [10, 21]}]},
            "node.yaml: numaNodes[0].distances: 2 entries, but the row is indexed by NUMA node id 0..0 (1 entry)",
        ),
        (
            {"cpus": [_cpu(0), _cpu(1, numa=1)], "numaNodes": [{"id": 0, "distances": [10]}, {"id": 1}]},
            "node.yaml: numaNodes[0].distances: 1 entries, but the row is indexed by NUMA node id 0..1 (2 entries)",
        ),
        (
            {"cpus": [_cpu(0)], "numaNodes": [{"id": 0, "distances": [0]}]},
            "node.yaml: numaNodes[0].distances[0]: distance 0 is outside 1..255",
        ),
        (
            {"cpus": [_cpu(0)], "numaNodes": [{"id": 0, "distances": ["ten"]}]},
            "node.yaml: numaNodes[0].distances[0]: expected an integer",
        ),
    ],
)
def test_errors_name_the_field(spec: Any, message: str) -> None:
    e = _err(spec)
    assert isinstance(e, ValueError)
    assert str(e).startswith(message), str(e)


def test_all_problems_are_collected() -> None:
    e = _err({"cpus": [_cpu(0), _cpu(0), {"id": 2}]})
    paths = [p for p, _ in e.errors]
    assert "cpus[2].core" in paths and "cpus[2].socket" in paths
    e = _err({"cpus": [_cpu(0), _cpu(0)], "numaNodes": [{"id": 0, "memory": "-1"}]})
    assert [p for p, _ in e.errors] == ["cpus[1].id", "numaNodes[0].memory"]
    assert e.source == "node.yaml" and e.path == "cpus[1].id"
