"""The kubelet's checkpoint errors (``errors.CorruptCheckpointError``, ``NewCheckpointState``'s wording)."""

from __future__ import annotations

from topolet.io.checkpoint.golang import go_quote

# errors.CorruptCheckpointError.Error()
CORRUPT = "checkpoint is corrupted"


class CheckpointError(ValueError):
    """A checkpoint the kubelet would refuse to start with.

    ``message`` is the kubelet's own error text (``NewCheckpointState``), e.g.
    ``could not restore state from checkpoint: checkpoint is corrupted, please
    drain this node and delete the CPU manager checkpoint file "..." before
    restarting Kubelet``; ``cause`` is the inner error (``checkpoint is
    corrupted``) and ``attempts`` the per-version load errors the kubelet logs
    while falling back (``("v3", "checkpoint is corrupted"), ...``).
    """

    def __init__(
        self,
        source: str,
        message: str,
        *,
        cause: str | None = None,
        attempts: tuple[tuple[str, str], ...] = (),
    ) -> None:
        super().__init__(message)
        self.source = source
        self.message = message
        self.cause = message if cause is None else cause
        self.attempts = attempts

    def __str__(self) -> str:
        return self.message


def cpu_restore_error(source: str, err: str, attempts: tuple[tuple[str, str], ...] = ()) -> CheckpointError:
    return CheckpointError(
        source,
        f"could not restore state from checkpoint: {err}, please drain this node and delete the CPU manager "
        f"checkpoint file {go_quote(source)} before restarting Kubelet",
        cause=err,
        attempts=attempts,
    )


def memory_restore_error(source: str, err: str, attempts: tuple[tuple[str, str], ...] = ()) -> CheckpointError:
    return CheckpointError(
        source,
        f"could not restore state from checkpoint: {err}, please drain this node and delete the memory "
        f"manager checkpoint file {go_quote(source)} before restarting Kubelet",
        cause=err,
        attempts=attempts,
    )
