"""The exit codes of every ``topolet`` command (one table, see docs/exit-codes.md).

kubectl exits 1 on every error, usage errors included (``error: unknown flag``);
topolet does the same and adds codes for its answers:

=====  ==============================================================================
code   meaning
=====  ==============================================================================
0      success (a committed change whose clean-up failed is a success with a warning)
1      an error: bad input (manifest, configuration, topology, state file, node
       directory), a usage error (unknown option, a bad ``-o`` value), a missing
       file, an object not found, a change the API server refuses
2      the kubelet refuses its configuration (it would not start): ``predict``,
       ``explain``/``map``/``report``, ``node init``/``reconfigure``, and any node
       command that needs the node's kubelet
3      the answer is "no": a pod was rejected (``predict``; ``apply
       --fail-on-rejection``), a scenario check failed (``test``), a state file
       has problems (``state inspect``), a difference was found (``verify``)
130    interrupted (Ctrl-C, SIGINT)
=====  ==============================================================================

This module imports nothing heavy: the command modules and ``main`` use it.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 1  # as kubectl: a usage error is an error
EXIT_KUBELET_REFUSES = 2
EXIT_REJECTED = 3
EXIT_DIFFERENCE = 3
EXIT_INTERRUPTED = 130

TABLE: tuple[tuple[int, str], ...] = (
    (EXIT_OK, "success (also a committed change whose clean-up failed: a warning says so)"),
    (
        EXIT_ERROR,
        "an error: bad input, a usage error (unknown option, bad -o value), a missing file, "
        "an object not found, a change the API server refuses",
    ),
    (EXIT_KUBELET_REFUSES, "the kubelet refuses its configuration (it would not start)"),
    (
        EXIT_REJECTED,
        "the answer is no: a pod was rejected, a scenario check failed, a state file has problems, "
        "a difference was found",
    ),
    (EXIT_INTERRUPTED, "interrupted (Ctrl-C)"),
)


class CLIError(Exception):
    """An error to print as ``error: MESSAGE`` on stderr, exiting with ``code``."""

    def __init__(self, message: str, code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def output_error(value: str, allowed: tuple[str, ...] | list[str]) -> CLIError:
    """kubectl's message for a bad ``-o`` value (a usage error, the same in every command)."""
    return CLIError(
        f'unable to match a printer suitable for the output format "{value}", allowed formats are: {",".join(allowed)}',
        EXIT_USAGE,
    )


def check_output(value: str | None, allowed: tuple[str, ...] | list[str]) -> None:
    """A bad ``-o`` value: ``error: ...`` on stderr, exit :data:`EXIT_USAGE` (under any click runner)."""
    if value is not None and value not in allowed:
        import typer

        typer.echo(f"error: {output_error(value, allowed).message}", err=True)
        raise typer.Exit(EXIT_USAGE)
