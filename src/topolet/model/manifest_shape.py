"""The manifest's object shape read without pydantic: the common, well-formed case, fast.

:data:`SHAPES` is the one description of the fields topolet reads; the pydantic
models of :mod:`topolet.model.manifest_schema` are built from it. :func:`read`
walks a decoded object by it and gives a tree of plain objects with the
models' attributes (every field present, ``None`` when absent, unknown
fields ignored). It takes values only as they are: a string where a string
is wanted, ``true``/``false`` for a boolean, an integer (not a boolean) for
an integer, a mapping or a list of the right items, a quantity that parses.
Anything else -- a value pydantic's rules would coerce or refuse -- raises
:class:`Irregular`, and the caller validates the object with the pydantic
model instead, which gives the same tree or the error naming the field. So
the two paths cannot disagree on what they both take, and the pydantic
models (and pydantic itself, ~60 ms of imports) are loaded only for unusual
input. ``tests/test_manifest_shape.py`` checks both readers give the same pods.
"""

from __future__ import annotations

from typing import Any

from topolet.model.quantity import Quantity

__all__ = ["SHAPES", "Irregular", "Obj", "read"]


class Irregular(Exception):
    """The object needs pydantic's validation (a coercion or an error message)."""


class Obj:
    """One object of the shape: its fields as attributes."""

    def __repr__(self) -> str:
        return f"Obj({self.__dict__!r})"


# A field's type: "str", "bool", "int" (strict: not a boolean), "qty" (a quantity),
# ("map", T) a mapping of strings to T, ("list", T), or the name of another shape.
FieldType = str | tuple[str, Any]

SHAPES: dict[str, dict[str, FieldType]] = {
    "OwnerRef": {"kind": "str", "name": "str", "controller": "bool"},
    "Meta": {
        "name": "str",
        "generateName": "str",
        "namespace": "str",
        "uid": "str",
        "labels": ("map", "str"),
        "ownerReferences": ("list", "OwnerRef"),
    },
    "Resources": {"requests": ("map", "qty"), "limits": ("map", "qty")},
    "AppArmorProfile": {"type": "str", "localhostProfile": "str"},
    "ContainerSecurityContext": {"appArmorProfile": "AppArmorProfile"},
    "ContainerPort": {"containerPort": "int", "hostPort": "int", "hostIP": "str", "protocol": "str"},
    "Container": {
        "name": "str",
        "image": "str",
        "resources": "Resources",
        "restartPolicy": "str",
        "ports": ("list", "ContainerPort"),
        "securityContext": "ContainerSecurityContext",
    },
    "Toleration": {"key": "str", "operator": "str", "value": "str", "effect": "str", "tolerationSeconds": "int"},
    "NodeSelectorRequirement": {"key": "str", "operator": "str", "values": ("list", "str")},
    "NodeSelectorTerm": {
        "matchExpressions": ("list", "NodeSelectorRequirement"),
        "matchFields": ("list", "NodeSelectorRequirement"),
    },
    "NodeSelector": {"nodeSelectorTerms": ("list", "NodeSelectorTerm")},
    "NodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": "NodeSelector"},
    "Affinity": {"nodeAffinity": "NodeAffinity"},
    "PodOS": {"name": "str"},
    "Sysctl": {"name": "str", "value": "str"},
    "PodSecurityContext": {
        "sysctls": ("list", "Sysctl"),
        "supplementalGroupsPolicy": "str",
        "appArmorProfile": "AppArmorProfile",
    },
    "PodSpec": {
        "containers": ("list", "Container"),
        "initContainers": ("list", "Container"),
        "resources": "Resources",
        "nodeName": "str",
        "nodeSelector": ("map", "str"),
        "affinity": "Affinity",
        "tolerations": ("list", "Toleration"),
        "os": "PodOS",
        "securityContext": "PodSecurityContext",
        "hostNetwork": "bool",
        "hostIPC": "bool",
        "priority": "int",
        "priorityClassName": "str",
    },
    "PodObject": {"metadata": "Meta", "spec": "PodSpec"},
    "JobTemplate": {"spec": "WorkloadSpec"},
    "WorkloadSpec": {
        "replicas": "int",
        "parallelism": "int",
        "completions": "int",
        "template": "PodObject",
        "jobTemplate": "JobTemplate",
    },
    "Workload": {"metadata": "Meta", "spec": "WorkloadSpec"},
}


def _quantity(v: object) -> Quantity:
    if v is None:  # Quantity.UnmarshalJSON("null") leaves a zero quantity
        return Quantity.of(0)
    try:
        return Quantity.parse(v)  # type: ignore[arg-type]
    except Exception:  # any refusal: pydantic's validation reports it
        raise Irregular from None


def _value(t: FieldType, v: object) -> object:
    if isinstance(t, tuple):
        how, item = t
        if how == "map":
            if type(v) is not dict:
                raise Irregular
            out: dict[str, object] = {}
            for k, x in v.items():
                if type(k) is not str:
                    raise Irregular
                out[k] = _value(item, x) if item != "str" else _str(x)
            return out
        if type(v) is not list:
            raise Irregular
        return [_value(item, x) for x in v]
    if t == "str":
        return _str(v)
    if t == "bool":
        if v is True or v is False:
            return v
        raise Irregular
    if t == "int":
        if type(v) is int:
            return v
        raise Irregular
    if t == "qty":
        return _quantity(v)
    return _read(v, SHAPES[t])


def _str(v: object) -> str:
    if type(v) is str:
        return v
    raise Irregular


def _read(v: object, shape: dict[str, FieldType]) -> Obj:
    if type(v) is not dict:
        raise Irregular
    o = Obj()
    d = o.__dict__
    for name, t in shape.items():
        x = v.get(name)
        d[name] = None if x is None else _value(t, x)
    return o


def read(obj: dict[str, Any], shape: str) -> Obj:
    """The object read by the shape named ``shape`` ("PodObject", "Workload"), or :class:`Irregular`."""
    return _read(obj, SHAPES[shape])
