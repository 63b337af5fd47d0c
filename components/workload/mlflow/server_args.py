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
    """Requests and limits of each `mlflow` container: the server, its auth-admin init
    container, the migration and the garbage collector (not the sidecars)."""

    cpu_request: str = _resource("cpu_request")
    """CPU request, a Kubernetes quantity such as 250m (`mlflow.resources.cpu_request`)."""
    memory_request: str = _resource("memory_request")
    """Memory request, a Kubernetes quantity such as 1Gi (`mlflow.resources.memory_request`)."""
    cpu_limit: str = _resource("cpu_limit")
    """CPU limit: the container is throttled there (`mlflow.resources.cpu_limit`)."""
    memory_limit: str = _resource("memory_limit")
    """Memory limit: the container is OOM-killed above it (`mlflow.resources.memory_limit`)."""


@dataclass(frozen=True)
class ArtifactVolume:
    """Serve artifacts from a PersistentVolumeClaim created in the MLflow namespace."""

    size: str = default_of(VolumeArtifactsConfig, "size")
    """The claim's size, a Kubernetes quantity (`artifacts.size`)."""
    storage_class: str | None = default_of(VolumeArtifactsConfig, "storage_class")
    """The claim's StorageClass (`artifacts.storage_class`); None: the cluster's default."""
    access_mode: str = default_of(VolumeArtifactsConfig, "access_mode")
    """ReadWriteOnce (one pod at a time: rollouts recreate, the collector runs on the server's
    node) or ReadWriteMany (`artifacts.access_mode`)."""

    @property
    def one_pod_at_a_time(self) -> bool:
        return self.access_mode == "ReadWriteOnce"


# Without a stack's word, what a dev stack gets.
_mlflow = defaults_from(MlflowConfig, "dev")


_DEFAULT_REPLICAS: int = _mlflow("replicas")


@dataclass(frozen=True)
class MlflowServerArgs:
    host: str
    """The host name users reach MLflow at (`mlflow.host`): the Ingress's rule, an allowed Host."""
    backend: DatabaseEndpoint
    """The tracking database: a store component's `endpoint`."""
    artifacts_destination: pulumi.Input[str] | None = None
    """An object-store URI (gs://...) the server keeps artifacts under; exactly one of this and
    `artifact_volume`."""
    artifact_volume: ArtifactVolume | None = None
    """A volume to create and mount for the artifacts; exactly one of this and
    `artifacts_destination`."""
    namespace: str = _mlflow("namespace")
    """The server's namespace, created here (`mlflow.namespace`)."""
    image: str = field(default_factory=versions.mlflow_image)
    """The MLflow image (`mlflow.image`, else the official -full image of `mlflow.version`)."""
    version: str = _mlflow("version")
    """The MLflow version `image` runs (`mlflow.version`). It names the migration Job: a new
    version migrates once, before the Deployment rolls."""
    replicas: int = _DEFAULT_REPLICAS
    """Server pods (`mlflow.replicas`); above 1 adds a PodDisruptionBudget, an autoscaler with
    this as its minimum, and a spread over zones."""
    max_replicas: int = default_max_replicas(_DEFAULT_REPLICAS)
    """The autoscaler's maximum (`mlflow.max_replicas`, else twice `replicas`)."""
    target_cpu_utilization: int = _mlflow("target_cpu_utilization")
    """The autoscaler's CPU target, in % of the request (`mlflow.target_cpu_utilization`)."""
    workers: int = _mlflow("workers")
    """Server worker processes per pod (`mlflow.workers`)."""
    resources: ContainerResources = field(default_factory=ContainerResources)
    """Requests and limits of each MLflow container (`mlflow.resources`)."""
    ingress_class: str = INGRESS_CLASS
    """The IngressClass the MLflow Ingress names: `nginx`, which both controllers register."""
    ingress_controller: Literal["ingress-nginx", "f5-nginx"] = default_of(
        IngressConfig, "controller"
    )
    """Which controller reads the Ingress's annotations: ingress-nginx or f5-nginx
    (`ingress.controller`)."""
    ingress_namespace: str = default_of(IngressConfig, "namespace")
    """The only namespace that may open connections to the server pods: the ingress
    controller's (`ingress.namespace`)."""
    proxy_body_size: str = default_of(IngressConfig, "proxy_body_size")
    """The largest upload the Ingress admits (`ingress.proxy_body_size`); it sizes /tmp too."""
    tls_secret: str | None = None
    """The Secret holding the host's certificate (issued by `cluster_issuer`, or the user's own
    `mlflow.tls_secret`); None: http only."""
    cluster_issuer: pulumi.Input[str] | None = None
    """The ClusterIssuer that cert-manager issues `tls_secret` from; None: no certificate asked."""
    ingress_after: list[pulumi.Resource] = field(default_factory=list)
    """What the Ingress waits for (the controller's admission webhook); nothing else does."""
    start_after: list[pulumi.Resource] = field(default_factory=list)
    """What the migration Job and the Deployment wait for (the server's stores and
    permissions)."""
    migrate_after: list[pulumi.Resource] = field(default_factory=list)
    """What the migration Job waits for besides `start_after` (the backup before an upgrade)."""
    redirect_to_https: bool = True
    """With TLS, send http to https (the platform's: on a LoadBalancer only)."""
    basic_auth: BasicAuthArgs | None = None
    """MLflow's own login: the basic-auth app and its user store; None: not this login."""
    external_auth: ExternalAuth | None = None
    """A sign-in the ingress asks before every request (ingress-nginx only); None: none."""
    extra_allowed_hosts: list[str] = field(default_factory=list)
    """More Host headers to accept (`mlflow.allowed_hosts`); `host` and the Service's always are."""
    telemetry: bool = _mlflow("telemetry")
    """Let MLflow send usage telemetry, which it does unless told not to (`mlflow.telemetry`)."""
    job_execution: bool = _mlflow("job_execution")
    """Run MLflow's job consumers in every server pod, as MLflow 3.17 does unless told not to
    (`mlflow.job_execution`)."""
    log_level: str = _mlflow("log_level")
    """MLflow's log level, MLFLOW_LOGGING_LEVEL (`mlflow.log_level`)."""
    scraping: metrics.Scraping = field(default_factory=metrics.Scraping)
    """Who scrapes the server's metrics sidecar and who its port admits (`metrics`)."""
    gc_schedule: str = _mlflow("gc_schedule")
    """When `mlflow gc` purges deleted runs and their artifacts: a CronJob schedule
    (`mlflow.gc_schedule`)."""
    gc_older_than: str = _mlflow("gc_older_than")
    """Deleted runs older than this, such as 30d, are purged (`mlflow.gc_older_than`)."""
    extra_env: dict[str, str] = field(default_factory=dict)
    """More environment for every MLflow container, in the settings ConfigMap
    (`mlflow.extra_env`)."""
    extra_secret_env: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    """More environment from a Secret, for the server container only
    (`mlflow.extra_secret_env`)."""
    extra_args: list[str] = field(default_factory=list)
    """More `mlflow server` arguments, after ours (`mlflow.extra_args`)."""
    google_service_account: pulumi.Input[str] | None = None
    """GKE Workload Identity: the Google service account the pods act as; None: none."""
    cloud_sql_proxy_image: str = versions.CLOUD_SQL_PROXY_IMAGE
    """The Cloud SQL Auth Proxy sidecar's image, used with a Cloud SQL `backend`."""

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
