"""The real control plane and ``topolet cluster run`` for the cluster tests.

The control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler 1.36.2) is
``shared/controlplane`` beside the checkout (or ``$TOPOLET_CONTROLPLANE``); it is started once
per test session in a temporary directory and stopped at the end. Where it is missing or cannot
start, the tests that need it skip, saying why. The API server is never mocked.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from paths import REPO, SHARED

TOPOLET = str(Path(sys.executable).parent / "topolet")


def controlplane_dir() -> Path | None:
    env = os.environ.get("TOPOLET_CONTROLPLANE")
    candidates = [Path(env)] if env else []
    candidates += [SHARED / "controlplane", REPO.parent.parent / "shared" / "controlplane"]
    for c in candidates:
        if (c / "up.sh").is_file():
            return c
    return None


def why_not_runnable(cp: Path | None) -> str | None:
    if cp is None:
        return "the control plane (shared/controlplane or $TOPOLET_CONTROLPLANE) is not there"
    for tool in ("bash", "openssl", "curl", "xz"):
        if shutil.which(tool) is None:
            return f"the control plane needs {tool}, which is not installed"
    if os.uname().machine not in ("x86_64", "amd64"):
        return "the control-plane binaries are linux/amd64 only"
    try:
        import lightkube  # noqa: F401
        import xxhash  # noqa: F401
    except ImportError as e:
        return f"the 'cluster' extra is not installed ({e.name})"
    return None


class ControlPlane:
    def __init__(self, cp: Path, state: Path) -> None:
        self.cp = cp
        self.state = state
        self.kubeconfig = str(state / "kubeconfig")

    def env(self) -> dict[str, str]:
        return {**os.environ, "KUBECONFIG": self.kubeconfig}

    def kubectl(self, *args: str, check: bool = True, input: str | None = None) -> str:
        r = subprocess.run(["kubectl", *args], env=self.env(), capture_output=True, text=True, timeout=60, input=input)
        if check and r.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)}: {r.stderr}")
        return r.stdout

    def get(self, *args: str) -> Any:
        return json.loads(self.kubectl("get", *args, "-o", "json"))

    def find(self, *args: str) -> Any:
        """Like :meth:`get`, but None where the object does not exist (yet, or any more)."""
        out = self.kubectl("get", *args, "-o", "json", "--ignore-not-found", check=False)
        return json.loads(out) if out.strip() else None


def start_controlplane(tmp: Path) -> ControlPlane:
    cp = controlplane_dir()
    why = why_not_runnable(cp)
    if why:
        pytest.skip(why)
    assert cp is not None
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed")
    state = tmp / "cp"
    r = subprocess.run(["bash", str(cp / "up.sh"), str(state)], capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        subprocess.run(["bash", str(cp / "down.sh"), str(state)], capture_output=True, timeout=120)
        pytest.skip(f"the control plane did not start: {r.stderr.strip().splitlines()[-5:]}")
    return ControlPlane(cp, state)


def stop_controlplane(c: ControlPlane) -> None:
    subprocess.run(["bash", str(c.cp / "down.sh"), str(c.state)], capture_output=True, timeout=120)


class Simulator:
    """A ``topolet cluster run`` subprocess."""

    def __init__(self, c: ControlPlane, fleet: Path, state: Path, *extra: str) -> None:
        self.c = c
        self.fleet = fleet
        self.state = state
        self.extra = extra
        self.proc: subprocess.Popen[str] | None = None
        self.log = state.parent / f"{state.name}.log"

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        meta = self.state / "cluster.json"
        if meta.exists():
            meta.unlink()
        args = [TOPOLET, "cluster", "run", "--fleet", str(self.fleet), "--state", str(self.state)]
        args += ["--kubeconfig", self.c.kubeconfig, "--listen", "127.0.0.1:0", "-v", *self.extra]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=open(self.log, "a"), text=True)  # noqa: SIM115
        wait_for(lambda: self._ready(), 240, f"topolet cluster run ready (log {self.log})")

    @property
    def endpoint(self) -> str:
        return json.loads((self.state / "cluster.json").read_text())["endpoint"]

    def _ready(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"topolet cluster run exited {self.proc.returncode}: {self.log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(self.endpoint + "/readyz", timeout=2) as r:
                return r.status == 200
        except (OSError, ValueError, KeyError):
            return False

    def http(self, path: str) -> str:
        with urllib.request.urlopen(self.endpoint + path, timeout=10) as r:
            return r.read().decode()

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=30)
        self.proc = None


def wait_for(pred: Callable[[], Any], timeout: float, what: str, interval: float = 0.3) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")
