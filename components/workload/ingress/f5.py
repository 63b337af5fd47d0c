"""F5 NGINX Ingress Controller (ingress.controller f5-nginx): its chart's values and the
annotations the MLflow Ingress carries for it.

The same settings as ingress-nginx's, under the keys of F5's chart (`controller.config.entries`
for the NGINX ConfigMap, `controller.service.httpPort.nodePort`, ...) and the `nginx.org/`
annotation family. F5's open-source controller has no `auth-url`, so the oauth2-proxy sign-in
(auth.mode oidc) is refused with it in the config.
"""

from __future__ import annotations

from typing import Any

from components.shared import versions
from components.workload.ingress.controller_args import IngressControllerArgs

F5 = "nginx.org"
# nginx time values: the MLflow server streams large artifacts for minutes.
PROXY_TIMEOUT = "600s"
# ingress-nginx's default max-age (one year); F5's own default is 30 days.
HSTS_MAX_AGE = "31536000"


# The chart names the controller's metrics port (prometheus.port, 9113) `prometheus`.
METRICS_PORT = "prometheus"


def pod_labels(release: str) -> dict[str, str]:
    """The labels F5's chart puts on the controller pods of release `release`."""
    return {"app.kubernetes.io/name": "nginx-ingress", "app.kubernetes.io/instance": release}


def prometheus_values(
    service_monitor: bool, labels: dict[str, str], interval: str
) -> dict[str, Any]:
    """The controller's metrics and, with the Prometheus Operator, the chart's ServiceMonitor."""
    monitor: dict[str, Any] = {"create": service_monitor}
    prometheus: dict[str, Any] = {"create": True, "serviceMonitor": monitor}
    if service_monitor:
        # The chart's ServiceMonitor selects the chart's metrics Service, which is off by default.
        prometheus["service"] = {"create": True}
        monitor["labels"] = dict(labels)
        monitor["endpoints"] = [{"port": METRICS_PORT, "interval": interval}]
    return prometheus


def service_values(args: IngressControllerArgs) -> dict[str, Any]:
    service: dict[str, Any] = {"type": args.service_type}
    if args.service_type == "NodePort":
        service["httpPort"] = {"nodePort": args.http_node_port}
        service["httpsPort"] = {"nodePort": args.https_node_port}
    if args.load_balancer_ip is not None:
        service["loadBalancerIP"] = args.load_balancer_ip
    if args.allowed_source_ranges:
        # The cloud's load balancer (GKE: a firewall rule) admits only these clients.
        service["loadBalancerSourceRanges"] = list(args.allowed_source_ranges)
    return service


def f5_values(args: IngressControllerArgs, ingress_class: str) -> dict[str, Any]:
    """The chart values for `args` (before `args.values` are merged over them)."""
    return {
        "controller": {
            "replicaCount": args.replicas,
            "image": {
                "repository": versions.F5_NGINX_IMAGE_REPOSITORY,
                "tag": versions.F5_NGINX_IMAGE_TAG,
            },
            "ingressClass": {"name": ingress_class, "create": True, "setAsDefaultIngress": False},
            # The namespaces it serves: it watches (and caches Secrets of) these only.
            "watchNamespace": ",".join(args.watch_namespaces),
            "service": service_values(args),
            "config": {
                "entries": {
                    # Artifact uploads go through the ingress; nginx's 1m default would reject them.
                    "client-max-body-size": args.proxy_body_size,
                    "proxy-read-timeout": PROXY_TIMEOUT,
                    "proxy-send-timeout": PROXY_TIMEOUT,
                    # Strict-Transport-Security on https responses (tls.hsts: prod by default).
                    "hsts": "true" if args.hsts else "false",
                    "hsts-max-age": HSTS_MAX_AGE,
                }
            },
            "resources": {
                "requests": {"cpu": "100m", "memory": "128Mi"},
                "limits": {"memory": "512Mi"},
            },
            # A budget of one available pod with one replica would block every node drain.
            "podDisruptionBudget": {"enabled": args.replicas > 1, "minAvailable": 1},
            # The platform routes with Ingress objects only: no VirtualServer watches or RBAC.
            "enableCustomResources": False,
            # The controller reports usage to F5 unless told not to (MLflow's is off too).
            "telemetryReporting": {"enable": False},
        },
        "prometheus": prometheus_values(
            args.scraping.service_monitor,
            args.scraping.service_monitor_labels,
            args.scraping.interval,
        ),
    }


def f5_annotations(
    proxy_body_size: str, tls: bool, redirect_to_https: bool, certificate_issued: bool
) -> dict[str, str]:
    """The MLflow Ingress's body size, timeouts and https redirect for F5's controller."""
    annotations = {
        f"{F5}/client-max-body-size": proxy_body_size,
        f"{F5}/proxy-read-timeout": PROXY_TIMEOUT,
        f"{F5}/proxy-send-timeout": PROXY_TIMEOUT,
    }
    if tls:
        # F5 reads the redirect under the old common prefix, not nginx.org/.
        annotations["ingress.kubernetes.io/ssl-redirect"] = "true" if redirect_to_https else "false"
    if certificate_issued:
        # F5 serves each host from one Ingress only: cert-manager's HTTP-01 solver must add its
        # path to this Ingress rather than create a second one for the same host.
        annotations["acme.cert-manager.io/http01-edit-in-place"] = "true"
    return annotations
