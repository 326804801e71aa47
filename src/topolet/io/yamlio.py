"""YAML and JSON reading for every input: libyaml when the PyYAML build has it, bounded nesting.

Python's parsers recurse, so a document nested a few thousand levels deep
(``[[[[...]]]]``) raises :class:`RecursionError` in :func:`json.loads` and
could crash any later code that walks it. libyaml refuses more than 1,000
levels itself; :func:`check_depth` refuses anything nested deeper than
:data:`MAX_DEPTH` levels (far beyond any Kubernetes object or topolet file)
so that the rest of topolet never sees such data. :func:`load_json`,
:func:`load_all` (when ``checked``) and :func:`load` raise :class:`NestingError`
for them; the loaders turn it into an error naming the file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import yaml

from topolet.model.nesting import MAX_DEPTH, NestingError, check_depth

SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SafeDumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

__all__ = [
    "MAX_DEPTH",
    "NestingError",
    "SafeDumper",
    "SafeLoader",
    "check_depth",
    "dump",
    "duplicate_keys",
    "load",
    "load_all",
    "load_json",
]


def load_json(text: str | bytes) -> Any:
    """``json.loads`` that raises :class:`NestingError` instead of :class:`RecursionError`."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise NestingError() from None
    check_depth(data)
    return data


def load_all(text: str) -> Iterator[Any]:
    """Every document of a YAML stream (safe types only), each checked by :func:`check_depth`."""
    for doc in yaml.load_all(text, Loader=SafeLoader):
        check_depth(doc)
        yield doc


def load(text: str) -> Any:
    data = yaml.load(text, Loader=SafeLoader)
    check_depth(data)
    return data


def dump(data: Any) -> str:
    return yaml.dump(data, Dumper=SafeDumper, sort_keys=False, default_flow_style=False)


def duplicate_keys(text: str) -> list[tuple[str, int, int]]:
    """Keys set twice in one mapping of a YAML text: ``(key, line, first line)`` for each repetition
    (lines from 1), in the order of the text. PyYAML keeps the last value silently; Go's strict YAML
    decoding (``yaml.UnmarshalStrict``) refuses them. A text that does not compose gives none (the
    parse reports it)."""
    try:
        roots = list(yaml.compose_all(text, Loader=SafeLoader))
    except yaml.YAMLError:
        return []
    out: list[tuple[str, int, int]] = []
    stack: list[Any] = [r for r in roots if r is not None]
    seen_nodes: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen_nodes:  # anchors and aliases share nodes
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            first: dict[str, int] = {}
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.tag != "tag:yaml.org,2002:merge":
                    line = k.start_mark.line + 1
                    if k.value in first:
                        out.append((k.value, line, first[k.value]))
                    else:
                        first[k.value] = line
                stack.append(v)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return sorted(out, key=lambda d: d[1])
