"""compute_pod_qos: the upstream table (pkg/apis/core/v1/helper/qos/qos_test.go) and edge cases."""

from __future__ import annotations

import pytest

from topolet.model.pod import Container, Pod, Resources
from topolet.model.qos import compute_pod_qos
from topolet.model.quantity import Quantity

G, BU, BE = "Guaranteed", "Burstable", "BestEffort"


def rl(cpu: str = "", memory: str = "", **extra: str) -> dict[str, Quantity]:
    out: dict[str, Quantity] = {}
    if cpu:
        out["cpu"] = Quantity.parse(cpu)
    if memory:
        out["memory"] = Quantity.parse(memory)
    for k, v in extra.items():
        out[k.replace("_", "-")] = Quantity.parse(v)
    return out


def ctr(name: str, requests: dict[str, Quantity], limits: dict[str, Quantity]) -> Container:
    return Container(name, Resources(requests, limits))


def pod(
    name: str,
    containers: list[Container],
    init: list[Container] | None = None,
    pod_res: Resources | None = None,
) -> Pod:
    return Pod(name, containers=containers, init_containers=init or [], resources=pod_res)


# (pod, expected, podLevelResourcesEnabled) -- TestComputePodQOS, in order
UPSTREAM = [
    (pod("guaranteed", [ctr("guaranteed", rl("100m", "100Mi"), rl("100m", "100Mi"))]), G, False),
    (
        pod(
            "guaranteed-guaranteed",
            [
                ctr("guaranteed", rl("100m", "100Mi"), rl("100m", "100Mi")),
                ctr("guaranteed", rl("100m", "100Mi"), rl("100m", "100Mi")),
            ],
        ),
        G,
        False,
    ),
    (
        pod("best-effort-best-effort", [ctr("best-effort", rl(), rl()), ctr("best-effort", rl(), rl())]),
        BE,
        False,
    ),
    (pod("best-effort", [ctr("best-effort", rl(), rl())]), BE, False),
    (
        pod("best-effort-burstable", [ctr("best-effort", rl(), rl()), ctr("burstable", rl("1"), rl("2"))]),
        BU,
        False,
    ),
    (
        pod(
            "best-effort-guaranteed",
            [ctr("best-effort", rl(), rl()), ctr("guaranteed", rl("10m", "100Mi"), rl("10m", "100Mi"))],
        ),
        BU,
        False,
    ),
    (
        pod("burstable-cpu-guaranteed-memory", [ctr("burstable", rl("", "100Mi"), rl("", "100Mi"))]),
        BU,
        False,
    ),
    (pod("burstable-no-limits", [ctr("burstable", rl("100m", "100Mi"), rl())]), BU, False),
    (
        pod(
            "burstable-guaranteed",
            [
                ctr("burstable", rl("1", "100Mi"), rl("2", "100Mi")),
                ctr("guaranteed", rl("100m", "100Mi"), rl("100m", "100Mi")),
            ],
        ),
        BU,
        False,
    ),
    (
        pod(
            "burstable-unbounded-but-requests-match-limits",
            [
                ctr("burstable", rl("100m", "100Mi"), rl("200m", "200Mi")),
                ctr("burstable-unbounded", rl("100m", "100Mi"), rl()),
            ],
        ),
        BU,
        False,
    ),
    (pod("burstable-1", [ctr("burstable", rl("10m", "100Mi"), rl("100m", "200Mi"))]), BU, False),
    (pod("burstable-2", [ctr("burstable", rl("0", "0"), rl("100m", "200Mi"))]), BU, False),
    (
        pod(
            "best-effort-hugepages",
            [ctr("best-effort", rl("0", "0", hugepages_2Mi="1Gi"), rl("0", "0", hugepages_2Mi="1Gi"))],
        ),
        BE,
        False,
    ),
    (
        pod(
            "init-container",
            [ctr("best-effort", rl(), rl())],
            init=[ctr("burstable", rl("10m", "100Mi"), rl("100m", "200Mi"))],
        ),
        BU,
        False,
    ),
    (
        pod(
            "guaranteed-with-pod-level-resources",
            [ctr("best-effort", rl(), rl())],
            pod_res=Resources(rl("10m", "100Mi"), rl("10m", "100Mi")),
        ),
        G,
        True,
    ),
    (
        pod(
            "guaranteed-with-pod-and-container-level-resources",
            [ctr("burstable", rl("3m", "10Mi"), rl("5m", "20Mi"))],
            pod_res=Resources(rl("10m", "100Mi"), rl("10m", "100Mi")),
        ),
        G,
        True,
    ),
    (
        pod(
            "burstable-with-pod-level-resources",
            [ctr("best-effort", rl(), rl())],
            pod_res=Resources(rl("10m", "10Mi"), rl("20m", "50Mi")),
        ),
        BU,
        True,
    ),
    (
        pod(
            "burstable-with-pod-and-container-level-resources",
            [ctr("burstable", rl("5m", "10Mi"), rl("5m", "10Mi"))],
            pod_res=Resources(rl("10m", "10Mi"), rl("20m", "50Mi")),
        ),
        BU,
        True,
    ),
    (
        pod(
            "burstable-with-pod-and-container-level-requests",
            [ctr("burstable", rl("5m", "10Mi"), rl())],
            pod_res=Resources(rl("10m", "10Mi"), rl()),
        ),
        BU,
        True,
    ),
    (
        pod(
            "burstable-with-pod-and-container-level-resources-2",
            [
                ctr("burstable", rl("5m", "10Mi"), rl()),
                ctr("guaranteed", rl("5m", "10Mi"), rl("5m", "10Mi")),
            ],
            pod_res=Resources(rl("10m", "10Mi"), rl("5m")),
        ),
        BU,
        True,
    ),
]


@pytest.mark.parametrize(("p", "expected", "gate"), UPSTREAM, ids=[c[0].name for c in UPSTREAM])
def test_upstream_table(p: Pod, expected: str, gate: bool) -> None:
    assert compute_pod_qos(p, gate) == expected


def test_pod_level_ignored_when_gate_off() -> None:
    p = pod("x", [ctr("c", rl(), rl())], pod_res=Resources(rl("1", "1Gi"), rl("1", "1Gi")))
    assert compute_pod_qos(p, True) == G
    assert compute_pod_qos(p, False) == BE


def test_pod_level_path_taken_even_when_spec_resources_is_empty() -> None:
    # ComputePodQOS checks `pod.Spec.Resources != nil`, not IsPodLevelResourcesSet.
    p = pod("x", [ctr("c", rl("1", "1Gi"), rl("1", "1Gi"))], pod_res=Resources())
    assert compute_pod_qos(p, True) == BE
    assert compute_pod_qos(p, False) == G


def test_pod_level_requests_only_is_burstable() -> None:
    p = pod("x", [ctr("c", rl(), rl())], pod_res=Resources(rl("1", "1Gi"), {}))
    assert compute_pod_qos(p, True) == BU


def test_pod_level_cpu_limit_only_is_burstable() -> None:
    p = pod("x", [ctr("c", rl(), rl())], pod_res=Resources(rl("1"), rl("1")))
    assert compute_pod_qos(p, True) == BU


def test_pod_level_hugepages_only_is_best_effort() -> None:
    hp = {"hugepages-2Mi": Quantity.parse("4Mi")}
    p = pod("x", [ctr("c", rl(), rl())], pod_res=Resources(dict(hp), dict(hp)))
    assert compute_pod_qos(p, True) == BE


def test_pod_level_zero_limit_counts_as_missing() -> None:
    p = pod("x", [ctr("c", rl(), rl())], pod_res=Resources(rl("1", "0"), rl("1", "0")))
    assert compute_pod_qos(p, True) == BU


def test_equal_values_in_different_formats_are_guaranteed() -> None:
    p = pod("x", [ctr("c", rl("1000m", "1Gi"), rl("1", "1073741824"))])
    assert compute_pod_qos(p, False) == G


def test_sums_compared_not_each_container() -> None:
    # each container has both limits; sums equal although each container differs
    p = pod(
        "x",
        [
            ctr("a", rl("1", "1Gi"), rl("2", "1Gi")),
            ctr("b", rl("2", "1Gi"), rl("1", "1Gi")),
        ],
    )
    assert compute_pod_qos(p, False) == G


def test_init_container_without_limits_breaks_guaranteed() -> None:
    p = pod("x", [ctr("a", rl("1", "1Gi"), rl("1", "1Gi"))], init=[ctr("i", rl(), rl())])
    assert compute_pod_qos(p, False) == BU


def test_guaranteed_with_guaranteed_init_and_sidecar() -> None:
    side = Container("s", Resources(rl("1", "1Gi"), rl("1", "1Gi")), restart_policy="Always")
    p = pod("x", [ctr("a", rl("1", "1Gi"), rl("1", "1Gi"))], init=[side, ctr("i", rl("2", "2Gi"), rl("2", "2Gi"))])
    assert compute_pod_qos(p, False) == G


def test_non_qos_resources_ignored() -> None:
    p = pod("x", [ctr("a", rl(ephemeral_storage="1Gi"), rl(ephemeral_storage="1Gi"))])
    assert compute_pod_qos(p, False) == BE
