"""Topology hints (topologymanager.TopologyHint)."""

from __future__ import annotations

from dataclasses import dataclass

from topolet.engine.bitmask import mask_str


@dataclass(frozen=True, slots=True)
class TopologyHint:
    """A NUMA affinity (``None``: any NUMA node) and whether it is preferred."""

    mask: int | None
    preferred: bool

    def __str__(self) -> str:
        return f"{{{mask_str(self.mask)} preferred={str(self.preferred).lower()}}}"


# What a hint provider returns: per resource name, ``None`` (no preference) or a
# list of hints (an empty list: the request cannot be satisfied). ``None`` as a
# whole means the provider has nothing to say about the pod or container.
ProviderHints = dict[str, list[TopologyHint] | None] | None


class AffinityStore:
    """What the CPU and memory managers read back from the topology manager
    (``topologymanager.Store.GetAffinity``): the hint chosen for a container."""

    __slots__ = ("hints",)

    def __init__(self) -> None:
        self.hints: dict[str, dict[str, TopologyHint]] = {}

    def get_affinity(self, pod_uid: str, container: str) -> TopologyHint:
        return self.hints.get(pod_uid, {}).get(container, NO_HINT)

    def set_affinity(self, pod_uid: str, container: str, hint: TopologyHint) -> None:
        self.hints.setdefault(pod_uid, {})[container] = hint

    def remove_pod(self, pod_uid: str) -> None:
        self.hints.pop(pod_uid, None)


# The zero TopologyHint{} of Go: nil mask, not preferred.
NO_HINT = TopologyHint(None, False)
