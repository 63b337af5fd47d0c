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
