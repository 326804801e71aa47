"""Topology manager policy options and start-up checks (topologymanager/policy_options.go,
topology_manager.go ``NewManager``, numa_info.go ``NewNUMAInfo``).

Pure; errors are :class:`~topolet.engine.errors.StartupError` with the
kubelet's text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from topolet.engine.errors import StartupError
from topolet.model.features import (
    TOPOLOGY_MANAGER_POLICY_ALPHA_OPTIONS,
    TOPOLOGY_MANAGER_POLICY_BETA_OPTIONS,
    FeatureGates,
)
from topolet.model.kubelet_config import GoParseError, go_atoi, go_parse_bool, go_quote
from topolet.model.topology import Topology

if TYPE_CHECKING:
    from topolet.model.kubelet_config import KubeletConfig

PREFER_CLOSEST_NUMA_NODES = "prefer-closest-numa-nodes"
MAX_ALLOWABLE_NUMA_NODES = "max-allowable-numa-nodes"
DEFAULT_MAX_ALLOWABLE_NUMA_NODES = 8

POLICY_NONE = "none"
POLICY_BEST_EFFORT = "best-effort"
POLICY_RESTRICTED = "restricted"
POLICY_SINGLE_NUMA_NODE = "single-numa-node"
POLICIES = (POLICY_NONE, POLICY_BEST_EFFORT, POLICY_RESTRICTED, POLICY_SINGLE_NUMA_NODE)
SCOPE_CONTAINER = "container"
SCOPE_POD = "pod"
SCOPES = (SCOPE_CONTAINER, SCOPE_POD)

ALPHA_OPTIONS: frozenset[str] = frozenset()
BETA_OPTIONS: frozenset[str] = frozenset()
STABLE_OPTIONS: frozenset[str] = frozenset({PREFER_CLOSEST_NUMA_NODES, MAX_ALLOWABLE_NUMA_NODES})


@dataclass(frozen=True, slots=True)
class TopologyPolicyOptions:
    """``topologymanager.PolicyOptions``."""

    prefer_closest_numa: bool = False
    max_allowable_numa_nodes: int = DEFAULT_MAX_ALLOWABLE_NUMA_NODES


def check_policy_option_available(option: str, gates: FeatureGates | None = None) -> None:
    """``CheckPolicyOptionAvailable``."""
    if option not in ALPHA_OPTIONS and option not in BETA_OPTIONS and option not in STABLE_OPTIONS:
        raise StartupError(f"unknown Topology Manager Policy option: {go_quote(option)}")
    g = gates or FeatureGates()
    if option in ALPHA_OPTIONS and not g.enabled(TOPOLOGY_MANAGER_POLICY_ALPHA_OPTIONS):
        raise StartupError(
            f"topology manager policy alpha-level options not enabled, but option {go_quote(option)} provided"
        )
    if option in BETA_OPTIONS and not g.enabled(TOPOLOGY_MANAGER_POLICY_BETA_OPTIONS):
        raise StartupError(
            f"topology manager policy beta-level options not enabled, but option {go_quote(option)} provided"
        )


def new_policy_options(options: Mapping[str, str], gates: FeatureGates | None = None) -> TopologyPolicyOptions:
    """``NewPolicyOptions``: parse the options; the first bad one (in name order) is the error.

    (The kubelet walks the options map in Go's random order; with several bad
    options the one it reports may differ from run to run.)
    """
    prefer = False
    max_nodes = DEFAULT_MAX_ALLOWABLE_NUMA_NODES
    for name in sorted(options):
        value = options[name]
        check_policy_option_available(name, gates)
        if name == PREFER_CLOSEST_NUMA_NODES:
            try:
                prefer = go_parse_bool(value)
            except GoParseError as e:
                raise StartupError(f"bad value for option {go_quote(name)}: {e}") from None
        elif name == MAX_ALLOWABLE_NUMA_NODES:
            try:
                n = go_atoi(value)
            except GoParseError as e:
                raise StartupError(f"unable to convert policy option to integer {go_quote(name)}: {e}") from None
            if n < DEFAULT_MAX_ALLOWABLE_NUMA_NODES:
                raise StartupError(
                    f"the minimum value of {go_quote(name)} should not be less than {DEFAULT_MAX_ALLOWABLE_NUMA_NODES}"
                )
            max_nodes = n
        else:  # pragma: no cover - unknown options are refused above
            raise StartupError(f"unsupported topologymanager option: {go_quote(name)} ({value})")
    return TopologyPolicyOptions(prefer, max_nodes)


def topology_policy_options(cfg: KubeletConfig) -> TopologyPolicyOptions:
    """The options the topology manager runs with: policy ``none`` never parses them."""
    if cfg.topology_manager_policy == POLICY_NONE:
        return TopologyPolicyOptions()
    return new_policy_options(cfg.topology_manager_policy_options, cfg.feature_gates)


def check_topology_manager(cfg: KubeletConfig, topology: Topology) -> TopologyPolicyOptions:
    """``topologymanager.NewManager``'s refusals, in its order; returns the parsed options.

    Policy ``none`` short-circuits: its options are never parsed and the NUMA
    count is not checked (invalid options start fine).
    """
    policy = cfg.topology_manager_policy
    if policy == POLICY_NONE:
        return TopologyPolicyOptions()
    opts = new_policy_options(cfg.topology_manager_policy_options, cfg.feature_gates)
    # NewNUMAInfo: the NUMA nodes cAdvisor reports, with distances when needed
    if opts.prefer_closest_numa:
        for nid in topology.numa_ids:
            if not topology.numa_nodes[nid].distances:
                raise StartupError("cannot discover NUMA topology: error getting NUMA distances from cadvisor")
    if len(topology.numa_ids) > opts.max_allowable_numa_nodes:
        raise StartupError(f"unsupported on machines with more than {opts.max_allowable_numa_nodes} NUMA Nodes")
    if policy not in POLICIES:
        raise StartupError(f'unknown policy: "{policy}"')
    if cfg.topology_manager_scope not in SCOPES:
        raise StartupError(f'unknown scope: "{cfg.topology_manager_scope}"')
    return opts
