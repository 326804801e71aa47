"""Clients of the kubelet's PodResources API (podresources v1) and the container runtime (CRI v1).

Both speak gRPC over a unix socket with the protos in :mod:`topolet.realnode.proto`
(upstream's package, service and message names and field numbers). grpcio and
protobuf are the optional ``realnode`` extra: without them, :class:`ClientError`
says so and capture records the API as not captured.
"""

from __future__ import annotations

from typing import Any

DEFAULT_TIMEOUT = 5.0


class ClientError(Exception):
    """A socket that cannot be queried (the message names the socket and why)."""


def _grpc() -> Any:
    try:
        import grpc
    except ImportError as e:  # pragma: no cover - depends on the installation
        raise ClientError(
            "the gRPC client is not installed (pip install 'topolet[realnode]': grpcio and protobuf)"
        ) from e
    return grpc


def _protos(name: str) -> tuple[Any, Any]:
    """The generated message and service modules (they need protobuf and grpcio)."""
    import importlib

    try:
        return (
            importlib.import_module(f"topolet.realnode.proto.{name}_pb2"),
            importlib.import_module(f"topolet.realnode.proto.{name}_pb2_grpc"),
        )
    except ImportError as e:  # pragma: no cover - depends on the installation
        raise ClientError(
            f"the gRPC client cannot be loaded ({e}): pip install 'topolet[realnode]' (grpcio and protobuf)"
        ) from e


def _call(socket_path: str, what: str, fn: Any) -> Any:
    grpc = _grpc()
    channel = grpc.insecure_channel(f"unix://{socket_path}")
    try:
        return fn(channel)
    except grpc.RpcError as e:
        code = e.code().name if hasattr(e, "code") and e.code() is not None else "UNKNOWN"
        detail = e.details() if hasattr(e, "details") else str(e)
        raise ClientError(f"{socket_path}: {what} failed: {code}: {detail}") from None
    finally:
        channel.close()


def _topology(t: Any) -> list[int]:
    return sorted(int(n.ID) for n in t.nodes) if t is not None else []


def _memory(ms: Any) -> list[dict[str, Any]]:
    return [{"memoryType": m.memory_type, "size": int(m.size), "numa": _topology(m.topology)} for m in ms]


def _devices(ds: Any) -> list[dict[str, Any]]:
    return [
        {"resourceName": d.resource_name, "deviceIds": list(d.device_ids), "numa": _topology(d.topology)} for d in ds
    ]


def podresources_list(socket_path: str, timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
    """``List`` and ``GetAllocatableResources`` of the kubelet's PodResources API, as plain data."""
    pb, pbg = _protos("podresources_v1")

    def go(channel: Any) -> dict[str, Any]:
        stub = pbg.PodResourcesListerStub(channel)
        listed = stub.List(pb.ListPodResourcesRequest(), timeout=timeout)
        pods = [
            {
                "name": p.name,
                "namespace": p.namespace,
                "containers": [
                    {
                        "name": c.name,
                        "cpuIds": sorted(int(x) for x in c.cpu_ids),
                        "memory": _memory(c.memory),
                        "devices": _devices(c.devices),
                    }
                    for c in p.containers
                ],
            }
            for p in listed.pod_resources
        ]
        out: dict[str, Any] = {"pods": pods}
        try:
            alloc = stub.GetAllocatableResources(pb.AllocatableResourcesRequest(), timeout=timeout)
            out["allocatable"] = {
                "cpuIds": sorted(int(x) for x in alloc.cpu_ids),
                "memory": _memory(alloc.memory),
                "devices": _devices(alloc.devices),
            }
        except _grpc().RpcError as e:  # older kubelets / gate off: List works, this does not
            out["allocatableError"] = f"{e.code().name}: {e.details()}"
        return out

    return _call(socket_path, "PodResources List", go)


def cri_list(socket_path: str, timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
    """``ListPodSandbox`` and ``ListContainers`` of the container runtime, as crictl does."""
    pb, pbg = _protos("cri_v1")

    def go(channel: Any) -> dict[str, Any]:
        stub = pbg.RuntimeServiceStub(channel)
        sandboxes = stub.ListPodSandbox(pb.ListPodSandboxRequest(), timeout=timeout)
        containers = stub.ListContainers(pb.ListContainersRequest(), timeout=timeout)
        return {
            "sandboxes": [
                {
                    "id": s.id,
                    "name": s.metadata.name,
                    "uid": s.metadata.uid,
                    "namespace": s.metadata.namespace,
                    "state": pb.PodSandboxState.Name(s.state),
                }
                for s in sandboxes.items
            ],
            "containers": [
                {
                    "id": c.id,
                    "podSandboxId": c.pod_sandbox_id,
                    "name": c.metadata.name,
                    "attempt": int(c.metadata.attempt),
                    "image": c.image.image,
                    "state": pb.ContainerState.Name(c.state),
                }
                for c in containers.containers
            ],
        }

    return _call(socket_path, "CRI ListPodSandbox/ListContainers", go)
