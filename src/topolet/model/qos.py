"""The pod QoS class the API server stamps in ``status.qosClass``.

A port of ``ComputePodQOS`` (pkg/apis/core/v1/helper/qos/qos.go, identical to
the internal pkg/apis/core/helper/qos): only cpu and memory count, and only
strictly positive quantities.

* With ``PodLevelResources`` on and ``spec.resources`` present (even empty),
  the class comes from ``spec.resources`` alone: Guaranteed when both cpu and
  memory limits are positive and every positive request equals its limit (and
  the positive requests and limits name the same resources).
* Otherwise every regular and init container counts: Guaranteed only when
  each container has positive cpu and memory limits and the summed positive
  requests equal the summed positive limits per resource.
* BestEffort when no positive cpu/memory request or limit is found.
"""

from __future__ import annotations

from topolet.model.pod import CPU, MEMORY, QOS_BEST_EFFORT, QOS_BURSTABLE, QOS_GUARANTEED, Pod
from topolet.model.quantity import Quantity

_QOS_RESOURCES = (CPU, MEMORY)


def _process(total: dict[str, Quantity], new: dict[str, Quantity]) -> set[str]:
    """``processResourceList``: sum the positive cpu/memory quantities; return their names."""
    found: set[str] = set()
    for name, q in new.items():
        if name not in _QOS_RESOURCES or q.value <= 0:
            continue
        found.add(name)
        cur = total.get(name)
        # Go: delta := q.DeepCopy(); delta.Add(list[name]) -- the new quantity is the receiver
        total[name] = q if cur is None else q.add(cur)
    return found


def compute_pod_qos(pod: Pod, pod_level_resources_enabled: bool) -> str:
    """``ComputePodQOS`` with the ``PodLevelResources`` gate given explicitly."""
    requests: dict[str, Quantity] = {}
    limits: dict[str, Quantity] = {}
    guaranteed = True
    if pod_level_resources_enabled and pod.resources is not None:
        if pod.resources.requests:
            _process(requests, pod.resources.requests)
        if pod.resources.limits:
            found = _process(limits, pod.resources.limits)
            if not (MEMORY in found and CPU in found):
                guaranteed = False
    else:
        for c in (*pod.containers, *pod.init_containers):
            _process(requests, c.resources.requests)
            found = _process(limits, c.resources.limits)
            if not (MEMORY in found and CPU in found):
                guaranteed = False

    if not requests and not limits:
        return QOS_BEST_EFFORT
    if guaranteed:
        for name, req in requests.items():
            lim = limits.get(name)
            if lim is None or lim.value != req.value:
                guaranteed = False
                break
    if guaranteed and len(requests) == len(limits):
        return QOS_GUARANTEED
    return QOS_BURSTABLE
