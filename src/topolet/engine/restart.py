"""A kubelet restart: checkpoint the managers' state, start a new kubelet from it.

The pods that were running are re-registered with their existing assignments:
an existing pod entry is authoritative. (Kubelet 1.36 re-allocated pod-level
pods on restart, a known bug that topolet does not reproduce.)
"""

from __future__ import annotations

from topolet.engine.node import Node
from topolet.io.checkpoint import (
    cpu_checkpoint_version_for,
    dump_cpu_checkpoint,
    dump_memory_checkpoint,
    load_cpu_checkpoint,
    load_memory_checkpoint,
)
from topolet.model.features import POD_LEVEL_RESOURCE_MANAGERS
from topolet.model.kubelet_config import KubeletConfig


def checkpoint_bytes(node: Node) -> tuple[bytes, bytes]:
    """The ``cpu_manager_state`` and ``memory_manager_state`` files this kubelet would write."""
    pod_level = node.gates.enabled(POD_LEVEL_RESOURCE_MANAGERS)
    cpu = dump_cpu_checkpoint(node.cpu_manager.state, cpu_checkpoint_version_for(pod_level))
    mem = dump_memory_checkpoint(node.memory_manager.state, 2 if pod_level else 1)
    return cpu, mem


def restart_node(node: Node, config: KubeletConfig) -> Node:
    """Start a new kubelet (possibly with another configuration) from the old one's checkpoints."""
    cpu_bytes, mem_bytes = checkpoint_bytes(node)
    cpu_state = load_cpu_checkpoint(cpu_bytes).state
    mem_state = load_memory_checkpoint(mem_bytes).state
    new = Node(
        node.topology, config, cpu_state=cpu_state, memory_state=mem_state, admission=node.admission, name=node.name
    )
    for rec in node.pods.values():
        pod = rec.pod
        for c in pod.all_containers():
            hint = node.affinity.get_affinity(pod.uid, c.name)
            new.affinity.set_affinity(pod.uid, c.name, hint)
        result = rec.result
        if result.admitted:
            result.containers = new.container_allocations(pod)
        new.register_running(pod, result)
    return new
