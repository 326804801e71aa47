"""Real nodes: ``topolet node capture``, ``topolet verify`` and ``node init --from-capture``.

Exit status: 0 done / clean, 1 bad input (the message names what and where),
3 ``verify`` found a difference.
"""

from __future__ import annotations

import json
import sys
from typing import NoReturn

import typer

from topolet.cli.exits import EXIT_DIFFERENCE


def _fail(text: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {text}", err=True)
    raise typer.Exit(code)


def node_capture(
    root: str = typer.Option("/", "--root", help="The host's root (/host under kubectl debug node/NAME)."),
    output: str = typer.Option("node-capture.tar.gz", "--output", "-o", help="The bundle to write (.tar.gz)."),
    kubelet_config: str | None = typer.Option(
        None,
        "--kubelet-config",
        help="The KubeletConfiguration file (default: the running kubelet's --config, else "
        "/var/lib/kubelet/config.yaml under --root).",
    ),
    kubepods: str | None = typer.Option(
        None, "--kubepods", help="The kubepods cgroup directory (default: found under ROOT/sys/fs/cgroup)."
    ),
    podresources_socket: str | None = typer.Option(
        None, "--podresources-socket", help="The kubelet's PodResources socket (default: under its root dir)."
    ),
    cri_socket: str | None = typer.Option(
        None, "--cri-socket", help="The container runtime's socket (default: the kubelet's, or containerd/CRI-O)."
    ),
    no_apis: bool = typer.Option(False, "--no-apis", help="Do not query the PodResources and CRI sockets."),
) -> None:
    """Capture a real node (read only): topology, kubelet config, checkpoints, PodResources, cgroup cpusets."""
    from topolet.realnode.capture import CaptureError, capture_node, write_bundle

    try:
        cap = capture_node(
            root,
            kubelet_config=kubelet_config,
            kubepods=kubepods,
            podresources_socket=podresources_socket,
            cri_socket=cri_socket,
            use_apis=not no_apis,
        )
        write_bundle(cap, output)
    except CaptureError as e:
        _fail(str(e))
    typer.echo(f"node capture written to {output}")
    for key, what in cap.found.items():
        typer.echo(f"  found    {key}: {what}")
    for key, why in cap.missing.items():
        typer.echo(f"  missing  {key}: {why}")


def verify_cmd(
    root: str | None = typer.Option(None, "--root", help="Verify the node this runs on (its host root)."),
    capture: str | None = typer.Option(None, "--capture", help="Verify a bundle of `topolet node capture`."),
    output: str | None = typer.Option(None, "--output", "-o", help="Output format: json."),
    kubepods: str | None = typer.Option(None, "--kubepods", help="With --root: the kubepods cgroup directory."),
    kubelet_config: str | None = typer.Option(None, "--kubelet-config", help="With --root: the kubelet config."),
    no_apis: bool = typer.Option(False, "--no-apis", help="With --root: do not query the PodResources/CRI sockets."),
) -> None:
    """Compare the kubelet's checkpoints, the kernel's cpusets and topolet's view. Exit 0 clean, 3 differences."""
    from topolet.realnode.capture import CaptureError, capture_node, read_bundle
    from topolet.realnode.verify import VerifyInputError, verify

    if output not in (None, "json"):
        _fail(f"--output {output}: unknown output format (json)")
    if root is not None and capture is not None:
        _fail("give --root or --capture, not both")
    try:
        if capture is not None:
            cap = read_bundle(capture)
        else:
            cap = capture_node(root or "/", kubelet_config=kubelet_config, kubepods=kubepods, use_apis=not no_apis)
        report = verify(cap)
    except (CaptureError, VerifyInputError) as e:
        _fail(str(e))
    if output == "json":
        sys.stdout.write(json.dumps(report.to_dict(), indent=2) + "\n")
    else:
        from topolet.render.verify_text import verify_text

        typer.echo(verify_text(report))
    raise typer.Exit(0 if report.clean else EXIT_DIFFERENCE)


def init_from_capture(
    directory: str | None,
    bundle: str,
    topology: str | None,
    config: str | None,
    name: str | None,
    force: bool,
) -> None:
    """``node init --from-capture``: see :mod:`topolet.realnode.nodeinit`."""
    from topolet.io.inputs import InputError, load_kubelet_config_file, read_text
    from topolet.nodedir.store import NodeDirError
    from topolet.realnode.capture import CaptureError, read_bundle
    from topolet.realnode.nodeinit import init_node_from_capture
    from topolet.realnode.verify import VerifyInputError

    if topology is not None:
        _fail("--topology and --from-capture: the topology comes from the capture")
    try:
        override = None
        if config is not None:
            override = (load_kubelet_config_file(config), read_text(config).encode("utf-8"), config)
        cap = read_bundle(bundle)
        nd, warnings = init_node_from_capture(directory, cap, config_override=override, name=name, force=force)
    except (InputError, CaptureError, VerifyInputError, NodeDirError) as e:
        _fail(getattr(e, "message", None) or str(e))
    for w in warnings:
        typer.echo(f"Warning: {w}", err=True)
    cfg = nd.config
    typer.echo(f"node/{nd.name} created from {bundle}")
    typer.echo(f"  directory:  {nd.path}")
    typer.echo(f"  topology:   {nd.topology.describe()}")
    typer.echo(
        f"  kubelet:    {nd.meta.kubelet_version} checkpoints, cpuManagerPolicy {cfg.cpu_manager_policy}, "
        f"memoryManagerPolicy {cfg.memory_manager_policy}, topologyManagerPolicy {cfg.topology_manager_policy}"
    )
    typer.echo(f"  pods:       {len(nd.pods)} (reconstructed from the checkpoints)")


def register(app: typer.Typer, node_app: typer.Typer | None = None) -> None:
    """Add ``verify`` to the app and ``capture`` to the ``node`` group."""
    app.command("verify")(verify_cmd)
    if node_app is not None:
        node_app.command("capture")(node_capture)
