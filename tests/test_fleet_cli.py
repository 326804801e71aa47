"""``topolet fleet``: the command line (table, JSON, errors, an existing Dask scheduler)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from topolet.cli.main import app

runner = CliRunner()


def _files(tmp: Path) -> tuple[str, str]:
    (tmp / "fleet.yaml").write_text(
        yaml.safe_dump({"name": "cli", "pools": [{"name": "p", "count": 3, "topology": "preset:2-numa-32"}]}),
        encoding="utf-8",
    )
    mix = {
        "apiVersion": "topolet.dev/v1alpha1",
        "kind": "WorkloadMix",
        "mix": [{"profile": "database", "count": 6}, {"profile": "web", "count": 20}],
    }
    (tmp / "mix.yaml").write_text(yaml.safe_dump(mix), encoding="utf-8")
    return str(tmp / "fleet.yaml"), str(tmp / "mix.yaml")


def test_table_and_json(tmp_path: Path) -> None:
    fleet, mix = _files(tmp_path)
    args = ["fleet", "run", "--fleet", fleet, "-f", mix, "--compare", "per-container", "--compare", "as-written"]
    r = runner.invoke(app, args, env={"COLUMNS": "250"})
    assert r.exit_code == 0, r.output
    assert "per-container [baseline]" in r.output and "as-written" in r.output
    r = runner.invoke(app, [*args, "-o", "json", "--seed", "7"])
    assert r.exit_code == 0, r.output
    rep = json.loads(r.stdout)
    assert rep["seeds"] == [7] and rep["nodes"] == 3 and rep["pods"] == 26
    row = next(v for v in rep["variants"] if v["variant"] == "as-written")
    assert row["cpus_saved"] == 6  # 6 database pods, 1 CPU each (see test_fleet's hand calculation)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--compare", "nosuch"], "--compare nosuch: unknown variant"),
        (["-o", "yaml"], 'the output format "yaml", allowed formats are: table,json'),
        (["--baseline", "x"], "--baseline x: not among"),
        (["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "give one of them"),
    ],
)
def test_bad_arguments_exit_1_without_traceback(tmp_path: Path, extra: list[str], message: str) -> None:
    fleet, mix = _files(tmp_path)
    r = runner.invoke(app, ["fleet", "run", "--fleet", fleet, "-f", mix, *extra])
    assert r.exit_code == 1  # docs/exit-codes.md: bad input and usage errors are 1
    assert message in (r.output + r.stderr).replace("\n", "")
    assert "Traceback" not in r.output


def test_bad_fleet_file_names_file_and_field(tmp_path: Path) -> None:
    _, mix = _files(tmp_path)
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"pools": [{"name": "p", "count": "many"}]}), encoding="utf-8")
    r = runner.invoke(app, ["fleet", "run", "--fleet", str(bad), "-f", mix], terminal_width=300)
    assert r.exit_code == 1
    assert "bad.yaml: pools[0].count:" in r.output
    r = runner.invoke(app, ["fleet", "run", "--fleet", str(tmp_path / "none.yaml"), "-f", mix], terminal_width=300)
    assert r.exit_code == 1 and "none.yaml: no such file" in r.output


def test_examples_run(tmp_path: Path) -> None:
    for what, name in (("fleet", "fleet.yaml"), ("workload", "mix.yaml"), ("kubelet", "kubelet-pod-scope.yaml")):
        r = runner.invoke(app, ["fleet", "example", what])
        assert r.exit_code == 0
        (tmp_path / name).write_text(r.stdout, encoding="utf-8")
    r = runner.invoke(
        app, ["fleet", "run", "--fleet", str(tmp_path / "fleet.yaml"), "-f", str(tmp_path / "mix.yaml"), "-o", "json"]
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["nodes"] == 50


def test_existing_dask_scheduler_on_loopback(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed", reason="the fleet extra (dask[distributed]) is not installed")
    fleet, mix = _files(tmp_path)
    args = [
        "fleet",
        "run",
        "--fleet",
        fleet,
        "-f",
        mix,
        "--compare",
        "per-container",
        "--compare",
        "as-written",
        "-o",
        "json",
        "--shards",
        "3",
    ]
    local = runner.invoke(app, args)
    assert local.exit_code == 0, local.output
    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        host="127.0.0.1",
        silence_logs=logging.ERROR,
    ) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        remote = runner.invoke(app, [*args, "--scheduler", cluster.scheduler_address])
    assert remote.exit_code == 0, remote.output
    assert json.loads(remote.stdout) == json.loads(local.stdout)
