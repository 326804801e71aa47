"""One-line answers to "why?" for ``predict``: why nothing was pinned, why a pod was rejected (pure).

The long form is ``topolet explain``; these reuse its reasoning and keep only the decisive line.
"""

from __future__ import annotations

from topolet.engine.cpumanager.policy_static import StaticCPUPolicy
from topolet.engine.node import Node
from topolet.engine.qos import is_guaranteed
from topolet.engine.result import EXCLUSIVE, AdmitResult
from topolet.explain.core import _gates_skip, admission_path, container_cpu_why, explain_outcome
from topolet.model.pod import CPU, Pod

__all__ = ["nothing_pinned_why", "pinned_nothing", "rejection_why"]


def pinned_nothing(result: AdmitResult) -> bool:
    """An admitted pod with no CPU of its own (no bubble, no exclusive container)."""
    return result.admitted and not result.pod_cpus and not any(c.cpu_mode == EXCLUSIVE for c in result.containers)


def nothing_pinned_why(node: Node, pod: Pod) -> str:
    """Why an admitted pod (as the API server stored it) got no exclusive CPUs, in one line."""
    policy = node.cpu_manager.policy
    if not isinstance(policy, StaticCPUPolicy):
        return (
            f"cpuManagerPolicy {node.config.cpu_manager_policy}: no exclusive CPUs "
            "(set cpuManagerPolicy: static in the KubeletConfiguration)"
        )
    if not is_guaranteed(pod):
        return f"not Guaranteed (QoS {pod.qos_class or 'unknown'}): runs in the shared pool"
    if _gates_skip(node, pod):
        return (
            "spec.resources with the PodLevelResources or PodLevelResourceManagers gate off: "
            "the CPU and memory managers skip the pod"
        )
    path, _ = admission_path(node, pod)
    if path == "pod-level" and not policy.pod_guaranteed_cpus(pod):
        budget = pod.resources.requests.get(CPU) if pod.resources is not None else None
        if budget is None:
            return "no pod-level CPU budget: no CPU pinning"
        return f"non-integer pod CPU budget {budget}: no CPU pinning"
    whys = [container_cpu_why(node, pod, c)[1] for c in pod.all_containers()]
    if len(set(whys)) == 1:
        return whys[0]
    return "no container has a whole number of CPUs to pin (integer cpu request equal to its limit): shared pool"


def rejection_why(node: Node, raw_pod: Pod) -> str:
    """The decisive cause of a kubelet rejection, in one line, explained on ``node`` (not changed)."""
    e = explain_outcome(node, raw_pod, suggest=False, check_options=False).explanation
    rj = e.rejection
    if e.admitted or rj is None or not rj.causes:
        return ""
    causes = rj.causes[1:] or rj.causes
    return causes[0].rstrip(".")
