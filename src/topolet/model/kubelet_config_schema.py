"""Every ``KubeletConfiguration`` field (kubelet.config.k8s.io/v1beta1) with its Go type, decoded as the kubelet does.

The kubelet decodes its config file strictly first; on unknown (or duplicate)
fields it falls back to a lenient decoder and logs ``"Using lenient decoding
as strict decoding failed" err="strict decoding error: unknown field
\\"x\\""`` (pkg/kubelet/kubeletconfig/util/codec). A value of the wrong JSON
type fails both decoders: the kubelet refuses the file ("failed to decode:
json: cannot unmarshal string into Go struct field
KubeletConfiguration.maxPods of type int32").

:func:`decode` walks a configuration mapping against :data:`FIELDS` (every
field of the 1.36 v1beta1 types, written from staging/src/k8s.io/kubelet/
config/v1beta1/types.go and the component-base logging and tracing types) and
returns the unknown fields (with a "did you mean" over the known names at that
level) and the decoded values, or raises :class:`DecodeError` with the Go
decoder's message for the first value of a wrong type.

:func:`validation_errors` is the part of ``ValidateKubeletConfiguration``
(pkg/kubelet/apis/config/validation) that concerns the fields the resource
managers do not read: integer ranges, enums and durations, with the
kubelet's messages, in the kubelet's order and against the kubelet's defaults
(pkg/kubelet/apis/config/v1beta1/defaults.go). The resource managers' own
checks stay in :mod:`topolet.engine.startup`, which places these errors around
its own in the kubelet's order.

Strings: as documented in :mod:`topolet.model.kubelet_config`, topolet takes a
YAML scalar where a Go string is expected as its text (the kubelet would
refuse ``cpuManagerPolicy: 12``); every other type is decoded as Go does.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from topolet.model.didyoumean import did_you_mean

__all__ = [
    "FIELDS",
    "STRUCTS",
    "DecodeError",
    "Decoded",
    "decode",
    "go_duration_string",
    "go_parse_duration",
    "validation_errors",
]

ROOT = "KubeletConfiguration"

# Type notation: Go scalar names (bool, string, int32, int64, uint32, float64), Duration
# (metav1.Duration), TimeOrMetaDuration (logging's flushFrequency: a duration string or
# nanoseconds), Quantity (resource.Quantity / QuantityValue), Time (metav1.Time), a leading
# "*" for a pointer, "[]T", "map[string]T", or the name of a struct in STRUCTS.
FIELDS: dict[str, str] = {
    "apiVersion": "string",
    "kind": "string",
    "enableServer": "*bool",
    "staticPodPath": "string",
    "podLogsDir": "string",
    "syncFrequency": "Duration",
    "fileCheckFrequency": "Duration",
    "httpCheckFrequency": "Duration",
    "staticPodURL": "string",
    "staticPodURLHeader": "map[string][]string",
    "address": "string",
    "port": "int32",
    "readOnlyPort": "int32",
    "tlsCertFile": "string",
    "tlsPrivateKeyFile": "string",
    "tlsCipherSuites": "[]string",
    "tlsCurvePreferences": "[]int32",
    "tlsMinVersion": "string",
    "rotateCertificates": "bool",
    "serverTLSBootstrap": "bool",
    "authentication": "KubeletAuthentication",
    "authorization": "KubeletAuthorization",
    "registryPullQPS": "*int32",
    "registryBurst": "int32",
    "imagePullCredentialsVerificationPolicy": "string",
    "preloadedImagesVerificationAllowlist": "[]string",
    "eventRecordQPS": "*int32",
    "eventBurst": "int32",
    "enableDebuggingHandlers": "*bool",
    "enableContentionProfiling": "bool",
    "healthzPort": "*int32",
    "healthzBindAddress": "string",
    "oomScoreAdj": "*int32",
    "clusterDomain": "string",
    "clusterDNS": "[]string",
    "streamingConnectionIdleTimeout": "Duration",
    "nodeStatusUpdateFrequency": "Duration",
    "nodeStatusReportFrequency": "Duration",
    "nodeLeaseDurationSeconds": "int32",
    "imageMinimumGCAge": "Duration",
    "imageMaximumGCAge": "Duration",
    "imageGCHighThresholdPercent": "*int32",
    "imageGCLowThresholdPercent": "*int32",
    "volumeStatsAggPeriod": "Duration",
    "kubeletCgroups": "string",
    "systemCgroups": "string",
    "cgroupRoot": "string",
    "cgroupsPerQOS": "*bool",
    "cgroupDriver": "string",
    "cpuManagerPolicy": "string",
    "singleProcessOOMKill": "*bool",
    "cpuManagerPolicyOptions": "map[string]string",
    "cpuManagerReconcilePeriod": "Duration",
    "memoryManagerPolicy": "string",
    "topologyManagerPolicy": "string",
    "topologyManagerScope": "string",
    "topologyManagerPolicyOptions": "map[string]string",
    "qosReserved": "map[string]string",
    "runtimeRequestTimeout": "Duration",
    "hairpinMode": "string",
    "maxPods": "int32",
    "podCIDR": "string",
    "podPidsLimit": "*int64",
    "resolvConf": "*string",
    "runOnce": "bool",
    "cpuCFSQuota": "*bool",
    "cpuCFSQuotaPeriod": "*Duration",
    "nodeStatusMaxImages": "*int32",
    "maxOpenFiles": "int64",
    "contentType": "string",
    "kubeAPIQPS": "*int32",
    "kubeAPIBurst": "int32",
    "serializeImagePulls": "*bool",
    "maxParallelImagePulls": "*int32",
    "evictionHard": "map[string]string",
    "evictionSoft": "map[string]string",
    "evictionSoftGracePeriod": "map[string]string",
    "evictionPressureTransitionPeriod": "Duration",
    "evictionMaxPodGracePeriod": "int32",
    "evictionMinimumReclaim": "map[string]string",
    "mergeDefaultEvictionSettings": "*bool",
    "podsPerCore": "int32",
    "enableControllerAttachDetach": "*bool",
    "protectKernelDefaults": "bool",
    "makeIPTablesUtilChains": "*bool",
    "iptablesMasqueradeBit": "*int32",
    "iptablesDropBit": "*int32",
    "featureGates": "map[string]bool",
    "failSwapOn": "*bool",
    "memorySwap": "MemorySwapConfiguration",
    "containerLogMaxSize": "string",
    "containerLogMaxFiles": "*int32",
    "containerLogMaxWorkers": "*int32",
    "containerLogMonitorInterval": "*Duration",
    "configMapAndSecretChangeDetectionStrategy": "string",
    "systemReserved": "map[string]string",
    "kubeReserved": "map[string]string",
    "reservedSystemCPUs": "string",
    "showHiddenMetricsForVersion": "string",
    "systemReservedCgroup": "string",
    "kubeReservedCgroup": "string",
    "enforceNodeAllocatable": "[]string",
    "allowedUnsafeSysctls": "[]string",
    "volumePluginDir": "string",
    "providerID": "string",
    "kernelMemcgNotification": "bool",
    "logging": "LoggingConfiguration",
    "enableSystemLogHandler": "*bool",
    "enableSystemLogQuery": "*bool",
    "shutdownGracePeriod": "Duration",
    "shutdownGracePeriodCriticalPods": "Duration",
    "shutdownGracePeriodByPodPriority": "[]ShutdownGracePeriodByPodPriority",
    "crashLoopBackOff": "CrashLoopBackOffConfig",
    "reservedMemory": "[]MemoryReservation",
    "enableProfilingHandler": "*bool",
    "enableDebugFlagsHandler": "*bool",
    "seccompDefault": "*bool",
    "memoryThrottlingFactor": "*float64",
    "memoryReservationPolicy": "string",
    "registerWithTaints": "[]Taint",
    "registerNode": "*bool",
    "tracing": "*TracingConfiguration",
    "localStorageCapacityIsolation": "*bool",
    "containerRuntimeEndpoint": "string",
    "imageServiceEndpoint": "string",
    "failCgroupV1": "*bool",
    "userNamespaces": "*UserNamespaces",
}
"""The v1beta1 ``KubeletConfiguration`` fields (JSON names) and their Go types."""

STRUCTS: dict[str, dict[str, str]] = {
    "KubeletAuthentication": {
        "x509": "KubeletX509Authentication",
        "webhook": "KubeletWebhookAuthentication",
        "anonymous": "KubeletAnonymousAuthentication",
    },
    "KubeletX509Authentication": {"clientCAFile": "string"},
    "KubeletWebhookAuthentication": {"enabled": "*bool", "cacheTTL": "Duration"},
    "KubeletAnonymousAuthentication": {"enabled": "*bool"},
    "KubeletAuthorization": {"mode": "string", "webhook": "KubeletWebhookAuthorization"},
    "KubeletWebhookAuthorization": {"cacheAuthorizedTTL": "Duration", "cacheUnauthorizedTTL": "Duration"},
    "MemorySwapConfiguration": {"swapBehavior": "string"},
    "LoggingConfiguration": {
        "format": "string",
        "flushFrequency": "TimeOrMetaDuration",
        "verbosity": "uint32",
        "vmodule": "[]VModuleItem",
        "options": "FormatOptions",
    },
    "VModuleItem": {"filePattern": "string", "verbosity": "uint32"},
    "FormatOptions": {"text": "OutputRoutingOptions", "json": "OutputRoutingOptions"},
    "OutputRoutingOptions": {"splitStream": "bool", "infoBufferSize": "Quantity"},
    "ShutdownGracePeriodByPodPriority": {"priority": "int32", "shutdownGracePeriodSeconds": "int64"},
    "CrashLoopBackOffConfig": {"maxContainerRestartPeriod": "*Duration"},
    "MemoryReservation": {"numaNode": "int32", "limits": "map[string]Quantity"},
    "Taint": {"key": "string", "value": "string", "effect": "string", "timeAdded": "*Time"},
    "TracingConfiguration": {"endpoint": "*string", "samplingRatePerMillion": "*int32"},
    "UserNamespaces": {"idsPerPod": "*int64"},
}
"""The structs the configuration nests (JSON field names and Go types)."""

_GO_PACKAGE = {
    "LoggingConfiguration": "v1",
    "VModuleItem": "v1",
    "FormatOptions": "v1",
    "OutputRoutingOptions": "v1",
    "TracingConfiguration": "v1",
    "Taint": "v1",
}

_INT_RANGES = {
    "int32": (-(2**31), 2**31 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "uint32": (0, 2**32 - 1),
}


class DecodeError(ValueError):
    """A value the Go decoder refuses; ``path`` is the field (``maxPods``, ``reservedMemory[0].numaNode``)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message


@dataclass(slots=True)
class Decoded:
    """What the decoder made of a configuration mapping."""

    values: dict[str, Any] = field(default_factory=dict)  # top-level fields, Go-typed (durations in ns)
    unknown: list[str] = field(default_factory=list)  # unknown field paths, each with a "did you mean" hint


def _kind(v: object) -> str:
    """The JSON kind Go's UnmarshalTypeError names."""
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, str):
        return "string"
    if isinstance(v, int | float):
        return "number"
    if isinstance(v, list):
        return "array"
    if isinstance(v, Mapping):
        return "object"
    return "string"  # a YAML timestamp or binary becomes a JSON string


def _number_text(v: int | float) -> str:
    if isinstance(v, float):
        if math.isinf(v):
            return "+Inf" if v > 0 else "-Inf"
        if math.isnan(v):
            return "NaN"
        return repr(v)
    return str(v)


def _go_type(t: str) -> str:
    base = t.lstrip("*")
    if base.startswith("[]"):
        return "[]" + _go_type(base[2:])
    if base.startswith("map[string]"):
        return "map[string]" + _go_type(base[len("map[string]") :])
    if base == "Duration":
        return "v1.Duration"
    if base == "Quantity":
        return "resource.Quantity"
    if base == "Time":
        return "v1.Time"
    if base in STRUCTS:
        return f"{_GO_PACKAGE.get(base, 'v1beta1')}.{base}"
    if base == "TimeOrMetaDuration":
        return "v1.TimeOrMetaDuration"
    return base


def _scalar_text(v: object) -> str | None:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return v
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    return None


class _Decoder:
    def __init__(self) -> None:
        self.unknown: list[str] = []

    def type_error(self, path: str, go_path: str, what: str, t: str) -> DecodeError:
        return DecodeError(
            path, f"json: cannot unmarshal {what} into Go struct field {ROOT}.{go_path} of type {_go_type(t)}"
        )

    def value(self, v: Any, t: str, path: str, go_path: str) -> Any:
        pointer = t.startswith("*")
        base = t[1:] if pointer else t
        if v is None:
            if base == "Duration" and not pointer:
                # metav1.Duration.UnmarshalJSON("null"): time.ParseDuration("")
                raise DecodeError(path, 'time: invalid duration ""')
            return None
        if base.startswith("[]"):
            if not isinstance(v, list):
                raise self.type_error(path, go_path, _kind(v), t)
            return [self.value(item, base[2:], f"{path}[{i}]", go_path) for i, item in enumerate(v)]
        if base.startswith("map[string]"):
            if not isinstance(v, Mapping):
                raise self.type_error(path, go_path, _kind(v), t)
            elem = base[len("map[string]") :]
            out: dict[str, Any] = {}
            for k, item in v.items():
                key = _scalar_text(k)
                if key is None:
                    raise self.type_error(path, go_path, _kind(k), t)
                out[key] = self.value(item, elem, f"{path}.{key}" if path else key, go_path)
            return out
        if base in STRUCTS:
            if not isinstance(v, Mapping):
                raise self.type_error(path, go_path, _kind(v), t)
            return self.struct(v, STRUCTS[base], path, go_path)
        return self.scalar(v, base, path, go_path)

    def struct(self, v: Mapping[Any, Any], fields: Mapping[str, str], path: str, go_path: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, item in v.items():
            name = k if isinstance(k, str) else _scalar_text(k) or repr(k)
            sub = f"{path}.{name}" if path else name
            t = fields.get(name)
            if t is None:
                hint = did_you_mean(name, fields)
                if hint and path:
                    hint = hint.replace(' "', f' "{path}.', 1)
                self.unknown.append(f'"{sub}"{hint}')
                continue
            out[name] = self.value(item, t, sub, f"{go_path}.{name}" if go_path else name)
        return out

    def scalar(self, v: Any, base: str, path: str, go_path: str) -> Any:
        if base == "string":
            s = _scalar_text(v)
            if s is None:
                raise self.type_error(path, go_path, _kind(v), base)
            return s
        if base == "bool":
            if not isinstance(v, bool):
                raise self.type_error(path, go_path, _kind(v), base)
            return v
        if base in _INT_RANGES:
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise self.type_error(path, go_path, _kind(v), base)
            lo, hi = _INT_RANGES[base]
            if isinstance(v, float) or not lo <= v <= hi:
                raise self.type_error(path, go_path, f"number {_number_text(v)}", base)
            return v
        if base == "float64":
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise self.type_error(path, go_path, _kind(v), base)
            if isinstance(v, float) and not math.isfinite(v):
                raise DecodeError(path, f"json: unsupported value: {_number_text(v)}")
            return float(v)
        if base == "Duration":
            if not isinstance(v, str):
                raise DecodeError(path, f"json: cannot unmarshal {_kind(v)} into Go value of type string")
            return _duration(v, path)
        if base == "TimeOrMetaDuration":
            if isinstance(v, str):
                return _duration(v, path)
            if isinstance(v, bool) or not isinstance(v, int) or not -(2**63) <= v < 2**63:
                what = _number_text(v) if isinstance(v, int | float) and not isinstance(v, bool) else _kind(v)
                raise DecodeError(path, f'invalid duration "{what}": json: cannot unmarshal into time.Duration')
            return v
        if base == "Quantity":
            return _quantity(v, path)
        if base == "Time":
            if not isinstance(v, str) or not _RFC3339.match(v):
                raise DecodeError(path, f'parsing time "{v}" as "2006-01-02T15:04:05Z07:00": cannot parse')
            return v
        raise AssertionError(base)  # pragma: no cover - every type in the tables is handled


_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def _duration(s: str, path: str) -> int:
    try:
        return go_parse_duration(s)
    except ValueError as e:
        raise DecodeError(path, str(e)) from None


def _quantity(v: Any, path: str) -> Any:
    from topolet.model.kubelet_config import GoParseError, go_parse_quantity

    if isinstance(v, bool) or not isinstance(v, int | float | str):
        raise DecodeError(path, f"json: cannot unmarshal {_kind(v)} into Go value of type resource.Quantity")
    text = v.strip() if isinstance(v, str) else _number_text(v)
    try:
        return go_parse_quantity(text)
    except GoParseError as e:
        raise DecodeError(path, f"{text!r}: {e}") from None


def decode(data: Mapping[Any, Any]) -> Decoded:
    """Decode a configuration mapping as the kubelet's (lenient) decoder does.

    Unknown fields are collected (the strict decoder's complaint, which the
    kubelet only logs); a value of the wrong type raises :class:`DecodeError`.
    """
    d = _Decoder()
    values = d.struct(data, FIELDS, "", "")
    return Decoded(values, d.unknown)


# -- time.ParseDuration and Duration.String ---------------------------------------------------------

_UNITS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60 * 1_000_000_000,
    "h": 3600 * 1_000_000_000,
}
_MAX_NS = 2**63 - 1


def go_parse_duration(s: str) -> int:
    """``time.ParseDuration``: nanoseconds, or ValueError with Go's message."""
    orig = s
    quoted = '"' + orig.replace("\\", "\\\\").replace('"', '\\"') + '"'
    neg = False
    if s[:1] in ("-", "+"):
        neg = s[0] == "-"
        s = s[1:]
    if s == "0":
        return 0
    if s == "":
        raise ValueError(f"time: invalid duration {quoted}")
    total = 0
    while s:
        m = re.match(r"([0-9]*)(\.([0-9]*))?", s)
        assert m is not None
        whole, frac = m.group(1), m.group(3)
        if not whole and not frac:
            raise ValueError(f"time: invalid duration {quoted}")
        s = s[m.end() :]
        u = re.match(r"[^0-9.]*", s)
        assert u is not None
        unit = u.group(0)
        if unit == "":
            raise ValueError(f"time: missing unit in duration {quoted}")
        if unit not in _UNITS:
            raise ValueError(f'time: unknown unit "{unit}" in duration {quoted}')
        s = s[u.end() :]
        scale = _UNITS[unit]
        value = int(whole or "0") * scale
        if frac:
            value += int(frac) * scale // 10 ** len(frac)
        total += value
        if total > _MAX_NS + (1 if neg else 0):
            raise ValueError(f"time: invalid duration {quoted}")
    return -total if neg else total


def go_duration_string(ns: int) -> str:
    """``time.Duration.String``: ``1m0s``, ``1.5s``, ``100ms``, ``0s``."""
    if ns == 0:
        return "0s"
    neg = ns < 0
    u = -ns if neg else ns
    sign = "-" if neg else ""
    if u < 1_000_000_000:
        for unit, scale in (("ns", 1), ("µs", 1_000), ("ms", 1_000_000)):
            if u < scale * 1000:
                return sign + _frac(u, scale) + unit
    secs, rem = divmod(u, 1_000_000_000)
    out = _frac(secs % 60 * 1_000_000_000 + rem, 1_000_000_000) + "s"
    mins = secs // 60
    if mins:
        out = f"{mins % 60}m" + out
        hours = mins // 60
        if hours:
            out = f"{hours}h" + out
    return sign + out


def _frac(v: int, scale: int) -> str:
    whole, rem = divmod(v, scale)
    if not rem:
        return str(whole)
    digits = str(rem).rjust(len(str(scale)) - 1, "0").rstrip("0")
    return f"{whole}.{digits}"


# -- ValidateKubeletConfiguration (the fields the resource managers do not read) --------------------

_SECOND = 1_000_000_000
_PERCENT = "must be between 0 and 100, inclusive"


def _get(values: Mapping[str, Any], name: str, default: Any) -> Any:
    v = values.get(name)
    return default if v is None else v


def _defaulted(values: Mapping[str, Any]) -> dict[str, Any]:
    """The values validation reads, with SetDefaults_KubeletConfiguration's defaults."""
    g = values.get
    d: dict[str, Any] = {}
    d["nodeLeaseDurationSeconds"] = g("nodeLeaseDurationSeconds") or 40
    d["eventBurst"] = g("eventBurst") or 100
    d["eventRecordQPS"] = _get(values, "eventRecordQPS", 50)
    d["healthzPort"] = _get(values, "healthzPort", 10248)
    d["cpuCFSQuotaPeriod"] = _get(values, "cpuCFSQuotaPeriod", 100_000_000)
    d["imageGCHighThresholdPercent"] = _get(values, "imageGCHighThresholdPercent", 85)
    d["imageGCLowThresholdPercent"] = _get(values, "imageGCLowThresholdPercent", 80)
    d["imageMinimumGCAge"] = g("imageMinimumGCAge") or 2 * 60 * _SECOND
    d["imageMaximumGCAge"] = g("imageMaximumGCAge") or 0
    d["iptablesDropBit"] = _get(values, "iptablesDropBit", 15)
    d["iptablesMasqueradeBit"] = _get(values, "iptablesMasqueradeBit", 14)
    d["kubeAPIBurst"] = g("kubeAPIBurst") or 100
    d["kubeAPIQPS"] = _get(values, "kubeAPIQPS", 50)
    d["nodeStatusMaxImages"] = _get(values, "nodeStatusMaxImages", 50)
    d["maxOpenFiles"] = g("maxOpenFiles") or 1_000_000
    d["maxPods"] = g("maxPods") or 110
    d["oomScoreAdj"] = _get(values, "oomScoreAdj", -999)
    d["podsPerCore"] = g("podsPerCore") or 0
    d["port"] = g("port") or 10250
    d["readOnlyPort"] = g("readOnlyPort") or 0
    d["registryBurst"] = g("registryBurst") or 10
    d["registryPullQPS"] = _get(values, "registryPullQPS", 5)
    d["maxParallelImagePulls"] = values.get("maxParallelImagePulls")
    serialize = values.get("serializeImagePulls")
    if serialize is None:
        mp = d["maxParallelImagePulls"]
        serialize = mp is None or mp < 2
    d["serializeImagePulls"] = serialize
    d["runOnce"] = bool(g("runOnce"))
    d["shutdownGracePeriod"] = g("shutdownGracePeriod") or 0
    d["shutdownGracePeriodCriticalPods"] = g("shutdownGracePeriodCriticalPods") or 0
    d["hairpinMode"] = g("hairpinMode") or "promiscuous-bridge"
    d["memoryThrottlingFactor"] = _get(values, "memoryThrottlingFactor", 0.9)
    d["memoryReservationPolicy"] = g("memoryReservationPolicy") or "None"
    d["containerLogMaxWorkers"] = _get(values, "containerLogMaxWorkers", 1)
    d["containerLogMonitorInterval"] = _get(values, "containerLogMonitorInterval", 10 * _SECOND)
    d["containerLogMaxFiles"] = _get(values, "containerLogMaxFiles", 5)
    d["podLogsDir"] = g("podLogsDir") or "/var/log/pods"
    return d


def _ic(name: str, flag: str, v: Any, rule: str) -> str:
    flag_text = f" (--{flag})" if flag else ""
    return f"invalid configuration: {name}{flag_text} {v} {rule}"


def validation_errors(values: Mapping[str, Any]) -> tuple[list[str], list[str], list[str]]:
    """``ValidateKubeletConfiguration``'s checks of the other fields, in three groups of its order.

    The first group comes before the topology manager checks, the second
    between them and ``reservedSystemCPUs``, the third after ``reservedMemory``.
    """
    d = _defaulted(values)
    first: list[str] = []
    if d["nodeLeaseDurationSeconds"] <= 0:
        first.append("invalid configuration: nodeLeaseDurationSeconds must be greater than 0")
    if values.get("systemCgroups") and not values.get("cgroupRoot"):
        first.append(
            "invalid configuration: systemCgroups (--system-cgroups) was specified and cgroupRoot "
            "(--cgroup-root) was not specified"
        )
    for name, flag in (("eventBurst", "event-burst"), ("eventRecordQPS", "event-qps")):
        if d[name] < 0:
            first.append(_ic(name, flag, d[name], "must not be a negative number"))
    if d["healthzPort"] != 0 and not 1 <= d["healthzPort"] <= 65535:
        first.append(_ic("healthzPort", "healthz-port", d["healthzPort"], "must be between 1 and 65535, inclusive"))
    period = d["cpuCFSQuotaPeriod"]
    if not 1_000_000 <= period <= _SECOND:  # CustomCPUCFSQuotaPeriod is GA (on) in 1.36
        first.append(
            _ic(
                "cpuCFSQuotaPeriod",
                "cpu-cfs-quota-period",
                go_duration_string(period),
                "must be between 1ms and 1sec, inclusive",
            )
        )
    hi, lo = d["imageGCHighThresholdPercent"], d["imageGCLowThresholdPercent"]
    if not 0 <= hi <= 100:
        first.append(_ic("imageGCHighThresholdPercent", "image-gc-high-threshold", hi, _PERCENT))
    if not 0 <= lo <= 100:
        first.append(_ic("imageGCLowThresholdPercent", "image-gc-low-threshold", lo, _PERCENT))
    if lo >= hi:
        first.append(
            f"invalid configuration: imageGCLowThresholdPercent (--image-gc-low-threshold) {lo} must be less than "
            f"imageGCHighThresholdPercent (--image-gc-high-threshold) {hi}"
        )
    min_age, max_age = d["imageMinimumGCAge"], d["imageMaximumGCAge"]
    if min_age < 0:
        first.append(f"invalid configuration: imageMinimumGCAge {go_duration_string(min_age)} must not be negative")
    if max_age < 0:
        first.append(f"invalid configuration: imageMaximumGCAge {go_duration_string(max_age)} must not be negative")
    if max_age > 0 and max_age <= min_age:
        first.append(
            f"invalid configuration: imageMaximumGCAge {go_duration_string(max_age)} must be greater than "
            f"imageMinimumGCAge {go_duration_string(min_age)}"
        )
    for name, flag in (("iptablesDropBit", "iptables-drop-bit"), ("iptablesMasqueradeBit", "iptables-masquerade-bit")):
        if not 0 <= d[name] <= 31:
            first.append(_ic(name, flag, d[name], "must be between 0 and 31, inclusive"))
    for name, flag in (("kubeAPIBurst", "kube-api-burst"), ("kubeAPIQPS", "kube-api-qps")):
        if d[name] < 0:
            first.append(_ic(name, flag, d[name], "must not be a negative number"))
    if d["nodeStatusMaxImages"] < -1:
        images = d["nodeStatusMaxImages"]
        first.append(_ic("nodeStatusMaxImages", "node-status-max-images", images, "must be -1 or greater"))
    for name, flag in (("maxOpenFiles", "max-open-files"), ("maxPods", "max-pods")):
        if d[name] < 0:
            first.append(_ic(name, flag, d[name], "must not be a negative number"))
    if not -1000 <= d["oomScoreAdj"] <= 1000:
        first.append(_ic("oomScoreAdj", "oom-score-adj", d["oomScoreAdj"], "must be between -1000 and 1000, inclusive"))
    if d["podsPerCore"] < 0:
        first.append(_ic("podsPerCore", "pods-per-core", d["podsPerCore"], "must not be a negative number"))
    if not 1 <= d["port"] <= 65535:
        first.append(_ic("port", "port", d["port"], "must be between 1 and 65535, inclusive"))
    if d["readOnlyPort"] != 0 and not 1 <= d["readOnlyPort"] <= 65535:
        first.append(_ic("readOnlyPort", "read-only-port", d["readOnlyPort"], "must be between 0 and 65535, inclusive"))
    for name, flag in (("registryBurst", "registry-burst"), ("registryPullQPS", "registry-qps")):
        if d[name] < 0:
            first.append(_ic(name, flag, d[name], "must not be a negative number"))
    mp = d["maxParallelImagePulls"]
    if mp is not None and mp < 1:
        first.append(f"invalid configuration: maxParallelImagePulls {mp} must be a positive number")
    if d["serializeImagePulls"] and mp is not None and mp > 1:
        first.append(
            "invalid configuration: maxParallelImagePulls cannot be larger than 1 unless SerializeImagePulls "
            "(--serialize-image-pulls) is set to false"
        )
    if d["runOnce"]:
        first.append(
            "invalid configuration: runOnce (--runOnce) true, Runonce mode has been deprecated and should not be set"
        )
    for taint in values.get("registerWithTaints") or []:
        if isinstance(taint, Mapping) and taint.get("timeAdded") is not None:
            first.append("invalid configuration: taint.TimeAdded is not nil")

    second: list[str] = []
    grace, critical = d["shutdownGracePeriod"], d["shutdownGracePeriodCriticalPods"]
    if critical > grace:
        second.append(
            f"invalid configuration: shutdownGracePeriodCriticalPods {go_duration_string(critical)} must be <= "
            f"shutdownGracePeriod {go_duration_string(grace)}"
        )
    for name, v in (("shutdownGracePeriod", grace), ("shutdownGracePeriodCriticalPods", critical)):
        if v < 0 or 0 < v < _SECOND:
            text = go_duration_string(v)
            second.append(f"invalid configuration: {name} {text} must be either zero or otherwise >= 1 sec")
    if values.get("shutdownGracePeriodByPodPriority") and (grace > 0 or critical > 0):
        second.append(
            "invalid configuration: Cannot specify both shutdownGracePeriodByPodPriority and shutdownGracePeriod "
            "at the same time"
        )
    swap = (values.get("memorySwap") or {}).get("swapBehavior") or ""
    if swap not in ("", "NoSwap", "LimitedSwap"):
        second.append(
            f'invalid configuration: memorySwap.swapBehavior "{swap}" must be one of: "", "LimitedSwap" or "NoSwap"'
        )
    restart = (values.get("crashLoopBackOff") or {}).get("maxContainerRestartPeriod")
    if restart is not None and not 1000 <= restart // 1_000_000 <= 300_000:
        secs = restart / _SECOND
        second.append(
            f"invalid configuration: CrashLoopBackOff.MaxContainerRestartPeriod (got: {secs:g} seconds) must be set "
            "between 1s and 300s"
        )
    hairpin = d["hairpinMode"]
    if hairpin not in ("none", "hairpin-veth", "promiscuous-bridge"):
        second.append(
            f'invalid configuration: option "{hairpin}" specified for hairpinMode (--hairpin-mode). Valid options '
            'are "none", "hairpin-veth" or "promiscuous-bridge"'
        )

    third: list[str] = []
    factor = d["memoryThrottlingFactor"]
    if factor <= 0 or factor > 1.0:
        third.append(
            f"invalid configuration: memoryThrottlingFactor {factor:g} must be greater than 0 and less than or "
            "equal to 1.0"
        )
    policy = d["memoryReservationPolicy"]
    if policy not in ("None", "TieredReservation"):
        third.append(
            f'invalid configuration: option "{policy}" specified for memoryReservationPolicy. Valid options are '
            '"None" or "TieredReservation"'
        )
    if d["containerLogMaxWorkers"] < 1:
        third.append("invalid configuration: containerLogMaxWorkers must be greater than or equal to 1")
    if d["containerLogMonitorInterval"] < 3 * _SECOND:
        third.append(
            "invalid configuration: containerLogMonitorInterval must be a positive time duration greater than or "
            "equal to 3s"
        )
    if d["containerLogMaxFiles"] <= 1:
        third.append("invalid configuration: containerLogMaxFiles must be greater than 1")
    logs = d["podLogsDir"]
    if not logs.startswith("/"):
        third.append(f'invalid configuration: pod logs path "{logs}" must be absolute path')
    return first, second, third
