"""The ``topolet`` command line."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

app = typer.Typer(
    name="topolet",
    help="Predict what the kubelet's topology, CPU and memory managers do (Kubernetes 1.36).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Predict what the kubelet's topology, CPU and memory managers do (Kubernetes 1.36)."""


@app.command("test")
def test_cmd(
    paths: list[Path] = typer.Argument(..., help="Scenario files or directories (searched recursively)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only the summary line."),
    reference: bool = typer.Option(
        False,
        "--reference",
        help="Run the kubelet's exhaustive algorithms (every NUMA mask, every hint combination) "
        "instead of the fast path; slow beyond 8 NUMA nodes.",
    ),
) -> None:
    """Run scenario files (FORMAT.md) against the engine: one line per failed check, then a summary."""
    from topolet.engine.fast_path import reference_mode
    from topolet.scenario.runner import run_paths

    with reference_mode(reference):
        results = run_paths(paths)
    failed = 0
    for r in results:
        if r.failures:
            failed += 1
            if not quiet:
                for f in r.failures:
                    typer.echo(str(f))
    passed = len(results) - failed
    typer.echo(f"{passed} passed, {failed} failed")
    raise typer.Exit(0 if failed == 0 else 1)


def _register_all() -> None:
    from topolet.cli import cluster_cmds, explain_cmds, fleet_cmds, node_cmds, predict_cmds

    for mod in (predict_cmds, node_cmds, explain_cmds, fleet_cmds, cluster_cmds):
        mod.register(app)


_register_all()


def main() -> None:
    # as a kubectl plugin (kubectl-topolet), usage lines say "kubectl topolet"
    prog = "kubectl topolet" if Path(sys.argv[0]).name == "kubectl-topolet" else None
    try:
        app(prog_name=prog)
    except KeyboardInterrupt:  # pragma: no cover
        sys.exit(130)
