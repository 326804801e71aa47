"""The object shape of the manifests topolet reads, as pydantic models (the validating edge).

:mod:`topolet.model.manifest_shape` reads well-formed objects without these
models (importing pydantic and building them costs more than a one-pod
``predict`` may); whenever it meets something it does not take as is (a
wrong type, a value pydantic would coerce, a bad quantity), the object is
validated here, which gives the same value or the error message naming the
field. Unknown fields are ignored.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, PlainValidator, StrictInt

from topolet.model.quantity import Quantity


def quantity_value(v: object) -> Quantity:
    """A quantity field's value: ``null`` is zero, as Quantity.UnmarshalJSON("null") leaves it."""
    if v is None:
        return Quantity.of(0)
    return Quantity.parse(v)


_QuantityT = Annotated[Quantity, PlainValidator(quantity_value)]
_CFG = ConfigDict(extra="ignore", frozen=True)


class OwnerRef(BaseModel):
    model_config = _CFG
    kind: str | None = None
    name: str | None = None
    controller: bool | None = None


class Meta(BaseModel):
    model_config = _CFG
    name: str | None = None
    generateName: str | None = None
    namespace: str | None = None
    uid: str | None = None
    labels: dict[str, str] | None = None
    ownerReferences: list[OwnerRef] | None = None


class Resources(BaseModel):
    model_config = _CFG
    requests: dict[str, _QuantityT] | None = None
    limits: dict[str, _QuantityT] | None = None


class AppArmorProfile(BaseModel):
    model_config = _CFG
    type: str | None = None
    localhostProfile: str | None = None


class ContainerSecurityContext(BaseModel):
    model_config = _CFG
    appArmorProfile: AppArmorProfile | None = None


class ContainerPort(BaseModel):
    model_config = _CFG
    containerPort: StrictInt | None = None
    hostPort: StrictInt | None = None
    hostIP: str | None = None
    protocol: str | None = None


class Container(BaseModel):
    model_config = _CFG
    name: str | None = None
    image: str | None = None
    resources: Resources | None = None
    restartPolicy: str | None = None
    ports: list[ContainerPort] | None = None
    securityContext: ContainerSecurityContext | None = None


class Toleration(BaseModel):
    model_config = _CFG
    key: str | None = None
    operator: str | None = None
    value: str | None = None
    effect: str | None = None
    tolerationSeconds: StrictInt | None = None


class NodeSelectorRequirement(BaseModel):
    model_config = _CFG
    key: str | None = None
    operator: str | None = None
    values: list[str] | None = None


class NodeSelectorTerm(BaseModel):
    model_config = _CFG
    matchExpressions: list[NodeSelectorRequirement] | None = None
    matchFields: list[NodeSelectorRequirement] | None = None


class NodeSelector(BaseModel):
    model_config = _CFG
    nodeSelectorTerms: list[NodeSelectorTerm] | None = None


class NodeAffinity(BaseModel):
    model_config = _CFG
    requiredDuringSchedulingIgnoredDuringExecution: NodeSelector | None = None


class Affinity(BaseModel):
    model_config = _CFG
    nodeAffinity: NodeAffinity | None = None


class PodOS(BaseModel):
    model_config = _CFG
    name: str | None = None


class Sysctl(BaseModel):
    model_config = _CFG
    name: str | None = None
    value: str | None = None


class PodSecurityContext(BaseModel):
    model_config = _CFG
    sysctls: list[Sysctl] | None = None
    supplementalGroupsPolicy: str | None = None
    appArmorProfile: AppArmorProfile | None = None


class PodSpec(BaseModel):
    model_config = _CFG
    containers: list[Container] | None = None
    initContainers: list[Container] | None = None
    resources: Resources | None = None
    nodeName: str | None = None
    nodeSelector: dict[str, str] | None = None
    affinity: Affinity | None = None
    tolerations: list[Toleration] | None = None
    os: PodOS | None = None
    securityContext: PodSecurityContext | None = None
    hostNetwork: bool | None = None
    hostIPC: bool | None = None
    priority: StrictInt | None = None
    priorityClassName: str | None = None


class PodObject(BaseModel):
    """A ``Pod`` or a ``PodTemplateSpec``."""

    model_config = _CFG
    metadata: Meta | None = None
    spec: PodSpec | None = None


class JobTemplate(BaseModel):
    model_config = _CFG
    spec: WorkloadSpec | None = None


class WorkloadSpec(BaseModel):
    model_config = _CFG
    replicas: StrictInt | None = None
    parallelism: StrictInt | None = None
    completions: StrictInt | None = None
    template: PodObject | None = None
    jobTemplate: JobTemplate | None = None


class Workload(BaseModel):
    model_config = _CFG
    metadata: Meta | None = None
    spec: WorkloadSpec | None = None


JobTemplate.model_rebuild()
