"""The pod status the kubelet writes, and the Event it records when it rejects a pod.

Admitted (``generateAPIPodStatus`` for a pod whose containers started):
phase Running; conditions PodReadyToStartContainers, Initialized, Ready and
ContainersReady True (the scheduler's PodScheduled is kept: the patch is a
strategic merge by condition type); hostIP(s) from the node, podIP(s) from
the node's pod CIDR; startTime; containerStatuses running, restartable init
containers (sidecars) running, other init containers terminated with
``Completed``; the QoS class as stamped.

Rejected (``kubelet.rejectPod``): phase Failed, reason = the admission error
type, message ``Pod was rejected: <message>``, the QoS class, plus a Warning
Event with that reason and message (reportingComponent kubelet).

Every patch carries ``metadata.uid`` as a precondition, as the kubelet's
status manager does: a pod re-created under the same name is another pod.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from topolet.cluster.nodestatus import now_micro, now_rfc3339
from topolet.model.pod import Container, Pod


def container_id(pod_uid: str, name: str) -> str:
    return "containerd://" + hashlib.sha256(f"{pod_uid}/{name}".encode()).hexdigest()


def _resources(c: Container) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if c.resources.requests:
        out["requests"] = {k: str(v) for k, v in sorted(c.resources.requests.items())}
    if c.resources.limits:
        out["limits"] = {k: str(v) for k, v in sorted(c.resources.limits.items())}
    return out


def _running(pod: Pod, c: Container, started: str) -> dict[str, Any]:
    st: dict[str, Any] = {
        "name": c.name,
        "image": c.image,
        "imageID": "",
        "containerID": container_id(pod.uid, c.name),
        "ready": True,
        "started": True,
        "restartCount": 0,
        "state": {"running": {"startedAt": started}},
    }
    res = _resources(c)
    if res:
        st["resources"] = res
        if c.resources.requests:
            st["allocatedResources"] = res["requests"]
    return st


def _completed(pod: Pod, c: Container, started: str) -> dict[str, Any]:
    cid = container_id(pod.uid, c.name)
    return {
        "name": c.name,
        "image": c.image,
        "imageID": "",
        "containerID": cid,
        "ready": True,
        "started": False,
        "restartCount": 0,
        "state": {
            "terminated": {
                "exitCode": 0,
                "reason": "Completed",
                "startedAt": started,
                "finishedAt": started,
                "containerID": cid,
            }
        },
    }


def running_status(pod: Pod, host_ip: str, pod_ip: str) -> dict[str, Any]:
    now = now_rfc3339()
    conds = [
        {"type": t, "status": "True", "lastProbeTime": None, "lastTransitionTime": now}
        for t in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady")
    ]
    status: dict[str, Any] = {
        "phase": "Running",
        "conditions": conds,
        "hostIP": host_ip,
        "hostIPs": [{"ip": host_ip}],
        "podIP": pod_ip,
        "podIPs": [{"ip": pod_ip}],
        "startTime": now,
        "containerStatuses": [_running(pod, c, now) for c in pod.containers],
        "qosClass": pod.qos_class,
    }
    if pod.init_containers:
        status["initContainerStatuses"] = [
            _running(pod, c, now) if c.is_restartable else _completed(pod, c, now) for c in pod.init_containers
        ]
    return {"metadata": {"uid": pod.uid}, "status": status}


def rejected_status(uid: str, qos: str, reason: str, message: str) -> dict[str, Any]:
    status: dict[str, Any] = {
        "phase": "Failed",
        "reason": reason,
        "message": f"Pod was rejected: {message}",
        "startTime": now_rfc3339(),
    }
    if qos:
        status["qosClass"] = qos
    return {"metadata": {"uid": uid}, "status": status}


def rejection_event(
    node: str, namespace: str, name: str, uid: str, reason: str, message: str, resource_version: str = ""
) -> dict[str, Any]:
    """The Warning Event ``kl.recorder.Eventf(pod, Warning, reason, message)`` records."""
    now = now_rfc3339()
    involved: dict[str, Any] = {"kind": "Pod", "namespace": namespace, "name": name, "uid": uid, "apiVersion": "v1"}
    if resource_version:
        involved["resourceVersion"] = resource_version
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{name}.{secrets.token_hex(8)}", "namespace": namespace},
        "involvedObject": involved,
        "reason": reason,
        "message": message,
        "type": "Warning",
        "source": {"component": "kubelet", "host": node},
        "reportingComponent": "kubelet",
        "reportingInstance": node,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "eventTime": None,
        "count": 1,
        "action": "",
    }


__all__ = ["container_id", "now_micro", "rejected_status", "rejection_event", "running_status"]
