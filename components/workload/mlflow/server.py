"""The MLflow tracking server workload.

Non-secret settings live in a ConfigMap, the backend store URI (it carries the password) in a
Secret, read into the environment of the containers that use it: no password is ever written
into a ConfigMap, a pod spec or a process's command line.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.shared import kube
from components.shared.base import Component
from components.shared.passwords import generated_password
from components.stores.storage import VolumeArtifactStore, VolumeArtifactStoreArgs
from components.workload import metrics
from components.workload.mlflow import garbage_collector, migration
from components.workload.mlflow.auth import (
    ADMIN_PASSWORD_KEY,
    AUTH_CONFIG_FILE,
    FLASK_SECRET_KEY,
    AuthSecret,
    auth_ini,
)
from components.workload.mlflow.containers import (
    ContainerEnvironment,
    backend_store_uri,
    tracking_settings,
)
from components.workload.mlflow.pod import (
    PodParts,
    autoscaler_spec,
    deployment_spec,
    ingress_annotations,
    migration_template,
)
from components.workload.mlflow.server_args import PORT, MlflowServerArgs


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

    token_module = "mlflow"  # the file was components/mlflow.py until v0.2

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
        # Only the ingress controller gets in (the garbage collector never calls the server).
        kube.allow_ingress_only_from(name, ns, labels, args.ingress_namespace, PORT, scope.opts)
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
        garbage_collector.no_ingress(scope.name, scope.namespace, scope.opts)
        return k8s.batch.v1.CronJob(
            f"{scope.name}-gc",
            metadata=kube.metadata(
                f"{scope.name}-gc", scope.namespace, garbage_collector.GC_LABELS
            ),
            spec=garbage_collector.garbage_collection_spec(args, parts, scope.labels),
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
