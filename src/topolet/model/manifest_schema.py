"""The object shape of the manifests topolet reads, as pydantic models (the validating edge).

The models are built from :data:`topolet.model.manifest_shape.SHAPES`, the one
description of the fields: :mod:`topolet.model.manifest_shape` reads
well-formed objects by it without pydantic (importing pydantic and building
the models costs more than a one-pod ``predict`` may); whenever it meets
something it does not take as is (a wrong type, a value pydantic would
coerce, a bad quantity), the object is validated by these models, which give
the same value or the error message naming the field. Unknown fields are
ignored. ``MODELS[name]`` (also a module attribute of that name) is the model
of a shape.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, PlainValidator, StrictInt, create_model

from topolet.model.manifest_shape import SHAPES, FieldType
from topolet.model.quantity import Quantity


def quantity_value(v: object) -> Quantity:
    """A quantity field's value: ``null`` is zero, as Quantity.UnmarshalJSON("null") leaves it."""
    if v is None:
        return Quantity.of(0)
    return Quantity.parse(v)


_QuantityT = Annotated[Quantity, PlainValidator(quantity_value)]
_CFG = ConfigDict(extra="ignore", frozen=True)
_SCALARS: dict[str, Any] = {"str": str, "bool": bool, "int": StrictInt, "qty": _QuantityT}


def _annotation(t: FieldType) -> Any:
    """A field's type; another shape is named by a string (a forward reference resolved below)."""
    if isinstance(t, tuple):
        how, item = t
        return dict[str, _annotation(item)] if how == "map" else list[_annotation(item)]  # type: ignore[misc]
    return _SCALARS.get(t, t)


def _optional(t: FieldType) -> Any:
    a = _annotation(t)
    return f"{a} | None" if isinstance(a, str) else a | None


MODELS: dict[str, type[BaseModel]] = {
    name: create_model(name, __config__=_CFG, **{f: (_optional(t), None) for f, t in fields.items()})  # type: ignore[call-overload]
    for name, fields in SHAPES.items()
}
for _model in MODELS.values():
    _model.model_rebuild(_types_namespace=MODELS)
globals().update(MODELS)
