"""The kubelet's CPU assignment algorithm (cpumanager/cpu_assignment.go).

The tables are the upstream ``cpu_assignment_test.go`` ones (Kubernetes 1.36),
on the topologies of :mod:`topolet.model.presets_upstream`; ``GOLDEN`` holds
further cases whose expectations were produced by running the real Go code.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from topolet.engine.cpumanager.cpu_assignment import (
    CPU_SORTING_PACKED,
    CPU_SORTING_SPREAD,
    AllocationHang,
    CPUAccumulator,
    _go_append_cap,
    _go_round,
    _iterate_combinations,
    _mean,
    _standard_deviation,
    take_by_topology_numa_distributed,
    take_by_topology_numa_packed,
)
from topolet.engine.errors import AllocationError
from topolet.model import presets_upstream as pu
from topolet.model.cpuset import bits_of, format_bits, list_bits, parse_bits
from topolet.model.topology import Topology

_CACHE: dict[tuple[str, bool], Topology] = {}


def topo(name: str, go_literal_uncore: bool = False) -> Topology:
    key = (name, go_literal_uncore)
    if key not in _CACHE:
        builder: Callable[..., Topology] = pu.UPSTREAM_PRESETS[name]
        _CACHE[key] = builder(go_literal_uncore=go_literal_uncore)
    return _CACHE[key]


def cpus(text: str) -> int:
    return parse_bits(text)


S1 = "single-socket-ht"  # topoSingleSocketHT
D2 = "dual-socket-ht"  # topoDualSocketHT
D2NOHT = "dual-socket-no-ht"  # topoDualSocketNoHT
T3 = "triple-socket-ht"  # topoTripleSocketHT
Q4 = "quad-socket-four-way-ht"  # topoQuadSocketFourWayHT
MN = "dual-socket-multi-numa-per-socket-ht"  # topoDualSocketMultiNumaPerSocketHT
FAKE = "multi-socket-dual-socket-per-numa-ht"  # fakeTopoMultiSocketDualSocketPerNumaHT
LARGE = "dual-socket-multi-numa-per-socket-ht-large"  # topoDualSocketMultiNumaPerSocketHTLarge
U_D2 = "uncore-dual-socket-no-smt"  # topoUncoreDualSocketNoSMT
U_MN = "uncore-single-socket-multi-numa"  # topoUncoreSingleSocketMultiNuma
U_SMT = "uncore-single-socket-smt"  # topoUncoreSingleSocketSMT
U_NOSMT = "uncore-single-socket-no-smt"  # topoUncoreSingleSocketNoSMT


# ---------------------------------------------------------------------------
# TestCPUAccumulatorFreeSockets / FreeNUMANodes / FreeSocketsAndNUMANodes
# ---------------------------------------------------------------------------

FREE_SOCKETS = [
    ("single socket HT, 1 socket free", S1, "0-7", [0]),
    ("single socket HT, 0 sockets free", S1, "1-7", []),
    ("dual socket HT, 2 sockets free", D2, "0-11", [0, 1]),
    ("dual socket HT, 1 socket free", D2, "0-9,11", [1]),
    ("dual socket HT, 0 sockets free", D2, "0,2-9,11", []),
    ("dual socket, multi numa per socket, HT, 2 sockets free", MN, "0-79", [0, 1]),
    ("dual socket, multi numa per socket, HT, 1 sockets free", MN, "1-79", [1]),
    ("dual socket, multi numa per socket, HT, 0 sockets free", MN, "1-78", []),
    ("dual numa, multi socket per per socket, HT, 4 sockets free", FAKE, "0-79", [0, 1, 2, 3]),
    ("dual numa, multi socket per per socket, HT, 3 sockets free", FAKE, "0-19,21-79", [0, 1, 3]),
    ("dual numa, multi socket per per socket, HT, 2 sockets free", FAKE, "0-59,61-78", [0, 1]),
    ("dual numa, multi socket per per socket, HT, 1 sockets free", FAKE, "1-19,21-38,41-60,61-78", [1]),
    ("dual numa, multi socket per per socket, HT, 0 sockets free", FAKE, "0-40,42-49,51-68,71-79", []),
]


@pytest.mark.parametrize(("desc", "name", "avail", "expect"), FREE_SOCKETS, ids=[c[0] for c in FREE_SOCKETS])
def test_free_sockets(desc: str, name: str, avail: str, expect: list[int]) -> None:
    acc = CPUAccumulator(topo(name), cpus(avail), 0, CPU_SORTING_PACKED)
    assert sorted(acc.free_sockets()) == expect


FREE_NUMA_NODES = [
    ("single socket HT, 1 NUMA node free", S1, "0-7", [0]),
    ("single socket HT, 0 NUMA Node free", S1, "1-7", []),
    ("dual socket HT, 2 NUMA Node free", D2, "0-11", [0, 1]),
    ("dual socket HT, 1 NUMA Node free", D2, "0-9,11", [1]),
    ("dual socket HT, 0 NUMA node free", D2, "0,2-9,11", []),
    ("dual socket, multi numa per socket, HT, 4 NUMA Node free", MN, "0-79", [0, 1, 2, 3]),
    ("dual socket, multi numa per socket, HT, 3 NUMA node free", MN, "1-79", [1, 2, 3]),
    ("dual socket, multi numa per socket, HT, 2 NUMA node free", MN, "1-9,11-79", [2, 3]),
    ("dual socket, multi numa per socket, HT, 1 NUMA node free", MN, "1-9,11-59,61-79", [3]),
    ("dual socket, multi numa per socket, HT, 0 NUMA node free", MN, "1-9,11-59,61-78", []),
    ("dual numa, multi socket per per socket, HT, 2 NUMA node free", FAKE, "0-79", [0, 1]),
    ("dual numa, multi socket per per socket, HT, 1 NUMA node free", FAKE, "0-9,11-79", [1]),
    ("dual numa, multi socket per per socket, HT, 0 sockets free", FAKE, "0-9,11-59,61-79", []),
]


@pytest.mark.parametrize(("desc", "name", "avail", "expect"), FREE_NUMA_NODES, ids=[c[0] for c in FREE_NUMA_NODES])
def test_free_numa_nodes(desc: str, name: str, avail: str, expect: list[int]) -> None:
    acc = CPUAccumulator(topo(name), cpus(avail), 0, CPU_SORTING_PACKED)
    assert acc.free_numa_nodes() == expect


FREE_SOCKETS_AND_NUMA = [
    ("dual socket, multi numa per socket, HT, 2 Socket/4 NUMA Node free", MN, "0-79", [0, 1], [0, 1, 2, 3]),
    ("dual socket, multi numa per socket, HT, 1 Socket/3 NUMA node free", MN, "1-79", [1], [1, 2, 3]),
    ("dual socket, multi numa per socket, HT, 1 Socket/ 2 NUMA node free", MN, "1-9,11-79", [1], [2, 3]),
    ("dual socket, multi numa per socket, HT, 0 Socket/ 2 NUMA node free", MN, "1-59,61-79", [], [1, 3]),
]


@pytest.mark.parametrize(
    ("desc", "name", "avail", "sockets", "numas"),
    FREE_SOCKETS_AND_NUMA,
    ids=[c[0] for c in FREE_SOCKETS_AND_NUMA],
)
def test_free_sockets_and_numa_nodes(desc: str, name: str, avail: str, sockets: list[int], numas: list[int]) -> None:
    acc = CPUAccumulator(topo(name), cpus(avail), 0, CPU_SORTING_PACKED)
    assert acc.free_numa_nodes() == numas
    assert acc.free_sockets() == sockets


# ---------------------------------------------------------------------------
# TestCPUAccumulatorFreeCores / FreeCPUs / Take
# ---------------------------------------------------------------------------

FREE_CORES = [
    ("single socket HT, 4 cores free", S1, "0-7", [0, 1, 2, 3]),
    ("single socket HT, 3 cores free", S1, "0-2,4-6", [0, 1, 2]),
    ("single socket HT, 3 cores free (1 partially consumed)", S1, "0-6", [0, 1, 2]),
    ("single socket HT, 0 cores free", S1, "", []),
    ("single socket HT, 0 cores free (4 partially consumed)", S1, "0-3", []),
    ("dual socket HT, 6 cores free", D2, "0-11", [0, 2, 4, 1, 3, 5]),
    ("dual socket HT, 5 cores free (1 consumed from socket 0)", D2, "1-5,7-11", [2, 4, 1, 3, 5]),
    ("dual socket HT, 4 cores free (1 consumed from each socket)", D2, "2-5,8-11", [2, 4, 3, 5]),
]


@pytest.mark.parametrize(("desc", "name", "avail", "expect"), FREE_CORES, ids=[c[0] for c in FREE_CORES])
def test_free_cores(desc: str, name: str, avail: str, expect: list[int]) -> None:
    acc = CPUAccumulator(topo(name), cpus(avail), 0, CPU_SORTING_PACKED)
    assert acc.free_cores() == expect


FREE_CPUS = [
    ("single socket HT, 8 cpus free", S1, "0-7", [0, 4, 1, 5, 2, 6, 3, 7]),
    ("single socket HT, 5 cpus free", S1, "3-7", [4, 5, 6, 3, 7]),
    ("dual socket HT, 12 cpus free", D2, "0-11", [0, 6, 2, 8, 4, 10, 1, 7, 3, 9, 5, 11]),
    ("dual socket HT, 11 cpus free", D2, "1-11", [6, 2, 8, 4, 10, 1, 7, 3, 9, 5, 11]),
    ("dual socket HT, 10 cpus free", D2, "1-5,7-11", [2, 8, 4, 10, 1, 7, 3, 9, 5, 11]),
    ("triple socket HT, 12 cpus free", T3, "0-3,6-13", [12, 13, 0, 1, 2, 3, 6, 7, 8, 9, 10, 11]),
]


@pytest.mark.parametrize(("desc", "name", "avail", "expect"), FREE_CPUS, ids=[c[0] for c in FREE_CPUS])
def test_free_cpus(desc: str, name: str, avail: str, expect: list[int]) -> None:
    acc = CPUAccumulator(topo(name), cpus(avail), 0, CPU_SORTING_PACKED)
    assert acc.free_cpus() == expect


ACC_TAKE = [
    ("take 0 cpus from a single socket HT, require 1", S1, "0-7", [""], 1, False, False),
    ("take 0 cpus from a single socket HT, require 1, none available", S1, "", [""], 1, False, True),
    ("take 1 cpu from a single socket HT, require 1", S1, "0-7", ["0"], 1, True, False),
    ("take 1 cpu from a single socket HT, require 2", S1, "0-7", ["0"], 2, False, False),
    ("take 2 cpu from a single socket HT, require 4, expect failed", S1, "0-2", ["0", "1"], 4, False, True),
    (
        "take all cpus one at a time from a single socket HT, require 8",
        S1,
        "0-7",
        [str(i) for i in range(8)],
        8,
        True,
        False,
    ),
]


@pytest.mark.parametrize(
    ("desc", "name", "avail", "takes", "num_cpus", "satisfied", "failed"),
    ACC_TAKE,
    ids=[c[0] for c in ACC_TAKE],
)
def test_accumulator_take(
    desc: str, name: str, avail: str, takes: list[str], num_cpus: int, satisfied: bool, failed: bool
) -> None:
    acc = CPUAccumulator(topo(name), cpus(avail), num_cpus, CPU_SORTING_PACKED)
    total = 0
    for t in takes:
        acc.take(cpus(t))
        total += cpus(t).bit_count()
    assert acc.is_satisfied() == satisfied
    assert acc.is_failed() == failed
    for t in takes:
        assert cpus(t) & acc.free == 0
        assert cpus(t) & ~acc.result == 0
    assert acc.needed == num_cpus - total


# ---------------------------------------------------------------------------
# TestTakeByTopologyNUMAPacked / TestTakeByTopologyNUMADistributed
# ---------------------------------------------------------------------------

# (description, topology, available, numCPUs, expected error, expected result)
COMMON = [
    (
        "take more cpus than are available from single socket with HT",
        S1,
        "0,2,4,6",
        5,
        "not enough cpus available to satisfy request: requested=5, available=4",
        "",
    ),
    ("take zero cpus from single socket with HT", S1, "0-7", 0, "", ""),
    ("take one cpu from single socket with HT", S1, "0-7", 1, "", "0"),
    ("take one cpu from single socket with HT, some cpus are taken", S1, "1,3,5,6,7", 1, "", "6"),
    ("take two cpus from single socket with HT", S1, "0-7", 2, "", "0,4"),
    ("take all cpus from single socket with HT", S1, "0-7", 8, "", "0-7"),
    ("take two cpus from single socket with HT, only one core totally free", S1, "0-3,6", 2, "", "2,6"),
    ("take a socket of cpus from dual socket with HT", D2, "0-11", 6, "", "0,2,4,6,8,10"),
    (
        "take a socket of cpus from dual socket with multi-numa-per-socket with HT",
        MN,
        "0-79",
        40,
        "",
        "0-19,40-59",
    ),
    (
        "take a NUMA node of cpus from dual socket with multi-numa-per-socket with HT",
        MN,
        "0-79",
        20,
        "",
        "0-9,40-49",
    ),
    (
        "take a NUMA node of cpus from dual socket with multi-numa-per-socket with HT, with 1 NUMA node already taken",
        MN,
        "10-39,50-79",
        20,
        "",
        "10-19,50-59",
    ),
    (
        "take a socket and a NUMA node of cpus from dual socket with multi-numa-per-socket with HT",
        MN,
        "0-79",
        60,
        "",
        "0-29,40-69",
    ),
    (
        "take a socket and a NUMA node of cpus from dual socket with multi-numa-per-socket with HT, a core taken",
        MN,
        "1-39,41-79",
        60,
        "",
        "10-39,50-79",
    ),
]

# (description, topology, go-literal uncore ids, uncore option, available, numCPUs, error, result)
PACKED_EXTRA = [
    ("take one cpu from dual socket with HT - core from Socket 0", D2, False, False, "1-5,7-11", 1, "", "2"),
    (
        "allocate 4 full cores with 3 coming from the first NUMA node (filling it up) "
        "and 1 coming from the second NUMA node",
        D2,
        False,
        False,
        "0-11",
        8,
        "",
        "0,6,2,8,4,10,1,7",
    ),
    (
        "allocate 32 full cores with 30 coming from the first 3 NUMA nodes (filling them up) "
        "and 2 coming from the fourth NUMA node",
        MN,
        False,
        False,
        "0-79",
        64,
        "",
        "0-29,40-69,30,31,70,71",
    ),
    # PreferAlignByUncoreCache
    (
        "take cpus from two full UncoreCaches and partial from a single UncoreCache",
        U_NOSMT,
        False,
        True,
        "1-15",
        10,
        "",
        "1,2,4-11",
    ),
    # the Go table leaves UncoreCacheID at 0 on every CPU of topoDualSocketHT
    ("take one cpu from dual socket with HT - core from Socket 0", D2, True, True, "1-5,7-11", 1, "", "1"),
    ("take first available UncoreCache from first socket", U_D2, False, True, "0-15", 4, "", "0-3"),
    ("take all available UncoreCache from first socket", U_D2, False, True, "2-15", 6, "", "2-7"),
    ("take first available UncoreCache from second socket", U_D2, False, True, "8-15", 4, "", "8-11"),
    ("take first available UncoreCache from available NUMA", U_MN, False, True, "3,4-8,12", 2, "", "4,5"),
    (
        "take cpus from best available UncoreCache group of multi uncore cache single socket - SMT enabled",
        U_SMT,
        False,
        True,
        "2-3,10-11,4-7,12-15",
        6,
        "",
        "4,5,6,12,13,14",
    ),
    (
        "take cpus from multiple UncoreCache of single socket - SMT enabled",
        U_SMT,
        False,
        True,
        "1-7,9-15",
        10,
        "",
        "4-7,12-15,1,9",
    ),
]

PACKED_CASES = [(d, t, False, False, a, n, e, r) for d, t, a, n, e, r in COMMON] + PACKED_EXTRA


def _check(fn: Callable[[], int], err: str, result: str) -> None:
    if err:
        with pytest.raises(AllocationError) as exc:
            fn()
        assert str(exc.value) == err
        return
    assert fn() == cpus(result)


@pytest.mark.parametrize(
    ("desc", "name", "literal", "uncore", "avail", "num_cpus", "err", "result"),
    PACKED_CASES,
    ids=[f"{i}:{c[0]}" for i, c in enumerate(PACKED_CASES)],
)
def test_take_by_topology_numa_packed(
    desc: str, name: str, literal: bool, uncore: bool, avail: str, num_cpus: int, err: str, result: str
) -> None:
    t = topo(name, literal)
    _check(lambda: take_by_topology_numa_packed(t, cpus(avail), num_cpus, CPU_SORTING_PACKED, uncore), err, result)


SPREAD_CASES = [
    ("take a socket of cpus from single socket with HT, 3 cpus", S1, "0-7", 3, "0-2"),
    ("take a socket of cpus from dual socket with HT, 2 cpus", D2, "0-11", 2, "0,2"),
    ("take a socket of cpus from dual socket with HT, 3 cpus", D2, "0-11", 3, "0,2,4"),
    ("take a socket of cpus from dual socket with HT, 6 cpus", D2, "0-11", 6, "0,2,4,6,8,10"),
    ("take cpus from dual socket with HT, 8 cpus", D2, "0-11", 8, "0,2,4,6,8,10,1,3"),
    ("take a socket of cpus from dual socket without HT, 2 cpus", D2NOHT, "0-7", 2, "0,1"),
    (
        "take a socket of cpus from dual socket with multi numa per socket and HT, 12 cpus",
        MN,
        "0-79",
        8,
        "0-7",
    ),
    (
        "take a socket of cpus from quad socket four way with HT, 12 cpus",
        Q4,
        "0-287",
        12,
        "0-2,9-10,13-14,21-22,25-26,33",
    ),
]


@pytest.mark.parametrize(
    ("desc", "name", "avail", "num_cpus", "result"), SPREAD_CASES, ids=[c[0] for c in SPREAD_CASES]
)
def test_take_by_topology_spread_physical_cpus_preferred(
    desc: str, name: str, avail: str, num_cpus: int, result: str
) -> None:
    got = take_by_topology_numa_packed(topo(name), cpus(avail), num_cpus, CPU_SORTING_SPREAD, False)
    assert got == cpus(result)


# (description, topology, available, numCPUs, cpuGroupSize, error, result)
DISTRIBUTED_EXTENDED = [
    ("allocate 4 full cores with 2 distributed across each NUMA node", D2, "0-11", 8, 1, "", "0,6,2,8,1,7,3,9"),
    (
        "allocate 32 full cores with 8 distributed across each NUMA node",
        MN,
        "0-79",
        64,
        1,
        "",
        "0-7,10-17,20-27,30-37,40-47,50-57,60-67,70-77",
    ),
    (
        "allocate 24 full cores with 8 distributed across the first 3 NUMA nodes",
        MN,
        "0-79",
        48,
        1,
        "",
        "0-7,10-17,20-27,40-47,50-57,60-67",
    ),
    (
        "allocate 24 full cores with 8 distributed across the first 3 NUMA nodes "
        "(taking all but 2 from the first NUMA node)",
        MN,
        "1-29,32-39,41-69,72-79",
        48,
        1,
        "",
        "1-8,10-17,20-27,41-48,50-57,60-67",
    ),
    (
        "allocate 24 full cores with 8 distributed across the last 3 NUMA nodes "
        "(even though all 8 could be allocated from the first NUMA node)",
        MN,
        "2-29,31-39,42-69,71-79",
        48,
        1,
        "",
        "10-17,20-27,31-38,50-57,60-67,71-78",
    ),
    (
        "allocate 8 full cores with 2 distributed across each NUMA node",
        MN,
        "0-2,10-12,20-22,30-32,40-41,50-51,60-61,70-71",
        16,
        1,
        "",
        "0-1,10-11,20-21,30-31,40-41,50-51,60-61,70-71",
    ),
]

DISTRIBUTED_EXTRA = [
    ("take one cpu from dual socket with HT - core from Socket 0", D2, "1-5,7-11", 1, 1, "", "1"),
    (
        "take one cpu from dual socket with HT - core from Socket 0 - cpuGroupSize 2",
        D2,
        "1-5,7-11",
        1,
        2,
        "",
        "2",
    ),
    (
        "allocate 13 full cores distributed across the first 2 NUMA nodes",
        MN,
        "0-79",
        26,
        1,
        "",
        "0-6,10-16,40-45,50-55",
    ),
    (
        "allocate 13 full cores distributed across the first 2 NUMA nodes (cpuGroupSize 2)",
        MN,
        "0-79",
        26,
        2,
        "",
        "0-6,10-15,40-46,50-55",
    ),
    (
        "allocate 31 full cores with 15 CPUs distributed across each NUMA node "
        "and 1 CPU spilling over to each of NUMA 0, 1",
        MN,
        "0-79",
        62,
        1,
        "",
        "0-7,10-17,20-27,30-37,40-47,50-57,60-66,70-76",
    ),
    (
        "allocate 31 full cores with 14 CPUs distributed across each NUMA node "
        "and 2 CPUs spilling over to each of NUMA 0, 1, 2 (cpuGroupSize 2)",
        MN,
        "0-79",
        62,
        2,
        "",
        "0-7,10-17,20-27,30-36,40-47,50-57,60-67,70-76",
    ),
    (
        "allocate 31 full cores with 15 CPUs distributed across each NUMA node "
        "and 1 CPU spilling over to each of NUMA 2, 3 (to keep balance)",
        MN,
        "0-8,10-18,20-39,40-48,50-58,60-79",
        62,
        1,
        "",
        "0-7,10-17,20-27,30-37,40-46,50-56,60-67,70-77",
    ),
    (
        "allocate 31 full cores with 14 CPUs distributed across each NUMA node "
        "and 2 CPUs spilling over to each of NUMA 0, 2, 3 (to keep balance with cpuGroupSize 2)",
        MN,
        "0-8,10-18,20-39,40-48,50-58,60-79",
        62,
        2,
        "",
        "0-7,10-16,20-27,30-37,40-47,50-56,60-67,70-77",
    ),
    (
        "ensure bestRemainder chosen with NUMA nodes that have enough CPUs to satisfy the request",
        MN,
        "0-3,10-13,20-23,30-36,40-43,50-53,60-63,70-76",
        34,
        1,
        "",
        "0-3,10-13,20-23,30-34,40-43,50-53,60-63,70-74",
    ),
    (
        "ensure previous failure encountered on live machine has been fixed (1/1)",
        LARGE,
        "0,128,30,31,158,159,43-47,171-175,62,63,190,191,75-79,203-207,94,96,222,223,101-111,229-239,126,127,254,255",
        28,
        1,
        "",
        "43-47,75-79,96,101-105,171-174,203-206,229-232",
    ),
]

DISTRIBUTED_CASES = [(d, t, a, n, 1, e, r) for d, t, a, n, e, r in COMMON] + DISTRIBUTED_EXTENDED
DISTRIBUTED_CASES += DISTRIBUTED_EXTRA


@pytest.mark.parametrize(
    ("desc", "name", "avail", "num_cpus", "group", "err", "result"),
    DISTRIBUTED_CASES,
    ids=[f"{i}:{c[0]}" for i, c in enumerate(DISTRIBUTED_CASES)],
)
def test_take_by_topology_numa_distributed(
    desc: str, name: str, avail: str, num_cpus: int, group: int, err: str, result: str
) -> None:
    t = topo(name)
    _check(
        lambda: take_by_topology_numa_distributed(t, cpus(avail), num_cpus, group, CPU_SORTING_PACKED),
        err,
        result,
    )


# the extended common cases run through the packed algorithm too, as upstream's
# commonTakeByTopologyExtendedTestCases do for the distributed one
@pytest.mark.parametrize(
    ("desc", "name", "avail", "num_cpus", "group", "err", "result"),
    [c for c in DISTRIBUTED_CASES if c[4] == 1 and c[1] == S1],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_distributed_equals_packed_on_single_numa(
    desc: str, name: str, avail: str, num_cpus: int, group: int, err: str, result: str
) -> None:
    t = topo(name)
    if err:
        return
    assert take_by_topology_numa_packed(
        t, cpus(avail), num_cpus, CPU_SORTING_PACKED, False
    ) == take_by_topology_numa_distributed(t, cpus(avail), num_cpus, group, CPU_SORTING_PACKED)


# Topologies that the presets do not cover: groups spanning two parents (listed once per
# parent, as in Go), sockets of unequal size ("free" judged by the average). Each item is
# cpu:core:socket:numa:uncore.
ODD_TOPOLOGIES: dict[str, str] = {
    "odd0": (
        "0:0:2:0:2 1:1:1:2:1 2:2:1:3:1 3:3:1:0:3 4:4:0:0:2 5:4:0:0:2 6:2:1:3:1 7:7:2:1:0 "
        "8:8:2:0:1 9:9:1:1:3 10:7:2:1:0 11:8:2:0:1 12:3:1:0:3 13:0:2:0:2 14:1:1:2:1 "
        "15:15:1:1:3 16:15:1:1:3 17:9:1:1:3"
    ),
    "odd1": (
        "0:0:0:4:0 1:1:0:0:1 2:2:0:1:1 3:3:1:2:3 4:4:0:0:1 5:5:0:4:1 6:6:1:3:5 7:7:0:1:5 "
        "8:8:1:1:2 9:9:1:0:2 10:10:0:4:5 11:11:1:1:4 12:12:0:2:2"
    ),
    "odd2": "0:0:0:0:0 1:1:0:0:0 2:2:0:0:0 3:3:0:0:0 4:4:0:0:0 5:5:1:0:1 6:6:1:0:1",
    "odd3": "0:0:0:0:0 1:1:1:1:1 2:2:1:1:2",
    "odd4": (
        "0:0:1:2:0 1:1:2:0:0 2:2:0:0:0 3:3:1:1:0 4:4:1:1:0 5:5:2:0:0 6:3:1:1:0 7:4:1:1:0 "
        "8:8:0:1:0 9:9:0:0:0 10:2:0:0:0 11:11:1:2:0 12:12:0:2:0 13:11:1:2:0 14:9:0:0:0 "
        "15:0:1:2:0 16:16:2:1:0 17:1:2:0:0 18:18:2:3:0 19:19:0:3:0 20:20:0:0:0 21:21:2:2:0 "
        "22:22:1:1:0 23:23:0:0:0 24:22:1:1:0 25:25:2:2:0 26:19:0:3:0 27:16:2:1:0 28:21:2:2:0 "
        "29:25:2:2:0 30:18:2:3:0 31:5:2:0:0 32:8:0:1:0 33:23:0:0:0 34:20:0:0:0 35:12:0:2:0"
    ),
    "odd5": (
        "0:0:0:0:1 1:1:1:3:1 2:2:1:4:1 3:3:1:3:0 4:4:0:3:0 5:5:1:3:1 6:6:1:4:1 7:7:1:3:0 "
        "8:8:0:0:1 9:9:0:0:1 10:10:0:2:3 11:11:1:2:1 12:12:0:3:0 13:13:1:1:1"
    ),
    "odd6": (
        "0:0:1:3:1 1:1:1:0:0 2:2:1:2:2 3:0:1:3:1 4:4:1:0:3 5:5:0:1:2 6:6:2:1:1 7:5:0:1:2 "
        "8:8:1:3:2 9:1:1:0:0 10:10:0:2:2 11:11:1:2:0 12:6:2:1:1 13:13:2:3:0 14:13:2:3:0 "
        "15:15:2:1:1 16:16:1:1:3 17:17:0:0:0 18:18:1:2:2 19:4:1:0:3 20:20:0:2:3 21:21:1:2:3 "
        "22:11:1:2:0 23:23:0:3:2 24:24:2:1:1 25:24:2:1:1 26:2:1:2:2 27:21:1:2:2 28:10:0:2:2 "
        "29:23:0:3:2 30:30:0:1:2 31:18:1:2:2 32:30:0:1:2 33:8:1:3:2 34:16:1:1:3 35:17:0:0:1 "
        "36:20:0:2:3 37:15:2:1:1"
    ),
}

# (topology, go-literal uncore, algorithm, sorting, uncore option, group size, available,
#  numCPUs, expected: a CPU list, "ERR:<message>" or "HANG"), from the real Go code
GOLDEN: list[tuple[str, bool, str, str, bool, int, str, int, str]] = [
    ("dual-socket-ht", False, "distributed", "packed", False, 2, "1,3,10", 1, "10"),
    (
        "single-socket-single-numa-per-socket-uncore",
        False,
        "packed",
        "packed",
        True,
        1,
        "0,2-4,6,8,10-12,15-17,19-20,22,24-29,31-32,36-40,42-45,47,49-51,54,57-62",
        36,
        "0,2-4,6,8,10-12,15-17,19-20,22,24-29,31-32,36-40,42-45,47,49-51",
    ),
    ("single-socket-ht", False, "distributed", "spread", False, 2, "0-7", 6, "0-5"),
    (
        "single-socket-single-numa-per-socket-pcore-ht-monolithic-uncore",
        False,
        "packed",
        "packed",
        False,
        1,
        "1,3,8,11,16",
        2,
        "1,3",
    ),
    (
        "single-socket-single-numa-per-socket-smt-small-uncore",
        False,
        "distributed",
        "spread",
        False,
        2,
        (
            "0-1,3-4,8,10,12-13,15,17,19-21,25,27,29-30,34,36,38-39,41,44,46-47,49-50,52,54,"
            "57-58,60-61,63-67,69-70,73,78,80-83,86,88-89,92-96,99-102,105-108,113-114,116-120,"
            "122,124,127"
        ),
        8,
        "0-1,3-4,8,10,12-13",
    ),
    (
        "large-single-socket-single-numa-per-socket-uncore",
        False,
        "distributed",
        "packed",
        False,
        1,
        "0,2-28,30-52,54-81,84-91,93-105,107-113,115-127",
        103,
        "0,2-28,30-52,54-81,84-91,93-105,107-109",
    ),
    (
        "small-single-socket-single-numa-per-socket-no-smt-uncore",
        False,
        "packed",
        "spread",
        True,
        1,
        "4,14,17,22-23,25-26",
        3,
        "17,22-23",
    ),
    (
        "dual-socket-multi-numa-per-socket-uncore",
        False,
        "distributed",
        "packed",
        False,
        1,
        (
            "0-1,3-5,8-11,14,16-18,23,26,28,30,34,37-38,41,43-44,47-48,51-54,57-58,60-63,65-68,"
            "70,78,83,85-86,88,90-93,95,97,99-103,108-111,113,115,117,120,122-125,128,131-132,"
            "134,137-140,142-148,151,153-156,158-160,162-164,166-170,174-177,179-180,182,184,"
            "187-191"
        ),
        1,
        "144",
    ),
    (
        "dual-socket-multi-numa-per-socket-ht",
        False,
        "distributed",
        "spread",
        False,
        2,
        "0-79",
        54,
        "0-29,40-47,50-57,60-67",
    ),
    (
        "uncore-single-socket-smt",
        False,
        "distributed",
        "packed",
        False,
        1,
        "0-2,4,6-13,15",
        8,
        "0-2,4,8-10,12",
    ),
    (
        "small-dual-socket-single-numa-per-socket-no-smt-uncore",
        False,
        "distributed",
        "packed",
        False,
        1,
        "0-6,8-12,14-17,19-27,29-37,39-44,46-48,50-53,55-62",
        13,
        "0-6,8-12,14",
    ),
    (
        "dual-socket-sub-numa-per-socket-ht-monolithic-uncore",
        False,
        "distributed",
        "packed",
        False,
        1,
        (
            "1-6,8-9,11-12,14-18,20,22-24,27,31-43,45-46,48-55,57-59,61-67,70,72,74,76-77,80,82,"
            "84,86-98,100-102,104-111,113-114,117-118,120-127,130,132-141,143-149,151-154,"
            "157-169,171,173-175,178-181,184-185,187-199,201,203,205-211,213-218,220-221,223-232,"
            "234-237"
        ),
        125,
        (
            "1-6,8-9,11-12,14-18,20,23-24,27,31-43,45-46,48-49,51,53-55,58,90-98,100-102,104-111,"
            "114,117,120-127,130,132-141,143-144,147,151-154,157-163,165-166,168-169,171,173-175,"
            "178,210-211,213-218,220-221,224-231,234,237"
        ),
    ),
    ("dual-socket-ht", True, "distributed", "packed", False, 2, "0-11", 1, "0"),
    ("uncore-single-socket-no-smt", False, "packed", "packed", False, 1, "1,3-4,6-9,11-12,14", 2, "1,3"),
    (
        "single-socket-single-numa-per-socket-uncore",
        False,
        "packed",
        "spread",
        True,
        1,
        "0-4,6-13,15-21,23-29,31-39,41-44,46,48-63",
        5,
        "0-4",
    ),
    ("uncore-single-socket-smt", False, "packed", "spread", False, 1, "1-15", 10, "1-10"),
    ("uncore-single-socket-multi-numa", False, "distributed", "spread", False, 1, "0-15", 14, "0-6,8-14"),
    (
        "dual-socket-multi-numa-per-socket-ht",
        False,
        "distributed",
        "spread",
        False,
        2,
        ("0-3,5-7,9-10,12-15,19-20,22-24,26-28,31,34-37,39,41,43-48,50-52,54,56-60,62-63,65-68,70-79"),
        9,
        "0-3,5-7,9-10",
    ),
    (
        "dual-socket-multi-numa-per-socket-ht",
        True,
        "packed",
        "packed",
        True,
        1,
        "0-2,4-5,7-11,13-18,20-24,26-29,31-34,36-39,41-42,44-48,50-51,53-54,57,59-66,68-79",
        20,
        "1-2,4-5,7,10-11,13-14,17,41-42,44-45,47,50-51,53-54,57",
    ),
    (
        "single-socket-single-numa-per-socket-uncore",
        False,
        "distributed",
        "spread",
        False,
        1,
        "0-63",
        21,
        "0-20",
    ),
    (
        "dual-socket-sub-numa-per-socket-ht-monolithic-uncore",
        False,
        "packed",
        "packed",
        False,
        1,
        "0-239",
        218,
        "0-108,120-228",
    ),
    (
        "uncore-single-socket-multi-numa",
        False,
        "packed",
        "spread",
        True,
        1,
        "0-5,8-9,11-15",
        11,
        "0-3,8-9,11-15",
    ),
    (
        "large-single-socket-single-numa-per-socket-uncore",
        False,
        "packed",
        "packed",
        True,
        1,
        (
            "0-2,4-6,8,10-11,14-16,18-23,25-29,31,33-37,39-41,43,45-47,49-50,52,55-56,58-60,62,"
            "64-73,75-79,82,84-86,88-89,91-93,96-97,100-103,105,109-111,113-115,119-120,122-125"
        ),
        49,
        "0-2,4-6,8,10-11,14-16,18-23,25-29,31,33-37,39-41,43,45-47,49-50,52,55-56,64-71",
    ),
    (
        "single-socket-single-numa-per-socket-no-smt-small-uncore",
        False,
        "distributed",
        "packed",
        False,
        1,
        "0-63",
        52,
        "0-51",
    ),
    ("dual-socket-ht", False, "packed", "packed", True, 1, "0-11", 2, "0,6"),
    (
        "dual-socket-multi-numa-per-socket-ht",
        True,
        "distributed",
        "spread",
        False,
        2,
        "0,4,7,10,13,15,23-24,26,32,34,36,39-40,42,47,57,60,64-65,67-68,73,75-76",
        2,
        "23-24",
    ),
    ("triple-socket-ht", False, "packed", "spread", False, 2, "0-17", 1, "6"),
    ("dual-socket-multi-numa-per-socket-ht", True, "distributed", "packed", False, 1, "0-79", 6, "0-2,40-42"),
    (
        "dual-socket-sub-numa-per-socket-ht-monolithic-uncore",
        False,
        "distributed",
        "spread",
        False,
        1,
        (
            "2,5-7,10,15-17,21,26,31,34-35,38,44-47,50,53,56-57,60,63,65,69,72,76,78,82,84,90,92,"
            "94,96,100-101,106,118,120,125-127,130,133,135,137,148,159,163,165,168,170,180,183,"
            "188-190,192,200,211,214,217-218,220,222-223,225,229-231,234"
        ),
        9,
        "90,92,94,96,100-101,106,118,211",
    ),
    (
        "large-single-socket-single-numa-per-socket-smt-uncore",
        False,
        "distributed",
        "packed",
        False,
        2,
        (
            "0,2-7,9-22,24-29,31-32,34-49,51-59,61-67,69-77,79-100,102,104-106,108-122,124-136,"
            "138-142,144-161,163-178,180-187,189-192,194-200,202-208,210-239,241-243,246-255"
        ),
        39,
        "0,2-7,10-14,16-22,128-135,138-142,144-150",
    ),
    ("uncore-dual-socket-no-smt", False, "packed", "spread", True, 1, "1,5-9,12-13", 5, "1,5-8"),
    ("dual-socket-multi-numa-per-socket-ht", True, "packed", "packed", False, 2, "0-79", 26, "0-12,40-52"),
    ("dual-socket-ht", False, "packed", "packed", False, 2, "0,2,6-9", 4, "0,2,6,8"),
    ("dual-socket-no-ht", False, "distributed", "packed", False, 1, "0,3-4,6", 1, "0"),
    (
        "single-socket-single-numa-per-socket-pcore-ht-monolithic-uncore",
        False,
        "distributed",
        "packed",
        False,
        1,
        "0,2-3,5,10-11,14,18,20-21,23",
        10,
        "0,2-3,5,11-13,19-21",
    ),
    ("uncore-single-socket-multi-numa", False, "packed", "packed", True, 1, "0,6,8,15", 1, "0"),
    (
        "dual-socket-multi-numa-per-socket-ht",
        True,
        "packed",
        "packed",
        True,
        1,
        ("3-4,8-9,14-16,18,20,22,25-26,29,33-34,36,39-42,44-47,49,52,54-55,57-59,63-65,67-68,70,74,76,79"),
        20,
        "4,9,14-15,18,25,33-34,36,39,44,49,54-55,58,65,70,74,76,79",
    ),
    (
        "small-dual-socket-single-numa-per-socket-no-smt-uncore",
        False,
        "packed",
        "spread",
        True,
        1,
        "0-11,13-14,16-17,19-24,26-32,34-35,37-39,41-50,52,54-58,60,62-63",
        2,
        "32,34",
    ),
    (
        "large-single-socket-single-numa-per-socket-smt-uncore",
        False,
        "packed",
        "spread",
        True,
        1,
        (
            "2-3,5-7,9-13,15-18,20,22-24,27-30,32-33,35,38-41,43-44,46-50,52-53,55,57,59-60,"
            "62-68,70-72,74-75,77-82,85-86,88-89,91,93-101,103,105-108,112,115,117-118,120-124,"
            "126-127,130-131,134-137,140-142,145,147-148,150,152-153,157-165,167-172,174-177,"
            "179-182,184,187-189,191-194,197-205,208,210-232,234-235,237,240,242-243,245-249,"
            "251-252,255"
        ),
        62,
        (
            "2-3,5-7,9-13,15-18,20,22-24,27-30,32-33,35,38-41,43-44,46-50,52-53,55,57,59-60,"
            "62-68,70-72,74-75,77-82,85-86"
        ),
    ),
    (
        "large-single-socket-single-numa-per-socket-smt-uncore",
        False,
        "packed",
        "spread",
        False,
        1,
        (
            "0-3,5-7,9-12,14,19-25,27-40,44-50,52-63,65-69,71-76,78-81,83-84,86-93,96-98,100-102,"
            "104,106,109,111,113-127,130-131,135-137,139-141,144-146,148-150,152-154,156-157,"
            "159-160,162,165-169,171,176,180-184,186-189,191-192,194-196,198-201,203,205-206,208,"
            "211,214-222,224-232,234,237-243,245,247-251,253"
        ),
        56,
        "0-3,5-7,9-12,14,19-25,27-40,44-50,52-63,65-68",
    ),
    ("uncore-single-socket-multi-numa", False, "packed", "spread", False, 1, "3,6", 2, "3,6"),
    ("triple-socket-ht", False, "distributed", "packed", False, 2, "0-17", 1, "6"),
    (
        "single-socket-single-numa-per-socket-no-smt-small-uncore",
        False,
        "distributed",
        "spread",
        False,
        1,
        "0-1,4-6,8-9,11,13,15,18,20-27,29,31,34,44-45,48-56,60,63",
        3,
        "0-1,4",
    ),
    (
        "small-single-socket-single-numa-per-socket-no-smt-uncore",
        False,
        "packed",
        "spread",
        True,
        1,
        "0-10,12-31",
        7,
        "8-10,12-15",
    ),
    ("dual-socket-ht", True, "packed", "packed", False, 2, "2,4,6,8", 2, "2,8"),
    ("uncore-single-socket-multi-numa", False, "distributed", "spread", False, 1, "0-15", 3, "0-2"),
    (
        "dual-socket-sub-numa-per-socket-ht-monolithic-uncore",
        False,
        "packed",
        "packed",
        False,
        2,
        (
            "3,7-11,13-14,18-19,21-22,24,26-27,30-32,35-36,38,41-42,44-45,48,50-52,54-56,59,62,"
            "64,66,69-70,73-74,76,79-81,84-85,87,89-90,92-94,96-100,112,117,119-120,122,125-126,"
            "130,135,137-139,141-142,144-147,149-156,159,170-175,177,179-180,185-189,192-194,199,"
            "201,203,207,211,215-216,218-221,223-224,229-231,234-238"
        ),
        7,
        "66,69,73,180,186,189,193",
    ),
    ("dual-socket-no-ht", False, "packed", "packed", False, 1, "0-7", 1, "0"),
    ("triple-socket-ht", True, "packed", "spread", True, 1, "0,7,15-16", 1, "0"),
    ("single-socket-ht", False, "packed", "packed", True, 2, "0-1,5-6", 1, "0"),
    ("uncore-single-socket-multi-numa", False, "distributed", "spread", False, 1, "3,7,11-12", 1, "3"),
    ("uncore-single-socket-smt", False, "packed", "packed", True, 2, "0-7,9,12-15", 11, "0-1,4-7,9,12-15"),
    ("dual-socket-ht", True, "packed", "packed", False, 1, "4-5,8,11", 1, "8"),
    (
        "dual-socket-multi-numa-per-socket-uncore",
        False,
        "packed",
        "packed",
        True,
        1,
        (
            "0,3-11,13-19,21-24,26-32,34,36,38-42,44-47,49-53,55-57,59-65,67-68,70-77,79-81,"
            "83-104,106-118,120-146,148-157,160-191"
        ),
        5,
        "32,34,36,38-39",
    ),
    ("dual-socket-no-ht", False, "distributed", "spread", False, 1, "2", 1, "2"),
    ("single-socket-ht", False, "packed", "spread", True, 2, "0,3", 1, "0"),
    ("uncore-single-socket-no-smt", False, "distributed", "packed", False, 1, "0-3,7-15", 7, "0-3,7-9"),
    (
        "single-socket-single-numa-per-socket-uncore",
        False,
        "packed",
        "spread",
        False,
        1,
        "5,8,13,15,18-19,21-22,27-28,32,35,37,40-42,44-48,50,56,58,60",
        10,
        "5,8,13,15,18-19,21-22,27-28",
    ),
    (
        "multi-socket-dual-socket-per-numa-ht",
        False,
        "distributed",
        "spread",
        False,
        1,
        "4,6-7,10,15,18-19,21,23,26,30,33,39,41,44,46,48-49,57,62-63,66-67,74",
        2,
        "10,15",
    ),
    (
        "single-socket-single-numa-per-socket-pcore-ht-monolithic-uncore",
        False,
        "packed",
        "packed",
        False,
        1,
        "0-3,6-9,11-16,18-22",
        13,
        "0-3,6-10,15,17-18,23",
    ),
    ("triple-socket-ht", False, "packed", "packed", True, 2, "0-4,8-10,12-14,16-17", 8, "0-3,8-9,12-13"),
    (
        "single-socket-single-numa-per-socket-no-smt-small-uncore",
        False,
        "packed",
        "packed",
        False,
        1,
        "0-2,4-9,11-18,21-26,28-35,37-54,56-63",
        4,
        "0-2,4",
    ),
    (
        "single-socket-single-numa-per-socket-uncore",
        False,
        "packed",
        "spread",
        False,
        1,
        "1-2,4,7,9-12,14-15,18-34,36-45,47-55,57,59-63",
        23,
        "1-2,4,7,9-12,14-15,18-30",
    ),
    ("triple-socket-ht", False, "packed", "spread", True, 1, "1,3,5,7-8,11-13,15-17", 2, "12-13"),
    ("single-socket-single-numa-per-socket-uncore", False, "packed", "packed", False, 1, "0-63", 23, "0-22"),
    (
        "single-socket-single-numa-per-socket-uncore",
        False,
        "packed",
        "packed",
        True,
        1,
        "1-3,7,10,12-16,18,20,22,24,27-28,30,32,34,36-38,40-41,43-47,49,54,59,61",
        17,
        "1-3,7,10,12-16,18,20,22,24,27-28,30",
    ),
    (
        "uncore-single-socket-smt",
        False,
        "distributed",
        "packed",
        False,
        1,
        "1-6,8-11,13-15",
        12,
        "1-6,8-11,13-14",
    ),
    (
        "single-socket-single-numa-per-socket-smt-small-uncore",
        False,
        "packed",
        "packed",
        True,
        1,
        "0-1,3-54,56-57,59-61,63-72,74-91,93-96,98,100-121,123-127",
        49,
        "4-7,12-27,32,36-39,68-71,76-91,100-103",
    ),
    (
        "dual-socket-multi-numa-per-socket-ht",
        True,
        "distributed",
        "packed",
        False,
        2,
        "1,12,16,22,24,27-29,35,40-41,44,48,50,54,57-58,60,62-63,65,71-72",
        3,
        "1,40-41",
    ),
    (
        "small-single-socket-single-numa-per-socket-no-smt-uncore",
        False,
        "packed",
        "spread",
        True,
        1,
        "0-31",
        3,
        "0-2",
    ),
    (
        "single-socket-single-numa-per-socket-no-smt-small-uncore",
        False,
        "distributed",
        "packed",
        False,
        1,
        "2-4,8,11-12,14,16-18,20,22-24,26-29,31,33-38,40,42,44-47,49-54,56-57,61-63",
        2,
        "2-3",
    ),
    ("single-socket-ht", False, "packed", "packed", False, 2, "0-7", 2, "0,4"),
    ("single-socket-single-numa-per-socket-uncore", False, "packed", "spread", False, 1, "0-63", 29, "0-28"),
    ("uncore-single-socket-smt", False, "packed", "spread", False, 2, "2-4,6", 1, "2"),
    ("triple-socket-ht", False, "distributed", "spread", False, 1, "0-17", 2, "6-7"),
    (
        "uncore-single-socket-multi-numa",
        False,
        "packed",
        "packed",
        True,
        1,
        "0-2,4-6,8-9,11-12,14-15",
        1,
        "0",
    ),
    ("uncore-dual-socket-no-smt", False, "packed", "spread", True, 1, "2,10-11,13", 1, "2"),
    (
        "single-socket-single-numa-per-socket-no-smt-small-uncore",
        False,
        "packed",
        "packed",
        False,
        1,
        "1,3-8,10-11,13-14,16,18-20,22-25,29-34,36-40,42-43,45-50,53-55,58,60-63",
        36,
        "1,3-8,10-11,13-14,16,18-20,22-25,29-34,36-40,42-43,45-48",
    ),
    ("uncore-single-socket-multi-numa", False, "distributed", "packed", False, 1, "0-15", 12, "0-5,8-13"),
    (
        "dual-socket-sub-numa-per-socket-ht-monolithic-uncore",
        False,
        "packed",
        "packed",
        True,
        2,
        "0-239",
        50,
        "0-24,120-144",
    ),
    ("dual-socket-no-ht", False, "packed", "packed", False, 1, "0-1,7", 1, "7"),
    (
        "uncore-single-socket-smt",
        False,
        "packed",
        "spread",
        False,
        2,
        "2-3,5-6,8-11,13-15",
        8,
        "2-3,5-6,8-11",
    ),
    (
        "dual-socket-sub-numa-per-socket-ht-monolithic-uncore",
        False,
        "distributed",
        "spread",
        False,
        1,
        (
            "0,2-4,6-7,10-24,26-28,31-36,39,41,43-45,47-58,60,62,65-66,68-75,77,79,82-84,90-93,"
            "95-98,100-102,104-105,107-114,116,118-123,125-128,131-132,137-138,140-143,145-147,"
            "149-151,153-157,159-161,163-166,169-171,173,175-177,180,183-186,189-192,194-198,"
            "200-202,204-209,211-213,215-219,221,224-228,230-232,235-237,239"
        ),
        25,
        "90-93,95-98,100-102,104-105,107-114,116,118-119,211",
    ),
    ("uncore-single-socket-no-smt", False, "packed", "packed", True, 1, "5,7-8,11,14-15", 5, "5,7-8,11,14"),
    (
        "dual-socket-multi-numa-per-socket-ht",
        False,
        "packed",
        "spread",
        True,
        1,
        ("0-1,4,6,8-12,17-23,25,30-32,35-36,38-39,41-44,47-50,52-54,56-57,59,61,63-69,71-72,74-75,77-79"),
        1,
        "0",
    ),
    (
        "dual-socket-multi-numa-per-socket-ht-large",
        False,
        "distributed",
        "packed",
        False,
        1,
        (
            "1-3,5-18,20,22-34,36,38-63,65-90,92-110,112-125,127-134,136-137,139-150,152-166,"
            "168-174,176-181,183-191,193-195,197-211,213-216,218-225,227-229,231-243,245-254"
        ),
        114,
        ("16-18,20,22,24-31,48-63,65-67,69-79,112-125,144-150,152-159,176-181,183-190,193-195,197-207,240-243,245-254"),
    ),
    (
        "dual-socket-multi-numa-per-socket-ht-large",
        False,
        "distributed",
        "packed",
        False,
        2,
        (
            "0-9,12-20,22-34,36-48,50-54,56-66,68-71,73-77,79-81,83,85-87,89-103,105-113,115-124,"
            "127-138,140-152,154-161,163-166,168-174,176-189,191-193,195-202,205-211,213-216,218,"
            "220-222,224-242,244-246,248-255"
        ),
        164,
        "HANG",
    ),
    (
        "dual-socket-multi-numa-per-socket-ht-large",
        False,
        "distributed",
        "packed",
        False,
        2,
        (
            "0,2-6,8-10,12-14,16,18-27,29-32,34-45,47-48,50-52,54-57,59-71,73-74,76-80,82-90,"
            "92-103,106-109,111-115,117-118,120-125,127-131,133-138,140-141,143-157,159-162,"
            "164-167,169-173,175-183,185-197,199-204,206-215,217-245,247-249,251-255"
        ),
        154,
        "HANG",
    ),
    (
        "dual-socket-multi-numa-per-socket-ht-large",
        False,
        "distributed",
        "packed",
        False,
        2,
        (
            "0-8,10-15,17-23,25-33,35-36,38-41,43-53,55-62,64-67,69-88,90-105,107-122,124-132,"
            "134-137,139-143,145-148,150-151,153-158,160-161,163-172,174-185,187-189,191-192,"
            "194-206,208-209,211-221,223-238,240-242,244,246-251,253,255"
        ),
        200,
        "HANG",
    ),
    (
        "dual-socket-multi-numa-per-socket-ht-large",
        False,
        "distributed",
        "packed",
        False,
        2,
        (
            "1-9,11-17,19-32,34,36,38-41,43-46,48,50-67,69-76,78-85,87-88,90,92-100,102-119,"
            "121-125,127-136,138-139,141-154,156-157,159,162-177,179-188,190-206,208-215,217-221,"
            "224-225,227-237,239-253,255"
        ),
        104,
        (
            "16-17,19-26,28-29,31,48,51-60,62-67,69-76,78,112-119,121-125,144-145,147-154,"
            "156-157,159,176,179-188,190-195,197-204,206,240-247,249-253"
        ),
    ),
    (
        "dual-socket-multi-numa-per-socket-ht-large",
        False,
        "distributed",
        "packed",
        False,
        1,
        (
            "0,2-21,23-29,31-41,43-56,58-61,63-67,69-77,79-81,83-90,92-118,120-126,128-134,"
            "136-142,144-163,165-194,196-207,209-253,255"
        ),
        181,
        (
            "0,2-6,8-13,16-21,23-29,32-41,43-46,48-56,58-60,64-67,69-77,96-109,112-118,120-124,"
            "128-134,136-141,144-156,158,160-163,165-173,176-188,192-194,197-205,224-236,240-252"
        ),
    ),
    (
        "dual-socket-multi-numa-per-socket-ht-large",
        False,
        "distributed",
        "packed",
        False,
        2,
        (
            "0-1,3-14,17-27,29-30,32-42,44,47-48,50-58,60-73,75-76,78-79,82-103,106,108-111,"
            "113-128,131-144,147-149,151-156,158-176,178-189,191-197,199-200,203-205,207-208,"
            "210-216,218-238,240-241,243-245,247-250,252-255"
        ),
        100,
        (
            "0,3-14,32-42,44,47-48,50-58,60-61,113,115-117,119-122,124-128,131-142,160-170,172,"
            "175-176,178-186,188-189,241,243-245,247-250,252-255"
        ),
    ),
    (
        "dual-socket-multi-numa-per-socket-ht-large",
        False,
        "distributed",
        "packed",
        False,
        2,
        (
            "0-2,4-6,8-9,11-12,14,16-22,24-28,30-35,37-42,44,46-48,50-57,59-63,65-71,73-78,"
            "83-101,103-120,122-126,128-138,140-155,157-159,161-170,172,174-176,178-181,183-184,"
            "186-233,235-238,240-254"
        ),
        90,
        (
            "16-22,24-27,30,65-71,73-76,83-93,112-120,122-123,144-150,152-155,158,193-199,"
            "201-204,211-221,240-248,250-251"
        ),
    ),
    (
        "dual-socket-multi-numa-per-socket-ht-large",
        False,
        "distributed",
        "packed",
        False,
        2,
        (
            "0-22,24-39,41-43,45-53,55,57,59-63,65-67,69-99,102-114,116-123,125-129,131-139,"
            "142-145,147,149-163,165-172,174-194,196-197,199-201,203-208,210-220,222,224-242,"
            "244-248,250-255"
        ),
        96,
        (
            "0-1,3-11,14,48-53,55,57,59-62,80,82-92,96-99,102-109,128-129,131-139,142,176-181,"
            "183,185,187-190,208,210-220,224-227,230-237"
        ),
    ),
    ("odd3", False, "packed", "packed", True, 1, "0-2", 1, "0"),
    ("odd3", False, "packed", "packed", False, 1, "0-1", 1, "0"),
    ("odd3", False, "packed", "packed", False, 1, "2", 1, "2"),
    ("odd0", False, "packed", "packed", True, 1, "6-7,9,15", 4, "6-7,9,15"),
    ("odd0", False, "packed", "spread", False, 2, "0-12,14-17", 11, "1-2,4,6-7,9-10,14-17"),
    ("odd2", False, "packed", "packed", False, 1, "1-2,4,6", 4, "1-2,4,6"),
    ("odd2", False, "distributed", "spread", False, 1, "3,5", 1, "3"),
    ("odd1", False, "distributed", "packed", False, 1, "0-12", 10, "0-4,7-9,11-12"),
    ("odd0", False, "packed", "packed", True, 2, "0-17", 10, "0-2,6-8,10-11,13-14"),
    ("odd0", False, "distributed", "packed", False, 1, "5-6,8,14", 2, "5,8"),
    ("odd3", False, "distributed", "packed", False, 1, "1", 1, "1"),
    ("odd0", False, "packed", "spread", False, 2, "0-11,13-17", 9, "0-1,4,7-8,10-11,13-14"),
    ("odd2", False, "distributed", "spread", False, 1, "0-6", 1, "5"),
    ("odd1", False, "packed", "packed", False, 1, "0-3,5-6,8,10", 5, "0-1,5-6,10"),
    ("odd1", False, "packed", "packed", False, 1, "7-8,11", 1, "7"),
    ("odd1", False, "packed", "packed", False, 1, "0-8,10-12", 1, "6"),
    ("odd1", False, "distributed", "packed", False, 1, "0-12", 9, "0-2,4-5,7-10"),
    ("odd0", False, "packed", "packed", False, 2, "0-11,13,15-17", 9, "0,2-3,6-8,10-11,13"),
    ("odd0", False, "packed", "packed", True, 2, "1-2,4-11,13-15", 3, "1,13-14"),
    ("odd0", False, "distributed", "packed", False, 1, "0-1,3-5,8-13,15,17", 1, "0"),
    (
        "odd4",
        False,
        "distributed",
        "packed",
        True,
        2,
        "2-9,12-16,18-20,22,25-28,30-35",
        24,
        "2-10,12,14,16,18-20,23,26-27,30-35",
    ),
    (
        "odd4",
        False,
        "packed",
        "packed",
        True,
        1,
        "0,3-6,8,10-20,23-27,29-30,32",
        21,
        "0,3-4,6,8,11,13,15-16,18-19,25-27,29-30,32",
    ),
    ("odd5", False, "distributed", "packed", True, 1, "1-11,13", 10, "HANG"),
    (
        "odd6",
        False,
        "distributed",
        "packed",
        False,
        2,
        "0-6,8,10-13,15,17-21,23,26-33,35-36",
        22,
        "ERR:accounting error, not enough CPUs allocated, remaining: 2",
    ),
    (
        "dual-socket-ht",
        False,
        "packed",
        "packed",
        False,
        1,
        "0-3,8",
        6,
        "ERR:not enough cpus available to satisfy request: requested=6, available=5",
    ),
    (
        "uncore-single-socket-smt",
        False,
        "distributed",
        "packed",
        False,
        2,
        "1-7",
        8,
        "ERR:not enough cpus available to satisfy request: requested=8, available=7",
    ),
    (
        "dual-socket-multi-numa-per-socket-ht",
        False,
        "distributed",
        "packed",
        False,
        1,
        "0-9,100-101",
        12,
        "ERR:not enough cpus available to satisfy request: requested=12, available=12",
    ),
]


def _odd_topology(name: str) -> Topology:
    from topolet.model.topology import CPUInfo

    return Topology([CPUInfo(*(int(f) for f in item.split(":"))) for item in ODD_TOPOLOGIES[name].split()], name=name)


def _golden_topology(name: str, literal: bool) -> Topology:
    if name in ODD_TOPOLOGIES:
        key = (name, False)
        if key not in _CACHE:
            _CACHE[key] = _odd_topology(name)
        return _CACHE[key]
    return topo(name, literal)


@pytest.mark.parametrize(
    ("name", "literal", "algo", "strategy", "uncore", "group", "avail", "num_cpus", "expected"),
    GOLDEN,
    ids=[f"{i}:{c[0]}:{c[2]}:{c[7]}" for i, c in enumerate(GOLDEN)],
)
def test_golden_against_go(
    name: str,
    literal: bool,
    algo: str,
    strategy: str,
    uncore: bool,
    group: int,
    avail: str,
    num_cpus: int,
    expected: str,
) -> None:
    t = _golden_topology(name, literal)

    def run() -> int:
        if algo == "distributed":
            return take_by_topology_numa_distributed(t, cpus(avail), num_cpus, group, strategy)
        return take_by_topology_numa_packed(t, cpus(avail), num_cpus, strategy, uncore)

    if expected == "HANG":
        with pytest.raises(AllocationHang):
            run()
    elif expected.startswith("ERR:"):
        with pytest.raises(AllocationError) as exc:
            run()
        assert not isinstance(exc.value, AllocationHang)
        assert str(exc.value) == expected[4:]
    else:
        assert format_bits(run()) == format_bits(cpus(expected))


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def test_go_round_half_away_from_zero() -> None:
    assert _go_round(0.5) == 1.0
    assert _go_round(1.5) == 2.0
    assert _go_round(2.5) == 3.0
    assert _go_round(-2.5) == -3.0
    assert _go_round(0.49999999999999994) == 0.0
    assert _mean([1, 2]) == 1.5
    assert _mean([1, 1, 2]) == 1.333
    assert _standard_deviation([10, 10, 10, 10]) == 0.0
    assert _standard_deviation([0, 1]) == 0.5
    assert _standard_deviation([0, 1, 2]) == 0.816


def test_go_append_capacity_growth() -> None:
    caps = [0]
    for n in range(1, 20):
        if n > caps[-1]:
            caps.append(_go_append_cap(caps[-1], n))
    assert caps == [0, 1, 2, 4, 8, 16, 32]
    assert _go_append_cap(256, 257) == 512


def test_iterate_combinations_order_and_break() -> None:
    seen: list[list[int]] = []

    def f(s: tuple[list[int], int]) -> bool:
        seen.append(s[0][: s[1]])
        return len(seen) == 4

    _iterate_combinations([5, 6, 7, 8], 2, f)
    assert seen == [[5, 6], [5, 7], [5, 8], [6, 7]]
    seen.clear()
    _iterate_combinations([1, 2], 3, f)
    _iterate_combinations([1, 2], 0, f)
    assert seen == []


def test_iterate_combinations_aliases_like_go_append() -> None:
    # With 4 elements per combination the last append writes into a backing array
    # shared by the siblings (capacity 4 after 0->1->2->4), so a kept slice changes.
    kept: list[tuple[list[int], int]] = []

    def keep(s: tuple[list[int], int]) -> bool:
        kept.append(s)
        return False

    _iterate_combinations([0, 1, 2, 3, 4], 4, keep)
    first = kept[0]
    assert first[0][: first[1]] == [0, 1, 2, 4]  # was [0, 1, 2, 3] when it was visited
    kept.clear()
    _iterate_combinations([0, 1, 2, 3], 3, keep)
    assert [s[0][: s[1]] for s in kept] == [[0, 1, 2], [0, 1, 3], [0, 2, 3], [1, 2, 3]]


def test_sorting_strategy_other_than_packed_sorts_spread_but_takes_cores() -> None:
    t = topo(D2)
    # Go: the packed sorter only for "packed"; whole cores skipped only for "spread"
    acc = CPUAccumulator(t, t.all_cpus, 0, "bogus")
    assert acc.free_cpus() == [0, 2, 4, 6, 8, 10, 1, 3, 5, 7, 9, 11]
    assert take_by_topology_numa_packed(t, t.all_cpus, 2, "bogus", False) == cpus("0,6")
    assert take_by_topology_numa_packed(t, t.all_cpus, 2, CPU_SORTING_SPREAD, False) == cpus("0,2")


def test_cpus_outside_the_topology_are_ignored_but_counted_in_errors() -> None:
    t = topo(S1)
    assert take_by_topology_numa_packed(t, cpus("0-3,100"), 1, CPU_SORTING_PACKED, False) == cpus("0")
    with pytest.raises(AllocationError, match=r"requested=6, available=6$"):
        take_by_topology_numa_packed(t, cpus("0-4,100"), 6, CPU_SORTING_PACKED, False)


# ---------------------------------------------------------------------------
# properties
# ---------------------------------------------------------------------------

_PROP_TOPOLOGIES = [
    S1,
    D2,
    D2NOHT,
    T3,
    MN,
    FAKE,
    U_D2,
    U_MN,
    U_SMT,
    U_NOSMT,
    "dual-socket-multi-numa-per-socket-uncore",
]


@st.composite
def _requests(draw: st.DrawFn) -> tuple[Topology, int, int]:
    t = topo(draw(st.sampled_from(_PROP_TOPOLOGIES)))
    all_cpus = list_bits(t.all_cpus)
    avail = bits_of(draw(st.lists(st.sampled_from(all_cpus), unique=True)))
    n = draw(st.integers(min_value=0, max_value=avail.bit_count()))
    return t, avail, n


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_requests(), st.sampled_from([CPU_SORTING_PACKED, CPU_SORTING_SPREAD]), st.booleans())
def test_packed_properties(req: tuple[Topology, int, int], strategy: str, uncore: bool) -> None:
    t, avail, n = req
    got = take_by_topology_numa_packed(t, avail, n, strategy, uncore)
    assert got & ~avail == 0
    assert got.bit_count() == n


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_requests(), st.sampled_from([1, 2]), st.sampled_from([CPU_SORTING_PACKED, CPU_SORTING_SPREAD]))
def test_distributed_properties(req: tuple[Topology, int, int], group: int, strategy: str) -> None:
    t, avail, n = req
    try:
        got = take_by_topology_numa_distributed(t, avail, n, group, strategy)
    except AllocationHang:
        return  # the kubelet itself never returns here
    assert got & ~avail == 0
    assert got.bit_count() == n


@settings(max_examples=100, deadline=None)
@given(_requests())
def test_not_enough_cpus(req: tuple[Topology, int, int]) -> None:
    t, avail, _ = req
    n = avail.bit_count() + 1
    msg = f"not enough cpus available to satisfy request: requested={n}, available={n - 1}"
    for fn in (
        lambda: take_by_topology_numa_packed(t, avail, n, CPU_SORTING_PACKED, False),
        lambda: take_by_topology_numa_distributed(t, avail, n, 1, CPU_SORTING_PACKED),
    ):
        with pytest.raises(AllocationError) as exc:
            fn()
        assert str(exc.value) == msg
