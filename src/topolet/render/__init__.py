"""Rendering: the node as a picture (terminal with rich, HTML/SVG), explanations as text.

``node_map(node)`` and ``memory_bars(node)`` are rich renderables that other
commands (``topolet describe node``) can print.
"""

from topolet.render.explain_text import explain_lines, explain_text
from topolet.render.terminal import memory_bars, node_map, node_picture, render_plain

__all__ = ["explain_lines", "explain_text", "memory_bars", "node_map", "node_picture", "render_plain"]
