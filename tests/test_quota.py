"""ResourceQuota admission as the API server's quota plugin does it, pod-level resources included."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from topolet.cli.main import app
from topolet.io.quota import (
    QuotaError,
    ResourceQuota,
    check_pod_create,
    pod_limits,
    pod_requests,
    pod_usage,
    quota_from_object,
    quota_used,
)
from topolet.model.pod import Container, Pod, Resources
from topolet.model.quantity import Quantity

ROOT = Path(__file__).resolve().parent.parent
SEED_CONFIG = str(ROOT / "src" / "topolet" / "data" / "kubelet-config.yaml")
SEED_POD = str(ROOT / "src" / "topolet" / "data" / "tightly-coupled-database.yaml")


def q(s: str) -> Quantity:
    return Quantity.parse(s)


def res(req: dict[str, str] | None = None, lim: dict[str, str] | None = None) -> Resources:
    return Resources({k: q(v) for k, v in (req or {}).items()}, {k: q(v) for k, v in (lim or {}).items()})


def seed_pod(name: str = "db", qos: str = "Guaranteed") -> Pod:
    return Pod(
        name=name,
        containers=[
            Container("database", res({"cpu": "4", "memory": "10Gi"}, {"cpu": "4", "memory": "10Gi"})),
            Container("metrics-exporter", res({"cpu": "100m", "memory": "128Mi"})),
            Container("backup-agent", res({"cpu": "200m", "memory": "256Mi"})),
        ],
        resources=res({"cpu": "8", "memory": "16Gi"}, {"cpu": "8", "memory": "16Gi"}),
        qos_class=qos,
    )


def quota(hard: dict[str, str], **kw: object) -> ResourceQuota:
    return quota_from_object({"metadata": {"name": "compute"}, "spec": {"hard": hard, **kw}}, "q.yaml")


def test_pod_level_values_are_counted() -> None:
    pod = seed_pod()
    assert {k: str(v) for k, v in pod_requests(pod, True).items()} == {"cpu": "8", "memory": "16Gi"}
    assert {k: str(v) for k, v in pod_limits(pod, True).items()} == {"cpu": "8", "memory": "16Gi"}
    # with PodLevelResources off the containers are aggregated
    assert {k: str(v) for k, v in pod_requests(pod, False).items()} == {"cpu": "4300m", "memory": "10624Mi"}
    assert {k: str(v) for k, v in pod_limits(pod, False).items()} == {"cpu": "4", "memory": "10Gi"}
    u = {k: str(v) for k, v in pod_usage(pod).items()}
    assert u == {
        "count/pods": "1",
        "pods": "1",
        "cpu": "8",
        "requests.cpu": "8",
        "limits.cpu": "8",
        "memory": "16Gi",
        "requests.memory": "16Gi",
        "limits.memory": "16Gi",
    }
    assert {k: str(v) for k, v in pod_usage(pod, terminal=True).items()} == {"count/pods": "1"}


def test_sidecar_formula_for_init_containers() -> None:
    pod = Pod(
        name="p",
        init_containers=[
            Container("side", res({"cpu": "1"}), restart_policy="Always"),
            Container("init", res({"cpu": "3"})),
        ],
        containers=[Container("app", res({"cpu": "2"}))],
    )
    # max(app 2 + sidecar 1, init 3 + sidecar 1) = 4
    assert str(pod_requests(pod, True)["cpu"]) == "4"


def test_exceeded_quota_message_is_the_api_servers() -> None:
    qt = quota({"requests.cpu": "10", "requests.memory": "20Gi", "limits.cpu": "10", "pods": "5"})
    existing = [(seed_pod("db1"), False)]
    msg = check_pod_create(seed_pod("db2"), [qt], existing)
    assert msg == (
        'pods "db2" is forbidden: exceeded quota: compute, requested: limits.cpu=8,requests.cpu=8,'
        "requests.memory=16Gi, used: limits.cpu=8,requests.cpu=8,requests.memory=16Gi, limited: "
        "limits.cpu=10,requests.cpu=10,requests.memory=20Gi"
    )
    # a Failed (rejected) pod counts only for count/pods
    assert check_pod_create(seed_pod("db2"), [qt], [(seed_pod("db1"), True)]) is None
    assert check_pod_create(seed_pod("db1"), [qt], []) is None
    used = quota_used(qt, existing)
    assert {k: str(v) for k, v in used.items()} == {
        "requests.cpu": "8",
        "requests.memory": "16Gi",
        "limits.cpu": "8",
        "pods": "1",
    }
    pods_q = quota({"pods": "1", "count/pods": "1"})
    assert check_pod_create(seed_pod("db2"), [pods_q], existing) == (
        'pods "db2" is forbidden: exceeded quota: compute, requested: count/pods=1,pods=1, used: count/pods=1,'
        "pods=1, limited: count/pods=1,pods=1"
    )


def test_must_specify_only_without_pod_level_resources() -> None:
    qt = quota({"limits.cpu": "10", "requests.memory": "20Gi"})
    assert check_pod_create(seed_pod(), [qt], [], True) is None  # pod-level resources: no container check
    assert check_pod_create(seed_pod(), [qt], [], False) == (
        'pods "db" is forbidden: failed quota: compute: must specify limits.cpu for: backup-agent,metrics-exporter'
    )


def test_scopes_and_namespaces() -> None:
    be = Pod(name="be", containers=[Container("c")], qos_class="BestEffort")
    nb = quota({"pods": "0"}, scopes=["NotBestEffort"])
    assert check_pod_create(be, [nb], []) is None
    assert check_pod_create(seed_pod(), [nb], []) is not None
    other = quota_from_object({"metadata": {"name": "q", "namespace": "team"}, "spec": {"hard": {"pods": "0"}}}, "f")
    assert check_pod_create(seed_pod(), [other], []) is None
    with pytest.raises(QuotaError, match=r'spec.hard\[cpu\]: Invalid value: "lots"'):
        quota({"cpu": "lots"})
    with pytest.raises(QuotaError, match="Unsupported value"):
        quota({"pods": "1"}, scopes=["Sometimes"])


def test_quota_through_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOPOLET_NODE", raising=False)
    d = str(tmp_path / "node")
    r = CliRunner()
    assert r.invoke(app, ["node", "init", d, "--config", SEED_CONFIG]).exit_code == 0
    qf = tmp_path / "quota.yaml"
    qf.write_text(
        "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: compute}\n"
        "spec:\n  hard: {requests.cpu: '10', requests.memory: 20Gi, limits.cpu: '10', pods: '5'}\n"
    )
    res1 = r.invoke(app, ["apply", "-f", str(qf), "-f", SEED_POD, "--node", d])
    assert (
        res1.exit_code == 0 and res1.stdout == "resourcequota/compute created\npod/tightly-coupled-database created\n"
    )
    second = tmp_path / "db2.yaml"
    second.write_text(Path(SEED_POD).read_text().replace("name: tightly-coupled-database", "name: db2"))
    res2 = r.invoke(app, ["apply", "-f", str(second), "--node", d])
    assert res2.exit_code == 1 and res2.stdout == ""
    assert res2.stderr == (
        f'Error from server (Forbidden): error when creating "{second}": pods "db2" is forbidden: exceeded quota: '
        "compute, requested: limits.cpu=8,requests.cpu=8,requests.memory=16Gi, used: limits.cpu=8,requests.cpu=8,"
        "requests.memory=16Gi, limited: limits.cpu=10,requests.cpu=10,requests.memory=20Gi\n"
    )
    out = r.invoke(app, ["get", "quota", "--node", d]).stdout
    assert "pods: 1/5, requests.cpu: 8/10, requests.memory: 16Gi/20Gi" in out and "limits.cpu: 8/10" in out
    obj = json.loads(r.invoke(app, ["get", "quota", "compute", "-o", "json", "--node", d]).stdout)
    assert obj["status"]["used"]["requests.cpu"] == "8"
    assert r.invoke(app, ["apply", "-f", str(qf), "--node", d]).stdout == "resourcequota/compute unchanged\n"
    desc = r.invoke(app, ["describe", "quota", "compute", "--node", d]).stdout
    assert "requests.memory  16Gi  20Gi" in desc
    out = r.invoke(app, ["delete", "resourcequota", "compute", "--node", d]).stdout
    assert out == 'resourcequota "compute" deleted from default namespace\n'
    assert r.invoke(app, ["apply", "-f", str(second), "--node", d]).exit_code == 0
