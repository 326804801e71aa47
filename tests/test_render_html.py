"""The HTML report: self-contained (inline CSS/SVG, no network), map, pods table, rejected pods explained."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from paths import SEED_CONFIG, SEED_POD
from topolet.engine.node import Node
from topolet.explain import explain_pods
from topolet.explain.compare import compare_models
from topolet.explain.nodeview import node_view
from topolet.io.inputs import load_kubelet_config_file, load_pods, load_topology_arg
from topolet.model.manifest import pods_from_object
from topolet.render.html import ReportSide, html_report, svg_node_map


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def parse(page: str) -> list[tuple[str, dict[str, str | None]]]:
    p = _Collect()
    p.feed(page)
    return p.tags


def assert_self_contained(page: str) -> None:
    assert not re.search(r"https?://", page), "no URL at all: nothing can be fetched"
    tags = parse(page)
    names = {t for t, _ in tags}
    assert not names & {"script", "link", "img", "iframe", "object", "embed", "video", "audio", "source"}
    for _tag, attrs in tags:
        assert "src" not in attrs and "href" not in attrs
    assert "@import" not in page and "url(" not in page


def _big_pod() -> object:
    obj = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "too-big"},
        "spec": {
            "resources": {"requests": {"cpu": "40", "memory": "8Gi"}, "limits": {"cpu": "40", "memory": "8Gi"}},
            "containers": [
                {
                    "name": "app",
                    "image": "i",
                    "resources": {"requests": {"cpu": "8", "memory": "4Gi"}, "limits": {"cpu": "8", "memory": "4Gi"}},
                },
                {"name": "log", "image": "i", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}},
            ],
        },
    }
    return pods_from_object(obj, "t", None)[0]


def test_report_for_the_seed_pod_and_a_rejected_pod() -> None:
    node = Node(load_topology_arg("preset:2-numa"), load_kubelet_config_file(str(SEED_CONFIG)))
    pods = [*load_pods([str(SEED_POD)], node.gates), _big_pod()]
    expls, after = explain_pods(node, pods)
    page = html_report([ReportSide("node", "", node_view(after), expls)], subtitle="test")
    assert page.startswith("<!DOCTYPE html>")
    assert_self_contained(page)
    tags = parse(page)
    cpus = [a for t, a in tags if t == "rect" and a.get("class") == "cpu"]
    assert len(cpus) == 64
    owner = {a["data-cpu"]: a["data-owner"] for a in cpus}
    assert (owner["0"], owner["1"], owner["33"], owner["3"], owner["5"]) == ("##", "A1", "A1", "A~", "..")
    rows = [a for t, a in tags if t == "tr" and "container-row" in (a.get("class") or "")]
    assert [r.get("data-container") for r in rows if r.get("data-pod") == "default/tightly-coupled-database"] == [
        "database",
        "metrics-exporter",
        "backup-agent",
    ]
    assert any(r.get("data-pod") == "default/too-big" and "rejected" in (r.get("class") or "") for r in rows)
    assert "1-2,33-34" in page and "3-4,35-36" in page
    # the rejected pod's explanation
    art = [a for t, a in tags if t == "article" and a.get("data-pod") == "default/too-big"]
    assert art
    assert "Rejected: TopologyAffinityError" in page and "What would make it fit" in page
    assert "a pod CPU budget of 32 instead of 40" in page
    mem = [a for t, a in tags if t == "rect" and a.get("class") == "mem-seg"]
    assert {a["data-code"] for a in mem} >= {"##", "A", ".."}


def test_compare_report() -> None:
    node = Node(load_topology_arg("preset:2-numa"), load_kubelet_config_file(str(SEED_CONFIG)))
    sides = []
    for m in compare_models(node, load_pods([str(SEED_POD)], node.gates)):
        figures = [(str(m.pinned_cpus), "CPUs taken out of the node's shared pool")]
        sides.append(ReportSide(m.name, m.title, node_view(m.node), m.explanations, figures))
    page = html_report(sides, title="compare")
    assert_self_contained(page)
    tags = parse(page)
    assert [a.get("id") for t, a in tags if t == "section" and a.get("class") == "model"] == [
        "pod-level",
        "per-container",
    ]
    assert [a.get("id") for t, a in tags if t == "svg" and a.get("class") == "node-map"] == [
        "pod-level-map",
        "per-container-map",
    ]
    per_container = [a for t, a in tags if t == "rect" and a.get("class") == "cpu"][64:]
    assert sorted(a["data-owner"] for a in per_container if a["data-owner"] not in ("..", "##")) == [
        "A1",
        "A1",
        "A1",
        "A1",
        "A2",
        "A3",
    ]


def test_svg_escapes_and_sizes() -> None:
    node = Node(load_topology_arg("preset:4-numa"), load_kubelet_config_file(str(SEED_CONFIG)))
    svg = svg_node_map(node_view(node), 'x"y')
    assert 'id="x&quot;y"' in svg and svg.count('class="cpu"') == 64
    assert svg.count('class="numa"') == 4
