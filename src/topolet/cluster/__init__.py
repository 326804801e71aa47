"""``topolet cluster``: simulated kubelets for many nodes, registered in a real Kubernetes API server.

Every node of a fleet file's pools is a Node object kept Ready by a Lease, and
every pod bound to it is admitted by topolet's engine (the same
:class:`~topolet.engine.node.Node` as ``topolet node``), then gets the status
the kubelet writes: Running, or Failed with the kubelet's reason, ``Pod was
rejected: ...`` and a Warning Event. The managers' checkpoints are kept per
node under ``--state`` in the kubelet's format, so a killed ``topolet cluster
run`` started again is a kubelet restart for every node.

Modules, one kubelet concept each:

* :mod:`.fleetnodes` -- the fleet file's pools as nodes (checked before anything is registered);
* :mod:`.nodestatus` -- the Node object: registration, capacity/allocatable, conditions;
* :mod:`.lease` -- the node lease in ``kube-node-lease``;
* :mod:`.convert` -- the API server's pod as the engine's pod;
* :mod:`.podworker` -- one node's kubelet: admission, deletion, restart (no I/O);
* :mod:`.podstatus` -- the pod status and the rejection Event the kubelet writes;
* :mod:`.store` -- the ``--state`` directory (kubelet-format checkpoints per node);
* :mod:`.nrt` -- NodeResourceTopology objects (topology.node.k8s.io/v1alpha2, podfingerprint v001);
* :mod:`.metrics` -- the resource managers' metrics (1.36 names and labels, Prometheus text);
* :mod:`.endpoint` -- the HTTP endpoint (``/metrics``, ``/readyz``, ``/debug/nodes/NAME``);
* :mod:`.api` -- the client: retries with backoff, the pod and node informers;
* :mod:`.runner` -- ``topolet cluster run`` and ``delete``;
* :mod:`.explain` -- ``explain pod/NAME`` and ``describe`` against the cluster.

The client library is lightkube (optional extra ``cluster``), chosen over the
official ``kubernetes`` client because: its models are typed (and decoded by
msgspec straight from the bytes, several times faster than the official
client's OpenAPI deserializer, which matters at 20,000 pods and 1,000 nodes);
it has a real asyncio client (one event loop drives every node's lease,
statuses and the watches, where the official client is thread-per-call or
needs the separate ``kubernetes_asyncio`` fork); and its watch keeps the
resourceVersion and re-watches when the server closes the stream. Two things
it does not expose publicly are done through its own request builder in
:mod:`.api`: watch bookmarks (``allowWatchBookmarks``) and a 410 Gone that
must re-list rather than re-watch from "now" (an informer's semantics, so a
pod deleted during the gap is not held forever), and a delete with a UID
precondition (the kubelet's own delete).
"""
