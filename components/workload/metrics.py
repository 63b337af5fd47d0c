"""Prometheus metrics of the tracking server and the ingress controller, and who scrapes them.

MLflow 3.17.2's exporter (`mlflow server --expose-prometheus DIR`) serves `/metrics` on the
server's own port, where the basic-auth app asks for a login like any other path, and a scraper
should not hold the admin password. So the server's workers only write prometheus_client's
multiprocess files into an emptyDir, and a sidecar from the same image (the `-full` image
carries prometheus_client) serves that directory with prometheus_client's MultiProcessCollector
on a port of its own: no login, and nothing but the metrics.

Scrapers: Google Managed Prometheus reads PodMonitoring objects (GKE), the Prometheus Operator
reads ServiceMonitor objects; both are custom resources, so each is created only where its CRD
is known to exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.config import MetricsConfig, defaults_from
from components.config.uploads import METRICS_EPHEMERAL, MiB
from components.shared import kube

# 9090 is the Cloud SQL Auth Proxy's health port in the same pod.
METRICS_PORT = 9091
METRICS_PORT_NAME = "metrics"
METRICS_PATH = "/metrics"
METRICS_DIR = "/var/lib/mlflow-metrics"
METRICS_VOLUME = "prometheus-multiproc"
# One mmap file of 64 KiB per worker process and metric type; restarts add more.
METRICS_DIR_SIZE = "64Mi"
# Where Google Managed Prometheus runs its collectors (managed collection).
GMP_NAMESPACE = "gmp-system"
PODMONITORING_API = "monitoring.googleapis.com/v1"
SERVICEMONITOR_API = "monitoring.coreos.com/v1"

# The sidecar: prometheus_client's multiprocess collector over the exporter's directory
# (PROMETHEUS_MULTIPROC_DIR), at /metrics only, without a request log (the probes read it too).
# It handles SIGTERM itself: as a container's PID 1, Python ignores a signal it has no handler
# for, so every pod deletion waited out the grace period for the kubelet's SIGKILL.
SIDECAR_SCRIPT = """\
import os
import signal
import sys
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app, multiprocess

registry = CollectorRegistry()
multiprocess.MultiProcessCollector(registry)
metrics = make_wsgi_app(registry)


def app(environ, start_response):
    if environ.get("PATH_INFO") == "/metrics":
        return metrics(environ, start_response)
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"only /metrics is served here\\n"]


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
port = int(os.environ["METRICS_PORT"])
make_server("0.0.0.0", port, app, handler_class=QuietHandler).serve_forever()
"""

_metrics = defaults_from(MetricsConfig)


@dataclass(frozen=True)
class Scraping:
    """Which scrape objects to create, how often they scrape, and who may scrape at all."""

    pod_monitoring: bool = False
    """PodMonitoring objects for Google Managed Prometheus, whose collectors are then admitted
    (`metrics.pod_monitoring`; the platform's default: on GKE)."""
    service_monitor: bool = _metrics("service_monitor")
    """ServiceMonitor objects for the Prometheus Operator (`metrics.service_monitor`)."""
    service_monitor_labels: dict[str, str] = field(default_factory=dict)
    """Labels on the ServiceMonitors, which your Prometheus selects them by
    (`metrics.service_monitor_labels`)."""
    prometheus_namespace: str = _metrics("prometheus_namespace")
    """Your Prometheus's namespace, always admitted to the metrics ports
    (`metrics.prometheus_namespace`)."""
    interval_seconds: int = _metrics("scrape_interval_seconds")
    """How often each scraper reads the metrics, in seconds (`metrics.scrape_interval_seconds`)."""

    @property
    def interval(self) -> str:
        return f"{self.interval_seconds}s"

    @property
    def scraper_namespaces(self) -> list[str]:
        """The namespaces the NetworkPolicy admits to the metrics port: GMP's collectors where
        PodMonitoring is used, and always the namespace of your own Prometheus."""
        gmp = [GMP_NAMESPACE] if self.pod_monitoring else []
        return [*gmp, self.prometheus_namespace]


def exporter_args() -> list[str]:
    """`mlflow server` arguments: write the exporter's multiprocess files to the shared dir."""
    return ["--expose-prometheus", METRICS_DIR]


def metrics_volume() -> k8s.core.v1.VolumeArgs:
    return kube.empty_dir(METRICS_VOLUME, METRICS_DIR_SIZE)


def metrics_mount(read_only: bool = False) -> k8s.core.v1.VolumeMountArgs:
    return k8s.core.v1.VolumeMountArgs(
        name=METRICS_VOLUME, mount_path=METRICS_DIR, read_only=read_only
    )


def sidecar_command() -> list[str]:
    return ["python", "-c", SIDECAR_SCRIPT]


def metrics_sidecar(image: str, uid: int) -> k8s.core.v1.ContainerArgs:
    """The metrics server beside `mlflow server`: same image, same non-root user, read-only."""
    command = sidecar_command()
    return k8s.core.v1.ContainerArgs(
        name="metrics",
        image=image,
        image_pull_policy="Always",
        command=command[:1],
        args=command[1:],
        env=[
            k8s.core.v1.EnvVarArgs(name="PROMETHEUS_MULTIPROC_DIR", value=METRICS_DIR),
            k8s.core.v1.EnvVarArgs(name="METRICS_PORT", value=str(METRICS_PORT)),
        ],
        ports=[k8s.core.v1.ContainerPortArgs(name=METRICS_PORT_NAME, container_port=METRICS_PORT)],
        resources=kube.resources("50m", "64Mi", "200m", "128Mi", f"{METRICS_EPHEMERAL // MiB}Mi"),
        security_context=kube.container_security_context(uid),
        volume_mounts=[metrics_mount(read_only=True)],
        readiness_probe=kube.http_probe(METRICS_PATH, METRICS_PORT_NAME, 10, 3),
        liveness_probe=kube.http_probe(METRICS_PATH, METRICS_PORT_NAME, 20, 3),
    )


def service_port() -> k8s.core.v1.ServicePortArgs:
    """The Service's `metrics` port, which a ServiceMonitor names."""
    return k8s.core.v1.ServicePortArgs(
        name=METRICS_PORT_NAME, port=METRICS_PORT, target_port=METRICS_PORT_NAME
    )


def _endpoint(port: str, scraping: Scraping) -> dict[str, Any]:
    return {"port": port, "path": METRICS_PATH, "interval": scraping.interval}


def pod_monitoring(
    name: str,
    namespace: pulumi.Input[str],
    pod_labels: dict[str, str],
    port: str,
    scraping: Scraping,
    opts: pulumi.ResourceOptions,
) -> k8s.apiextensions.CustomResource:
    """Google Managed Prometheus scrapes `port` of the pods that carry `pod_labels`."""
    return k8s.apiextensions.CustomResource(
        name,
        api_version=PODMONITORING_API,
        kind="PodMonitoring",
        metadata=kube.metadata(name, namespace, kube.labels(name, "metrics")),
        spec={
            "selector": {"matchLabels": pod_labels},
            "endpoints": [_endpoint(port, scraping)],
        },
        opts=opts,
    )


def service_monitor(
    name: str,
    namespace: pulumi.Input[str],
    service_labels: dict[str, str],
    scraping: Scraping,
    opts: pulumi.ResourceOptions,
) -> k8s.apiextensions.CustomResource:
    """The Prometheus Operator scrapes the `metrics` port of the Services with those labels."""
    labels = {**kube.labels(name, "metrics"), **scraping.service_monitor_labels}
    return k8s.apiextensions.CustomResource(
        name,
        api_version=SERVICEMONITOR_API,
        kind="ServiceMonitor",
        metadata=kube.metadata(name, namespace, labels),
        spec={
            "selector": {"matchLabels": service_labels},
            "namespaceSelector": {"matchNames": [namespace]},
            "endpoints": [_endpoint(METRICS_PORT_NAME, scraping)],
        },
        opts=opts,
    )


def allow_scrapes(
    name: str,
    namespace: pulumi.Input[str],
    pod_labels: dict[str, str],
    scraping: Scraping,
    opts: pulumi.ResourceOptions,
) -> k8s.networking.v1.NetworkPolicy:
    """A second NetworkPolicy for the same pods (policies add up): the scrapers' namespaces
    reach the metrics port, and only that port."""
    return k8s.networking.v1.NetworkPolicy(
        name,
        metadata=kube.metadata(name, namespace, pod_labels),
        spec=k8s.networking.v1.NetworkPolicySpecArgs(
            pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=pod_labels),
            policy_types=["Ingress"],
            ingress=[
                k8s.networking.v1.NetworkPolicyIngressRuleArgs(
                    from_=[
                        k8s.networking.v1.NetworkPolicyPeerArgs(
                            namespace_selector=k8s.meta.v1.LabelSelectorArgs(
                                match_labels={"kubernetes.io/metadata.name": scraper}
                            )
                        )
                        for scraper in scraping.scraper_namespaces
                    ],
                    ports=[
                        k8s.networking.v1.NetworkPolicyPortArgs(port=METRICS_PORT, protocol="TCP")
                    ],
                )
            ],
        ),
        opts=opts,
    )


def scrape_objects(
    name: str,
    namespace: pulumi.Input[str],
    labels: dict[str, str],
    scraping: Scraping,
    opts: pulumi.ResourceOptions,
) -> list[pulumi.Resource]:
    """The MLflow server's scrape objects and the NetworkPolicy that lets them in."""
    made: list[pulumi.Resource] = [
        allow_scrapes(f"{name}-metrics", namespace, labels, scraping, opts)
    ]
    if scraping.pod_monitoring:
        made.append(pod_monitoring(name, namespace, labels, METRICS_PORT_NAME, scraping, opts))
    if scraping.service_monitor:
        made.append(service_monitor(name, namespace, labels, scraping, opts))
    return made
