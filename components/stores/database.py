"""MLflow's backend store: Cloud SQL for PostgreSQL, or PostgreSQL inside the cluster."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.config import (
    AuthorizedNetwork,
    BackupConfig,
    CloudSqlConfig,
    InClusterPostgresConfig,
    MlflowConfig,
    default_of,
    defaults_from,
)
from components.shared import kube
from components.shared.base import Component

__all__ = [
    "AuthorizedNetwork",
    "CloudSqlPostgres",
    "CloudSqlPostgresArgs",
    "DatabaseEndpoint",
    "InClusterPostgres",
    "InClusterPostgresArgs",
]


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

    @classmethod
    def on_postgres_port(
        cls,
        host: pulumi.Output[str],
        database: str,
        user: str,
        password: random.RandomPassword,
        sslmode: str,
        **cloud_sql: Any,
    ) -> DatabaseEndpoint:
        """PostgreSQL's own port, and the generated password wrapped as a secret."""
        return cls(
            host=host,
            port=POSTGRES_PORT,
            database=database,
            user=user,
            password=pulumi.Output.secret(password.result),
            sslmode=sslmode,
            **cloud_sql,
        )


POSTGRES_PORT = 5432


def generated_password(name: str, rotation: str, parent: pulumi.Resource) -> random.RandomPassword:
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


_sql = defaults_from(CloudSqlConfig)


# Without a stack's word, the safe (prod) choices.
_backups = defaults_from(BackupConfig, "prod")


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
    database_version: str = _sql("database_version")
    edition: str = _sql("edition")
    disk_size_gb: int = _sql("disk_size_gb")
    backups_enabled: bool = _backups("enabled")
    point_in_time_recovery: bool = _backups("point_in_time_recovery")
    retained_backups: int = _backups("retained_backups")
    transaction_log_retention_days: int = _backups("transaction_log_retention_days")
    backup_start_time: str = _backups("start_time")
    database: str = _sql("database")
    user: str = _sql("user")
    password_rotation: str = _sql("password_rotation")
    labels: dict[str, str] = field(default_factory=dict)
    # Databases besides `database` (basic auth's user store).
    extra_databases: list[str] = field(default_factory=list)
    # Adopt this existing instance (Pulumi import) instead of creating a new one. An adopted
    # instance holds someone's data: it is always protected and keeps its database and users.
    import_instance: str | None = None

    @property
    def protected(self) -> bool:
        return self.deletion_protection or self.import_instance is not None


def instance_settings(args: CloudSqlPostgresArgs) -> gcp.sql.DatabaseInstanceSettingsArgs:
    """Tier, HA, disk, TLS-only networking, backups and maintenance of the instance."""
    return gcp.sql.DatabaseInstanceSettingsArgs(
        tier=args.tier,
        edition=args.edition,
        availability_type=args.availability_type,
        disk_type="PD_SSD",
        disk_size=args.disk_size_gb,
        disk_autoresize=True,
        deletion_protection_enabled=args.deletion_protection,
        user_labels=args.labels,
        backup_configuration=backup_configuration(args),
        ip_configuration=ip_configuration(args),
        insights_config=gcp.sql.DatabaseInstanceSettingsInsightsConfigArgs(
            query_insights_enabled=True
        ),
        maintenance_window=gcp.sql.DatabaseInstanceSettingsMaintenanceWindowArgs(day=7, hour=4),
    )


def backup_configuration(
    args: CloudSqlPostgresArgs,
) -> gcp.sql.DatabaseInstanceSettingsBackupConfigurationArgs:
    return gcp.sql.DatabaseInstanceSettingsBackupConfigurationArgs(
        enabled=args.backups_enabled,
        point_in_time_recovery_enabled=args.point_in_time_recovery,
        start_time=args.backup_start_time,
        transaction_log_retention_days=args.transaction_log_retention_days,
        backup_retention_settings=gcp.sql.DatabaseInstanceSettingsBackupConfigurationBackupRetentionSettingsArgs(
            retained_backups=args.retained_backups, retention_unit="COUNT"
        ),
    )


def ip_configuration(
    args: CloudSqlPostgresArgs,
) -> gcp.sql.DatabaseInstanceSettingsIpConfigurationArgs:
    return gcp.sql.DatabaseInstanceSettingsIpConfigurationArgs(
        ipv4_enabled=not args.private_ip,
        private_network=args.network_id if args.private_ip else None,
        ssl_mode="ENCRYPTED_ONLY",
        authorized_networks=[
            gcp.sql.DatabaseInstanceSettingsIpConfigurationAuthorizedNetworkArgs(
                name=n.name, value=n.cidr
            )
            for n in args.authorized_networks
        ],
    )


class CloudSqlPostgres(Component):
    """A Cloud SQL for PostgreSQL instance with MLflow's database and user.

    Private IP uses private services access (a reserved range peered with Google's network);
    public IP accepts only the authorized networks. Either way MLflow connects through the
    Cloud SQL Auth Proxy, which authenticates with IAM and verifies the instance.
    """

    connection_name: pulumi.Output[str]
    """`project:region:instance`, what the Cloud SQL Auth Proxy connects to."""
    host: pulumi.Output[str]
    """The instance's private or public IP address."""

    def __init__(
        self, name: str, args: CloudSqlPostgresArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, opts)
        if args.private_ip and args.network_id is None:
            raise ValueError("CloudSqlPostgresArgs.private_ip needs network_id")
        peering = self._private_services_access(name, args) if args.private_ip else None
        self.instance = self._instance(name, args, peering)
        database = self._database(f"{name}-database", args.database, args)
        for extra in args.extra_databases:
            self._database(f"{name}-{extra}", extra, args)
        password = generated_password(name, args.password_rotation, self)
        self.user = gcp.sql.User(
            f"{name}-user",
            project=args.project,
            instance=self.instance.name,
            name=args.user,
            password=password.result,
            # Once MLflow has migrated, the role owns its tables and PostgreSQL refuses to drop
            # it ("role ... cannot be dropped because some objects depend on it"), which stopped
            # `pulumi destroy` here. Abandoned, the user goes with the instance (or, on an adopted
            # instance, stays with its tables).
            deletion_policy="ABANDON",
            opts=pulumi.ResourceOptions(parent=self, depends_on=[database]),
        )
        self.connection_name = self.instance.connection_name
        self.host = (
            self.instance.private_ip_address if args.private_ip else self.instance.public_ip_address
        )
        self.endpoint = DatabaseEndpoint.on_postgres_port(
            self.host,
            args.database,
            args.user,
            password,
            # Both: MLflow talks to the Cloud SQL Auth Proxy on 127.0.0.1, which opens mTLS to
            # the instance and checks the instance's certificate (sslmode=require straight to
            # the public IP encrypted but verified nothing: any host could have answered).
            sslmode="disable",
            connection_name=self.connection_name,
            private_ip=args.private_ip,
        )
        self.register_declared_outputs()

    def _database(self, name: str, database: str, args: CloudSqlPostgresArgs) -> gcp.sql.Database:
        return gcp.sql.Database(
            name,
            project=args.project,
            instance=self.instance.name,
            name=database,
            # An adopted instance keeps its databases when the stack goes; ours go with it.
            deletion_policy="ABANDON" if args.import_instance else None,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _private_services_access(
        self, name: str, args: CloudSqlPostgresArgs
    ) -> gcp.servicenetworking.Connection:
        child = pulumi.ResourceOptions(parent=self)
        reserved = gcp.compute.GlobalAddress(
            f"{name}-psa-range",
            project=args.project,
            purpose="VPC_PEERING",
            address_type="INTERNAL",
            prefix_length=16,
            network=args.network_id,
            opts=child,
        )
        return gcp.servicenetworking.Connection(
            f"{name}-psa",
            network=args.network_id,
            service="servicenetworking.googleapis.com",
            reserved_peering_ranges=[reserved.name],
            # Deleting the peering while Cloud SQL still holds addresses fails; abandon it.
            deletion_policy="ABANDON",
            opts=child,
        )

    def _instance(
        self,
        name: str,
        args: CloudSqlPostgresArgs,
        peering: gcp.servicenetworking.Connection | None,
    ) -> gcp.sql.DatabaseInstance:
        return gcp.sql.DatabaseInstance(
            name,
            name=args.import_instance,  # None: Pulumi picks a unique name
            project=args.project,
            region=args.region,
            database_version=args.database_version,
            deletion_protection=args.deletion_protection,
            settings=instance_settings(args),
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[peering] if peering else [],
                protect=args.protected,
                import_=(
                    f"projects/{args.project}/instances/{args.import_instance}"
                    if args.import_instance
                    else None
                ),
            ),
        )


# --- in-cluster PostgreSQL --------------------------------------------------------------------


_pg = defaults_from(InClusterPostgresConfig)


@dataclass(frozen=True)
class InClusterPostgresArgs:
    namespace: str = f"{default_of(MlflowConfig, 'namespace')}-db"
    # The only namespace whose pods may connect to the database.
    client_namespace: str = default_of(MlflowConfig, "namespace")
    image: str = _pg("image")
    storage_size: str = _pg("storage_size")
    storage_class: str | None = _pg("storage_class")
    database: str = _pg("database")
    user: str = _pg("user")
    password_rotation: str = _pg("password_rotation")
    # Databases besides `database`, owned by `user` (basic auth's user store).
    extra_databases: list[str] = field(default_factory=list)


# The official image runs as any UID (it provides a passwd entry through nss_wrapper);
# a high UID keeps it clear of host users.
POSTGRES_UID = 10001

# The image sets POSTGRES_PASSWORD only when it initialises an empty volume. This postStart hook
# applies the Secret's password on every start, so a rotation (new Secret -> new pod) takes effect,
# and creates the further databases the platform needs (basic auth's user store) if missing.
# It connects over the pod-local Unix socket, which the image trusts; the password travels in the
# environment, never on a command line. Retries cover the first boot's temporary server.
APPLY_PASSWORD_SCRIPT = """\
export EXTRA_DATABASES="${EXTRA_DATABASES-}"
for attempt in $(seq 30); do
  psql -X -w -q -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" <<'SQL' && exit 0
\\getenv role POSTGRES_USER
\\getenv password POSTGRES_PASSWORD
\\getenv databases EXTRA_DATABASES
ALTER ROLE :"role" PASSWORD :'password';
SELECT format('CREATE DATABASE %I OWNER %I', name, :'role')
  FROM unnest(string_to_array(:'databases', ' ')) AS name
 WHERE name <> '' AND NOT EXISTS (SELECT FROM pg_database WHERE datname = name)
\\gexec
SQL
  sleep 2
done
exit 1
"""


PGDATA_MOUNT = "/var/lib/postgresql/data"


def postgres_container(
    args: InClusterPostgresArgs, password_secret: pulumi.Input[str]
) -> k8s.core.v1.ContainerArgs:
    """The official image, read-only root, the password from the Secret and applied at start."""
    probe_command = ["pg_isready", "-U", args.user, "-d", args.database, "-h", "127.0.0.1"]
    return k8s.core.v1.ContainerArgs(
        name="postgres",
        image=args.image,
        image_pull_policy="Always",
        ports=[k8s.core.v1.ContainerPortArgs(name="postgres", container_port=POSTGRES_PORT)],
        env=[
            k8s.core.v1.EnvVarArgs(name="POSTGRES_DB", value=args.database),
            k8s.core.v1.EnvVarArgs(name="POSTGRES_USER", value=args.user),
            kube.secret_env("POSTGRES_PASSWORD", password_secret, "POSTGRES_PASSWORD"),
            k8s.core.v1.EnvVarArgs(name="PGDATA", value=f"{PGDATA_MOUNT}/pgdata"),
            k8s.core.v1.EnvVarArgs(name="EXTRA_DATABASES", value=" ".join(args.extra_databases)),
        ],
        resources=kube.resources("100m", "256Mi", "1", "512Mi"),
        security_context=kube.container_security_context(),
        lifecycle=k8s.core.v1.LifecycleArgs(
            post_start=k8s.core.v1.LifecycleHandlerArgs(
                exec_=k8s.core.v1.ExecActionArgs(command=["sh", "-c", APPLY_PASSWORD_SCRIPT])
            )
        ),
        readiness_probe=kube.exec_probe(probe_command, period=5),
        liveness_probe=kube.exec_probe(probe_command, period=20),
        volume_mounts=[
            k8s.core.v1.VolumeMountArgs(name="data", mount_path=PGDATA_MOUNT),
            k8s.core.v1.VolumeMountArgs(name="run", mount_path="/var/run/postgresql"),
            k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp"),
        ],
    )


def postgres_stateful_set_spec(
    name: str,
    args: InClusterPostgresArgs,
    labels: dict[str, str],
    password_secret: pulumi.Input[str],
) -> k8s.apps.v1.StatefulSetSpecArgs:
    """One replica, its data on a claim from the template, scratch space in emptyDirs."""
    return k8s.apps.v1.StatefulSetSpecArgs(
        service_name=name,
        replicas=1,
        selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels),
        template=kube.pod_template(
            labels,
            POSTGRES_UID,
            [postgres_container(args, password_secret)],
            volumes=[kube.empty_dir("run"), kube.empty_dir("tmp")],
        ),
        volume_claim_templates=[
            k8s.core.v1.PersistentVolumeClaimArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(name="data", labels=labels),
                spec=kube.claim_spec(args.storage_size, args.storage_class),
            )
        ],
    )


class InClusterPostgres(Component):
    """A single PostgreSQL pod with a persistent volume, in its own namespace.

    For laptops and throwaway clusters, not for production.
    """

    host: pulumi.Output[str]
    """The Service's cluster DNS name."""

    def __init__(
        self, name: str, args: InClusterPostgresArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, opts)
        labels = kube.labels("postgres", "database")
        self.namespace = kube.namespace(name, args.namespace, labels, self)
        child = pulumi.ResourceOptions(parent=self, depends_on=[self.namespace])
        password = generated_password(name, args.password_rotation, self)
        # Auto-named: a rotated password makes a new Secret, so the pod template changes and the
        # StatefulSet restarts PostgreSQL, whose postStart hook applies the new password.
        secret = k8s.core.v1.Secret(
            f"{name}-credentials",
            metadata=kube.metadata(None, args.namespace, labels),
            type="Opaque",
            string_data={"POSTGRES_PASSWORD": password.result},
            opts=child,
        )
        service = kube.cluster_ip_service(
            name, args.namespace, labels, "postgres", POSTGRES_PORT, POSTGRES_PORT, child
        )
        self.stateful_set = k8s.apps.v1.StatefulSet(
            name,
            metadata=kube.metadata(name, args.namespace, labels),
            spec=postgres_stateful_set_spec(name, args, labels, secret.metadata.name),
            opts=child,
        )
        kube.allow_ingress_only_from(
            name, args.namespace, labels, args.client_namespace, POSTGRES_PORT, child
        )
        self.host = pulumi.Output.concat(
            service.metadata.name, ".", service.metadata.namespace, ".svc.cluster.local"
        )
        self.endpoint = DatabaseEndpoint.on_postgres_port(
            self.host,
            args.database,
            args.user,
            password,
            sslmode="disable",  # in-cluster traffic on a laptop cluster
        )
        self.register_declared_outputs()
