"""Admission errors with the kubelet's reasons and messages (cm/admission, managers)."""

from __future__ import annotations

UNEXPECTED_ADMISSION_ERROR = "UnexpectedAdmissionError"
TOPOLOGY_AFFINITY_ERROR = "TopologyAffinityError"
SMT_ALIGNMENT_ERROR = "SMTAlignmentError"
EMPTY_POD_SHARED_POOL_ERROR = "EmptyPodSharedPoolError"


class AdmissionError(Exception):
    """An error that carries an admission reason (``admission.Error``: Type() and Error())."""

    reason: str = UNEXPECTED_ADMISSION_ERROR

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AllocationError(Exception):
    """A plain error from a manager's Allocate; admission wraps it as UnexpectedAdmissionError."""


class TopologyAffinityError(AdmissionError):
    reason = TOPOLOGY_AFFINITY_ERROR

    def __init__(self, message: str = "Resources cannot be allocated with Topology locality") -> None:
        super().__init__(message)


def pod_level_topology_affinity_error(message: str) -> TopologyAffinityError:
    """``PodLevelTopologyAffinityError``: "Pod Scope " + message."""
    if message:
        return TopologyAffinityError("Pod Scope " + message)
    return TopologyAffinityError("Pod Scope Resources cannot be allocated with Topology locality")


class SMTAlignmentError(AdmissionError):
    reason = SMT_ALIGNMENT_ERROR

    def __init__(self, requested: int, cpus_per_core: int, available_physical: int = 0, physical: bool = False) -> None:
        if physical:
            msg = (
                "SMT Alignment Error: not enough free physical CPUs: available physical CPUs = "
                f"{available_physical}, requested CPUs = {requested}, CPUs per core = {cpus_per_core}"
            )
        else:
            msg = f"SMT Alignment Error: requested {requested} cpus not multiple cpus per core = {cpus_per_core}"
        super().__init__(msg)
        self.requested = requested
        self.cpus_per_core = cpus_per_core
        self.available_physical = available_physical
        self.physical = physical


class EmptyPodSharedPoolError(AdmissionError):
    reason = EMPTY_POD_SHARED_POOL_ERROR


def admit_result_of(err: Exception) -> tuple[str, str]:
    """``admission.GetPodAdmitResult``: (reason, message) for an error."""
    if isinstance(err, AdmissionError):
        return err.reason, err.message
    return UNEXPECTED_ADMISSION_ERROR, f"Allocate failed due to {err}, which is unexpected"


class StartupError(Exception):
    """The kubelet refuses to start with this configuration (message as the kubelet's)."""
