"""Files of a fleet what-if: per-pod and per-node results (Parquet + CSV, streamed) and PNG plots.

Needs the ``fleet`` extra (pyarrow, matplotlib); imported only when ``--out`` is given.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from topolet.fleet.sim import NODE_COLUMNS, POD_COLUMNS

__all__ = ["PodSink", "merge_parts", "write_nodes", "write_plots"]

BATCH_ROWS = 50_000

_INT_COLUMNS = {
    "seed",
    "shard",
    "seq",
    "attempt",
    "pinned_cpus",
    "pod_shared_cpus",
    "pods",
    "cpu_requested_m",
    "cpu_allocatable_m",
    "memory_requested",
    "memory_allocatable",
    "shared_pool_cpus",
    "free_cpus",
    "stranded_cpus",
}


def _schema(columns: Sequence[str]) -> Any:
    import pyarrow as pa

    return pa.schema([(c, pa.int64() if c in _INT_COLUMNS else pa.string()) for c in columns])


class PodSink:
    """Rows appended in batches to one Parquet file (a cell's part), never all held in memory."""

    def __init__(self, path: str, columns: Sequence[str] = POD_COLUMNS, batch_rows: int = BATCH_ROWS) -> None:
        import pyarrow.parquet as pq

        self.columns = tuple(columns)
        self.schema = _schema(self.columns)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.writer = pq.ParquetWriter(path, self.schema)
        self.batch_rows = batch_rows
        self.rows: list[tuple[Any, ...]] = []

    def add(self, row: tuple[Any, ...]) -> None:
        self.rows.append(row)
        if len(self.rows) >= self.batch_rows:
            self.flush()

    def flush(self) -> None:
        import pyarrow as pa

        if not self.rows:
            return
        cols = list(zip(*self.rows, strict=True))
        table = pa.Table.from_arrays(
            [pa.array(c, type=f.type) for c, f in zip(cols, self.schema, strict=True)], schema=self.schema
        )
        self.writer.write_table(table)
        self.rows = []

    def close(self) -> None:
        self.flush()
        self.writer.close()


def merge_parts(parts: Iterable[str], parquet_path: Path, csv_path: Path, columns: Sequence[str] = POD_COLUMNS) -> int:
    """Concatenate part files (in the given order) into one Parquet and one CSV file, batch by batch."""
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    schema = _schema(columns)
    n = 0
    with pq.ParquetWriter(str(parquet_path), schema) as pw, pcsv.CSVWriter(str(csv_path), schema) as cw:
        for part in parts:
            pf = pq.ParquetFile(part)
            for batch in pf.iter_batches(batch_size=BATCH_ROWS):
                pw.write_batch(batch)
                cw.write_batch(batch)
                n += batch.num_rows
    return n


def write_nodes(rows: Iterable[tuple[Any, ...]], parquet_path: Path, csv_path: Path) -> int:
    """Per-node rows to Parquet and CSV."""
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    schema = _schema(NODE_COLUMNS)
    n = 0
    with pq.ParquetWriter(str(parquet_path), schema) as pw, pcsv.CSVWriter(str(csv_path), schema) as cw:
        buf: list[tuple[Any, ...]] = []

        def flush() -> None:
            if not buf:
                return
            cols = list(zip(*buf, strict=True))
            arrays = [pa.array(c, type=f.type) for c, f in zip(cols, schema, strict=True)]
            batch = pa.RecordBatch.from_arrays(arrays, schema=schema)
            pw.write_batch(batch)
            cw.write_batch(batch)
            buf.clear()

        for r in rows:
            buf.append(r)
            n += 1
            if len(buf) >= BATCH_ROWS:
                flush()
        flush()
    return n


# -- plots -----------------------------------------------------------------------------------------------
def _labels(rows: list[dict[str, Any]]) -> list[str]:
    seeds = {r["seed"] for r in rows}
    return [r["variant"] if len(seeds) == 1 else f"{r['variant']}\nseed {r['seed']}" for r in rows]


PLOT_NAMES = ("cores_pinned.png", "rejections.png", "fragmentation.png")


def _panels(report: dict[str, Any]) -> list[Any]:
    """The three panels as functions drawing on an axes."""
    rows = report["variants"]
    labels = _labels(rows)
    x = list(range(len(rows)))

    def pinned(ax: Any) -> None:
        vals = [r["pinned_cpus"] for r in rows]
        bars = ax.bar(x, vals, color="#4c72b0", width=0.7)
        top = max(vals, default=0) or 1
        for b, r in zip(bars, rows, strict=True):
            cx = b.get_x() + b.get_width() / 2
            ax.annotate(
                f"{r['pinned_cpus']}",
                (cx, b.get_height()),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=8,
            )
            saved = r.get("cpus_saved")
            if saved not in (None, 0) and r["variant"] != report.get("baseline"):
                # inside the bar, one figure a line: never wider than the bar, never over its neighbour
                inside = b.get_height() > 0.18 * top
                ax.annotate(
                    f"{saved:+d}\nsaved",
                    (cx, b.get_height() if inside else 0),
                    xytext=(0, -4 if inside else 14),
                    textcoords="offset points",
                    ha="center",
                    va="top" if inside else "bottom",
                    fontsize=7,
                    color="white" if inside else "#1d232b",
                    linespacing=1.0,
                )
        ax.set_title("Exclusive CPUs pinned")
        ax.set_ylabel("CPUs")
        ax.set_xticks(x, labels, rotation=25, ha="right", fontsize=8)
        ax.set_ylim(0, top * 1.12)

    def rejections(ax: Any) -> None:
        reasons = sorted(
            {k for r in rows for k in r["rejected"]} | ({"Unschedulable"} if any(r["pending"] for r in rows) else set())
        )
        bottom = [0] * len(rows)
        colors = ["#c44e52", "#dd8452", "#8172b3", "#937860", "#da8bc3", "#8c8c8c", "#ccb974"]
        for k, reason in enumerate(reasons):
            vals = [r["pending"] if reason == "Unschedulable" else r["rejected"].get(reason, 0) for r in rows]
            ax.bar(x, vals, bottom=bottom, label=reason, color=colors[k % len(colors)], width=0.7)
            bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
        ax.set_title("Pods not running, by reason")
        ax.set_ylabel("pods")
        ax.set_xticks(x, labels, rotation=25, ha="right", fontsize=8)
        if reasons:
            ax.set_ylim(0, (max(bottom) or 1) * 1.35)  # room above the bars for the legend
            ax.legend(fontsize=7, loc="upper center", ncol=min(2, len(reasons)), frameon=False)
        else:
            ax.text(0.5, 0.5, "every pod admitted", ha="center", va="center", transform=ax.transAxes)

    def fragmentation(ax: Any) -> None:
        w = 0.38
        stranded = [r["stranded_cpus"] for r in rows]
        free = [r["free_cpus"] - r["stranded_cpus"] for r in rows]
        ax.bar([i - w / 2 for i in x], stranded, w, label="free CPUs on partly used NUMA nodes", color="#dd8452")
        ax.bar([i + w / 2 for i in x], free, w, label="free CPUs on whole free NUMA nodes", color="#55a868")
        ax.set_title("Per-NUMA fragmentation")
        ax.set_ylabel("CPUs")
        ax.set_xticks(x, labels, rotation=25, ha="right", fontsize=8)
        ax.set_ylim(0, (max([*stranded, *free], default=0) or 1) * 1.35)  # room above the bars for the legend
        ax.legend(fontsize=7, loc="upper center", ncol=1, frameon=False)

    return [pinned, rejections, fragmentation]


def summary_figure(report: dict[str, Any]) -> Any:
    """The three panels side by side (summary.png), as a matplotlib figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(report["variants"])
    fig, axes = plt.subplots(1, 3, figsize=(max(15.0, 3 * (1.2 + 0.75 * n)), 5.0), dpi=100)
    for ax, fn in zip(axes, _panels(report), strict=True):
        fn(ax)
    fig.suptitle(f"{report['fleet']}: {report['nodes']} nodes, {report['pods']} pods", fontsize=10)
    fig.tight_layout()
    return fig


def write_plots(report: dict[str, Any], out: Path) -> list[Path]:
    """cores_pinned.png, rejections.png, fragmentation.png and summary.png (the three side by side)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths: list[Path] = []
    title = f"{report['fleet']}: {report['nodes']} nodes, {report['pods']} pods"
    n = len(report["variants"])
    for name, fn in zip(PLOT_NAMES, _panels(report), strict=True):
        fig, ax = plt.subplots(figsize=(max(6.4, 1.2 + 0.75 * n), 4.4), dpi=110)
        fn(ax)
        fig.suptitle(title, fontsize=9)
        fig.tight_layout()
        p = out / name
        fig.savefig(p)
        plt.close(fig)
        paths.append(p)
    fig = summary_figure(report)
    p = out / "summary.png"
    fig.savefig(p)
    plt.close(fig)
    paths.append(p)
    return paths
