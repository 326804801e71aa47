"""The fields of the Kubernetes objects topolet reads, for strict field validation (as ``kubectl --validate=strict``).

kubectl validates fields on the server by default: the API server decodes the
object strictly and refuses unknown fields ("strict decoding error: unknown
field \"spec.containers[0].resources.requets\""). :data:`TYPES` lists every
field of the core/v1, apps/v1 and batch/v1 types that the workload kinds
reach (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet,
ReplicationController, Job, CronJob, ResourceQuota, Namespace, and the list
wrapper), with the shape of its value, so that every real field is accepted,
not only the ones topolet uses. The names were taken from the Kubernetes 1.36
Go types (staging/src/k8s.io/api/{core,apps,batch}/v1/types.go and
apimachinery's meta/v1 types), inline structs merged.

Shapes: a type name of :data:`TYPES`; ``[]X`` a list; ``{}X`` a map with
string keys; ``string``, ``int``, ``bool``, ``number``, ``Quantity``,
``IntOrString``, ``Time`` scalars; ``any`` free-form (managedFields).

:func:`unknown_fields` walks an object (iteratively) and returns the unknown
field paths in the API server's notation, each with a "did you mean" over the
known names at that level.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from topolet.model.didyoumean import suggest

__all__ = ["KIND_TYPES", "TYPES", "fields_of", "unknown_fields"]

KIND_TYPES: dict[str, str] = {
    "Pod": "Pod",
    "Deployment": "Deployment",
    "StatefulSet": "StatefulSet",
    "DaemonSet": "DaemonSet",
    "ReplicaSet": "ReplicaSet",
    "ReplicationController": "ReplicationController",
    "Job": "Job",
    "CronJob": "CronJob",
    "ResourceQuota": "ResourceQuota",
    "Namespace": "Namespace",
    "PodTemplate": "PodTemplate",
}
"""The kinds whose fields are known, and their type in :data:`TYPES`."""

TYPES: dict[str, str] = {
    "List": "apiVersion:string kind:string metadata:ListMeta items:[]any",
    "Pod": "apiVersion:string kind:string metadata:ObjectMeta spec:PodSpec status:PodStatus",
    "ObjectMeta": (
        "name:string generateName:string namespace:string selfLink:string uid:string resourceVersion:string "
        "generation:int creationTimestamp:Time deletionTimestamp:Time deletionGracePeriodSeconds:int "
        "labels:{}string annotations:{}string ownerReferences:[]OwnerReference finalizers:[]string "
        "managedFields:[]ManagedFieldsEntry"
    ),
    "OwnerReference": "apiVersion:string kind:string name:string uid:string controller:bool blockOwnerDeletion:bool",
    "ManagedFieldsEntry": (
        "manager:string operation:string apiVersion:string time:Time fieldsType:string fieldsV1:any subresource:string"
    ),
    "PodSpec": (
        "volumes:[]Volume initContainers:[]Container containers:[]Container "
        "ephemeralContainers:[]EphemeralContainer restartPolicy:string terminationGracePeriodSeconds:int "
        "activeDeadlineSeconds:int dnsPolicy:string nodeSelector:{}string serviceAccountName:string "
        "serviceAccount:string automountServiceAccountToken:bool nodeName:string hostNetwork:bool "
        "hostPID:bool hostIPC:bool shareProcessNamespace:bool securityContext:PodSecurityContext "
        "imagePullSecrets:[]LocalObjectReference hostname:string subdomain:string affinity:Affinity "
        "schedulerName:string tolerations:[]Toleration hostAliases:[]HostAlias priorityClassName:string "
        "priority:int dnsConfig:PodDNSConfig readinessGates:[]PodReadinessGate runtimeClassName:string "
        "enableServiceLinks:bool preemptionPolicy:string overhead:{}Quantity "
        "topologySpreadConstraints:[]TopologySpreadConstraint setHostnameAsFQDN:bool os:PodOS hostUsers:bool "
        "schedulingGates:[]PodSchedulingGate resourceClaims:[]PodResourceClaim resources:ResourceRequirements "
        "hostnameOverride:string schedulingGroup:PodSchedulingGroup"
    ),
    "Volume": (
        "name:string hostPath:HostPathVolumeSource emptyDir:EmptyDirVolumeSource "
        "gcePersistentDisk:GCEPersistentDiskVolumeSource "
        "awsElasticBlockStore:AWSElasticBlockStoreVolumeSource gitRepo:GitRepoVolumeSource "
        "secret:SecretVolumeSource nfs:NFSVolumeSource iscsi:ISCSIVolumeSource "
        "glusterfs:GlusterfsVolumeSource persistentVolumeClaim:PersistentVolumeClaimVolumeSource "
        "rbd:RBDVolumeSource flexVolume:FlexVolumeSource cinder:CinderVolumeSource cephfs:CephFSVolumeSource "
        "flocker:FlockerVolumeSource downwardAPI:DownwardAPIVolumeSource fc:FCVolumeSource "
        "azureFile:AzureFileVolumeSource configMap:ConfigMapVolumeSource "
        "vsphereVolume:VsphereVirtualDiskVolumeSource quobyte:QuobyteVolumeSource "
        "azureDisk:AzureDiskVolumeSource photonPersistentDisk:PhotonPersistentDiskVolumeSource "
        "projected:ProjectedVolumeSource portworxVolume:PortworxVolumeSource scaleIO:ScaleIOVolumeSource "
        "storageos:StorageOSVolumeSource csi:CSIVolumeSource ephemeral:EphemeralVolumeSource "
        "image:ImageVolumeSource"
    ),
    "VolumeSource": (
        "hostPath:HostPathVolumeSource emptyDir:EmptyDirVolumeSource "
        "gcePersistentDisk:GCEPersistentDiskVolumeSource "
        "awsElasticBlockStore:AWSElasticBlockStoreVolumeSource gitRepo:GitRepoVolumeSource "
        "secret:SecretVolumeSource nfs:NFSVolumeSource iscsi:ISCSIVolumeSource "
        "glusterfs:GlusterfsVolumeSource persistentVolumeClaim:PersistentVolumeClaimVolumeSource "
        "rbd:RBDVolumeSource flexVolume:FlexVolumeSource cinder:CinderVolumeSource cephfs:CephFSVolumeSource "
        "flocker:FlockerVolumeSource downwardAPI:DownwardAPIVolumeSource fc:FCVolumeSource "
        "azureFile:AzureFileVolumeSource configMap:ConfigMapVolumeSource "
        "vsphereVolume:VsphereVirtualDiskVolumeSource quobyte:QuobyteVolumeSource "
        "azureDisk:AzureDiskVolumeSource photonPersistentDisk:PhotonPersistentDiskVolumeSource "
        "projected:ProjectedVolumeSource portworxVolume:PortworxVolumeSource scaleIO:ScaleIOVolumeSource "
        "storageos:StorageOSVolumeSource csi:CSIVolumeSource ephemeral:EphemeralVolumeSource "
        "image:ImageVolumeSource"
    ),
    "HostPathVolumeSource": "path:string type:string",
    "EmptyDirVolumeSource": "medium:string sizeLimit:Quantity",
    "GCEPersistentDiskVolumeSource": "pdName:string fsType:string partition:int readOnly:bool",
    "AWSElasticBlockStoreVolumeSource": "volumeID:string fsType:string partition:int readOnly:bool",
    "GitRepoVolumeSource": "repository:string revision:string directory:string",
    "SecretVolumeSource": "secretName:string items:[]KeyToPath defaultMode:int optional:bool",
    "KeyToPath": "key:string path:string mode:int",
    "NFSVolumeSource": "server:string path:string readOnly:bool",
    "ISCSIVolumeSource": (
        "targetPortal:string iqn:string lun:int iscsiInterface:string fsType:string readOnly:bool "
        "portals:[]string chapAuthDiscovery:bool chapAuthSession:bool secretRef:LocalObjectReference "
        "initiatorName:string"
    ),
    "LocalObjectReference": "name:string",
    "GlusterfsVolumeSource": "endpoints:string path:string readOnly:bool",
    "PersistentVolumeClaimVolumeSource": "claimName:string readOnly:bool",
    "RBDVolumeSource": (
        "monitors:[]string image:string fsType:string pool:string user:string keyring:string "
        "secretRef:LocalObjectReference readOnly:bool"
    ),
    "FlexVolumeSource": "driver:string fsType:string secretRef:LocalObjectReference readOnly:bool options:{}string",
    "CinderVolumeSource": "volumeID:string fsType:string readOnly:bool secretRef:LocalObjectReference",
    "CephFSVolumeSource": (
        "monitors:[]string path:string user:string secretFile:string secretRef:LocalObjectReference readOnly:bool"
    ),
    "FlockerVolumeSource": "datasetName:string datasetUUID:string",
    "DownwardAPIVolumeSource": "items:[]DownwardAPIVolumeFile defaultMode:int",
    "DownwardAPIVolumeFile": (
        "path:string fieldRef:ObjectFieldSelector resourceFieldRef:ResourceFieldSelector mode:int"
    ),
    "ObjectFieldSelector": "apiVersion:string fieldPath:string",
    "ResourceFieldSelector": "containerName:string resource:string divisor:Quantity",
    "FCVolumeSource": "targetWWNs:[]string lun:int fsType:string readOnly:bool wwids:[]string",
    "AzureFileVolumeSource": "secretName:string shareName:string readOnly:bool",
    "ConfigMapVolumeSource": "name:string items:[]KeyToPath defaultMode:int optional:bool",
    "VsphereVirtualDiskVolumeSource": (
        "volumePath:string fsType:string storagePolicyName:string storagePolicyID:string"
    ),
    "QuobyteVolumeSource": "registry:string volume:string readOnly:bool user:string group:string tenant:string",
    "AzureDiskVolumeSource": (
        "diskName:string diskURI:string cachingMode:string fsType:string readOnly:bool kind:string"
    ),
    "PhotonPersistentDiskVolumeSource": "pdID:string fsType:string",
    "ProjectedVolumeSource": "sources:[]VolumeProjection defaultMode:int",
    "VolumeProjection": (
        "secret:SecretProjection downwardAPI:DownwardAPIProjection configMap:ConfigMapProjection "
        "serviceAccountToken:ServiceAccountTokenProjection clusterTrustBundle:ClusterTrustBundleProjection "
        "podCertificate:PodCertificateProjection"
    ),
    "SecretProjection": "name:string items:[]KeyToPath optional:bool",
    "DownwardAPIProjection": "items:[]DownwardAPIVolumeFile",
    "ConfigMapProjection": "name:string items:[]KeyToPath optional:bool",
    "ServiceAccountTokenProjection": "audience:string expirationSeconds:int path:string",
    "ClusterTrustBundleProjection": (
        "name:string signerName:string labelSelector:LabelSelector optional:bool path:string"
    ),
    "LabelSelector": "matchLabels:{}string matchExpressions:[]LabelSelectorRequirement",
    "LabelSelectorRequirement": "key:string operator:string values:[]string",
    "PodCertificateProjection": (
        "signerName:string keyType:string maxExpirationSeconds:int credentialBundlePath:string keyPath:string "
        "certificateChainPath:string userAnnotations:{}string"
    ),
    "PortworxVolumeSource": "volumeID:string fsType:string readOnly:bool",
    "ScaleIOVolumeSource": (
        "gateway:string system:string secretRef:LocalObjectReference sslEnabled:bool protectionDomain:string "
        "storagePool:string storageMode:string volumeName:string fsType:string readOnly:bool"
    ),
    "StorageOSVolumeSource": (
        "volumeName:string volumeNamespace:string fsType:string readOnly:bool secretRef:LocalObjectReference"
    ),
    "CSIVolumeSource": (
        "driver:string readOnly:bool fsType:string volumeAttributes:{}string nodePublishSecretRef:LocalObjectReference"
    ),
    "EphemeralVolumeSource": "volumeClaimTemplate:PersistentVolumeClaimTemplate",
    "PersistentVolumeClaimTemplate": "metadata:ObjectMeta spec:PersistentVolumeClaimSpec",
    "PersistentVolumeClaimSpec": (
        "accessModes:[]string selector:LabelSelector resources:VolumeResourceRequirements volumeName:string "
        "storageClassName:string volumeMode:string dataSource:TypedLocalObjectReference "
        "dataSourceRef:TypedObjectReference volumeAttributesClassName:string"
    ),
    "VolumeResourceRequirements": "limits:{}Quantity requests:{}Quantity",
    "TypedLocalObjectReference": "apiGroup:string kind:string name:string",
    "TypedObjectReference": "apiGroup:string kind:string name:string namespace:string",
    "ImageVolumeSource": "reference:string pullPolicy:string",
    "Container": (
        "name:string image:string command:[]string args:[]string workingDir:string ports:[]ContainerPort "
        "envFrom:[]EnvFromSource env:[]EnvVar resources:ResourceRequirements "
        "resizePolicy:[]ContainerResizePolicy restartPolicy:string restartPolicyRules:[]ContainerRestartRule "
        "volumeMounts:[]VolumeMount volumeDevices:[]VolumeDevice livenessProbe:Probe readinessProbe:Probe "
        "startupProbe:Probe lifecycle:Lifecycle terminationMessagePath:string terminationMessagePolicy:string "
        "imagePullPolicy:string securityContext:SecurityContext stdin:bool stdinOnce:bool tty:bool"
    ),
    "ContainerPort": "name:string hostPort:int containerPort:int protocol:string hostIP:string",
    "EnvFromSource": "prefix:string configMapRef:ConfigMapEnvSource secretRef:SecretEnvSource",
    "ConfigMapEnvSource": "name:string optional:bool",
    "SecretEnvSource": "name:string optional:bool",
    "EnvVar": "name:string value:string valueFrom:EnvVarSource",
    "EnvVarSource": (
        "fieldRef:ObjectFieldSelector resourceFieldRef:ResourceFieldSelector "
        "configMapKeyRef:ConfigMapKeySelector secretKeyRef:SecretKeySelector fileKeyRef:FileKeySelector"
    ),
    "ConfigMapKeySelector": "name:string key:string optional:bool",
    "SecretKeySelector": "name:string key:string optional:bool",
    "FileKeySelector": "volumeName:string path:string key:string optional:bool",
    "ResourceRequirements": "limits:{}Quantity requests:{}Quantity claims:[]ResourceClaim",
    "ResourceClaim": "name:string request:string",
    "ContainerResizePolicy": "resourceName:string restartPolicy:string",
    "ContainerRestartRule": "action:string exitCodes:ContainerRestartRuleOnExitCodes",
    "ContainerRestartRuleOnExitCodes": "operator:string values:[]int",
    "VolumeMount": (
        "name:string readOnly:bool recursiveReadOnly:string mountPath:string subPath:string "
        "mountPropagation:string subPathExpr:string"
    ),
    "VolumeDevice": "name:string devicePath:string",
    "Probe": (
        "exec:ExecAction httpGet:HTTPGetAction tcpSocket:TCPSocketAction grpc:GRPCAction "
        "initialDelaySeconds:int timeoutSeconds:int periodSeconds:int successThreshold:int "
        "failureThreshold:int terminationGracePeriodSeconds:int"
    ),
    "ProbeHandler": "exec:ExecAction httpGet:HTTPGetAction tcpSocket:TCPSocketAction grpc:GRPCAction",
    "ExecAction": "command:[]string",
    "HTTPGetAction": "path:string port:IntOrString host:string scheme:string httpHeaders:[]HTTPHeader",
    "HTTPHeader": "name:string value:string",
    "TCPSocketAction": "port:IntOrString host:string",
    "GRPCAction": "port:int service:string",
    "Lifecycle": "postStart:LifecycleHandler preStop:LifecycleHandler stopSignal:string",
    "LifecycleHandler": "exec:ExecAction httpGet:HTTPGetAction tcpSocket:TCPSocketAction sleep:SleepAction",
    "SleepAction": "seconds:int",
    "SecurityContext": (
        "capabilities:Capabilities privileged:bool seLinuxOptions:SELinuxOptions "
        "windowsOptions:WindowsSecurityContextOptions runAsUser:int runAsGroup:int runAsNonRoot:bool "
        "readOnlyRootFilesystem:bool allowPrivilegeEscalation:bool procMount:string "
        "seccompProfile:SeccompProfile appArmorProfile:AppArmorProfile"
    ),
    "Capabilities": "add:[]string drop:[]string",
    "SELinuxOptions": "user:string role:string type:string level:string",
    "WindowsSecurityContextOptions": (
        "gmsaCredentialSpecName:string gmsaCredentialSpec:string runAsUserName:string hostProcess:bool"
    ),
    "SeccompProfile": "type:string localhostProfile:string",
    "AppArmorProfile": "type:string localhostProfile:string",
    "EphemeralContainer": (
        "name:string image:string command:[]string args:[]string workingDir:string ports:[]ContainerPort "
        "envFrom:[]EnvFromSource env:[]EnvVar resources:ResourceRequirements "
        "resizePolicy:[]ContainerResizePolicy restartPolicy:string restartPolicyRules:[]ContainerRestartRule "
        "volumeMounts:[]VolumeMount volumeDevices:[]VolumeDevice livenessProbe:Probe readinessProbe:Probe "
        "startupProbe:Probe lifecycle:Lifecycle terminationMessagePath:string terminationMessagePolicy:string "
        "imagePullPolicy:string securityContext:SecurityContext stdin:bool stdinOnce:bool tty:bool "
        "targetContainerName:string"
    ),
    "EphemeralContainerCommon": (
        "name:string image:string command:[]string args:[]string workingDir:string ports:[]ContainerPort "
        "envFrom:[]EnvFromSource env:[]EnvVar resources:ResourceRequirements "
        "resizePolicy:[]ContainerResizePolicy restartPolicy:string restartPolicyRules:[]ContainerRestartRule "
        "volumeMounts:[]VolumeMount volumeDevices:[]VolumeDevice livenessProbe:Probe readinessProbe:Probe "
        "startupProbe:Probe lifecycle:Lifecycle terminationMessagePath:string terminationMessagePolicy:string "
        "imagePullPolicy:string securityContext:SecurityContext stdin:bool stdinOnce:bool tty:bool"
    ),
    "PodSecurityContext": (
        "seLinuxOptions:SELinuxOptions windowsOptions:WindowsSecurityContextOptions runAsUser:int "
        "runAsGroup:int runAsNonRoot:bool supplementalGroups:[]int supplementalGroupsPolicy:string "
        "fsGroup:int sysctls:[]Sysctl fsGroupChangePolicy:string seccompProfile:SeccompProfile "
        "appArmorProfile:AppArmorProfile seLinuxChangePolicy:string"
    ),
    "Sysctl": "name:string value:string",
    "Affinity": "nodeAffinity:NodeAffinity podAffinity:PodAffinity podAntiAffinity:PodAntiAffinity",
    "NodeAffinity": (
        "requiredDuringSchedulingIgnoredDuringExecution:NodeSelector "
        "preferredDuringSchedulingIgnoredDuringExecution:[]PreferredSchedulingTerm"
    ),
    "NodeSelector": "nodeSelectorTerms:[]NodeSelectorTerm",
    "NodeSelectorTerm": "matchExpressions:[]NodeSelectorRequirement matchFields:[]NodeSelectorRequirement",
    "NodeSelectorRequirement": "key:string operator:string values:[]string",
    "PreferredSchedulingTerm": "weight:int preference:NodeSelectorTerm",
    "PodAffinity": (
        "requiredDuringSchedulingIgnoredDuringExecution:[]PodAffinityTerm "
        "preferredDuringSchedulingIgnoredDuringExecution:[]WeightedPodAffinityTerm"
    ),
    "PodAffinityTerm": (
        "labelSelector:LabelSelector namespaces:[]string topologyKey:string namespaceSelector:LabelSelector "
        "matchLabelKeys:[]string mismatchLabelKeys:[]string"
    ),
    "WeightedPodAffinityTerm": "weight:int podAffinityTerm:PodAffinityTerm",
    "PodAntiAffinity": (
        "requiredDuringSchedulingIgnoredDuringExecution:[]PodAffinityTerm "
        "preferredDuringSchedulingIgnoredDuringExecution:[]WeightedPodAffinityTerm"
    ),
    "Toleration": "key:string operator:string value:string effect:string tolerationSeconds:int",
    "HostAlias": "ip:string hostnames:[]string",
    "PodDNSConfig": "nameservers:[]string searches:[]string options:[]PodDNSConfigOption",
    "PodDNSConfigOption": "name:string value:string",
    "PodReadinessGate": "conditionType:string",
    "TopologySpreadConstraint": (
        "maxSkew:int topologyKey:string whenUnsatisfiable:string labelSelector:LabelSelector minDomains:int "
        "nodeAffinityPolicy:string nodeTaintsPolicy:string matchLabelKeys:[]string"
    ),
    "PodOS": "name:string",
    "PodSchedulingGate": "name:string",
    "PodResourceClaim": "name:string resourceClaimName:string resourceClaimTemplateName:string",
    "PodSchedulingGroup": "podGroupName:string",
    "PodStatus": (
        "observedGeneration:int phase:string conditions:[]PodCondition message:string reason:string "
        "nominatedNodeName:string hostIP:string hostIPs:[]HostIP podIP:string podIPs:[]PodIP startTime:Time "
        "initContainerStatuses:[]ContainerStatus containerStatuses:[]ContainerStatus qosClass:string "
        "ephemeralContainerStatuses:[]ContainerStatus resize:string "
        "resourceClaimStatuses:[]PodResourceClaimStatus "
        "extendedResourceClaimStatus:PodExtendedResourceClaimStatus allocatedResources:{}Quantity "
        "resources:ResourceRequirements "
        "nodeAllocatableResourceClaimStatuses:[]NodeAllocatableResourceClaimStatus"
    ),
    "PodCondition": (
        "type:string observedGeneration:int status:string lastProbeTime:Time lastTransitionTime:Time "
        "reason:string message:string"
    ),
    "HostIP": "ip:string",
    "PodIP": "ip:string",
    "ContainerStatus": (
        "name:string state:ContainerState lastState:ContainerState ready:bool restartCount:int image:string "
        "imageID:string containerID:string started:bool allocatedResources:{}Quantity "
        "resources:ResourceRequirements volumeMounts:[]VolumeMountStatus user:ContainerUser "
        "allocatedResourcesStatus:[]ResourceStatus stopSignal:string"
    ),
    "ContainerState": (
        "waiting:ContainerStateWaiting running:ContainerStateRunning terminated:ContainerStateTerminated"
    ),
    "ContainerStateWaiting": "reason:string message:string",
    "ContainerStateRunning": "startedAt:Time",
    "ContainerStateTerminated": (
        "exitCode:int signal:int reason:string message:string startedAt:Time finishedAt:Time containerID:string"
    ),
    "VolumeMountStatus": (
        "name:string mountPath:string readOnly:bool recursiveReadOnly:string volumeStatus:VolumeStatus"
    ),
    "VolumeStatus": "image:ImageVolumeStatus",
    "ImageVolumeStatus": "imageRef:string",
    "ContainerUser": "linux:LinuxContainerUser",
    "LinuxContainerUser": "uid:int gid:int supplementalGroups:[]int",
    "ResourceStatus": "name:string resources:[]ResourceHealth",
    "ResourceHealth": "resourceID:string health:string message:string",
    "PodResourceClaimStatus": "name:string resourceClaimName:string",
    "PodExtendedResourceClaimStatus": "requestMappings:[]ContainerExtendedResourceRequest resourceClaimName:string",
    "ContainerExtendedResourceRequest": "containerName:string resourceName:string requestName:string",
    "NodeAllocatableResourceClaimStatus": "resourceClaimName:string containers:[]string resources:{}Quantity",
    "Deployment": "apiVersion:string kind:string metadata:ObjectMeta spec:DeploymentSpec status:DeploymentStatus",
    "DeploymentSpec": (
        "replicas:int selector:LabelSelector template:PodTemplateSpec strategy:DeploymentStrategy "
        "minReadySeconds:int revisionHistoryLimit:int paused:bool progressDeadlineSeconds:int"
    ),
    "PodTemplateSpec": "metadata:ObjectMeta spec:PodSpec",
    "DeploymentStrategy": "type:string rollingUpdate:RollingUpdateDeployment",
    "RollingUpdateDeployment": "maxUnavailable:IntOrString maxSurge:IntOrString",
    "DeploymentStatus": (
        "observedGeneration:int replicas:int updatedReplicas:int readyReplicas:int availableReplicas:int "
        "unavailableReplicas:int terminatingReplicas:int conditions:[]DeploymentCondition collisionCount:int"
    ),
    "DeploymentCondition": (
        "type:string status:string lastUpdateTime:Time lastTransitionTime:Time reason:string message:string"
    ),
    "StatefulSet": "apiVersion:string kind:string metadata:ObjectMeta spec:StatefulSetSpec status:StatefulSetStatus",
    "StatefulSetSpec": (
        "replicas:int selector:LabelSelector template:PodTemplateSpec "
        "volumeClaimTemplates:[]PersistentVolumeClaim serviceName:string podManagementPolicy:string "
        "updateStrategy:StatefulSetUpdateStrategy revisionHistoryLimit:int minReadySeconds:int "
        "persistentVolumeClaimRetentionPolicy:StatefulSetPersistentVolumeClaimRetentionPolicy "
        "ordinals:StatefulSetOrdinals"
    ),
    "PersistentVolumeClaim": (
        "apiVersion:string kind:string metadata:ObjectMeta spec:PersistentVolumeClaimSpec "
        "status:PersistentVolumeClaimStatus"
    ),
    "PersistentVolumeClaimStatus": (
        "phase:string accessModes:[]string capacity:{}Quantity conditions:[]PersistentVolumeClaimCondition "
        "allocatedResources:{}Quantity allocatedResourceStatuses:{}string "
        "currentVolumeAttributesClassName:string modifyVolumeStatus:ModifyVolumeStatus"
    ),
    "PersistentVolumeClaimCondition": (
        "type:string status:string lastProbeTime:Time lastTransitionTime:Time reason:string message:string"
    ),
    "ModifyVolumeStatus": "targetVolumeAttributesClassName:string status:string",
    "StatefulSetUpdateStrategy": "type:string rollingUpdate:RollingUpdateStatefulSetStrategy",
    "RollingUpdateStatefulSetStrategy": "partition:int maxUnavailable:IntOrString",
    "StatefulSetPersistentVolumeClaimRetentionPolicy": "whenDeleted:string whenScaled:string",
    "StatefulSetOrdinals": "start:int",
    "StatefulSetStatus": (
        "observedGeneration:int replicas:int readyReplicas:int currentReplicas:int updatedReplicas:int "
        "currentRevision:string updateRevision:string collisionCount:int conditions:[]StatefulSetCondition "
        "availableReplicas:int"
    ),
    "StatefulSetCondition": "type:string status:string lastTransitionTime:Time reason:string message:string",
    "DaemonSet": "apiVersion:string kind:string metadata:ObjectMeta spec:DaemonSetSpec status:DaemonSetStatus",
    "DaemonSetSpec": (
        "selector:LabelSelector template:PodTemplateSpec updateStrategy:DaemonSetUpdateStrategy "
        "minReadySeconds:int revisionHistoryLimit:int"
    ),
    "DaemonSetUpdateStrategy": "type:string rollingUpdate:RollingUpdateDaemonSet",
    "RollingUpdateDaemonSet": "maxUnavailable:IntOrString maxSurge:IntOrString",
    "DaemonSetStatus": (
        "currentNumberScheduled:int numberMisscheduled:int desiredNumberScheduled:int numberReady:int "
        "observedGeneration:int updatedNumberScheduled:int numberAvailable:int numberUnavailable:int "
        "collisionCount:int conditions:[]DaemonSetCondition"
    ),
    "DaemonSetCondition": "type:string status:string lastTransitionTime:Time reason:string message:string",
    "ReplicaSet": "apiVersion:string kind:string metadata:ObjectMeta spec:ReplicaSetSpec status:ReplicaSetStatus",
    "ReplicaSetSpec": "replicas:int minReadySeconds:int selector:LabelSelector template:PodTemplateSpec",
    "ReplicaSetStatus": (
        "replicas:int fullyLabeledReplicas:int readyReplicas:int availableReplicas:int "
        "terminatingReplicas:int observedGeneration:int conditions:[]ReplicaSetCondition"
    ),
    "ReplicaSetCondition": "type:string status:string lastTransitionTime:Time reason:string message:string",
    "Job": "apiVersion:string kind:string metadata:ObjectMeta spec:JobSpec status:JobStatus",
    "JobSpec": (
        "parallelism:int completions:int activeDeadlineSeconds:int podFailurePolicy:PodFailurePolicy "
        "successPolicy:SuccessPolicy backoffLimit:int backoffLimitPerIndex:int maxFailedIndexes:int "
        "selector:LabelSelector manualSelector:bool template:PodTemplateSpec ttlSecondsAfterFinished:int "
        "completionMode:string suspend:bool podReplacementPolicy:string managedBy:string"
    ),
    "PodFailurePolicy": "rules:[]PodFailurePolicyRule",
    "PodFailurePolicyRule": (
        "action:string onExitCodes:PodFailurePolicyOnExitCodesRequirement "
        "onPodConditions:[]PodFailurePolicyOnPodConditionsPattern"
    ),
    "PodFailurePolicyOnExitCodesRequirement": "containerName:string operator:string values:[]int",
    "PodFailurePolicyOnPodConditionsPattern": "type:string status:string",
    "SuccessPolicy": "rules:[]SuccessPolicyRule",
    "SuccessPolicyRule": "succeededIndexes:string succeededCount:int",
    "JobStatus": (
        "conditions:[]JobCondition startTime:Time completionTime:Time active:int succeeded:int failed:int "
        "terminating:int completedIndexes:string failedIndexes:string "
        "uncountedTerminatedPods:UncountedTerminatedPods ready:int"
    ),
    "JobCondition": (
        "type:string status:string lastProbeTime:Time lastTransitionTime:Time reason:string message:string"
    ),
    "UncountedTerminatedPods": "succeeded:[]string failed:[]string",
    "CronJob": "apiVersion:string kind:string metadata:ObjectMeta spec:CronJobSpec status:CronJobStatus",
    "CronJobSpec": (
        "schedule:string timeZone:string startingDeadlineSeconds:int concurrencyPolicy:string suspend:bool "
        "jobTemplate:JobTemplateSpec successfulJobsHistoryLimit:int failedJobsHistoryLimit:int"
    ),
    "JobTemplateSpec": "metadata:ObjectMeta spec:JobSpec",
    "CronJobStatus": "active:[]ObjectReference lastScheduleTime:Time lastSuccessfulTime:Time",
    "ObjectReference": (
        "kind:string namespace:string name:string uid:string apiVersion:string resourceVersion:string fieldPath:string"
    ),
    "ReplicationController": (
        "apiVersion:string kind:string metadata:ObjectMeta spec:ReplicationControllerSpec "
        "status:ReplicationControllerStatus"
    ),
    "ReplicationControllerSpec": "replicas:int minReadySeconds:int selector:{}string template:PodTemplateSpec",
    "ReplicationControllerStatus": (
        "replicas:int fullyLabeledReplicas:int readyReplicas:int availableReplicas:int observedGeneration:int "
        "conditions:[]ReplicationControllerCondition"
    ),
    "ReplicationControllerCondition": (
        "type:string status:string lastTransitionTime:Time reason:string message:string"
    ),
    "ResourceQuota": (
        "apiVersion:string kind:string metadata:ObjectMeta spec:ResourceQuotaSpec status:ResourceQuotaStatus"
    ),
    "ResourceQuotaSpec": "hard:{}Quantity scopes:[]string scopeSelector:ScopeSelector",
    "ScopeSelector": "matchExpressions:[]ScopedResourceSelectorRequirement",
    "ScopedResourceSelectorRequirement": "scopeName:string operator:string values:[]string",
    "ResourceQuotaStatus": "hard:{}Quantity used:{}Quantity",
    "Namespace": "apiVersion:string kind:string metadata:ObjectMeta spec:NamespaceSpec status:NamespaceStatus",
    "NamespaceSpec": "finalizers:[]string",
    "NamespaceStatus": "phase:string conditions:[]NamespaceCondition",
    "NamespaceCondition": "type:string status:string lastTransitionTime:Time reason:string message:string",
    "PodTemplate": "apiVersion:string kind:string metadata:ObjectMeta template:PodTemplateSpec",
    "ListMeta": "selfLink:string resourceVersion:string continue:string remainingItemCount:int shardInfo:ShardInfo",
    "ShardInfo": "selector:string",
}


@cache
def fields_of(type_name: str) -> dict[str, str]:
    """The fields of a type of :data:`TYPES` (JSON name -> shape)."""
    return dict(item.split(":", 1) for item in TYPES[type_name].split())


def _is_list_kind(kind: object) -> bool:
    return isinstance(kind, str) and (kind == "List" or (kind.endswith("List") and len(kind) > 4))


def unknown_fields(obj: Mapping[str, Any], prefix: str = "") -> list[str]:
    """The unknown fields of an object of a known kind (empty for other kinds), in document order.

    Each entry is ``"path"`` in the API server's notation
    (``spec.containers[0].resources.requets``) followed by
    `` (did you mean "spec.containers[0].resources.requests"?)`` when a
    known field at that level is close. A list object's items are checked by
    their own kinds (as kubectl sends them one by one), their paths prefixed
    with ``items[i].``. The walk follows the schema, so its depth is bounded
    by the types' nesting, not by the data's.
    """
    kind = obj.get("kind")
    if _is_list_kind(kind):
        root = "List"
    elif isinstance(kind, str) and kind in KIND_TYPES:
        root = KIND_TYPES[kind]
    else:
        return []
    out: list[str] = []
    _walk(obj, root, prefix, out)
    if root == "List":
        items = obj.get("items")
        if isinstance(items, list):
            for i, item in enumerate(items):
                if isinstance(item, Mapping):
                    sub = dict(item)
                    if "kind" not in sub and isinstance(kind, str) and kind != "List":
                        sub["kind"] = kind[: -len("List")]
                    out.extend(unknown_fields(sub, f"{prefix}items[{i}]."))
    return out


def _walk(value: Any, shape: str, path: str, out: list[str]) -> None:
    if shape.startswith("[]"):
        if isinstance(value, list):
            for i, v in enumerate(value):
                _walk(v, shape[2:], f"{path}[{i}]", out)
        return
    if shape.startswith("{}"):
        if isinstance(value, Mapping) and shape[2:] in TYPES:
            for k, v in value.items():
                _walk(v, shape[2:], f"{path}.{k}", out)
        return
    if shape not in TYPES or not isinstance(value, Mapping):
        return
    known = fields_of(shape)
    base = path if not path or path.endswith(".") else path + "."
    for k, v in value.items():
        name = k if isinstance(k, str) else str(k)
        field_shape = known.get(name)
        if field_shape is None:
            hint = suggest(name, known)
            out.append(f'"{base}{name}"' + (f' (did you mean "{base}{hint}"?)' if hint else ""))
            continue
        _walk(v, field_shape, base + name, out)
