"""``topolet state inspect``: read real kubelet state files (``cpu_manager_state``, ``memory_manager_state``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from topolet.cli.exits import EXIT_DIFFERENCE, EXIT_ERROR, EXIT_OK, check_output
from topolet.io.statefile import CPU_KIND, MEMORY_KIND, InspectReport, inspect_state_file
from topolet.nodedir.store import CPU_STATE_FILE, MEMORY_STATE_FILE, NodeDir, NodeDirError, load_node_dir_readonly
from topolet.render.node import tabwrite

if TYPE_CHECKING:
    from topolet.model.topology import Topology


def _kubelet_verdict(nd: NodeDir, rep: InspectReport, data: bytes) -> str:
    """Would the node's kubelet (its topology and configuration) start with this file?"""
    from topolet.engine.errors import StartupError
    from topolet.engine.node import Node
    from topolet.io.checkpoint import CheckpointError, load_cpu_checkpoint, load_memory_checkpoint

    gates = nd.config.feature_gates
    from topolet.model.features import POD_LEVEL_RESOURCE_MANAGERS

    gate = gates.enabled(POD_LEVEL_RESOURCE_MANAGERS)
    try:
        if rep.kind == CPU_KIND:
            st = load_cpu_checkpoint(
                data, rep.path, pod_level_resource_managers=gate, policy_name=nd.config.cpu_manager_policy
            ).state
            Node(nd.topology, nd.config, cpu_state=st)
        else:
            ms = load_memory_checkpoint(
                data, rep.path, pod_level_resource_managers=gate, policy_name=nd.config.memory_manager_policy
            ).state
            Node(nd.topology, nd.config, memory_state=ms)
    except CheckpointError as e:
        return e.message
    except StartupError as e:
        return str(e)
    return ""


def state_inspect(
    files: list[str] = typer.Argument(
        None, metavar="[FILE...]", help="cpu_manager_state / memory_manager_state files."
    ),
    topology: str | None = typer.Option(
        None, "--topology", "-t", help="Check consistency against this topology (sysfs[:ROOT], preset:NAME, FILE)."
    ),
    node_dir: str | None = typer.Option(
        None,
        "--node",
        help="Check against this node directory (its topology, configuration and pod names); without FILEs, "
        "inspect its own checkpoints.",
    ),
    output: str | None = typer.Option(None, "--output", "-o", help="Output format: json or yaml."),
) -> None:
    """Report each state file's format version, checksum (verified, zero, unverified-legacy or corrupt),
    whether a 1.36 kubelet accepts it, its consistency against a topology, and a per-pod view.

    Exit status: 0 every file is sound, 3 a file is corrupt, unknown or inconsistent, 1 a file cannot be read.
    """
    from topolet.engine.cpumanager.policy_static import StaticCPUPolicy
    from topolet.io import yamlio
    from topolet.io.inputs import InputError, load_topology_arg

    check_output(output, ("json", "yaml"))
    nd: NodeDir | None = None
    topo: Topology | None = None
    try:
        if node_dir is not None:
            nd = load_node_dir_readonly(node_dir, require_kubelet=False)
            topo = nd.topology
        if topology is not None:
            topo = load_topology_arg(topology)
    except (InputError, NodeDirError) as e:
        typer.echo(f"error: {getattr(e, 'message', None) or e}", err=True)
        raise typer.Exit(1) from None
    paths = list(files or [])
    if not paths:
        if nd is None:
            typer.echo("error: give state FILEs, or --node DIR to inspect a node directory's checkpoints", err=True)
            raise typer.Exit(1)
        paths = [str(nd.path / CPU_STATE_FILE), str(nd.path / MEMORY_STATE_FILE)]
    names = nd.pod_names_by_uid() if nd is not None else {}
    reserved, strict = 0, False
    if nd is not None and nd.node is not None:
        pol = nd.node.cpu_manager.policy
        if isinstance(pol, StaticCPUPolicy):
            reserved = pol.reserved_cpus
            strict = pol.options.strict_cpu_reservation
    reports: list[tuple[InspectReport, str | None]] = []
    for p in paths:
        try:
            data = Path(p).read_bytes()
        except OSError as e:
            reports.append((InspectReport(p, "unknown", error=f"cannot read: {e.strerror}"), None))
            continue
        rep = inspect_state_file(
            p, topology=topo, pod_names=names, reserved_cpus=reserved, strict_reserved=strict, data=data
        )
        verdict = _kubelet_verdict(nd, rep, data) if nd is not None and rep.kind in (CPU_KIND, MEMORY_KIND) else None
        reports.append((rep, verdict))
    unreadable = any(r.kind == "unknown" and r.error.startswith("cannot read") for r, _ in reports)
    bad = any(r.checksum_status == "corrupt" or r.kind == "unknown" or r.consistent is False for r, _ in reports)
    if output is not None:
        items: list[dict[str, Any]] = []
        for r, verdict in reports:
            d = r.to_dict()
            if verdict is not None:
                d["nodeKubelet"] = {"starts": not verdict, **({"error": verdict} if verdict else {})}
            items.append(d)
        doc: Any = items[0] if len(items) == 1 else items
        typer.echo(json.dumps(doc, indent=2) if output == "json" else yamlio.dump(doc).rstrip("\n"))
    else:
        for i, (r, verdict) in enumerate(reports):
            if i:
                typer.echo("")
            typer.echo(_text(r, verdict, topology or (f"node {nd.path}" if nd is not None else None)))
    # docs/exit-codes.md: a file that cannot be read is an error (1); problems found in a file are 3
    raise typer.Exit(EXIT_ERROR if unreadable else EXIT_DIFFERENCE if bad else EXIT_OK)


def _text(r: InspectReport, verdict: str | None, topo_label: str | None) -> str:
    lines = [f"File:\t{r.path}"]
    if r.kind == "unknown":
        lines.append(f"Error:\t{r.error}")
        return tabwrite("\n".join(lines))
    lines.append(f"Kind:\t{r.kind}")
    if r.version is not None:
        written = " (kubelet 1.37 format)" if r.kubelet_136 else ""
        lines.append(f"Version:\tV{r.version}{written}")
    ck = r.checksum_status
    if ck == "verified":
        ck = f"verified ({r.checksum})"
    elif ck == "zero":
        ck = "zero (not checked; the kubelet accepts a zero checksum for this version)"
    elif ck == "unverified-legacy":
        ck = (
            f"unverified-legacy ({r.checksum} matches no checksum topolet can recompute: possibly a legacy file "
            "(older kubelets hashed differently); not reported as corrupt)"
        )
    lines.append(f"Checksum:\t{ck}")
    if r.error:
        lines.append(f"Error:\t{r.error}")
    if r.policy:
        lines.append(f"Policy:\t{r.policy}")
    if r.kind == CPU_KIND and "defaultCpuSet" in r.summary:
        lines.append(f"defaultCpuSet:\t{r.summary['defaultCpuSet'] or '<empty>'}")
    if r.acceptance is not None:
        on, off = r.acceptance.gate_on, r.acceptance.gate_off
        if not on and not off:
            verdict136 = "loads it (PodLevelResourceManagers on or off)"
        elif not on:
            verdict136 = f"loads it with PodLevelResourceManagers on; refuses it with the gate off: {off}"
        elif not off:
            verdict136 = f"loads it with PodLevelResourceManagers off; refuses it with the gate on: {on}"
        else:
            verdict136 = f"refuses it: {on}"
        lines.append(f"Kubelet 1.36:\t{verdict136}")
    if r.kubelet_136:
        lines.append(f"1.36 reads:\t{r.kubelet_136}")
    if verdict is not None:
        lines.append(f"Node's Kubelet:\t{'starts with it' if not verdict else 'refuses to start: ' + verdict}")
    if r.consistent is not None:
        if r.consistent:
            what = "every CPU accounted for exactly once" if r.kind == CPU_KIND else "NUMA nodes and totals match"
            lines.append(f"Consistency:\tOK against {topo_label}: {what}")
        else:
            lines.append(f"Consistency:\tPROBLEMS against {topo_label}:")
            for p in r.consistency:
                lines.append(f"  - {p}")
    if r.kind == MEMORY_KIND and r.summary.get("machineState"):
        lines.append("Machine State:")
        lines.append("  NUMA\tResource\tTotal\tSystem Reserved\tAllocatable\tReserved\tFree\tAssignments\tCells")
        for nid, ns in r.summary["machineState"].items():
            for res, t in ns["memory"].items():
                lines.append(
                    f"  {nid}\t{res}\t{t['total']}\t{t['systemReserved']}\t{t['allocatable']}\t{t['reserved']}\t"
                    f"{t['free']}\t{ns['numberOfAssignments']}\t{','.join(map(str, ns['cells']))}"
                )
    if r.checksum_status != "corrupt":
        if not r.pods:
            lines.append("Pods:\t<none>")
        else:
            lines.append("Pods:")
            if r.kind == CPU_KIND:
                lines.append("  POD UID\tPOD\tCONTAINER\tCPUS")
                for p in r.pods:
                    pod = p.get("pod", "<unknown>")
                    if "podCpus" in p:
                        lines.append(f"  {p['uid']}\t{pod}\t(pod)\t{p['podCpus']}")
                    for c, cpus in p["containers"].items():
                        lines.append(f"  {p['uid']}\t{pod}\t{c}\t{cpus}")
            else:
                lines.append("  POD UID\tPOD\tCONTAINER\tMEMORY BLOCKS")
                for p in r.pods:
                    pod = p.get("pod", "<unknown>")
                    if "podMemory" in p:
                        lines.append(f"  {p['uid']}\t{pod}\t(pod)\t{_blocks(p['podMemory'])}")
                    for c, bl in p["containers"].items():
                        lines.append(f"  {p['uid']}\t{pod}\t{c}\t{_blocks(bl)}")
    return tabwrite("\n".join(lines))


def _blocks(bl: list[dict[str, Any]]) -> str:
    if not bl:
        return "<none>"
    return "; ".join(f"{b['type']} {b['sizeText']} on NUMA {','.join(map(str, b['numa']))}" for b in bl)


def register(app: typer.Typer) -> None:
    state_app = typer.Typer(name="state", help="Read the kubelet's state files.", no_args_is_help=True)
    state_app.command("inspect")(state_inspect)
    app.add_typer(state_app, name="state")
