"""YAML reading with libyaml when the PyYAML build has it (ten times faster on the corpus)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml

SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SafeDumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def load_all(text: str) -> Iterator[Any]:
    """Every document of a YAML stream (safe types only)."""
    return yaml.load_all(text, Loader=SafeLoader)


def load(text: str) -> Any:
    return yaml.load(text, Loader=SafeLoader)


def dump(data: Any) -> str:
    return yaml.dump(data, Dumper=SafeDumper, sort_keys=False, default_flow_style=False)
