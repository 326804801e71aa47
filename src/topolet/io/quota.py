"""``ResourceQuota`` objects and the API server's quota admission for pods.

What the ``ResourceQuota`` admission plugin does when a pod is created
(``k8s.io/apiserver/pkg/admission/plugin/resourcequota/controller.go``
``CheckRequest``, with the pod evaluator of
``pkg/quota/v1/evaluator/core/pods.go``):

* the quotas of the pod's namespace whose ``spec.hard`` names a resource the
  pod evaluator tracks and whose scopes match the pod are the pertinent ones;
* ``Constraints``: unless the pod has pod-level resources (PodLevelResources
  on), a quota on cpu/memory requires every container to state them
  ("must specify ...");
* the pod's usage is ``PodUsageFunc``: ``count/pods`` always, and for a pod
  that is not terminal ``pods`` plus requests/limits from component-helpers
  ``PodRequests``/``PodLimits`` -- which take the pod-level requests/limits
  when they are set (PodLevelResources on), else aggregate the containers
  (the sidecar formula for init containers);
* ``used + requested`` must not exceed ``hard`` for every resource requested,
  else ``exceeded quota: NAME, requested: ..., used: ..., limited: ...``.

``used`` is what the quota controller would have computed: the usage of the
namespace's existing pods that match the quota (a Failed pod, e.g. one the
kubelet rejected, counts only for ``count/pods``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from topolet.model.pod import QOS_BEST_EFFORT, Container, Pod
from topolet.model.quantity import DECIMAL_SI, Quantity, QuantityError

ResourceList = dict[str, Quantity]

POD_OBJECT_COUNT = "count/pods"
PODS = "pods"
_POD_RESOURCES = (
    POD_OBJECT_COUNT,
    "cpu",
    "memory",
    "ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
    PODS,
)
_POD_RESOURCE_PREFIXES = ("hugepages-", "requests.hugepages-")
_VALIDATION_SET = frozenset(("cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory"))
SCOPES = (
    "Terminating",
    "NotTerminating",
    "BestEffort",
    "NotBestEffort",
    "PriorityClass",
    "CrossNamespacePodAffinity",
    "VolumeAttributesClass",
)
_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


class QuotaError(ValueError):
    """A ResourceQuota object the API server would refuse; the message names the file and field."""


@dataclass(frozen=True, slots=True)
class ScopeSelector:
    scope: str
    operator: str
    values: tuple[str, ...] = ()


@dataclass(slots=True)
class ResourceQuota:
    name: str
    namespace: str
    hard: ResourceList
    scopes: list[str] = field(default_factory=list)
    scope_selector: list[ScopeSelector] = field(default_factory=list)
    created: str = ""
    source: str = ""

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def selectors(self) -> list[ScopeSelector]:
        """``getScopeSelectorsFromQuota``: spec.scopes as Exists selectors, then spec.scopeSelector."""
        return [ScopeSelector(s, "Exists") for s in self.scopes] + list(self.scope_selector)

    def same_spec(self, other: ResourceQuota) -> bool:
        return (
            {k: v.value for k, v in self.hard.items()} == {k: v.value for k, v in other.hard.items()}
            and self.scopes == other.scopes
            and self.scope_selector == other.scope_selector
        )


# --------------------------------------------------------------------------- objects


def quota_from_object(obj: Mapping[str, Any], source: str, namespace: str | None = None) -> ResourceQuota:
    """A ``ResourceQuota`` (v1) object; ``namespace`` when the object names none (default ``default``)."""
    meta = obj.get("metadata") or {}
    if not isinstance(meta, Mapping):
        raise QuotaError(f"{source}: ResourceQuota: metadata: must be a mapping")
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        raise QuotaError(f"{source}: ResourceQuota: metadata.name: Required value: name or generateName is required")
    label = f'{source}: ResourceQuota "{name}"'
    api = obj.get("apiVersion")
    if api is not None and api != "v1":
        raise QuotaError(f'{label}: no matches for kind "ResourceQuota" in version "{api}" (want apiVersion: v1)')
    ns = meta.get("namespace") or namespace or "default"
    spec = obj.get("spec") or {}
    if not isinstance(spec, Mapping):
        raise QuotaError(f"{label}: spec: must be a mapping")
    hard_raw = spec.get("hard") or {}
    if not isinstance(hard_raw, Mapping):
        raise QuotaError(f"{label}: spec.hard: must be a mapping of resource names to quantities")
    hard: ResourceList = {}
    for k, v in hard_raw.items():
        try:
            q = Quantity.parse(v)
        except QuantityError as e:
            raise QuotaError(f'{label}: spec.hard[{k}]: Invalid value: "{v}": {e}') from None
        if q.value < 0:
            raise QuotaError(f'{label}: spec.hard[{k}]: Invalid value: "{v}": must be greater than or equal to 0')
        hard[str(k)] = q
    scopes_raw = spec.get("scopes") or []
    if not isinstance(scopes_raw, list):
        raise QuotaError(f"{label}: spec.scopes: must be a list")
    scopes: list[str] = []
    for i, s in enumerate(scopes_raw):
        if s not in SCOPES:
            raise QuotaError(f'{label}: spec.scopes[{i}]: Unsupported value: "{s}": supported values: {_q(SCOPES)}')
        scopes.append(str(s))
    selectors: list[ScopeSelector] = []
    sel = spec.get("scopeSelector") or {}
    exprs = sel.get("matchExpressions") if isinstance(sel, Mapping) else None
    for i, e in enumerate(exprs or []):
        where = f"spec.scopeSelector.matchExpressions[{i}]"
        if not isinstance(e, Mapping):
            raise QuotaError(f"{label}: {where}: must be a mapping")
        scope, op = e.get("scopeName"), e.get("operator")
        if scope not in SCOPES:
            raise QuotaError(
                f'{label}: {where}.scopeName: Unsupported value: "{scope}": supported values: {_q(SCOPES)}'
            )
        if op not in _OPERATORS:
            raise QuotaError(
                f'{label}: {where}.operator: Unsupported value: "{op}": supported values: {_q(_OPERATORS)}'
            )
        values = e.get("values") or []
        if not isinstance(values, list):
            raise QuotaError(f"{label}: {where}.values: must be a list")
        selectors.append(ScopeSelector(str(scope), str(op), tuple(str(v) for v in values)))
    return ResourceQuota(str(name), str(ns), hard, scopes, selectors, source=source)


def _q(names: Iterable[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)


def quota_to_object(q: ResourceQuota, used: ResourceList | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"hard": {k: str(v) for k, v in sorted(q.hard.items())}}
    if q.scopes:
        spec["scopes"] = list(q.scopes)
    if q.scope_selector:
        spec["scopeSelector"] = {
            "matchExpressions": [
                {"scopeName": s.scope, "operator": s.operator, **({"values": list(s.values)} if s.values else {})}
                for s in q.scope_selector
            ]
        }
    obj: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {
            "name": q.name,
            "namespace": q.namespace,
            **({"creationTimestamp": q.created} if q.created else {}),
        },
        "spec": spec,
    }
    if used is not None:
        obj["status"] = {
            "hard": {k: str(v) for k, v in sorted(q.hard.items())},
            "used": {k: str(v) for k, v in sorted(used.items())},
        }
    return obj


# --------------------------------------------------------------------------- resource lists


def _add_list(dst: ResourceList, src: Mapping[str, Quantity]) -> None:
    for k, v in src.items():
        dst[k] = dst[k].add(v) if k in dst else v


def _max_list(dst: ResourceList, src: Mapping[str, Quantity]) -> None:
    for k, v in src.items():
        if k not in dst or v.value > dst[k].value:
            dst[k] = v


def _aggregate(pod: Pod, requests: bool) -> ResourceList:
    """``AggregateContainerRequests`` / ``AggregateContainerLimits`` (the sidecar formula)."""

    def res(c: Container) -> Mapping[str, Quantity]:
        return c.resources.requests if requests else c.resources.limits

    total: ResourceList = {}
    for c in pod.containers:
        _add_list(total, res(c))
    restartable: ResourceList = {}
    init: ResourceList = {}
    for c in pod.init_containers:
        r = res(c)
        if c.is_restartable:
            _add_list(total, r)
            _add_list(restartable, r)
            cur = dict(restartable)
        else:
            cur = {}
            _add_list(cur, r)
            _add_list(cur, restartable)
        _max_list(init, cur)
    _max_list(total, init)
    return total


def _supported_pod_level(name: str) -> bool:
    return name in ("cpu", "memory") or name.startswith("hugepages-")


def pod_requests(pod: Pod, pod_level_resources: bool) -> ResourceList:
    """component-helpers ``PodRequests`` (no overhead): pod-level requests replace the aggregate when set."""
    reqs = _aggregate(pod, True)
    r = pod.resources
    if pod_level_resources and r is not None and any(_supported_pod_level(k) for k in r.requests):
        for k, v in r.requests.items():
            if _supported_pod_level(k):
                reqs[k] = v
    return reqs


def pod_limits(pod: Pod, pod_level_resources: bool) -> ResourceList:
    """component-helpers ``PodLimits``: pod-level limits replace the aggregate when pod-level resources are set."""
    limits = _aggregate(pod, False)
    r = pod.resources
    if pod_level_resources and pod.has_pod_level_resources() and r is not None:
        for k, v in r.limits.items():
            if _supported_pod_level(k):
                limits[k] = v
    return limits


def _is_extended(name: str) -> bool:
    return "/" in name and not name.startswith(("kubernetes.io/", "requests.")) and "kubernetes.io/" not in name


def compute_usage(requests: Mapping[str, Quantity], limits: Mapping[str, Quantity]) -> ResourceList:
    """``podComputeUsageHelper``."""
    out: ResourceList = {PODS: Quantity.of(1)}
    for res in ("cpu", "memory", "ephemeral-storage"):
        if res in requests:
            out[res] = requests[res]
            out[f"requests.{res}"] = requests[res]
        if res in limits:
            out[f"limits.{res}"] = limits[res]
    for k, v in requests.items():
        if k.startswith("hugepages-"):
            out[k] = v
            out[f"requests.{k}"] = v
        elif _is_extended(k):
            out[f"requests.{k}"] = v
    return out


def pod_usage(pod: Pod, *, terminal: bool = False, pod_level_resources: bool = True) -> ResourceList:
    """``PodUsageFunc``: ``count/pods`` always; compute resources unless the pod is terminal (Failed)."""
    result: ResourceList = {POD_OBJECT_COUNT: Quantity.of(1)}
    if terminal:
        return result
    _add_list(result, compute_usage(pod_requests(pod, pod_level_resources), pod_limits(pod, pod_level_resources)))
    return result


def matching_resources(names: Iterable[str]) -> list[str]:
    """``podEvaluator.MatchingResources``."""
    out: list[str] = []
    for n in names:
        if (
            n in _POD_RESOURCES
            or n.startswith(_POD_RESOURCE_PREFIXES)
            or (n.startswith("requests.") and _is_extended(n[9:]))
        ):
            out.append(n)
    return out


def _scope_matches(sel: ScopeSelector, pod: Pod) -> bool:
    """``podMatchesScopeFunc`` for the pods topolet models (no activeDeadlineSeconds, priority class or affinity)."""
    s = sel.scope
    if s == "Terminating":
        return False
    if s == "NotTerminating":
        return True
    if s == "BestEffort":
        return pod.qos_class == QOS_BEST_EFFORT
    if s == "NotBestEffort":
        return pod.qos_class != QOS_BEST_EFFORT
    if s == "PriorityClass":
        # the pod has no priorityClassName: the selector is matched against an empty label set
        return sel.operator in ("NotIn", "DoesNotExist")
    return False


def quota_matches(q: ResourceQuota, pod: Pod) -> bool:
    """``generic.Matches``: a tracked resource in ``hard`` and every scope selector matching."""
    if pod.namespace != q.namespace:
        return False
    if not matching_resources(q.hard):
        return False
    return all(_scope_matches(s, pod) for s in q.selectors())


def _zero() -> Quantity:
    return Quantity(Fraction(0), DECIMAL_SI)


def quota_used(q: ResourceQuota, pods: Iterable[tuple[Pod, bool]], pod_level_resources: bool = True) -> ResourceList:
    """What the quota controller computes into ``status.used``: the tracked ``hard`` resources, summed
    over the namespace's pods that match (``pods`` yields (pod, terminal))."""
    tracked = matching_resources(q.hard)
    used: ResourceList = {r: _zero() for r in tracked}
    for pod, terminal in pods:
        if pod.namespace != q.namespace or not all(_scope_matches(s, pod) for s in q.selectors()):
            continue
        u = pod_usage(pod, terminal=terminal, pod_level_resources=pod_level_resources)
        for r in tracked:
            if r in u:
                used[r] = used[r].add(u[r])
    return used


def _pretty(rl: Mapping[str, Quantity]) -> str:
    """``prettyPrint``: ``name=value`` sorted by name, comma-separated."""
    return ",".join(f"{k}={rl[k]}" for k in sorted(rl))


def _constraints(required: Iterable[str], pod: Pod, pod_level_resources: bool) -> str | None:
    """``podEvaluator.Constraints``: the "must specify" error, or None."""
    if pod_level_resources and pod.has_pod_level_resources():
        return None
    req = set(required) & _VALIDATION_SET
    missing: dict[str, set[str]] = {}
    for c in [*pod.containers, *pod.init_containers]:
        have = set(compute_usage(c.resources.requests, c.resources.limits))
        for r in req - have:
            missing.setdefault(r, set()).add(c.name)
    if not missing:
        return None
    parts = [f"{r} for: {','.join(sorted(missing[r]))}" for r in sorted(missing)]
    return "must specify " + "; ".join(parts)


def check_pod_create(
    pod: Pod,
    quotas: Iterable[ResourceQuota],
    existing: Iterable[tuple[Pod, bool]],
    pod_level_resources: bool = True,
) -> str | None:
    """The quota admission of a pod create: ``None`` (admitted) or the API server's Forbidden message
    (``pods "NAME" is forbidden: exceeded quota: ...``)."""
    existing = list(existing)
    pertinent: list[ResourceQuota] = []
    for q in sorted(quotas, key=lambda x: x.name):
        if not quota_matches(q, pod):
            continue
        err = _constraints(matching_resources(q.hard), pod, pod_level_resources)
        if err:
            return f'pods "{pod.name}" is forbidden: failed quota: {q.name}: {err}'
        pertinent.append(q)
    if not pertinent:
        return None
    usage = {k: v for k, v in pod_usage(pod, pod_level_resources=pod_level_resources).items() if not v.is_zero()}
    negative = sorted(k for k, v in usage.items() if v.value < 0)
    if negative:
        return f'pods "{pod.name}" is forbidden: quota usage is negative for resource(s): {",".join(negative)}'
    if not usage:
        return None
    for q in pertinent:
        used = quota_used(q, existing, pod_level_resources)
        requested = {k: v for k, v in usage.items() if k in q.hard}
        new_usage = dict(used)
        _add_list(new_usage, requested)
        masked = {k: new_usage[k] for k in requested}
        exceeded = [k for k, h in q.hard.items() if k in masked and masked[k].value > h.value]
        if exceeded:
            return (
                f'pods "{pod.name}" is forbidden: exceeded quota: {q.name}, '
                f"requested: {_pretty({k: requested[k] for k in exceeded})}, "
                f"used: {_pretty({k: used[k] for k in exceeded if k in used})}, "
                f"limited: {_pretty({k: q.hard[k] for k in exceeded})}"
            )
    return None
