"""The API server's pod (a lightkube model) as the engine's :class:`~topolet.model.pod.Pod`.

The API server has already defaulted and validated the pod and stamped its
QoS class: only what the kubelet's admission reads is taken (names, UID,
labels, owner; containers with resources, restart policy, host ports and
AppArmor profile; pod-level resources, nodeName, nodeSelector, required node
affinity, tolerations, OS, sysctls, host namespaces, priority). A quantity the engine cannot read raises
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


ANY = None  # keep the value as the API server has it

# What the kubelet's admission reads of a pod spec (the engine's manifest model), and nothing else.
_RESOURCES = {"requests": ANY, "limits": ANY}
_CONTAINER = {
    "name": ANY,
    "image": ANY,
    "resources": _RESOURCES,
    "restartPolicy": ANY,
    "ports": [{"containerPort": ANY, "hostPort": ANY, "hostIP": ANY, "protocol": ANY}],
    "securityContext": {"appArmorProfile": ANY},
}
_SPEC: dict[str, Any] = {
    "containers": [_CONTAINER],
    "initContainers": [_CONTAINER],
    "resources": _RESOURCES,
    "nodeName": ANY,
    "nodeSelector": ANY,
    "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": ANY}},
    "tolerations": ANY,
    "os": ANY,
    "securityContext": {"sysctls": ANY, "supplementalGroupsPolicy": ANY, "appArmorProfile": ANY},
    "hostNetwork": ANY,
    "hostIPC": ANY,
    "priority": ANY,
}


def _pick(value: Any, shape: Any) -> Any:
    if shape is ANY:
        return value
    if isinstance(shape, list):
        return [_pick(v, shape[0]) for v in value] if isinstance(value, list) else value
    if isinstance(shape, dict) and isinstance(value, dict):
        return {k: _pick(v, shape[k]) for k, v in value.items() if k in shape and v is not None}
    return value


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
    sdict = _pick(spec.to_dict(), _SPEC)
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
