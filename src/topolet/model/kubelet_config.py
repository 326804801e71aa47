"""The kubelet configuration (``KubeletConfiguration``, kubelet.config.k8s.io/v1beta1).

:func:`load_kubelet_config` reads a whole real kubelet ``config.yaml`` (as a
mapping), keeps the fields that the resource managers read, ignores the
others (they stay in :attr:`KubeletConfig.raw`) and applies the kubelet 1.36
defaults.

Two kinds of problems are told apart:

* input that cannot be a ``KubeletConfiguration`` at all (a field of the wrong
  YAML type: ``featureGates`` that is not a mapping of booleans, a
  ``numaNode`` that is not an integer, a quantity that does not parse in
  ``reservedMemory``): :class:`KubeletConfigError`, naming the field. The real
  kubelet fails to decode such a file.
* settings that decode but that the kubelet refuses when it starts (an unknown
  policy, a bad CPU list, an eviction threshold of zero, ...): they are kept
  as written here and reported by :mod:`topolet.engine.startup` as
  :class:`~topolet.engine.errors.StartupError` with the kubelet's own text.

YAML scalars. The Go fields read here are strings (``map[string]string``,
``string``); sigs.k8s.io/yaml turns an unquoted ``true``, ``1`` or ``0.5`` into
a JSON boolean or number, which a Go string field refuses to decode. topolet is
lenient instead: a boolean, integer or float where a string is expected is
taken as its text (``true`` -> ``"true"``, ``2`` -> ``"2"``, ``0.5`` ->
``"0.5"``). So an unquoted ``full-pcpus-only: true`` works here although the
real kubelet would refuse the file: quote such values in a config meant for a
real node (the conformance corpus does). Feature gates are Go booleans and
must be YAML booleans. Quantities in ``reservedMemory`` may be numbers (Go's
``resource.Quantity`` decodes JSON numbers too).

The module also holds the Go parsing primitives that the start-up checks need
to reproduce the kubelet's messages exactly: ``strconv.ParseBool``,
``strconv.Atoi``, ``strconv.ParseFloat(s, 32)``, ``strconv.Quote``,
``cpuset.Parse`` and ``resource.ParseQuantity``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from topolet.model.didyoumean import did_you_mean
from topolet.model.features import SPECS, FeatureGates
from topolet.model.kubelet_config_schema import DecodeError, decode
from topolet.model.quantity import BINARY_SI, DECIMAL_EXPONENT, DECIMAL_SI, Quantity
from topolet.model.scheduling import TAINT_EFFECTS, Taint

__all__ = [
    "DEFAULT_EVICTION_HARD",
    "GoParseError",
    "KubeletConfig",
    "KubeletConfigError",
    "MemoryReservation",
    "go_atoi",
    "go_parse_bool",
    "go_parse_cpuset",
    "go_parse_float32",
    "go_parse_quantity",
    "go_quote",
    "load_kubelet_config",
]

API_GROUP = "kubelet.config.k8s.io"
KIND = "KubeletConfiguration"

# pkg/kubelet/eviction/defaults_linux.go (1.36). Used when evictionHard is not
# set at all (or is null); when it is set, only the keys written apply unless
# mergeDefaultEvictionSettings is true (cmd/kubelet/app/server.go loadConfigFile).
DEFAULT_EVICTION_HARD: dict[str, str] = {
    "memory.available": "100Mi",
    "nodefs.available": "10%",
    "nodefs.inodesFree": "5%",
    "imagefs.available": "15%",
    "imagefs.inodesFree": "5%",
}


class KubeletConfigError(ValueError):
    """A configuration that is not a valid ``KubeletConfiguration`` document."""


@dataclass(slots=True)
class MemoryReservation:
    """One ``reservedMemory`` entry: memory reserved for the system on a NUMA node."""

    numa_node: int
    limits: dict[str, Quantity] = field(default_factory=dict)


@dataclass(slots=True)
class KubeletConfig:
    """The fields of a ``KubeletConfiguration`` that the resource managers read (defaulted).

    String-valued settings are kept exactly as written (the kubelet parses and
    validates them at start-up, see :func:`topolet.engine.startup.startup_checks`).
    """

    feature_gates: FeatureGates = field(default_factory=FeatureGates)
    cpu_manager_policy: str = "none"
    cpu_manager_policy_options: dict[str, str] = field(default_factory=dict)
    reserved_system_cpus: str = ""
    kube_reserved: dict[str, str] = field(default_factory=dict)
    system_reserved: dict[str, str] = field(default_factory=dict)
    eviction_hard: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_EVICTION_HARD))
    memory_manager_policy: str = "None"
    reserved_memory: list[MemoryReservation] = field(default_factory=list)
    topology_manager_policy: str = "none"
    topology_manager_scope: str = "container"
    topology_manager_policy_options: dict[str, str] = field(default_factory=dict)
    merge_default_eviction_settings: bool = False
    system_reserved_cgroup: str = ""
    kube_reserved_cgroup: str = ""
    # read by the node status (capacity pods, taints) and the sysctl admit handler
    max_pods: int = 110
    pods_per_core: int = 0
    register_with_taints: list[Taint] = field(default_factory=list)
    allowed_unsafe_sysctls: list[str] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)  # every field as the Go decoder typed it
    warnings: list[str] = field(default_factory=list)  # what the kubelet logs about the file (unknown fields, gates)


# -- loading ---------------------------------------------------------------------------


def _scalar_text(v: object) -> str | None:
    """A YAML scalar as the string a lenient reader takes it for (None: not a scalar)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return v
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    return None


class _Loader:
    def __init__(self, data: Mapping[str, Any], source: str) -> None:
        self.data = data
        self.source = source

    def fail(self, path: str, problem: str) -> KubeletConfigError:
        return KubeletConfigError(f"{self.source}: {path}: {problem}")

    def string(self, key: str, default: str) -> str:
        v = self.data.get(key)
        if v is None:
            return default
        s = _scalar_text(v)
        if s is None:
            raise self.fail(key, f"must be a string, not {_type_name(v)}")
        # SetDefaults_KubeletConfiguration: an empty value takes the default
        return s if s != "" else default

    def boolean(self, key: str, default: bool) -> bool:
        v = self.data.get(key)
        if v is None:
            return default
        if not isinstance(v, bool):
            raise self.fail(key, f"must be a boolean, not {_type_name(v)}")
        return v

    def string_map(self, key: str) -> dict[str, str] | None:
        v = self.data.get(key)
        if v is None:
            return None
        if not isinstance(v, Mapping):
            raise self.fail(key, f"must be a mapping of strings, not {_type_name(v)}")
        out: dict[str, str] = {}
        for k, val in v.items():
            name = _scalar_text(k)
            if name is None:
                raise self.fail(key, f"key {k!r} must be a string")
            if val is None:
                out[name] = ""
                continue
            s = _scalar_text(val)
            if s is None:
                raise self.fail(f"{key}.{name}", f"must be a string, not {_type_name(val)}")
            out[name] = s
        return out

    def feature_gates(self) -> FeatureGates:
        v = self.data.get("featureGates")
        if v is None:
            return FeatureGates()
        if not isinstance(v, Mapping):
            raise self.fail("featureGates", f"must be a mapping of feature names to booleans, not {_type_name(v)}")
        gates: dict[str, bool] = {}
        for k, val in v.items():
            if not isinstance(k, str):
                raise self.fail("featureGates", f"feature name {k!r} must be a string")
            if not isinstance(val, bool):
                raise self.fail(f"featureGates.{k}", f"must be true or false, not {val!r}")
            gates[k] = val
        return FeatureGates(gates)

    def reserved_memory(self) -> list[MemoryReservation]:
        v = self.data.get("reservedMemory")
        if v is None:
            return []
        if not isinstance(v, list):
            raise self.fail("reservedMemory", f"must be a list, not {_type_name(v)}")
        out: list[MemoryReservation] = []
        for i, entry in enumerate(v):
            where = f"reservedMemory[{i}]"
            if not isinstance(entry, Mapping):
                raise self.fail(where, f"must be a mapping with numaNode and limits, not {_type_name(entry)}")
            node = entry.get("numaNode", 0)
            if node is None:
                node = 0
            if isinstance(node, bool) or not isinstance(node, int):
                raise self.fail(f"{where}.numaNode", f"must be an integer, not {node!r}")
            if not -(2**31) <= node < 2**31:
                raise self.fail(f"{where}.numaNode", f"{node} does not fit an int32")
            limits_raw = entry.get("limits")
            limits: dict[str, Quantity] = {}
            if limits_raw is not None:
                if not isinstance(limits_raw, Mapping):
                    raise self.fail(f"{where}.limits", f"must be a mapping, not {_type_name(limits_raw)}")
                for name, q in limits_raw.items():
                    rname = _scalar_text(name)
                    if rname is None:
                        raise self.fail(f"{where}.limits", f"resource name {name!r} must be a string")
                    limits[rname] = self._quantity(q, f"{where}.limits.{rname}")
            out.append(MemoryReservation(node, limits))
        return out

    def int32(self, key: str, default: int) -> int:
        v = self.data.get(key)
        if v is None:
            return default
        if isinstance(v, bool) or not isinstance(v, int):
            raise self.fail(key, f"must be an integer, not {_type_name(v)}")
        if not -(2**31) <= v < 2**31:
            raise self.fail(key, f"{v} does not fit an int32")
        return v

    def string_list(self, key: str) -> list[str]:
        v = self.data.get(key)
        if v is None:
            return []
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise self.fail(key, "must be a list of strings")
        return list(v)

    def taints(self, key: str) -> list[Taint]:
        v = self.data.get(key)
        if v is None:
            return []
        if not isinstance(v, list):
            raise self.fail(key, f"must be a list of taints, not {_type_name(v)}")
        out: list[Taint] = []
        for i, t in enumerate(v):
            where = f"{key}[{i}]"
            if not isinstance(t, Mapping):
                raise self.fail(where, f"must be a mapping with key, value and effect, not {_type_name(t)}")
            for f in ("key", "value", "effect"):
                if t.get(f) is not None and not isinstance(t.get(f), str):
                    raise self.fail(f"{where}.{f}", f"must be a string, not {_type_name(t.get(f))}")
            if not t.get("key"):
                raise self.fail(f"{where}.key", "Required value")
            if t.get("effect") not in TAINT_EFFECTS:
                raise self.fail(
                    f"{where}.effect",
                    f"Unsupported value: {t.get('effect')!r}: supported values: {', '.join(TAINT_EFFECTS)}",
                )
            out.append(Taint(str(t["key"]), str(t.get("value") or ""), str(t["effect"])))
        return out

    def _quantity(self, v: object, where: str) -> Quantity:
        # resource.Quantity.UnmarshalJSON: null is zero, numbers and strings are
        # parsed (strings with surrounding blanks trimmed)
        if v is None:
            return Quantity(Fraction(0), DECIMAL_SI)
        if isinstance(v, bool):
            raise self.fail(where, f"must be a quantity, not {v!r}")
        if isinstance(v, int):
            text = str(v)
        elif isinstance(v, float):
            if not math.isfinite(v):
                raise self.fail(where, f"must be a finite quantity, not {v!r}")
            text = repr(v)
        elif isinstance(v, str):
            text = v.strip()
        else:
            raise self.fail(where, f"must be a quantity, not {_type_name(v)}")
        try:
            return go_parse_quantity(text)
        except GoParseError as e:
            raise self.fail(where, f"{text!r}: {e}") from e


def _type_name(v: object) -> str:
    if isinstance(v, Mapping):
        return "a mapping"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, bool):
        return "a boolean"
    return type(v).__name__


def load_kubelet_config(data: Mapping[str, Any], source: str = "<config>") -> KubeletConfig:
    """A ``KubeletConfiguration`` from its YAML/JSON mapping, with the 1.36 defaults applied.

    Raises :class:`KubeletConfigError` for input that the kubelet could not
    decode. Settings that decode but that the kubelet refuses at start-up are
    kept and reported later by :func:`topolet.engine.startup.startup_checks`.
    """
    if not isinstance(data, Mapping):
        raise KubeletConfigError(f"{source}: a KubeletConfiguration must be a mapping, not {_type_name(data)}")
    kind = data.get("kind")
    if kind is not None and kind != KIND:
        raise KubeletConfigError(f"{source}: kind: expected {KIND}, got {kind!r}")
    api_version = data.get("apiVersion")
    if api_version is not None and (not isinstance(api_version, str) or not api_version.startswith(API_GROUP + "/")):
        raise KubeletConfigError(f"{source}: apiVersion: expected {API_GROUP}/v1beta1, got {api_version!r}")
    try:
        decoded = decode(data)
    except DecodeError as e:
        raise KubeletConfigError(f"{source}: {e}") from None
    ld = _Loader(data, source)
    cfg = KubeletConfig(
        feature_gates=ld.feature_gates(),
        cpu_manager_policy=ld.string("cpuManagerPolicy", "none"),
        cpu_manager_policy_options=ld.string_map("cpuManagerPolicyOptions") or {},
        reserved_system_cpus=_raw_string(ld, "reservedSystemCPUs"),
        kube_reserved=ld.string_map("kubeReserved") or {},
        system_reserved=ld.string_map("systemReserved") or {},
        memory_manager_policy=ld.string("memoryManagerPolicy", "None"),
        reserved_memory=ld.reserved_memory(),
        topology_manager_policy=ld.string("topologyManagerPolicy", "none"),
        topology_manager_scope=ld.string("topologyManagerScope", "container"),
        topology_manager_policy_options=ld.string_map("topologyManagerPolicyOptions") or {},
        merge_default_eviction_settings=ld.boolean("mergeDefaultEvictionSettings", False),
        system_reserved_cgroup=_raw_string(ld, "systemReservedCgroup"),
        kube_reserved_cgroup=_raw_string(ld, "kubeReservedCgroup"),
        max_pods=ld.int32("maxPods", 0) or 110,  # SetDefaults_KubeletConfiguration: 0 means 110
        pods_per_core=ld.int32("podsPerCore", 0),
        register_with_taints=ld.taints("registerWithTaints"),
        allowed_unsafe_sysctls=ld.string_list("allowedUnsafeSysctls"),
        raw=dict(data),
        values=decoded.values,
    )
    cfg.warnings = config_warnings(source, decoded.unknown, cfg.feature_gates)
    # loadConfigFile: evictionHard unset -> the defaults; set -> as written, plus
    # the missing default keys when mergeDefaultEvictionSettings is true.
    hard = ld.string_map("evictionHard")
    if hard is None:
        cfg.eviction_hard = dict(DEFAULT_EVICTION_HARD)
    else:
        if cfg.merge_default_eviction_settings:
            for k, v in DEFAULT_EVICTION_HARD.items():
                hard.setdefault(k, v)
        cfg.eviction_hard = hard
    return cfg


def config_warnings(source: str, unknown: list[str], gates: FeatureGates) -> list[str]:
    """What the kubelet logs about a configuration it accepts: unknown fields and feature gates.

    Unknown fields: the strict decoder fails, the kubelet decodes leniently
    and logs it; each field named with a "did you mean" over the known names.
    Feature gates: unknown names (a "did you mean" over the registered gates),
    deprecated and GA gates set explicitly.
    """
    out: list[str] = []
    if unknown:
        fields = ", ".join(f"unknown field {u}" for u in unknown)
        noun = "these fields" if len(unknown) > 1 else "the field"
        out.append(
            f"{source}: strict decoding error: {fields}; the kubelet logs "
            f'"Using lenient decoding as strict decoding failed" and ignores {noun}'
        )
    _errors, gate_warnings = gates.validate()
    for w in gate_warnings:
        prefix = "unrecognized feature gate: "
        if w.startswith(prefix):
            name = w[len(prefix) :]
            w += did_you_mean(name, SPECS)
        out.append(f"{source}: featureGates: {w}")
    return out


def _raw_string(ld: _Loader, key: str) -> str:
    """A string field without a default (kept as written, empty when unset)."""
    return ld.string(key, "")


# -- Go parsing primitives ---------------------------------------------------------------


class GoParseError(ValueError):
    """A Go parse error; ``str()`` is the Go error text."""


def go_quote(s: str) -> str:
    """``strconv.Quote`` (the ``%q`` verb on a string)."""
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\a":
            out.append("\\a")
        elif ch == "\b":
            out.append("\\b")
        elif ch == "\f":
            out.append("\\f")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\v":
            out.append("\\v")
        elif ch.isprintable() or ch == " ":
            out.append(ch)
        elif o < 0x80:
            out.append(f"\\x{o:02x}")
        elif o <= 0xFFFF:
            out.append(f"\\u{o:04x}")
        else:
            out.append(f"\\U{o:08x}")
    out.append('"')
    return "".join(out)


_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})


def go_parse_bool(s: str) -> bool:
    """``strconv.ParseBool``."""
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise GoParseError(f"strconv.ParseBool: parsing {go_quote(s)}: invalid syntax")


_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1


def go_atoi(s: str) -> int:
    """``strconv.Atoi`` on a 64-bit platform (base 10, optional sign, no blanks or underscores)."""
    body = s[1:] if s[:1] in ("+", "-") else s
    if not body or not all("0" <= c <= "9" for c in body):
        raise GoParseError(f"strconv.Atoi: parsing {go_quote(s)}: invalid syntax")
    n = int(body)
    if s[:1] == "-":
        n = -n
    if not _INT64_MIN <= n <= _INT64_MAX:
        raise GoParseError(f"strconv.Atoi: parsing {go_quote(s)}: value out of range")
    return n


_F32_MAX_EXP = 127
_F32_MANT = 24


def f32_round(x: Fraction) -> float:
    """The float32 nearest to an exact value (ties to even); inf when it overflows."""
    if x == 0:
        return 0.0
    neg = x < 0
    a = -x if neg else x
    e = a.numerator.bit_length() - a.denominator.bit_length()
    # make 2**e <= a < 2**(e+1)
    if Fraction(2) ** e > a:
        e -= 1
    elif Fraction(2) ** (e + 1) <= a:
        e += 1
    quantum_exp = max(e, -126) - (_F32_MANT - 1)
    q = a / Fraction(2) ** quantum_exp
    m = math.floor(q)
    rem = q - m
    if rem > Fraction(1, 2) or (rem == Fraction(1, 2) and m % 2 == 1):
        m += 1
    value = Fraction(m) * Fraction(2) ** quantum_exp
    if value >= Fraction(2) ** (_F32_MAX_EXP + 1):
        return -math.inf if neg else math.inf
    f = float(value)
    return -f if neg else f


_DEC_FLOAT = re.compile(r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$")
_HEX_FLOAT = re.compile(r"^[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?[0-9]+$")


def go_parse_float32(s: str) -> float:
    """``strconv.ParseFloat(s, 32)``: the nearest float32, as a Python float."""
    low = s.lower()
    sign = -1.0 if low.startswith("-") else 1.0
    body = low[1:] if low[:1] in ("+", "-") else low
    if body in ("inf", "infinity"):
        return sign * math.inf
    if body == "nan" and low == body:
        return math.nan
    if _DEC_FLOAT.match(s):
        mant, _, exp = low.partition("e")
        value = Fraction(mant) * (Fraction(10) ** int(exp) if exp else 1)
    elif _HEX_FLOAT.match(s):
        value = Fraction(float.fromhex(s))
    else:
        raise GoParseError(f"strconv.ParseFloat: parsing {go_quote(s)}: invalid syntax")
    f = f32_round(value)
    if math.isinf(f):
        raise GoParseError(f"strconv.ParseFloat: parsing {go_quote(s)}: value out of range")
    return f


# cpuset.Parse materialises every CPU of a range; beyond this id we stop (no
# machine has that many CPUs) and only remember that the set reaches further.
_CPUSET_LIMIT = 1 << 20


@dataclass(frozen=True, slots=True)
class ParsedCPUSet:
    bits: int
    beyond: bool = False  # the set holds CPU ids at or above _CPUSET_LIMIT (or negative)

    def size(self) -> int:
        return self.bits.bit_count()


def go_parse_cpuset(s: str) -> ParsedCPUSet:
    """``cpuset.Parse`` (k8s.io/utils/cpuset) with its exact errors; no blanks allowed."""
    if s == "":
        return ParsedCPUSet(0)
    bits = 0
    beyond = False

    def add(lo: int, hi: int) -> None:
        nonlocal bits, beyond
        if lo < 0 or hi >= _CPUSET_LIMIT:
            beyond = True
        lo, hi = max(lo, 0), min(hi, _CPUSET_LIMIT - 1)
        if lo <= hi:
            bits |= ((1 << (hi - lo + 1)) - 1) << lo

    for r in s.split(","):
        bounds = r.split("-", 1)
        if len(bounds) == 1:
            e = go_atoi(bounds[0])
            add(e, e)
        else:
            start = go_atoi(bounds[0])
            end = go_atoi(bounds[1])
            if start > end:
                raise GoParseError(f"invalid range {go_quote(r)} ({start} > {end})")
            add(start, end)
    return ParsedCPUSet(bits, beyond)


# resource.ParseQuantity errors
ERR_FORMAT_WRONG = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
ERR_SUFFIX = "unable to parse quantity's suffix"
ERR_NUMERIC = "unable to parse numeric part of quantity"

_DEC_SUFFIX = {"": 0, "n": -9, "u": -6, "m": -3, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BIN_SUFFIX = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_SUFFIX_CHARS = frozenset("eEinumkKMGTP")
_NANO = Fraction(1, 10**9)


def go_parse_quantity(s: str) -> Quantity:
    """``resource.ParseQuantity`` with its exact acceptance and errors (no trimming)."""
    if s == "":
        raise GoParseError(ERR_FORMAT_WRONG)
    if s == "0":
        return Quantity(Fraction(0), DECIMAL_SI)
    end = len(s)
    pos = 0
    positive = True
    if s[0] in "+-":
        positive = s[0] == "+"
        pos = 1
    while pos < end and s[pos] == "0":
        pos += 1
    num_start = pos
    while pos < end and s[pos].isdigit() and s[pos].isascii():
        pos += 1
    num = s[num_start:pos] or "0"
    denom = ""
    if pos < end and s[pos] == ".":
        pos += 1
        d_start = pos
        while pos < end and s[pos].isdigit() and s[pos].isascii():
            pos += 1
        denom = s[d_start:pos]
    suffix_start = pos
    while pos < end and s[pos] in _SUFFIX_CHARS:
        pos += 1
    if pos < end and s[pos] in "+-":
        pos += 1
    while pos < end and s[pos].isdigit() and s[pos].isascii():
        pos += 1
    if pos != end:
        raise GoParseError(ERR_FORMAT_WRONG)
    suffix = s[suffix_start:]
    if suffix in _DEC_SUFFIX:
        base_value = Fraction(10) ** _DEC_SUFFIX[suffix]
        fmt = DECIMAL_SI
    elif suffix in _BIN_SUFFIX:
        base_value = Fraction(1 << _BIN_SUFFIX[suffix])
        fmt = BINARY_SI
    elif len(suffix) > 1 and suffix[0] in "eE":
        try:
            exp = go_atoi(suffix[1:])
        except GoParseError:
            raise GoParseError(ERR_SUFFIX) from None
        if abs(exp) > 10_000:
            raise GoParseError(ERR_NUMERIC)
        base_value = Fraction(10) ** exp
        fmt = DECIMAL_EXPONENT
    else:
        raise GoParseError(ERR_SUFFIX)
    mag = Fraction(int(num)) + (Fraction(int(denom), 10 ** len(denom)) if denom else 0)
    value = mag * base_value
    # values finer than 1n are rounded away from zero to 1n
    if (value / _NANO).denominator != 1:
        value = Fraction(math.ceil(value / _NANO)) * _NANO
    if not positive:
        value = -value
    return Quantity(value, fmt)


def go_int64_amount(s: str) -> tuple[int, int] | None:
    """The ``int64Amount{value, scale}`` that ``resource.ParseQuantity`` stores for ``s``.

    None when Go falls back to an ``inf.Dec`` (too many digits, a fractional
    binary quantity, a scale below nano or an int64 overflow). Only needed to
    print a Quantity the way Go's ``%v`` prints the struct.
    """
    q = go_parse_quantity(s)  # validates
    if s == "0":
        return (0, 0)
    body = s[1:] if s[:1] in "+-" else s
    negative = s[:1] == "-"
    m = re.match(r"^0*([0-9]*)(?:\.([0-9]*))?(.*)$", body)
    if m is None:  # pragma: no cover - go_parse_quantity accepted it
        return None
    num, denom, suffix = m.group(1) or "0", m.group(2) or "", m.group(3)
    if q.format == BINARY_SI:
        exp = _BIN_SUFFIX.get(suffix, 0)
        if denom:
            return None
        precision = 15 - len(num) - int(exp * 3 / 10) - 1
        mantissa = 1 << exp
        scale = 0
    else:
        exp = _DEC_SUFFIX[suffix] if suffix in _DEC_SUFFIX else int(suffix[1:])
        precision = 18 - (len(num) + len(denom))
        mantissa = 1
        scale = exp
    if precision < 0:
        return None
    scale -= len(denom)
    if scale < -9:
        return None
    value = int(num + denom) * mantissa
    if value > _INT64_MAX:
        return None
    return (-value if negative else value, scale)


def go_amount_add(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int] | None:
    """``int64Amount.Add``; None when it overflows (Go then switches to inf.Dec)."""
    av, as_ = a
    bv, bs = b
    if bv == 0:
        return a
    if av == 0:
        return b
    if as_ == bs:
        c, scale = av + bv, bs
    elif as_ > bs:
        c, scale = av * 10 ** (as_ - bs) + bv, bs
    else:
        c, scale = av + bv * 10 ** (bs - as_), as_
    if not _INT64_MIN <= c <= _INT64_MAX:
        return None
    return (c, scale)
