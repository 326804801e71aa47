"""Read a machine's topology from sysfs, as cAdvisor does for the kubelet.

:func:`read_sysfs_topology` walks a sysfs tree (the live ``/`` or an
extracted capture) the way cAdvisor's ``sysinfo.GetNodesInfo`` builds the
``MachineInfo.Topology`` that the kubelet's ``cpumanager/topology.Discover``,
memory manager and topology manager read:

* online CPUs: ``sys/devices/system/cpu/online`` (when the file is missing,
  CPU hotplug is off and every ``cpuN`` is online);
* NUMA nodes: ``sys/devices/system/node/nodeN``; a node's CPUs from its
  ``cpulist`` (or its ``cpuN`` links), online ones only; CPU-less nodes are
  kept (memory-only nodes: CXL, GPU memory);
* cores: the node's CPUs grouped by ``(topology/core_id,
  topology/physical_package_id)``, as cAdvisor groups them; the kubelet's
  CoreID is the lowest CPU id of the group. ``die_id`` and the sibling lists
  are not used (cAdvisor does not use them either);
* uncore (L3) cache: cAdvisor's rule. For each core, the caches of one of its
  threads (``cpuN/cache/index*``) of level > 2 that are *not* shared by
  exactly the node's threads are "uncore caches"; the first one's ``id`` is
  the CPU's uncore cache. A cache that spans exactly the NUMA node is a node
  cache, and then (as when cache information is missing) the kubelet falls
  back to the socket id. Like cAdvisor, an unreadable cache entry stops the
  cache scan of that node: the cores already scanned keep their uncore
  cache, the others fall back to the socket;
* memory: ``nodeN/meminfo`` ``MemTotal`` (kB; a missing file means 0, as in
  cAdvisor); hugepages: ``nodeN/hugepages/hugepages-<kB>kB/nr_hugepages``;
  distances: ``nodeN/distance``.

A machine without ``sys/devices/system/node`` (a kernel without NUMA) gets
one NUMA node 0 holding every online CPU, with the memory of
``proc/meminfo`` and the hugepages of ``sys/kernel/mm/hugepages``.

Errors name the file: ``SysfsError("/x/sys/devices/system/cpu/cpu3/topology/core_id: missing")``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from topolet.model.cpuset import CPUSetError, iter_bits, parse_bits
from topolet.model.topology import CPUInfo, NUMANode, Topology, TopologyError

MAX_ID = 65535  # larger CPU ids are refused (Linux NR_CPUS is at most 8192)
_MEMTOTAL = re.compile(r"MemTotal:\s*([0-9]+) kB")
_HUGEPAGES_DIR = re.compile(r"^hugepages-([0-9]+)kB$")
_NODE_DIR = re.compile(r"^node([0-9]+)$")
_CPU_DIR = re.compile(r"^cpu([0-9]+)$")
_UNREACHABLE = 255  # distance filled in for node ids that have no column


class SysfsError(ValueError):
    """An unreadable or malformed sysfs file: ``"{path}: {problem}"``."""


# -- small readers -------------------------------------------------------------


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except FileNotFoundError:
        raise SysfsError(f"{path}: missing") from None
    except OSError as e:
        raise SysfsError(f"{path}: cannot read: {e.strerror or e}") from None


def _read_int(path: Path) -> int:
    text = _read(path)
    try:
        return int(text)
    except ValueError:
        raise SysfsError(f"{path}: expected an integer, got {text!r}") from None


def _parse_list(path: Path, text: str) -> list[int]:
    """A Linux CPU/node list (``0-3,8``), with ids bounded."""
    for num in re.findall(r"[0-9]+", text):
        if int(num) > MAX_ID:
            raise SysfsError(f"{path}: id {num} is out of range (at most {MAX_ID})")
    try:
        return list(iter_bits(parse_bits(text)))
    except CPUSetError as e:
        raise SysfsError(f"{path}: not a CPU list ({e}): {text!r}") from None


def _numbered_entries(directory: Path, pattern: re.Pattern[str]) -> dict[int, Path]:
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return {}
    except OSError as e:
        raise SysfsError(f"{directory}: cannot list: {e.strerror or e}") from None
    out: dict[int, Path] = {}
    for name in names:
        m = pattern.match(name)
        if m:
            out[int(m.group(1))] = directory / name
    return out


def _mask_count(text: str) -> int:
    """Set bits of a sysfs hex mask (``ffff,00000000``), as cAdvisor's getCPUCount."""
    count = 0
    for word in text.split(","):
        count += int(word.strip(), 16).bit_count()
    return count


# -- caches (cAdvisor sysinfo.addCacheInfo) ------------------------------------


def _caches(cpu_root: Path, cpu: int) -> list[tuple[int, int, int]] | None:
    """``(level, id, number of CPUs sharing it)`` of every ``index*`` cache of ``cpu``.

    None when anything is unreadable (cAdvisor's GetCacheInfo error).
    """
    cache_dir = cpu_root / f"cpu{cpu}" / "cache"
    try:
        names = sorted(os.listdir(cache_dir))  # os.ReadDir order
    except OSError:
        return None
    out: list[tuple[int, int, int]] = []
    for name in names:
        if not name.startswith("index"):
            continue
        d = cache_dir / name
        try:
            cache_id = int((d / "id").read_text().strip())
            size = (d / "size").read_text().strip()
            if not re.match(r"^[0-9]+K", size):
                return None
            level = int((d / "level").read_text().strip())
            (d / "type").read_text()
            if (d / "shared_cpu_map").exists():
                shared = _mask_count((d / "shared_cpu_map").read_text().strip())
            else:  # captures may hold the list form only
                shared = len(_parse_list(d, (d / "shared_cpu_list").read_text().strip()))
        except (OSError, ValueError):
            return None
        out.append((level, cache_id, shared))
    return out


def _uncore_of_cores(cpu_root: Path, cores: list[list[int]]) -> dict[int, int]:
    """Core index -> uncore cache id, for the cores of one cAdvisor "node"."""
    result: dict[int, int] = {}
    for idx, threads in enumerate(cores):
        caches = _caches(cpu_root, threads[0])
        if caches is None:
            break  # addCacheInfo returns the error; earlier cores keep their caches
        per_node = len(cores) * len(threads)
        for level, cache_id, shared in caches:
            if level > 2 and shared != per_node:
                result.setdefault(idx, cache_id)
    return result


# -- cores (cAdvisor sysinfo.getCoresInfo) ---------------------------------------


def _cores(cpu_root: Path, cpus: Iterable[int]) -> list[tuple[int, list[int]]]:
    """``(socket, threads)`` per core, grouping by (core_id, physical_package_id)."""
    groups: dict[tuple[int, int], list[int]] = {}
    for cpu in cpus:
        topo = cpu_root / f"cpu{cpu}" / "topology"
        core_id = _read_int(topo / "core_id")
        package = _read_int(topo / "physical_package_id")
        if package < 0:
            raise SysfsError(f"{topo / 'physical_package_id'}: negative socket id {package}")
        groups.setdefault((core_id, package), []).append(cpu)
    return [(package, sorted(threads)) for (_, package), threads in groups.items()]


def _cpu_infos(cpu_root: Path, cpus: Iterable[int], numa: int) -> list[CPUInfo]:
    cores = _cores(cpu_root, cpus)
    uncore = _uncore_of_cores(cpu_root, [threads for _, threads in cores])
    out: list[CPUInfo] = []
    for idx, (socket, threads) in enumerate(cores):
        core_id = min(threads)
        u = uncore.get(idx, socket)
        out.extend(CPUInfo(id=t, core=core_id, socket=socket, numa=numa, uncore=u) for t in threads)
    return out


# -- memory ----------------------------------------------------------------------


def _memtotal(path: Path, required: bool) -> int:
    if not path.exists() and not required:
        return 0  # cAdvisor: "Found node without memory information"
    text = _read(path)
    m = _MEMTOTAL.search(text)
    if not m:
        raise SysfsError(f"{path}: no 'MemTotal: <n> kB' line")
    return int(m.group(1)) * 1024


def _hugepages(directory: Path) -> dict[int, int]:
    """Page size (bytes) -> total bytes, from ``hugepages-<kB>kB/nr_hugepages``."""
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return {}  # hugepages disabled: not an error (cAdvisor)
    out: dict[int, int] = {}
    for name in names:
        m = _HUGEPAGES_DIR.match(name)
        if not m:
            raise SysfsError(f"{directory / name}: expected hugepages-<size>kB")
        page = int(m.group(1)) * 1024
        if page <= 0:
            raise SysfsError(f"{directory / name}: zero page size")
        nr = _read_int(directory / name / "nr_hugepages")
        if nr < 0:
            raise SysfsError(f"{directory / name / 'nr_hugepages'}: negative count {nr}")
        out[page] = nr * page
    return out


def _distances(path: Path) -> list[int] | None:
    if not path.exists():
        return None  # cAdvisor: "Found node without distance information"
    text = _read(path)
    try:
        return [int(x) for x in text.split()]
    except ValueError:
        raise SysfsError(f"{path}: expected distances such as '10 21', got {text!r}") from None


# -- public API --------------------------------------------------------------------


def _online_cpus(cpu_root: Path) -> set[int]:
    online = cpu_root / "online"
    if online.exists():
        return set(_parse_list(online, _read(online)))
    return set(_numbered_entries(cpu_root, _CPU_DIR))


def read_sysfs_topology(root: str | Path = "/") -> Topology:
    """The machine topology under ``root`` (``/`` or an extracted capture)."""
    root = Path(root)
    cpu_root = root / "sys" / "devices" / "system" / "cpu"
    node_root = root / "sys" / "devices" / "system" / "node"
    if not cpu_root.is_dir():
        raise SysfsError(f"{cpu_root}: missing (is {root} the root of a sysfs capture?)")
    online = _online_cpus(cpu_root)
    node_dirs = _numbered_entries(node_root, _NODE_DIR)
    name = f"sysfs:{root}"

    if not node_dirs:
        return _without_numa(root, cpu_root, online, name)

    cpus: list[CPUInfo] = []
    owner: dict[int, int] = {}
    nodes: list[NUMANode] = []
    node_ids = sorted(node_dirs)
    rows: dict[int, list[int] | None] = {}
    for nid in node_ids:
        d = node_dirs[nid]
        if (d / "cpulist").exists():
            listed = _parse_list(d / "cpulist", _read(d / "cpulist"))
        else:
            listed = sorted(_numbered_entries(d, _CPU_DIR))
        node_cpus = [c for c in listed if c in online]
        for c in node_cpus:
            if c in owner:
                raise SysfsError(f"{d / 'cpulist'}: CPU {c} is also in node{owner[c]}")
            owner[c] = nid
        cpus.extend(_cpu_infos(cpu_root, node_cpus, nid))
        memory = _memtotal(d / "meminfo", required=False)
        hugepages = _hugepages(d / "hugepages")
        rows[nid] = _distances(d / "distance")
        nodes.append(NUMANode(nid, memory, hugepages, ()))

    # distances: the kernel prints one column per online node, in id order;
    # the topology wants rows indexed by node id.
    width = node_ids[-1] + 1
    fixed: list[NUMANode] = []
    for n in nodes:
        row = rows[n.id]
        if row is None:
            fixed.append(n)
            continue
        if len(row) != len(node_ids):
            raise SysfsError(f"{node_dirs[n.id] / 'distance'}: {len(row)} distances for {len(node_ids)} NUMA nodes")
        by_id = [_UNREACHABLE] * width
        for col, value in zip(node_ids, row, strict=True):
            by_id[col] = value
        fixed.append(NUMANode(n.id, n.memory, n.hugepages, tuple(by_id)))
    if not cpus:
        raise SysfsError(f"{node_root}: no online CPU in any NUMA node")
    try:
        return Topology(cpus, fixed, name=name)
    except TopologyError as e:
        raise SysfsError(f"{root}: {e}") from None


def _without_numa(root: Path, cpu_root: Path, online: set[int], name: str) -> Topology:
    present = _numbered_entries(cpu_root, _CPU_DIR)
    cpus_online = sorted(c for c in present if c in online)
    if not cpus_online:
        raise SysfsError(f"{cpu_root}: no online CPU")
    # cAdvisor (getCPUTopology) scans caches per physical package
    by_package: dict[int, list[int]] = {}
    for c in cpus_online:
        pkg = _read_int(cpu_root / f"cpu{c}" / "topology" / "physical_package_id")
        by_package.setdefault(pkg, []).append(c)
    cpus: list[CPUInfo] = []
    for pkg in sorted(by_package):
        cpus.extend(_cpu_infos(cpu_root, by_package[pkg], 0))
    memory = _memtotal(root / "proc" / "meminfo", required=True)
    hugepages = _hugepages(root / "sys" / "kernel" / "mm" / "hugepages")
    try:
        return Topology(cpus, [NUMANode(0, memory, hugepages, (10,))], name=name)
    except TopologyError as e:
        raise SysfsError(f"{root}: {e}") from None
