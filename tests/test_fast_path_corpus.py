"""The conformance corpus on both paths (tests/test_conformance.py runs it on the default).

* on the reference: every hint provider enumerates every NUMA mask and the merge walks
  every combination, as the kubelet does (``topolet test --reference``);
* on the structured fast path for every machine (hint spaces and ordered searches even
  on the small machines where the default fast path still lists the few masks).

Both must pass every scenario that the default path passes (the ratchet,
tests/conformance_passing.txt), with the real kubelet 1.36.2's expected values.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from paths import CORPUS as CORPUS_DIR
from topolet.engine.fast_path import reference_mode, structured_from
from topolet.scenario.runner import Scenario, load_scenario_files, run_scenario

ROOT = Path(__file__).resolve().parent.parent
CORPUS = CORPUS_DIR
RATCHET = ROOT / "tests" / "conformance_passing.txt"


@pytest.fixture(scope="module")
def scenarios() -> list[Scenario]:
    if not CORPUS.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"conformance corpus not found at {CORPUS}")
        pytest.skip(f"conformance corpus not found at {CORPUS} (set TOPOLET_CONFORMANCE)")
    loaded, broken = load_scenario_files([CORPUS])
    assert not broken, [str(f) for r in broken for f in r.failures]
    assert len(loaded) >= 1224
    ratchet = {line.strip() for line in RATCHET.read_text().splitlines() if line.strip()}
    root = CORPUS.resolve()
    return [sc for sc in loaded if f"{Path(sc.file).resolve().relative_to(root)}::{sc.name}" in ratchet]


def _failures(scenarios: list[Scenario], mode: AbstractContextManager[None]) -> list[str]:
    failures: list[str] = []
    with mode:
        for sc in scenarios:
            failures.extend(str(f) for f in run_scenario(sc).failures)
    return failures


def test_corpus_on_the_reference(scenarios: list[Scenario]) -> None:
    failures = _failures(scenarios, reference_mode(True))
    assert not failures, "\n".join(failures)


def test_corpus_on_the_structured_fast_path(scenarios: list[Scenario]) -> None:
    failures = _failures(scenarios, structured_from(1))
    assert not failures, "\n".join(failures)
