"""apply_defaults: SetDefaults_Pod / SetDefaults_ResourceList (pkg/apis/core/v1/defaults.go)."""

from __future__ import annotations

from topolet.model.defaulting import (
    aggregate_container_limits,
    aggregate_container_requests,
    apply_defaults,
)
from topolet.model.features import FeatureGates
from topolet.model.pod import Container, Pod, Resources
from topolet.model.quantity import Quantity

ON = FeatureGates({"PodLevelResources": True})
OFF = FeatureGates({"PodLevelResources": False})


def rl(**kv: str) -> dict[str, Quantity]:
    return {k.replace("_", "-"): Quantity.parse(v) for k, v in kv.items()}


def strs(r: dict[str, Quantity]) -> dict[str, str]:
    return {k: str(v) for k, v in r.items()}


def c(name: str, req: dict[str, Quantity] | None = None, lim: dict[str, Quantity] | None = None, rp=None):
    return Container(name, Resources(req or {}, lim or {}), restart_policy=rp, image="img")


def test_container_requests_default_to_limits_per_resource() -> None:
    p = Pod("p", containers=[c("a", rl(cpu="500m"), rl(cpu="1", memory="1Gi"))])
    out = apply_defaults(p, ON)
    assert strs(out.containers[0].resources.requests) == {"cpu": "500m", "memory": "1Gi"}
    assert strs(out.containers[0].resources.limits) == {"cpu": "1", "memory": "1Gi"}


def test_init_containers_are_defaulted_too() -> None:
    p = Pod("p", containers=[c("a")], init_containers=[c("i", None, rl(cpu="2", hugepages_2Mi="4Mi"))])
    out = apply_defaults(p, OFF)
    assert strs(out.init_containers[0].resources.requests) == {"cpu": "2", "hugepages-2Mi": "4Mi"}


def test_input_pod_not_modified() -> None:
    p = Pod("p", containers=[c("a", None, rl(cpu="1"))], resources=Resources({}, rl(cpu="2")))
    apply_defaults(p, ON)
    assert p.containers[0].resources.requests == {}
    assert p.resources is not None and p.resources.requests == {}


# -- pod level: TestPodResourcesDefaults-style cases ----------------------------------------------


def test_pod_requests_default_to_pod_limits_when_containers_request_nothing() -> None:
    p = Pod("p", containers=[c("a")], resources=Resources({}, rl(cpu="2m", memory="1Mi")))
    out = apply_defaults(p, ON)
    assert out.resources is not None
    assert strs(out.resources.requests) == {"cpu": "2m", "memory": "1Mi"}


def test_pod_requests_default_to_aggregated_container_requests() -> None:
    # "pod requests=empty map limits=set, container requests=unset limits=set"
    p = Pod(
        "p",
        containers=[c("a", None, rl(cpu="2m", memory="1Mi")), c("b", None, rl(cpu="1m", memory="5Mi"))],
        resources=Resources({}, rl(cpu="5m", memory="7Mi")),
    )
    out = apply_defaults(p, ON)
    assert out.resources is not None
    assert strs(out.resources.requests) == {"cpu": "3m", "memory": "6Mi"}
    assert strs(out.resources.limits) == {"cpu": "5m", "memory": "7Mi"}


def test_pod_requests_mixed_sources() -> None:
    # cpu from the containers' aggregate, memory from the pod limit
    p = Pod(
        "p",
        containers=[c("a", rl(cpu="1"), None), c("b")],
        resources=Resources({}, rl(cpu="4", memory="4Gi")),
    )
    out = apply_defaults(p, ON)
    assert out.resources is not None
    assert strs(out.resources.requests) == {"cpu": "1", "memory": "4Gi"}


def test_explicit_pod_requests_kept() -> None:
    p = Pod("p", containers=[c("a", rl(cpu="1"))], resources=Resources(rl(cpu="3"), rl(cpu="4")))
    out = apply_defaults(p, ON)
    assert out.resources is not None
    assert strs(out.resources.requests) == {"cpu": "3"}


def test_no_pod_defaults_without_pod_limits() -> None:
    p = Pod("p", containers=[c("a", rl(cpu="1", memory="1Gi"))], resources=Resources(rl(cpu="2"), {}))
    out = apply_defaults(p, ON)
    assert out.resources is not None
    assert strs(out.resources.requests) == {"cpu": "2"}
    assert out.resources.limits == {}


def test_no_pod_defaults_without_spec_resources() -> None:
    out = apply_defaults(Pod("p", containers=[c("a", None, rl(cpu="1"))]), ON)
    assert out.resources is None


def test_aggregate_uses_init_and_sidecar_formula() -> None:
    p = Pod(
        "p",
        containers=[c("a", rl(cpu="1")), c("b", rl(cpu="1"))],
        init_containers=[
            c("side", rl(cpu="500m"), None, "Always"),
            c("init", rl(cpu="3")),
        ],
        resources=Resources({}, rl(cpu="8")),
    )
    # max(1 + 1 + 0.5, 3 + 0.5) = 3.5
    assert str(aggregate_container_requests(p)["cpu"]) == "3500m"
    out = apply_defaults(p, ON)
    assert out.resources is not None
    assert str(out.resources.requests["cpu"]) == "3500m"


def test_aggregate_limits_sidecar_started_after_init_not_counted() -> None:
    p = Pod(
        "p",
        containers=[c("a", None, rl(memory="1Gi"))],
        init_containers=[c("init", None, rl(memory="4Gi")), c("side", None, rl(memory="1Gi"), "Always")],
    )
    # regular + sidecar = 2Gi; init alone (no sidecar before it) = 4Gi
    assert str(aggregate_container_limits(p)["memory"]) == "4Gi"


def test_hugepage_pod_limits_default_from_containers() -> None:
    p = Pod(
        "p",
        containers=[c("a", None, rl(cpu="1", hugepages_2Mi="4Mi")), c("b", None, rl(hugepages_2Mi="2Mi"))],
        resources=Resources({}, rl(cpu="2", memory="1Gi")),
    )
    out = apply_defaults(p, ON)
    assert out.resources is not None
    assert strs(out.resources.limits) == {"cpu": "2", "memory": "1Gi", "hugepages-2Mi": "6Mi"}
    # hugepages are not overcommittable: their pod request comes from the (defaulted) pod limit
    assert strs(out.resources.requests) == {"cpu": "1", "hugepages-2Mi": "6Mi", "memory": "1Gi"}


def test_hugepage_pod_limit_not_defaulted_when_pod_requests_it() -> None:
    p = Pod(
        "p",
        containers=[c("a", None, rl(cpu="1", hugepages_2Mi="4Mi"))],
        resources=Resources(rl(hugepages_2Mi="2Mi"), rl(cpu="2")),
    )
    out = apply_defaults(p, ON)
    assert out.resources is not None
    assert "hugepages-2Mi" not in out.resources.limits
    assert str(out.resources.requests["hugepages-2Mi"]) == "2Mi"


def test_hugepage_pod_limits_defaulted_with_requests_only() -> None:
    # defaultHugePagePodLimits runs when requests *or* limits are set; then limits are
    # non-empty, so defaultPodRequests also fills memory from the containers.
    p = Pod(
        "p",
        containers=[c("a", rl(memory="1Gi"), rl(hugepages_1Gi="2Gi"))],
        resources=Resources(rl(cpu="1"), {}),
    )
    out = apply_defaults(p, ON)
    assert out.resources is not None
    assert strs(out.resources.limits) == {"hugepages-1Gi": "2Gi"}
    assert strs(out.resources.requests) == {"cpu": "1", "memory": "1Gi", "hugepages-1Gi": "2Gi"}


def test_empty_spec_resources_not_defaulted() -> None:
    p = Pod("p", containers=[c("a", None, rl(cpu="1", hugepages_2Mi="2Mi"))], resources=Resources())
    out = apply_defaults(p, ON)
    assert out.resources == Resources()


def test_unsupported_pod_level_resource_not_defaulted() -> None:
    p = Pod("p", containers=[c("a")], resources=Resources({}, rl(cpu="1", ephemeral_storage="1Gi")))
    out = apply_defaults(p, ON)
    assert out.resources is not None
    assert strs(out.resources.requests) == {"cpu": "1"}


def test_gate_off_keeps_spec_resources_but_defaults_nothing_pod_level() -> None:
    p = Pod(
        "p",
        containers=[c("a", None, rl(cpu="1", hugepages_2Mi="2Mi"))],
        resources=Resources({}, rl(cpu="2", memory="1Gi")),
    )
    out = apply_defaults(p, OFF)
    assert out.resources is not None
    assert out.resources.requests == {}
    assert strs(out.resources.limits) == {"cpu": "2", "memory": "1Gi"}
    # container-level defaulting is not gated
    assert strs(out.containers[0].resources.requests) == {"cpu": "1", "hugepages-2Mi": "2Mi"}


# -- SetDefaults_ResourceList ---------------------------------------------------------------------


def test_quantities_rounded_up_to_milli() -> None:
    p = Pod(
        "p",
        containers=[c("a", rl(cpu="100u"), rl(cpu="1500001u", memory="0.0001"))],
        resources=Resources(rl(cpu="1n"), {}),
    )
    out = apply_defaults(p, ON)
    assert strs(out.containers[0].resources.requests) == {"cpu": "1m", "memory": "1m"}
    assert strs(out.containers[0].resources.limits) == {"cpu": "1501m", "memory": "1m"}
    assert out.resources is not None
    assert strs(out.resources.requests) == {"cpu": "1m"}


def test_negative_quantities_round_away_from_zero() -> None:
    out = apply_defaults(Pod("p", containers=[c("a", rl(cpu="-100u"))]), ON)
    assert str(out.containers[0].resources.requests["cpu"]) == "-1m"


def test_pod_defaults_computed_before_rounding() -> None:
    # two containers of 0.5m aggregate to 1m; each then rounds up to 1m
    p = Pod(
        "p",
        containers=[c("a", rl(cpu="500u")), c("b", rl(cpu="500u"))],
        resources=Resources({}, rl(cpu="1")),
    )
    out = apply_defaults(p, ON)
    assert out.resources is not None
    assert str(out.resources.requests["cpu"]) == "1m"
    assert [str(x.resources.requests["cpu"]) for x in out.containers] == ["1m", "1m"]


def test_binary_format_preserved_in_sums() -> None:
    p = Pod(
        "p",
        containers=[c("a", rl(memory="1Gi")), c("b", rl(memory="512Mi"))],
        resources=Resources({}, rl(memory="4Gi")),
    )
    out = apply_defaults(p, ON)
    assert out.resources is not None
    assert str(out.resources.requests["memory"]) == "1536Mi"
