"""The API server's pod (a lightkube model) as the engine's :class:`~topolet.model.pod.Pod`.

The API server has already defaulted and validated the pod and stamped its
QoS class: only what the resource managers read is taken (names, UID,
labels, owner, containers with their resources and restart policy, the
pod-level resources). A quantity the engine cannot read raises
:class:`PodConversionError`.
"""

from __future__ import annotations

from typing import Any

from topolet.model.features import FeatureGates
from topolet.model.manifest import ManifestError, pods_from_object
from topolet.model.pod import Pod
from topolet.model.qos import compute_pod_qos
from topolet.model.quantity import QuantityError

_GATES = FeatureGates({})


class PodConversionError(ValueError):
    """A pod the API server accepted that the engine cannot read."""


def _resources(r: Any) -> dict[str, Any] | None:
    if r is None:
        return None
    out: dict[str, Any] = {}
    if getattr(r, "requests", None):
        out["requests"] = dict(r.requests)
    if getattr(r, "limits", None):
        out["limits"] = dict(r.limits)
    return out


def _container(c: Any) -> dict[str, Any]:
    d: dict[str, Any] = {"name": c.name, "image": c.image or ""}
    res = _resources(c.resources)
    if res:
        d["resources"] = res
    if getattr(c, "restartPolicy", None):
        d["restartPolicy"] = c.restartPolicy
    return d


def pod_from_api(obj: Any) -> Pod:
    meta, spec = obj.metadata, obj.spec
    owner = None
    for ref in meta.ownerReferences or []:
        if ref.controller:
            owner = {"kind": ref.kind, "name": ref.name, "controller": True}
    mdict: dict[str, Any] = {"name": meta.name, "namespace": meta.namespace or "default", "uid": meta.uid}
    if meta.labels:
        mdict["labels"] = dict(meta.labels)
    if owner:
        mdict["ownerReferences"] = [owner]
    sdict: dict[str, Any] = {"containers": [_container(c) for c in spec.containers or []]}
    if spec.initContainers:
        sdict["initContainers"] = [_container(c) for c in spec.initContainers]
    pod_res = _resources(getattr(spec, "resources", None))
    if pod_res:
        sdict["resources"] = pod_res
    where = f"pod {mdict['namespace']}/{meta.name}"
    try:
        pods = pods_from_object({"apiVersion": "v1", "kind": "Pod", "metadata": mdict, "spec": sdict}, where, _GATES)
    except (ManifestError, QuantityError) as e:
        raise PodConversionError(str(e)) from e
    if len(pods) != 1:
        raise PodConversionError(f"{where}: not one pod")
    pod = pods[0]
    qos = obj.status.qosClass if obj.status is not None else None
    pod.qos_class = qos or compute_pod_qos(pod, True)
    return pod
