"""Fleet what-if: spec, workload, conversion, scheduler, simulation, report (one process)."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
import yaml

from topolet.fleet.convert import to_per_container
from topolet.fleet.runner import RunOptions, run_fleet
from topolet.fleet.scheduler import FitIndex, NodeAllocatable, PodRequest, pod_request
from topolet.fleet.spec import load_fleet
from topolet.fleet.variants import resolve_variant
from topolet.fleet.workload import expand_workload, load_workload, profile_pod
from topolet.io.inputs import InputError
from topolet.model.features import FeatureGates
from topolet.model.manifest import admit_to_api
from topolet.model.qos import compute_pod_qos

GATES = FeatureGates()


def _write(path: Path, data: Any) -> str:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return str(path)


def _fleet(tmp: Path, count: int = 2, topology: str = "preset:2-numa-32", **extra: Any) -> str:
    data = {"name": "test", "pools": [{"name": "p", "count": count, "topology": topology}], **extra}
    return _write(tmp / "fleet.yaml", data)


def _mix(tmp: Path, entries: list[dict[str, Any]], name: str = "mix.yaml", **extra: Any) -> str:
    data = {"apiVersion": "topolet.dev/v1alpha1", "kind": "WorkloadMix", "order": "grouped", "mix": entries, **extra}
    return _write(tmp / name, data)


def _pod_manifest(name: str, cpu: str, mem: str = "1Gi", replicas: int | None = None) -> dict[str, Any]:
    c = {
        "name": "app",
        "image": "x",
        "resources": {"requests": {"cpu": cpu, "memory": mem}, "limits": {"cpu": cpu, "memory": mem}},
    }
    if replicas is None:
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {"containers": [c]}}
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name},
        "spec": {"replicas": replicas, "template": {"spec": {"containers": [c]}}},
    }


def _run(fleet_path: str, workload: list[str], variants: list[str], **kw: Any) -> dict[str, Any]:
    fleet = load_fleet(fleet_path)
    sources = load_workload(workload)
    opts = RunOptions([resolve_variant(v, fleet) for v in variants], **kw)
    return run_fleet(fleet, sources, opts)


def _row(report: dict[str, Any], variant: str, seed: int = 0) -> dict[str, Any]:
    return next(r for r in report["variants"] if r["variant"] == variant and r["seed"] == seed)


# -- the hand-checked savings figure ------------------------------------------------------------------------
def test_savings_equal_hand_calculation(tmp_path: Path) -> None:
    """Two nodes (preset 2-numa-32: 2 NUMA nodes × 8 cores × 2 threads, CPU 0 reserved) with the seed
    kubelet config (static CPU manager, single-numa-node at pod scope, pod-level gates on), and four
    ``database`` pods (default profile: a Guaranteed 4-CPU engine and two Burstable sidecars of 100m
    each; pod-level budget cpu = 4 + ceil(2 × 0.1) = 5).

    Hand calculation:
    * as written (pod-level): each pod pins its whole budget, 5 CPUs: 4 × 5 = 20 CPUs pinned;
      its pod shared pool is 5 - 4 = 1 CPU: 4 × 1 = 4 pod-shared CPUs;
    * per-container (sidecars made Guaranteed with integer CPUs): 4 + 1 + 1 = 6 CPUs per pod:
      4 × 6 = 24 CPUs pinned, no pod shared pool;
    * saved = 24 - 20 = 4 CPUs (1 per pod), every pod admitted in both.
    * node shared pools: 2 nodes × 32 CPUs = 64, minus the pinned: 64 - 20 = 44 and 64 - 24 = 40.
    """
    fleet = _fleet(tmp_path)
    mix = _mix(tmp_path, [{"profile": "database", "count": 4}])
    rep = _run(fleet, [mix], ["per-container", "as-written"])
    base, pl = _row(rep, "per-container"), _row(rep, "as-written")
    assert rep["baseline"] == "per-container"
    assert base["admitted"] == pl["admitted"] == 4
    assert base["rejected"] == pl["rejected"] == {}
    assert base["pinned_cpus"] == 24
    assert pl["pinned_cpus"] == 20
    assert pl["cpus_saved"] == 4
    assert base["cpus_saved"] == 0
    assert pl["pod_shared_cpus"] == 4 and base["pod_shared_cpus"] == 0
    assert pl["shared_pool_cpus"] == 44 and base["shared_pool_cpus"] == 40
    assert pl["peak_pinned_cpus"] == 20 and base["peak_pinned_cpus"] == 24
    assert pl["nodes_used"] == 2


def test_nodes_needed_by_bisection(tmp_path: Path) -> None:
    """Six database pods on ten 2-numa-32 nodes. Pod-level (5 CPUs, 10.25Gi): a NUMA node takes 3
    (15 or 16 free CPUs, 30.9/32Gi of memory), so one node admits all six. Per-container (6 CPUs):
    2 per NUMA node, 4 per node, so two nodes are needed."""
    fleet = _fleet(tmp_path, count=10)
    mix = _mix(tmp_path, [{"profile": "database", "count": 6}])
    rep = _run(fleet, [mix], ["per-container", "as-written"], nodes_needed=True)
    assert _row(rep, "as-written")["nodes_needed"] == 1
    assert _row(rep, "per-container")["nodes_needed"] == 2
    assert _row(rep, "as-written")["admitted"] == 6


# -- rejections ---------------------------------------------------------------------------------------------
def _reject_setup(tmp_path: Path) -> tuple[str, str]:
    """One 2-numa-32 node (NUMA 0: 15 allocatable CPUs, NUMA 1: 16) and three 10-CPU Guaranteed pods:
    the scheduler sees 31 - 20 = 11 >= 10 CPUs for the third, the kubelet finds no NUMA node with 10."""
    fleet = _fleet(tmp_path, count=1)
    path = tmp_path / "pods.yaml"
    path.write_text(
        yaml.safe_dump_all([_pod_manifest(f"big-{i}", "10", "2Gi") for i in range(3)]),
        encoding="utf-8",
    )
    return fleet, str(path)


def test_every_rejected_pod_carries_a_kubelet_reason(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    fleet, pods = _reject_setup(tmp_path)
    out = tmp_path / "out"
    rep = _run(fleet, [pods], ["as-written", "as-written+recreate=2", "as-written+numa-aware"], out=out)
    assert _row(rep, "as-written")["rejected"] == {"TopologyAffinityError": 1}
    rec = _row(rep, "as-written+recreate=2")
    assert rec["rejected"] == {"TopologyAffinityError": 1}
    assert rec["rejections"] == {"TopologyAffinityError": 3}
    assert rec["recreated"] == 2
    aware = _row(rep, "as-written+numa-aware")
    assert aware["rejected"] == {} and aware["pending"] == 1 and aware["numa_filtered"] == 1
    rows = pq.read_table(out / "pods.parquet").to_pylist()
    rejected = [r for r in rows if r["outcome"] == "Rejected"]
    assert len(rejected) == 1 + 3
    for r in rejected:
        assert r["reason"] == "TopologyAffinityError"
        assert r["message"] == "Pod was rejected: Resources cannot be allocated with Topology locality"
        assert r["node"] == "p-0"
    # a recreated pod is a new pod: same name, a new UID each time
    again = [r for r in rejected if r["variant"] == "as-written+recreate=2"]
    assert len({r["uid"] for r in again}) == 3 and len({r["pod"] for r in again}) == 1
    # the CSV has the same rows
    csv_lines = (out / "pods.csv").read_text(encoding="utf-8").splitlines()
    assert len(csv_lines) == len(rows) + 1
    nodes = pq.read_table(out / "nodes.parquet").to_pylist()
    assert {n["node"] for n in nodes} == {"p-0"} and len(nodes) == 3
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary == json.loads(json.dumps(rep))
    for png in ("cores_pinned.png", "rejections.png", "fragmentation.png", "summary.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| as-written |" in (out / "report.md").read_text(encoding="utf-8")


def test_invalid_and_unschedulable(tmp_path: Path) -> None:
    fleet = _fleet(tmp_path, count=1)
    bad = _pod_manifest("bad", "2")
    bad["spec"]["resources"] = {"requests": {"cpu": "1"}, "limits": {"cpu": "1"}}  # below the containers' 2
    huge = _pod_manifest("huge", "40")
    path = tmp_path / "pods.yaml"
    path.write_text(yaml.safe_dump_all([bad, huge]), encoding="utf-8")
    rep = _run(fleet, [str(path)], ["as-written"])
    row = _row(rep, "as-written")
    assert row["invalid"] == 1 and row["pending"] == 1 and row["admitted"] == 0
    assert "is invalid" in row["invalid_messages"]["Pod/bad"]


# -- conversion ---------------------------------------------------------------------------------------------
def test_to_per_container_is_pure_and_guaranteed() -> None:
    pod = profile_pod("ml-trainer")
    before = repr(pod)
    conv = to_per_container(pod)
    assert repr(pod) == before
    assert conv.resources is None
    stored, msg = admit_to_api(conv, GATES, require_image=False)
    assert msg is None and stored is not None
    assert compute_pod_qos(stored, True) == "Guaranteed"
    cpus = {c.name: c.resources.requests["cpu"].value for c in conv.all_containers()}
    assert cpus == {
        "fetch-dataset": 2,
        "metrics": 1,
        "trainer": 8,
        "loader-0": 2,
        "loader-1": 2,
        "loader-2": 2,
        "loader-3": 2,
    }
    for c in conv.all_containers():
        assert c.resources.requests == c.resources.limits
    web = profile_pod("web")
    assert to_per_container(web) is web


def test_to_per_container_memory_share_and_hugepages() -> None:
    from topolet.model.manifest import pods_from_object

    obj = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {
            "resources": {
                "requests": {"cpu": "3", "memory": "4Gi", "hugepages-2Mi": "1Gi"},
                "limits": {"cpu": "3", "memory": "4Gi", "hugepages-2Mi": "1Gi"},
            },
            "containers": [
                {
                    "name": "a",
                    "image": "x",
                    "resources": {"requests": {"cpu": "2", "memory": "2Gi"}, "limits": {"cpu": "2", "memory": "2Gi"}},
                },
                {"name": "b", "image": "x", "resources": {"requests": {"cpu": "250m"}}},
                {"name": "c", "image": "x"},
            ],
        },
    }
    pod = pods_from_object(obj, "t", GATES)[0]
    conv = to_per_container(pod)
    by = {c.name: c.resources.requests for c in conv.containers}
    assert str(by["b"]["memory"]) == "1Gi" and str(by["c"]["memory"]) == "1Gi"  # (4Gi - 2Gi) / 2
    assert by["b"]["cpu"].value == 1 and by["c"]["cpu"].value == 1
    assert str(by["a"]["hugepages-2Mi"]) == "1Gi" and "hugepages-2Mi" not in by["b"]


# -- the scheduler ------------------------------------------------------------------------------------------
def test_pod_request_pod_level_and_non_zero_defaults() -> None:
    db, _ = admit_to_api(profile_pod("database"), GATES, require_image=False)
    assert db is not None
    r = pod_request(db)
    assert (r.cpu, r.nz_cpu) == (5000, 5000)  # the pod-level request wins
    web, _ = admit_to_api(profile_pod("web"), GATES, require_image=False)
    assert web is not None
    assert pod_request(web).cpu == 250
    from topolet.model.manifest import pods_from_object

    be = pods_from_object(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "be"},
            "spec": {"containers": [{"name": "a", "image": "x"}]},
        },
        "t",
        GATES,
    )[0]
    r = pod_request(be)
    assert (r.cpu, r.memory, r.nz_cpu, r.nz_memory) == (0, 0, 100, 200 * 1024 * 1024)


def _brute(fit: FitIndex, s: int) -> int:
    return max((fit.score(s, i) for i in range(fit.n)), default=-1)


@pytest.mark.parametrize("scoring", ["LeastAllocated", "MostAllocated"])
def test_fit_index_picks_a_top_scoring_node(scoring: str) -> None:
    rng = random.Random(5)
    alloc = [
        NodeAllocatable(rng.choice([8000, 16000, 31000]), rng.choice([16, 32, 64]) << 30, 20, ()) for _ in range(60)
    ]
    fit = FitIndex(alloc, [{}] * 60, scoring, random.Random(1))
    shapes = [
        fit.add_shape(PodRequest(c, m << 20, (), c or 100, (m or 200) << 20), {})
        for c, m in ((500, 512), (2000, 4096), (0, 0), (4000, 1024))
    ]
    reqs = [fit.shapes[s][0] for s in shapes]
    placed: list[tuple[int, int]] = []
    for step in range(400):
        s = rng.randrange(len(shapes))
        best = _brute(fit, s)
        i = fit.select(s)
        if best < 0:
            assert i is None
            continue
        assert i is not None and fit.score(s, i) == best
        fit.assign(i, reqs[s])
        placed.append((i, s))
        if step % 3 == 0 and placed:
            j, sj = placed.pop(rng.randrange(len(placed)))
            fit.release(j, reqs[sj])


def test_least_allocated_score_formula() -> None:
    fit = FitIndex([NodeAllocatable(4000, 1000, 10, ())], [{}], "LeastAllocated", random.Random(0))
    s = fit.add_shape(PodRequest(1000, 100, (), 1000, 100), {})
    # cpu: (4000 - 1000) * 100 // 4000 = 75; memory: (1000 - 100) * 100 // 1000 = 90; (75 + 90) // 2 = 82
    assert fit.score(s, 0) == 82
    most = FitIndex([NodeAllocatable(4000, 1000, 10, ())], [{}], "MostAllocated", random.Random(0))
    s = most.add_shape(PodRequest(1000, 100, (), 1000, 100), {})
    assert most.score(s, 0) == (25 + 10) // 2


def test_node_selector_keeps_pods_on_their_pool(tmp_path: Path) -> None:
    data = {
        "name": "two",
        "pools": [
            {"name": "a", "count": 2, "topology": "preset:2-numa-32", "labels": {"pool": "a"}},
            {"name": "b", "count": 2, "topology": "preset:2-numa-32", "labels": {"pool": "b"}},
        ],
    }
    fleet = _write(tmp_path / "fleet.yaml", data)
    mix = _mix(tmp_path, [{"profile": "web", "count": 20, "nodeSelector": {"pool": "b"}}])
    pq = pytest.importorskip("pyarrow.parquet")
    _run(fleet, [mix], ["as-written"], out=tmp_path / "o")
    pools = {r["pool"] for r in pq.read_table(tmp_path / "o" / "pods.parquet").to_pylist()}
    assert pools == {"b"}


# -- workload -----------------------------------------------------------------------------------------------
def test_workload_mix_is_seeded(tmp_path: Path) -> None:
    mix = _mix(
        tmp_path,
        [{"profile": "database", "count": 30}, {"profile": "web", "count": 70}],
        departures={"fraction": 0.5, "after": [1, 10]},
        order="random",
    )
    src = load_workload([mix])
    a, b, c = expand_workload(src, 1), expand_workload(src, 1), expand_workload(src, 2)
    assert a.tmpl_of == b.tmpl_of and a.departures == b.departures
    assert a.tmpl_of != c.tmpl_of
    assert sorted(a.tmpl_of) == [0] * 30 + [1] * 70
    leaving = [s for v in a.departures.values() for s in v] + a.final_departures
    assert len(set(leaving)) == len(leaving) and 20 < len(leaving) < 80
    for at, seqs in a.departures.items():
        assert all(1 <= at - s - 1 <= 10 for s in seqs)
    # the seed, not the file's path, decides: the same document elsewhere gives the same pods
    other = tmp_path / "elsewhere"
    other.mkdir()
    moved = other / "renamed.yaml"
    moved.write_text(Path(mix).read_text(encoding="utf-8"), encoding="utf-8")
    d = expand_workload(load_workload([str(moved)]), 1)
    assert d.tmpl_of == a.tmpl_of and d.departures == a.departures


def test_manifest_workload_keeps_controller_names(tmp_path: Path) -> None:
    path = tmp_path / "sts.yaml"
    path.write_text(yaml.safe_dump(_pod_manifest("db", "2", replicas=3)), encoding="utf-8")
    wl = expand_workload(load_workload([str(path)]), 0)
    assert [wl.name(i) for i in range(len(wl))] == ["db-0", "db-1", "db-2"]
    big = tmp_path / "big.yaml"
    big.write_text(yaml.safe_dump(_pod_manifest("web", "100m", replicas=12_000)), encoding="utf-8")
    wl = expand_workload(load_workload([str(big)]), 0)
    assert len(wl) == 12_000 and wl.name(11_999) == "web-11999"


def test_duplicate_pod_names_are_refused(tmp_path: Path) -> None:
    p = tmp_path / "p.yaml"
    p.write_text(yaml.safe_dump(_pod_manifest("x", "1")), encoding="utf-8")
    with pytest.raises(InputError, match="must be unique"):
        load_workload([str(p), str(p)])


@pytest.mark.parametrize(
    ("entry", "match"),
    [
        ({"profile": "database", "count": -1}, r"mix\[0\]\.count"),
        ({"profile": "nosuch", "count": 1}, r"mix\[0\]\.profile"),
        ({"profile": "database", "count": 1, "params": {"cpus": 2}}, r"mix\[0\]\.params: unknown parameter 'cpus'"),
        ({"profile": "database", "count": 1, "colour": "red"}, r"mix\[0\]\.colour: unknown field"),
        ({"count": 1}, r"mix\[0\]: give exactly one of profile or manifest"),
    ],
)
def test_workload_mix_errors_name_file_and_field(tmp_path: Path, entry: dict[str, Any], match: str) -> None:
    mix = _mix(tmp_path, [entry])
    with pytest.raises(InputError, match=match) as e:
        load_workload([mix])
    assert "mix.yaml" in str(e.value)


# -- fleet file ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("pool", "match"),
    [
        ({"name": "a", "count": 0}, r"pools\[0\]\.count"),
        ({"name": "a", "count": 1, "topology": "preset:nosuch"}, r"pools\[0\]\.topology"),
        ({"name": "a", "count": 1, "kubelet": "missing.yaml"}, r"pools\[0\]\.kubelet: .*missing.yaml: no such file"),
        ({"name": "a", "count": 1, "extra": 1}, r"pools\[0\]\.extra: unknown field"),
        ({"name": "a", "count": 1, "kubelet": {"featureGates": "yes"}}, r"featureGates"),
        ({"name": "a", "count": 1, "topology": {"cpus": "x"}}, r"pools\[0\]\.topology"),
    ],
)
def test_fleet_errors_name_file_and_field(tmp_path: Path, pool: dict[str, Any], match: str) -> None:
    path = _write(tmp_path / "fleet.yaml", {"pools": [pool]})
    with pytest.raises(InputError, match=match) as e:
        load_fleet(path)
    assert "fleet.yaml" in str(e.value)


def test_fleet_topology_and_kubelet_sources(tmp_path: Path) -> None:
    from topolet.io.inputs import load_topology_arg
    from topolet.model.topology_spec import topology_to_spec

    spec = topology_to_spec(load_topology_arg("preset:1-numa"))
    (tmp_path / "topo.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    (tmp_path / "kubelet.yaml").write_text(
        yaml.safe_dump({"cpuManagerPolicy": "static", "reservedSystemCPUs": "0"}), encoding="utf-8"
    )
    data = {
        "pools": [
            {"name": "file", "count": 1, "topology": "topo.yaml", "kubelet": "kubelet.yaml"},
            {"name": "inline", "count": 1, "topology": spec, "kubelet": {"cpuManagerPolicy": "none"}},
        ]
    }
    fleet = load_fleet(_write(tmp_path / "fleet.yaml", data))
    assert [p.topology.num_cpus for p in fleet.pools] == [16, 16]
    assert fleet.pools[0].config().cpu_manager_policy == "static"
    assert fleet.pools[1].config().cpu_manager_policy == "none"


def test_variants_patch_the_kubelet(tmp_path: Path) -> None:
    fleet = load_fleet(
        _fleet(tmp_path, variants={"mine": {"kubelet": {"topologyManagerPolicy": "restricted"}, "numaAware": True}})
    )
    v = resolve_variant("per-container+scope=container+cpu-option=full-pcpus-only+gate=Foo:false", fleet)
    assert v.workload == "per-container"
    assert v.kubelet == {
        "topologyManagerScope": "container",
        "cpuManagerPolicyOptions": {"full-pcpus-only": "true"},
        "featureGates": {"Foo": False},
    }
    cfg = fleet.pools[0].config(v.kubelet)
    assert cfg.topology_manager_scope == "container" and cfg.topology_manager_policy == "single-numa-node"
    mine = resolve_variant("mine", fleet)
    assert mine.numa_aware and mine.kubelet == {"topologyManagerPolicy": "restricted"}
    for bad in ("nosuch", "policy=", "speed=3", "recreate=x"):
        with pytest.raises(InputError, match="--compare"):
            resolve_variant(bad, fleet)


def test_variant_whose_kubelet_refuses_to_start(tmp_path: Path) -> None:
    from topolet.fleet.sim import FleetError

    fleet = _fleet(tmp_path)
    mix = _mix(tmp_path, [{"profile": "web", "count": 2}])
    with pytest.raises(FleetError, match="the kubelet refuses to start"):
        _run(fleet, [mix], ["policy=sometimes"])


def test_departures_free_cpus_and_shards_cover_the_fleet(tmp_path: Path) -> None:
    fleet = _fleet(tmp_path, count=4)
    mix = _mix(
        tmp_path,
        [{"profile": "database", "count": 10}, {"profile": "web", "count": 10}],
        departures={"fraction": 1.0, "after": [1, 3]},
    )
    rep = _run(fleet, [mix], ["as-written"], shards=2)
    row = _row(rep, "as-written")
    assert row["nodes"] == 4 and row["pods"] == 20
    assert row["departed"] == row["admitted"] == 20
    assert row["running"] == 0 and row["pinned_cpus"] == 0 and row["peak_pinned_cpus"] > 0
    assert row["pod_shared_cpus"] == 0
