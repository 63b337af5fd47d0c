"""What runs in the cluster: the ingress controller and the MLflow server's resources (the
server itself: `mlflow_server`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field

from components.config.controllers import CONTROLLER_CHARTS, OWNED_HELM_VALUES, ControllerKind
from components.config.quantities import parse_quantity
from components.config.section import EnvDefaults, Problem, Section
from components.config.values import (
    Cidr,
    Count,
    CpuQuantity,
    DnsLabel,
    Flag,
    MemoryQuantity,
    NginxSize,
    NonBlank,
)


def _lookup(values: dict[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = values
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _pins(attribute: str) -> str:
    return ", ".join(f"{c} {getattr(pin, attribute)}" for c, pin in CONTROLLER_CHARTS.items())


class HelmChartConfig(Section):
    """Left out, each of repository, name and version is the chosen controller's pin."""

    repository: str | None = Field(
        None, description=f"Chart repository (default: the controller's: {_pins('repository')})."
    )
    name: str | None = Field(None, description=f"Chart name (default: {_pins('name')}).")
    version: NonBlank | None = Field(
        None, description=f"Chart version (default, pinned: {_pins('version')})."
    )
    path: NonBlank | None = Field(
        None, description="Local chart directory or .tgz (air-gapped installs)."
    )

    def problems(self) -> list[Problem]:
        if self.path is not None and not Path(self.path).expanduser().exists():
            return [
                Problem(
                    "path",
                    self.path,
                    "no such file or directory; allowed: a local chart directory or .tgz",
                )
            ]
        return []


class IngressConfig(Section):
    enabled: Flag = Field(True, description="Install the ingress controller.")
    controller: ControllerKind = Field(
        "ingress-nginx",
        description="ingress-nginx (retired upstream in March 2026) or f5-nginx (F5 NGINX "
        "Ingress Controller, maintained).",
    )
    namespace: DnsLabel = Field("ingress-nginx", description="Controller namespace.")
    chart: HelmChartConfig = Field(
        default_factory=dict, validate_default=True, description="Chart source."
    )
    service_type: Literal["NodePort", "LoadBalancer"] | None = Field(
        None,
        description="Controller Service type (default: NodePort on minikube, else LoadBalancer).",
    )
    http_node_port: Count = Field(30080, ge=30000, le=32767, description="HTTP NodePort.")
    https_node_port: Count = Field(30443, ge=30000, le=32767, description="HTTPS NodePort.")
    proxy_body_size: NginxSize = Field(
        "5g", description="Largest artifact upload through the ingress."
    )
    replicas: Count = Field(1, ge=1, le=10, description="Controller replicas.")
    allowed_source_ranges: list[Cidr] = Field(
        default_factory=list,
        description="LoadBalancer: only these client ranges reach it (empty: everyone).",
    )
    values: dict[str, Any] = Field(
        default_factory=dict, description="Extra Helm values merged over ours."
    )

    env_defaults: ClassVar[EnvDefaults] = {"replicas": {"prod": 2}}

    def problems(self) -> list[Problem]:
        return [
            Problem(
                "values." + ".".join(path),
                value,
                f"is set by {owner}; allowed: set that key instead",
            )
            for path, owner in OWNED_HELM_VALUES[self.controller].items()
            if (value := _lookup(self.values, path)) is not None
        ]


class ResourcesConfig(Section):
    cpu_request: CpuQuantity = Field("250m", description="CPU request.")
    memory_request: MemoryQuantity = Field("1Gi", description="Memory request.")
    cpu_limit: CpuQuantity = Field("1", description="CPU limit.")
    memory_limit: MemoryQuantity = Field("1536Mi", description="Memory limit.")

    # The request covers the server's measured peak (make bench-serve, README "Performance":
    # about 650 MiB with 1 worker, 820 with 2, 1200 with 4) for each environment's workers.
    env_defaults: ClassVar[EnvDefaults] = {
        "memory_request": {"local": "768Mi", "prod": "1536Mi"},
        "memory_limit": {"prod": "2Gi"},
    }

    def problems(self) -> list[Problem]:
        return [
            Problem(
                f"{resource}_request",
                request,
                f"is above {resource}_limit {limit}; allowed: a request no larger than the limit",
            )
            for resource in ("cpu", "memory")
            if parse_quantity(request := getattr(self, f"{resource}_request"))
            > parse_quantity(limit := getattr(self, f"{resource}_limit"))
        ]
