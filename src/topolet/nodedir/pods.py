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

from topolet.model.manifest import ManifestError, pods_from_object
from topolet.model.pod import Container, Pod, Resources
from topolet.model.quantity import QuantityError
from topolet.model.scheduling import NodeSelectorRequirement

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
        if self.admitted:
            return ""
        if self.reason == "Preempting":  # killed to admit a critical pod: the kubelet's own message
            return self.message
        return f"Pod was rejected: {self.message}"


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
    if c.host_ports:
        out["ports"] = [
            {"containerPort": hp.port, "hostPort": hp.port, "protocol": hp.protocol}
            | ({"hostIP": hp.host_ip} if hp.host_ip else {})
            for hp in c.host_ports
        ]
    if c.apparmor is not None:
        out["securityContext"] = {"appArmorProfile": _apparmor_dict(c.apparmor)}
    return out


def _apparmor_dict(p: str) -> dict[str, str]:
    if p.startswith("Localhost:"):
        return {"type": "Localhost", "localhostProfile": p[len("Localhost:") :]}
    return {"type": p}


def _requirements(reqs: tuple[NodeSelectorRequirement, ...]) -> list[dict[str, Any]]:
    return [{"key": r.key, "operator": r.operator} | ({"values": list(r.values)} if r.values else {}) for r in reqs]


def scheduling_spec_dict(pod: Pod) -> dict[str, Any]:
    """The spec fields the kubelet's other admit handlers read (node fit, sysctls, AppArmor)."""
    spec: dict[str, Any] = {}
    if pod.node_name:
        spec["nodeName"] = pod.node_name
    if pod.node_selector:
        spec["nodeSelector"] = dict(pod.node_selector)
    if pod.node_affinity is not None:
        terms = []
        for t in pod.node_affinity:
            term: dict[str, Any] = {}
            if t.match_expressions:
                term["matchExpressions"] = _requirements(t.match_expressions)
            if t.match_fields:
                term["matchFields"] = _requirements(t.match_fields)
            terms.append(term)
        spec["affinity"] = {
            "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}
        }
    if pod.tolerations:
        spec["tolerations"] = [
            {k: v for k, v in (("key", t.key), ("operator", t.operator), ("value", t.value), ("effect", t.effect)) if v}
            for t in pod.tolerations
        ]
    if pod.os_name:
        spec["os"] = {"name": pod.os_name}
    sc: dict[str, Any] = {}
    if pod.sysctls:
        sc["sysctls"] = [{"name": n, "value": v} for n, v in pod.sysctls]
    if pod.supplemental_groups_policy:
        sc["supplementalGroupsPolicy"] = pod.supplemental_groups_policy
    if pod.apparmor is not None:
        sc["appArmorProfile"] = _apparmor_dict(pod.apparmor)
    if sc:
        spec["securityContext"] = sc
    if pod.host_network:
        spec["hostNetwork"] = True
    if pod.host_ipc:
        spec["hostIPC"] = True
    if pod.priority is not None:
        spec["priority"] = pod.priority
    return spec


def pod_spec_dict(pod: Pod) -> dict[str, Any]:
    """``spec`` as topolet models it (what pod-update immutability compares)."""
    spec: dict[str, Any] = {}
    if pod.init_containers:
        spec["initContainers"] = [container_dict(c) for c in pod.init_containers]
    spec["containers"] = [container_dict(c) for c in pod.containers]
    if pod.resources is not None:
        spec["resources"] = resources_dict(pod.resources)
    spec.update(scheduling_spec_dict(pod))
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


def stored_pod_from_entry(entry: Any, where: str) -> StoredPod:
    """Read an entry of ``pods.json`` back (no API defaulting: the object is already stored)."""
    if not isinstance(entry, dict) or not isinstance(entry.get("object"), dict):
        raise StoredPodError(f"{where}: not a stored pod entry")
    obj = entry["object"]
    try:
        pods = pods_from_object(obj, where, _NO_GATES)
    except (ManifestError, QuantityError) as e:
        raise StoredPodError(str(e)) from e
    if len(pods) != 1:
        raise StoredPodError(f"{where}: not a Pod")
    pod = pods[0]
    meta = obj.get("metadata") or {}
    status = obj.get("status") or {}
    adm = entry.get("admission") or {}
    if not meta.get("uid"):
        raise StoredPodError(f"{where}: metadata.uid is missing")
    pod.qos_class = str(status.get("qosClass") or "")
    seq = entry.get("sequence")
    if not isinstance(seq, int):
        raise StoredPodError(f"{where}: sequence must be an integer")
    return StoredPod(
        pod=pod,
        sequence=seq,
        created=str(meta.get("creationTimestamp") or ""),
        admitted=bool(adm.get("admitted")),
        reason=str(adm.get("reason") or ""),
        message=str(adm.get("message") or ""),
        source=str(entry.get("source") or ""),
    )


class _Gates:
    """pods_from_object takes gates only for symmetry; reading the shape does not use them."""

    def enabled(self, name: str) -> bool:  # pragma: no cover - not called
        return False


_NO_GATES: Any = _Gates()
