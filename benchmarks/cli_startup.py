"""CPU time of a ``topolet`` invocation per command (start-up and imports dominate).

Each command runs ``--runs`` times in a fresh interpreter (the installed console
script's code path: ``topolet.cli.main:main``); the CPU time (user + system) of
the child is measured with ``getrusage(RUSAGE_CHILDREN)`` and the median is
printed, with the wall time. The node commands run on a one-pod node created
in a temporary directory first (the seed article's pod).

Python's bytecode cache: an installed topolet has its modules compiled (pip
writes the ``.pyc`` files), so by default the children write and use a cache in
the temporary directory (``PYTHONPYCACHEPREFIX``; each command runs once before
it is measured). ``--no-bytecode-cache`` measures what a run costs when
topolet's modules are compiled from source each time (``PYTHONDONTWRITEBYTECODE=1``
and a source checkout without ``__pycache__``; the installed libraries keep
their ``.pyc`` files) -- how this repository's sandbox runs it.

    python benchmarks/cli_startup.py [--runs N] [--target SECONDS] [--no-bytecode-cache]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POD = ROOT / "examples" / "tightly-coupled-database.yaml"
RUN = "import sys; from topolet.cli.main import main; sys.argv[0] = 'topolet'; main()"
ENV: dict[str, str] = dict(os.environ)


def child_env(tmp: str, bytecode_cache: bool) -> dict[str, str]:
    """The children's environment: a bytecode cache under ``tmp``, or none at all."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
    if bytecode_cache:
        env["PYTHONPYCACHEPREFIX"] = os.path.join(tmp, "pycache")
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"  # installed packages keep their .pyc files; topolet's are compiled
    return env


def _cpu_of(args: list[str]) -> tuple[float, float, int]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(
        [sys.executable, "-c", RUN, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall, p.returncode


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--target", type=float, default=0.25, help="CPU seconds a command should stay under")
    ap.add_argument("--no-bytecode-cache", action="store_true", help="compile topolet's modules in every run")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ENV.clear()
        ENV.update(child_env(tmp, not a.no_bytecode_cache))
        node = os.path.join(tmp, "node")
        env_run = [sys.executable, "-c", RUN]
        subprocess.run([*env_run, "node", "init", node], check=True, capture_output=True, env=ENV)
        subprocess.run([*env_run, "apply", "--node", node, "-f", str(POD)], check=True, capture_output=True, env=ENV)
        commands: list[tuple[str, list[str]]] = [
            ("python -c pass", []),
            ("--help", ["--help"]),
            ("get pods", ["get", "pods", "--node", node]),
            ("get pods -o wide", ["get", "pods", "-o", "wide", "--node", node]),
            ("describe pod", ["describe", "pod", "tightly-coupled-database", "--node", node]),
            ("predict -f (one pod)", ["predict", "-f", str(POD)]),
            ("describe node", ["describe", "node", "--node", node]),
        ]
        print("bytecode cache:", "none for topolet (compiled in every run)" if a.no_bytecode_cache else "yes")
        print(f"{'command':<24} {'CPU median':>11} {'CPU min':>8} {'wall median':>12}  target")
        for label, args in commands:
            cpus, walls = [], []
            if args:
                _cpu_of(args)  # warm-up (fills the bytecode cache)
            for _ in range(a.runs):
                if not args:
                    before = resource.getrusage(resource.RUSAGE_CHILDREN)
                    t0 = time.perf_counter()
                    subprocess.run([sys.executable, "-c", "pass"], check=True, env=ENV)
                    walls.append(time.perf_counter() - t0)
                    after = resource.getrusage(resource.RUSAGE_CHILDREN)
                    cpus.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
                    continue
                cpu, wall, rc = _cpu_of(args)
                if rc not in (0, 3):
                    raise SystemExit(f"{label}: exit {rc}")
                cpus.append(cpu)
                walls.append(wall)
            med = statistics.median(cpus)
            mark = "" if not args or label == "describe node" else ("ok" if med < a.target else "OVER")
            print(f"{label:<24} {med:>10.3f}s {min(cpus):>7.3f}s {statistics.median(walls):>11.3f}s  {mark}")


if __name__ == "__main__":
    main()
