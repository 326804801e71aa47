"""Bounded nesting of parsed documents (see :mod:`topolet.io.yamlio`)."""

from __future__ import annotations

from typing import Any

MAX_DEPTH = 100
"""The deepest nesting of lists and mappings accepted in any input document."""


class NestingError(ValueError):
    """A document nested more deeply than :data:`MAX_DEPTH` levels."""

    def __init__(self, limit: int = MAX_DEPTH) -> None:
        super().__init__(f"nested too deeply (more than {limit} levels of lists and mappings)")
        self.limit = limit


def check_depth(data: Any, limit: int = MAX_DEPTH) -> None:
    """Raise :class:`NestingError` when ``data`` nests lists/mappings more than ``limit`` levels deep.

    Iterative (no recursion) and linear in the size of the data.
    """
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        v, depth = stack.pop()
        if isinstance(v, dict):
            children: Any = v.values()
        elif isinstance(v, list):
            children = v
        else:
            continue
        if depth > limit:
            raise NestingError(limit)
        for c in children:
            if isinstance(c, dict | list):
                stack.append((c, depth + 1))
