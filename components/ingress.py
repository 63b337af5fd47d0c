"""The NGINX ingress controller, installed from its Helm chart at a pinned version.

Two controllers, picked by `ingress.controller`: ingress-nginx (retired upstream in March 2026;
4.15.1 is its final chart) and F5 NGINX Ingress Controller (components/ingress_f5.py). Each has
one values builder; the chart defaults to the controller's pin. Repository, chart name, version,
a local chart path and free-form values are all arguments, so an air-gapped mirror needs no
code change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s

from components import ingress_f5, kube, metrics
from components.base import Component
from components.config import (
    HelmChartConfig,
    IngressConfig,
    MlflowConfig,
    default_of,
    defaults_from,
)
from components.config.controllers import CONTROLLER_CHARTS
from components.ingress_f5 import f5_values
from components.ingress_policies import ControlPlaneSources, controller_namespace_policies

INGRESS_CLASS = "nginx"


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


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """`override` wins; nested dicts merge key by key."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def controller_values(args: IngressControllerArgs) -> dict[str, Any]:
    """The chosen controller's values, with `args.values` merged over them."""
    if args.controller == "f5-nginx":
        ours = f5_values(args, INGRESS_CLASS)
    else:
        ours = ingress_nginx_values(args)
    return deep_merge(ours, args.values)


def chart_source(args: IngressControllerArgs) -> dict[str, Any]:
    """Helm Release arguments: a local chart, or the chart given, else the controller's pin."""
    pin = CONTROLLER_CHARTS[args.controller]
    return kube.chart_source(
        args.chart_path,
        args.chart_name or pin.name,
        args.chart_version or pin.version,
        args.chart_repository or pin.repository,
    )


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
            "metrics": metrics.ingress_nginx_metrics_values(args.scraping),
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


# Both charts create IngressClass `nginx`, whose controller field is immutable: a switch must
# remove one release before the other installs. A new release name forces that replacement.
RELEASE_SUFFIX: dict[str, str] = {"ingress-nginx": "", "f5-nginx": "-f5"}


def metrics_target(controller: str, release: str) -> tuple[dict[str, str], str]:
    """The controller pods' labels and their metrics port's name, as each chart renders them."""
    if controller == "f5-nginx":
        return ingress_f5.pod_labels(release), ingress_f5.METRICS_PORT
    return metrics.ingress_nginx_pod_labels(release), metrics.INGRESS_NGINX_METRICS_PORT


class IngressController(Component):
    """The chosen NGINX controller as a Helm release; the MLflow Ingress uses class `nginx`."""

    status: pulumi.Output[k8s.helm.v3.outputs.ReleaseStatus]
    """The Helm release's status (chart, version, revision)."""

    def __init__(
        self, name: str, args: IngressControllerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, opts)
        # Our own Namespace rather than Helm's create_namespace: Helm never deletes a namespace
        # it created, so `pulumi destroy` would leave it behind. The chart's third-party pods get
        # Pod Security baseline rather than restricted.
        self.namespace = kube.namespace(
            name, args.namespace, kube.labels(args.controller, "ingress"), self, "baseline"
        )
        self.release = k8s.helm.v3.Release(
            name,
            name=name + RELEASE_SUFFIX[args.controller],
            namespace=self.namespace.metadata.name,
            values=controller_values(args),
            atomic=True,
            cleanup_on_fail=True,
            timeout=600,
            opts=pulumi.ResourceOptions(
                parent=self, replace_on_changes=["name"], delete_before_replace=True
            ),
            **chart_source(args),
        )
        pod_labels, port = metrics_target(args.controller, name + RELEASE_SUFFIX[args.controller])
        self.network_policies = controller_namespace_policies(
            name,
            self.namespace.metadata.name,
            kube.labels(args.controller, "ingress"),
            pod_labels,
            port,
            args.scraping,
            args.webhook_sources if args.controller == "ingress-nginx" else None,
            pulumi.ResourceOptions(parent=self),
        )
        if args.scraping.pod_monitoring:
            self.pod_monitoring = metrics.pod_monitoring(
                name,
                self.namespace.metadata.name,
                pod_labels,
                port,
                args.scraping,
                pulumi.ResourceOptions(parent=self),
            )
        self.ingress_class = INGRESS_CLASS
        self.status = self.release.status
        self.register_declared_outputs()
