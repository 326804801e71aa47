"""The kubelet's hint merge without walking the cross product.

``HintMerger.compare`` is a total preorder on merged hints, so the merge's
answer is the minimum of a sort key over every merged hint the cross product
can produce:

* preferred hints first, ordered by the policy's mask comparison
  (narrowest: fewer NUMA nodes, then the smaller mask value; with
  ``prefer-closest-numa-nodes``: fewer nodes, then the smaller average
  distance, then the smaller mask value);
* then non-preferred hints: those with exactly ``BestNonPreferredAffinityCount``
  nodes, then those with fewer nodes (more is better), then those with more
  (fewer is better), each tie broken by the same mask comparison.

A merged hint is preferred only if every chosen hint is preferred and every
non-nil chosen mask is the same mask M, so the preferred candidates are the
masks M that every provider offers as a preferred hint (or for which it
offers a preferred nil hint): an intersection, linear in the number of
hints. Only when no preferred candidate exists are the reachable
non-preferred masks computed, as the distinct ANDs of one hint per provider
(deduplicated per step, so bounded by the number of distinct masks rather
than the product of the list lengths).

When a provider hands over a :class:`~topolet.engine.topologymanager.hint_space.HintList`
(the fast path's providers do from 5 NUMA nodes on), its hints are never
listed: the preferred candidates are found by an ordered search of the
intersection of the providers' preferred mask sets, and the non-preferred
answer by a search of the merged masks in the order the comparison prefers
them, per choice of hints, with an exact reachability test
(:func:`merge_structured`; complexity argued there).

The answer is identical to :class:`~topolet.engine.topologymanager.policy.HintMerger`;
the property tests hold both to that.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import product

from topolet.engine.bitmask import is_narrower_than
from topolet.engine.hint import TopologyHint
from topolet.engine.topologymanager.hint_space import (
    Family,
    HintList,
    HintSpace,
    mask_ids,
    min_member,
    search,
    total_distance,
    wsum,
)
from topolet.engine.topologymanager.numa_info import NUMAInfo


def _narrowest_hint(hints: list[TopologyHint]) -> TopologyHint | None:
    best: TopologyHint | None = None
    for h in hints:
        if h.mask is None:
            continue
        if best is None:
            best = h
        assert best.mask is not None
        if is_narrower_than(h.mask, best.mask):
            best = h
    return best


def max_of_min_affinity_counts(filtered: list[list[TopologyHint]]) -> int:
    result = 0
    for hints in filtered:
        h = _narrowest_hint(hints)
        if h is None or h.mask is None:
            continue
        c = h.mask.bit_count()
        if c > result:
            result = c
    return result


class MaskOrder:
    """The mask comparison of a policy as a sort key (``Narrowest`` or ``Closest``)."""

    __slots__ = ("_cache", "closest", "numa_info")

    def __init__(self, numa_info: NUMAInfo, closest: bool) -> None:
        self.numa_info = numa_info
        self.closest = closest
        self._cache: dict[int, tuple[int, float, int]] = {}

    def key(self, mask: int) -> tuple[int, float, int]:
        k = self._cache.get(mask)
        if k is None:
            dist = self.numa_info.average_distance(mask) if self.closest else 0.0
            k = (mask.bit_count(), dist, mask)
            if len(self._cache) < 1 << 16:
                self._cache[mask] = k
        return k


def merge_fast(
    hints: list[list[TopologyHint]],
    default_affinity: int,
    order: MaskOrder,
    need_non_preferred: bool = True,
) -> TopologyHint | None:
    """The best merged hint, or None when no permutation yields a non-empty mask.

    With ``need_non_preferred`` False the caller only needs to know whether a
    preferred hint exists (restricted and single-numa-node reject any
    non-preferred result); a non-preferred answer is then a placeholder
    ``TopologyHint(default_affinity, False)``.
    """
    if not hints:
        return TopologyHint(default_affinity, True) if default_affinity else None
    for lst in hints:
        if not lst:
            return None
    if any(isinstance(lst, HintList) for lst in hints):
        return merge_structured(hints, default_affinity, order, need_non_preferred)
    # -- preferred candidates -------------------------------------------------
    # M is a preferred merged mask iff every list offers M preferred or a preferred nil
    # (and at least one offers M itself); all-nil picks give the default affinity.
    union: set[int] = set()
    required: list[set[int]] = []
    all_pref_nil = True
    for lst in hints:
        pref_nil = False
        masks: set[int] = set()
        for h in lst:
            if h.preferred:
                if h.mask is None:
                    pref_nil = True
                else:
                    masks.add(h.mask)
        union |= masks
        if not pref_nil:
            all_pref_nil = False
            required.append(masks)
    candidates = union
    for req in sorted(required, key=len):
        candidates = candidates & req
        if not candidates:
            break
    best: tuple[tuple[int, float, int], int] | None = None
    if all_pref_nil and default_affinity:
        best = (order.key(default_affinity), default_affinity)
    for m in candidates:
        merged = m & default_affinity
        if merged == 0:
            continue
        k = order.key(merged)
        if best is None or k < best[0]:
            best = (k, merged)
    if best is not None:
        return TopologyHint(best[1], True)
    if not need_non_preferred:
        return TopologyHint(default_affinity, False)
    return _best_non_preferred(hints, default_affinity, order)


def _best_non_preferred(
    hints: list[list[TopologyHint]], default_affinity: int, order: MaskOrder
) -> TopologyHint | None:
    reach = {default_affinity}
    for lst in hints:
        masks = {h.mask for h in lst}
        nxt: set[int] = set()
        for m in reach:
            for hm in masks:
                nxt.add(m if hm is None else m & hm)
        reach = nxt
    b = max_of_min_affinity_counts(hints)
    best_key: tuple[int, int, tuple[int, float, int]] | None = None
    best_mask = 0
    for m in reach:
        c = m.bit_count()
        if c == 0:
            continue
        if c == b:
            tier = (0, 0)
        elif c < b:
            tier = (1, -c)
        else:
            tier = (2, c)
        k = (*tier, order.key(m))
        if best_key is None or k < best_key:
            best_key = k  # type: ignore[assignment]
            best_mask = m
    if best_key is None:
        return None
    return TopologyHint(best_mask, False)


# --------------------------------------------------------------------------- structured merge
class _Options:
    """What one hint list can contribute to a merged mask: explicit masks (within the
    default affinity; a nil hint is the whole default affinity) and upward-closed families."""

    __slots__ = ("explicit", "families", "max_size", "min_count")

    def __init__(self, explicit: list[int], families: list[Family], min_count: int) -> None:
        self.explicit = explicit
        self.families = families
        self.min_count = min_count
        sizes = [m.bit_count() for m in explicit] + [f.universe.bit_count() for f in families]
        self.max_size = max(sizes, default=0)


def merge_structured(
    hints: Sequence[Sequence[TopologyHint]],
    default_affinity: int,
    order: MaskOrder,
    need_non_preferred: bool = True,
) -> TopologyHint | None:
    """:func:`merge_fast` over lists some of which are :class:`HintList` (never listed).

    Preferred: the merged hint is preferred iff every list offers the same mask M as a
    preferred hint (or a preferred nil). With a :class:`HintList` present, M must be in
    the intersection of the lists' preferred sets: explicit candidates are filtered by
    exact membership, families are intersected (a family again) and searched in the
    policy's order (:func:`~topolet.engine.topologymanager.hint_space.min_member`).
    The preferred parts of a provider are few (CPU: one family, plus one per set of
    sockets with ``align-by-socket``; memory: one family and ≤ N + #groups explicit
    masks), so this is a handful of searches.

    Non-preferred (no preferred M): the answer is the first reachable merged mask in the
    comparison's order — size ``BestNonPreferredAffinityCount`` first, then smaller sizes
    from the largest down, then larger sizes from the smallest up, each size in the
    policy's order. For one size s, every way of choosing per list "an explicit hint"
    or "a member of this family" is reduced to the nodes V that every choice may keep
    (a node outside a chosen explicit hint or outside a chosen family's universe is left
    out for free) and the chosen families; distinct outcomes only, with ``|V| ≥ s``
    (:func:`_choices`). A merged mask x ⊆ V is then reachable iff the families can leave
    out every node of ``V \\ x``: a family's member is ``U \\ W`` for any W that avoids
    its required nodes, keeps at least ``min_size`` nodes and weighs at most its slack
    ``Σ_U w − θ`` per constraint.

    * With no family, x = V.
    * With one family (CPU alone, one memory resource alone, or either with explicit
      lists), x is reachable iff ``Σ_x w ≥ Σ_V w − slack``: an ordinary constrained
      search (:func:`~topolet.engine.topologymanager.hint_space.search`) with the
      largest-remaining-weights bound — O(s·N) node visits for one constraint.
    * With several families (CPU and memory, or several memory resources), W must be
      split among them: a bin packing (:class:`_Packer`, exact, identical bins
      interchangeable, failed states memoised). Reachability is closed under supersets
      within V, so the search cuts a prefix as soon as its widest completion (the
      prefix plus every node of V below it) cannot be packed; on real nodes the first
      candidates are accepted after one packing each.

    Both searches are exact whatever the state. They are polynomial for one family and,
    in practice, for several; adversarial states (packings that are feasible only for
    rare splits, distance matrices without structure) make them explore more — never
    answer differently.
    """
    d = default_affinity
    lists: list[Sequence[TopologyHint]] = []
    for lst in hints:
        if isinstance(lst, HintList) and lst.space.universe & ~d:
            lists.append(lst.space.hints())  # masks outside the node set: use the list itself
        else:
            lists.append(lst)
    if not any(isinstance(lst, HintList) for lst in lists):
        return merge_fast([list(lst) for lst in lists], d, order, need_non_preferred)
    dist = order.numa_info.distances if order.closest else None
    best = _best_preferred(lists, d, order, dist)
    if best is not None:
        return TopologyHint(best, True)
    if not need_non_preferred:
        return TopologyHint(d, False)
    return _best_non_preferred_structured(lists, d, order, dist)


def _best_preferred(
    lists: list[Sequence[TopologyHint]],
    d: int,
    order: MaskOrder,
    dist: object,
) -> int | None:
    spaces: list[HintSpace] = []
    explicit_sets: list[set[int]] = []
    for lst in lists:
        if isinstance(lst, HintList):
            if not any(sp is lst.space for sp in spaces):
                spaces.append(lst.space)
            continue
        if any(h.preferred and h.mask is None for h in lst):
            continue
        explicit_sets.append({h.mask for h in lst if h.preferred and h.mask is not None})
    best: tuple[tuple[int, float, int], int] | None = None

    def consider(m: int) -> None:
        nonlocal best
        merged = m & d
        if merged == 0:
            return
        k = order.key(merged)
        if best is None or k < best[0]:
            best = (k, merged)

    if explicit_sets:
        explicit_sets.sort(key=len)
        cands = set(explicit_sets[0])
        for other in explicit_sets[1:]:
            cands &= other
        for m in cands:
            if all(sp.is_preferred(m) for sp in spaces):
                consider(m)
        return None if best is None else best[1]
    parts: list[list[frozenset[int] | Family]] = []
    for sp in spaces:
        p: list[frozenset[int] | Family] = []
        if sp.pref_explicit:
            p.append(sp.pref_explicit)
        p.extend(sp.pref_families)
        if not p:
            return None
        parts.append(p)
    for choice in product(*parts):
        sets = [c for c in choice if isinstance(c, frozenset)]
        fams = [c for c in choice if isinstance(c, Family)]
        if sets:
            cands = set(min(sets, key=len))
            for other in sets:
                cands &= other
            for m in cands:
                if all(f.contains(m) for f in fams):
                    consider(m)
            continue
        fam: Family | None = fams[0]
        for f in fams[1:]:
            assert fam is not None
            fam = fam.intersect(f)
            if fam is None:
                break
        if fam is None:
            continue
        r = min_member(fam, dist)  # type: ignore[arg-type]
        if r is not None:
            consider(r[2])
    return None if best is None else best[1]


def _options_of(lst: Sequence[TopologyHint], d: int) -> _Options:
    if isinstance(lst, HintList):
        sp = lst.space
        fams = [f for f in sp.fit_families if f.nonempty()]
        assert all(f.upward_closed for f in fams)
        return _Options(sorted({m & d for m in sp.fit_explicit} - {0}), fams, sp.min_count())
    masks: set[int] = set()
    for h in lst:
        m = d if h.mask is None else h.mask & d
        if m:
            masks.add(m)
    nh = _narrowest_hint(list(lst))
    count = 0 if nh is None or nh.mask is None else nh.mask.bit_count()
    return _Options(sorted(masks), [], count)


def _best_non_preferred_structured(
    lists: list[Sequence[TopologyHint]], d: int, order: MaskOrder, dist: object
) -> TopologyHint | None:
    options = [_options_of(lst, d) for lst in lists]
    b = max((o.min_count for o in options), default=0)
    smax = min(o.max_size for o in options)
    if smax <= 0:
        return None
    tiers: list[int] = []
    if 1 <= b <= smax:
        tiers.append(b)
    tiers.extend(range(min(b - 1, smax), 0, -1))
    tiers.extend(range(max(b + 1, 1), smax + 1))
    for s in tiers:
        best: tuple[int, int] | None = None
        for v, bins in _choices(options, d, s):
            r = _best_in_choice(v, bins, s, dist)
            if r is not None and (best is None or r < best):
                best = r
        if best is not None:
            return TopologyHint(best[1], False)
    return None


def _choices(options: list[_Options], d: int, s: int) -> list[tuple[int, tuple[Family, ...]]]:
    """The distinct outcomes of choosing, per list, an explicit hint or a family: the nodes
    ``V`` that every chosen hint may keep (the rest is left out by an explicit hint or
    lies outside a family's universe) and the chosen families (a multiset), keeping only
    those with ``|V| ≥ s``."""
    states: dict[tuple[int, tuple[int, ...]], tuple[Family, ...]] = {(d, ()): ()}
    for o in options:
        nxt: dict[tuple[int, tuple[int, ...]], tuple[Family, ...]] = {}
        for (v, key), bins in states.items():
            for e in o.explicit:
                v2 = v & e
                if v2.bit_count() >= s:
                    nxt.setdefault((v2, key), bins)
            for f in o.families:
                v2 = v & f.universe
                if v2.bit_count() >= s:
                    new_bins = tuple(sorted((*bins, f), key=id))
                    nxt.setdefault((v2, tuple(id(x) for x in new_bins)), new_bins)
        states = nxt
        if not states:
            return []
    return [(v, bins) for (v, _), bins in states.items()]


def _best_in_choice(v: int, bins: tuple[Family, ...], s: int, dist: object) -> tuple[int, int] | None:
    """The first merged mask x of size s in the policy's order for one choice: x ⊆ V, and the
    chosen families leave out every node of ``V \\ x`` within their slacks."""
    if not bins:
        return (0 if dist is None else total_distance(dist, v), v) if v.bit_count() == s else None  # type: ignore[arg-type]
    # a node of V that no chosen family may leave out (each requires it) must be in x;
    # a family's required node may be left out by another family or an explicit hint
    required = v
    for f in bins:
        required &= f.required
    ids = mask_ids(v)
    if len(bins) == 1:
        # one family: W = V \ x must weigh at most its slack, i.e. Σ_x w ≥ Σ_V w − slack
        f = bins[0]
        if v.bit_count() - s > f.universe.bit_count() - f.min_size:
            return None
        cons = tuple((w, wsum(w, v) - slack) for (w, _), slack in zip(f.constraints, f.slacks(), strict=True))
        return search(ids, s, required, cons, dist)  # type: ignore[arg-type]

    packer = _Packer(list(bins))

    def superset_ok(part: int) -> bool:
        # every completion of ``part`` is within part ∪ (the nodes of V below its lowest node);
        # being reachable is closed under supersets, so that superset must be
        low = part & -part
        widest = part | (v & (low - 1))
        return packer.fits(v & ~widest, widest)

    def leaf_ok(x: int) -> bool:
        return packer.fits(v & ~x, x)

    return search(ids, s, required, (), dist, superset_ok, leaf_ok)  # type: ignore[arg-type]


class _Packer:
    """Bin ``f`` takes a set W of nodes (its member is ``U \\ W``): W must avoid x and the
    required nodes, keep ``|U \\ W| ≥ min_size`` and, per constraint, weigh at most the
    family's slack. :meth:`fits` decides whether the bins can take every node of a set:
    exact depth-first search (identical bins are interchangeable, failed states are
    remembered)."""

    __slots__ = ("bins", "cap", "movable", "nb", "slack", "weights")

    def __init__(self, bins: list[Family]) -> None:
        self.bins = bins
        self.nb = len(bins)
        self.slack = [f.slacks() for f in bins]
        self.cap = [f.universe.bit_count() - f.min_size for f in bins]
        self.weights = [[w for w, _ in f.constraints] for f in bins]
        self.movable = [f.universe & ~f.required for f in bins]

    def fits(self, rest: int, x: int) -> bool:
        if not rest:
            return True
        nb = self.nb
        slack = self.slack
        cap = self.cap
        weights = self.weights
        elig = [m & ~x for m in self.movable]
        items = mask_ids(rest)
        n_items = len(items)
        # a single bin that takes everything
        for b in range(nb):
            if rest & ~elig[b] or n_items > cap[b]:
                continue
            ok = True
            for w, sl in zip(weights[b], slack[b], strict=True):
                tot = 0
                for i in items:
                    tot += w[i]
                if tot > sl:
                    ok = False
                    break
            if ok:
                return True
        if nb == 1:
            return False
        where: list[list[int]] = []
        for i in items:
            bs = [
                b
                for b in range(nb)
                if elig[b] >> i & 1
                and cap[b] > 0
                and all(w[i] <= sl for w, sl in zip(weights[b], slack[b], strict=True))
            ]
            if not bs:
                return False
            where.append(bs)
        order_ = sorted(
            range(n_items),
            key=lambda k: (len(where[k]), -max((w[items[k]] for b in where[k] for w in weights[b]), default=0)),
        )
        loads = [[0] * len(slack[b]) for b in range(nb)]
        counts = [0] * nb
        failed: set[tuple[object, ...]] = set()
        bins = self.bins

        def dfs(k: int) -> bool:
            if k == n_items:
                return True
            state = (k, tuple(tuple(lv) for lv in loads), tuple(counts))
            if state in failed:
                return False
            idx = order_[k]
            i = items[idx]
            seen: set[tuple[object, ...]] = set()
            for b in where[idx]:
                sig = (id(bins[b]), tuple(loads[b]), counts[b])
                if sig in seen:
                    continue
                seen.add(sig)
                if counts[b] >= cap[b]:
                    continue
                wb = weights[b]
                lb = loads[b]
                sb = slack[b]
                if any(lb[t] + wb[t][i] > sb[t] for t in range(len(wb))):
                    continue
                for t in range(len(wb)):
                    lb[t] += wb[t][i]
                counts[b] += 1
                ok = dfs(k + 1)
                for t in range(len(wb)):
                    lb[t] -= wb[t][i]
                counts[b] -= 1
                if ok:
                    return True
            if len(failed) < 100_000:
                failed.add(state)
            return False

        return dfs(0)
