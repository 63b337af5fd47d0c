"""The whole stack's configuration, validated as one object."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from components.config.exposure import AuthConfig, DnsConfig, TlsConfig
from components.config.infrastructure import ClusterConfig, GcpConfig, NetworkConfig
from components.config.mlflow_server import MlflowConfig
from components.config.monitoring import MetricsConfig, pod_monitoring_enabled
from components.config.section import Environment
from components.config.stores import ArtifactsConfig, DatabaseConfig
from components.config.workload import IngressConfig

# Sections a stack may leave out entirely: every key in them has a default.
SECTIONS_WITH_DEFAULTS = ("ingress", "mlflow", "auth", "tls", "dns", "metrics")


class PlatformConfig(BaseModel):
    """Everything one stack needs, validated as a whole."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    environment: Environment = Field(description="Which environment this stack is.")
    gcp: GcpConfig | None = Field(None, description="GCP project and region.")
    network: NetworkConfig | None = Field(None, description="VPC for GKE and private Cloud SQL.")
    cluster: ClusterConfig = Field(description="Where Kubernetes comes from.")
    database: DatabaseConfig = Field(description="MLflow's backend store.")
    artifacts: ArtifactsConfig = Field(description="MLflow's artifact store.")
    ingress: IngressConfig = Field(description="ingress-nginx controller.")
    mlflow: MlflowConfig = Field(description="The tracking server.")
    auth: AuthConfig = Field(description="The login in front of MLflow.")
    tls: TlsConfig = Field(description="The certificate for mlflow.host.")
    dns: DnsConfig = Field(description="A DNS record for mlflow.host.")
    metrics: MetricsConfig = Field(description="Who scrapes the Prometheus metrics.")

    @model_validator(mode="before")
    @classmethod
    def _default_sections(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {**{key: {} for key in SECTIONS_WITH_DEFAULTS}, **data}
        return data

    @property
    def uses_gcp(self) -> bool:
        return (
            self.cluster.kind == "gke"
            or self.database.kind == "cloudsql"
            or self.artifacts.kind == "gcs"
        )

    @property
    def serves_https(self) -> bool:
        return self.tls.issuer != "none" or self.mlflow.tls_secret is not None

    @property
    def pod_monitoring(self) -> bool:
        return pod_monitoring_enabled(self.metrics, self.cluster.kind)

    @property
    def ingress_service_type(self) -> Literal["NodePort", "LoadBalancer"]:
        if self.ingress.service_type is not None:
            return self.ingress.service_type
        return "NodePort" if self.cluster.kind == "minikube" else "LoadBalancer"
