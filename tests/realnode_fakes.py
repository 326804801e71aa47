"""Local gRPC servers for the realnode tests: a kubelet PodResources API and a CRI runtime on unix sockets.

They serve topolet's protos (upstream's package, service and message names and
field numbers), so the clients talk to them exactly as to a real kubelet and
containerd / CRI-O.
"""

from __future__ import annotations

from concurrent import futures
from dataclasses import dataclass, field
from typing import Any

import grpc

from topolet.realnode.proto import cri_v1_pb2 as cri
from topolet.realnode.proto import cri_v1_pb2_grpc as cri_grpc
from topolet.realnode.proto import podresources_v1_pb2 as pr
from topolet.realnode.proto import podresources_v1_pb2_grpc as pr_grpc


@dataclass
class FakePod:
    uid: str
    name: str
    namespace: str
    sandbox_id: str
    containers: dict[str, str] = field(default_factory=dict)  # container name -> container ID
    cpus: dict[str, list[int]] = field(default_factory=dict)  # container name -> exclusive CPU ids


class _PodResources(pr_grpc.PodResourcesListerServicer):
    def __init__(self, pods: list[FakePod], allocatable: list[int]) -> None:
        self.pods = pods
        self.allocatable = allocatable

    def List(self, request: Any, context: Any) -> Any:
        return pr.ListPodResourcesResponse(
            pod_resources=[
                pr.PodResources(
                    name=p.name,
                    namespace=p.namespace,
                    containers=[pr.ContainerResources(name=c, cpu_ids=p.cpus.get(c, [])) for c in sorted(p.containers)],
                )
                for p in self.pods
            ]
        )

    def GetAllocatableResources(self, request: Any, context: Any) -> Any:
        return pr.AllocatableResourcesResponse(
            cpu_ids=self.allocatable,
            memory=[
                pr.ContainerMemory(
                    memory_type="memory", size=1 << 30, topology=pr.TopologyInfo(nodes=[pr.NUMANode(ID=0)])
                )
            ],
        )


class _Runtime(cri_grpc.RuntimeServiceServicer):
    def __init__(self, pods: list[FakePod]) -> None:
        self.pods = pods

    def ListPodSandbox(self, request: Any, context: Any) -> Any:
        return cri.ListPodSandboxResponse(
            items=[
                cri.PodSandbox(
                    id=p.sandbox_id,
                    metadata=cri.PodSandboxMetadata(name=p.name, uid=p.uid, namespace=p.namespace),
                    state=cri.SANDBOX_READY,
                )
                for p in self.pods
            ]
        )

    def ListContainers(self, request: Any, context: Any) -> Any:
        return cri.ListContainersResponse(
            containers=[
                cri.Container(
                    id=cid,
                    pod_sandbox_id=p.sandbox_id,
                    metadata=cri.ContainerMetadata(name=name),
                    image=cri.ImageSpec(image="registry.k8s.io/pause:3.10"),
                    state=cri.CONTAINER_RUNNING,
                )
                for p in self.pods
                for name, cid in sorted(p.containers.items())
            ]
        )


def serve(socket_path: str, *, pods: list[FakePod], kind: str, allocatable: list[int] | None = None) -> Any:
    """Start a server on ``unix://socket_path``; ``kind`` is "podresources" or "cri". Returns the server."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    if kind == "podresources":
        pr_grpc.add_PodResourcesListerServicer_to_server(_PodResources(pods, allocatable or []), server)
    else:
        cri_grpc.add_RuntimeServiceServicer_to_server(_Runtime(pods), server)
    server.add_insecure_port(f"unix://{socket_path}")
    server.start()
    return server
