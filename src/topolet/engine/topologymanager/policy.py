"""Topology manager policies and the hint merge (topologymanager/policy*.go, numa_info.go).

This is the faithful, exhaustive merge: the cross product of every
provider's hints, each permutation ANDed and compared with the kubelet's
rules (preferred first, then narrowest mask, or with
``prefer-closest-numa-nodes`` the smallest average distance).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from topolet.engine.fast_path import resolve_reference
from topolet.engine.hint import ProviderHints, TopologyHint
from topolet.engine.topologymanager.fast_merge import MaskOrder, max_of_min_affinity_counts, merge_fast
from topolet.engine.topologymanager.hint_space import HintList
from topolet.engine.topologymanager.numa_info import NUMAInfo

POLICY_NONE = "none"
POLICY_BEST_EFFORT = "best-effort"
POLICY_RESTRICTED = "restricted"
POLICY_SINGLE_NUMA_NODE = "single-numa-node"
POLICIES = (POLICY_NONE, POLICY_BEST_EFFORT, POLICY_RESTRICTED, POLICY_SINGLE_NUMA_NODE)


def filter_providers_hints(providers_hints: Sequence[ProviderHints]) -> list[list[TopologyHint]]:
    """``filterProvidersHints``: one hint list per (provider, resource)."""
    out: list[list[TopologyHint]] = []
    for hints in providers_hints:
        if not hints:
            out.append([TopologyHint(None, True)])
            continue
        for resource_hints in hints.values():
            if resource_hints is None:
                out.append([TopologyHint(None, True)])
            elif not resource_hints:  # (a HintList is never empty and is not listed here)
                out.append([TopologyHint(None, False)])
            else:
                out.append(resource_hints)
    return out


class HintMerger:
    """``HintMerger``: the cross product of provider hints and the kubelet's comparison."""

    __slots__ = ("best_non_preferred_count", "compare_masks", "hints", "numa_info")

    def __init__(
        self,
        numa_info: NUMAInfo,
        hints: list[list[TopologyHint]],
        policy_name: str,
        prefer_closest_numa: bool,
    ) -> None:
        self.numa_info = numa_info
        self.hints = hints
        self.best_non_preferred_count = max_of_min_affinity_counts(hints)
        use_closest = policy_name != POLICY_SINGLE_NUMA_NODE and prefer_closest_numa
        self.compare_masks: Callable[[int, int], int] = numa_info.closest if use_closest else numa_info.narrowest

    def _compare_masks(self, current: TopologyHint, candidate: TopologyHint) -> TopologyHint:
        assert current.mask is not None and candidate.mask is not None
        if candidate.mask == current.mask:
            return current
        best = self.compare_masks(current.mask, candidate.mask)
        return current if best == current.mask else candidate

    def compare(self, current: TopologyHint | None, candidate: TopologyHint) -> TopologyHint | None:
        """``HintMerger.compare``: the better of the current best and a candidate merged hint."""
        assert candidate.mask is not None
        cand_count = candidate.mask.bit_count()
        if cand_count == 0:
            return current
        if current is None:
            return candidate
        if not current.preferred and candidate.preferred:
            return candidate
        if current.preferred and not candidate.preferred:
            return current
        if current.preferred and candidate.preferred:
            return self._compare_masks(current, candidate)
        # both not preferred
        assert current.mask is not None
        best = self.best_non_preferred_count
        cur_count = current.mask.bit_count()
        if cur_count > best:
            return self._compare_masks(current, candidate)
        if cur_count == best:
            if cand_count != best:
                return current
            return self._compare_masks(current, candidate)
        if cand_count > best:
            return current
        if cand_count == best:
            return candidate
        if cand_count > cur_count:
            return candidate
        if cand_count < cur_count:
            return current
        return self._compare_masks(current, candidate)

    def merge(self) -> TopologyHint:
        default_affinity = self.numa_info.default_affinity_mask()
        best: TopologyHint | None = None
        lists = self.hints
        n = len(lists)
        if n == 0:
            # a single empty permutation: the default affinity, preferred
            best = self.compare(best, TopologyHint(default_affinity, True))
        elif any(not lst for lst in lists):
            pass  # an empty hint list: the cross product is empty
        else:
            # iterative cross product in the kubelet's order (last list varies fastest)
            idx = [0] * n
            while True:
                mask = default_affinity
                preferred = True
                first: int | None = None
                for i in range(n):
                    h = lists[i][idx[i]]
                    if h.mask is not None:
                        if first is None:
                            first = h.mask
                        elif h.mask != first:
                            preferred = False
                        mask &= h.mask
                    if not h.preferred:
                        preferred = False
                best = self.compare(best, TopologyHint(mask, preferred))
                # advance the odometer
                i = n - 1
                while i >= 0:
                    idx[i] += 1
                    if idx[i] < len(lists[i]):
                        break
                    idx[i] = 0
                    i -= 1
                if i < 0:
                    break
        if best is None:
            return TopologyHint(default_affinity, False)
        return best


def filter_single_numa_hints(all_hints: list[list[TopologyHint]]) -> list[list[TopologyHint]]:
    out: list[list[TopologyHint]] = []
    for hints in all_hints:
        if isinstance(hints, HintList):  # the fast path: the preferred single nodes, not the whole list
            out.append(hints.space.single_numa_preferred())
            continue
        kept = [h for h in hints if h.preferred and (h.mask is None or h.mask.bit_count() == 1)]
        out.append(kept)
    return out


class Policy:
    """A topology manager policy: ``Merge`` returns the best hint and whether to admit."""

    name = POLICY_NONE

    def __init__(self, numa_info: NUMAInfo, prefer_closest_numa: bool = False, reference: bool | None = None) -> None:
        self.numa_info = numa_info
        self.prefer_closest_numa = prefer_closest_numa
        # reference: the kubelet's exhaustive cross-product merge; else the fast path
        # (fast_merge), which gives identical answers without walking the product.
        # None: the engine-wide default (topolet.engine.fast_path.reference_mode).
        self.reference = resolve_reference(reference)
        self.default_affinity = numa_info.default_affinity_mask()
        closest = prefer_closest_numa and self.name != POLICY_SINGLE_NUMA_NODE
        self._order = MaskOrder(numa_info, closest)

    def _merge_filtered(self, filtered: list[list[TopologyHint]]) -> TopologyHint:
        if self.reference:
            return HintMerger(self.numa_info, filtered, self.name, self.prefer_closest_numa).merge()
        best = merge_fast(filtered, self.default_affinity, self._order)
        return best if best is not None else TopologyHint(self.default_affinity, False)

    def merge(self, providers_hints: Sequence[ProviderHints]) -> tuple[TopologyHint, bool]:
        raise NotImplementedError


class NonePolicy(Policy):
    name = POLICY_NONE

    def merge(self, providers_hints: Sequence[ProviderHints]) -> tuple[TopologyHint, bool]:
        return TopologyHint(None, False), True


class BestEffortPolicy(Policy):
    name = POLICY_BEST_EFFORT

    def can_admit(self, hint: TopologyHint) -> bool:
        return True

    def merge(self, providers_hints: Sequence[ProviderHints]) -> tuple[TopologyHint, bool]:
        best = self._merge_filtered(filter_providers_hints(providers_hints))
        return best, self.can_admit(best)


class RestrictedPolicy(BestEffortPolicy):
    name = POLICY_RESTRICTED

    def can_admit(self, hint: TopologyHint) -> bool:
        return hint.preferred


class SingleNumaNodePolicy(Policy):
    name = POLICY_SINGLE_NUMA_NODE

    def merge(self, providers_hints: Sequence[ProviderHints]) -> tuple[TopologyHint, bool]:
        best = self._merge_filtered(filter_single_numa_hints(filter_providers_hints(providers_hints)))
        if best.mask == self.default_affinity:
            best = TopologyHint(None, best.preferred)
        return best, best.preferred


def new_policy(name: str, numa_info: NUMAInfo, prefer_closest_numa: bool, reference: bool | None = None) -> Policy:
    cls = {
        POLICY_NONE: NonePolicy,
        POLICY_BEST_EFFORT: BestEffortPolicy,
        POLICY_RESTRICTED: RestrictedPolicy,
        POLICY_SINGLE_NUMA_NODE: SingleNumaNodePolicy,
    }[name]
    return cls(numa_info, prefer_closest_numa, reference)


def is_alignment_guaranteed(policy: Policy) -> bool:
    return policy.name == POLICY_SINGLE_NUMA_NODE
