"""Issue 12 item 13: at 80, 100 and 120 columns every table and the map fit, without one-character columns,
and text wraps only between words."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from paths import SEED_CONFIG, SEED_POD
from topolet.cli.main import app

WIDTHS = (80, 100, 120)
WIDE = "1000"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TOPOLET_NODE", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def run(columns: int | str, *args: str, code: int = 0) -> str:
    r = CliRunner().invoke(app, list(args), env={"COLUMNS": str(columns), "NO_COLOR": "1"})
    assert r.exit_code == code, (args, r.exit_code, r.stdout, r.stderr, r.exception)
    return r.stdout


def assert_fits(out: str, width: int) -> None:
    long = [ln for ln in out.splitlines() if len(ln.rstrip()) > width]
    assert not long, f"{len(long)} lines wider than {width}: {long[:3]}"


_NOTES = re.compile(r"^\s*\((?:not shown|\d+ cores? a row)")


def assert_words_whole(narrow: str, wide: str) -> None:
    """Every word of the narrow output is a word of the wide one: nothing was cut inside a word (the
    narrow-width notes aside)."""
    known = set(wide.split())
    lines = narrow.splitlines()
    skip: set[int] = set()
    for i, ln in enumerate(lines):  # a note and its continuation lines
        if _NOTES.match(ln):
            skip.add(i)
            j = i + 1
            while (
                j < len(lines) and lines[j].startswith(" " * (len(ln) - len(ln.lstrip()) + 1)) and "(" not in lines[j]
            ):
                skip.add(j)
                j += 1
    bar = re.compile(r"^\[[#.?A-Z]*\]$|^\d+[smhd]$")  # memory bars are drawn to the width; ages change
    cut = [w for i, ln in enumerate(lines) if i not in skip for w in ln.split() if w not in known and not bar.match(w)]
    # a word longer than half a line (a long path) may be cut as a last resort
    longer = [k for k in known if len(k) > 40]
    cut = [w for w in cut if not any(w in k for k in longer)]
    assert not cut, f"words cut or unknown at this width: {cut[:10]}"


def _big_pod(tmp_path: Path) -> str:
    obj = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "big"},
        "spec": {
            "containers": [
                {
                    "name": "c",
                    "image": "i",
                    "resources": {"requests": {"cpu": "40", "memory": "1Gi"}, "limits": {"cpu": "40", "memory": "1Gi"}},
                }
            ]
        },
    }
    p = tmp_path / "big.yaml"
    p.write_text(yaml.safe_dump(obj), encoding="utf-8")
    return str(p)


# -- the map --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("topology", ["preset:2-numa", "preset:8-numa-256"])
def test_map_fits_with_fewer_cores_a_row_and_a_note(width: int, topology: str) -> None:
    args = ("map", "-f", str(SEED_POD), "--topology", topology)
    out = run(width, *args)
    assert_fits(out, width)
    assert_words_whole(out, run(WIDE, *args))
    cores_a_row = {len(re.findall(r"\bc\d+\b", ln)) for ln in out.splitlines() if re.match(r"^\s+c\d+", ln)}
    numa_cores = 16
    if max(cores_a_row) < numa_cores:
        assert re.search(rf"\({max(cores_a_row)} cores a row to fit {width} columns", out)
    else:
        assert "cores a row" not in out
    # every CPU is drawn once, whole
    n = 64 if topology == "preset:2-numa" else 256
    cells = [int(m.group(1)) for m in re.finditer(r"(?<![\w-])(\d+)(?:##|\.\.|[A-Z][0-9~])", out)]
    assert sorted(cells) == list(range(n))


# -- the fleet table ------------------------------------------------------------------------------------------
def _fleet_files(tmp: Path) -> list[str]:
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
    return ["fleet", "run", "--fleet", str(tmp / "fleet.yaml"), "-f", str(tmp / "mix.yaml"), "--no-progress"]


@pytest.mark.parametrize("width", WIDTHS)
def test_fleet_table_fits_without_one_character_columns(tmp_path: Path, width: int) -> None:
    from topolet.fleet.render import _SHORT, COLUMNS

    args = [*_fleet_files(tmp_path), "--compare", "per-container", "--compare", "as-written", "--nodes-needed"]
    out = run(width, *args)
    assert_fits(out, width)
    wide = run(WIDE, *args)
    compact = " ".join(_SHORT) + " " + " ".join(re.findall(r"\(\d+%", wide)).replace("(", "(") + " "
    compact += " ".join(f"{m})" for m in re.findall(r"\(\d+%", wide)) + " TopologyAffinity"
    assert_words_whole(re.sub(r"─{3,}", "", out), wide + " " + compact)
    lines = out.splitlines()
    header = next(ln for ln in lines if ln.lstrip().startswith("Variant"))
    shown = header.split()
    names = set(_SHORT) | {w for c in COLUMNS for w in c.split()}
    assert set(shown) <= names and len(shown) >= 5, header  # whole headers, at least the essential five
    assert shown[:3] == ["Variant", "Admitted", "Rejected"]
    for variant in ("per-container", "as-written"):
        row = next(ln for ln in lines if ln.startswith(variant))
        assert re.search(r"\b26/26\b|\b\d\d/26\b", row), row  # Admitted whole
    assert not re.search(r"[│┃] \S [│┃]", out)  # no one-character column
    if len(shown) < len(COLUMNS):
        assert f"(not shown at {width} columns:" in out


# -- get pods -o wide / get nodes -o wide / describe ----------------------------------------------------------
@pytest.fixture
def node(tmp_path: Path) -> str:
    d = str(tmp_path / "node")
    run(WIDE, "node", "init", d, "--topology", "preset:2-numa", "--config", str(SEED_CONFIG))
    run(WIDE, "apply", "-f", str(SEED_POD), "--node", d)
    run(WIDE, "apply", "-f", _big_pod(tmp_path), "--node", d)
    return d


@pytest.mark.parametrize("width", WIDTHS)
def test_get_and_describe_fit(node: str, width: int) -> None:
    for args in (
        ("get", "pods", "-o", "wide", "-A", "--node", node),
        ("get", "nodes", "-o", "wide", "--node", node),
        ("describe", "node", "--node", node),
        ("describe", "pod", "tightly-coupled-database", "--node", node),
        ("describe", "pod", "big", "--node", node),
    ):
        out = run(width, *args)
        assert_fits(out, width)
        assert_words_whole(out, run(WIDE, *args))
    out = run(width, "get", "pods", "-o", "wide", "-A", "--node", node)
    header = out.splitlines()[0].split()
    assert {"NAME", "STATUS", "CPUS"} <= set(header)
    row = next(ln for ln in out.splitlines() if ln.split()[header.index("NAME")] == "tightly-coupled-database")
    cpus = row.split()[header.index("CPUS")]
    assert re.fullmatch(r"[\d,-]+", cpus) and len(cpus) > 1
    full = run(WIDE, "get", "pods", "-o", "wide", "-A", "--node", node)
    assert len(full.splitlines()[0].split()) == 10 and "not shown" not in full


# -- predict and explain --------------------------------------------------------------------------------------
@pytest.mark.parametrize("width", WIDTHS)
def test_predict_and_explain_fit(tmp_path: Path, width: int) -> None:
    big = _big_pod(tmp_path)
    for args, code in (
        (("predict", "-f", str(SEED_POD)), 0),
        (("predict", "-f", str(SEED_POD), "-f", big, "--topology", "preset:8-numa-256"), 3),
        (("explain", "-f", str(SEED_POD)), 0),
        (("explain", "-f", big), 0),
    ):
        out = run(width, *args, code=code)
        assert_fits(out, width)
        assert_words_whole(out, run(WIDE, *args, code=code) + " excl pod node Cpus_allowed Mems_allowed on 1-2, 3-4,")
    out = run(width, "predict", "-f", str(SEED_POD))
    header = next(ln for ln in out.splitlines() if ln.startswith("CONTAINER")).split()
    assert header[0] == "CONTAINER" and any(h.startswith("Cpus_allowed") for h in header)
    assert all(len(h) > 1 for h in header)
