"""Concurrent applies to one node directory: the lock serialises load -> admit -> write."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from topolet.io.checkpoint import load_cpu_checkpoint
from topolet.io.statefile import inspect_state_file
from topolet.nodedir import init_node, load_node_dir_readonly

ROOT = Path(__file__).resolve().parent.parent
SEED_CONFIG = str(ROOT / "src" / "topolet" / "data" / "kubelet-config.yaml")
RUN = "import sys; from topolet.cli.main import main; sys.argv[0] = 'topolet'; main()"


def _pod(tmp: Path, name: str) -> str:
    res = {"requests": {"cpu": "4", "memory": "1Gi"}, "limits": {"cpu": "4", "memory": "1Gi"}}
    obj = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"resources": res, "containers": [{"name": "main", "image": "x", "resources": res}]},
    }
    p = tmp / f"{name}.json"
    p.write_text(json.dumps(obj))
    return str(p)


def test_parallel_applies_never_double_allocate(tmp_path: Path) -> None:
    d = tmp_path / "node"
    init_node(d, "preset:2-numa", SEED_CONFIG)
    procs = []
    for i in range(3):
        files = [_pod(tmp_path, f"p{i}-{j}") for j in range(2)]
        args = [sys.executable, "-c", RUN, "apply", "--node", str(d)]
        for f in files:
            args += ["-f", f]
        procs.append(subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
        assert out.count(" created\n") == 2, out
    nd = load_node_dir_readonly(d)
    assert len(nd.pods) == 6 and all(sp.admitted for sp in nd.pods.values())
    st = load_cpu_checkpoint((d / "cpu_manager_state").read_bytes()).state
    bubbles = list(st.pod_assignments.values())
    assert len(bubbles) == 6
    union = 0
    for b in bubbles:
        assert b.bit_count() == 4 and not b & union  # pairwise disjoint
        union |= b
    assert not union & st.default_cpuset
    assert sorted(sp.sequence for sp in nd.pods.values()) == list(range(1, 7))
    rep = inspect_state_file(str(d / "cpu_manager_state"), topology=nd.topology)
    assert rep.consistent, rep.consistency
    assert not list(d.glob(".journal*"))
