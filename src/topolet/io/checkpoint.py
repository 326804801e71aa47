"""The kubelet's ``cpu_manager_state`` and ``memory_manager_state`` checkpoints, byte for byte.

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
FNV-1a over ``"(string)" + data``, and V4 writes a zero legacy ``checksum``.

Every checksum the kubelet accepts can be recomputed here, so a mismatch is an
error exactly as in the kubelet; ``allow_unverified_legacy=True`` relaxes that
for V1/V2-shaped files (reported as ``"unverified-legacy"``).
"""

from __future__ import annotations

import codecs
import json
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from topolet.engine.cpumanager.state import CPUManagerState
from topolet.engine.memorymanager.state import Block, MemoryManagerState, MemoryTable, NUMANodeState
from topolet.model.cpuset import format_bits

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

CPU_CHECKPOINT_NAME = "cpu_manager_state"
MEMORY_CHECKPOINT_NAME = "memory_manager_state"

ChecksumStatus = Literal["verified", "unverified-legacy", "zero"]

# errors.CorruptCheckpointError.Error()
_CORRUPT = "checkpoint is corrupted"


# --------------------------------------------------------------------------- errors


class CheckpointError(ValueError):
    """A checkpoint the kubelet would refuse to start with.

    ``message`` is the kubelet's own error text (``NewCheckpointState``), e.g.
    ``could not restore state from checkpoint: checkpoint is corrupted, please
    drain this node and delete the CPU manager checkpoint file "..." before
    restarting Kubelet``; ``cause`` is the inner error (``checkpoint is
    corrupted``) and ``attempts`` the per-version load errors the kubelet logs
    while falling back (``("v3", "checkpoint is corrupted"), ...``).
    """

    def __init__(
        self,
        source: str,
        message: str,
        *,
        cause: str | None = None,
        attempts: tuple[tuple[str, str], ...] = (),
    ) -> None:
        super().__init__(message)
        self.source = source
        self.message = message
        self.cause = message if cause is None else cause
        self.attempts = attempts

    def __str__(self) -> str:
        return self.message


def _cpu_restore_error(source: str, err: str, attempts: tuple[tuple[str, str], ...] = ()) -> CheckpointError:
    return CheckpointError(
        source,
        f"could not restore state from checkpoint: {err}, please drain this node and delete the CPU manager "
        f"checkpoint file {go_quote(source)} before restarting Kubelet",
        cause=err,
        attempts=attempts,
    )


def _memory_restore_error(source: str, err: str, attempts: tuple[tuple[str, str], ...] = ()) -> CheckpointError:
    return CheckpointError(
        source,
        f"could not restore state from checkpoint: {err}, please drain this node and delete the memory "
        f"manager checkpoint file {go_quote(source)} before restarting Kubelet",
        cause=err,
        attempts=attempts,
    )


# --------------------------------------------------------------------------- FNV, Go quoting


def fnv1a_32(data: bytes) -> int:
    """``hash/fnv.New32a`` over ``data``."""
    h = 0x811C9DC5
    for b in data:
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def _go_is_print(ch: str) -> bool:
    if ch == " ":
        return True
    return unicodedata.category(ch)[0] in "LMNPS"


_QUOTE_ESC = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def go_quote(s: str) -> str:
    """``strconv.Quote`` (Go ``%q`` of a string)."""
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif 0xD800 <= o <= 0xDFFF:
            out.append("\\ufffd")
        elif _go_is_print(ch):
            out.append(ch)
        elif ch in _QUOTE_ESC:
            out.append(_QUOTE_ESC[ch])
        elif o < 0x20 or o == 0x7F:
            out.append(f"\\x{o:02x}")
        elif o < 0x10000:
            out.append(f"\\u{o:04x}")
        else:
            out.append(f"\\U{o:08x}")
    out.append('"')
    return "".join(out)


# --------------------------------------------------------------------------- k8s.io/utils/cpuset.Parse

# Refuse ranges larger than this many CPUs: Go would try to build the set
# element by element (and hang or run out of memory); we refuse instead.
_MAX_CPU_RANGE = 1 << 22
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
_ATOI_RE = re.compile(r"[+-]?[0-9]+")


class _ParseError(Exception):
    pass


def _go_atoi(s: str) -> int:
    if not _ATOI_RE.fullmatch(s):
        raise _ParseError(f"strconv.Atoi: parsing {go_quote(s)}: invalid syntax")
    v = int(s)
    if not _INT64_MIN <= v <= _INT64_MAX:
        raise _ParseError(f"strconv.Atoi: parsing {go_quote(s)}: value out of range")
    return v


def parse_go_cpuset(s: str) -> int:
    """``cpuset.Parse`` exactly (no whitespace trimming, Go ``strconv.Atoi``), as a bit mask.

    Raises ``ValueError`` with Go's error text.
    """
    try:
        return _parse_go_cpuset(s)
    except _ParseError as e:
        raise ValueError(str(e)) from None


def _parse_go_cpuset(s: str) -> int:
    if s == "":
        return 0
    bits = 0
    for r in s.split(","):
        lo_s, sep, hi_s = r.partition("-")
        if not sep:
            bits |= 1 << _go_atoi(lo_s)
            continue
        start = _go_atoi(lo_s)
        end = _go_atoi(hi_s)
        if start > end:
            raise _ParseError(f"invalid range {go_quote(r)} ({start} > {end})")
        if end - start >= _MAX_CPU_RANGE:
            raise _ParseError(f"invalid range {go_quote(r)} (more than {_MAX_CPU_RANGE} CPUs)")
        bits |= ((1 << (end - start + 1)) - 1) << start
    return bits


# --------------------------------------------------------------------------- Go JSON syntax (scanner.go)


class _GoScanner:
    """A port of encoding/json's scanner, used only to word syntax errors as Go does."""

    __slots__ = ("end_top", "err", "parse_state", "step")

    _OBJ_KEY, _OBJ_VALUE, _ARR_VALUE = 0, 1, 2
    _CONT, _END, _ERR = 0, 10, 11

    def __init__(self) -> None:
        self.step: Callable[[int], int] = self._begin_value
        self.parse_state: list[int] = []
        self.err: str | None = None
        self.end_top = False

    def check(self, data: bytes) -> str | None:
        for c in data:
            if self.step(c) == self._ERR:
                return self.err
        if self.eof() == self._ERR:
            return self.err
        return None

    def eof(self) -> int:
        if self.err is not None:
            return self._ERR
        if self.end_top:
            return self._END
        self.step(0x20)
        if self.end_top:
            return self._END
        if self.err is None:
            self.err = "unexpected end of JSON input"
        return self._ERR

    def _error(self, c: int, context: str) -> int:
        self.step = self._state_error
        self.err = f"invalid character {_quote_char(c)} {context}"
        return self._ERR

    def _state_error(self, c: int) -> int:
        return self._ERR

    def _push(self, c: int, state: int) -> int:
        self.parse_state.append(state)
        if len(self.parse_state) <= 10000:
            return self._CONT
        return self._error(c, "exceeded max depth")

    def _pop(self) -> None:
        self.parse_state.pop()
        if not self.parse_state:
            self.step = self._end_top
            self.end_top = True
        else:
            self.step = self._end_value

    @staticmethod
    def _space(c: int) -> bool:
        return c in (0x20, 0x09, 0x0D, 0x0A)

    def _begin_value_or_empty(self, c: int) -> int:
        if self._space(c):
            return self._CONT
        if c == 0x5D:  # ]
            return self._end_value(c)
        return self._begin_value(c)

    def _begin_value(self, c: int) -> int:
        if self._space(c):
            return self._CONT
        ch = chr(c)
        if ch == "{":
            self.step = self._begin_string_or_empty
            return self._push(c, self._OBJ_KEY)
        if ch == "[":
            self.step = self._begin_value_or_empty
            return self._push(c, self._ARR_VALUE)
        if ch == '"':
            self.step = self._in_string
        elif ch == "-":
            self.step = self._neg
        elif ch == "0":
            self.step = self._zero
        elif ch == "t":
            self.step = self._lit("rue", "true", self._end_value)
        elif ch == "f":
            self.step = self._lit("alse", "false", self._end_value)
        elif ch == "n":
            self.step = self._lit("ull", "null", self._end_value)
        elif "1" <= ch <= "9":
            self.step = self._one
        else:
            return self._error(c, "looking for beginning of value")
        return self._CONT

    def _lit(self, rest: str, word: str, then: Callable[[int], int]) -> Callable[[int], int]:
        def step(c: int) -> int:
            if c == ord(rest[0]):
                self.step = self._lit(rest[1:], word, then) if len(rest) > 1 else then
                return self._CONT
            return self._error(c, f"in literal {word} (expecting {_quote_char(ord(rest[0]))})")

        return step

    def _begin_string_or_empty(self, c: int) -> int:
        if self._space(c):
            return self._CONT
        if c == 0x7D:  # }
            self.parse_state[-1] = self._OBJ_VALUE
            return self._end_value(c)
        return self._begin_string(c)

    def _begin_string(self, c: int) -> int:
        if self._space(c):
            return self._CONT
        if c == 0x22:
            self.step = self._in_string
            return self._CONT
        return self._error(c, "looking for beginning of object key string")

    def _end_value(self, c: int) -> int:
        if not self.parse_state:
            self.step = self._end_top
            self.end_top = True
            return self._end_top(c)
        if self._space(c):
            self.step = self._end_value
            return self._CONT
        ps = self.parse_state[-1]
        if ps == self._OBJ_KEY:
            if c == 0x3A:  # :
                self.parse_state[-1] = self._OBJ_VALUE
                self.step = self._begin_value
                return self._CONT
            return self._error(c, "after object key")
        if ps == self._OBJ_VALUE:
            if c == 0x2C:
                self.parse_state[-1] = self._OBJ_KEY
                self.step = self._begin_string
                return self._CONT
            if c == 0x7D:
                self._pop()
                return self._CONT
            return self._error(c, "after object key:value pair")
        if c == 0x2C:
            self.step = self._begin_value
            return self._CONT
        if c == 0x5D:
            self._pop()
            return self._CONT
        return self._error(c, "after array element")

    def _end_top(self, c: int) -> int:
        if not self._space(c):
            self._error(c, "after top-level value")
        return self._END

    def _in_string(self, c: int) -> int:
        if c == 0x22:
            self.step = self._end_value
            return self._CONT
        if c == 0x5C:
            self.step = self._in_string_esc
            return self._CONT
        if c < 0x20:
            return self._error(c, "in string literal")
        return self._CONT

    def _in_string_esc(self, c: int) -> int:
        if chr(c) in 'bfnrt\\/"':
            self.step = self._in_string
            return self._CONT
        if c == 0x75:  # u
            self.step = self._hex(4)
            return self._CONT
        return self._error(c, "in string escape code")

    def _hex(self, n: int) -> Callable[[int], int]:
        def step(c: int) -> int:
            if chr(c) in "0123456789abcdefABCDEF":
                self.step = self._hex(n - 1) if n > 1 else self._in_string
                return self._CONT
            return self._error(c, "in \\u hexadecimal character escape")

        return step

    def _neg(self, c: int) -> int:
        if c == 0x30:
            self.step = self._zero
            return self._CONT
        if 0x31 <= c <= 0x39:
            self.step = self._one
            return self._CONT
        return self._error(c, "in numeric literal")

    def _one(self, c: int) -> int:
        if 0x30 <= c <= 0x39:
            return self._CONT
        return self._zero(c)

    def _zero(self, c: int) -> int:
        if c == 0x2E:
            self.step = self._dot
            return self._CONT
        if c in (0x65, 0x45):
            self.step = self._exp
            return self._CONT
        return self._end_value(c)

    def _dot(self, c: int) -> int:
        if 0x30 <= c <= 0x39:
            self.step = self._dot0
            return self._CONT
        return self._error(c, "after decimal point in numeric literal")

    def _dot0(self, c: int) -> int:
        if 0x30 <= c <= 0x39:
            return self._CONT
        if c in (0x65, 0x45):
            self.step = self._exp
            return self._CONT
        return self._end_value(c)

    def _exp(self, c: int) -> int:
        if c in (0x2B, 0x2D):
            self.step = self._exp_sign
            return self._CONT
        return self._exp_sign(c)

    def _exp_sign(self, c: int) -> int:
        if 0x30 <= c <= 0x39:
            self.step = self._exp0
            return self._CONT
        return self._error(c, "in exponent of numeric literal")

    def _exp0(self, c: int) -> int:
        if 0x30 <= c <= 0x39:
            return self._CONT
        return self._end_value(c)


def _quote_char(c: int) -> str:
    if c == 0x27:
        return "'\\''"
    if c == 0x22:
        return "'\"'"
    return "'" + go_quote(chr(c))[1:-1] + "'"


# --------------------------------------------------------------------------- JSON text -> tree


class _Num(str):
    """A JSON number, kept as its literal text (Go decodes numbers from the text)."""

    __slots__ = ()


class _Obj:
    """A JSON object: its key/value pairs in document order, duplicates kept."""

    __slots__ = ("pairs",)

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        self.pairs = pairs


def _go_replace(err: UnicodeError) -> tuple[str, int]:
    # Go replaces every byte of an invalid UTF-8 sequence with U+FFFD, one by one.
    assert isinstance(err, UnicodeDecodeError)
    return "\ufffd", err.start + 1


codecs.register_error("topolet-go-replace", _go_replace)

_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_ASCII_NUM_RE = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")


def _num_hook(s: str) -> _Num:
    if not _ASCII_NUM_RE.fullmatch(s):
        raise ValueError("non-ASCII number")
    return _Num(s)


def _reject_constant(s: str) -> Any:
    raise ValueError(f"invalid constant {s}")


_JSON = json.JSONDecoder(
    object_pairs_hook=_Obj, parse_int=_num_hook, parse_float=_num_hook, parse_constant=_reject_constant
)


def _go_str(s: str) -> str:
    # Go decodes an unpaired \uD800-\uDFFF escape to U+FFFD.
    if _SURROGATE_RE.search(s):
        return _SURROGATE_RE.sub("\ufffd", s)
    return s


class _SyntaxError(Exception):
    pass


def _parse_json(data: bytes) -> Any:
    """Parse ``data`` as Go's ``json.Unmarshal`` would see it; ``_SyntaxError`` with Go's text."""
    text = data.decode("utf-8", errors="topolet-go-replace")
    try:
        return _JSON.decode(text)
    except (ValueError, RecursionError):
        pass
    err = _GoScanner().check(data)
    if err is None:  # valid for Go but not for Python (e.g. nesting deeper than the recursion limit)
        err = "JSON document too deeply nested"
    raise _SyntaxError(err)


# --------------------------------------------------------------------------- Go types


class _T:
    """A Go type: ``kind`` drives decoding, ``name`` is ``reflect.Type.String()``."""

    __slots__ = ("by_exact", "by_fold", "elem", "fields", "key", "kind", "name")

    def __init__(
        self,
        kind: str,
        name: str,
        *,
        elem: _T | None = None,
        key: _T | None = None,
        fields: tuple[_F, ...] = (),
    ) -> None:
        self.kind = kind
        self.name = name
        self.elem = elem
        self.key = key
        self.fields = fields
        self.by_exact = {f.json: f for f in fields}
        self.by_fold: dict[str, _F] = {}
        for f in fields:
            self.by_fold.setdefault(_fold(f.json), f)

    @property
    def short(self) -> str:
        """``reflect.Type.Name()``."""
        return self.name.rsplit(".", 1)[-1]

    def zero(self) -> Any:
        if self.kind in ("string",):
            return ""
        if self.kind in ("int", "uint", "cpuentry"):
            return 0
        if self.kind == "struct":
            return {f.go: f.type.zero() for f in self.fields}
        return None  # map, slice, ptr

    def lookup(self, key: str) -> _F | None:
        f = self.by_exact.get(key)
        if f is None:
            f = self.by_fold.get(_fold(key))
        return f


class _F:
    __slots__ = ("embed", "go", "json", "omitempty", "type")

    def __init__(self, go: str, json_name: str, type_: _T, *, omitempty: bool = False, embed: str = "") -> None:
        self.go = go
        self.json = json_name
        self.type = type_
        self.omitempty = omitempty
        self.embed = embed  # Go name of the embedded struct holding the field, if promoted


# Characters outside ASCII whose Go fold (foldRune: the least rune of the unicode.SimpleFold orbit) is ASCII.
_FOLD_SPECIAL = {"\u017f": "S", "\u212a": "K"}


def _fold(s: str) -> str:
    """encoding/json's case-insensitive key matching (``foldName``), for keys compared with ASCII names."""
    if s.isascii():
        return s.upper()
    return "".join(ch.upper() if ch.isascii() else _FOLD_SPECIAL.get(ch, ch) for ch in s)


_STRING = _T("string", "string")
_RESOURCE = _T("string", "v1.ResourceName")
_INT = _T("int", "int")
_UINT64 = _T("uint", "uint64")
_CHECKSUM = _T("uint", "checksum.Checksum")
_INTS = _T("slice", "[]int", elem=_INT)

# cpumanager/state
_CPU_ENTRIES = _T(
    "map",
    "map[string]map[string]string",
    key=_STRING,
    elem=_T("map", "map[string]string", key=_STRING, elem=_STRING),
)
_CPU_V1_ENTRIES = _T("map", "map[string]string", key=_STRING, elem=_STRING)
_CPU_POD_ENTRY = _T("cpuentry", "state.PodEntry")
_CPU_POD_ENTRIES = _T("map", "state.PodCPUAssignments", key=_STRING, elem=_CPU_POD_ENTRY)
_POD_ENTRY_JSON = _T("struct", "state.podEntryJSON", fields=(_F("CPUSet", "cpuSet", _STRING, omitempty=True),))


def _cpu_struct(name: str, *, v1: bool = False, pod_entries: bool = False) -> _T:
    fields = [
        _F("PolicyName", "policyName", _STRING),
        _F("DefaultCPUSet", "defaultCpuSet", _STRING),
        _F("Entries", "entries", _CPU_V1_ENTRIES if v1 else _CPU_ENTRIES, omitempty=True),
    ]
    if pod_entries:
        fields.append(_F("PodEntries", "podEntries", _CPU_POD_ENTRIES, omitempty=True))
    fields.append(_F("Checksum", "checksum", _CHECKSUM))
    return _T("struct", f"state.{name}", fields=tuple(fields))


_CPU_V1 = _cpu_struct("CPUManagerCheckpointV1", v1=True)
_CPU_V2 = _cpu_struct("CPUManagerCheckpointV2")
_CPU_V3 = _cpu_struct("CPUManagerCheckpoint", pod_entries=True)
# 1.37: CPUManagerCheckpoint{CPUManagerCheckpointV3 `json:",inline"`; Data; DataChecksum;
# CheckpointData `json:"-"`}
_CPU_V4 = _T(
    "struct",
    "state.CPUManagerCheckpoint",
    fields=(
        *(_F(f.go, f.json, f.type, omitempty=f.omitempty, embed="CPUManagerCheckpointV3") for f in _CPU_V3.fields),
        _F("Data", "data", _STRING),
        _F("DataChecksum", "dataChecksum", _CHECKSUM),
    ),
)
_CPU_V4_DATA = _T("struct", "state.CPUManagerCheckpointData", fields=_CPU_V3.fields[:-1])

# memorymanager/state
_MEMORY_TABLE = _T(
    "struct",
    "state.MemoryTable",
    fields=(
        _F("TotalMemSize", "total", _UINT64),
        _F("SystemReserved", "systemReserved", _UINT64),
        _F("Allocatable", "allocatable", _UINT64),
        _F("Reserved", "reserved", _UINT64),
        _F("Free", "free", _UINT64),
    ),
)
_NUMA_NODE_STATE = _T(
    "struct",
    "state.NUMANodeState",
    fields=(
        _F("NumberOfAssignments", "numberOfAssignments", _INT),
        _F(
            "MemoryMap",
            "memoryMap",
            _T(
                "map",
                "map[v1.ResourceName]*state.MemoryTable",
                key=_RESOURCE,
                elem=_T("ptr", "*state.MemoryTable", elem=_MEMORY_TABLE),
            ),
        ),
        _F("Cells", "cells", _INTS),
    ),
)
_NUMA_NODE_MAP = _T("map", "state.NUMANodeMap", key=_INT, elem=_T("ptr", "*state.NUMANodeState", elem=_NUMA_NODE_STATE))
_BLOCK = _T(
    "struct",
    "state.Block",
    fields=(
        _F("NUMAAffinity", "numaAffinity", _INTS),
        _F("Type", "type", _RESOURCE),
        _F("Size", "size", _UINT64),
    ),
)
_BLOCKS = _T("slice", "[]state.Block", elem=_BLOCK)
_MEM_ENTRIES = _T(
    "map",
    "state.ContainerMemoryAssignments",
    key=_STRING,
    elem=_T("map", "map[string][]state.Block", key=_STRING, elem=_BLOCKS),
)
_MEM_POD_ENTRY = _T("struct", "state.PodEntry", fields=(_F("MemoryBlocks", "memoryBlocks", _BLOCKS, omitempty=True),))
_MEM_POD_ENTRIES = _T("map", "state.PodMemoryAssignments", key=_STRING, elem=_MEM_POD_ENTRY)


def _mem_struct(name: str, *, pod_entries: bool) -> _T:
    fields = [
        _F("PolicyName", "policyName", _STRING),
        _F("MachineState", "machineState", _NUMA_NODE_MAP),
        _F("Entries", "entries", _MEM_ENTRIES, omitempty=True),
    ]
    if pod_entries:
        fields.append(_F("PodEntries", "podEntries", _MEM_POD_ENTRIES, omitempty=True))
    fields.append(_F("Checksum", "checksum", _CHECKSUM))
    return _T("struct", f"state.{name}", fields=tuple(fields))


_MEM_V1 = _mem_struct("MemoryManagerCheckpointV1", pod_entries=False)
_MEM_V2 = _mem_struct("MemoryManagerCheckpoint", pod_entries=True)


# --------------------------------------------------------------------------- decoding (encoding/json v1)


class _TypeError:
    """``json.UnmarshalTypeError``."""

    __slots__ = ("field", "struct", "type_name", "value")

    def __init__(self, value: str, type_name: str) -> None:
        self.value = value
        self.type_name = type_name
        self.struct = ""
        self.field = ""

    def __str__(self) -> str:
        if self.struct or self.field:
            return (
                f"json: cannot unmarshal {self.value} into Go struct field {self.struct}.{self.field} "
                f"of type {self.type_name}"
            )
        return f"json: cannot unmarshal {self.value} into Go value of type {self.type_name}"


_GoErr = _TypeError | str


class _Abort(Exception):
    """An error returned (not saved) by the decoder: an ``UnmarshalJSON`` failure."""

    def __init__(self, err: _GoErr) -> None:
        super().__init__(str(err))
        self.err = err


def _json_kind(jv: Any) -> str:
    if isinstance(jv, _Obj):
        return "object"
    if isinstance(jv, list):
        return "array"
    if isinstance(jv, bool):
        return "bool"
    if isinstance(jv, _Num):
        return "number"
    return "string"


_INT_RE = re.compile(r"[+-]?[0-9]+")
_UINT_RE = re.compile(r"\+?[0-9]+")


class _Decoder:
    """``json.Unmarshal`` into the Go types above.

    Go semantics kept: unknown keys ignored, case-insensitive key matching,
    ``null`` leaves scalars alone and nils maps/slices/pointers, decoding merges
    into existing structs and maps, type errors are saved (first one wins) while
    decoding goes on, and ``UnmarshalJSON`` errors stop it.
    """

    def __init__(self) -> None:
        self.saved: _GoErr | None = None
        self.struct = ""
        self.stack: list[str] = []

    def add_context(self, err: _GoErr) -> _GoErr:
        if isinstance(err, _TypeError) and (self.struct or self.stack):
            err.struct = self.struct
            err.field = ".".join([*self.stack, err.field] if err.field else self.stack)
        return err

    def save(self, err: _GoErr) -> None:
        if self.saved is None:
            self.saved = self.add_context(err)

    def value(self, t: _T, jv: Any, cur: Any) -> Any:
        kind = t.kind
        if kind == "string":
            if isinstance(jv, str) and not isinstance(jv, _Num):
                return _go_str(jv)
            if jv is not None:
                self.save(_TypeError(_json_kind(jv), t.name))
            return cur
        if kind in ("int", "uint"):
            if isinstance(jv, _Num):
                rx, lo, hi = (_INT_RE, _INT64_MIN, _INT64_MAX) if kind == "int" else (_UINT_RE, 0, (1 << 64) - 1)
                if rx.fullmatch(jv) and lo <= (n := int(jv)) <= hi:
                    return n
                self.save(_TypeError(f"number {jv}", t.name))
            elif jv is not None:
                self.save(_TypeError(_json_kind(jv), t.name))
            return cur
        if kind == "struct":
            if isinstance(jv, _Obj):
                self.struct_into(t, jv, cur)
            elif jv is not None:
                self.save(_TypeError(_json_kind(jv), t.name))
            return cur
        if kind == "map":
            if jv is None:
                return None
            if not isinstance(jv, _Obj):
                self.save(_TypeError(_json_kind(jv), t.name))
                return cur
            out = {} if cur is None else cur
            assert t.key is not None and t.elem is not None
            for key, item in jv.pairs:
                k = _go_str(key)
                # encoding/json names the map key in the error's field path (Go >= 1.24)
                self.stack.append(k)
                try:
                    elem = self.value(t.elem, item, t.elem.zero())
                finally:
                    self.stack.pop()
                if t.key.kind == "int":
                    if not _INT_RE.fullmatch(k) or not _INT64_MIN <= int(k) <= _INT64_MAX:
                        self.save(_TypeError(f"number {k}", t.key.name))
                        continue
                    out[int(k)] = elem
                else:
                    out[k] = elem
            return out
        if kind == "slice":
            if jv is None:
                return None
            if not isinstance(jv, list):
                self.save(_TypeError(_json_kind(jv), t.name))
                return cur
            assert t.elem is not None
            out = [] if cur is None else cur
            for i, item in enumerate(jv):
                if i < len(out):
                    out[i] = self.value(t.elem, item, out[i])
                else:
                    out.append(self.value(t.elem, item, t.elem.zero()))
            del out[len(jv) :]
            return out
        if kind == "ptr":
            if jv is None:
                return None
            assert t.elem is not None
            # indirect() allocates the pointee before looking at the JSON value.
            return self.value(t.elem, jv, t.elem.zero() if cur is None else cur)
        if kind == "cpuentry":
            return self.cpu_pod_entry(jv)
        raise AssertionError(kind)

    def struct_into(self, t: _T, jv: _Obj, out: dict[str, Any]) -> None:
        orig_struct, orig_len = self.struct, len(self.stack)
        for key, item in jv.pairs:
            f = t.lookup(_go_str(key))
            if f is None:
                continue
            if f.embed:
                self.stack.append(f.embed)
            self.struct = t.short
            self.stack.append(f.json)
            out[f.go] = self.value(f.type, item, out[f.go])
            del self.stack[orig_len:]
            self.struct = orig_struct

    def cpu_pod_entry(self, jv: Any) -> int:
        """``(*cpumanager/state.PodEntry).UnmarshalJSON``."""
        inner = _Decoder()
        entry = _POD_ENTRY_JSON.zero()
        inner.value(_POD_ENTRY_JSON, jv, entry)
        if inner.saved is not None:
            raise _Abort(self.add_context(inner.saved))
        try:
            return _parse_go_cpuset(entry["CPUSet"])
        except _ParseError as e:
            raise _Abort(f"failed to parse cpuset: {e}") from None


def _unmarshal(tree: Any, t: _T, target: dict[str, Any]) -> _GoErr | None:
    """``json.Unmarshal`` of an already parsed (syntactically valid) document into ``target``."""
    d = _Decoder()
    try:
        d.value(t, tree, target)
    except _Abort as a:
        return a.err
    return d.saved


# --------------------------------------------------------------------------- encoding (json.Marshal)

_JSON_ESC_RE = re.compile('[\\x00-\\x1f"\\\\<>&\u2028\u2029\ud800-\udfff]')
_JSON_ESC = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _json_esc(m: re.Match[str]) -> str:
    ch = m.group()
    e = _JSON_ESC.get(ch)
    if e is not None:
        return e
    if 0xD800 <= ord(ch) <= 0xDFFF:
        return "\\ufffd"
    return f"\\u{ord(ch):04x}"


def _json_string(s: str) -> str:
    """Go's string encoding with HTML escaping (``<``, ``>``, ``&``, U+2028/9 as ``\\u....``)."""
    return '"' + _JSON_ESC_RE.sub(_json_esc, s) + '"'


def _is_empty(t: _T, v: Any) -> bool:
    if t.kind in ("map", "slice", "ptr"):
        return not v
    if t.kind in ("string", "int", "uint"):
        return not v
    return False


def _encode(t: _T, v: Any) -> str:
    kind = t.kind
    if kind == "string":
        return _json_string(v)
    if kind in ("int", "uint"):
        return str(v)
    if kind == "struct":
        parts = []
        for f in t.fields:
            fv = v[f.go]
            if f.omitempty and _is_empty(f.type, fv):
                continue
            parts.append(_json_string(f.json) + ":" + _encode(f.type, fv))
        return "{" + ",".join(parts) + "}"
    if kind == "map":
        if v is None:
            return "null"
        assert t.elem is not None
        items = sorted((str(k), val) for k, val in v.items())
        return "{" + ",".join(_json_string(k) + ":" + _encode(t.elem, val) for k, val in items) + "}"
    if kind == "slice":
        if v is None:
            return "null"
        assert t.elem is not None
        return "[" + ",".join(_encode(t.elem, x) for x in v) + "]"
    if kind == "ptr":
        if v is None:
            return "null"
        assert t.elem is not None
        return _encode(t.elem, v)
    if kind == "cpuentry":  # PodEntry.MarshalJSON: podEntryJSON{CPUSet: cset.String()}
        s = format_bits(v)
        return "{" + ('"cpuSet":' + _json_string(s) if s else "") + "}"
    raise AssertionError(kind)


# --------------------------------------------------------------------------- go-spew "%#v" (dump.ForHash)


def _spew(t: _T, v: Any, out: list[str], ignore_type: bool) -> None:
    """``formatState.format`` with ``{SortKeys, DisableMethods, SpewKeys}``, flags ``#``."""
    kind = t.kind
    if kind == "ptr":
        assert t.elem is not None
        if v is None:
            out.append("<nil>" if ignore_type else f"({t.name})<nil>")
            return
        out.append("<*>" if ignore_type else f"(*{t.elem.name})")
        _spew(t.elem, v, out, True)
        return
    if not ignore_type:
        out.append(f"({t.name})")
    if kind == "string":
        out.append(v)
    elif kind in ("int", "uint"):
        out.append(str(v))
    elif kind == "struct":
        out.append("{")
        for i, f in enumerate(t.fields):
            if i:
                out.append(" ")
            out.append(f.go + ":")
            _spew(f.type, v[f.go], out, False)
        out.append("}")
    elif kind == "map":
        if v is None:
            out.append("<nil>")
            return
        assert t.elem is not None
        out.append("map[")
        for i, k in enumerate(sorted(v)):
            if i:
                out.append(" ")
            out.append(f"{k}:")
            _spew(t.elem, v[k], out, True)
        out.append("]")
    elif kind == "slice":
        if v is None:
            out.append("<nil>")
            return
        assert t.elem is not None
        out.append("[")
        for i, x in enumerate(v):
            if i:
                out.append(" ")
            _spew(t.elem, x, out, True)
        out.append("]")
    elif kind == "cpuentry":  # PodEntry{CPUSet cpuset.CPUSet{elems map[int]struct{}}}
        elems = " ".join(f"{c}:{{}}" for c in _iter_bits(v))
        out.append(f"{{CPUSet:(cpuset.CPUSet){{elems:(map[int]struct {{}})map[{elems}]}}}}")
    else:
        raise AssertionError(kind)


def _iter_bits(b: int) -> list[int]:
    out = []
    while b:
        low = b & -b
        out.append(low.bit_length() - 1)
        b ^= low
    return out


def _checksum(t: _T, v: dict[str, Any], type_name: str | None = None) -> int:
    """``checksum.New(cp)`` with ``cp.Checksum`` zeroed; ``type_name`` replaces the struct's type name."""
    cp = dict(v)
    cp["Checksum"] = 0
    out = [f"(*state.{type_name or t.short})"]
    _spew(t, cp, out, True)
    return fnv1a_32(_safe_utf8("".join(out)))


def _safe_utf8(s: str) -> bytes:
    return s.encode("utf-8", errors="replace") if _SURROGATE_RE.search(s) else s.encode("utf-8")


def v4_data_checksum(data: str) -> int:
    """V4 ``dataChecksum``: ``checksum.New(data)`` = FNV-1a/32 of ``"(string)" + data``."""
    return fnv1a_32(b"(string)" + _safe_utf8(data))


# --------------------------------------------------------------------------- CPU manager


@dataclass(slots=True)
class LoadedCPUCheckpoint:
    state: CPUManagerState
    version: int  # the format the file was read as: 1, 2, 3 or 4
    checksum_status: ChecksumStatus
    checksum: int = 0  # the stored checksum (V4: dataChecksum)
    # the load errors of the newer formats tried first (what the kubelet logs while falling back)
    attempts: tuple[tuple[str, str], ...] = field(default_factory=tuple)


def cpu_checkpoint_version_for(pod_level_resource_managers_enabled: bool) -> int:
    """The CPU checkpoint version kubelet 1.36 writes: V3 with PodLevelResourceManagers on, else V2."""
    return 3 if pod_level_resource_managers_enabled else 2


def _cpu_go_value(state: CPUManagerState, version: int) -> dict[str, Any]:
    entries = {pod: {c: format_bits(b) for c, b in cs.items()} for pod, cs in state.assignments.items()}
    v: dict[str, Any] = {
        "PolicyName": state.policy_name,
        "DefaultCPUSet": format_bits(state.default_cpuset),
        "Entries": entries,
        "Checksum": 0,
    }
    if version >= 3:
        v["PodEntries"] = dict(state.pod_assignments)
    return v


def dump_cpu_checkpoint(state: CPUManagerState, version: int) -> bytes:
    """The bytes kubelet writes to ``cpu_manager_state`` (``storeStateV2`` / ``storeStateV3``; 1.37 V4).

    V2 leaves out ``state.pod_assignments`` (the format has no pod entries).
    """
    if version == 2:
        v = _cpu_go_value(state, 2)
        v["Checksum"] = _checksum(_CPU_V2, v, "CPUManagerCheckpoint")
        return _encode(_CPU_V2, v).encode("utf-8")
    if version == 3:
        v = _cpu_go_value(state, 3)
        v["Checksum"] = _checksum(_CPU_V3, v)
        return _encode(_CPU_V3, v).encode("utf-8")
    if version == 4:
        data = _cpu_go_value(state, 4)
        data_json = _encode(_CPU_V4_DATA, data)
        v = dict(data)
        v["Checksum"] = 0  # "For forward compatibility, clear checksum from the legacy field."
        v["Data"] = data_json
        v["DataChecksum"] = v4_data_checksum(data_json)
        return _encode(_CPU_V4, v).encode("utf-8")
    raise ValueError(f"cannot write CPU manager checkpoint version {version!r} (2, 3 or 4)")


def dump_cpu_checkpoint_v1(policy_name: str, default_cpuset: int, entries: Mapping[str, int]) -> bytes:
    """A legacy V1 file (entries keyed by container ID, as before 1.18); for tests and tools."""
    v = {
        "PolicyName": policy_name,
        "DefaultCPUSet": format_bits(default_cpuset),
        "Entries": {cid: format_bits(b) for cid, b in entries.items()},
        "Checksum": 0,
    }
    v["Checksum"] = _checksum(_CPU_V1, v, "CPUManagerCheckpoint")
    return _encode(_CPU_V1, v).encode("utf-8")


def _verify(
    t: _T, v: dict[str, Any], names: tuple[str, ...], *, accept_zero: bool
) -> tuple[ChecksumStatus | None, str | None]:
    ck = v["Checksum"]
    if ck == 0 and accept_zero:
        return "zero", None
    for name in names:
        if _checksum(t, v, name) == ck:
            return "verified", None
    return None, _CORRUPT


def load_cpu_checkpoint(
    data: bytes,
    source: str = CPU_CHECKPOINT_NAME,
    *,
    pod_level_resource_managers: bool = True,
    policy_name: str | None = None,
    initial_containers: Mapping[str, tuple[str, str]] | None = None,
    allow_unverified_legacy: bool = False,
) -> LoadedCPUCheckpoint:
    """Read ``cpu_manager_state`` as kubelet 1.36 ``restoreState`` does (plus 1.37's V4).

    Order: V4 (a file with ``data``/``dataChecksum`` that fails is an error, no
    fallback, as in 1.37), then with the gate on V3 -> V2 -> V1, with it off
    V2 -> V1 (a V3 file is then refused, as by 1.36).  A V1 file is migrated
    with ``initial_containers`` (container ID -> (pod UID, container name)), as
    the kubelet does with the runtime's container list.  ``policy_name``, when
    given, must match the checkpoint's (the kubelet's configured-policy check).
    Cpusets are parsed with Go's ``cpuset.Parse``.  Raises
    :class:`CheckpointError` with the kubelet's message; the last version
    tried gives the error, as in the kubelet.
    """
    gate = pod_level_resource_managers
    try:
        tree = _parse_json(data)
    except _SyntaxError as e:
        tried = ["v4", "v3", "v2", "v1"] if gate else ["v4", "v2", "v1"]
        failed = tuple(
            (v, f"failed to deserialize cpu manager checkpoint: {e}" if v == "v4" else str(e)) for v in tried
        )
        raise _cpu_restore_error(source, str(e), failed) from None

    attempts: list[tuple[str, str]] = []
    # V4 (1.37)
    v4 = _CPU_V4.zero()
    v4["Entries"], v4["PodEntries"] = {}, {}
    v4_data, err = _load_cpu_v4(tree, v4)
    if v4_data is not None:
        return _cpu_result(source, v4_data, 4, "verified", v4["DataChecksum"], attempts, policy_name)
    attempts.append(("v4", str(err)))
    if v4["Data"] or v4["DataChecksum"]:
        raise _cpu_restore_error(source, f"could not load v4 checkpoint: {err}", tuple(attempts))

    unverified: list[tuple[int, dict[str, Any]]] = []  # decoded fine, checksum mismatch
    if gate:
        v3 = _CPU_V3.zero()
        v3["Entries"], v3["PodEntries"] = {}, {}
        err = _unmarshal(tree, _CPU_V3, v3)
        if err is None:
            status, err = _verify(_CPU_V3, v3, ("CPUManagerCheckpoint",), accept_zero=False)
            if status is not None:
                return _cpu_result(source, v3, 3, status, v3["Checksum"], attempts, policy_name)
        attempts.append(("v3", str(err)))

    v2 = _CPU_V2.zero()
    v2["Entries"] = {}
    err = _unmarshal(tree, _CPU_V2, v2)
    if err is None:
        names = ("CPUManagerCheckpoint",) if gate else ("CPUManagerCheckpointV2", "CPUManagerCheckpoint")
        status, err = _verify(_CPU_V2, v2, names, accept_zero=True)
        if status is not None:
            return _cpu_result(source, v2, 2, status, v2["Checksum"], attempts, policy_name)
        unverified.append((2, v2))
    attempts.append(("v2", str(err)))

    v1 = _CPU_V1.zero()
    v1["Entries"] = {}
    err = _unmarshal(tree, _CPU_V1, v1)
    if err is None:
        status, err = _verify(_CPU_V1, v1, ("CPUManagerCheckpoint",), accept_zero=True)
        if status is not None:
            migrated = _migrate_cpu_v1(source, v1, initial_containers, attempts)
            return _cpu_result(source, migrated, 1, status, v1["Checksum"], attempts, policy_name)
        unverified.append((1, v1))
    attempts.append(("v1", str(err)))
    if allow_unverified_legacy and unverified and not _has_key(tree, ("podEntries", "data", "dataChecksum")):
        version, cp = unverified[0]
        if version == 1:
            cp = {**_migrate_cpu_v1(source, cp, initial_containers, attempts), "Checksum": cp["Checksum"]}
        return _cpu_result(source, cp, version, "unverified-legacy", cp["Checksum"], attempts, policy_name)
    raise _cpu_restore_error(source, str(err), tuple(attempts))


def _has_key(tree: Any, names: tuple[str, ...]) -> bool:
    """Whether the top-level object has one of ``names`` (Go key matching) with a non-empty value."""
    if not isinstance(tree, _Obj):
        return False
    folded = {_fold(n) for n in names}
    for k, v in tree.pairs:
        if _fold(_go_str(k)) not in folded or v is None:
            continue
        if isinstance(v, _Obj):
            if v.pairs:
                return True
        elif v not in ("", "0", [], False):
            return True
    return False


def _load_cpu_v4(tree: Any, v4: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    """``GetCheckpoint`` with the 1.37 V4 type: (checkpoint data, None) or (None, error)."""
    err = _unmarshal(tree, _CPU_V4, v4)
    if err is not None:
        return None, f"failed to deserialize cpu manager checkpoint: {err}"
    data = _CPU_V4_DATA.zero()
    data["Entries"], data["PodEntries"] = {}, {}
    try:
        inner = _parse_json(v4["Data"].encode("utf-8"))
    except _SyntaxError as e:
        return None, f"failed to deserialize cpu manager checkpoint data: {e}"
    err = _unmarshal(inner, _CPU_V4_DATA, data)
    if err is not None:
        return None, f"failed to deserialize cpu manager checkpoint data: {err}"
    if v4_data_checksum(v4["Data"]) != v4["DataChecksum"]:
        return None, _CORRUPT
    return data, None


def _migrate_cpu_v1(
    source: str,
    v1: dict[str, Any],
    initial_containers: Mapping[str, tuple[str, str]] | None,
    attempts: list[tuple[str, str]],
) -> dict[str, Any]:
    """``migrateV1CheckpointToV2Checkpoint`` (container IDs in sorted order; Go's map order is random)."""
    entries: dict[str, dict[str, str]] = {}
    for cid in sorted(v1["Entries"] or {}):
        ref = (initial_containers or {}).get(cid)
        if ref is None:
            raise _cpu_restore_error(
                source,
                f"failed to migrate checkpoint from v1 to v2: containerID '{cid}' not found in initial containers list",
                tuple(attempts),
            )
        entries.setdefault(ref[0], {})[ref[1]] = v1["Entries"][cid]
    return {"PolicyName": v1["PolicyName"], "DefaultCPUSet": v1["DefaultCPUSet"], "Entries": entries}


def _cpu_result(
    source: str,
    cp: dict[str, Any],
    version: int,
    status: ChecksumStatus,
    checksum: int,
    attempts: list[tuple[str, str]],
    policy_name: str | None,
) -> LoadedCPUCheckpoint:
    """The checks of ``restoreState`` after loading: policy, then the cpusets."""
    policy = cp["PolicyName"]
    if policy_name is not None and policy_name != policy:
        raise _cpu_restore_error(
            source,
            f"configured policy {go_quote(policy_name)} differs from state checkpoint policy {go_quote(policy)}",
            tuple(attempts),
        )
    default_s = cp["DefaultCPUSet"]
    try:
        default = _parse_go_cpuset(default_s)
    except _ParseError as e:
        raise _cpu_restore_error(
            source, f"could not parse default cpu set {go_quote(default_s)}: {e}", tuple(attempts)
        ) from None
    assignments: dict[str, dict[str, int]] = {}
    for pod in sorted(cp["Entries"] or {}):
        containers = cp["Entries"][pod] or {}
        assignments[pod] = {}
        for c in sorted(containers):
            s = containers[c]
            try:
                assignments[pod][c] = _parse_go_cpuset(s)
            except _ParseError as e:
                raise _cpu_restore_error(
                    source,
                    f"could not parse cpuset {go_quote(s)} for container {go_quote(c)} in pod {go_quote(pod)}: {e}",
                    tuple(attempts),
                ) from None
    pods = dict(cp.get("PodEntries") or {})
    state = CPUManagerState(policy, default, assignments, pods)
    return LoadedCPUCheckpoint(state, version, status, checksum, tuple(attempts))


# --------------------------------------------------------------------------- memory manager


@dataclass(slots=True)
class LoadedMemoryCheckpoint:
    state: MemoryManagerState
    version: int  # 1 or 2
    checksum_status: ChecksumStatus
    checksum: int = 0
    attempts: tuple[tuple[str, str], ...] = field(default_factory=tuple)


def memory_checkpoint_version_for(pod_level_resource_managers_enabled: bool) -> int:
    """The memory checkpoint version kubelet 1.36 writes: V2 with PodLevelResourceManagers on, else V1."""
    return 2 if pod_level_resource_managers_enabled else 1


def _block_go(b: Block) -> dict[str, Any]:
    return {"NUMAAffinity": list(b.numa_affinity), "Type": b.type, "Size": b.size}


def _mem_go_value(state: MemoryManagerState, version: int) -> dict[str, Any]:
    machine = {
        node: {
            "NumberOfAssignments": ns.number_of_assignments,
            "MemoryMap": {
                res: {
                    "TotalMemSize": mt.total,
                    "SystemReserved": mt.system_reserved,
                    "Allocatable": mt.allocatable,
                    "Reserved": mt.reserved,
                    "Free": mt.free,
                }
                for res, mt in ns.memory_map.items()
            },
            "Cells": list(ns.cells),
        }
        for node, ns in state.machine_state.items()
    }
    entries = {
        pod: {c: [_block_go(b) for b in blocks] for c, blocks in cs.items()} for pod, cs in state.assignments.items()
    }
    v: dict[str, Any] = {
        "PolicyName": state.policy_name,
        "MachineState": machine,
        "Entries": entries,
        "Checksum": 0,
    }
    if version >= 2:
        # An empty block list is omitted (omitempty) and so reads back as nil: hash it as nil.
        v["PodEntries"] = {
            pod: {"MemoryBlocks": [_block_go(b) for b in blocks] or None}
            for pod, blocks in state.pod_assignments.items()
        }
    return v


def dump_memory_checkpoint(state: MemoryManagerState, version: int) -> bytes:
    """The bytes kubelet writes to ``memory_manager_state`` (``storeStateV1`` / ``storeStateV2``).

    V1 leaves out ``state.pod_assignments``.
    """
    if version == 1:
        v = _mem_go_value(state, 1)
        v["Checksum"] = _checksum(_MEM_V1, v, "MemoryManagerCheckpoint")
        return _encode(_MEM_V1, v).encode("utf-8")
    if version == 2:
        v = _mem_go_value(state, 2)
        v["Checksum"] = _checksum(_MEM_V2, v)
        return _encode(_MEM_V2, v).encode("utf-8")
    raise ValueError(f"cannot write memory manager checkpoint version {version!r} (1 or 2)")


def load_memory_checkpoint(
    data: bytes,
    source: str = MEMORY_CHECKPOINT_NAME,
    *,
    pod_level_resource_managers: bool = True,
    policy_name: str | None = None,
    allow_unverified_legacy: bool = False,
) -> LoadedMemoryCheckpoint:
    """Read ``memory_manager_state`` as kubelet 1.36 ``restoreState`` does.

    Gate on: V2, falling back to V1 (a zero-checksum V2 file thus loads as V1,
    without its pod entries, as in the kubelet); gate off: V1 only.
    """
    attempts: list[tuple[str, str]] = []
    try:
        tree = _parse_json(data)
    except _SyntaxError as e:
        tried = ["v2", "v1"] if pod_level_resource_managers else ["v1"]
        raise _memory_restore_error(source, str(e), tuple((v, str(e)) for v in tried)) from None
    gate = pod_level_resource_managers
    if gate:
        v2 = _MEM_V2.zero()
        v2["Entries"], v2["PodEntries"], v2["MachineState"] = {}, {}, {}
        err = _unmarshal(tree, _MEM_V2, v2)
        if err is None:
            status, err = _verify(_MEM_V2, v2, ("MemoryManagerCheckpoint",), accept_zero=False)
            if status is not None:
                return _mem_result(source, v2, 2, status, attempts, policy_name)
        attempts.append(("v2", str(err)))
    v1 = _MEM_V1.zero()
    v1["Entries"], v1["MachineState"] = {}, {}
    err = _unmarshal(tree, _MEM_V1, v1)
    if err is None:
        names = ("MemoryManagerCheckpoint",) if gate else ("MemoryManagerCheckpointV1", "MemoryManagerCheckpoint")
        status, err = _verify(_MEM_V1, v1, names, accept_zero=True)
        if status is not None:
            return _mem_result(source, v1, 1, status, attempts, policy_name)
        if allow_unverified_legacy and not _has_key(tree, ("podEntries",)):
            attempts.append(("v1", str(err)))
            return _mem_result(source, v1, 1, "unverified-legacy", attempts, policy_name)
    attempts.append(("v1", str(err)))
    raise _memory_restore_error(source, str(err), tuple(attempts))


def _blocks_model(blocks: list[dict[str, Any]] | None) -> list[Block]:
    return [Block(list(b["NUMAAffinity"] or []), b["Type"], b["Size"]) for b in blocks or []]


def _mem_result(
    source: str,
    cp: dict[str, Any],
    version: int,
    status: ChecksumStatus,
    attempts: list[tuple[str, str]],
    policy_name: str | None,
) -> LoadedMemoryCheckpoint:
    policy = cp["PolicyName"]
    if policy_name is not None and policy_name != policy:
        raise _memory_restore_error(
            source,
            f"[memorymanager] configured policy {go_quote(policy_name)} differs from state checkpoint policy "
            f"{go_quote(policy)}",
            tuple(attempts),
        )
    machine: dict[int, NUMANodeState] = {}
    for node, ns in sorted((cp["MachineState"] or {}).items()):
        if ns is None:  # a JSON null: Go keeps a nil *NUMANodeState
            machine[node] = NUMANodeState()
            continue
        memory_map = {}
        for res, mt in (ns["MemoryMap"] or {}).items():
            if mt is None:
                memory_map[res] = MemoryTable()
            else:
                memory_map[res] = MemoryTable(
                    mt["TotalMemSize"], mt["SystemReserved"], mt["Allocatable"], mt["Reserved"], mt["Free"]
                )
        machine[node] = NUMANodeState(ns["NumberOfAssignments"], memory_map, list(ns["Cells"] or []))
    assignments = {
        pod: {c: _blocks_model(blocks) for c, blocks in (cs or {}).items()} for pod, cs in (cp["Entries"] or {}).items()
    }
    pods = {pod: _blocks_model(e["MemoryBlocks"]) for pod, e in (cp.get("PodEntries") or {}).items()}
    state = MemoryManagerState(policy, machine, assignments, pods)
    return LoadedMemoryCheckpoint(state, version, status, cp["Checksum"], tuple(attempts))
