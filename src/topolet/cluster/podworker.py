"""One simulated node's kubelet: admission, deletion and restart over the engine. No I/O.

``NodeKubelet.admit`` runs the node's admission (the engine's
:class:`~topolet.engine.node.Node`: topology, CPU and memory managers with
everything the engine knows) and gives the pod an IP from the node's pod
CIDR; ``remove`` is the end of a pod (its CPUs and memory return);
``restore`` is the kubelet's restart: the checkpoints are authoritative for
the pods that were running, state held for pods that are gone is removed
(``removeStaleState``), and pods bound while the kubelet was down are
admitted in creation order. With ``admit_all`` (no engine) every pod is
admitted, as KWOK's nodes do.
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass, field

from topolet.cluster.fleetnodes import NodeSpec
from topolet.cluster.metrics import NodeMetrics, rejection_label
from topolet.engine.errors import UNEXPECTED_ADMISSION_ERROR
from topolet.engine.node import Node, NodeError
from topolet.engine.result import AdmitResult
from topolet.io.kubelet_restart import checkpoint_bytes
from topolet.model.pod import Pod
from topolet.nodedir.pods import StoredPod
from topolet.nodedir.store import register_pods


@dataclass(slots=True)
class PodEntry:
    uid: str
    key: str
    admitted: bool
    ip: str = ""
    reason: str = ""
    message: str = ""
    qos: str = ""


@dataclass(slots=True)
class Decision:
    entry: PodEntry
    pod: Pod | None
    result: AdmitResult | None = None


@dataclass(slots=True)
class ActivePod:
    """A pod bound to the node that is not terminal, as listed at start-up."""

    pod: Pod | None  # None: the engine could not read it (conversion_error says why)
    uid: str
    key: str
    qos: str
    phase: str
    pod_ip: str
    conversion_error: str = ""


@dataclass(slots=True)
class RestoreResult:
    registered: list[PodEntry] = field(default_factory=list)  # running before, assignments from the checkpoints
    decided: list[Decision] = field(default_factory=list)  # admitted or rejected now
    stale: list[str] = field(default_factory=list)  # UIDs whose checkpoint state was removed


def adopt(engine: Node, spec: NodeSpec) -> Node:
    """The engine's node under the fleet's name and labels (the predicates read them)."""
    engine.name = spec.name
    engine.node_object.name = spec.name
    engine.node_object.labels = dict(spec.labels)
    return engine


class NodeKubelet:
    def __init__(self, spec: NodeSpec, engine: Node | None) -> None:
        self.spec = spec
        self.engine = adopt(engine, spec) if engine is not None else None  # None: --admit-all
        self.pods: dict[str, PodEntry] = {}  # by UID
        self.metrics = NodeMetrics()
        net = ipaddress.ip_network(spec.pod_cidr)
        self._base = int(net.network_address)
        self._last = net.num_addresses - 2
        self._free = list(range(self._last, 1, -1))  # .2 .. .254, popped lowest first
        self._used: set[int] = set()
        self.dirty = False  # checkpoints changed since the last save

    # -- IPs ---------------------------------------------------------------------
    def _take_ip(self, wanted: str = "") -> str:
        if wanted:
            try:
                off = int(ipaddress.ip_address(wanted)) - self._base
            except ValueError:
                off = -1
            if 2 <= off <= self._last and off not in self._used:
                self._used.add(off)
                if off in self._free:
                    self._free.remove(off)
                return wanted
        while self._free:
            off = self._free.pop()
            if off not in self._used:
                self._used.add(off)
                return str(ipaddress.ip_address(self._base + off))
        return ""  # no address left: the pod runs without one (the CNI would fail; the engine does not model it)

    def _release_ip(self, ip: str) -> None:
        if not ip:
            return
        off = int(ipaddress.ip_address(ip)) - self._base
        if off in self._used:
            self._used.discard(off)
            self._free.append(off)
            self._free.sort(reverse=True)

    # -- admission ---------------------------------------------------------------
    def admit(self, pod: Pod) -> Decision:
        """The kubelet's admission of a pod newly bound to this node."""
        if self.engine is None:
            entry = PodEntry(pod.uid, pod.key, True, self._take_ip(), qos=pod.qos_class)
            self.pods[pod.uid] = entry
            return Decision(entry, pod)
        t0 = time.perf_counter()
        # the API server's pod may reuse a name that the engine still holds under another UID
        stale = self.engine.get(pod.key)
        if stale is not None and stale.pod.uid != pod.uid:
            self.engine.delete(pod.key)
        try:
            result = self.engine.admit(pod)
        except NodeError as e:
            result = AdmitResult(pod.key, pod.uid, False, UNEXPECTED_ADMISSION_ERROR, str(e), pod.qos_class)
        ms = (time.perf_counter() - t0) * 1000
        self.metrics.record(pod, result, ms, True)
        if result.admitted:
            entry = PodEntry(pod.uid, pod.key, True, self._take_ip(), qos=pod.qos_class)
            self.dirty = True
        else:
            entry = PodEntry(pod.uid, pod.key, False, reason=result.reason, message=result.message, qos=pod.qos_class)
        self.pods[pod.uid] = entry
        return Decision(entry, pod, result)

    def reject_unreadable(self, uid: str, key: str, qos: str, error: str) -> Decision:
        """A pod the API server accepted but the engine cannot read: rejected as an unexpected admission error."""
        entry = PodEntry(
            uid,
            key,
            False,
            reason=UNEXPECTED_ADMISSION_ERROR,
            message=f"Allocate failed due to {error}, which is unexpected",
            qos=qos,
        )
        self.pods[uid] = entry
        self.metrics.inc(
            "kubelet_admission_rejections_total", (("reason", rejection_label(UNEXPECTED_ADMISSION_ERROR)),)
        )
        return Decision(entry, None)

    def remove(self, uid: str) -> PodEntry | None:
        """The pod is gone (deleted, or its deletion finished): its CPUs, memory and IP return."""
        entry = self.pods.pop(uid, None)
        if entry is None:
            return None
        if entry.admitted:
            self._release_ip(entry.ip)
            if self.engine is not None:
                rec = self.engine.get(entry.key)
                if rec is not None and rec.pod.uid == uid:
                    self.engine.delete(entry.key)
                    self.dirty = True
        return entry

    # -- restart -----------------------------------------------------------------
    def restore(self, active: list[ActivePod]) -> RestoreResult:
        """A kubelet restart on the restored checkpoints with the API server's active pods (creation order)."""
        out = RestoreResult()
        held: set[str] = set()
        if self.engine is not None:
            cs, ms = self.engine.cpu_manager.state, self.engine.memory_manager.state
            held = set(cs.assignments) | set(cs.pod_assignments) | set(ms.assignments) | set(ms.pod_assignments)
        known: list[ActivePod] = []
        new: list[ActivePod] = []
        for ap in active:
            if ap.pod is not None and (ap.phase == "Running" or ap.uid in held):
                known.append(ap)
            else:
                new.append(ap)
        if self.engine is not None:
            stored = [StoredPod(ap.pod, i, "", True) for i, ap in enumerate(known) if ap.pod is not None]
            out.stale = register_pods(self.engine, stored)
            if out.stale:
                self.dirty = True
            # (the engine's pod table counts the re-registered pods' requests for the node-fit predicates)
        for ap in known:
            entry = PodEntry(ap.uid, ap.key, True, self._take_ip(ap.pod_ip), qos=ap.qos)
            self.pods[ap.uid] = entry
            out.registered.append(entry)
        for ap in new:
            if ap.pod is None:
                out.decided.append(self.reject_unreadable(ap.uid, ap.key, ap.qos, ap.conversion_error))
            else:
                out.decided.append(self.admit(ap.pod))
        return out

    # -- views -------------------------------------------------------------------
    def checkpoints(self) -> tuple[bytes, bytes] | None:
        return checkpoint_bytes(self.engine) if self.engine is not None else None

    def counts(self) -> dict[str, int]:
        adm = sum(1 for e in self.pods.values() if e.admitted)
        return {"admitted": adm, "rejected": len(self.pods) - adm}

    def running_keys(self) -> list[tuple[str, str]]:
        """(namespace, name) of the pods running here (the NodeResourceTopology fingerprint's set)."""
        return [tuple(e.key.split("/", 1)) for e in self.pods.values() if e.admitted]  # type: ignore[misc]
