"""``topolet predict`` and ``topolet demo``: would the kubelet admit these pods, and what would each container get?"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import typer

from topolet.cli.exits import EXIT_ERROR, EXIT_KUBELET_REFUSES, EXIT_REJECTED, check_output

if TYPE_CHECKING:
    from rich.console import Console

    from topolet.engine.node import Node
    from topolet.engine.result import AdmitResult

# the engine's default node name (topolet.engine.nodestatus.DEFAULT_NODE_NAME; a test keeps them equal)
DEFAULT_NODE_NAME = "node-1"

EXIT_INPUT = EXIT_ERROR
EXIT_STARTUP = EXIT_KUBELET_REFUSES

TOPOLOGY_HELP = (
    "Machine: sysfs[:ROOT] (this or a captured host), preset:NAME[,k=v...] (see `topolet presets`), "
    "or a topology file (explicit YAML/JSON as in FORMAT.md, or cAdvisor MachineInfo JSON)."
)
CONFIG_HELP = "KubeletConfiguration file (default: the seed article's configuration, embedded)."


class Output(StrEnum):
    table = "table"
    wide = "wide"
    json = "json"
    yaml = "yaml"


OUTPUTS = tuple(o.value for o in Output)


def make_console() -> Console:
    """A console for stdout: a pipe gets long lines instead of rich's 80-column default."""
    from rich.console import Console

    from topolet.render.width import output_width

    c = Console()
    if not c.is_terminal and output_width() is None:
        c = Console(width=200)
    return c


def fail(message: str, code: int) -> typer.Exit:
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True).print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


class Admission(StrEnum):
    full = "full"
    resource_managers = "resource-managers"


ADMISSION_HELP = (
    "full: the kubelet's whole admission (sysctls, resource managers, node-fit predicates: OutOfpods, "
    "OutOfcpu, NodeAffinity, TaintToleration, ...); resource-managers: only the topology, CPU and memory managers."
)


def fit_why_lines(r: AdmitResult) -> list[str]:
    """Why a later admit handler rejected the pod, and what the resource managers held for it."""
    from topolet.explain.fit import held_text, one_line_why

    out = []
    why = one_line_why(r)
    if why:
        out.append(f"why: {why}")
    if r.held is not None:
        held = held_text(r.held)
        if held:
            out.append(held)
    return out


def build_node(
    topology: str | None,
    config: str | None,
    admission: Admission = Admission.full,
    node_name: str = DEFAULT_NODE_NAME,
) -> Node:
    from topolet.engine.errors import StartupError
    from topolet.engine.node import ADMISSION_FULL, ADMISSION_RESOURCE_MANAGERS, Node
    from topolet.io.inputs import InputError, load_kubelet_config_file, load_topology_arg

    try:
        topo = load_topology_arg(topology)
        cfg = load_kubelet_config_file(config)
    except InputError as e:
        raise fail(str(e), EXIT_INPUT) from e
    mode = ADMISSION_FULL if admission is Admission.full else ADMISSION_RESOURCE_MANAGERS
    try:
        return Node(topo, cfg, admission=mode, name=node_name)
    except StartupError as e:
        from topolet.io.inputs import config_source, refusal_message

        raise fail(refusal_message(config_source(config), cfg, e), EXIT_STARTUP) from e


def node_summary(node: Node) -> str:
    from topolet.model.cpuset import format_bits

    c = node.config
    gates = ",".join(
        f"{g}={'on' if node.gates.enabled(g) else 'off'}" for g in ("PodLevelResources", "PodLevelResourceManagers")
    )
    opts = ",".join(f"{k}={v}" for k, v in sorted(c.cpu_manager_policy_options.items()))
    reserved = getattr(node.cpu_manager.policy, "reserved_cpus", 0)
    return (
        f"node: {node.topology.describe()}\n"
        f"kubelet: cpuManagerPolicy={c.cpu_manager_policy}"
        + (f" ({opts})" if opts else "")
        + (f" reservedCPUs={format_bits(reserved)}" if reserved else "")
        + f", memoryManagerPolicy={c.memory_manager_policy}"
        f", topologyManager={c.topology_manager_policy}/{c.topology_manager_scope}, {gates}"
    )


def _memory_text(r: AdmitResult, name: str) -> str:
    from topolet.model.cpuset import format_bits
    from topolet.model.quantity import format_bytes

    c = r.container(name)
    if c is None or not c.memory:
        return "-"
    return ", ".join(
        f"{format_bytes(b.size)} {b.type} on NUMA {format_bits(sum(1 << n for n in b.numa_affinity))}" for b in c.memory
    )


def _why(node: Node, raw: object, stored: object, r: AdmitResult, cache: dict[tuple[str, str, str], str]) -> str:
    """The one-line why under a pod's row: a kubelet rejection's decisive cause, or why nothing was pinned."""
    from topolet.engine.result import EXCLUSIVE
    from topolet.model.pod import Pod

    assert isinstance(raw, Pod) and isinstance(stored, Pod)
    if r.admitted and (r.pod_cpus or any(c.cpu_mode == EXCLUSIVE for c in r.containers)):
        return ""  # CPUs pinned: nothing to explain (and the explain package stays unimported)
    from topolet.explain.brief import nothing_pinned_why, rejection_why

    if r.admitted:
        return nothing_pinned_why(node, stored)
    from topolet.explain.fit import one_line_why

    if one_line_why(r):  # a later admit handler's rejection: fit_why_lines says why
        return ""
    # replicas of one workload rejected for the same reason share the explanation
    key = (raw.owner or raw.key, r.reason, r.message)
    if key not in cache:
        cache[key] = rejection_why(node, raw)
    return cache[key]


_CPU_MODE_SHORT = {"exclusive": "excl", "pod-shared": "pod", "node-shared": "node"}


def _predict_columns() -> list[Any]:
    from topolet.render.width import Column

    return [
        Column("CONTAINER"),
        Column("KIND", priority=2),
        Column("CPUS", compact=lambda v: _CPU_MODE_SHORT.get(v, v)),
        Column("Cpus_allowed_list", "Cpus_allowed", wrap=True, compact=_spaced_list),
        Column("Mems_allowed_list", "Mems_allowed", wrap=True, compact=_spaced_list),
        Column("MEMORY", wrap=True, priority=1, min_width=14, compact=lambda v: v.replace(" memory on ", " on ")),
    ]


def _spaced_list(v: str) -> str:
    """``0,5-32,37-63`` → ``0, 5-32, 37-63``: a long cpuset may then wrap between its ranges."""
    return v.replace(",", ", ")


def render_results(
    console: Console, node: Node, results: list[AdmitResult], wide: bool, whys: dict[str, str] | None = None
) -> None:
    from rich.markup import escape
    from rich.text import Text

    from topolet.model.cpuset import format_bits
    from topolet.render.width import fit_rich_table, output_width, wrap_text

    width = output_width()

    def say(markup: str) -> None:
        text = Text.from_markup(markup)
        for line in wrap_text(text, width) if width else [text]:
            console.print(line, highlight=False, soft_wrap=True)

    for line in node_summary(node).splitlines():
        say(escape(line))
    whys = whys or {}
    for r in results:
        console.print()
        why = whys.get(r.pod, "")
        if not r.admitted:
            msg = r.status_message if r.reason != "Invalid" else r.message
            say(f"pod/{r.pod.split('/', 1)[1]}: [red]REJECTED[/red] {escape(r.reason)}: {escape(msg)}")
            lines = fit_why_lines(r)
            if why and not any(line.startswith("why:") for line in lines):
                lines.insert(0, f"why: {why}")
            for line in lines:
                say(f"  {escape(line)}")
            continue
        head = f"pod/{r.pod.split('/', 1)[1]}: [green]ADMITTED[/green] QoS {r.qos}"
        if r.pod_cpus:
            numas = sorted({node.topology.cpu_numa[c] for c in _bits(r.pod_cpus)})
            head += f", pod CPUs {format_bits(r.pod_cpus)} (NUMA {','.join(map(str, numas))})"
        say(head)
        if r.preempted:
            victims = escape(", ".join(r.preempted))
            say(f"  critical pod: the kubelet preempted {victims} to admit it (Failed, reason Preempting)")
        if why:
            say(f"  why no CPU is pinned: {escape(why)}")
        rows = [[c.name, c.kind, c.cpu_mode, c.cpus_list, c.mems_list, _memory_text(r, c.name)] for c in r.containers]
        t, fitted = fit_rich_table(_predict_columns(), rows, width, boxed=False, rule=False, header_style="bold")
        console.print(t)
        note = fitted.note(width)
        if note:
            say(f"[dim]{escape(note)}[/dim]")


def _bits(b: int) -> list[int]:
    out = []
    while b:
        low = b & -b
        out.append(low.bit_length() - 1)
        b ^= low
    return out


def run_predict(
    files: list[str],
    topology: str | None,
    config: str | None,
    output: Output | str,
    admission: Admission = Admission.full,
    node_name: str = DEFAULT_NODE_NAME,
    validate: str = "strict",
) -> None:
    from topolet.engine.node import NodeError
    from topolet.engine.result import AdmitResult
    from topolet.io.inputs import InputError, check_validate, load_pods
    from topolet.model.manifest import admit_to_api

    check_output(str(output), OUTPUTS)
    output = Output(str(output))
    try:
        check_validate(validate)
    except InputError as e:
        raise fail(str(e), EXIT_INPUT) from e
    node = build_node(topology, config, admission, node_name)
    skipped: list[str] = []
    try:
        pods = load_pods(files, node.gates, skipped, validate)
    except InputError as e:
        raise fail(str(e), EXIT_INPUT) from e
    if skipped:
        from rich.console import Console
        from rich.markup import escape

        err = Console(stderr=True)
        for note in skipped:
            err.print(f"Warning: {escape(note)}", highlight=False, soft_wrap=True)
    results: list[AdmitResult] = []
    whys: dict[str, str] = {}
    why_cache: dict[tuple[str, str, str], str] = {}
    text_output = output not in (Output.json, Output.yaml)
    for pod in pods:
        stored, invalid = admit_to_api(pod, node.gates)
        if stored is None:
            results.append(AdmitResult(pod.key, pod.uid, False, "Invalid", invalid or "", pod.qos_class))
            continue
        try:
            r = node.admit(stored)
        except NodeError as e:
            raise fail(f"{pod.key}: {e}", EXIT_INPUT) from e
        results.append(r)
        if text_output:
            why = _why(node, pod, stored, r, why_cache)
            if why:
                whys[r.pod] = why
    console = make_console()
    if output in (Output.json, Output.yaml):
        from topolet.io import yamlio
        from topolet.io.results import result_to_dict

        data = {"items": [result_to_dict(r) for r in results]}
        text = json.dumps(data, indent=2) if output is Output.json else yamlio.dump(data)
        console.print(text, highlight=False, markup=False, soft_wrap=True)
    else:
        render_results(console, node, results, output is Output.wide, whys)
    if any(not r.admitted or r.preempted for r in results):  # a preempted pod is Failed too
        raise typer.Exit(EXIT_REJECTED)


def register(app: typer.Typer) -> None:
    @app.command("predict")
    def predict(
        filename: list[str] = typer.Option(..., "-f", "--filename", help="Manifests: file, directory or - (stdin)."),
        topology: str = typer.Option(None, "--topology", "-t", help=TOPOLOGY_HELP),
        config: str = typer.Option(None, "--config", "-c", help=CONFIG_HELP),
        output: str = typer.Option("table", "-o", "--output", help="Output format: table, wide, json or yaml."),
        admission: Admission = typer.Option(Admission.full, "--admission", help=ADMISSION_HELP),
        node_name: str = typer.Option(
            DEFAULT_NODE_NAME,
            "--node-name",
            help="The node's name (its kubernetes.io/hostname label; pods naming another node are rejected NodeName).",
        ),
        validate: str = typer.Option(
            "strict",
            "--validate",
            help="Field validation, as kubectl's: strict (or true: unknown fields are an error), warn, ignore "
            "(or false).",
        ),
    ) -> None:
        """Would a fresh node admit these pods (in order), and what would each container get?

        Exit status: 0 all admitted, 1 bad input, 2 the kubelet refuses the configuration,
        3 a pod was rejected (by the API server or the kubelet).
        """
        run_predict(filename, topology, config, output, admission, node_name, validate=validate)

    @app.command("demo")
    def demo(
        topology: str = typer.Option("preset:2-numa", "--topology", "-t", help=TOPOLOGY_HELP),
        output: str = typer.Option("table", "-o", "--output", help="Output format: table, wide, json or yaml."),
    ) -> None:
        """The seed article's database pod on the seed article's kubelet, on a 2-socket, 2-NUMA, SMT node."""
        from topolet.io.inputs import embedded_pod_path

        run_predict([embedded_pod_path()], topology, None, output)

    @app.command("presets")
    def presets() -> None:
        """List the machine presets usable as --topology preset:NAME."""
        from rich.table import Table

        from topolet.model.presets import list_presets

        t = Table(box=None, header_style="bold")
        t.add_column("PRESET")
        t.add_column("DESCRIPTION", overflow="fold")
        for name, desc in list_presets():
            t.add_row(name, desc)
        make_console().print(t)
