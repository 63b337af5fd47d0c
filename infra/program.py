"""The program body, importable so tests run exactly what `pulumi up` runs."""

from __future__ import annotations

import pulumi

from components.config import CloudSqlConfig, ConfigError
from infra.config import load_config
from infra.platform import Platform

# The Python language host prints nothing more for a program that exits with this code: the
# user already got an actionable message (its own "program exited with code 1" line would add
# noise under the one clean config error).
EXITED_AFTER_SHOWING_A_MESSAGE = 32


def run() -> Platform:
    cfg = load_config()  # raises before any resource is registered
    platform = Platform("mlflow", cfg, stack=pulumi.get_stack())
    pulumi.export("mlflow_url", platform.url)
    pulumi.export("namespace", platform.namespace)
    pulumi.export("kubeconfig", pulumi.Output.secret(platform.kubeconfig))
    pulumi.export("database", platform.database_address)
    pulumi.export("artifact_store", platform.artifact_store)
    pulumi.export("tracking_uri_hint", platform.tracking_uri_hint())
    if cfg.auth.enabled and cfg.auth.mode == "basic":
        pulumi.export("admin_username", cfg.auth.admin_username)
        pulumi.export("admin_password", pulumi.Output.secret(platform.admin_password))
    if cfg.tls.issuer == "self-signed":
        pulumi.export("ca_certificate_secret", platform.ca_certificate_secret)
    if cfg.cluster.kind == "gke":
        pulumi.export("ingress_ip", platform.ingress_ip)
    if isinstance(cfg.database, CloudSqlConfig) and cfg.database.backup_before_upgrade:
        pulumi.export("upgrade_backup_id", platform.upgrade_backup_id)
    return platform


def main() -> None:
    """What `pulumi up` runs: a refused stack config is one clean error, with no traceback."""
    try:
        run()
    except ConfigError as error:
        pulumi.log.error(str(error))
        raise SystemExit(EXITED_AFTER_SHOWING_A_MESSAGE) from None
