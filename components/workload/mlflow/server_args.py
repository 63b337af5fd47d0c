"""What the MLflow server component takes: its typed arguments and the names its parts share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pulumi

from components.config import (
    IngressConfig,
    MlflowConfig,
    ResourcesConfig,
    VolumeArtifactsConfig,
    default_of,
    defaults_from,
)
from components.config.mlflow_server import default_max_replicas
from components.config.uploads import UploadScratch
from components.shared import versions
from components.shared.kube import INGRESS_CLASS
from components.stores.database import DatabaseEndpoint
from components.workload import metrics
from components.workload.ingress.nginx import ExternalAuth
from components.workload.mlflow.auth import (
    BasicAuthArgs,
)

PORT = 5000
UID = 10001
HEALTH_PATH = "/health"
PROXY_HEALTH_PORT = 9090

# Environment variable names shared by the ConfigMap, the Secret and the container args.
# The database URI (with its password) is never in args: `mlflow server` reads MLflow's own
# variable, and the migration and garbage-collection wrappers read the same one.
ENV_BACKEND_STORE_URI = "MLFLOW_BACKEND_STORE_URI"
ENV_ARTIFACTS_DESTINATION = "TRACKING_ARTIFACTS_DESTINATION"
ENV_ALLOWED_HOSTS = "TRACKING_ALLOWED_HOSTS"
ENV_WORKERS = "TRACKING_WORKERS"


_resource = defaults_from(ResourcesConfig)


@dataclass(frozen=True)
class ContainerResources:
    cpu_request: str = _resource("cpu_request")
    memory_request: str = _resource("memory_request")
    cpu_limit: str = _resource("cpu_limit")
    memory_limit: str = _resource("memory_limit")


@dataclass(frozen=True)
class ArtifactVolume:
    """Serve artifacts from a PersistentVolumeClaim created in the MLflow namespace."""

    size: str = default_of(VolumeArtifactsConfig, "size")
    storage_class: str | None = default_of(VolumeArtifactsConfig, "storage_class")
    access_mode: str = default_of(VolumeArtifactsConfig, "access_mode")

    @property
    def one_pod_at_a_time(self) -> bool:
        return self.access_mode == "ReadWriteOnce"


# Without a stack's word, what a dev stack gets.
_mlflow = defaults_from(MlflowConfig, "dev")


_DEFAULT_REPLICAS: int = _mlflow("replicas")


@dataclass(frozen=True)
class MlflowServerArgs:
    host: str
    backend: DatabaseEndpoint
    # Exactly one of these: an object-store URI (gs://...) or a volume to create and mount.
    artifacts_destination: pulumi.Input[str] | None = None
    artifact_volume: ArtifactVolume | None = None
    namespace: str = _mlflow("namespace")
    image: str = field(default_factory=versions.mlflow_image)
    # Names the migration Job: a new version migrates once, before the Deployment rolls.
    version: str = _mlflow("version")
    replicas: int = _DEFAULT_REPLICAS
    max_replicas: int = default_max_replicas(_DEFAULT_REPLICAS)
    target_cpu_utilization: int = _mlflow("target_cpu_utilization")
    workers: int = _mlflow("workers")
    resources: ContainerResources = field(default_factory=ContainerResources)
    ingress_class: str = INGRESS_CLASS
    # Which controller reads the Ingress's annotations (ingress-nginx or f5-nginx).
    ingress_controller: Literal["ingress-nginx", "f5-nginx"] = default_of(
        IngressConfig, "controller"
    )
    # Only the ingress controller's namespace may open connections to the server pods.
    ingress_namespace: str = default_of(IngressConfig, "namespace")
    proxy_body_size: str = default_of(IngressConfig, "proxy_body_size")
    # The Secret holding the host's certificate (issued by `cluster_issuer`, or the user's own).
    tls_secret: str | None = None
    cluster_issuer: pulumi.Input[str] | None = None
    # What the Ingress waits for (the controller's admission webhook); nothing else does.
    ingress_after: list[pulumi.Resource] = field(default_factory=list)
    # What the Deployment waits for (the server's stores and permissions); nothing else does.
    start_after: list[pulumi.Resource] = field(default_factory=list)
    # What the migration Job waits for besides those (the backup before an upgrade).
    migrate_after: list[pulumi.Resource] = field(default_factory=list)
    redirect_to_https: bool = True
    basic_auth: BasicAuthArgs | None = None
    external_auth: ExternalAuth | None = None
    extra_allowed_hosts: list[str] = field(default_factory=list)
    # MLflow sends usage telemetry unless told not to.
    telemetry: bool = _mlflow("telemetry")
    # MLflow 3.17 runs its job consumers in every server pod unless told not to.
    job_execution: bool = _mlflow("job_execution")
    log_level: str = _mlflow("log_level")
    scraping: metrics.Scraping = field(default_factory=metrics.Scraping)
    # `mlflow gc` purges deleted runs (and their artifacts) on this schedule.
    gc_schedule: str = _mlflow("gc_schedule")
    gc_older_than: str = _mlflow("gc_older_than")
    extra_env: dict[str, str] = field(default_factory=dict)
    extra_secret_env: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    extra_args: list[str] = field(default_factory=list)
    # GKE Workload Identity: the Google service account the pods act as.
    google_service_account: pulumi.Input[str] | None = None
    cloud_sql_proxy_image: str = versions.CLOUD_SQL_PROXY_IMAGE

    @property
    def highly_available(self) -> bool:
        return self.replicas > 1

    @property
    def scratch(self) -> UploadScratch:
        """/tmp and ephemeral storage sized for the largest upload the ingress admits."""
        return UploadScratch.for_body_size(self.proxy_body_size)

    @property
    def uses_cloud_sql_proxy(self) -> bool:
        """Every Cloud SQL instance, private or public IP: the proxy verifies the server."""
        return self.backend.connection_name is not None
