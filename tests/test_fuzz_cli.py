"""Fuzz: damaged inputs of every kind through the commands that read them (benchmarks/fuzz_cli.py runs
thousands; this runs a few under hypothesis), and the inputs the campaign found as regression tests."""

from __future__ import annotations

import importlib.util
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from topolet.cli.main import app

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("fuzz_cli", ROOT / "benchmarks" / "fuzz_cli.py")
assert _spec is not None and _spec.loader is not None
fuzz_cli: Any = importlib.util.module_from_spec(_spec)
sys.modules["fuzz_cli"] = fuzz_cli
_spec.loader.exec_module(fuzz_cli)

# inputs whose loaders are being hardened on the `inputs` branch (deep nesting in manifests, pydantic
# class names in topology/fleet/scenario messages): the campaign reports them, CI waits for that merge


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TOPOLET_NODE", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


@pytest.mark.parametrize(
    "kind", ["config", "topology", "sysfs", "state", "nodedir", "fleet", "scenario", "pod", "capture"]
)
@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(seed=st.integers(0, 2**32 - 1))
def test_damaged_inputs_never_crash(kind: str, seed: int, tmp_path_factory: pytest.TempPathFactory) -> None:
    work = tmp_path_factory.mktemp(kind)
    c = fuzz_cli.Campaign(work=work)
    fuzz_cli.CASES[kind](c, random.Random(seed))
    real = list(c.findings)
    assert not real, "\n".join(f"{' '.join(f.args)}\n  {f.damage}\n  {f.problem}\n  {f.output}" for f in real)


def test_mutations_cover_the_documented_bad_values() -> None:
    rng = random.Random(0)
    seen = set()
    for _ in range(400):
        _doc, what = fuzz_cli.mutate_doc(rng, {"a": {"b": [1, 2]}, "c": "x"})
        seen.add(what.split(" ", 1)[1] if " = " not in what else what.split(" = ", 1)[1])
    for v in ("'1e400'", "'-1'", "'0x10'", "'1.5.5Gi'", "None", "[]", "deeply nested", "wrapped in a list"):
        assert v in seen


# -- regression tests: what the campaign found


def test_broken_pipe_during_help_is_quiet(tmp_path: Path) -> None:
    """`topolet node init --help | head -1`: typer's Abort was looked up where it does not exist."""
    code = "import sys; sys.argv[0] = 'topolet'; from topolet.cli.main import main; main()"
    p = subprocess.run(
        f'{sys.executable} -c "{code}" node init --help | head -1',
        shell=True,
        capture_output=True,
        text=True,
        check=False,
        executable="/bin/bash",
    )
    assert "Traceback" not in p.stderr and "AttributeError" not in p.stderr, p.stderr


def test_deep_state_file_is_corrupt_not_a_crash(tmp_path: Path) -> None:
    f = tmp_path / "cpu_manager_state"
    f.write_text("[" * 3000 + "]" * 3000)
    r = cli("state", "inspect", str(f))
    assert r.exit_code == 3, r.output
    assert "nested" in r.output and "internal error" not in r.output


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"sidecars": [[[1]]]}, "sidecars"),
        ({"sidecars": "abc"}, "sidecars"),
        ({"sidecars": 10**9}, "sidecars"),
        ({"sidecars": True}, "sidecars"),
        ({"sidecarCpu": None}, "sidecarCpu"),
        ({"sidecarCpu": {"a": 1}}, "sidecarCpu"),
        ({"dbMemory": "1.5.5Gi"}, "dbMemory"),
        ({"dbCpu": "-1"}, "dbCpu"),
        ({"budgetCpu": [1]}, "budgetCpu"),
    ],
)
def test_workload_mix_profile_parameters_are_typed(tmp_path: Path, params: dict[str, Any], field: str) -> None:
    mix = {"apiVersion": "topolet.dev/v1alpha1", "kind": "WorkloadMix", "name": "m"}
    mix["mix"] = [{"profile": "database", "count": 1, "params": params}]
    wl = tmp_path / "workload.yaml"
    wl.write_text(json.dumps(mix))
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(
        json.dumps(
            {
                "apiVersion": "topolet.dev/v1alpha1",
                "kind": "Fleet",
                "name": "f",
                "pools": [{"name": "p", "count": 1, "topology": "preset:2-numa"}],
            }
        )
    )
    r = cli("fleet", "run", "--fleet", str(fleet), "-f", str(wl), "--no-progress")
    assert r.exit_code == 1, r.output
    assert "workload.yaml" in r.output and f"params: {field}" in r.output, r.output
    assert "internal error" not in r.output and "NoneType" not in r.output


def test_quantity_of_a_wrong_type_is_said_in_yaml_terms() -> None:
    from topolet.model.quantity import Quantity, QuantityError

    with pytest.raises(QuantityError, match="got null"):
        Quantity.parse(None)


@pytest.mark.parametrize("metadata", ["name", ["x"], 5])
def test_scenario_admit_with_metadata_not_a_mapping(tmp_path: Path, metadata: object) -> None:
    """A truncated scenario left `metadata:` a string: AttributeError in the runner."""
    import yaml

    docs = [d for d in yaml.safe_load_all((ROOT / "conformance" / "options" / "misc.yaml").read_text()) if d]
    sc = docs[0]
    sc["spec"]["steps"][0]["admit"]["metadata"] = metadata
    f = tmp_path / "scenario.yaml"
    f.write_text(yaml.safe_dump(sc))
    r = cli("test", str(f))
    assert r.exit_code == 3, r.output
    assert "scenario.yaml" in r.output and "spec.steps[0].admit.metadata: must be a mapping" in r.output, r.output
    assert "internal error" not in r.output


def test_numa_node_without_memory_but_with_a_reservation_is_drawn(tmp_path: Path) -> None:
    """A MachineInfo whose NUMA node 0 has 0 memory, with the configuration's 1124Mi reserved on it:
    the map's memory bar was scaled by a total of 1 byte (MemoryError building a 10^11-character bar)."""
    from topolet.io.cadvisor import machine_info_from_topology
    from topolet.model.presets import get_preset

    mi = machine_info_from_topology(get_preset("2-numa"))
    mi["topology"][0]["memory"] = 0
    f = tmp_path / "machine-info.json"
    f.write_text(json.dumps(mi))
    cfg = str(ROOT / "examples" / "kubelet-config.yaml")
    r = cli("map", "--topology", str(f), "--config", cfg, "--width", "100")
    assert r.exit_code in (0, 2), r.output
    assert "internal error" not in r.output
    r = cli("report", "--topology", str(f), "--config", cfg, "--html", str(tmp_path / "r.html"))
    assert r.exit_code in (0, 2) and "internal error" not in r.output, r.output
