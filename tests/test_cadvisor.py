"""cAdvisor MachineInfo JSON, read as cpumanager/topology.Discover reads it."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any

import pytest

from paths import H200 as H200_FIXTURE
from topolet.io.cadvisor import MachineInfoError, machine_info_from_topology, topology_from_machine_info
from topolet.io.sysfs import read_sysfs_topology
from topolet.model.presets import get_preset, list_presets
from topolet.model.topology import Topology

GIB = 1 << 30


def _core(socket: int, core_id: int, threads: list[int], uncore: list[int] | None = None) -> dict[str, Any]:
    c: dict[str, Any] = {"core_id": core_id, "thread_ids": threads, "socket_id": socket}
    if uncore is not None:
        c["uncore_caches"] = [{"id": u, "size": 0, "type": "Unified", "level": 3} for u in uncore]
    return c


def _details(t: Topology) -> dict[int, tuple[int, int, int, int]]:
    """CPUDetails: cpu -> (CoreID, SocketID, NUMANodeID, UncoreCacheID)."""
    return {c.id: (c.core, c.socket, c.numa, c.uncore) for c in t.cpus.values()}


# -- topology_test.go Test_Discover ----------------------------------------------


def test_discover_empty_uncore_cache() -> None:
    mi = {
        "num_cores": 8,
        "num_sockets": 1,
        "topology": [
            {"node_id": 0, "cores": [_core(0, i, [i, i + 4], uncore=[]) for i in range(4)]},
        ],
    }
    t = topology_from_machine_info(mi)
    assert (t.num_cpus, t.num_sockets, t.num_cores, t.num_numa_nodes, t.num_uncore_caches) == (8, 1, 4, 1, 1)
    assert _details(t) == {i: (i % 4, 0, 0, 0) for i in range(8)}


def test_discover_fail_num_cores() -> None:
    with pytest.raises(MachineInfoError, match="num_cores: could not detect number of cpus"):
        topology_from_machine_info({"num_cores": 0})
    with pytest.raises(MachineInfoError, match="could not detect number of cpus"):
        topology_from_machine_info({})


def test_discover_one_socket_ht() -> None:
    mi = {
        "num_cores": 8,
        "num_sockets": 1,
        "topology": [{"node_id": 0, "cores": [_core(0, i, [i, i + 4], uncore=[0]) for i in range(4)]}],
    }
    t = topology_from_machine_info(mi)
    assert _details(t) == {i: (i % 4, 0, 0, 0) for i in range(8)}


def test_discover_dual_socket_no_ht() -> None:
    mi = {
        "num_cores": 4,
        "num_sockets": 2,
        "topology": [
            {"node_id": 0, "cores": [_core(0, 0, [0], [0]), _core(0, 2, [2], [0])]},
            {"node_id": 1, "cores": [_core(1, 1, [1], [0]), _core(1, 3, [3], [0])]},
        ],
    }
    t = topology_from_machine_info(mi)
    assert (t.num_cpus, t.num_sockets, t.num_cores, t.num_numa_nodes, t.num_uncore_caches) == (4, 2, 4, 2, 1)
    assert _details(t) == {0: (0, 0, 0, 0), 1: (1, 1, 1, 0), 2: (2, 0, 0, 0), 3: (3, 1, 1, 0)}


def test_discover_dual_socket_ht_non_unique_core_ids() -> None:
    mi = {
        "num_cores": 12,
        "num_sockets": 2,
        "topology": [
            {"node_id": 0, "cores": [_core(0, i, [i, i + 6], [0]) for i in range(3)]},
            {"node_id": 1, "cores": [_core(1, i, [i + 3, i + 9], [0]) for i in range(3)]},
        ],
    }
    t = topology_from_machine_info(mi)
    assert t.num_cores == 6
    expected = {c: (c % 6, 0 if c % 6 < 3 else 1, 0 if c % 6 < 3 else 1, 0) for c in range(12)}
    assert _details(t) == expected


@pytest.mark.parametrize(
    ("threads", "match"),
    [([2, 2], "cpus provided are not unique"), ([], "no cpus provided")],
)
def test_discover_bad_threads(threads: list[int], match: str) -> None:
    cores = [_core(0, 0, [0, 4], [1]), _core(0, 1, [1, 5], [1]), _core(0, 2, threads, [1])]
    with pytest.raises(MachineInfoError, match=rf"topology\[0\]\.cores\[2\]\.thread_ids: {match}"):
        topology_from_machine_info({"num_cores": 8, "num_sockets": 1, "topology": [{"node_id": 0, "cores": cores}]})


def test_discover_uncore_one_socket_no_smt() -> None:
    # AMD EPYC 7452 (Rome), 4 cores per LLC, NPS=1
    mi = {
        "num_cores": 32,
        "num_sockets": 1,
        "topology": [{"node_id": 0, "cores": [_core(0, i, [i], [i // 4]) for i in range(32)]}],
    }
    t = topology_from_machine_info(mi)
    assert (t.num_cpus, t.num_cores, t.num_numa_nodes, t.num_uncore_caches) == (32, 32, 1, 8)
    assert _details(t) == {i: (i, 0, 0, i // 4) for i in range(32)}


def test_discover_uncore_dual_socket_smt() -> None:
    # AMD EPYC 24-core, 4 cores per LLC, dual socket, SMT, NPS=2
    nodes = []
    for node in range(4):
        socket = node // 2
        cores = [_core(socket, c, [c, c + 48], [c // 4]) for c in range(12 * node, 12 * node + 12)]
        nodes.append({"node_id": node, "cores": cores})
    t = topology_from_machine_info({"num_cores": 96, "num_sockets": 2, "topology": nodes})
    assert (t.num_cpus, t.num_sockets, t.num_cores, t.num_numa_nodes, t.num_uncore_caches) == (96, 2, 48, 4, 12)
    assert _details(t)[60] == (12, 0, 1, 3)
    assert _details(t)[95] == (47, 1, 3, 11)


def test_discover_uncore_falls_back_to_the_socket() -> None:
    mi = {
        "num_cores": 4,
        "topology": [
            {"node_id": 0, "cores": [_core(0, 0, [0]), _core(0, 1, [1])]},
            {"node_id": 1, "cores": [_core(1, 0, [2], uncore=None), _core(1, 1, [3], uncore=[])]},
        ],
    }
    assert {c.uncore for c in topology_from_machine_info(mi).cpus.values()} == {0, 1}


def test_only_the_first_uncore_cache_counts() -> None:
    mi = {"num_cores": 1, "topology": [{"node_id": 0, "cores": [_core(0, 0, [0], uncore=[7, 9])]}]}
    assert topology_from_machine_info(mi).cpus[0].uncore == 7


# -- memory, hugepages, distances ------------------------------------------------------


def test_memory_hugepages_distances_and_cpu_less_nodes() -> None:
    mi = {
        "timestamp": "2026-01-01T00:00:00Z",
        "vendor_id": "GenuineIntel",
        "num_cores": 2,
        "num_physical_cores": 2,
        "num_sockets": 1,
        "memory_capacity": 48 * GIB,
        "machine_id": "abc",
        "topology": [
            {
                "node_id": 0,
                "memory": 16 * GIB,
                "hugepages": [{"page_size": 1048576, "num_pages": 2}, {"page_size": 2048, "num_pages": 512}],
                "cores": [_core(0, 0, [0]), _core(0, 1, [1])],
                "caches": [{"id": 0, "size": 33554432, "type": "Unified", "level": 3}],
                "distances": [10, 40],
            },
            {"node_id": 1, "memory": 32 * GIB, "hugepages": None, "cores": None, "distances": [40, 10]},
        ],
        "cloud_provider": "Unknown",
    }
    t = topology_from_machine_info(mi, "spec.json")
    assert t.numa_ids == [0, 1] and t.cpu_numa_nodes() == [0]
    assert t.numa_nodes[0].memory == 16 * GIB
    assert dict(t.numa_nodes[0].hugepages) == {GIB: 2 * GIB, 2 << 20: GIB}
    assert t.numa_nodes[1].memory == 32 * GIB and dict(t.numa_nodes[1].hugepages) == {}
    assert t.distance(0, 1) == 40
    assert t.name == "spec.json"


def test_missing_distances_default() -> None:
    mi = {"num_cores": 2, "topology": [{"node_id": i, "cores": [_core(i, 0, [i])]} for i in range(2)]}
    t = topology_from_machine_info(mi)
    assert t.numa_nodes[0].distances == (10, 20)


# -- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ([], r"m\.json: expected a JSON object, got list"),
        ({"num_cores": "8"}, r"m\.json: num_cores: expected an integer"),
        ({"num_cores": 1, "topology": [{"cores": []}]}, r"m\.json: topology\[0\]\.node_id: required field is missing"),
        (
            {"num_cores": 1, "topology": [{"node_id": 0, "cores": [{"thread_ids": [-1]}]}]},
            r"m\.json: topology\[0\]\.cores\[0\]\.thread_ids\[0\]: must be at least 0",
        ),
        (
            {"num_cores": 1, "topology": [{"node_id": 0, "memory": -5}]},
            r"m\.json: topology\[0\]\.memory: must be at least 0",
        ),
        (
            {"num_cores": 1, "topology": [{"node_id": 0, "cores": [_core(0, 0, [0])]}, {"node_id": 0}]},
            r"m\.json: topology\[1\]\.node_id: NUMA node 0 is listed twice \(also topology\[0\]\)",
        ),
        (
            {"num_cores": 2, "topology": [{"node_id": 0, "cores": [_core(0, 0, [0, 1]), _core(0, 1, [1])]}]},
            r"m\.json: topology\[0\]\.cores\[1\]\.thread_ids: CPU 1 is also in topology\[0\]\.cores\[0\]",
        ),
        (
            {
                "num_cores": 1,
                "topology": [
                    {
                        "node_id": 0,
                        "cores": [_core(0, 0, [0])],
                        "hugepages": [{"page_size": 2048, "num_pages": 1}, {"page_size": 2048, "num_pages": 2}],
                    }
                ],
            },
            r"hugepages\[1\]\.page_size: page size 2048 KiB listed twice",
        ),
        ({"num_cores": 1, "topology": []}, r"m\.json: topology: no CPUs in any NUMA node"),
        ({"num_cores": 1, "topology": None}, r"m\.json: topology: no CPUs in any NUMA node"),
        (
            {
                "num_cores": 2,
                "topology": [
                    {"node_id": 0, "cores": [_core(0, 0, [0])], "distances": [10, 20]},
                    {"node_id": 1, "cores": [_core(1, 0, [1])], "distances": [20]},
                ],
            },
            r"m\.json: topology\[1\]\.distances: 1 entries, but NUMA node ids go up to 1",
        ),
    ],
)
def test_errors(data: Any, match: str) -> None:
    with pytest.raises(MachineInfoError, match=match) as e:
        topology_from_machine_info(data, "m.json")
    assert isinstance(e.value, ValueError)


# -- writing --------------------------------------------------------------------------------


def test_machine_info_from_topology_shape() -> None:
    t = get_preset("grid", {"sockets": 2, "coresPerNuma": 2, "hugepages2MiPerNuma": "4Mi", "memoryPerNuma": "8Gi"})
    mi = machine_info_from_topology(t)
    assert json.loads(json.dumps(mi)) == mi
    assert (mi["num_cores"], mi["num_physical_cores"], mi["num_sockets"]) == (8, 4, 2)
    assert mi["memory_capacity"] == 16 * GIB
    assert mi["hugepages"] == [{"page_size": 2048, "num_pages": 4}]
    node1 = mi["topology"][1]
    assert node1["node_id"] == 1 and node1["memory"] == 8 * GIB
    assert node1["hugepages"] == [{"page_size": 2048, "num_pages": 2}]
    assert node1["distances"] == [21, 10]
    assert [c["thread_ids"] for c in node1["cores"]] == [[2, 6], [3, 7]]
    assert all(c["socket_id"] == 1 and c["uncore_caches"] is None for c in node1["cores"])
    split = machine_info_from_topology(get_preset("grid", {"coresPerNuma": 4, "uncorePerNuma": 2}))
    assert [c["uncore_caches"][0]["id"] for c in split["topology"][0]["cores"]] == [0, 0, 1, 1]


def test_cpu_less_node_is_written_without_cores() -> None:
    mi = machine_info_from_topology(get_preset("gb200"))
    assert len(mi["topology"]) == 34
    assert mi["topology"][5]["cores"] is None
    assert topology_from_machine_info(mi).numa_ids == list(range(34))


@pytest.mark.parametrize("name", [n for n, _ in list_presets()])
def test_round_trip_through_machine_info(name: str) -> None:
    t = get_preset(name)
    back = topology_from_machine_info(json.loads(json.dumps(machine_info_from_topology(t))), name)
    assert back.numa_nodes == t.numa_nodes
    # the kubelet renames cores to their lowest thread; the grouping survives
    rename = {core: min(i for i in t.cpus if t.cpus[i].core == core) for core in t.core_cpus}
    assert back.cpus == {i: c.__class__(c.id, rename[c.core], c.socket, c.numa, c.uncore) for i, c in t.cpus.items()}
    if all(core == rename[core] for core in rename):
        assert back.cpus == t.cpus


def test_sysfs_capture_through_machine_info(tmp_path: Path) -> None:
    fixture = H200_FIXTURE
    if not fixture.exists():
        pytest.skip("fixture missing")
    with tarfile.open(fixture, "r:gz") as tar:
        tar.extractall(tmp_path, filter="data")
    t = read_sysfs_topology(tmp_path / "sysfs-h200")
    mi = machine_info_from_topology(t)
    assert mi["num_cores"] == 16 and mi["num_sockets"] == 1
    assert mi["topology"][0]["memory"] == 4550128 * 1024
    back = topology_from_machine_info(mi)
    assert back.cpus == t.cpus and back.numa_nodes == t.numa_nodes
