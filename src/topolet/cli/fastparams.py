"""Command-line parameter coercion without importing pydantic for the plain cases.

typer (≥ 0.20) coerces every parameter through a pydantic ``TypeAdapter`` built on
first use; importing pydantic and building the adapters costs more CPU than a
``get pods`` does. :func:`install` wraps typer's ``build_runtime_param``: a
parameter whose annotation is a plain ``str``, ``bool``, ``int``/``float``
without bounds, ``Path``, an ``Enum`` or a list of those gets a runtime param
that converts the ordinary values itself (a ``str`` stays that ``str``, ``"12"``
becomes ``12``, a path is checked by typer's own ``coerce_cli_path``) and hands
anything else — an unusual value, a failed conversion — to typer's own adapter,
built then. Results and error messages are therefore typer's own; only the cost
of the common case changes. When typer's internals differ from what this module
expects, nothing is installed and typer works as it always does.
"""

from __future__ import annotations

import re
from enum import Enum
from pathlib import PurePath
from typing import Any, get_args, get_origin

_INT = re.compile(r"(0|[1-9][0-9]{0,17})\Z")
_FLOAT = re.compile(r"(0|[1-9][0-9]{0,14})(\.[0-9]{1,15})?\Z")

_installed = False


def _leaf_kind(annotation: Any, info: Any) -> str | None:
    """What the fast path handles for this leaf annotation (None: typer's adapter only)."""
    if getattr(info, "parser", None) is not None or getattr(info, "click_type", None) is not None:
        return None
    if annotation is str:
        return "str"
    if annotation is bool:
        return "bool"
    if annotation in (int, float):
        if info.min is not None or info.max is not None or info.clamp:
            return None
        return annotation.__name__
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return "enum"
    if isinstance(annotation, type) and issubclass(annotation, PurePath):
        return "path"
    return None


def install() -> None:
    """Wrap typer's runtime-param builder (once); a no-op when typer's internals are not the expected ones."""
    global _installed
    if _installed:
        return
    _installed = True
    try:
        from typer import _coercion, core
        from typer._param_types import coerce_cli_choice, coerce_cli_path
    except ImportError:  # pragma: no cover - another typer version
        return
    original = getattr(core, "build_runtime_param", None)
    base = getattr(_coercion, "RuntimeParam", None)
    if original is None or base is None or not hasattr(base, "_coerce_value"):  # pragma: no cover
        return

    class _Fallback(Exception):
        pass

    class FastRuntimeParam(base):  # type: ignore[misc, valid-type]
        """Plain values converted here; anything else by typer's adapter (built on first need)."""

        def __init__(self, descriptor: Any, kind: str, is_list: bool, leaf: Any) -> None:
            object.__setattr__(self, "parameter_info", descriptor.parameter_info)
            object.__setattr__(self, "annotation", descriptor.annotation)
            object.__setattr__(self, "_descriptor", descriptor)
            object.__setattr__(self, "_kind", kind)
            object.__setattr__(self, "_is_list", is_list)
            object.__setattr__(self, "_leaf", leaf)
            object.__setattr__(self, "_real", None)

        def _real_param(self) -> Any:
            real = self._real
            if real is None:
                real = original(self._descriptor)
                object.__setattr__(self, "_real", real)
            return real

        def _one(self, value: Any, param: Any, ctx: Any) -> Any:
            kind = self._kind
            if kind == "str":
                if type(value) is str:
                    return value
            elif kind == "bool":
                if type(value) is bool:
                    return value
            elif kind == "int":
                if type(value) is int:
                    return value
                if type(value) is str and _INT.match(value):
                    return int(value)
            elif kind == "float":
                if type(value) is float:
                    return value
                if type(value) is str and _FLOAT.match(value):
                    return float(value)
            elif kind == "enum":
                if type(value) is str or isinstance(value, self._leaf):
                    try:
                        return coerce_cli_choice(
                            value,
                            choices=list(self._leaf),
                            case_sensitive=self.parameter_info.case_sensitive,
                            ctx=ctx,
                        )
                    except Exception:
                        raise _Fallback from None
            elif kind == "path" and (type(value) is str or isinstance(value, PurePath)):
                info = self.parameter_info
                path_type = info.path_type if info.path_type is not None else self._leaf
                try:
                    return coerce_cli_path(value, info, path_type=path_type, param=param, ctx=ctx)
                except Exception:
                    raise _Fallback from None
            raise _Fallback

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            try:
                if self._is_list:
                    if not isinstance(value, (list, tuple)):
                        raise _Fallback
                    return [self._one(v, param, ctx) for v in value]
                return self._one(value, param, ctx)
            except _Fallback:
                return self._real_param()._coerce_value(value, param=param, ctx=ctx)

    def build_runtime_param(descriptor: Any) -> Any:
        if getattr(descriptor, "file_annotation", None) is None:
            annotation = descriptor.annotation
            info = descriptor.parameter_info
            is_list = get_origin(annotation) is list
            leaf = get_args(annotation)[0] if is_list and len(get_args(annotation)) == 1 else annotation
            kind = None if (is_list and leaf is annotation) else _leaf_kind(leaf, info)
            if kind is not None and not (is_list and kind == "bool"):
                return FastRuntimeParam(descriptor, kind, is_list, leaf)
        return original(descriptor)

    core.build_runtime_param = build_runtime_param  # type: ignore[attr-defined]
