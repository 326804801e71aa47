"""A simulated node: the kubelet's container manager with its topology, CPU and
memory managers, built in the kubelet's order and driven pod by pod.

Pure: no I/O, no printing. ``Node(topology, config)`` raises
:class:`~topolet.engine.errors.StartupError` where the kubelet would refuse to
start; ``node.admit(pod)`` returns an :class:`AdmitResult`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from topolet.engine.admission import (
    HANDLER_RESOURCE_MANAGERS,
    NodeUsage,
    Rejection,
    SysctlAllowlist,
    check_apparmor,
    check_pod_features,
    check_predicates,
    is_critical,
    pod_port_keys,
    pod_request_amounts,
    predicate_admit,
)
from topolet.engine.cpumanager.manager import CPUManager
from topolet.engine.cpumanager.policy_static import NoneCPUPolicy, StaticCPUPolicy
from topolet.engine.cpumanager.state import CPUManagerState
from topolet.engine.errors import AdmissionError, AllocationError, StartupError, admit_result_of
from topolet.engine.hint import AffinityStore
from topolet.engine.memorymanager.manager import MemoryManager
from topolet.engine.memorymanager.policy_none import NoneMemoryPolicy
from topolet.engine.memorymanager.policy_static import StaticMemoryPolicy
from topolet.engine.memorymanager.state import Block, MemoryManagerState
from topolet.engine.metrics import ManagerMetrics
from topolet.engine.nodestatus import DEFAULT_NODE_NAME, NodeObject, build_node_object
from topolet.engine.result import (
    EXCLUSIVE,
    NODE_SHARED,
    POD_SHARED,
    AdmitResult,
    ContainerAllocation,
    HeldAllocation,
    NodeSnapshot,
    NUMAUsage,
)
from topolet.engine.startup import StartupPlan, startup_checks
from topolet.engine.topologymanager.manager import AdmissionTrace, TopologyManager
from topolet.engine.topologymanager.policy import POLICY_NONE, NUMAInfo, new_policy
from topolet.model.features import POD_LEVEL_RESOURCE_MANAGERS, POD_LEVEL_RESOURCES, FeatureGates
from topolet.model.kubelet_config import KubeletConfig
from topolet.model.pod import Pod
from topolet.model.topology import Topology

ADMISSION_FULL = "full"
ADMISSION_RESOURCE_MANAGERS = "resourceManagers"
ADMISSION_MODES = (ADMISSION_FULL, ADMISSION_RESOURCE_MANAGERS)


class NodeError(ValueError):
    """A request the node cannot take (a pod that already exists, an unknown pod)."""


# the checkpoint formats kubelet 1.36 writes: CPU V3 / memory V2 with PodLevelResourceManagers on,
# else CPU V2 / memory V1
def cpu_checkpoint_version(pod_level_resource_managers: bool) -> int:
    return 3 if pod_level_resource_managers else 2


def memory_checkpoint_version(pod_level_resource_managers: bool) -> int:
    return 2 if pod_level_resource_managers else 1


@dataclass(slots=True)
class Checkpoints:
    """What the managers' checkpoint files give a starting kubelet, as decoded by the IO layer.

    A state of ``None`` is no file (the manager creates and writes a fresh state); an error is
    the kubelet's restore error for that file ("could not restore state from checkpoint: ...",
    raised when that manager starts, in the kubelet's order); a version is the format of the
    file found on disk (it stays until this kubelet writes the file).
    """

    cpu: CPUManagerState | None = None
    memory: MemoryManagerState | None = None
    cpu_error: str | None = None
    memory_error: str | None = None
    cpu_version: int = 0
    memory_version: int = 0


@dataclass(slots=True)
class PodRecord:
    pod: Pod
    result: AdmitResult


class LazyPodRecord:
    """A running pod registered by what the fit check counts of it (its request amounts and host
    ports, as :func:`pod_request_amounts` and :func:`pod_port_keys` give them); ``load()`` gives
    the pod and its result (a :class:`PodRecord`) on first use of :attr:`pod` or :attr:`result`.

    For a caller that keeps this summary with the pod (a node directory's index): starting a
    kubelet for one admission does not need every pod. Admission decisions are the same as with
    the pods themselves (the counts are the same); the result is built when first used.
    """

    __slots__ = ("_load", "_rec", "amounts", "key", "ports", "uid")

    def __init__(
        self,
        key: str,
        uid: str,
        amounts: dict[str, int],
        ports: list[tuple[str, str, int]],
        load: Callable[[], PodRecord],
    ) -> None:
        self.key, self.uid, self.amounts, self.ports = key, uid, amounts, ports
        self._load = load
        self._rec: PodRecord | None = None

    def record(self) -> PodRecord:
        if self._rec is None:
            self._rec = self._load()
        return self._rec

    @property
    def loaded(self) -> bool:
        return self._rec is not None

    @property
    def pod(self) -> Pod:
        return self.record().pod

    @property
    def result(self) -> AdmitResult:
        return self.record().result


class PodTable(dict[str, PodRecord]):
    """The node's pods by key; every change keeps ``usage`` (the fit check's ``NodeInfo``) in step,
    whoever makes it (admission, deletion, or a caller re-registering restored pods)."""

    def __init__(self, usage: NodeUsage, pod_level_resources: bool, items: dict[str, PodRecord] | None = None) -> None:
        super().__init__()
        self._usage = usage
        self._plr = pod_level_resources
        # counted pods: their request amounts and host ports
        self._counted: dict[str, tuple[dict[str, int], list[tuple[str, str, int]]]] = {}
        for k, v in (items or {}).items():
            self[k] = v

    def _uncount(self, key: str) -> None:
        counted = self._counted.pop(key, None)
        if counted is not None:
            self._usage.add(counted[0], counted[1], -1)

    def __setitem__(self, key: str, rec: PodRecord) -> None:
        self.put(key, rec)

    def put(self, key: str, rec: PodRecord, amounts: dict[str, int] | None = None) -> None:
        """Set ``key`` (``amounts``: the pod's request amounts, when the caller has them)."""
        self._uncount(key)
        super().__setitem__(key, rec)
        if isinstance(rec, LazyPodRecord) and not rec.loaded:  # a running pod, by its summary
            self._counted[key] = (rec.amounts, rec.ports)
            self._usage.add(rec.amounts, rec.ports)
        elif rec.result.admitted:
            if amounts is None:
                amounts = pod_request_amounts(rec.pod, self._plr)
            ports = pod_port_keys(rec.pod)
            self._counted[key] = (amounts, ports)
            self._usage.add(amounts, ports)

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self._uncount(key)

    _MISSING = object()

    def pop(self, key: str, default: object = _MISSING) -> PodRecord:  # type: ignore[override]
        if key in self:
            rec = self[key]
            del self[key]
            return rec
        if default is PodTable._MISSING:
            raise KeyError(key)
        return default  # type: ignore[return-value]

    def popitem(self) -> tuple[str, PodRecord]:
        key = next(reversed(self.keys()))
        return key, self.pop(key)

    def clear(self) -> None:
        for key in list(self):
            del self[key]

    def update(self, *args: object, **kwargs: PodRecord) -> None:  # type: ignore[override]
        for k, v in dict(*args, **kwargs).items():  # type: ignore[call-overload]
            self[k] = v

    def setdefault(self, key: str, default: PodRecord | None = None) -> PodRecord:  # type: ignore[override]
        if key not in self:
            assert default is not None
            self[key] = default
        return self[key]


class Node:
    """One kubelet on one machine."""

    @property
    def pods(self) -> PodTable:
        """The active pods (admitted, not deleted, not rejected) by ``namespace/name``."""
        return self._pods

    @pods.setter
    def pods(self, value: dict[str, PodRecord]) -> None:
        self.usage = NodeUsage()
        self._pods = PodTable(self.usage, self.pod_level_resources, dict(value))

    def __init__(
        self,
        topology: Topology,
        config: KubeletConfig,
        cpu_state: CPUManagerState | None = None,
        memory_state: MemoryManagerState | None = None,
        checkpoints: Checkpoints | None = None,
        *,
        admission: str = ADMISSION_FULL,
        name: str = DEFAULT_NODE_NAME,
    ) -> None:
        if admission not in ADMISSION_MODES:
            raise ValueError(f"admission must be one of {', '.join(ADMISSION_MODES)}, not {admission!r}")
        self.topology = topology
        self.config = config
        if checkpoints is None:
            checkpoints = Checkpoints(cpu_state, memory_state)
        self.checkpoints = checkpoints
        cpu_state, memory_state = checkpoints.cpu, checkpoints.memory
        self.admission = admission
        self.name = name
        plan: StartupPlan = startup_checks(config, topology)
        self.plan = plan
        self.gates: FeatureGates = plan.gates
        self.pod_level_resources = self.gates.enabled(POD_LEVEL_RESOURCES)
        # the Node object the kubelet registers; the sysctl allowlist (NewMainKubelet)
        self.node_object: NodeObject = build_node_object(name, topology, config, plan.capacity, plan.reservation)
        self.sysctls = SysctlAllowlist.build(config.allowed_unsafe_sysctls)
        self.usage = NodeUsage()  # the active pods' requests and host ports (NodeInfo)
        self.stale: list[tuple[Pod, AdmitResult]] = []  # rejected pods whose allocation awaits the sweep
        self.preempted: dict[str, str] = {}  # pods killed to admit a critical pod -> that pod
        self.affinity = AffinityStore()
        numa_info = NUMAInfo(list(topology.numa_ids), {n: topology.numa_nodes[n].distances for n in topology.numa_ids})
        tm_policy = new_policy(config.topology_manager_policy, numa_info, plan.topology_options.prefer_closest_numa)
        # this kubelet's resource-manager counters (a new kubelet starts from zero); the managers
        # increment them where kubelet 1.36.2 does
        self.metrics = ManagerMetrics(
            topology_policy_none=tm_policy.name == POLICY_NONE,
            cpu_static=config.cpu_manager_policy == "static",
            pod_level_resource_managers=self.gates.enabled(POD_LEVEL_RESOURCE_MANAGERS),
        )
        # the CPU manager
        if config.cpu_manager_policy == "static":
            assert plan.cpu_options is not None
            cpu_policy: StaticCPUPolicy | NoneCPUPolicy = StaticCPUPolicy(
                topology,
                plan.num_reserved_cpus,
                plan.reserved_cpus,
                self.affinity,
                plan.cpu_options,
                self.gates,
                metrics=self.metrics,
            )
        else:
            cpu_policy = NoneCPUPolicy()
        # the memory manager
        if config.memory_manager_policy == "Static":
            assert plan.memory_system_reserved is not None
            mem_policy: StaticMemoryPolicy | NoneMemoryPolicy = StaticMemoryPolicy(
                topology, plan.memory_system_reserved, self.affinity, self.gates, metrics=self.metrics
            )
        else:
            mem_policy = NoneMemoryPolicy()
        # the container manager starts the CPU manager, then the memory manager: each restores
        # its checkpoint (a file it cannot restore stops the kubelet), then validates it
        if checkpoints.cpu_error is not None:
            raise StartupError(f"start cpu manager error: {checkpoints.cpu_error}")
        self.cpu_manager = CPUManager(cpu_policy, cpu_state or CPUManagerState(), restored=cpu_state is not None)
        if checkpoints.memory_error is not None:
            raise StartupError(f"start memory manager error: {checkpoints.memory_error}")
        self.memory_manager = MemoryManager(
            mem_policy, memory_state or MemoryManagerState(), restored=memory_state is not None
        )
        self.topology_manager = TopologyManager(
            tm_policy,
            config.topology_manager_scope,
            self.affinity,
            [self.cpu_manager, self.memory_manager],
            self.gates.enabled(POD_LEVEL_RESOURCE_MANAGERS),
            self.metrics,
        )
        self._pods = PodTable(self.usage, self.pod_level_resources)
        # a restarted kubelet re-admitting the pods that run: no container is started again,
        # and what a rejected pod held stays until the stale-state sweep that ends the restart
        self.readmitting = False
        self._all_mems = 0
        for n in topology.numa_ids:
            self._all_mems |= 1 << n

    # -- admission ----------------------------------------------------------------
    def admit(self, pod: Pod, trace: bool = False, *, settle: bool = True) -> AdmitResult:
        """Admit a pod as stored by the API server (defaulted, QoS stamped).

        Under ``admission="full"`` the kubelet's admit handlers run in its order
        (sysctls, the resource managers, the node-fit predicates, AppArmor, pod
        features) and the first rejection is the answer; under
        ``"resourceManagers"`` only the resource managers run.

        A pod that the resource managers reject leaves no allocation behind. A pod
        that they admit and a later handler rejects keeps what they allocated
        (``result.held``) until their next stale-state sweep: with ``settle``
        (the default) the sweep runs before this returns, as the kubelet's
        reconcile loop does; else it stays in :attr:`stale` until
        :meth:`remove_stale_state` or the next admission.
        """
        if pod.key in self.pods and self.pods[pod.key].result.admitted:
            raise NodeError(f'pod "{pod.key}" already exists on the node')
        full = self.admission == ADMISSION_FULL
        amounts: dict[str, int] | None = None
        tr = AdmissionTrace() if trace else None

        def rejected(rej: Rejection) -> AdmitResult:
            return AdmitResult(
                pod.key,
                pod.uid,
                False,
                rej.reason,
                rej.message,
                pod.qos_class,
                trace=tr,
                handler=rej.handler,
                shortfall=rej.shortfall,
            )

        if full:
            rej = self.sysctls.admit(pod)
            if rej is not None:
                return rejected(rej)
        # the CPU and memory managers' Allocate begin with removeStaleState (not while a restarted
        # kubelet re-admits the pods that run: its sources are not ready yet)
        if not self.readmitting:
            self.remove_stale_state()
        try:
            self.topology_manager.admit(pod, tr)
        except (AdmissionError, AllocationError) as err:
            if not self.readmitting:
                self._remove_pod_state(pod)
            reason, message = admit_result_of(err)
            return AdmitResult(
                pod.key, pod.uid, False, reason, message, pod.qos_class, trace=tr, handler=HANDLER_RESOURCE_MANAGERS
            )
        if full:
            # the active pods, in admission order, matter only to a critical pod's preemption
            active = [rec.pod for rec in self.pods.values()] if is_critical(pod) else []
            amounts = pod_request_amounts(pod, self.pod_level_resources)
            verdict = predicate_admit(
                pod, self.node_object, active, self.pod_level_resources, self.usage, amounts=amounts
            )
            rej = verdict.rejection
            if rej is None and verdict.preempt:
                # the critical pod admission handler kills the victims, then the pod is admitted
                for victim in verdict.preempt:
                    self.delete(victim.key)
                    self.preempted[victim.key] = pod.key
            rej = rej or check_apparmor(pod) or check_pod_features(pod, self.pod_level_resources)
            if rej is not None:
                result = rejected(rej)
                result.held = self._held_allocation(pod)
                self.stale.append((pod, result))
                if settle and not self.readmitting:
                    self.remove_stale_state()
                return result
        result = AdmitResult(pod.key, pod.uid, True, qos=pod.qos_class, trace=tr)
        if full:
            result.preempted = [v.key for v in verdict.preempt]
        result.pod_cpus = self.cpu_manager.state.pod_assignments.get(pod.uid, 0)
        # what each container got, as allocated at admission
        result.containers = self.container_allocations(pod)
        if not self.readmitting:
            # the pod starts: its containers are added in order (memorymanager.AddContainer
            # frees the memory of init containers that ran to completion)
            for c in pod.all_containers():
                self.memory_manager.add_container(pod, c)
        self._pods.put(pod.key, PodRecord(pod, result), amounts)
        return result

    def register_running(self, pod: Pod, result: AdmitResult) -> None:
        """Record a pod that runs already (restored from checkpoints): it counts as active."""
        self.pods[pod.key] = PodRecord(pod, result)

    def register_running_summary(
        self,
        key: str,
        uid: str,
        amounts: dict[str, int],
        ports: list[tuple[str, str, int]],
        load: Callable[[], tuple[Pod, AdmitResult]],
    ) -> None:
        """:meth:`register_running` for a pod given by its request amounts and host ports (what the
        fit check counts, exactly as :func:`pod_request_amounts` and :func:`pod_port_keys` give
        them under this node's gates); ``load()`` gives the pod and its result when first used."""

        def record() -> PodRecord:
            return PodRecord(*load())

        self._pods.put(key, LazyPodRecord(key, uid, dict(amounts), list(ports), record))  # type: ignore[arg-type]

    def check_fit(self, pod: Pod) -> Rejection | None:
        """The node-fit predicates alone, against the active pods (no allocation, no change)."""
        return check_predicates(pod, self.node_object, (), self.pod_level_resources, self.usage)

    def _held_allocation(self, pod: Pod) -> HeldAllocation:
        cs = self.cpu_manager.state
        cpus = cs.pod_assignments.get(pod.uid, 0)
        for cset in cs.assignments.get(pod.uid, {}).values():
            cpus |= cset
        # only what is out of the shared pool is held (a pod-shared set lies in the bubble)
        cpus &= ~cs.default_cpuset
        ms = self.memory_manager.state
        blocks: list[Block] = []
        if pod.uid in ms.pod_assignments:
            blocks = [b.copy() for b in ms.pod_assignments[pod.uid]]
        else:
            for bl in ms.assignments.get(pod.uid, {}).values():
                blocks.extend(b.copy() for b in bl)
        return HeldAllocation(cpus, blocks)

    def remove_stale_state(self) -> list[AdmitResult]:
        """The managers' ``removeStaleState`` for the rejected pods still holding an allocation."""
        swept = []
        for pod, result in self.stale:
            self._remove_pod_state(pod)
            if result.held is not None:
                result.held.swept = True
            swept.append(result)
        self.stale.clear()
        return swept

    def delete(self, key: str) -> Pod:
        """Stop all of the pod's containers and remove it; its CPUs and memory return to the node."""
        rec = self.pods.pop(self._resolve(key), None)
        if rec is None:
            raise NodeError(f'pod "{key}" not found')
        self._remove_pod_state(rec.pod)
        return rec.pod

    def _resolve(self, key: str) -> str:
        if key in self.pods:
            return key
        if "/" not in key:
            matches = [k for k in self.pods if k.split("/", 1)[1] == key]
            if len(matches) == 1:
                return matches[0]
        return key

    def get(self, key: str) -> PodRecord | None:
        return self.pods.get(self._resolve(key))

    def _remove_pod_state(self, pod: Pod) -> None:
        """What the kubelet's removeStaleState does for a pod that is not active: remove every
        container from both managers (the memory manager's release order included)."""
        for c in pod.all_containers():
            self.cpu_manager.remove_container(pod.uid, c.name)
            self.memory_manager.remove_container(pod.uid, c.name)
        cs = self.cpu_manager.state
        bubble = cs.pod_assignments.get(pod.uid)
        if bubble is not None and not cs.assignments.get(pod.uid):
            # a bubble whose containers were never assigned: give it back too
            cs.default_cpuset |= bubble
            cs.delete_pod(pod.uid)
        self.affinity.remove_pod(pod.uid)

    def remove_inactive_state(self, active_uids: set[str] | None = None) -> list[str]:
        """``removeStaleState`` of both managers over their whole state: every container they hold
        state for that is not in an active pod is removed (a pod-level bubble goes with its last
        container). Active: the pods on the node (``active_uids`` when given). Returns the stale
        pod UIDs."""
        if active_uids is None:
            active_uids = {rec.pod.uid for rec in self.pods.values()}
        cs = self.cpu_manager.state
        ms = self.memory_manager.state
        stale = sorted((set(cs.assignments) | set(ms.assignments)) - active_uids)
        for uid in stale:
            for name in sorted(cs.assignments.get(uid, {})):
                self.cpu_manager.remove_container(uid, name)
            for name in sorted(ms.assignments.get(uid, {})):
                self.memory_manager.remove_container(uid, name)
            self.affinity.remove_pod(uid)
        return stale

    def checkpoint_versions(self) -> tuple[int, int]:
        """The formats of the ``cpu_manager_state`` and ``memory_manager_state`` files on disk now:
        this kubelet's format once it wrote the file, else the format of the file it restored."""
        gate = self.gates.enabled(POD_LEVEL_RESOURCE_MANAGERS)
        cpu = cpu_checkpoint_version(gate) if self.cpu_manager.written else self.checkpoints.cpu_version
        mem = memory_checkpoint_version(gate) if self.memory_manager.written else self.checkpoints.memory_version
        return cpu or cpu_checkpoint_version(gate), mem or memory_checkpoint_version(gate)

    # -- views --------------------------------------------------------------------
    def container_allocations(self, pod: Pod) -> list[ContainerAllocation]:
        """What each container of an admitted pod sees now."""
        cs = self.cpu_manager.state
        ms = self.memory_manager.state
        policy = self.cpu_manager.policy
        static_cpu = isinstance(policy, StaticCPUPolicy)
        bubble = cs.pod_assignments.get(pod.uid)
        out: list[ContainerAllocation] = []
        per_pod = cs.assignments.get(pod.uid, {})
        for c in pod.all_containers():
            kind = "app"
            if c in pod.init_containers:
                kind = "sidecar" if c.is_restartable else "init"
            if not static_cpu:
                cpus, mode = self.topology.all_cpus, NODE_SHARED
            else:
                cset = per_pod.get(c.name)
                if cset is None:
                    cpus, mode = cs.default_cpuset, NODE_SHARED
                elif (
                    bubble is not None and isinstance(policy, StaticCPUPolicy) and (policy.guaranteed_cpus(pod, c) == 0)
                ):
                    cpus, mode = cset, POD_SHARED
                else:
                    cpus, mode = cset, EXCLUSIVE
            blocks = ms.assignments.get(pod.uid, {}).get(c.name)
            mems = 0
            if blocks:
                for b in blocks:
                    for n in b.numa_affinity:
                        mems |= 1 << n
            out.append(
                ContainerAllocation(
                    name=c.name,
                    kind=kind,
                    cpus=cpus,
                    mems=mems or self._all_mems,
                    memory=[Block(list(b.numa_affinity), b.type, b.size) for b in blocks or []],
                    cpu_mode=mode,
                    memory_pinned=bool(blocks),
                )
            )
        return out

    def snapshot(self) -> NodeSnapshot:
        cs = self.cpu_manager.state
        ms = self.memory_manager.state
        cpu_policy = self.cpu_manager.policy
        reserved = getattr(cpu_policy, "reserved_cpus", 0)
        numa: list[NUMAUsage] = []
        for n in self.topology.numa_ids:
            cpus = self.topology.numa_cpus.get(n, 0)
            ns = ms.machine_state.get(n)
            numa.append(
                NUMAUsage(
                    numa=n,
                    cpus=cpus,
                    free_cpus=cpus & cs.default_cpuset if cs.default_cpuset else cpus,
                    memory={k: v.copy() for k, v in ns.memory_map.items()} if ns else {},
                )
            )
        return NodeSnapshot(
            cpu_policy=self.cpu_manager.policy.name,
            memory_policy=self.memory_manager.policy.name,
            default_cpuset=cs.default_cpuset,
            reserved_cpus=reserved,
            assignments={p: dict(c) for p, c in cs.assignments.items()},
            pod_cpus=dict(cs.pod_assignments),
            numa=numa,
            memory_assignments={
                p: {c: [b.copy() for b in bl] for c, bl in cc.items()} for p, cc in ms.assignments.items()
            },
            pod_memory={p: [b.copy() for b in bl] for p, bl in ms.pod_assignments.items()},
        )

    def free_memory(self) -> dict[int, dict[str, int]]:
        return {
            n: {r: t.free for r, t in st.memory_map.items()}
            for n, st in self.memory_manager.state.machine_state.items()
        }
