"""CPU sets in the Linux list format (k8s.io/utils/cpuset).

A :class:`CPUSet` is an immutable set of CPU ids held as the bits of one
Python integer, so that union, intersection and difference are single
big-integer operations: the hot path of the CPU manager does thousands of
them per admission.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator


class CPUSetError(ValueError):
    """A string that is not a CPU list."""


def bits_of(ids: Iterable[int]) -> int:
    b = 0
    for i in ids:
        if i < 0:
            raise CPUSetError(f"negative CPU id {i}")
        b |= 1 << i
    return b


def iter_bits(b: int) -> Iterator[int]:
    """The set bits of ``b``, lowest first."""
    while b:
        low = b & -b
        yield low.bit_length() - 1
        b ^= low


def list_bits(b: int) -> list[int]:
    return list(iter_bits(b))


def format_bits(b: int) -> str:
    """The Linux list format of a bit set: ``0-3,8-11``."""
    parts: list[str] = []
    start = prev = -2
    for i in iter_bits(b):
        if i == prev + 1:
            prev = i
            continue
        if start >= 0:
            parts.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = i
    if start >= 0:
        parts.append(str(start) if start == prev else f"{start}-{prev}")
    return ",".join(parts)


MAX_CPU_ID = (1 << 16) - 1
"""The largest CPU ID read from text: Linux's CONFIG_NR_CPUS is at most 8,192 today; a larger ID
(``1-9223372036854775807`` in a damaged file) would be a set of that many CPUs, far beyond memory."""


def _cpu_id(text: str, part: str) -> int:
    try:
        v = int(text)
    except ValueError as e:
        raise CPUSetError(f'strconv.Atoi: parsing "{text}": invalid syntax') from e
    if v >= 1 << 63:  # Go's int: strconv.Atoi refuses it
        raise CPUSetError(f'strconv.Atoi: parsing "{text.strip()}": value out of range')
    if v > MAX_CPU_ID:
        raise CPUSetError(f'CPU {v} in "{part}": beyond any machine\'s CPU IDs (at most {MAX_CPU_ID} here)')
    return v


def parse_bits(text: str) -> int:
    """Parse the Linux list format (``cpuset.Parse``); the empty string is the empty set.

    CPU IDs above :data:`MAX_CPU_ID` are refused (:class:`CPUSetError`)."""
    s = text.strip()
    if not s:
        return 0
    b = 0
    for part in s.split(","):
        part = part.strip()
        if "-" in part:
            lo_s, _, hi_s = part.partition("-")
            try:
                lo, hi = int(lo_s), int(hi_s)
            except ValueError as e:
                bad = lo_s if not lo_s.strip().isdigit() else hi_s
                raise CPUSetError(f'strconv.Atoi: parsing "{bad}": invalid syntax') from e
            if lo > hi:
                raise CPUSetError(f'invalid range "{part}" ({lo} > {hi})')
            if lo < 0:
                raise CPUSetError(f'invalid range "{part}"')
            _cpu_id(hi_s, part)
            b |= ((1 << (hi - lo + 1)) - 1) << lo
        else:
            v = _cpu_id(part, part)
            if v < 0:
                raise CPUSetError(f'strconv.Atoi: parsing "{part}": invalid syntax')
            b |= 1 << v
    return b


class CPUSet:
    """An immutable set of CPU ids."""

    __slots__ = ("bits",)

    def __init__(self, ids: Iterable[int] = ()) -> None:
        self.bits = bits_of(ids)

    @classmethod
    def from_bits(cls, bits: int) -> CPUSet:
        s = cls.__new__(cls)
        s.bits = bits
        return s

    @classmethod
    def parse(cls, text: str) -> CPUSet:
        return cls.from_bits(parse_bits(text))

    # set algebra
    def union(self, *others: CPUSet) -> CPUSet:
        b = self.bits
        for o in others:
            b |= o.bits
        return CPUSet.from_bits(b)

    def intersection(self, other: CPUSet) -> CPUSet:
        return CPUSet.from_bits(self.bits & other.bits)

    def difference(self, other: CPUSet) -> CPUSet:
        return CPUSet.from_bits(self.bits & ~other.bits)

    __or__ = union
    __and__ = intersection
    __sub__ = difference

    def size(self) -> int:
        return self.bits.bit_count()

    def __len__(self) -> int:
        return self.bits.bit_count()

    def is_empty(self) -> bool:
        return self.bits == 0

    def __bool__(self) -> bool:
        return self.bits != 0

    def contains(self, cpu: int) -> bool:
        return cpu >= 0 and (self.bits >> cpu) & 1 == 1

    __contains__ = contains

    def is_subset_of(self, other: CPUSet) -> bool:
        return self.bits & ~other.bits == 0

    def list(self) -> list[int]:
        return list_bits(self.bits)

    def __iter__(self) -> Iterator[int]:
        return iter_bits(self.bits)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CPUSet) and other.bits == self.bits

    def __hash__(self) -> int:
        return hash(self.bits)

    def __str__(self) -> str:
        return format_bits(self.bits)

    def __repr__(self) -> str:
        return f'CPUSet("{self}")'


EMPTY = CPUSet.from_bits(0)
