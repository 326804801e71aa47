"""Pods as the node directory stores them: the API server's object plus the kubelet's verdict.

A stored pod is the pod as the API server stored it (defaulted, QoS stamped,
a fresh UID, a creation time) with the sequence number of its creation and
the kubelet's admission result (admitted, or rejected with reason/message).
Only what topolet models is kept: names, labels, owner, and per container
the name, image, restart policy and resources.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from topolet.model.pod import Container, Pod, Resources

PHASE_RUNNING = "Running"
PHASE_FAILED = "Failed"


class StoredPodError(ValueError):
    """A stored pod entry that cannot be read back."""


def now_rfc3339() -> str:
    """The current time as the API server writes timestamps (``2006-01-02T15:04:05Z``)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(s: str) -> datetime | None:
    try:
        return datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except (TypeError, ValueError):
        return None


@dataclass(slots=True)
class StoredPod:
    pod: Pod  # as stored by the API server; pod.uid is the UID topolet assigned at creation
    sequence: int  # creation order on this node
    created: str  # metadata.creationTimestamp
    admitted: bool
    reason: str = ""  # the kubelet's rejection reason (an admission error type)
    message: str = ""  # the kubelet's rejection message, without "Pod was rejected: "
    source: str = ""  # the file it was applied from

    @property
    def key(self) -> str:
        return self.pod.key

    @property
    def phase(self) -> str:
        return PHASE_RUNNING if self.admitted else PHASE_FAILED

    @property
    def status_message(self) -> str:
        return "" if self.admitted else f"Pod was rejected: {self.message}"


def resources_dict(r: Resources | None) -> dict[str, Any]:
    if r is None:
        return {}
    out: dict[str, Any] = {}
    if r.limits:
        out["limits"] = {k: str(v) for k, v in sorted(r.limits.items())}
    if r.requests:
        out["requests"] = {k: str(v) for k, v in sorted(r.requests.items())}
    return out


def container_dict(c: Container) -> dict[str, Any]:
    out: dict[str, Any] = {"name": c.name}
    if c.image:
        out["image"] = c.image
    out["resources"] = resources_dict(c.resources)
    if c.restart_policy is not None:
        out["restartPolicy"] = c.restart_policy
    return out


def pod_spec_dict(pod: Pod) -> dict[str, Any]:
    """``spec`` as topolet models it (what pod-update immutability compares)."""
    spec: dict[str, Any] = {}
    if pod.init_containers:
        spec["initContainers"] = [container_dict(c) for c in pod.init_containers]
    spec["containers"] = [container_dict(c) for c in pod.containers]
    if pod.resources is not None:
        spec["resources"] = resources_dict(pod.resources)
    return spec


def pod_metadata(sp: StoredPod) -> dict[str, Any]:
    pod = sp.pod
    meta: dict[str, Any] = {
        "name": pod.name,
        "namespace": pod.namespace,
        "uid": pod.uid,
        "creationTimestamp": sp.created,
    }
    if pod.labels:
        meta["labels"] = dict(pod.labels)
    if pod.owner:
        kind, _, name = pod.owner.partition("/")
        meta["ownerReferences"] = [{"kind": kind, "name": name, "controller": True}]
    return meta


def stored_pod_object(sp: StoredPod) -> dict[str, Any]:
    """The v1 Pod object (metadata, spec, and the status the kubelet set: phase, QoS, reason, message)."""
    status: dict[str, Any] = {"phase": sp.phase}
    if not sp.admitted:
        status["reason"] = sp.reason
        status["message"] = sp.status_message
    status["qosClass"] = sp.pod.qos_class
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": pod_metadata(sp),
        "spec": pod_spec_dict(sp.pod),
        "status": status,
    }


def stored_pod_entry(sp: StoredPod) -> dict[str, Any]:
    """One entry of ``pods.json``."""
    return {
        "sequence": sp.sequence,
        "source": sp.source,
        "admission": {"admitted": sp.admitted, "reason": sp.reason, "message": sp.message},
        "object": stored_pod_object(sp),
    }


def _mapping(value: Any, where: str, name: str, *, required: bool = False) -> dict[str, Any]:
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        got = "null" if value is None else f"{type(value).__name__.replace('str', 'string')} {value!r:.40}"
        raise StoredPodError(f"{where}: {name} must be a mapping, got {got}")
    return value


def stored_pod_from_entry(entry: Any, where: str) -> StoredPod:
    """Read a stored pod entry back (no API defaulting: the object is already stored).

    Every field is checked: a hand-damaged entry is a :class:`StoredPodError` naming the field.
    """
    from topolet.model.manifest import ManifestError, pods_from_object
    from topolet.model.quantity import QuantityError

    if not isinstance(entry, dict):
        raise StoredPodError(f"{where}: not a stored pod entry (a mapping with sequence, admission and object)")
    obj = _mapping(entry.get("object"), where, "object", required=True)
    meta = _mapping(obj.get("metadata"), where, "object.metadata", required=True)
    status = _mapping(obj.get("status"), where, "object.status")
    adm = _mapping(entry.get("admission"), where, "admission", required=True)
    try:
        pods = pods_from_object(obj, where, _NO_GATES)
    except (ManifestError, QuantityError) as e:
        raise StoredPodError(str(e)) from e
    except RecursionError as e:
        raise StoredPodError(f"{where}: object: nested too deeply") from e
    if len(pods) != 1:
        raise StoredPodError(f"{where}: object: not a Pod")
    pod = pods[0]
    if not meta.get("uid"):
        raise StoredPodError(f"{where}: object.metadata.uid is missing")
    for key in ("qosClass", "phase", "reason", "message"):
        if not isinstance(status.get(key, ""), str):
            raise StoredPodError(f"{where}: object.status.{key} must be a string")
    pod.qos_class = str(status.get("qosClass") or "")
    seq = entry.get("sequence")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise StoredPodError(f"{where}: sequence must be a positive integer")
    admitted = adm.get("admitted")
    if not isinstance(admitted, bool):
        raise StoredPodError(f"{where}: admission.admitted must be true or false")
    for key in ("reason", "message"):
        if not isinstance(adm.get(key, ""), str):
            raise StoredPodError(f"{where}: admission.{key} must be a string")
    created = meta.get("creationTimestamp", "")
    if not isinstance(created, str):
        raise StoredPodError(f"{where}: object.metadata.creationTimestamp must be a string")
    source = entry.get("source", "")
    if not isinstance(source, str):
        raise StoredPodError(f"{where}: source must be a string")
    return StoredPod(
        pod=pod,
        sequence=seq,
        created=created,
        admitted=admitted,
        reason=str(adm.get("reason") or ""),
        message=str(adm.get("message") or ""),
        source=source,
    )


class _Gates:
    """pods_from_object takes gates only for symmetry; reading the shape does not use them."""

    def enabled(self, name: str) -> bool:  # pragma: no cover - not called
        return False


_NO_GATES: Any = _Gates()
