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

The answer is identical to :class:`~topolet.engine.topologymanager.policy.HintMerger`;
the property tests hold both to that.
"""

from __future__ import annotations

from topolet.engine.bitmask import is_narrower_than
from topolet.engine.hint import TopologyHint
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
