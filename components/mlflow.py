"""The MLflow tracking server workload.

Non-secret settings live in a ConfigMap, the backend store URI (it carries the password) in a
Secret; the container args reference both as `$(VAR)`, which the kubelet expands, so no
password is ever written into a ConfigMap or a pod spec.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

import pulumi
import pulumi_kubernetes as k8s

from components import kube, metrics, migration, versions
from components.auth import (
    ADMIN_PASSWORD_KEY,
    AUTH_CONFIG_FILE,
    FLASK_SECRET_KEY,
    AuthSecret,
    BasicAuthArgs,
    apply_admin_command,
    auth_ini,
)
from components.base import Component
from components.config import (
    IngressConfig,
    MlflowConfig,
    ResourcesConfig,
    VolumeArtifactsConfig,
    default_of,
    defaults_from,
)
from components.config.uploads import MIGRATION_EPHEMERAL, PROXY_EPHEMERAL, MiB, UploadScratch
from components.config.workload import default_max_replicas
from components.database import DatabaseEndpoint, generated_password
from components.ingress import INGRESS_CLASS
from components.ingress_f5 import f5_annotations
from components.storage import VolumeArtifactStore, VolumeArtifactStoreArgs

PORT = 5000
UID = 10001
HEALTH_PATH = "/health"
PROXY_HEALTH_PORT = 9090

# Environment variable names shared by the ConfigMap, the Secret and the container args.
ENV_BACKEND_STORE_URI = "TRACKING_BACKEND_STORE_URI"
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
class ExternalAuth:
    """A sign-in service the ingress asks before every request (oauth2-proxy)."""

    auth_url: pulumi.Input[str]
    signin_url: str


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
        return self.backend.connection_name is not None and self.backend.private_ip


def allowed_hosts(host: str, service: str, namespace: str, extra: list[str]) -> list[str]:
    """Host headers MLflow accepts: the ingress host and the in-cluster Service names.

    Each name is allowed bare and with any port (NodePort and port-forward add one).
    """
    names = [
        host,
        service,
        f"{service}.{namespace}",
        f"{service}.{namespace}.svc",
        f"{service}.{namespace}.svc.cluster.local",
        *extra,
    ]
    return [pattern for name in names for pattern in (name, f"{name}:*")]


# libpq waits for a TCP handshake as long as the kernel retries (about two minutes). When the
# database pod is replaced, a first SYN can be sent to the old pod's address and its retries
# follow it there (the connection-tracking entry outlives the pod); on a real node that stalled
# the migration Job for 2 min 20 s during a password rotation. A bounded wait lets MLflow retry
# on a new connection, which reaches the new pod.
CONNECT_TIMEOUT_SECONDS = 10


def backend_store_uri(endpoint: DatabaseEndpoint, host: pulumi.Input[str]) -> pulumi.Output[str]:
    """The SQLAlchemy URI, a secret because it embeds the password."""
    return pulumi.Output.secret(
        pulumi.Output.all(host, endpoint.password).apply(
            lambda v: (
                f"postgresql+psycopg2://{quote(endpoint.user, safe='')}:{quote(v[1], safe='')}"
                f"@{v[0]}:{endpoint.port}/{endpoint.database}?sslmode={endpoint.sslmode}"
                f"&connect_timeout={CONNECT_TIMEOUT_SECONDS}"
            )
        )
    )


def server_args(basic_auth: bool = False, extra: list[str] | None = None) -> list[str]:
    login = ["--app-name", "basic-auth"] if basic_auth else []
    return [
        "server",
        *login,
        "--host",
        "0.0.0.0",
        "--port",
        str(PORT),
        "--backend-store-uri",
        f"$({ENV_BACKEND_STORE_URI})",
        "--artifacts-destination",
        f"$({ENV_ARTIFACTS_DESTINATION})",
        "--serve-artifacts",
        "--allowed-hosts",
        f"$({ENV_ALLOWED_HOSTS})",
        "--workers",
        f"$({ENV_WORKERS})",
        *(extra or []),
    ]


def migration_args() -> list[str]:
    return ["db", "upgrade", f"$({ENV_BACKEND_STORE_URI})"]


def tracking_settings(
    args: MlflowServerArgs,
    service: str,
    destination: pulumi.Input[str],
    db_host: pulumi.Input[str],
) -> dict[str, pulumi.Input[str]]:
    """The ConfigMap's data: every server setting that is not a secret."""
    return {
        ENV_ARTIFACTS_DESTINATION: destination,
        ENV_ALLOWED_HOSTS: ",".join(
            allowed_hosts(args.host, service, args.namespace, args.extra_allowed_hosts)
        ),
        ENV_WORKERS: str(args.workers),
        # Where the database is, for people debugging; the credentials are in the Secret.
        "TRACKING_DATABASE_HOST": db_host,
        "TRACKING_DATABASE_NAME": args.backend.database,
        "HOME": "/tmp",
        "MLFLOW_DISABLE_TELEMETRY": "false" if args.telemetry else "true",
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "true" if args.job_execution else "false",
        "MLFLOW_LOGGING_LEVEL": args.log_level,
        **args.extra_env,
    }


@dataclass(frozen=True)
class ContainerEnvironment:
    """What both MLflow containers read: the settings ConfigMap and the backend Secret."""

    config_map: pulumi.Input[str]
    secret: pulumi.Input[str]
    auth: AuthSecret | None = None
    # mlflow.extra_secret_env: each a key of `secret`, read into the variable of its name.
    secret_names: tuple[str, ...] = ()

    def env_from(self) -> list[k8s.core.v1.EnvFromSourceArgs]:
        return [
            k8s.core.v1.EnvFromSourceArgs(
                config_map_ref=k8s.core.v1.ConfigMapEnvSourceArgs(name=self.config_map)
            )
        ]

    def env(self) -> list[k8s.core.v1.EnvVarArgs]:
        auth = self.auth.env() if self.auth else []
        extra = [kube.secret_env(name, self.secret, name) for name in self.secret_names]
        return [
            kube.secret_env(ENV_BACKEND_STORE_URI, self.secret, "backend-store-uri"),
            *auth,
            *extra,
        ]

    def mounts(self) -> list[k8s.core.v1.VolumeMountArgs]:
        return [self.auth.mount()] if self.auth else []


def mlflow_container(
    name: str,
    command: list[str],
    args: MlflowServerArgs,
    environment: ContainerEnvironment,
    mounts: list[k8s.core.v1.VolumeMountArgs],
    ephemeral_storage: str,
    extra_env: list[k8s.core.v1.EnvVarArgs] | None = None,
    **serving: Any,
) -> k8s.core.v1.ContainerArgs:
    """An `mlflow` container with the image, settings, resources and security all share."""
    res = args.resources
    return k8s.core.v1.ContainerArgs(
        name=name,
        image=args.image,
        image_pull_policy="Always",
        command=command[:1],
        args=command[1:],
        env_from=environment.env_from(),
        env=[*environment.env(), *(extra_env or [])],
        resources=kube.resources(
            res.cpu_request, res.memory_request, res.cpu_limit, res.memory_limit, ephemeral_storage
        ),
        security_context=kube.container_security_context(UID),
        volume_mounts=mounts,
        **serving,
    )


def server_container(
    args: MlflowServerArgs,
    environment: ContainerEnvironment,
    mounts: list[k8s.core.v1.VolumeMountArgs],
) -> k8s.core.v1.ContainerArgs:
    return mlflow_container(
        "mlflow",
        [
            "mlflow",
            *server_args(
                environment.auth is not None, [*metrics.exporter_args(), *args.extra_args]
            ),
        ],
        args,
        environment,
        [*mounts, *environment.mounts(), metrics.metrics_mount()],
        args.scratch.server_quantity,
        ports=[k8s.core.v1.ContainerPortArgs(name="http", container_port=PORT)],
        startup_probe=kube.http_probe(HEALTH_PATH, "http", period=5, failure_threshold=60),
        readiness_probe=kube.http_probe(HEALTH_PATH, "http", period=10, failure_threshold=3),
        liveness_probe=kube.http_probe(HEALTH_PATH, "http", period=20, failure_threshold=3),
    )


def proxy_sidecars(args: MlflowServerArgs) -> list[k8s.core.v1.ContainerArgs]:
    """The Cloud SQL Auth Proxy, for every pod that talks to a private-IP instance."""
    if not args.uses_cloud_sql_proxy or args.backend.connection_name is None:
        return []
    return [cloud_sql_proxy_container(args.cloud_sql_proxy_image, args.backend.connection_name)]


def init_containers(
    args: MlflowServerArgs, environment: ContainerEnvironment, tmp: k8s.core.v1.VolumeMountArgs
) -> list[k8s.core.v1.ContainerArgs]:
    """The Auth Proxy sidecar first (when used), then the admin user; the schema is migrated
    by the migration Job before the pods roll."""
    containers = proxy_sidecars(args)
    if environment.auth is not None:
        containers.append(
            mlflow_container(
                "auth-admin",
                apply_admin_command(),
                args,
                environment,
                [tmp, *environment.mounts()],
                f"{MIGRATION_EPHEMERAL // MiB}Mi",
            )
        )
    return containers


def migration_template(args: MlflowServerArgs, parts: PodParts) -> k8s.core.v1.PodTemplateSpecArgs:
    """The migration Job's pod: `mlflow db upgrade` (and, beside it, the basic-auth user
    store's), with the server's settings, Secret, service account and Auth Proxy sidecar."""
    environment, tmp = parts.environment, parts.mounts[0]
    scratch = f"{MIGRATION_EPHEMERAL // MiB}Mi"
    containers = [
        mlflow_container(
            "db-migrate", ["mlflow", *migration_args()], args, environment, [tmp], scratch
        )
    ]
    if environment.auth is not None:
        containers.append(
            mlflow_container(
                "auth-db-migrate",
                migration.auth_upgrade_command(),
                args,
                environment,
                [tmp, *environment.mounts()],
                scratch,
            )
        )
    return kube.pod_template(
        migration.LABELS,
        UID,
        containers,
        service_account_name=parts.service_account,
        init_containers=proxy_sidecars(args) or None,
        restart_policy="Never",
        volumes=[
            kube.empty_dir("tmp", "1Gi"),
            *([environment.auth.volume()] if environment.auth else []),
        ],
    )


def deployment_strategy(args: MlflowServerArgs) -> k8s.apps.v1.DeploymentStrategyArgs:
    # A ReadWriteOnce artifact volume cannot be mounted by old and new pod at once.
    if args.artifact_volume is not None and args.artifact_volume.one_pod_at_a_time:
        return k8s.apps.v1.DeploymentStrategyArgs(type="Recreate")
    return k8s.apps.v1.DeploymentStrategyArgs(
        type="RollingUpdate",
        rolling_update=k8s.apps.v1.RollingUpdateDeploymentArgs(max_unavailable=0, max_surge=1),
    )


def zone_spread(labels: dict[str, str]) -> list[k8s.core.v1.TopologySpreadConstraintArgs]:
    return [
        k8s.core.v1.TopologySpreadConstraintArgs(
            max_skew=1,
            topology_key="topology.kubernetes.io/zone",
            when_unsatisfiable="ScheduleAnyway",
            label_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels),
        )
    ]


@dataclass(frozen=True)
class PodParts:
    """What the pod template is made of besides the args."""

    labels: dict[str, str]
    service_account: pulumi.Input[str]
    environment: ContainerEnvironment
    volumes: list[k8s.core.v1.VolumeArgs]
    mounts: list[k8s.core.v1.VolumeMountArgs]


def deployment_spec(args: MlflowServerArgs, parts: PodParts) -> k8s.apps.v1.DeploymentSpecArgs:
    return k8s.apps.v1.DeploymentSpecArgs(
        replicas=args.replicas,
        selector=k8s.meta.v1.LabelSelectorArgs(match_labels=parts.labels),
        strategy=deployment_strategy(args),
        template=kube.pod_template(
            parts.labels,
            UID,
            [
                server_container(args, parts.environment, parts.mounts),
                metrics.metrics_sidecar(args.image, UID),
            ],
            service_account_name=parts.service_account,
            init_containers=init_containers(args, parts.environment, parts.mounts[0]) or None,
            volumes=[
                *parts.volumes,
                *([parts.environment.auth.volume()] if parts.environment.auth else []),
                metrics.metrics_volume(),
            ],
            topology_spread_constraints=(
                zone_spread(parts.labels) if args.highly_available else None
            ),
        ),
    )


GC_LABELS = kube.labels("mlflow", "garbage-collector")


def gc_container(
    args: MlflowServerArgs, environment: ContainerEnvironment, tracking_uri: pulumi.Input[str]
) -> k8s.core.v1.ContainerArgs:
    """`mlflow gc` with the server's backend Secret; artifacts go through the server's proxy,
    so MLflow needs MLFLOW_TRACKING_URI (and, with basic auth, the admin's credentials)."""
    login = (
        [
            k8s.core.v1.EnvVarArgs(
                name="MLFLOW_TRACKING_USERNAME", value=args.basic_auth.admin_username
            ),
            kube.secret_env("MLFLOW_TRACKING_PASSWORD", environment.auth.name, ADMIN_PASSWORD_KEY),
        ]
        if args.basic_auth and environment.auth
        else []
    )
    return mlflow_container(
        "gc",
        [
            "mlflow",
            "gc",
            "--backend-store-uri",
            f"$({ENV_BACKEND_STORE_URI})",
            "--older-than",
            args.gc_older_than,
        ],
        args,
        environment,
        [k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp")],
        f"{MIGRATION_EPHEMERAL // MiB}Mi",
        extra_env=[k8s.core.v1.EnvVarArgs(name="MLFLOW_TRACKING_URI", value=tracking_uri), *login],
    )


def garbage_collection_spec(
    args: MlflowServerArgs, parts: PodParts, tracking_uri: pulumi.Input[str]
) -> k8s.batch.v1.CronJobSpecArgs:
    """Daily by default, one at a time, with the Auth Proxy beside it where the server has one."""
    proxy = proxy_sidecars(args)
    return k8s.batch.v1.CronJobSpecArgs(
        schedule=args.gc_schedule,
        concurrency_policy="Forbid",
        successful_jobs_history_limit=1,
        failed_jobs_history_limit=3,
        job_template=k8s.batch.v1.JobTemplateSpecArgs(
            spec=k8s.batch.v1.JobSpecArgs(
                backoff_limit=2,
                template=kube.pod_template(
                    parts.labels,
                    UID,
                    [gc_container(args, parts.environment, tracking_uri)],
                    service_account_name=parts.service_account,
                    init_containers=proxy or None,
                    restart_policy="OnFailure",
                    volumes=[kube.empty_dir("tmp", "1Gi")],
                ),
            )
        ),
    )


NGINX = "nginx.ingress.kubernetes.io"


def ingress_annotations(args: MlflowServerArgs) -> dict[str, pulumi.Input[str]]:
    """Body size and timeouts; https (redirect, certificate); the external sign-in: in the
    annotation family of the controller that reads them."""
    if args.ingress_controller != "f5-nginx":
        return _ingress_nginx_annotations(args)
    if args.external_auth is not None:
        raise ValueError("the external sign-in needs ingress-nginx: F5 NIC has no auth-url")
    annotations: dict[str, pulumi.Input[str]] = dict(
        f5_annotations(
            args.proxy_body_size,
            tls=bool(args.tls_secret),
            redirect_to_https=args.redirect_to_https,
            certificate_issued=args.cluster_issuer is not None,
        )
    )
    if args.cluster_issuer is not None:
        annotations["cert-manager.io/cluster-issuer"] = args.cluster_issuer
    return annotations


def _ingress_nginx_annotations(args: MlflowServerArgs) -> dict[str, pulumi.Input[str]]:
    annotations: dict[str, pulumi.Input[str]] = {
        f"{NGINX}/proxy-body-size": args.proxy_body_size,
        f"{NGINX}/proxy-read-timeout": "600",
    }
    if args.tls_secret:
        annotations[f"{NGINX}/ssl-redirect"] = "true" if args.redirect_to_https else "false"
    if args.cluster_issuer is not None:
        annotations["cert-manager.io/cluster-issuer"] = args.cluster_issuer
    if args.external_auth is not None:
        annotations[f"{NGINX}/auth-url"] = args.external_auth.auth_url
        annotations[f"{NGINX}/auth-signin"] = args.external_auth.signin_url
        annotations[f"{NGINX}/auth-response-headers"] = "X-Auth-Request-Email"
    return annotations


def autoscaler_spec(
    args: MlflowServerArgs, deployment: pulumi.Input[str]
) -> k8s.autoscaling.v2.HorizontalPodAutoscalerSpecArgs:
    return k8s.autoscaling.v2.HorizontalPodAutoscalerSpecArgs(
        scale_target_ref=k8s.autoscaling.v2.CrossVersionObjectReferenceArgs(
            api_version="apps/v1", kind="Deployment", name=deployment
        ),
        min_replicas=args.replicas,
        max_replicas=args.max_replicas,
        metrics=[
            k8s.autoscaling.v2.MetricSpecArgs(
                type="Resource",
                resource=k8s.autoscaling.v2.ResourceMetricSourceArgs(
                    name="cpu",
                    target=k8s.autoscaling.v2.MetricTargetArgs(
                        type="Utilization", average_utilization=args.target_cpu_utilization
                    ),
                ),
            )
        ],
    )


@dataclass(frozen=True)
class Scope:
    """Where the server's objects go: resource name, namespace, labels and resource options."""

    name: str
    namespace: pulumi.Output[str]
    labels: dict[str, str]
    opts: pulumi.ResourceOptions

    def metadata(
        self, annotations: dict[str, pulumi.Input[str]] | None = None, named: bool = True
    ) -> k8s.meta.v1.ObjectMetaArgs:
        """`named=False`: the provider names the object <name>-<suffix>."""
        return kube.metadata(self.name if named else None, self.namespace, self.labels, annotations)


class MlflowServer(Component):
    """Namespace, ServiceAccount, ConfigMap, Secret, Deployment, Service, Ingress (+PDB/HPA)."""

    url: pulumi.Output[str]
    """Where users reach the server through the ingress (scheme and host)."""
    namespace_name: pulumi.Output[str]
    """The namespace the server runs in."""
    admin_password: pulumi.Output[str | None]
    """The basic-auth admin's password (a secret; None without basic auth)."""

    def __init__(
        self, name: str, args: MlflowServerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, opts)
        if (args.artifacts_destination is None) == (args.artifact_volume is None):
            raise ValueError(
                "MlflowServerArgs needs exactly one of artifacts_destination and artifact_volume"
            )
        labels = kube.labels("mlflow", "tracking-server")
        self.namespace = kube.namespace(name, args.namespace, labels, self)
        ns = self.namespace.metadata.name
        scope = Scope(
            name, ns, labels, pulumi.ResourceOptions(parent=self, depends_on=[self.namespace])
        )
        self.service_account = self._service_account(scope, args)
        volumes, mounts, destination = self._artifact_storage(scope, args)
        environment = self._settings(scope, args, destination)
        parts = PodParts(labels, self.service_account.metadata.name, environment, volumes, mounts)
        self.migration = self._migration(scope, args, parts)
        self.deployment = k8s.apps.v1.Deployment(
            name,
            metadata=scope.metadata(),
            spec=deployment_spec(args, parts),
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[self.namespace, *args.start_after, self.migration],
                # The HPA owns the replica count once it exists.
                ignore_changes=["spec.replicas"] if args.highly_available else None,
            ),
        )
        self.service = self._service(scope, args)
        self.ingress = k8s.networking.v1.Ingress(
            name,
            metadata=scope.metadata(ingress_annotations(args)),
            spec=kube.ingress_spec(
                args.host, "/", self.service.metadata.name, args.ingress_class, args.tls_secret
            ),
            opts=pulumi.ResourceOptions.merge(
                scope.opts, pulumi.ResourceOptions(depends_on=args.ingress_after)
            ),
        )
        # Only the ingress controller, and the garbage collector through the Service, get in.
        kube.allow_ingress_only_from(
            name, ns, labels, args.ingress_namespace, PORT, scope.opts, also_from_pods=GC_LABELS
        )
        self.scrape_objects = metrics.scrape_objects(name, ns, labels, args.scraping, scope.opts)
        self.garbage_collector = self._garbage_collector(scope, args, parts)
        if args.highly_available:
            self.pdb, self.hpa = self._high_availability(scope, args)
        scheme = "https" if args.tls_secret else "http"
        self.url = pulumi.Output.from_input(f"{scheme}://{args.host}")
        self.admin_password = (
            pulumi.Output.secret(self.admin_password_resource.result)
            if args.basic_auth
            else pulumi.Output.from_input(None)
        )
        self.namespace_name = ns
        self.register_declared_outputs()

    def _migration(self, scope: Scope, args: MlflowServerArgs, parts: PodParts) -> k8s.batch.v1.Job:
        """The schema migration, once per version, after the stores (and the backup) exist."""
        migration.no_ingress(scope.name, scope.namespace, scope.opts)
        return migration.migration_job(
            scope.name,
            scope.namespace,
            args.version,
            migration_template(args, parts),
            pulumi.ResourceOptions.merge(
                scope.opts,
                pulumi.ResourceOptions(depends_on=[*args.start_after, *args.migrate_after]),
            ),
        )

    def _service(self, scope: Scope, args: MlflowServerArgs) -> k8s.core.v1.Service:
        """`http` for the ingress; `metrics` too when a ServiceMonitor scrapes through it."""
        more = [metrics.service_port()] if args.scraping.service_monitor else []
        return kube.cluster_ip_service(
            scope.name, scope.namespace, scope.labels, "http", 80, "http", scope.opts, more
        )

    def _service_account(self, scope: Scope, args: MlflowServerArgs) -> k8s.core.v1.ServiceAccount:
        annotations = (
            {"iam.gke.io/gcp-service-account": args.google_service_account}
            if args.google_service_account is not None
            else None
        )
        return k8s.core.v1.ServiceAccount(
            scope.name,
            metadata=scope.metadata(annotations),
            automount_service_account_token=False,
            opts=scope.opts,
        )

    def _artifact_storage(
        self, scope: Scope, args: MlflowServerArgs
    ) -> tuple[list[k8s.core.v1.VolumeArgs], list[k8s.core.v1.VolumeMountArgs], pulumi.Input[str]]:
        """Volumes, mounts (`/tmp` first) and the artifacts destination the server writes to."""
        volumes = [kube.empty_dir("tmp", args.scratch.tmp_quantity)]
        mounts = [k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp")]
        if args.artifact_volume is None:
            assert args.artifacts_destination is not None
            return volumes, mounts, args.artifacts_destination
        store = VolumeArtifactStore(
            f"{scope.name}-artifacts",
            VolumeArtifactStoreArgs(
                namespace=scope.namespace,
                size=args.artifact_volume.size,
                storage_class=args.artifact_volume.storage_class,
                access_mode=args.artifact_volume.access_mode,
            ),
            opts=scope.opts,
        )
        volumes.append(
            k8s.core.v1.VolumeArgs(
                name="artifacts",
                persistent_volume_claim=k8s.core.v1.PersistentVolumeClaimVolumeSourceArgs(
                    claim_name=store.claim_name
                ),
            )
        )
        mounts.append(
            k8s.core.v1.VolumeMountArgs(name="artifacts", mount_path=VolumeArtifactStore.MOUNT_PATH)
        )
        return volumes, mounts, store.artifacts_destination

    def _settings(
        self, scope: Scope, args: MlflowServerArgs, destination: pulumi.Input[str]
    ) -> ContainerEnvironment:
        """The settings ConfigMap and the backend Secret, both auto-named (name-<suffix>): a
        change creates a new object, the pod template then points at the new name and the
        Deployment rolls. With a fixed name the object would be replaced in place and running
        pods would keep the old values."""
        db_host: pulumi.Input[str] = "127.0.0.1" if args.uses_cloud_sql_proxy else args.backend.host
        self.config_map = k8s.core.v1.ConfigMap(
            scope.name,
            metadata=scope.metadata(named=False),
            data=tracking_settings(args, scope.name, destination, db_host),
            opts=scope.opts,
        )
        self.secret = k8s.core.v1.Secret(
            scope.name,
            metadata=scope.metadata(named=False),
            type="Opaque",
            string_data={
                "backend-store-uri": backend_store_uri(args.backend, db_host),
                **{
                    name: pulumi.Output.secret(value)
                    for name, value in args.extra_secret_env.items()
                },
            },
            opts=scope.opts,
        )
        auth = self._basic_auth(scope, args, db_host) if args.basic_auth else None
        return ContainerEnvironment(
            self.config_map.metadata.name,
            self.secret.metadata.name,
            auth,
            tuple(args.extra_secret_env),
        )

    def _basic_auth(
        self, scope: Scope, args: MlflowServerArgs, db_host: pulumi.Input[str]
    ) -> AuthSecret:
        """The admin password and the auth ini, in a Secret auto-named like the others."""
        assert args.basic_auth is not None
        basic = args.basic_auth
        self.admin_password_resource = generated_password(
            f"{scope.name}-admin", basic.admin_password_rotation, self
        )
        flask_key = generated_password(
            f"{scope.name}-flask-key", basic.admin_password_rotation, self
        )
        store = dataclasses.replace(args.backend, database=basic.database)
        ini: pulumi.Output[str] = backend_store_uri(store, db_host).apply(
            lambda uri: auth_ini(basic, uri)
        )
        ini_secret: pulumi.Output[str] = pulumi.Output.secret(ini)
        self.auth_secret = k8s.core.v1.Secret(
            f"{scope.name}-auth",
            metadata=kube.metadata(None, scope.namespace, scope.labels),
            type="Opaque",
            string_data={
                AUTH_CONFIG_FILE: ini_secret,
                ADMIN_PASSWORD_KEY: self.admin_password_resource.result,
                FLASK_SECRET_KEY: flask_key.result,
            },
            opts=scope.opts,
        )
        return AuthSecret(self.auth_secret.metadata.name)

    def _garbage_collector(
        self, scope: Scope, args: MlflowServerArgs, parts: PodParts
    ) -> k8s.batch.v1.CronJob:
        tracking_uri = pulumi.Output.concat(
            "http://", self.service.metadata.name, ".", scope.namespace, ".svc.cluster.local"
        )
        return k8s.batch.v1.CronJob(
            f"{scope.name}-gc",
            metadata=kube.metadata(f"{scope.name}-gc", scope.namespace, GC_LABELS),
            spec=garbage_collection_spec(
                args, dataclasses.replace(parts, labels=GC_LABELS), tracking_uri
            ),
            opts=scope.opts,
        )

    def _high_availability(
        self, scope: Scope, args: MlflowServerArgs
    ) -> tuple[k8s.policy.v1.PodDisruptionBudget, k8s.autoscaling.v2.HorizontalPodAutoscaler]:
        pdb = k8s.policy.v1.PodDisruptionBudget(
            scope.name,
            metadata=scope.metadata(),
            spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(
                min_available=1,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=scope.labels),
            ),
            opts=scope.opts,
        )
        hpa = k8s.autoscaling.v2.HorizontalPodAutoscaler(
            scope.name,
            metadata=scope.metadata(),
            spec=autoscaler_spec(args, self.deployment.metadata.name),
            opts=scope.opts,
        )
        return pdb, hpa


def cloud_sql_proxy_container(
    image: str, connection_name: pulumi.Input[str]
) -> k8s.core.v1.ContainerArgs:
    """Cloud SQL Auth Proxy 2.x as a native sidecar: an init container that keeps running."""
    return k8s.core.v1.ContainerArgs(
        name="cloud-sql-proxy",
        image=image,
        image_pull_policy="Always",
        restart_policy="Always",
        args=[
            "--private-ip",
            "--structured-logs",
            "--port=5432",
            "--health-check",
            "--http-address=0.0.0.0",
            f"--http-port={PROXY_HEALTH_PORT}",
            connection_name,
        ],
        ports=[
            k8s.core.v1.ContainerPortArgs(name="proxy-health", container_port=PROXY_HEALTH_PORT)
        ],
        resources=kube.resources("50m", "64Mi", "500m", "256Mi", f"{PROXY_EPHEMERAL // MiB}Mi"),
        security_context=kube.container_security_context(65532),
        startup_probe=kube.http_probe("/startup", "proxy-health", period=2, failure_threshold=30),
        liveness_probe=kube.http_probe("/liveness", "proxy-health", period=20, failure_threshold=3),
        readiness_probe=kube.http_probe(
            "/readiness", "proxy-health", period=10, failure_threshold=3
        ),
    )
