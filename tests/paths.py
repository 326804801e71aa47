"""Where the tests find their data: everything is carried in this repository.

``../shared`` (beside the checkout) is used only to check that the carried copies
are current (tests/test_carried_data.py) and for the control plane binaries.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("TOPOLET_CONFORMANCE", REPO / "conformance"))
FIXTURES = REPO / "tests" / "fixtures"
CHECKPOINTS = FIXTURES / "checkpoints"
H200 = FIXTURES / "sysfs-h200.tgz"
EXAMPLES = REPO / "examples"
SEED_POD = EXAMPLES / "tightly-coupled-database.yaml"
SEED_CONFIG = EXAMPLES / "kubelet-config.yaml"
SHARED = REPO.parent / "shared"
