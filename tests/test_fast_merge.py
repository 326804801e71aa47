"""The fast merge gives the kubelet's exhaustive merge's answer, for every policy and option."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from topolet.engine.hint import TopologyHint
from topolet.engine.topologymanager.numa_info import NUMAInfo
from topolet.engine.topologymanager.policy import POLICIES, new_policy


@st.composite
def numa_infos(draw: st.DrawFn) -> NUMAInfo:
    n = draw(st.integers(min_value=1, max_value=6))
    ids = sorted(draw(st.sets(st.integers(min_value=0, max_value=7), min_size=n, max_size=n)))
    size = max(ids) + 1
    dist: dict[int, list[int]] = {}
    for a in ids:
        row = [0] * size
        for b in ids:
            row[b] = 10 if a == b else draw(st.sampled_from([11, 12, 20, 21, 30, 32]))
        dist[a] = row
    return NUMAInfo(ids, dist)


def hint_lists(info: NUMAInfo) -> st.SearchStrategy[list[list[TopologyHint]]]:
    full = 0
    for i in info.nodes:
        full |= 1 << i
    # masks within the node set, occasionally with a stray bit outside it
    mask = st.integers(min_value=0, max_value=full).map(lambda m: m & full) | st.integers(1, 255)
    hint = st.builds(TopologyHint, st.none() | mask, st.booleans())
    provider = st.none() | st.dictionaries(
        st.sampled_from(["cpu", "memory", "hugepages-2Mi", "gpu"]),
        st.none() | st.lists(hint, max_size=6),
        max_size=3,
    )
    return st.lists(provider, max_size=3)


@settings(max_examples=int(__import__("os").environ.get("TOPOLET_EXAMPLES", "400")), deadline=None)
@given(st.data())
def test_fast_merge_equals_reference(data: st.DataObject) -> None:
    info = data.draw(numa_infos())
    providers = data.draw(hint_lists(info))
    for name in POLICIES:
        for closest in (False, True):
            ref = new_policy(name, info, closest, reference=True).merge(providers)
            fast = new_policy(name, info, closest).merge(providers)
            assert fast == ref, (name, closest, providers)
