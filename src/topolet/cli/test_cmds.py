"""``topolet test``: run scenario files (FORMAT.md) against the engine."""

from __future__ import annotations

from pathlib import Path

import typer

from topolet.cli.exits import EXIT_DIFFERENCE, EXIT_ERROR, EXIT_OK


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
    """Run scenario files (FORMAT.md) against the engine: one line per failed check, then a summary.

    Exit status: 0 every scenario passed, 3 a check failed, 1 a file cannot be read or is not a scenario.
    """
    from topolet.engine.fast_path import reference_mode
    from topolet.scenario.runner import load_scenario_files, run_scenario

    scenarios, broken = load_scenario_files(paths)
    with reference_mode(reference):
        results = broken + [run_scenario(sc) for sc in scenarios]
    failed = 0
    for r in results:
        if r.failures:
            failed += 1
            if not quiet:
                for f in r.failures:
                    typer.echo(str(f))
    passed = len(results) - failed
    typer.echo(f"{passed} passed, {failed} failed")
    raise typer.Exit(EXIT_ERROR if broken else EXIT_DIFFERENCE if failed else EXIT_OK)


def register(app: typer.Typer) -> None:
    app.command("test")(test_cmd)
