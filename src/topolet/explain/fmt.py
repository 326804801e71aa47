"""Small formatting helpers shared by the explanation and the renderers (pure)."""

from __future__ import annotations

from collections.abc import Iterable

from topolet.model.cpuset import format_bits

KI = 1 << 10
MI = 1 << 20
GI = 1 << 30
TI = 1 << 40


def human_bytes(n: int) -> str:
    """A byte size for people: exact when it is a whole number of Gi/Mi/Ki, else one decimal."""
    if n == 0:
        return "0"
    for unit, size in (("Ti", TI), ("Gi", GI), ("Mi", MI), ("Ki", KI)):
        if abs(n) >= size:
            if n % size == 0:
                return f"{n // size}{unit}"
            return f"{n / size:.1f}{unit}"
    return f"{n}B"


def cpus_str(bits: int) -> str:
    """A CPU set in the Linux list format, or "none"."""
    return format_bits(bits) if bits else "none"


def numa_label(ids: Iterable[int] | None) -> str:
    if ids is None:
        return "any NUMA node"
    ids = list(ids)
    if not ids:
        return "no NUMA node"
    if len(ids) == 1:
        return f"NUMA node {ids[0]}"
    return "NUMA nodes " + format_bits(sum(1 << i for i in ids))


def mask_label(ids: Iterable[int] | None) -> str:
    if ids is None:
        return "any"
    return "{" + ",".join(str(i) for i in ids) + "}"


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


def join_words(items: list[str]) -> str:
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]
