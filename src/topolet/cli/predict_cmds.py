"""``topolet predict`` and ``topolet demo``: would the kubelet admit these pods, and what would each container get?"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import TYPE_CHECKING

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

    c = Console()
    if not c.is_terminal:
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
        raise fail(f"the kubelet refuses to start with this configuration: {e}", EXIT_STARTUP) from e


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


def render_results(console: Console, node: Node, results: list[AdmitResult], wide: bool) -> None:
    from rich.markup import escape
    from rich.table import Table

    from topolet.model.cpuset import format_bits

    console.print(node_summary(node), highlight=False, soft_wrap=True)
    for r in results:
        console.print()
        if not r.admitted:
            msg = r.status_message if r.reason != "Invalid" else r.message
            console.print(
                f"pod/{r.pod.split('/', 1)[1]}: [red]REJECTED[/red] {escape(r.reason)}: {escape(msg)}", highlight=False
            )
            for line in fit_why_lines(r):
                console.print(f"  {escape(line)}", highlight=False, soft_wrap=True)
            continue
        head = f"pod/{r.pod.split('/', 1)[1]}: [green]ADMITTED[/green] QoS {r.qos}"
        if r.pod_cpus:
            numas = sorted({node.topology.cpu_numa[c] for c in _bits(r.pod_cpus)})
            head += f", pod CPUs {format_bits(r.pod_cpus)} (NUMA {','.join(map(str, numas))})"
        console.print(head, highlight=False)
        if r.preempted:
            console.print(
                f"  critical pod: the kubelet preempted {', '.join(r.preempted)} to admit it "
                "(Failed, reason Preempting)",
                highlight=False,
                soft_wrap=True,
            )
        t = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
        for col in ("CONTAINER", "KIND", "CPUS", "Cpus_allowed_list", "Mems_allowed_list"):
            t.add_column(col, no_wrap=True)
        t.add_column("MEMORY", overflow="fold")
        for c in r.containers:
            t.add_row(
                c.name,
                c.kind,
                c.cpu_mode,
                c.cpus_list,
                c.mems_list,
                _memory_text(r, c.name),
            )
        console.print(t)


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
) -> None:
    from topolet.engine.node import NodeError
    from topolet.engine.result import AdmitResult
    from topolet.io.inputs import InputError, load_pods
    from topolet.model.manifest import admit_to_api

    check_output(str(output), OUTPUTS)
    output = Output(str(output))
    node = build_node(topology, config, admission, node_name)
    try:
        pods = load_pods(files, node.gates)
    except InputError as e:
        raise fail(str(e), EXIT_INPUT) from e
    results: list[AdmitResult] = []
    for pod in pods:
        stored, invalid = admit_to_api(pod, node.gates)
        if stored is None:
            results.append(AdmitResult(pod.key, pod.uid, False, "Invalid", invalid or "", pod.qos_class))
            continue
        try:
            results.append(node.admit(stored))
        except NodeError as e:
            raise fail(f"{pod.key}: {e}", EXIT_INPUT) from e
    console = make_console()
    if output in (Output.json, Output.yaml):
        from topolet.io import yamlio
        from topolet.io.results import result_to_dict

        data = {"items": [result_to_dict(r) for r in results]}
        text = json.dumps(data, indent=2) if output is Output.json else yamlio.dump(data)
        console.print(text, highlight=False, markup=False, soft_wrap=True)
    else:
        render_results(console, node, results, output is Output.wide)
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
    ) -> None:
        """Would a fresh node admit these pods (in order), and what would each container get?

        Exit status: 0 all admitted, 1 bad input, 2 the kubelet refuses the configuration,
        3 a pod was rejected (by the API server or the kubelet).
        """
        run_predict(filename, topology, config, output, admission, node_name)

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
