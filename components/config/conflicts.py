"""Settings that each pass on their own but cannot work together."""

from __future__ import annotations

from components.config.infrastructure import GkeClusterConfig
from components.config.platform import PlatformConfig
from components.config.section import key


def node_port_problems(cfg: PlatformConfig) -> list[str]:
    """A NodePort is reached on the nodes' addresses: private GKE nodes have none outside the
    VPC, and one port cannot carry both http and https."""
    if cfg.ingress_service_type != "NodePort" or not cfg.ingress.enabled:
        return []
    problems = []
    cluster = cfg.cluster
    if isinstance(cluster, GkeClusterConfig) and cluster.private_nodes:
        problems.append(
            f"{key('ingress.service_type')} = 'NodePort' with {key('cluster.private_nodes')} = "
            "True: the nodes have no public address, so nobody outside the VPC reaches the "
            "port; allowed: service_type 'LoadBalancer', or cluster.private_nodes false"
        )
    if cfg.ingress.http_node_port == cfg.ingress.https_node_port:
        problems.append(
            f"{key('ingress.https_node_port')} = {cfg.ingress.https_node_port}: the same port "
            "as ingress.http_node_port; allowed: two different ports from 30000 to 32767"
        )
    return problems


def gcp_auth_problems(cfg: PlatformConfig) -> list[str]:
    """gcp-auth mounts a credential into every pod: only the stack's least-privilege service
    account's, which the platform makes when the stack uses GCP (a gcp block and a Cloud SQL
    database or a GCS bucket). A gcp block alone makes none, and the addon would then mount the
    developer's own credentials."""
    cluster = cfg.cluster
    if cluster.kind != "minikube" or "gcp-auth" not in cluster.addons or cfg.uses_gcp:
        return []
    return [
        f"{key('cluster.addons')} = {list(cluster.addons)!r}: gcp-auth would hand your own "
        "Google credentials to every pod, and this stack makes no least-privilege service "
        "account for it to run as instead (that needs a gcp block and a store in GCP); allowed: "
        "leave gcp-auth out, or add a gcp block (project, region) with a Cloud SQL database or "
        "a GCS bucket"
    ]
