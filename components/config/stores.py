"""MLflow's two stores: the backend database and the artifact store."""

from __future__ import annotations

import ipaddress
from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from components import versions
from components.config.section import AuthorizedNetwork, EnvDefaults, Section
from components.config.values import DnsLabel, PasswordRotation, PinnedImage, Quantity


class BackupConfig(Section):
    enabled: bool = Field(description="Daily automated backups.")
    point_in_time_recovery: bool = Field(description="Write-ahead log retention for PITR.")
    retained_backups: int = Field(7, ge=1, le=365, description="How many daily backups to keep.")
    transaction_log_retention_days: int = Field(7, ge=1, le=7, description="PITR window in days.")
    start_time: str = Field(
        "03:00", pattern=r"^([01][0-9]|2[0-3]):00$", description="Backup window start (UTC, HH:00)."
    )

    env_defaults: ClassVar[EnvDefaults] = {
        "enabled": {"dev": False, "staging": True, "prod": True, "local": False},
        "point_in_time_recovery": {"dev": False, "staging": False, "prod": True, "local": False},
    }

    @model_validator(mode="after")
    def _pitr_needs_backups(self) -> BackupConfig:
        if self.point_in_time_recovery and not self.enabled:
            raise ValueError("point_in_time_recovery=true needs enabled=true")
        return self


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
    tier: str = Field(
        pattern=r"^db-(f1-micro|g1-small|custom-[0-9]+-[0-9]+|perf-optimized-N-[0-9]+)$",
        description="Machine tier.",
    )
    disk_size_gb: int = Field(10, ge=10, le=65536, description="Initial SSD size (auto-grows).")
    availability_type: Literal["ZONAL", "REGIONAL"] = Field(description="REGIONAL is HA.")
    private_ip: bool = Field(description="Private IP only (private services access).")
    authorized_networks: list[AuthorizedNetwork] = Field(
        default_factory=list, description="Public-IP mode: networks allowed to connect."
    )
    deletion_protection: bool = Field(description="Refuse to delete the instance.")
    backups: BackupConfig = Field(
        default_factory=dict, validate_default=True, description="Backups and PITR."
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

    @model_validator(mode="after")
    def _network_and_tier_rules(self) -> CloudSqlConfig:
        for network in self.authorized_networks:
            if ipaddress.IPv4Network(network.cidr).prefixlen == 0:
                raise ValueError(
                    f"authorized_networks {network.name}={network.cidr} opens the database to "
                    "the internet; allowed: specific ranges"
                )
        if not self.private_ip and not self.authorized_networks:
            raise ValueError(
                "private_ip=false needs at least one authorized_networks entry "
                "(or set private_ip=true)"
            )
        perf_tier = self.tier.startswith("db-perf-optimized")
        if perf_tier != (self.edition == "ENTERPRISE_PLUS"):
            raise ValueError(
                f"tier {self.tier} does not fit edition {self.edition}; allowed: "
                "db-perf-optimized-* with ENTERPRISE_PLUS, other tiers with ENTERPRISE"
            )
        return self


class InClusterPostgresConfig(Section):
    kind: Literal["in-cluster"]
    image: PinnedImage = Field(versions.POSTGRES_IMAGE, description="Official postgres image.")
    storage_size: Quantity = Field("5Gi", description="PersistentVolumeClaim size.")
    storage_class: str | None = Field(None, description="StorageClass (cluster default if unset).")
    database: DnsLabel = Field("mlflow", description="Database name.")
    user: DnsLabel = Field("mlflow", description="Database user.")
    password_rotation: PasswordRotation = "1"


DatabaseConfig = Annotated[CloudSqlConfig | InClusterPostgresConfig, Field(discriminator="kind")]


class GcsArtifactsConfig(Section):
    kind: Literal["gcs"]
    bucket_name: str | None = Field(
        None,
        pattern=r"^[a-z0-9][a-z0-9_.-]{1,61}[a-z0-9]$",
        description="Bucket name (default: <project>-mlflow-<stack>).",
    )
    location: str | None = Field(None, description="Bucket location (default: the region).")
    storage_class: Literal["STANDARD", "NEARLINE", "COLDLINE", "ARCHIVE"] = Field(
        "STANDARD", description="Storage class."
    )
    noncurrent_version_retention_days: int = Field(
        30, ge=1, le=3650, description="Days before overwritten/deleted versions are removed."
    )
    force_destroy: bool = Field(description="Destroy deletes the objects too (disposable only).")
    protect: bool = Field(description="Pulumi refuses to delete the bucket.")
    import_existing: bool = Field(
        False, description="Adopt the existing bucket `bucket_name` instead of creating it."
    )

    env_defaults: ClassVar[EnvDefaults] = {
        "force_destroy": {"local": True, "dev": True, "staging": True, "prod": False},
        "protect": {"local": False, "dev": False, "staging": False, "prod": True},
    }

    @model_validator(mode="after")
    def _protected_is_not_force_destroyed(self) -> GcsArtifactsConfig:
        if self.protect and self.force_destroy:
            raise ValueError("protect=true contradicts force_destroy=true; pick one")
        if self.import_existing and not self.bucket_name:
            raise ValueError("import_existing=true needs bucket_name (the bucket to adopt)")
        return self


class VolumeArtifactsConfig(Section):
    kind: Literal["volume"]
    size: Quantity = Field("10Gi", description="PersistentVolumeClaim size.")
    storage_class: str | None = Field(None, description="StorageClass (cluster default if unset).")


ArtifactsConfig = Annotated[GcsArtifactsConfig | VolumeArtifactsConfig, Field(discriminator="kind")]
