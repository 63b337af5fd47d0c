"""What runs in the cluster: the ingress controller and the MLflow tracking server."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from components import versions
from components.config.section import EnvDefaults, Section
from components.config.values import DnsLabel, Hostname, PinnedImage, Quantity, Version


class HelmChartConfig(Section):
    repository: str = Field(
        versions.INGRESS_NGINX_CHART_REPOSITORY, description="Chart repository."
    )
    name: str = Field(versions.INGRESS_NGINX_CHART_NAME, description="Chart name.")
    version: str = Field(
        versions.INGRESS_NGINX_CHART_VERSION, description="Chart version (pinned)."
    )
    path: str | None = Field(
        None, description="Local chart directory or .tgz (air-gapped installs)."
    )


class IngressConfig(Section):
    enabled: bool = Field(True, description="Install the ingress-nginx controller.")
    namespace: DnsLabel = Field("ingress-nginx", description="Controller namespace.")
    chart: HelmChartConfig = Field(
        default_factory=dict, validate_default=True, description="Chart source."
    )
    service_type: Literal["NodePort", "LoadBalancer"] | None = Field(
        None,
        description="Controller Service type (default: NodePort on minikube, else LoadBalancer).",
    )
    http_node_port: int = Field(30080, ge=30000, le=32767, description="HTTP NodePort.")
    proxy_body_size: str = Field(
        "5g", pattern=r"^[0-9]+[kmg]?$", description="Largest artifact upload through the ingress."
    )
    replicas: int = Field(1, ge=1, le=10, description="Controller replicas.")
    values: dict[str, Any] = Field(
        default_factory=dict, description="Extra Helm values merged over ours."
    )

    env_defaults: ClassVar[EnvDefaults] = {"replicas": {"prod": 2}}


class ResourcesConfig(Section):
    cpu_request: Quantity = Field("250m", description="CPU request.")
    memory_request: Quantity = Field("768Mi", description="Memory request.")
    cpu_limit: Quantity = Field("1", description="CPU limit.")
    memory_limit: Quantity = Field("1536Mi", description="Memory limit.")


class MlflowConfig(Section):
    version: Version = Field(versions.MLFLOW_VERSION, description="MLflow version (image tag).")
    image: PinnedImage | None = Field(None, description="Image override (default: official -full).")
    namespace: DnsLabel = Field("mlflow", description="Namespace of the tracking server.")
    host: Hostname = Field(description="Ingress host name.")
    tls_secret: DnsLabel | None = Field(
        None, description="TLS Secret for the host (enables https)."
    )
    replicas: int = Field(ge=1, le=50, description="Server replicas (>1 adds PDB and HPA).")
    max_replicas: int | None = Field(
        None, ge=1, le=100, description="HPA maximum (default: twice replicas)."
    )
    target_cpu_utilization: int = Field(70, ge=10, le=100, description="HPA CPU target (%).")
    workers: int = Field(2, ge=1, le=32, description="Server worker processes per pod.")
    resources: ResourcesConfig = Field(
        default_factory=dict, validate_default=True, description="Container resources."
    )
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Extra Host headers to accept (the host and Service are always).",
    )

    env_defaults: ClassVar[EnvDefaults] = {
        "host": {"local": "mlflow.local", "dev": "mlflow.dev.local"},
        "replicas": {"local": 1, "dev": 1, "staging": 1, "prod": 2},
        "workers": {"local": 1},
    }

    @property
    def effective_image(self) -> str:
        return self.image or versions.mlflow_image(self.version)

    @property
    def effective_max_replicas(self) -> int:
        return self.max_replicas or default_max_replicas(self.replicas)


def default_max_replicas(replicas: int) -> int:
    """The HPA's ceiling when the stack sets none: room to double under load."""
    return replicas * 2
