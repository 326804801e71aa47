"""The node workflow: ``node init|drain|reconfigure``, ``apply``, ``get``, ``describe``, ``delete``,
``exec`` and ``state inspect`` -- a persistent simulated node driven like kubectl.

Conventions follow kubectl: ``-f FILE|DIR|-``, ``-o json|yaml|wide|name``,
``-n NAMESPACE`` / ``-A``, results on stdout, errors on stderr (``error: ...``
for client-side errors, ``Error from server (Reason): ...`` for what the API
server would refuse), exit status 1 on any error, 2 when the kubelet refuses
its configuration (docs/exit-codes.md). Installed as ``kubectl-topolet`` too,
so ``kubectl topolet ...`` runs the same commands.

Start-up is kept cheap: the engine, rich and the renderers are imported where
a command uses them.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from topolet.cli.exits import EXIT_ERROR, EXIT_KUBELET_REFUSES, EXIT_REJECTED, check_output
from topolet.io.statefile import StateFileError
from topolet.nodedir.errors import NodeDirError, NodeStartError
from topolet.nodedir.pods import StoredPod
from topolet.nodedir.store import NodeDir, open_node, program_name

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from topolet.nodedir import api


class _LazyModule:
    """A module imported on first attribute access (the renderers pull in the engine and rich)."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        import importlib

        return getattr(importlib.import_module(self._name), attr)


node_render: Any = _LazyModule("topolet.render.node")

NODE_HELP = "The node directory (default: $TOPOLET_NODE, else ~/.local/state/topolet/node)."
OUTPUT_HELP = "Output format: json, yaml, wide or name."
NAMESPACE_HELP = "The namespace (default: default)."

_RESOURCES = {
    "pod": "pods",
    "pods": "pods",
    "po": "pods",
    "node": "nodes",
    "nodes": "nodes",
    "no": "nodes",
    "resourcequota": "resourcequotas",
    "resourcequotas": "resourcequotas",
    "quota": "resourcequotas",
    "namespace": "namespaces",
    "namespaces": "namespaces",
    "ns": "namespaces",
}
_SINGULAR = {"pods": "pod", "nodes": "node", "resourcequotas": "resourcequota", "namespaces": "namespace"}


# --------------------------------------------------------------------------- output helpers


def _echo(text: str) -> None:
    typer.echo(text)


def _err(text: str) -> None:
    typer.echo(text, err=True)


def _fail(text: str, code: int = EXIT_ERROR) -> NoReturn:
    _err(text if text.startswith(("error:", "Error from server")) else f"error: {text}")
    raise typer.Exit(code)


def _console() -> Console:
    from rich.console import Console

    return Console(file=sys.stdout, soft_wrap=True, highlight=False, markup=False, emoji=False)


def _print_renderables(items: Sequence[RenderableType]) -> None:
    c = _console()
    for r in items:
        c.print(r)


def _dump(obj: Any, fmt: str) -> None:
    from topolet.io import yamlio

    if fmt == "json":
        _echo(json.dumps(obj, indent=4))
    else:
        _echo(yamlio.dump(obj).rstrip("\n"))


def _as_list(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "List", "items": items, "metadata": {"resourceVersion": ""}}


def _check_output(o: str | None, allowed: Sequence[str]) -> None:
    check_output(o, tuple(allowed))  # a usage error, the same in every command


@contextmanager
def _node(node_dir: str | None, *, write: bool, require_kubelet: bool = True) -> Iterator[NodeDir]:
    """Open the node directory; node-level failures become kubectl-style errors."""
    try:
        with open_node(
            node_dir, write=write, require_kubelet=require_kubelet, warn=lambda w: _err(f"Warning: {w}"), eager=False
        ) as nd:
            yield nd
    except NodeStartError as e:
        _fail(
            f"the kubelet refuses to start on this node: {e.message}\n"
            f"(`{program_name()} node drain` evicts the pods and deletes the checkpoint files, as the "
            f"kubelet's remedy says; `{program_name()} node reconfigure --config FILE` changes the configuration)",
            EXIT_KUBELET_REFUSES,
        )
    except (NodeDirError, StateFileError) as e:
        _fail(getattr(e, "message", None) or str(e))


def _save(nd: NodeDir) -> None:
    """Write the change. After the commit point a failed clean-up is a warning: the change is made."""
    try:
        notes = nd.save()
    except StateFileError as e:
        _fail(f"nothing was changed: {e}")
    for n in notes:
        _err(f"Warning: {n}")


def _split_resource(args: list[str]) -> tuple[str, list[str]]:
    """``TYPE [NAME...]`` or ``TYPE/NAME ...`` -> (canonical type, names)."""
    if not args:
        _fail(
            "You must specify the type of resource to get. Use one of: pods (po), nodes (no), "
            "resourcequotas (quota), namespaces (ns)"
        )
    first = args[0]
    if "/" in first:
        kinds: set[str] = set()
        names: list[str] = []
        for a in args:
            t, _, n = a.partition("/")
            if not n or t.lower() not in _RESOURCES:
                _fail(f'the server doesn\'t have a resource type "{t}"')
            kinds.add(_RESOURCES[t.lower()])
            names.append(n)
        if len(kinds) > 1:
            _fail("topolet takes one resource type at a time")
        return kinds.pop(), names
    t = _RESOURCES.get(first.lower())
    if t is None:
        _fail(f'the server doesn\'t have a resource type "{first}"')
    return t, args[1:]


def _ns(namespace: str | None) -> str:
    return namespace or "default"


def _pods_in(
    nd: NodeDir, namespace: str | None, all_namespaces: bool, names: list[str] | None = None
) -> list[StoredPod]:
    """The pods listed (only their files are read: NAMEs given, only those pods)."""
    ns = _ns(namespace)
    rows = [r for r in nd.pods.rows() if all_namespaces or r.namespace == ns]
    if names:
        wanted = set(names)
        rows = [r for r in rows if r.name in wanted]
    return [nd.pods[r.key] for r in rows]


def _no_resources(namespace: str | None, all_namespaces: bool) -> None:
    _err("No resources found" if all_namespaces else f"No resources found in {_ns(namespace)} namespace.")


# --------------------------------------------------------------------------- node init / drain / reconfigure


def node_init(
    directory: str | None = typer.Argument(
        None, help="Where to create the node (default: the default node directory)."
    ),
    topology: str | None = typer.Option(
        None,
        "--topology",
        "-t",
        help="sysfs[:ROOT] (this machine, or a captured /sys tree), preset:NAME[,k=v...], or a FILE "
        "(explicit topology YAML/JSON, or cAdvisor MachineInfo JSON). Default: preset:2-numa.",
    ),
    config: str | None = typer.Option(
        None,
        "--config",
        "-c",
        help="The KubeletConfiguration file (copied as given). Default: the seed article's settings.",
    ),
    name: str | None = typer.Option(
        None, "--name", help="The node's name (default: topolet-node; the host name with sysfs)."
    ),
    force: bool = typer.Option(
        False, "--force", help="Replace an existing node in DIRECTORY (its pods are discarded)."
    ),
    node_dir: str | None = typer.Option(None, "--node", help="Same as DIRECTORY."),
    kubelet_version: str = typer.Option(
        "1.36",
        "--kubelet-version",
        help="The checkpoint formats the node's kubelet writes: 1.36 (CPU V3/V2, memory V2/V1) or 1.37 "
        "(CPU V4, memory V3).",
    ),
    from_capture: str | None = typer.Option(
        None,
        "--from-capture",
        help="A bundle of `topolet node capture`: the node's topology, kubelet configuration, checkpoints "
        "and pods are taken from it.",
    ),
) -> None:
    """Create a node: its topology, kubelet configuration and fresh kubelet checkpoints."""
    if from_capture is not None:
        from topolet.cli import realnode_cmds

        realnode_cmds.init_from_capture(directory or node_dir, from_capture, topology, config, name, force)
        return
    from topolet.nodedir.store import init_node

    try:
        res = init_node(
            directory or node_dir, topology, config, name=name, force=force, kubelet_version=kubelet_version
        )
    except NodeStartError as e:
        _fail(e.message, EXIT_KUBELET_REFUSES)
    except NodeDirError as e:
        _fail(e.message)
    for w in res.warnings:
        _err(f"Warning: {w}")
    nd = res.nd
    cfg = nd.config
    _echo(f"node/{nd.name} {'replaced' if res.replaced else 'created'}")
    _echo(
        node_render.tabwrite(
            "\n".join(
                [
                    f"  directory:\t{nd.path}",
                    f"  topology:\t{nd.topology.describe()} ({nd.meta.topology_source})",
                    f"  kubelet:\tcpuManagerPolicy {cfg.cpu_manager_policy}, memoryManagerPolicy "
                    f"{cfg.memory_manager_policy}, topologyManagerPolicy {cfg.topology_manager_policy}, "
                    f"topologyManagerScope {cfg.topology_manager_scope}",
                ]
            )
        )
    )


def node_drain(node_dir: str | None = typer.Option(None, "--node", help=NODE_HELP)) -> None:
    """Evict every pod from the node (like kubectl drain); their CPUs and memory return to the node.

    When the kubelet refuses to start (for example a configuration whose policy differs from the
    checkpoints), the checkpoint files are deleted too, as the kubelet's remedy says.
    """
    from topolet.nodedir import api

    with _node(node_dir, write=True, require_kubelet=False) as nd:
        down = nd.node is None
        evicted = api.drain(nd)
        _save(nd)
    for sp in evicted:
        _echo(f"evicting pod {sp.pod.namespace}/{sp.pod.name}")
    for sp in evicted:
        _echo(f"pod/{sp.pod.name} evicted")
    if down:
        _err(
            "Warning: the kubelet could not start, so the checkpoint files cpu_manager_state and "
            "memory_manager_state were deleted (the kubelet's remedy)"
            + ("; it now starts with fresh state" if nd.node is not None else "")
        )
    _echo(f"node/{nd.name} drained")


def node_reconfigure(
    config: str = typer.Option(..., "--config", "-c", help="The new KubeletConfiguration file."),
    node_dir: str | None = typer.Option(None, "--node", help=NODE_HELP),
) -> None:
    """Restart the node's kubelet with another configuration (refused like the kubelet while pods run)."""
    from topolet.nodedir import api

    with _node(node_dir, write=True, require_kubelet=False) as nd:
        try:
            res = api.reconfigure(nd, config)
        except NodeStartError as e:
            _fail(e.message, EXIT_KUBELET_REFUSES)
        except NodeDirError as e:
            _fail(e.message)
        _save(nd)
    for n in res.notes:
        _err(f"Warning: {n}")
    cfg = nd.config
    _echo(
        f"node/{nd.name} reconfigured (cpuManagerPolicy {cfg.cpu_manager_policy}, memoryManagerPolicy "
        f"{cfg.memory_manager_policy}, topologyManagerPolicy {cfg.topology_manager_policy}, "
        f"topologyManagerScope {cfg.topology_manager_scope})"
    )


def node_restart(node_dir: str | None = typer.Option(None, "--node", help=NODE_HELP)) -> None:
    """Restart the node's kubelet as kubelet 1.36.2 does: the running pods are re-admitted in creation order.

    A pod with pod-level resources may move to other CPUs (its old CPUs leak), have its memory counted
    twice, or be rejected and killed (kubernetes#140989, #140906, fixed in 1.37).
    """
    from topolet.nodedir import api

    refused: NodeStartError | None = None
    with _node(node_dir, write=True, require_kubelet=False) as nd:
        try:
            res = api.restart(nd)
        except NodeStartError as e:
            refused = e
        _save(nd)
    if refused is not None:
        _fail(
            f"the kubelet refuses to start on this node: {refused.message}\n"
            "The node is NotReady; its pods run on unmanaged. "
            f"(`{program_name()} node drain` evicts the pods and deletes the checkpoint files, as the "
            "kubelet's remedy says)",
            EXIT_KUBELET_REFUSES,
        )
    for n in res.notes:
        _err(f"Warning: {n}")
    _echo(f"node/{nd.name} restarted")


# --------------------------------------------------------------------------- apply


def _load_planned(files: list[str], namespace: str | None, nd: NodeDir, validate: str = "ignore") -> list[api.Planned]:
    """The objects of the files; ``validate``: field validation (kubectl delete -f does none)."""
    from topolet.io.inputs import InputError, load_objects
    from topolet.nodedir import api

    try:
        objs = load_objects(files, validate)
        gates = nd.node.gates if nd.node is not None else nd.config.feature_gates
        planned = api.plan_objects(objs, namespace, gates)
    except InputError as e:
        _fail(str(e))
    except api.ApplyInputError as e:
        _fail(e.message)
    for p in planned:
        if p.kind == "ignored":
            _err(
                f"Warning: {p.source}: {p.name} ignored "
                "(topolet applies Pods, workloads, ResourceQuotas and Namespaces)"
            )
    return planned


def apply_cmd(
    filename: list[str] = typer.Option(..., "--filename", "-f", help="Manifest files or directories, or - for stdin."),
    namespace: str | None = typer.Option(None, "--namespace", "-n", help=NAMESPACE_HELP),
    output: str | None = typer.Option(None, "--output", "-o", help="Output format: name, json or yaml."),
    fail_on_rejection: bool = typer.Option(
        False, "--fail-on-rejection", help="Exit 3 when the kubelet rejects a pod (kubectl itself exits 0)."
    ),
    node_dir: str | None = typer.Option(None, "--node", help=NODE_HELP),
    validate: str = typer.Option(
        "strict",
        "--validate",
        help="Field validation, as kubectl's: strict (or true: unknown fields are an error), warn, ignore (or false).",
    ),
) -> None:
    """Create pods (workloads expand to their pods), ResourceQuotas and Namespaces on the node.

    Each pod line says whether the kubelet admitted it (pod/NAME created) or rejected it, with the
    kubelet's reason and message; a rejected pod stays as Failed and holds no resources.
    """
    from topolet.io.inputs import InputError, check_validate
    from topolet.nodedir import api

    _check_output(output, ("name", "json", "yaml"))
    try:
        check_validate(validate)
    except InputError as e:
        _fail(str(e))
    with _node(node_dir, write=True) as nd:
        planned = _load_planned(filename, namespace, nd, validate)
        outcomes = api.apply(nd, planned)
        if any(o.action in ("created", "configured") for o in outcomes):
            _save(nd)
        errors = 0
        rejected = 0
        objs: list[dict[str, Any]] = []
        for o in outcomes:
            if not o.ok:
                errors += 1
                _err(o.error)
                continue
            if o.rejected and o.action == "created":
                rejected += 1
            ref = f"{o.kind}/{o.name}"
            if output == "name":
                _echo(ref)
            elif output in ("json", "yaml"):
                if o.kind == "pod" and o.stored is not None:
                    objs.append(node_render.pod_object(nd, o.stored))
                elif o.kind == "resourcequota":
                    q = nd.quotas.get(f"{o.namespace}/{o.name}")
                    if q is not None:
                        objs.append(node_render.quota_object(nd, q))
                else:
                    objs.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": o.name}})
            elif o.rejected and o.action == "created" and o.stored is not None:
                _echo(f"{ref} rejected by the kubelet: {o.stored.reason}: {o.stored.status_message}")
            else:
                _echo(f"{ref} {o.action}")
        if objs:
            _dump(objs[0] if len(objs) == 1 else _as_list(objs), output or "yaml")
    if errors:
        raise typer.Exit(1)
    if rejected and fail_on_rejection:
        raise typer.Exit(EXIT_REJECTED)


# --------------------------------------------------------------------------- get


def get_cmd(
    args: list[str] = typer.Argument(
        None, metavar="TYPE [NAME...]", help="pods|nodes|resourcequotas|namespaces, then names (or TYPE/NAME)."
    ),
    output: str | None = typer.Option(None, "--output", "-o", help=OUTPUT_HELP),
    namespace: str | None = typer.Option(None, "--namespace", "-n", help=NAMESPACE_HELP),
    all_namespaces: bool = typer.Option(False, "--all-namespaces", "-A", help="List across all namespaces."),
    node_dir: str | None = typer.Option(None, "--node", help=NODE_HELP),
) -> None:
    """List pods (status, and with -o wide QoS, CPUs and NUMA nodes), the node, quotas or namespaces."""
    _check_output(output, ("json", "yaml", "wide", "name"))
    kind, names = _split_resource(list(args or []))
    with _node(node_dir, write=False, require_kubelet=False) as nd:
        _get(nd, kind, names, output, namespace, all_namespaces)


def _select(
    kind: str, names: list[str], found: dict[str, Any], make_missing: Callable[[str], str]
) -> tuple[list[Any], int]:
    out: list[Any] = []
    missing = 0
    for n in names:
        if n in found:
            out.append(found[n])
        else:
            missing += 1
            _err(make_missing(n))
    return out, missing


def _get(nd: NodeDir, kind: str, names: list[str], output: str | None, namespace: str | None, all_ns: bool) -> None:
    missing = 0
    if kind == "pods":
        pods = _pods_in(nd, namespace, all_ns and not names, names)
        if names:
            by_name = {sp.pod.name: sp for sp in pods}
            pods, missing = _select(
                kind, names, by_name, lambda n: f'Error from server (NotFound): pods "{n}" not found'
            )
        if not pods and not names:
            _no_resources(namespace, all_ns)
        elif pods:
            if output in ("json", "yaml"):
                objs = [node_render.pod_object(nd, sp) for sp in pods]
                _dump(objs[0] if len(names) == 1 and len(objs) == 1 else _as_list(objs), output)
            elif output == "name":
                _echo("\n".join(f"pod/{sp.pod.name}" for sp in pods))
            else:
                _echo(node_render.pods_table(nd, pods, wide=output == "wide", all_namespaces=all_ns and not names))
    elif kind == "nodes":
        if names and any(n != nd.name for n in names):
            for n in names:
                if n != nd.name:
                    _err(f'Error from server (NotFound): nodes "{n}" not found')
                    missing += 1
            if all(n != nd.name for n in names):
                raise typer.Exit(1)
        if output in ("json", "yaml"):
            obj = node_render.node_object(nd)
            _dump(obj if names else _as_list([obj]), output)
        elif output == "name":
            _echo(f"node/{nd.name}")
        else:
            _echo(node_render.nodes_table(nd, wide=output == "wide"))
    elif kind == "resourcequotas":
        ns = _ns(namespace)
        quotas = [q for q in nd.quotas.values() if (all_ns and not names) or q.namespace == ns]
        if names:
            by_name = {q.name: q for q in quotas}
            quotas, missing = _select(
                kind, names, by_name, lambda n: f'Error from server (NotFound): resourcequotas "{n}" not found'
            )
        if not quotas and not names:
            _no_resources(namespace, all_ns)
        elif quotas:
            if output in ("json", "yaml"):
                objs = [node_render.quota_object(nd, q) for q in quotas]
                _dump(objs[0] if len(names) == 1 and len(objs) == 1 else _as_list(objs), output)
            elif output == "name":
                _echo("\n".join(f"resourcequota/{q.name}" for q in quotas))
            else:
                _echo(node_render.quotas_table(nd, quotas, all_namespaces=all_ns and not names))
    else:  # namespaces
        all_names = {"default", "kube-node-lease", "kube-public", "kube-system", *nd.namespaces}
        sel = sorted(all_names)
        if names:
            sel, missing = _select(
                kind,
                names,
                {n: n for n in all_names},
                lambda n: f'Error from server (NotFound): namespaces "{n}" not found',
            )
        if output in ("json", "yaml"):
            objs = [
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}, "status": {"phase": "Active"}}
                for n in sel
            ]
            _dump(objs[0] if len(names) == 1 and len(objs) == 1 else _as_list(objs), output)
        elif output == "name":
            _echo("\n".join(f"namespace/{n}" for n in sel))
        elif sel:
            table = node_render.namespaces_table(nd).splitlines()
            keep = set(sel)
            _echo("\n".join([table[0], *[ln for ln in table[1:] if ln.split(" ", 1)[0] in keep]]))
    if missing:
        raise typer.Exit(1)


# --------------------------------------------------------------------------- describe


def describe_cmd(
    args: list[str] = typer.Argument(
        None, metavar="TYPE [NAME...]", help="pod NAME, node, resourcequota NAME (or TYPE/NAME)."
    ),
    namespace: str | None = typer.Option(None, "--namespace", "-n", help=NAMESPACE_HELP),
    all_namespaces: bool = typer.Option(False, "--all-namespaces", "-A", help="Describe across all namespaces."),
    node_dir: str | None = typer.Option(None, "--node", help=NODE_HELP),
) -> None:
    """Show a pod's CPU and memory assignment (per container Cpus_allowed_list, Mems_allowed_list, memory
    blocks; the pod's budget, bubble and shared pool), the node's policies and use, or a quota."""
    kind, names = _split_resource(list(args or []))
    with _node(node_dir, write=False, require_kubelet=False) as nd:
        missing = 0
        blocks: list[list[RenderableType]] = []
        if kind == "pods":
            pods = _pods_in(nd, namespace, all_namespaces and not names, names)
            if names:
                pods, missing = _select(
                    kind,
                    names,
                    {sp.pod.name: sp for sp in pods},
                    lambda n: f'Error from server (NotFound): pods "{n}" not found',
                )
            elif not pods:
                _no_resources(namespace, all_namespaces)
            blocks = [node_render.describe_pod_renderables(nd, sp) for sp in pods]
        elif kind == "nodes":
            bad = [n for n in names if n != nd.name]
            for n in bad:
                _err(f'Error from server (NotFound): nodes "{n}" not found')
            missing = len(bad)
            if not names or len(bad) < len(names):
                blocks = [node_render.describe_node_renderables(nd)]
        elif kind == "resourcequotas":
            ns = _ns(namespace)
            quotas = [q for q in nd.quotas.values() if (all_namespaces and not names) or q.namespace == ns]
            if names:
                quotas, missing = _select(
                    kind,
                    names,
                    {q.name: q for q in quotas},
                    lambda n: f'Error from server (NotFound): resourcequotas "{n}" not found',
                )
            elif not quotas:
                _no_resources(namespace, all_namespaces)
            from rich.text import Text

            blocks = [[Text(node_render.describe_quota_text(nd, q))] for q in quotas]
        else:
            _fail("topolet describes pods, nodes and resourcequotas")
        for i, b in enumerate(blocks):
            if i:
                _echo("\n")
            _print_renderables(b)
    if missing:
        raise typer.Exit(1)


# --------------------------------------------------------------------------- delete


def delete_cmd(
    args: list[str] = typer.Argument(
        None, metavar="[TYPE [NAME...]]", help="pod NAME..., resourcequota NAME, namespace NAME (or TYPE/NAME)."
    ),
    filename: list[str] = typer.Option(None, "--filename", "-f", help="Delete what these manifests describe."),
    namespace: str | None = typer.Option(None, "--namespace", "-n", help=NAMESPACE_HELP),
    all_: bool = typer.Option(False, "--all", help="Delete every object of the type in the namespace."),
    ignore_not_found: bool = typer.Option(False, "--ignore-not-found", help="Treat a missing object as deleted."),
    output: str | None = typer.Option(None, "--output", "-o", help="Output format: name."),
    node_dir: str | None = typer.Option(None, "--node", help=NODE_HELP),
) -> None:
    """Delete pods (their CPUs and memory return to the node), quotas or namespaces."""
    from topolet.nodedir import api

    _check_output(output, ("name",))
    if filename and args:
        _fail("give either -f FILE or TYPE NAME..., not both")
    if not filename and not args:
        _fail("You must provide one or more resources by argument or filename.")
    with _node(node_dir, write=True, require_kubelet=False) as nd:
        if filename:
            outcomes = api.delete_planned(nd, _load_planned(filename, namespace, nd))
        else:
            kind, names = _split_resource(list(args))
            ns = _ns(namespace)
            if all_:
                if kind == "pods":
                    names = [r.name for r in nd.pods.rows() if r.namespace == ns]
                elif kind == "resourcequotas":
                    names = [q.name for q in nd.quotas.values() if q.namespace == ns]
                else:
                    _fail(f"--all is not supported for {kind}")
                if not names:
                    _echo("No resources found")
            elif not names:
                _fail("resource(s) were provided, but no name was specified")
            outcomes = []
            for n in names:
                if kind == "pods":
                    outcomes.append(api.delete_pod(nd, n, ns))
                elif kind == "resourcequotas":
                    outcomes.append(api.delete_quota(nd, n, ns))
                elif kind == "namespaces":
                    outcomes.extend(api.delete_namespace(nd, n))
                else:
                    _fail("a node cannot be deleted with topolet delete (remove its directory)")
        if any(o.ok for o in outcomes):
            _save(nd)
    errors = 0
    for o in outcomes:
        if not o.ok:
            if ignore_not_found and "(NotFound)" in o.error:
                continue
            errors += 1
            _err(o.error)
        elif output == "name":
            _echo(f"{o.kind}/{o.name}")
        elif o.kind == "namespace":
            _echo(f'namespace "{o.name}" deleted')
        else:
            _echo(f'{o.kind} "{o.name}" deleted from {o.namespace} namespace')
    if errors:
        raise typer.Exit(1)


# --------------------------------------------------------------------------- exec


def exec_cmd(
    pod: str = typer.Argument(..., metavar="POD", help="The pod (or pod/NAME)."),
    command: list[str] = typer.Argument(None, metavar="-- COMMAND [ARGS...]", help="cat /proc/self/status, ..."),
    container: str | None = typer.Option(None, "--container", "-c", help="The container (default: the first one)."),
    namespace: str | None = typer.Option(None, "--namespace", "-n", help=NAMESPACE_HELP),
    node_dir: str | None = typer.Option(None, "--node", help=NODE_HELP),
) -> None:
    """Print what a command reading the container's affinity sees: `cat /proc/self/status` shows the
    Cpus_allowed_list and Mems_allowed_list the kubelet's assignment gives. Other commands are refused."""
    name = pod.split("/", 1)[1] if pod.startswith(("pod/", "pods/", "po/")) else pod
    with _node(node_dir, write=False, require_kubelet=False) as nd:
        sp = nd.find_pod(name, _ns(namespace))
        if sp is None:
            _fail(f'Error from server (NotFound): pods "{name}" not found')
        if not sp.admitted:
            _fail(f"cannot exec into a container in a completed pod; current phase is {sp.phase}")
        if nd.node is None:
            _fail("the kubelet on this node is not running (it refuses to start), so no container runs")
        v = node_render.pod_view(nd, sp)
        names = [c.name for c in sp.pod.containers] + [c.name for c in sp.pod.init_containers]
        if container is None:
            container = sp.pod.containers[0].name
            if len(names) > 1:
                _err(f'Defaulted container "{container}" out of: {", ".join(names)}')
        alloc = next((a for a in v.containers if a.name == container), None)
        if alloc is None:
            _fail(f"container {container} is not valid for pod {name}")
        if alloc.kind == "init":
            _fail(
                f'cannot exec into container "{container}": it is an init container that has run to completion '
                f"(describe pod shows what it was given)"
            )
        nr_cpu_ids = max(nd.topology.cpus) + 1
        from topolet.cli import node_exec

        try:
            out = node_exec.run(list(command or []), alloc, nr_cpu_ids)
        except node_exec.ExecNotSupported as e:
            _fail(str(e))
    sys.stdout.write(out)
    sys.stdout.flush()


# --------------------------------------------------------------------------- registration


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``topolet`` app."""
    node_app = typer.Typer(
        name="node",
        help="Create and manage the simulated node (a node directory: topology, kubelet configuration, pods, "
        "checkpoints).",
        no_args_is_help=True,
    )
    node_app.command("init")(node_init)
    node_app.command("drain")(node_drain)
    node_app.command("reconfigure")(node_reconfigure)
    node_app.command("restart")(node_restart)
    from topolet.cli import realnode_cmds

    realnode_cmds.register(app, node_app)
    app.add_typer(node_app, name="node")
    app.command("apply")(apply_cmd)
    app.command("get")(get_cmd)
    app.command("describe")(describe_cmd)
    app.command("delete")(delete_cmd)
    app.command("exec")(exec_cmd)
