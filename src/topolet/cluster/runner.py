"""``topolet cluster run``: every node's kubelet in one asyncio loop; ``topolet cluster delete``.

Start-up, in the kubelet's order: every pool's configuration is checked and
every node's kubelet is started on its checkpoints (a refusal stops
everything before anything is registered); the HTTP endpoint opens; the
NodeResourceTopology CRD is installed if missing; the nodes register
(created with their status, or their status posted when they exist) and get
their Leases; the pods already bound to them are listed and re-admitted as
after a kubelet restart; then one watch on bound pods (``spec.nodeName!=``)
drives admissions, statuses and deletions, one watch on the fleet's Nodes
re-registers a node deleted by someone else and posts Ready again when the
node lifecycle controller marked it Unknown, the leases are renewed every
``nodeLeaseDurationSeconds / 4`` and the status posted every
``nodeStatusReportFrequency`` (5 min), as kubelet 1.36 does.

Every admission or removal is checkpointed (per node, in order) before its
pod's status is written or its deletion finished.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import signal
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lightkube import ApiError, AsyncClient
from lightkube.generic_resource import create_global_resource
from lightkube.resources.apiextensions_v1 import CustomResourceDefinition
from lightkube.resources.coordination_v1 import Lease
from lightkube.resources.core_v1 import Event, Node, Pod
from lightkube.types import PatchType

from topolet.cluster import nodestatus, nrt, podstatus
from topolet.cluster.api import MERGE, STRATEGIC, GiveUp, Informer, call, make_client, send_raw, status_code
from topolet.cluster.convert import PodConversionError, pod_from_api
from topolet.cluster.endpoint import json_body, serve
from topolet.cluster.fleetnodes import CLUSTER_LABEL, NodeSpec
from topolet.cluster.metrics import render
from topolet.cluster.podworker import ActivePod, Decision, NodeKubelet, PodEntry
from topolet.cluster.store import ClusterState, NodeStart
from topolet.nodedir.errors import NodeStartError

log = logging.getLogger("topolet.cluster")

NRT = create_global_resource(nrt.GROUP, nrt.VERSION, "NodeResourceTopology", nrt.PLURAL)
STATUS_REPORT_SECONDS = 300.0
LEASES_IN_FLIGHT = 32
TERMINAL = ("Failed", "Succeeded")


@dataclass(slots=True)
class RunOptions:
    kubeconfig: str | None
    state_dir: Path
    fleet_name: str
    admit_all: bool = False
    host: str = "127.0.0.1"
    port: int = 0
    workers: int = 64  # pod status writes, deletions and events in flight (all nodes)
    nrt_interval: float = 10.0  # seconds between two updates of one node's NodeResourceTopology
    lease_seconds: int | None = None  # override every pool's nodeLeaseDurationSeconds


class ClusterRunner:
    def __init__(self, opts: RunOptions, specs: list[NodeSpec]) -> None:
        self.opts = opts
        self.all_specs = list(specs)
        self.specs = {s.name: s for s in specs}  # the nodes whose kubelet runs
        self.down: dict[str, str] = {}  # nodes whose kubelet refuses to start: the refusal
        self.starts: dict[str, NodeStart] = {}  # the checkpoint files each kubelet started on
        self.state = ClusterState(opts.state_dir)
        self.kubelets: dict[str, NodeKubelet] = {}
        self.node_uids: dict[str, str] = {}
        self.client: AsyncClient | None = None
        self.stop = asyncio.Event()
        self.ready = False
        self.endpoint = ""
        # pods' statuses, deletions and events first; leases, node status and NRT objects beside them
        self.sem = asyncio.Semaphore(opts.workers)
        self.sem_node = asyncio.Semaphore(4)  # node status, NRT
        # leases never wait behind pods: a lease renewed late makes the node NotReady (the node lifecycle
        # controller's grace period), so as many may be in flight as pod writes
        self.sem_lease = asyncio.Semaphore(max(LEASES_IN_FLIGHT, opts.workers))
        self.renewing: set[str] = set()
        self.nrt_written: dict[str, float] = {}
        self.nrt_sem = asyncio.Semaphore(2)
        self.locks: dict[str, asyncio.Lock] = {}
        self.nrt_dirty: set[str] = set()
        self.tasks: set[asyncio.Task[Any]] = set()
        self.listed_once = False
        self.stats = {"admitted": 0, "rejected": 0, "deleted": 0, "status_writes": 0, "errors": 0}
        self.latencies: list[tuple[float, float]] = []
        self.deleting: set[str] = set()  # pods whose deletion is being finished

    # -- start-up ----------------------------------------------------------------
    def start_kubelets(self) -> None:
        """Every node's kubelet on its checkpoints (raises StateError: a configuration the kubelet refuses,
        an unusable state directory). A node whose checkpoints its kubelet refuses is reported and left
        down (see :meth:`_kubelet_down`); the other nodes run."""
        self.state.open()
        for name, spec in list(self.specs.items()):
            self.locks[name] = asyncio.Lock()
            if self.opts.admit_all:
                self.kubelets[name] = NodeKubelet(spec, None)
                continue
            st = self.state.start(spec)
            if st.engine is None:
                self._kubelet_down(name, st.refusal)
                continue
            self.starts[name] = st
            self.kubelets[name] = NodeKubelet(spec, st.engine)

    def _kubelet_down(self, name: str, refusal: str) -> None:
        """The node's kubelet refuses to start: as a real one, it exits (and its service manager starts it
        again, to the same refusal). It registers nothing, renews no Lease and posts no status, so the
        node lifecycle controller turns the node's Ready condition Unknown ("Kubelet stopped posting node
        status.") once its Lease expires; its pods are left as they are (no kubelet admits or finishes
        them). The other nodes run; /debug/stats and /debug/nodes/NAME show the refusal; fix the node's
        checkpoints or configuration (or drain it and remove nodes/NAME under --state) and start again."""
        log.error("node %s: the kubelet refuses to start: %s (the node is left without a kubelet)", name, refusal)
        self.down[name] = refusal
        self.specs.pop(name, None)
        self.kubelets.pop(name, None)
        self.nrt_dirty.discard(name)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        # checkpoint writes (fsync) run in threads, many nodes at once
        loop.set_default_executor(
            concurrent.futures.ThreadPoolExecutor(max_workers=16, thread_name_prefix="checkpoint")
        )
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.stop.set)
        server, port = await serve(self.opts.host, self.opts.port, self._http)
        self.endpoint = f"http://{self.opts.host}:{port}"
        self.state.write_meta(self.opts.fleet_name, self.all_specs, self.endpoint)
        log.info("endpoint %s (/metrics, /readyz)", self.endpoint)
        # every semaphore's calls in flight, the two watches and the CRD/registration calls beside them
        in_flight = self.opts.workers + max(LEASES_IN_FLIGHT, self.opts.workers) + 4
        self.client = make_client(self.opts.kubeconfig, connections=in_flight + 2 + 4)
        try:
            if not self.opts.admit_all:
                await self._ensure_crd()
            await asyncio.gather(*(self._register(s) for s in self.specs.values()))
            log.info("%d nodes registered", len(self.specs))
            pods = Informer(
                self.client,
                Pod,
                on_list=self._on_pod_list,
                on_event=self._on_pod_event,
                fields={"spec.nodeName": _not_empty()},
                name="pods",
            )
            nodes = Informer(
                self.client,
                Node,
                on_list=self._on_node_list,
                on_event=self._on_node_event,
                labels={CLUSTER_LABEL: self.opts.fleet_name},
                name="nodes",
            )
            loops = [
                asyncio.create_task(pods.run(self.stop)),
                asyncio.create_task(nodes.run(self.stop)),
                asyncio.create_task(self._lease_loop()),
                asyncio.create_task(self._status_loop()),
            ]
            if not self.opts.admit_all:
                loops.append(asyncio.create_task(self._nrt_loop()))
            for t in loops:
                t.add_done_callback(self._loop_done)
            await self.stop.wait()
            for t in loops:
                t.cancel()
            await asyncio.gather(*loops, return_exceptions=True)
            if self.tasks:
                await asyncio.wait(list(self.tasks), timeout=10)
        finally:
            server.close()
            with contextlib.suppress(Exception):
                await self.client.close()
            self.state.close()

    # -- HTTP --------------------------------------------------------------------
    def _http(self, path: str) -> tuple[int, str, bytes]:
        if path == "/metrics":
            per = {n: (k.metrics, k.engine, k.counts()) for n, k in self.kubelets.items()}
            return 200, "text/plain; version=0.0.4; charset=utf-8", render(per).encode()
        if path == "/readyz":
            return (200, "text/plain", b"ok\n") if self.ready else (503, "text/plain", b"not ready\n")
        if path == "/healthz":
            return 200, "text/plain", b"ok\n"
        if path == "/debug/stats":
            body = {**self.stats, **_percentiles(self.latencies), "kubeletRefusals": dict(self.down)}
            return 200, "application/json", json_body(body)
        if path.startswith("/debug/nodes/"):
            name = path.rsplit("/", 1)[1]
            if name in self.down:
                return 503, "application/json", json_body({"node": name, "kubeletRefusal": self.down[name]})
            k = self.kubelets.get(name)
            if k is None:
                return 404, "text/plain", b"no such node\n"
            cp = k.checkpoints()
            data = {
                "node": k.spec.name,
                "pool": k.spec.pool,
                "admitAll": k.engine is None,
                "cpuManagerState": cp[0].decode() if cp else None,
                "memoryManagerState": cp[1].decode() if cp else None,
                "pods": [
                    {"uid": e.uid, "key": e.key, "admitted": e.admitted, "reason": e.reason, "podIP": e.ip}
                    for e in k.pods.values()
                ],
            }
            return 200, "application/json", json_body(data)
        return 404, "text/plain", b"not found\n"

    # -- background work ---------------------------------------------------------
    def _spawn(self, coro: Any) -> None:
        t = asyncio.create_task(coro)
        self.tasks.add(t)
        t.add_done_callback(self._done)

    def _done(self, t: asyncio.Task[Any]) -> None:
        self.tasks.discard(t)
        if not t.cancelled() and t.exception() is not None:
            self.stats["errors"] += 1
            log.error("background work failed: %s", t.exception())

    def _loop_done(self, t: asyncio.Task[Any]) -> None:
        if not t.cancelled() and t.exception() is not None:
            log.error("a loop of topolet cluster run stopped: %r; stopping", t.exception())
            self.stop.set()

    async def _api(self, fn: Any, what: str, *, node_level: bool = False, lease: bool = False, **kw: Any) -> Any:
        assert self.client is not None
        async with self.sem_lease if lease else self.sem_node if node_level else self.sem:
            return await call(fn, what, stop=self.stop, **kw)

    # -- CRD ---------------------------------------------------------------------
    async def _ensure_crd(self) -> None:
        assert self.client is not None
        client = self.client
        try:
            await self._api(lambda: client.get(CustomResourceDefinition, nrt.CRD_NAME), "get CRD")
            return
        except ApiError as e:
            if status_code(e) != 404:
                raise
        obj = CustomResourceDefinition.from_dict(nrt.crd())
        try:
            await self._api(lambda: client.create(obj), "create CRD")
        except ApiError as e:
            if status_code(e) != 409:
                raise
        for _ in range(100):  # until Established
            crd = await self._api(lambda: client.get(CustomResourceDefinition, nrt.CRD_NAME), "get CRD")
            conds = (crd.status.conditions or []) if crd.status else []
            if any(c.type == "Established" and c.status == "True" for c in conds):
                return
            await asyncio.sleep(0.1)
        log.warning("CRD %s not Established yet", nrt.CRD_NAME)

    # -- registration, lease, node status -------------------------------------------
    async def _register(self, spec: NodeSpec) -> None:
        assert self.client is not None
        client = self.client
        obj = nodestatus.node_object(spec, self.endpoint)
        try:
            created = await self._api(lambda: client.create(Node.from_dict(obj)), f"register node {spec.name}")
            self.node_uids[spec.name] = created.metadata.uid
        except ApiError as e:
            if status_code(e) != 409:
                raise
            # the node exists (a kubelet restart): reconcile labels/annotations, post the status
            meta = {"metadata": {"labels": obj["metadata"]["labels"], "annotations": obj["metadata"]["annotations"]}}
            n = await self._api(
                lambda: client.patch(Node, spec.name, meta, patch_type=PatchType.MERGE), f"update node {spec.name}"
            )
            self.node_uids[spec.name] = n.metadata.uid
            await self._post_status(spec)
        try:
            await self._renew_lease(spec)
        except (ApiError, GiveUp) as e:
            # e.g. kube-node-lease not created yet on a control plane that has just started: the node is
            # registered, the lease loop creates the lease on its next round
            log.warning("node %s: lease not created yet (%s); the lease loop retries", spec.name, e)
        self.nrt_dirty.add(spec.name)

    async def _post_status(self, spec: NodeSpec) -> None:
        assert self.client is not None
        client = self.client
        from lightkube.resources.core_v1 import NodeStatus

        patch = nodestatus.status_patch(spec)
        await self._api(
            lambda: client.patch(NodeStatus, spec.name, patch, patch_type=PatchType.STRATEGIC),
            f"node {spec.name} status",
            node_level=True,
            tries=None,
        )

    def _lease_seconds(self, spec: NodeSpec) -> int:
        return self.opts.lease_seconds or spec.lease_seconds

    async def _renew_lease(self, spec: NodeSpec) -> None:
        assert self.client is not None
        client = self.client
        patch = {"spec": {"holderIdentity": spec.name, "renewTime": nodestatus.now_micro()}}
        path = f"apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{spec.name}?fieldManager=topolet"
        try:
            await self._api(
                lambda: send_raw(client, "PATCH", path, patch, MERGE),
                f"renew lease {spec.name}",
                lease=True,
                tries=None,
            )
            return
        except ApiError as e:
            if status_code(e) != 404:
                raise
        lease: dict[str, Any] = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": spec.name, "namespace": "kube-node-lease"},
            "spec": {
                "holderIdentity": spec.name,
                "leaseDurationSeconds": self._lease_seconds(spec),
                "renewTime": nodestatus.now_micro(),
            },
        }
        uid = self.node_uids.get(spec.name)
        if uid:
            lease["metadata"]["ownerReferences"] = [{"apiVersion": "v1", "kind": "Node", "name": spec.name, "uid": uid}]
        try:
            await self._api(lambda: client.create(Lease.from_dict(lease)), f"create lease {spec.name}", lease=True)
        except ApiError as e:
            if status_code(e) != 409:
                raise

    async def _spread(self, interval: float, fn: Any) -> None:
        """Call ``fn(spec)`` for every node, spread over ``interval`` seconds."""
        specs = list(self.specs.values())
        step = interval / max(len(specs), 1)
        for s in specs:
            if self.stop.is_set():
                return
            self._spawn(fn(s))
            await asyncio.sleep(step)

    async def _renew_once(self, spec: NodeSpec) -> None:
        """One renewal; skipped while the previous one of this node is still in flight."""
        if spec.name in self.renewing:
            return
        self.renewing.add(spec.name)
        try:
            await self._safe(self._renew_lease)(spec)
        finally:
            self.renewing.discard(spec.name)

    async def _lease_loop(self) -> None:
        while not self.stop.is_set():
            interval = min((self._lease_seconds(s) for s in self.specs.values()), default=40) / 4
            t0 = time.monotonic()
            await self._spread(interval * 0.9, self._renew_once)
            await asyncio.sleep(max(0.0, interval - (time.monotonic() - t0)))

    async def _status_loop(self) -> None:
        while not self.stop.is_set():
            await asyncio.sleep(STATUS_REPORT_SECONDS * 0.5)
            await self._spread(STATUS_REPORT_SECONDS * 0.5, self._safe(self._post_status))

    def _safe(self, fn: Any) -> Any:
        async def run(spec: NodeSpec) -> None:
            try:
                await fn(spec)
            except (ApiError, GiveUp) as e:
                log.warning("node %s: %s", spec.name, e)

        return run

    async def _on_node_list(self, items: list[Any]) -> None:
        present = {o.metadata.name for o in items}
        for name, spec in self.specs.items():
            if name not in present and self.listed_once:
                log.warning("node %s is gone from the API server; registering it again", name)
                self._spawn(self._safe(self._register)(spec))
        for o in items:
            await self._on_node_event("ADDED", o)

    async def _on_node_event(self, typ: str, obj: Any) -> None:
        spec = self.specs.get(obj.metadata.name)
        if spec is None:
            return
        if typ == "DELETED":
            log.warning("node %s was deleted by someone else; registering it again", spec.name)
            self.node_uids.pop(spec.name, None)
            self._spawn(self._safe(self._register)(spec))
            return
        self.node_uids[spec.name] = obj.metadata.uid
        conds = (obj.status.conditions or []) if obj.status else []
        ready = next((c for c in conds if c.type == "Ready"), None)
        if ready is not None and ready.status != "True":
            log.info("node %s is %s (%s); posting Ready", spec.name, ready.status, ready.reason)
            self._spawn(self._safe(self._post_status)(spec))

    # -- pods --------------------------------------------------------------------
    async def _on_pod_list(self, items: list[Any]) -> None:
        by_node: dict[str, list[Any]] = {}
        for o in items:
            nn = o.spec.nodeName if o.spec else None
            if nn in self.kubelets:
                by_node.setdefault(nn, []).append(o)
        if not self.listed_once:
            for name, k in list(self.kubelets.items()):
                self._restore(k, by_node.get(name, []))
            self.listed_once = True
            self.ready = True
            log.info("ready: %d pods re-admitted after the start", len(items))
            return
        # a re-list after 410 Gone: pods that went away during the gap are removed
        for name, k in self.kubelets.items():
            listed = {o.metadata.uid for o in by_node.get(name, [])}
            for uid in [u for u in k.pods if u not in listed]:
                self._forget(k, uid)
        for objs in by_node.values():
            for o in objs:
                await self._on_pod_event("ADDED", o)

    def _restore(self, k: NodeKubelet, objs: list[Any]) -> None:
        """The node's kubelet restart (kubelet 1.36.2): its pods re-admitted in creation order."""
        objs = sorted(objs, key=lambda o: (_ts(o.metadata.creationTimestamp), o.metadata.name))
        name = k.spec.name
        active: list[ActivePod] = []
        deleting: list[Any] = []
        terminal: list[Any] = []
        for o in objs:
            phase = o.status.phase if o.status else ""
            if phase in TERMINAL:
                terminal.append(o)
                continue
            if o.metadata.deletionTimestamp:
                deleting.append(o)
            active.append(self._active(o))
        st = self.starts.pop(name, None)
        try:
            if st is not None:
                result = k.restore(active, (st.cpu, st.memory), st.directory)
            else:
                result = k.restore(active)
        except NodeStartError as e:
            self._kubelet_down(name, e.message)
            return
        for o in terminal:
            k.pods[o.metadata.uid] = PodEntry(o.metadata.uid, _key(o), False, reason=o.status.reason or "")
        running = [o for o in objs if (o.status.phase if o.status else "") == "Running"]
        if result.empty_start and running:
            log.warning(
                "node %s: no checkpoint files while %d pod(s) run: the kubelet started from empty state and "
                "re-admitted the pods in creation order",
                name,
                len(running),
            )
        if result.stale:
            log.info("node %s: removed checkpoint state of gone pods %s", name, ", ".join(result.stale))
        for note in result.notes:
            log.warning("node %s: pod %s %s", name, note.pod, note.describe())
        by_uid = {o.metadata.uid: o for o in objs}
        for d in result.decided:
            o = by_uid[d.entry.uid]
            if o.metadata.deletionTimestamp:
                continue  # its deletion is finished below
            if d.entry.admitted and (o.status.phase if o.status else "") == "Running":
                continue  # still running as its status says
            self._after_decision(k, d, o)
        for o in deleting:
            self._spawn(self._finish_deletion(k, o))
        for o in terminal:
            if o.metadata.deletionTimestamp:
                self._spawn(self._finish_deletion(k, o))
        self.nrt_dirty.add(name)
        if k.dirty:
            self._spawn(self._persist(k))

    def _active(self, o: Any) -> ActivePod:
        status = o.status
        try:
            pod = pod_from_api(o)
            err = ""
        except PodConversionError as e:
            pod, err = None, str(e)
            log.warning("pod %s: %s", _key(o), e)
        return ActivePod(
            pod=pod,
            uid=o.metadata.uid,
            key=_key(o),
            qos=(status.qosClass if status else "") or "",
            phase=(status.phase if status else "") or "",
            pod_ip=(status.podIP if status else "") or "",
            conversion_error=err,
        )

    async def _on_pod_event(self, typ: str, o: Any) -> None:
        nn = o.spec.nodeName if o.spec else None
        k = self.kubelets.get(nn or "")
        if k is None or not self.listed_once:
            return
        uid = o.metadata.uid
        if typ == "DELETED":
            self._forget(k, uid)
            return
        if o.metadata.deletionTimestamp:
            if uid not in self.deleting:
                self._spawn(self._finish_deletion(k, o))
            return
        if uid in k.pods:
            return
        phase = o.status.phase if o.status else ""
        if phase in TERMINAL:
            return
        ap = self._active(o)
        if ap.pod is None:
            d = k.reject_unreadable(ap.uid, ap.key, ap.qos, ap.conversion_error)
        else:
            d = k.admit(ap.pod)
        self._after_decision(k, d, o)

    def _after_decision(self, k: NodeKubelet, d: Decision, o: Any) -> None:
        t0 = time.monotonic()
        if d.entry.admitted:
            self.stats["admitted"] += 1
        else:
            self.stats["rejected"] += 1
            log.info("pod %s rejected on %s: %s: %s", d.entry.key, k.spec.name, d.entry.reason, d.entry.message)
        self.nrt_dirty.add(k.spec.name)
        self._spawn(self._persist_then_status(k, d, o, t0))

    async def _persist(self, k: NodeKubelet) -> None:
        lock = self.locks[k.spec.name]
        async with lock:
            if not k.dirty:
                return
            data = k.checkpoints()
            k.dirty = False
            if data is not None:
                await asyncio.to_thread(self.state.save, k.spec.name, data)

    async def _persist_then_status(self, k: NodeKubelet, d: Decision, o: Any, t0: float) -> None:
        await self._persist(k)
        t1 = time.monotonic()
        e = d.entry
        ns, name = e.key.split("/", 1)
        if e.admitted:
            assert d.pod is not None
            await self._write_running(k, d.pod, e.ip)
            self._latency(t0, t1)
            return
        ran = bool(o.status and (o.status.podIP or o.status.containerStatuses))  # rejected at a restart
        patch = podstatus.rejected_status(e.uid, e.qos, e.reason, e.message, ran)
        await self._patch_status(ns, name, patch)
        self._latency(t0, t1)
        ev = podstatus.rejection_event(k.spec.name, ns, name, e.uid, e.reason, e.message, o.metadata.resourceVersion)
        assert self.client is not None
        client = self.client
        try:
            await self._api(lambda: client.create(Event.from_dict(ev)), f"event for {e.key}")
        except (ApiError, GiveUp) as err:
            log.warning("event for pod %s: %s", e.key, err)

    def _latency(self, t0: float, t1: float) -> None:
        """Admission -> checkpoint written -> status written, kept for /debug/stats (last 10,000)."""
        lat = self.latencies
        lat.append((t1 - t0, time.monotonic() - t0))
        if len(lat) > 10_000:
            del lat[: len(lat) - 10_000]

    async def _write_running(self, k: NodeKubelet, pod: Any, ip: str) -> None:
        await self._patch_status(pod.namespace, pod.name, podstatus.running_status(pod, k.spec.internal_ip, ip))

    async def _patch_status(self, ns: str, name: str, patch: dict[str, Any]) -> None:
        assert self.client is not None
        client = self.client
        path = f"api/v1/namespaces/{ns}/pods/{name}/status?fieldManager=topolet"
        try:
            await self._api(
                lambda: send_raw(client, "PATCH", path, patch, STRATEGIC),
                f"status of pod {ns}/{name}",
                tries=None,
            )
            self.stats["status_writes"] += 1
        except ApiError as e:
            if status_code(e) in (404, 409, 422):  # gone, or another pod under that name now
                log.info("status of pod %s/%s not written: %s", ns, name, e)
                return
            raise

    def _forget(self, k: NodeKubelet, uid: str) -> None:
        if k.remove(uid) is not None:
            self.nrt_dirty.add(k.spec.name)
            if k.dirty:
                self._spawn(self._persist(k))

    async def _finish_deletion(self, k: NodeKubelet, o: Any) -> None:
        """The kubelet's end of a graceful deletion: containers stopped, resources back, the object removed."""
        uid = o.metadata.uid
        ns, name = o.metadata.namespace, o.metadata.name
        self.deleting.add(uid)
        try:
            await self._finish_deletion_of(k, uid, ns, name)
        finally:
            self.deleting.discard(uid)

    async def _finish_deletion_of(self, k: NodeKubelet, uid: str, ns: str, name: str) -> None:
        if k.remove(uid) is not None:
            self.nrt_dirty.add(k.spec.name)
        await self._persist(k)
        assert self.client is not None
        inner = self.client._client  # a delete with the pod's UID as precondition, as the status manager does
        body = {"apiVersion": "v1", "kind": "DeleteOptions", "gracePeriodSeconds": 0, "preconditions": {"uid": uid}}

        async def delete() -> Any:
            req = inner._client.build_request("DELETE", f"api/v1/namespaces/{ns}/pods/{name}", json=body)
            resp = await inner.send(req)
            inner.raise_for_status(resp)
            return resp

        try:
            await self._api(delete, f"delete pod {ns}/{name}", tries=None)
            self.stats["deleted"] += 1
        except ApiError as e:
            if status_code(e) not in (404, 409):
                raise

    # -- NodeResourceTopology ------------------------------------------------------------
    async def _nrt_loop(self) -> None:
        """Write the changed nodes' NodeResourceTopology objects, each at most every ``nrt_interval`` seconds
        (resource-topology-exporter's rate limit), a few at a time: under load, changes coalesce."""
        while not self.stop.is_set():
            await asyncio.sleep(0.5)
            now = time.monotonic()
            due = [n for n in self.nrt_dirty if now - self.nrt_written.get(n, -1e9) >= self.opts.nrt_interval]
            if not due:
                continue
            self.nrt_dirty.difference_update(due)
            for name in due:
                self.nrt_written[name] = now
            await asyncio.gather(*(self._nrt_one(n) for n in due))

    async def _nrt_one(self, name: str) -> None:
        async with self.nrt_sem:
            await self._safe(self._write_nrt)(self.specs[name])

    async def _write_nrt(self, spec: NodeSpec) -> None:
        k = self.kubelets[spec.name]
        if k.engine is None or self.client is None:
            return
        client = self.client
        obj = nrt.nrt_object(spec.name, k.engine, k.running_keys(), self.node_uids.get(spec.name, ""))
        try:
            path = f"apis/{nrt.GROUP}/{nrt.VERSION}/{nrt.PLURAL}/{spec.name}?fieldManager=topolet"
            await self._api(
                lambda: send_raw(client, "PATCH", path, obj, MERGE),
                f"NodeResourceTopology {spec.name}",
                node_level=True,
            )
        except ApiError as e:
            if status_code(e) != 404:
                raise
            await self._api(
                lambda: client.create(NRT.from_dict(obj)), f"create NodeResourceTopology {spec.name}", node_level=True
            )


def _percentiles(lat: list[tuple[float, float]]) -> dict[str, float]:
    if not lat:
        return {}
    out: dict[str, float] = {}
    for i, name in ((0, "checkpoint"), (1, "status")):
        v = sorted(x[i] for x in lat)
        out[f"admission_to_{name}_ms_p50"] = round(1000 * v[len(v) // 2], 2)
        out[f"admission_to_{name}_ms_p99"] = round(1000 * v[min(len(v) - 1, int(len(v) * 0.99))], 2)
    return out


def _not_empty() -> Any:
    from lightkube import operators

    return operators.not_equal("")


def _key(o: Any) -> str:
    return f"{o.metadata.namespace}/{o.metadata.name}"


def _ts(v: Any) -> float:
    if v is None:
        return 0.0
    if isinstance(v, datetime):
        return v.replace(tzinfo=v.tzinfo or UTC).timestamp()
    try:
        return datetime.fromisoformat(str(v).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


# -- delete ------------------------------------------------------------------------------------


async def delete_cluster(kubeconfig: str | None, fleet_name: str) -> list[str]:
    """Delete the fleet's Nodes (and with them, through owner references, their Leases and
    NodeResourceTopology objects; deleted explicitly too). Returns the node names."""
    client = make_client(kubeconfig)
    names: list[str] = []
    try:
        async for n in client.list(Node, labels={CLUSTER_LABEL: fleet_name}):
            names.append(n.metadata.name)
        for name in names:
            for res, ns in ((Node, None), (Lease, "kube-node-lease"), (NRT, None)):
                try:
                    await call(
                        lambda res=res, ns=ns, name=name: client.delete(res, name, namespace=ns), f"delete {name}"
                    )
                except ApiError as e:
                    if status_code(e) != 404:
                        raise
    finally:
        await client.close()
    return names
