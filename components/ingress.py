"""The NGINX ingress controller, installed from its Helm chart at a pinned version.

ingress-nginx was retired upstream in March 2026; 4.15.1 is its final chart. Repository,
chart name, version, a local chart path and free-form values are all arguments, so a
successor controller or an air-gapped mirror needs no code change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s

from components import kube
from components.base import Component
from components.config import HelmChartConfig, IngressConfig, default_of, defaults_from

INGRESS_CLASS = "nginx"


_ingress = defaults_from(IngressConfig)


@dataclass(frozen=True)
class IngressControllerArgs:
    service_type: Literal["NodePort", "LoadBalancer"]
    namespace: str = _ingress("namespace")
    chart_repository: str = default_of(HelmChartConfig, "repository")
    chart_name: str = default_of(HelmChartConfig, "name")
    chart_version: str = default_of(HelmChartConfig, "version")
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
    service: dict[str, Any] = {"type": args.service_type}
    if args.service_type == "NodePort":
        service["nodePorts"] = {"http": args.http_node_port, "https": args.https_node_port}
    if args.load_balancer_ip is not None:
        service["loadBalancerIP"] = args.load_balancer_ip
    if args.allowed_source_ranges:
        # The cloud's load balancer (GKE: a firewall rule) admits only these clients.
        service["loadBalancerSourceRanges"] = list(args.allowed_source_ranges)
    ours: dict[str, Any] = {
        "controller": {
            "replicaCount": args.replicas,
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
            "metrics": {"enabled": True},
        }
    }
    return deep_merge(ours, args.values)


class IngressController(Component):
    """ingress-nginx as a Helm release; the MLflow Ingress uses class `nginx`."""

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
            name, args.namespace, kube.labels("ingress-nginx", "ingress"), self, "baseline"
        )
        self.release = k8s.helm.v3.Release(
            name,
            name=name,
            namespace=self.namespace.metadata.name,
            values=controller_values(args),
            atomic=True,
            cleanup_on_fail=True,
            timeout=600,
            opts=pulumi.ResourceOptions(parent=self),
            **kube.chart_source(
                args.chart_path, args.chart_name, args.chart_version, args.chart_repository
            ),
        )
        self.ingress_class = INGRESS_CLASS
        self.status = self.release.status
        self.register_declared_outputs()
