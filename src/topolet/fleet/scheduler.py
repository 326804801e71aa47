"""kube-scheduler's NodeResourcesFit, for one cell of a fleet, without scanning every node per pod.

What is modelled (pkg/scheduler/framework/plugins/noderesources, 1.36):

* the pod's requests: ``resourcehelper.PodRequests`` -- the sidecar-KEP
  aggregate of the containers' requests, replaced by the pod-level requests
  for cpu, memory and hugepages-* when ``spec.resources.requests`` sets them;
* **Filter**: the pod fits a node when ``pods + 1 <= allocatable pods`` and, for
  each of cpu (milli), memory and hugepages-* that the pod requests (> 0),
  ``request <= allocatable - requested``; ``requested`` counts the pods that
  the kubelet admitted (a rejected pod is Failed: the scheduler forgets it);
  plus a ``nodeSelector`` against the pool's labels (NodeAffinity);
* **Score** (weights cpu 1, memory 1, MaxNodeScore 100, Go integer arithmetic),
  on the "non-zero" requests (a container without a cpu / memory request
  counts 100m / 200Mi, ``NonMissingContainerRequests``):
  ``LeastAllocated``: ``(allocatable - requested) * 100 / allocatable`` per
  resource; ``MostAllocated``: ``min(requested, allocatable) * 100 / allocatable``;
  the node score is their integer mean;
* **selectHost**: a node drawn at random (seeded) among those with the top score.

Not modelled: the other score plugins (BalancedAllocation, ImageLocality,
TaintToleration, PodTopologySpread, InterPodAffinity), ``percentageOfNodesToScore``
(every feasible node is scored), preemption.

Cost. Scores are integers 0..100, so per *shape* (a pod's requests and node
selector) the nodes sit in 101 buckets by the score a pod of that shape
would get; a bucket is a list with O(1) swap-removal. Choosing a node is
"highest non-empty bucket, random member" (amortised O(1)); when a node's
requests change, its bucket is recomputed for each shape (O(shapes)). The
NUMA-aware mode walks the candidates of the top buckets in random order and
takes a node out of a shape's buckets once its kubelet admission failed for
it, until the node changes.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from topolet.model.defaulting import aggregate_container_requests, is_supported_pod_level_resource
from topolet.model.pod import CPU, MEMORY, Container, Pod, Resources, is_hugepages
from topolet.model.quantity import Quantity

__all__ = [
    "DEFAULT_MEMORY_REQUEST",
    "DEFAULT_MILLI_CPU_REQUEST",
    "FitIndex",
    "NodeAllocatable",
    "PodRequest",
    "pod_request",
]

DEFAULT_MILLI_CPU_REQUEST = 100  # schedutil.DefaultMilliCPURequest
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024  # schedutil.DefaultMemoryRequest
MAX_NODE_SCORE = 100
LEAST_ALLOCATED = "LeastAllocated"
MOST_ALLOCATED = "MostAllocated"


@dataclass(frozen=True, slots=True)
class PodRequest:
    """What the scheduler sees of a pod: filter requests and the non-zero requests it scores with."""

    cpu: int  # milli
    memory: int  # bytes
    hugepages: tuple[tuple[str, int], ...]
    nz_cpu: int
    nz_memory: int


@dataclass(frozen=True, slots=True)
class NodeAllocatable:
    cpu: int  # milli
    memory: int
    pods: int
    hugepages: tuple[tuple[str, int], ...]


def _with_defaults(c: Container) -> Container:
    req = dict(c.resources.requests)
    if CPU not in req:
        req[CPU] = Quantity.parse(f"{DEFAULT_MILLI_CPU_REQUEST}m")
    if MEMORY not in req:
        req[MEMORY] = Quantity.parse(DEFAULT_MEMORY_REQUEST)
    return Container(c.name, Resources(req, c.resources.limits), c.restart_policy, c.image)


def _requests(pod: Pod, pod_level: bool) -> dict[str, Quantity]:
    reqs = aggregate_container_requests(pod)
    if pod_level and pod.resources is not None:
        for name, q in pod.resources.requests.items():
            if is_supported_pod_level_resource(name):
                reqs[name] = q
    return reqs


def pod_request(pod: Pod, pod_level_resources: bool = True) -> PodRequest:
    """``PodRequests`` of an API-stored pod, for the filter and (with non-zero defaults) for scoring."""
    reqs = _requests(pod, pod_level_resources)
    nz_pod = Pod(
        name=pod.name,
        namespace=pod.namespace,
        uid=pod.uid,
        containers=[_with_defaults(c) for c in pod.containers],
        init_containers=[_with_defaults(c) for c in pod.init_containers],
        resources=pod.resources,
    )
    nz = _requests(nz_pod, pod_level_resources)
    hp = tuple(sorted((k, v.int_value()) for k, v in reqs.items() if is_hugepages(k) and v.int_value() > 0))
    return PodRequest(
        cpu=reqs[CPU].milli_value() if CPU in reqs else 0,
        memory=reqs[MEMORY].int_value() if MEMORY in reqs else 0,
        hugepages=hp,
        nz_cpu=nz[CPU].milli_value(),
        nz_memory=nz[MEMORY].int_value(),
    )


class FitIndex:
    """The scheduler's view of a cell's nodes, indexed per shape by score bucket."""

    def __init__(
        self,
        allocatable: list[NodeAllocatable],
        labels: list[dict[str, str]],
        scoring: str,
        rng: random.Random,
    ) -> None:
        if scoring not in (LEAST_ALLOCATED, MOST_ALLOCATED):
            raise ValueError(f"unknown scoring {scoring!r}")
        n = len(allocatable)
        self.n = n
        self.alloc = allocatable
        self.labels = labels
        self.least = scoring == LEAST_ALLOCATED
        self.rng = rng
        self.u_cpu = [0] * n
        self.u_mem = [0] * n
        self.u_pods = [0] * n
        self.u_nzc = [0] * n
        self.u_nzm = [0] * n
        self.u_hp: list[dict[str, int]] = [{} for _ in range(n)]
        self.a_cpu = [a.cpu for a in allocatable]
        self.a_mem = [a.memory for a in allocatable]
        self.a_pods = [a.pods for a in allocatable]
        self.a_hp = [dict(a.hugepages) for a in allocatable]
        self.shapes: list[tuple[PodRequest, dict[str, str]]] = []
        self.sreq: list[tuple[int, int, tuple[tuple[str, int], ...], int, int]] = []
        self.buckets: list[list[list[int]]] = []
        self.where_b: list[list[int]] = []  # bucket of node i for shape s: -1 infeasible/ineligible, -2 blocked
        self.where_i: list[list[int]] = []
        self.top: list[int] = []
        self.shapes_of: list[list[int]] = [[] for _ in range(n)]

    # -- shapes -----------------------------------------------------------------------
    def add_shape(self, req: PodRequest, selector: dict[str, str]) -> int:
        """Index every node for pods of this shape; returns the shape id."""
        s = len(self.shapes)
        self.shapes.append((req, selector))
        self.sreq.append((req.cpu, req.memory, req.hugepages, req.nz_cpu, req.nz_memory))
        self.buckets.append([[] for _ in range(MAX_NODE_SCORE + 1)])
        self.where_b.append([-1] * self.n)
        self.where_i.append([0] * self.n)
        self.top.append(-1)
        sel = selector.items()
        for i in range(self.n):
            lab = self.labels[i]
            if all(lab.get(k) == v for k, v in sel):
                self.shapes_of[i].append(s)
                sc = self._score(s, i)
                if sc >= 0:
                    self._insert(s, i, sc)
        return s

    # -- scoring ----------------------------------------------------------------------
    def _score(self, s: int, i: int) -> int:
        """The node's score for a pod of shape ``s``, or -1 when the pod does not fit."""
        cpu, mem, hp, nz_cpu, nz_mem = self.sreq[s]
        if self.u_pods[i] >= self.a_pods[i]:
            return -1
        ac = self.a_cpu[i]
        am = self.a_mem[i]
        if cpu > 0 and cpu > ac - self.u_cpu[i]:
            return -1
        if mem > 0 and mem > am - self.u_mem[i]:
            return -1
        if hp:
            ahp = self.a_hp[i]
            uhp = self.u_hp[i]
            for name, v in hp:
                if v > ahp.get(name, 0) - uhp.get(name, 0):
                    return -1
        rc = self.u_nzc[i] + nz_cpu
        rm = self.u_nzm[i] + nz_mem
        if self.least:
            cs = 0 if ac == 0 or rc > ac else (ac - rc) * MAX_NODE_SCORE // ac
            ms = 0 if am == 0 or rm > am else (am - rm) * MAX_NODE_SCORE // am
        else:
            cs = 0 if ac == 0 else min(rc, ac) * MAX_NODE_SCORE // ac
            ms = 0 if am == 0 else min(rm, am) * MAX_NODE_SCORE // am
        return (cs + ms) // 2

    def score(self, s: int, i: int) -> int:
        return self._score(s, i)

    # -- buckets ----------------------------------------------------------------------
    def _insert(self, s: int, i: int, b: int) -> None:
        lst = self.buckets[s][b]
        self.where_i[s][i] = len(lst)
        lst.append(i)
        self.where_b[s][i] = b
        if b > self.top[s]:
            self.top[s] = b

    def _remove(self, s: int, i: int) -> None:
        wb = self.where_b[s]
        b = wb[i]
        if b < 0:
            wb[i] = -1
            return
        lst = self.buckets[s][b]
        wi = self.where_i[s]
        j = wi[i]
        last = lst.pop()
        if last != i:
            lst[j] = last
            wi[last] = j
        wb[i] = -1

    def _update(self, i: int) -> None:
        score = self._score
        for s in self.shapes_of[i]:
            sc = score(s, i)
            wb = self.where_b[s]
            if wb[i] == sc:
                continue
            self._remove(s, i)
            if sc >= 0:
                self._insert(s, i, sc)

    # -- the scheduler's cache -----------------------------------------------------------
    def assign(self, i: int, req: PodRequest) -> None:
        """A pod of these requests now runs on node ``i`` (the kubelet admitted it)."""
        self.u_cpu[i] += req.cpu
        self.u_mem[i] += req.memory
        self.u_pods[i] += 1
        self.u_nzc[i] += req.nz_cpu
        self.u_nzm[i] += req.nz_memory
        if req.hugepages:
            u = self.u_hp[i]
            for name, v in req.hugepages:
                u[name] = u.get(name, 0) + v
        self._update(i)

    def release(self, i: int, req: PodRequest) -> None:
        """A pod of these requests left node ``i``."""
        self.u_cpu[i] -= req.cpu
        self.u_mem[i] -= req.memory
        self.u_pods[i] -= 1
        self.u_nzc[i] -= req.nz_cpu
        self.u_nzm[i] -= req.nz_memory
        if req.hugepages:
            u = self.u_hp[i]
            for name, v in req.hugepages:
                u[name] -= v
        self._update(i)

    # -- choosing a node ------------------------------------------------------------------
    def _top_bucket(self, s: int) -> list[int] | None:
        bks = self.buckets[s]
        t = self.top[s]
        while t >= 0 and not bks[t]:
            t -= 1
        self.top[s] = t
        return bks[t] if t >= 0 else None

    def select(self, s: int) -> int | None:
        """The node kube-scheduler binds a pod of shape ``s`` to, or None (Unschedulable)."""
        lst = self._top_bucket(s)
        if lst is None:
            return None
        if len(lst) == 1:
            return lst[0]
        return lst[self.rng.randrange(len(lst))]

    def candidates(self, s: int) -> Iterator[int]:
        """Feasible nodes best first (random order within a score), for a NUMA-aware filter.

        The caller calls :meth:`block` on a node that fails (which takes it out
        of the shape's buckets until its requests change) and stops iterating
        at the first node that admits the pod.
        """
        while True:
            node = self.select(s)
            if node is None:
                return
            yield node

    def block(self, s: int, i: int) -> None:
        """Node ``i`` cannot take pods of shape ``s`` (kubelet admission fails) until it changes."""
        self._remove(s, i)
        self.where_b[s][i] = -2

    def feasible_count(self, s: int) -> int:
        return sum(len(b) for b in self.buckets[s])
