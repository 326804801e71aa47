"""The fleet PNGs (issue 12 item 14): no legend over a bar, no label over another label."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("matplotlib")


def _report(n: int) -> dict[str, Any]:
    names = [
        "per-container",
        "as-written",
        "per-container+numa-aware",
        "as-written+numa-aware",
        "as-written+policy=restricted",
        "per-container+recreate=3",
        "as-written+scope=container",
        "per-container+full-pcpus-only",
    ][:n]
    rows = []
    for i, name in enumerate(names):
        pinned = [1496, 1213, 1986, 1213, 1213, 1486, 1350, 1500][i]
        rows.append(
            {
                "variant": name,
                "seed": 1,
                "pinned_cpus": pinned,
                "cpus_saved": 1496 - pinned,
                "rejected": {
                    "TopologyAffinityError": 36 if i in (0, 5) else 0,
                    "SMTAlignmentError": 3 if i == 7 else 0,
                },
                "pending": 2 if i == 6 else 0,
                "stranded_cpus": [374, 545, 1132, 545, 545, 380, 600, 400][i],
                "free_cpus": [1650, 1940, 1165, 1940, 1940, 1660, 1800, 1650][i],
            }
        )
    return {"fleet": "db-fleet", "nodes": 50, "pods": 1710, "baseline": "per-container", "variants": rows}


def _overlap(a: Any, b: Any) -> bool:
    return a.x0 < b.x1 - 0.5 and b.x0 < a.x1 - 0.5 and a.y0 < b.y1 - 0.5 and b.y0 < a.y1 - 0.5


@pytest.mark.parametrize("n", [3, 6, 8])
def test_summary_plot_has_no_overlaps(n: int) -> None:
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle
    from matplotlib.text import Annotation

    from topolet.fleet.output import summary_figure

    fig = summary_figure(_report(n))
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    figbox = fig.bbox
    for ax in fig.axes:
        bars = [p.get_window_extent(renderer) for p in ax.patches if isinstance(p, Rectangle) and p.get_height() > 0]
        legend = ax.get_legend()
        if legend is not None:
            lb = legend.get_window_extent(renderer)
            assert not any(_overlap(lb, b) for b in bars), ax.get_title()  # the legend covers no bar
        labels = [t for t in ax.texts if isinstance(t, Annotation)]
        boxes = [t.get_window_extent(renderer) for t in labels]
        for i, a in enumerate(boxes):
            assert figbox.x0 <= a.x0 and a.x1 <= figbox.x1 and a.y1 <= figbox.y1, labels[i].get_text()
            for j in range(i + 1, len(boxes)):
                assert not _overlap(a, boxes[j]), (labels[i].get_text(), labels[j].get_text())
            # a label sits over its own bar only
            over = [b for b in bars if _overlap(a, b)]
            assert len(over) <= 1, labels[i].get_text()
        saved = [t.get_text() for t in labels if "saved" in t.get_text()]
        if ax.get_title() == "Exclusive CPUs pinned":
            assert len(saved) == sum(1 for r in _report(n)["variants"][1:] if r["cpus_saved"])
    plt.close(fig)
