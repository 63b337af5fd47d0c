"""NetworkPolicies of the ingress controller's namespace: nothing reaches its pods but clients
on http and https, the control plane on the admission webhook, and the scrapers on metrics.

Without them every pod in the cluster may call the admission webhook (which parses whatever
Ingress it is sent) and read the controller's metrics (every host and path it serves).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from components.config import GkeClusterConfig, PlatformConfig
from components.shared import kube
from components.workload.metrics import Scraping

# The controllers' container ports: clients on 80 and 443 (both charts' defaults).
TRAFFIC_PORTS = (80, 443)
# ingress-nginx's admission webhook (controller.admissionWebhooks.port); F5's chart has none.
WEBHOOK_PORT = 8443
EVERYWHERE = "0.0.0.0/0"
# minikube's pod range (kubeadm's pod-network-cidr as minikube sets it).
MINIKUBE_POD_CIDR = "10.244.0.0/16"


@dataclass(frozen=True)
class ControlPlaneSources:
    """Where the API server calls the admission webhook from: its own range where the platform
    knows it (GKE's /28 with private nodes), else anywhere but the cluster's pods."""

    cidrs: list[str] = field(default_factory=list)
    """The API server's own ranges (GKE's control-plane /28); set, only these reach the webhook."""
    pod_cidrs: list[str] = field(default_factory=list)
    """Without `cidrs`: the cluster's pod ranges, the only addresses kept from the webhook."""

    def peers(self) -> list[k8s.networking.v1.NetworkPolicyPeerArgs]:
        if self.cidrs:
            blocks = [k8s.networking.v1.IPBlockArgs(cidr=cidr) for cidr in self.cidrs]
        else:
            blocks = [k8s.networking.v1.IPBlockArgs(cidr=EVERYWHERE, except_=self.pod_cidrs)]
        return [k8s.networking.v1.NetworkPolicyPeerArgs(ip_block=block) for block in blocks]


def webhook_sources(cfg: PlatformConfig) -> ControlPlaneSources:
    """GKE with private nodes: the control plane's /28 (the webhook firewall rule's source).
    Elsewhere the API server's address is not known up front: anywhere but the pod range."""
    cluster = cfg.cluster
    if isinstance(cluster, GkeClusterConfig) and cluster.private_nodes:
        return ControlPlaneSources(cidrs=[cluster.master_ipv4_cidr])
    if isinstance(cluster, GkeClusterConfig) and cfg.network is not None:
        return ControlPlaneSources(pod_cidrs=[cfg.network.pods_cidr])
    if cluster.kind == "minikube":
        return ControlPlaneSources(pod_cidrs=[MINIKUBE_POD_CIDR])
    return ControlPlaneSources()


def _ports(*ports: int | str) -> list[k8s.networking.v1.NetworkPolicyPortArgs]:
    return [k8s.networking.v1.NetworkPolicyPortArgs(port=p, protocol="TCP") for p in ports]


def _policy(
    name: str,
    namespace: pulumi.Input[str],
    labels: dict[str, str],
    pods: dict[str, str],
    rules: list[k8s.networking.v1.NetworkPolicyIngressRuleArgs],
    opts: pulumi.ResourceOptions,
) -> k8s.networking.v1.NetworkPolicy:
    return k8s.networking.v1.NetworkPolicy(
        name,
        metadata=kube.metadata(name, namespace, labels),
        spec=k8s.networking.v1.NetworkPolicySpecArgs(
            pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=pods or None),
            policy_types=["Ingress"],
            ingress=rules,
        ),
        opts=opts,
    )


def controller_namespace_policies(
    name: str,
    namespace: pulumi.Input[str],
    labels: dict[str, str],
    controller_pods: dict[str, str],
    metrics_port: str,
    scraping: Scraping,
    webhook: ControlPlaneSources | None,
    opts: pulumi.ResourceOptions,
) -> list[k8s.networking.v1.NetworkPolicy]:
    """Deny by default in the namespace; then admit clients, the control plane (webhook, when
    the controller has one) and the scrapers. Policies add up; egress stays open."""
    rule = k8s.networking.v1.NetworkPolicyIngressRuleArgs
    scrapers = [
        k8s.networking.v1.NetworkPolicyPeerArgs(
            namespace_selector=k8s.meta.v1.LabelSelectorArgs(
                match_labels={"kubernetes.io/metadata.name": scraper}
            )
        )
        for scraper in scraping.scraper_namespaces
    ]
    policies = [
        _policy(f"{name}-default-deny", namespace, labels, {}, [], opts),
        _policy(
            f"{name}-clients",
            namespace,
            labels,
            controller_pods,
            [rule(ports=_ports(*TRAFFIC_PORTS))],
            opts,
        ),
        _policy(
            f"{name}-metrics",
            namespace,
            labels,
            controller_pods,
            [rule(from_=scrapers, ports=_ports(metrics_port))],
            opts,
        ),
    ]
    if webhook is not None:
        policies.append(
            _policy(
                f"{name}-webhook",
                namespace,
                labels,
                controller_pods,
                [rule(from_=webhook.peers(), ports=_ports(WEBHOOK_PORT))],
                opts,
            )
        )
    return policies
