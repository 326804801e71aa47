"""The kubelet's ``cpu_manager_state`` and ``memory_manager_state`` checkpoints, byte for byte.

Split as the kubelet splits its state packages: :mod:`.cpu`
(``cm/cpumanager/state``, V1-V4 beside each other), :mod:`.memory`
(``cm/memorymanager/state``), :mod:`.checksum` (``checkpointmanager/checksum``:
FNV-1a over the go-spew dump), :mod:`.gojson` (Go's ``encoding/json``),
:mod:`.golang` (``strconv`` quoting, ``cpuset.Parse``) and :mod:`.errors`.

Pure serialisation (no file I/O): :func:`dump_cpu_checkpoint` /
:func:`dump_memory_checkpoint` produce exactly the bytes kubelet 1.36 writes
(``MarshalCheckpoint``: Go ``encoding/json`` output, no trailing newline), and
:func:`load_cpu_checkpoint` / :func:`load_memory_checkpoint` read them the way
``stateCheckpoint.restoreState`` does, version fallbacks and error texts included.

Formats (``pkg/kubelet/cm/{cpu,memory}manager/state/checkpoint.go``):

========  ==========================================================  =====================
CPU V1    policyName, defaultCpuSet, entries {containerID: cpus}      checksum, read only
CPU V2    policyName, defaultCpuSet, entries {pod: {container: cpus}}  checksum
CPU V3    V2 + podEntries {pod: {"cpuSet": cpus}} (gate on)           checksum
CPU V4    V3 fields (checksum 0) + data (JSON of the V3 fields          dataChecksum (1.37)
          without checksum) + dataChecksum
Mem V1    policyName, machineState, entries                          checksum
Mem V2    V1 + podEntries {pod: {"memoryBlocks": [...]}} (gate on)    checksum
Mem V3    V1 fields (V1 checksum) + data (JSON of the V2 fields         dataChecksum (1.37)
          without checksum) + dataChecksum
========  ==========================================================  =====================

``checksum`` is ``checksum.New``: FNV-1a/32 over the go-spew ``%#v`` dump
(``dump.ForHash``) of the checkpoint struct with its checksum zeroed.  The
dump names the struct type, so every version is hashed under the name the
first kubelet that wrote it used: CPU V1/V2 replace ``CPUManagerCheckpointV1``
/ ``CPUManagerCheckpointV2`` by ``CPUManagerCheckpoint`` (1.36 writes V2 that
way, and V1 was called ``CPUManagerCheckpoint`` when it was written), V3 *is*
``state.CPUManagerCheckpoint``; memory V1 is hashed as
``state.MemoryManagerCheckpoint`` and V2 is that type.  With the
PodLevelResourceManagers gate off, 1.36 also accepts a V2 (CPU) / V1 (memory)
checksum computed under the ``...V2`` / ``...V1`` name.  CPU V1/V2 and memory
V1 accept a zero checksum ("compatibility with old file backend"); CPU V3 and
memory V2 do not.  V4's ``dataChecksum`` is ``checksum.New(data)``, i.e.
FNV-1a over ``"(string)" + data``, and V4 writes a zero legacy ``checksum``
(so a 1.36 kubelet reads it as V2); memory V3 keeps the V1 checksum beside its
``data`` (a 1.36 kubelet reads it as V1).  The loaders take ``kubelet="1.36"``
or ``"1.37"`` for each kubelet's version order (see their docstrings).

Every checksum the kubelet accepts can be recomputed here, so a mismatch is an
error exactly as in the kubelet; ``allow_unverified_legacy=True`` relaxes that
for V1/V2-shaped files (reported as ``"unverified-legacy"``).
"""

from __future__ import annotations

from topolet.io.checkpoint.checksum import ChecksumStatus, fnv1a_32, v4_data_checksum
from topolet.io.checkpoint.checksum import struct_checksum as _checksum  # noqa: F401 (kept for callers of ck._checksum)
from topolet.io.checkpoint.cpu import _CPU_V1 as _CPU_V1
from topolet.io.checkpoint.cpu import _CPU_V2 as _CPU_V2
from topolet.io.checkpoint.cpu import _CPU_V3 as _CPU_V3
from topolet.io.checkpoint.cpu import _CPU_V4 as _CPU_V4
from topolet.io.checkpoint.cpu import (
    CPU_CHECKPOINT_NAME,
    LoadedCPUCheckpoint,
    cpu_checkpoint_version_for,
    dump_cpu_checkpoint,
    dump_cpu_checkpoint_v1,
    load_cpu_checkpoint,
)
from topolet.io.checkpoint.errors import CheckpointError
from topolet.io.checkpoint.golang import go_quote, parse_go_cpuset
from topolet.io.checkpoint.memory import _MEM_V1 as _MEM_V1
from topolet.io.checkpoint.memory import _MEM_V2 as _MEM_V2
from topolet.io.checkpoint.memory import (
    MEMORY_CHECKPOINT_NAME,
    LoadedMemoryCheckpoint,
    dump_memory_checkpoint,
    load_memory_checkpoint,
    memory_checkpoint_version_for,
)

__all__ = [
    "CPU_CHECKPOINT_NAME",
    "MEMORY_CHECKPOINT_NAME",
    "CheckpointError",
    "ChecksumStatus",
    "LoadedCPUCheckpoint",
    "LoadedMemoryCheckpoint",
    "cpu_checkpoint_version_for",
    "dump_cpu_checkpoint",
    "dump_cpu_checkpoint_v1",
    "dump_memory_checkpoint",
    "fnv1a_32",
    "go_quote",
    "load_cpu_checkpoint",
    "load_memory_checkpoint",
    "memory_checkpoint_version_for",
    "parse_go_cpuset",
    "v4_data_checksum",
]
