"""The memory manager's topology hints without enumerating NUMA masks (fast path).

``calculateHints`` keeps every NUMA mask m such that (1) m's allocatable
memory covers every requested resource, (3) m respects the node groups — a
single node that is grouped with others is refused; a multi-node mask is
refused when it holds a used node that is not grouped with exactly m — and
(4) m's free memory plus the pod's reusable init-container memory *for that
exact mask* covers every request. A hint is preferred when m has the fewest
nodes that pass (1).

So the hints are, exactly:

* explicit masks: the single nodes that pass; the existing groups (masks of a
  used node's ``cells``, allowed when every used node in them has that very
  group) that pass; the masks with reusable memory that pass — at most
  N + #groups + #reusable masks, each checked directly;
* one :class:`~topolet.engine.topologymanager.hint_space.Family`: masks of at
  least two nodes within the *unused* nodes, with Σ allocatable ≥ request and
  Σ free ≥ request per resource (such masks pass (3) trivially, and (4)
  without any reusable memory, which only adds).

The minimal size of (1) is the smallest size admitting a mask whose
allocatable memory covers every resource (a greedy count for one resource, a
bounded search for several). Building the space costs O(N · resources).
"""

from __future__ import annotations

from topolet.engine.hint import TopologyHint
from topolet.engine.memorymanager.state import MachineState, MemoryTable, NUMANodeState
from topolet.engine.topologymanager.hint_space import Family, HintSpace, mask_ids, min_size, wsum

Requests = dict[str, int]


class _Empty:
    """No mask fits: the provider answers ``{}``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "EMPTY"


EMPTY = _Empty()


class MemoryHintSpace(HintSpace):
    """The hints of ``calculateHints(machineState, pod, requested)``."""

    __slots__ = (
        "_snapshot",
        "alloc_constraints",
        "allowed_groups",
        "blocked",
        "extras",
        "free_constraints",
        "k",
        "names",
        "used",
    )

    def __init__(
        self,
        universe: int,
        k: int,
        alloc_constraints: tuple[tuple[tuple[int, ...], int], ...],
        free_constraints: tuple[tuple[tuple[int, ...], int], ...],
        blocked: int,
        used: int,
        allowed_groups: frozenset[int],
        extras: dict[int, dict[str, int]],
        names: list[str],
        snapshot: tuple[object, ...],
    ) -> None:
        self.universe = universe
        self.names = names
        self.k = k
        self.alloc_constraints = alloc_constraints
        self.free_constraints = free_constraints
        self.blocked = blocked
        self.used = used
        self.allowed_groups = allowed_groups
        self.extras = extras
        self._snapshot = snapshot
        free_nodes = universe & ~used
        explicit: set[int] = set()
        for i in mask_ids(universe):
            if self._fits(1 << i):
                explicit.add(1 << i)
        for m in (*allowed_groups, *extras):
            if m not in explicit and self._fits(m):
                explicit.add(m)
        fams: list[Family] = []
        pref_fams: list[Family] = []
        n_free = free_nodes.bit_count()
        cons = alloc_constraints + free_constraints
        if n_free >= 2:
            fam = Family(free_nodes, 0, 2, n_free, cons)
            if fam.nonempty():
                fams.append(fam)
                if 2 <= k <= n_free:
                    pref_fams.append(Family(free_nodes, 0, k, k, cons))
        fit_explicit = frozenset(explicit)
        pref_explicit = frozenset(m for m in explicit if m.bit_count() == k)
        super().__init__(universe, fit_explicit, tuple(fams), pref_explicit, tuple(pref_fams))

    def _fits(self, m: int) -> bool:
        if not m or m & ~self.universe:
            return False
        for w, need in self.alloc_constraints:
            if wsum(w, m) < need:
                return False
        if m & (m - 1) == 0:
            if m & self.blocked:
                return False
        elif m & self.used and m not in self.allowed_groups:
            return False
        extra = self.extras.get(m)
        for name, (w, need) in zip(self.names, self.free_constraints, strict=True):
            have = wsum(w, m)
            if extra:
                have += extra.get(name, 0)
            if have < need:
                return False
        return True

    def fits(self, m: int) -> bool:
        return self._fits(m)

    def is_preferred(self, m: int) -> bool:
        return m.bit_count() == self.k and self._fits(m)

    def materialize(self) -> list[TopologyHint]:
        from topolet.engine.memorymanager.policy_static import calculate_hints

        names, ids, alloc, free, assignments, cells, reusable, requested = self._snapshot
        ms: MachineState = {}
        for i, nid in enumerate(ids):  # type: ignore[arg-type]
            memory_map: dict[str, MemoryTable] = {}
            for name in names:  # type: ignore[attr-defined]
                a = alloc[name][i]  # type: ignore[index]
                if a is not None:
                    memory_map[name] = MemoryTable(allocatable=a, free=free[name][i])  # type: ignore[index]
            ms[nid] = NUMANodeState(assignments[i], memory_map, list(cells[i]))  # type: ignore[index]
        hints = calculate_hints(ms, reusable, requested)  # type: ignore[arg-type]
        first = hints[names[0]]  # type: ignore[index]
        assert first is not None
        return first


def memory_hint_space(
    ms: MachineState, reusable: dict[int, dict[str, int]], requested: Requests
) -> MemoryHintSpace | _Empty | None:
    """The structured hints, :data:`EMPTY` when there are none (``{}``), or None when the
    state has negative sizes (not a kubelet state; the caller enumerates instead)."""
    if not requested:
        return EMPTY
    ids = sorted(ms)
    if not ids or ids[0] < 0:
        return None if ids else EMPTY
    width = ids[-1] + 1
    names = list(requested)
    nodes = [ms[i] for i in ids]
    universe = 0
    for nid in ids:
        universe |= 1 << nid
    alloc_cols: dict[str, list[int | None]] = {}
    free_cols: dict[str, list[int]] = {}
    alloc_cons: list[tuple[tuple[int, ...], int]] = []
    free_cons: list[tuple[tuple[int, ...], int]] = []
    for name in names:
        acol: list[int | None] = []
        fcol: list[int] = []
        aw = [0] * width
        fw = [0] * width
        for nid, node in zip(ids, nodes, strict=True):
            t = node.memory_map.get(name)
            if t is None:
                acol.append(None)
                fcol.append(0)
                continue
            if t.allocatable < 0 or t.free < 0:
                return None
            acol.append(t.allocatable)
            fcol.append(t.free)
            aw[nid] = t.allocatable
            fw[nid] = t.free
        alloc_cols[name] = acol
        free_cols[name] = fcol
        alloc_cons.append((tuple(aw), requested[name]))
        free_cons.append((tuple(fw), requested[name]))
    # (1) the minimal number of nodes whose allocatable memory covers every request
    if len(names) == 1:
        # one resource: the greedy count over the largest allocatable sizes is exact
        need = requested[names[0]]
        k = None
        acc = 0
        for i, v in enumerate(sorted((a or 0 for a in alloc_cols[names[0]]), reverse=True)):
            acc += v
            if acc >= need:
                k = i + 1
                break
    else:
        k = min_size(Family(universe, 0, 1, len(ids), tuple(alloc_cons)))
    if k is None:
        return EMPTY
    # (3) groups, exactly as calculate_hints reads them
    position = {nid: i for i, nid in enumerate(ids)}
    blocked = 0
    used = 0
    group_of: dict[int, int] = {}
    for nid, node in zip(ids, nodes, strict=True):
        if len(node.cells) > 1:
            blocked |= 1 << nid
        if node.number_of_assignments <= 0:
            continue
        used |= 1 << nid
        cells = node.cells
        if len(cells) > 1 and len(set(cells)) == len(cells) and all(c in position for c in cells):
            g = 0
            for c in cells:
                g |= 1 << c
            group_of[nid] = g
    allowed: set[int] = set()
    for g in set(group_of.values()):
        if all(group_of.get(i) == g for i in mask_ids(g & used)):
            allowed.add(g)
    # (4) reusable init-container memory, per exact mask (masks outside the state ignored)
    extras: dict[int, dict[str, int]] = {}
    for real, per_resource in reusable.items():
        if real <= 0 or real & ~universe:
            continue
        amounts = {name: per_resource.get(name, 0) for name in names if per_resource.get(name, 0)}
        if amounts:
            if any(v < 0 for v in amounts.values()):
                return None
            extras[real] = amounts
    snapshot = (
        names,
        ids,
        alloc_cols,
        free_cols,
        [node.number_of_assignments for node in nodes],
        [tuple(node.cells) for node in nodes],
        {m: dict(v) for m, v in reusable.items()},
        dict(requested),
    )
    space = MemoryHintSpace(
        universe,
        k,
        tuple(alloc_cons),
        tuple(free_cons),
        blocked,
        used,
        frozenset(allowed),
        extras,
        names,
        snapshot,
    )
    if not space.fit_explicit and not space.fit_families:
        return EMPTY
    return space
