"""The node directory's plain-file fast paths agree with the validating readers (issue 12 item 10).

:func:`topolet.nodedir.topology_file.plain_topology` reads ``topology.yaml`` as
``node init`` writes it without the pydantic model; it must either decline
(``None``: the validating reader then decides) or give exactly the validating
reader's topology -- on every preset, and on random damage to the file.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from topolet.model.presets import get_preset, list_presets
from topolet.model.topology import Topology
from topolet.model.topology_spec import TopologySpecError, topology_from_spec, topology_to_spec
from topolet.nodedir.topology_file import explicit_spec, plain_topology

PRESETS = [name for name, _ in list_presets()]


def _same(a: Topology, b: Topology) -> None:
    assert topology_to_spec(a) == topology_to_spec(b)
    assert a.name == b.name
    assert a.cpus == b.cpus
    assert a.numa_nodes == b.numa_nodes


def _slow(spec: Any) -> Topology | None:
    try:
        return topology_from_spec(spec, "topology.yaml")
    except (TopologySpecError, ValueError, TypeError):
        return None


@pytest.mark.parametrize("name", PRESETS)
def test_every_preset_is_read_by_the_fast_path(name: str) -> None:
    spec = topology_to_spec(get_preset(name, {}))
    assert explicit_spec(get_preset(name, {})) == spec
    fast = plain_topology(spec)
    assert fast is not None
    slow = topology_from_spec(spec, "topology.yaml")
    _same(fast, slow)


def test_hugepages_and_uncore_caches() -> None:
    topo = get_preset("grid", {"sockets": 2, "numaPerSocket": 2, "coresPerNuma": 4, "threadsPerCore": 2})
    spec = topology_to_spec(topo)
    for n in spec["numaNodes"]:
        n["hugepages"] = {"2Mi": "1Gi", "1Gi": "2Gi"}
    for c in spec["cpus"]:
        c["uncoreCache"] = c["core"] // 2
    fast, slow = plain_topology(spec), topology_from_spec(spec, "x")
    assert fast is not None
    assert explicit_spec(fast) == topology_to_spec(slow) == spec
    _same(fast, slow)


ODD_VALUES = st.sampled_from(
    [
        None, True, False, -1, 0, 1, 2, 3, 7, 255, 256, 1023, 1024, 65535, 65536, 1.5, "0", "1", "2Mi", "1Gi",
        "3Mi", "-1", "1e3", "hugepages-2Mi", "x", [], {}, [1], [10, 21], [10, 300], {"2Mi": "4Mi"}, {"3Ki": "3Ki"},
        {"2Mi": "3Mi"}, {"1Gi": "1Gi", "1024Mi": "1Gi"}, {2097152: "2Mi"},
    ]
)  # fmt: skip
KEYS = st.sampled_from(["id", "core", "socket", "numa", "uncoreCache", "memory", "hugepages", "distances", "zz"])


@st.composite
def damaged_specs(draw: st.DrawFn) -> dict[str, Any]:
    name = draw(st.sampled_from(PRESETS))
    spec: dict[str, Any] = copy.deepcopy(topology_to_spec(get_preset(name, {})))
    for _ in range(draw(st.integers(0, 3))):
        what = draw(st.sampled_from(["cpu", "node", "top", "drop"]))
        if what == "top":
            spec[draw(st.sampled_from(["cpus", "numaNodes", "preset", "extra"]))] = copy.deepcopy(draw(ODD_VALUES))
            continue
        group = spec.get("cpus" if what == "cpu" else "numaNodes")
        if not isinstance(group, list) or not group:
            continue
        i = draw(st.integers(0, len(group) - 1))
        if what == "drop":
            del group[i]
        elif isinstance(group[i], dict):
            group[i][draw(KEYS)] = copy.deepcopy(draw(ODD_VALUES))
    return spec


@settings(max_examples=200, deadline=None)
@given(damaged_specs())
def test_fast_path_declines_or_agrees_on_damaged_files(spec: dict[str, Any]) -> None:
    fast = plain_topology(copy.deepcopy(spec))
    slow = _slow(copy.deepcopy(spec))
    if fast is not None:
        assert slow is not None, spec
        _same(fast, slow)
