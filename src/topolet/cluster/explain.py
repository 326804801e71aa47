"""``explain pod/NAME`` for a pod in the cluster: its node's state and the kubelet's admission.

Everything comes from the cluster: the pod and its node from the API server,
the node's machine and KubeletConfiguration from the Node's annotations
(written at registration), its checkpoints from the ``topolet cluster run``
endpoint named in the Node's annotation (or ``--state DIR``), and the pods
running there from the API server. The node's kubelet is restored from those
(as at a restart), then the pod's admission is explained on it: for a pod
that runs there, on the node without it (what it got and why); for a
rejected pod, on the node as it is now.
"""

from __future__ import annotations

import json
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

from topolet.cluster.convert import PodConversionError, pod_from_api
from topolet.cluster.nodestatus import CONFIG_ANNOTATION, ENDPOINT_ANNOTATION, TOPOLOGY_ANNOTATION
from topolet.cluster.store import ClusterState
from topolet.model.kubelet_config import KubeletConfigError, load_kubelet_config
from topolet.model.quantity import QuantityError
from topolet.model.topology import TopologyError
from topolet.model.topology_spec import TopologySpecError, topology_from_spec
from topolet.nodedir.pods import StoredPod
from topolet.nodedir.store import NodeStartError, register_pods, start_kubelet


class ExplainError(Exception):
    pass


def _checkpoints(node_name: str, annotations: dict[str, str], state: Path | None) -> tuple[bytes | None, bytes | None]:
    if state is not None:
        return ClusterState(state).read_checkpoints(node_name)
    endpoint = annotations.get(ENDPOINT_ANNOTATION)
    if not endpoint:
        raise ExplainError(f"node {node_name} names no topolet endpoint; pass --state DIR of its `topolet cluster run`")
    url = f"{endpoint}/debug/nodes/{node_name}"
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            data = json.loads(r.read())
    except (OSError, ValueError) as e:
        raise ExplainError(f"{url}: {e} (is `topolet cluster run` running? or pass --state DIR)") from e
    if data.get("admitAll"):
        raise ExplainError(f"node {node_name} runs with --admit-all: no resource managers to explain")
    cpu, mem = data.get("cpuManagerState"), data.get("memoryManagerState")
    return (cpu.encode() if cpu else None), (mem.encode() if mem else None)


def explain_cluster_pod(
    target: str, namespace: str, kubeconfig: str | None, state: Path | None, *, full: bool = True
) -> list[str]:
    """The explanation (``full``), or only the pod's verdict, allocation and its node's NUMA nodes (describe)."""
    from lightkube import ApiError, Client, KubeConfig
    from lightkube.resources.core_v1 import Node, Pod

    from topolet.explain import explain_pods
    from topolet.render.explain_text import explain_lines

    kind, _, name = target.rpartition("/")
    if kind not in ("", "pod", "pods", "po"):
        raise ExplainError(f"{target}: only pods can be explained (pod/NAME)")
    try:
        config = KubeConfig.from_file(kubeconfig) if kubeconfig else KubeConfig.from_env()
        client = Client(config=config)
        obj = client.get(Pod, name, namespace=namespace)
    except ApiError as e:
        raise ExplainError(f"pods {name!r}: {e.status.message}") from e
    except Exception as e:  # connection and configuration errors
        raise ExplainError(f"cannot reach the API server: {e}") from e
    node_name = obj.spec.nodeName if obj.spec else None
    if not node_name:
        raise ExplainError(f"pod {namespace}/{name} is not bound to a node yet (Pending in the scheduler)")
    try:
        node_obj = client.get(Node, node_name)
    except ApiError as e:
        raise ExplainError(f"node {node_name}: {e.status.message}") from e
    ann: dict[str, str] = dict(node_obj.metadata.annotations or {})
    if TOPOLOGY_ANNOTATION not in ann or CONFIG_ANNOTATION not in ann:
        raise ExplainError(f"node {node_name} is not a topolet node (no {TOPOLOGY_ANNOTATION} annotation)")
    try:
        topology = topology_from_spec(json.loads(ann[TOPOLOGY_ANNOTATION]), f"node {node_name}: {TOPOLOGY_ANNOTATION}")
        kcfg = load_kubelet_config(json.loads(ann[CONFIG_ANNOTATION]), f"node {node_name}: {CONFIG_ANNOTATION}")
    except (ValueError, TopologySpecError, TopologyError, KubeletConfigError, QuantityError) as e:
        raise ExplainError(str(e)) from e
    cpu, mem = _checkpoints(node_name, ann, state)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            engine = start_kubelet(Path(tmp), topology, kcfg, cpu, mem)
        except NodeStartError as e:
            raise ExplainError(f"node {node_name}: the kubelet would refuse to start: {e.message}") from e
    running: list[StoredPod] = []
    this = None
    for i, p in enumerate(client.list(Pod, namespace="*", fields={"spec.nodeName": node_name})):
        phase = p.status.phase if p.status else ""
        try:
            mp = pod_from_api(p)
        except PodConversionError:
            continue
        if p.metadata.uid == obj.metadata.uid:
            this = mp
        if phase == "Running":
            running.append(StoredPod(mp, i, "", True))
    register_pods(engine, running)
    if this is None:
        this = pod_from_api(obj)
    status: Any = obj.status
    phase = status.phase if status else "Pending"
    lines = [f"Pod {namespace}/{name} on node {node_name} ({node_obj.metadata.labels.get('topolet.dev/pool', '')}):"]
    lines.append(
        f"  status written by the kubelet: {phase}" + (f" ({status.reason})" if status and status.reason else "")
    )
    if status and status.message:
        lines.append(f"  message: {status.message}")
    rec = engine.get(this.key)
    if rec is not None:
        for c in rec.result.containers:
            lines.append(
                f"  container {c.name} ({c.kind}): Cpus_allowed_list {c.cpus_list}, Mems_allowed_list {c.mems_list}"
                f" ({c.cpu_mode} CPUs{', pinned memory' if c.memory_pinned else ''})"
            )
    if not full:
        lines.append(f"Node {node_name}: {len(running)} running pod(s)")
        for u in engine.snapshot().numa:
            mem = u.memory.get("memory")
            free_mem = f", memory {mem.free // 2**20}Mi free of {mem.allocatable // 2**20}Mi" if mem else ""
            pool = f"{u.free_cpus.bit_count()}/{u.cpus.bit_count()} CPUs in the shared pool"
            lines.append(f"  NUMA node {u.numa}: {pool}{free_mem}")
        return lines
    if rec is not None:
        engine.delete(this.key)
        lines.append("The admission, on the node without this pod:")
    else:
        lines.append("The admission, on the node as it is now:")
    expls, _ = explain_pods(engine, [this], suggest=True)
    for e in expls:
        lines.extend(explain_lines(e))
    return lines
