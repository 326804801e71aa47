"""The HTML report in a real browser: headless Chromium renders it offline, and the page is what we expect.

Needs Debian's ``chromium`` package (``apt-get install -y chromium``); skipped with that hint where absent.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
import yaml

from paths import SEED_CONFIG, SEED_POD
from topolet.engine.node import Node
from topolet.explain import explain_pods
from topolet.explain.nodeview import node_view
from topolet.io.inputs import load_kubelet_config_file, load_pods, load_topology_arg
from topolet.model.manifest import pods_from_object
from topolet.render.html import PALETTE, RESERVED_FILL, ReportSide, html_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="headless Chromium is not installed (Debian: apt-get install -y chromium)"
)


def _chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--host-resolver-rules=MAP * ~NOTFOUND",  # nothing can be fetched from the network
        f"--user-data-dir={tmp / 'profile'}",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)


def _png_pixels(data: bytes) -> tuple[int, int, set[tuple[int, int, int]]]:
    """Width, height and the set of RGB colours of a non-interlaced 8-bit RGB/RGBA PNG (stdlib only)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos = 8
    idat = b""
    width = height = 0
    color_type = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color_type, _c, _f, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and interlace == 0 and color_type in (2, 6)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    bpp = 4 if color_type == 6 else 3
    raw = zlib.decompress(idat)
    stride = width * bpp
    prev = bytearray(stride)
    colours: set[tuple[int, int, int]] = set()
    i = 0
    for _y in range(height):
        ftype = raw[i]
        line = bytearray(raw[i + 1 : i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if ftype == 1:
                line[x] = (line[x] + a) & 0xFF
            elif ftype == 2:
                line[x] = (line[x] + b) & 0xFF
            elif ftype == 3:
                line[x] = (line[x] + (a + b) // 2) & 0xFF
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[x] = (line[x] + pred) & 0xFF
        for x in range(0, stride, bpp * 2):  # every other pixel is plenty
            colours.add((line[x], line[x + 1], line[x + 2]))
        prev = line
    return width, height, colours


def _rgb(hex_color: str) -> tuple[int, int, int]:
    h = hex_color.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    node = Node(load_topology_arg("preset:2-numa"), load_kubelet_config_file(str(SEED_CONFIG)))
    big = pods_from_object(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "too-big"},
            "spec": {
                "resources": {"requests": {"cpu": "40", "memory": "8Gi"}, "limits": {"cpu": "40", "memory": "8Gi"}},
                "containers": [{"name": "app", "image": "i", "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}],
            },
        },
        "t",
        None,
    )[0]
    expls, after = explain_pods(node, [*load_pods([str(SEED_POD)], node.gates), big])
    page = html_report([ReportSide("node", "", node_view(after), expls)], subtitle="browser test")
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(page, encoding="utf-8")
    return path


def test_dom_after_rendering(report: Path, tmp_path: Path) -> None:
    r = _chromium(tmp_path, "--dump-dom", report.as_uri())
    assert r.returncode == 0, r.stderr[-2000:]
    dom = r.stdout
    assert "<title>topolet report</title>" in dom
    cells = re.findall(r'<rect class="cpu" data-cpu="(\d+)" data-owner="([^"]+)"', dom)
    assert len(cells) == 64
    owners = dict(cells)
    assert (owners["0"], owners["1"], owners["34"], owners["35"], owners["63"]) == ("##", "A1", "A1", "A~", "..")
    rows = re.findall(r'<tr class="container-row[^"]*" data-pod="([^"]+)"(?: data-container="([^"]+)")?', dom)
    assert ("default/tightly-coupled-database", "database") in rows
    assert ("default/tightly-coupled-database", "backup-agent") in rows
    assert ("default/too-big", "") in rows
    assert 'class="explain rejected" data-pod="default/too-big"' in dom
    assert "What would make it fit" in dom


def test_screenshot_shows_the_map(report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    r = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1100,1000", "--hide-scrollbars", report.as_uri())
    assert r.returncode == 0 and shot.exists(), r.stderr[-2000:]
    width, height, colours = _png_pixels(shot.read_bytes())
    assert (width, height) == (1100, 1000)
    assert _rgb(RESERVED_FILL) in colours  # the reserved CPU cell
    assert _rgb(PALETTE[0]) in colours  # pod A's exclusive slice
    assert len(colours) > 50  # text, tints and borders: a real page, not a blank one


# -- layout: nothing wider than its container at 1,280 and 1,920 px (issue 12 item 14) ------------------------
OVERFLOW_JS = (Path(__file__).parent / "report_layout.js").read_text(encoding="utf-8")


def _layout(page: Path, tmp: Path, width: int) -> tuple[list[str], list[str]]:
    """Problems found by OVERFLOW_JS in ``page`` at ``width`` px, and facts about the layout."""
    probe = tmp / f"probe-{width}-{page.name}"
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", f"<script>{OVERFLOW_JS}</script></body>"))
    r = _chromium(tmp, "--dump-dom", f"--window-size={width},2000", probe.as_uri())
    assert r.returncode == 0, r.stderr[-2000:]
    m = re.search(r"LAYOUT-BEGIN\n(.*?)\nFACTS\n(.*?)\nLAYOUT-END", r.stdout, re.S)
    assert m, r.stdout[-2000:]
    return [x for x in m.group(1).split("\n") if x], [x for x in m.group(2).split("\n") if x]


@pytest.fixture(scope="module")
def compare_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from topolet.explain.compare import compare_models

    node = Node(load_topology_arg("preset:2-numa"), load_kubelet_config_file(str(SEED_CONFIG)))
    pods = load_pods([str(SEED_POD)], node.gates)
    sides = []
    for m in compare_models(node, pods):
        figures = [(str(m.pinned_cpus), "CPUs taken out of the node's shared pool")]
        sides.append(ReportSide(m.name, m.title, node_view(m.node), m.explanations, figures))
    path = tmp_path_factory.mktemp("compare") / "compare.html"
    path.write_text(html_report(sides, title="compare", subtitle="browser test"), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def large_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    node = Node(load_topology_arg("preset:8-numa-256"), load_kubelet_config_file(str(SEED_CONFIG)))
    expls, after = explain_pods(node, load_pods([str(SEED_POD)], node.gates), suggest=False)
    path = tmp_path_factory.mktemp("large") / "large.html"
    path.write_text(html_report([ReportSide("node", "", node_view(after), expls)]), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def large_compare_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """--compare on 256 CPUs with long pod and container names, pods on several NUMA nodes and a rejection."""
    from topolet.explain.compare import compare_models

    raw = yaml.safe_load(SEED_CONFIG.read_text(encoding="utf-8"))
    raw["topologyManagerPolicy"] = "restricted"
    cfg = tmp_path_factory.mktemp("cfg") / "kubelet.yaml"
    cfg.write_text(yaml.safe_dump(raw), encoding="utf-8")
    node = Node(load_topology_arg("preset:8-numa-256"), load_kubelet_config_file(str(cfg)))
    deploy = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "db-with-a-rather-long-name-for-testing"},
        "spec": {
            "replicas": 6,
            "selector": {"matchLabels": {"app": "db"}},
            "template": {
                "metadata": {"labels": {"app": "db"}},
                "spec": {
                    "resources": {"requests": {"cpu": "9", "memory": "12Gi"}, "limits": {"cpu": "9", "memory": "12Gi"}},
                    "containers": [
                        {
                            "name": "database-main-container",
                            "image": "i",
                            "resources": {
                                "requests": {"cpu": "5", "memory": "8Gi"},
                                "limits": {"cpu": "5", "memory": "8Gi"},
                            },
                        },
                        {
                            "name": "sidecar-metrics-exporter-with-long-name",
                            "image": "i",
                            "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
                        },
                    ],
                },
            },
        },
    }
    pods = pods_from_object(deploy, "t", None)
    sides = []
    for m in compare_models(node, pods, suggest=False):
        sides.append(ReportSide(m.name, m.title, node_view(m.node), m.explanations, [(str(m.pinned_cpus), "CPUs")]))
    path = tmp_path_factory.mktemp("large-compare") / "compare.html"
    path.write_text(html_report(sides, title="compare"), encoding="utf-8")
    return path


@pytest.mark.parametrize("width", [1280, 1920])
@pytest.mark.parametrize("which", ["report", "compare_report", "large_report", "large_compare_report"])
def test_nothing_wider_than_its_container(
    request: pytest.FixtureRequest, tmp_path: Path, which: str, width: int
) -> None:
    page: Path = request.getfixturevalue(which)
    problems, facts = _layout(page, tmp_path, width)
    assert problems == [], problems[:10]
    fonts = [float(f.split()[1]) for f in facts if f.startswith("font ")]
    assert fonts and min(fonts) >= 8.5, min(fonts)  # map cells, legend and memory figures stay readable
    if which == "report":
        assert "legend beside the map" in facts  # the A1/A~ codes are explained next to the cells


def test_compare_tables_are_full_width(compare_report: Path) -> None:
    page = compare_report.read_text(encoding="utf-8")
    # the two pods tables follow the side-by-side maps instead of being squeezed into them
    grid_end = page.index('<section class="model-pods"')
    assert page.count('class="pods"', grid_end) == 2 and 'class="pods"' not in page[:grid_end]
    assert "Cpus_allowed_<wbr>list" in page and '<span class="nowrap">1-2,33-34</span>' in page
    from topolet.render.html import _cpuset_html

    assert _cpuset_html("0,2,4,6,8,10,12,14-20") == "0,<wbr>2,<wbr>4,<wbr>6,<wbr>8,<wbr>10,<wbr>12,<wbr>14-20"
