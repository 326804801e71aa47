"""Which implementation the engine runs: the fast path (default) or the kubelet's reference.

The reference is the kubelet's own algorithm: every hint provider enumerates
every NUMA mask, and the topology manager walks the cross product of the
providers' hints. The fast path gives identical decisions without either
enumeration (see :mod:`topolet.engine.topologymanager.hint_space`).

The choice is made when a node is built: its topology manager policy and its
CPU and memory manager policies read :func:`reference_enabled` in their
constructors (or take an explicit ``reference=`` argument). Use
:func:`reference_mode` to build nodes on the reference::

    with reference_mode():
        node = Node(topology, config)   # the exhaustive kubelet algorithms

The switch is a context variable: threads and tasks that do not set it get the
fast path.

On the fast path, machines with fewer than :data:`STRUCTURED_FROM` NUMA nodes
(2^N - 1 masks: a handful) still have their hints listed — listing them is
cheaper than describing them — and merged by the set-based fast merge; from
that many nodes on, providers hand over structured hint spaces.
:func:`structured_from` lowers the bound (tests use 1 to run the structured path
on every machine).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_REFERENCE: ContextVar[bool] = ContextVar("topolet_reference", default=False)

STRUCTURED_FROM = 5
_STRUCTURED_FROM: ContextVar[int] = ContextVar("topolet_structured_from", default=STRUCTURED_FROM)


def reference_enabled() -> bool:
    """True when nodes built now use the kubelet's exhaustive algorithms."""
    return _REFERENCE.get()


def resolve_reference(reference: bool | None) -> bool:
    """An explicit choice, or the current default when ``None``."""
    return _REFERENCE.get() if reference is None else reference


@contextmanager
def reference_mode(on: bool = True) -> Iterator[None]:
    """Build nodes on the reference (``on``) or the fast path inside the ``with`` block."""
    token = _REFERENCE.set(on)
    try:
        yield
    finally:
        _REFERENCE.reset(token)


def structured_threshold() -> int:
    """The NUMA node count from which nodes built now use structured hint spaces."""
    return _STRUCTURED_FROM.get()


@contextmanager
def structured_from(numa_nodes: int) -> Iterator[None]:
    """Inside the block, nodes built with at least ``numa_nodes`` NUMA nodes use structured
    hint spaces on the fast path (1: always)."""
    token = _STRUCTURED_FROM.set(numa_nodes)
    try:
        yield
    finally:
        _STRUCTURED_FROM.reset(token)
