"""Machine topologies of the upstream kubelet CPU manager unit tests.

These are the ``topo*`` tables of ``pkg/kubelet/cm/cpumanager/policy_test.go``
(used by ``cpu_assignment_test.go`` and the static policy tests) in
Kubernetes 1.36, rebuilt as :class:`~topolet.model.topology.Topology`
objects with the same CPU, core, socket, NUMA node and uncore-cache ids.

Differences from the Go literals, all deliberate:

* Uncore caches: where a Go table gives no ``UncoreCacheID`` the kubelet's
  ``Discover`` would fall back to the socket id, and so do these presets.
  The Go literals leave the field at its zero value (one cache for the whole
  machine); pass ``go_literal_uncore=True`` to get that instead, which is what
  the upstream tests that enable ``prefer-align-cpus-by-uncorecache`` on such
  a table (e.g. ``topoDualSocketHT``) actually exercise.
* Memory: the Go tables describe CPUs only. Each NUMA node gets
  :data:`NUMA_NODE_MEMORY` bytes (128 GiB) here; that is topolet's addition.
* Counts: :class:`Topology` derives ``NumCPUs``, ``NumCores``, ``NumSockets``,
  ``NumNUMANodes`` and ``NumUncoreCache`` from the CPUs, as ``Discover`` does.
  A few Go tables declare inconsistent counts by hand, which the presets
  cannot (and do not) reproduce:

  - ``topoSingleSocketSingleNumaPerSocketNoSMTSmallUncore`` declares
    ``NumCPUs: 128`` for 64 CPUs (so Go sees 2 CPUs per core);
  - ``topoDualSocketMultiNumaPerSocketUncore`` declares ``NumCores: 192`` but
    its CoreIDs repeat across sockets (CPU 96 has CoreID 0 like CPU 0); the
    preset gives every CPU its own core (the intended "NoSMT" machine);
  - several tables leave ``NumNUMANodes`` (and ``NumUncoreCache``) at 0,
    which makes the Go accumulator always go "NUMA nodes first"; it matters
    only for ``topoUncoreSingleSocketMultiNuma`` (1 socket, 2 NUMA nodes),
    which the preset (like ``Discover``) treats as "sockets first".
"""

from __future__ import annotations

from collections.abc import Callable

from topolet.model.topology import CPUInfo, NUMANode, Topology

NUMA_NODE_MEMORY = 128 * 1024**3  # bytes per NUMA node (topolet's addition)


def _build(name: str, cpus: list[CPUInfo]) -> Topology:
    numa_ids = sorted({c.numa for c in cpus})
    nodes = [NUMANode(n, memory=NUMA_NODE_MEMORY) for n in numa_ids]
    return Topology(cpus, nodes, name=name)


def _regular(
    name: str,
    num_cpus: int,
    threads_per_core: int,
    sockets: int,
    numa_nodes: int,
    uncore_caches: int | None,
    go_literal_uncore: bool,
) -> Topology:
    """The common layout: core = cpu % cores, and sockets, NUMA nodes and
    uncore caches each cover consecutive, equal ranges of cores."""
    num_cores = num_cpus // threads_per_core
    cpus = []
    for cpu in range(num_cpus):
        core = cpu % num_cores
        socket = core // (num_cores // sockets)
        numa = core // (num_cores // numa_nodes)
        if uncore_caches:
            uncore = core // (num_cores // uncore_caches)
        else:
            uncore = 0 if go_literal_uncore else socket
        cpus.append(CPUInfo(cpu, core, socket, numa, uncore))
    return _build(name, cpus)


# --- small machines ---------------------------------------------------------


def topo_single_socket_ht(go_literal_uncore: bool = False) -> Topology:
    """``topoSingleSocketHT``: 1 socket, 4 cores, SMT2 (8 CPUs; siblings i, i+4)."""
    return _regular("single-socket-ht", 8, 2, 1, 1, None, go_literal_uncore)


def topo_dual_socket_ht(go_literal_uncore: bool = False) -> Topology:
    """``topoDualSocketHT``: 2 sockets/NUMA nodes, 6 cores, SMT2 (12 CPUs).

    Cores alternate between the sockets: even cores (CPUs 0,2,4,6,8,10) on
    socket 0, odd cores on socket 1; siblings i, i+6.
    """
    cpus = []
    for cpu in range(12):
        core = cpu % 6
        socket = core % 2
        cpus.append(CPUInfo(cpu, core, socket, socket, 0 if go_literal_uncore else socket))
    return _build("dual-socket-ht", cpus)


def topo_dual_socket_no_ht(go_literal_uncore: bool = False) -> Topology:
    """``topoDualSocketNoHT``: 2 sockets/NUMA nodes of 4 cores, no SMT (8 CPUs)."""
    return _regular("dual-socket-no-ht", 8, 1, 2, 2, None, go_literal_uncore)


def topo_triple_socket_ht(go_literal_uncore: bool = False) -> Topology:
    """``topoTripleSocketHT`` (fake): 3 sockets/NUMA nodes, 9 cores, SMT2 (18 CPUs).

    Core c holds CPUs 2c, 2c+1; cores 0-2 are on socket 1, 3-5 on socket 0,
    6-8 on socket 2.
    """
    socket_of_core = (1, 1, 1, 0, 0, 0, 2, 2, 2)
    cpus = []
    for cpu in range(18):
        core = cpu // 2
        socket = socket_of_core[core]
        cpus.append(CPUInfo(cpu, core, socket, socket, 0 if go_literal_uncore else socket))
    return _build("triple-socket-ht", cpus)


# Knights Landing SNC4: per socket (= NUMA node), "core:cpu,cpu,cpu,cpu" items.
# The Go table's CoreIDs are kept as they are (they are not the lowest CPU id).
_QUAD_SOCKET_FOUR_WAY_HT = (
    # socket 0, NUMA node 0
    (
        "0:0,109,169,229 1:50,110,170,230 8:57,117,177,237 9:58,118,178,238 24:71,131,191,251 "
        "25:72,132,192,252 32:79,139,199,259 33:80,140,200,260 40:87,147,207,267 41:88,148,208,268 "
        "48:95,155,215,275 49:96,156,216,276 56:103,163,223,283 57:104,164,224,284 64:1,13,25,38 "
        "65:2,14,26,39 72:9,21,33,46 73:10,22,34,47"
    ),
    # socket 1, NUMA node 1
    (
        "2:51,111,171,231 3:52,112,172,232 10:59,119,179,239 11:60,120,180,240 18:65,125,185,245 "
        "19:66,126,186,246 26:73,133,193,253 27:74,134,194,254 34:81,141,201,261 35:82,142,202,262 "
        "42:89,149,209,269 43:90,150,210,270 50:97,157,217,277 51:98,158,218,278 66:3,15,27,40 "
        "67:4,16,28,41 74:11,23,35,48 75:12,24,36,49"
    ),
    # socket 2, NUMA node 2
    (
        "4:53,113,173,233 5:54,114,174,234 12:61,121,181,241 13:62,122,182,242 20:67,127,187,247 "
        "21:68,128,188,248 28:75,135,195,255 29:76,136,196,256 36:83,143,203,263 37:84,144,204,264 "
        "44:91,151,211,271 45:92,152,212,272 52:99,159,219,279 53:100,160,220,280 60:105,165,225,285 "
        "61:106,166,226,286 68:5,17,29,42 69:6,18,30,43"
    ),
    # socket 3, NUMA node 3
    (
        "6:55,115,175,235 7:56,116,176,236 14:63,123,183,243 15:64,124,184,244 22:69,129,189,249 "
        "23:70,130,190,250 30:77,137,197,257 31:78,138,198,258 38:85,145,205,265 39:86,146,206,266 "
        "46:93,153,213,273 47:94,154,214,274 54:101,161,221,281 55:102,162,222,282 62:107,167,227,287 "
        "63:37,108,168,228 70:7,19,31,44 71:8,20,32,45"
    ),
)


def topo_quad_socket_four_way_ht(go_literal_uncore: bool = False) -> Topology:
    """``topoQuadSocketFourWayHT``: 4 sockets/NUMA nodes, 72 cores, SMT4 (288 CPUs)."""
    cpus = []
    for socket, text in enumerate(_QUAD_SOCKET_FOUR_WAY_HT):
        for item in text.split():
            core_text, _, cpu_text = item.partition(":")
            core = int(core_text)
            for cpu in cpu_text.split(","):
                cpus.append(CPUInfo(int(cpu), core, socket, socket, 0 if go_literal_uncore else socket))
    return _build("quad-socket-four-way-ht", cpus)


# --- multi-NUMA machines ----------------------------------------------------


def topo_dual_socket_multi_numa_per_socket_ht(go_literal_uncore: bool = False) -> Topology:
    """``topoDualSocketMultiNumaPerSocketHT`` (dual Xeon Gold 6230): 2 sockets,
    4 NUMA nodes, 40 cores, SMT2 (80 CPUs; NUMA node n = CPUs 10n-10n+9, 40+10n-...)."""
    return _regular("dual-socket-multi-numa-per-socket-ht", 80, 2, 2, 4, None, go_literal_uncore)


def topo_multi_socket_dual_socket_per_numa_ht(go_literal_uncore: bool = False) -> Topology:
    """``fakeTopoMultiSocketDualSocketPerNumaHT``: the Xeon Gold 6230 with sockets and
    NUMA nodes flipped: 4 sockets, 2 NUMA nodes, 40 cores, SMT2 (80 CPUs)."""
    return _regular("multi-socket-dual-socket-per-numa-ht", 80, 2, 4, 2, None, go_literal_uncore)


def topo_dual_socket_multi_numa_per_socket_ht_large(go_literal_uncore: bool = False) -> Topology:
    """``topoDualSocketMultiNumaPerSocketHTLarge``: 2 sockets, 8 NUMA nodes,
    128 cores, SMT2 (256 CPUs)."""
    return _regular("dual-socket-multi-numa-per-socket-ht-large", 256, 2, 2, 8, None, go_literal_uncore)


# --- uncore-cache machines --------------------------------------------------


def topo_uncore_dual_socket_no_smt(go_literal_uncore: bool = False) -> Topology:
    """``topoUncoreDualSocketNoSMT``: 2 sockets, 1 NUMA node, 16 CPUs, 4 uncore caches of 4."""
    return _regular("uncore-dual-socket-no-smt", 16, 1, 2, 1, 4, go_literal_uncore)


def topo_uncore_single_socket_multi_numa(go_literal_uncore: bool = False) -> Topology:
    """``topoUncoreSingleSocketMultiNuma``: 1 socket, 2 NUMA nodes, 16 CPUs, 4 uncore caches."""
    return _regular("uncore-single-socket-multi-numa", 16, 1, 1, 2, 4, go_literal_uncore)


def topo_uncore_single_socket_smt(go_literal_uncore: bool = False) -> Topology:
    """``topoUncoreSingleSocketSMT``: 1 socket, 8 cores, SMT2, 2 uncore caches of 8 CPUs."""
    return _regular("uncore-single-socket-smt", 16, 2, 1, 1, 2, go_literal_uncore)


def topo_uncore_single_socket_no_smt(go_literal_uncore: bool = False) -> Topology:
    """``topoUncoreSingleSocketNoSMT``: 1 socket, 16 CPUs, 4 uncore caches of 4."""
    return _regular("uncore-single-socket-no-smt", 16, 1, 1, 1, 4, go_literal_uncore)


def topo_dual_socket_single_numa_per_socket_smt_uncore(go_literal_uncore: bool = False) -> Topology:
    """``topoDualSocketSingleNumaPerSocketSMTUncore`` (AMD EPYC 9654): 2 sockets/NUMA nodes,
    192 cores, SMT2 (384 CPUs), 24 uncore caches of 16 CPUs."""
    return _regular("dual-socket-single-numa-per-socket-smt-uncore", 384, 2, 2, 2, 24, go_literal_uncore)


def topo_single_socket_single_numa_per_socket_smt_small_uncore(
    go_literal_uncore: bool = False,
) -> Topology:
    """``topoSingleSocketSingleNumaPerSocketSMTSmallUncore``: 1 socket, 64 cores, SMT2
    (128 CPUs), 16 uncore caches of 8 CPUs."""
    return _regular("single-socket-single-numa-per-socket-smt-small-uncore", 128, 2, 1, 1, 16, go_literal_uncore)


def topo_single_socket_single_numa_per_socket_no_smt_small_uncore(
    go_literal_uncore: bool = False,
) -> Topology:
    """``topoSingleSocketSingleNumaPerSocketNoSMTSmallUncore``: 1 socket, 64 CPUs, no SMT,
    16 uncore caches of 4 CPUs (the Go table declares NumCPUs 128: see the module doc)."""
    return _regular("single-socket-single-numa-per-socket-no-smt-small-uncore", 64, 1, 1, 1, 16, go_literal_uncore)


def topo_small_dual_socket_single_numa_per_socket_no_smt_uncore(
    go_literal_uncore: bool = False,
) -> Topology:
    """``topoSmallDualSocketSingleNumaPerSocketNoSMTUncore``: 2 sockets/NUMA nodes, 64 CPUs,
    no SMT, 8 uncore caches of 8 CPUs."""
    return _regular("small-dual-socket-single-numa-per-socket-no-smt-uncore", 64, 1, 2, 2, 8, go_literal_uncore)


def topo_small_single_socket_single_numa_per_socket_no_smt_uncore(
    go_literal_uncore: bool = False,
) -> Topology:
    """``topoSmallSingleSocketSingleNumaPerSocketNoSMTUncore``: 1 socket, 32 CPUs, no SMT,
    4 uncore caches of 8 CPUs."""
    return _regular("small-single-socket-single-numa-per-socket-no-smt-uncore", 32, 1, 1, 1, 4, go_literal_uncore)


def topo_large_single_socket_single_numa_per_socket_smt_uncore(
    go_literal_uncore: bool = False,
) -> Topology:
    """``topoLargeSingleSocketSingleNumaPerSocketSMTUncore``: 1 socket, 128 cores, SMT2
    (256 CPUs), 16 uncore caches of 16 CPUs."""
    return _regular("large-single-socket-single-numa-per-socket-smt-uncore", 256, 2, 1, 1, 16, go_literal_uncore)


def topo_dual_socket_multi_numa_per_socket_uncore(go_literal_uncore: bool = False) -> Topology:
    """``topoDualSocketMultiNumaPerSocketUncore``: 2 sockets, 4 NUMA nodes, 192 CPUs without
    SMT, 24 uncore caches of 8 CPUs (the Go table's repeated CoreIDs are not reproduced: see
    the module doc)."""
    return _regular("dual-socket-multi-numa-per-socket-uncore", 192, 1, 2, 4, 24, go_literal_uncore)


def topo_dual_socket_sub_numa_per_socket_ht_monolithic_uncore(
    go_literal_uncore: bool = False,
) -> Topology:
    """``topoDualSocketSubNumaPerSocketHTMonolithicUncore``: 2 sockets, 4 NUMA nodes (SNC2),
    120 cores, SMT2 (240 CPUs), one uncore cache per socket."""
    return _regular("dual-socket-sub-numa-per-socket-ht-monolithic-uncore", 240, 2, 2, 4, 2, go_literal_uncore)


def topo_single_socket_single_numa_per_socket_pcore_ht_monolithic_uncore(
    go_literal_uncore: bool = False,
) -> Topology:
    """``topoSingleSocketSingleNumaPerSocketPCoreHTMonolithicUncore`` (hybrid): 8 E-cores
    (CPUs 0-7, one thread each) and 8 P-cores (CPUs 8-15 with siblings 16-23), one uncore
    cache (24 CPUs, 16 cores)."""
    del go_literal_uncore  # the table gives uncore ids
    cpus = [CPUInfo(cpu, cpu if cpu < 16 else cpu - 8, 0, 0, 0) for cpu in range(24)]
    return _build("single-socket-single-numa-per-socket-pcore-ht-monolithic-uncore", cpus)


def topo_large_single_socket_single_numa_per_socket_uncore(go_literal_uncore: bool = False) -> Topology:
    """``topoLargeSingleSocketSingleNumaPerSocketUncore`` (Ampere Altra 128C): 1 socket,
    128 CPUs without SMT, 16 uncore caches of 8 CPUs."""
    return _regular("large-single-socket-single-numa-per-socket-uncore", 128, 1, 1, 1, 16, go_literal_uncore)


def topo_single_socket_single_numa_per_socket_uncore(go_literal_uncore: bool = False) -> Topology:
    """``topoSingleSocketSingleNumaPerSocketUncore``: 1 socket, 64 CPUs without SMT, one
    uncore cache."""
    return _regular("single-socket-single-numa-per-socket-uncore", 64, 1, 1, 1, 1, go_literal_uncore)


UPSTREAM_PRESETS: dict[str, Callable[[], Topology]] = {
    "single-socket-ht": topo_single_socket_ht,
    "dual-socket-ht": topo_dual_socket_ht,
    "dual-socket-no-ht": topo_dual_socket_no_ht,
    "triple-socket-ht": topo_triple_socket_ht,
    "quad-socket-four-way-ht": topo_quad_socket_four_way_ht,
    "dual-socket-multi-numa-per-socket-ht": topo_dual_socket_multi_numa_per_socket_ht,
    "multi-socket-dual-socket-per-numa-ht": topo_multi_socket_dual_socket_per_numa_ht,
    "dual-socket-multi-numa-per-socket-ht-large": topo_dual_socket_multi_numa_per_socket_ht_large,
    "uncore-dual-socket-no-smt": topo_uncore_dual_socket_no_smt,
    "uncore-single-socket-multi-numa": topo_uncore_single_socket_multi_numa,
    "uncore-single-socket-smt": topo_uncore_single_socket_smt,
    "uncore-single-socket-no-smt": topo_uncore_single_socket_no_smt,
    "dual-socket-single-numa-per-socket-smt-uncore": topo_dual_socket_single_numa_per_socket_smt_uncore,
    "single-socket-single-numa-per-socket-smt-small-uncore": (
        topo_single_socket_single_numa_per_socket_smt_small_uncore
    ),
    "single-socket-single-numa-per-socket-no-smt-small-uncore": (
        topo_single_socket_single_numa_per_socket_no_smt_small_uncore
    ),
    "small-dual-socket-single-numa-per-socket-no-smt-uncore": (
        topo_small_dual_socket_single_numa_per_socket_no_smt_uncore
    ),
    "small-single-socket-single-numa-per-socket-no-smt-uncore": (
        topo_small_single_socket_single_numa_per_socket_no_smt_uncore
    ),
    "large-single-socket-single-numa-per-socket-smt-uncore": (
        topo_large_single_socket_single_numa_per_socket_smt_uncore
    ),
    "dual-socket-multi-numa-per-socket-uncore": topo_dual_socket_multi_numa_per_socket_uncore,
    "dual-socket-sub-numa-per-socket-ht-monolithic-uncore": topo_dual_socket_sub_numa_per_socket_ht_monolithic_uncore,
    "single-socket-single-numa-per-socket-pcore-ht-monolithic-uncore": (
        topo_single_socket_single_numa_per_socket_pcore_ht_monolithic_uncore
    ),
    "large-single-socket-single-numa-per-socket-uncore": topo_large_single_socket_single_numa_per_socket_uncore,
    "single-socket-single-numa-per-socket-uncore": topo_single_socket_single_numa_per_socket_uncore,
}
"""Preset name -> builder (each builder also takes ``go_literal_uncore``)."""

UPSTREAM_GO_NAMES: dict[str, str] = {
    "single-socket-ht": "topoSingleSocketHT",
    "dual-socket-ht": "topoDualSocketHT",
    "dual-socket-no-ht": "topoDualSocketNoHT",
    "triple-socket-ht": "topoTripleSocketHT",
    "quad-socket-four-way-ht": "topoQuadSocketFourWayHT",
    "dual-socket-multi-numa-per-socket-ht": "topoDualSocketMultiNumaPerSocketHT",
    "multi-socket-dual-socket-per-numa-ht": "fakeTopoMultiSocketDualSocketPerNumaHT",
    "dual-socket-multi-numa-per-socket-ht-large": "topoDualSocketMultiNumaPerSocketHTLarge",
    "uncore-dual-socket-no-smt": "topoUncoreDualSocketNoSMT",
    "uncore-single-socket-multi-numa": "topoUncoreSingleSocketMultiNuma",
    "uncore-single-socket-smt": "topoUncoreSingleSocketSMT",
    "uncore-single-socket-no-smt": "topoUncoreSingleSocketNoSMT",
    "dual-socket-single-numa-per-socket-smt-uncore": "topoDualSocketSingleNumaPerSocketSMTUncore",
    "single-socket-single-numa-per-socket-smt-small-uncore": "topoSingleSocketSingleNumaPerSocketSMTSmallUncore",
    "single-socket-single-numa-per-socket-no-smt-small-uncore": "topoSingleSocketSingleNumaPerSocketNoSMTSmallUncore",
    "small-dual-socket-single-numa-per-socket-no-smt-uncore": "topoSmallDualSocketSingleNumaPerSocketNoSMTUncore",
    "small-single-socket-single-numa-per-socket-no-smt-uncore": "topoSmallSingleSocketSingleNumaPerSocketNoSMTUncore",
    "large-single-socket-single-numa-per-socket-smt-uncore": "topoLargeSingleSocketSingleNumaPerSocketSMTUncore",
    "dual-socket-multi-numa-per-socket-uncore": "topoDualSocketMultiNumaPerSocketUncore",
    "dual-socket-sub-numa-per-socket-ht-monolithic-uncore": "topoDualSocketSubNumaPerSocketHTMonolithicUncore",
    "single-socket-single-numa-per-socket-pcore-ht-monolithic-uncore": (
        "topoSingleSocketSingleNumaPerSocketPCoreHTMonolithicUncore"
    ),
    "large-single-socket-single-numa-per-socket-uncore": "topoLargeSingleSocketSingleNumaPerSocketUncore",
    "single-socket-single-numa-per-socket-uncore": "topoSingleSocketSingleNumaPerSocketUncore",
}
"""Preset name -> the Go variable in ``cpumanager/policy_test.go``."""
