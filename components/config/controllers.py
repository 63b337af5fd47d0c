"""The ingress controllers a stack can install: each one's pinned chart, and the chart values
the schema owns in it (which `ingress.values` may not override)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from components.shared import versions

ControllerKind = Literal["ingress-nginx", "f5-nginx"]


@dataclass(frozen=True)
class ChartPin:
    repository: str
    name: str
    version: str


# The chart each controller installs unless ingress.chart names another (pins: versions.py).
CONTROLLER_CHARTS: dict[ControllerKind, ChartPin] = {
    "ingress-nginx": ChartPin(
        versions.INGRESS_NGINX_CHART_REPOSITORY,
        versions.INGRESS_NGINX_CHART_NAME,
        versions.INGRESS_NGINX_CHART_VERSION,
    ),
    "f5-nginx": ChartPin(
        versions.F5_NGINX_CHART_REPOSITORY,
        versions.F5_NGINX_CHART_NAME,
        versions.F5_NGINX_CHART_VERSION,
    ),
}

_CLASS = "the platform (the MLflow Ingress uses class nginx)"
_ADDRESS = "the platform (the reserved address on GKE)"
_WATCHED = "the platform (the controller watches the namespaces it serves only)"

# Helm values the schema sets from its own keys, per controller chart: `ingress.values` may not
# override them, or the checked setting (and what the MLflow Ingress relies on) would silently
# stop being true.
OWNED_HELM_VALUES: dict[ControllerKind, dict[tuple[str, ...], str]] = {
    "ingress-nginx": {
        ("controller", "replicaCount"): "ingress.replicas",
        ("controller", "service", "type"): "ingress.service_type",
        ("controller", "service", "nodePorts"): "ingress.http_node_port and https_node_port",
        ("controller", "service", "loadBalancerIP"): _ADDRESS,
        ("controller", "service", "loadBalancerSourceRanges"): "ingress.allowed_source_ranges",
        ("controller", "config", "hsts"): "tls.hsts",
        ("controller", "ingressClass"): _CLASS,
        ("controller", "ingressClassResource"): _CLASS,
        ("controller", "config", "proxy-body-size"): "ingress.proxy_body_size",
        ("controller", "metrics", "enabled"): "the platform (the scrape objects read the metrics)",
        ("controller", "metrics", "serviceMonitor", "enabled"): "metrics.service_monitor",
        ("controller", "scope"): _WATCHED,
    },
    "f5-nginx": {
        ("controller", "replicaCount"): "ingress.replicas",
        ("controller", "podDisruptionBudget"): "ingress.replicas (a budget from 2 replicas on)",
        ("controller", "service", "type"): "ingress.service_type",
        ("controller", "service", "httpPort", "nodePort"): "ingress.http_node_port",
        ("controller", "service", "httpsPort", "nodePort"): "ingress.https_node_port",
        ("controller", "service", "loadBalancerIP"): _ADDRESS,
        ("controller", "service", "loadBalancerSourceRanges"): "ingress.allowed_source_ranges",
        ("controller", "config", "entries", "hsts"): "tls.hsts",
        ("controller", "config", "entries", "client-max-body-size"): "ingress.proxy_body_size",
        # A ConfigMap of the user's own would replace the one that carries the two above.
        ("controller", "customConfigMap"): "ingress.proxy_body_size and tls.hsts",
        ("controller", "ingressClass"): _CLASS,
        ("prometheus", "create"): "the platform (the scrape objects read the metrics)",
        ("prometheus", "serviceMonitor", "create"): "metrics.service_monitor",
        ("controller", "watchNamespace"): _WATCHED,
        ("controller", "watchNamespaceLabel"): _WATCHED,
    },
}
