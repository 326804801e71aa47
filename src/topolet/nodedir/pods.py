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
from topolet.model.quantity import Quantity, QuantityError
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
    # where kubelet 1.36.2's restart bug hit the pod (moved, rejected at re-admission, memory
    # counted twice: kubernetes#140989, #140906), as explain and describe say it
    restart_note: str = ""

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
        "admission": {
            "admitted": sp.admitted,
            "reason": sp.reason,
            "message": sp.message,
            **({"restartNote": sp.restart_note} if sp.restart_note else {}),
        },
        "object": stored_pod_object(sp),
    }


def _mapping(value: Any, where: str, name: str, *, required: bool = False) -> dict[str, Any]:
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise StoredPodError(f"{where}: {name} must be a mapping, got {_what(value)}")
    return value


def _str(value: Any, where: str, name: str, *, required: bool = False) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise StoredPodError(f"{where}: {name} must be a {'non-empty ' if required else ''}string, got {_what(value)}")
    return value


def _what(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"a number ({value!r:.40})"
    if isinstance(value, str):
        return f"a string ({value!r:.40})"
    return "a list" if isinstance(value, list) else ("a mapping" if isinstance(value, dict) else type(value).__name__)


def _quantities(value: Any, where: str, name: str) -> dict[str, Quantity]:
    out: dict[str, Quantity] = {}
    for k, v in _mapping(value, where, name).items():
        try:
            out[k] = Quantity.parse(v)
        except QuantityError as e:
            raise StoredPodError(f"{where}: {name}.{k}: {e}") from e
    return out


def _resources(value: Any, where: str, name: str) -> Resources:
    r = _mapping(value, where, name)
    for k in r:
        if k not in ("limits", "requests"):
            raise StoredPodError(f"{where}: {name}.{k}: unknown field")
    return Resources(
        requests=_quantities(r.get("requests"), where, f"{name}.requests"),
        limits=_quantities(r.get("limits"), where, f"{name}.limits"),
    )


def _containers(value: Any, where: str, name: str) -> list[Container]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise StoredPodError(f"{where}: {name} must be a list, got {_what(value)}")
    out = []
    for i, c in enumerate(value):
        w = f"{name}[{i}]"
        c = _mapping(c, where, w, required=True)
        rp = c.get("restartPolicy")
        out.append(
            Container(
                name=_str(c.get("name"), where, f"{w}.name", required=True),
                resources=_resources(c.get("resources"), where, f"{w}.resources"),
                restart_policy=None if rp is None else _str(rp, where, f"{w}.restartPolicy"),
                image=_str(c.get("image"), where, f"{w}.image"),
            )
        )
    return out


_FAST_META = {"name", "namespace", "uid", "creationTimestamp", "labels", "ownerReferences"}
_FAST_SPEC = {"containers", "initContainers", "resources"}
_FAST_CONTAINER = {"name", "image", "resources", "restartPolicy"}


def _fast_shape(obj: dict[str, Any]) -> bool:
    """Whether the stored object holds only what the fast reader reads (else the API reader reads it)."""
    meta, spec = obj.get("metadata"), obj.get("spec")
    if not isinstance(meta, dict) or not isinstance(spec, dict) or set(meta) - _FAST_META or set(spec) - _FAST_SPEC:
        return False
    for key in ("containers", "initContainers"):
        cs = spec.get(key)
        if isinstance(cs, list) and any(isinstance(c, dict) and set(c) - _FAST_CONTAINER for c in cs):
            return False
    return True


def _pod_by_api_reader(obj: dict[str, Any], where: str) -> Pod:
    from topolet.model.manifest import ManifestError, pods_from_object

    try:
        pods = pods_from_object(obj, where, _NO_GATES)
    except (ManifestError, QuantityError) as e:
        raise StoredPodError(str(e)) from e
    except RecursionError as e:
        raise StoredPodError(f"{where}: object: nested too deeply") from e
    if len(pods) != 1:
        raise StoredPodError(f"{where}: object: not a Pod")
    if not pods[0].uid:
        raise StoredPodError(f"{where}: object.metadata.uid is missing")
    return pods[0]


def pod_from_stored_object(obj: dict[str, Any], where: str) -> Pod:
    """The pod of a stored v1 Pod object (what :func:`stored_pod_object` writes), every field checked.

    The common shape (names, labels, owner, containers with resources) is read here, fast; an object
    with more (node selectors, tolerations, ports, ...) is read by the API server's reader.
    """
    if not _fast_shape(obj):
        return _pod_by_api_reader(obj, where)
    if obj.get("kind", "Pod") != "Pod":
        raise StoredPodError(f"{where}: object.kind must be Pod, got {_what(obj.get('kind'))}")
    meta = _mapping(obj.get("metadata"), where, "object.metadata", required=True)
    spec = _mapping(obj.get("spec"), where, "object.spec", required=True)
    labels = _mapping(meta.get("labels"), where, "object.metadata.labels")
    for k, v in labels.items():
        _str(v, where, f"object.metadata.labels.{k}")
    owner = ""
    refs = meta.get("ownerReferences")
    if refs is not None:
        if not isinstance(refs, list):
            raise StoredPodError(f"{where}: object.metadata.ownerReferences must be a list, got {_what(refs)}")
        for i, ref in enumerate(refs):
            ref = _mapping(ref, where, f"object.metadata.ownerReferences[{i}]", required=True)
            if ref.get("controller"):
                w = f"object.metadata.ownerReferences[{i}]"
                owner = f"{_str(ref.get('kind'), where, w + '.kind')}/{_str(ref.get('name'), where, w + '.name')}"
                break
    pod_resources = spec.get("resources")
    containers = _containers(spec.get("containers"), where, "object.spec.containers")
    if not containers:
        raise StoredPodError(f"{where}: object.spec.containers: Required value")
    return Pod(
        name=_str(meta.get("name"), where, "object.metadata.name", required=True),
        namespace=_str(meta.get("namespace"), where, "object.metadata.namespace") or "default",
        uid=_str(meta.get("uid"), where, "object.metadata.uid", required=True),
        containers=containers,
        init_containers=_containers(spec.get("initContainers"), where, "object.spec.initContainers"),
        resources=None if pod_resources is None else _resources(pod_resources, where, "object.spec.resources"),
        labels=dict(labels),
        owner=owner,
    )


def stored_pod_from_entry(entry: Any, where: str) -> StoredPod:
    """Read a stored pod entry back (no API defaulting: the object is already stored).

    Every field is checked: a hand-damaged entry is a :class:`StoredPodError` naming the field.
    """
    if not isinstance(entry, dict):
        raise StoredPodError(f"{where}: not a stored pod entry (a mapping with sequence, admission and object)")
    obj = _mapping(entry.get("object"), where, "object", required=True)
    meta = _mapping(obj.get("metadata"), where, "object.metadata", required=True)
    status = _mapping(obj.get("status"), where, "object.status")
    adm = _mapping(entry.get("admission"), where, "admission", required=True)
    pod = pod_from_stored_object(obj, where)
    for key in ("qosClass", "phase", "reason", "message"):
        _str(status.get(key), where, f"object.status.{key}")
    pod.qos_class = str(status.get("qosClass") or "")
    seq = entry.get("sequence")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise StoredPodError(f"{where}: sequence must be a positive integer, got {_what(seq)}")
    admitted = adm.get("admitted")
    if not isinstance(admitted, bool):
        raise StoredPodError(f"{where}: admission.admitted must be true or false, got {_what(admitted)}")
    return StoredPod(
        pod=pod,
        sequence=seq,
        created=_str(meta.get("creationTimestamp"), where, "object.metadata.creationTimestamp"),
        admitted=admitted,
        reason=_str(adm.get("reason"), where, "admission.reason"),
        message=_str(adm.get("message"), where, "admission.message"),
        source=_str(entry.get("source"), where, "source"),
        restart_note=_str(adm.get("restartNote"), where, "admission.restartNote"),
    )


class _Gates:
    """pods_from_object takes gates only for symmetry; reading the shape does not use them."""

    def enabled(self, name: str) -> bool:  # pragma: no cover - not called
        return False


_NO_GATES: Any = _Gates()
