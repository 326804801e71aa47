"""The fast path's building blocks against brute force and the providers' own enumerations.

* :func:`search` / :func:`min_member` give the first member of a family in the policy's
  order (narrowest, or closest by average distance), as sorting every mask would;
* the CPU manager's and the memory manager's hint spaces hold exactly the hints of the
  kubelet's enumeration (every mask: member or not, preferred or not), list them in the
  same order, and answer ``findBestHint`` (with and without a mask to extend) the same;
* the structured merge (hint spaces mixed with explicit lists) gives the exhaustive
  merge's answer for every policy and option.

``TOPOLET_EXAMPLES`` scales the number of examples (see tests/test_fast_path.py).
"""

from __future__ import annotations

import os
from itertools import combinations

from hypothesis import given, settings
from hypothesis import strategies as st

from topolet.engine.cpumanager.fast_hints import CPUHintSpace
from topolet.engine.cpumanager.policy_options import StaticPolicyOptions
from topolet.engine.cpumanager.policy_static import StaticCPUPolicy
from topolet.engine.hint import AffinityStore, TopologyHint
from topolet.engine.memorymanager.fast_hints import EMPTY, MemoryHintSpace, memory_hint_space
from topolet.engine.memorymanager.policy_static import calculate_hints, find_best_hint
from topolet.engine.memorymanager.state import MemoryTable, NUMANodeState
from topolet.engine.topologymanager.hint_space import Family, HintList, HintSpace, min_member, total_distance
from topolet.engine.topologymanager.numa_info import NUMAInfo
from topolet.engine.topologymanager.policy import POLICIES, new_policy
from topolet.model.features import FeatureGates
from topolet.model.topology import CPUInfo, NUMANode, Topology

EXAMPLES = int(os.environ.get("TOPOLET_EXAMPLES", "0")) or None
GB = 1 << 30


def _n(default: int) -> int:
    return EXAMPLES or default


def all_masks(ids: list[int]) -> list[int]:
    out = []
    for size in range(1, len(ids) + 1):
        for combo in combinations(ids, size):
            m = 0
            for i in combo:
                m |= 1 << i
            out.append(m)
    return out


@st.composite
def distance_rows(draw: st.DrawFn, ids: list[int]) -> dict[int, list[int]]:
    width = max(ids) + 1
    rows: dict[int, list[int]] = {}
    symmetric = draw(st.booleans())
    for a in ids:
        rows[a] = [0] * width
    for a in ids:
        for b in ids:
            if a == b:
                rows[a][b] = draw(st.sampled_from([10, 10, 10, 11]))
            elif symmetric and b < a:
                rows[a][b] = rows[b][a]
            else:
                rows[a][b] = draw(st.sampled_from([11, 12, 20, 21, 30, 32]))
    return rows


# --------------------------------------------------------------------------- search
@settings(max_examples=_n(200), deadline=None)
@given(st.data())
def test_min_member_is_the_first_member_in_order(data: st.DataObject) -> None:
    ids = sorted(data.draw(st.sets(st.integers(0, 9), min_size=1, max_size=8)))
    width = max(ids) + 1
    universe = 0
    for i in ids:
        if data.draw(st.integers(0, 5)):
            universe |= 1 << i
    if not universe:
        universe = 1 << ids[0]
    uids = [i for i in ids if universe >> i & 1]
    required = 0
    for i in uids:
        if not data.draw(st.integers(0, 6)):
            required |= 1 << i
    constraints = []
    for _ in range(data.draw(st.integers(0, 3))):
        w = tuple(data.draw(st.integers(0, 6)) if i in uids else 0 for i in range(width))
        constraints.append((w, data.draw(st.integers(-1, 14))))
    lo = data.draw(st.integers(1, len(uids)))
    hi = data.draw(st.integers(lo, len(uids) + 1))
    fam = Family(universe, required, lo, hi, tuple(constraints))
    dist = data.draw(distance_rows(ids)) if data.draw(st.booleans()) else None
    members = [m for m in all_masks(uids) if fam.contains(m)]
    if dist is None:
        expected = min(((m.bit_count(), 0, m) for m in members), default=None)
    else:
        expected = min(((m.bit_count(), total_distance(dist, m), m) for m in members), default=None)
    assert min_member(fam, dist) == expected
    assert fam.nonempty() == bool(members)


# --------------------------------------------------------------------------- CPU hints
@st.composite
def cpu_cases(draw: st.DrawFn, max_nodes: int = 8) -> tuple[StaticCPUPolicy, int, int, int]:
    n = draw(st.integers(1, max_nodes))
    sockets = draw(st.integers(1, n))
    threads = draw(st.integers(1, 2))
    cpus: list[CPUInfo] = []
    cid = 0
    for numa in range(n):
        socket = numa * sockets // n
        for _ in range(draw(st.integers(1, 3))):
            core = cid
            for _t in range(threads):
                cpus.append(CPUInfo(cid, core, socket, numa, socket))
                cid += 1
    topo = Topology(cpus, [NUMANode(i, 4 * GB) for i in range(n)])
    opts = StaticPolicyOptions(align_by_socket=draw(st.booleans()))
    policy = StaticCPUPolicy(topo, 0, None, AffinityStore(), opts, FeatureGates(), reference=False)
    available = 0
    reusable = 0
    for c in range(cid):
        r = draw(st.integers(0, 9))
        if r < 6:
            available |= 1 << c
        elif r == 6:
            reusable |= 1 << c
    request = draw(st.integers(1, cid + 2))
    return policy, available, reusable, request


def _check_space(space: HintSpace, ref: list[TopologyHint], ids: list[int]) -> None:
    flags = {h.mask: h.preferred for h in ref}
    assert len(flags) == len(ref)
    assert HintList(space) == ref and ref == HintList(space)
    assert list(HintList(space)) == ref
    for m in all_masks(ids):
        assert space.fits(m) == (m in flags), m
        assert space.is_preferred(m) == flags.get(m, False), m
        # the parts describe the same sets as the exact tests
        assert HintSpace.fits(space, m) == (m in flags), m
        assert HintSpace.is_preferred(space, m) == flags.get(m, False), m
    assert space.min_count() == min(m.bit_count() for m in flags)
    assert space.single_numa_preferred() == [h for h in ref if h.preferred and h.mask.bit_count() == 1]
    for required in [0, *all_masks(ids)[: 2 * len(ids)]]:
        sub = [h for h in ref if h.mask is not None and h.mask & required == required]
        want = find_best_hint(sub) if sub else None
        assert space.find_best_hint(required) == want, required


@settings(max_examples=_n(200), deadline=None)
@given(cpu_cases())
def test_cpu_hint_space_is_the_enumeration(case: tuple[StaticCPUPolicy, int, int, int]) -> None:
    policy, available, reusable, request = case
    space = CPUHintSpace(policy, available, reusable, request)
    ref = policy.generate_cpu_topology_hints(available, reusable, request)
    if not ref:
        assert space.is_empty()
        return
    assert not space.is_empty()
    _check_space(space, ref, policy._numa_ids)


# --------------------------------------------------------------------------- memory hints
MEM = "memory"
HP1G = "hugepages-1Gi"


@st.composite
def memory_cases(
    draw: st.DrawFn, node_ids: list[int] | None = None
) -> tuple[dict[int, NUMANodeState], dict[int, dict[str, int]], dict[str, int]]:
    """Machine states as tests/test_memory_policy_static.py draws them, up to 8 nodes."""
    if node_ids is None:
        n = draw(st.integers(1, 8))
        ids = sorted(draw(st.sets(st.integers(0, 9), min_size=n, max_size=n)))
    else:
        ids = list(node_ids)
    half = GB // 2
    ms: dict[int, NUMANodeState] = {}
    for nid in ids:
        alloc = draw(st.integers(0, 8)) * half
        free = draw(st.integers(0, alloc // half)) * half
        hp_alloc = draw(st.integers(0, 4)) * GB
        hp_free = draw(st.integers(0, hp_alloc // GB)) * GB
        used = draw(st.integers(0, 2))
        cells = [nid]
        kind = draw(st.integers(0, 4))
        if kind == 1 and len(ids) > 1:
            cells = sorted(draw(st.sets(st.sampled_from(ids), min_size=2, max_size=len(ids))))
        elif kind == 2:
            cells = draw(st.lists(st.integers(0, 9), max_size=3))
        tables = {MEM: MemoryTable(alloc, 0, alloc, alloc - free, free)}
        if draw(st.integers(0, 5)):
            tables[HP1G] = MemoryTable(hp_alloc, 0, hp_alloc, hp_alloc - hp_free, hp_free)
        ms[nid] = NUMANodeState(used, tables, cells)
    # a group used consistently: all its nodes used and pointing at it
    if len(ids) > 2 and draw(st.booleans()):
        group = sorted(draw(st.sets(st.sampled_from(ids), min_size=2, max_size=3)))
        for nid in group:
            ms[nid].cells = list(group)
            ms[nid].number_of_assignments = max(1, ms[nid].number_of_assignments)
    requested = {MEM: draw(st.integers(0, 14)) * half}
    if draw(st.booleans()):
        requested[HP1G] = draw(st.integers(0, 6)) * GB
    if draw(st.integers(0, 5)) == 0:
        requested = {HP1G: draw(st.integers(0, 6)) * GB}
    reusable: dict[int, dict[str, int]] = {}
    for _ in range(draw(st.integers(0, 3))):
        combo = draw(st.sets(st.sampled_from([*ids, 12]), min_size=1, max_size=3))
        m = 0
        for i in combo:
            m |= 1 << i
        reusable[m] = {MEM: draw(st.integers(0, 4)) * half, HP1G: draw(st.integers(0, 2)) * GB}
    return ms, reusable, requested


@settings(max_examples=_n(250), deadline=None)
@given(memory_cases())
def test_memory_hint_space_is_the_enumeration(
    case: tuple[dict[int, NUMANodeState], dict[int, dict[str, int]], dict[str, int]],
) -> None:
    ms, reusable, requested = case
    space = memory_hint_space(ms, reusable, requested)
    ref = calculate_hints(ms, reusable, requested)
    if not ref:
        assert space is EMPTY
        return
    assert isinstance(space, MemoryHintSpace)
    for name in requested:
        assert ref[name] == ref[next(iter(requested))]
    first = ref[next(iter(requested))]
    assert first is not None
    _check_space(space, first, sorted(ms))


# --------------------------------------------------------------------------- the merge
@st.composite
def merge_cases(draw: st.DrawFn) -> tuple[NUMAInfo, list[object]]:
    """Providers over one machine: a CPU space, a memory space (one list per resource),
    explicit lists (nil, empty, regenerated hints) in any combination."""
    # at most 5 nodes: the exhaustive merge walks the product of the lists
    policy, available, reusable, request = draw(cpu_cases(max_nodes=5))
    n_ids = list(policy._numa_ids)
    dist = draw(distance_rows(n_ids))
    info = NUMAInfo(n_ids, dist)
    providers: list[object] = []
    if draw(st.integers(0, 3)):
        space = CPUHintSpace(policy, available, reusable, request)
        providers.append({"cpu": [] if space.is_empty() else HintList(space)})
    ms, reuse, requested = draw(memory_cases(n_ids))
    if draw(st.integers(0, 3)):
        mspace = memory_hint_space(ms, reuse, requested)
        if isinstance(mspace, MemoryHintSpace):
            providers.append({name: HintList(mspace) for name in requested})
        else:
            providers.append({})
    full = 0
    for i in n_ids:
        full |= 1 << i
    mask = st.integers(1, full).map(lambda m: m & full) | st.integers(1, 63)
    hint = st.builds(TopologyHint, st.none() | mask, st.booleans())
    for _ in range(draw(st.integers(0, 2))):
        providers.append(
            draw(
                st.none()
                | st.dictionaries(st.sampled_from(["gpu", "nic"]), st.none() | st.lists(hint, max_size=4), max_size=2)
            )
        )
    order = draw(st.permutations(providers))
    return info, list(order)


@settings(max_examples=_n(200), deadline=None)
@given(merge_cases())
def test_structured_merge_equals_the_exhaustive_merge(case: tuple[NUMAInfo, list[object]]) -> None:
    info, providers = case
    for name in POLICIES:
        for closest in (False, True):
            ref = new_policy(name, info, closest, reference=True).merge(providers)  # type: ignore[arg-type]
            fast = new_policy(name, info, closest, reference=False).merge(providers)  # type: ignore[arg-type]
            assert fast == ref, (name, closest)


# --------------------------------------------------------------------------- reachability
@st.composite
def option_lists(draw: st.DrawFn) -> tuple[int, list[tuple[list[int], list[Family]]]]:
    n = draw(st.integers(1, 6))
    ids = list(range(n))
    d = (1 << n) - 1
    lists: list[tuple[list[int], list[Family]]] = []
    for _ in range(draw(st.integers(1, 3))):
        if lists and draw(st.integers(0, 3)) == 0:
            lists.append(lists[-1])  # a copy (one list per memory resource)
            continue
        explicit = draw(st.lists(st.integers(1, d), max_size=3))
        fams: list[Family] = []
        for _f in range(draw(st.integers(0, 2))):
            u = draw(st.integers(1, d))
            uids = [i for i in ids if u >> i & 1]
            r = draw(st.integers(0, d)) & u if draw(st.integers(0, 3)) == 0 else 0
            cons = []
            for _c in range(draw(st.integers(0, 2))):
                w = tuple(draw(st.integers(0, 5)) for _ in ids)
                cons.append((w, draw(st.integers(0, 12))))
            lo = draw(st.integers(1, len(uids)))
            fam = Family(u, r, lo, len(uids), tuple(cons))
            if fam.nonempty():
                fams.append(fam)
        if not explicit and not fams:
            explicit = [d]
        lists.append((explicit, fams))
    return d, lists


@settings(max_examples=_n(250), deadline=None)
@given(option_lists(), st.data())
def test_best_merged_mask_per_size_is_exact(
    case: tuple[int, list[tuple[list[int], list[Family]]]], data: st.DataObject
) -> None:
    """Per size, the first reachable merged mask (one hint per list ANDed) in the policy's
    order, against the reachable set computed by brute force."""
    from topolet.engine.topologymanager.fast_merge import _best_in_choice, _choices, _Options

    d, lists = case
    ids = list(range(d.bit_length()))
    dist = data.draw(distance_rows(ids)) if data.draw(st.booleans()) else None
    masks = all_masks(ids)
    reach = {d}
    options = []
    seen: dict[int, _Options] = {}
    for lst in lists:
        explicit, fams = lst
        hints = set(explicit) | {m for m in masks for f in fams if f.contains(m)}
        reach = {r & h for r in reach for h in hints}
        if id(lst) not in seen:
            seen[id(lst)] = _Options(sorted({m & d for m in explicit} - {0}), fams, 0)
        options.append(seen[id(lst)])
    for s in range(1, len(ids) + 1):
        cands = [x for x in reach if x.bit_count() == s]
        key = (lambda x: (0, x)) if dist is None else (lambda x: (total_distance(dist, x), x))
        want = min((key(x) for x in cands), default=None)
        got = None
        for v, bins in _choices(options, d, s):
            r = _best_in_choice(v, bins, s, dist)
            if r is not None and (got is None or r < got):
                got = r
        assert got == want, s
