"""MLflow's two stores: the backend database and the artifact store."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from components.config.section import (
    AuthorizedNetwork,
    EnvDefaults,
    Problem,
    Section,
    internet_wide_problems,
)
from components.config.values import (
    BucketLocation,
    CloudSqlTier,
    Count,
    DnsLabel,
    Flag,
    HourStart,
    MemoryQuantity,
    PasswordRotation,
    PinnedImage,
)
from components.shared import versions


class BackupConfig(Section):
    enabled: Flag = Field(description="Daily automated backups.")
    point_in_time_recovery: Flag = Field(description="Write-ahead log retention for PITR.")
    retained_backups: Count = Field(7, ge=1, le=365, description="How many daily backups to keep.")
    transaction_log_retention_days: Count = Field(7, ge=1, le=7, description="PITR window in days.")
    start_time: HourStart = Field("03:00", description="Backup window start (UTC, HH:00).")

    env_defaults: ClassVar[EnvDefaults] = {
        "enabled": {"dev": False, "staging": True, "prod": True, "local": False},
        "point_in_time_recovery": {"dev": False, "staging": False, "prod": True, "local": False},
    }

    def problems(self) -> list[Problem]:
        if self.point_in_time_recovery and not self.enabled:
            return [
                Problem(
                    "point_in_time_recovery",
                    True,
                    "point_in_time_recovery=true needs enabled=true; allowed: enable backups "
                    "or turn point_in_time_recovery off",
                )
            ]
        return []


class CloudSqlConfig(Section):
    kind: Literal["cloudsql"]
    instance_name: DnsLabel = Field(
        "mlflow", description="Instance name prefix (Pulumi adds a suffix)."
    )
    database_version: Literal["POSTGRES_15", "POSTGRES_16", "POSTGRES_17"] = Field(
        versions.CLOUD_SQL_DATABASE_VERSION, description="PostgreSQL major version."
    )
    edition: Literal["ENTERPRISE", "ENTERPRISE_PLUS"] = Field(
        "ENTERPRISE", description="Set explicitly so shared-core tiers keep working."
    )
    tier: CloudSqlTier = Field(description="Machine tier.")
    disk_size_gb: Count = Field(10, ge=10, le=65536, description="Initial SSD size (auto-grows).")
    availability_type: Literal["ZONAL", "REGIONAL"] = Field(description="REGIONAL is HA.")
    private_ip: Flag = Field(description="Private IP only (private services access).")
    authorized_networks: list[AuthorizedNetwork] = Field(
        default_factory=list, description="Public-IP mode: networks allowed to connect."
    )
    deletion_protection: Flag = Field(description="Refuse to delete the instance.")
    backups: BackupConfig = Field(
        default_factory=dict, validate_default=True, description="Backups and PITR."
    )
    backup_before_upgrade: Flag = Field(
        True,
        description="On-demand backup (gcloud, where `pulumi up` runs) on a new mlflow.version.",
    )
    database: DnsLabel = Field("mlflow", description="Database name.")
    user: DnsLabel = Field("mlflow", description="Database user.")
    password_rotation: PasswordRotation = "1"
    import_instance: DnsLabel | None = Field(
        None, description="Adopt this existing instance (by name) instead of creating one."
    )

    env_defaults: ClassVar[EnvDefaults] = {
        "tier": {
            "dev": "db-f1-micro",
            "staging": "db-custom-1-3840",
            "prod": "db-custom-2-7680",
            "local": "db-f1-micro",
        },
        "availability_type": {
            "dev": "ZONAL",
            "staging": "ZONAL",
            "prod": "REGIONAL",
            "local": "ZONAL",
        },
        "private_ip": {"dev": False, "staging": True, "prod": True, "local": False},
        "deletion_protection": {"dev": False, "staging": False, "prod": True, "local": False},
    }

    def problems(self) -> list[Problem]:
        return self._network_problems() + self._tier_problems()

    def _network_problems(self) -> list[Problem]:
        networks = [n.cidr for n in self.authorized_networks]
        if self.private_ip and self.authorized_networks:
            return [
                Problem(
                    "authorized_networks",
                    networks,
                    "a private-IP instance ignores authorized networks; allowed: none with "
                    "private_ip=true, or private_ip=false",
                )
            ]
        if not self.private_ip and not self.authorized_networks:
            return [
                Problem(
                    "authorized_networks",
                    [],
                    "private_ip=false needs at least one authorized_networks entry; allowed: "
                    "your office or VPN ranges, or private_ip=true",
                )
            ]
        return internet_wide_problems("authorized_networks", networks)

    def _tier_problems(self) -> list[Problem]:
        perf_tier = self.tier.startswith("db-perf-optimized")
        if perf_tier == (self.edition == "ENTERPRISE_PLUS"):
            return []
        return [
            Problem(
                "tier",
                self.tier,
                f"does not fit edition {self.edition}; allowed: db-perf-optimized-* with "
                "ENTERPRISE_PLUS, other tiers with ENTERPRISE",
            )
        ]


class InClusterPostgresConfig(Section):
    kind: Literal["in-cluster"]
    image: PinnedImage = Field(versions.POSTGRES_IMAGE, description="Official postgres image.")
    storage_size: MemoryQuantity = Field("5Gi", description="PersistentVolumeClaim size.")
    storage_class: str | None = Field(None, description="StorageClass (cluster default if unset).")
    database: DnsLabel = Field("mlflow", description="Database name.")
    user: DnsLabel = Field("mlflow", description="Database user.")
    password_rotation: PasswordRotation = "1"


DatabaseConfig = Annotated[CloudSqlConfig | InClusterPostgresConfig, Field(discriminator="kind")]


class GcsArtifactsConfig(Section):
    kind: Literal["gcs"]
    bucket_name: str | None = Field(
        None, description="Bucket name (default: <project>-mlflow-<stack>)."
    )
    location: BucketLocation | None = Field(
        None, description="Bucket location (default: the region)."
    )
    storage_class: Literal["STANDARD", "NEARLINE", "COLDLINE", "ARCHIVE"] = Field(
        "STANDARD", description="Storage class."
    )
    noncurrent_version_retention_days: Count = Field(
        30, ge=1, le=3650, description="Days before overwritten/deleted versions are removed."
    )
    force_destroy: Flag = Field(description="Destroy deletes the objects too (disposable only).")
    protect: Flag = Field(description="Pulumi refuses to delete the bucket.")
    import_existing: Flag = Field(
        False,
        description="Adopt the existing bucket `bucket_name` (always protected, never emptied).",
    )

    env_defaults: ClassVar[EnvDefaults] = {
        "force_destroy": {"local": True, "dev": True, "staging": True, "prod": False},
        "protect": {"local": False, "dev": False, "staging": False, "prod": True},
    }

    def problems(self) -> list[Problem]:
        problems = []
        if self.protect and self.force_destroy:
            problems.append(
                Problem(
                    "force_destroy",
                    True,
                    "protect=true contradicts force_destroy=true; allowed: pick one",
                )
            )
        if self.import_existing and not self.bucket_name:
            problems.append(
                Problem(
                    "bucket_name",
                    None,
                    "import_existing=true needs bucket_name (the bucket to adopt); allowed: "
                    "the existing bucket's name",
                )
            )
        return problems


class VolumeArtifactsConfig(Section):
    kind: Literal["volume"]
    size: MemoryQuantity = Field("10Gi", description="PersistentVolumeClaim size.")
    storage_class: str | None = Field(None, description="StorageClass (cluster default if unset).")
    access_mode: Literal["ReadWriteOnce", "ReadWriteMany"] = Field(
        "ReadWriteOnce",
        description=(
            "ReadWriteMany (a class such as Filestore or NFS) lets several pods share the "
            "volume: replicas > 1 and rolling updates."
        ),
    )


ArtifactsConfig = Annotated[GcsArtifactsConfig | VolumeArtifactsConfig, Field(discriminator="kind")]
