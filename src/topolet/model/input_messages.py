"""Validation errors of the input models (pydantic) in the user's terms: the field path and the expected YAML type.

pydantic's own messages name Python classes ("Input should be a valid
dictionary or instance of _CPU", "not NoneType"); :func:`user_errors` turns
each error into ``(path, problem)`` with the YAML words a user knows
(``cpus[0]: expected a mapping, got null``), and an unknown field with a
"did you mean" over the model's fields.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from topolet.model.didyoumean import did_you_mean

__all__ = ["describe_value", "format_path", "user_errors", "user_message"]

_EXPECTED = {
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "dict_type": "a mapping",
    "mapping_type": "a mapping",
    "list_type": "a list",
    "tuple_type": "a list",
    "set_type": "a list",
    "iterable_type": "a list",
    "string_type": "a string",
    "string_sub_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "none_required": "null",
}

_BOUNDS = {
    "greater_than": ("gt", "greater than"),
    "greater_than_equal": ("ge", "at least"),
    "less_than": ("lt", "less than"),
    "less_than_equal": ("le", "at most"),
}


def describe_value(v: object) -> str:
    """A value as a YAML user would name it: ``null``, ``a list``, ``string "x"``, ``number 1.5``."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return f"boolean {str(v).lower()}"
    if isinstance(v, dict):
        return "a mapping"
    if isinstance(v, list | tuple):
        return "a list"
    if isinstance(v, str):
        text = v if len(v) <= 40 else v[:37] + "..."
        return f"string {json.dumps(text)}"
    if isinstance(v, int | float):
        return f"number {v}"
    return "a value"


def format_path(loc: Iterable[int | str]) -> str:
    """``("cpus", 0, "id")`` -> ``cpus[0].id``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _is_artifact(part: object) -> bool:
    """A location part pydantic adds for a union member or a validator, not a field."""
    if not isinstance(part, str):
        return False
    return (
        part.startswith("_")
        or "[" in part
        or part in ("str", "int", "float", "bool", "none", "dict", "list", "tuple")
        or part.startswith(("function-", "literal", "lax-", "json-or-python"))
    )


def _sanitize(msg: str) -> str:
    msg = re.sub(r"^(Value|Assertion) error, ", "", msg)
    msg = re.sub(r" or instance of \w+", "", msg)
    msg = msg.replace("NoneType", "null").replace("Input should be", "expected")
    msg = msg.replace("a valid dictionary", "a mapping")
    return msg


def _item_model(current: Any) -> Any:
    args = getattr(current, "__args__", ()) or ()
    for a in args:
        if isinstance(a, type) and issubclass(a, BaseModel):
            return a
        inner = _item_model(a)
        if inner is not None and isinstance(inner, type) and issubclass(inner, BaseModel):
            return inner
    return None


def _unwrap(current: Any) -> Any:
    if isinstance(current, type) and issubclass(current, BaseModel):
        return current
    return _item_model(current)


def user_errors(err: ValidationError, model: type[BaseModel] | None = None) -> list[tuple[str, str]]:
    """Each error of ``err`` as ``(field path, problem)`` in YAML terms (no class names)."""
    out: list[tuple[str, str]] = []
    for e in err.errors(include_url=False):
        raw_loc = list(e["loc"])
        key_error = bool(raw_loc) and raw_loc[-1] == "[key]"
        loc = [p for p in raw_loc if p != "[key]" and not _is_artifact(p)]
        path = format_path(loc)
        kind = e["type"]
        got = describe_value(e.get("input"))
        ctx = e.get("ctx") or {}
        if kind in _EXPECTED:
            problem = f"expected {_EXPECTED[kind]}, got {got}"
        elif kind == "missing":
            problem = "required field is missing"
        elif kind == "extra_forbidden":
            name = str(loc[-1]) if loc else ""
            known = _known_fields(model, loc[:-1])
            problem = "unknown field" + (did_you_mean(name, known) if known else "")
        elif kind in _BOUNDS:
            key, words = _BOUNDS[kind]
            problem = f"must be {words} {ctx.get(key)}, got {got}"
        elif kind in ("literal_error", "enum"):
            problem = f"must be one of {ctx.get('expected', '')}, got {got}"
        elif "error" in ctx:
            problem = _sanitize(str(ctx["error"]))
        else:
            problem = _sanitize(str(e["msg"]))
        if key_error:
            problem = f"bad key: {problem}"
        out.append((path, problem))
    return out


def _known_fields(model: type[BaseModel] | None, loc: Sequence[int | str]) -> list[str]:
    if model is None:
        return []
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if current is None:
            return []
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", {})
        info = next((f for name, f in fields.items() if (f.alias or name) == part), None)
        if info is None:
            return []
        current = info.annotation
    current = _unwrap(current)
    if current is None:
        return []
    return [f.alias or name for name, f in current.model_fields.items()]


def user_message(source: str, err: ValidationError, model: type[BaseModel] | None = None) -> str:
    """``SOURCE: path: problem; path: problem`` for every error."""
    parts = [f"{p}: {m}" if p else m for p, m in user_errors(err, model)]
    return f"{source}: " + "; ".join(parts)
