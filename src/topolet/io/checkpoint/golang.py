"""Go's ``strconv.Quote`` / ``strconv.Atoi`` and ``k8s.io/utils/cpuset.Parse``, with Go's error texts."""

from __future__ import annotations

import re
import unicodedata


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
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
_ATOI_RE = re.compile(r"[+-]?[0-9]+")


class GoParseError(Exception):
    pass


def _go_atoi(s: str) -> int:
    if not _ATOI_RE.fullmatch(s):
        raise GoParseError(f"strconv.Atoi: parsing {go_quote(s)}: invalid syntax")
    v = int(s)
    if not INT64_MIN <= v <= INT64_MAX:
        raise GoParseError(f"strconv.Atoi: parsing {go_quote(s)}: value out of range")
    return v


def parse_go_cpuset(s: str) -> int:
    """``cpuset.Parse`` exactly (no whitespace trimming, Go ``strconv.Atoi``), as a bit mask.

    Raises ``ValueError`` with Go's error text.
    """
    try:
        return parse_cpuset_bits(s)
    except GoParseError as e:
        raise ValueError(str(e)) from None


def parse_cpuset_bits(s: str) -> int:
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
            raise GoParseError(f"invalid range {go_quote(r)} ({start} > {end})")
        if end - start >= _MAX_CPU_RANGE:
            raise GoParseError(f"invalid range {go_quote(r)} (more than {_MAX_CPU_RANGE} CPUs)")
        bits |= ((1 << (end - start + 1)) - 1) << start
    return bits
