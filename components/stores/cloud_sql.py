"""Cloud SQL for PostgreSQL as MLflow's backend store: instance, database, user, backups."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_gcp as gcp

from components.config import (
    AuthorizedNetwork,
    BackupConfig,
    CloudSqlConfig,
    defaults_from,
)
from components.shared.base import Component
from components.shared.passwords import generated_password
from components.stores.database import DatabaseEndpoint

_sql = defaults_from(CloudSqlConfig)


# Without a stack's word, the safe (prod) choices.
_backups = defaults_from(BackupConfig, "prod")


@dataclass(frozen=True)
class CloudSqlPostgresArgs:
    project: str
    """The GCP project of the instance (`gcp.project`)."""
    region: str
    """The instance's region (`gcp.region`)."""
    tier: str
    """The machine tier, such as db-custom-2-7680 (`database.tier`)."""
    availability_type: Literal["ZONAL", "REGIONAL"]
    """ZONAL, or REGIONAL for a standby in a second zone (`database.availability_type`)."""
    deletion_protection: bool
    """Cloud SQL and Pulumi refuse to delete the instance (`database.deletion_protection`)."""
    private_ip: bool
    """A private IP only, peered into `network_id`, no public IP (`database.private_ip`)."""
    network_id: pulumi.Input[str] | None = None
    """The VPC a private IP is peered into (Network's `network_id`); needed with `private_ip`."""
    authorized_networks: list[AuthorizedNetwork] = field(default_factory=list)
    """Who may connect to the public IP (`database.authorized_networks`)."""
    database_version: str = _sql("database_version")
    """The PostgreSQL major version, such as POSTGRES_16 (`database.database_version`)."""
    edition: str = _sql("edition")
    """ENTERPRISE or ENTERPRISE_PLUS, which db-perf-optimized tiers need (`database.edition`)."""
    disk_size_gb: int = _sql("disk_size_gb")
    """The SSD's initial size in GB; it grows by itself (`database.disk_size_gb`)."""
    backups_enabled: bool = _backups("enabled")
    """Daily automated backups (`database.backups.enabled`)."""
    point_in_time_recovery: bool = _backups("point_in_time_recovery")
    """Write-ahead logs kept for point-in-time recovery
    (`database.backups.point_in_time_recovery`)."""
    retained_backups: int = _backups("retained_backups")
    """How many automated backups are kept (`database.backups.retained_backups`)."""
    transaction_log_retention_days: int = _backups("transaction_log_retention_days")
    """The point-in-time recovery window, in days
    (`database.backups.transaction_log_retention_days`)."""
    backup_start_time: str = _backups("start_time")
    """When the daily backup window starts, HH:MM in UTC (`database.backups.start_time`)."""
    database: str = _sql("database")
    """MLflow's database on the instance (`database.database`)."""
    user: str = _sql("user")
    """The user MLflow connects as, its password generated (`database.user`)."""
    password_rotation: str = _sql("password_rotation")
    """Any new value generates a new password for `user` (`database.password_rotation`)."""
    labels: dict[str, str] = field(default_factory=dict)
    """GCP labels on the instance (the platform's: app, environment and `gcp.labels`)."""
    extra_databases: list[str] = field(default_factory=list)
    """Databases besides `database` on the instance (basic auth's user store)."""
    import_instance: str | None = None
    """Adopt this existing instance (Pulumi import) instead of creating a new one
    (`database.import_instance`). An adopted instance holds someone's data: it is always
    protected and keeps its database and users."""

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

    token_module = "database"  # both lived in components/database.py until v0.2

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
