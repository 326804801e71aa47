"""Pods and containers as the kubelet's resource managers see them.

Plain slotted dataclasses: the engine reads them on its hot path. They are
built from v1 manifests by :mod:`topolet.model.manifest` (which also applies
the API server's defaulting and validation and stamps the QoS class).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from topolet.model.quantity import Quantity
from topolet.model.scheduling import HostPort, NodeSelectorTerm, Toleration

CPU = "cpu"
MEMORY = "memory"
HUGEPAGES_PREFIX = "hugepages-"

QOS_GUARANTEED = "Guaranteed"
QOS_BURSTABLE = "Burstable"
QOS_BEST_EFFORT = "BestEffort"


def is_hugepages(resource: str) -> bool:
    return resource.startswith(HUGEPAGES_PREFIX)


def is_memory_like(resource: str) -> bool:
    """memory or hugepages-*: what the memory manager manages."""
    return resource == MEMORY or resource.startswith(HUGEPAGES_PREFIX)


@dataclass(slots=True)
class Resources:
    """``ResourceRequirements``: requests and limits by resource name."""

    requests: dict[str, Quantity] = field(default_factory=dict)
    limits: dict[str, Quantity] = field(default_factory=dict)

    def is_set(self) -> bool:
        return bool(self.requests) or bool(self.limits)

    def copy(self) -> Resources:
        return Resources(dict(self.requests), dict(self.limits))


@dataclass(slots=True)
class Container:
    name: str
    resources: Resources = field(default_factory=Resources)
    restart_policy: str | None = None  # "Always" marks a sidecar (restartable init container)
    image: str = ""
    host_ports: tuple[HostPort, ...] = ()  # ports[] entries with a hostPort > 0
    apparmor: str | None = None  # securityContext.appArmorProfile: "type" or "Localhost:<profile>"

    @property
    def is_restartable(self) -> bool:
        return self.restart_policy == "Always"


@dataclass(slots=True)
class Pod:
    name: str
    namespace: str = "default"
    uid: str = ""
    containers: list[Container] = field(default_factory=list)
    init_containers: list[Container] = field(default_factory=list)
    resources: Resources | None = None  # spec.resources (pod-level)
    qos_class: str = ""  # status.qosClass, stamped at API admission
    labels: dict[str, str] = field(default_factory=dict)
    owner: str = ""  # "Kind/name" of the workload object it came from
    # -- what the kubelet's other admit handlers read (lifecycle/predicate.go, sysctl, apparmor)
    node_name: str = ""  # spec.nodeName
    node_selector: dict[str, str] = field(default_factory=dict)
    node_affinity: tuple[NodeSelectorTerm, ...] | None = None  # required terms; None: not set
    tolerations: tuple[Toleration, ...] = ()
    os_name: str = ""  # spec.os.name
    sysctls: tuple[tuple[str, str], ...] = ()  # spec.securityContext.sysctls: (name, value)
    host_network: bool = False
    host_ipc: bool = False
    supplemental_groups_policy: str = ""  # spec.securityContext.supplementalGroupsPolicy
    apparmor: str | None = None  # spec.securityContext.appArmorProfile, as on containers
    priority: int | None = None  # spec.priority

    def host_ports(self) -> list[HostPort]:
        """``schedutil.GetHostPorts``: sidecars' and app containers' host ports."""
        out = [p for c in self.init_containers if c.is_restartable for p in c.host_ports]
        out.extend(p for c in self.containers for p in c.host_ports)
        return out

    def __post_init__(self) -> None:
        if not self.uid:
            self.uid = f"{self.namespace}/{self.name}"

    def all_containers(self) -> list[Container]:
        """Init containers first, then app containers, as the kubelet walks them."""
        return [*self.init_containers, *self.containers]

    def has_pod_level_resources(self) -> bool:
        """``resourcehelper.IsPodLevelResourcesSet``: cpu, memory or hugepages-* at pod level."""
        r = self.resources
        if r is None:
            return False
        return any(k in (CPU, MEMORY) or k.startswith(HUGEPAGES_PREFIX) for k in (*r.requests, *r.limits))

    def container(self, name: str) -> Container | None:
        for c in self.all_containers():
            if c.name == name:
                return c
        return None

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"
