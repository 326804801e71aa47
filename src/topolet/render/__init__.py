"""Rendering: the node as a picture (terminal with rich, HTML/SVG), explanations as text.

``node_map(node)`` and ``memory_bars(node)`` are rich renderables that other
commands (``topolet describe node``) can print.

The names below are imported on first use (``from topolet.render import node_map``
works as usual): importing ``topolet.render.node`` for a kubectl-style table does
not load the explanation and map renderers.
"""

from __future__ import annotations

from typing import Any

_LAZY = {
    "explain_lines": "topolet.render.explain_text",
    "explain_text": "topolet.render.explain_text",
    "memory_bars": "topolet.render.terminal",
    "node_map": "topolet.render.terminal",
    "node_picture": "topolet.render.terminal",
    "render_plain": "topolet.render.terminal",
}

__all__ = ["explain_lines", "explain_text", "memory_bars", "node_map", "node_picture", "render_plain"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'topolet.render' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
