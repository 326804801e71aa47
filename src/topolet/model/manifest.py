"""Kubernetes manifests to :class:`~topolet.model.pod.Pod` objects.

Three stages, kept apart so that a caller can report per pod:

1. :func:`load_documents` reads YAML (multi-document) or JSON (one object, an
   array, or a stream of objects) and expands ``kind: List`` / ``*List``
   objects into their items;
2. :func:`pods_from_object` turns one object -- a ``Pod`` or a workload that
   carries a pod template -- into the pods the controllers would create, as
   written (no defaulting);
3. :func:`admit_to_api` is the API server's part: defaulting
   (:mod:`topolet.model.defaulting`), the QoS class stamped in
   ``status.qosClass`` (:mod:`topolet.model.qos`) and validation
   (:mod:`topolet.model.validation`), all with the given feature gates.

:func:`load_pods` chains the three and raises on the first bad pod.

The object shape is checked at this edge (unknown fields are ignored):
well-formed objects are read directly (:mod:`topolet.model.manifest_shape`),
anything else is validated with the pydantic models of
:mod:`topolet.model.manifest_schema`, which give the same values or the
error; malformed input raises :class:`ManifestError` naming the source, the
document and the field path, never a raw yaml/json/pydantic exception.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, NoReturn

import yaml

from topolet.model.defaulting import apply_defaults
from topolet.model.features import POD_LEVEL_RESOURCES, FeatureGates
from topolet.model.manifest_shape import Irregular, read
from topolet.model.nesting import NestingError, check_depth
from topolet.model.pod import Container, Pod, Resources
from topolet.model.qos import compute_pod_qos
from topolet.model.quantity import QuantityError
from topolet.model.scheduling import HostPort, NodeSelectorRequirement, NodeSelectorTerm, Toleration
from topolet.model.validation import CONTAINER_RESTART_RULES, invalid_pod_message, validate_pod_resources

if TYPE_CHECKING:
    from pydantic import ValidationError

__all__ = [
    "WORKLOAD_KINDS",
    "ManifestError",
    "PodInvalidError",
    "admit_to_api",
    "field_validation",
    "load_documents",
    "load_pods",
    "pods_from_object",
    "validation_mode",
]


class ManifestError(ValueError):
    """A manifest that cannot be read or is not a supported Kubernetes object."""


class PodInvalidError(ManifestError):
    """A pod that the API server would refuse (``reason: Invalid``)."""

    def __init__(self, pod_name: str, message: str, *, source: str = "") -> None:
        self.pod_name = pod_name
        self.message = message
        self.source = source
        super().__init__(f"{source}: {message}" if source else message)


# -- kinds --------------------------------------------------------------------
WORKLOAD_KINDS: dict[str, str] = {
    "Pod": "v1",
    "ReplicationController": "v1",
    "Deployment": "apps/v1",
    "StatefulSet": "apps/v1",
    "DaemonSet": "apps/v1",
    "ReplicaSet": "apps/v1",
    "Job": "batch/v1",
    "CronJob": "batch/v1",
}
"""Supported kinds and the apiVersion each must carry."""

_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available
_MAX_PODS = 10_000
_ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"  # k8s.io/apimachinery/pkg/util/rand
_GENERATED_BASE_MAX = 58  # names.SimpleNameGenerator: 63 - 5 random chars
_UID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/topolet/pods")


def _is_list_kind(kind: object) -> bool:
    return isinstance(kind, str) and (kind == "List" or (kind.endswith("List") and len(kind) > 4))


# -- reading documents ----------------------------------------------------------
def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part == "[key]":
            out += " (key)"
        else:
            out += f".{part}" if out else str(part)
    return out


_TYPE_MESSAGES = {
    "model_type": "expected a mapping",
    "model_attributes_type": "expected a mapping",
    "dict_type": "expected a mapping",
    "list_type": "expected a list",
    "string_type": "expected a string",
    "int_type": "expected an integer",
    "bool_type": "expected a boolean",
}


def _pydantic_message(err: ValidationError) -> str:
    parts = []
    for e in err.errors(include_url=False):
        msg = _TYPE_MESSAGES.get(e["type"])
        if msg is None:
            ctx = e.get("ctx") or {}
            msg = str(ctx["error"]) if "error" in ctx else e["msg"]
        if e["type"] in _TYPE_MESSAGES:
            msg += f", got {_describe(e.get('input'))}"
        path = _loc(tuple(e["loc"]))
        parts.append(f"{path}: {msg}" if path else msg)
    return "; ".join(parts)


def _describe(v: object) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return f"boolean {str(v).lower()}"
    if isinstance(v, dict):
        return "a mapping"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, str):
        return f"string {json.dumps(v)}"
    if isinstance(v, int | float):
        return f"number {v}"
    return type(v).__name__


def _parse_json_stream(text: str, source: str) -> list[object]:
    dec = json.JSONDecoder()
    out: list[object] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in " \t\r\n":
            i += 1
        if i >= n:
            return out
        try:
            obj, i = dec.raw_decode(text, i)
        except json.JSONDecodeError as e:
            at = f"line {e.lineno}, column {e.colno}"
            raise ManifestError(f"{source}: {at}: invalid JSON: {e.msg}") from None
        except RecursionError:
            raise ManifestError(f"{source}: document {len(out) + 1}: {NestingError()}") from None
        try:
            check_depth(obj)
        except NestingError as e:
            raise ManifestError(f"{source}: document {len(out) + 1}: {e}") from None
        if isinstance(obj, list) and not out and text[i:].strip() == "":
            return list(obj)
        out.append(obj)


def _parse_yaml_stream(text: str, source: str) -> list[object]:
    out: list[object] = []
    try:
        for doc in yaml.load_all(text, Loader=_YAML_LOADER):
            check_depth(doc)
            out.append(doc)
    except NestingError as e:
        raise ManifestError(f"{source}: document {len(out) + 1}: {e}") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        problem = getattr(e, "problem", None) or str(e)
        context = getattr(e, "context", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        detail = f"{problem} ({context})" if context else problem
        raise ManifestError(f"{source}: document {len(out) + 1}: {where}invalid YAML: {detail}") from None
    return out


def _parse(text: str, source: str) -> list[object]:
    if text.lstrip().startswith(("{", "[")):
        try:
            return _parse_json_stream(text, source)
        except ManifestError as json_error:
            if isinstance(json_error.__context__, NestingError) or "nested too deeply" in str(json_error):
                raise
            try:  # a YAML flow mapping also starts with "{"
                return _parse_yaml_stream(text, source)
            except ManifestError:
                raise json_error from None
    return _parse_yaml_stream(text, source)


def _expand(obj: dict[str, Any], label: str, source: str, out: list[tuple[str, dict[str, Any]]]) -> None:
    kind = obj.get("kind")
    if not _is_list_kind(kind):
        out.append((label, obj))
        return
    assert isinstance(kind, str)
    items = obj.get("items")
    if items is None:
        return
    if not isinstance(items, list):
        raise ManifestError(f"{source}: {label} ({kind}): items: expected a list, got {_describe(items)}")
    item_kind = kind[: -len("List")] if kind != "List" else None
    for j, item in enumerate(items):
        sub = f"{label}, items[{j}]"
        if item is None:
            continue
        if not isinstance(item, dict):
            got = _describe(item)
            raise ManifestError(f"{source}: {sub}: expected a mapping (a Kubernetes object), got {got}")
        if item_kind and "kind" not in item:
            item = {**item, "kind": item_kind}
            if "apiVersion" not in item and "apiVersion" in obj:
                item["apiVersion"] = obj["apiVersion"]
        _expand(item, sub, source, out)


DocumentCheck = Callable[[str, dict[str, Any]], None]


def _load_labelled(text: str, source: str, check: DocumentCheck | None = None) -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    for i, doc in enumerate(_parse(text, source), 1):
        if doc is None:
            continue
        if not isinstance(doc, dict):
            raise ManifestError(
                f"{source}: document {i}: expected a mapping (a Kubernetes object), got {_describe(doc)}"
            )
        if check is not None:
            check(f"document {i}", doc)
        _expand(doc, f"document {i}", source, out)
    return out


def load_documents(text: str, source: str, check: DocumentCheck | None = None) -> list[dict[str, Any]]:
    """The objects in a YAML/JSON text, ``List`` objects expanded, empty documents skipped.

    ``check(label, document)`` is called on each document before its
    expansion (field validation); it may raise :class:`ManifestError`.
    """
    return [obj for _, obj in _load_labelled(text, source, check)]


VALIDATE_MODES = ("strict", "warn", "ignore")


def validation_mode(value: str) -> str:
    """kubectl's ``--validate`` value: strict (or true), warn, ignore (or false); ValueError otherwise."""
    v = value.strip().lower()
    if v == "true":
        return "strict"
    if v == "false":
        return "ignore"
    if v in VALIDATE_MODES:
        return v
    raise ValueError(f'invalid - validate option "{value}"; must be one of: strict (or true), warn, ignore (or false)')


def field_validation(source: str, mode: str, warn: Callable[[str], None]) -> DocumentCheck | None:
    """The API server's field validation of a document, as ``kubectl apply --validate=MODE`` asks for it.

    ``strict``: a document with unknown fields is refused (:class:`ManifestError`
    naming the file, the object and every unknown field path, with a "did you
    mean"); ``warn``: each unknown field is passed to ``warn`` and the object is
    used; ``ignore``: nothing is checked.
    """
    if mode == "ignore":
        return None
    from topolet.model.api_fields import unknown_fields

    def check(label: str, doc: dict[str, Any]) -> None:
        unknown = unknown_fields(doc)
        if not unknown:
            return
        kind = doc.get("kind")
        what = f"{label} ({_label(kind, doc)})" if isinstance(kind, str) and kind else label
        if mode == "strict":
            fields = ", ".join(f"unknown field {u}" for u in unknown)
            raise ManifestError(
                f"{source}: {what}: strict decoding error: {fields} "
                "(rejected as kubectl's default --validate=strict does; --validate=warn or ignore accepts it)"
            )
        for u in unknown:
            warn(f"{source}: {what}: unknown field {u}")

    return check


# -- the object shape ---------------------------------------------------------------
Shaped = Any
"""An object of the manifest's shape: a :class:`~topolet.model.manifest_shape.Obj` or a pydantic model of
:mod:`topolet.model.manifest_schema` (the same attributes)."""


def _empty(shape: str) -> Shaped:
    return read({}, shape)


def read_shape(obj: dict[str, Any], shape: str) -> Shaped:
    """``obj`` read as ``shape`` ("PodObject", "Workload"): directly when it is well-formed, else validated
    by the pydantic model, which gives the same value or :class:`ManifestError` naming the fields."""
    try:
        return read(obj, shape)
    except Irregular:
        pass
    from pydantic import ValidationError

    from topolet.model import manifest_schema

    model = getattr(manifest_schema, shape)
    try:
        return model.model_validate(obj)
    except (ValidationError, QuantityError) as e:  # PlainValidator wraps QuantityError already
        raise ManifestError(_pydantic_message(e) if isinstance(e, ValidationError) else str(e)) from None


# -- objects to pods ------------------------------------------------------------------
def _digest(seed: str) -> bytes:
    return hashlib.sha256(seed.encode()).digest()


def _random_string(seed: str, n: int) -> str:
    """A reproducible stand-in for ``rand.String(n)``."""
    return "".join(_ALPHANUMS[b % len(_ALPHANUMS)] for b in _digest(seed)[:n])


def _generate_name(base: str, seed: str, taken: set[str]) -> str:
    """``SimpleNameGenerator.GenerateName`` made deterministic (and collision-free here)."""
    base = base[:_GENERATED_BASE_MAX]
    attempt = 0
    while True:
        name = base + _random_string(f"{seed}#{attempt}", 5)
        if name not in taken:
            taken.add(name)
            return name
        attempt += 1


def _pod_uid(namespace: str, name: str) -> str:
    return str(uuid.uuid5(_UID_NAMESPACE, f"{namespace}/{name}"))


def _to_resources(r: Shaped | None) -> Resources:
    if r is None:
        return Resources()
    return Resources(dict(r.requests or {}), dict(r.limits or {}))


# the API server's Priority admission resolves the built-in classes (scheduling/types.go)
_SYSTEM_PRIORITY = {"system-node-critical": 2_000_001_000, "system-cluster-critical": 2_000_000_000}


def _apparmor(p: Shaped | None) -> str | None:
    if p is None:
        return None
    if p.type == "Localhost":
        return f"Localhost:{p.localhostProfile or ''}"
    return p.type or ""


def _to_container(c: Shaped, host_network: bool = False) -> Container:
    # SetDefaults_Pod: with hostNetwork, a port's hostPort defaults to its containerPort
    ports = [
        (p.hostPort or (p.containerPort if host_network else 0) or 0, p.protocol or "TCP", p.hostIP or "")
        for p in c.ports or []
    ]
    return Container(
        name=c.name or "",
        resources=_to_resources(c.resources),
        restart_policy=c.restartPolicy,
        image=c.image or "",
        host_ports=tuple(HostPort(port, proto, ip) for port, proto, ip in ports if port > 0),
        apparmor=_apparmor(c.securityContext.appArmorProfile) if c.securityContext else None,
    )


def _requirements(reqs: list[Shaped] | None) -> tuple[NodeSelectorRequirement, ...]:
    return tuple(NodeSelectorRequirement(r.key or "", r.operator or "", tuple(r.values or ())) for r in reqs or [])


def _required_affinity(a: Shaped | None) -> tuple[NodeSelectorTerm, ...] | None:
    if a is None or a.nodeAffinity is None or a.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution is None:
        return None
    terms = a.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms or []
    return tuple(NodeSelectorTerm(_requirements(t.matchExpressions), _requirements(t.matchFields)) for t in terms)


def _to_pod(spec: Shaped | None, *, name: str, namespace: str, uid: str, labels: dict[str, str], owner: str) -> Pod:
    spec = spec or _empty("PodSpec")
    sc = spec.securityContext or _empty("PodSecurityContext")
    return Pod(
        name=name,
        namespace=namespace,
        uid=uid or _pod_uid(namespace, name),
        containers=[_to_container(c, bool(spec.hostNetwork)) for c in spec.containers or []],
        init_containers=[_to_container(c, bool(spec.hostNetwork)) for c in spec.initContainers or []],
        resources=_to_resources(spec.resources) if spec.resources is not None else None,
        labels=labels,
        owner=owner,
        node_name=spec.nodeName or "",
        node_selector=dict(spec.nodeSelector or {}),
        node_affinity=_required_affinity(spec.affinity),
        tolerations=tuple(
            Toleration(t.key or "", t.operator or "", t.value or "", t.effect or "") for t in spec.tolerations or []
        ),
        os_name=(spec.os.name or "") if spec.os is not None else "",
        sysctls=tuple((x.name or "", x.value or "") for x in sc.sysctls or []),
        host_network=bool(spec.hostNetwork),
        host_ipc=bool(spec.hostIPC),
        supplemental_groups_policy=sc.supplementalGroupsPolicy or "",
        apparmor=_apparmor(sc.appArmorProfile),
        priority=spec.priority if spec.priority is not None else _SYSTEM_PRIORITY.get(spec.priorityClassName or ""),
    )


def _label(kind: str, obj: dict[str, Any]) -> str:
    meta = obj.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    return f'{kind} "{name}"' if isinstance(name, str) and name else kind


def _replicas(value: int | None, field: str, fail: Callable[[str], NoReturn]) -> int:
    n = 1 if value is None else value
    if n < 0:
        fail(f"{field}: Invalid value: {n}: must be greater than or equal to 0")
    if n > _MAX_PODS:
        fail(f"{field}: {n} pods is more than topolet expands ({_MAX_PODS})")
    return n


def _pods_of(obj: dict[str, Any], source: str, where: str) -> list[Pod]:
    kind_v = obj.get("kind")
    api_v = obj.get("apiVersion")
    if not isinstance(kind_v, str) or not kind_v:
        at = f"{where}: " if where else ""
        raise ManifestError(f"{source}: {at}Object 'Kind' is missing")
    kind = kind_v
    label = f"{where} ({_label(kind, obj)})" if where else _label(kind, obj)

    def fail(msg: str) -> NoReturn:
        raise ManifestError(f"{source}: {label}: {msg}")

    if _is_list_kind(kind):
        expanded: list[tuple[str, dict[str, Any]]] = []
        _expand(obj, where or kind, source, expanded)
        return [p for sub, item in expanded for p in _pods_of(item, source, sub)]
    want_api = WORKLOAD_KINDS.get(kind)
    if want_api is None:
        fail(f"unsupported kind {kind!r} (supported: {', '.join(WORKLOAD_KINDS)}, List)")
    if api_v is not None and api_v != want_api:
        fail(f'no matches for kind "{kind}" in version "{api_v}" (want apiVersion: {want_api})')

    shape = "PodObject" if kind == "Pod" else "Workload"
    try:
        read_obj = read_shape(obj, shape)
    except ManifestError as e:
        raise ManifestError(f"{source}: {label}: {e}") from None
    pod_obj, wl = (read_obj, None) if kind == "Pod" else (None, read_obj)

    if pod_obj is not None:
        meta = pod_obj.metadata or _empty("Meta")
        namespace = meta.namespace or "default"
        name = meta.name or ""
        if not name and meta.generateName:
            name = _generate_name(meta.generateName, f"{namespace}/{meta.generateName}", set())
        owner = ""
        for ref in meta.ownerReferences or []:
            if ref.controller:
                owner = f"{ref.kind or ''}/{ref.name or ''}"
                break
        return [
            _to_pod(
                pod_obj.spec,
                name=name,
                namespace=namespace,
                uid=meta.uid or "",
                labels=dict(meta.labels or {}),
                owner=owner,
            )
        ]

    assert wl is not None
    meta = wl.metadata or _empty("Meta")
    wname = meta.name or ""
    if not wname:
        fail("metadata.name: Required value: name or generateName is required")
    namespace = meta.namespace or "default"
    spec = wl.spec or _empty("WorkloadSpec")
    template: Shaped | None
    if kind == "CronJob":
        job_spec = spec.jobTemplate.spec if spec.jobTemplate is not None else None
        template = job_spec.template if job_spec is not None else None
        tpath = "spec.jobTemplate.spec.template"
    else:
        job_spec = spec
        template = spec.template
        tpath = "spec.template"
    if template is None:
        fail(f"{tpath}: Required value")
    labels = dict((template.metadata.labels if template.metadata else None) or {})
    seed = f"{namespace}/{kind}/{wname}"
    if kind in ("Job", "CronJob"):
        assert job_spec is not None
        prefix = "spec.jobTemplate.spec" if kind == "CronJob" else "spec"
        count = _replicas(job_spec.parallelism, f"{prefix}.parallelism", fail)
        if job_spec.completions is not None:
            count = min(count, _replicas(job_spec.completions, f"{prefix}.completions", fail))
    elif kind == "DaemonSet":
        count = 1  # one per node; this is one node
    else:
        count = _replicas(spec.replicas, "spec.replicas", fail)

    if kind == "StatefulSet":
        names = [f"{wname}-{i}" for i in range(count)]
    else:
        if kind == "Deployment":
            base = f"{wname}-{_random_string(seed + '/pod-template-hash', 10)}-"
        elif kind == "CronJob":
            minutes = int.from_bytes(_digest(seed + "/schedule")[:8], "big") % 10**8
            base = f"{wname}-{minutes:08d}-"
        else:
            base = f"{wname}-"
        taken: set[str] = set()
        names = [_generate_name(base, f"{seed}/{i}", taken) for i in range(count)]
    owner = f"{kind}/{wname}"
    return [
        _to_pod(template.spec, name=n, namespace=namespace, uid="", labels=dict(labels), owner=owner) for n in names
    ]


def pods_from_object(obj: dict[str, Any], source: str, gates: FeatureGates) -> list[Pod]:
    """The pods one Kubernetes object stands for, as written (no API defaulting).

    ``obj`` is a ``Pod`` (apiVersion v1), a ``List``, or a Deployment,
    StatefulSet, DaemonSet, ReplicaSet (apps/v1), ReplicationController (v1),
    Job or CronJob (batch/v1), whose pod template is expanded into
    ``replicas`` pods (default 1; a DaemonSet gives one pod, a Job
    ``min(parallelism, completions)``) named as the controllers name them,
    with reproducible random parts: StatefulSet ``web-0``, Deployment
    ``web-<hash>-<5>``, the others ``name-<5>``. Each pod gets
    ``metadata.uid`` or a uuid5 of ``namespace/name``, and ``owner =
    "Kind/name"`` of the workload. ``gates`` is accepted for symmetry with
    :func:`admit_to_api`; reading the object shape does not depend on it.
    """
    del gates
    if not isinstance(obj, dict):
        raise ManifestError(f"{source}: expected a mapping (a Kubernetes object), got {_describe(obj)}")
    return _pods_of(obj, source, "")


# -- the API server -------------------------------------------------------------------
def admit_to_api(pod: Pod, gates: FeatureGates, *, require_image: bool = True) -> tuple[Pod | None, str | None]:
    """The pod as the API server would store it, or the reason it would refuse it.

    Applies defaulting and stamps ``qos_class`` with ``gates`` in effect, then
    validates. Returns ``(stored_pod, None)``, or ``(None, message)`` with the
    API server's message (``Pod "x" is invalid: spec.resources.requests[cpu]:
    ...``) for a ``reason: Invalid`` rejection. ``pod`` itself is not
    modified. ``require_image=False`` skips the "image: Required value" check
    for hand-built pods.
    """
    src = pod
    if not gates.explicit.get(CONTAINER_RESTART_RULES, True) and any(
        c.restart_policy is not None for c in pod.containers
    ):
        # dropDisabledFields: restartPolicy on regular containers needs ContainerRestartRules
        src = replace(pod, containers=[replace(c, restart_policy=None) for c in pod.containers])
    stored = apply_defaults(src, gates)
    stored.qos_class = compute_pod_qos(stored, gates.enabled(POD_LEVEL_RESOURCES))
    errors = validate_pod_resources(stored, gates, require_image=require_image)
    if errors:
        return None, invalid_pod_message(stored.name, errors)
    return stored, None


def load_pods(text: str, source: str, gates: FeatureGates) -> list[Pod]:
    """All pods in a manifest text, as the API server stores them.

    Raises :class:`ManifestError` for unreadable input and
    :class:`PodInvalidError` for the first pod the API server would refuse.
    """
    pods: list[Pod] = []
    for where, obj in _load_labelled(text, source):
        for pod in _pods_of(obj, source, where):
            stored, message = admit_to_api(pod, gates)
            if stored is None:
                raise PodInvalidError(pod.name, message or "", source=f"{source}: {where}")
            pods.append(stored)
    return pods
