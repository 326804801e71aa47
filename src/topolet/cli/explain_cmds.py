"""``topolet explain``, ``topolet map`` and ``topolet report``: why these CPUs, why rejected, a picture of the node."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer

from topolet.cli.exits import EXIT_ERROR, EXIT_KUBELET_REFUSES, EXIT_USAGE, check_output

if TYPE_CHECKING:
    from rich.console import Console

    from topolet.engine.node import Node
    from topolet.model.pod import Pod

NODE_HELP = "Node directory to read (never changed). Default: the default node directory when it exists."
TOPOLOGY_HELP = "sysfs[:ROOT], preset:NAME[,k=v...] or a topology file (instead of --node; default preset:2-numa)."
CONFIG_HELP = "KubeletConfiguration file (instead of --node; default: the seed article's configuration)."


HEADINGS = ("Rejected:", "Admission path:", "Node:")


class CommandError(Exception):
    """A failure to report on stderr with a non-zero exit (``code``: docs/exit-codes.md)."""

    def __init__(self, message: str, code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.code = code


def _fail(msg: str, code: int = EXIT_ERROR) -> NoReturn:
    from rich.console import Console

    Console(stderr=True, highlight=False, soft_wrap=True).print(f"error: {msg}", markup=False)
    raise typer.Exit(code)


def _default_node_dir() -> str | None:
    """The default node directory when the node-workflow module provides one and it exists."""
    try:
        from topolet import nodedir  # type: ignore[attr-defined]
    except ImportError:
        return None
    try:
        path = nodedir.resolve_node_dir(None)
    except Exception:
        return None
    if path is None:
        return None
    p = Path(path)
    if not p.is_dir():
        return None
    try:
        from topolet.nodedir.store import is_node_dir  # type: ignore[import-not-found]

        return str(p) if is_node_dir(p) else None
    except ImportError:
        return str(p) if any(p.iterdir()) else None


def load_node(node_dir: str | None, topology: str | None, config: str | None) -> tuple[Node, str]:
    """The node to work on, and a sentence saying where it came from.

    ``--node DIR`` (or, with neither --node nor --topology/--config, the default node directory when it
    exists) reads a node directory without changing it; otherwise a fresh node from --topology/--config
    (defaults: preset:2-numa and the seed article's kubelet configuration).
    """
    from topolet.engine.errors import StartupError
    from topolet.engine.node import Node, NodeError
    from topolet.io.inputs import InputError, load_kubelet_config_file, load_topology_arg
    from topolet.nodedir.errors import NodeStartError

    if node_dir is not None and (topology is not None or config is not None):
        raise CommandError("--node cannot be combined with --topology/--config")
    if node_dir is None and topology is None and config is None:
        node_dir = _default_node_dir()
    if node_dir is not None:
        try:
            from topolet import nodedir  # type: ignore[attr-defined]
        except ImportError as e:
            raise CommandError(f"--node {node_dir}: node directories are not available in this build") from e
        try:
            node = nodedir.load_node_readonly(node_dir)
        except NodeStartError as e:
            raise CommandError(e.message, EXIT_KUBELET_REFUSES) from e
        except (InputError, StartupError, NodeError, OSError, ValueError) as e:
            raise CommandError(str(e)) from e
        except Exception as e:  # the node-directory module's own errors (their message is for the user)
            raise CommandError(getattr(e, "message", None) or f"{node_dir}: {e}") from e
        return node, f"node directory {node_dir}"
    topo = load_topology_arg(topology)
    cfg = load_kubelet_config_file(config)
    try:
        node = Node(topo, cfg)
    except StartupError as e:
        from topolet.io.inputs import config_source, refusal_message

        raise CommandError(refusal_message(config_source(config), cfg, e), EXIT_KUBELET_REFUSES) from e
    where = f"a fresh node: {topology or 'preset:2-numa'}, {config or 'seed kubelet configuration'}"
    return node, where


VALIDATE_HELP = (
    "Field validation of the manifests, as kubectl's: strict (or true: unknown fields are an error), "
    "warn (print them and go on), ignore (or false)."
)


def _check_validate(validate: str) -> None:
    from topolet.io.inputs import check_validate

    check_validate(validate)


def _load_raw_pods(files: list[str], node: Node, validate: str = "strict") -> list[Pod]:
    from topolet.io.inputs import load_pods

    skipped: list[str] = []
    pods = load_pods(files, node.gates, skipped, validate)
    for note in skipped:
        sys.stderr.write(f"Warning: {note}\n")
    return pods


def _console(*, soft_wrap: bool = False) -> Console:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=soft_wrap, no_color=bool(os.environ.get("NO_COLOR")))


_HINT_ROW = re.compile(r"^(\s+\S+\s+(?:preferred|not preferred)\s+)\S")


def _print_explanation_lines(console: Console, lines: list[str]) -> None:
    """The lines, wrapped at spaces to the terminal's width (a hint row's continuation under its reason)."""
    from rich.text import Text

    from topolet.render.width import output_width, wrap_text

    width = output_width()
    for line in lines:
        if line.startswith("Pod ") and ": " in line:
            style = "bold green" if line.endswith("ADMITTED") else "bold red"
            text = Text(line, style=style)
        elif (line and not line.startswith(" ") and line.endswith(":")) or line.startswith(HEADINGS):
            text = Text(line, style="bold")
        else:
            text = Text(line)
        if width is None:
            console.print(text)
            continue
        m = _HINT_ROW.match(line)
        for piece in wrap_text(text, width, len(m.group(1)) if m else None):
            console.print(piece)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``topolet`` app."""

    @app.command("explain")
    def explain_cmd(
        target: str | None = typer.Argument(
            None, help="pod/NAME: a pod in the cluster of `topolet cluster run` (see --kubeconfig)."
        ),
        files: list[str] = typer.Option([], "--filename", "-f", help="Pod or workload manifests (file, dir or -)."),
        kubeconfig: str | None = typer.Option(None, "--kubeconfig", help="With pod/NAME: the cluster's kubeconfig."),
        namespace: str = typer.Option("default", "--namespace", "-n", help="With pod/NAME: its namespace."),
        node_dir: str | None = typer.Option(None, "--node", help=NODE_HELP),
        topology: str | None = typer.Option(None, "--topology", help=TOPOLOGY_HELP),
        config: str | None = typer.Option(None, "--config", help=CONFIG_HELP),
        output: str = typer.Option("text", "--output", "-o", help="text or json."),
        no_suggest: bool = typer.Option(False, "--no-suggest", help="Do not search for changes that make it fit."),
        validate: str = typer.Option("strict", "--validate", help=VALIDATE_HELP),
    ) -> None:
        """Explain an admission step by step in the kubelet's terms: scope and policy, each hint provider's hints
        and why, the merged hint and verdict, how the CPUs were taken, or why it was rejected and what (verified by
        re-running the admission) would make it fit. The node is never changed: pods are admitted on a copy, one
        after another."""
        from rich.text import Text

        from topolet.engine.node import NodeError
        from topolet.explain import explain_pods
        from topolet.io.inputs import InputError
        from topolet.render.explain_text import explain_lines

        if target is not None:  # a pod of a simulated cluster (topolet cluster run)
            if files:
                _fail("give either pod/NAME or -f FILE, not both")
            from topolet.cli.cluster_cmds import explain_cmd as cluster_explain

            cluster_explain(target, namespace, kubeconfig, None)
            return
        if not files:
            _fail("nothing to explain: give -f FILE (a manifest) or pod/NAME (a pod in the cluster)", EXIT_USAGE)
        check_output(output, ("text", "json"))
        try:
            _check_validate(validate)
            node, where = load_node(node_dir, topology, config)
            pods = _load_raw_pods(files, node, validate)
            expls, _after = explain_pods(node, pods, suggest=not no_suggest)
        except CommandError as e:
            _fail(str(e), e.code)
        except (InputError, NodeError) as e:
            _fail(str(e))
        if output == "json":
            items = [e.to_dict() for e in expls]
            data = items[0] if len(items) == 1 else {"apiVersion": "topolet/v1", "kind": "List", "items": items}
            typer.echo(json.dumps(data, indent=2))
            return
        console = _console(soft_wrap=True)  # long lines are the terminal's to wrap
        from topolet.render.width import output_width, wrap_text

        for piece in wrap_text(Text(f"(on {where}; the node is not changed)", style="dim"), output_width() or 10**6):
            console.print(piece)
        for i, e in enumerate(expls):
            if i:
                console.print(Text("─" * 60, style="dim"))
            _print_explanation_lines(console, explain_lines(e))

    @app.command("map")
    def map_cmd(
        files: list[str] = typer.Option([], "--filename", "-f", help="Admit these pods first (on a copy)."),
        node_dir: str | None = typer.Option(None, "--node", help=NODE_HELP),
        topology: str | None = typer.Option(None, "--topology", help=TOPOLOGY_HELP),
        config: str | None = typer.Option(None, "--config", help=CONFIG_HELP),
        output: str = typer.Option("text", "--output", "-o", help="text or json."),
        width: int | None = typer.Option(None, "--width", help="Width in columns (default: the terminal's)."),
        validate: str = typer.Option("strict", "--validate", help=VALIDATE_HELP),
    ) -> None:
        """Draw the node: sockets → NUMA nodes → cores → threads, each CPU marked by its owner (reserved, the
        node's shared pool, a container's exclusive CPUs, a pod's shared pool or bubble), and memory per NUMA node
        as bars. Readable without colour (NO_COLOR)."""
        from rich.text import Text

        from topolet.engine.node import NodeError
        from topolet.explain import explain_pods
        from topolet.explain.nodeview import node_view
        from topolet.io.inputs import InputError
        from topolet.render.terminal import MemoryBars, NodeMap

        check_output(output, ("text", "json"))
        try:
            _check_validate(validate)
            node, _where = load_node(node_dir, topology, config)
            rejected: list[str] = []
            if files:
                pods = _load_raw_pods(files, node, validate)
                expls, node = explain_pods(node, pods, suggest=False)
                rejected = [f"{e.pod}: {e.reason}: {e.message}" for e in expls if not e.admitted]
        except CommandError as e:
            _fail(str(e), e.code)
        except (InputError, NodeError) as e:
            _fail(str(e))
        view = node_view(node)
        if output == "json":
            typer.echo(json.dumps(view.to_dict(), indent=2))
            return
        console = _console()
        if width:
            console.width = width
        console.print(NodeMap(view))
        console.print()
        console.print(MemoryBars(view))
        for r in rejected:
            console.print(Text(f"rejected: {r}", style="red"))

    @app.command("report")
    def report_cmd(
        html_file: str = typer.Option(..., "--html", help="Write the HTML report to this file."),
        files: list[str] = typer.Option([], "--filename", "-f", help="Workloads to admit (on a copy) and report."),
        node_dir: str | None = typer.Option(None, "--node", help=NODE_HELP),
        topology: str | None = typer.Option(None, "--topology", help=TOPOLOGY_HELP),
        config: str | None = typer.Option(None, "--config", help=CONFIG_HELP),
        compare: bool = typer.Option(
            False,
            "--compare",
            help="Show the workload with pod-level budgets and in the per-container model side by side "
            "(without -f: the seed article's pod).",
        ),
        validate: str = typer.Option("strict", "--validate", help=VALIDATE_HELP),
    ) -> None:
        """Write one self-contained HTML file (inline CSS and SVG, no network): an SVG map of the node, memory per
        NUMA node, a table of pods and containers with their cpusets and NUMA memory, and the explanation of
        rejected pods."""
        from topolet.engine.node import NodeError
        from topolet.explain import explain_pods
        from topolet.explain.compare import compare_models
        from topolet.explain.fmt import human_bytes
        from topolet.explain.nodeview import node_view
        from topolet.io.inputs import InputError, embedded_pod_path
        from topolet.render.html import ReportSide, html_report

        try:
            _check_validate(validate)
            node, where = load_node(node_dir, topology, config)
            if compare and not files:
                files = [embedded_pod_path()]
            pods = _load_raw_pods(files, node, validate) if files else []
            if compare:
                sides = []
                for m in compare_models(node, pods):
                    figures = [
                        (str(m.pinned_cpus), "CPUs taken out of the node's shared pool"),
                        (str(m.exclusive_cpus), "CPUs exclusive to one container"),
                        (str(m.pod_shared_cpus), "CPUs in pod shared pools"),
                        (str(m.whole_cores), "whole cores pinned"),
                        (str(m.cores_touched - m.whole_cores), "cores split with other owners"),
                        (human_bytes(m.pinned_memory), "memory pinned"),
                        (f"{m.admitted}/{m.admitted + m.rejected}", "pods admitted"),
                    ]
                    sides.append(ReportSide(m.name, m.title, node_view(m.node), m.explanations, figures))
                title = "topolet report: pod-level budgets vs the per-container model"
            else:
                expls, after = explain_pods(node, pods) if pods else ([], node)
                sides = [ReportSide("node", "", node_view(after), expls)]
                title = "topolet report"
        except CommandError as e:
            _fail(str(e), e.code)
        except (InputError, NodeError) as e:
            _fail(str(e))
        page = html_report(sides, title=title, subtitle=f"{where}; workloads: {', '.join(files) or 'none'}")
        try:
            Path(html_file).write_text(page, encoding="utf-8")
        except OSError as e:
            _fail(f"--html {html_file}: cannot write: {e.strerror}")
        n_rej = sum(1 for s in sides for e in s.explanations if not e.admitted)
        typer.echo(
            f"wrote {html_file} ({len(page.encode())} bytes; {len(pods)} pod(s), {n_rej} rejection(s) explained)"
        )
