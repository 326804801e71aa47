"""A kubelet restart, as kubelet 1.36.2 does it (conformance/FORMAT.md "restart").

1. A new kubelet starts from its configuration, the machine and the managers'
   checkpoints (:class:`~topolet.engine.node.Checkpoints`: the IO layer reads
   and decodes the files; the engine takes and gives states only). Every check
   of a first start runs, then each manager restores and validates its state:
   a refusal raises :class:`~topolet.engine.errors.StartupError`.
2. The pods that were running come back from the API server and are admitted
   again, one by one in creation order, each against the pods re-admitted
   before it. What the managers find in their checkpoints for a container is
   kept; the rest is allocated anew. Kubelet 1.36.2 allocates a pod's
   pod-level CPUs and memory again (``AllocatePod`` ignores the restored pod
   entry: kubernetes issues 140989 and 140906, fixed in 1.37), so a running
   pod may move to other CPUs (its old ones then belong to nobody: in no pool,
   in no assignment, and the next restart refuses to start), have its memory
   counted twice, or be rejected (Failed, its containers killed).
3. Stale state is dropped: what the rejected pods held goes back to the node.

No I/O here: :func:`manager_states` gives what the old kubelet's checkpoints
hold, :func:`restart_node` takes what the new kubelet reads from them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from topolet.engine.admission import HANDLER_RESOURCE_MANAGERS
from topolet.engine.cpumanager.state import CPUManagerState
from topolet.engine.errors import StartupError
from topolet.engine.memorymanager.state import MemoryManagerState
from topolet.engine.node import ADMISSION_FULL, Checkpoints, Node
from topolet.engine.nodestatus import DEFAULT_NODE_NAME
from topolet.engine.result import AdmitResult
from topolet.model.kubelet_config import KubeletConfig
from topolet.model.pod import Pod
from topolet.model.topology import Topology

ISSUE_CPU = "kubernetes#140989"
ISSUE_MEMORY = "kubernetes#140906"
FIXED_IN = "1.37"

# what happened to a running pod at a restart
MOVED = "moved"  # re-admitted on other CPUs (its pod-level CPUs allocated again)
REJECTED = "rejected"  # rejected at re-admission: Failed, containers killed
MEMORY_TWICE = "memory-counted-twice"  # its pod-level memory applied again

Admit = Callable[[Node, Pod], AdmitResult]


@dataclass(slots=True)
class ManagerStates:
    """What the old kubelet's checkpoint files hold: the states and the formats they are in."""

    cpu: CPUManagerState
    memory: MemoryManagerState
    cpu_version: int
    memory_version: int


def manager_states(node: Node) -> ManagerStates:
    """The managers' states as the kubelet last wrote them (copies) and the files' formats."""
    cpu_v, mem_v = node.checkpoint_versions()
    return ManagerStates(node.cpu_manager.state.clone(), node.memory_manager.state.clone(), cpu_v, mem_v)


@dataclass(slots=True)
class RestartNote:
    """Where kubelet 1.36.2's re-admission bug hit a running pod (for explain and describe)."""

    pod: str  # namespace/name
    uid: str
    kind: str  # MOVED, REJECTED or MEMORY_TWICE
    old_cpus: int = 0  # the pod-level CPUs before the restart
    new_cpus: int = 0  # after (0 when rejected)
    leaked_cpus: int = 0  # old CPUs that now belong to nobody
    reason: str = ""
    message: str = ""

    @property
    def issues(self) -> str:
        return ISSUE_MEMORY if self.kind == MEMORY_TWICE else f"{ISSUE_CPU}, {ISSUE_MEMORY}"

    def describe(self) -> str:
        """One sentence a user reads next to the pod."""
        from topolet.model.cpuset import format_bits

        if self.kind == MOVED:
            text = (
                f"moved by the kubelet restart from CPUs {format_bits(self.old_cpus)} to "
                f"{format_bits(self.new_cpus)}: kubelet 1.36 allocates a running pod's pod-level CPUs "
                f"again when it re-admits it ({ISSUE_CPU})"
            )
            if self.leaked_cpus:
                text += (
                    f"; CPUs {format_bits(self.leaked_cpus)} leaked (in no pool and no assignment): "
                    "the next kubelet restart refuses to start until the node is drained"
                )
        elif self.kind == REJECTED:
            text = (
                f"rejected when the restarted kubelet re-admitted it ({self.reason}: {self.message}); it was "
                "set to Failed and its containers killed: kubelet 1.36 allocates a running pod's pod-level "
                f"CPUs and memory again at re-admission ({ISSUE_CPU}, {ISSUE_MEMORY})"
            )
        else:
            text = (
                "its pod-level memory was applied again by the restarted kubelet and is counted twice in "
                f"the memory manager's state ({ISSUE_MEMORY}); the next kubelet restart refuses to start "
                "(the expected machine state is different from the real one)"
            )
        return text + f"; fixed in kubelet {FIXED_IN}"


@dataclass(slots=True)
class Readmission:
    pod: Pod
    result: AdmitResult  # the re-admission verdict (allocations as settled after the restart)


@dataclass(slots=True)
class RestartResult:
    node: Node
    pods: list[Readmission] = field(default_factory=list)  # every pod that was running, in creation order
    notes: list[RestartNote] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)  # pod UIDs whose state was dropped

    def readmission(self, key: str) -> Readmission | None:
        for r in self.pods:
            if r.result.pod == key or r.pod.name == key:
                return r
        return None

    @property
    def leaked_cpus(self) -> int:
        return leaked_cpus(self.node)


def _default_admit(node: Node, pod: Pod) -> AdmitResult:
    return node.admit(pod)


def _keep(node: Node, pod: Pod) -> AdmitResult:
    """A running pod whose restored pod-level entries the kubelet keeps (1.37): registered as it is."""
    result = AdmitResult(pod.key, pod.uid, True, qos=pod.qos_class)
    node.register_running(pod, result)
    return result


def leaked_cpus(node: Node) -> int:
    """CPUs of the machine that are in no pool and in no assignment (static policy), e.g. the old
    pod-level CPUs of a pod that kubelet 1.36 moved at a restart."""
    cs = node.cpu_manager.state
    if node.cpu_manager.policy.name != "static":
        return 0
    known = cs.default_cpuset
    for containers in cs.assignments.values():
        for cset in containers.values():
            known |= cset
    for cset in cs.pod_assignments.values():
        known |= cset
    return node.topology.all_cpus & ~known


def restart_node(
    topology: Topology,
    config: KubeletConfig,
    checkpoints: Checkpoints,
    running: Sequence[Pod],
    admit: Admit | None = None,
    *,
    admission: str = ADMISSION_FULL,
    name: str = DEFAULT_NODE_NAME,
    kubelet_version: str = "1.36",
) -> RestartResult:
    """Start a kubelet on ``checkpoints`` and re-admit the ``running`` pods (in creation order).

    Raises :class:`~topolet.engine.errors.StartupError` when the kubelet refuses to start.
    ``admit`` is the kubelet's admission of one pod (default: ``Node.admit``, with the node's
    ``admission`` mode); ``name`` is the node's name. ``kubelet_version`` "1.37" keeps a pod's
    restored pod-level CPUs and memory (the fix of kubernetes#140989 / #140906: such a pod keeps
    its assignments; the other pods are re-admitted as in 1.36).
    """
    node = Node(topology, config, checkpoints=checkpoints, admission=admission, name=name)
    admit_fn = admit or _default_admit
    cs = node.cpu_manager.state
    ms = node.memory_manager.state
    before_cpus = {p.uid: cs.pod_assignments.get(p.uid, 0) for p in running}
    before_mem = {p.uid: ms.pod_assignments.get(p.uid) for p in running}
    out = RestartResult(node)
    node.readmitting = True
    try:
        for pod in running:
            if kubelet_version != "1.36" and (before_cpus.get(pod.uid) or before_mem.get(pod.uid)):
                result = _keep(node, pod)
            else:
                result = admit_fn(node, pod)
            out.pods.append(Readmission(pod, result))
    finally:
        node.readmitting = False
    # a rejected pod is Failed, its containers are killed: its state goes as stale state
    node.remove_stale_state()
    out.stale = node.remove_inactive_state()
    leaked = leaked_cpus(node)
    for r in out.pods:
        pod, result = r.pod, r.result
        if result.admitted:
            # what each container runs with once the restart has settled (the reconcile loop
            # applies the shared pool as it is now)
            result.pod_cpus = cs.pod_assignments.get(pod.uid, 0)
            result.containers = node.container_allocations(pod)
        old = before_cpus.get(pod.uid, 0)
        if not result.admitted:
            # the bug: the resource managers refuse to allocate the pod's pod-level resources again
            # (a later handler's rejection, e.g. OutOfpods, is an ordinary one)
            if (old or before_mem.get(pod.uid)) and result.handler in ("", HANDLER_RESOURCE_MANAGERS):
                out.notes.append(
                    RestartNote(result.pod, pod.uid, REJECTED, old, 0, old & leaked, result.reason, result.message)
                )
            continue
        if old and result.pod_cpus != old:
            out.notes.append(RestartNote(result.pod, pod.uid, MOVED, old, result.pod_cpus, old & leaked))
        old_mem = before_mem.get(pod.uid)
        if old_mem and ms.pod_assignments.get(pod.uid) is not old_mem:
            out.notes.append(RestartNote(result.pod, pod.uid, MEMORY_TWICE))
    return out


def resume_node(
    topology: Topology,
    config: KubeletConfig,
    checkpoints: Checkpoints,
    *,
    admission: str = ADMISSION_FULL,
    name: str = DEFAULT_NODE_NAME,
) -> Node:
    """The same kubelet going on (not a restart): a kubelet with ``config`` holding the checkpointed
    state as it is. Its start-up checks of the configuration run; the state is put in place without
    the managers' restore validation (it was validated when this kubelet started)."""
    node = Node(
        topology,
        config,
        checkpoints=Checkpoints(cpu_version=checkpoints.cpu_version, memory_version=checkpoints.memory_version),
        admission=admission,
        name=name,
    )
    if checkpoints.cpu is not None:
        checkpoints.cpu.policy_name = node.cpu_manager.state.policy_name
        node.cpu_manager.state = checkpoints.cpu
        node.cpu_manager.written = False
    if checkpoints.memory is not None:
        checkpoints.memory.policy_name = node.memory_manager.state.policy_name
        node.memory_manager.state = checkpoints.memory
        node.memory_manager.written = False
    return node


def _same_checkpoints(node: Node) -> Checkpoints:
    """What a restarted kubelet with the same configuration restores: the states as they are."""
    cpu_v, mem_v = node.checkpoint_versions()
    return Checkpoints(
        node.cpu_manager.state.clone(), node.memory_manager.state.clone(), cpu_version=cpu_v, memory_version=mem_v
    )


def next_restart_refusal(node: Node) -> str | None:
    """The error with which a restart of this kubelet (same configuration, same machine) would stop
    on its checkpoints, or None (e.g. CPUs leaked or memory counted twice by 1.36.2's restart bug)."""
    try:
        Node(node.topology, node.config, checkpoints=_same_checkpoints(node), admission=node.admission, name=node.name)
    except StartupError as e:
        return str(e)
    return None


def simulate_restart(node: Node, admit: Admit | None = None) -> RestartResult:
    """A restart of this kubelet (same configuration, same machine) on copies of its state: what
    1.36.2 would do to the running pods. ``node`` is not changed. Raises StartupError when the
    restarted kubelet would refuse to start."""
    running = [rec.pod for rec in node.pods.values() if rec.result.admitted]
    return restart_node(
        node.topology, node.config, _same_checkpoints(node), running, admit, admission=node.admission, name=node.name
    )


def record_pods(result: RestartResult) -> None:
    """Make the re-admitted pods the node's pods (``admit`` functions that do not record them)."""
    node = result.node
    for r in result.pods:
        if r.result.admitted and r.result.pod not in node.pods:
            node.register_running(r.pod, r.result)
