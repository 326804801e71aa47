"""API-server validation of a Pod, restricted to what concerns its resources.

Ports of pkg/apis/core/validation/validation.go (Kubernetes 1.36):
``ValidatePodCreate`` -> ``ValidateObjectMeta`` (name, namespace, labels),
``validateContainers`` / ``validateInitContainers`` /
``validateContainerCommon`` (names, image, restartPolicy,
``ValidateContainerResourceRequirements``), ``validatePodResources`` /
``validatePodResourceConsistency`` (pod-level resources, only with the
``PodLevelResources`` gate on) and ``validateContainersOnlyForPod``.

Errors are rendered as ``field.Error.Error()`` does (``<path>: <type>:
<value>: <detail>``) and joined as ``ErrorList.ToAggregate().Error()``
does. Go walks resource maps in random order; here they are walked in the
order the manifest wrote them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from topolet.model.defaulting import (
    aggregate_container_limits,
    aggregate_container_requests,
    is_hugepage_resource_name,
    is_native_resource,
    is_overcommit_allowed,
    is_supported_pod_level_resource,
)
from topolet.model.features import POD_LEVEL_RESOURCES, FeatureGates
from topolet.model.pod import CPU, MEMORY, Container, Pod, Resources
from topolet.model.quantity import Quantity, QuantityError

CONTAINER_RESTART_RULES = "ContainerRestartRules"
"""Beta and on by default since 1.35 (not in features.DEFAULTS, so read with that default)."""

# -- field.Error rendering ----------------------------------------------------
REQUIRED = "Required value"
INVALID = "Invalid value"
NOT_SUPPORTED = "Unsupported value"
DUPLICATE = "Duplicate value"
FORBIDDEN = "Forbidden"

_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def go_quote(s: str) -> str:
    """``strconv.Quote`` / ``%q``: printable runes kept, others escaped."""
    out = ['"']
    for ch in s:
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif ch.isprintable() or ch == " ":
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


_JSON_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def json_quote(s: str) -> str:
    """``json.Marshal`` of a string (HTML-safe escaping, as Go's encoder does)."""
    out = ['"']
    for ch in s:
        if ch in _JSON_ESCAPES:
            out.append(_JSON_ESCAPES[ch])
        elif ord(ch) < 0x20 or ch in "<>&\u2028\u2029":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


@dataclass(frozen=True, slots=True)
class FieldError:
    """One ``*field.Error``; ``value`` is already rendered (None: not shown)."""

    type: str
    field: str
    value: str | None = None
    detail: str = ""

    def __str__(self) -> str:
        body = self.type if self.value is None else f"{self.type}: {self.value}"
        if self.detail:
            body += f": {self.detail}"
        return f"{self.field}: {body}"


def _required(path: str, detail: str = "") -> FieldError:
    return FieldError(REQUIRED, path, None, detail)


def _forbidden(path: str, detail: str) -> FieldError:
    return FieldError(FORBIDDEN, path, None, detail)


def _invalid(path: str, value: str, detail: str) -> FieldError:
    """``field.Invalid`` with a Go ``string`` value (``%q``)."""
    return FieldError(INVALID, path, go_quote(value), detail)


def _invalid_named(path: str, value: str, detail: str) -> FieldError:
    """``field.Invalid`` with a named string type or a Quantity (JSON-marshalled)."""
    return FieldError(INVALID, path, json_quote(value), detail)


def _not_supported(path: str, value: str, valid: list[str]) -> FieldError:
    detail = "supported values: " + ", ".join(go_quote(v) for v in valid) if valid else ""
    return FieldError(NOT_SUPPORTED, path, json_quote(value), detail)


def _duplicate(path: str, value: str) -> FieldError:
    return FieldError(DUPLICATE, path, go_quote(value), "")


def aggregate_message(errors: list[str]) -> str:
    """``ErrorList.ToAggregate().Error()``: deduplicated, bracketed when several."""
    seen: list[str] = []
    for e in errors:
        if e not in seen:
            seen.append(e)
    if len(seen) == 1:
        return seen[0]
    return "[" + ", ".join(seen) + "]"


def invalid_pod_message(pod_name: str, errors: list[str]) -> str:
    """The API server's ``StatusError`` message: ``Pod "name" is invalid: ...``."""
    return f'Pod "{pod_name}" is invalid: {aggregate_message(errors)}'


# -- k8s.io/apimachinery/pkg/util/validation ----------------------------------
_QNAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_QNAME_RE = re.compile(f"^{_QNAME_FMT}$")
_QNAME_ERR = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
)
_LABEL_VALUE_FMT = f"({_QNAME_FMT})?"
_LABEL_VALUE_RE = re.compile(f"^{_LABEL_VALUE_FMT}$")
_LABEL_VALUE_ERR = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character"
)
_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL_RE = re.compile(f"^{_DNS1123_LABEL_FMT}$")
_DNS1123_LABEL_ERR = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character"
)
_DNS1123_SUBDOMAIN_FMT = _DNS1123_LABEL_FMT + "(\\." + _DNS1123_LABEL_FMT + ")*"
_DNS1123_SUBDOMAIN_RE = re.compile(f"^{_DNS1123_SUBDOMAIN_FMT}$")
_DNS1123_SUBDOMAIN_ERR = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character"
)


def _regex_error(msg: str, fmt: str, *examples: str) -> str:
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    ex = " or ".join(f"'{e}'" for e in examples)
    return f"{msg} (e.g. {ex}, regex used for validation is '{fmt}')"


def _max_len_error(n: int) -> str:
    return f"must be no more than {n} characters"


def _full(rx: re.Pattern[str], s: str) -> bool:
    return rx.fullmatch(s) is not None


def is_dns1123_label(value: str) -> list[str]:
    errs: list[str] = []
    if len(value) > 63:
        errs.append(_max_len_error(63))
    if not _full(_DNS1123_LABEL_RE, value):
        if _full(_DNS1123_SUBDOMAIN_RE, value):
            errs.append("must not contain dots")
        else:
            errs.append(_regex_error(_DNS1123_LABEL_ERR, _DNS1123_LABEL_FMT, "my-name", "123-abc"))
    return errs


def is_dns1123_subdomain(value: str) -> list[str]:
    errs: list[str] = []
    if len(value) > 253:
        errs.append(_max_len_error(253))
    if not _full(_DNS1123_SUBDOMAIN_RE, value):
        errs.append(_regex_error(_DNS1123_SUBDOMAIN_ERR, _DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errs


def is_qualified_name(value: str) -> list[str]:
    errs: list[str] = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs.extend("prefix part " + m for m in is_dns1123_subdomain(prefix))
    else:
        return [
            "a qualified name "
            + _regex_error(_QNAME_ERR, _QNAME_FMT, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > 63:
        errs.append("name part " + _max_len_error(63))
    if not _full(_QNAME_RE, name):
        errs.append("name part " + _regex_error(_QNAME_ERR, _QNAME_FMT, "MyName", "my.name", "123-abc"))
    return errs


def is_valid_label_value(value: str) -> list[str]:
    errs: list[str] = []
    if len(value) > 63:
        errs.append(_max_len_error(63))
    if not _full(_LABEL_VALUE_RE, value):
        errs.append(_regex_error(_LABEL_VALUE_ERR, _LABEL_VALUE_FMT, "MyValue", "my_value", "12345"))
    return errs


# -- resource names (pkg/apis/core/helper) ------------------------------------
_STANDARD_RESOURCES = frozenset(
    {
        "cpu",
        "memory",
        "ephemeral-storage",
        "requests.cpu",
        "requests.memory",
        "requests.ephemeral-storage",
        "limits.cpu",
        "limits.memory",
        "limits.ephemeral-storage",
        "pods",
        "resourcequotas",
        "services",
        "replicationcontrollers",
        "secrets",
        "configmaps",
        "persistentvolumeclaims",
        "storage",
        "requests.storage",
        "services.nodeports",
        "services.loadbalancers",
    }
)
_INTEGER_RESOURCES = frozenset(
    {
        "pods",
        "resourcequotas",
        "services",
        "replicationcontrollers",
        "secrets",
        "configmaps",
        "persistentvolumeclaims",
        "services.nodeports",
        "services.loadbalancers",
    }
)
_STANDARD_CONTAINER_RESOURCES = frozenset({"cpu", "memory", "ephemeral-storage"})
SUPPORTED_POD_LEVEL_RESOURCES = ["cpu", "hugepages-", "memory"]  # sets.List(SupportedPodLevelResources())


def _is_standard_resource_name(name: str) -> bool:
    return name in _STANDARD_RESOURCES or name.startswith("hugepages-") or name.startswith("requests.hugepages-")


def _is_extended_resource_name(name: str) -> bool:
    if is_native_resource(name) or name.startswith("requests."):
        return False
    return not is_qualified_name("requests." + name)


def _is_integer_resource_name(name: str) -> bool:
    return name in _INTEGER_RESOURCES or _is_extended_resource_name(name)


def _validate_resource_name(name: str, path: str) -> list[FieldError]:
    errs = [_invalid_named(path, name, m) for m in is_qualified_name(name)]
    if errs:
        return errs
    if "/" not in name and not _is_standard_resource_name(name):
        return [_invalid_named(path, name, "must be a standard resource type or fully qualified")]
    return []


def _validate_container_resource_name(name: str, path: str) -> list[FieldError]:
    errs = _validate_resource_name(name, path)
    if "/" not in name:
        if name not in _STANDARD_CONTAINER_RESOURCES and not is_hugepage_resource_name(name):
            errs.append(_invalid_named(path, name, "must be a standard resource for containers"))
    elif not is_native_resource(name) and not _is_extended_resource_name(name):
        errs.append(_invalid_named(path, name, "doesn't follow extended resource name standard"))
    return errs


def _validate_pod_resource_name(name: str, path: str) -> list[FieldError]:
    errs = _validate_resource_name(name, path)
    if errs:
        return errs
    if not is_supported_pod_level_resource(name):
        return [_not_supported(path, name, SUPPORTED_POD_LEVEL_RESOURCES)]
    return []


def _validate_quantity_value(name: str, q: Quantity, path: str) -> list[FieldError]:
    """``ValidateResourceQuantityValue``."""
    errs: list[FieldError] = []
    if q.value < 0:
        errs.append(_invalid(path, str(q), "must be greater than or equal to 0"))
    if _is_integer_resource_name(name) and q.milli_value() % 1000 != 0:
        errs.append(_invalid_named(path, str(q), "must be an integer"))
    return errs


def _hugepage_value_error(name: str, q: Quantity) -> str | None:
    """``validateResourceQuantityHugePageValue`` (indivisible values not allowed on create)."""
    try:
        page = Quantity.parse(name[len("hugepages-") :])
    except QuantityError:
        page = None
    divisible = (
        page is not None and page.value > 0 and page.milli_value() % 1000 == 0 and q.int_value() % page.int_value() == 0
    )
    if divisible:
        return None
    return f"{q} is not positive integer multiple of {name}"


def _validate_resource_requirements(res: Resources, path: str, pod_level: bool) -> list[FieldError]:
    """``validateResourceRequirements`` for a container or (``pod_level``) for spec.resources."""
    name_fn = _validate_pod_resource_name if pod_level else _validate_container_resource_name
    errs: list[FieldError] = []
    lim_path, req_path = f"{path}.limits", f"{path}.requests"
    lim_cpu_mem = req_cpu_mem = lim_huge = req_huge = False
    for name, q in res.limits.items():
        fp = f"{lim_path}[{name}]"
        errs += name_fn(name, fp)
        errs += _validate_quantity_value(name, q, fp)
        if is_hugepage_resource_name(name):
            lim_huge = True
            msg = _hugepage_value_error(name, q)
            if msg:
                errs.append(_invalid(fp, str(q), msg))
        if name in (CPU, MEMORY):
            lim_cpu_mem = True
    for name, q in res.requests.items():
        fp = f"{req_path}[{name}]"
        errs += name_fn(name, fp)
        errs += _validate_quantity_value(name, q, fp)
        lim = res.limits.get(name)
        if lim is not None:
            if q.value != lim.value and not is_overcommit_allowed(name):
                errs.append(_invalid(req_path, str(q), f"must be equal to {name} limit of {lim}"))
            elif q.value > lim.value:
                detail = f"must be less than or equal to {name} limit of {lim}"
                errs.append(_invalid(req_path, str(q), detail))
        elif not is_overcommit_allowed(name):
            errs.append(_required(lim_path, "Limit must be set for non overcommitable resources"))
        if is_hugepage_resource_name(name):
            req_huge = True
            msg = _hugepage_value_error(name, q)
            if msg:
                errs.append(_invalid(fp, str(q), msg))
        if name in (CPU, MEMORY):
            req_cpu_mem = True
    if not lim_cpu_mem and not req_cpu_mem and (req_huge or lim_huge):
        errs.append(_forbidden(path, "HugePages require cpu or memory"))
    return errs


# -- containers -----------------------------------------------------------------
def _validate_container_common(c: Container, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    if not c.name:
        errs.append(_required(f"{path}.name"))
    else:
        errs += [_invalid(f"{path}.name", c.name, m) for m in is_dns1123_label(c.name)]
    if not c.image:
        errs.append(_required(f"{path}.image"))
    errs += _validate_resource_requirements(c.resources, f"{path}.resources", pod_level=False)
    return errs


_CONTAINER_RESTART_POLICIES = ["Always", "Never", "OnFailure"]


def _validate_containers(pod: Pod, restart_rules: bool) -> list[FieldError]:
    if not pod.containers:
        return [_required("spec.containers")]
    errs: list[FieldError] = []
    names: set[str] = set()
    for i, c in enumerate(pod.containers):
        path = f"spec.containers[{i}]"
        errs += _validate_container_common(c, path)
        if c.name in names:
            errs.append(_duplicate(f"{path}.name", c.name))
        else:
            names.add(c.name)
        if c.restart_policy is not None:
            if restart_rules:
                if c.restart_policy not in _CONTAINER_RESTART_POLICIES:
                    errs.append(_not_supported(f"{path}.restartPolicy", c.restart_policy, _CONTAINER_RESTART_POLICIES))
            else:
                errs.append(_forbidden(f"{path}.restartPolicy", "may not be set for non-init containers"))
    return errs


def _validate_init_containers(pod: Pod, restart_rules: bool) -> list[FieldError]:
    errs: list[FieldError] = []
    names = {c.name for c in pod.containers}
    for i, c in enumerate(pod.init_containers):
        path = f"spec.initContainers[{i}]"
        errs += _validate_container_common(c, path)
        rp = c.restart_policy
        if rp is not None and rp != "Always":
            valid = _CONTAINER_RESTART_POLICIES if restart_rules else ["Always"]
            if rp not in valid:
                errs.append(_not_supported(f"{path}.restartPolicy", rp, valid))
        if c.name in names:
            errs.append(_duplicate(f"{path}.name", c.name))
        elif c.name:
            names.add(c.name)
    return errs


# -- pod-level resources ----------------------------------------------------------
def _validate_pod_resource_consistency(pod: Pod, res: Resources) -> list[FieldError]:
    """``validatePodResourceConsistency`` (paths exactly as upstream builds them)."""
    path = "spec.resources"
    errs: list[FieldError] = []
    for name, agg in aggregate_container_requests(pod).items():
        pod_req = res.requests.get(name)
        if pod_req is None:
            continue
        if agg.value > pod_req.value:
            errs.append(
                _invalid(
                    f"{path}.requests[{name}]",
                    str(pod_req),
                    f"must be greater than or equal to aggregate container requests of {agg}",
                )
            )
    for name, agg in aggregate_container_limits(pod).items():
        if not is_hugepage_resource_name(name):
            continue
        pod_lim = res.limits.get(name)
        if pod_lim is None:
            continue
        if agg.value > pod_lim.value:
            errs.append(
                _invalid(
                    f"{path}.limits[{name}]",
                    str(pod_lim),
                    f"must be greater than or equal to aggregate container limits of {agg}",
                )
            )
    for i, c in enumerate(pod.containers):
        for name, lim in c.resources.limits.items():
            pod_lim = res.limits.get(name)
            if pod_lim is None:
                continue
            if lim.value > pod_lim.value:
                errs.append(
                    _invalid(
                        f"{path}.containers[{i}][{name}].limits",
                        str(lim),
                        f"must be less than or equal to pod limits of {pod_lim}",
                    )
                )
    return errs


def _validate_pod_resources(pod: Pod) -> list[FieldError]:
    res = pod.resources
    if res is None:
        return []
    errs = _validate_resource_requirements(res, "spec.resources", pod_level=True)
    errs += _validate_pod_resource_consistency(pod, res)
    return errs


# -- metadata ---------------------------------------------------------------------
def _validate_metadata(pod: Pod) -> list[FieldError]:
    errs: list[FieldError] = []
    if not pod.name:
        errs.append(_required("metadata.name", "name or generateName is required"))
    else:
        errs += [_invalid("metadata.name", pod.name, m) for m in is_dns1123_subdomain(pod.name)]
    if not pod.namespace:
        errs.append(_required("metadata.namespace"))
    else:
        errs += [_invalid("metadata.namespace", pod.namespace, m) for m in is_dns1123_label(pod.namespace)]
    for k, v in pod.labels.items():
        errs += [_invalid("metadata.labels", k, m) for m in is_qualified_name(k)]
        errs += [_invalid("metadata.labels", v, m) for m in is_valid_label_value(v)]
    return errs


def validate_pod_errors(pod: Pod, gates: FeatureGates, *, require_image: bool = True) -> list[FieldError]:
    """The ``field.ErrorList`` of ``ValidatePodCreate`` for the checks ported here."""
    restart_rules = gates.explicit.get(CONTAINER_RESTART_RULES, True)
    errs = _validate_metadata(pod)
    errs += _validate_containers(pod, restart_rules)
    errs += _validate_init_containers(pod, restart_rules)
    if gates.enabled(POD_LEVEL_RESOURCES):
        errs += _validate_pod_resources(pod)
    for kind, cs in (("containers", pod.containers), ("initContainers", pod.init_containers)):
        for i, c in enumerate(cs):
            if c.image != c.image.strip():
                detail = "must not have leading or trailing whitespace"
                errs.append(_invalid(f"spec.{kind}[{i}].image", c.image, detail))
    if not require_image:
        errs = [e for e in errs if not (e.type == REQUIRED and e.field.endswith(".image"))]
    return errs


def validate_pod_resources(pod: Pod, gates: FeatureGates, *, require_image: bool = True) -> list[str]:
    """Validation messages for ``pod`` as the API server stores it (after defaulting).

    Each message is one ``field.Error`` (``spec.resources.requests[cpu]:
    Invalid value: "1": must be greater than or equal to aggregate container
    requests of 2``); duplicates are dropped as ``ToAggregate`` does. Returns
    ``[]`` when the API server would accept the pod.
    """
    out: list[str] = []
    for e in validate_pod_errors(pod, gates, require_image=require_image):
        s = str(e)
        if s not in out:
            out.append(s)
    return out
