"""QoS helpers the resource managers use (cm/qos)."""

from __future__ import annotations

from topolet.model.pod import CPU, MEMORY, QOS_GUARANTEED, Container, Pod


def is_container_equivalent_qos_guaranteed(c: Container) -> bool:
    """``IsContainerEquivalentQOSGuaranteed``: non-zero cpu and memory requests equal to their limits."""
    req, lim = c.resources.requests, c.resources.limits
    for r in (CPU, MEMORY):
        q = req.get(r)
        if q is None or q.value == 0:
            return False
        ql = lim.get(r)
        if ql is None or ql.value != q.value:
            return False
    return True


def is_guaranteed(pod: Pod) -> bool:
    """``v1qos.GetPodQOS(pod) == Guaranteed`` using the class stamped at API admission."""
    return pod.qos_class == QOS_GUARANTEED
