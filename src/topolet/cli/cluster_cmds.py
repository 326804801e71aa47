"""``topolet cluster``: simulated kubelets for a fleet's nodes in a real Kubernetes API server."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

cluster_app = typer.Typer(
    name="cluster",
    help="Simulated kubelets (topolet's engine) for a fleet's nodes, registered in a real API server.",
    no_args_is_help=True,
)

KUBECONFIG_HELP = "The kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)."


def _fail(msg: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {msg}", err=True)
    return typer.Exit(code)


def _need_client() -> None:
    try:
        import lightkube  # noqa: F401
        import xxhash  # noqa: F401
    except ImportError as e:
        raise _fail(
            f"topolet cluster needs the 'cluster' extra ({e.name} is missing): pip install 'topolet[cluster]'"
        ) from None


@cluster_app.command("run")
def run_cmd(
    fleet: Path = typer.Option(..., "--fleet", help="The fleet file: its pools become the nodes."),
    kubeconfig: str | None = typer.Option(None, "--kubeconfig", help=KUBECONFIG_HELP),
    state: Path = typer.Option(
        Path("topolet-cluster-state"), "--state", help="Where each node's checkpoints are kept (restart-safe)."
    ),
    admit_all: bool = typer.Option(
        False, "--admit-all", help="Admit every pod without the resource managers (a KWOK-like baseline)."
    ),
    prefix: str = typer.Option("", "--prefix", help="Prefix of the node names (<prefix><pool>-<i>)."),
    listen: str = typer.Option(
        "127.0.0.1:10255", "--listen", help="HOST:PORT of the /metrics and /readyz endpoint (port 0: any free)."
    ),
    lease_seconds: int | None = typer.Option(
        None, "--lease-duration", min=1, help="Override the pools' nodeLeaseDurationSeconds (renewed every 1/4)."
    ),
    nrt_interval: float = typer.Option(
        10.0, "--nrt-interval", min=0.0, help="Seconds between two updates of a node's NodeResourceTopology."
    ),
    status_workers: int = typer.Option(
        64,
        "--status-workers",
        min=1,
        max=1024,
        help="Pod status writes, deletions and events in flight at once (all nodes together). More keeps up with a "
        "faster control plane; too many slow an overloaded API server's answers to the node leases.",
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log every admission and API retry."),
) -> None:
    """Register the fleet's nodes and run their kubelets until SIGTERM/Ctrl-C (the nodes stay registered)."""
    _need_client()
    import asyncio
    import logging

    from topolet.cluster.fleetnodes import nodes_from_fleet
    from topolet.cluster.runner import ClusterRunner, RunOptions
    from topolet.cluster.store import StateError
    from topolet.fleet.spec import load_fleet
    from topolet.io.inputs import InputError

    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("httpx", "httpx2", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    host, _, port_s = listen.rpartition(":")
    if not host or not port_s.isdigit():
        raise _fail(f"--listen {listen}: expected HOST:PORT")
    try:
        spec = load_fleet(fleet)
        nodes = nodes_from_fleet(spec, prefix)
    except InputError as e:
        raise _fail(str(e)) from None
    opts = RunOptions(
        kubeconfig=kubeconfig,
        state_dir=state,
        fleet_name=spec.name,
        admit_all=admit_all,
        host=host,
        port=int(port_s),
        lease_seconds=lease_seconds,
        nrt_interval=nrt_interval,
        workers=status_workers,
    )
    runner = ClusterRunner(opts, nodes)

    async def main() -> None:
        runner.start_kubelets()
        await runner.run()

    from topolet.cluster.api import GiveUp, api_failure

    try:
        typer.echo(f"topolet cluster: {len(nodes)} nodes of fleet {spec.name!r}; state in {state}", err=True)
        asyncio.run(main())
    except StateError as e:
        raise _fail(str(e)) from None
    except GiveUp as e:
        raise _fail(f"the API server ({kubeconfig or 'kubeconfig from the environment'}): {e}") from None
    except Exception as e:  # the API server refused a start-up call (registration, the CRD) for good
        msg = api_failure(e)
        if msg is None:
            raise
        raise _fail(f"the API server ({kubeconfig or 'kubeconfig from the environment'}): {msg}") from None
    except OSError as e:
        raise _fail(f"{listen}: {e.strerror or e}") from None
    except KeyboardInterrupt:
        pass


@cluster_app.command("delete")
def delete_cmd(
    fleet: Path = typer.Option(..., "--fleet", help="The fleet file whose nodes to delete."),
    kubeconfig: str | None = typer.Option(None, "--kubeconfig", help=KUBECONFIG_HELP),
) -> None:
    """Delete the fleet's Nodes, Leases and NodeResourceTopology objects (stop `cluster run` first)."""
    _need_client()
    import asyncio

    from topolet.cluster.runner import delete_cluster
    from topolet.fleet.spec import load_fleet
    from topolet.io.inputs import InputError

    try:
        spec = load_fleet(fleet)
    except InputError as e:
        raise _fail(str(e)) from None
    names = asyncio.run(delete_cluster(kubeconfig, spec.name))
    for n in names:
        typer.echo(f'node "{n}" deleted')
    if not names:
        typer.echo(f"no nodes of fleet {spec.name!r} found")


@cluster_app.command("explain")
def explain_cmd(
    target: str = typer.Argument(..., help="pod/NAME (or NAME)."),
    namespace: str = typer.Option("default", "--namespace", "-n"),
    kubeconfig: str | None = typer.Option(None, "--kubeconfig", help=KUBECONFIG_HELP),
    state: Path | None = typer.Option(None, "--state", help="Read the node's checkpoints here, not from its endpoint."),
) -> None:
    """Explain a pod of the cluster: its node's state and the kubelet's admission, step by step."""
    _need_client()
    from topolet.cluster.explain import ExplainError, explain_cluster_pod

    try:
        for line in explain_cluster_pod(target, namespace, kubeconfig, state):
            typer.echo(line)
    except ExplainError as e:
        raise _fail(str(e)) from None


@cluster_app.command("describe")
def describe_cmd(
    target: str = typer.Argument(..., help="pod/NAME (or NAME)."),
    namespace: str = typer.Option("default", "--namespace", "-n"),
    kubeconfig: str | None = typer.Option(None, "--kubeconfig", help=KUBECONFIG_HELP),
    state: Path | None = typer.Option(None, "--state", help="Read the node's checkpoints here, not from its endpoint."),
) -> None:
    """A pod of the cluster as its kubelet holds it: status, each container's CPUs and NUMA nodes, the node's pools."""
    _need_client()
    from topolet.cluster.explain import ExplainError, explain_cluster_pod

    try:
        for line in explain_cluster_pod(target, namespace, kubeconfig, state, full=False):
            typer.echo(line)
    except ExplainError as e:
        raise _fail(str(e)) from None


def register(app: typer.Typer) -> None:
    app.add_typer(cluster_app, name="cluster")
