"""The checkpoint byte round trip of a kubelet restart (the engine takes and gives states only).

:func:`checkpoint_bytes` gives the ``cpu_manager_state`` and
``memory_manager_state`` files the running kubelet has on disk (in the format
of the kubelet that last wrote each: a kubelet that never wrote a file since it
started left the older kubelet's format there). :func:`read_checkpoints` reads
them as a starting kubelet 1.36 does (its feature gates decide the formats it
tries, so a V3 file written with PodLevelResourceManagers on is refused with
the gate off) and gives :class:`~topolet.engine.node.Checkpoints` to the
engine; a file it cannot restore becomes that manager's start-up error.
"""

from __future__ import annotations

from collections.abc import Sequence

from topolet.engine.node import ADMISSION_FULL, Checkpoints, Node
from topolet.engine.nodestatus import DEFAULT_NODE_NAME
from topolet.engine.restart import Admit, ManagerStates, RestartResult, manager_states, restart_node
from topolet.io.checkpoint import (
    CheckpointError,
    dump_cpu_checkpoint,
    dump_memory_checkpoint,
    load_cpu_checkpoint,
    load_memory_checkpoint,
)
from topolet.model.features import POD_LEVEL_RESOURCE_MANAGERS
from topolet.model.kubelet_config import KubeletConfig
from topolet.model.pod import Pod
from topolet.model.topology import Topology

KUBELET_ROOT_DIR = "/var/lib/kubelet"
CPU_STATE_FILE = "cpu_manager_state"
MEMORY_STATE_FILE = "memory_manager_state"


def state_bytes(states: ManagerStates) -> tuple[bytes, bytes]:
    """The two checkpoint files holding ``states`` in their formats."""
    cpu_v = states.cpu_version if states.cpu_version in (2, 3, 4) else 2
    mem_v = states.memory_version if states.memory_version in (1, 2, 3) else 1
    return dump_cpu_checkpoint(states.cpu, cpu_v), dump_memory_checkpoint(states.memory, mem_v)


def checkpoint_bytes(node: Node) -> tuple[bytes, bytes]:
    """The ``cpu_manager_state`` and ``memory_manager_state`` files this kubelet has on disk."""
    return state_bytes(manager_states(node))


def read_checkpoints(
    config: KubeletConfig,
    cpu_bytes: bytes | None,
    mem_bytes: bytes | None,
    directory: str = KUBELET_ROOT_DIR,
) -> Checkpoints:
    """Decode the files as a kubelet with ``config`` restores them (``None``: no file).

    Errors name the files under ``directory`` (the kubelet's root directory by default).
    """
    gate = config.feature_gates.enabled(POD_LEVEL_RESOURCE_MANAGERS)
    cp = Checkpoints()
    if cpu_bytes is not None:
        try:
            loaded = load_cpu_checkpoint(
                cpu_bytes,
                f"{directory}/{CPU_STATE_FILE}",
                pod_level_resource_managers=gate,
                policy_name=config.cpu_manager_policy,
            )
            cp.cpu, cp.cpu_version = loaded.state, loaded.version
        except CheckpointError as e:
            cp.cpu_error = e.message
    if mem_bytes is not None:
        try:
            loaded_m = load_memory_checkpoint(
                mem_bytes,
                f"{directory}/{MEMORY_STATE_FILE}",
                pod_level_resource_managers=gate,
                policy_name=config.memory_manager_policy,
            )
            cp.memory, cp.memory_version = loaded_m.state, loaded_m.version
        except CheckpointError as e:
            cp.memory_error = e.message
    return cp


def restart_from_files(
    topology: Topology,
    config: KubeletConfig,
    cpu_bytes: bytes | None,
    mem_bytes: bytes | None,
    running: Sequence[Pod],
    admit: Admit | None = None,
    directory: str = KUBELET_ROOT_DIR,
    *,
    admission: str = ADMISSION_FULL,
    name: str = DEFAULT_NODE_NAME,
    kubelet_version: str = "1.36",
) -> RestartResult:
    """A kubelet restart on checkpoint files: raises StartupError when the kubelet refuses."""
    cp = read_checkpoints(config, cpu_bytes, mem_bytes, directory)
    return restart_node(
        topology, config, cp, running, admit, admission=admission, name=name, kubelet_version=kubelet_version
    )


def restart_running_node(
    node: Node,
    running: Sequence[Pod],
    topology: Topology | None = None,
    config: KubeletConfig | None = None,
    admit: Admit | None = None,
) -> RestartResult:
    """Stop ``node``'s kubelet and start a new one (another configuration or machine, if given)
    on its checkpoint files."""
    cpu_b, mem_b = checkpoint_bytes(node)
    return restart_from_files(
        topology or node.topology,
        config or node.config,
        cpu_b,
        mem_b,
        running,
        admit,
        admission=node.admission,
        name=node.name,
    )
