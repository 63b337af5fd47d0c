"""Rules that span sections; each problem line names the key, the value and what is allowed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from components.config.infrastructure import GkeClusterConfig
from components.config.platform import PlatformConfig
from components.config.section import key
from components.config.stores import CloudSqlConfig, GcsArtifactsConfig

Rule = Callable[[PlatformConfig], list[str]]


def _gcp_block_present(cfg: PlatformConfig) -> list[str]:
    if not cfg.uses_gcp or cfg.gcp is not None:
        return []
    return [
        f"{key('gcp')} is missing: required when cluster.kind={cfg.cluster.kind!r}, "
        f"database.kind={cfg.database.kind!r}, artifacts.kind={cfg.artifacts.kind!r} "
        "use GCP; allowed: {project: ..., region: ...}"
    ]


def _gke_has_network(cfg: PlatformConfig) -> list[str]:
    if cfg.cluster.kind == "gke" and cfg.network is None:
        return [f"{key('network')} is missing: GKE needs a VPC; allowed: a network block"]
    return []


def _private_database_is_reachable(cfg: PlatformConfig) -> list[str]:
    db = cfg.database
    if not (isinstance(db, CloudSqlConfig) and db.private_ip):
        return []
    problems = []
    if cfg.network is None:
        problems.append(
            f"{key('database.private_ip')} = True needs a VPC but {key('network')} is not "
            "set; allowed: add a network block or private_ip=false with authorized_networks"
        )
    if cfg.cluster.kind != "gke":
        problems.append(
            f"{key('database.private_ip')} = True is unreachable from "
            f"cluster.kind={cfg.cluster.kind!r}; allowed: private_ip with cluster.kind='gke'"
        )
    return problems


def _volume_serves_one_pod(cfg: PlatformConfig) -> list[str]:
    if cfg.artifacts.kind == "volume" and cfg.mlflow.replicas > 1:
        return [
            f"{key('mlflow.replicas')} = {cfg.mlflow.replicas}: a ReadWriteOnce artifact volume "
            "serves one pod; allowed: 1 with artifacts.kind='volume', or artifacts.kind='gcs'"
        ]
    return []


def _max_replicas_not_below_replicas(cfg: PlatformConfig) -> list[str]:
    if cfg.mlflow.effective_max_replicas < cfg.mlflow.replicas:
        return [
            f"{key('mlflow.max_replicas')} = {cfg.mlflow.max_replicas}: below replicas "
            f"{cfg.mlflow.replicas}; allowed: >= replicas"
        ]
    return []


# --- prod keeps its data: HA, private, protected, backed up. Each rule is a separate line. ---

Required = list[tuple[str, Any, Any]]  # (path, value, the value prod needs)


def _prod_replicas(cfg: PlatformConfig) -> list[str]:
    if cfg.mlflow.replicas < 2:
        return [
            f"{key('mlflow.replicas')} = {cfg.mlflow.replicas} in prod; allowed: 2 or more (HA)"
        ]
    return []


def _prod_database(cfg: PlatformConfig) -> tuple[list[str], Required]:
    db = cfg.database
    if not isinstance(db, CloudSqlConfig):
        return [f"{key('database.kind')} = {db.kind!r} in prod; allowed: 'cloudsql'"], []
    return [], [
        ("database.deletion_protection", db.deletion_protection, True),
        ("database.private_ip", db.private_ip, True),
        ("database.availability_type", db.availability_type, "REGIONAL"),
        ("database.backups.enabled", db.backups.enabled, True),
        ("database.backups.point_in_time_recovery", db.backups.point_in_time_recovery, True),
    ]


def _prod_artifacts(cfg: PlatformConfig) -> tuple[list[str], Required]:
    art = cfg.artifacts
    if not isinstance(art, GcsArtifactsConfig):
        return [f"{key('artifacts.kind')} = {art.kind!r} in prod; allowed: 'gcs'"], []
    return [], [
        ("artifacts.protect", art.protect, True),
        ("artifacts.force_destroy", art.force_destroy, False),
    ]


def _prod_cluster(cfg: PlatformConfig) -> tuple[list[str], Required]:
    if isinstance(cfg.cluster, GkeClusterConfig):
        return [], [("cluster.deletion_protection", cfg.cluster.deletion_protection, True)]
    return [], []


def _prod_is_safe(cfg: PlatformConfig) -> list[str]:
    if cfg.environment != "prod":
        return []
    problems = _prod_replicas(cfg)
    required: Required = []
    for part in (_prod_database, _prod_artifacts, _prod_cluster):
        found, needed = part(cfg)
        problems += found
        required += needed
    problems.extend(
        f"{key(path)} = {value!r} in prod; allowed: {wanted!r}"
        for path, value, wanted in required
        if value != wanted
    )
    return problems


CROSS_SECTION_RULES: tuple[Rule, ...] = (
    _gcp_block_present,
    _gke_has_network,
    _private_database_is_reachable,
    _volume_serves_one_pod,
    _max_replicas_not_below_replicas,
    _prod_is_safe,
)


def cross_section_problems(cfg: PlatformConfig) -> list[str]:
    return [problem for rule in CROSS_SECTION_RULES for problem in rule(cfg)]
