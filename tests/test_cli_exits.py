"""Issue 12: one exit-code table for every command, usage errors alike everywhere, Ctrl-C exits 130 quietly,
global options before the command, and what `topolet --help` / `get pods` import (start-up cost)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from paths import SEED_CONFIG, SEED_POD
from topolet.cli import exits
from topolet.cli.main import COMMANDS, app, hoist_global_options
from topolet.nodedir import init_node

# as the console script runs it: argv[0] is the program's name before topolet is imported
RUN = "import sys; sys.argv[0] = 'topolet'; from topolet.cli.main import main; main()"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TOPOLET_NODE", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def node(tmp_path: Path) -> str:
    d = tmp_path / "node"
    init_node(d, "preset:2-numa", str(SEED_CONFIG))
    assert cli("apply", "-f", str(SEED_POD), "--node", str(d)).exit_code == 0
    return str(d)


@pytest.fixture
def refused_config(tmp_path: Path) -> str:
    cfg = tmp_path / "refused.yaml"  # static CPU manager without reserved CPUs: the kubelet will not start
    cfg.write_text("apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncpuManagerPolicy: static\n")
    return str(cfg)


@pytest.fixture
def big_pod(tmp_path: Path) -> str:
    p = tmp_path / "big.yaml"
    res = {"limits": {"cpu": "200", "memory": "1Gi"}}
    p.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "big"},
                "spec": {"containers": [{"name": "c", "image": "x", "resources": res}]},
            }
        )
    )
    return str(p)


# --------------------------------------------------------------------------- item 9: the table, per command


def test_the_table_is_documented() -> None:
    doc = (Path(__file__).resolve().parent.parent / "docs" / "exit-codes.md").read_text()
    for code, _meaning in exits.TABLE:
        assert f"| {code} |" in doc
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert "docs/exit-codes.md" in readme
    assert (exits.EXIT_OK, exits.EXIT_ERROR, exits.EXIT_KUBELET_REFUSES, exits.EXIT_REJECTED) == (0, 1, 2, 3)
    assert exits.EXIT_USAGE == exits.EXIT_ERROR and exits.EXIT_INTERRUPTED == 130


BAD_OUTPUT = [
    ["predict", "-f", str(SEED_POD)],
    ["demo"],
    ["get", "pods"],
    ["apply", "-f", str(SEED_POD)],
    ["delete", "pod", "x"],
    ["explain", "-f", str(SEED_POD)],
    ["map"],
    ["state", "inspect"],
    ["fleet", "run", "--fleet", "f.yaml", "-f", "w.yaml"],
]


@pytest.mark.parametrize("args", BAD_OUTPUT, ids=lambda a: " ".join(a[:2]))
def test_bad_output_value_is_the_same_usage_error_everywhere(node: str, args: list[str]) -> None:
    r = (
        cli("--node", node, *args, "-o", "bogus")
        if args[0] not in ("predict", "demo", "fleet", "explain", "map")
        else (cli(*args, "-o", "bogus"))
    )
    assert r.exit_code == exits.EXIT_USAGE, (r.exit_code, r.output)
    assert 'error: unable to match a printer suitable for the output format "bogus", allowed formats are: ' in r.stderr
    assert "Traceback" not in r.output and "╭" not in r.stderr  # no usage box


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_unknown_option_is_a_usage_error_in_every_command(name: str) -> None:
    r = cli(name, "--no-such-option")
    assert r.exit_code == exits.EXIT_USAGE, (name, r.exit_code, r.output)
    assert r.stderr.startswith("error: No such option: --no-such-option") or "No such option" in r.stderr
    assert "--help' for usage." in r.stderr and "╭" not in r.stderr


def test_unknown_command() -> None:
    r = cli("gett", "pods")
    assert r.exit_code == exits.EXIT_USAGE
    assert 'unknown command "gett"' in r.stderr and "get" in r.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["predict", "-f", "missing.yaml"],
        ["explain", "-f", "missing.yaml"],
        ["apply", "-f", "missing.yaml", "--node", "{node}"],
        ["delete", "-f", "missing.yaml", "--node", "{node}"],
        ["node", "init", "{tmp}/n2", "--config", "missing.yaml"],
        ["node", "reconfigure", "--config", "missing.yaml", "--node", "{node}"],
        ["fleet", "run", "--fleet", "missing.yaml", "-f", "missing.yaml"],
        ["test", "missing.yaml"],
        ["state", "inspect", "missing_state"],
        ["get", "pods", "--node", "{tmp}/no-node"],
    ],
    ids=lambda a: " ".join(a[:2]),
)
def test_missing_file_is_1_everywhere(node: str, tmp_path: Path, args: list[str]) -> None:
    r = cli(*[a.format(node=node, tmp=tmp_path) for a in args])
    assert r.exit_code == exits.EXIT_ERROR, (args, r.exit_code, r.output)
    assert "Traceback" not in r.output


@pytest.mark.parametrize(
    "args",
    [
        ["predict", "-f", str(SEED_POD), "--config", "{cfg}"],
        ["explain", "-f", str(SEED_POD), "--config", "{cfg}"],
        ["map", "--config", "{cfg}"],
        ["node", "init", "{tmp}/n3", "--config", "{cfg}"],
        ["node", "reconfigure", "--config", "{cfg}", "--node", "{node}"],
    ],
    ids=lambda a: " ".join(a[:2]),
)
def test_kubelet_refusing_its_configuration_is_2_everywhere(
    node: str, tmp_path: Path, refused_config: str, args: list[str]
) -> None:
    r = cli(*[a.format(node=node, tmp=tmp_path, cfg=refused_config) for a in args])
    assert r.exit_code == exits.EXIT_KUBELET_REFUSES, (args, r.exit_code, r.output)
    assert "refuse" in r.stderr and "Traceback" not in r.output


def test_kubelet_refusing_to_start_on_a_node_is_2(node: str) -> None:
    cfg = Path(node) / "kubelet-config.yaml"
    cfg.write_text(
        cfg.read_text().replace("topologyManagerScope: pod", "topologyManagerScope: pod\ncpuManagerPolicy: none")
    )
    r = cli("apply", "-f", str(SEED_POD), "--node", node)
    assert r.exit_code == exits.EXIT_KUBELET_REFUSES, r.output
    r = cli("get", "pods", "--node", node)  # listing needs no kubelet
    assert r.exit_code == 0


def test_rejection_is_3(node: str, big_pod: str) -> None:
    assert cli("predict", "-f", big_pod).exit_code == exits.EXIT_REJECTED
    assert cli("apply", "-f", big_pod, "--node", node).exit_code == 0  # as kubectl: the API server accepted it
    r = cli("delete", "pod", "big", "--node", node)
    assert r.exit_code == 0
    assert cli("apply", "-f", big_pod, "--node", node, "--fail-on-rejection").exit_code == exits.EXIT_REJECTED


def test_not_found_is_1(node: str) -> None:
    for args in (["get", "pod", "nope"], ["describe", "pod", "nope"], ["delete", "pod", "nope"], ["exec", "nope"]):
        r = cli(*args, "--node", node)
        assert r.exit_code == exits.EXIT_ERROR and "NotFound" in r.stderr, (args, r.output)


# --------------------------------------------------------------------------- item 12: global options first


def test_global_options_before_the_command(node: str) -> None:
    r = cli("--node", node, "get", "pods")
    assert r.exit_code == 0 and "tightly-coupled-database" in r.stdout
    r = cli("-o", "json", "--node", node, "get", "pods")
    assert r.exit_code == 0 and json.loads(r.stdout)["kind"] == "List"
    r = cli(f"--node={node}", "-owide", "get", "pods")
    assert r.exit_code == 0 and "CPUS" in r.stdout
    r = cli("--node", node, "-n", "kube-system", "get", "pods")
    assert r.exit_code == 0 and "No resources found in kube-system namespace." in r.stderr
    r = cli("--node", node, "-A", "get", "pods")
    assert r.exit_code == 0 and "NAMESPACE" in r.stdout
    r = cli("--node", node, "exec", "tightly-coupled-database", "-c", "database", "--", "cat", "/proc/self/status")
    assert r.exit_code == 0 and "Cpus_allowed_list:\t1-2,33-34" in r.stdout
    r = cli("--node", node, "node", "drain")
    assert r.exit_code == 0 and "drained" in r.stdout


def test_hoisting_rules() -> None:
    assert hoist_global_options(["--node", "d", "get", "pods"]) == ["get", "pods", "--node", "d"]
    assert hoist_global_options(["-o", "json", "get", "pods", "x"]) == ["get", "pods", "x", "-o", "json"]
    assert hoist_global_options(["--node", "d", "exec", "p", "--", "ls", "-o"]) == [
        "exec",
        "p",
        "--node",
        "d",
        "--",
        "ls",
        "-o",
    ]
    assert hoist_global_options(["get", "pods", "--node", "d"]) == ["get", "pods", "--node", "d"]
    assert hoist_global_options(["--help"]) == ["--help"]
    assert hoist_global_options(["--node", "d"]) == ["--node", "d"]


def test_root_help_lists_every_command_without_importing_them() -> None:
    r = cli("--help")
    assert r.exit_code == 0
    for name in COMMANDS:
        assert f"  {name} " in r.stdout
    assert "Exit status:" in r.stdout and "--node DIR" in r.stdout


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_registered_command_exists(name: str) -> None:
    r = cli(name, "--help")
    assert r.exit_code == 0, (name, r.output)


# --------------------------------------------------------------------------- item 10: what start-up imports


def _modules_after(args: list[str], env: dict[str, str] | None = None) -> set[str]:
    code = (
        "import sys\n"
        f"sys.argv = ['topolet', *{args!r}]\n"
        "from topolet.cli.main import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "sys.stdout.flush()\n"
        "print('\\nMODULES', ' '.join(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})}
    ).stdout
    return set(out.rsplit("MODULES ", 1)[1].split())


HEAVY = ("rich", "dask", "distributed", "matplotlib", "pyarrow", "yaml", "pydantic")
HEAVY_TOPOLET = (
    "topolet.engine",
    "topolet.fleet",
    "topolet.explain",
    "topolet.render.terminal",
    "topolet.render.explain_text",
    "topolet.model.manifest",
    "topolet.model.kubelet_config",
    "topolet.io.inputs",
    "topolet.io.checkpoint",
    "topolet.nodedir.store",
)


def _top(mods: set[str], prefixes: tuple[str, ...]) -> list[str]:
    return sorted(m for m in mods if any(m == p or m.startswith(p + ".") for p in prefixes))


def test_root_help_imports_no_command_module() -> None:
    mods = _modules_after(["--help"])
    assert _top(mods, HEAVY) == []
    assert _top(mods, HEAVY_TOPOLET) == []
    assert [
        m
        for m in mods
        if m.startswith("topolet.cli.") and m not in ("topolet.cli.main", "topolet.cli.exits", "topolet.cli.fastparams")
    ] == []


def test_get_pods_imports_neither_the_engine_nor_rich(node: str) -> None:
    mods = _modules_after(["get", "pods", "--node", node])
    assert _top(mods, ("rich", "dask", "distributed", "matplotlib", "pyarrow", "yaml", "pydantic")) == []
    assert _top(mods, ("topolet.engine.node", "topolet.fleet", "topolet.explain", "topolet.model.manifest")) == []
    assert _top(mods, ("topolet.io.checkpoint", "topolet.io.inputs", "topolet.cli.predict_cmds")) == []


def test_node_commands_read_the_node_without_pydantic(node: str) -> None:
    """typer's parameters, the node's topology.yaml and its pods need no validating model (item 10)."""
    for args in (
        ["describe", "pod", "tightly-coupled-database"],
        ["get", "pods", "-o", "wide"],
        ["delete", "pod", "x"],
    ):
        mods = _modules_after([*args, "--node", node])
        assert _top(mods, ("pydantic", "topolet.model.manifest", "topolet.model.topology_spec")) == [], args


def test_predict_imports_no_fleet_explain_or_plotting() -> None:
    mods = _modules_after(["predict", "-f", str(SEED_POD)])
    assert _top(mods, ("dask", "distributed", "matplotlib", "pyarrow", "topolet.fleet", "topolet.explain")) == []
    # only the small width-fitting module of render/ (stdlib only), none of the renderers
    assert _top(mods, ("topolet.nodedir", "topolet.cli.node_cmds", "topolet.render")) in (
        [],
        ["topolet.render", "topolet.render.width"],
    )


# --------------------------------------------------------------------------- item 6: Ctrl-C


@pytest.mark.parametrize("delay", [0.15, 0.3, 0.6, 1.0])
def test_ctrl_c_at_any_time_exits_130_quietly(node: str, delay: float) -> None:
    for args in (["get", "pods", "--node", node], ["predict", "-f", str(SEED_POD)], ["--help"]):
        p = subprocess.Popen(
            [sys.executable, "-c", RUN, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        time.sleep(delay)
        p.send_signal(signal.SIGINT)
        _out, err = p.communicate(timeout=60)
        if p.returncode == 0:  # it finished first
            continue
        if "Traceback" in err and "topolet" not in err.replace("sys.argv[0] = 'topolet'", ""):
            # the signal came while the interpreter itself was starting (a loaded machine), before the first
            # line of topolet ran: no program can catch that
            continue
        # 130; or, when the signal comes while the interpreter shuts down after the command, the process
        # ends by SIGINT, which the shell reports as 130 too
        assert p.returncode in (130, -signal.SIGINT), (args, delay, p.returncode, err)
        assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
        assert err.strip() == "", err


def test_ctrl_c_during_fleet_start_up_with_dask_workers(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    fleet = tmp_path / "fleet.yaml"
    mix = tmp_path / "mix.yaml"
    kubelet = tmp_path / "kubelet-pod-scope.yaml"
    for what, f in (("fleet", fleet), ("workload", mix), ("kubelet", kubelet)):
        r = cli("fleet", "example", what)
        assert r.exit_code == 0
        f.write_text(r.stdout)
    for delay in (1.0, 2.5):
        p = subprocess.Popen(
            [sys.executable, "-c", RUN, "fleet", "run", "--fleet", str(fleet), "-f", str(mix), "--workers", "2"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(delay)
        p.send_signal(signal.SIGINT)
        _out, err = p.communicate(timeout=120)
        if p.returncode == 0:
            continue
        assert p.returncode in (130, -signal.SIGINT), (delay, p.returncode, err)
        assert "Traceback" not in err and "Exception ignored" not in err and "AssertionError" not in err, err


def test_predict_default_node_name_is_the_engines() -> None:
    from topolet.cli.predict_cmds import DEFAULT_NODE_NAME
    from topolet.engine.nodestatus import DEFAULT_NODE_NAME as ENGINE_DEFAULT

    assert DEFAULT_NODE_NAME == ENGINE_DEFAULT


def test_an_unexpected_error_is_reported_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug inside a command ends as ``error: internal error (...)``, exit 1 — every except clause of the
    central handler must be evaluable (a missing exception class there once turned this into AttributeError)."""
    import topolet.model.presets as presets

    def boom() -> Any:
        raise RuntimeError("planted")

    monkeypatch.setattr(presets, "list_presets", boom)
    monkeypatch.delenv("TOPOLET_TRACEBACK", raising=False)
    r = cli("presets")
    assert r.exit_code == exits.EXIT_ERROR, r.output
    assert "internal error (RuntimeError: planted)" in r.output
    assert "AttributeError" not in r.output


def test_a_node_whose_configuration_the_kubelet_refuses_names_its_config_file(node: str) -> None:
    cfg = Path(node) / "kubelet-config.yaml"
    cfg.write_text(cfg.read_text().replace("topologyManagerPolicy: single-numa-node", "topologyManagerPolicy: bogus"))
    for args in (["apply", "-f", str(SEED_POD)], ["describe", "node"]):
        r = cli(*args, "--node", node)
        assert f"{cfg}: " in r.output, r.output
        assert '"bogus" must be one of' in r.output
    assert cli("apply", "-f", str(SEED_POD), "--node", node).exit_code == exits.EXIT_KUBELET_REFUSES
