"""The Node object a kubelet registers and the status it posts.

``kubelet_node_status.go``: labels (hostname, os, arch, plus the pool's),
capacity and allocatable as the engine's Node object computes them
(:func:`topolet.engine.nodestatus.build_node_object`: cadvisor's cpu, memory,
hugepages-<size>, pods from maxPods/podsPerCore; allocatable after
system-reserved + kube-reserved + hard eviction, hugepages out of memory),
``registerWithTaints``, nodeInfo,
addresses, daemon endpoints and the four conditions of a healthy kubelet.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

from topolet.cluster.fleetnodes import NodeSpec
from topolet.engine.nodestatus import PODS, NodeObject, build_node_object
from topolet.model.pod import CPU
from topolet.model.quantity import BINARY_SI, Quantity
from topolet.model.topology import topology_to_spec

KUBELET_VERSION = "v1.36.2"
TOPOLOGY_ANNOTATION = "topolet.dev/topology"
CONFIG_ANNOTATION = "topolet.dev/kubelet-config"
ENDPOINT_ANNOTATION = "topolet.dev/endpoint"
SIMULATED_ANNOTATION = "topolet.dev/simulated"

_CONDITIONS = (
    ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
)


def now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_micro() -> str:
    """``metav1.MicroTime`` as the API server writes it."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def node_object_of(spec: NodeSpec) -> NodeObject:
    """The engine's Node object (capacity, allocatable, taints) with the fleet's labels."""
    obj = build_node_object(spec.name, spec.topology, spec.config, spec.plan.capacity, spec.plan.reservation)
    obj.labels = dict(spec.labels)
    return obj


def _format(resource: str, n: int) -> str:
    if resource == CPU:
        return str(n // 1000) if n % 1000 == 0 else f"{n}m"
    if resource == PODS:
        return str(n)
    return str(Quantity(Fraction(n), BINARY_SI))


def quantities(m: dict[str, int]) -> dict[str, str]:
    return {k: _format(k, v) for k, v in sorted(m.items())}


def conditions(heartbeat: str, transition: str) -> list[dict[str, str]]:
    return [
        {
            "type": t,
            "status": s,
            "reason": r,
            "message": m,
            "lastHeartbeatTime": heartbeat,
            "lastTransitionTime": transition,
        }
        for t, s, r, m in _CONDITIONS
    ]


def node_status(spec: NodeSpec, heartbeat: str, transition: str) -> dict[str, Any]:
    obj = node_object_of(spec)
    ident = str(uuid.uuid5(uuid.NAMESPACE_URL, f"topolet-node/{spec.name}"))
    return {
        "capacity": quantities(obj.capacity),
        "allocatable": quantities(obj.allocatable),
        "conditions": conditions(heartbeat, transition),
        "addresses": [
            {"type": "InternalIP", "address": spec.internal_ip},
            {"type": "Hostname", "address": spec.name},
        ],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        "nodeInfo": {
            "machineID": ident.replace("-", ""),
            "systemUUID": ident,
            "bootID": ident,
            "kernelVersion": "simulated",
            "osImage": "topolet simulated node",
            "containerRuntimeVersion": "topolet://0.1.0",
            "kubeletVersion": KUBELET_VERSION,
            "kubeProxyVersion": "",
            "operatingSystem": "linux",
            "architecture": "amd64",
        },
    }


def node_object(spec: NodeSpec, endpoint: str = "") -> dict[str, Any]:
    """The Node as the kubelet creates it at registration (status included: the API server keeps it on create)."""
    now = now_rfc3339()
    annotations = {
        "node.alpha.kubernetes.io/ttl": "0",
        "volumes.kubernetes.io/controller-managed-attach-detach": "true",
        SIMULATED_ANNOTATION: "true",
        TOPOLOGY_ANNOTATION: json.dumps(topology_to_spec(spec.topology), separators=(",", ":")),
        CONFIG_ANNOTATION: json.dumps(spec.kubelet, separators=(",", ":"), default=str),
    }
    if endpoint:
        annotations[ENDPOINT_ANNOTATION] = endpoint
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": spec.name, "labels": dict(spec.labels), "annotations": annotations},
        "spec": _node_spec(spec),
        "status": node_status(spec, now, now),
    }


def _node_spec(spec: NodeSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"podCIDR": spec.pod_cidr, "podCIDRs": [spec.pod_cidr]}
    taints = [{"key": t.key, "value": t.value, "effect": t.effect} for t in spec.config.register_with_taints]
    if taints:  # registerWithTaints
        out["taints"] = [{k: v for k, v in t.items() if v} for t in taints]
    return out


def status_patch(spec: NodeSpec, transition: str | None = None) -> dict[str, Any]:
    """The status the kubelet posts (strategic merge on ``nodes/NAME/status``)."""
    now = now_rfc3339()
    return {"status": node_status(spec, now, transition or now)}
