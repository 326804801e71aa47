"""``exec``: what a command reading the container's CPU/memory affinity would print.

Only reads of the affinity are simulated: ``cat /proc/self/status`` (and
``/proc/1/status``, ``/proc/thread-self/status``), ``grep [-E] PATTERN`` on
such a file, the cgroup v2 files ``/sys/fs/cgroup/cpuset.cpus.effective`` and
``cpuset.mems.effective``, and ``nproc``. Anything else is refused.
"""

from __future__ import annotations

import re
import shlex

from topolet.engine.result import ContainerAllocation
from topolet.model.cpuset import format_bits

STATUS_FILES = ("/proc/self/status", "/proc/1/status", "/proc/thread-self/status")
CGROUP_CPUS = "/sys/fs/cgroup/cpuset.cpus.effective"
CGROUP_MEMS = "/sys/fs/cgroup/cpuset.mems.effective"
MAX_NUMNODES = 1024  # CONFIG_NODES_SHIFT=10, as in the common distribution kernels
SUPPORTED = f"cat /proc/self/status, grep [-E] PATTERN /proc/self/status, cat {CGROUP_CPUS}, cat {CGROUP_MEMS}, nproc"


class ExecNotSupported(ValueError):
    """A command topolet does not simulate."""


def linux_mask(bits: int, nbits: int) -> str:
    """A bitmap as the kernel prints ``%*pb`` (32-bit hex chunks, most significant first)."""
    nbits = max(nbits, 1)
    chunk = nbits % 32 or 32
    i = ((nbits + 31) // 32) * 32 - 32
    parts: list[str] = []
    while i >= 0:
        val = (bits >> i) & ((1 << chunk) - 1)
        parts.append(f"{val:0{(chunk + 3) // 4}x}")
        i -= 32
        chunk = 32
    return ",".join(parts)


def proc_status(a: ContainerAllocation, nr_cpu_ids: int, process: str = "cat") -> str:
    """``/proc/self/status`` of a process in the container (its affinity lines are the real content)."""
    lines = [
        f"Name:\t{process}",
        "Umask:\t0022",
        "State:\tR (running)",
        "Tgid:\t1",
        "Ngid:\t0",
        "Pid:\t1",
        "PPid:\t0",
        "TracerPid:\t0",
        "Uid:\t0\t0\t0\t0",
        "Gid:\t0\t0\t0\t0",
        "Threads:\t1",
        f"Cpus_allowed:\t{linux_mask(a.cpus, nr_cpu_ids)}",
        f"Cpus_allowed_list:\t{format_bits(a.cpus)}",
        f"Mems_allowed:\t{linux_mask(a.mems, MAX_NUMNODES)}",
        f"Mems_allowed_list:\t{format_bits(a.mems)}",
        "voluntary_ctxt_switches:\t0",
        "nonvoluntary_ctxt_switches:\t1",
    ]
    return "\n".join(lines) + "\n"


def run(command: list[str], a: ContainerAllocation, nr_cpu_ids: int) -> str:
    """The command's output, or :class:`ExecNotSupported`."""
    if not command:
        raise ExecNotSupported("you must specify at least one command for the container")
    argv = list(command)
    if len(argv) == 1 and " " in argv[0]:
        argv = shlex.split(argv[0])
    if len(argv) >= 3 and argv[0] in ("sh", "/bin/sh", "bash", "/bin/bash") and argv[1] == "-c":
        argv = shlex.split(argv[2])
    prog = argv[0].rsplit("/", 1)[-1]
    args = argv[1:]
    if prog == "nproc" and not args:
        return f"{a.cpus.bit_count()}\n"
    if prog == "cat" and len(args) == 1:
        path = args[0]
        if path in STATUS_FILES:
            return proc_status(a, nr_cpu_ids)
        if path == CGROUP_CPUS:
            return format_bits(a.cpus) + "\n"
        if path == CGROUP_MEMS:
            return format_bits(a.mems) + "\n"
    if prog in ("grep", "egrep") and args and args[-1] in STATUS_FILES:
        opts = [x for x in args[:-1] if x.startswith("-")]
        pats = [x for x in args[:-1] if not x.startswith("-")]
        if len(pats) == 1 and all(o in ("-E", "-i", "-e") for o in opts):
            flags = re.IGNORECASE if "-i" in opts else 0
            extended = prog == "egrep" or "-E" in opts
            # basic regular expressions: literal text, with GNU's \| alternation
            pat = pats[0] if extended else "|".join(re.escape(p) for p in pats[0].split("\\|"))
            try:
                rx = re.compile(pat, flags)
            except re.error as e:
                raise ExecNotSupported(f"grep: invalid pattern {pats[0]!r}: {e}") from e
            text = proc_status(a, nr_cpu_ids, process="grep")
            return "".join(ln + "\n" for ln in text.splitlines() if rx.search(ln))
    raise ExecNotSupported(
        f"topolet exec cannot run {shlex.join(argv)!r}: it only simulates reading the container's CPU and "
        f"memory affinity ({SUPPORTED})"
    )
