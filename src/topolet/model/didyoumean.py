"""Suggestions for misspelt names ("did you mean ...?"): fields, feature gates, options."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["did_you_mean", "edit_distance", "suggest"]


def edit_distance(a: str, b: str, limit: int | None = None) -> int:
    """The optimal string alignment distance (insertions, deletions, substitutions, adjacent swaps).

    With ``limit``, any distance above it may be reported as ``limit + 1``.
    """
    if a == b:
        return 0
    la, lb = len(a), len(b)
    if limit is not None and abs(la - lb) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(lb + 1))
    for i in range(1, la + 1):
        cur = [i] + [0] * lb
        best = cur[0]
        for j in range(1, lb + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                v = min(v, prev2[j - 2] + 1)
            cur[j] = v
            best = min(best, v)
        if limit is not None and best > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[lb]


def suggest(name: str, candidates: Iterable[str]) -> str | None:
    """The known name closest to ``name``, when it is close enough to be a typo of it.

    A case-insensitive match wins; otherwise the nearest name within an edit
    distance of about a third of its length (at least 1, at most 3); ties go
    to the first in sorted order.
    """
    if not name:
        return None
    cands = sorted(set(candidates))
    low = name.lower()
    for c in cands:
        if c.lower() == low and c != name:
            return c
    limit = max(1, min(3, len(name) // 3))
    best: tuple[int, str] | None = None
    for c in cands:
        if c == name:
            return None
        d = edit_distance(low, c.lower(), limit)
        if d <= limit and (best is None or d < best[0]):
            best = (d, c)
    if best is None:
        # a prefix or suffix of a known name (``topologyManager`` for ``topologyManagerScope``) is not a typo;
        # a known name with extra text around it (``maxPodsX``) is
        for c in cands:
            if len(c) >= 4 and c.lower() in low:
                return c
        return None
    return best[1]


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """`` (did you mean "x"?)`` or the empty string."""
    s = suggest(name, candidates)
    return f' (did you mean "{s}"?)' if s else ""
