"""NodeResourceTopology objects (``topology.node.k8s.io/v1alpha2``), as resource-topology-exporter publishes them.

One object per node, named after it (owned by the Node, so it goes with it):
one zone per NUMA node (type ``Node``, costs from the distance matrix), with
``cpu``, ``memory`` and ``hugepages-<size>`` resources:

* cpu: capacity = the NUMA node's CPUs; allocatable = without the reserved
  CPUs; available = allocatable minus the CPUs held exclusively (containers'
  exclusive CPUs and pod-level pools).
* memory and hugepages: with the Static memory manager, its machine state
  (total, allocatable = total minus the per-NUMA reservation, free); without
  it, capacity = allocatable = available = the NUMA node's total.

Attributes: ``topologyManagerPolicy``, ``topologyManagerScope``, one per
topology manager policy option (its name, its value), and the pods
fingerprint ``nodeTopologyPodsFingerprint`` with its method
``nodeTopologyPodsFingerprintMethod: exclude-terminal`` (the running pods:
what the podresources API lists). The fingerprint is podfingerprint v001
(github.com/k8stopologyawareschedwg/podfingerprint): xxhash64 of each pod's
name seeded with xxhash64 of its namespace, the values sorted, written
little-endian into one xxhash64 whose big-endian bytes are hex-encoded after
``pfp0v001``.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import Any

import xxhash

from topolet.engine.node import Node
from topolet.model.topology import hugepage_resource_name

GROUP = "topology.node.k8s.io"
VERSION = "v1alpha2"
PLURAL = "noderesourcetopologies"
CRD_NAME = f"{PLURAL}.{GROUP}"
FINGERPRINT_PREFIX = "pfp0"
FINGERPRINT_VERSION = "v001"
FINGERPRINT_ANNOTATION = "topology.node.k8s.io/fingerprint"
FINGERPRINT_ATTRIBUTE = "nodeTopologyPodsFingerprint"
FINGERPRINT_METHOD_ATTRIBUTE = "nodeTopologyPodsFingerprintMethod"
FINGERPRINT_METHOD = "exclude-terminal"


def fingerprint(pods: Iterable[tuple[str, str]]) -> str:
    """podfingerprint v001 of a set of (namespace, name) pairs."""
    hashes = sorted(
        xxhash.xxh64_intdigest(name.encode(), seed=xxhash.xxh64_intdigest(ns.encode())) for ns, name in pods
    )
    h = xxhash.xxh64()
    for v in hashes:
        h.update(struct.pack("<Q", v))
    return FINGERPRINT_PREFIX + FINGERPRINT_VERSION + h.hexdigest()


def _resource(name: str, capacity: int, allocatable: int, available: int) -> dict[str, Any]:
    return {
        "name": name,
        "capacity": str(capacity),
        "allocatable": str(allocatable),
        "available": str(max(available, 0)),
    }


def zones(node: Node) -> list[dict[str, Any]]:
    from topolet.engine.cpumanager.policy_static import StaticCPUPolicy

    topo = node.topology
    cs = node.cpu_manager.state
    policy = node.cpu_manager.policy
    reserved = getattr(policy, "reserved_cpus", 0) if isinstance(policy, StaticCPUPolicy) else 0
    exclusive = 0
    if isinstance(policy, StaticCPUPolicy):
        for per_pod in cs.assignments.values():
            for bits in per_pod.values():
                exclusive |= bits
        for bits in cs.pod_assignments.values():
            exclusive |= bits
    mstate = node.memory_manager.state.machine_state
    out: list[dict[str, Any]] = []
    for n in topo.numa_ids:
        numa = topo.numa_nodes[n]
        cpus = topo.numa_cpus.get(n, 0)
        alloc = cpus & ~reserved
        res = [_resource("cpu", cpus.bit_count(), alloc.bit_count(), (alloc & ~exclusive).bit_count())]
        tables = mstate.get(n).memory_map if mstate.get(n) is not None else {}
        names = ["memory", *(hugepage_resource_name(s) for s in sorted(numa.hugepages))]
        for rname in names:
            t = tables.get(rname)
            if t is not None:
                res.append(_resource(rname, t.total, t.allocatable, t.free))
            else:
                total = numa.memory if rname == "memory" else _hp_total(numa.hugepages, rname)
                res.append(_resource(rname, total, total, total))
        costs = [{"name": f"node-{m}", "value": topo.distance(n, m)} for m in topo.numa_ids]
        out.append({"name": f"node-{n}", "type": "Node", "costs": costs, "resources": res})
    return out


def _hp_total(hugepages: Any, rname: str) -> int:
    for size, total in hugepages.items():
        if hugepage_resource_name(size) == rname:
            return int(total)
    return 0


def nrt_object(node_name: str, node: Node, running: Iterable[tuple[str, str]], owner_uid: str = "") -> dict[str, Any]:
    cfg = node.config
    fp = fingerprint(running)
    attrs = [
        {"name": "topologyManagerPolicy", "value": cfg.topology_manager_policy},
        {"name": "topologyManagerScope", "value": cfg.topology_manager_scope},
    ]
    for k, v in sorted((cfg.topology_manager_policy_options or {}).items()):
        attrs.append({"name": k, "value": str(v)})
    attrs.append({"name": FINGERPRINT_ATTRIBUTE, "value": fp})
    attrs.append({"name": FINGERPRINT_METHOD_ATTRIBUTE, "value": FINGERPRINT_METHOD})
    meta: dict[str, Any] = {"name": node_name, "annotations": {FINGERPRINT_ANNOTATION: fp}}
    if owner_uid:
        meta["ownerReferences"] = [{"apiVersion": "v1", "kind": "Node", "name": node_name, "uid": owner_uid}]
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "NodeResourceTopology",
        "metadata": meta,
        "topologyPolicies": [_legacy_policy(cfg.topology_manager_policy, cfg.topology_manager_scope)],
        "zones": zones(node),
        "attributes": attrs,
    }


def _legacy_policy(policy: str, scope: str) -> str:
    """``topologyPolicies`` (deprecated in v1alpha2, still required by older consumers)."""
    level = "PodLevel" if scope == "pod" else "ContainerLevel"
    return {
        "none": "None",
        "best-effort": f"BestEffort{level}",
        "restricted": f"Restricted{level}",
        "single-numa-node": f"SingleNUMANode{level}",
    }.get(policy, "None")


_NAME_VALUE = {
    "type": "object",
    "required": ["name", "value"],
    "properties": {"name": {"type": "string"}, "value": {"type": "string"}},
}
_RESOURCE_INFO = {
    "type": "object",
    "required": ["name", "capacity", "allocatable", "available"],
    "properties": {
        "name": {"type": "string"},
        "capacity": {"x-kubernetes-int-or-string": True, "anyOf": [{"type": "integer"}, {"type": "string"}]},
        "allocatable": {"x-kubernetes-int-or-string": True, "anyOf": [{"type": "integer"}, {"type": "string"}]},
        "available": {"x-kubernetes-int-or-string": True, "anyOf": [{"type": "integer"}, {"type": "string"}]},
    },
}
_ZONE = {
    "type": "object",
    "required": ["name", "type"],
    "properties": {
        "name": {"type": "string"},
        "type": {"type": "string"},
        "parent": {"type": "string"},
        "costs": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "value"],
                "properties": {"name": {"type": "string"}, "value": {"type": "integer", "format": "int64"}},
            },
        },
        "attributes": {"type": "array", "items": _NAME_VALUE},
        "resources": {"type": "array", "items": _RESOURCE_INFO},
    },
}


def crd() -> dict[str, Any]:
    """The NodeResourceTopology CRD (v1alpha2 served and stored), as noderesourcetopology-api defines it."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": CRD_NAME,
            "annotations": {"api-approved.kubernetes.io": "https://github.com/kubernetes/enhancements/pull/1870"},
        },
        "spec": {
            "group": GROUP,
            "names": {
                "kind": "NodeResourceTopology",
                "listKind": "NodeResourceTopologyList",
                "plural": PLURAL,
                "singular": "noderesourcetopology",
                "shortNames": ["node-res-topo"],
            },
            "scope": "Cluster",
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "required": ["zones"],
                            "properties": {
                                "apiVersion": {"type": "string"},
                                "kind": {"type": "string"},
                                "metadata": {"type": "object"},
                                "topologyPolicies": {"type": "array", "items": {"type": "string"}},
                                "zones": {"type": "array", "items": _ZONE},
                                "attributes": {"type": "array", "items": _NAME_VALUE},
                            },
                        }
                    },
                }
            ],
        },
    }
