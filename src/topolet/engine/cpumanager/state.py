"""The CPU manager's state (cpumanager/state): the shared pool and the assignments.

CPU sets are held as integer bit masks (see :mod:`topolet.model.cpuset`).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class CPUManagerState:
    policy_name: str = "none"
    default_cpuset: int = 0
    # pod UID -> container name -> CPUs
    assignments: dict[str, dict[str, int]] = field(default_factory=dict)
    # pod UID -> the pod's CPU bubble (pod-level resource managers; checkpoint V3 podEntries)
    pod_assignments: dict[str, int] = field(default_factory=dict)

    def get_cpuset(self, pod_uid: str, container: str) -> int | None:
        c = self.assignments.get(pod_uid)
        if c is None:
            return None
        return c.get(container)

    def set_cpuset(self, pod_uid: str, container: str, cpus: int) -> None:
        self.assignments.setdefault(pod_uid, {})[container] = cpus

    def delete(self, pod_uid: str, container: str) -> None:
        c = self.assignments.get(pod_uid)
        if c is None:
            return
        c.pop(container, None)
        if not c:
            del self.assignments[pod_uid]

    def delete_pod(self, pod_uid: str) -> None:
        self.assignments.pop(pod_uid, None)
        self.pod_assignments.pop(pod_uid, None)

    def clone(self) -> CPUManagerState:
        return CPUManagerState(
            self.policy_name,
            self.default_cpuset,
            {p: dict(c) for p, c in self.assignments.items()},
            dict(self.pod_assignments),
        )
