"""NUMA nodes and distances as the topology manager sees them (topologymanager/numa_info.go)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from topolet.engine.bitmask import bits as mask_bits
from topolet.engine.bitmask import is_narrower_than


@dataclass(slots=True)
class NUMAInfo:
    """``NUMAInfo``: the machine's NUMA node ids and distance rows."""

    nodes: list[int]
    distances: dict[int, Sequence[int]]

    def default_affinity_mask(self) -> int:
        m = 0
        for n in self.nodes:
            m |= 1 << n
        return m

    def average_distance(self, mask: int) -> float:
        ids = mask_bits(mask)
        if not ids:
            return 0.0
        total = 0
        for a in ids:
            row = self.distances[a]
            for b in ids:
                total += row[b]
        return total / (len(ids) * len(ids))

    def narrowest(self, m1: int, m2: int) -> int:
        return m1 if is_narrower_than(m1, m2) else m2

    def closest(self, m1: int, m2: int) -> int:
        if m1.bit_count() != m2.bit_count():
            return self.narrowest(m1, m2)
        d1 = self.average_distance(m1)
        d2 = self.average_distance(m2)
        if d1 == d2:
            return m1 if m1 < m2 else m2
        return m1 if d1 < d2 else m2
