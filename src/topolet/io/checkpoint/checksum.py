"""``pkg/kubelet/checkpointmanager/checksum``: FNV-1a/32 over the go-spew ``%#v`` dump (``dump.ForHash``).

``checksum.New(obj)`` hashes ``dump.ForHash(obj)``: go-spew with ``SortKeys``,
``DisableMethods`` and ``SpewKeys``. The dump names the struct type, so a
checkpoint is hashed under the name of the type that wrote it.
"""

from __future__ import annotations

from typing import Any, Literal

from topolet.io.checkpoint.errors import CORRUPT
from topolet.io.checkpoint.gojson import SURROGATE_RE, GoType

ChecksumStatus = Literal["verified", "unverified-legacy", "zero"]


def fnv1a_32(data: bytes) -> int:
    """``hash/fnv.New32a`` over ``data``."""
    h = 0x811C9DC5
    for b in data:
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def _spew(t: GoType, v: Any, out: list[str], ignore_type: bool) -> None:
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


def struct_checksum(t: GoType, v: dict[str, Any], type_name: str | None = None) -> int:
    """``checksum.New(cp)`` with ``cp.Checksum`` zeroed; ``type_name`` replaces the struct's type name."""
    cp = dict(v)
    cp["Checksum"] = 0
    out = [f"(*state.{type_name or t.short})"]
    _spew(t, cp, out, True)
    return fnv1a_32(safe_utf8("".join(out)))


def safe_utf8(s: str) -> bytes:
    return s.encode("utf-8", errors="replace") if SURROGATE_RE.search(s) else s.encode("utf-8")


def v4_data_checksum(data: str) -> int:
    """V4 ``dataChecksum``: ``checksum.New(data)`` = FNV-1a/32 of ``"(string)" + data``."""
    return fnv1a_32(b"(string)" + safe_utf8(data))


def verify_checksum(
    t: GoType, v: dict[str, Any], names: tuple[str, ...], *, accept_zero: bool
) -> tuple[ChecksumStatus | None, str | None]:
    ck = v["Checksum"]
    if ck == 0 and accept_zero:
        return "zero", None
    for name in names:
        if struct_checksum(t, v, name) == ck:
            return "verified", None
    return None, CORRUPT
