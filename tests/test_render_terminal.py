"""The node as a picture in the terminal: readable without colour, every CPU marked by its owner."""

from __future__ import annotations

import io
import re

from rich.console import Console

from paths import SEED_CONFIG, SEED_POD
from topolet.engine.node import Node
from topolet.explain import explain_pods
from topolet.explain.nodeview import node_view
from topolet.io.inputs import load_kubelet_config_file, load_pods, load_topology_arg
from topolet.render import memory_bars, node_map, node_picture, render_plain

ANSI = re.compile(r"\x1b\[")


def seed_node(topology: str = "preset:2-numa") -> Node:
    node = Node(load_topology_arg(topology), load_kubelet_config_file(str(SEED_CONFIG)))
    _expls, after = explain_pods(node, load_pods([str(SEED_POD)], node.gates), suggest=False)
    return after


def test_seed_pod_map_plain_text() -> None:
    text = render_plain(node_map(seed_node()), width=110)
    lines = text.splitlines()
    assert lines[0] == "Node: 2 socket(s), 2 NUMA, 64 CPUs, SMT2"
    assert "Socket 0" in lines and "Socket 1" in lines
    assert any(line.startswith("  NUMA node 0 · CPUs 0-15,32-47 · 23/32 in the shared pool") for line in lines)
    t0 = next(line for line in lines if line.strip().startswith("t0") and " 0##" in line)
    assert t0.split()[1:6] == ["0##", "1A1", "2A1", "3A~", "4A~"]
    t1 = lines[lines.index(t0) + 1]
    assert t1.split()[1:6] == ["32..", "33A1", "34A1", "35A~", "36A~"]
    assert "  ##  reserved CPUs: 0 (1)" in lines
    assert any(
        line.startswith("  A1  tightly-coupled-database · database (app): exclusive, 4 CPUs: 1-2,33-34")
        for line in lines
    )
    assert any(
        "A~  tightly-coupled-database · pod shared pool (metrics-exporter, backup-agent)" in line for line in lines
    )


def test_no_color_console_has_no_escape_codes_but_all_codes() -> None:
    buf = io.StringIO()
    console = Console(file=buf, no_color=True, width=120, force_terminal=True)
    console.print(node_picture(seed_node()))
    out = buf.getvalue()
    # no colour (bold/dim may remain as attributes, but the owner is in the text)
    assert not re.search(r"\x1b\[[0-9;]*3[0-9]m|\x1b\[[0-9;]*4[0-9]m", out)
    plain = ANSI.sub("", out)
    for code in ("0##", "1A1", "3A~", "16.."):
        assert code in re.sub(r"\[[0-9;]*m", "", plain)


def test_color_console_colours_owners() -> None:
    buf = io.StringIO()
    Console(file=buf, width=120, force_terminal=True, color_system="standard").print(node_map(seed_node()))
    out = buf.getvalue()
    assert "\x1b[" in out and "A1" in out


def test_memory_bars() -> None:
    text = render_plain(memory_bars(seed_node()), width=110)
    lines = text.splitlines()
    assert lines[0] == "Memory per NUMA node"
    numa0 = next(line for line in lines if line.strip().startswith("NUMA 0 memory"))
    bar = numa0[numa0.index("[") + 1 : numa0.index("]")]
    assert len(bar) == 40 and bar.startswith("#") and "A" in bar and bar.endswith(".")
    assert "46.9Gi free / 64Gi · system 1.1Gi · A 16Gi" in numa0
    numa1 = next(line for line in lines if line.strip().startswith("NUMA 1 memory"))
    assert set(numa1[numa1.index("[") + 1 : numa1.index("]")]) == {"."}


def test_memory_policy_none_and_cpu_policy_none() -> None:
    import dataclasses

    cfg = load_kubelet_config_file(str(SEED_CONFIG))
    cfg = dataclasses.replace(
        cfg,
        cpu_manager_policy="none",
        memory_manager_policy="None",
        reserved_memory=[],
        reserved_system_cpus="",
        topology_manager_policy="none",
    )
    node = Node(load_topology_arg("preset:1-numa"), cfg)
    text = render_plain(node_picture(node), width=100)
    assert "all CPUs (cpuManagerPolicy none)" in text
    assert "not pinned: memoryManagerPolicy None" in text
    assert "##" not in text


def test_uncore_caches_and_wrapping() -> None:
    view = node_view(seed_node("preset:epyc-64c-nps1"))
    text = render_plain(node_map(view), width=80)
    assert "L3 cache 0" in text and "L3 cache 7" in text
    assert max(len(line) for line in text.splitlines() if line.strip().startswith(("t0", "t1"))) <= 80


def test_several_pods_get_distinct_letters() -> None:
    node = Node(load_topology_arg("preset:2-numa"), load_kubelet_config_file(str(SEED_CONFIG)))
    pods = load_pods([str(SEED_POD)], node.gates)
    second = load_pods([str(SEED_POD)], node.gates)[0]
    second.name = "db2"
    second.uid = "uid-db2"
    _e, after = explain_pods(node, [*pods, second], suggest=False)
    view = node_view(after)
    codes = {o.code for o in view.owners}
    assert {"##", "..", "A1", "A~", "B1", "B~"} <= codes
    text = render_plain(node_map(view), width=110)
    assert "5B1" in text.replace(" ", "") or "B1" in text
