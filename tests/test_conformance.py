"""The conformance corpus (conformance/, carried in the repository): results of the real kubelet 1.36.2.

Ratchet: ``tests/conformance_passing.txt`` lists the scenarios that pass. The
test fails when a listed scenario stops passing, and when a scenario passes
that the list does not name (the list is stale: regenerate it with
``TOPOLET_UPDATE_RATCHET=1 pytest tests/test_conformance.py``). Once the list
is the whole corpus, every scenario must pass.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from paths import CORPUS as CORPUS_DIR
from topolet.scenario.runner import load_scenario_files, run_scenario

ROOT = Path(__file__).resolve().parent.parent
CORPUS = CORPUS_DIR
RATCHET = Path(__file__).resolve().parent / "conformance_passing.txt"


def _scenario_id(file: str, name: str) -> str:
    return f"{Path(file).resolve().relative_to(CORPUS.resolve())}::{name}"


@pytest.fixture(scope="module")
def corpus_results() -> dict[str, list[str]]:
    if not CORPUS.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"conformance corpus not found at {CORPUS}")
        pytest.skip(f"conformance corpus not found at {CORPUS} (set TOPOLET_CONFORMANCE)")
    scenarios, broken = load_scenario_files([CORPUS])
    assert not broken, [str(f) for r in broken for f in r.failures]
    out: dict[str, list[str]] = {}
    for sc in scenarios:
        r = run_scenario(sc)
        sid = _scenario_id(sc.file, sc.name)
        assert sid not in out, f"duplicate scenario id {sid}"
        out[sid] = [str(f) for f in r.failures]
    return out


def test_corpus_ratchet(corpus_results: dict[str, list[str]]) -> None:
    passing = sorted(s for s, f in corpus_results.items() if not f)
    if os.environ.get("TOPOLET_UPDATE_RATCHET"):
        RATCHET.write_text("".join(f"{s}\n" for s in passing))
    listed = [line.strip() for line in RATCHET.read_text().splitlines() if line.strip()]
    regressed = [s for s in listed if corpus_results.get(s)]
    missing = [s for s in listed if s not in corpus_results]
    assert not regressed, "scenarios that passed before now fail:\n" + "\n".join(
        f for s in regressed for f in corpus_results[s]
    )
    assert not missing, "the ratchet names scenarios that are not in the corpus:\n" + "\n".join(missing)
    unlisted = sorted(set(passing) - set(listed))
    assert not unlisted, (
        "the ratchet is stale: these scenarios pass but are not listed "
        "(TOPOLET_UPDATE_RATCHET=1 pytest tests/test_conformance.py):\n" + "\n".join(unlisted)
    )


def test_corpus_complete(corpus_results: dict[str, list[str]]) -> None:
    """Once the ratchet names the whole corpus, every scenario must pass."""
    listed = {line.strip() for line in RATCHET.read_text().splitlines() if line.strip()}
    if listed != set(corpus_results):
        pytest.xfail(f"{len(listed)} of {len(corpus_results)} scenarios pass so far (see the ratchet)")
    failing = {s: f for s, f in corpus_results.items() if f}
    assert not failing, "\n".join(f for fs in failing.values() for f in fs)
