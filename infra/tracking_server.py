"""The MLflow tracking server as the stack configures it: its arguments (who scrapes it, its
login, everything MlflowServerArgs takes, with the parts made before it), and the line that
points a client at it."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_command as command

from components import config as c
from components.config import fields_except
from components.infrastructure.cluster import KubernetesCluster, MinikubeCluster
from components.infrastructure.identity import WorkloadIdentity
from components.stores.cloud_sql import CloudSqlPostgres
from components.stores.postgres import InClusterPostgres
from components.stores.storage import GcsArtifactStore
from components.workload.certificates import CertManager
from components.workload.metrics import Scraping
from components.workload.mlflow.auth import BasicAuthArgs
from components.workload.mlflow.oauth2_proxy import OAuth2Proxy
from components.workload.mlflow.server_args import (
    ArtifactVolume,
    ContainerResources,
    MlflowServerArgs,
)
from infra import exposure

Database = CloudSqlPostgres | InClusterPostgres


@dataclass(frozen=True)
class Backends:
    """What the tracking server stores into and acts as."""

    database: Database
    bucket: GcsArtifactStore | None
    identity: WorkloadIdentity | None
    # The on-demand backup the migration waits for (Cloud SQL).
    backup: command.local.Command | None = None


def scraping(cfg: c.PlatformConfig) -> Scraping:
    """Who scrapes the server and the controller (the `metrics` block)."""
    m = cfg.metrics
    return Scraping(
        pod_monitoring=cfg.pod_monitoring,
        service_monitor=m.service_monitor,
        service_monitor_labels=dict(m.service_monitor_labels),
        prometheus_namespace=m.prometheus_namespace,
        interval_seconds=m.scrape_interval_seconds,
    )


def auth_databases(cfg: c.PlatformConfig) -> list[str]:
    """The user store's database, when MLflow's basic-auth login is on."""
    auth = cfg.auth
    return [auth.database] if auth.enabled and auth.mode == "basic" else []


def basic_auth(cfg: c.PlatformConfig) -> BasicAuthArgs | None:
    if not auth_databases(cfg):
        return None
    return BasicAuthArgs(**fields_except(cfg.auth, "enabled", "mode", "oidc"))


def mlflow_server_args(
    cfg: c.PlatformConfig,
    backends: Backends,
    issuer: CertManager | None,
    sign_in: OAuth2Proxy | None,
    webhook: list[pulumi.Resource],
) -> MlflowServerArgs:
    """The tracking server's arguments from the stack's blocks and the parts made before it."""
    m, art = cfg.mlflow, cfg.artifacts
    database, bucket, identity = backends.database, backends.bucket, backends.identity
    volume = (
        ArtifactVolume(art.size, art.storage_class, art.access_mode)
        if isinstance(art, c.VolumeArtifactsConfig)
        else None
    )
    return MlflowServerArgs(
        host=m.host,
        backend=database.endpoint,
        artifacts_destination=bucket.artifacts_destination if bucket else None,
        artifact_volume=volume,
        namespace=m.namespace,
        image=m.effective_image,
        version=m.version,
        replicas=m.replicas,
        max_replicas=m.effective_max_replicas,
        target_cpu_utilization=m.target_cpu_utilization,
        workers=m.workers,
        resources=ContainerResources(**fields_except(m.resources)),
        ingress_namespace=cfg.ingress.namespace,
        ingress_controller=cfg.ingress.controller,
        proxy_body_size=cfg.ingress.proxy_body_size,
        tls_secret=exposure.tls_secret_name(cfg) if cfg.serves_https else None,
        cluster_issuer=issuer.issuer_name if issuer else None,
        ingress_after=webhook,
        # The server starts only with its database, bucket and permissions in place.
        start_after=[r for r in (database, bucket, identity) if r is not None],
        migrate_after=[backends.backup] if backends.backup else [],
        # A NodePort serves https on its own port: a redirect to :443 would lead nowhere.
        redirect_to_https=cfg.ingress_service_type == "LoadBalancer",
        basic_auth=basic_auth(cfg),
        external_auth=exposure.external_auth(sign_in),
        extra_allowed_hosts=m.allowed_hosts,
        telemetry=m.telemetry,
        job_execution=m.job_execution,
        log_level=m.log_level,
        scraping=scraping(cfg),
        gc_schedule=m.gc_schedule,
        gc_older_than=m.gc_older_than,
        extra_env=dict(m.extra_env),
        extra_secret_env={k: pulumi.Output.secret(v) for k, v in m.extra_secret_env.items()},
        extra_args=list(m.extra_args),
        google_service_account=identity.email if identity else None,
    )


def login_hint(cfg: c.PlatformConfig) -> str:
    """The client's credentials and, for a CA of the cluster's own, its certificate."""
    hint = ""
    if cfg.auth.enabled and cfg.auth.mode == "basic":
        hint += (
            f" MLFLOW_TRACKING_USERNAME={cfg.auth.admin_username}"
            ' MLFLOW_TRACKING_PASSWORD="$(pulumi stack output admin_password --show-secrets)"'
        )
    if cfg.tls.issuer == "self-signed":
        hint += " MLFLOW_TRACKING_SERVER_CERT_PATH=mlflow-ca.crt (README: trust the local CA)"
    return hint


def tracking_uri_hint(
    cfg: c.PlatformConfig, url: pulumi.Output[str], cluster: KubernetesCluster
) -> pulumi.Output[str]:
    """One line a user pastes to point the MLflow client at this stack."""
    host = cfg.mlflow.host
    client = pulumi.Output.concat("export MLFLOW_TRACKING_URI=", url, login_hint(cfg))
    if isinstance(cluster, MinikubeCluster):
        return pulumi.Output.concat(
            'echo "',
            cluster.node_ip.apply(str.strip),
            " ",
            host,
            '" | sudo tee -a /etc/hosts && ',
            client,
        )
    return pulumi.Output.concat(
        "point DNS for ", host, " at the ingress load balancer, then: ", client
    )
