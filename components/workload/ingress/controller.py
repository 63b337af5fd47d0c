"""The NGINX ingress controller, installed from its Helm chart at a pinned version.

Two controllers, picked by `ingress.controller`: ingress-nginx (retired upstream in March 2026;
4.15.1 is its final chart) and F5 NGINX Ingress Controller, each with all that is known of it in
its own module (nginx.py, f5.py). Each has one values builder; the chart defaults to the
controller's pin. Repository, chart name, version, a local chart path and free-form values are all
arguments, so an air-gapped mirror needs no code change.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.config.controllers import CONTROLLER_CHARTS
from components.shared import kube
from components.shared.base import Component
from components.shared.kube import INGRESS_CLASS
from components.workload import metrics
from components.workload.ingress import f5, nginx
from components.workload.ingress.controller_args import IngressControllerArgs
from components.workload.ingress.network_policies import (
    controller_namespace_policies,
)


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
        ours = f5.f5_values(args, INGRESS_CLASS)
    else:
        ours = nginx.ingress_nginx_values(args)
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


# Both charts create IngressClass `nginx`, whose controller field is immutable: a switch must
# remove one release before the other installs. A new release name forces that replacement.
RELEASE_SUFFIX: dict[str, str] = {"ingress-nginx": "", "f5-nginx": "-f5"}


def metrics_target(controller: str, release: str) -> tuple[dict[str, str], str]:
    """The controller pods' labels and their metrics port's name, as each chart renders them."""
    if controller == "f5-nginx":
        return f5.pod_labels(release), f5.METRICS_PORT
    return nginx.ingress_nginx_pod_labels(release), nginx.INGRESS_NGINX_METRICS_PORT


class IngressController(Component):
    """The chosen NGINX controller as a Helm release; the MLflow Ingress uses class `nginx`."""

    token_module = "ingress"  # the file was components/ingress.py until v0.2

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
