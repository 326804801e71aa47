"""validate_pod_resources: ports of validation_test.go cases and the exact API-server texts."""

from __future__ import annotations

import pytest

from topolet.model.features import FeatureGates
from topolet.model.manifest import admit_to_api
from topolet.model.pod import Container, Pod, Resources
from topolet.model.quantity import Quantity
from topolet.model.validation import (
    _validate_pod_resource_consistency,
    _validate_pod_resource_name,
    _validate_resource_name,
    _validate_resource_requirements,
    aggregate_message,
    go_quote,
    is_dns1123_label,
    json_quote,
    validate_pod_resources,
)

ON = FeatureGates({"PodLevelResources": True})
OFF = FeatureGates({"PodLevelResources": False})


def rl(**kv: str) -> dict[str, Quantity]:
    return {k.replace("_", "-"): Quantity.parse(v) for k, v in kv.items()}


HP2 = "hugepages-2Mi"


def hp(v: str) -> dict[str, Quantity]:
    return {HP2: Quantity.parse(v)}


def ctr(name: str = "c", req: dict | None = None, lim: dict | None = None, rp: str | None = None) -> Container:
    return Container(name, Resources(req or {}, lim or {}), restart_policy=rp, image="img")


def pod(containers: list[Container], res: Resources | None = None, init: list[Container] | None = None) -> Pod:
    return Pod("p", containers=containers, init_containers=init or [], resources=res)


# -- TestValidatePodResourceConsistency -----------------------------------------------------------
CONSISTENCY = [
    (
        "aggregate container requests less than pod requests",
        Resources(rl(cpu="10", memory="10Mi"), {}),
        [ctr("a", rl(cpu="5", memory="5Mi")), ctr("b", rl(cpu="4", memory="3Mi"))],
        [],
    ),
    (
        "aggregate container requests equal to pod requests",
        Resources(rl(cpu="10", memory="10Mi"), {}),
        [ctr("a", rl(cpu="5", memory="5Mi")), ctr("b", rl(cpu="5", memory="5Mi"))],
        [],
    ),
    (
        "aggregate container requests greater than pod requests",
        Resources(rl(cpu="10", memory="10Mi"), {}),
        [ctr("a", rl(cpu="6", memory="5Mi")), ctr("b", rl(cpu="8", memory="7Mi"))],
        ["must be greater than or equal to aggregate container requests"] * 2,
    ),
    (
        "container requests with resources unsupported at pod-level",
        Resources(rl(cpu="10", memory="10Mi"), {}),
        [
            ctr("a", rl(cpu="6", memory="5Mi", storage="10Gi")),
            ctr("b", rl(cpu="4", memory="3Mi", storage="5Gi")),
        ],
        [],
    ),
    (
        "aggregate container limits less than pod limits",
        Resources({}, {**rl(cpu="10", memory="10Mi"), **hp("10Mi")}),
        [
            ctr("a", None, {**rl(cpu="5", memory="5Mi"), **hp("4Mi")}),
            ctr("b", None, {**rl(cpu="4", memory="3Mi"), **hp("4Mi")}),
        ],
        [],
    ),
    (
        "aggregate container limits equal to pod limits",
        Resources({}, {**rl(cpu="10", memory="10Mi"), **hp("8Mi")}),
        [
            ctr("a", None, {**rl(cpu="5", memory="5Mi"), **hp("4Mi")}),
            ctr("b", None, {**rl(cpu="5", memory="5Mi"), **hp("4Mi")}),
        ],
        [],
    ),
    (
        "aggregate container limits greater than pod limits",
        Resources({}, rl(cpu="10", memory="10Mi")),
        [ctr("a", None, rl(cpu="5", memory="5Mi")), ctr("b", None, rl(cpu="6", memory="9Mi"))],
        [],
    ),
    (
        "hugepage aggregate container limits greater than pod limits",
        Resources({}, {**rl(cpu="10"), **hp("4Mi")}),
        [ctr("a", None, {**rl(cpu="6"), **hp("4Mi")}), ctr("b", None, {**rl(cpu="6"), **hp("4Mi")})],
        ["must be greater than or equal to aggregate container limits"],
    ),
    (
        "individual container limits greater than pod limits",
        Resources({}, {**rl(cpu="10", memory="10Mi"), **hp("2Mi")}),
        [ctr("a", None, {**rl(cpu="11", memory="12Mi"), **hp("4Mi")})],
        ["must be greater than or equal to aggregate container limits"]
        + ["must be less than or equal to pod limits"] * 3,
    ),
]


@pytest.mark.parametrize(
    ("res", "containers", "expected"), [c[1:] for c in CONSISTENCY], ids=[c[0] for c in CONSISTENCY]
)
def test_pod_resource_consistency(res: Resources, containers: list[Container], expected: list[str]) -> None:
    errs = [str(e) for e in _validate_pod_resource_consistency(pod(containers, res), res)]
    assert len(errs) == len(expected), errs
    for want in expected:
        assert any(want in e for e in errs), (want, errs)


# -- TestValidatePodResourceNames / TestValidateResourceNames -------------------------------------
POD_RESOURCE_NAMES = [
    ("memory", False),
    ("cpu", False),
    ("storage", True),
    ("hugepages-2Mi", False),
    ("hugepages-1Gi", False),
    ("requests.cpu", True),
    ("requests.memory", True),
    ("requests.storage", True),
    ("limits.cpu", True),
    ("limits.memory", True),
    ("limits.storage", True),
    ("network", True),
    ("disk", True),
    ("", True),
    (".", True),
    ("..", True),
    ("my.favorite.app.co/12345", True),
    ("my.favorite.app.co/_12345", True),
    ("my.favorite.app.co/12345_", True),
    ("kubernetes.io/..", True),
    ("kubernetes.io/" + "a" * 64, True),
    ("kubernetes.io/cpu", True),
    ("kubernetes.io/memory", True),
    ("kubernetes.io//", True),
    ("kubernetes.io", True),
    ("kubernetes.io/will/not/work/", True),
]


@pytest.mark.parametrize(("name", "fails"), POD_RESOURCE_NAMES)
def test_pod_resource_names(name: str, fails: bool) -> None:
    assert bool(_validate_pod_resource_name(name, "field")) == fails


RESOURCE_NAMES = [
    ("memory", True),
    ("cpu", True),
    ("storage", True),
    ("hugepages-2Mi", True),
    ("hugepages-1Gi", True),
    ("requests.cpu", True),
    ("requests.memory", True),
    ("requests.storage", True),
    ("limits.cpu", True),
    ("limits.memory", True),
    ("network", False),
    ("disk", False),
    ("", False),
    (".", False),
    ("..", False),
    ("my.favorite.app.co/12345", True),
    ("my.favorite.app.co/_12345", False),
    ("my.favorite.app.co/12345_", False),
    ("kubernetes.io/..", False),
    ("kubernetes.io/" + "a" * 63, True),
    ("kubernetes.io/" + "a" * 64, False),
    ("kubernetes.io//", False),
    ("kubernetes.io", False),
    ("kubernetes.io/will/not/work/", False),
]


@pytest.mark.parametrize(("name", "ok"), RESOURCE_NAMES)
def test_resource_names(name: str, ok: bool) -> None:
    assert (not _validate_resource_name(name, "field")) == ok


# -- TestValidateResourceRequirements -------------------------------------------------------------
REQ_OK = [
    (
        "limits and requests of hugepage resource are equal",
        {**rl(cpu="10"), **hp("2Mi")},
        {**rl(cpu="10"), **hp("2Mi")},
        False,
    ),
    ("container resource hugepage with cpu or memory", hp("2Mi"), {**hp("2Mi"), **rl(cpu="10")}, False),
    ("container resource hugepage limit without request", {}, {**rl(memory="2Mi"), **hp("2Mi")}, False),
    ("pod resource hugepages with cpu or memory", {**rl(memory="2Mi"), **hp("2Mi")}, hp("2Mi"), True),
    ("pod resource hugepages limit without request", {}, {**rl(memory="2Mi"), **hp("2Mi")}, True),
    ("limits and requests of memory resource are equal", rl(memory="2Mi"), rl(memory="2Mi"), False),
    ("limits and requests of cpu resource are equal", rl(cpu="10"), rl(cpu="10"), False),
    ("pod limits and requests of memory resource are equal", rl(memory="2Mi"), rl(memory="2Mi"), True),
    ("pod limits and requests of cpu resource are equal", rl(cpu="10"), rl(cpu="10"), True),
]
REQ_ERR = [
    ("container resource hugepage without cpu or memory", hp("2Mi"), hp("2Mi"), False),
    ("container resource hugepage without limit", {**rl(memory="2Mi"), **hp("2Mi")}, {}, False),
    ("pod resource hugepages without cpu or memory", hp("2Mi"), hp("2Mi"), True),
    ("pod resource hugepages request without limit", {**rl(memory="2Mi"), **hp("2Mi")}, {}, True),
    (
        "pod resource with ephemeral-storage",
        rl(ephemeral_storage2Mi="2Mi"),
        rl(ephemeral_storage="2Mi"),
        True,
    ),
    (
        "pod resource with unsupported prefixed resources",
        {"kubernetesio/memory": Quantity.parse("2")},
        {"kubernetesio/cpu": Quantity.parse("2")},
        True,
    ),
    (
        "pod resource with unsupported native resources",
        {"kubernetes.io/" + "a" * 63: Quantity.parse("2")},
        {"kubernetes.io/" + "a" * 63: Quantity.parse("2")},
        True,
    ),
    (
        "pod resource with unsupported empty native resource name",
        {"kubernetes.io": Quantity.parse("2")},
        {"kubernetes.io/": Quantity.parse("2")},
        True,
    ),
]


@pytest.mark.parametrize(("req", "lim", "pod_level"), [c[1:] for c in REQ_OK], ids=[c[0] for c in REQ_OK])
def test_resource_requirements_ok(req: dict, lim: dict, pod_level: bool) -> None:
    assert _validate_resource_requirements(Resources(req, lim), "resources", pod_level) == []


@pytest.mark.parametrize(("req", "lim", "pod_level"), [c[1:] for c in REQ_ERR], ids=[c[0] for c in REQ_ERR])
def test_resource_requirements_errors(req: dict, lim: dict, pod_level: bool) -> None:
    assert _validate_resource_requirements(Resources(req, lim), "resources", pod_level) != []


def test_supported_os_pod_resources_valid() -> None:
    # TestValidatePodResources "supported os" (container-less consistency is trivially fine)
    res = Resources(rl(cpu="10", memory="10Mi"), {**rl(cpu="20", memory="20Mi"), **hp("100Mi")})
    assert validate_pod_resources(pod([ctr()], res), ON) == []


# -- exact messages -------------------------------------------------------------------------------
def msgs(p: Pod, gates: FeatureGates = ON) -> list[str]:
    return validate_pod_resources(p, gates)


def test_pod_request_below_aggregate_message() -> None:
    p = pod([ctr("a", rl(cpu="1")), ctr("b", rl(cpu="1"))], Resources(rl(cpu="1"), {}))
    assert msgs(p) == [
        'spec.resources.requests[cpu]: Invalid value: "1": must be greater than or equal to '
        "aggregate container requests of 2"
    ]


def test_pod_request_aggregate_uses_sidecar_formula() -> None:
    side = ctr("s", rl(cpu="1"), None, "Always")
    init = ctr("i", rl(cpu="3"))
    p = pod([ctr("a", rl(cpu="1"))], Resources(rl(cpu="3"), {}), init=[side, init])
    assert msgs(p) == [
        'spec.resources.requests[cpu]: Invalid value: "3": must be greater than or equal to '
        "aggregate container requests of 4"
    ]


def test_container_limit_above_pod_limit_message() -> None:
    p = pod([ctr("a", rl(cpu="1"), rl(cpu="3"))], Resources(rl(cpu="2"), rl(cpu="2")))
    assert msgs(p) == [
        'spec.resources.containers[0][cpu].limits: Invalid value: "3": must be less than or equal to pod limits of 2'
    ]


def test_request_above_limit_messages() -> None:
    p = pod([ctr("a", rl(cpu="2", memory="2Gi"), rl(cpu="1", memory="1Gi"))])
    assert msgs(p) == [
        'spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1',
        'spec.containers[0].resources.requests: Invalid value: "2Gi": '
        "must be less than or equal to memory limit of 1Gi",
    ]
    p = pod([ctr("a")], Resources(rl(cpu="1500m"), rl(cpu="1")))
    assert msgs(p) == ['spec.resources.requests: Invalid value: "1500m": must be less than or equal to cpu limit of 1']


def test_unsupported_pod_level_resource_message() -> None:
    p = pod([ctr()], Resources({}, rl(ephemeral_storage="1Gi")))
    assert msgs(p) == [
        'spec.resources.limits[ephemeral-storage]: Unsupported value: "ephemeral-storage": '
        'supported values: "cpu", "hugepages-", "memory"'
    ]


def test_negative_quantity_message() -> None:
    p = pod([ctr("a", rl(cpu="-1"))])
    assert msgs(p) == [
        'spec.containers[0].resources.requests[cpu]: Invalid value: "-1": must be greater than or equal to 0'
    ]


def test_hugepages_messages() -> None:
    p = pod([ctr("a", hp("2Mi"), hp("4Mi"))])
    assert msgs(p) == [
        'spec.containers[0].resources.requests: Invalid value: "2Mi": must be equal to hugepages-2Mi limit of 4Mi',
        "spec.containers[0].resources: Forbidden: HugePages require cpu or memory",
    ]
    p = pod([ctr("a", {**rl(memory="1Gi"), **hp("3Mi")}, {**rl(memory="1Gi"), **hp("3Mi")})])
    assert msgs(p) == [
        'spec.containers[0].resources.limits[hugepages-2Mi]: Invalid value: "3Mi": '
        "3Mi is not positive integer multiple of hugepages-2Mi",
        'spec.containers[0].resources.requests[hugepages-2Mi]: Invalid value: "3Mi": '
        "3Mi is not positive integer multiple of hugepages-2Mi",
    ]
    p = pod([ctr("a", {**rl(memory="1Gi"), **hp("2Mi")}, rl(memory="1Gi"))])
    assert msgs(p) == [
        "spec.containers[0].resources.limits: Required value: Limit must be set for non overcommitable resources"
    ]


def test_hugepage_pod_limit_below_container_aggregate() -> None:
    res = Resources({}, {**rl(cpu="4"), **hp("4Mi")})
    p = pod([ctr("a", None, {**rl(cpu="1"), **hp("4Mi")}), ctr("b", None, {**rl(cpu="1"), **hp("2Mi")})], res)
    got = msgs(p)
    assert got == [
        'spec.resources.limits[hugepages-2Mi]: Invalid value: "4Mi": '
        "must be greater than or equal to aggregate container limits of 6Mi"
    ]


def test_extended_resources() -> None:
    ok = pod([ctr("a", {"example.com/gpu": Quantity.parse("1")}, {"example.com/gpu": Quantity.parse("1")})])
    assert msgs(ok) == []
    bad = pod([ctr("a", {"example.com/gpu": Quantity.parse("500m")}, {"example.com/gpu": Quantity.parse("1")})])
    assert msgs(bad) == [
        'spec.containers[0].resources.requests[example.com/gpu]: Invalid value: "500m": must be an integer',
        'spec.containers[0].resources.requests: Invalid value: "500m": must be equal to example.com/gpu limit of 1',
    ]


def test_container_resource_name_messages() -> None:
    p = pod([ctr("a", {"network": Quantity.parse("1")}, {})])
    assert msgs(p) == [
        'spec.containers[0].resources.requests[network]: Invalid value: "network": '
        "must be a standard resource type or fully qualified",
        'spec.containers[0].resources.requests[network]: Invalid value: "network": '
        "must be a standard resource for containers",
    ]


def test_container_names() -> None:
    p = pod([ctr("a"), ctr("a"), ctr("")], init=[ctr("a"), ctr("Bad.Name")])
    got = msgs(p)
    assert got[0] == 'spec.containers[1].name: Duplicate value: "a"'
    assert got[1] == "spec.containers[2].name: Required value"
    assert got[2] == 'spec.initContainers[0].name: Duplicate value: "a"'
    assert got[3].startswith('spec.initContainers[1].name: Invalid value: "Bad.Name": a lowercase RFC 1123 label')
    assert len(got) == 4
    dots = pod([ctr("a.b")])
    assert msgs(dots) == ['spec.containers[0].name: Invalid value: "a.b": must not contain dots']


def test_no_containers() -> None:
    assert msgs(pod([])) == ["spec.containers: Required value"]


def test_image_checks() -> None:
    p = pod([Container("a"), Container("b", image=" x")])
    assert msgs(p) == [
        "spec.containers[0].image: Required value",
        'spec.containers[1].image: Invalid value: " x": must not have leading or trailing whitespace',
    ]
    assert validate_pod_resources(p, ON, require_image=False) == [
        'spec.containers[1].image: Invalid value: " x": must not have leading or trailing whitespace'
    ]


def test_restart_policies() -> None:
    # ContainerRestartRules on (1.36 default): Always/Never/OnFailure accepted everywhere
    p = pod([ctr("a", rp="Never")], init=[ctr("i", rp="OnFailure"), ctr("j", rp="Sometimes")])
    assert msgs(p) == [
        'spec.initContainers[1].restartPolicy: Unsupported value: "Sometimes": '
        'supported values: "Always", "Never", "OnFailure"'
    ]
    off = FeatureGates({"ContainerRestartRules": False})
    assert msgs(p, off) == [
        "spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers",
        'spec.initContainers[0].restartPolicy: Unsupported value: "OnFailure": supported values: "Always"',
        'spec.initContainers[1].restartPolicy: Unsupported value: "Sometimes": supported values: "Always"',
    ]


def test_metadata_checks() -> None:
    p = Pod("Bad_Name", namespace="kube.system", containers=[ctr()], labels={"app": "ok", "-x": "y"})
    got = msgs(p)
    assert got[0].startswith('metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain')
    assert got[1] == 'metadata.namespace: Invalid value: "kube.system": must not contain dots'
    assert got[2].startswith('metadata.labels: Invalid value: "-x": name part must consist of')
    assert Pod("", containers=[ctr()]).name == ""
    assert msgs(Pod("", containers=[ctr()])) == ["metadata.name: Required value: name or generateName is required"]


def test_pod_level_checks_skipped_when_gate_off() -> None:
    p = pod([ctr("a", rl(cpu="2"))], Resources(rl(cpu="1"), rl(ephemeral_storage="1Gi")))
    assert msgs(p, OFF) == []
    assert len(msgs(p, ON)) == 2


def test_valid_pods() -> None:
    side = ctr("s", rl(cpu="1", memory="1Gi"), rl(cpu="1", memory="1Gi"), "Always")
    p = pod(
        [ctr("a", rl(cpu="2", memory="1Gi"), rl(cpu="2", memory="1Gi")), ctr("b")],
        Resources(rl(cpu="4", memory="4Gi"), {**rl(cpu="4", memory="4Gi"), **hp("4Mi")}),
        init=[side],
    )
    assert msgs(p) == []


# -- rendering helpers ----------------------------------------------------------------------------
def test_aggregate_message() -> None:
    assert aggregate_message(["a"]) == "a"
    assert aggregate_message(["a", "b", "a"]) == "[a, b]"
    assert aggregate_message(["a", "a"]) == "a"


def test_quoting() -> None:
    assert go_quote('a"b\\c\n') == '"a\\"b\\\\c\\n"'
    assert go_quote("é") == '"é"'
    assert json_quote("<a&b>") == '"\\u003ca\\u0026b\\u003e"'


def test_dns_label() -> None:
    assert is_dns1123_label("abc-1") == []
    assert is_dns1123_label("a" * 64)[0] == "must be no more than 63 characters"


# -- through admit_to_api -------------------------------------------------------------------------
def test_admit_to_api_invalid_message() -> None:
    p = pod([ctr("a", rl(cpu="2"), rl(cpu="1")), ctr("b", rl(cpu="1"))], Resources(rl(cpu="1"), {}))
    stored, message = admit_to_api(p, ON)
    assert stored is None
    assert message == (
        'Pod "p" is invalid: [spec.containers[0].resources.requests: Invalid value: "2": '
        "must be less than or equal to cpu limit of 1, "
        'spec.resources.requests[cpu]: Invalid value: "1": must be greater than or equal to '
        "aggregate container requests of 3]"
    )


def test_admit_to_api_defaulting_makes_pod_invalid() -> None:
    # pod-level request defaults to the container aggregate (2500m), above the pod limit (2)
    p = pod([ctr("a", None, rl(cpu="1")), ctr("b", rl(cpu="1500m"))], Resources({}, rl(cpu="2", memory="1Gi")))
    stored, message = admit_to_api(p, ON)
    assert stored is None
    assert message == (
        'Pod "p" is invalid: spec.resources.requests: Invalid value: "2500m": '
        "must be less than or equal to cpu limit of 2"
    )
    # gate off: nothing pod-level is defaulted or checked
    stored, message = admit_to_api(p, OFF)
    assert message is None and stored is not None
    assert stored.qos_class == "Burstable"
