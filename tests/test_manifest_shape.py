"""The plain manifest reader (model/manifest_shape.py) and the pydantic models agree.

Well-formed objects are read without pydantic; anything else goes through the
pydantic models. These tests keep the two readers' field lists equal, check
that they give the same pods (or the same error) for the corpus' pods, the
examples and generated damage, and that a one-pod read imports no pydantic.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from paths import CORPUS, EXAMPLES, SEED_POD
from topolet.model import manifest, manifest_schema
from topolet.model.features import FeatureGates
from topolet.model.manifest import ManifestError, pods_from_object
from topolet.model.manifest_shape import SHAPES, Irregular, read

GATES = FeatureGates()


def _pydantic_only(obj: dict[str, Any], shape: str) -> Any:
    model = getattr(manifest_schema, shape)
    from pydantic import ValidationError

    try:
        return model.model_validate(obj)
    except ValidationError as e:
        raise ManifestError(manifest._pydantic_message(e)) from None


def _outcome(obj: Any) -> Any:
    try:
        return ("pods", pods_from_object(obj, "m.yaml", GATES))
    except ManifestError as e:
        return ("error", str(e))


def _both(objs: list[Any]) -> tuple[list[Any], list[Any]]:
    """Each object's pods (or error) read by the plain reader, and read by the pydantic models only."""
    fast = [_outcome(o) for o in objs]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(manifest, "read_shape", _pydantic_only)
        slow = [_outcome(o) for o in objs]
    return fast, slow


def test_the_pydantic_models_are_built_from_the_shapes() -> None:
    assert set(manifest_schema.MODELS) == set(SHAPES)
    for name, model in manifest_schema.MODELS.items():
        assert set(model.model_fields) == set(SHAPES[name]), name
        assert getattr(manifest_schema, name) is model
    # the forward references between shapes are resolved (JobTemplate <-> WorkloadSpec)
    w = manifest_schema.MODELS["Workload"].model_validate({"spec": {"jobTemplate": {"spec": {"replicas": 2}}}})
    assert w.spec.jobTemplate.spec.replicas == 2


def test_plain_reader_takes_values_only_as_they_are() -> None:
    assert read({"spec": {"hostNetwork": True}}, "PodObject").spec.hostNetwork is True
    for bad in (
        {"spec": {"hostNetwork": "true"}},  # pydantic coerces it
        {"spec": {"priority": True}},
        {"spec": {"priority": 1.0}},
        {"metadata": {"labels": {"a": 1}}},
        {"metadata": {"labels": {1: "a"}}},
        {"spec": {"containers": [None]}},
        {"spec": {"containers": {"name": "a"}}},
        {"spec": {"resources": {"limits": {"cpu": "1x"}}}},
    ):
        with pytest.raises(Irregular):
            read(bad, "PodObject")


def _corpus_pods() -> list[dict[str, Any]]:
    """The corpus' distinct pod manifests."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for f in sorted(CORPUS.rglob("*.yaml")):
        for doc in yaml.load_all(f.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
            if not isinstance(doc, dict) or doc.get("kind") != "Scenario":
                continue
            for step in (doc.get("spec") or {}).get("steps") or []:
                if isinstance(step, dict) and isinstance(step.get("admit"), dict):
                    pod = {"apiVersion": "v1", "kind": "Pod", **step["admit"]}  # as the scenario runner reads it
                    key = json.dumps(pod, sort_keys=True)
                    if key not in seen:
                        seen.add(key)
                        out.append(pod)
    return out


def test_corpus_and_examples_read_alike() -> None:
    objs = _corpus_pods()
    assert len(objs) > 500
    for f in sorted(Path(EXAMPLES).rglob("*.yaml")):
        objs.extend(d for d in yaml.safe_load_all(f.read_text()) if isinstance(d, dict) and "kind" in d)
    fast, slow = _both(objs)
    for obj, a, b in zip(objs, fast, slow, strict=True):
        assert a == b, obj
    assert sum(1 for a in fast if a[0] == "pods") > 500


_SEED = yaml.safe_load(SEED_POD.read_text())
_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["", "1", "2Gi", "500m", "1x", "true", "yes", "Always", "cpu"]),
    st.lists(st.sampled_from(["a", 1, None]), max_size=2),
    st.dictionaries(st.sampled_from(["cpu", "memory", "a", "name"]), st.sampled_from(["1", 1, None, "x"]), max_size=2),
)


def _paths(o: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(o, dict):
        for k, v in o.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(o, list):
        for i, v in enumerate(o):
            out += _paths(v, (*prefix, i))
    return out


_SEED_PATHS = [p for p in _paths(_SEED) if p]
_EXTRA_KEYS = ["hostNetwork", "priority", "labels", "ports", "nodeSelector", "tolerations", "os", "replicas"]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(_SEED_PATHS), st.one_of(st.none(), st.sampled_from(_EXTRA_KEYS)), _VALUES),
        min_size=1,
        max_size=3,
    ),
    st.sampled_from(["Pod", "Deployment"]),
)
def test_damaged_objects_read_alike(edits: list[tuple[tuple[Any, ...], str | None, Any]], kind: str) -> None:
    pod = copy.deepcopy(_SEED)
    for path, key, value in edits:
        parent: Any = pod
        try:
            for part in path[:-1]:
                parent = parent[part]
            target = parent[path[-1]]
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit replaced this part
        if key is not None and isinstance(target, dict):
            target[key] = value
        elif isinstance(parent, dict | list):
            parent[path[-1]] = value
    obj: Any = pod
    if kind == "Deployment":
        obj = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": pod}}
    else:
        pod["kind"], pod["apiVersion"] = "Pod", "v1"
    fast, slow = _both([obj])
    assert fast == slow


def test_reading_a_pod_imports_no_pydantic() -> None:
    code = (
        "import sys, yaml; from topolet.model.manifest import pods_from_object, admit_to_api;"
        "from topolet.model.features import FeatureGates;"
        f"obj = yaml.safe_load(open({str(SEED_POD)!r}));"
        "g = FeatureGates();"
        "[admit_to_api(p, g) for p in pods_from_object(obj, 'x', g)];"
        "assert 'pydantic' not in sys.modules, 'pydantic imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
