"""``topolet fleet``: fleet what-ifs (capacity planning for pod-level resource managers)."""

from __future__ import annotations

import json
import os
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from topolet.cli.exits import EXIT_ERROR, EXIT_KUBELET_REFUSES, check_output

if TYPE_CHECKING:
    from rich.console import Console

fleet_app = typer.Typer(
    name="fleet",
    help="Fleet what-ifs: place a workload on node pools the way kube-scheduler and the kubelets would.",
    no_args_is_help=True,
)

EXAMPLES = ("fleet", "workload", "kubelet")


def _err(msg: str, code: int = EXIT_ERROR) -> typer.Exit:
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True).print(f"[red]error:[/red] {escape(msg)}", highlight=False, markup=True, soft_wrap=True)
    return typer.Exit(code)


class _RichProgress:
    def __init__(self, console: Console, enabled: bool) -> None:
        self.enabled = enabled
        self.console = console
        self.bar: Any = None
        self.task: Any = None

    def start(self, total: int, description: str) -> None:
        if not self.enabled:
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
        )
        self.bar.start()
        self.task = self.bar.add_task(description, total=total)

    def advance(self, n: int) -> None:
        if self.bar is not None:
            self.bar.advance(self.task, n)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def run_cmd(
    fleet: Path = typer.Option(..., "--fleet", help="Fleet file: node pools (count × topology × kubelet config)."),
    workload: list[str] = typer.Option(
        ..., "-f", "--filename", help="Workload: manifests (Pods, Deployments, ...) and/or WorkloadMix files."
    ),
    compare: list[str] = typer.Option(
        None,
        "--compare",
        help="A variant to run (repeatable): a name from the fleet file, or built-ins joined with '+': "
        "as-written, per-container, policy=P, scope=S, cpu-option=NAME[:V], memory=M, gate=G[:false], "
        "numa-aware, least-allocated, most-allocated, recreate=N. Default: as-written.",
    ),
    baseline: str = typer.Option(
        None, "--baseline", help="The variant savings are counted against (default: per-container)."
    ),
    workers: int = typer.Option(
        None, "--workers", min=1, help="Start a local Dask cluster of N single-threaded workers."
    ),
    scheduler: str = typer.Option(None, "--scheduler", help="Use an existing Dask scheduler (tcp://HOST:PORT)."),
    shards: int = typer.Option(1, "--shards", min=1, help="Split the fleet and the workload into K independent cells."),
    seed: list[int] = typer.Option(None, "--seed", help="Random seed (repeatable: one run per seed). Default 0."),
    nodes_needed: bool = typer.Option(
        False, "--nodes-needed", help="Also find the nodes needed for the workload (bisection: several runs per cell)."
    ),
    output: str = typer.Option("table", "-o", "--output", help="table or json."),
    out: Path = typer.Option(
        None, "--out", help="Directory for pods/nodes Parquet+CSV, summary.json, report.md, PNG plots."
    ),
    no_progress: bool = typer.Option(False, "--no-progress", help="No progress bar."),
    validate: str = typer.Option(
        "strict",
        "--validate",
        help="Field validation of the manifests, as kubectl's: strict (or true), warn, ignore (or false).",
    ),
) -> None:
    """Simulate a workload on a fleet and compare variants (kube-scheduler placement + kubelet admission)."""
    from rich.console import Console

    from topolet.engine.errors import StartupError
    from topolet.engine.node import NodeError
    from topolet.fleet.runner import RunOptions, run_fleet
    from topolet.fleet.sim import FleetError
    from topolet.fleet.spec import load_fleet
    from topolet.fleet.variants import resolve_variant
    from topolet.fleet.workload import load_workload
    from topolet.io.inputs import InputError

    check_output(output, ("table", "json"))
    if workers and scheduler:
        raise _err("--workers and --scheduler: give one of them")
    if out is not None or workers or scheduler:
        missing = _missing_extra(dask=bool(workers or scheduler), files=out is not None)
        if missing:
            raise _err(f"{missing} is not installed: pip install 'topolet[fleet]'")
    console = Console(stderr=True)
    progress = _RichProgress(console, enabled=not no_progress and console.is_terminal)
    try:
        spec = load_fleet(fleet)
        sources = load_workload(list(workload), validate)
        variants = [resolve_variant(c, spec) for c in (compare or ["as-written"])]
        names = [v.name for v in variants]
        if len(set(names)) != len(names):
            raise InputError("--compare: a variant is named twice")
        if baseline is not None and baseline not in names:
            raise InputError(f"--baseline {baseline}: not among the --compare variants ({', '.join(names)})")
        opts = RunOptions(
            variants=variants,
            seeds=list(dict.fromkeys(seed or [0])),
            shards=shards,
            workers=workers,
            scheduler=scheduler,
            out=out,
            nodes_needed=nodes_needed,
            baseline=baseline,
        )
        try:
            report = run_fleet(spec, sources, opts, progress)
        finally:
            progress.stop()
    except StartupError as e:
        raise _err(str(e), EXIT_KUBELET_REFUSES) from None
    except (InputError, FleetError, NodeError) as e:
        raise _err(str(e)) from None
    except OSError as e:
        raise _err(f"{getattr(e, 'filename', '') or ''}: {e.strerror or e}") from None
    if output == "json":
        typer.echo(json.dumps(report, indent=2))
        return
    from topolet.fleet.render import rich_table

    con = Console()
    if not con.is_terminal and "COLUMNS" not in os.environ:
        con = Console(width=220)  # a file or a pipe: do not squeeze the table into 80 columns
    con.print(rich_table(report, con.width))
    if out is not None:
        con.print(f"results in {out}/: summary.json, report.md, pods.parquet/.csv, nodes.parquet/.csv, *.png")


def _missing_extra(dask: bool, files: bool) -> str | None:
    import importlib.util

    need = (["dask", "distributed"] if dask else []) + (["pyarrow", "matplotlib"] if files else [])
    for mod in need:
        if importlib.util.find_spec(mod) is None:
            return mod
    return None


def example_cmd(
    what: str = typer.Argument("fleet", help="fleet, workload or kubelet"),
) -> None:
    """Print an example fleet file, WorkloadMix or kubelet configuration to start from."""
    if what not in EXAMPLES:
        raise _err(f"{what}: expected one of {', '.join(EXAMPLES)}")
    name = {"fleet": "fleet.yaml", "workload": "workload-mix.yaml", "kubelet": "kubelet-pod-scope.yaml"}[what]
    typer.echo((files("topolet.fleet") / "examples" / name).read_text(encoding="utf-8"), nl=False)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``topolet`` app."""
    fleet_app.command("run")(run_cmd)
    fleet_app.command("example")(example_cmd)
    app.add_typer(fleet_app, name="fleet")
