"""Copies of a node for what-if admissions: the node the user owns is never touched.

:func:`copy_node` gives an independent node in the same state (the managers'
state, the topology manager's stored affinities and the pod records);
:func:`node_with_config` gives the same pods and assignments under another
kubelet configuration. Both are pure.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

from topolet.engine.cpumanager.state import CPUManagerState
from topolet.engine.memorymanager.state import MemoryManagerState
from topolet.engine.node import Node
from topolet.model.kubelet_config import GoParseError, KubeletConfig, go_parse_bool


def _clone_records(src: Node, dst: Node) -> None:
    dst.affinity.hints = {uid: dict(h) for uid, h in src.affinity.hints.items()}
    for rec in src.pods.values():
        dst.register_running(rec.pod, copy.copy(rec.result))


def _with_state(node: Node, config: KubeletConfig, cpu_state: CPUManagerState, mem_state: MemoryManagerState) -> Node:
    """A kubelet started with ``config`` that holds the given manager state and ``node``'s pods.

    The state is put in place after start-up rather than restored through the
    start-up validation: this is the node as if it had run with ``config`` all
    along (a real restart may refuse some changes until the node is drained,
    for example any restart under strict-cpu-reservation in 1.36).
    """
    new = Node(node.topology, config, admission=node.admission, name=node.name)
    cpu_state.policy_name = new.cpu_manager.state.policy_name
    mem_state.policy_name = new.memory_manager.state.policy_name
    new.cpu_manager.state = cpu_state
    new.memory_manager.state = mem_state
    _clone_records(node, new)
    return new


def copy_node(node: Node) -> Node:
    """An independent copy of ``node`` (same configuration, same state, same pods)."""
    try:
        return _with_state(node, node.config, node.cpu_manager.state.clone(), node.memory_manager.state.clone())
    except Exception:  # pragma: no cover - defensive: fall back on the exact copy
        return copy.deepcopy(node, {id(node.topology): node.topology})


def node_with_config(node: Node, config: KubeletConfig) -> Node:
    """The node run with another kubelet configuration: same pods, same CPU and memory assignments.

    Raises :class:`~topolet.engine.errors.StartupError` when that kubelet would
    not start. A change of ``strict-cpu-reservation`` moves the reserved CPUs
    out of or into the shared pool. The CPU and memory manager policies must
    stay the same (their state would not carry over).
    """
    cpu_state = node.cpu_manager.state.clone()
    mem_state = node.memory_manager.state.clone()
    reserved = getattr(node.cpu_manager.policy, "reserved_cpus", 0)
    old_strict = _strict(node.config)
    new_strict = _strict(config)
    if reserved and old_strict and not new_strict:
        cpu_state.default_cpuset |= reserved
    elif reserved and new_strict and not old_strict:
        cpu_state.default_cpuset &= ~reserved
    return _with_state(node, config, cpu_state, mem_state)


def _strict(config: KubeletConfig) -> bool:
    if config.cpu_manager_policy != "static":
        return False
    try:
        return go_parse_bool(str(config.cpu_manager_policy_options.get("strict-cpu-reservation", "false")))
    except GoParseError:
        return False


def config_with(config: KubeletConfig, **changes: Any) -> KubeletConfig:
    """A copy of ``config`` with fields replaced (dicts copied so the original is untouched)."""
    new = dataclasses.replace(config, **changes)
    if "cpu_manager_policy_options" not in changes:
        new.cpu_manager_policy_options = dict(config.cpu_manager_policy_options)
    if "topology_manager_policy_options" not in changes:
        new.topology_manager_policy_options = dict(config.topology_manager_policy_options)
    return new
