"""Fleet what-if on Dask: the same seeded workload gives identical results in one process and on workers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from topolet.fleet.runner import RunOptions, run_fleet
from topolet.fleet.spec import load_fleet
from topolet.fleet.variants import resolve_variant
from topolet.fleet.workload import load_workload

pytest.importorskip("dask.distributed", reason="the fleet extra (dask[distributed]) is not installed")
pq = pytest.importorskip("pyarrow.parquet", reason="the fleet extra (pyarrow) is not installed")


def _inputs(tmp: Path) -> tuple[str, str]:
    fleet = {
        "name": "dask-test",
        "scheduler": {"recreate": 1},
        "pools": [
            {"name": "two", "count": 6, "topology": "preset:2-numa-32"},
            {"name": "four", "count": 3, "topology": "preset:4-numa"},
        ],
    }
    mix = {
        "apiVersion": "topolet.dev/v1alpha1",
        "kind": "WorkloadMix",
        "order": "random",
        "mix": [
            {"profile": "database", "count": 40, "params": {"sidecars": 4}},
            {"profile": "trading", "count": 12},
            {"profile": "ml-trainer", "count": 6},
            {"profile": "web", "count": 150},
        ],
        "departures": {"fraction": 0.3, "after": [5, 60]},
    }
    (tmp / "fleet.yaml").write_text(yaml.safe_dump(fleet), encoding="utf-8")
    (tmp / "mix.yaml").write_text(yaml.safe_dump(mix), encoding="utf-8")
    return str(tmp / "fleet.yaml"), str(tmp / "mix.yaml")


def _run(fleet_path: str, mix: str, out: Path, **kw: Any) -> dict[str, Any]:
    fleet = load_fleet(fleet_path)
    variants = [resolve_variant(v, fleet) for v in ("per-container", "as-written", "as-written+numa-aware")]
    opts = RunOptions(variants, seeds=[3, 4], shards=2, out=out, nodes_needed=True, **kw)
    return run_fleet(fleet, load_workload([mix]), opts)


def test_one_process_and_two_dask_workers_give_identical_results(tmp_path: Path) -> None:
    fleet, mix = _inputs(tmp_path)
    local = _run(fleet, mix, tmp_path / "local")
    dask = _run(fleet, mix, tmp_path / "dask", workers=2)
    assert local == dask
    assert len(local["variants"]) == 3 * 2
    row = next(r for r in local["variants"] if r["variant"] == "as-written" and r["seed"] == 3)
    assert row["admitted"] > 0 and row["departed"] > 0 and row["nodes_needed"] > 0
    for name in ("pods.parquet", "nodes.parquet"):
        a = pq.read_table(tmp_path / "local" / name)
        b = pq.read_table(tmp_path / "dask" / name)
        assert a.num_rows > 0 and a.equals(b)
    assert (tmp_path / "local" / "pods.csv").read_bytes() == (tmp_path / "dask" / "pods.csv").read_bytes()
