"""One simulated node's kubelet: admission, deletion and restart over the engine. No I/O.

``NodeKubelet.admit`` runs the node's admission (the engine's
:class:`~topolet.engine.node.Node`: topology, CPU and memory managers with
everything the engine knows) and gives the pod an IP from the node's pod
CIDR; ``remove`` is the end of a pod (its CPUs and memory return);
``restore`` is the kubelet's restart as kubelet 1.36.2 does it
(:func:`topolet.io.kubelet_restart.restart_from_files` over
:func:`topolet.engine.restart.restart_node`): a new kubelet starts on the
restored checkpoints, then every pod bound to the node and not terminal (the
ones that were running and the ones bound while it was down alike) goes
through the whole admission again in creation order, each against the pods
re-admitted before it. Kubelet 1.36.2's bugs (kubernetes#140989, #140906)
come with it: a running pod may move to other CPUs, have its memory counted
twice, or be rejected (Failed, as any rejection). State held for pods that
are gone is removed (``removeStaleState``). With ``admit_all`` (no engine)
every pod is admitted, as KWOK's nodes do.
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass, field
from pathlib import Path

from topolet.cluster.fleetnodes import NodeSpec
from topolet.cluster.metrics import NodeMetrics
from topolet.engine.errors import UNEXPECTED_ADMISSION_ERROR, StartupError
from topolet.engine.node import Node, NodeError
from topolet.engine.restart import RestartNote, record_pods
from topolet.engine.result import AdmitResult
from topolet.io.kubelet_restart import checkpoint_bytes, restart_from_files
from topolet.model.pod import Pod
from topolet.nodedir.errors import NodeStartError
from topolet.nodedir.pods import StoredPod


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
    decided: list[Decision] = field(default_factory=list)  # every active pod's re-admission, creation order
    notes: list[RestartNote] = field(default_factory=list)  # where 1.36.2's restart bugs hit a pod
    stale: list[str] = field(default_factory=list)  # UIDs whose checkpoint state was removed
    empty_start: bool = False  # no checkpoint file: the kubelet started from empty state

    def decision(self, uid: str) -> Decision | None:
        return next((d for d in self.decided if d.entry.uid == uid), None)


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
        self._restarting: NodeMetrics | None = None  # the new kubelet's own counters during a restart
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
        counters = self.engine.metrics
        through = counters.tm_requests
        try:
            result = self.engine.admit(pod)
        except NodeError as e:
            result = AdmitResult(pod.key, pod.uid, False, UNEXPECTED_ADMISSION_ERROR, str(e), pod.qos_class)
        ms = (time.perf_counter() - t0) * 1000
        # the duration is observed when the pod went through the topology manager's Admit
        self.metrics.record(result, ms, counters.tm_requests - through)
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
        self.metrics.reject(UNEXPECTED_ADMISSION_ERROR)
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
    def restore(
        self,
        active: list[ActivePod],
        files: tuple[bytes | None, bytes | None] | None = None,
        directory: Path = Path("/var/lib/kubelet"),
    ) -> RestoreResult:
        """A kubelet restart with the API server's active pods (creation order): kubelet 1.36.2's.

        ``files`` are the checkpoint files the new kubelet reads (``None`` for a file: deleted;
        default: those of the kubelet running now); ``directory`` names them in messages.
        Raises :class:`~topolet.nodedir.store.NodeStartError` when the kubelet refuses to start
        on them (nothing changed then).
        """
        out = RestoreResult()
        if self.engine is None:  # --admit-all: every readable pod is running again, with its IP
            for ap in active:
                if ap.pod is None:
                    out.decided.append(self.reject_unreadable(ap.uid, ap.key, ap.qos, ap.conversion_error))
                    continue
                entry = PodEntry(ap.uid, ap.key, True, self._take_ip(ap.pod_ip), qos=ap.pod.qos_class)
                self.pods[ap.uid] = entry
                out.decided.append(Decision(entry, ap.pod))
            return out
        cpu_b, mem_b = files if files is not None else checkpoint_bytes(self.engine)
        readable = [ap for ap in active if ap.pod is not None]
        stored = [StoredPod(ap.pod, i, "", True) for i, ap in enumerate(readable) if ap.pod is not None]
        # a new kubelet: its counters start at zero (the engine node's count its re-admissions)
        self._restarting = NodeMetrics()
        try:
            outcome = restart_from_files(
                self.spec.topology,
                self.spec.config,
                cpu_b,
                mem_b,
                [sp.pod for sp in stored],
                self._readmit,
                str(directory),
                name=self.spec.name,
            )
        except StartupError as e:  # the caller reports the node
            raise NodeStartError(str(e)) from e
        finally:
            fresh, self._restarting = self._restarting, None
        record_pods(outcome)
        self.metrics = fresh
        self.engine = adopt(outcome.node, self.spec)
        out.notes = list(outcome.notes)
        out.stale = list(outcome.stale)
        out.empty_start = cpu_b is None and mem_b is None
        verdicts = {r.pod.uid: r for r in outcome.pods}
        for ap in active:
            r = verdicts.get(ap.uid)
            if ap.pod is None or r is None:
                out.decided.append(self.reject_unreadable(ap.uid, ap.key, ap.qos, ap.conversion_error))
                continue
            result = r.result
            if not result.admitted:
                self.metrics.reject(result.reason)
            if result.admitted:
                entry = PodEntry(ap.uid, ap.key, True, self._take_ip(ap.pod_ip), qos=ap.pod.qos_class)
            else:
                entry = PodEntry(
                    ap.uid, ap.key, False, reason=result.reason, message=result.message, qos=ap.pod.qos_class
                )
            self.pods[ap.uid] = entry
            out.decided.append(Decision(entry, ap.pod, result))
        # the new kubelet's checkpoints (moved pods, stale state dropped, a new format) are written
        self.dirty = checkpoint_bytes(self.engine) != (cpu_b, mem_b)
        return out

    def _readmit(self, node: Node, pod: Pod) -> AdmitResult:
        """One re-admission by the new kubelet: its node carries the fleet's name and labels (the
        node-fit predicates read them), as the Node object it registered does."""
        if node.node_object.labels != self.spec.labels:
            adopt(node, self.spec)
        through = node.metrics.tm_requests
        t0 = time.perf_counter()
        try:
            result = node.admit(pod)
        except NodeError as e:
            result = AdmitResult(pod.key, pod.uid, False, UNEXPECTED_ADMISSION_ERROR, str(e), pod.qos_class)
        if self._restarting is not None:
            ms = (time.perf_counter() - t0) * 1000
            for _ in range(node.metrics.tm_requests - through):
                self._restarting.observe_ms(ms)
        return result

    # -- views -------------------------------------------------------------------
    def checkpoints(self) -> tuple[bytes, bytes] | None:
        return checkpoint_bytes(self.engine) if self.engine is not None else None

    def counts(self) -> dict[str, int]:
        adm = sum(1 for e in self.pods.values() if e.admitted)
        return {"admitted": adm, "rejected": len(self.pods) - adm}

    def running_keys(self) -> list[tuple[str, str]]:
        """(namespace, name) of the pods running here (the NodeResourceTopology fingerprint's set)."""
        return [tuple(e.key.split("/", 1)) for e in self.pods.values() if e.admitted]  # type: ignore[misc]
