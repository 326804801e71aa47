"""The ``topolet`` command line: the root command, its (lazily loaded) sub-commands, exit codes, Ctrl-C.

Start-up is kept cheap: this module imports nothing heavy at module level, the
root ``--help`` is written from the table below without importing any command
module, and a command's module is imported only when that command runs. A
module adds its commands with ``register(app: typer.Typer)``; to add one, add
a line to :data:`COMMANDS` (name, module, one-line help).

Every command ends through :class:`LazyGroup.main`: errors become ``error: ...``
on stderr with the exit codes of :mod:`topolet.cli.exits` (also for click's usage
errors), Ctrl-C exits 130 quietly, and kubectl-like global options given before
the command (``topolet --node DIR get pods``) are passed on to it.
"""

from __future__ import annotations

import os
import sys
from typing import Any


def _exit_on_sigint(_signum: int, _frame: Any) -> None:  # pragma: no cover - exercised in a subprocess
    os._exit(130)


# Run as the console script: a Ctrl-C while the interpreter is still importing ends quietly (130).
# main() puts the default handler back before a command runs (KeyboardInterrupt, handled there).
if os.path.basename(sys.argv[0]) in ("topolet", "kubectl-topolet"):
    import signal

    signal.signal(signal.SIGINT, _exit_on_sigint)

#: name -> (module, one-line help for the root --help), in the order the root help lists them.
COMMANDS: dict[str, tuple[str, str]] = {
    "predict": ("topolet.cli.predict_cmds", "Would a fresh node admit these pods, and what would each container get?"),
    "demo": ("topolet.cli.predict_cmds", "The seed article's database pod on the seed article's kubelet."),
    "presets": ("topolet.cli.predict_cmds", "List the machine presets usable as --topology preset:NAME."),
    "explain": ("topolet.cli.explain_cmds", "Explain an admission step by step in the kubelet's terms."),
    "map": ("topolet.cli.explain_cmds", "Draw the node: sockets, NUMA nodes, cores, threads and their owners."),
    "report": ("topolet.cli.explain_cmds", "Write one self-contained HTML report of the node and its pods."),
    "node": ("topolet.cli.node_cmds", "Create and manage the simulated node (init, drain, reconfigure)."),
    "apply": ("topolet.cli.node_cmds", "Create pods, ResourceQuotas and Namespaces on the node."),
    "get": ("topolet.cli.node_cmds", "List pods, the node, quotas or namespaces."),
    "describe": ("topolet.cli.node_cmds", "Show a pod's CPU and memory assignment, the node, or a quota."),
    "delete": ("topolet.cli.node_cmds", "Delete pods, quotas or namespaces."),
    "exec": ("topolet.cli.node_cmds", "Print what `cat /proc/self/status` shows in a container."),
    "verify": ("topolet.cli.node_cmds", "Compare a real node's checkpoints, cgroup cpusets and topolet's view."),
    "state": ("topolet.cli.node_state", "Read the kubelet's state files (state inspect)."),
    "test": ("topolet.cli.test_cmds", "Run scenario files against the engine."),
    "fleet": ("topolet.cli.fleet_cmds", "Fleet what-ifs: place a workload on node pools."),
    "cluster": ("topolet.cli.cluster_cmds", "Simulated kubelets for a fleet's nodes, registered in a real API server."),
}

#: kubectl-like options a user may give before the command; they are moved after it.
GLOBAL_VALUE_OPTIONS = ("--node", "--output", "-o", "--namespace", "-n", "--kubeconfig")
GLOBAL_FLAGS = ("--all-namespaces", "-A")

ROOT_HELP = "Predict what the kubelet's topology, CPU and memory managers do (Kubernetes 1.36)."


def hoist_global_options(args: list[str]) -> list[str]:
    """``--node DIR get pods`` -> ``get pods --node DIR`` (before a ``--``, which ends the options)."""
    moved: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a in GLOBAL_VALUE_OPTIONS and i + 1 < len(args):
            moved += [a, args[i + 1]]
            i += 2
        elif (
            a in GLOBAL_FLAGS
            or a.startswith(("--node=", "--output=", "--namespace=", "--kubeconfig="))
            or (len(a) > 2 and a[:2] in ("-o", "-n") and not a.startswith("--"))
        ):
            moved.append(a)
            i += 1
        else:
            break
    if not moved:
        return args
    rest = args[i:]
    if not rest:  # options but no command: let the root say what is missing
        return args
    if "--" in rest:
        k = rest.index("--")
        return rest[:k] + moved + rest[k:]
    return rest + moved


def _debug() -> bool:
    return os.environ.get("TOPOLET_TRACEBACK", "") not in ("", "0")


def _quiet_interrupt() -> None:
    """After Ctrl-C: no noise from clean-up (Dask's atexit close_clusters, logging), a second Ctrl-C ends at once."""
    import atexit
    import contextlib
    import logging
    import signal

    with contextlib.suppress(Exception):
        signal.signal(signal.SIGINT, lambda *_: os._exit(130))
    logging.disable(logging.CRITICAL)
    sys.unraisablehook = lambda _u: None
    spec = sys.modules.get("distributed.deploy.spec")
    close = getattr(spec, "close_clusters", None)
    if close is not None:
        atexit.unregister(close)

        def _close_quietly() -> None:
            with contextlib.suppress(BaseException):
                close()

        atexit.register(_close_quietly)


def _make_app() -> Any:
    import importlib

    import typer
    from typer import _click
    from typer.core import TyperGroup

    from topolet.cli import exits

    loaded: dict[str, Any] = {}

    def _module_group(module: str) -> Any:
        grp = loaded.get(module)
        if grp is None:
            sub = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
            importlib.import_module(module).register(sub)
            grp = typer.main.get_group(sub)
            loaded[module] = grp
        return grp

    class LazyGroup(TyperGroup):
        """The root: commands are imported when used; errors and exit codes are handled here."""

        def list_commands(self, ctx: Any) -> list[str]:
            return list(COMMANDS)

        def get_command(self, ctx: Any, cmd_name: str) -> Any:
            entry = COMMANDS.get(cmd_name)
            if entry is None:
                return None
            return _module_group(entry[0]).commands.get(cmd_name)

        def resolve_command(self, ctx: Any, args: list[str]) -> Any:
            name = args[0] if args else ""
            if name and name not in COMMANDS and not name.startswith("-"):
                import difflib

                close = difflib.get_close_matches(name, list(COMMANDS), n=1)
                hint = f"\nDid you mean this?\n\t{close[0]}" if close else ""
                raise exits.CLIError(
                    f'unknown command "{name}" for "{ctx.command_path}"{hint}\n'
                    f"Run '{ctx.command_path} --help' for usage.",
                    exits.EXIT_USAGE,
                )
            return super().resolve_command(ctx, args)

        def format_help(self, ctx: Any, formatter: Any) -> None:
            prog = ctx.command_path
            width = max(len(n) for n in COMMANDS) + 2
            lines = [ROOT_HELP, "", f"Usage: {prog} [GLOBAL OPTIONS] COMMAND [ARGS]...", "", "Commands:"]
            lines += [f"  {n.ljust(width)}{h}" for n, (_m, h) in COMMANDS.items()]
            lines += [
                "",
                "Global options (kubectl-like; also accepted before the command):",
                "  --node DIR              the node directory (default: $TOPOLET_NODE, else "
                "~/.local/state/topolet/node)",
                "  -o, --output FORMAT     output format (json, yaml, wide, name, ... as the command takes)",
                "  -n, --namespace NS      the namespace;  -A, --all-namespaces",
                "",
                "Exit status: " + "; ".join(f"{c} {m.split(':')[0].split(' (')[0]}" for c, m in exits.TABLE) + ".",
                "(docs/exit-codes.md)",
                "",
                f"Run '{prog} COMMAND --help' for a command's options.",
            ]
            formatter.write("\n".join(lines) + "\n")

        def main(  # type: ignore[override]
            self, args: Any = None, prog_name: str | None = None, standalone_mode: bool = True, **extra: Any
        ) -> Any:
            argv = list(sys.argv[1:] if args is None else args)
            argv = hoist_global_options(argv)
            code = run_guarded(lambda: super(LazyGroup, self).main(argv, prog_name, standalone_mode=False, **extra))
            if standalone_mode:
                sys.stdout.flush()
                sys.exit(code)
            return code

    def run_guarded(call: Any) -> int:
        try:
            rv = call()
            code = rv if isinstance(rv, int) else 0
            if code == exits.EXIT_INTERRUPTED:  # typer turns KeyboardInterrupt into Exit(130)
                _quiet_interrupt()
            return code
        except exits.CLIError as e:
            typer.echo(f"error: {e.message}", err=True)
            return e.code
        except _click.exceptions.NoArgsIsHelpError as e:
            assert e.ctx is not None
            typer.echo(e.ctx.get_help())
            return exits.EXIT_OK
        except _click.exceptions.UsageError as e:
            cmd = e.ctx.command_path if e.ctx is not None else "topolet"
            typer.echo(f"error: {e.format_message()}\nSee '{cmd} --help' for usage.", err=True)
            return exits.EXIT_USAGE
        except _click.exceptions.ClickException as e:
            typer.echo(f"error: {e.format_message()}", err=True)
            return exits.EXIT_ERROR
        except (KeyboardInterrupt, typer.Abort):
            _quiet_interrupt()
            return exits.EXIT_INTERRUPTED
        except BrokenPipeError:
            import contextlib

            with contextlib.suppress(OSError):  # a closed pipe (| head): stop writing, quietly
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return exits.EXIT_ERROR
        except Exception as e:
            if _debug():
                raise
            typer.echo(
                f"error: internal error ({type(e).__name__}: {e}); this is a topolet bug: please report it "
                "(TOPOLET_TRACEBACK=1 shows the traceback)",
                err=True,
            )
            return exits.EXIT_ERROR

    app = typer.Typer(
        name="topolet",
        cls=LazyGroup,
        help=ROOT_HELP,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )

    @app.callback()
    def _root() -> None:
        """Predict what the kubelet's topology, CPU and memory managers do (Kubernetes 1.36)."""

    return app


_APP: Any = None


def __getattr__(name: str) -> Any:
    """``topolet.cli.main.app``: the root Typer app (built on first use)."""
    global _APP
    if name == "app":
        if _APP is None:
            _APP = _make_app()
        return _APP
    raise AttributeError(name)


def main() -> None:
    """The console script (``topolet`` and ``kubectl-topolet``)."""
    import signal

    signal.signal(signal.SIGINT, _exit_on_sigint)  # until the command runs: a Ctrl-C in the imports ends quietly
    code = 130
    try:
        try:
            from pathlib import Path

            # as a kubectl plugin (kubectl-topolet), usage lines say "kubectl topolet"
            prog = "kubectl topolet" if Path(sys.argv[0]).name == "kubectl-topolet" else None
            app = __getattr__("app")
            signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C is now KeyboardInterrupt, handled
            code = app(prog_name=prog)
        finally:
            signal.signal(signal.SIGINT, _exit_on_sigint)  # finishing: a Ctrl-C now ends at once, quietly
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except KeyboardInterrupt:  # between the handlers
        _quiet_interrupt()
        code = 130
    import contextlib

    with contextlib.suppress(OSError, ValueError):  # a closed pipe
        sys.stdout.flush()
    sys.exit(code)
