"""What ``apply``, ``delete``, ``drain`` and ``reconfigure`` do to a node directory.

The API server's part comes first, in its order: the namespace must exist
(NamespaceLifecycle), the pod must be valid (defaulting and validation with
the node's feature gates; ``Invalid``), the namespace's ResourceQuotas must
allow it (``Forbidden``: exceeded quota); an existing pod may only change
its images and labels (a pod spec is otherwise immutable). Then the kubelet
admits the pod or rejects it: a rejected pod is kept as Failed with the
kubelet's reason and message, and holds no resources.

Every function works on a loaded :class:`~topolet.nodedir.store.NodeDir`
under its exclusive lock; the caller saves it.
"""

from __future__ import annotations

import difflib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from topolet.engine.admission import PREEMPT_MESSAGE, PREEMPT_REASON
from topolet.io import yamlio
from topolet.io.inputs import (
    InputError,
    LoadedObject,
    load_kubelet_config_file,
    read_text,
    refusal_field,
    refusal_message,
)
from topolet.io.quota import QuotaError, ResourceQuota, check_pod_create, quota_from_object
from topolet.model.features import POD_LEVEL_RESOURCES, FeatureGates
from topolet.model.kubelet_config import KubeletConfig
from topolet.model.manifest import WORKLOAD_KINDS, ManifestError, admit_to_api, pods_from_object
from topolet.model.pod import Pod
from topolet.model.quantity import QuantityError
from topolet.nodedir.pods import StoredPod, now_rfc3339, pod_spec_dict
from topolet.nodedir.store import (
    SYSTEM_NAMESPACES,
    NodeDir,
    NodeDirError,
    NodeStartError,
    apply_restart,
    node_checkpoint_bytes,
    program_name,
    restart_kubelet,
    start_kubelet,
)

UPDATABLE_POD_SPEC_FIELDS = ",".join(
    [
        "`spec.containers[*].image`",
        "`spec.initContainers[*].image`",
        "`spec.activeDeadlineSeconds`",
        "`spec.tolerations` (only additions to existing tolerations)",
        "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
    ]
)


class ApplyInputError(NodeDirError):
    """The objects given to apply/delete cannot be used (client-side error, nothing is changed)."""


# --------------------------------------------------------------------------- planning


@dataclass(slots=True)
class Planned:
    """One object from the files, ready to apply or delete."""

    kind: str  # "pods", "resourcequota", "namespace" or "ignored"
    source: str
    pods: list[Pod] = field(default_factory=list)
    quota: ResourceQuota | None = None
    name: str = ""  # namespace name, or the ignored object's "Kind/name"


def _with_namespace(obj: dict[str, Any], namespace: str | None, source: str) -> dict[str, Any]:
    if namespace is None:
        return obj
    meta = obj.get("metadata")
    have = meta.get("namespace") if isinstance(meta, dict) else None
    if have and have != namespace:
        raise ApplyInputError(
            f'the namespace from the provided object "{have}" does not match the namespace "{namespace}". '
            f"You must pass '--namespace={have}' to perform this operation."
        )
    new_meta = dict(meta) if isinstance(meta, dict) else {}
    new_meta["namespace"] = namespace
    return {**obj, "metadata": new_meta}


def plan_objects(objects: Iterable[LoadedObject], namespace: str | None, gates: FeatureGates) -> list[Planned]:
    """Read every object first (like kubectl, nothing is applied when one of them is malformed)."""
    out: list[Planned] = []
    for lo in objects:
        obj = lo.obj
        kind = obj.get("kind") if isinstance(obj, dict) else None
        try:
            if kind == "Namespace":
                meta = obj.get("metadata") or {}
                name = meta.get("name") if isinstance(meta, dict) else None
                if not isinstance(name, str) or not name:
                    raise ApplyInputError(f"{lo.source}: Namespace: metadata.name: Required value")
                out.append(Planned("namespace", lo.source, name=name))
            elif kind == "ResourceQuota":
                q = quota_from_object(_with_namespace(obj, namespace, lo.source), lo.source)
                out.append(Planned("resourcequota", lo.source, quota=q))
            elif isinstance(kind, str) and kind not in WORKLOAD_KINDS and not kind.endswith("List"):
                meta = obj.get("metadata") or {}
                name = meta.get("name", "") if isinstance(meta, dict) else ""
                out.append(Planned("ignored", lo.source, name=f"{kind}/{name}" if name else kind))
            else:
                pods = pods_from_object(_with_namespace(obj, namespace, lo.source), lo.source, gates)
                out.append(Planned("pods", lo.source, pods=pods))
        except (ManifestError, QuantityError, QuotaError) as e:
            raise ApplyInputError(str(e)) from e
    return out


# --------------------------------------------------------------------------- outcomes


@dataclass(slots=True)
class Outcome:
    kind: str  # "pod", "resourcequota", "namespace"
    name: str
    namespace: str
    action: str  # created | configured | unchanged | deleted | error
    source: str = ""
    error: str = ""  # the server's error line (printed on stderr)
    stored: StoredPod | None = None

    @property
    def ok(self) -> bool:
        return self.action != "error"

    @property
    def rejected(self) -> bool:
        return self.stored is not None and not self.stored.admitted


def _error(kind: str, name: str, ns: str, source: str, text: str) -> Outcome:
    return Outcome(kind, name, ns, "error", source, error=text)


# --------------------------------------------------------------------------- apply


def apply(nd: NodeDir, planned: Iterable[Planned]) -> list[Outcome]:
    """Apply the planned objects in order (needs a running kubelet)."""
    node = nd.kubelet()
    out: list[Outcome] = []
    for p in planned:
        if p.kind == "namespace":
            if nd.namespace_exists(p.name):
                out.append(Outcome("namespace", p.name, "", "unchanged", p.source))
            else:
                nd.namespaces[p.name] = now_rfc3339()
                out.append(Outcome("namespace", p.name, "", "created", p.source))
        elif p.kind == "resourcequota":
            assert p.quota is not None
            out.append(_apply_quota(nd, p.quota, p.source))
        elif p.kind == "pods":
            for pod in p.pods:
                out.append(_apply_pod(nd, node.gates, pod, p.source))
    return out


def _apply_quota(nd: NodeDir, q: ResourceQuota, source: str) -> Outcome:
    existing = nd.quotas.get(q.key)
    if existing is not None:
        if existing.same_spec(q):
            return Outcome("resourcequota", q.name, q.namespace, "unchanged", source)
        q.created = existing.created
        nd.quotas[q.key] = q
        return Outcome("resourcequota", q.name, q.namespace, "configured", source)
    if not nd.namespace_exists(q.namespace):
        return _error(
            "resourcequota",
            q.name,
            q.namespace,
            source,
            f'Error from server (NotFound): error when creating "{source}": namespaces "{q.namespace}" not found',
        )
    q.created = now_rfc3339()
    nd.quotas[q.key] = q
    return Outcome("resourcequota", q.name, q.namespace, "created", source)


def _spec_yaml(spec: dict[str, Any]) -> list[str]:
    text = yaml.dump(spec, Dumper=yamlio.SafeDumper, sort_keys=False, default_flow_style=False)
    return text.splitlines()


def pod_update_error(old: Pod, new: Pod) -> str | None:
    """``ValidatePodUpdate`` for what topolet models: containers may not be added or removed, and only
    their images may change (labels are metadata and may change too)."""
    for path, o, n in (
        ("spec.containers", old.containers, new.containers),
        ("spec.initContainers", old.init_containers, new.init_containers),
    ):
        if len(o) != len(n):
            return f'Pod "{new.name}" is invalid: {path}: Forbidden: pod updates may not add or remove containers'
    munged = replace(
        new,
        containers=[replace(c, image=o.image) for c, o in zip(new.containers, old.containers, strict=True)],
        init_containers=[
            replace(c, image=o.image) for c, o in zip(new.init_containers, old.init_containers, strict=True)
        ],
    )
    if all(t in new.tolerations for t in old.tolerations):
        munged = replace(munged, tolerations=old.tolerations)  # only additions to existing tolerations
    old_spec, new_spec = pod_spec_dict(old), pod_spec_dict(munged)
    if old_spec == new_spec:
        return None
    diff = difflib.unified_diff(_spec_yaml(old_spec), _spec_yaml(new_spec), "stored spec", "applied spec", lineterm="")
    body = "\n".join(list(diff)[2:])
    return (
        f'Pod "{new.name}" is invalid: spec: Forbidden: pod updates may not change fields other than '
        f"{UPDATABLE_POD_SPEC_FIELDS}\n{body}"
    )


def _apply_pod(nd: NodeDir, gates: FeatureGates, pod: Pod, source: str) -> Outcome:
    node = nd.kubelet()
    ns, name = pod.namespace, pod.name
    stored_new, invalid = admit_to_api(pod, gates)
    existing = nd.pods.get(pod.key)
    if existing is not None:
        if stored_new is None:
            return _error(
                "pod", name, ns, source, f'Error from server (Invalid): error when patching "{source}": {invalid}'
            )
        err = pod_update_error(existing.pod, stored_new)
        if err:
            return _error(
                "pod", name, ns, source, f'Error from server (Invalid): error when patching "{source}": {err}'
            )
        images_changed = pod_spec_dict(existing.pod) != pod_spec_dict(stored_new)
        labels_changed = existing.pod.labels != stored_new.labels
        if not images_changed and not labels_changed:
            return Outcome("pod", name, ns, "unchanged", source, stored=existing)
        # the kubelet restarts the containers with the new images; their CPUs and memory stay
        for c, n in zip(existing.pod.all_containers(), stored_new.all_containers(), strict=True):
            c.image = n.image
        existing.pod.labels = dict(stored_new.labels)
        existing.pod.tolerations = stored_new.tolerations
        nd.pods.touch(existing.key)
        return Outcome("pod", name, ns, "configured", source, stored=existing)
    if not nd.namespace_exists(ns):
        return _error(
            "pod",
            name,
            ns,
            source,
            f'Error from server (NotFound): error when creating "{source}": namespaces "{ns}" not found',
        )
    if stored_new is None:
        return _error(
            "pod", name, ns, source, f'Error from server (Invalid): error when creating "{source}": {invalid}'
        )
    ns_quotas = [q for q in nd.quotas.values() if q.namespace == ns]
    quota_err = (
        check_pod_create(
            stored_new,
            ns_quotas,
            [(nd.pods[r.key].pod, not r.admitted) for r in nd.pods.rows() if r.namespace == ns],
            gates.enabled(POD_LEVEL_RESOURCES),
        )
        if ns_quotas
        else None
    )
    if quota_err:
        return _error(
            "pod", name, ns, source, f'Error from server (Forbidden): error when creating "{source}": {quota_err}'
        )
    # the API server gives every new pod a fresh UID: a pod re-created under the same name is another pod
    fresh = replace(stored_new, uid=str(uuid.uuid4()))
    result = node.admit(fresh)
    for victim in result.preempted:
        # the kubelet's critical pod admission handler killed it: Failed, reason Preempting
        vsp = nd.pods.get(victim)
        if vsp is not None:
            vsp.admitted, vsp.reason, vsp.message = False, PREEMPT_REASON, PREEMPT_MESSAGE
    sp = StoredPod(
        pod=fresh,
        sequence=nd.next_sequence(),
        created=now_rfc3339(),
        admitted=result.admitted,
        reason=result.reason,
        message=result.message,
        source=source,
    )
    nd.pods[sp.key] = sp
    return Outcome("pod", name, ns, "created", source, stored=sp)


# --------------------------------------------------------------------------- delete


def delete_pod(nd: NodeDir, name: str, namespace: str, source: str = "") -> Outcome:
    """Delete a pod: its containers stop and its CPUs and memory return to the node.

    With the kubelet down (it refuses to start), the pod is removed from the
    API only; its checkpoint entries become stale and go at the next start.
    """
    key = f"{namespace}/{name}"
    sp = nd.pods.get(key)
    if sp is None:
        where = f'error when deleting "{source}": ' if source else ""
        return _error("pod", name, namespace, source, f'Error from server (NotFound): {where}pods "{name}" not found')
    if sp.admitted and nd.node is not None:
        nd.node.delete(key)
    del nd.pods[key]
    return Outcome("pod", name, namespace, "deleted", source, stored=sp)


def delete_quota(nd: NodeDir, name: str, namespace: str, source: str = "") -> Outcome:
    key = f"{namespace}/{name}"
    if key not in nd.quotas:
        where = f'error when deleting "{source}": ' if source else ""
        return _error(
            "resourcequota",
            name,
            namespace,
            source,
            f'Error from server (NotFound): {where}resourcequotas "{name}" not found',
        )
    del nd.quotas[key]
    return Outcome("resourcequota", name, namespace, "deleted", source)


def delete_namespace(nd: NodeDir, name: str, source: str = "") -> list[Outcome]:
    """Delete a namespace and everything in it."""
    if name in SYSTEM_NAMESPACES:
        return [
            _error(
                "namespace",
                name,
                "",
                source,
                f'Error from server (Forbidden): namespaces "{name}" is forbidden: this namespace may not be deleted',
            )
        ]
    if name not in nd.namespaces:
        where = f'error when deleting "{source}": ' if source else ""
        return [
            _error("namespace", name, "", source, f'Error from server (NotFound): {where}namespaces "{name}" not found')
        ]
    for row in [r for r in nd.pods.rows() if r.namespace == name]:
        delete_pod(nd, row.name, name)
    for q in [q for q in nd.quotas.values() if q.namespace == name]:
        del nd.quotas[q.key]
    del nd.namespaces[name]
    return [Outcome("namespace", name, "", "deleted", source)]


def delete_planned(nd: NodeDir, planned: Iterable[Planned]) -> list[Outcome]:
    out: list[Outcome] = []
    for p in planned:
        if p.kind == "pods":
            for pod in p.pods:
                out.append(delete_pod(nd, pod.name, pod.namespace, p.source))
        elif p.kind == "resourcequota":
            assert p.quota is not None
            out.append(delete_quota(nd, p.quota.name, p.quota.namespace, p.source))
        elif p.kind == "namespace":
            out.extend(delete_namespace(nd, p.name, p.source))
    return out


# --------------------------------------------------------------------------- drain / reconfigure


def drain(nd: NodeDir) -> list[StoredPod]:
    """Evict every pod. With the kubelet down (it refuses to start) also delete the checkpoint files,
    as the kubelet's remedy says ("drain this node and delete the ... checkpoint file"); a kubelet
    that then starts writes fresh ones."""
    evicted = list(nd.pods.values())
    for sp in evicted:
        delete_pod(nd, sp.pod.name, sp.pod.namespace)
    if nd.node is None:
        nd.reset_checkpoints()
        try:  # the kubelet restarted on fresh state writes new checkpoints (if its configuration is valid)
            nd.node = start_kubelet(nd.path, nd.topology, nd.config, None, None, nd.meta.name)
            nd.start_error = None
        except NodeStartError:
            pass
    return evicted


@dataclass(slots=True)
class ReconfigureResult:
    notes: list[str]


def restart(nd: NodeDir) -> ReconfigureResult:
    """Restart the node's kubelet (same configuration, same machine), as kubelet 1.36.2 does.

    The new kubelet restores the checkpoints and re-admits the running pods in
    creation order: a pod with pod-level resources may move to other CPUs (its
    old CPUs leak), have its memory counted twice, or be rejected and killed
    (kubernetes#140989, #140906). A refusal to start leaves the node down
    (NotReady) with its pods; nothing is written.
    """
    if nd.node is not None:
        cpu_b, mem_b = node_checkpoint_bytes(nd.node, nd.meta.kubelet_version)
    else:
        cpu_b = _read_opt(nd.file("cpu_manager_state"))
        mem_b = _read_opt(nd.file("memory_manager_state"))
    try:
        outcome = restart_kubelet(
            nd.path, nd.topology, nd.config, cpu_b, mem_b, list(nd.pods.values()), nd.meta.name, nd.meta.kubelet_version
        )
    except NodeStartError as e:
        # the kubelet is down until it can start (the files stay as they are)
        nd.node, nd.start_error = None, e
        raise
    return ReconfigureResult(apply_restart(nd, outcome))


def reconfigure(nd: NodeDir, config_path: str) -> ReconfigureResult:
    """Restart the node's kubelet with another KubeletConfiguration file.

    The kubelet restarts from the checkpoints and re-admits the running pods
    (see :func:`restart`); if it refuses (for example a policy that differs from
    the checkpoint) and pods are on the node, nothing changes and the error says
    to drain first. On a drained node the checkpoints are deleted (the kubelet's
    remedy) and the kubelet starts fresh.
    """
    try:
        config = load_kubelet_config_file(config_path)
        data = read_text(config_path).encode("utf-8")
    except InputError as e:
        raise NodeDirError(str(e)) from e
    source = "<stdin>" if config_path == "-" else str(Path(config_path).resolve())
    notes: list[str] = []
    if nd.node is not None:
        cpu_b, mem_b = node_checkpoint_bytes(nd.node, nd.meta.kubelet_version)
    else:
        cpu_b = _read_opt(nd.file("cpu_manager_state"))
        mem_b = _read_opt(nd.file("memory_manager_state"))
    try:
        outcome = restart_kubelet(
            nd.path, nd.topology, config, cpu_b, mem_b, list(nd.pods.values()), nd.meta.name, nd.meta.kubelet_version
        )
    except NodeStartError as e:
        running = [sp for sp in nd.pods.values() if sp.admitted]
        if running:
            raise NodeStartError(
                f"the kubelet would refuse to start with {config_path}: {_field_of(e, config)}{e.message}\n"
                f"{len(running)} pod(s) are running on the node: drain it first ({program_name()} node drain), "
                "then reconfigure"
            ) from e
        try:
            outcome = restart_kubelet(
                nd.path, nd.topology, config, None, None, list(nd.pods.values()), nd.meta.name, nd.meta.kubelet_version
            )
        except NodeStartError as e2:
            raise NodeStartError(refusal_message(config_path, config, e2.__cause__ or e2)) from e2
        notes.append(
            f"the kubelet would refuse the old checkpoints ({e.message}); the node is drained, so they were "
            "deleted and the kubelet started with fresh state, as its remedy says"
        )
    notes.extend(apply_restart(nd, outcome))
    nd.set_config(config, data, source)
    return ReconfigureResult(notes)


def _field_of(e: NodeStartError, config: KubeletConfig) -> str:
    cause = e.__cause__
    where = refusal_field(str(cause), config, getattr(cause, "stage", None)) if cause is not None else None
    return f"{where}: " if where else ""


def _read_opt(p: Path) -> bytes | None:
    try:
        return p.read_bytes()
    except OSError:
        return None
