"""Hint lists as structured sets of NUMA masks, and the ordered searches of the fast path.

The kubelet's hint providers enumerate every NUMA mask (``IterateBitMasks``)
and keep those that can hold the request; the topology manager then walks the
cross product of the providers' lists. Both are exponential in the number of
NUMA nodes N. The fast path keeps the same sets of hints, but describes them
instead of listing them:

* A :class:`Family` is the set of masks ``m`` with ``m ⊆ universe``,
  ``required ⊆ m``, ``min_size ≤ |m| ≤ max_size`` and, for every constraint
  ``(w, θ)``, ``Σ_{i∈m} w[i] ≥ θ`` with non-negative weights. Within its size
  range a family is upward closed. The CPU manager's hints are one family
  (free CPUs per NUMA node ≥ the request minus the reusable CPUs, every NUMA
  node of a reusable CPU required); its preferred hints are the same family
  at the minimal size (plus, with ``align-by-socket``, one family per set of
  sockets, the "touches socket s" conditions being indicator constraints).
  The memory manager's multi-NUMA hints over unused NUMA nodes are a family
  (allocatable and free memory per resource); everything else it can offer
  (single NUMA nodes, existing groups, masks with reusable init-container
  memory) is at most N + (number of groups) + (number of reusable masks)
  explicit masks.
* A :class:`HintSpace` is a provider's hint list: explicit masks plus
  families, for all hints and for the preferred ones, with exact membership
  tests; :class:`HintList` is the list API over it (materialised on demand,
  with the provider's reference enumeration, for explanations and callers that
  want the list).

Searches (:func:`search`) visit the masks of one size in increasing mask value
(colex order: the highest NUMA node first) and stop at the first member for
the policy's "narrowest" order; with ``prefer-closest-numa-nodes`` they run a
branch and bound on the sum of distances (the kubelet compares averages over
the same number of nodes, so sums compare the same way), still in value order
so that ties go to the smaller mask. Pruning uses, per constraint, the sum of
the largest remaining weights (a subtree that cannot reach a threshold is cut)
and, for distances, the smallest possible added distance.

Cost. Building a provider's space is O(N · resources) (per-node free counts are
popcounts of the shared pool; memory columns are read from the machine state).
Searching a family at size k visits masks in value order; a subtree is cut as
soon as, for some constraint, the weights chosen plus the k' largest weights
still available fall short. With one constraint (the CPU hints; memory with
one resource) that bound is exact (required nodes counted in), so the first
member is reached without backtracking: O(k·N) visits. With several constraints (memory plus hugepages,
CPU and memory families intersected) it can backtrack, but only through
prefixes that pass every per-constraint bound. With
``prefer-closest-numa-nodes`` the search is a branch and bound on the sum of
distances (bound: the distances of the chosen nodes, plus for each node still
to choose its least possible contribution, plus the smallest off-diagonal
distance per remaining pair); on socket-structured distance matrices (every
real machine) the first complete mask found is optimal or close to it and the
bound closes the other branches near the root. Minimum-distance subset
selection is NP-hard for arbitrary matrices, so no polynomial bound holds in
general: the searches stay exact and explore more.

Providers' lists are only listed (:meth:`HintList.__iter__` and friends) when
someone reads them as a list — explanations, tests — with the providers'
reference enumeration, 2^N - 1 masks: refused beyond :data:`LISTABLE_MAX_NODES`
NUMA nodes (:class:`HintListTooLarge`); use :attr:`HintList.space` there.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from topolet.engine.hint import TopologyHint

# weights indexed by NUMA node id
Weights = tuple[int, ...]

# A hint list over more NUMA nodes is not listed (2^20 - 1 masks take seconds already).
LISTABLE_MAX_NODES = 20


class HintListTooLarge(ValueError):
    """A hint list too large to list (more than :data:`LISTABLE_MAX_NODES` NUMA nodes)."""


Constraint = tuple[Weights, int]
Distances = Sequence[Sequence[int]] | dict[int, Sequence[int]]


def mask_ids(mask: int) -> list[int]:
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


def wsum(w: Weights, mask: int) -> int:
    s = 0
    while mask:
        low = mask & -mask
        s += w[low.bit_length() - 1]
        mask ^= low
    return s


def total_distance(dist: Distances, mask: int) -> int:
    ids = mask_ids(mask)
    t = 0
    for a in ids:
        row = dist[a]
        for b in ids:
            t += row[b]
    return t


@dataclass(frozen=True, slots=True)
class Family:
    """The masks within ``universe`` that contain ``required``, have a size in
    ``[min_size, max_size]`` and meet every ``Σ w[i] ≥ θ`` constraint (weights ≥ 0)."""

    universe: int
    required: int = 0
    min_size: int = 1
    max_size: int = 64
    constraints: tuple[Constraint, ...] = ()

    def contains(self, m: int) -> bool:
        if m & ~self.universe or self.required & ~m:
            return False
        c = m.bit_count()
        if c < self.min_size or c > self.max_size:
            return False
        for w, t in self.constraints:
            s = 0
            x = m
            while x:
                low = x & -x
                s += w[low.bit_length() - 1]
                x ^= low
            if s < t:
                return False
        return True

    @property
    def upward_closed(self) -> bool:
        """Every superset within the universe of a member is a member."""
        return self.max_size >= self.universe.bit_count()

    def nonempty(self) -> bool:
        """Whether the family has a member (upward closed: whether the universe is one)."""
        if self.upward_closed:
            return self.contains(self.universe)
        return min_member(self, None) is not None

    def intersect(self, other: Family) -> Family | None:
        u = self.universe & other.universe
        r = self.required | other.required
        lo = max(self.min_size, other.min_size)
        hi = min(self.max_size, other.max_size)
        if r & ~u or lo > hi or lo > u.bit_count():
            return None
        return Family(u, r, lo, hi, self.constraints + other.constraints)

    def with_required(self, required: int) -> Family | None:
        r = self.required | required
        if r & ~self.universe:
            return None
        return replace(self, required=r)

    def slacks(self) -> list[int]:
        """How much weight the largest member can lose per constraint (``Σ_U w − θ``)."""
        return [wsum(w, self.universe) - t for w, t in self.constraints]


# --------------------------------------------------------------------------- search
def search(
    ids: Sequence[int],
    size: int,
    required: int = 0,
    constraints: Sequence[Constraint] = (),
    dist: Distances | None = None,
    partial_ok: Callable[[int], bool] | None = None,
    leaf_ok: Callable[[int], bool] | None = None,
) -> tuple[int, int] | None:
    """The first ``size``-subset of ``ids`` (ascending NUMA ids) in the policy's order that
    contains ``required``, meets the constraints, passes ``partial_ok`` at every prefix
    (a condition closed under subsets) and ``leaf_ok`` at the end.

    Order: increasing mask value (``dist`` None), or increasing sum of distances then
    increasing mask value. Returns ``(sum of distances or 0, mask)`` or None.
    """
    n = len(ids)
    if size < 1 or size > n:
        return None
    if size == 1:
        return _search_one(ids, required, constraints, dist, partial_ok, leaf_ok)
    pos_bit = [1 << i for i in ids]
    all_bits = 0
    for b in pos_bit:
        all_bits |= b
    if required & ~all_bits:
        return None
    # required positions: hr[p] = highest required position < p (or -1); nreq[p] = how many < p
    hr = [-1] * (n + 1)
    nreq = [0] * (n + 1)
    for p in range(n):
        is_req = bool(required & pos_bit[p])
        hr[p + 1] = p if is_req else hr[p]
        nreq[p + 1] = nreq[p] + is_req
    if nreq[n] > size:
        return None
    # constraint columns and, per position p: the weight of the required nodes below p
    # (every completion holds them) and the sums of the j largest other weights below p
    cols: list[list[int]] = []
    thresholds: list[int] = []
    tops: list[list[list[int]]] = []
    req_below: list[list[int]] = []
    for w, t in constraints:
        col = [w[i] for i in ids]
        cols.append(col)
        thresholds.append(t)
        table: list[list[int]] = []
        rb: list[int] = []
        ordered: list[int] = []
        racc = 0
        for p in range(n + 1):
            pref = [0]
            acc = 0
            for v in ordered[: size - 1]:
                acc += v
                pref.append(acc)
            table.append(pref)
            rb.append(racc)
            if p < n:
                v = col[p]
                if required & pos_bit[p]:
                    racc += v
                    continue
                # keep ``ordered`` descending
                k = 0
                while k < len(ordered) and ordered[k] >= v:
                    k += 1
                ordered.insert(k, v)
        tops.append(table)
        req_below.append(rb)
    nc = len(cols)
    closest = dist is not None
    dd: list[list[int]] = []
    min_off = 0
    if closest:
        assert dist is not None
        dd = [[dist[a][b] for b in ids] for a in ids]
        offs = [dd[a][b] for a in range(n) for b in range(n) if a != b]
        min_off = min(offs) if offs else 0
    best: list[Any] = [None, 0]  # [best distance sum, mask]

    def lower_rest(q: int, j: int, cross: list[int]) -> int:
        """The least distance that j more nodes below position q can add."""
        if j == 0:
            return 0
        g = heapq.nsmallest(j, (dd[r][r] + cross[r] for r in range(q)))
        return sum(g) + j * (j - 1) * min_off

    def rec(p: int, j: int, mask: int, sums: list[int], dsum: int, cross: list[int]) -> bool:
        lo = max(j - 1, hr[p])
        for q in range(lo, p):
            if nreq[q] > j - 1:
                break
            if nc:
                new_sums = [sums[c] + cols[c][q] for c in range(nc)]
                ok = True
                free_picks = j - 1 - nreq[q]  # the required nodes below q are among the j - 1
                for c in range(nc):
                    row = tops[c][q]
                    best_rest = req_below[c][q] + row[min(free_picks, len(row) - 1)]
                    if new_sums[c] + best_rest < thresholds[c]:
                        ok = False
                        break
                if not ok:
                    continue
            else:
                new_sums = sums
            m = mask | pos_bit[q]
            if closest:
                # the distance bound first: it is cheaper than most prefix conditions
                d_new = dsum + dd[q][q] + cross[q]
                if j > 1:
                    cross_new = [cross[r] + dd[q][r] + dd[r][q] for r in range(q)]
                    if best[0] is not None and d_new + lower_rest(q, j - 1, cross_new) >= best[0]:
                        continue
                elif best[0] is not None and d_new >= best[0]:
                    continue
            if partial_ok is not None and not partial_ok(m):
                continue
            if j == 1:
                if leaf_ok is not None and not leaf_ok(m):
                    continue
                if not closest:
                    best[0], best[1] = 0, m
                    return True
                best[0], best[1] = d_new, m
                continue
            if closest:
                rec(q, j - 1, m, new_sums, d_new, cross_new)
            elif rec(q, j - 1, m, new_sums, 0, cross):
                return True
        return False

    rec(n, size, 0, [0] * nc, 0, [0] * n)
    if best[0] is None:
        return None
    return best[0], best[1]


def _search_one(
    ids: Sequence[int],
    required: int,
    constraints: Sequence[Constraint],
    dist: Distances | None,
    partial_ok: Callable[[int], bool] | None,
    leaf_ok: Callable[[int], bool] | None,
) -> tuple[int, int] | None:
    """:func:`search` for single nodes."""
    best: tuple[int, int] | None = None
    for i in ids:
        m = 1 << i
        if required & ~m:
            continue
        if any(w[i] < t for w, t in constraints):
            continue
        if dist is not None:
            dv = dist[i][i]
            if best is not None and dv >= best[0]:
                continue
        else:
            dv = 0
        if partial_ok is not None and not partial_ok(m):
            continue
        if leaf_ok is not None and not leaf_ok(m):
            continue
        if dist is None:
            return 0, m
        best = (dv, m)
    return best


def min_size(fam: Family) -> int | None:
    """The size of the smallest member (None: no member)."""
    if fam.upward_closed and not fam.contains(fam.universe):
        return None
    lo = _min_size_bound(fam)
    if lo is None:
        return None
    if len(fam.constraints) <= 1 and fam.upward_closed:
        return lo  # the greedy bound is attained (required nodes plus the heaviest others)
    r = min_member(fam, None)
    return None if r is None else r[0]


def _min_size_bound(fam: Family) -> int | None:
    """A lower bound on the size of a member (exact for one constraint); None: no member."""
    r_sum_bound = fam.required.bit_count()
    bound = max(fam.min_size, r_sum_bound, 1)
    free_ids = mask_ids(fam.universe & ~fam.required)
    for w, t in fam.constraints:
        need = t - wsum(w, fam.required)
        c = 0
        if need > 0:
            vals = sorted((w[i] for i in free_ids), reverse=True)
            acc = 0
            for v in vals:
                if acc >= need:
                    break
                acc += v
                c += 1
            if acc < need:
                return None
        bound = max(bound, r_sum_bound + c)
    return bound


def min_member(fam: Family, dist: Distances | None) -> tuple[int, int, int] | None:
    """The member of ``fam`` first in the policy's order: ``(size, distance sum, mask)``."""
    if fam.upward_closed and not fam.contains(fam.universe):
        return None
    lo = _min_size_bound(fam)
    if lo is None:
        return None
    hi = min(fam.max_size, fam.universe.bit_count())
    ids = mask_ids(fam.universe)
    for s in range(lo, hi + 1):
        r = search(ids, s, fam.required, fam.constraints, dist)
        if r is not None:
            return s, r[0], r[1]
    return None


# --------------------------------------------------------------------------- spaces
class HintSpace:
    """One provider's hints for one request, as explicit masks plus families.

    ``fit_*`` describe every hint's mask, ``pref_*`` the preferred ones (the
    provider marks a hint preferred exactly when its mask is in the preferred
    set). Subclasses give exact :meth:`fits` / :meth:`is_preferred` tests and the
    reference enumeration (:meth:`materialize`) in the provider's list order.
    """

    __slots__ = ("_hints", "fit_explicit", "fit_families", "pref_explicit", "pref_families", "universe")

    def __init__(
        self,
        universe: int,
        fit_explicit: frozenset[int],
        fit_families: tuple[Family, ...],
        pref_explicit: frozenset[int],
        pref_families: tuple[Family, ...],
    ) -> None:
        self.universe = universe
        self.fit_explicit = fit_explicit
        self.fit_families = fit_families
        self.pref_explicit = pref_explicit
        self.pref_families = pref_families
        self._hints: list[TopologyHint] | None = None

    # -- exact tests ------------------------------------------------------------
    def fits(self, m: int) -> bool:
        return m in self.fit_explicit or any(f.contains(m) for f in self.fit_families)

    def is_preferred(self, m: int) -> bool:
        return m in self.pref_explicit or any(f.contains(m) for f in self.pref_families)

    def is_empty(self) -> bool:
        return not self.fit_explicit and not any(f.nonempty() for f in self.fit_families)

    # -- the list ---------------------------------------------------------------
    def materialize(self) -> list[TopologyHint]:  # pragma: no cover - abstract
        raise NotImplementedError

    def hints(self) -> list[TopologyHint]:
        """Every hint, in the provider's order (the reference enumeration, cached)."""
        if self._hints is None:
            n = self.universe.bit_count()
            if n > LISTABLE_MAX_NODES:
                raise HintListTooLarge(
                    f"the hint list over {n} NUMA nodes has up to 2^{n} - 1 hints and is not listed "
                    f"(at most {LISTABLE_MAX_NODES} NUMA nodes); read its structure (HintList.space) instead"
                )
            self._hints = self.materialize()
        return self._hints

    @property
    def listable(self) -> bool:
        return self._hints is not None or self.universe.bit_count() <= LISTABLE_MAX_NODES

    def single_numa_preferred(self) -> list[TopologyHint]:
        """The preferred single-NUMA hints, in list order (``filterSingleNumaHints``)."""
        return [TopologyHint(1 << i, True) for i in mask_ids(self.universe) if self.is_preferred(1 << i)]

    # -- searches -----------------------------------------------------------------
    def min_count(self) -> int:
        """The number of NUMA nodes of the narrowest hint (0: no hint)."""
        best = 0
        for m in self.fit_explicit:
            c = m.bit_count()
            if best == 0 or c < best:
                best = c
        for f in self.fit_families:
            r = min_size(f)
            if r is not None and (best == 0 or r < best):
                best = r
        return best

    def narrowest(self, preferred: bool, required: int = 0) -> int | None:
        """The narrowest (fewest nodes, then smallest) hint mask containing ``required``."""
        explicit = self.pref_explicit if preferred else self.fit_explicit
        families = self.pref_families if preferred else self.fit_families
        best: tuple[int, int] | None = None
        for m in explicit:
            if required & ~m:
                continue
            k = (m.bit_count(), m)
            if best is None or k < best:
                best = k
        for f in families:
            g = f.with_required(required) if required else f
            if g is None:
                continue
            r = min_member(g, None)
            if r is not None and (best is None or (r[0], r[2]) < best):
                best = (r[0], r[2])
        return None if best is None else best[1]

    def find_best_hint(self, required: int = 0) -> TopologyHint | None:
        """``findBestHint`` over the hints that contain ``required``: the narrowest preferred
        one, else the narrowest one; None when no hint contains ``required``."""
        m = self.narrowest(True, required)
        if m is not None:
            return TopologyHint(m, True)
        m = self.narrowest(False, required)
        if m is not None:
            return TopologyHint(m, False)
        return None


class HintList(Sequence[TopologyHint]):
    """A provider's hint list backed by a :class:`HintSpace`.

    It behaves as the provider's list (same hints, same order, equal to it) but
    is only materialised when read as a list; the fast merge reads the space.
    Never empty (an empty answer is a plain ``[]``).
    """

    __slots__ = ("space",)

    def __init__(self, space: HintSpace) -> None:
        self.space = space

    def __len__(self) -> int:
        return len(self.space.hints())

    def __getitem__(self, i: Any) -> Any:
        return self.space.hints()[i]

    def __iter__(self) -> Iterator[TopologyHint]:
        return iter(self.space.hints())

    def __bool__(self) -> bool:
        return True

    def __eq__(self, other: object) -> bool:
        if isinstance(other, HintList):
            return other.space is self.space or self.space.hints() == other.space.hints()
        if isinstance(other, list):
            return self.space.hints() == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        if self.space._hints is not None or self.space.universe.bit_count() <= 10:
            return repr(self.space.hints())
        return f"<{type(self.space).__name__} over NUMA nodes {mask_ids(self.space.universe)}>"

    @property
    def listable(self) -> bool:
        """Whether the list can be read as a list (see :data:`LISTABLE_MAX_NODES`)."""
        return self.space.listable

    def to_list(self) -> list[TopologyHint]:
        return list(self.space.hints())
