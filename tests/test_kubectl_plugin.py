"""``kubectl topolet ...`` through the real kubectl binary (kubectl finds the kubectl-topolet plugin on PATH)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from topolet.nodedir import init_node

ROOT = Path(__file__).resolve().parent.parent
SEED_CONFIG = str(ROOT / "src" / "topolet" / "data" / "kubelet-config.yaml")
SEED_POD = str(ROOT / "src" / "topolet" / "data" / "tightly-coupled-database.yaml")
KUBECTL = shutil.which("kubectl")
pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed on this machine")


def _env(tmp_path: Path) -> dict[str, str]:
    bin_dir = Path(sys.executable).parent
    assert (bin_dir / "kubectl-topolet").exists(), "the kubectl-topolet console script is not installed"
    env = dict(os.environ)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["KUBECONFIG"] = str(tmp_path / "no-kubeconfig")  # the plugin needs no cluster
    env.pop("TOPOLET_NODE", None)
    env["XDG_STATE_HOME"] = str(tmp_path / "state")
    return env


def kubectl(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    assert KUBECTL is not None
    return subprocess.run([KUBECTL, *args], env=env, capture_output=True, text=True, timeout=120)


def test_kubectl_finds_and_runs_the_plugin(tmp_path: Path) -> None:
    env = _env(tmp_path)
    r = kubectl(env, "plugin", "list")
    assert r.returncode == 0, r.stderr
    assert str(Path(sys.executable).parent / "kubectl-topolet") in r.stdout
    d = tmp_path / "node"
    init_node(d, "preset:2-numa", SEED_CONFIG)
    r = kubectl(env, "topolet", "apply", "-f", SEED_POD, "--node", str(d))
    assert r.returncode == 0 and r.stdout == "pod/tightly-coupled-database created\n", r.stderr
    r = kubectl(env, "topolet", "get", "pods", "--node", str(d))
    assert r.returncode == 0 and r.stdout.splitlines()[1].split()[:3] == ["tightly-coupled-database", "3/3", "Running"]
    # kubectl passes the plugin's exit status through; messages name the plugin as it was called
    r = kubectl(env, "topolet", "get", "pods", "--node", str(tmp_path / "none"))
    assert r.returncode == 1 and "kubectl topolet node init" in r.stderr
