"""Ports of the kubelet's topology manager policy tests (pkg/kubelet/cm/topologymanager).

policy_test.go (the merge tables, TestMaxOfMinAffinityCounts, TestCompareHintsNarrowest),
policy_none_test.go, policy_best_effort_test.go, policy_restricted_test.go,
policy_single_numa_node_test.go, numa_info_test.go and the essentials of
bitmask/bitmask_test.go. The merge tables were translated mechanically from the Go
literals: a ``mockHintProvider`` returning a nil map is ``None``, a resource with a
nil hint slice is ``None`` and an empty slice is ``[]``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import NamedTuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from topolet.engine.bitmask import is_narrower_than, iterate_bitmasks, mask_of
from topolet.engine.hint import ProviderHints, TopologyHint
from topolet.engine.topologymanager.policy import (
    POLICIES,
    POLICY_BEST_EFFORT,
    POLICY_NONE,
    POLICY_RESTRICTED,
    POLICY_SINGLE_NUMA_NODE,
    BestEffortPolicy,
    HintMerger,
    NonePolicy,
    NUMAInfo,
    Policy,
    RestrictedPolicy,
    SingleNumaNodePolicy,
    filter_providers_hints,
    filter_single_numa_hints,
    is_alignment_guaranteed,
    max_of_min_affinity_counts,
    new_policy,
)

H = TopologyHint


def m(*ids: int) -> int:
    """``NewTestBitMask``: ``m()`` is the empty (non-nil) mask."""
    return mask_of(ids)


class MergeCase(NamedTuple):
    name: str
    providers_hints: list[ProviderHints]  # what each mockHintProvider returns
    expected: TopologyHint


# --- NUMA infos (policy_test.go) ------------------------------------------------


def common_numa_info_two_nodes() -> NUMAInfo:
    return NUMAInfo(nodes=[0, 1], distances={0: [10, 11], 1: [11, 10]})


def common_numa_info_four_nodes() -> NUMAInfo:
    return NUMAInfo(
        nodes=[0, 1, 2, 3],
        distances={
            0: [10, 11, 12, 12],
            1: [11, 10, 12, 12],
            2: [12, 12, 10, 11],
            3: [12, 12, 11, 10],
        },
    )


def common_numa_info_eight_nodes() -> NUMAInfo:
    return NUMAInfo(
        nodes=[0, 1, 2, 3, 4, 5, 6, 7],
        distances={
            0: [10, 11, 12, 12, 30, 30, 30, 30],
            1: [11, 10, 12, 12, 30, 30, 30, 30],
            2: [12, 12, 10, 11, 30, 30, 30, 30],
            3: [12, 12, 11, 10, 30, 30, 30, 30],
            4: [30, 30, 30, 30, 10, 11, 12, 12],
            5: [30, 30, 30, 30, 11, 10, 12, 12],
            6: [30, 30, 30, 30, 12, 12, 10, 11],
            7: [30, 30, 30, 30, 12, 12, 13, 10],
        },
    )


# --- the merge tables (policy_test.go) ---------------------------------------------


def common_policy_merge_test_cases(numa_nodes: list[int]) -> list[MergeCase]:
    # policy_test.go: commonPolicyMergeTestCases(numaNodes []int) []policyMergeTestCase
    return [
        MergeCase(
            "Two providers, 1 hint each, same mask, both preferred 1/2",
            [{"resource1": [H(m(0), True)]}, {"resource2": [H(m(0), True)]}],
            H(m(0), True),
        ),
        MergeCase(
            "Two providers, 1 hint each, same mask, both preferred 2/2",
            [{"resource1": [H(m(1), True)]}, {"resource2": [H(m(1), True)]}],
            H(m(1), True),
        ),
        MergeCase(
            "Two providers, 1 no hints, 1 single hint preferred 1/2",
            [None, {"resource": [H(m(0), True)]}],
            H(m(0), True),
        ),
        MergeCase(
            "Two providers, 1 no hints, 1 single hint preferred 2/2",
            [None, {"resource": [H(m(1), True)]}],
            H(m(1), True),
        ),
        MergeCase(
            "Two providers, 1 with 2 hints, 1 with single hint matching 1/2",
            [{"resource1": [H(m(0), True), H(m(1), True)]}, {"resource2": [H(m(0), True)]}],
            H(m(0), True),
        ),
        MergeCase(
            "Two providers, 1 with 2 hints, 1 with single hint matching 2/2",
            [{"resource1": [H(m(0), True), H(m(1), True)]}, {"resource2": [H(m(1), True)]}],
            H(m(1), True),
        ),
        MergeCase(
            "Two providers, both with 2 hints, matching narrower preferred hint from both",
            [
                {"resource1": [H(m(0), True), H(m(1), True)]},
                {"resource2": [H(m(0), True), H(m(0, 1), False)]},
            ],
            H(m(0), True),
        ),
        MergeCase(
            "Ensure less narrow preferred hints are chosen over narrower non-preferred hints",
            [
                {"resource1": [H(m(1), True), H(m(0, 1), False)]},
                {"resource2": [H(m(0), True), H(m(1), True), H(m(0, 1), False)]},
            ],
            H(m(1), True),
        ),
        MergeCase(
            "Multiple resources, same provider",
            [
                {
                    "resource1": [H(m(1), True), H(m(0, 1), False)],
                    "resource2": [H(m(0), True), H(m(1), True), H(m(0, 1), False)],
                }
            ],
            H(m(1), True),
        ),
    ]


def best_effort_merge_test_cases(numa_nodes: list[int]) -> list[MergeCase]:
    # policy_test.go: (p *bestEffortPolicy) mergeTestCases(numaNodes []int) []policyMergeTestCase
    return [
        MergeCase(
            "Two providers, 2 hints each, same mask (some with different bits), same preferred",
            [
                {"resource1": [H(m(0, 1), True), H(m(0, 2), True)]},
                {"resource2": [H(m(0, 1), True), H(m(0, 2), True)]},
            ],
            H(m(0, 1), True),
        ),
        MergeCase(
            "TopologyHint not set",
            [],
            H(m(*numa_nodes), True),
        ),
        MergeCase(
            "HintProvider returns empty non-nil map[string][]TopologyHint",
            [{}],
            H(m(*numa_nodes), True),
        ),
        MergeCase(
            "HintProvider returns -nil map[string][]TopologyHint from provider",
            [{"resource": None}],
            H(m(*numa_nodes), True),
        ),
        MergeCase(
            "HintProvider returns empty non-nil map[string][]TopologyHint from provider",
            [{"resource": []}],
            H(m(*numa_nodes), False),
        ),
        MergeCase(
            "Single TopologyHint with Preferred as true and NUMANodeAffinity as nil",
            [{"resource": [H(None, True)]}],
            H(m(*numa_nodes), True),
        ),
        MergeCase(
            "Single TopologyHint with Preferred as false and NUMANodeAffinity as nil",
            [{"resource": [H(None, False)]}],
            H(m(*numa_nodes), False),
        ),
        MergeCase(
            "Two providers, 1 hint each, no common mask",
            [{"resource1": [H(m(0), True)]}, {"resource2": [H(m(1), True)]}],
            H(m(*numa_nodes), False),
        ),
        MergeCase(
            "Two providers, 1 hint each, same mask, 1 preferred, 1 not 1/2",
            [{"resource1": [H(m(0), True)]}, {"resource2": [H(m(0), False)]}],
            H(m(0), False),
        ),
        MergeCase(
            "Two providers, 1 hint each, same mask, 1 preferred, 1 not 2/2",
            [{"resource1": [H(m(1), True)]}, {"resource2": [H(m(1), False)]}],
            H(m(1), False),
        ),
        MergeCase(
            "Two providers, 1 hint each, 1 wider mask, both preferred 1/2",
            [{"resource1": [H(m(0), True)]}, {"resource2": [H(m(0, 1), True)]}],
            H(m(0), False),
        ),
        MergeCase(
            "Two providers, 1 with 2 hints, 1 with single non-preferred hint matching",
            [{"resource1": [H(m(0), True), H(m(1), True)]}, {"resource2": [H(m(0, 1), False)]}],
            H(m(0), False),
        ),
        MergeCase(
            "Two providers, 1 hint each, 1 wider mask, both preferred 2/2",
            [{"resource1": [H(m(1), True)]}, {"resource2": [H(m(0, 1), True)]}],
            H(m(1), False),
        ),
        MergeCase(
            "bestNonPreferredAffinityCount (1)",
            [{"resource1": [H(m(0, 1, 2, 3), False), H(m(0, 1), False)]}, {"resource2": [H(m(0, 1), False)]}],
            H(m(0, 1), False),
        ),
        MergeCase(
            "bestNonPreferredAffinityCount (2)",
            [{"resource1": [H(m(0, 1, 2, 3), False), H(m(0, 1), False)]}, {"resource2": [H(m(0, 3), False)]}],
            H(m(0, 3), False),
        ),
        MergeCase(
            "bestNonPreferredAffinityCount (3)",
            [{"resource1": [H(m(0, 1, 2, 3), False), H(m(0, 1), False)]}, {"resource2": [H(m(1, 2), False)]}],
            H(m(1, 2), False),
        ),
        MergeCase(
            "bestNonPreferredAffinityCount (4)",
            [{"resource1": [H(m(0, 1, 2, 3), False), H(m(0, 1), False)]}, {"resource2": [H(m(2, 3), False)]}],
            H(m(2, 3), False),
        ),
    ]


def best_effort_merge_test_cases_no_policies(numa_nodes: list[int]) -> list[MergeCase]:
    # policy_test.go: (p *bestEffortPolicy) mergeTestCasesNoPolicies(numaNodes []int) []policyMergeTestCase
    return [
        MergeCase(
            "bestNonPreferredAffinityCount (5)",
            [
                {"resource1": [H(m(0, 1, 2, 3), False), H(m(0, 1), False)]},
                {"resource2": [H(m(1, 2), False), H(m(2, 3), False)]},
            ],
            H(m(1, 2), False),
        ),
        MergeCase(
            "bestNonPreferredAffinityCount (6)",
            [
                {"resource1": [H(m(0, 1, 2, 3), False), H(m(0, 1), False)]},
                {
                    "resource2": [
                        H(m(1, 2, 3), False),
                        H(m(1, 2), False),
                        H(m(1, 3), False),
                        H(m(2, 3), False),
                    ]
                },
            ],
            H(m(1, 2), False),
        ),
    ]


def best_effort_merge_test_cases_closest_numa(numa_nodes: list[int]) -> list[MergeCase]:
    # policy_test.go: (p *bestEffortPolicy) mergeTestCasesClosestNUMA(numaNodes []int) []policyMergeTestCase
    return [
        MergeCase(
            "Two providers, 2 hints each, same mask (some with different bits), same preferred",
            [
                {"resource1": [H(m(0, 4), True), H(m(0, 2), True)]},
                {"resource2": [H(m(0, 4), True), H(m(0, 2), True)]},
            ],
            H(m(0, 2), True),
        ),
        MergeCase(
            "Two providers, 2 hints each, different mask",
            [
                {"resource1": [H(m(4), True), H(m(0, 2), True)]},
                {"resource2": [H(m(4), True), H(m(0, 2), True)]},
            ],
            H(m(4), True),
        ),
        MergeCase(
            "bestNonPreferredAffinityCount (5)",
            [
                {"resource1": [H(m(0, 1, 2, 3), False), H(m(0, 1), False)]},
                {"resource2": [H(m(1, 2), False), H(m(2, 3), False)]},
            ],
            H(m(2, 3), False),
        ),
        MergeCase(
            "bestNonPreferredAffinityCount (6)",
            [
                {"resource1": [H(m(0, 1, 2, 3), False), H(m(0, 1), False)]},
                {
                    "resource2": [
                        H(m(1, 2, 3), False),
                        H(m(1, 2), False),
                        H(m(1, 3), False),
                        H(m(2, 3), False),
                    ]
                },
            ],
            H(m(2, 3), False),
        ),
    ]


def single_numa_node_merge_test_cases(numa_nodes: list[int]) -> list[MergeCase]:
    # policy_test.go: (p *singleNumaNodePolicy) mergeTestCases(numaNodes []int) []policyMergeTestCase
    return [
        MergeCase(
            "TopologyHint not set",
            [],
            H(None, True),
        ),
        MergeCase(
            "HintProvider returns empty non-nil map[string][]TopologyHint",
            [{}],
            H(None, True),
        ),
        MergeCase(
            "HintProvider returns -nil map[string][]TopologyHint from provider",
            [{"resource": None}],
            H(None, True),
        ),
        MergeCase(
            "HintProvider returns empty non-nil map[string][]TopologyHint from provider",
            [{"resource": []}],
            H(None, False),
        ),
        MergeCase(
            "Single TopologyHint with Preferred as true and NUMANodeAffinity as nil",
            [{"resource": [H(None, True)]}],
            H(None, True),
        ),
        MergeCase(
            "Single TopologyHint with Preferred as false and NUMANodeAffinity as nil",
            [{"resource": [H(None, False)]}],
            H(None, False),
        ),
        MergeCase(
            "Two providers, 1 hint each, no common mask",
            [{"resource1": [H(m(0), True)]}, {"resource2": [H(m(1), True)]}],
            H(None, False),
        ),
        MergeCase(
            "Two providers, 1 hint each, same mask, 1 preferred, 1 not 1/2",
            [{"resource1": [H(m(0), True)]}, {"resource2": [H(m(0), False)]}],
            H(None, False),
        ),
        MergeCase(
            "Two providers, 1 hint each, same mask, 1 preferred, 1 not 2/2",
            [{"resource1": [H(m(1), True)]}, {"resource2": [H(m(1), False)]}],
            H(None, False),
        ),
        MergeCase(
            "Two providers, 1 with 2 hints, 1 with single non-preferred hint matching",
            [{"resource1": [H(m(0), True), H(m(1), True)]}, {"resource2": [H(m(0, 1), False)]}],
            H(None, False),
        ),
        MergeCase(
            "Single NUMA hint generation",
            [
                {
                    "resource1": [H(m(0, 1), True)],
                    "resource2": [H(m(0), True), H(m(1), True), H(m(0, 1), False)],
                }
            ],
            H(None, False),
        ),
        MergeCase(
            "One no-preference provider",
            [{"resource1": [H(m(0), True), H(m(1), True), H(m(0, 1), False)]}, None],
            H(m(0), True),
        ),
    ]


# --- testPolicyMerge ------------------------------------------------------------------

# (test name, policy class, NUMA info factory, prefer-closest-numa-nodes, case table factories)
MERGE_SUITES: list[tuple[str, type[Policy], Callable[[], NUMAInfo], bool, list[Callable]]] = [
    (
        "TestPolicyBestEffortMerge",
        BestEffortPolicy,
        common_numa_info_four_nodes,
        False,
        [
            common_policy_merge_test_cases,
            best_effort_merge_test_cases,
            best_effort_merge_test_cases_no_policies,
        ],
    ),
    (
        "TestPolicyBestEffortMergeClosestNUMA",
        BestEffortPolicy,
        common_numa_info_eight_nodes,
        True,
        [
            common_policy_merge_test_cases,
            best_effort_merge_test_cases,
            best_effort_merge_test_cases_closest_numa,
        ],
    ),
    (
        "TestPolicyRestrictedMerge",
        RestrictedPolicy,
        common_numa_info_four_nodes,
        False,
        [
            common_policy_merge_test_cases,
            best_effort_merge_test_cases,
            best_effort_merge_test_cases_no_policies,
        ],
    ),
    (
        "TestPolicyRestrictedMergeClosestNUMA",
        RestrictedPolicy,
        common_numa_info_eight_nodes,
        True,
        [
            common_policy_merge_test_cases,
            best_effort_merge_test_cases,
            best_effort_merge_test_cases_closest_numa,
        ],
    ),
    (
        "TestPolicySingleNumaNodeMerge",
        SingleNumaNodePolicy,
        common_numa_info_four_nodes,
        False,
        [common_policy_merge_test_cases, single_numa_node_merge_test_cases],
    ),
]


def _merge_params() -> list:
    params = []
    for test, cls, numa_factory, closest, tables in MERGE_SUITES:
        numa = numa_factory()
        for table in tables:
            for case in table(numa.nodes):
                params.append(pytest.param(cls, numa_factory, closest, case, id=f"{test}/{table.__name__}/{case.name}"))
    return params


def _resource_orders(providers_hints: list[ProviderHints]) -> list[list[ProviderHints]]:
    """Every iteration order of each provider's resources (Go's map order is random)."""
    per_provider: list[list[ProviderHints]] = []
    for hints in providers_hints:
        if not hints:
            per_provider.append([hints])
            continue
        per_provider.append([{k: hints[k] for k in keys} for keys in itertools.permutations(hints)])
    return [list(combo) for combo in itertools.product(*per_provider)]


@pytest.mark.parametrize(("cls", "numa_factory", "closest", "case"), _merge_params())
def test_policy_merge(cls: type[Policy], numa_factory: Callable[[], NUMAInfo], closest: bool, case: MergeCase) -> None:
    policy = cls(numa_factory(), prefer_closest_numa=closest)
    for providers_hints in _resource_orders(case.providers_hints):
        actual, admit = policy.merge(providers_hints)
        assert actual == case.expected
        # canAdmitPodResult of the policy on the merged hint
        assert admit is (True if cls is BestEffortPolicy else case.expected.preferred)


def test_merge_tables_size() -> None:
    """All the upstream cases were carried over."""
    counts = {
        f.__name__: len(f([0, 1, 2, 3]))
        for f in (
            common_policy_merge_test_cases,
            best_effort_merge_test_cases,
            best_effort_merge_test_cases_no_policies,
            best_effort_merge_test_cases_closest_numa,
            single_numa_node_merge_test_cases,
        )
    }
    assert counts == {
        "common_policy_merge_test_cases": 9,
        "best_effort_merge_test_cases": 17,
        "best_effort_merge_test_cases_no_policies": 2,
        "best_effort_merge_test_cases_closest_numa": 4,
        "single_numa_node_merge_test_cases": 12,
    }


# --- names, canAdmitPodResult, none policy ---------------------------------------------


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        (POLICY_NONE, NonePolicy),
        (POLICY_BEST_EFFORT, BestEffortPolicy),
        (POLICY_RESTRICTED, RestrictedPolicy),
        (POLICY_SINGLE_NUMA_NODE, SingleNumaNodePolicy),
    ],
    ids=["TestPolicyNoneName", "best-effort", "TestPolicyRestrictedName", "single-numa-node"],
)
def test_policy_name(name: str, cls: type[Policy]) -> None:
    policy = new_policy(name, common_numa_info_two_nodes(), False)
    assert type(policy) is cls
    assert policy.name == name
    assert POLICIES == (POLICY_NONE, POLICY_BEST_EFFORT, POLICY_RESTRICTED, POLICY_SINGLE_NUMA_NODE)


def test_is_alignment_guaranteed() -> None:
    numa = common_numa_info_two_nodes()
    assert [is_alignment_guaranteed(new_policy(n, numa, False)) for n in POLICIES] == [
        False,
        False,
        False,
        True,
    ]


@pytest.mark.parametrize(
    ("cls", "hint", "expected"),
    [
        pytest.param(
            BestEffortPolicy,
            H(None, False),
            True,
            id="TestPolicyBestEffortCanAdmitPodResult/Preferred is set to false in topology hints",
        ),
        pytest.param(
            BestEffortPolicy,
            H(None, True),
            True,
            id="TestPolicyBestEffortCanAdmitPodResult/Preferred is set to true in topology hints",
        ),
        pytest.param(
            RestrictedPolicy,
            H(None, False),
            False,
            id="TestPolicyRestrictedCanAdmitPodResult/Preferred is set to false in topology hints",
        ),
        pytest.param(
            RestrictedPolicy,
            H(None, True),
            True,
            id="TestPolicyRestrictedCanAdmitPodResult/Preferred is set to true in topology hints",
        ),
    ],
)
def test_can_admit_pod_result(cls: type[BestEffortPolicy], hint: TopologyHint, expected: bool) -> None:
    policy = cls(common_numa_info_two_nodes())
    assert policy.can_admit(hint) is expected


def test_policy_single_numa_node_can_admit_pod_result() -> None:
    """TestPolicySingleNumaNodeCanAdmitPodResult: admit is the merged hint's Preferred."""
    policy = SingleNumaNodePolicy(common_numa_info_two_nodes())
    # nothing can be merged (an empty hint list): {nil, false} after the default-mask reset
    assert policy.merge([{"resource": []}]) == (H(None, False), False)
    assert policy.merge([{"resource": [H(m(0), True)]}]) == (H(m(0), True), True)


@pytest.mark.parametrize(
    "providers_hints",
    [
        pytest.param([], id="merged empty providers hints"),
        pytest.param(
            [{"resource": [H(m(0, 1), True)]}],
            id="merge with a single provider with a single preferred resource",
        ),
        pytest.param(
            [{"resource": [H(m(0, 1), False)]}],
            id="merge with a single provider with a single non-preferred resource",
        ),
    ],
)
def test_policy_none_merge(providers_hints: list[ProviderHints]) -> None:
    """TestPolicyNoneMerge: always TopologyHint{} and admit."""
    assert NonePolicy(common_numa_info_two_nodes()).merge(providers_hints) == (H(None, False), True)


# --- filterProvidersHints ------------------------------------------------------------------


def test_filter_providers_hints() -> None:
    hints = [H(m(0), True), H(m(0, 1), False)]
    assert filter_providers_hints([None, {}, {"a": None, "b": [], "c": hints}, {"d": [H(None, False)]}]) == [
        [H(None, True)],  # nil map: no preference
        [H(None, True)],  # empty map: no preference
        [H(None, True)],  # nil slice: no preference for the resource
        [H(None, False)],  # empty slice: no possible affinity
        hints,
        [H(None, False)],
    ]
    assert filter_providers_hints([]) == []


# --- TestPolicySingleNumaNodeFilterHints --------------------------------------------------


@pytest.mark.parametrize(
    ("all_resources", "expected"),
    [
        pytest.param(all_resources, expected, id=name)
        for name, all_resources, expected in [
            ("filter empty resources", [], []),
            (
                "filter hints with nil socket mask 1/2",
                [[H(None, False)], [H(None, True)]],
                [[], [H(None, True)]],
            ),
            (
                "filter hints with nil socket mask 2/2",
                [[H(m(0), True), H(None, False)], [H(m(1), True), H(None, True)]],
                [[H(m(0), True)], [H(m(1), True), H(None, True)]],
            ),
            (
                "filter hints with empty resource socket mask",
                [[H(m(1), True), H(m(0), True), H(None, False)], []],
                [[H(m(1), True), H(m(0), True)], []],
            ),
            (
                "filter hints with wide sockemask",
                [
                    [H(m(0), True), H(m(1), True), H(m(1, 2), False), H(m(0, 1, 2), False), H(None, False)],
                    [H(m(1, 2), False), H(m(0, 1, 2), False), H(m(0, 2), False), H(m(3), False)],
                    [H(m(1, 2), False), H(m(0, 1, 2), False), H(m(0, 2), False)],
                ],
                [[H(m(0), True), H(m(1), True)], [], []],
            ),
        ]
    ],
)
def test_policy_single_numa_node_filter_hints(
    all_resources: list[list[TopologyHint]], expected: list[list[TopologyHint]]
) -> None:
    # Go's nil slices ([]TopologyHint(nil)) are empty lists here
    assert filter_single_numa_hints(all_resources) == expected


# --- TestMaxOfMinAffinityCounts --------------------------------------------------------------


@pytest.mark.parametrize(
    ("hints", "expected"),
    [
        ([], 0),
        ([[H(m(), True)]], 0),
        ([[H(m(0), True)]], 1),
        ([[H(m(0, 1), True)]], 2),
        ([[H(m(0, 1), True), H(m(0, 1, 2), True)]], 2),
        ([[H(m(0, 1), True), H(m(0, 1, 2), True)], [H(m(0, 1, 2), True)]], 3),
        ([[H(m(0, 1), True), H(m(0, 1, 2), True)], [H(m(0, 1, 2), True), H(m(0, 1, 2, 3), True)]], 3),
    ],
)
def test_max_of_min_affinity_counts(hints: list[list[TopologyHint]], expected: int) -> None:
    assert max_of_min_affinity_counts(hints) == expected


def test_max_of_min_affinity_counts_skips_nil_masks() -> None:
    assert max_of_min_affinity_counts([[H(None, True)], [H(None, False), H(m(1, 2), False)]]) == 2


# --- TestCompareHintsNarrowest ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("best_non_preferred_count", "current", "candidate", "expected"),
    [
        pytest.param(count, current, candidate, expected, id=description)
        for description, count, current, candidate, expected in [
            ("candidate.NUMANodeAffinity.Count() == 0 (1)", -1, None, H(m(), False), "current"),
            ("candidate.NUMANodeAffinity.Count() == 0 (2)", -1, H(m(), True), H(m(), False), "current"),
            ("current == nil (1)", -1, None, H(m(0), True), "candidate"),
            ("current == nil (2)", -1, None, H(m(0), False), "candidate"),
            ("!current.Preferred && candidate.Preferred", -1, H(m(0), False), H(m(0), True), "candidate"),
            ("current.Preferred && !candidate.Preferred", -1, H(m(0), True), H(m(0), False), "current"),
            ("current.Preferred && candidate.Preferred (1)", -1, H(m(0), True), H(m(0), True), "current"),
            (
                "current.Preferred && candidate.Preferred (2)",
                -1,
                H(m(0, 1), True),
                H(m(0), True),
                "candidate",
            ),
            ("current.Preferred && candidate.Preferred (3)", -1, H(m(0), True), H(m(0, 1), True), "current"),
            (
                "!current.Preferred && !candidate.Preferred (1.1)",
                1,
                H(m(0, 1), False),
                H(m(0, 1), False),
                "current",
            ),
            (
                "!current.Preferred && !candidate.Preferred (1.2)",
                1,
                H(m(1, 2), False),
                H(m(0, 1), False),
                "candidate",
            ),
            (
                "!current.Preferred && !candidate.Preferred (1.3)",
                1,
                H(m(0, 1), False),
                H(m(1, 2), False),
                "current",
            ),
            (
                "!current.Preferred && !candidate.Preferred (2.1)",
                2,
                H(m(0, 1), False),
                H(m(0), False),
                "current",
            ),
            (
                "!current.Preferred && !candidate.Preferred (2.2)",
                2,
                H(m(0, 1), False),
                H(m(0, 1), False),
                "current",
            ),
            (
                "!current.Preferred && !candidate.Preferred (2.3)",
                2,
                H(m(1, 2), False),
                H(m(0, 1), False),
                "candidate",
            ),
            (
                "!current.Preferred && !candidate.Preferred (2.4)",
                2,
                H(m(0, 1), False),
                H(m(1, 2), False),
                "current",
            ),
            (
                "!current.Preferred && !candidate.Preferred (3a)",
                2,
                H(m(0), False),
                H(m(0, 1, 2), False),
                "current",
            ),
            (
                "!current.Preferred && !candidate.Preferred (3b)",
                2,
                H(m(0), False),
                H(m(0, 1), False),
                "candidate",
            ),
            (
                "!current.Preferred && !candidate.Preferred (3ca.1)",
                3,
                H(m(0), False),
                H(m(0, 1), False),
                "candidate",
            ),
            (
                "!current.Preferred && !candidate.Preferred (3ca.2)",
                3,
                H(m(0), False),
                H(m(1, 2), False),
                "candidate",
            ),
            (
                "!current.Preferred && !candidate.Preferred (3ca.3)",
                4,
                H(m(0, 1), False),
                H(m(1, 2, 3), False),
                "candidate",
            ),
            (
                "!current.Preferred && !candidate.Preferred (3cb)",
                4,
                H(m(1, 2, 3), False),
                H(m(0, 1), False),
                "current",
            ),
            (
                "!current.Preferred && !candidate.Preferred (3cc.1)",
                4,
                H(m(0, 1, 2), False),
                H(m(0, 1, 2), False),
                "current",
            ),
            (
                "!current.Preferred && !candidate.Preferred (3cc.2)",
                4,
                H(m(0, 1, 2), False),
                H(m(1, 2, 3), False),
                "current",
            ),
            (
                "!current.Preferred && !candidate.Preferred (3cc.3)",
                4,
                H(m(1, 2, 3), False),
                H(m(0, 1, 2), False),
                "candidate",
            ),
        ]
    ],
)
def test_compare_hints_narrowest(
    best_non_preferred_count: int,
    current: TopologyHint | None,
    candidate: TopologyHint,
    expected: str,
) -> None:
    merger = HintMerger(NUMAInfo([], {}), [], POLICY_BEST_EFFORT, False)
    merger.best_non_preferred_count = best_non_preferred_count
    result = merger.compare(current, candidate)
    # identity, as the Go test compares pointers
    assert result is current or result is candidate
    assert result is (current if expected == "current" else candidate)


# --- numa_info_test.go -------------------------------------------------------------------------

FOUR_NODE_DISTANCES = {
    0: [10, 11, 12, 12],
    1: [11, 10, 12, 12],
    2: [12, 12, 10, 11],
    3: [12, 12, 11, 10],
}


@pytest.mark.parametrize(
    ("bits", "distances", "expected"),
    [
        pytest.param([0], {0: [10]}, 10, id="1 NUMA node"),
        pytest.param([0], {0: [10, 11], 1: [11, 10]}, 10, id="2 NUMA node, 1 set in bitmask"),
        pytest.param([0, 1], {0: [10, 11], 1: [11, 10]}, 10.5, id="2 NUMA node, 2 set in bitmask"),
        pytest.param([0, 2], FOUR_NODE_DISTANCES, 11, id="4 NUMA node, 2 set in bitmask"),
        pytest.param([0, 2, 3], FOUR_NODE_DISTANCES, 11.11111111111111, id="4 NUMA node, 3 set in bitmask"),
        pytest.param([], {}, 0, id="0 NUMA node, 0 set in bitmask"),
    ],
)
def test_calculate_avg_distance_for(bits: list[int], distances: dict[int, list[int]], expected: float) -> None:
    """TestCalculateAvgDistanceFor (exact float equality, as in Go)."""
    numa = NUMAInfo(nodes=bits, distances=distances)
    assert numa.average_distance(mask_of(bits)) == expected


@pytest.mark.parametrize(
    ("current", "candidate", "expected", "distances"),
    [
        pytest.param(
            m(0),
            m(0, 2),
            "current",
            {},
            id="current and candidate length is not the same, current narrower",
        ),
        pytest.param(
            m(0, 1),
            m(0, 2),
            "current",
            {0: [10, 10, 10], 1: [10, 10, 10], 2: [10, 10, 10]},
            id="current and candidate length is the same, distance is the same, current more lower bits set",
        ),
        pytest.param(
            m(0, 3),
            m(0, 2),
            "candidate",
            {i: [10, 10, 10, 10] for i in range(4)},
            id=("current and candidate length is the same, distance is the same, candidate more lower bits set"),
        ),
        pytest.param(
            m(0, 3),
            m(0, 1),
            "candidate",
            FOUR_NODE_DISTANCES,
            id="current and candidate length is the same, candidate average distance is smaller",
        ),
        pytest.param(
            m(2, 3),
            m(0, 3),
            "current",
            FOUR_NODE_DISTANCES,
            id="current and candidate length is the same, current average distance is smaller",
        ),
    ],
)
def test_closest(current: int, candidate: int, expected: str, distances: dict[int, list[int]]) -> None:
    """TestClosest (which calls Closest(candidate, current))."""
    numa = NUMAInfo(nodes=[], distances=distances)
    want = current if expected == "current" else candidate
    assert numa.closest(candidate, current) == want
    assert numa.closest(current, candidate) == want


@pytest.mark.parametrize(
    ("m1", "m2", "expected"),
    [
        (m(0), m(0, 1), m(0)),
        (m(0, 1), m(0), m(0)),
        (m(1), m(0), m(0)),
        # equal counts: the smaller integer (IsLessThan), not the lowest first bit
        (m(0, 3), m(1, 2), m(1, 2)),
        (m(1, 2), m(0, 3), m(1, 2)),
        (m(2), m(2), m(2)),
    ],
)
def test_narrowest(m1: int, m2: int, expected: int) -> None:
    assert NUMAInfo([0, 1, 2, 3], {}).narrowest(m1, m2) == expected


@pytest.mark.parametrize(
    ("nodes", "expected"),
    [
        pytest.param([0], m(0), id="positive test 1 node"),
        pytest.param([0, 1], m(0, 1), id="positive test 2 nodes"),
        pytest.param([0, 1, 2, 3], m(0, 1, 2, 3), id="positive test 4 nodes"),
        pytest.param([1], m(1), id="one node and its id is 1"),
        pytest.param([0, 2], m(0, 2), id="two nodes not sequential"),
        pytest.param([], 0, id="no nodes"),
    ],
)
def test_default_affinity_mask(nodes: list[int], expected: int) -> None:
    assert NUMAInfo(nodes, {}).default_affinity_mask() == expected


def test_closest_prefers_lower_average_distance_on_eight_nodes() -> None:
    numa = common_numa_info_eight_nodes()
    assert numa.average_distance(m(2, 3)) == 10.5
    assert numa.average_distance(m(1, 2)) == 11
    assert numa.closest(m(1, 2), m(2, 3)) == m(2, 3)
    # row 7 is asymmetric (d[7][6] = 13)
    assert numa.average_distance(m(6, 7)) == (10 + 11 + 13 + 10) / 4
    assert numa.closest(m(6, 7), m(4, 5)) == m(4, 5)
    # different widths: the narrower wins whatever the distances
    assert numa.closest(m(0, 4), m(0, 1, 2)) == m(0, 4)


# --- bitmask_test.go ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        pytest.param([0], [0, 1], True, id="Check narrowness of masks with unequal bits set 1/2"),
        pytest.param([0, 1], [0], False, id="Check narrowness of masks with unequal bits set 2/2"),
        pytest.param([0], [1], True, id="Check narrowness of masks with equal bits set 1/2"),
        pytest.param([1], [0], False, id="Check narrowness of masks with equal bits set 2/2"),
        # TestIsLessThan (what IsNarrowerThan falls back to on equal counts)
        pytest.param([0], [0], False, id="Check which value is lower of masks with equal bits set 1/1"),
        pytest.param([1], [0], False, id="Check which value is lower of masks with unequal bits set 2/1"),
        pytest.param([0], [1], True, id="Check which value is lower of masks with unequal bits set 1/2"),
        pytest.param([0, 3], [1, 2], False, id="equal counts, higher value"),
        pytest.param([2, 3], [0, 1, 2], True, id="fewer bits, higher value"),
    ],
)
def test_is_narrower_than(first: list[int], second: list[int], expected: bool) -> None:
    assert is_narrower_than(mask_of(first), mask_of(second)) is expected


def _go_iterate_bitmasks(bits: list[int]) -> list[int]:
    """A literal port of bitmask.IterateBitMasks' recursion."""
    out: list[int] = []

    def iterate(bits: list[int], accum: list[int], size: int) -> None:
        if len(accum) == size:
            out.append(mask_of(accum))
            return
        for i in range(len(bits)):
            iterate(bits[i + 1 :], [*accum, bits[i]], size)

    for size in range(1, len(bits) + 1):
        iterate(bits, [], size)
    return out


@pytest.mark.parametrize("numbits", [1, 2, 4, 8, 16], ids=lambda n: f"{n} bit" + ("s" if n > 1 else ""))
def test_iterate_bitmasks(numbits: int) -> None:
    masks = list(iterate_bitmasks(list(range(numbits))))
    assert len(masks) == (1 << numbits) - 1
    assert len(set(masks)) == len(masks)


@pytest.mark.parametrize("bits", [[0], [0, 1], [0, 1, 2, 3], [1, 3, 4], [0, 2, 5, 7], list(range(8))])
def test_iterate_bitmasks_order(bits: list[int]) -> None:
    assert list(iterate_bitmasks(bits)) == _go_iterate_bitmasks(bits)


def test_iterate_bitmasks_order_literal() -> None:
    # by size, then lexicographic in the given bit order
    assert list(iterate_bitmasks([0, 1, 2])) == [m(0), m(1), m(2), m(0, 1), m(0, 2), m(1, 2), m(0, 1, 2)]
    assert list(iterate_bitmasks([2, 0])) == [m(2), m(0), m(0, 2)]


# --- the merge against a literal port of the Go iteration --------------------------------------


def _go_merge(merger: HintMerger, default_affinity: int) -> TopologyHint:
    """HintMerger.Merge with iterateAllProviderTopologyHints' recursion and mergePermutation."""
    best: TopologyHint | None = None

    def merge_permutation(permutation: Sequence[TopologyHint]) -> TopologyHint:
        preferred = True
        affinities: list[int] = []
        for hint in permutation:
            if hint.mask is not None:
                affinities.append(hint.mask)
                if hint.mask != affinities[0]:
                    preferred = False
            if not hint.preferred:
                preferred = False
        merged = default_affinity
        for a in affinities:
            merged &= a
        return TopologyHint(merged, preferred)

    def iterate(i: int, accum: list[TopologyHint]) -> None:
        nonlocal best
        if i == len(merger.hints):
            best = merger.compare(best, merge_permutation(accum))
            return
        for hint in merger.hints[i]:
            iterate(i + 1, [*accum, hint])

    iterate(0, [])
    if best is None:
        return TopologyHint(default_affinity, False)
    return best


def _go_policy_merge(
    name: str, numa: NUMAInfo, closest: bool, providers_hints: list[ProviderHints]
) -> tuple[TopologyHint, bool]:
    filtered = filter_providers_hints(providers_hints)
    if name == POLICY_SINGLE_NUMA_NODE:
        filtered = filter_single_numa_hints(filtered)
    default = numa.default_affinity_mask()
    best = _go_merge(HintMerger(numa, filtered, name, closest), default)
    if name == POLICY_SINGLE_NUMA_NODE:
        if best.mask == default:
            best = TopologyHint(None, best.preferred)
        return best, best.preferred
    return best, name == POLICY_BEST_EFFORT or best.preferred


_hint = st.builds(TopologyHint, st.one_of(st.none(), st.integers(0, 255)), st.booleans())
_resource_hints = st.one_of(st.none(), st.lists(_hint, max_size=3))
_provider_hints = st.one_of(
    st.none(),
    st.dictionaries(st.sampled_from(["cpu", "memory", "hugepages-2Mi"]), _resource_hints, max_size=2),
)


@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from([POLICY_BEST_EFFORT, POLICY_RESTRICTED, POLICY_SINGLE_NUMA_NODE]),
    nodes=st.lists(st.integers(0, 7), min_size=1, max_size=8, unique=True).map(sorted),
    closest=st.booleans(),
    distances=st.lists(st.lists(st.integers(10, 40), min_size=8, max_size=8), min_size=8, max_size=8),
    providers_hints=st.lists(_provider_hints, max_size=3),
)
def test_merge_matches_go_iteration(
    name: str,
    nodes: list[int],
    closest: bool,
    distances: list[list[int]],
    providers_hints: list[ProviderHints],
) -> None:
    numa = NUMAInfo(nodes, {n: distances[n] for n in nodes})
    policy = new_policy(name, numa, closest)
    assert policy.merge(providers_hints) == _go_policy_merge(name, numa, closest, providers_hints)
