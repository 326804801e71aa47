"""A port of Go's ``encoding/json`` (v1) for the checkpoint types: syntax errors, decoding, encoding.

The kubelet reads and writes its checkpoints with ``json.Unmarshal`` / ``json.Marshal``;
these functions reproduce their behaviour and error texts on the Go types
declared with :class:`GoType` (``kind`` drives decoding, ``name`` is
``reflect.Type.String()``).
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable
from typing import Any

from topolet.io.checkpoint.golang import INT64_MAX, INT64_MIN, GoParseError, go_quote, parse_cpuset_bits
from topolet.model.cpuset import format_bits

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

SURROGATE_RE = re.compile("[\ud800-\udfff]")
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
    if SURROGATE_RE.search(s):
        return SURROGATE_RE.sub("\ufffd", s)
    return s


class JSONSyntaxError(Exception):
    pass


def parse_json(data: bytes) -> Any:
    """Parse ``data`` as Go's ``json.Unmarshal`` would see it; ``JSONSyntaxError`` with Go's text."""
    text = data.decode("utf-8", errors="topolet-go-replace")
    try:
        return _JSON.decode(text)
    except (ValueError, RecursionError):
        pass
    err = _GoScanner().check(data)
    if err is None:  # valid for Go but not for Python (e.g. nesting deeper than the recursion limit)
        err = "JSON document too deeply nested"
    raise JSONSyntaxError(err)


# --------------------------------------------------------------------------- Go types


class GoType:
    """A Go type: ``kind`` drives decoding, ``name`` is ``reflect.Type.String()``."""

    __slots__ = ("by_exact", "by_fold", "elem", "fields", "key", "kind", "name")

    def __init__(
        self,
        kind: str,
        name: str,
        *,
        elem: GoType | None = None,
        key: GoType | None = None,
        fields: tuple[GoField, ...] = (),
    ) -> None:
        self.kind = kind
        self.name = name
        self.elem = elem
        self.key = key
        self.fields = fields
        self.by_exact = {f.json: f for f in fields}
        self.by_fold: dict[str, GoField] = {}
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

    def lookup(self, key: str) -> GoField | None:
        f = self.by_exact.get(key)
        if f is None:
            f = self.by_fold.get(_fold(key))
        return f


class GoField:
    __slots__ = ("embed", "go", "json", "omitempty", "type")

    def __init__(self, go: str, json_name: str, type_: GoType, *, omitempty: bool = False, embed: str = "") -> None:
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


STRING = GoType("string", "string")
RESOURCE = GoType("string", "v1.ResourceName")
INT = GoType("int", "int")
UINT64 = GoType("uint", "uint64")
CHECKSUM = GoType("uint", "checksum.Checksum")
INTS = GoType("slice", "[]int", elem=INT)

# cpumanager/state.podEntryJSON (PodEntry's JSON form)
_POD_ENTRY_JSON = GoType("struct", "state.podEntryJSON", fields=(GoField("CPUSet", "cpuSet", STRING, omitempty=True),))


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

    def value(self, t: GoType, jv: Any, cur: Any) -> Any:
        kind = t.kind
        if kind == "string":
            if isinstance(jv, str) and not isinstance(jv, _Num):
                return _go_str(jv)
            if jv is not None:
                self.save(_TypeError(_json_kind(jv), t.name))
            return cur
        if kind in ("int", "uint"):
            if isinstance(jv, _Num):
                rx, lo, hi = (_INT_RE, INT64_MIN, INT64_MAX) if kind == "int" else (_UINT_RE, 0, (1 << 64) - 1)
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
                # encoding/json names the map key in the error's field path (Go >= 1.24), as the
                # real kubelet 1.36.2 does (conformance/restart/gate-plrm.yaml)
                self.stack.append(k)
                try:
                    elem = self.value(t.elem, item, t.elem.zero())
                finally:
                    self.stack.pop()
                if t.key.kind == "int":
                    if not _INT_RE.fullmatch(k) or not INT64_MIN <= int(k) <= INT64_MAX:
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

    def struct_into(self, t: GoType, jv: _Obj, out: dict[str, Any]) -> None:
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
            return parse_cpuset_bits(entry["CPUSet"])
        except GoParseError as e:
            raise _Abort(f"failed to parse cpuset: {e}") from None


def unmarshal(tree: Any, t: GoType, target: dict[str, Any]) -> _GoErr | None:
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


def _is_empty(t: GoType, v: Any) -> bool:
    if t.kind in ("map", "slice", "ptr"):
        return not v
    if t.kind in ("string", "int", "uint"):
        return not v
    return False


def encode(t: GoType, v: Any) -> str:
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
            parts.append(_json_string(f.json) + ":" + encode(f.type, fv))
        return "{" + ",".join(parts) + "}"
    if kind == "map":
        if v is None:
            return "null"
        assert t.elem is not None
        items = sorted((str(k), val) for k, val in v.items())
        return "{" + ",".join(_json_string(k) + ":" + encode(t.elem, val) for k, val in items) + "}"
    if kind == "slice":
        if v is None:
            return "null"
        assert t.elem is not None
        return "[" + ",".join(encode(t.elem, x) for x in v) + "]"
    if kind == "ptr":
        if v is None:
            return "null"
        assert t.elem is not None
        return encode(t.elem, v)
    if kind == "cpuentry":  # PodEntry.MarshalJSON: podEntryJSON{CPUSet: cset.String()}
        s = format_bits(v)
        return "{" + ('"cpuSet":' + _json_string(s) if s else "") + "}"
    raise AssertionError(kind)


def has_key(tree: Any, names: tuple[str, ...]) -> bool:
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
