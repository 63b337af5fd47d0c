"""The MLflow tracking server workload.

Non-secret settings live in a ConfigMap, the backend store URI (it carries the password) in a
Secret; the container args reference both as `$(VAR)`, which the kubelet expands, so no
password is ever written into a ConfigMap or a pod spec.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote

import pulumi
import pulumi_kubernetes as k8s

from components import kube, versions
from components.database import DatabaseEndpoint
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


@dataclass(frozen=True)
class ContainerResources:
    cpu_request: str = "250m"
    memory_request: str = "768Mi"
    cpu_limit: str = "1"
    memory_limit: str = "1536Mi"


@dataclass(frozen=True)
class ArtifactVolume:
    """Serve artifacts from a PersistentVolumeClaim created in the MLflow namespace."""

    size: str = "10Gi"
    storage_class: str | None = None


@dataclass(frozen=True)
class MlflowServerArgs:
    host: str
    backend: DatabaseEndpoint
    # Exactly one of these: an object-store URI (gs://...) or a volume to create and mount.
    artifacts_destination: pulumi.Input[str] | None = None
    artifact_volume: ArtifactVolume | None = None
    namespace: str = "mlflow"
    image: str = field(default_factory=versions.mlflow_image)
    replicas: int = 1
    max_replicas: int = 2
    target_cpu_utilization: int = 70
    workers: int = 2
    resources: ContainerResources = field(default_factory=ContainerResources)
    ingress_class: str = "nginx"
    # Only the ingress controller's namespace may open connections to the server pods.
    ingress_namespace: str = "ingress-nginx"
    proxy_body_size: str = "5g"
    tls_secret: str | None = None
    extra_allowed_hosts: list[str] = field(default_factory=list)
    # GKE Workload Identity: the Google service account the pods act as.
    google_service_account: pulumi.Input[str] | None = None
    cloud_sql_proxy_image: str = versions.CLOUD_SQL_PROXY_IMAGE


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


def backend_store_uri(endpoint: DatabaseEndpoint, host: pulumi.Input[str]) -> pulumi.Output[str]:
    """The SQLAlchemy URI, a secret because it embeds the password."""
    return pulumi.Output.secret(
        pulumi.Output.all(host, endpoint.password).apply(
            lambda v: (
                f"postgresql+psycopg2://{quote(endpoint.user, safe='')}:{quote(v[1], safe='')}"
                f"@{v[0]}:{endpoint.port}/{endpoint.database}?sslmode={endpoint.sslmode}"
            )
        )
    )


def server_args() -> list[str]:
    return [
        "server",
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
    ]


def migration_args() -> list[str]:
    return ["db", "upgrade", f"$({ENV_BACKEND_STORE_URI})"]


class MlflowServer(pulumi.ComponentResource):
    """Namespace, ServiceAccount, ConfigMap, Secret, Deployment, Service, Ingress (+PDB/HPA)."""

    def __init__(
        self, name: str, args: MlflowServerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlflow-platform:mlflow:MlflowServer", name, None, opts)
        if (args.artifacts_destination is None) == (args.artifact_volume is None):
            raise ValueError(
                "MlflowServerArgs needs exactly one of artifacts_destination and artifact_volume"
            )
        labels = kube.labels("mlflow", "tracking-server")
        self.namespace = kube.namespace(name, args.namespace, labels, self)
        ns = self.namespace.metadata.name
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[self.namespace])

        annotations = (
            {"iam.gke.io/gcp-service-account": args.google_service_account}
            if args.google_service_account is not None
            else None
        )
        self.service_account = k8s.core.v1.ServiceAccount(
            name,
            metadata=kube.metadata(name, ns, labels, annotations),
            automount_service_account_token=False,
            opts=in_ns,
        )

        volumes = [kube.empty_dir("tmp")]
        mounts = [k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp")]
        if args.artifact_volume is not None:
            store = VolumeArtifactStore(
                f"{name}-artifacts",
                VolumeArtifactStoreArgs(
                    namespace=ns,
                    size=args.artifact_volume.size,
                    storage_class=args.artifact_volume.storage_class,
                ),
                opts=in_ns,
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
                k8s.core.v1.VolumeMountArgs(
                    name="artifacts", mount_path=VolumeArtifactStore.MOUNT_PATH
                )
            )
            destination: pulumi.Input[str] = store.artifacts_destination
        else:
            destination = args.artifacts_destination  # type: ignore[assignment]

        use_proxy = args.backend.connection_name is not None and args.backend.private_ip
        db_host: pulumi.Input[str] = "127.0.0.1" if use_proxy else args.backend.host
        # ConfigMap and Secret are auto-named (name-<suffix>): a change creates a new object, the
        # pod template then points at the new name and the Deployment rolls. With a fixed name the
        # object would be replaced in place and running pods would keep the old values.
        self.config_map = k8s.core.v1.ConfigMap(
            name,
            metadata=kube.metadata(None, ns, labels),
            data={
                ENV_ARTIFACTS_DESTINATION: destination,
                ENV_ALLOWED_HOSTS: ",".join(
                    allowed_hosts(args.host, name, args.namespace, args.extra_allowed_hosts)
                ),
                ENV_WORKERS: str(args.workers),
                # Where the database is, for people debugging; the credentials are in the Secret.
                "TRACKING_DATABASE_HOST": db_host,
                "TRACKING_DATABASE_NAME": args.backend.database,
                "HOME": "/tmp",
            },
            opts=in_ns,
        )
        self.secret = k8s.core.v1.Secret(
            name,
            metadata=kube.metadata(None, ns, labels),
            type="Opaque",
            string_data={"backend-store-uri": backend_store_uri(args.backend, db_host)},
            opts=in_ns,
        )

        env_from = [
            k8s.core.v1.EnvFromSourceArgs(
                config_map_ref=k8s.core.v1.ConfigMapEnvSourceArgs(
                    name=self.config_map.metadata.name
                )
            )
        ]
        env = [
            kube.secret_env(ENV_BACKEND_STORE_URI, self.secret.metadata.name, "backend-store-uri")
        ]
        res = args.resources
        init_containers = []
        if use_proxy:
            assert args.backend.connection_name is not None
            init_containers.append(
                _cloud_sql_proxy(args.cloud_sql_proxy_image, args.backend.connection_name)
            )
        init_containers.append(
            k8s.core.v1.ContainerArgs(
                name="db-migrate",
                image=args.image,
                image_pull_policy="Always",
                command=["mlflow"],
                args=migration_args(),
                env_from=env_from,
                env=env,
                resources=kube.resources(
                    res.cpu_request, res.memory_request, res.cpu_limit, res.memory_limit
                ),
                security_context=kube.container_security_context(UID),
                volume_mounts=[mounts[0]],
            )
        )
        server = k8s.core.v1.ContainerArgs(
            name="mlflow",
            image=args.image,
            image_pull_policy="Always",
            command=["mlflow"],
            args=server_args(),
            ports=[k8s.core.v1.ContainerPortArgs(name="http", container_port=PORT)],
            env_from=env_from,
            env=env,
            resources=kube.resources(
                res.cpu_request, res.memory_request, res.cpu_limit, res.memory_limit
            ),
            security_context=kube.container_security_context(UID),
            startup_probe=kube.http_probe(HEALTH_PATH, "http", period=5, failure_threshold=60),
            readiness_probe=kube.http_probe(HEALTH_PATH, "http", period=10, failure_threshold=3),
            liveness_probe=kube.http_probe(HEALTH_PATH, "http", period=20, failure_threshold=3),
            volume_mounts=mounts,
        )
        highly_available = args.replicas > 1
        self.deployment = k8s.apps.v1.Deployment(
            name,
            metadata=kube.metadata(name, ns, labels),
            spec=k8s.apps.v1.DeploymentSpecArgs(
                replicas=args.replicas,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels),
                strategy=k8s.apps.v1.DeploymentStrategyArgs(
                    type="RollingUpdate" if args.artifact_volume is None else "Recreate",
                    rolling_update=(
                        k8s.apps.v1.RollingUpdateDeploymentArgs(max_unavailable=0, max_surge=1)
                        if args.artifact_volume is None
                        else None
                    ),
                ),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels),
                    spec=k8s.core.v1.PodSpecArgs(
                        service_account_name=self.service_account.metadata.name,
                        automount_service_account_token=False,
                        security_context=kube.pod_security_context(UID),
                        init_containers=init_containers,
                        containers=[server],
                        volumes=volumes,
                        topology_spread_constraints=(
                            [
                                k8s.core.v1.TopologySpreadConstraintArgs(
                                    max_skew=1,
                                    topology_key="topology.kubernetes.io/zone",
                                    when_unsatisfiable="ScheduleAnyway",
                                    label_selector=k8s.meta.v1.LabelSelectorArgs(
                                        match_labels=labels
                                    ),
                                )
                            ]
                            if highly_available
                            else None
                        ),
                    ),
                ),
            ),
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[self.namespace],
                # The HPA owns the replica count once it exists.
                ignore_changes=["spec.replicas"] if highly_available else None,
            ),
        )
        self.service = k8s.core.v1.Service(
            name,
            metadata=kube.metadata(name, ns, labels),
            spec=k8s.core.v1.ServiceSpecArgs(
                type="ClusterIP",
                selector=labels,
                ports=[k8s.core.v1.ServicePortArgs(name="http", port=80, target_port="http")],
            ),
            opts=in_ns,
        )
        self.ingress = k8s.networking.v1.Ingress(
            name,
            metadata=kube.metadata(
                name,
                ns,
                labels,
                {
                    "nginx.ingress.kubernetes.io/proxy-body-size": args.proxy_body_size,
                    "nginx.ingress.kubernetes.io/proxy-read-timeout": "600",
                },
            ),
            spec=k8s.networking.v1.IngressSpecArgs(
                ingress_class_name=args.ingress_class,
                tls=(
                    [
                        k8s.networking.v1.IngressTLSArgs(
                            hosts=[args.host], secret_name=args.tls_secret
                        )
                    ]
                    if args.tls_secret
                    else None
                ),
                rules=[
                    k8s.networking.v1.IngressRuleArgs(
                        host=args.host,
                        http=k8s.networking.v1.HTTPIngressRuleValueArgs(
                            paths=[
                                k8s.networking.v1.HTTPIngressPathArgs(
                                    path="/",
                                    path_type="Prefix",
                                    backend=k8s.networking.v1.IngressBackendArgs(
                                        service=k8s.networking.v1.IngressServiceBackendArgs(
                                            name=self.service.metadata.name,
                                            port=k8s.networking.v1.ServiceBackendPortArgs(
                                                name="http"
                                            ),
                                        )
                                    ),
                                )
                            ]
                        ),
                    )
                ],
            ),
            opts=in_ns,
        )
        kube.allow_ingress_only_from(name, ns, labels, args.ingress_namespace, PORT, in_ns)
        if highly_available:
            self._add_high_availability(name, ns, labels, args, in_ns)
        scheme = "https" if args.tls_secret else "http"
        self.url = pulumi.Output.from_input(f"{scheme}://{args.host}")
        self.namespace_name = ns
        self.register_outputs({"url": self.url, "namespace": ns})

    def _add_high_availability(
        self,
        name: str,
        ns: pulumi.Output[str],
        labels: dict[str, str],
        args: MlflowServerArgs,
        opts: pulumi.ResourceOptions,
    ) -> None:
        self.pdb = k8s.policy.v1.PodDisruptionBudget(
            name,
            metadata=kube.metadata(name, ns, labels),
            spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(
                min_available=1,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels),
            ),
            opts=opts,
        )
        self.hpa = k8s.autoscaling.v2.HorizontalPodAutoscaler(
            name,
            metadata=kube.metadata(name, ns, labels),
            spec=k8s.autoscaling.v2.HorizontalPodAutoscalerSpecArgs(
                scale_target_ref=k8s.autoscaling.v2.CrossVersionObjectReferenceArgs(
                    api_version="apps/v1",
                    kind="Deployment",
                    name=self.deployment.metadata.name,
                ),
                min_replicas=args.replicas,
                max_replicas=args.max_replicas,
                metrics=[
                    k8s.autoscaling.v2.MetricSpecArgs(
                        type="Resource",
                        resource=k8s.autoscaling.v2.ResourceMetricSourceArgs(
                            name="cpu",
                            target=k8s.autoscaling.v2.MetricTargetArgs(
                                type="Utilization",
                                average_utilization=args.target_cpu_utilization,
                            ),
                        ),
                    )
                ],
            ),
            opts=opts,
        )


def _cloud_sql_proxy(image: str, connection_name: pulumi.Input[str]) -> k8s.core.v1.ContainerArgs:
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
        resources=kube.resources("50m", "64Mi", "500m", "256Mi"),
        security_context=kube.container_security_context(65532),
        startup_probe=kube.http_probe("/startup", "proxy-health", period=2, failure_threshold=30),
        liveness_probe=kube.http_probe("/liveness", "proxy-health", period=20, failure_threshold=3),
        readiness_probe=kube.http_probe(
            "/readiness", "proxy-health", period=10, failure_threshold=3
        ),
    )
