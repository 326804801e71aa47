"""Fitting text and tables to the terminal's width.

* :func:`output_width` -- the width to fit to: ``COLUMNS`` when set, the terminal's when standard output
  is one, else ``None`` (a pipe or a file: no limit, scripts get whole lines);
* :func:`wrap_words` -- word wrapping with a hanging indent, breaking at spaces only (a word longer than
  the line is cut as a last resort);
* :class:`Layout` / :func:`fit_rich_table` -- a rich table tried in layouts of decreasing width (full
  headers, short headers, compact cells, lower-priority columns left out) until one fits, so that no
  column is squeezed into one-character slivers;
* :func:`fit_plain_table` -- the same for kubectl-style tables (tab-aligned columns).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.text import Text

__all__ = [
    "Column",
    "FittedTable",
    "fit_plain_table",
    "fit_rich_table",
    "output_width",
    "wrap_text",
    "wrap_words",
]


def output_width(stream: Any = None) -> int | None:
    """The width to fit to: ``COLUMNS``, else the terminal's, else None (not a terminal: no limit)."""
    env = os.environ.get("COLUMNS", "")
    if env.strip().isdigit() and int(env) > 0:
        return int(env)
    s = stream if stream is not None else sys.stdout
    try:
        if s.isatty():
            return shutil.get_terminal_size((80, 24)).columns
    except (AttributeError, ValueError, OSError):
        return None
    return None


def wrap_words(text: str, width: int | None, indent: int | None = None) -> list[str]:
    """``text`` wrapped at spaces to ``width``; continuation lines indented ``indent`` (default: the
    line's own indent + 4). A ``None`` width returns the line unchanged."""
    if width is None or len(text) <= width:
        return [text]
    lead = len(text) - len(text.lstrip(" "))
    hang = lead + 4 if indent is None else indent
    hang = min(hang, max(0, width // 2))
    return textwrap.wrap(
        text.lstrip(" "),
        width=width,
        initial_indent=" " * lead,
        subsequent_indent=" " * hang,
        break_long_words=True,
        break_on_hyphens=False,
        drop_whitespace=True,
    ) or [text]


def wrap_text(text: Text, width: int, hang: int | None = None) -> list[Text]:
    """A styled line wrapped at spaces to ``width``, continuation lines indented ``hang`` (default: the
    line's indent + 4); a word longer than a line is cut as a last resort. Styles are kept."""
    plain = text.plain
    if len(plain) <= width:
        return [text]
    lead = len(plain) - len(plain.lstrip(" "))
    hang = min(lead + 4 if hang is None else hang, max(0, width // 2))
    by_phrase = _wrap_phrases(text, width, lead, hang)
    if by_phrase is not None:
        return by_phrase
    out: list[Text] = []
    start = None  # start of the current line's text in ``plain``
    end = 0
    indent = lead
    for m in re.finditer(r"\S+", plain):
        a, b = m.start(), m.end()
        if start is None:
            start, end = a, b
        elif indent + (b - start) <= width:
            end = b
        else:
            out.append(_line(text, start, end, indent))
            indent = hang
            start, end = a, b
        while indent + (end - start) > width:  # a word longer than the line
            cut = start + max(1, width - indent)
            out.append(_line(text, start, cut, indent))
            indent = hang
            start = cut
    if start is not None:
        out.append(_line(text, start, end, indent))
    return out


_PHRASE = " · "


def _wrap_phrases(text: Text, width: int, lead: int, hang: int) -> list[Text] | None:
    """Break only between " · "-separated phrases, when every phrase fits on a line (else None)."""
    plain = text.plain
    if _PHRASE not in plain:
        return None
    bounds: list[tuple[int, int]] = []  # (start, end) of each phrase in ``plain``
    pos = lead
    for part in plain[lead:].split(_PHRASE):
        bounds.append((pos, pos + len(part)))
        pos += len(part) + len(_PHRASE)
    out: list[Text] = []
    start, end = bounds[0]
    indent = lead
    for a, b in bounds[1:]:
        if indent + (b - start) <= width:
            end = b
            continue
        if indent + (end - start) > width:
            return None
        out.append(_line(text, start, end + len(_PHRASE.rstrip()), indent))
        indent = hang
        start, end = a, b
    if indent + (end - start) > width:
        return None
    out.append(_line(text, start, end, indent))
    return out


def _line(text: Text, a: int, b: int, indent: int) -> Text:
    from rich.text import Text

    line = Text(" " * indent)
    line.append_text(text[a:b])
    return line


@dataclass(slots=True)
class Column:
    """A table column: its header, a shorter header, alignment, and how it may give way at narrow widths."""

    header: str
    short: str = ""  # a shorter header (default: the header)
    justify: str = "left"
    priority: int = 0  # 0: always shown; higher numbers are left out first when the table does not fit
    wrap: bool = False  # cells may wrap at spaces (else one line)
    compact: Callable[[str], str] | None = None  # a shorter form of a cell, tried before leaving columns out
    min_width: int = 0  # a wrapping column is never narrower (nor narrower than its longest word)


@dataclass(slots=True)
class FittedTable:
    """The layout chosen: which columns, with which headers and cells, and what was given up."""

    columns: list[Column]
    headers: list[str]
    rows: list[list[str]]
    dropped: list[str] = field(default_factory=list)  # headers of the columns left out
    boxed: bool = True
    compact: bool = False

    def note(self, width: int | None) -> str:
        if not self.dropped:
            return ""
        at = f" at {width} columns" if width else ""
        text = f"(not shown{at}: {', '.join(self.dropped)}; a wider terminal or -o json shows them)"
        return "\n".join(wrap_words(text, width, indent=1))


def _widths(
    headers: Sequence[str], rows: Sequence[Sequence[str]], cols: Sequence[Column]
) -> tuple[list[int], list[int]]:
    """Each column's (narrowest, widest) width: a wrapping column may shrink to its longest word (or its
    ``min_width``, whichever is larger); the others are as wide as their longest cell."""
    lo, hi = [], []
    for i, c in enumerate(cols):
        cells = [headers[i], *(r[i] for r in rows)]
        widest = max((len(cell) for cell in cells), default=1)
        if c.wrap:
            word = max((len(w) for cell in cells for w in cell.split()), default=1)
            lo.append(min(widest, max(word, c.min_width)))
        else:
            lo.append(widest)
        hi.append(widest)
    return lo, hi


def _natural(headers: Sequence[str], rows: Sequence[Sequence[str]], cols: Sequence[Column]) -> list[int]:
    return _widths(headers, rows, cols)[0]


def _share(lo: list[int], hi: list[int], room: int) -> list[int]:
    """Column widths from ``lo`` towards ``hi`` with ``room`` spare columns: the cheapest to complete first."""
    out = list(lo)
    for i in sorted(range(len(lo)), key=lambda i: hi[i] - lo[i]):
        give = min(hi[i] - out[i], room)
        out[i] += give
        room -= give
    return out


def _layouts(
    cols: Sequence[Column], rows: Sequence[Sequence[str]], *, boxed_first: bool
) -> list[tuple[list[int], bool, bool, bool]]:
    """(kept column indexes, short headers, compact cells, boxed) from the widest to the narrowest."""
    every = list(range(len(cols)))
    out: list[tuple[list[int], bool, bool, bool]] = []
    boxes = (True, False) if boxed_first else (False,)
    for boxed in boxes:
        out.append((every, False, False, boxed))
        out.append((every, True, False, boxed))
        out.append((every, True, True, boxed))
    # then leave columns out one at a time: the highest priority number first, the rightmost on ties
    kept = every
    for drop in sorted((i for i in every if cols[i].priority > 0), key=lambda i: (-cols[i].priority, -i)):
        kept = [i for i in kept if i != drop]
        out.append((kept, True, True, False))
    return out


def _choose(
    cols: Sequence[Column],
    rows: Sequence[Sequence[str]],
    width: int | None,
    *,
    boxed_first: bool,
    cost: Callable[[list[int], bool], int],
) -> FittedTable:
    layouts = _layouts(cols, rows, boxed_first=boxed_first)
    chosen = layouts[-1]
    for lay in layouts:
        kept, short, compact, boxed = lay
        headers, cells = _apply(cols, rows, kept, short, compact)
        need = sum(_natural(headers, cells, [cols[i] for i in kept])) + cost(kept, boxed)
        if width is None or need <= width:
            chosen = lay
            break
    kept, short, compact, boxed = chosen
    headers, cells = _apply(cols, rows, kept, short, compact)
    dropped = [cols[i].header for i in range(len(cols)) if i not in kept]
    return FittedTable([cols[i] for i in kept], headers, cells, dropped, boxed, compact)


def _apply(
    cols: Sequence[Column], rows: Sequence[Sequence[str]], kept: list[int], short: bool, compact: bool
) -> tuple[list[str], list[list[str]]]:
    headers = [(cols[i].short or cols[i].header) if short else cols[i].header for i in kept]
    out = []
    for r in rows:
        out.append([cols[i].compact(r[i]) if compact and cols[i].compact else r[i] for i in kept])
    return headers, out


def fit_rich_table(
    cols: Sequence[Column],
    rows: Sequence[Sequence[str]],
    width: int | None,
    *,
    boxed: bool = True,
    rule: bool = True,
    **table_kw: Any,
) -> tuple[Any, FittedTable]:
    """A rich ``Table`` of ``rows`` in the widest layout that fits ``width`` (None: the full table)."""
    from rich import box as rich_box
    from rich.markup import escape
    from rich.table import Table

    def cost(kept: list[int], is_boxed: bool) -> int:
        n = len(kept)
        if is_boxed:
            return 3 * n + 1
        return (3 if rule else 2) * (n - 1)  # SIMPLE_HEAD: padding, a divider, padding; no box: padding only

    fitted = _choose(cols, rows, width, boxed_first=boxed, cost=cost)
    widths: list[int | None] = [None] * len(fitted.columns)
    if width is not None:
        lo, hi = _widths(fitted.headers, fitted.rows, fitted.columns)
        spare = width - cost(list(range(len(fitted.columns))), fitted.boxed) - sum(lo)
        if sum(hi) - sum(lo) > spare:  # something must wrap: give each wrapping column its width
            shared = _share(lo, hi, max(0, spare))
            widths = [w if c.wrap else None for w, c in zip(shared, fitted.columns, strict=True)]
    if fitted.boxed:
        t = Table(**table_kw)
    else:
        t = Table(box=rich_box.SIMPLE_HEAD if rule else None, pad_edge=False, show_edge=False, **table_kw)
    for c, h, w in zip(fitted.columns, fitted.headers, widths, strict=True):
        t.add_column(h, justify=c.justify, no_wrap=not c.wrap, overflow="fold", width=w)  # type: ignore[arg-type]
    for r in fitted.rows:
        t.add_row(*(escape(x) for x in r))
    return t, fitted


def fit_plain_table(
    cols: Sequence[Column], rows: Sequence[Sequence[str]], width: int | None, *, padding: int = 3
) -> FittedTable:
    """The layout of a kubectl-style table (cells never wrap) that fits ``width`` (None: all columns)."""
    plain = [Column(c.header, c.short, c.justify, c.priority, False, c.compact) for c in cols]

    def cost(kept: list[int], is_boxed: bool) -> int:
        return padding * (len(kept) - 1)

    return _choose(plain, rows, width, boxed_first=False, cost=cost)
