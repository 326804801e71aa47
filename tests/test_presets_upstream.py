"""The upstream kubelet test topologies (cpumanager/policy_test.go) as presets."""

from __future__ import annotations

import pytest

from topolet.model.cpuset import format_bits
from topolet.model.presets_upstream import NUMA_NODE_MEMORY, UPSTREAM_GO_NAMES, UPSTREAM_PRESETS

# name -> (CPUs, cores, sockets, NUMA nodes, uncore caches), as the Go tables describe them
# (NumUncoreCache as derived from the CPUs when the table has uncore ids, else one per socket)
COUNTS = {
    "single-socket-ht": (8, 4, 1, 1, 1),
    "dual-socket-ht": (12, 6, 2, 2, 2),
    "dual-socket-no-ht": (8, 8, 2, 2, 2),
    "triple-socket-ht": (18, 9, 3, 3, 3),
    "quad-socket-four-way-ht": (288, 72, 4, 4, 4),
    "dual-socket-multi-numa-per-socket-ht": (80, 40, 2, 4, 2),
    "multi-socket-dual-socket-per-numa-ht": (80, 40, 4, 2, 4),
    "dual-socket-multi-numa-per-socket-ht-large": (256, 128, 2, 8, 2),
    "uncore-dual-socket-no-smt": (16, 16, 2, 1, 4),
    "uncore-single-socket-multi-numa": (16, 16, 1, 2, 4),
    "uncore-single-socket-smt": (16, 8, 1, 1, 2),
    "uncore-single-socket-no-smt": (16, 16, 1, 1, 4),
    "dual-socket-single-numa-per-socket-smt-uncore": (384, 192, 2, 2, 24),
    "single-socket-single-numa-per-socket-smt-small-uncore": (128, 64, 1, 1, 16),
    "single-socket-single-numa-per-socket-no-smt-small-uncore": (64, 64, 1, 1, 16),
    "small-dual-socket-single-numa-per-socket-no-smt-uncore": (64, 64, 2, 2, 8),
    "small-single-socket-single-numa-per-socket-no-smt-uncore": (32, 32, 1, 1, 4),
    "large-single-socket-single-numa-per-socket-smt-uncore": (256, 128, 1, 1, 16),
    "dual-socket-multi-numa-per-socket-uncore": (192, 192, 2, 4, 24),
    "dual-socket-sub-numa-per-socket-ht-monolithic-uncore": (240, 120, 2, 4, 2),
    "single-socket-single-numa-per-socket-pcore-ht-monolithic-uncore": (24, 16, 1, 1, 1),
    "large-single-socket-single-numa-per-socket-uncore": (128, 128, 1, 1, 16),
    "single-socket-single-numa-per-socket-uncore": (64, 64, 1, 1, 1),
}

# (name, cpu) -> (core, socket, NUMA node, uncore) straight from the Go tables
SPOT = {
    ("dual-socket-ht", 7): (1, 1, 1, 1),
    ("dual-socket-ht", 10): (4, 0, 0, 0),
    ("triple-socket-ht", 0): (0, 1, 1, 1),
    ("triple-socket-ht", 7): (3, 0, 0, 0),
    ("triple-socket-ht", 17): (8, 2, 2, 2),
    ("quad-socket-four-way-ht", 0): (0, 0, 0, 0),
    ("quad-socket-four-way-ht", 38): (64, 0, 0, 0),
    ("quad-socket-four-way-ht", 37): (63, 3, 3, 3),
    ("quad-socket-four-way-ht", 287): (62, 3, 3, 3),
    ("quad-socket-four-way-ht", 245): (18, 1, 1, 1),
    ("dual-socket-multi-numa-per-socket-ht", 55): (15, 0, 1, 0),
    ("dual-socket-multi-numa-per-socket-ht", 79): (39, 1, 3, 1),
    ("multi-socket-dual-socket-per-numa-ht", 55): (15, 1, 0, 1),
    ("dual-socket-multi-numa-per-socket-ht-large", 200): (72, 1, 4, 1),
    ("uncore-single-socket-smt", 12): (4, 0, 0, 1),
    ("uncore-single-socket-multi-numa", 9): (9, 0, 1, 2),
    ("dual-socket-single-numa-per-socket-smt-uncore", 383): (191, 1, 1, 23),
    ("dual-socket-single-numa-per-socket-smt-uncore", 200): (8, 0, 0, 1),
    ("dual-socket-sub-numa-per-socket-ht-monolithic-uncore", 150): (30, 0, 1, 0),
    ("dual-socket-multi-numa-per-socket-uncore", 150): (150, 1, 3, 18),
    ("single-socket-single-numa-per-socket-pcore-ht-monolithic-uncore", 7): (7, 0, 0, 0),
    ("single-socket-single-numa-per-socket-pcore-ht-monolithic-uncore", 23): (15, 0, 0, 0),
    ("large-single-socket-single-numa-per-socket-uncore", 127): (127, 0, 0, 15),
}


def test_every_go_table_has_a_preset() -> None:
    assert set(UPSTREAM_PRESETS) == set(COUNTS) == set(UPSTREAM_GO_NAMES)
    assert len(set(UPSTREAM_GO_NAMES.values())) == len(UPSTREAM_GO_NAMES)


@pytest.mark.parametrize("name", sorted(UPSTREAM_PRESETS))
def test_preset_shape(name: str) -> None:
    t = UPSTREAM_PRESETS[name]()
    assert t.name == name
    counts = (t.num_cpus, t.num_cores, t.num_sockets, t.num_numa_nodes, t.num_uncore_caches)
    assert counts == COUNTS[name]
    assert format_bits(t.all_cpus) == f"0-{t.num_cpus - 1}"
    assert sorted(t.numa_nodes) == sorted(t.numa_cpus)
    assert all(n.memory == NUMA_NODE_MEMORY for n in t.numa_nodes.values())
    # SMT siblings share socket and NUMA node (the Topology checks it too)
    for core, mask in t.core_cpus.items():
        assert len({(t.cpu_socket[c], t.cpu_numa[c]) for c in range(t.num_cpus) if mask >> c & 1}) == 1, core


@pytest.mark.parametrize(("key", "expect"), sorted(SPOT.items()))
def test_preset_cpu_details(key: tuple[str, int], expect: tuple[int, int, int, int]) -> None:
    name, cpu = key
    c = UPSTREAM_PRESETS[name]().cpus[cpu]
    assert (c.core, c.socket, c.numa, c.uncore) == expect


def test_go_literal_uncore() -> None:
    t = UPSTREAM_PRESETS["dual-socket-ht"](go_literal_uncore=True)  # type: ignore[call-arg]
    assert {c.uncore for c in t.cpus.values()} == {0}
    assert t.num_uncore_caches == 1
    # tables with explicit uncore ids are unaffected
    a = UPSTREAM_PRESETS["uncore-single-socket-smt"]()
    b = UPSTREAM_PRESETS["uncore-single-socket-smt"](go_literal_uncore=True)  # type: ignore[call-arg]
    assert a.uncore_cpus == b.uncore_cpus


def test_known_layouts() -> None:
    mn = UPSTREAM_PRESETS["dual-socket-multi-numa-per-socket-ht"]()
    assert [format_bits(mn.numa_cpus[n]) for n in range(4)] == [
        "0-9,40-49",
        "10-19,50-59",
        "20-29,60-69",
        "30-39,70-79",
    ]
    q = UPSTREAM_PRESETS["quad-socket-four-way-ht"]()
    assert format_bits(q.socket_cpus[3]).startswith("7-8,19-20,31-32,37,44-45,")
    assert format_bits(q.core_cpus[0]) == "0,109,169,229"
    d2 = UPSTREAM_PRESETS["dual-socket-ht"]()
    assert format_bits(d2.socket_cpus[0]) == "0,2,4,6,8,10"
