"""The terminal summary of ``topolet verify``: the three views per container, then each difference."""

from __future__ import annotations

from typing import Any

from topolet.model.cpuset import format_bits


def _align(a: dict[str, Any] | None) -> str:
    if a is None:
        return "-"
    parts = []
    parts.append("SMT ok" if a["smt"]["aligned"] else "SMT no")
    parts.append("L3 ok" if a["l3"]["aligned"] else f"L3 {len(a['l3']['uncoreCaches'])} caches")
    parts.append("NUMA ok" if a["numa"]["aligned"] else "NUMA no")
    return ", ".join(parts)


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]


def verify_text(report: Any) -> str:
    """``report`` is a :class:`topolet.realnode.verify.VerifyReport`."""
    lines = [
        f"Source:      {report.source}",
        f"Topology:    {report.topology}",
        f"Checkpoint:  cpu_manager_state V{report.checkpoint_version}, policy {report.policy}, "
        f"defaultCpuSet {format_bits(report.default_cpuset) or '<empty>'}"
        + (
            f"; memory_manager_state V{report.memory_checkpoint_version}"
            if report.memory_checkpoint_version is not None
            else "; no memory_manager_state"
        ),
        f"topolet:     {report.topolet.get('message') or report.topolet.get('restart')}",
        "",
    ]
    rows = [["POD", "CONTAINER", "CHECKPOINT", "CGROUP CPUS", "TOPOLET", "MEMS (CKPT/CGROUP)", "ALIGNMENT"]]
    for v in report.containers:
        d = v.to_dict()
        ck = d["checkpoint"]["cpus"]
        if ck == "shared pool":
            ck = f"shared {d['checkpoint']['expectedCpuset']}"
        rows.append(
            [
                v.pod,
                v.name,
                ck,
                d["kernel"]["cpusetCpus"] or "?",
                v.topolet_cpus or "-",
                f"{d['checkpoint']['mems'] or '-'}/{d['kernel']['cpusetMems'] or '?'}",
                _align(v.alignment),
            ]
        )
    if len(rows) > 1:
        lines += _table(rows)
    else:
        lines.append("No containers under the kubepods cgroup.")
    lines.append("")
    if report.topolet.get("decisions"):
        lines.append(f"Note: {report.topolet['decisions']}")
    for n in report.notes:
        lines.append(f"Note: {n}")
    if report.clean:
        lines.append("No differences: the kernel enforces what the checkpoints say.")
    else:
        lines.append(f"{len(report.differences)} difference(s):")
        for d in report.differences:
            lines.append(f"  [{d.kind}] {d.message}")
    return "\n".join(lines)
