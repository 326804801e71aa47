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
       background: var(--bg); margin: 0; padding: 24px 32px; line-height: 1.4; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 10px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 16px 0 6px; }
.sub { color: var(--muted); margin: 0 0 12px; }
table { border-collapse: collapse; font-size: 13px; margin: 6px 0 12px; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: var(--panel); font-weight: 600; }
td.mono, .mono { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; }
td.cpus { white-space: nowrap; }
details { margin: 4px 0; }
summary { cursor: pointer; font-weight: 600; }
.settings td:first-child { color: var(--muted); }
.legend { display: flex; flex-wrap: wrap; gap: 6px 18px; font-size: 13px; margin: 8px 0 4px; padding: 0;
          list-style: none; }
.legend li { display: flex; align-items: center; gap: 6px; }
.swatch { display: inline-block; min-width: 28px; padding: 1px 4px; border-radius: 3px; font-family: monospace;
          font-size: 12px; text-align: center; border: 1px solid #9aa3ad; }
.status-admitted { color: #1b7a33; font-weight: 600; }
.status-rejected { color: #b3261e; font-weight: 600; }
pre.explain { background: var(--panel); border: 1px solid var(--line); padding: 10px 12px; font-size: 12px;
              white-space: pre-wrap; overflow-wrap: anywhere; }
.compare { display: grid; grid-template-columns: 1fr 1fr; gap: 24px; }
.compare > .side { min-width: 0; border: 1px solid var(--line); border-radius: 6px; padding: 0 14px 12px; }
.figures { display: flex; gap: 16px; flex-wrap: wrap; margin: 8px 0; }
.figure { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 6px 12px; }
.figure b { display: block; font-size: 20px; }
.figure span { color: var(--muted); font-size: 12px; }
svg { max-width: 100%; height: auto; }
.table-wrap { max-width: 100%; overflow-x: auto; }
.compare table { font-size: 12px; }
.compare th, .compare td { padding: 3px 5px; }
svg text { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; }
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


def svg_node_map(view: NodeView, dom_id: str = "node-map") -> str:
    owners = {o.code: o for o in view.owners}
    parts: list[str] = []
    y = 4
    width = 0
    for s in view.sockets:
        parts.append(f'<text x="4" y="{y + 14}" font-size="14" font-weight="bold">Socket {s.id}</text>')
        y += 22
        for b in s.blocks:
            cores = b.cores
            per_row = min(MAX_CORES_PER_ROW, max(1, len(cores)))
            rows = [cores[i : i + per_row] for i in range(0, len(cores), per_row)]
            threads = max((len(k.cpus) for k in cores), default=1)
            block_w = LABEL_W + per_row * (CELL_W + GAP) + 12
            row_h = 14 + threads * (CELL_H + 2) + 6
            block_h = 24 + len(rows) * row_h + 4
            width = max(width, 12 + block_w)
            shared = " (part on this socket)" if b.shared else ""
            parts.append(
                f'<g class="numa" data-numa="{b.numa}" data-socket="{b.socket}">'
                f'<rect x="12" y="{y}" width="{block_w}" height="{block_h}" rx="6" fill="#fbfcfd" stroke="#b8c0ca"/>'
                f'<text x="20" y="{y + 16}" font-size="12" font-weight="bold">NUMA node {b.numa}{_e(shared)} · '
                f"CPUs {_e(b.cpus)} · {b.free_cpus}/{b.total_cpus} in the shared pool</text>"
            )
            ry = y + 24
            for row in rows:
                for i, k in enumerate(row):
                    cx = 20 + LABEL_W + i * (CELL_W + GAP)
                    parts.append(
                        f'<text x="{cx + CELL_W / 2}" y="{ry + 10}" font-size="9" fill="#6b7480" '
                        f'text-anchor="middle">core {k.id}</text>'
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


def legend_html(view: NodeView) -> str:
    items = []
    for o in view.owners:
        fill, fg = owner_fill(o)
        extra = f": {o.cpus}" if o.cpus else ""
        items.append(
            f'<li data-code="{_e(o.code)}">'
            f'<span class="swatch" style="background:{fill};color:{fg}">{_e(o.code)}</span>'
            f"{_e(o.label)}{_e(extra)}</li>"
        )
    return '<ul class="legend">' + "".join(items) + "</ul>"


def svg_memory(view: NodeView, dom_id: str = "memory-bars") -> str:
    if not view.memory_tracked:
        rows = "".join(
            f"<li>NUMA node {n}: {_e(human_bytes(size))} (not pinned: memoryManagerPolicy None)</li>"
            for n, size in view.numa_memory.items()
        )
        return f'<ul id="{_e(dom_id)}" class="memory-untracked">{rows}</ul>'
    owners = {o.pod_letter: o for o in view.owners if o.pod_letter}
    bar_w = 420
    label_w = 150
    row_h = 26
    parts: list[str] = []
    for i, b in enumerate(view.memory):
        y = 4 + i * row_h
        parts.append(f'<text x="0" y="{y + 15}" font-size="12">NUMA {b.numa} {_e(b.resource)}</text>')
        x = float(label_w)
        total = max(b.total, sum(seg.size for seg in b.segments), 1)  # never wider than the bar
        for seg in b.segments:
            w = seg.size * bar_w / total
            if seg.size and w < 1:
                w = 1
            if seg.code == RESERVED:
                fill = RESERVED_FILL
            elif seg.code == FREE:
                fill = FREE_FILL
            elif seg.code == "??":
                fill = UNKNOWN_FILL
            else:
                o = owners.get(seg.code)
                fill = PALETTE[o.pod_index % len(PALETTE)] if o else "#888888"
            parts.append(
                f'<rect class="mem-seg" data-numa="{b.numa}" data-code="{_e(seg.code)}" x="{x:.1f}" y="{y + 2}" '
                f'width="{w:.1f}" height="18" fill="{fill}" stroke="#8a94a0" stroke-width="0.5">'
                f"<title>{_e(seg.code)} {_e(seg.label)}: {_e(human_bytes(seg.size))}</title></rect>"
            )
            if seg.code not in (RESERVED, FREE) and w >= 16:
                parts.append(
                    f'<text x="{x + w / 2:.1f}" y="{y + 15}" font-size="11" fill="#ffffff" '
                    f'text-anchor="middle">{_e(seg.code)}</text>'
                )
            x += w
        parts.append(f'<text x="{label_w + bar_w + 8}" y="{y + 15}" font-size="12">{_e(_memory_detail(b))}</text>')
    height = 8 + len(view.memory) * row_h
    width = label_w + bar_w + 330
    return (
        f'<svg id="{_e(dom_id)}" class="memory" viewBox="0 0 {width} {height}" width="{width}" height="{height}">'
        + "".join(parts)
        + "</svg>"
    )


def _memory_detail(b: MemoryBar) -> str:
    pods = " ".join(f"{s.code} {human_bytes(s.size)}" for s in b.segments if s.code not in (RESERVED, FREE))
    text = f"{human_bytes(b.free)} free / {human_bytes(b.total)}"
    if b.system_reserved:
        text += f" · system {human_bytes(b.system_reserved)}"
    if pods:
        text += f" · {pods}"
    return text


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
                    f'<td rowspan="{n}" class="mono cpus">{_e(p.pod_cpus or "-")}</td>'
                    f'<td rowspan="{n}" class="mono">{_e(p.numa or "-")}</td>'
                )
            rows.append(
                f'<tr class="container-row" data-pod="{_e(p.pod)}" data-container="{_e(c.name)}">{cells}'
                f'<td>{_e(c.name)}</td><td>{_e(c.kind)}</td><td class="mono">{_e(c.code or "..")}</td>'
                f'<td>{_e(c.cpu_mode)}</td><td class="mono cpus">{_e(c.cpus)}</td><td class="mono">{_e(c.mems)}</td>'
                f'<td class="mono">{_e(c.memory or "-")}</td></tr>'
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
            f'<td>-</td><td>-</td><td colspan="7">{_e(", ".join(names))} — {_e(e.message)}{_e(short)}</td></tr>'
        )
    head = (
        "<tr><th>Pod</th><th>Status</th><th>QoS</th><th>Pod CPUs</th><th>NUMA</th><th>Container</th><th>Kind</th>"
        "<th>Code</th><th>CPU mode</th><th>Cpus_allowed_list</th><th>Mems_allowed_list</th><th>Pinned memory</th></tr>"
    )
    return f'<div class="table-wrap"><table id="{_e(dom_id)}" class="pods">{head}{"".join(rows)}</table></div>'


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


def _side_html(side: ReportSide, compact: bool) -> str:
    k = side.key
    figs = ""
    if side.figures:
        figs = (
            '<div class="figures">'
            + "".join(
                f'<div class="figure" data-figure="{_e(label)}"><b>{_e(value)}</b><span>{_e(label)}</span></div>'
                for value, label in side.figures
            )
            + "</div>"
        )
    return (
        f'<section class="model" id="{_e(k)}">'
        + (f"<h2>{_e(side.title)}</h2>" if side.title else "")
        + figs
        + ("" if compact else f"<h3>Node settings</h3>{settings_table(side.view)}")
        + f"<h3>CPU map</h3>{svg_node_map(side.view, f'{k}-map')}{legend_html(side.view)}"
        + f"<h3>Memory per NUMA node</h3>{svg_memory(side.view, f'{k}-memory')}"
        + f"<h3>Pods and containers</h3>{pods_table(side.view, f'{k}-pods', side.explanations)}"
        + f"<h3>Rejected pods, explained</h3>{explanations_html(side.explanations, f'{k}-rejected')}"
        + _admitted_html(side.explanations, f"{k}-admitted")
        + "</section>"
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
