"""The whole platform for one stack, composed from its validated config.

Cluster, database and artifact store only depend on the project's APIs (and the VPC), never on
each other, so the engine creates them in parallel; the MLflow workload waits for all of them.
Each part is built by one helper that returns what it made; the constructor wires them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_command as command
import pulumi_gcp as gcp

from components import config as c
from components.config import derived, fields_except
from components.infrastructure.address import StaticAddress
from components.infrastructure.cluster import (
    ExistingCluster,
    ExistingClusterArgs,
    KubernetesCluster,
    MinikubeCluster,
    MinikubeClusterArgs,
)
from components.infrastructure.gke import GkeCluster, GkeClusterArgs, GkeNodePoolArgs
from components.infrastructure.identity import WorkloadIdentity, WorkloadIdentityArgs
from components.infrastructure.laptop_identity import (
    LaptopIdentity,
    LaptopIdentityArgs,
    credentials_file,
)
from components.infrastructure.network import Network, NetworkArgs, ProjectServices
from components.infrastructure.preview_access import PreviewAccess, PreviewAccessArgs
from components.shared.base import Component
from components.stores.cloud_sql import CloudSqlPostgres, CloudSqlPostgresArgs
from components.stores.postgres import InClusterPostgres, InClusterPostgresArgs
from components.stores.storage import GcsArtifactStore, GcsArtifactStoreArgs
from components.workload.ingress.controller import IngressController
from components.workload.ingress.controller_args import IngressControllerArgs
from components.workload.ingress.network_policies import webhook_sources
from components.workload.mlflow import migration
from components.workload.mlflow.server import MlflowServer
from infra import exposure
from infra.tracking_server import (
    Backends,
    Database,
    auth_databases,
    mlflow_server_args,
    scraping,
    tracking_uri_hint,
)


def _after(
    opts: pulumi.ResourceOptions | None, depends_on: Sequence[pulumi.Resource]
) -> pulumi.ResourceOptions:
    """`opts`, plus an explicit ordering on `depends_on`."""
    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=list(depends_on)))


@dataclass(frozen=True)
class GcpContext:
    """The project every GCP resource of the stack goes to, and the labels they all carry."""

    project: str
    region: str
    labels: dict[str, str]
    opts: pulumi.ResourceOptions


class Platform(Component):
    """MLflow on Kubernetes: cluster, backend store, artifact store, ingress, tracking server."""

    url: pulumi.Output[str]
    """The tracking server's address (with the NodePort on minikube)."""
    namespace: pulumi.Output[str]
    """The namespace MLflow runs in."""
    database_address: pulumi.Output[str]
    """Cloud SQL's connection name, or the in-cluster PostgreSQL host."""
    artifact_store: pulumi.Output[str]
    """The bucket URL, or the claim that holds the artifacts."""
    kubeconfig: pulumi.Output[str]
    """Credentials for the cluster (a secret)."""
    admin_password: pulumi.Output[str | None]
    """The MLflow admin's password with basic auth (a secret)."""
    ingress_ip: pulumi.Output[str | None]
    """The reserved address of the ingress's load balancer (GKE stacks)."""
    upgrade_backup_id: pulumi.Output[str | None]
    """The Cloud SQL backup taken before this MLflow version's migration (rollback runbook);
    none on a new instance's first `up`, which has nothing to protect."""
    ca_certificate_secret: pulumi.Output[str | None]
    """`namespace/name` of the Secret holding the cluster's own CA certificate (`ca.crt`) with
    `tls.issuer: self-signed`: what clients trust."""

    def __init__(
        self,
        name: str,
        cfg: c.PlatformConfig,
        stack: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, opts)
        self.cfg, self.stack = cfg, stack
        project = self._project(name)
        network = self._network(name, project)
        bucket = self._bucket(name, project)
        laptop = self._laptop_identity(name, project, bucket)
        self.cluster = self._cluster(name, project, network, laptop)
        k8s_opts = pulumi.ResourceOptions(
            parent=self, providers={"kubernetes": self.cluster.provider}
        )
        database = self._database(name, project, k8s_opts, network)
        identity = self._identity(name, project, bucket)
        address = self._address(name, project)
        ingress = self._ingress(name, k8s_opts, address)
        issuer = exposure.certificates(cfg, name, k8s_opts)
        # Only Ingress objects need the controller (its admission webhook checks them): the
        # rest of MLflow and the sign-in proxy are created while it installs.
        webhook: list[pulumi.Resource] = [ingress] if ingress else []
        sign_in = exposure.sign_in(cfg, name, issuer, webhook, k8s_opts)
        backup = self._upgrade_backup(name, project, database)
        self.mlflow = MlflowServer(
            "mlflow",
            mlflow_server_args(
                self.cfg, Backends(database, bucket, identity, backup), issuer, sign_in, webhook
            ),
            opts=k8s_opts,
        )
        self._preview_access(name, k8s_opts)
        self.upgrade_backup_id = (
            backup.stdout.apply(lambda out: out.strip() or None)
            if backup
            else pulumi.Output.from_input(None)
        )

        self.url = self._url()
        self.admin_password = self.mlflow.admin_password
        self.ingress_ip = address.ip if address else pulumi.Output.from_input(None)
        self.ca_certificate_secret = (
            issuer.ca_certificate_secret if issuer else pulumi.Output.from_input(None)
        )
        self.namespace = self.mlflow.namespace_name
        self.database_address = (
            database.connection_name if isinstance(database, CloudSqlPostgres) else database.host
        )
        self.artifact_store = (
            bucket.bucket_url if bucket else pulumi.Output.from_input("pvc:mlflow-artifacts")
        )
        self.kubeconfig = self.cluster.kubeconfig
        self.register_declared_outputs()

    # --- the parts ------------------------------------------------------------------------

    def _project(self, name: str) -> GcpContext | None:
        """The GCP provider and the project's APIs, which every GCP resource waits for."""
        if not self.cfg.uses_gcp:
            return None
        assert self.cfg.gcp is not None  # validated in components.config
        g = self.cfg.gcp
        labels = derived.gcp_labels(self.cfg)
        provider = gcp.Provider(
            f"{name}-gcp",
            project=g.project,
            region=g.region,
            default_labels=labels,
            opts=pulumi.ResourceOptions(parent=self),
        )
        apis = ProjectServices(
            f"{name}-apis", g.project, opts=pulumi.ResourceOptions(parent=self, provider=provider)
        )
        opts = pulumi.ResourceOptions(parent=self, providers={"gcp": provider}, depends_on=[apis])
        return GcpContext(g.project, g.region, labels, opts)

    def _network(self, name: str, project: GcpContext | None) -> Network | None:
        n = self.cfg.network
        if n is None or project is None:
            return None
        return Network(
            f"{name}-network",
            NetworkArgs(
                project=project.project,
                region=project.region,
                name=derived.network_name(self.cfg, self.stack) or n.name,
                subnet_cidr=n.subnet_cidr,
                pods_cidr=n.pods_cidr,
                services_cidr=n.services_cidr,
                create=n.create,
            ),
            opts=project.opts,
        )

    def _laptop_identity(
        self, name: str, project: GcpContext | None, bucket: GcsArtifactStore | None
    ) -> LaptopIdentity | None:
        """minikube's gcp-auth addon acts as a least-privilege service account."""
        if not derived.uses_gcp_auth(self.cfg) or project is None:
            return None
        return LaptopIdentity(
            f"{name}-laptop-identity",
            LaptopIdentityArgs(
                project=project.project,
                account_id=derived.identity_account_id(self.stack),
                credentials_file=credentials_file(self.stack),
                bucket_name=bucket.bucket_name if bucket else None,
                cloud_sql=isinstance(self.cfg.database, c.CloudSqlConfig),
            ),
            opts=project.opts,
        )

    def _cluster(
        self,
        name: str,
        project: GcpContext | None,
        network: Network | None,
        laptop: LaptopIdentity | None,
    ) -> KubernetesCluster:
        cl = self.cfg.cluster
        child = pulumi.ResourceOptions(parent=self)
        if isinstance(cl, c.MinikubeClusterConfig):
            args = MinikubeClusterArgs(
                gcp_auth_credentials=laptop.credentials_file if laptop else None,
                **fields_except(cl),
            )
            return MinikubeCluster(f"{name}-cluster", args, opts=child)
        if isinstance(cl, c.ExistingClusterConfig):
            existing = ExistingClusterArgs(kubeconfig_path=cl.kubeconfig, context=cl.context)
            return ExistingCluster(f"{name}-cluster", existing, opts=child)
        assert project is not None and network is not None  # validated in components.config
        return GkeCluster(
            derived.stacked(cl.name, self.stack),
            GkeClusterArgs(
                project=project.project,
                region=project.region,
                network=network.network_id,
                subnetwork=network.subnetwork_id,
                pods_range_name=network.pods_range_name,
                services_range_name=network.services_range_name,
                node_pool=GkeNodePoolArgs(**fields_except(cl.node_pool)),
                labels=project.labels,
                **fields_except(cl, "name", "node_pool", "preview_identity"),
            ),
            # The VPC and subnet arrive as inputs; the NAT router is not needed to create it.
            opts=project.opts,
        )

    def _preview_access(self, name: str, k8s_opts: pulumi.ResourceOptions) -> None:
        """GKE: the stack's read-only CI identity may dry-run what the program applies."""
        cl = self.cfg.cluster
        if not isinstance(cl, c.GkeClusterConfig) or cl.preview_identity is None:
            return
        PreviewAccess(
            f"{name}-preview-access",
            PreviewAccessArgs(
                identity=cl.preview_identity, secret_namespaces=[self.mlflow.namespace_name]
            ),
            opts=k8s_opts,
        )

    def _database(
        self,
        name: str,
        project: GcpContext | None,
        k8s_opts: pulumi.ResourceOptions,
        network: Network | None,
    ) -> Database:
        db = self.cfg.database
        if isinstance(db, c.InClusterPostgresConfig):
            args = InClusterPostgresArgs(
                namespace=derived.database_namespace(self.cfg),
                client_namespace=self.cfg.mlflow.namespace,
                extra_databases=auth_databases(self.cfg),
                **fields_except(db),
            )
            return InClusterPostgres(f"{name}-postgres", args, opts=k8s_opts)
        assert project is not None  # validated in components.config
        private = db.private_ip and network is not None
        return CloudSqlPostgres(
            derived.stacked(db.instance_name, self.stack),
            CloudSqlPostgresArgs(
                project=project.project,
                region=project.region,
                network_id=network.network_id if private and network else None,
                backups_enabled=db.backups.enabled,
                point_in_time_recovery=db.backups.point_in_time_recovery,
                retained_backups=db.backups.retained_backups,
                transaction_log_retention_days=db.backups.transaction_log_retention_days,
                backup_start_time=db.backups.start_time,
                labels=project.labels,
                extra_databases=auth_databases(self.cfg),
                **fields_except(db, "instance_name", "backups", "backup_before_upgrade"),
            ),
            # The peering needs the VPC (an input), not the rest of the network component.
            opts=project.opts,
        )

    def _upgrade_backup(
        self, name: str, project: GcpContext | None, database: Database
    ) -> command.local.Command | None:
        db = self.cfg.database
        if not isinstance(db, c.CloudSqlConfig) or not db.backup_before_upgrade:
            return None
        assert project is not None and isinstance(database, CloudSqlPostgres)
        return migration.cloud_sql_backup(
            name,
            project.project,
            database.instance.name,
            migration.backup_description(self.stack, self.cfg.mlflow.version),
            adopted=db.import_instance is not None,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[database]),
        )

    def _bucket(self, name: str, project: GcpContext | None) -> GcsArtifactStore | None:
        art = self.cfg.artifacts
        if not isinstance(art, c.GcsArtifactsConfig):
            return None
        assert project is not None  # validated in components.config
        return GcsArtifactStore(
            f"{name}-artifacts",
            GcsArtifactStoreArgs(
                project=project.project,
                location=art.location or project.region.upper(),
                bucket_name=derived.bucket_name(self.cfg, self.stack) or "",
                labels=project.labels,
                **fields_except(art, "location", "bucket_name"),
            ),
            opts=project.opts,
        )

    def _identity(
        self, name: str, project: GcpContext | None, bucket: GcsArtifactStore | None
    ) -> WorkloadIdentity | None:
        if not isinstance(self.cluster, GkeCluster):
            return None
        assert project is not None  # validated in components.config
        return WorkloadIdentity(
            f"{name}-identity",
            WorkloadIdentityArgs(
                project=project.project,
                account_id=derived.identity_account_id(self.stack),
                namespace=self.cfg.mlflow.namespace,
                kubernetes_service_account="mlflow",
                bucket_name=bucket.bucket_name if bucket else None,
                cloud_sql=isinstance(self.cfg.database, c.CloudSqlConfig),
            ),
            # The workload identity pool exists once the first WI-enabled cluster does.
            opts=_after(project.opts, [self.cluster]),
        )

    def _address(self, name: str, project: GcpContext | None) -> StaticAddress | None:
        if project is None:
            return None
        return exposure.static_address(
            self.cfg,
            self.stack,
            name,
            project.project,
            project.region,
            project.labels,
            project.opts,
        )

    def _ingress(
        self, name: str, k8s_opts: pulumi.ResourceOptions, address: StaticAddress | None
    ) -> IngressController | None:
        ing = self.cfg.ingress
        if not ing.enabled:
            return None
        return IngressController(
            f"{name}-ingress",
            IngressControllerArgs(
                service_type=self.cfg.ingress_service_type,
                load_balancer_ip=address.ip if address else None,
                hsts=self.cfg.tls.hsts,
                scraping=scraping(self.cfg),
                watch_namespaces=derived.served_namespaces(self.cfg),
                webhook_sources=webhook_sources(self.cfg),
                **c.chart_args(ing.chart),
                **fields_except(ing, "enabled", "chart", "service_type"),
            ),
            opts=k8s_opts,
        )

    def _url(self) -> pulumi.Output[str]:
        ingress = self.cfg.ingress
        if self.cfg.ingress_service_type == "NodePort":
            port = ingress.https_node_port if self.cfg.serves_https else ingress.http_node_port
            return pulumi.Output.concat(self.mlflow.url, ":", str(port))
        return self.mlflow.url

    def tracking_uri_hint(self) -> pulumi.Output[str]:
        """One line a user pastes to point the MLflow client at this stack."""
        return tracking_uri_hint(self.cfg, self.url, self.cluster)
