"""ingress-nginx (ingress.controller ingress-nginx): everything the platform knows of it. Its
chart's values, its metrics port and pod labels, the `nginx.ingress.kubernetes.io/` annotations
on the MLflow Ingress, and the external sign-in (auth-url) only it offers.

Retired upstream in March 2026 (4.15.1 is its final chart); F5's controller is in f5.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from components.shared.kube import INGRESS_CLASS
from components.workload.ingress.controller_args import IngressControllerArgs
from components.workload.metrics import Scraping

NGINX = "nginx.ingress.kubernetes.io"
# Where the controller sends a visitor without a session (`auth-signin`): oauth2-proxy's start
# page on the same host; nginx fills in $host and the original path.
SIGN_IN_URL = "https://$host/oauth2/start?rd=$escaped_request_uri"
ADMISSION_JOB_RESOURCES = {"requests": {"cpu": "10m", "memory": "20Mi"}}


def ingress_nginx_values(args: IngressControllerArgs) -> dict[str, Any]:
    service: dict[str, Any] = {"type": args.service_type}
    if args.service_type == "NodePort":
        service["nodePorts"] = {"http": args.http_node_port, "https": args.https_node_port}
    if args.load_balancer_ip is not None:
        service["loadBalancerIP"] = args.load_balancer_ip
    if args.allowed_source_ranges:
        # The cloud's load balancer (GKE: a firewall rule) admits only these clients.
        service["loadBalancerSourceRanges"] = list(args.allowed_source_ranges)
    return {
        "controller": {
            "replicaCount": args.replicas,
            "scope": ingress_nginx_scope(args.watch_namespaces),
            "ingressClassResource": {"name": INGRESS_CLASS, "default": False},
            "ingressClass": INGRESS_CLASS,
            "service": service,
            # Artifact uploads go through the ingress; nginx's 1m default would reject them.
            "config": {
                "proxy-body-size": args.proxy_body_size,
                "proxy-read-timeout": "600",
                "proxy-send-timeout": "600",
                # Strict-Transport-Security on https responses (tls.hsts: prod by default).
                "hsts": "true" if args.hsts else "false",
            },
            "resources": {
                "requests": {"cpu": "100m", "memory": "128Mi"},
                "limits": {"memory": "512Mi"},
            },
            "minAvailable": 1,
            "metrics": ingress_nginx_metrics_values(args.scraping),
            # The admission webhook's certificate jobs request what the chart's example does.
            "admissionWebhooks": {
                "createSecretJob": {"resources": ADMISSION_JOB_RESOURCES},
                "patchWebhookJob": {"resources": ADMISSION_JOB_RESOURCES},
            },
        }
    }


def ingress_nginx_scope(namespaces: list[str]) -> dict[str, Any]:
    """One namespace: --watch-namespace (its informers see that namespace only). Several (the
    sign-in proxy's too): --watch-namespace-selector on their names."""
    if len(namespaces) == 1:
        return {"enabled": True, "namespace": namespaces[0]}
    names = ",".join(sorted(namespaces))
    return {"enabled": False, "namespaceSelector": f"kubernetes.io/metadata.name in ({names})"}


# ingress-nginx's chart names the controller's metrics port (10254) `metrics`.
INGRESS_NGINX_METRICS_PORT = "metrics"


def ingress_nginx_metrics_values(scraping: Scraping) -> dict[str, Any]:
    """The chart's own metrics Service and, with the Prometheus Operator, its ServiceMonitor."""
    monitor: dict[str, Any] = {"enabled": scraping.service_monitor}
    if scraping.service_monitor:
        monitor["scrapeInterval"] = scraping.interval
        if scraping.service_monitor_labels:
            monitor["additionalLabels"] = dict(scraping.service_monitor_labels)
    return {"enabled": True, "serviceMonitor": monitor}


def ingress_nginx_pod_labels(release: str) -> dict[str, str]:
    """The labels ingress-nginx's chart puts on the controller pods of release `release`."""
    return {
        "app.kubernetes.io/name": "ingress-nginx",
        "app.kubernetes.io/instance": release,
        "app.kubernetes.io/component": "controller",
    }


@dataclass(frozen=True)
class ExternalAuth:
    """A sign-in service the ingress asks before every request (oauth2-proxy)."""

    auth_url: pulumi.Input[str]
    """What the ingress asks before each request (auth-url): 2xx lets it through, 401 not."""
    signin_url: str
    """Where a visitor without a session is sent (auth-signin); nginx fills in its variables."""


def ingress_annotations(
    proxy_body_size: str,
    tls: bool,
    redirect_to_https: bool,
    cluster_issuer: pulumi.Input[str] | None,
    external_auth: ExternalAuth | None,
) -> dict[str, pulumi.Input[str]]:
    """The MLflow Ingress's body size, timeout, https redirect and external sign-in."""
    annotations: dict[str, pulumi.Input[str]] = {
        f"{NGINX}/proxy-body-size": proxy_body_size,
        f"{NGINX}/proxy-read-timeout": "600",
    }
    if tls:
        annotations[f"{NGINX}/ssl-redirect"] = "true" if redirect_to_https else "false"
    if cluster_issuer is not None:
        annotations["cert-manager.io/cluster-issuer"] = cluster_issuer
    if external_auth is not None:
        annotations[f"{NGINX}/auth-url"] = external_auth.auth_url
        annotations[f"{NGINX}/auth-signin"] = external_auth.signin_url
        annotations[f"{NGINX}/auth-response-headers"] = "X-Auth-Request-Email"
    return annotations
