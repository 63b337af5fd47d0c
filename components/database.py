"""MLflow's backend store: Cloud SQL for PostgreSQL, or PostgreSQL inside the cluster."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s
import pulumi_random as random

from components import kube, versions


@dataclass(frozen=True)
class DatabaseEndpoint:
    """How MLflow reaches its database; `password` is always a Pulumi secret."""

    host: pulumi.Output[str]
    port: int
    database: str
    user: str
    password: pulumi.Output[str]
    sslmode: str
    # Set for Cloud SQL: the Auth Proxy sidecar connects by instance connection name.
    connection_name: pulumi.Output[str] | None = None
    private_ip: bool = False


def _password(name: str, rotation: str, parent: pulumi.Resource) -> random.RandomPassword:
    # Alphanumeric only: the password is embedded in a SQLAlchemy URI. 32 characters of
    # [A-Za-z0-9] carry ~190 bits. Changing `rotation` replaces it (Day-2 password rotation).
    return random.RandomPassword(
        f"{name}-password",
        length=32,
        special=False,
        keepers={"rotation": rotation},
        opts=pulumi.ResourceOptions(parent=parent),
    )


# --- Cloud SQL --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuthorizedNetwork:
    name: str
    cidr: str


@dataclass(frozen=True)
class CloudSqlPostgresArgs:
    project: str
    region: str
    tier: str
    availability_type: Literal["ZONAL", "REGIONAL"]
    deletion_protection: bool
    private_ip: bool
    network_id: pulumi.Input[str] | None = None
    authorized_networks: list[AuthorizedNetwork] = field(default_factory=list)
    database_version: str = versions.CLOUD_SQL_DATABASE_VERSION
    edition: str = "ENTERPRISE"
    disk_size_gb: int = 10
    backups_enabled: bool = True
    point_in_time_recovery: bool = True
    retained_backups: int = 7
    transaction_log_retention_days: int = 7
    backup_start_time: str = "03:00"
    database: str = "mlflow"
    user: str = "mlflow"
    password_rotation: str = "1"
    labels: dict[str, str] = field(default_factory=dict)
    # Adopt this existing instance (Pulumi import) instead of creating a new one.
    import_instance: str | None = None


class CloudSqlPostgres(pulumi.ComponentResource):
    """A Cloud SQL for PostgreSQL instance with MLflow's database and user.

    Private IP uses private services access (a reserved range peered with Google's network);
    public IP accepts only the authorized networks. TLS is required either way.
    """

    def __init__(
        self, name: str, args: CloudSqlPostgresArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlflow-platform:database:CloudSqlPostgres", name, None, opts)
        if args.private_ip and args.network_id is None:
            raise ValueError("CloudSqlPostgresArgs.private_ip needs network_id")
        child = pulumi.ResourceOptions(parent=self)
        depends_on: list[pulumi.Resource] = []
        if args.private_ip:
            reserved = gcp.compute.GlobalAddress(
                f"{name}-psa-range",
                project=args.project,
                purpose="VPC_PEERING",
                address_type="INTERNAL",
                prefix_length=16,
                network=args.network_id,
                opts=child,
            )
            peering = gcp.servicenetworking.Connection(
                f"{name}-psa",
                network=args.network_id,
                service="servicenetworking.googleapis.com",
                reserved_peering_ranges=[reserved.name],
                # Deleting the peering while Cloud SQL still holds addresses fails; abandon it.
                deletion_policy="ABANDON",
                opts=child,
            )
            depends_on.append(peering)

        self.instance = gcp.sql.DatabaseInstance(
            name,
            name=args.import_instance,  # None: Pulumi picks a unique name
            project=args.project,
            region=args.region,
            database_version=args.database_version,
            deletion_protection=args.deletion_protection,
            settings=gcp.sql.DatabaseInstanceSettingsArgs(
                tier=args.tier,
                edition=args.edition,
                availability_type=args.availability_type,
                disk_type="PD_SSD",
                disk_size=args.disk_size_gb,
                disk_autoresize=True,
                deletion_protection_enabled=args.deletion_protection,
                user_labels=args.labels,
                backup_configuration=gcp.sql.DatabaseInstanceSettingsBackupConfigurationArgs(
                    enabled=args.backups_enabled,
                    point_in_time_recovery_enabled=args.point_in_time_recovery,
                    start_time=args.backup_start_time,
                    transaction_log_retention_days=args.transaction_log_retention_days,
                    backup_retention_settings=gcp.sql.DatabaseInstanceSettingsBackupConfigurationBackupRetentionSettingsArgs(
                        retained_backups=args.retained_backups, retention_unit="COUNT"
                    ),
                ),
                ip_configuration=gcp.sql.DatabaseInstanceSettingsIpConfigurationArgs(
                    ipv4_enabled=not args.private_ip,
                    private_network=args.network_id if args.private_ip else None,
                    ssl_mode="ENCRYPTED_ONLY",
                    authorized_networks=[
                        gcp.sql.DatabaseInstanceSettingsIpConfigurationAuthorizedNetworkArgs(
                            name=n.name, value=n.cidr
                        )
                        for n in args.authorized_networks
                    ],
                ),
                insights_config=gcp.sql.DatabaseInstanceSettingsInsightsConfigArgs(
                    query_insights_enabled=True
                ),
                maintenance_window=gcp.sql.DatabaseInstanceSettingsMaintenanceWindowArgs(
                    day=7, hour=4
                ),
            ),
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=depends_on,
                protect=args.deletion_protection,
                import_=(
                    f"projects/{args.project}/instances/{args.import_instance}"
                    if args.import_instance
                    else None
                ),
            ),
        )
        database = gcp.sql.Database(
            f"{name}-database",
            project=args.project,
            instance=self.instance.name,
            name=args.database,
            opts=child,
        )
        password = _password(name, args.password_rotation, self)
        self.user = gcp.sql.User(
            f"{name}-user",
            project=args.project,
            instance=self.instance.name,
            name=args.user,
            password=password.result,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[database]),
        )
        host = (
            self.instance.private_ip_address if args.private_ip else self.instance.public_ip_address
        )
        self.endpoint = DatabaseEndpoint(
            host=host,
            port=5432,
            database=args.database,
            user=args.user,
            password=pulumi.Output.secret(password.result),
            # Public IP: TLS straight to the instance. Private IP: the Auth Proxy encrypts.
            sslmode="disable" if args.private_ip else "require",
            connection_name=self.instance.connection_name,
            private_ip=args.private_ip,
        )
        self.connection_name = self.instance.connection_name
        self.register_outputs({"connection_name": self.connection_name, "host": host})


# --- in-cluster PostgreSQL --------------------------------------------------------------------


@dataclass(frozen=True)
class InClusterPostgresArgs:
    namespace: str = "mlflow-db"
    # The only namespace whose pods may connect to the database.
    client_namespace: str = "mlflow"
    image: str = versions.POSTGRES_IMAGE
    storage_size: str = "5Gi"
    storage_class: str | None = None
    database: str = "mlflow"
    user: str = "mlflow"
    password_rotation: str = "1"


# The official image runs as any UID (it provides a passwd entry through nss_wrapper);
# a high UID keeps it clear of host users.
POSTGRES_UID = 10001

# The image sets POSTGRES_PASSWORD only when it initialises an empty volume. This postStart hook
# applies the Secret's password on every start, so a rotation (new Secret -> new pod) takes effect.
# It connects over the pod-local Unix socket, which the image trusts; the password travels in the
# environment, never on a command line. Retries cover the first boot's temporary server.
APPLY_PASSWORD_SCRIPT = """\
for attempt in $(seq 30); do
  psql -X -w -q -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" <<'SQL' && exit 0
\\getenv role POSTGRES_USER
\\getenv password POSTGRES_PASSWORD
ALTER ROLE :"role" PASSWORD :'password';
SQL
  sleep 2
done
exit 1
"""


class InClusterPostgres(pulumi.ComponentResource):
    """A single PostgreSQL pod with a persistent volume, in its own namespace.

    For laptops and throwaway clusters, not for production.
    """

    def __init__(
        self, name: str, args: InClusterPostgresArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlflow-platform:database:InClusterPostgres", name, None, opts)
        labels = kube.labels("postgres", "database")
        self.namespace = kube.namespace(name, args.namespace, labels, self)
        child = pulumi.ResourceOptions(parent=self, depends_on=[self.namespace])
        password = _password(name, args.password_rotation, self)
        # Auto-named: a rotated password makes a new Secret, so the pod template changes and the
        # StatefulSet restarts PostgreSQL, whose postStart hook applies the new password.
        secret = k8s.core.v1.Secret(
            f"{name}-credentials",
            metadata=kube.metadata(None, args.namespace, labels),
            type="Opaque",
            string_data={"POSTGRES_PASSWORD": password.result},
            opts=child,
        )
        service = k8s.core.v1.Service(
            name,
            metadata=k8s.meta.v1.ObjectMetaArgs(name=name, namespace=args.namespace, labels=labels),
            spec=k8s.core.v1.ServiceSpecArgs(
                type="ClusterIP",
                selector=labels,
                ports=[k8s.core.v1.ServicePortArgs(name="postgres", port=5432, target_port=5432)],
            ),
            opts=child,
        )
        probe_command = ["pg_isready", "-U", args.user, "-d", args.database, "-h", "127.0.0.1"]
        self.stateful_set = k8s.apps.v1.StatefulSet(
            name,
            metadata=k8s.meta.v1.ObjectMetaArgs(name=name, namespace=args.namespace, labels=labels),
            spec=k8s.apps.v1.StatefulSetSpecArgs(
                service_name=name,
                replicas=1,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels),
                    spec=k8s.core.v1.PodSpecArgs(
                        automount_service_account_token=False,
                        security_context=kube.pod_security_context(POSTGRES_UID),
                        containers=[
                            k8s.core.v1.ContainerArgs(
                                name="postgres",
                                image=args.image,
                                image_pull_policy="Always",
                                ports=[
                                    k8s.core.v1.ContainerPortArgs(
                                        name="postgres", container_port=5432
                                    )
                                ],
                                env=[
                                    k8s.core.v1.EnvVarArgs(name="POSTGRES_DB", value=args.database),
                                    k8s.core.v1.EnvVarArgs(name="POSTGRES_USER", value=args.user),
                                    kube.secret_env(
                                        "POSTGRES_PASSWORD",
                                        secret.metadata.name,
                                        "POSTGRES_PASSWORD",
                                    ),
                                    k8s.core.v1.EnvVarArgs(
                                        name="PGDATA", value="/var/lib/postgresql/data/pgdata"
                                    ),
                                ],
                                resources=kube.resources("100m", "256Mi", "1", "512Mi"),
                                security_context=kube.container_security_context(),
                                lifecycle=k8s.core.v1.LifecycleArgs(
                                    post_start=k8s.core.v1.LifecycleHandlerArgs(
                                        exec_=k8s.core.v1.ExecActionArgs(
                                            command=["sh", "-c", APPLY_PASSWORD_SCRIPT]
                                        )
                                    )
                                ),
                                readiness_probe=kube.exec_probe(probe_command, period=5),
                                liveness_probe=kube.exec_probe(probe_command, period=20),
                                volume_mounts=[
                                    k8s.core.v1.VolumeMountArgs(
                                        name="data", mount_path="/var/lib/postgresql/data"
                                    ),
                                    k8s.core.v1.VolumeMountArgs(
                                        name="run", mount_path="/var/run/postgresql"
                                    ),
                                    k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp"),
                                ],
                            )
                        ],
                        volumes=[
                            kube.empty_dir("run"),
                            kube.empty_dir("tmp"),
                        ],
                    ),
                ),
                volume_claim_templates=[
                    k8s.core.v1.PersistentVolumeClaimArgs(
                        metadata=k8s.meta.v1.ObjectMetaArgs(name="data", labels=labels),
                        spec=kube.claim_spec(args.storage_size, args.storage_class),
                    )
                ],
            ),
            opts=child,
        )
        kube.allow_ingress_only_from(
            name, args.namespace, labels, args.client_namespace, 5432, child
        )
        self.endpoint = DatabaseEndpoint(
            host=pulumi.Output.concat(
                service.metadata.name, ".", service.metadata.namespace, ".svc.cluster.local"
            ),
            port=5432,
            database=args.database,
            user=args.user,
            password=pulumi.Output.secret(password.result),
            sslmode="disable",  # in-cluster traffic on a laptop cluster
        )
        self.register_outputs({"host": self.endpoint.host})
