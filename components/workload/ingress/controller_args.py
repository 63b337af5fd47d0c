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
    """The controller Service's type (`ingress.service_type`; the platform's default: NodePort
    on minikube, else LoadBalancer)."""
    controller: Literal["ingress-nginx", "f5-nginx"] = _ingress("controller")
    """ingress-nginx, or f5-nginx: F5 NGINX Ingress Controller (`ingress.controller`)."""
    namespace: str = _ingress("namespace")
    """The controller's namespace, created here (`ingress.namespace`)."""
    chart_repository: str | None = default_of(HelmChartConfig, "repository")
    """The chart's repository (`ingress.chart.repository`); None: the controller's pinned one."""
    chart_name: str | None = default_of(HelmChartConfig, "name")
    """The chart's name (`ingress.chart.name`); None: the controller's pinned one."""
    chart_version: str | None = default_of(HelmChartConfig, "version")
    """The chart's version (`ingress.chart.version`); None: the controller's pinned one."""
    chart_path: str | None = default_of(HelmChartConfig, "path")
    """A local chart directory or .tgz, installed instead of the repository's
    (`ingress.chart.path`)."""
    http_node_port: int = _ingress("http_node_port")
    """The Service's NodePort for http (`ingress.http_node_port`); NodePort only."""
    proxy_body_size: str = _ingress("proxy_body_size")
    """The largest request body nginx accepts, such as 5g (`ingress.proxy_body_size`)."""
    https_node_port: int = _ingress("https_node_port")
    """The Service's NodePort for https (`ingress.https_node_port`); NodePort only."""
    replicas: int = _ingress("replicas")
    """Controller pods (`ingress.replicas`)."""
    allowed_source_ranges: list[str] = field(default_factory=list)
    """Client CIDRs the load balancer admits (`ingress.allowed_source_ranges`); empty: all."""
    values: dict[str, Any] = field(default_factory=dict)
    """Helm values merged over ours key by key, theirs winning (`ingress.values`)."""
    load_balancer_ip: pulumi.Input[str] | None = None
    """A reserved address for the LoadBalancer (GKE), so DNS can point at it before it exists;
    None: the cloud picks one."""
    hsts: bool = False
    """Strict-Transport-Security on every https response (`tls.hsts`)."""
    scraping: metrics.Scraping = field(default_factory=metrics.Scraping)
    """Who scrapes the controller (the chart's ServiceMonitor, a PodMonitoring) and who the
    metrics port admits (`metrics`)."""
    watch_namespaces: list[str] = field(
        default_factory=lambda: [default_of(MlflowConfig, "namespace")]
    )
    """The namespaces whose Ingresses it serves: it watches (and caches Secrets of) these only."""
    webhook_sources: ControlPlaneSources = field(default_factory=ControlPlaneSources)
    """Where the API server calls ingress-nginx's admission webhook from (F5's has none)."""

    @property
    def service_monitor(self) -> bool:
        return self.scraping.service_monitor
