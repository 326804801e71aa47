"""NUMA node bit masks (topologymanager/bitmask).

A mask is a plain ``int`` whose bit *i* stands for NUMA node *i*; ``None``
stands for the kubelet's nil mask ("no preference"). Ordering follows the
kubelet: a mask is narrower than another when it has fewer bits, or the same
number and a smaller integer value.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import combinations


def mask_of(ids: Iterable[int]) -> int:
    m = 0
    for i in ids:
        m |= 1 << i
    return m


def bits(mask: int) -> list[int]:
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


def count(mask: int) -> int:
    return mask.bit_count()


def is_narrower_than(a: int, b: int) -> bool:
    """``BitMask.IsNarrowerThan``."""
    ca, cb = a.bit_count(), b.bit_count()
    if ca == cb:
        return a < b
    return ca < cb


def iterate_bitmasks(ids: list[int]) -> Iterator[int]:
    """``bitmask.IterateBitMasks``: every non-empty subset, by size, then in lexicographic order."""
    for size in range(1, len(ids) + 1):
        for combo in combinations(ids, size):
            m = 0
            for i in combo:
                m |= 1 << i
            yield m


def mask_str(mask: int | None) -> str:
    """The NUMA nodes of a mask as a list (``0-1``), or ``<nil>``."""
    if mask is None:
        return "<nil>"
    from topolet.model.cpuset import format_bits

    return format_bits(mask)
