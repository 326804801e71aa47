"""The scheduling-related parts of a pod and a node that the kubelet's admission reads.

Plain frozen dataclasses (``v1.Taint``, ``v1.Toleration``, ``v1.NodeSelectorTerm``,
host ports) and the pure matching rules of ``k8s.io/component-helpers/scheduling/corev1``:
a toleration tolerating a taint, a required node affinity matching a node.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

NO_EXECUTE = "NoExecute"
NO_SCHEDULE = "NoSchedule"
PREFER_NO_SCHEDULE = "PreferNoSchedule"
TAINT_EFFECTS = (NO_SCHEDULE, PREFER_NO_SCHEDULE, NO_EXECUTE)

LABEL_HOSTNAME = "kubernetes.io/hostname"
LABEL_OS = "kubernetes.io/os"
LABEL_ARCH = "kubernetes.io/arch"
LABEL_OS_BETA = "beta.kubernetes.io/os"
LABEL_ARCH_BETA = "beta.kubernetes.io/arch"


@dataclass(frozen=True, slots=True)
class Taint:
    key: str
    value: str = ""
    effect: str = ""

    def __str__(self) -> str:
        v = f"={self.value}" if self.value else ""
        return f"{self.key}{v}:{self.effect}"


@dataclass(frozen=True, slots=True)
class Toleration:
    key: str = ""
    operator: str = ""  # "" means Equal
    value: str = ""
    effect: str = ""  # "" matches every effect

    def tolerates(self, taint: Taint) -> bool:
        """``Toleration.ToleratesTaint`` (v1 helper): effect, key, then operator."""
        if self.effect and self.effect != taint.effect:
            return False
        if self.key and self.key != taint.key:
            return False
        op = self.operator or "Equal"
        if op == "Exists":
            return True
        if op == "Equal":
            return self.value == taint.value
        return False  # Lt/Gt need TaintTolerationComparisonOperators (alpha, off)


@dataclass(frozen=True, slots=True)
class NodeSelectorRequirement:
    key: str
    operator: str  # In, NotIn, Exists, DoesNotExist, Gt, Lt
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        op = self.operator
        has = self.key in labels
        if op == "In":
            return has and labels[self.key] in self.values
        if op == "NotIn":
            return not has or labels[self.key] not in self.values
        if op == "Exists":
            return has
        if op == "DoesNotExist":
            return not has
        if op in ("Gt", "Lt"):
            if not has or len(self.values) != 1:
                return False
            try:
                have, want = int(labels[self.key]), int(self.values[0])
            except ValueError:
                return False
            return have > want if op == "Gt" else have < want
        return False


@dataclass(frozen=True, slots=True)
class NodeSelectorTerm:
    match_expressions: tuple[NodeSelectorRequirement, ...] = ()
    match_fields: tuple[NodeSelectorRequirement, ...] = ()

    def matches(self, labels: Mapping[str, str], node_name: str) -> bool:
        """A term with no requirements matches nothing (``nodeaffinity.nodeSelectorTerm``)."""
        if not self.match_expressions and not self.match_fields:
            return False
        for r in self.match_expressions:
            if not r.matches(labels):
                return False
        for r in self.match_fields:
            # only metadata.name is a valid field (API validation)
            if r.key != "metadata.name" or not r.matches({"metadata.name": node_name}):
                return False
        return True


@dataclass(frozen=True, slots=True)
class HostPort:
    port: int
    protocol: str = "TCP"
    host_ip: str = ""

    def sanitized(self) -> tuple[str, str, int]:
        """``HostPortInfo.sanitize``: empty IP is 0.0.0.0, empty protocol TCP."""
        return (self.host_ip or "0.0.0.0", self.protocol or "TCP", self.port)


def required_affinity_matches(
    node_selector: Mapping[str, str],
    terms: Sequence[NodeSelectorTerm] | None,
    labels: Mapping[str, str],
    node_name: str,
) -> bool:
    """``GetRequiredNodeAffinity(pod).Match(node)``: nodeSelector AND (any of the terms)."""
    for k, v in node_selector.items():
        if labels.get(k) != v:
            return False
    if terms is None:
        return True
    return any(t.matches(labels, node_name) for t in terms)


def untolerated_taint(
    taints: Sequence[Taint], tolerations: Sequence[Toleration], effects: Sequence[str]
) -> Taint | None:
    """``FindMatchingUntoleratedTaint`` restricted to ``effects``: the first taint no toleration tolerates."""
    for t in taints:
        if t.effect not in effects:
            continue
        if not any(tol.tolerates(t) for tol in tolerations):
            return t
    return None
