"""The fleet file's pools as nodes: names, machines, kubelet configurations, labels.

Checked before anything is registered: a pool whose KubeletConfiguration the
kubelet would refuse (start-up checks, node allocatable) is an
:class:`~topolet.io.inputs.InputError` naming the fleet file and the pool.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from topolet.engine.errors import StartupError
from topolet.engine.startup import StartupPlan, startup_checks
from topolet.fleet.spec import FleetSpec, PoolSpec
from topolet.io.inputs import InputError
from topolet.model.kubelet_config import KubeletConfig
from topolet.model.topology import Topology

CLUSTER_LABEL = "topolet.dev/cluster"
POOL_LABEL = "topolet.dev/pool"
DEFAULT_LEASE_SECONDS = 40
MAX_NODES = 65_536  # one /24 pod CIDR each inside 10.128.0.0/9 is 32,768; addresses below limit it too


@dataclass(slots=True)
class NodeSpec:
    """One simulated node: what its kubelet is started with and registers."""

    name: str
    pool: str
    index: int  # position in the fleet (pod CIDR and address)
    topology: Topology
    topology_source: str
    config: KubeletConfig
    kubelet: dict[str, Any]  # the raw KubeletConfiguration mapping
    kubelet_source: str
    plan: StartupPlan
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def lease_seconds(self) -> int:
        v = self.kubelet.get("nodeLeaseDurationSeconds", DEFAULT_LEASE_SECONDS)
        return v if isinstance(v, int) and v > 0 else DEFAULT_LEASE_SECONDS

    @property
    def pod_cidr(self) -> str:
        return str(ipaddress.ip_network("10.128.0.0/9")[self.index * 256]) + "/24"

    @property
    def internal_ip(self) -> str:
        return str(ipaddress.ip_address("172.16.0.0") + 1 + self.index)


def _check_pool(pool: PoolSpec, source: str) -> tuple[KubeletConfig, StartupPlan]:
    config = pool.config()
    try:
        plan = startup_checks(config, pool.topology)
        from topolet.engine.node import Node

        Node(pool.topology, config, name=f"{pool.name}-0")
    except StartupError as e:
        raise InputError(
            f"{source}: pool {pool.name!r}: the kubelet refuses to start with {pool.kubelet_source}: {e}"
        ) from e
    for key in ("nodeLeaseDurationSeconds",):
        v = pool.kubelet.get(key)
        if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 1):
            raise InputError(f"{pool.kubelet_source}: {key}: must be a positive integer, got {v!r}")
    return config, plan


def nodes_from_fleet(fleet: FleetSpec, prefix: str = "") -> list[NodeSpec]:
    """Every node of every pool, named ``PREFIX<pool>-<i>``; raises InputError for a pool the kubelet refuses."""
    if fleet.node_count > 32_768:
        raise InputError(f"{fleet.source}: {fleet.node_count} nodes; topolet cluster runs at most 32768")
    out: list[NodeSpec] = []
    index = 0
    for pool in fleet.pools:
        config, plan = _check_pool(pool, fleet.source)
        for i in range(pool.count):
            name = f"{prefix}{pool.name}-{i}"
            labels = {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "beta.kubernetes.io/os": "linux",
                "beta.kubernetes.io/arch": "amd64",
                CLUSTER_LABEL: fleet.name,
                POOL_LABEL: pool.name,
                **pool.labels,
            }
            out.append(
                NodeSpec(
                    name=name,
                    pool=pool.name,
                    index=index,
                    topology=pool.topology,
                    topology_source=pool.topology_source,
                    config=config,
                    kubelet=pool.kubelet,
                    kubelet_source=pool.kubelet_source,
                    plan=plan,
                    labels=labels,
                )
            )
            index += 1
    names = [n.name for n in out]
    if len(set(names)) != len(names):
        raise InputError(f"{fleet.source}: pool names give duplicate node names (with prefix {prefix!r})")
    return out
