"""The preset registry: grid, named conveniences, the kubelet's unit-test machines."""

from __future__ import annotations

import glob
import json
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from paths import CORPUS as CORPUS_DIR
from topolet.model.presets import (
    MAX_CPUS,
    PresetError,
    build_grid,
    format_preset_arg,
    get_preset,
    list_presets,
    parse_preset_arg,
    preset_from_arg,
)
from topolet.model.quantity import format_bytes
from topolet.model.topology import Topology
from topolet.model.topology_spec import topology_from_spec, topology_to_spec

CONFORMANCE = CORPUS_DIR
GIB = 1 << 30
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _upstream_presets() -> dict[str, object]:
    try:
        from topolet.model.presets_upstream import UPSTREAM_PRESETS
    except ImportError:
        pytest.skip("topolet.model.presets_upstream is not there yet")
    return dict(UPSTREAM_PRESETS)


def _same(a: Topology, b: Topology) -> bool:
    return a.cpus == b.cpus and a.numa_nodes == b.numa_nodes


def _conformance_topologies() -> list[tuple[str, dict]]:
    out: dict[str, tuple[str, dict]] = {}
    for f in sorted(glob.glob(str(CONFORMANCE / "**" / "*.yaml"), recursive=True)):
        with open(f, encoding="utf-8") as fh:
            for doc in yaml.load_all(fh, Loader=_LOADER):
                if not doc:
                    continue
                topo = doc["spec"]["node"]["topology"]
                out.setdefault(json.dumps(topo, sort_keys=True), (f"{f}:{doc['metadata']['name']}", topo))
    return list(out.values())


def _scenario_topology(path: Path, name: str) -> dict:
    with open(path, encoding="utf-8") as fh:
        for doc in yaml.load_all(fh, Loader=_LOADER):
            if doc and doc["metadata"]["name"] == name:
                return doc["spec"]["node"]["topology"]
    raise AssertionError(f"{name} not in {path}")


# -- registry ----------------------------------------------------------------


def test_list_presets_has_grid_named_and_descriptions() -> None:
    presets = list_presets()
    names = [n for n, _ in presets]
    assert names[0] == "grid"
    for name in ("2-numa", "2-numa-32", "4-numa", "8-numa-256", "gb200", "epyc-64c-nps1"):
        assert name in names
    assert len(names) == len(set(names))
    assert all(desc and isinstance(desc, str) for _, desc in presets)


def test_upstream_presets_are_registered() -> None:
    upstream = _upstream_presets()
    names = {n for n, _ in list_presets()}
    assert set(upstream) <= names
    for name in upstream:
        topo = get_preset(name)
        assert topo.num_cpus > 0


def test_upstream_preset_takes_no_grid_params() -> None:
    _upstream_presets()
    with pytest.raises(PresetError, match=r"sockets: preset 'single-socket-ht' .* takes no parameters"):
        get_preset("single-socket-ht", {"sockets": 2})


def test_upstream_go_literal_uncore() -> None:
    _upstream_presets()
    default = get_preset("dual-socket-ht")
    literal = get_preset("dual-socket-ht", {"goLiteralUncore": "true"})
    assert default.num_uncore_caches == 2
    assert literal.num_uncore_caches == 1
    with pytest.raises(PresetError, match="goLiteralUncore: expected true or false"):
        get_preset("dual-socket-ht", {"goLiteralUncore": "maybe"})


@pytest.mark.parametrize("name", [n for n, _ in list_presets()])
def test_every_preset_builds_and_round_trips_through_the_spec(name: str) -> None:
    topo = get_preset(name)
    assert topo.num_cpus > 0
    back = topology_from_spec(topology_to_spec(topo), name)
    assert _same(topo, back)
    # and through the preset form of the spec
    assert _same(topology_from_spec({"preset": name}, "x"), topo)


def test_unknown_preset_lists_the_valid_ones() -> None:
    with pytest.raises(PresetError) as e:
        get_preset("3-numa")
    msg = str(e.value)
    assert msg.startswith("preset: unknown preset '3-numa'; valid presets: grid, 1-numa, 2-numa")
    assert "gb200" in msg
    assert e.value.field == "preset"


def test_unknown_param_lists_the_valid_ones() -> None:
    with pytest.raises(PresetError) as e:
        get_preset("grid", {"socket": 2})
    assert e.value.field == "socket"
    assert "unknown grid parameter; valid parameters: sockets, numaPerSocket, coresPerNuma" in str(e.value)


# -- grid layout ------------------------------------------------------------


def test_grid_interleaved_numbering_linux_style() -> None:
    t = get_preset("grid", {"sockets": 2, "numaPerSocket": 1, "coresPerNuma": 8, "threadsPerCore": 2})
    assert t.num_cpus == 32 and t.num_cores == 16 and t.num_sockets == 2
    # CPU 0 and 16 are siblings; core ids are the first thread's id
    assert t.cpus[0].core == t.cpus[16].core == 0
    assert t.cpus[8].socket == 1 and t.cpus[24].core == 8
    assert [c for c in range(32) if t.cpus[c].numa == 0] == [*range(8), *range(16, 24)]


def test_grid_contiguous_numbering() -> None:
    t = get_preset("grid", {"coresPerNuma": 4, "threadsPerCore": 2, "numbering": "contiguous"})
    assert [(c.id, c.core) for c in t.cpus.values()] == [(i, i - i % 2) for i in range(8)]


def test_grid_smt4_interleaved() -> None:
    t = get_preset("grid", {"coresPerNuma": 3, "threadsPerCore": 4})
    assert t.core_cpus[0] == (1 << 0) | (1 << 3) | (1 << 6) | (1 << 9)


def test_grid_uncore_split() -> None:
    a = get_preset("grid", {"sockets": 2, "coresPerNuma": 8, "uncorePerNuma": 2})
    b = get_preset("grid", {"sockets": 2, "coresPerNuma": 8, "coresPerUncore": 4})
    assert _same(a, b)
    assert a.num_uncore_caches == 4
    assert [a.cpus[c].uncore for c in (0, 4, 8, 12, 16, 20)] == [0, 1, 2, 3, 0, 1]
    plain = get_preset("grid", {"sockets": 2})
    assert all(c.uncore == c.socket for c in plain.cpus.values())


def test_grid_distances_default_and_custom() -> None:
    t = get_preset("grid", {"sockets": 2, "numaPerSocket": 2})
    assert t.numa_nodes[0].distances == (10, 11, 21, 21)
    assert t.numa_nodes[3].distances == (21, 21, 11, 10)
    t = get_preset("grid", {"sockets": 2})
    assert t.numa_nodes[1].distances == (21, 10)
    t = get_preset("grid", {"sockets": 2, "numaPerSocket": 2, "distances": "10/12/32"})
    assert t.numa_nodes[1].distances == (12, 10, 32, 32)
    t = get_preset("grid", {"sockets": 2, "distances": [10, 20]})
    assert t.numa_nodes[0].distances == (10, 20)
    with pytest.raises(PresetError, match="distances: with several NUMA nodes per socket"):
        get_preset("grid", {"numaPerSocket": 2, "distances": "10/20"})
    with pytest.raises(PresetError, match=r"distances: distance 300 is outside 1\.\.255"):
        get_preset("grid", {"sockets": 2, "distances": "10/300"})
    with pytest.raises(PresetError, match="distances: expected 2 or 3 values"):
        get_preset("grid", {"sockets": 2, "distances": "10"})


def test_grid_distance_matrix() -> None:
    m = [[10, 16, 32], [16, 10, 28], [32, 28, 10]]
    t = get_preset("grid", {"sockets": 3, "distances": m})
    assert [list(t.numa_nodes[i].distances) for i in range(3)] == m
    with pytest.raises(PresetError, match="distances: the matrix must be 3×3"):
        get_preset("grid", {"sockets": 3, "distances": [[10, 20], [20, 10]]})


def test_grid_memory_and_hugepages() -> None:
    t = get_preset(
        "grid",
        {
            "sockets": 2,
            "memoryPerNuma": "32Gi",
            "hugepages2MiPerNuma": "512Mi",
            "hugepages1GiPerNuma": 0,
        },
    )
    for n in t.numa_nodes.values():
        assert n.memory == 32 * GIB
        assert dict(n.hugepages) == {2 << 20: 512 << 20, GIB: 0}
    assert dict(get_preset("grid").numa_nodes[0].hugepages) == {}
    assert get_preset("grid").numa_nodes[0].memory == 64 * GIB
    with pytest.raises(PresetError, match="hugepages1GiPerNuma: 1536Mi is not a whole number of 1Gi pages"):
        get_preset("grid", {"hugepages1GiPerNuma": "1536Mi"})
    with pytest.raises(PresetError, match="memoryPerNuma: negative size"):
        get_preset("grid", {"memoryPerNuma": "-1Gi"})
    with pytest.raises(PresetError, match="memoryPerNuma: expected a size such as 64Gi"):
        get_preset("grid", {"memoryPerNuma": "lots"})
    with pytest.raises(PresetError, match=r"memoryPerNuma: .* is absurd"):
        get_preset("grid", {"memoryPerNuma": "2Ei"})


def test_grid_cpuless_nodes_and_gb200() -> None:
    t = get_preset("grid", {"sockets": 2, "cpulessNumaNodes": 2, "cpulessMemoryPerNuma": "256Gi"})
    assert t.numa_ids == [0, 1, 2, 3]
    assert t.cpu_numa_nodes() == [0, 1]
    assert t.numa_nodes[2].memory == 256 * GIB
    assert t.numa_nodes[0].distances == (10, 21, 21, 21)
    assert t.numa_nodes[3].distances == (21, 21, 21, 10)
    g = get_preset("gb200")
    assert g.num_cpus == 144 and g.num_sockets == 2 and g.cpus_per_core() == 1
    assert len(g.numa_ids) == 34 and g.cpu_numa_nodes() == [0, 1]
    assert g.numa_nodes[0].distances[:3] == (10, 40, 80)
    assert g.numa_nodes[5].distances[5] == 10 and g.numa_nodes[5].distances[6] == 80


@pytest.mark.parametrize(
    ("params", "field", "problem"),
    [
        ({"sockets": 0}, "sockets", "must be at least 1"),
        ({"sockets": 65}, "sockets", "65 sockets (at most 64)"),
        ({"threadsPerCore": 0}, "threadsPerCore", "must be at least 1"),
        ({"threadsPerCore": 9}, "threadsPerCore", "at most 8"),
        ({"coresPerNuma": "x"}, "coresPerNuma", "expected a whole number"),
        ({"coresPerNuma": True}, "coresPerNuma", "expected a whole number"),
        ({"numbering": "random"}, "numbering", "expected interleaved or contiguous"),
        ({"coresPerNuma": 6, "uncorePerNuma": 4}, "uncorePerNuma", "does not divide coresPerNuma=6"),
        ({"coresPerNuma": 6, "coresPerUncore": 4}, "coresPerUncore", "does not divide coresPerNuma=6"),
        ({"uncorePerNuma": 2, "coresPerUncore": 2}, "coresPerUncore", "not both"),
        ({"sockets": 64, "coresPerNuma": 200}, "coresPerNuma", f"(at most {MAX_CPUS})"),
        ({"sockets": 64, "numaPerSocket": 17}, "numaPerSocket", "1088 NUMA nodes (at most 1024)"),
        ({"cpulessNumaNodes": 1024}, "cpulessNumaNodes", "1025 NUMA nodes"),
        ({"cpulessDistance": 0}, "cpulessDistance", "outside 1..255"),
    ],
)
def test_grid_bad_params(params: dict, field: str, problem: str) -> None:
    with pytest.raises(PresetError) as e:
        get_preset("grid", params)
    assert e.value.field == field
    assert problem in str(e.value)


# -- named conveniences --------------------------------------------------------


def test_named_presets_shapes() -> None:
    two = get_preset("2-numa")
    assert (two.num_sockets, len(two.numa_ids), two.num_cpus, two.cpus_per_core()) == (2, 2, 64, 2)
    assert two.numa_nodes[0].memory == 64 * GIB
    big = get_preset("8-numa-256")
    assert (big.num_sockets, len(big.numa_ids), big.num_cpus) == (2, 8, 256)
    assert big.numa_nodes[0].distances == (10, 11, 11, 11, 21, 21, 21, 21)
    epyc = get_preset("epyc-64c-nps1")
    assert epyc.num_uncore_caches == 8 and epyc.num_cpus == 128


def test_named_preset_params_override() -> None:
    t = get_preset("2-numa", {"memoryPerNuma": "128Gi", "hugepages1GiPerNuma": "4Gi"})
    assert t.numa_nodes[1].memory == 128 * GIB
    assert dict(t.numa_nodes[1].hugepages) == {GIB: 4 * GIB}
    assert t.num_cpus == 64
    assert t.name == "2-numa,memoryPerNuma=128Gi,hugepages1GiPerNuma=4Gi"


# -- conformance machines -----------------------------------------------------------


def test_grid_reproduces_the_tightly_coupled_database_node() -> None:
    spec = _scenario_topology(
        CONFORMANCE / "named" / "tightly-coupled-database.yaml", "tightly-coupled-database-pod-scope"
    )
    expected = topology_from_spec(spec, "tightly-coupled-database")
    grid = get_preset(
        "grid",
        {"sockets": 2, "numaPerSocket": 1, "coresPerNuma": 8, "threadsPerCore": 2, "memoryPerNuma": "32Gi"},
    )
    assert _same(grid, expected)
    assert _same(get_preset("2-numa-32"), expected)


def test_grid_reproduces_an_uncore_conformance_node() -> None:
    spec = _scenario_topology(CONFORMANCE / "cpu-static" / "tm-best-effort.yaml", "cpu-static-p0009")
    expected = topology_from_spec(spec, "p0009")
    grid = preset_from_arg(
        "grid,sockets=2,numaPerSocket=1,coresPerNuma=8,threadsPerCore=2,uncorePerNuma=2,memoryPerNuma=16Gi"
    )
    assert _same(grid, expected)


def test_grid_reproduces_a_contiguous_hugepages_conformance_node() -> None:
    spec = _scenario_topology(CONFORMANCE / "cpu-static" / "tm-best-effort.yaml", "cpu-static-p0041")
    expected = topology_from_spec(spec, "p0041")
    grid = get_preset(
        "grid",
        {
            "sockets": 2,
            "numaPerSocket": 2,
            "coresPerNuma": 4,
            "threadsPerCore": 2,
            "numbering": "contiguous",
            "memoryPerNuma": "32Gi",
            "hugepages2MiPerNuma": "256Mi",
        },
    )
    assert _same(grid, expected)


def _infer_grid(t: Topology) -> dict[str, object]:
    """Grid parameters that should rebuild a regular machine."""
    s, n = t.num_sockets, len(t.numa_ids)
    p: dict[str, object] = {
        "sockets": s,
        "numaPerSocket": n // s,
        "coresPerNuma": t.num_cores // n,
        "threadsPerCore": t.cpus_per_core(),
    }
    if t.cpus_per_core() > 1:
        p["numbering"] = "contiguous" if t.cpus[1].core == t.cpus[0].core else "interleaved"
    if t.num_uncore_caches != s:
        p["coresPerUncore"] = t.num_cores // t.num_uncore_caches
    n0 = t.numa_nodes[0]
    p["memoryPerNuma"] = format_bytes(n0.memory)
    for size, key in ((2 << 20, "hugepages2MiPerNuma"), (GIB, "hugepages1GiPerNuma")):
        if size in n0.hugepages:
            p[key] = format_bytes(n0.hugepages[size])
    p["distances"] = [list(t.numa_nodes[i].distances) for i in t.numa_ids]
    return p


def test_grid_reproduces_every_conformance_machine() -> None:
    topologies = _conformance_topologies()
    assert len(topologies) > 100
    for where, spec in topologies:
        expected = topology_from_spec(spec, where)
        grid = build_grid(_infer_grid(expected))
        assert _same(grid, expected), where


# -- command-line form -------------------------------------------------------------


def test_parse_preset_arg() -> None:
    assert parse_preset_arg("2-numa") == ("2-numa", {})
    name, params = parse_preset_arg("grid, sockets=2,numaPerSocket=2,distances=10/11/21,memoryPerNuma=32Gi,")
    assert name == "grid"
    assert params == {"sockets": 2, "numaPerSocket": 2, "distances": "10/11/21", "memoryPerNuma": "32Gi"}
    assert format_preset_arg(name, params) == "grid,sockets=2,numaPerSocket=2,distances=10/11/21,memoryPerNuma=32Gi"
    t = preset_from_arg("grid,sockets=2,numaPerSocket=2,distances=10/11/21,memoryPerNuma=32Gi")
    assert t.numa_nodes[2].memory == 32 * GIB and len(t.numa_ids) == 4


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "preset: expected NAME"),
        ("sockets=2", "preset: expected NAME"),
        ("grid,sockets", "expected param=value"),
        ("grid,=2", "expected param=value"),
        ("grid,sockets=1,sockets=2", "sockets: given twice"),
    ],
)
def test_parse_preset_arg_errors(text: str, match: str) -> None:
    with pytest.raises(PresetError, match=match):
        parse_preset_arg(text)


# -- properties ------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    sockets=st.integers(1, 4),
    nps=st.integers(1, 4),
    cpn=st.integers(1, 12),
    tpc=st.integers(1, 4),
    numbering=st.sampled_from(["interleaved", "contiguous"]),
    split=st.integers(1, 4),
    extra=st.integers(0, 3),
)
def test_random_grids_are_valid_and_counts_match(
    sockets: int, nps: int, cpn: int, tpc: int, numbering: str, split: int, extra: int
) -> None:
    params: dict[str, object] = {
        "sockets": sockets,
        "numaPerSocket": nps,
        "coresPerNuma": cpn,
        "threadsPerCore": tpc,
        "numbering": numbering,
        "cpulessNumaNodes": extra,
    }
    uncores = sockets
    if cpn % split == 0 and split > 1:
        params["uncorePerNuma"] = split
        uncores = sockets * nps * split
    t = get_preset("grid", params)
    numas = sockets * nps
    assert t.num_cpus == numas * cpn * tpc
    assert t.num_cores == numas * cpn
    assert t.num_sockets == sockets
    assert t.num_numa_nodes == numas
    assert t.numa_ids == list(range(numas + extra))
    assert t.cpus_per_core() == tpc
    assert t.num_uncore_caches == uncores
    assert t.all_cpus == (1 << t.num_cpus) - 1
    for core, bits in t.core_cpus.items():
        ids = [c for c in range(t.num_cpus) if (bits >> c) & 1]
        assert core == min(ids) and len(ids) == tpc
        if numbering == "interleaved":
            assert ids == [core + k * t.num_cores for k in range(tpc)]
        else:
            assert ids == list(range(core, core + tpc))
    for numa in range(numas):
        assert len(t.sockets_in_numa_nodes([numa])) == 1
    for a in t.numa_ids:
        assert t.distance(a, a) == 10
        for b in t.numa_ids:
            assert t.distance(a, b) == t.distance(b, a)
    # and it survives the explicit form
    assert _same(topology_from_spec(topology_to_spec(t), "grid"), t)
