"""The repository carries the public conformance corpus and the fixtures its tests need.

Where ``../shared`` exists beside the checkout (the team's shared folder), the carried
copies must equal it, so that they stay current when the corpus grows.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from paths import CORPUS, FIXTURES, REPO, SHARED


def _tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize(("carried", "shared"), [(CORPUS, "conformance"), (FIXTURES, "fixtures")])
def test_carried_copy_equals_shared(carried: Path, shared: str) -> None:
    src = SHARED / shared
    if not src.is_dir():
        pytest.skip(f"{src} does not exist here: nothing to compare the carried copy with")
    mine, theirs = _tree(carried), _tree(src)
    missing = sorted(set(theirs) - set(mine))
    extra = sorted(set(mine) - set(theirs))
    changed = sorted(k for k in set(mine) & set(theirs) if mine[k] != theirs[k])
    assert not (missing or extra or changed), (
        f"{carried.relative_to(REPO)} is not a copy of {src}: "
        f"missing {missing[:5]}, extra {extra[:5]}, changed {changed[:5]} (copy it again: cp -r {src}/. {carried}/)"
    )


def test_the_repository_carries_its_data() -> None:
    assert (CORPUS / "FORMAT.md").is_file()
    assert len(list(CORPUS.rglob("*.yaml"))) >= 50
    assert (FIXTURES / "sysfs-h200.tgz").is_file()
    assert (FIXTURES / "checkpoints" / "cpu_manager_state.v3").is_file()
