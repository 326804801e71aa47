"""The fleet report as a rich table (terminal) and as a Markdown table (report.md, docs)."""

from __future__ import annotations

from typing import Any

__all__ = ["COLUMNS", "markdown_table", "rich_table", "table_rows"]

COLUMNS = (
    "Variant",
    "Admitted",
    "Rejected (kubelet reason)",
    "Pending",
    "Pinned CPUs",
    "Saved",
    "Pinned/pod",
    "Node shared pools",
    "Pod shared pools",
    "Stranded CPUs",
    "Nodes used",
    "Nodes needed",
)
_SHORT = (
    "Variant",
    "Admitted",
    "Rejected",
    "Pending",
    "Pinned",
    "Saved",
    "Pin/pod",
    "Shared",
    "Pod-shared",
    "Stranded",
    "Used",
    "Needed",
)


def _reasons(row: dict[str, Any]) -> str:
    if not row["rejected"]:
        return "0"
    parts = [f"{n} {r}" for r, n in row["rejected"].items()]
    return ", ".join(parts)


def table_rows(report: dict[str, Any]) -> list[list[str]]:
    seeds = len({r["seed"] for r in report["variants"]}) > 1
    out: list[list[str]] = []
    for r in report["variants"]:
        name = f"{r['variant']} (seed {r['seed']})" if seeds else r["variant"]
        if r["variant"] == report.get("baseline"):
            name += " [baseline]"
        saved = r["cpus_saved"]
        stranded = f"{r['stranded_cpus']} ({100 * r['stranded_fraction']:.0f}% of free)"
        invalid = f" + {r['invalid']} Invalid" if r["invalid"] else ""
        out.append(
            [
                name,
                f"{r['admitted']}/{r['pods']}",
                _reasons(r) + invalid,
                str(r["pending"]),
                str(r["pinned_cpus"]),
                "—" if saved is None or r["variant"] == report.get("baseline") else f"{saved:+d}",
                f"{r['pinned_per_running_pod']:.2f}",
                str(r["shared_pool_cpus"]),
                str(r["pod_shared_cpus"]),
                stranded,
                str(r["nodes_used"]),
                "—" if r["nodes_needed"] is None else str(r["nodes_needed"]),
            ]
        )
    return out


def _title(report: dict[str, Any]) -> str:
    pools = ", ".join(f"{p['count']} × {p['name']} ({p['topology']})" for p in report["pools"])
    shards = f", {report['shards']} shards" if report["shards"] > 1 else ""
    return f"Fleet {report['fleet']}: {report['nodes']} nodes [{pools}], {report['pods']} pods{shards}"


_CAPTION = (
    "Pinned: CPUs out of the node shared pools (exclusive + pod budgets); Saved: vs the baseline; "
    "Shared: node shared pools; Pod-shared: pod shared pools; Stranded: free CPUs on partly pinned NUMA nodes; "
    "Used/Needed: nodes with pods / nodes needed (--nodes-needed)."
)


def _short_reasons(cell: str) -> str:
    """``36 TopologyAffinityError`` → ``36 TopologyAffinity`` (the narrow form)."""
    return cell.replace("Error", "")


def _short_stranded(cell: str) -> str:
    """``374 (23% of free)`` → ``374 (23%)``."""
    return cell.replace(" of free)", ")")


# priority: 0 always shown; the higher, the sooner a column is left out at narrow widths
_PRIORITY = (0, 0, 0, 2, 0, 0, 3, 3, 3, 1, 2, 1)


def table_columns() -> list[Any]:
    from topolet.render.width import Column

    cols = []
    for i, (full, short) in enumerate(zip(COLUMNS, _SHORT, strict=True)):
        cols.append(
            Column(
                full,
                short,
                justify="left" if i in (0, 2) else "right",
                priority=_PRIORITY[i],
                wrap=i in (0, 2, 9),
                compact=_short_reasons if i == 2 else _short_stranded if i == 9 else None,
                min_width=10 if i == 9 else 0,
            )
        )
    return cols


def rich_table(report: dict[str, Any], width: int | None = None) -> Any:
    """The table, in the widest layout that fits ``width`` (None: every column, short headers)."""
    from rich.console import Group
    from rich.text import Text

    from topolet.render.width import fit_rich_table

    cols = table_columns()
    if width is None:  # no limit: the classic table
        for c in cols:
            c.priority = 0
        width = 10_000
    table, fitted = fit_rich_table(
        cols,
        table_rows(report),
        width,
        title=_title(report),
        title_justify="left",
        caption=_CAPTION,
        caption_justify="left",
    )
    note = fitted.note(width if width < 10_000 else None)
    return Group(table, Text(note, style="dim")) if note else table


def markdown_table(report: dict[str, Any]) -> str:
    lines = [f"**{_title(report)}**", "", "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in table_rows(report):
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"
