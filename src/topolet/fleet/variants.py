"""Variants: named what-ifs on the same workload (``--compare``).

A variant is a patch of every pool's KubeletConfiguration and/or of the
workload model and/or of the scheduler. ``--compare`` takes names defined
under ``variants:`` in the fleet file, or built-in atoms joined with ``+``:

=========================  ======================================================
``as-written``             the fleet and the workload as written (alias ``pod-level``)
``per-container``          every pod with pod-level resources rewritten to the
                           per-container model (:func:`topolet.fleet.convert.to_per_container`)
``policy=P``               ``topologyManagerPolicy: P``
``scope=S``                ``topologyManagerScope: S``
``cpu-option=NAME[:V]``    ``cpuManagerPolicyOptions: {NAME: V}`` (V defaults to ``"true"``)
``memory=Static|None``     ``memoryManagerPolicy``
``gate=NAME[:false]``      a feature gate on (or off)
``numa-aware``             the scheduler filters nodes whose kubelet admission would fail
``least-allocated``        NodeResourcesFit scoring (also ``most-allocated``)
``recreate=N``             a controller recreates a rejected pod up to N times
=========================  ======================================================

For example ``--compare per-container --compare as-written --compare as-written+numa-aware``.
"""

from __future__ import annotations

from typing import Any

from topolet.fleet.sim import VariantPlan
from topolet.fleet.spec import FleetSpec, VariantSpec, deep_merge
from topolet.io.inputs import InputError

__all__ = ["BASELINE", "resolve_variant"]

BASELINE = "per-container"
_ALIASES = {"pod-level": "as-written", "baseline": "as-written"}


def _atom(atom: str, state: dict[str, Any], fleet: FleetSpec) -> None:
    atom = _ALIASES.get(atom, atom)
    if atom in fleet.variants:
        vs: VariantSpec = fleet.variants[atom]
        state["kubelet"] = deep_merge(state["kubelet"], vs.kubelet)
        for key, val in (
            ("workload", vs.workload),
            ("scoring", vs.scoring),
            ("numa_aware", vs.numa_aware),
            ("recreate", vs.recreate),
        ):
            if val is not None:
                state[key] = val
        if vs.description:
            state["description"].append(vs.description)
        return
    if atom == "as-written":
        return
    if atom == "per-container":
        state["workload"] = "per-container"
        return
    if atom in ("numa-aware", "numa-blind"):
        state["numa_aware"] = atom == "numa-aware"
        return
    if atom in ("least-allocated", "most-allocated"):
        state["scoring"] = "LeastAllocated" if atom == "least-allocated" else "MostAllocated"
        return
    key, eq, value = atom.partition("=")
    if not eq or not value:
        raise InputError(f"--compare {atom}: unknown variant (not in the fleet file's variants:, nor a built-in)")
    k = state["kubelet"]
    if key == "policy":
        state["kubelet"] = deep_merge(k, {"topologyManagerPolicy": value})
    elif key == "scope":
        state["kubelet"] = deep_merge(k, {"topologyManagerScope": value})
    elif key == "cpu-option":
        name, _, val = value.partition(":")
        state["kubelet"] = deep_merge(k, {"cpuManagerPolicyOptions": {name: val or "true"}})
    elif key == "memory":
        state["kubelet"] = deep_merge(k, {"memoryManagerPolicy": value})
    elif key == "gate":
        name, _, val = value.partition(":")
        if val not in ("", "true", "false"):
            raise InputError(f"--compare {atom}: a gate is NAME, NAME:true or NAME:false")
        state["kubelet"] = deep_merge(k, {"featureGates": {name: val != "false"}})
    elif key == "recreate":
        try:
            state["recreate"] = int(value)
        except ValueError:
            raise InputError(f"--compare {atom}: recreate=N needs an integer") from None
        if not 0 <= state["recreate"] <= 100:
            raise InputError(f"--compare {atom}: recreate must be between 0 and 100")
    else:
        raise InputError(
            f"--compare {atom}: unknown setting {key!r} (policy, scope, cpu-option, memory, gate, recreate)"
        )


def resolve_variant(text: str, fleet: FleetSpec) -> VariantPlan:
    """A ``--compare`` argument resolved against the fleet's defaults."""
    text = text.strip()
    if not text:
        raise InputError("--compare: empty variant name")
    state: dict[str, Any] = {
        "kubelet": {},
        "workload": "as-written",
        "scoring": fleet.scheduler.scoring,
        "numa_aware": fleet.scheduler.numa_aware,
        "recreate": fleet.scheduler.recreate,
        "description": [],
    }
    for atom in text.split("+"):
        _atom(atom.strip(), state, fleet)
    return VariantPlan(
        name=text,
        kubelet=state["kubelet"],
        workload=state["workload"],
        scoring=state["scoring"],
        numa_aware=state["numa_aware"],
        recreate=state["recreate"],
        description="; ".join(state["description"]),
    )
