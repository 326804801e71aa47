"""A self-contained HTML report: inline CSS and SVG, no scripts, no network fetches.

The page holds, per node model shown: an SVG map of the node (sockets → NUMA
nodes → cores → threads, each CPU coloured and labelled by owner), memory per
NUMA node as SVG bars, a table of pods and containers with their cpusets and
NUMA memory, and the explanation text of rejected pods. With ``--compare``
two models are shown side by side (pod-level budgets and the per-container
model) with the CPUs each one pins.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from topolet.explain.fmt import human_bytes
from topolet.explain.model import Explanation
from topolet.explain.nodeview import FREE, RESERVED, MemoryBar, NodeView, OwnerView
from topolet.render.explain_text import explain_lines

PALETTE = (
    "#1f8fb0",
    "#b0458f",
    "#3a8f3a",
    "#c08f12",
    "#3d63c9",
    "#d9702b",
    "#7a5bc2",
    "#1fa595",
    "#c2456f",
    "#6b8e23",
    "#8c6d31",
    "#4a7b9d",
)
RESERVED_FILL = "#c62828"
FREE_FILL = "#eef0f3"
UNKNOWN_FILL = "#000000"

CELL_W = 40
CELL_H = 22
GAP = 4
LABEL_W = 28
MAX_CORES_PER_ROW = 16

CSS = """
:root { --fg:#1d232b; --muted:#5b6572; --line:#d5dae1; --bg:#ffffff; --panel:#f7f8fa; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--fg);
       background: var(--bg); margin: 0; padding: 24px 32px; line-height: 1.4; overflow-wrap: break-word; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 10px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 16px 0 6px; }
.sub { color: var(--muted); margin: 0 0 12px; overflow-wrap: anywhere; }
table { border-collapse: collapse; font-size: 13px; margin: 6px 0 12px; }
table.pods { width: 100%; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: var(--panel); font-weight: 600; }
td.mono, .mono { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; }
td.msg { overflow-wrap: anywhere; }
.nowrap { white-space: nowrap; }
details { margin: 4px 0; }
summary { cursor: pointer; font-weight: 600; }
.settings td:first-child { color: var(--muted); }
.settings td { overflow-wrap: anywhere; }
.map-and-legend { display: flex; flex-wrap: wrap; gap: 8px 28px; align-items: flex-start; }
.map-and-legend > svg { flex: 0 1 auto; }
.legend-box { flex: 1 1 300px; min-width: 0; font-size: 13px; }
.legend-box p { margin: 4px 0; color: var(--muted); }
.legend { display: flex; flex-direction: column; gap: 6px; margin: 6px 0 4px; padding: 0; list-style: none; }
.legend li { display: flex; align-items: flex-start; gap: 8px; }
.legend li > span.text { min-width: 0; overflow-wrap: anywhere; }
.swatch { display: inline-block; min-width: 30px; padding: 1px 4px; border-radius: 3px; font-family: monospace;
          font-size: 12px; text-align: center; border: 1px solid #9aa3ad; flex: none; }
.status-admitted { color: #1b7a33; font-weight: 600; }
.status-rejected { color: #b3261e; font-weight: 600; }
pre.explain { background: var(--panel); border: 1px solid var(--line); padding: 10px 12px; font-size: 12px;
              white-space: pre-wrap; overflow-wrap: anywhere; }
.compare { display: grid; grid-template-columns: repeat(auto-fit, minmax(540px, 1fr)); gap: 24px; }
.compare > .side { min-width: 0; border: 1px solid var(--line); border-radius: 6px; padding: 0 14px 12px; }
.figures { display: flex; gap: 12px; flex-wrap: wrap; margin: 8px 0; }
.figure { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 6px 12px;
          min-width: 0; }
.figure b { display: block; font-size: 20px; }
.figure span { color: var(--muted); font-size: 12px; }
svg { max-width: 100%; height: auto; }
svg text { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; }
.memory { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 2px 12px; max-width: 860px;
          align-items: center; font-size: 13px; margin: 6px 0 8px; }
.membar-label { white-space: nowrap; }
.membar-wrap { position: relative; height: 22px; }
.membar-wrap svg.membar { display: block; width: 100%; height: 22px; max-width: none; }
.memseg-label { position: absolute; top: 0; height: 22px; line-height: 22px; text-align: center; color: #ffffff;
                font-size: 12px; font-weight: 600; overflow: hidden; pointer-events: none; }
.membar-detail { grid-column: 2; min-width: 0; overflow-wrap: anywhere; margin-bottom: 6px; }
.memory-key { color: var(--muted); font-size: 12px; margin: 0 0 12px; }
.model-pods h3 { margin-top: 20px; }
footer { color: var(--muted); font-size: 12px; margin-top: 32px; }
"""


def _e(s: object) -> str:
    return html.escape(str(s), quote=True)


def _mix(hex_color: str, amount: float) -> str:
    """``hex_color`` mixed with white (amount 0..1 of white)."""
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    r, g, b = (round(x + (255 - x) * amount) for x in (r, g, b))
    return f"#{r:02x}{g:02x}{b:02x}"


def owner_fill(o: OwnerView | None, code: str = "") -> tuple[str, str]:
    """(fill, text colour) for an owner."""
    if o is None:
        if code == RESERVED:
            return RESERVED_FILL, "#ffffff"
        if code == FREE:
            return FREE_FILL, "#6b7480"
        return UNKNOWN_FILL, "#ffffff"
    if o.kind == "reserved":
        return RESERVED_FILL, "#ffffff"
    if o.kind == "free":
        return FREE_FILL, "#6b7480"
    base = PALETTE[o.pod_index % len(PALETTE)] if o.pod_index >= 0 else "#888888"
    if o.kind == "exclusive":
        return base, "#ffffff"
    if o.kind == "pod-shared":
        return _mix(base, 0.6), "#1d232b"
    return _mix(base, 0.85), "#1d232b"


def _text_w(text: str) -> int:
    """The width of a 12px bold monospace heading (~7.5px a character) and the block's padding."""
    return round(len(text) * 7.5) + 20


def svg_node_map(view: NodeView, dom_id: str = "node-map", cores_per_row: int = MAX_CORES_PER_ROW) -> str:
    owners = {o.code: o for o in view.owners}
    parts: list[str] = []
    y = 4
    width = 0
    for s in view.sockets:
        parts.append(f'<text x="4" y="{y + 14}" font-size="14" font-weight="bold">Socket {s.id}</text>')
        y += 22
        for b in s.blocks:
            cores = b.cores
            per_row = min(cores_per_row, max(1, len(cores)))
            rows = [cores[i : i + per_row] for i in range(0, len(cores), per_row)]
            threads = max((len(k.cpus) for k in cores), default=1)
            shared = " (part on this socket)" if b.shared else ""
            head = f"NUMA node {b.numa}{shared} · CPUs {b.cpus} · {b.free_cpus}/{b.total_cpus} in the shared pool"
            cells_w = LABEL_W + per_row * (CELL_W + GAP) + 12
            heads = [head]
            if _text_w(head) > cells_w:  # the heading on two lines rather than a block wider than its cells
                heads = [
                    f"NUMA node {b.numa}{shared} · CPUs {b.cpus}",
                    f"{b.free_cpus}/{b.total_cpus} in the shared pool",
                ]
            block_w = max([cells_w, *(_text_w(h) for h in heads)])
            head_h = 8 + 16 * len(heads)
            row_h = 14 + threads * (CELL_H + 2) + 6
            block_h = head_h + len(rows) * row_h + 4
            width = max(width, 12 + block_w)
            parts.append(
                f'<g class="numa" data-numa="{b.numa}" data-socket="{b.socket}">'
                f'<rect x="12" y="{y}" width="{block_w}" height="{block_h}" rx="6" fill="#fbfcfd" stroke="#b8c0ca"/>'
                + "".join(
                    f'<text x="20" y="{y + 16 + 16 * i}" font-size="12" font-weight="bold">{_e(h)}</text>'
                    for i, h in enumerate(heads)
                )
            )
            ry = y + head_h
            for row in rows:
                for i, k in enumerate(row):
                    cx = 20 + LABEL_W + i * (CELL_W + GAP)
                    parts.append(
                        f'<text x="{cx + CELL_W / 2}" y="{ry + 10}" font-size="9" fill="#6b7480" '
                        f'text-anchor="middle">{"core " if k.id < 100 else "c"}{k.id}</text>'
                    )
                for t in range(threads):
                    ty = ry + 14 + t * (CELL_H + 2)
                    parts.append(f'<text x="20" y="{ty + CELL_H / 2 + 4}" font-size="9" fill="#6b7480">t{t}</text>')
                    for i, k in enumerate(row):
                        if t >= len(k.cpus):
                            continue
                        c = k.cpus[t]
                        o = owners.get(c.code)
                        fill, fg = owner_fill(o, c.code)
                        cx = 20 + LABEL_W + i * (CELL_W + GAP)
                        who = o.label if o else ("reserved" if c.code == RESERVED else "the node's shared pool")
                        parts.append(
                            f'<g class="cpu-cell"><rect class="cpu" data-cpu="{c.id}" data-owner="{_e(c.code)}" '
                            f'x="{cx}" y="{ty}" width="{CELL_W}" height="{CELL_H}" rx="3" fill="{fill}" '
                            f'stroke="#8a94a0" stroke-width="0.6"><title>CPU {c.id} · core {k.id} · NUMA {b.numa} · '
                            f"socket {b.socket} · {_e(c.code)} {_e(who)}</title></rect>"
                            f'<text x="{cx + CELL_W / 2}" y="{ty + 15}" font-size="10.5" fill="{fg}" '
                            f'text-anchor="middle">{c.id}<tspan font-weight="bold" dx="2">{_e(c.code)}</tspan>'
                            "</text></g>"
                        )
                ry += row_h
            parts.append("</g>")
            y += block_h + 10
        y += 6
    height = y + 4
    return (
        f'<svg id="{_e(dom_id)}" class="node-map" role="img" aria-label="CPU map of the node" '
        f'viewBox="0 0 {width + 8} {height}" width="{width + 8}" height="{height}">' + "".join(parts) + "</svg>"
    )


LEGEND_INTRO = (
    "Each CPU cell shows the CPU id, then who holds it: ## reserved CPUs, .. the node's shared pool; a letter is a "
    "pod (A, B, …) followed by 1, 2, … for the container it is exclusive to, ~ for the pod's shared pool, "
    "+ for CPUs of the pod's bubble that no container holds."
)


def legend_html(view: NodeView) -> str:
    items = []
    for o in view.owners:
        fill, fg = owner_fill(o)
        extra = f": {o.cpus}" if o.cpus else ""
        items.append(
            f'<li data-code="{_e(o.code)}">'
            f'<span class="swatch" style="background:{fill};color:{fg}">{_e(o.code)}</span>'
            f'<span class="text">{_e(o.label)}{_e(extra)}</span></li>'
        )
    return (
        '<div class="legend-box"><p class="legend-intro">'
        + _e(LEGEND_INTRO)
        + '</p><ul class="legend">'
        + "".join(items)
        + "</ul></div>"
    )


def map_with_legend(view: NodeView, dom_id: str, cores_per_row: int = MAX_CORES_PER_ROW) -> str:
    """The CPU map with its legend beside it (under it when the page is narrow)."""
    return f'<div class="map-and-legend">{svg_node_map(view, dom_id, cores_per_row)}{legend_html(view)}</div>'


def svg_memory(view: NodeView, dom_id: str = "memory-bars") -> str:
    """Memory per NUMA node: a label, a bar (SVG, stretched to the column) and the figures as text that wraps."""
    if not view.memory_tracked:
        rows = "".join(
            f"<li>NUMA node {n}: {_e(human_bytes(size))} (not pinned: memoryManagerPolicy None)</li>"
            for n, size in view.numa_memory.items()
        )
        return f'<ul id="{_e(dom_id)}" class="memory-untracked">{rows}</ul>'
    owners = {o.pod_letter: o for o in view.owners if o.pod_letter}
    scale = 1000.0
    rows_html: list[str] = []
    for b in view.memory:
        total = max(b.total, sum(seg.size for seg in b.segments), 1)  # never wider than the bar
        rects: list[str] = []
        labels: list[str] = []
        x = 0.0
        for seg in b.segments:
            w = seg.size * scale / total
            if seg.size and w < 2:
                w = 2
            if seg.code == RESERVED:
                fill = RESERVED_FILL
            elif seg.code == FREE:
                fill = FREE_FILL
            elif seg.code == "??":
                fill = UNKNOWN_FILL
            else:
                o = owners.get(seg.code)
                fill = PALETTE[o.pod_index % len(PALETTE)] if o else "#888888"
            rects.append(
                f'<rect class="mem-seg" data-numa="{b.numa}" data-code="{_e(seg.code)}" x="{x:.1f}" y="0" '
                f'width="{w:.1f}" height="22" fill="{fill}" stroke="#8a94a0" stroke-width="0.5" '
                f'vector-effect="non-scaling-stroke"><title>{_e(seg.code)} {_e(seg.label)}: '
                f"{_e(human_bytes(seg.size))}</title></rect>"
            )
            if seg.code not in (RESERVED, FREE) and w >= 40:
                labels.append(
                    f'<span class="memseg-label" style="left:{x / 10:.2f}%;width:{w / 10:.2f}%">{_e(seg.code)}</span>'
                )
            x += w
        rows_html.append(
            f'<span class="membar-label" data-numa="{b.numa}">NUMA {b.numa} {_e(b.resource)}</span>'
            f'<div class="membar-wrap"><svg class="membar" viewBox="0 0 {scale:.0f} 22" preserveAspectRatio="none" '
            f'role="img" aria-label="NUMA {b.numa} {_e(b.resource)}">{"".join(rects)}</svg>{"".join(labels)}</div>'
            f'<span class="membar-detail mono">{_e(_memory_detail(b))}</span>'
        )
    key = (
        '<p class="memory-key"><span class="swatch" style="background:'
        f'{RESERVED_FILL};color:#fff">#</span> reserved for the system · letters: the pods of the CPU legend · '
        f'<span class="swatch" style="background:{FREE_FILL};color:#6b7480">.</span> free</p>'
    )
    return f'<div id="{_e(dom_id)}" class="memory">' + "".join(rows_html) + "</div>" + key


def _memory_detail(b: MemoryBar) -> str:
    pods = " ".join(f"{s.code} {human_bytes(s.size)}" for s in b.segments if s.code not in (RESERVED, FREE))
    text = f"{human_bytes(b.free)} free / {human_bytes(b.total)}"
    if b.system_reserved:
        text += f" · system {human_bytes(b.system_reserved)}"
    if pods:
        text += f" · {pods}"
    return text


def _cpuset_html(text: str) -> str:
    """A cpuset that may break after its commas (never inside a range); a short one stays on one line."""
    if len(text) <= 16:
        return f'<span class="nowrap">{_e(text)}</span>'
    return ",<wbr>".join(_e(part) for part in text.split(","))


def pods_table(view: NodeView, dom_id: str = "pod-table", explanations: list[Explanation] | None = None) -> str:
    rows: list[str] = []
    status = {e.pod: e for e in explanations or []}
    for p in view.pods:
        e = status.get(p.pod)
        n = max(1, len(p.containers))
        for i, c in enumerate(p.containers):
            cells = ""
            if i == 0:
                swatch = ""
                if p.letter:
                    o = next(
                        (o for o in view.owners if o.pod_letter == p.letter and o.kind == "exclusive"), None
                    ) or next((o for o in view.owners if o.pod_letter == p.letter), None)
                    fill, fg = owner_fill(o)
                    swatch = f'<span class="swatch" style="background:{fill};color:{fg}">{_e(p.letter)}</span> '
                cells = (
                    f'<td rowspan="{n}">{swatch}{_e(p.pod)}</td>'
                    f'<td rowspan="{n}" class="status-admitted">Admitted</td>'
                    f'<td rowspan="{n}">{_e(p.qos)}</td>'
                    f'<td rowspan="{n}" class="mono cpus">{_cpuset_html(p.pod_cpus or "-")}</td>'
                    f'<td rowspan="{n}" class="mono">{_cpuset_html(p.numa or "-")}</td>'
                )
            rows.append(
                f'<tr class="container-row" data-pod="{_e(p.pod)}" data-container="{_e(c.name)}">{cells}'
                f'<td>{_e(c.name)}</td><td>{_e(c.kind)}</td><td class="mono">{_e(c.code or "..")}</td>'
                f'<td>{_e(c.cpu_mode)}</td><td class="mono cpus">{_cpuset_html(c.cpus)}</td>'
                f'<td class="mono">{_cpuset_html(c.mems)}</td><td>{_e(c.memory or "-")}</td></tr>'
            )
        del e
    for e in explanations or []:
        if e.admitted:
            continue
        names = [c.name for c in e.request.containers] if e.request else []
        rej = e.rejection
        by = f" ({rej.handler})" if rej is not None and rej.handler and rej.handler != "resource managers" else ""
        short = f" — {rej.shortfall['text']}" if rej is not None and rej.shortfall else ""
        rows.append(
            f'<tr class="container-row rejected" data-pod="{_e(e.pod)}"><td>{_e(e.pod)}</td>'
            f'<td class="status-rejected">Rejected: {_e(e.reason)}{_e(by)}</td>'
            f"<td>{_e(e.request.qos if e.request else '')}</td>"
            f'<td>-</td><td>-</td><td colspan="7" class="msg">{_e(", ".join(names))} — {_e(e.message)}{_e(short)}</td>'
            "</tr>"
        )
    head = (
        "<tr><th>Pod</th><th>Status</th><th>QoS</th><th>Pod CPUs</th><th>NUMA</th><th>Container</th><th>Kind</th>"
        "<th>Code</th><th>CPU mode</th><th>Cpus_allowed_<wbr>list</th><th>Mems_allowed_<wbr>list</th>"
        "<th>Pinned memory</th></tr>"
    )
    return f'<table id="{_e(dom_id)}" class="pods">{head}{"".join(rows)}</table>'


def settings_table(view: NodeView) -> str:
    st = view.settings
    rows = [
        ("Machine", view.title),
        (
            "cpuManagerPolicy",
            st.cpu_manager_policy + (f" (reserved CPUs {st.reserved_cpus})" if st.reserved_cpus else ""),
        ),
        ("cpuManagerPolicyOptions", ", ".join(st.cpu_manager_options) or "-"),
        ("memoryManagerPolicy", st.memory_manager_policy),
        ("topologyManagerPolicy / Scope", f"{st.topology_manager_policy} / {st.topology_manager_scope}"),
        ("topologyManagerPolicyOptions", ", ".join(st.topology_manager_options) or "-"),
        ("Feature gates", ", ".join(f"{k}={'on' if v else 'off'}" for k, v in st.feature_gates.items())),
    ]
    body = "".join(f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in rows)
    return f'<table class="settings">{body}</table>'


def explanations_html(explanations: list[Explanation], dom_id: str, only_rejected: bool = True) -> str:
    items = []
    for e in explanations:
        if only_rejected and e.admitted:
            continue
        cls = "admitted" if e.admitted else "rejected"
        items.append(
            f'<article class="explain {cls}" data-pod="{_e(e.pod)}"><h3>{_e(e.pod)}: '
            f'<span class="status-{cls}">{"Admitted" if e.admitted else "Rejected: " + _e(e.reason)}</span></h3>'
            f'<pre class="explain">{_e(chr(10).join(explain_lines(e)))}</pre></article>'
        )
    if not items:
        return f'<p id="{_e(dom_id)}" class="none">No pod was rejected.</p>'
    return f'<div id="{_e(dom_id)}">' + "".join(items) + "</div>"


def _admitted_html(explanations: list[Explanation], dom_id: str) -> str:
    """The admitted pods' explanations (why these CPUs), folded."""
    items = [
        f'<details class="explain admitted" data-pod="{_e(e.pod)}"><summary>{_e(e.pod)}: why these CPUs</summary>'
        f'<pre class="explain">{_e(chr(10).join(explain_lines(e)))}</pre></details>'
        for e in explanations
        if e.admitted
    ]
    if not items:
        return ""
    return f'<h3>Admitted pods, explained</h3><div id="{_e(dom_id)}">' + "".join(items) + "</div>"


@dataclass(slots=True)
class ReportSide:
    """One node model in the report."""

    key: str  # used in element ids
    title: str
    view: NodeView
    explanations: list[Explanation]
    figures: list[tuple[str, str]] = field(default_factory=list)  # (value, label)


def _figures_html(side: ReportSide) -> str:
    if not side.figures:
        return ""
    return (
        '<div class="figures">'
        + "".join(
            f'<div class="figure" data-figure="{_e(label)}"><b>{_e(value)}</b><span>{_e(label)}</span></div>'
            for value, label in side.figures
        )
        + "</div>"
    )


def _side_html(side: ReportSide, compact: bool) -> str:
    """One model: with ``compact`` (side by side) the map, legend and memory only; the tables come after."""
    k = side.key
    top = (
        f'<section class="model" id="{_e(k)}">'
        + (f"<h2>{_e(side.title)}</h2>" if side.title else "")
        + _figures_html(side)
        + ("" if compact else f"<h3>Node settings</h3>{settings_table(side.view)}")
        + f"<h3>CPU map</h3>{map_with_legend(side.view, f'{k}-map', 8 if compact else MAX_CORES_PER_ROW)}"
        + f"<h3>Memory per NUMA node</h3>{svg_memory(side.view, f'{k}-memory')}"
    )
    if compact:
        return top + "</section>"
    return top + _tables_html(side, "") + "</section>"


def _tables_html(side: ReportSide, title: str) -> str:
    k = side.key
    head = f" — {_e(title)}" if title else ""
    return (
        f"<h3>Pods and containers{head}</h3>{pods_table(side.view, f'{k}-pods', side.explanations)}"
        + f"<h3>Rejected pods, explained{head}</h3>{explanations_html(side.explanations, f'{k}-rejected')}"
        + _admitted_html(side.explanations, f"{k}-admitted")
    )


def html_report(sides: list[ReportSide], *, title: str = "topolet report", subtitle: str = "") -> str:
    """The whole page. One side: the node; two sides: shown side by side (``--compare``)."""
    if len(sides) == 1:
        body = _side_html(sides[0], compact=False)
    else:
        body = (
            f"<h2>Node settings</h2>{settings_table(sides[0].view)}"
            '<div class="compare">'
            + "".join(f'<div class="side">{_side_html(s, compact=True)}</div>' for s in sides)
            + "</div>"
            # the tables need the page's whole width: one model after the other, not squeezed side by side
            + "".join(
                f'<section class="model-pods" id="{_e(s.key)}-tables"><h2>{_e(s.title or s.key)}: pods</h2>'
                + _tables_html(s, "")
                + "</section>"
                for s in sides
            )
        )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>"
        f'<header><h1>{_e(title)}</h1><p class="sub">{_e(subtitle)}</p></header>'
        f"{body}"
        "<footer>Generated by topolet, a model of the kubelet 1.36 topology, CPU and memory managers. "
        "Self-contained: no scripts, no external resources.</footer>"
        "</body></html>\n"
    )
