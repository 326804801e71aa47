"""API-server defaulting of the resource fields of a Pod (pkg/apis/core/v1/defaults.go).

The API server runs ``SetObjectDefaults_Pod`` on every pod it stores, in this
order (zz_generated.defaults.go):

1. ``SetDefaults_Pod``: for every regular and init container, each limit
   without a request gets request = limit; then, with the
   ``PodLevelResources`` gate on, ``defaultHugePagePodLimits`` and
   ``defaultPodRequests`` fill pod-level hugepage limits and pod-level
   requests (see below);
2. ``SetDefaults_ResourceList`` on every resource list (container requests
   and limits, init containers, pod-level requests and limits): each
   quantity is rounded up (away from zero) to milli precision.

Pod-level defaulting (KEP-2837, only when ``spec.resources`` is present and
partly filled):

* ``defaultHugePagePodLimits``: a hugepage resource that some container
  limits, that the pod neither requests nor limits, gets a pod-level limit
  equal to the aggregated container limits (init/sidecar formula);
* ``defaultPodRequests`` (only when pod-level limits are set): a pod-level
  request that is unset defaults to the aggregated container requests for
  overcommittable supported resources (cpu, memory) that containers request,
  and otherwise to the pod-level limit for any supported resource (cpu,
  memory, hugepages-*).

The aggregation helpers are ports of ``AggregateContainerRequests`` /
``AggregateContainerLimits`` (k8s.io/component-helpers/resource).
"""

from __future__ import annotations

import math
from dataclasses import replace
from fractions import Fraction

from topolet.model.features import POD_LEVEL_RESOURCES, FeatureGates
from topolet.model.pod import CPU, HUGEPAGES_PREFIX, MEMORY, Container, Pod, Resources
from topolet.model.quantity import Quantity

ResourceList = dict[str, Quantity]

_SUPPORTED_POD_LEVEL = (CPU, MEMORY)
_DEFAULT_NAMESPACE_PREFIX = "kubernetes.io/"


# -- resource-name predicates (pkg/apis/core/helper, component-helpers) ----
def is_supported_pod_level_resource(name: str) -> bool:
    """``IsSupportedPodLevelResource``: cpu, memory or hugepages-*."""
    return name in _SUPPORTED_POD_LEVEL or name.startswith(HUGEPAGES_PREFIX)


def is_hugepage_resource_name(name: str) -> bool:
    return name.startswith(HUGEPAGES_PREFIX)


def is_native_resource(name: str) -> bool:
    """``IsNativeResource``: unprefixed, or in the kubernetes.io/ namespace."""
    return "/" not in name or _DEFAULT_NAMESPACE_PREFIX in name


def is_overcommit_allowed(name: str) -> bool:
    """``IsOvercommitAllowed``: native and not hugepages."""
    return is_native_resource(name) and not is_hugepage_resource_name(name)


# -- resource-list arithmetic (component-helpers/resource/helpers.go) ------
def add_resource_list(target: ResourceList, new: ResourceList) -> None:
    """``addResourceList``: target[name] += quantity (a missing entry takes a copy)."""
    for name, q in new.items():
        cur = target.get(name)
        target[name] = q if cur is None else cur.add(q)


def max_resource_list(target: ResourceList, new: ResourceList) -> None:
    """``maxResourceList``: target[name] = max(target[name], quantity)."""
    for name, q in new.items():
        cur = target.get(name)
        if cur is None or q.value > cur.value:
            target[name] = q


def _aggregate(pod: Pod, which: str) -> ResourceList:
    def of(c: Container) -> ResourceList:
        return c.resources.requests if which == "requests" else c.resources.limits

    total: ResourceList = {}
    for c in pod.containers:
        add_resource_list(total, of(c))
    restartable: ResourceList = {}
    init_max: ResourceList = {}
    for c in pod.init_containers:
        use: ResourceList
        if c.is_restartable:
            add_resource_list(total, of(c))
            add_resource_list(restartable, of(c))
            use = restartable
        else:
            use = {}
            add_resource_list(use, of(c))
            add_resource_list(use, restartable)
        max_resource_list(init_max, use)
    max_resource_list(total, init_max)
    return total


def aggregate_container_requests(pod: Pod) -> ResourceList:
    """``AggregateContainerRequests``: the sidecar-KEP formula over all containers.

    ``max(sum(regular) + sum(sidecars), max_i(init_i + sidecars started before i))``
    per resource.
    """
    return _aggregate(pod, "requests")


def aggregate_container_limits(pod: Pod) -> ResourceList:
    """``AggregateContainerLimits``: the same formula over limits."""
    return _aggregate(pod, "limits")


# -- defaulting -------------------------------------------------------------
def _round_up_milli(q: Quantity) -> Quantity:
    """``Quantity.RoundUp(-3)``: round away from zero to milli precision."""
    scaled = q.value * 1000
    if scaled.denominator == 1:
        return q
    mag = math.ceil(abs(scaled))
    return Quantity(Fraction(mag if scaled > 0 else -mag, 1000), q.format)


def _round_list(rl: ResourceList) -> ResourceList:
    return {k: _round_up_milli(v) for k, v in rl.items()}


def _default_container(c: Container) -> Container:
    requests = dict(c.resources.requests)
    for name, lim in c.resources.limits.items():
        if name not in requests:
            requests[name] = lim
    return replace(c, resources=Resources(requests, dict(c.resources.limits)))


def _default_hugepage_pod_limits(pod: Pod) -> None:
    res = pod.resources
    if res is None or (not res.limits and not res.requests):
        return
    for name, agg in aggregate_container_limits(pod).items():
        if not is_supported_pod_level_resource(name) or not is_hugepage_resource_name(name):
            continue
        if name in res.requests:  # no pod-level limit default when the pod requests it
            continue
        if name not in res.limits:
            res.limits[name] = agg


def _default_pod_requests(pod: Pod) -> None:
    res = pod.resources
    if res is None or not res.limits:
        return
    for name, agg in aggregate_container_requests(pod).items():
        if name not in res.requests and is_supported_pod_level_resource(name) and is_overcommit_allowed(name):
            res.requests[name] = agg
    for name, lim in res.limits.items():
        if name not in res.requests and is_supported_pod_level_resource(name):
            res.requests[name] = lim


def apply_defaults(pod: Pod, gates: FeatureGates) -> Pod:
    """The pod as the API server stores it (resource fields only); ``pod`` is not modified.

    With ``PodLevelResources`` off nothing pod-level is defaulted, but
    ``spec.resources`` is kept (and still rounded) as given.
    """
    out = replace(
        pod,
        containers=[_default_container(c) for c in pod.containers],
        init_containers=[_default_container(c) for c in pod.init_containers],
        resources=pod.resources.copy() if pod.resources is not None else None,
        labels=dict(pod.labels),
    )
    if gates.enabled(POD_LEVEL_RESOURCES):
        _default_hugepage_pod_limits(out)
        _default_pod_requests(out)
    # SetDefaults_ResourceList runs after SetDefaults_Pod.
    for c in (*out.containers, *out.init_containers):
        c.resources = Resources(_round_list(c.resources.requests), _round_list(c.resources.limits))
    if out.resources is not None:
        out.resources = Resources(_round_list(out.resources.requests), _round_list(out.resources.limits))
    return out
