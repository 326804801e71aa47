"""The static CPU policy's allocation algorithm (kubelet ``cpumanager/cpu_assignment.go``).

Two entry points pick ``num_cpus`` CPUs out of a set of available ones:

* :func:`take_by_topology_numa_packed`: topology-aware best fit. Whole NUMA
  nodes and sockets first (whichever is higher in the memory hierarchy comes
  first), then optionally whole or partial uncore (L3) caches, then whole
  cores, then single threads.
* :func:`take_by_topology_numa_distributed`: KEP-2902, spread the request
  evenly over the fewest NUMA nodes that can hold it, the remainder going
  where it keeps the NUMA nodes' free CPUs most balanced.

Every choice, ordering and tie-break is the kubelet's, including its quirks:

* groups are ordered by their number of free CPUs, then by id, and nested
  (NUMA node -> socket -> core, or socket -> NUMA node -> core); a group that
  spans two parents is listed once per parent, as in Go;
* a socket/core is "free" when its free CPU count equals the machine's
  *average* CPUs per socket/core (``CPUsPerSocket``/``CPUsPerCore``), and a
  free group is then taken as the topology's whole group;
* the distributed search reproduces Go's slice aliasing in
  ``iterateCombinations``: from 4 NUMA nodes per combination on, the
  combination remembered as the best one shares its backing array with the
  combinations enumerated after it, so its tail may have been overwritten by
  the time it is used (see :func:`_iterate_combinations`).

Where the kubelet would spin forever (the remainder loops of the distributed
algorithm when no NUMA node can give a whole CPU group any more) this module
raises :class:`AllocationHang` instead.

CPU sets are ``int`` bit masks (bit *i* = CPU *i*).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterator

from topolet.engine.errors import AllocationError
from topolet.model.cpuset import iter_bits
from topolet.model.topology import Topology

__all__ = [
    "CPU_SORTING_PACKED",
    "CPU_SORTING_SPREAD",
    "AllocationHang",
    "CPUAccumulator",
    "take_by_topology_numa_distributed",
    "take_by_topology_numa_packed",
]

CPU_SORTING_PACKED = "packed"
CPU_SORTING_SPREAD = "spread"

_MAX_FLOAT64 = sys.float_info.max
_KEY_SHIFT = 32  # sort keys: (free CPU count << 32) | id


class AllocationHang(AllocationError):
    """The kubelet's algorithm would loop forever on this input (it never returns)."""


# ---------------------------------------------------------------------------
# per-topology static index
# ---------------------------------------------------------------------------


class _TopoIndex:
    """Static groupings of one :class:`Topology` used by the accumulator.

    Every ``(id, mask)`` list holds the *intersection* of the child group with
    the parent group, so that filtering by free CPUs gives exactly the Go
    ``CPUDetails`` queries (e.g. ``SocketsInNUMANodes``: the sockets of the
    free CPUs whose NUMA node is ``n``).
    """

    __slots__ = (
        "core_mask",
        "cpus_per_core",
        "cpus_per_socket",
        "cpus_per_uncore",
        "min_core_size",
        "min_numa_size",
        "min_socket_size",
        "min_uncore_size",
        "num_cpus",
        "num_numa_nodes",
        "numa_cores",
        "numa_first",
        "numa_ids",
        "numa_items",
        "numa_mask",
        "numa_sockets",
        "numa_uncores",
        "numa_uncores_by_size",
        "socket_cores",
        "socket_ids",
        "socket_items",
        "socket_mask",
        "socket_numas",
        "uncore_cores",
        "uncore_mask",
    )

    def __init__(self, topo: Topology) -> None:
        self.numa_mask: dict[int, int] = dict(topo.numa_cpus)
        self.socket_mask: dict[int, int] = dict(topo.socket_cpus)
        self.core_mask: dict[int, int] = dict(topo.core_cpus)
        self.uncore_mask: dict[int, int] = dict(topo.uncore_cpus)
        self.numa_ids = sorted(self.numa_mask)
        self.socket_ids = sorted(self.socket_mask)
        self.numa_items = [(n, self.numa_mask[n]) for n in self.numa_ids]
        self.socket_items = [(s, self.socket_mask[s]) for s in self.socket_ids]
        core_ids = sorted(self.core_mask)
        uncore_ids = sorted(self.uncore_mask)

        def children(parent: int, ids: list[int], masks: dict[int, int]) -> list[tuple[int, int]]:
            return [(i, masks[i] & parent) for i in ids if masks[i] & parent]

        self.numa_sockets = {n: children(m, self.socket_ids, self.socket_mask) for n, m in self.numa_mask.items()}
        self.socket_numas = {s: children(m, self.numa_ids, self.numa_mask) for s, m in self.socket_mask.items()}
        self.socket_cores = {s: children(m, core_ids, self.core_mask) for s, m in self.socket_mask.items()}
        self.numa_cores = {n: children(m, core_ids, self.core_mask) for n, m in self.numa_mask.items()}
        self.numa_uncores = {n: children(m, uncore_ids, self.uncore_mask) for n, m in self.numa_mask.items()}
        self.uncore_cores = {u: children(m, core_ids, self.core_mask) for u, m in self.uncore_mask.items()}
        self.numa_uncores_by_size = {
            n: sorted(
                ((u, inter, self.uncore_mask[u]) for u, inter in lst),
                key=lambda item: (item[2].bit_count(), item[0]),
            )
            for n, lst in self.numa_uncores.items()
        }

        self.cpus_per_core = topo.cpus_per_core()
        self.cpus_per_socket = topo.cpus_per_socket()
        self.cpus_per_uncore = topo.cpus_per_uncore()
        self.num_cpus = topo.all_cpus.bit_count()  # CPUDetails.CPUs().Size()
        self.num_numa_nodes = len(self.numa_mask)  # CPUDetails.NUMANodes().Size()
        # newCPUAccumulator: NUMA nodes first when NumSockets >= NumNUMANodes
        self.numa_first = topo.num_sockets >= topo.num_numa_nodes
        self.min_numa_size = min(m.bit_count() for m in self.numa_mask.values())
        self.min_socket_size = min(m.bit_count() for m in self.socket_mask.values())
        self.min_core_size = min(m.bit_count() for m in self.core_mask.values())
        self.min_uncore_size = min(m.bit_count() for m in self.uncore_mask.values())


_INDEX_CACHE: dict[int, tuple[Topology, _TopoIndex]] = {}
_INDEX_CACHE_SIZE = 64


def _index(topo: Topology) -> _TopoIndex:
    hit = _INDEX_CACHE.get(id(topo))
    if hit is not None and hit[0] is topo:
        return hit[1]
    ix = _TopoIndex(topo)
    if len(_INDEX_CACHE) >= _INDEX_CACHE_SIZE:
        _INDEX_CACHE.pop(next(iter(_INDEX_CACHE)))
    # holding the topology keeps its id() from being reused while cached
    _INDEX_CACHE[id(topo)] = (topo, ix)
    return ix


def _sorted_ids(children: list[tuple[int, int]], masks: dict[int, int], free: int) -> list[int]:
    """The children that hold a free CPU, by (free CPUs in the whole group, id).

    This is ``cpuAccumulator.sort``: ``sort.Slice`` with a total order, so the
    result does not depend on the sort's stability.
    """
    keyed = [((masks[i] & free).bit_count() << _KEY_SHIFT) | i for i, inter in children if inter & free]
    keyed.sort()
    low = (1 << _KEY_SHIFT) - 1
    return [k & low for k in keyed]


# ---------------------------------------------------------------------------
# the accumulator
# ---------------------------------------------------------------------------


class CPUAccumulator:
    """``cpuAccumulator``: the free CPUs (``details``), the result, the CPUs still needed."""

    __slots__ = ("free", "ix", "needed", "packed_sort", "result", "topo")

    def __init__(self, topo: Topology, available: int, num_cpus: int, cpu_sorting_strategy: str) -> None:
        self.topo = topo
        self.ix = _index(topo)
        self.free = available & topo.all_cpus  # CPUDetails.KeepOnly(availableCPUs)
        self.needed = num_cpus
        self.result = 0
        # Go: the packed sorter iff strategy == packed, anything else sorts "spread"
        self.packed_sort = cpu_sorting_strategy == CPU_SORTING_PACKED

    # -- state ------------------------------------------------------------
    def take(self, cpus: int) -> None:
        self.result |= cpus
        self.free &= ~self.result
        self.needed -= cpus.bit_count()

    def needs_at_least(self, n: int) -> bool:
        return self.needed >= n

    def is_satisfied(self) -> bool:
        return self.needed < 1

    def is_failed(self) -> bool:
        return self.needed > self.free.bit_count()

    # -- sorting ----------------------------------------------------------
    def sort_available_numa_nodes(self, free: int | None = None) -> list[int]:
        ix = self.ix
        if free is None:
            free = self.free
        if ix.numa_first:
            return _sorted_ids(ix.numa_items, ix.numa_mask, free)
        result: list[int] = []
        for s in self.sort_available_sockets(free):
            result.extend(_sorted_ids(ix.socket_numas[s], ix.numa_mask, free))
        return result

    def sort_available_sockets(self, free: int | None = None) -> list[int]:
        ix = self.ix
        if free is None:
            free = self.free
        if not ix.numa_first:
            return _sorted_ids(ix.socket_items, ix.socket_mask, free)
        result: list[int] = []
        for n in self.sort_available_numa_nodes(free):
            result.extend(_sorted_ids(ix.numa_sockets[n], ix.socket_mask, free))
        return result

    def _iter_sorted_cores(self, free: int) -> Iterator[int]:
        ix = self.ix
        if ix.numa_first:
            for s in self.sort_available_sockets(free):
                yield from _sorted_ids(ix.socket_cores[s], ix.core_mask, free)
        else:
            for n in self.sort_available_numa_nodes(free):
                yield from _sorted_ids(ix.numa_cores[n], ix.core_mask, free)

    def sort_available_cores(self, free: int | None = None) -> list[int]:
        return list(self._iter_sorted_cores(self.free if free is None else free))

    def sort_available_uncore_caches(self, free: int | None = None) -> list[int]:
        ix = self.ix
        if free is None:
            free = self.free
        result: list[int] = []
        for n in self.sort_available_numa_nodes(free):
            result.extend(_sorted_ids(ix.numa_uncores[n], ix.uncore_mask, free))
        return result

    def _iter_cpus_packed(self, free: int) -> Iterator[int]:
        core_mask = self.ix.core_mask
        for core in self._iter_sorted_cores(free):
            yield from iter_bits(core_mask[core] & free)

    def _iter_cpus_spread(self, free: int) -> Iterator[int]:
        socket_mask = self.ix.socket_mask
        for s in self.sort_available_sockets(free):
            yield from iter_bits(socket_mask[s] & free)

    def _iter_free_cpus(self) -> Iterator[int]:
        """The CPU order of ``availableCPUSorter.sort()`` for the current free CPUs."""
        if self.packed_sort:
            return self._iter_cpus_packed(self.free)
        return self._iter_cpus_spread(self.free)

    def sort_available_cpus_packed(self) -> list[int]:
        return list(self._iter_cpus_packed(self.free))

    def sort_available_cpus_spread(self) -> list[int]:
        return list(self._iter_cpus_spread(self.free))

    # -- free groups ------------------------------------------------------
    def is_numa_node_free(self, numa: int) -> bool:
        m = self.ix.numa_mask.get(numa, 0)
        return (m & self.free).bit_count() == m.bit_count()

    def is_socket_free(self, socket: int) -> bool:
        return (self.ix.socket_mask.get(socket, 0) & self.free).bit_count() == self.ix.cpus_per_socket

    def is_uncore_cache_free(self, uncore: int) -> bool:
        m = self.ix.uncore_mask.get(uncore, 0)
        return (m & self.free).bit_count() == m.bit_count()

    def is_core_free(self, core: int) -> bool:
        return (self.ix.core_mask.get(core, 0) & self.free).bit_count() == self.ix.cpus_per_core

    def free_numa_nodes(self) -> list[int]:
        return [n for n in self.sort_available_numa_nodes() if self.is_numa_node_free(n)]

    def free_sockets(self) -> list[int]:
        return [s for s in self.sort_available_sockets() if self.is_socket_free(s)]

    def free_uncore_cache(self) -> list[int]:
        """``freeUncoreCache()``.

        Within a NUMA node the caches are ordered by free CPUs, then id; a free
        cache has all its CPUs free, so the free ones are in (size, id) order.
        """
        ix = self.ix
        free = self.free
        if not any(m & free == m for m in ix.uncore_mask.values()):
            return []
        result: list[int] = []
        for n in self.sort_available_numa_nodes(free):
            result.extend(u for u, inter, m in ix.numa_uncores_by_size[n] if inter & free and m & free == m)
        return result

    def _iter_free_cores(self, free: int) -> Iterator[int]:
        """``freeCores()`` for the CPUs ``free``, lazily.

        Within a socket (NUMA node) the cores are ordered by free CPUs, then id;
        the free ones all have ``CPUsPerCore`` free CPUs, so among themselves
        they come in id order and no sort is needed.
        """
        ix = self.ix
        cpc = ix.cpus_per_core
        core_mask = ix.core_mask
        if ix.numa_first:
            parents, children = self.sort_available_sockets(free), ix.socket_cores
        else:
            parents, children = self.sort_available_numa_nodes(free), ix.numa_cores
        for p in parents:
            for core, inter in children[p]:
                if inter & free and (core_mask[core] & free).bit_count() == cpc:
                    yield core

    def free_cores(self) -> list[int]:
        return list(self._iter_free_cores(self.free))

    def free_cpus(self) -> list[int]:
        return list(self._iter_free_cpus())

    # -- take steps -------------------------------------------------------
    def take_full_numa_nodes(self) -> None:
        ix = self.ix
        if self.needed < ix.min_numa_size:  # nothing could be claimed
            return
        for n in self.free_numa_nodes():
            cpus = ix.numa_mask[n]
            if self.needed >= cpus.bit_count():
                self.take(cpus)

    def take_full_sockets(self) -> None:
        ix = self.ix
        if self.needed < ix.min_socket_size:
            return
        for s in self.free_sockets():
            cpus = ix.socket_mask[s]
            if self.needed >= cpus.bit_count():
                self.take(cpus)

    def take_full_first_level(self) -> None:
        if self.ix.numa_first:
            self.take_full_numa_nodes()
        else:
            self.take_full_sockets()

    def take_full_second_level(self) -> None:
        if self.ix.numa_first:
            self.take_full_sockets()
        else:
            self.take_full_numa_nodes()

    def take_full_uncore(self) -> None:
        ix = self.ix
        if self.needed < ix.min_uncore_size:
            return
        for u in self.free_uncore_cache():
            cpus = ix.uncore_mask[u]
            if self.needed >= cpus.bit_count():
                self.take(cpus)

    def take_partial_uncore(self, uncore: int) -> None:
        ix = self.ix
        free = self.free
        cpc = ix.cpus_per_core
        num_cores_needed = (self.needed + cpc - 1) // cpc
        # CoresNeededInUncoreCache: the lowest-numbered cores with a free CPU in the cache
        free_cpus = 0
        taken_cores = 0
        for core, inter in ix.uncore_cores.get(uncore, ()):
            if inter & free:
                if taken_cores >= num_cores_needed:
                    break
                taken_cores += 1
                free_cpus |= ix.core_mask[core] & free
        if self.needed % 2 != 0 and cpc > 1 and free_cpus.bit_count() > self.needed:
            # odd request on an SMT machine: drop the highest-numbered CPU
            free_cpus ^= 1 << (free_cpus.bit_length() - 1)
        if self.needed == free_cpus.bit_count():
            self.take(free_cpus)

    def take_uncore_cache(self) -> None:
        num_cpus_in_uncore = self.ix.cpus_per_uncore
        fruitless = -1  # free CPUs with which takeFullUncore claimed nothing (nor will again)
        for uncore in self.sort_available_uncore_caches():
            if self.needed >= num_cpus_in_uncore and self.free != fruitless:
                before = self.free
                self.take_full_uncore()
                if self.free == before:
                    fruitless = before
            if self.needed < 1:
                return
            self.take_partial_uncore(uncore)
            if self.needed < 1:
                return

    def take_full_cores(self) -> None:
        ix = self.ix
        if self.needed < ix.min_core_size:
            return
        core_mask = ix.core_mask
        min_size = ix.min_core_size
        for core in self._iter_free_cores(self.free):  # the order of the CPUs free now
            cpus = core_mask[core]
            if self.needed >= cpus.bit_count():
                self.take(cpus)
            elif self.needed < min_size:
                return  # no later core can be claimed either

    def take_remaining_cpus(self) -> None:
        # the order is computed once, from the CPUs free when the step starts
        for cpu in self._iter_free_cpus():
            self.result |= 1 << cpu
            self.free &= ~self.result
            self.needed -= 1
            if self.needed < 1:
                return

    # -- distributed helpers ---------------------------------------------
    def range_numa_nodes_needed_to_satisfy(self, cpu_group_size: int) -> tuple[int, int]:
        ix = self.ix
        num_numa_nodes = ix.num_numa_nodes
        num_numa_nodes_available = sum(1 for m in ix.numa_mask.values() if m & self.free)
        num_cpu_groups = _go_div(ix.num_cpus - 1, cpu_group_size) + 1
        num_cpu_groups_per_numa = _go_div(num_cpu_groups - 1, num_numa_nodes) + 1
        num_cpu_groups_needed = _go_div(self.needed - 1, cpu_group_size) + 1
        min_numas = _go_div(num_cpu_groups_needed - 1, num_cpu_groups_per_numa) + 1
        max_numas = min(num_cpu_groups_needed, num_numa_nodes_available)
        return min_numas, max_numas


# ---------------------------------------------------------------------------
# Go arithmetic helpers
# ---------------------------------------------------------------------------


def _go_div(a: int, b: int) -> int:
    """Go's integer division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _go_round(x: float) -> float:
    """``math.Round``: half away from zero."""
    t = math.trunc(x)
    if abs(x - t) >= 0.5:
        t += math.copysign(1.0, x)
    return float(t)


def _round3(x: float) -> float:
    """``math.Round(x*1000) / 1000`` for ``x >= 0``."""
    r = x * 1000
    t = math.floor(r)
    if r - t >= 0.5:
        t += 1
    return t / 1000


def _mean(xs: list[int]) -> float:
    # the float64 running sum of integers is exact, i.e. the integer sum
    return _round3(float(sum(xs)) / float(len(xs)))


def _standard_deviation(xs: list[int]) -> float:
    """Go's ``standardDeviation`` (population, rounded to 3 decimals) of CPU counts."""
    m = _round3(float(sum(xs)) / float(len(xs)))
    s = 0.0
    for x in xs:  # sequential float sum, as Go (not math.fsum, not Python's sum())
        d = x - m
        s += d * d
    return _round3(math.sqrt(s / float(len(xs))))


# Go's small-object size classes (runtime/sizeclasses.go), for append's growth
_SIZE_CLASSES = (
    0, 8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256,
    288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280,
    1408, 1536, 1792, 2048, 2304, 2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528,
    6784, 6912, 8192, 9472, 9728, 10240, 10880, 12288, 13568, 14336, 16384, 18432, 19072,
    20480, 21760, 24576, 27264, 28672, 32768,
)  # fmt: skip


_APPEND_CAP_CACHE: dict[tuple[int, int], int] = {}


def _go_append_cap(old_cap: int, new_len: int) -> int:
    """The capacity ``append`` gives a ``[]int`` that must grow (runtime.growslice)."""
    cap = _APPEND_CAP_CACHE.get((old_cap, new_len))
    if cap is None:
        cap = _APPEND_CAP_CACHE[(old_cap, new_len)] = _grow_slice_cap(old_cap, new_len)
    return cap


def _grow_slice_cap(old_cap: int, new_len: int) -> int:
    newcap = old_cap
    doublecap = newcap + newcap
    if new_len > doublecap:
        newcap = new_len
    elif old_cap < 256:
        newcap = doublecap
    else:
        while newcap < new_len:
            newcap += (newcap + 3 * 256) >> 2
    size = newcap * 8
    if size <= _SIZE_CLASSES[-1]:
        for c in _SIZE_CLASSES:
            if c >= size:
                size = c
                break
    else:
        size = (size + 8191) // 8192 * 8192
    return size // 8


_Slice = tuple[list[int], int]  # a Go slice: (backing array, length)


def _slice_items(s: _Slice) -> list[int]:
    return s[0][: s[1]]


def _iterate_combinations(n: list[int], k: int, f: Callable[[_Slice], bool]) -> None:
    """``iterateCombinations``: call ``f`` on every k-subset of ``n`` in lexicographic order.

    ``f`` receives a Go slice (backing array, length) and returns True to
    break. The backing arrays behave as Go's ``append(accum, n[i])`` does:
    an append within capacity writes into the array shared with the sibling
    combinations, so a slice kept by ``f`` sees later combinations' writes.
    """
    if k < 1:
        return
    last = len(n)

    def helper(k: int, start: int, buf: list[int], ln: int) -> bool:
        if k == 0:
            return f((buf, ln))
        for i in range(start, last - k + 1):
            if ln < len(buf):
                buf[ln] = n[i]
                child = buf
            else:
                child = buf[:ln]
                child.append(n[i])
                child.extend([0] * (_go_append_cap(len(buf), ln + 1) - ln - 1))
            if helper(k - 1, i + 1, child, ln + 1):
                return True
        return False

    helper(k, 0, [], 0)


# ---------------------------------------------------------------------------
# entry points
# ---------------------------------------------------------------------------


def take_by_topology_numa_packed(
    topo: Topology,
    available: int,
    num_cpus: int,
    cpu_sorting_strategy: str,
    prefer_align_by_uncore_cache: bool,
) -> int:
    """``takeByTopologyNUMAPacked``: ``num_cpus`` CPUs out of ``available``, packed."""
    acc = CPUAccumulator(topo, available, num_cpus, cpu_sorting_strategy)
    if acc.needed < 1:
        return acc.result
    if acc.is_failed():
        raise AllocationError(
            f"not enough cpus available to satisfy request: requested={num_cpus}, available={available.bit_count()}"
        )
    # 1. whole NUMA nodes and sockets (the higher level first)
    acc.take_full_first_level()
    if acc.needed < 1:
        return acc.result
    acc.take_full_second_level()
    if acc.needed < 1:
        return acc.result
    # 2. whole, then partial, uncore caches
    if prefer_align_by_uncore_cache:
        acc.take_uncore_cache()
        if acc.needed < 1:
            return acc.result
    # 3. whole cores (not when spreading across cores)
    if cpu_sorting_strategy != CPU_SORTING_SPREAD:
        acc.take_full_cores()
        if acc.needed < 1:
            return acc.result
    # 4. single threads
    acc.take_remaining_cpus()
    if acc.needed < 1:
        return acc.result
    raise AllocationError("failed to allocate cpus")


def _packed_ignoring_error(topo: Topology, available: int, num_cpus: int, strategy: str) -> int:
    """``cpus, _ := takeByTopologyNUMAPacked(...)``: an error yields the empty set."""
    try:
        return take_by_topology_numa_packed(topo, available, num_cpus, strategy, False)
    except AllocationError:
        return 0


def _best_numa_combination(
    numas: list[int],
    k: int,
    num_cpus: int,
    group: int,
    free: int,
    free_in: dict[int, int],
    numa_mask: dict[int, int],
) -> tuple[_Slice | None, _Slice | None]:
    """The k-NUMA combination with the best balance score, and its remainder subset.

    Both are returned as Go slices, to be read by the caller (aliasing).
    """
    best_balance = _MAX_FLOAT64
    best_remainder: _Slice | None = None
    best_combo: _Slice | None = None

    def on_combo(combo_slice: _Slice) -> bool:
        nonlocal best_balance, best_remainder, best_combo
        if best_balance == 0:
            return True
        combo = _slice_items(combo_slice)
        # enough CPUs overall?
        cpus = 0
        for n in combo:
            cpus |= numa_mask[n]
        if (cpus & free).bit_count() < num_cpus:
            return False
        # enough whole groups?
        num_groups = 0
        for n in combo:
            num_groups += free_in[n] // group
        if num_groups * group < num_cpus:
            return False
        # can every NUMA node give the even share?
        distribution = (num_cpus // len(combo) // group) * group
        for n in combo:
            if free_in[n] < distribution:
                return False
        after = dict(free_in)  # availableAfterAllocation (a map keyed by NUMA node)
        for n in combo:
            after[n] -= distribution
        remainder = num_cpus - distribution * len(combo)
        remainder_combo = [n for n in combo if after[n] >= group]

        best_local_balance = _MAX_FLOAT64
        best_local_remainder: _Slice | None = None
        if remainder == 0:
            best_local_balance = _standard_deviation(list(after.values()))

        def on_subset(subset_slice: _Slice) -> bool:
            nonlocal best_local_balance, best_local_remainder
            subset = _slice_items(subset_slice)
            rem = remainder
            total = 0
            for n in subset:
                total += after[n]
            if total < rem:
                return False
            local = {n: after[n] for n in subset}  # the entries this subset changes
            while rem > 0:
                progressed = False
                for n in subset:
                    if rem == 0:
                        break
                    if local[n] < group:
                        continue
                    local[n] -= group
                    rem -= group
                    progressed = True
                if not progressed:
                    raise AllocationHang(
                        "takeByTopologyNUMADistributed would loop forever: "
                        f"{rem} remainder CPUs cannot be handed out in groups of {group}"
                    )
            balance = _standard_deviation([local.get(n, v) for n, v in after.items()])
            if balance < best_local_balance:
                best_local_balance = balance
                best_local_remainder = subset_slice
            return False

        if remainder > 0:
            for kk in range(len(remainder_combo), 0, -1):
                _iterate_combinations(remainder_combo, kk, on_subset)

        if best_local_balance < best_balance:
            best_balance = best_local_balance
            best_remainder = best_local_remainder
            best_combo = combo_slice
        return False

    _iterate_combinations(numas, k, on_combo)
    return best_combo, best_remainder


def take_by_topology_numa_distributed(
    topo: Topology,
    available: int,
    num_cpus: int,
    cpu_group_size: int,
    cpu_sorting_strategy: str,
) -> int:
    """``takeByTopologyNUMADistributed``: ``num_cpus`` CPUs spread evenly over NUMA nodes.

    CPUs are handed out in groups of ``cpu_group_size`` (the CPUs per core
    with ``full-pcpus-only``, else 1).
    """
    if num_cpus % cpu_group_size != 0:
        return take_by_topology_numa_packed(topo, available, num_cpus, cpu_sorting_strategy, False)

    acc = CPUAccumulator(topo, available, num_cpus, cpu_sorting_strategy)
    if acc.needed < 1:
        return acc.result
    if acc.is_failed():
        raise AllocationError(
            f"not enough cpus available to satisfy request: requested={num_cpus}, available={available.bit_count()}"
        )

    ix = acc.ix
    numa_mask = ix.numa_mask
    group = cpu_group_size
    numas = acc.sort_available_numa_nodes()
    min_numas, max_numas = acc.range_numa_nodes_needed_to_satisfy(group)

    free = acc.free  # unchanged until a combination is chosen
    free_in = {n: (numa_mask[n] & free).bit_count() for n in numas}
    for k in range(min_numas, max_numas + 1):
        best_combo, best_remainder = _best_numa_combination(numas, k, num_cpus, group, free, free_in, numa_mask)
        if best_combo is None:
            continue

        # read the chosen slices now, as Go does (see _iterate_combinations)
        chosen = _slice_items(best_combo)
        distribution = (num_cpus // len(chosen) // group) * group
        for n in chosen:
            acc.take(_packed_ignoring_error(topo, numa_mask[n] & acc.free, distribution, cpu_sorting_strategy))
        remainder = num_cpus - distribution * len(chosen)
        remainder_numas = _slice_items(best_remainder) if best_remainder is not None else []
        while remainder > 0:
            progressed = False
            for n in remainder_numas:
                if remainder == 0:
                    break
                if (numa_mask[n] & acc.free).bit_count() < group:
                    continue
                acc.take(_packed_ignoring_error(topo, numa_mask[n] & acc.free, group, cpu_sorting_strategy))
                remainder -= group
                progressed = True
            if not progressed:
                raise AllocationHang(
                    "takeByTopologyNUMADistributed would loop forever: "
                    f"{remainder} remainder CPUs cannot be handed out in groups of {group}"
                )
        if acc.needed > 0:
            raise AllocationError(f"accounting error, not enough CPUs allocated, remaining: {acc.needed}")
        if acc.needed < 0:
            raise AllocationError(f"accounting error, too many CPUs allocated, remaining: {acc.needed}")
        return acc.result

    return take_by_topology_numa_packed(topo, available, num_cpus, cpu_sorting_strategy, False)
