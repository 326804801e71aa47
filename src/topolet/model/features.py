"""Feature gates, with the Kubernetes 1.36 defaults, as the kubelet resolves and checks them.

:data:`DEFAULTS` holds the gates that matter to the resource managers.
:data:`SPECS` is every gate the 1.36.2 kubelet registers (pkg/features/
kube_features.go, which also lists the apiserver, controller-manager and
zpages gates, plus the OpenShift, client-go and logging gates registered
elsewhere), each with its default, stability and lock at emulation version
1.36; :data:`DEPENDENCIES` is the 1.36 dependency map
(``defaultKubernetesFeatureGateDependencies``). Together they let
:meth:`FeatureGates.validate` reproduce ``featureGate.SetFromMap``: a gate
locked to its default cannot be changed, and an enabled gate whose
dependencies are disabled is refused ("X is enabled, but depends on features
that are disabled: [Y]").

Unknown gate names: upstream Kubernetes refuses them ("unrecognized feature
gate: X"); the OpenShift kubelet (the 1.36.2 reference is the OpenShift fork)
only warns, because the machine-config operator hands it the cluster's
OpenShift gates too. topolet follows OpenShift: an unknown name is a warning
and the gate reads as disabled.
"""

from __future__ import annotations

from collections.abc import Mapping

POD_LEVEL_RESOURCES = "PodLevelResources"
POD_LEVEL_RESOURCE_MANAGERS = "PodLevelResourceManagers"
CPU_MANAGER_POLICY_OPTIONS = "CPUManagerPolicyOptions"
CPU_MANAGER_POLICY_BETA_OPTIONS = "CPUManagerPolicyBetaOptions"
CPU_MANAGER_POLICY_ALPHA_OPTIONS = "CPUManagerPolicyAlphaOptions"
TOPOLOGY_MANAGER_POLICY_OPTIONS = "TopologyManagerPolicyOptions"
TOPOLOGY_MANAGER_POLICY_BETA_OPTIONS = "TopologyManagerPolicyBetaOptions"
TOPOLOGY_MANAGER_POLICY_ALPHA_OPTIONS = "TopologyManagerPolicyAlphaOptions"
IN_PLACE_POD_VERTICAL_SCALING = "InPlacePodVerticalScaling"
IN_PLACE_POD_LEVEL_RESOURCES_VERTICAL_SCALING = "InPlacePodLevelResourcesVerticalScaling"
NODE_DECLARED_FEATURES = "NodeDeclaredFeatures"
ALL_ALPHA = "AllAlpha"
ALL_BETA = "AllBeta"

ALPHA = "Alpha"
BETA = "Beta"
GA = "GA"
DEPRECATED = "Deprecated"
PRE_ALPHA = "PreAlpha"

# Kubernetes 1.36 defaults of the gates the resource managers read
# (pkg/features/kube_features.go; checked against SPECS by the tests).
DEFAULTS: dict[str, bool] = {
    POD_LEVEL_RESOURCES: True,
    POD_LEVEL_RESOURCE_MANAGERS: False,
    CPU_MANAGER_POLICY_OPTIONS: True,
    CPU_MANAGER_POLICY_BETA_OPTIONS: True,
    CPU_MANAGER_POLICY_ALPHA_OPTIONS: False,
    TOPOLOGY_MANAGER_POLICY_OPTIONS: True,
    TOPOLOGY_MANAGER_POLICY_BETA_OPTIONS: True,
    TOPOLOGY_MANAGER_POLICY_ALPHA_OPTIONS: False,
    IN_PLACE_POD_VERTICAL_SCALING: True,
    IN_PLACE_POD_LEVEL_RESOURCES_VERTICAL_SCALING: True,
    NODE_DECLARED_FEATURES: True,
}

# name -> (default, stability, locked to default) at emulation version 1.36.
# Generated from the 1.36.2 pkg/features/kube_features.go (and openshift_features.go).
SPECS: dict[str, tuple[bool, str, bool]] = {
    "APIResponseCompression": (True, "Beta", False),
    "APIServerIdentity": (True, "Beta", False),
    "APIServerTracing": (True, "GA", True),
    "APIServingWithRoutine": (False, "Alpha", False),
    "AggregatedDiscoveryRemoveBetaType": (True, "Deprecated", True),
    "AllowDNSOnlyNodeCSR": (False, "Deprecated", False),
    "AllowInsecureKubeletCertificateSigningRequests": (False, "Deprecated", False),
    "AllowOverwriteTerminationGracePeriodSeconds": (False, "Deprecated", True),
    "AllowParsingUserUIDFromCertAuth": (True, "Beta", False),
    "AllowServiceExternalIPs": (True, "GA", False),
    "AllowUnsafeMalformedObjectDeletion": (False, "Alpha", False),
    "AnonymousAuthConfigurableEndpoints": (True, "GA", True),
    "AnyVolumeDataSource": (True, "GA", True),
    "AuthorizeNodeWithSelectors": (True, "GA", True),
    "AuthorizePodWebsocketUpgradeCreatePermission": (True, "Beta", False),
    "AuthorizeWithSelectors": (True, "GA", True),
    "BtreeWatchCache": (True, "GA", True),
    "CBORServingAndStorage": (False, "Alpha", False),
    "CPUCFSQuotaPeriod": (True, "GA", False),
    "CPUManagerPolicyAlphaOptions": (False, "Alpha", False),
    "CPUManagerPolicyBetaOptions": (True, "Beta", False),
    "CPUManagerPolicyOptions": (True, "GA", True),
    "CRDObservedGenerationTracking": (True, "Beta", False),
    "CRDValidationRatcheting": (True, "GA", True),
    "CRIListStreaming": (False, "Alpha", False),
    "CSIServiceAccountTokenSecrets": (True, "GA", True),
    "CSIVolumeHealth": (False, "Alpha", False),
    "ChangeContainerStatusOnKubeletRestart": (False, "Deprecated", False),
    "ClearingNominatedNodeNameAfterBinding": (True, "Beta", False),
    "CloudControllerManagerWatchBasedRoutesReconciliation": (False, "Alpha", False),
    "CloudControllerManagerWebhook": (False, "Alpha", False),
    "ClusterTrustBundle": (False, "Beta", False),
    "ClusterTrustBundleProjection": (False, "Beta", False),
    "ComponentFlagz": (True, "Beta", False),
    "ComponentStatusz": (True, "Beta", False),
    "ConcurrentWatchObjectDecode": (False, "Beta", False),
    "ConsistentListFromCache": (True, "GA", True),
    "ConstrainedImpersonation": (True, "Beta", False),
    "ContainerCheckpoint": (True, "Beta", False),
    "ContainerRestartRules": (True, "Beta", False),
    "ContainerStopSignals": (False, "Alpha", False),
    "CoordinatedLeaderElection": (False, "Beta", False),
    "CrossNamespaceVolumeDataSource": (False, "Alpha", False),
    "CustomResourceFieldSelectors": (True, "Beta", False),
    "DRAAdminAccess": (True, "GA", True),
    "DRAConsumableCapacity": (True, "Beta", False),
    "DRADeviceBindingConditions": (True, "Beta", False),
    "DRADeviceTaintRules": (False, "Beta", False),
    "DRADeviceTaints": (True, "Beta", False),
    "DRAExtendedResource": (True, "Beta", False),
    "DRAListTypeAttributes": (False, "Alpha", False),
    "DRANodeAllocatableResources": (False, "Alpha", False),
    "DRAPartitionableDevices": (True, "Beta", False),
    "DRAPrioritizedList": (True, "GA", False),
    "DRAResourceClaimDeviceStatus": (True, "Beta", False),
    "DRAResourceClaimGranularStatusAuthorization": (True, "Beta", False),
    "DRAResourcePoolStatus": (False, "Alpha", False),
    "DRASchedulerFilterTimeout": (True, "Beta", False),
    "DRAWorkloadResourceClaims": (False, "Alpha", False),
    "DeclarativeValidation": (True, "GA", True),
    "DeclarativeValidationBeta": (True, "Beta", False),
    "DeclarativeValidationTakeover": (False, "Deprecated", False),
    "DeploymentReplicaSetTerminatingReplicas": (True, "Beta", False),
    "DetectCacheInconsistency": (False, "Deprecated", False),
    "DisableAllocatorDualWrite": (True, "GA", True),
    "DisableCPUQuotaWithExclusiveCPUs": (True, "Deprecated", False),
    "DisableNodeKubeProxyVersion": (True, "Deprecated", True),
    "DynamicResourceAllocation": (True, "GA", True),
    "EnvFiles": (True, "Beta", False),
    "EventedPLEG": (False, "Alpha", False),
    "ExecProbeTimeout": (True, "GA", True),
    "ExtendWebSocketsToKubelet": (True, "Beta", False),
    "ExternalServiceAccountTokenSigner": (True, "GA", True),
    "GangScheduling": (False, "Alpha", False),
    "GenericWorkload": (False, "Alpha", False),
    "GitRepoVolumeDriver": (False, "Deprecated", True),
    "GracefulNodeShutdown": (True, "Beta", False),
    "GracefulNodeShutdownBasedOnPodPriority": (True, "Beta", False),
    "HPAConfigurableTolerance": (True, "Beta", False),
    "HPAScaleToZero": (False, "Alpha", False),
    "HostnameOverride": (True, "Beta", False),
    "ImageMaximumGCAge": (True, "GA", True),
    "ImageVolume": (True, "GA", True),
    "ImageVolumeWithDigest": (False, "Alpha", False),
    "InPlacePodLevelResourcesVerticalScaling": (True, "Beta", False),
    "InPlacePodVerticalScaling": (True, "GA", True),
    "InPlacePodVerticalScalingExclusiveCPUs": (False, "Alpha", False),
    "InPlacePodVerticalScalingExclusiveMemory": (False, "Alpha", False),
    "InPlacePodVerticalScalingInitContainers": (True, "Beta", False),
    "JobBackoffLimitPerIndex": (True, "GA", True),
    "JobManagedBy": (True, "GA", True),
    "JobPodReplacementPolicy": (True, "GA", True),
    "JobSuccessPolicy": (True, "GA", True),
    "KubeletCgroupDriverFromCRI": (True, "GA", True),
    "KubeletCrashLoopBackOffMax": (True, "Beta", False),
    "KubeletEnsureSecretPulledImages": (True, "Beta", False),
    "KubeletFineGrainedAuthz": (True, "GA", True),
    "KubeletInUserNamespace": (False, "Alpha", False),
    "KubeletPSI": (True, "GA", True),
    "KubeletPodResourcesDynamicResources": (True, "GA", True),
    "KubeletPodResourcesGet": (True, "GA", True),
    "KubeletPodResourcesListUseActivePods": (True, "Deprecated", False),
    "KubeletRegistrationGetOnExistsOnly": (False, "Deprecated", False),
    "KubeletSeparateDiskGC": (True, "Beta", False),
    "KubeletServiceAccountTokenForCredentialProviders": (True, "Beta", False),
    "KubeletTracing": (True, "GA", True),
    "ListFromCacheSnapshot": (True, "Beta", False),
    "LocalStorageCapacityIsolationFSQuotaMonitoring": (False, "Beta", False),
    "LogarithmicScaleDown": (True, "GA", True),
    "ManifestBasedAdmissionControlConfig": (False, "Alpha", False),
    "MatchLabelKeysInPodAffinity": (True, "GA", True),
    "MatchLabelKeysInPodTopologySpread": (True, "Beta", False),
    "MatchLabelKeysInPodTopologySpreadSelectorMerge": (True, "Beta", False),
    "MaxUnavailableStatefulSet": (False, "Beta", False),
    "MemoryQoS": (False, "Alpha", False),
    "MinimumKubeletVersion": (False, "Alpha", False),
    "MultiCIDRServiceAllocator": (True, "GA", True),
    "MutableCSINodeAllocatableCount": (True, "GA", True),
    "MutablePVNodeAffinity": (False, "Alpha", False),
    "MutablePodResourcesForSuspendedJobs": (True, "Beta", False),
    "MutableSchedulingDirectivesForSuspendedJobs": (True, "Beta", False),
    "MutatingAdmissionPolicy": (True, "GA", False),
    "NFTablesProxyMode": (True, "GA", True),
    "NodeDeclaredFeatures": (True, "Beta", False),
    "NodeInclusionPolicyInPodTopologySpread": (True, "GA", True),
    "NodeLogQuery": (True, "GA", True),
    "NodeSwap": (True, "GA", True),
    "NominatedNodeNameForExpectation": (True, "Beta", False),
    "OpenAPIEnums": (True, "Beta", False),
    "OpportunisticBatching": (True, "Beta", False),
    "OrderedNamespaceDeletion": (True, "GA", True),
    "PLEGOnDemandRelist": (True, "Beta", False),
    "PersistentVolumeClaimUnusedSinceTime": (False, "Alpha", False),
    "PodAndContainerStatsFromCRI": (False, "Alpha", False),
    "PodCertificateRequest": (False, "Beta", False),
    "PodDeletionCost": (True, "Beta", False),
    "PodLevelResourceManagers": (False, "Alpha", False),
    "PodLevelResources": (True, "Beta", False),
    "PodLifecycleSleepAction": (True, "GA", True),
    "PodLifecycleSleepActionAllowZero": (True, "GA", True),
    "PodLogsQuerySplitStreams": (False, "Alpha", False),
    "PodObservedGenerationTracking": (True, "GA", True),
    "PodReadyToStartContainersCondition": (True, "Beta", False),
    "PodSchedulingReadiness": (True, "GA", True),
    "PodTopologyLabelsAdmission": (True, "Beta", False),
    "PodsAPI": (False, "Alpha", False),
    "PortForwardWebsockets": (True, "Beta", False),
    "PreferSameTrafficDistribution": (True, "GA", True),
    "PreventStaticPodAPIReferences": (True, "Beta", False),
    "ProcMountType": (True, "GA", True),
    "QOSReserved": (False, "Alpha", False),
    "RecoverVolumeExpansionFailure": (True, "GA", True),
    "RecursiveReadOnlyMounts": (True, "GA", True),
    "ReduceDefaultCrashLoopBackOffDecay": (False, "Alpha", False),
    "RelaxedDNSSearchValidation": (True, "GA", True),
    "RelaxedEnvironmentVariableValidation": (True, "GA", True),
    "RelaxedServiceNameValidation": (True, "Beta", False),
    "ReloadKubeletClientCAFile": (True, "Beta", False),
    "ReloadKubeletServerCertificateFile": (True, "Beta", False),
    "RemoteRequestHeaderUID": (True, "Beta", False),
    "ResilientWatchCacheInitialization": (True, "GA", True),
    "ResourceHealthStatus": (True, "Beta", False),
    "ResourceHealthStatusMessage": (True, "Beta", False),
    "RestartAllContainersOnContainerExits": (True, "Beta", False),
    "RetryGenerateName": (True, "Beta", False),
    "RotateKubeletServerCertificate": (True, "Beta", False),
    "RouteExternalCertificate": (False, "Alpha", False),
    "RuntimeClassInImageCriAPI": (False, "Alpha", False),
    "SELinuxChangePolicy": (True, "GA", True),
    "SELinuxMount": (False, "Beta", False),
    "SELinuxMountReadWriteOncePod": (True, "GA", True),
    "SchedulerAsyncAPICalls": (False, "Beta", False),
    "SchedulerAsyncPreemption": (True, "Beta", False),
    "SchedulerPopFromBackoffQ": (True, "Beta", False),
    "SchedulerQueueingHints": (True, "GA", True),
    "SeparateCacheWatchRPC": (False, "Deprecated", False),
    "SeparateTaintEvictionController": (True, "GA", True),
    "ServiceAccountNodeAudienceRestriction": (True, "Beta", False),
    "ServiceAccountTokenJTI": (True, "GA", True),
    "ServiceAccountTokenNodeBinding": (True, "GA", True),
    "ServiceAccountTokenNodeBindingValidation": (True, "GA", True),
    "ServiceAccountTokenPodNodeInfo": (True, "GA", True),
    "ServiceCIDRStatusFieldWiping": (True, "Deprecated", False),
    "ShardedListAndWatch": (False, "Alpha", False),
    "SidecarContainers": (True, "Beta", False),
    "SizeBasedListCostEstimate": (True, "Beta", False),
    "StaleControllerConsistencyDaemonSet": (True, "Beta", False),
    "StaleControllerConsistencyJob": (True, "Beta", False),
    "StaleControllerConsistencyReplicaSet": (True, "Beta", False),
    "StaleControllerConsistencyStatefulSet": (True, "Beta", False),
    "StatefulSetSemanticRevisionComparison": (True, "Beta", False),
    "StorageCapacityScoring": (False, "Alpha", False),
    "StorageNamespaceIndex": (True, "Deprecated", False),
    "StoragePerformantSecurityPolicy": (False, "Alpha", False),
    "StorageVersionAPI": (False, "Alpha", False),
    "StorageVersionHash": (True, "Beta", False),
    "StorageVersionMigrator": (False, "Beta", False),
    "StreamingCollectionEncodingToJSON": (True, "GA", True),
    "StreamingCollectionEncodingToProtobuf": (True, "GA", True),
    "StrictIPCIDRValidation": (True, "Beta", False),
    "StructuredAuthenticationConfiguration": (True, "GA", True),
    "StructuredAuthenticationConfigurationEgressSelector": (True, "Beta", False),
    "StructuredAuthenticationConfigurationJWKSMetrics": (True, "Beta", False),
    "SupplementalGroupsPolicy": (True, "GA", True),
    "SystemdWatchdog": (True, "GA", True),
    "TaintTolerationComparisonOperators": (False, "Alpha", False),
    "TokenRequestServiceAccountUIDValidation": (True, "Beta", False),
    "TopologyAwareWorkloadScheduling": (False, "Alpha", False),
    "TopologyManagerPolicyAlphaOptions": (False, "Alpha", False),
    "TopologyManagerPolicyBetaOptions": (True, "Beta", False),
    "TopologyManagerPolicyOptions": (True, "GA", True),
    "TranslateStreamCloseWebsocketRequests": (True, "Beta", False),
    "UnknownVersionInteroperabilityProxy": (True, "Beta", False),
    "UserNamespacesHostNetworkSupport": (False, "Alpha", False),
    "UserNamespacesSupport": (True, "GA", True),
    "VolumeAttributesClass": (True, "GA", True),
    "VolumeLimitScaling": (False, "Alpha", False),
    "WatchCacheInitializationPostStartHook": (True, "Beta", False),
    "WatchList": (True, "Beta", False),
    "WinDSR": (True, "GA", True),
    "WinOverlay": (True, "GA", True),
    "WindowsCPUAndMemoryAffinity": (False, "Alpha", False),
    "WindowsGracefulNodeShutdown": (True, "Beta", False),
    "WindowsHostNetwork": (False, "Deprecated", False),
    "WorkloadAwarePreemption": (False, "Alpha", False),
    "WorkloadWithJob": (False, "Alpha", False),
}

# Gates registered outside kube_features.go (component-base's special gates,
# client-go, component-base/logs). Their specs are not in the reference tree;
# these are the best known 1.36 values.
SPECS.update(
    {
        ALL_ALPHA: (False, ALPHA, False),
        ALL_BETA: (False, BETA, False),
        "AtomicFIFO": (True, BETA, False),
        "ClientsAllowCBOR": (False, ALPHA, False),
        "ClientsPreferCBOR": (False, ALPHA, False),
        "InOrderInformers": (True, BETA, False),
        "InformerResourceVersion": (True, GA, False),
        "WatchListClient": (True, BETA, False),
        "ContextualLogging": (True, BETA, False),
        "LoggingAlphaOptions": (False, ALPHA, False),
        "LoggingBetaOptions": (True, BETA, False),
    }
)

# feature -> the features it depends on, sorted (AddDependencies sorts them).
DEPENDENCIES: dict[str, tuple[str, ...]] = {
    "AuthorizeNodeWithSelectors": ("AuthorizeWithSelectors",),
    "ClusterTrustBundleProjection": ("ClusterTrustBundle",),
    "DRAAdminAccess": ("DynamicResourceAllocation",),
    "DRAConsumableCapacity": ("DynamicResourceAllocation",),
    "DRADeviceBindingConditions": ("DRAResourceClaimDeviceStatus", "DynamicResourceAllocation"),
    "DRADeviceTaintRules": ("DRADeviceTaints",),
    "DRADeviceTaints": ("DynamicResourceAllocation",),
    "DRAExtendedResource": ("DynamicResourceAllocation",),
    "DRAListTypeAttributes": ("DynamicResourceAllocation",),
    "DRANodeAllocatableResources": ("DynamicResourceAllocation",),
    "DRAPartitionableDevices": ("DynamicResourceAllocation",),
    "DRAPrioritizedList": ("DynamicResourceAllocation",),
    "DRAResourceClaimGranularStatusAuthorization": (
        "DRAResourceClaimDeviceStatus",
        "DynamicResourceAllocation",
    ),
    "DRAResourcePoolStatus": ("DynamicResourceAllocation",),
    "DRASchedulerFilterTimeout": ("DynamicResourceAllocation",),
    "DRAWorkloadResourceClaims": ("DynamicResourceAllocation", "GenericWorkload"),
    "DeclarativeValidationBeta": ("DeclarativeValidation",),
    "DeclarativeValidationTakeover": ("DeclarativeValidation",),
    "DisableAllocatorDualWrite": ("MultiCIDRServiceAllocator",),
    "ExtendWebSocketsToKubelet": ("NodeDeclaredFeatures",),
    "GangScheduling": ("GenericWorkload",),
    "GracefulNodeShutdownBasedOnPodPriority": ("GracefulNodeShutdown",),
    "ImageVolumeWithDigest": ("ImageVolume",),
    "InPlacePodLevelResourcesVerticalScaling": (
        "InPlacePodVerticalScaling",
        "NodeDeclaredFeatures",
        "PodLevelResources",
    ),
    "InPlacePodVerticalScalingExclusiveCPUs": ("InPlacePodVerticalScaling",),
    "InPlacePodVerticalScalingExclusiveMemory": ("InPlacePodVerticalScaling",),
    "InPlacePodVerticalScalingInitContainers": ("InPlacePodVerticalScaling", "NodeDeclaredFeatures"),
    "MatchLabelKeysInPodTopologySpreadSelectorMerge": ("MatchLabelKeysInPodTopologySpread",),
    "PodCertificateRequest": ("AuthorizeNodeWithSelectors",),
    "PodLevelResourceManagers": ("PodLevelResources",),
    "PodLifecycleSleepActionAllowZero": ("PodLifecycleSleepAction",),
    "ProcMountType": ("UserNamespacesSupport",),
    "ResourceHealthStatus": ("DynamicResourceAllocation",),
    "ResourceHealthStatusMessage": ("ResourceHealthStatus",),
    "RestartAllContainersOnContainerExits": ("ContainerRestartRules", "NodeDeclaredFeatures"),
    "ServiceAccountTokenNodeBinding": ("ServiceAccountTokenNodeBindingValidation",),
    "StaleControllerConsistencyDaemonSet": ("AtomicFIFO",),
    "StaleControllerConsistencyJob": ("AtomicFIFO",),
    "StaleControllerConsistencyReplicaSet": ("AtomicFIFO",),
    "StaleControllerConsistencyStatefulSet": ("AtomicFIFO",),
    "StorageVersionAPI": ("APIServerIdentity",),
    "StructuredAuthenticationConfigurationEgressSelector": ("StructuredAuthenticationConfiguration",),
    "StructuredAuthenticationConfigurationJWKSMetrics": ("StructuredAuthenticationConfiguration",),
    "TopologyAwareWorkloadScheduling": ("GenericWorkload",),
    "UnknownVersionInteroperabilityProxy": ("APIServerIdentity",),
    "UserNamespacesHostNetworkSupport": ("NodeDeclaredFeatures", "UserNamespacesSupport"),
    "WindowsGracefulNodeShutdown": ("GracefulNodeShutdown",),
    "WorkloadAwarePreemption": ("GangScheduling",),
    "WorkloadWithJob": ("GenericWorkload",),
}


class FeatureGates:
    """The resolved gates: explicit settings over the 1.36 defaults.

    ``AllAlpha``/``AllBeta`` set every alpha/beta gate not set explicitly, as
    the kubelet does. Unknown names read as disabled.
    """

    __slots__ = ("_values", "explicit")

    def __init__(self, explicit: Mapping[str, bool] | None = None) -> None:
        self.explicit: dict[str, bool] = dict(explicit or {})
        values = {name: spec[0] for name, spec in SPECS.items()}
        for special, stage in ((ALL_ALPHA, ALPHA), (ALL_BETA, BETA)):
            v = self.explicit.get(special)
            if v is None:
                continue
            for name, (_, pre, _locked) in SPECS.items():
                if pre == stage and name not in (ALL_ALPHA, ALL_BETA) and name not in self.explicit:
                    values[name] = v
        values.update(self.explicit)
        self._values = values

    def enabled(self, name: str) -> bool:
        return self._values.get(name, False)

    def items(self) -> list[tuple[str, bool]]:
        """The resource managers' gates and every explicitly set gate, sorted by name."""
        names = set(DEFAULTS) | set(self.explicit)
        return sorted((n, self.enabled(n)) for n in names)

    def validate(self) -> tuple[list[str], list[str]]:
        """``SetFromMap``'s checks: (errors, warnings), in a stable order.

        Errors: a locked gate set against its lock, a gate not available in
        1.36 (PreAlpha), and, only when those are absent, every enabled gate
        with disabled dependencies. The kubelet walks Go maps in random order;
        topolet walks names in sorted order.
        """
        errors: list[str] = []
        warnings: list[str] = []
        for name in sorted(self.explicit):
            v = self.explicit[name]
            spec = SPECS.get(name)
            if spec is None:
                warnings.append(f"unrecognized feature gate: {name}")
                continue
            default, pre, locked = spec
            if locked and default != v:
                errors.append(
                    f"cannot set feature gate {name} to {_go_bool(v)}, feature is locked to {_go_bool(default)}"
                )
                continue
            if pre == PRE_ALPHA:
                errors.append(
                    f"cannot set feature gate {name} to {_go_bool(v)}, feature is PreAlpha at emulated "
                    "version 1.36, min compatibility version 1.35"
                )
                continue
            if pre == DEPRECATED:
                warnings.append(
                    f"Setting deprecated feature gate {name}={_go_bool(v)}. It will be removed in a future release."
                )
            elif pre == GA:
                warnings.append(
                    f"Setting GA feature gate {name}={_go_bool(v)}. It will be removed in a future release."
                )
        if errors:
            return errors, warnings
        for feature in sorted(DEPENDENCIES):
            if not self.enabled(feature):
                continue
            disabled = [d for d in DEPENDENCIES[feature] if not self.enabled(d)]
            if disabled:
                errors.append(
                    f"{feature} is enabled, but depends on features that are disabled: [{' '.join(disabled)}]"
                )
        return errors, warnings

    def __repr__(self) -> str:
        return f"FeatureGates({self.explicit})"


def _go_bool(v: bool) -> str:
    return "true" if v else "false"
