"""Kubernetes resource quantities (k8s.io/apimachinery/pkg/api/resource).

A quantity is held as an exact rational number plus the format it was written
in, so that arithmetic is exact and ``str()`` prints what the API server and
the kubelet print (``Quantity.String()``): ``1268Mi``, ``1500m``, ``100k``.

Grammar (from the apimachinery package)::

    <quantity>        ::= <signedNumber><suffix>
    <suffix>          ::= <binarySI> | <decimalExponent> | <decimalSI>
    <binarySI>        ::= Ki | Mi | Gi | Ti | Pi | Ei
    <decimalSI>       ::= n | u | m | "" | k | M | G | T | P | E
    <decimalExponent> ::= "e" <signedNumber> | "E" <signedNumber>

Values finer than 1n are rounded up to 1n, as ``ParseQuantity`` does.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

BINARY_SI = "BinarySI"
DECIMAL_SI = "DecimalSI"
DECIMAL_EXPONENT = "DecimalExponent"

_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_DECIMAL_SUFFIX_BY_EXP = {v: k for k, v in _DECIMAL.items()}
_BINARY_SUFFIX_BY_EXP = {0: "", **{v: k for k, v in _BINARY.items()}}

_NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
_RE = re.compile(rf"^({_NUMBER})((?:[eE][+-]?[0-9]+)|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|)$")
_NANO = Fraction(1, 10**9)


class QuantityError(ValueError):
    """A string that is not a Kubernetes quantity."""


@dataclass(frozen=True, slots=True)
class Quantity:
    """An exact Kubernetes quantity."""

    value: Fraction
    format: str = DECIMAL_SI

    # -- construction -------------------------------------------------
    @staticmethod
    def parse(text: object) -> Quantity:
        """Parse a quantity as the API server does (``resource.ParseQuantity``).

        Accepts the YAML scalars that a manifest may carry: strings, ints and
        floats (a float is read through its shortest repr, so ``0.1`` is
        exactly one tenth, not 0.1000000000000000055...).
        """
        if isinstance(text, Quantity):
            return text
        if isinstance(text, bool):
            raise QuantityError(f"quantities must match the regular expression: {text!r}")
        if isinstance(text, int):
            return Quantity(Fraction(text), DECIMAL_SI)
        if isinstance(text, str):
            q = _PARSED.get(text)
            if q is None:
                q = _parse_text(text.strip())
                if len(_PARSED) >= _PARSED_MAX:
                    _PARSED.clear()
                _PARSED[text] = q
            return q
        if isinstance(text, float):
            if not math.isfinite(text):
                raise QuantityError(f"quantities must be finite: {text!r}")
            return _parse_text(repr(text))
        got = {type(None): "null", list: "a list", dict: "a mapping"}.get(type(text), type(text).__name__)
        raise QuantityError(f"quantities must be strings or numbers, got {got}")

    @staticmethod
    def of(value: int | Fraction, fmt: str = DECIMAL_SI) -> Quantity:
        return Quantity(Fraction(value), fmt)

    # -- the kubelet's accessors --------------------------------------
    def milli_value(self) -> int:
        """``MilliValue()``: the value in thousandths, rounded up."""
        return math.ceil(self.value * 1000)

    def int_value(self) -> int:
        """``Value()``: the value rounded up to an integer."""
        return math.ceil(self.value)

    def as_int64(self) -> int | None:
        """``AsInt64()``: the value if it is an integer, else None."""
        if self.value.denominator == 1:
            return int(self.value)
        return None

    def is_zero(self) -> bool:
        return self.value == 0

    def add(self, other: Quantity) -> Quantity:
        """``q.Add(y)``: a zero receiver takes the other's format."""
        fmt = other.format if self.value == 0 else self.format
        return Quantity(self.value + other.value, fmt)

    def __str__(self) -> str:
        return format_quantity(self.value, self.format)

    def __repr__(self) -> str:
        return f"Quantity({self})"


def _decimal_canonical(value: Fraction) -> tuple[int, int]:
    """Mantissa and exponent (a multiple of 3) with an integer mantissa."""
    # round up to nano precision first
    if (value / _NANO).denominator != 1:
        value = Fraction(math.ceil(value / _NANO)) * _NANO
    if value == 0:
        return 0, 0
    exp = -9
    mant = int(value / _NANO)
    while mant % 1000 == 0 and exp < 18:
        mant //= 1000
        exp += 3
    return mant, exp


def format_quantity(value: Fraction, fmt: str = DECIMAL_SI) -> str:
    """``Quantity.String()`` for a value written in ``fmt``."""
    if fmt == BINARY_SI:
        if -1024 < value < 1024 or value.denominator != 1:
            fmt = DECIMAL_SI
        else:
            n = int(value)
            exp = 0
            while n % 1024 == 0 and n != 0 and exp < 60:
                n //= 1024
                exp += 10
            return f"{n}{_BINARY_SUFFIX_BY_EXP[exp]}"
    mant, exp = _decimal_canonical(value)
    if fmt == DECIMAL_EXPONENT:
        return f"{mant}e{exp}" if exp else f"{mant}"
    if exp > 18:  # pragma: no cover - guarded by the loop bound
        return f"{mant}e{exp}"
    return f"{mant}{_DECIMAL_SUFFIX_BY_EXP[exp]}"


def parse_quantity(text: object) -> Quantity:
    return Quantity.parse(text)


def parse_bytes(text: object) -> int:
    """A byte size (memory, hugepages): an integer number of bytes, rounded up."""
    return Quantity.parse(text).int_value()


def format_bytes(n: int) -> str:
    """Bytes as the shortest exact binary quantity (``16Gi``, ``1124Mi``, ``123``)."""
    return format_quantity(Fraction(n), BINARY_SI)


# Parsed strings (quantities are immutable): a fleet's or a cluster's pods repeat a few values ("2", "2Gi").
_PARSED: dict[str, Quantity] = {}
_PARSED_MAX = 4096


def _parse_text(s: str) -> Quantity:
    if not s:
        raise QuantityError("quantity is empty")
    m = _RE.match(s)
    if not m:
        raise QuantityError(
            f"quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': {s!r}"
        )
    number, suffix = m.group(1), m.group(2)
    base = Fraction(number) if number not in ("+.", "-.", ".") else None
    if base is None:
        raise QuantityError(f"invalid quantity: {s!r}")
    if suffix in _BINARY:
        value = base * (1 << _BINARY[suffix])
        fmt = BINARY_SI
    elif suffix[:1] in ("e", "E") and len(suffix) > 1:
        exp = int(suffix[1:])
        if abs(exp) > 1000:
            raise QuantityError(f"quantity exponent out of range: {s!r}")
        value = base * Fraction(10) ** exp
        fmt = DECIMAL_EXPONENT
    else:
        value = base * Fraction(10) ** _DECIMAL[suffix]
        fmt = DECIMAL_SI
    # round up to nano precision, as ParseQuantity does
    if (value / _NANO).denominator != 1:
        value = Fraction(math.ceil(value / _NANO)) * _NANO
    return Quantity(value, fmt)
