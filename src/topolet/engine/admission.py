"""The kubelet's admit handlers other than the resource managers (pure).

``NewMainKubelet`` registers them with the allocation manager in this order,
and ``canAdmitPod`` stops at the first one that rejects:

1. pod resize (resizes only), 2. eviction manager (node pressure: not modelled),
3. sysctls (:func:`check_sysctls`), 4. resource allocation -- the topology,
CPU and memory managers (in :mod:`topolet.engine.node`), 5. the node-fit
predicates (:func:`check_predicates`: lifecycle/predicate.go), 6. AppArmor
(:func:`check_apparmor`), 7. pod features (:func:`check_pod_features`),
8. declared node features (a node declares every feature of its own version:
nothing to reject), 9. node shutdown (never here).

Each check returns ``None`` (admit) or a :class:`Rejection`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from topolet.engine.errors import StartupError
from topolet.engine.nodestatus import EPHEMERAL_STORAGE, PODS, NodeObject, amount
from topolet.model.pod import CPU, MEMORY, Pod
from topolet.model.quantity import Quantity
from topolet.model.scheduling import (
    LABEL_OS,
    NO_EXECUTE,
    required_affinity_matches,
    untolerated_taint,
)

# handler names, as explain and the renderers say them
HANDLER_SYSCTL = "sysctl"
HANDLER_RESOURCE_MANAGERS = "resource managers"
HANDLER_PREDICATES = "node fit"
HANDLER_APPARMOR = "AppArmor"
HANDLER_POD_FEATURES = "pod features"

# reasons (lifecycle/predicate.go, sysctl, handlers.go)
SYSCTL_FORBIDDEN = "SysctlForbidden"
POD_OS_SELECTOR_MISMATCH = "PodOSSelectorNodeLabelDoesNotMatch"
POD_OS_NOT_SUPPORTED = "PodOSNotSupported"
SUPPLEMENTAL_GROUPS_NOT_SUPPORTED = "SupplementalGroupsPolicyNotSupported"
OUT_OF_PREFIX = "OutOf"
APPARMOR = "AppArmor"
POD_LEVEL_RESOURCES_NOT_SUPPORTED = "PodLevelResourcesNotSupported"

NODE_AFFINITY = "NodeAffinity"
NODE_NAME = "NodeName"
NODE_PORTS = "NodePorts"
TAINT_TOLERATION = "TaintToleration"
ERR_NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector"
ERR_NODE_NAME = "node(s) didn't match the requested node name"
ERR_NODE_PORTS = "node(s) didn't have free ports for the requested pod ports"
ERR_TAINT_TOLERATION = "node(s) had taints that the pod didn't tolerate"

SYSTEM_CRITICAL_PRIORITY = 2_000_000_000  # scheduling.SystemCriticalPriority
UNEXPECTED_ADMISSION_ERROR = "UnexpectedAdmissionError"

# sysctl/safe_sysctls.go (a kernel new enough for every entry)
SAFE_SYSCTLS = (
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
    "net.ipv4.tcp_rmem",
    "net.ipv4.tcp_wmem",
)
_IPC_NAMES = (
    "kernel.sem",
    "kernel.shmall",
    "kernel.shmmax",
    "kernel.shmmni",
    "kernel.shm_rmid_forced",
    "kernel.shm",
    "kernel.msgmax",
    "kernel.msgmnb",
    "kernel.msgmni",
    "kernel.msg",
)
IPC, NET = "IPC", "Net"


@dataclass(frozen=True, slots=True)
class Shortfall:
    """An ``InsufficientResourceError``: what the pod asked for against what was left."""

    resource: str
    requested: int
    used: int
    capacity: int  # allocatable

    @property
    def free(self) -> int:
        return self.capacity - self.used

    @property
    def short(self) -> int:
        """``GetInsufficientAmount``: requested - (capacity - used)."""
        return self.requested - self.free

    @property
    def reason(self) -> str:
        return OUT_OF_PREFIX + self.resource

    @property
    def message(self) -> str:
        return (
            f"Node didn't have enough resource: {self.resource}, requested: {self.requested}, "
            f"used: {self.used}, capacity: {self.capacity}"
        )


@dataclass(frozen=True, slots=True)
class Rejection:
    handler: str
    reason: str
    message: str
    shortfall: Shortfall | None = None


# -- 3. sysctls -------------------------------------------------------------------------------
def _normalize_sysctl(name: str) -> str:
    """``sysctl.NormalizeName``: ``net/ipv4/conf/eno2.100/rp_filter`` -> ``net.ipv4.conf.eno2/100.rp_filter``."""
    for ch in name:
        if ch in "./":
            if ch == ".":
                return name
            return name.translate(str.maketrans("./", "/."))
    return name


def _namespace_of(name: str) -> str:
    if name in _IPC_NAMES:
        return IPC
    if name.startswith("net."):
        return NET
    if name.startswith("fs.mqueue."):
        return IPC
    return ""


@dataclass(slots=True)
class SysctlAllowlist:
    """``sysctl.NewAllowlist(safe + allowedUnsafeSysctls)``."""

    names: dict[str, str]
    prefixes: dict[str, str]

    @classmethod
    def build(cls, allowed_unsafe: Iterable[str]) -> SysctlAllowlist:
        names: dict[str, str] = {}
        prefixes: dict[str, str] = {}
        for pattern in (*SAFE_SYSCTLS, *allowed_unsafe):
            s = _normalize_sysctl(pattern)
            prefixed = "*" in s
            if prefixed:
                s = s[: s.index("*")]
            ns = _namespace_of(s)
            if not ns:
                raise StartupError(f'the sysctls "{s}" are not known to be namespaced')
            (prefixes if prefixed else names)[s] = ns
        return cls(names, prefixes)

    def _validate(self, name: str, host_net: bool, host_ipc: bool) -> str | None:
        s = _normalize_sysctl(name)
        ns = self.names.get(s)
        if ns is None:
            for p, pns in self.prefixes.items():
                if s.startswith(p):
                    ns = pns
                    break
        if ns is None:
            return f'"{s}" not allowlisted'
        if ns == IPC and host_ipc:
            return f'"{s}" not allowed with host {ns} enabled'
        if ns == NET and host_net:
            return f'"{s}" not allowed with host {ns} enabled'
        return None

    def admit(self, pod: Pod) -> Rejection | None:
        for name, _value in pod.sysctls:
            err = self._validate(name, pod.host_network, pod.host_ipc)
            if err is not None:
                return Rejection(HANDLER_SYSCTL, SYSCTL_FORBIDDEN, f"forbidden sysctl: {err}")
        return None


# -- 5. node-fit predicates -------------------------------------------------------------------
def _add(dst: dict[str, Quantity], src: dict[str, Quantity]) -> None:
    for k, v in src.items():
        dst[k] = dst[k].add(v) if k in dst else v


def _max(dst: dict[str, Quantity], src: dict[str, Quantity]) -> None:
    for k, v in src.items():
        if k not in dst or v.value > dst[k].value:
            dst[k] = v


def _supported_pod_level(name: str) -> bool:
    return name in (CPU, MEMORY) or name.startswith("hugepages-")


def pod_requests(pod: Pod, pod_level_resources: bool) -> dict[str, Quantity]:
    """``resource.PodRequests`` (no overhead): the sidecar-KEP aggregate of the containers'
    requests, the pod-level requests replacing cpu, memory and hugepages-* when the gate
    PodLevelResources is on and ``spec.resources.requests`` sets one of them."""
    if len(pod.containers) == 1 and not pod.init_containers:
        total = dict(pod.containers[0].resources.requests)  # the common case, without the sums
    else:
        total = _aggregate_requests(pod)
    r = pod.resources
    if pod_level_resources and r is not None and any(_supported_pod_level(k) for k in r.requests):
        for k, v in r.requests.items():
            if _supported_pod_level(k):
                total[k] = v
    return total


def _aggregate_requests(pod: Pod) -> dict[str, Quantity]:
    """``AggregateContainerRequests``: the sidecar-KEP formula."""
    total: dict[str, Quantity] = {}
    for c in pod.containers:
        _add(total, c.resources.requests)
    restartable: dict[str, Quantity] = {}
    init: dict[str, Quantity] = {}
    for c in pod.init_containers:
        if c.is_restartable:
            _add(total, c.resources.requests)
            _add(restartable, c.resources.requests)
            cur = dict(restartable)
        else:
            cur = dict(c.resources.requests)
            _add(cur, restartable)
        _max(init, cur)
    _max(total, init)
    return total


def pod_request_amounts(pod: Pod, pod_level_resources: bool) -> dict[str, int]:
    """The pod's requests as the scheduler's integers (``Resource.Add``: cpu in millicores)."""
    return {k: amount(k, q) for k, q in pod_requests(pod, pod_level_resources).items()}


def _is_extended(name: str) -> bool:
    """``IsExtendedResourceName``: a domain-qualified name outside kubernetes.io (and not requests.*)."""
    if "/" not in name or name.startswith("requests."):
        return False
    domain = name.split("/", 1)[0]
    return not (domain == "kubernetes.io" or domain.endswith(".kubernetes.io"))


def _is_scalar(name: str) -> bool:
    """``IsScalarResourceName``: extended, hugepages-*, attachable-volumes-* or prefixed native."""
    return (
        _is_extended(name)
        or name.startswith("hugepages-")
        or name.startswith("attachable-volumes-")
        or ("/" in name and name.split("/", 1)[0].endswith("kubernetes.io"))
    )


@dataclass(slots=True)
class NodeUsage:
    """``NodeInfo`` of the other pods: their number, summed requests and the host ports in use."""

    pods: int = 0
    requested: dict[str, int] = field(default_factory=dict)
    ports: dict[tuple[str, str, int], int] = field(default_factory=dict)

    def update(self, pod: Pod, pod_level_resources: bool, sign: int = 1, amounts: dict[str, int] | None = None) -> None:
        """``NodeInfo.update``: add (sign 1) or remove (sign -1) a pod (``amounts``: its
        :func:`pod_request_amounts`, when the caller has them)."""
        if amounts is None:
            amounts = pod_request_amounts(pod, pod_level_resources)
        self.add(amounts, pod_port_keys(pod), sign)

    def add(self, amounts: dict[str, int], ports: Iterable[tuple[str, str, int]], sign: int = 1) -> None:
        """Add (sign 1) or remove (sign -1) a pod given by its request amounts and :func:`pod_port_keys`."""
        self.pods += sign
        for k, v in amounts.items():
            if k in (CPU, MEMORY, EPHEMERAL_STORAGE) or _is_scalar(k):
                self.requested[k] = self.requested.get(k, 0) + sign * v
        for key in ports:
            n = self.ports.get(key, 0) + sign
            if n > 0:
                self.ports[key] = n
            else:
                self.ports.pop(key, None)


def pod_port_keys(pod: Pod) -> list[tuple[str, str, int]]:
    """The host ports a pod uses, as ``NodeInfo`` counts them (sanitized ip, protocol, port)."""
    return [hp.sanitized() for hp in pod.host_ports()]


def node_usage(pods: Iterable[Pod], pod_level_resources: bool) -> NodeUsage:
    usage = NodeUsage()
    for p in pods:
        usage.update(p, pod_level_resources)
    return usage


def _port_conflict(used: dict[tuple[str, str, int], int], want: tuple[str, str, int]) -> bool:
    """``HostPortInfo.CheckConflict``: 0.0.0.0 conflicts with every IP of the same protocol/port."""
    ip, proto, port = want
    if ip == "0.0.0.0":
        return any(u[1] == proto and u[2] == port for u in used)
    return (ip, proto, port) in used or ("0.0.0.0", proto, port) in used


def fit_shortfalls(
    pod: Pod, node: NodeObject, usage: NodeUsage, pod_level_resources: bool, amounts: dict[str, int] | None = None
) -> list[Shortfall]:
    """``noderesources.Fits`` (after ``removeMissingExtendedResources``): every resource short."""
    out: list[Shortfall] = []
    allowed = node.allocatable_of(PODS)
    if usage.pods + 1 > allowed:
        out.append(Shortfall(PODS, 1, usage.pods, allowed))
    reqs = amounts if amounts is not None else pod_request_amounts(pod, pod_level_resources)
    # extended resources the node does not have are dropped (cluster-level resources)
    reqs = {k: v for k, v in reqs.items() if not (_is_extended(k) and k not in node.allocatable)}
    scalars = {k: v for k, v in reqs.items() if _is_scalar(k)}
    cpu, mem, eph = reqs.get(CPU, 0), reqs.get(MEMORY, 0), reqs.get(EPHEMERAL_STORAGE, 0)
    if cpu == 0 and mem == 0 and eph == 0 and not scalars:
        return out
    for name, want in ((CPU, cpu), (MEMORY, mem), (EPHEMERAL_STORAGE, eph)):
        used = usage.requested.get(name, 0)
        cap = node.allocatable_of(name)
        if want > 0 and want > cap - used:
            out.append(Shortfall(name, want, used, cap))
    for name in sorted(scalars):  # a Go map: no fixed order; topolet reports them sorted
        want = scalars[name]
        if want == 0:
            continue
        used = usage.requested.get(name, 0)
        cap = node.allocatable_of(name)
        if want > cap - used:
            out.append(Shortfall(name, want, used, cap))
    return out


def general_filter(
    pod: Pod, node: NodeObject, usage: NodeUsage, pod_level_resources: bool, amounts: dict[str, int] | None = None
) -> list[Rejection]:
    """``generalFilter`` (``AdmissionCheck`` with every failure, then NoExecute taints): all reasons, in order."""
    out = [
        Rejection(HANDLER_PREDICATES, s.reason, s.message, s)
        for s in fit_shortfalls(pod, node, usage, pod_level_resources, amounts)
    ]
    if not required_affinity_matches(pod.node_selector, pod.node_affinity, node.labels, node.name):
        out.append(_predicate(NODE_AFFINITY, ERR_NODE_AFFINITY))
    if pod.node_name and pod.node_name != node.name:
        out.append(_predicate(NODE_NAME, ERR_NODE_NAME))
    if any(_port_conflict(usage.ports, hp.sanitized()) for hp in pod.host_ports()):
        out.append(_predicate(NODE_PORTS, ERR_NODE_PORTS))
    # the kubelet checks only NoExecute taints (static pods are not checked; none here)
    if untolerated_taint(node.taints, pod.tolerations, (NO_EXECUTE,)) is not None:
        out.append(_predicate(TAINT_TOLERATION, ERR_TAINT_TOLERATION))
    return out


@dataclass(frozen=True, slots=True)
class FitVerdict:
    """The predicate handler's answer: a rejection, or admit (after preempting ``preempt`` for a critical pod)."""

    rejection: Rejection | None = None
    preempt: tuple[Pod, ...] = ()


def check_predicates(
    pod: Pod,
    node: NodeObject,
    others: Sequence[Pod],
    pod_level_resources: bool,
    usage: NodeUsage | None = None,
) -> Rejection | None:
    """``predicateAdmitHandler.Admit`` without the critical-pod preemption: the first reason."""
    return predicate_admit(pod, node, others, pod_level_resources, usage, preemption=False).rejection


def predicate_admit(
    pod: Pod,
    node: NodeObject,
    others: Sequence[Pod],
    pod_level_resources: bool,
    usage: NodeUsage | None = None,
    *,
    preemption: bool = True,
    amounts: dict[str, int] | None = None,
) -> FitVerdict:
    """``predicateAdmitHandler.Admit``: the OS checks, then ``generalFilter``; on failure the
    ``CriticalPodAdmissionHandler`` (a critical pod short only of resources preempts pods of
    ``others``, the active pods in admission order); the first remaining reason."""
    os_label = node.labels.get(LABEL_OS) or "linux"
    want_os = pod.labels.get(LABEL_OS)
    if want_os is not None and want_os != os_label:
        return FitVerdict(
            Rejection(
                HANDLER_PREDICATES,
                POD_OS_SELECTOR_MISMATCH,
                "Failed to admit pod as the `kubernetes.io/os` label doesn't match node label",
            )
        )
    if pod.os_name and pod.os_name != "linux":
        return FitVerdict(
            Rejection(
                HANDLER_PREDICATES, POD_OS_NOT_SUPPORTED, "Failed to admit pod as the OS field doesn't match node OS"
            )
        )
    if pod.supplemental_groups_policy == "Strict":
        # the node reports no runtime features (status.features unset)
        return FitVerdict(
            Rejection(
                HANDLER_PREDICATES,
                SUPPLEMENTAL_GROUPS_NOT_SUPPORTED,
                "SupplementalGroupsPolicy=Strict is not supported in this node",
            )
        )
    if usage is None:
        usage = node_usage(others, pod_level_resources)
    reasons = general_filter(pod, node, usage, pod_level_resources, amounts)
    if not reasons:
        return FitVerdict()
    if not preemption or not is_critical(pod):
        return FitVerdict(reasons[0])
    non_resource = [r for r in reasons if r.shortfall is None]
    if non_resource:
        return FitVerdict(non_resource[0])
    reqs = [(r.shortfall.resource, r.shortfall.short) for r in reasons if r.shortfall is not None]
    try:
        victims = pods_to_preempt(pod, list(others), reqs, pod_level_resources)
    except PreemptionError as e:
        return FitVerdict(
            Rejection(
                HANDLER_PREDICATES,
                UNEXPECTED_ADMISSION_ERROR,
                "Unexpected error while attempting to recover from admission failure: "
                f"preemption: error finding a set of pods to preempt: {e}",
            )
        )
    return FitVerdict(None, tuple(victims))


# -- the critical pod admission handler (pkg/kubelet/preemption) -------------------------------------
PREEMPT_REASON = "Preempting"  # events.PreemptContainer
PREEMPT_MESSAGE = "Preempted in order to admit critical pod"


class PreemptionError(Exception):
    pass


def is_critical(pod: Pod) -> bool:
    """``IsCriticalPod``: priority >= 2000000000 (static and mirror pods are not modelled)."""
    return pod.priority is not None and pod.priority >= SYSTEM_CRITICAL_PRIORITY


def preemptable(preemptor: Pod, preemptee: Pod) -> bool:
    if is_critical(preemptor) and not is_critical(preemptee):
        return True
    if preemptor.priority is not None and preemptee.priority is not None:
        return preemptor.priority > preemptee.priority
    return False


def resource_request(pod: Pod, resource: str, pod_level_resources: bool) -> int:
    """``resource.GetResourceRequest`` (pkg/api/v1/resource): pods count 1; pod-level requests alone
    when PodLevelResources is on and the pod sets them."""
    if resource == PODS:
        return 1
    if pod_level_resources and pod.has_pod_level_resources() and pod.resources is not None:
        q = pod.resources.requests.get(resource) if _supported_pod_level(resource) else None
        return amount(resource, q) if q is not None else 0
    q = pod_requests(pod, True).get(resource)
    return amount(resource, q) if q is not None else 0


def _subtract(reqs: list[tuple[str, int]], pods: Sequence[Pod], plr: bool) -> list[tuple[str, int]]:
    out = []
    for name, qty in reqs:
        for p in pods:
            qty -= resource_request(p, name, plr)
            if qty <= 0:
                break
        if qty > 0:
            out.append((name, qty))
    return out


def _reqs_text(reqs: list[tuple[str, int]]) -> str:
    return "[" + "".join(f"(res: {n}, q: {q}), " for n, q in reqs) + "]"


def _distance(reqs: list[tuple[str, int]], pod: Pod, plr: bool) -> float:
    d = 0.0
    for name, qty in reqs:
        remaining = float(qty - resource_request(pod, name, plr))
        if remaining > 0:
            d += (remaining / float(qty)) ** 2
    return d


def _smaller(a: Pod, b: Pod, plr: bool) -> bool:
    for name in (MEMORY, CPU):
        ra, rb = resource_request(a, name, plr), resource_request(b, name, plr)
        if ra < rb:
            return True
        if ra > rb:
            return False
    return True


def _by_distance(pods: list[Pod], reqs: list[tuple[str, int]], plr: bool) -> list[Pod]:
    pods = list(pods)
    out: list[Pod] = []
    while reqs:
        if not pods:
            raise PreemptionError(f"no set of running pods found to reclaim resources: {_reqs_text(reqs)}")
        best_d = float(len(reqs) + 1)
        best = 0
        for i, p in enumerate(pods):
            d = _distance(reqs, p, plr)
            if d < best_d or (best_d == d and _smaller(p, pods[best], plr)):
                best_d, best = d, i
        reqs = _subtract(reqs, [pods[best]], plr)
        out.append(pods[best])
        pods[best] = pods[-1]
        pods.pop()
    return out


def pods_to_preempt(pod: Pod, active: list[Pod], reqs: list[tuple[str, int]], plr: bool) -> list[Pod]:
    """``getPodsToPreempt``: the fewest, smallest lower-QoS pods that free what the critical pod misses."""
    be = [p for p in active if preemptable(pod, p) and p.qos_class == "BestEffort"]
    bu = [p for p in active if preemptable(pod, p) and p.qos_class == "Burstable"]
    gu = [p for p in active if preemptable(pod, p) and p.qos_class == "Guaranteed"]
    unable = _subtract(reqs, [*be, *bu, *gu], plr)
    if unable:
        raise PreemptionError(f"no set of running pods found to reclaim resources: {_reqs_text(unable)}")
    g_evict = _by_distance(gu, _subtract(reqs, [*be, *bu], plr), plr)
    b_evict = _by_distance(bu, _subtract(reqs, [*be, *g_evict], plr), plr)
    e_evict = _by_distance(be, _subtract(reqs, [*b_evict, *g_evict], plr), plr)
    return [*e_evict, *b_evict, *g_evict]


def _predicate(name: str, desc: str) -> Rejection:
    return Rejection(HANDLER_PREDICATES, name, f"Predicate {name} failed: {desc}")


# -- 6. AppArmor --------------------------------------------------------------------------------
def check_apparmor(pod: Pod, host_enabled: bool = True) -> Rejection | None:
    """``appArmorAdmitHandler`` for a pending pod: a profile needs AppArmor on the host, and a
    Localhost profile needs a name."""
    profiles = [pod.apparmor, *(c.apparmor for c in pod.all_containers())]
    required = any(p is not None and p != "Unconfined" for p in profiles)
    if not required:
        return None
    if not host_enabled:
        return Rejection(HANDLER_APPARMOR, APPARMOR, "Cannot enforce AppArmor: AppArmor is not enabled on the host")
    for p in profiles:
        if p is not None and p.startswith("Localhost:") and not p[len("Localhost:") :].strip():
            return Rejection(
                HANDLER_APPARMOR,
                APPARMOR,
                'Cannot enforce AppArmor: invalid empty AppArmor profile name: "Localhost"',
            )
    return None


# -- 7. pod features ----------------------------------------------------------------------------
def check_pod_features(pod: Pod, pod_level_resources: bool) -> Rejection | None:
    """``podFeaturesAdmitHandler`` (linux): spec.resources needs the gate PodLevelResources."""
    if pod.has_pod_level_resources() and not pod_level_resources:
        return Rejection(
            HANDLER_POD_FEATURES, POD_LEVEL_RESOURCES_NOT_SUPPORTED, "PodLevelResources feature gate is disabled"
        )
    return None
