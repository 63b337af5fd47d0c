"""The whole platform for one stack, composed from its validated config.

Cluster, database and artifact store only depend on the project's APIs (and the VPC), never on
each other, so the engine creates them in parallel; the MLflow workload waits for all of them.
"""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from components import config as c
from components.cluster import (
    AuthorizedNetworkArgs,
    ExistingCluster,
    ExistingClusterArgs,
    GkeCluster,
    GkeClusterArgs,
    GkeNodePoolArgs,
    KubernetesCluster,
    MinikubeCluster,
    MinikubeClusterArgs,
)
from components.database import (
    AuthorizedNetwork,
    CloudSqlPostgres,
    CloudSqlPostgresArgs,
    DatabaseEndpoint,
    InClusterPostgres,
    InClusterPostgresArgs,
)
from components.identity import WorkloadIdentity, WorkloadIdentityArgs
from components.ingress import IngressController, IngressControllerArgs
from components.mlflow import ArtifactVolume, ContainerResources, MlflowServer, MlflowServerArgs
from components.network import Network, NetworkArgs, ProjectServices
from components.storage import GcsArtifactStore, GcsArtifactStoreArgs


def _after(
    opts: pulumi.ResourceOptions | None, depends_on: list[pulumi.Resource]
) -> pulumi.ResourceOptions:
    """`opts`, plus an explicit ordering on `depends_on`."""
    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=depends_on))


class Platform(pulumi.ComponentResource):
    """MLflow on Kubernetes: cluster, backend store, artifact store, ingress, tracking server."""

    def __init__(
        self,
        name: str,
        cfg: c.PlatformConfig,
        stack: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlflow-platform:platform:Platform", name, None, opts)
        self.cfg = cfg
        self.stack = stack
        self.labels: dict[str, str] = {}
        self.database: pulumi.Resource
        gcp_opts = self._gcp_options(name)
        network = self._network(name, gcp_opts)
        self.cluster = self._cluster(name, gcp_opts, network)
        k8s_opts = pulumi.ResourceOptions(
            parent=self, providers={"kubernetes": self.cluster.provider}
        )
        database = self._database(name, gcp_opts, k8s_opts, network)
        bucket = self._bucket(name, gcp_opts)
        identity = self._identity(name, bucket, gcp_opts)
        needs: list[pulumi.Resource] = [r for r in (self.database, bucket, identity) if r]

        if cfg.ingress.enabled:
            ingress = IngressController(
                f"{name}-ingress",
                IngressControllerArgs(
                    service_type=cfg.ingress_service_type,
                    namespace=cfg.ingress.namespace,
                    chart_repository=cfg.ingress.chart.repository,
                    chart_name=cfg.ingress.chart.name,
                    chart_version=cfg.ingress.chart.version,
                    chart_path=cfg.ingress.chart.path,
                    http_node_port=cfg.ingress.http_node_port,
                    proxy_body_size=cfg.ingress.proxy_body_size,
                    replicas=cfg.ingress.replicas,
                    values=cfg.ingress.values,
                ),
                opts=k8s_opts,
            )
            needs.append(ingress)

        m = cfg.mlflow
        self.mlflow = MlflowServer(
            "mlflow",
            MlflowServerArgs(
                host=m.host,
                backend=database,
                artifacts_destination=bucket.artifacts_destination if bucket else None,
                artifact_volume=(
                    ArtifactVolume(cfg.artifacts.size, cfg.artifacts.storage_class)
                    if isinstance(cfg.artifacts, c.VolumeArtifactsConfig)
                    else None
                ),
                namespace=m.namespace,
                image=m.effective_image,
                replicas=m.replicas,
                max_replicas=m.effective_max_replicas,
                target_cpu_utilization=m.target_cpu_utilization,
                workers=m.workers,
                resources=ContainerResources(**m.resources.model_dump()),
                ingress_namespace=cfg.ingress.namespace,
                proxy_body_size=cfg.ingress.proxy_body_size,
                tls_secret=m.tls_secret,
                extra_allowed_hosts=m.allowed_hosts,
                google_service_account=identity.email if identity else None,
            ),
            opts=_after(k8s_opts, needs),
        )

        self.kubeconfig = self.cluster.kubeconfig
        self.namespace = self.mlflow.namespace_name
        self.url = self._url()
        self.database_address: pulumi.Output[str] = (
            database.connection_name if database.connection_name is not None else database.host
        )
        self.artifact_store = (
            bucket.bucket_url if bucket else pulumi.Output.from_input("pvc:mlflow-artifacts")
        )
        self.register_outputs(
            {
                "url": self.url,
                "namespace": self.namespace,
                "database": self.database_address,
                "artifact_store": self.artifact_store,
            }
        )

    # --- the pieces -----------------------------------------------------------------------

    def _gcp_options(self, name: str) -> pulumi.ResourceOptions | None:
        if not self.cfg.uses_gcp:
            return None
        assert self.cfg.gcp is not None  # validated in components.config
        g = self.cfg.gcp
        self.labels = {"app": "mlflow", "environment": self.cfg.environment, **g.labels}
        provider = gcp.Provider(
            f"{name}-gcp",
            project=g.project,
            region=g.region,
            default_labels=self.labels,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.apis = ProjectServices(
            f"{name}-apis", g.project, opts=pulumi.ResourceOptions(parent=self, provider=provider)
        )
        return pulumi.ResourceOptions(
            parent=self, providers={"gcp": provider}, depends_on=[self.apis]
        )

    def _network(self, name: str, gcp_opts: pulumi.ResourceOptions | None) -> Network | None:
        n, g = self.cfg.network, self.cfg.gcp
        if n is None or g is None:
            return None
        return Network(
            f"{name}-network",
            NetworkArgs(
                project=g.project,
                region=g.region,
                name=f"{n.name}-{self.stack}" if n.create else n.name,
                subnet_cidr=n.subnet_cidr,
                pods_cidr=n.pods_cidr,
                services_cidr=n.services_cidr,
                create=n.create,
            ),
            opts=gcp_opts,
        )

    def _cluster(
        self, name: str, gcp_opts: pulumi.ResourceOptions | None, network: Network | None
    ) -> KubernetesCluster:
        cl = self.cfg.cluster
        child = pulumi.ResourceOptions(parent=self)
        if isinstance(cl, c.MinikubeClusterConfig):
            return MinikubeCluster(
                f"{name}-cluster",
                MinikubeClusterArgs(
                    profile=cl.profile,
                    kubernetes_version=cl.kubernetes_version,
                    cpus=cl.cpus,
                    memory_mb=cl.memory_mb,
                    driver=cl.driver,
                    addons=list(cl.addons),
                ),
                opts=child,
            )
        if isinstance(cl, c.ExistingClusterConfig):
            return ExistingCluster(
                f"{name}-cluster",
                ExistingClusterArgs(kubeconfig_path=cl.kubeconfig, context=cl.context),
                opts=child,
            )
        assert self.cfg.gcp is not None and network is not None  # validated in components.config
        return GkeCluster(
            f"{cl.name}-{self.stack}",
            GkeClusterArgs(
                project=self.cfg.gcp.project,
                region=self.cfg.gcp.region,
                network=network.network_id,
                subnetwork=network.subnetwork_id,
                pods_range_name=network.pods_range_name,
                services_range_name=network.services_range_name,
                kubernetes_version=cl.kubernetes_version,
                mode=cl.mode,
                release_channel=cl.release_channel,
                private_nodes=cl.private_nodes,
                master_ipv4_cidr=cl.master_ipv4_cidr,
                master_authorized_networks=[
                    AuthorizedNetworkArgs(n.name, n.cidr) for n in cl.master_authorized_networks
                ],
                deletion_protection=cl.deletion_protection,
                node_pool=GkeNodePoolArgs(**cl.node_pool.model_dump()),
                labels=self.labels,
            ),
            opts=_after(gcp_opts, [network]),
        )

    def _database(
        self,
        name: str,
        gcp_opts: pulumi.ResourceOptions | None,
        k8s_opts: pulumi.ResourceOptions,
        network: Network | None,
    ) -> DatabaseEndpoint:
        db = self.cfg.database
        if isinstance(db, c.InClusterPostgresConfig):
            postgres = InClusterPostgres(
                f"{name}-postgres",
                InClusterPostgresArgs(
                    namespace=f"{self.cfg.mlflow.namespace}-db",
                    client_namespace=self.cfg.mlflow.namespace,
                    image=db.image,
                    storage_size=db.storage_size,
                    storage_class=db.storage_class,
                    database=db.database,
                    user=db.user,
                    password_rotation=db.password_rotation,
                ),
                opts=k8s_opts,
            )
            self.database = postgres
            return postgres.endpoint
        assert self.cfg.gcp is not None  # validated in components.config
        opts = gcp_opts
        if db.private_ip and network is not None:
            opts = _after(gcp_opts, [network])
        sql = CloudSqlPostgres(
            f"{db.instance_name}-{self.stack}",
            CloudSqlPostgresArgs(
                project=self.cfg.gcp.project,
                region=self.cfg.gcp.region,
                tier=db.tier,
                availability_type=db.availability_type,
                deletion_protection=db.deletion_protection,
                private_ip=db.private_ip,
                network_id=network.network_id if (db.private_ip and network) else None,
                authorized_networks=[
                    AuthorizedNetwork(n.name, n.cidr) for n in db.authorized_networks
                ],
                database_version=db.database_version,
                edition=db.edition,
                disk_size_gb=db.disk_size_gb,
                backups_enabled=db.backups.enabled,
                point_in_time_recovery=db.backups.point_in_time_recovery,
                retained_backups=db.backups.retained_backups,
                transaction_log_retention_days=db.backups.transaction_log_retention_days,
                backup_start_time=db.backups.start_time,
                database=db.database,
                user=db.user,
                password_rotation=db.password_rotation,
                labels=self.labels,
                import_instance=db.import_instance,
            ),
            opts=opts,
        )
        self.database = sql
        return sql.endpoint

    def _bucket(
        self, name: str, gcp_opts: pulumi.ResourceOptions | None
    ) -> GcsArtifactStore | None:
        art = self.cfg.artifacts
        if not isinstance(art, c.GcsArtifactsConfig):
            return None
        assert self.cfg.gcp is not None  # validated in components.config
        g = self.cfg.gcp
        return GcsArtifactStore(
            f"{name}-artifacts",
            GcsArtifactStoreArgs(
                project=g.project,
                location=art.location or g.region.upper(),
                bucket_name=art.bucket_name or f"{g.project}-mlflow-{self.stack}",
                force_destroy=art.force_destroy,
                protect=art.protect,
                storage_class=art.storage_class,
                noncurrent_version_retention_days=art.noncurrent_version_retention_days,
                labels=self.labels,
                import_existing=art.import_existing,
            ),
            opts=gcp_opts,
        )

    def _identity(
        self, name: str, bucket: GcsArtifactStore | None, gcp_opts: pulumi.ResourceOptions | None
    ) -> WorkloadIdentity | None:
        if not isinstance(self.cluster, GkeCluster):
            return None
        assert self.cfg.gcp is not None  # validated in components.config
        return WorkloadIdentity(
            f"{name}-identity",
            WorkloadIdentityArgs(
                project=self.cfg.gcp.project,
                account_id=f"mlflow-{self.stack}"[:30],
                namespace=self.cfg.mlflow.namespace,
                kubernetes_service_account="mlflow",
                bucket_name=bucket.bucket_name if bucket else None,
                cloud_sql=isinstance(self.cfg.database, c.CloudSqlConfig),
            ),
            # The workload identity pool exists once the first WI-enabled cluster does.
            opts=_after(gcp_opts, [self.cluster]),
        )

    def _url(self) -> pulumi.Output[str]:
        if self.cfg.ingress_service_type == "NodePort":
            return pulumi.Output.concat(self.mlflow.url, ":", str(self.cfg.ingress.http_node_port))
        return self.mlflow.url

    def tracking_uri_hint(self) -> pulumi.Output[str]:
        """One line a user pastes to point the MLflow client at this stack."""
        host = self.cfg.mlflow.host
        if isinstance(self.cluster, MinikubeCluster):
            return pulumi.Output.concat(
                'echo "',
                self.cluster.node_ip.apply(str.strip),
                " ",
                host,
                '" | sudo tee -a /etc/hosts && export MLFLOW_TRACKING_URI=',
                self.url,
            )
        return pulumi.Output.concat(
            "point DNS for ",
            host,
            " at the ingress-nginx load balancer, then: export MLFLOW_TRACKING_URI=",
            self.url,
        )
