"""What the ingress controller component takes: one dataclass for both controllers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi

from components.config import (
    HelmChartConfig,
    IngressConfig,
    MlflowConfig,
    default_of,
    defaults_from,
)
from components.workload import metrics
from components.workload.ingress.network_policies import ControlPlaneSources

_ingress = defaults_from(IngressConfig)


@dataclass(frozen=True)
class IngressControllerArgs:
    service_type: Literal["NodePort", "LoadBalancer"]
    controller: Literal["ingress-nginx", "f5-nginx"] = _ingress("controller")
    namespace: str = _ingress("namespace")
    # None: the controller's pinned chart (CONTROLLER_CHARTS).
    chart_repository: str | None = default_of(HelmChartConfig, "repository")
    chart_name: str | None = default_of(HelmChartConfig, "name")
    chart_version: str | None = default_of(HelmChartConfig, "version")
    chart_path: str | None = default_of(HelmChartConfig, "path")
    http_node_port: int = _ingress("http_node_port")
    proxy_body_size: str = _ingress("proxy_body_size")
    https_node_port: int = _ingress("https_node_port")
    replicas: int = _ingress("replicas")
    allowed_source_ranges: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    # A reserved address for the LoadBalancer (GKE), so DNS can point at it before it exists.
    load_balancer_ip: pulumi.Input[str] | None = None
    hsts: bool = False
    # Who scrapes the controller: the chart's ServiceMonitor, a PodMonitoring on GKE.
    scraping: metrics.Scraping = field(default_factory=metrics.Scraping)
    # The namespaces whose Ingresses it serves: it watches (and caches Secrets of) these only.
    watch_namespaces: list[str] = field(
        default_factory=lambda: [default_of(MlflowConfig, "namespace")]
    )
    # Who may call ingress-nginx's admission webhook: the API server.
    webhook_sources: ControlPlaneSources = field(default_factory=ControlPlaneSources)

    @property
    def service_monitor(self) -> bool:
        return self.scraping.service_monitor
