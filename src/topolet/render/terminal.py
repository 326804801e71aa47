"""The node as a picture in the terminal (rich): CPUs by owner, and memory per NUMA node as bars.

Every CPU cell is ``<cpu id><owner code>`` (``33A1``: CPU 33, pod A's first
exclusive container; ``5..``: CPU 5, the node's shared pool; ``0##``: CPU 0,
reserved), so the map reads the same without colour (``NO_COLOR``, pipes).
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.text import Text

from topolet.engine.node import Node
from topolet.explain.fmt import human_bytes
from topolet.explain.nodeview import FREE, RESERVED, CoreView, MemoryBar, NodeView, OwnerView, node_view
from topolet.render.width import wrap_text

PALETTE = (
    "cyan",
    "magenta",
    "green",
    "yellow",
    "blue",
    "bright_cyan",
    "bright_magenta",
    "bright_green",
    "bright_yellow",
    "bright_blue",
    "dark_orange",
    "purple",
)
RESERVED_STYLE = "bold white on red"
FREE_STYLE = "dim"
UNKNOWN_STYLE = "bold red"


def owner_style(owner: OwnerView | None, code: str = "") -> str:
    if owner is None:
        return FREE_STYLE if code == FREE else (RESERVED_STYLE if code == RESERVED else UNKNOWN_STYLE)
    if owner.kind == "reserved":
        return RESERVED_STYLE
    if owner.kind == "free":
        return FREE_STYLE
    col = PALETTE[owner.pod_index % len(PALETTE)] if owner.pod_index >= 0 else "white"
    if owner.kind == "exclusive":
        return f"bold black on {col}"
    if owner.kind == "pod-shared":
        return f"bold {col}"
    if owner.kind == "memory":
        return f"{col}"
    return f"dim {col}"


def _view(node: Node | NodeView) -> NodeView:
    return node if isinstance(node, NodeView) else node_view(node)


class NodeMap:
    """A width-aware renderable: sockets → NUMA nodes → cores (columns) → threads (rows), and the legend."""

    def __init__(self, view: NodeView, legend: bool = True, header: bool = True) -> None:
        self.view = view
        self.legend = legend
        self.header = header
        self.owners = {o.code: o for o in view.owners}
        max_id = max((c.id for s in view.sockets for b in s.blocks for k in b.cores for c in k.cpus), default=0)
        self.id_w = len(str(max_id))
        self.cell_w = self.id_w + 2

    def _cell(self, cpu_id: int, code: str) -> Text:
        style = owner_style(self.owners.get(code), code)
        return Text(f"{cpu_id:>{self.id_w}}{code}", style=style)

    def _chunks(self, cores: list[CoreView], per_row: int) -> Iterable[list[CoreView]]:
        group: list[CoreView] = []
        uncore = None
        for k in cores:
            if group and (len(group) == per_row or (self._split_uncore and k.uncore != uncore)):
                yield group
                group = []
            uncore = k.uncore
            group.append(k)
        if group:
            yield group

    def lines(self, width: int) -> list[Text]:
        v = self.view
        out: list[Text] = []
        indent = 4
        row_label_w = 4
        per_row = max(1, (width - indent - row_label_w) // (self.cell_w + 1))
        for p in (32, 16, 8, 4, 2, 1):
            if p <= per_row:
                per_row = p
                break
        widest = max((len(b.cores) for s in v.sockets for b in s.blocks), default=0)
        uncores = {k.uncore for s in v.sockets for b in s.blocks for k in b.cores}
        self._split_uncore = len(uncores) > len(v.sockets)
        if self.header:
            st = v.settings
            head = Text(f"Node: {v.title}", style="bold")
            out.append(head)
            pol = (
                f"  cpuManagerPolicy {st.cpu_manager_policy}"
                + (f" (reserved {st.reserved_cpus})" if st.reserved_cpus else "")
                + (f" [{', '.join(st.cpu_manager_options)}]" if st.cpu_manager_options else "")
                + f" · memoryManagerPolicy {st.memory_manager_policy}"
                + f" · topology {st.topology_manager_policy}/{st.topology_manager_scope}"
            )
            out.append(Text(pol))
        if per_row < widest:
            out.append(
                Text(
                    f"({per_row} core{'s' if per_row > 1 else ''} a row to fit {width} columns; "
                    f"a NUMA node has up to {widest})",
                    style="dim",
                )
            )
        for s in v.sockets:
            out.append(Text(f"Socket {s.id}", style="bold"))
            for b in s.blocks:
                shared = " (part on this socket)" if b.shared else ""
                out.append(
                    Text(
                        f"  NUMA node {b.numa}{shared} · CPUs {b.cpus} · "
                        f"{b.free_cpus}/{b.total_cpus} in the shared pool",
                        style="bold",
                    )
                )
                for chunk in self._chunks(b.cores, per_row):
                    if self._split_uncore:
                        out.append(Text(f"{' ' * indent}L3 cache {chunk[0].uncore}", style="italic"))
                    hdr = Text(" " * (indent + row_label_w))
                    for k in chunk:
                        hdr.append(f"{'c' + str(k.id):>{self.cell_w}} ", style="dim")
                    hdr.rstrip()
                    out.append(hdr)
                    threads = max(len(k.cpus) for k in chunk)
                    for t in range(threads):
                        row = Text(" " * indent)
                        row.append(f"{'t' + str(t):<{row_label_w}}", style="dim")
                        for k in chunk:
                            if t < len(k.cpus):
                                c = k.cpus[t]
                                row.append_text(self._cell(c.id, c.code))
                            else:
                                row.append(" " * self.cell_w)
                            row.append(" ")
                        row.rstrip()
                        out.append(row)
        if v.cpuless_numa:
            out.append(
                Text(
                    "NUMA nodes without CPUs: "
                    + ", ".join(f"{n} ({human_bytes(v.numa_memory.get(n, 0))})" for n in v.cpuless_numa)
                )
            )
        if self.legend:
            out.append(Text("Legend:", style="bold"))
            for o in v.owners:
                line = Text("  ")
                line.append(f"{o.code}", style=owner_style(o))
                text = f"  {o.label}"
                if o.cpus and o.kind not in ("free", "reserved"):
                    text += f": {o.cpus}"
                elif o.cpus:
                    text += f": {o.cpus} ({o.count})"
                line.append(text)
                out.append(line)
            unpinned = [p.pod for p in v.pods if not p.letter]
            if unpinned:
                out.append(
                    Text(f"  pods with nothing pinned (they run in the node's shared pool): {', '.join(unpinned)}")
                )
        return [piece for line in out for piece in wrap_text(line, width)]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from self.lines(options.max_width)


class MemoryBars:
    """Memory per NUMA node and resource as bars (system reserved, pods by letter, free)."""

    def __init__(self, view: NodeView, bar_width: int = 40) -> None:
        self.view = view
        self.bar_width = bar_width
        self.owners = {o.pod_letter: o for o in view.owners if o.pod_letter}

    def _bar(self, bar: MemoryBar, width: int) -> Text:
        # segments may add up to more than the node's memory (a reservation larger than a NUMA node
        # that has none): scale to what is drawn, never to an empty total
        total = max(bar.total, sum(seg.size for seg in bar.segments), 1)
        t = Text("[")
        cells: list[tuple[str, int]] = []
        for seg in bar.segments:
            n = round(seg.size * width / total)
            if seg.size and n == 0:
                n = 1
            cells.append((seg.code, n))
        # fit exactly: trim or pad the free segment (the last one)
        excess = sum(n for _, n in cells) - width
        if cells:
            code, n = cells[-1]
            cells[-1] = (code, max(0, n - excess))
        for code, n in cells:
            if code == RESERVED:
                t.append("#" * n, style=RESERVED_STYLE)
            elif code == FREE:
                t.append("." * n, style=FREE_STYLE)
            elif code == "??":
                t.append("?" * n, style=UNKNOWN_STYLE)
            else:
                o = self.owners.get(code)
                col = PALETTE[o.pod_index % len(PALETTE)] if o else "white"
                t.append(code * n, style=f"bold black on {col}")
        t.append("]")
        return t

    @staticmethod
    def _detail(b: MemoryBar) -> str:
        pods = " ".join(f"{s.code} {human_bytes(s.size)}" for s in b.segments if s.code not in (RESERVED, FREE))
        detail = f" {human_bytes(b.free)} free / {human_bytes(b.total)}"
        if b.system_reserved:
            detail += f" · system {human_bytes(b.system_reserved)}"
        if pods:
            detail += f" · {pods}"
        return detail

    def lines(self, width: int) -> list[Text]:
        v = self.view
        out: list[Text] = [Text("Memory per NUMA node", style="bold")]
        if not v.memory_tracked:
            for n, size in v.numa_memory.items():
                out.append(Text(f"  NUMA node {n}: {human_bytes(size)} (not pinned: memoryManagerPolicy None)"))
            return [piece for line in out for piece in wrap_text(line, width)]
        label_w = max((len(f"NUMA {b.numa} {b.resource}") for b in v.memory), default=10)
        details = [self._detail(b) for b in v.memory]
        room = width - label_w - 5 - max((len(d) for d in details), default=0)
        bar_w = max(10, min(self.bar_width, room))
        for b, detail in zip(v.memory, details, strict=True):
            line = Text(f"  {'NUMA ' + str(b.numa) + ' ' + b.resource:<{label_w}} ")
            line.append_text(self._bar(b, bar_w))
            line.append(detail)
            out.append(line)
        out.append(Text("  # system reserved · letters: pods (as in the CPU legend) · . free", style="dim"))
        return [piece for line in out for piece in wrap_text(line, width)]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from self.lines(options.max_width)


def node_map(node: Node | NodeView, *, legend: bool = True, header: bool = True) -> RenderableType:
    """The CPU map of a node (with its legend) as a rich renderable."""
    return NodeMap(_view(node), legend=legend, header=header)


def memory_bars(node: Node | NodeView, bar_width: int = 40) -> RenderableType:
    """Memory per NUMA node as bars, as a rich renderable."""
    return MemoryBars(_view(node), bar_width)


def node_picture(node: Node | NodeView) -> RenderableType:
    """The whole picture: the CPU map, its legend and the memory bars."""
    v = _view(node)
    return Group(NodeMap(v), Text(""), MemoryBars(v))


def render_plain(renderable: RenderableType, width: int = 100) -> str:
    """A renderable as plain text (no colour, no styles)."""
    console = Console(width=width, no_color=True, color_system=None, record=True, file=_Null(), legacy_windows=False)
    console.print(renderable)
    return console.export_text(styles=False)


class _Null:
    def write(self, s: str) -> int:
        return len(s)

    def flush(self) -> None:
        return None
